/* json_pointer.c - RFC 6901 JSON Pointer: escaping one reference token and
 * resolving a pointer against a tree. */
#include "json/json_internal.h"

#include <stdlib.h>
#include <string.h>

int kn_json_pointer_escape(const char *token, char *buf, size_t cap)
{
    if (token == NULL || buf == NULL || cap == 0)
        return -1;
    size_t used = strnlen(buf, cap);
    if (used == cap)
        return -1; /* buf is not a NUL-terminated string */
    size_t need = 0;
    for (const char *p = token; *p; p++)
        need += (*p == '~' || *p == '/') ? 2 : 1;
    if (need > (size_t)0x7fffffff || used + need + 1 > cap)
        return -1;
    char *o = buf + used;
    for (const char *p = token; *p; p++) {
        if (*p == '~' || *p == '/') {
            *o++ = '~';
            *o++ = *p == '~' ? '0' : '1';
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return (int)need;
}

/* Unescapes token [s, s+n) into out (n+1 bytes); -1 on a bad '~' escape. */
static int unescape(const char *s, size_t n, char *out)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '~') {
            out[j++] = s[i];
            continue;
        }
        if (i + 1 >= n || (s[i + 1] != '0' && s[i + 1] != '1'))
            return -1;
        out[j++] = s[++i] == '0' ? '~' : '/'; /* "~01" is "~1": no double decoding */
    }
    out[j] = '\0';
    return 0;
}

/* RFC 6901 array index: "0" or digits without a leading zero; "-" (one past
 * the end) never names an existing element. */
static kn_json *array_step(const kn_json *arr, const char *tok)
{
    size_t n = strlen(tok);
    if (n == 0 || n > 18 || (tok[0] == '0' && n > 1))
        return NULL;
    size_t i = 0;
    for (size_t k = 0; k < n; k++) {
        if (tok[k] < '0' || tok[k] > '9')
            return NULL;
        i = i * 10 + (size_t)(tok[k] - '0');
    }
    return kn_json_at(arr, i);
}

kn_json *kn_json_pointer_get(const kn_json *root, const char *pointer)
{
    if (root == NULL || pointer == NULL)
        return NULL;
    if (*pointer == '\0')
        return (kn_json *)root;
    if (*pointer != '/')
        return NULL;
    char *tok = malloc(strlen(pointer) + 1);
    if (tok == NULL)
        return NULL;
    const kn_json *cur = root;
    const char *p = pointer;
    while (cur != NULL && *p == '/') {
        p++;
        size_t n = strcspn(p, "/");
        if (unescape(p, n, tok) != 0) {
            cur = NULL;
            break;
        }
        if (kn_json_is(cur, KN_JSON_OBJECT))
            cur = kn_json_get(cur, tok);
        else if (kn_json_is(cur, KN_JSON_ARRAY))
            cur = array_step(cur, tok);
        else
            cur = NULL;
        p += n;
    }
    free(tok);
    return (kn_json *)cur;
}
