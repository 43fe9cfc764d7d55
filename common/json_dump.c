/* json_dump.c - kn_json_dump()/kn_json_dump_pretty() with yajl_gen.
 * Numbers are written from their source text, so they round-trip exactly;
 * strings go through yajl's encoder (control characters and embedded NULs
 * become \uXXXX escapes; '/' is not escaped; invalid UTF-8 becomes U+FFFD). */
#include "json_internal.h"
#include "utf8.h"

#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

/* Strings built in C (a truncated error message, a name from a file) may not
 * be UTF-8; JSON must be. As Go's encoding/json does, each invalid byte
 * becomes U+FFFD, so the output is always valid JSON. */
static yajl_gen_status gen_string(yajl_gen g, const char *str, size_t n)
{
    size_t len;
    char *fixed = kn_utf8_repair(str, n, &len);
    if (fixed == NULL)
        return len == (size_t)-1 ? yajl_gen_in_error_state
                                 : yajl_gen_string(g, (const unsigned char *)str, n);
    yajl_gen_status st = yajl_gen_string(g, (const unsigned char *)fixed, len);
    free(fixed);
    return st;
}

static yajl_gen_status gen_value(yajl_gen g, const kn_json *v)
{
    yajl_gen_status st;
    switch (v->type) {
    case KN_JSON_NULL: return yajl_gen_null(g);
    case KN_JSON_BOOL: return yajl_gen_bool(g, v->u.b);
    case KN_JSON_NUMBER:
        if (v->u.num.text == NULL)
            return yajl_gen_null(g); /* NaN/Inf: JSON cannot say it */
        return yajl_gen_number(g, v->u.num.text, strlen(v->u.num.text));
    case KN_JSON_STRING: return gen_string(g, v->u.str.s, v->u.str.len);
    case KN_JSON_ARRAY:
        if ((st = yajl_gen_array_open(g)) != yajl_gen_status_ok)
            return st;
        for (size_t i = 0; i < v->u.arr.len; i++)
            if ((st = gen_value(g, v->u.arr.items[i])) != yajl_gen_status_ok)
                return st;
        return yajl_gen_array_close(g);
    case KN_JSON_OBJECT:
        if ((st = yajl_gen_map_open(g)) != yajl_gen_status_ok)
            return st;
        for (size_t i = 0; i < v->u.obj.len; i++) {
            const kn_json_member *m = &v->u.obj.m[i];
            if ((st = gen_string(g, m->key, m->klen)) != yajl_gen_status_ok ||
                (st = gen_value(g, m->val)) != yajl_gen_status_ok)
                return st;
        }
        return yajl_gen_map_close(g);
    }
    return yajl_gen_invalid_string;
}

/* yajl beautifies an empty container as "{\n<indent>\n<indent>}"; make it
 * "{}". Raw newlines only occur between tokens (strings escape them), so
 * this cannot touch string contents. Works in place; returns the new length. */
static size_t collapse_empty(char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if ((s[i] == '{' || s[i] == '[') && i + 1 < n && s[i + 1] == '\n') {
            size_t j = i + 2;
            while (j < n && s[j] == ' ')
                j++;
            if (j < n && s[j] == '\n') {
                j++;
                while (j < n && s[j] == ' ')
                    j++;
                if (j < n && s[j] == (s[i] == '{' ? '}' : ']')) {
                    s[o++] = s[i];
                    s[o++] = s[j];
                    i = j + 1;
                    continue;
                }
            }
        }
        s[o++] = s[i++];
    }
    s[o] = '\0';
    return o;
}

static char *dump(const kn_json *v, size_t *len, bool pretty)
{
    if (len != NULL)
        *len = 0;
    if (v == NULL)
        return NULL;
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g == NULL)
        return NULL;
    if (pretty) {
        yajl_gen_config(g, yajl_gen_beautify, 1);
        yajl_gen_config(g, yajl_gen_indent_string, "  ");
    }
    char *out = NULL;
    const unsigned char *buf;
    size_t n;
    if (gen_value(g, v) == yajl_gen_status_ok && yajl_gen_get_buf(g, &buf, &n) == yajl_gen_status_ok) {
        while (pretty && n > 0 && buf[n - 1] == '\n')
            n--; /* yajl ends beautified output with a newline; callers add their own */
        out = malloc(n + 1);
        if (out != NULL) {
            memcpy(out, buf, n);
            out[n] = '\0';
            if (pretty)
                n = collapse_empty(out, n);
            if (len != NULL)
                *len = n;
        }
    }
    yajl_gen_free(g);
    return out;
}

char *kn_json_dump(const kn_json *v, size_t *len) { return dump(v, len, false); }

char *kn_json_dump_pretty(const kn_json *v, size_t *len) { return dump(v, len, true); }
