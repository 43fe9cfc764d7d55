/* patch_apply.c - an RFC 6902 JSON Patch applier for checking the webhook's
 * patches in the fuzz targets and their replay test (not used by the product).
 *
 * Semantics are those of kube-apiserver (evanphx/json-patch): every parent on
 * a path must exist; "add" to an object member sets it, to an array index
 * inserts (index <= length, "-" appends); "remove"/"replace" need the target
 * to exist; array indices are plain decimals without leading zeros. Works
 * functionally (each op rebuilds the path it touches), which is plenty for
 * fuzzing inputs of a few KB. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define MAX_TOKENS 64
#define MAX_TOKEN 1024

typedef struct pointer {
    int n;
    char tok[MAX_TOKENS][MAX_TOKEN];
} pointer;

static int parse_pointer(const char *p, pointer *out)
{
    out->n = 0;
    if (p[0] == '\0')
        return 0;
    if (p[0] != '/')
        return -1;
    while (*p == '/') {
        p++;
        if (out->n == MAX_TOKENS)
            return -1;
        char *t = out->tok[out->n++];
        size_t len = 0;
        for (; *p != '\0' && *p != '/'; p++) {
            char c = *p;
            if (c == '~') {
                if (p[1] == '0')
                    c = '~';
                else if (p[1] == '1')
                    c = '/';
                else
                    return -1;
                p++;
            }
            if (len + 1 >= MAX_TOKEN)
                return -1;
            t[len++] = c;
        }
        t[len] = '\0';
    }
    return 0;
}

/* Array index: "0" or [1-9][0-9]*; "-" is len when allow_end. -1 if invalid. */
static long array_index(const char *t, size_t len, bool allow_end)
{
    if (allow_end && strcmp(t, "-") == 0)
        return (long)len;
    if (t[0] == '\0' || (t[0] == '0' && t[1] != '\0') || strlen(t) > 9)
        return -1;
    long v = 0;
    for (const char *c = t; *c != '\0'; c++) {
        if (*c < '0' || *c > '9')
            return -1;
        v = v * 10 + (*c - '0');
    }
    return v;
}

typedef enum { OP_ADD, OP_REMOVE, OP_REPLACE } edit_op;

/* Returns a copy of arr with element i replaced (val owned), removed
 * (val NULL, insert false) or val inserted before i (insert true). */
static kn_json *array_edit(const kn_json *arr, size_t i, kn_json *val, bool insert)
{
    kn_json *out = kn_json_new_array();
    KN_FUZZ_CHECK(out != NULL);
    size_t n = kn_json_len(arr);
    for (size_t k = 0; k <= n; k++) {
        if (k == i && val != NULL)
            kn_json_append(out, val);
        if (k < n && !(k == i && !insert))
            kn_json_append(out, kn_json_clone(kn_json_at(arr, k)));
    }
    return out;
}

/* Applies op at tokens [depth..n) below node; returns the new node or NULL. */
static kn_json *edit(const kn_json *node, const pointer *p, int depth, edit_op op, const kn_json *val, char *why,
                     size_t cap)
{
    const char *t = p->tok[depth];
    bool last = depth == p->n - 1;
    if (kn_json_is(node, KN_JSON_OBJECT)) {
        kn_json *child = kn_json_get(node, t);
        if (child == NULL && !(last && op == OP_ADD))
            return snprintf(why, cap, "member \"%s\" does not exist", t), NULL;
        kn_json *out = kn_json_clone(node);
        KN_FUZZ_CHECK(out != NULL);
        if (last && op == OP_REMOVE) {
            kn_json_remove(out, t);
            return out;
        }
        kn_json *nv = last ? kn_json_clone(val) : edit(child, p, depth + 1, op, val, why, cap);
        if (nv == NULL)
            return kn_json_free(out), NULL;
        kn_json_set(out, t, nv);
        return out;
    }
    if (kn_json_is(node, KN_JSON_ARRAY)) {
        size_t len = kn_json_len(node);
        long i = array_index(t, len, last && op == OP_ADD);
        if (i < 0 || (size_t)i > len || ((size_t)i == len && !(last && op == OP_ADD)))
            return snprintf(why, cap, "array index \"%s\" out of range (length %zu)", t, len), NULL;
        if (last && op == OP_REMOVE)
            return array_edit(node, (size_t)i, NULL, false);
        if (last)
            return array_edit(node, (size_t)i, kn_json_clone(val), op == OP_ADD);
        kn_json *nv = edit(kn_json_at(node, (size_t)i), p, depth + 1, op, val, why, cap);
        return nv != NULL ? array_edit(node, (size_t)i, nv, false) : NULL;
    }
    return snprintf(why, cap, "\"%s\" is below a %s", t, kn_json_type_name(kn_json_typeof(node))), NULL;
}

static kn_json *apply_one(kn_json *doc, const char *path, edit_op op, const kn_json *val, char *why, size_t cap)
{
    static pointer p; /* large: keep it off the stack (single-threaded fuzzing) */
    if (parse_pointer(path, &p) != 0)
        return snprintf(why, cap, "bad pointer \"%.100s\"", path), NULL;
    if (p.n == 0) {
        if (op == OP_REMOVE)
            return snprintf(why, cap, "remove of the whole document"), NULL;
        return kn_json_clone(val);
    }
    return edit(doc, &p, 0, op, val, why, cap);
}

kn_json *kn_fuzz_json_patch(const kn_json *doc, const kn_json *patch, char *why, size_t cap)
{
    if (!kn_json_is(patch, KN_JSON_ARRAY))
        return snprintf(why, cap, "patch is not an array"), NULL;
    kn_json *cur = kn_json_clone(doc);
    KN_FUZZ_CHECK(cur != NULL);
    for (size_t i = 0; i < kn_json_len(patch) && cur != NULL; i++) {
        const kn_json *o = kn_json_at(patch, i);
        const char *op = kn_json_get_str(o, "op"), *path = kn_json_get_str(o, "path");
        const char *from = kn_json_get_str(o, "from");
        const kn_json *val = kn_json_get(o, "value");
        kn_json *next = NULL;
        if (op == NULL || path == NULL) {
            snprintf(why, cap, "op %zu: no op or path", i);
        } else if (strcmp(op, "test") == 0) {
            const kn_json *at = kn_json_pointer_get(cur, path);
            if (val != NULL && at != NULL && kn_json_equal(at, val))
                next = kn_json_clone(cur);
            else
                snprintf(why, cap, "op %zu: test of %s failed", i, path);
        } else if ((strcmp(op, "add") == 0 || strcmp(op, "replace") == 0) && val != NULL) {
            next = apply_one(cur, path, op[0] == 'a' ? OP_ADD : OP_REPLACE, val, why, cap);
        } else if (strcmp(op, "remove") == 0) {
            next = apply_one(cur, path, OP_REMOVE, NULL, why, cap);
        } else if ((strcmp(op, "copy") == 0 || strcmp(op, "move") == 0) && from != NULL &&
                   kn_json_pointer_get(cur, from) != NULL) {
            kn_json *v = kn_json_clone(kn_json_pointer_get(cur, from));
            kn_json *mid = op[0] == 'm' ? apply_one(cur, from, OP_REMOVE, NULL, why, cap) : kn_json_clone(cur);
            next = mid != NULL ? apply_one(mid, path, OP_ADD, v, why, cap) : NULL;
            kn_json_free(mid);
            kn_json_free(v);
        } else {
            snprintf(why, cap, "op %zu: unsupported or incomplete op", i);
        }
        kn_json_free(cur);
        cur = next;
    }
    return cur;
}
