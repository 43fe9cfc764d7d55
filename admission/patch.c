/* patch.c - JSON Patch (RFC 6902): building against the object as sent, and applying. */
#include "admission/patch.h"
#include "base/grow.h"

#include <stdlib.h>
#include <string.h>

/* ---------- building ---------- */

/* "/a/b~1c" from tokens (RFC 6901 escapes: '~' -> "~0", '/' -> "~1"),
 * written in one pass; -1 when it does not fit in cap with its NUL. */
static int pointer_of(const char *const *tokens, int n, char *buf, size_t cap)
{
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        if (len + 2 > cap)
            return -1;
        buf[len++] = '/';
        for (const char *p = tokens[i]; *p != '\0'; p++) {
            bool esc = *p == '~' || *p == '/';
            if (len + (esc ? 2 : 1) + 1 > cap)
                return -1;
            if (esc) {
                buf[len++] = '~';
                buf[len++] = *p == '~' ? '0' : '1';
            } else {
                buf[len++] = *p;
            }
        }
    }
    buf[len] = '\0';
    return 0;
}

/* Appends {"op":op,"path":path[,"value":value]}; takes ownership of value (may be NULL). */
static int append_op(kn_json *ops, const char *op, const char *path, kn_json *value)
{
    kn_json *o = kn_json_new_object();
    if (o == NULL || kn_json_set_str(o, "op", op) != 0 || kn_json_set_str(o, "path", path) != 0 ||
        (value != NULL && kn_json_set(o, "value", value) != 0)) {
        if (value != NULL && (o == NULL || kn_json_get(o, "value") != value))
            kn_json_free(value);
        kn_json_free(o);
        return -1;
    }
    return kn_json_append(ops, o);
}

/* An earlier `add` op of this patch at exactly path, or NULL. */
static kn_patch_entry *find_add(const kn_patch_list *p, const char *path)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->ops[i].op, "add") == 0 && strcmp(p->ops[i].path, path) == 0)
            return &p->ops[i];
    return NULL;
}

/* Appends an op; takes value (freed on failure). */
static int push(kn_patch_list *p, const char *op, const char *path, kn_json *value)
{
    if (kn_grow((void **)&p->ops, &p->cap, p->n + 1, sizeof(*p->ops)) != 0) {
        kn_json_free(value);
        return -1;
    }
    char *copy = strdup(path);
    if (copy == NULL) {
        kn_json_free(value);
        return -1;
    }
    p->ops[p->n++] = (kn_patch_entry){.op = op, .path = copy, .value = value};
    return 0;
}

/* Sets tokens[0..n) under obj (an object), creating objects on the way. */
static int set_nested(kn_json *obj, const char *const *tokens, int n, kn_json *value)
{
    for (int i = 0; i < n - 1; i++) {
        kn_json *next = kn_json_get(obj, tokens[i]);
        if (!kn_json_is(next, KN_JSON_OBJECT)) {
            next = kn_json_new_object();
            if (next == NULL || kn_json_set(obj, tokens[i], next) != 0) {
                kn_json_free(value);
                return -1;
            }
        }
        obj = next;
    }
    return kn_json_set(obj, tokens[n - 1], value);
}

int kn_patch_set(kn_patch_list *p, const kn_json *root, const char *const *tokens, int n, kn_json *value)
{
    char path[KN_PATCH_PATH_MAX];
    if (n < 1 || n > KN_PATCH_MAX_DEPTH || value == NULL) {
        kn_json_free(value);
        return -1;
    }
    /* First step missing from the object as sent (a member that is null or
     * not an object on the way counts as missing: `add` replaces it). */
    int missing = 0;
    const kn_json *node = root;
    for (; missing < n; missing++) {
        const kn_json *next = kn_json_get(node, tokens[missing]);
        if (next == NULL || (missing < n - 1 && !kn_json_is(next, KN_JSON_OBJECT)))
            break;
        node = next;
    }
    if (pointer_of(tokens, missing == n ? n : missing + 1, path, sizeof(path)) != 0) {
        kn_json_free(value);
        return -1;
    }
    kn_patch_entry *prev = find_add(p, path);
    if (missing >= n - 1) {
        if (prev != NULL) { /* a later value at the same path wins, in the first op's place */
            kn_json_free(prev->value);
            prev->value = value;
            return 0;
        }
        return push(p, missing == n ? "replace" : "add", path, value);
    }
    /* A map is missing: one `add` of the whole map, shared by later sets. */
    if (prev != NULL && kn_json_is(prev->value, KN_JSON_OBJECT))
        return set_nested(prev->value, tokens + missing + 1, n - missing - 1, value);
    kn_json *map = kn_json_new_object();
    if (map == NULL) {
        kn_json_free(value);
        return -1;
    }
    if (set_nested(map, tokens + missing + 1, n - missing - 1, value) != 0) {
        kn_json_free(map);
        return -1;
    }
    return push(p, "add", path, map);
}

int kn_patch_remove(kn_patch_list *p, const kn_json *root, const char *const *tokens, int n)
{
    char path[KN_PATCH_PATH_MAX];
    if (n < 1 || n > KN_PATCH_MAX_DEPTH)
        return -1;
    const kn_json *node = root;
    for (int i = 0; i < n && node != NULL; i++)
        node = kn_json_is(node, KN_JSON_OBJECT) ? kn_json_get(node, tokens[i]) : NULL;
    if (node == NULL)
        return 0;
    if (pointer_of(tokens, n, path, sizeof(path)) != 0)
        return -1;
    return push(p, "remove", path, NULL);
}

#define W(w, lit) kn_json_write_raw((w), lit, sizeof(lit) - 1)

void kn_patch_write(const kn_patch_list *p, kn_json_writer *w)
{
    W(w, "[");
    for (size_t i = 0; i < p->n; i++) {
        const kn_patch_entry *e = &p->ops[i];
        if (i > 0)
            W(w, ",");
        W(w, "{\"op\":");
        kn_json_write_string(w, e->op, strlen(e->op));
        W(w, ",\"path\":");
        kn_json_write_string(w, e->path, strlen(e->path));
        if (e->value != NULL) {
            W(w, ",\"value\":");
            kn_json_write_value(w, e->value);
        }
        W(w, "}");
    }
    W(w, "]");
}

kn_json *kn_patch_json(const kn_patch_list *p)
{
    kn_json *arr = kn_json_new_array();
    for (size_t i = 0; arr != NULL && i < p->n; i++) {
        kn_json *v = p->ops[i].value != NULL ? kn_json_clone(p->ops[i].value) : NULL;
        if ((v == NULL && p->ops[i].value != NULL) || append_op(arr, p->ops[i].op, p->ops[i].path, v) != 0) {
            kn_json_free(arr);
            return NULL;
        }
    }
    return arr;
}

void kn_patch_list_free(kn_patch_list *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->ops[i].path);
        kn_json_free(p->ops[i].value);
    }
    free(p->ops);
    *p = (kn_patch_list){0};
}

/* ---------- applying ---------- */

typedef struct ptr_tokens {
    int n;
    char *tok[KN_PATCH_MAX_DEPTH * 4];
} ptr_tokens;

static void tokens_free(ptr_tokens *t)
{
    for (int i = 0; i < t->n; i++)
        free(t->tok[i]);
    t->n = 0;
}

/* Splits and unescapes an RFC 6901 pointer. */
static int tokens_parse(const char *ptr, ptr_tokens *t, kn_err *err)
{
    t->n = 0;
    if (ptr[0] == '\0')
        return 0;
    if (ptr[0] != '/')
        return kn_err_set(err, "path \"%.100s\" does not start with '/'", ptr);
    const char *p = ptr + 1;
    for (;;) {
        const char *end = strchr(p, '/');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (t->n == (int)(sizeof(t->tok) / sizeof(t->tok[0]))) {
            tokens_free(t);
            return kn_err_set(err, "path \"%.100s\" is too deep", ptr);
        }
        char *s = malloc(len + 1);
        if (s == NULL) {
            tokens_free(t);
            return kn_err_set(err, "out of memory");
        }
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
            if (p[i] == '~') {
                if (i + 1 >= len || (p[i + 1] != '0' && p[i + 1] != '1')) {
                    free(s);
                    tokens_free(t);
                    return kn_err_set(err, "path \"%.100s\": bad escape '~'", ptr);
                }
                s[o++] = p[i + 1] == '0' ? '~' : '/';
                i++;
            } else {
                s[o++] = p[i];
            }
        }
        s[o] = '\0';
        t->tok[t->n++] = s;
        if (end == NULL)
            return 0;
        p = end + 1;
    }
}

/* Array index token: digits without leading zeros, < limit. "-" -> len when allow_end. */
static int array_index(const char *tok, size_t len, bool allow_end, size_t *out)
{
    if (allow_end && strcmp(tok, "-") == 0) {
        *out = len;
        return 0;
    }
    if (tok[0] == '\0' || (tok[0] == '0' && tok[1] != '\0') || strlen(tok) > 9)
        return -1;
    size_t v = 0;
    for (const char *c = tok; *c; c++) {
        if (*c < '0' || *c > '9')
            return -1;
        v = v * 10 + (size_t)(*c - '0');
    }
    *out = v;
    return v <= len ? 0 : -1;
}

typedef enum { OP_ADD, OP_REMOVE, OP_REPLACE } edit_kind;

/* Copy of arr with element i replaced by v (OP_REPLACE, i < len), v inserted
 * before element i (OP_ADD, i <= len) or element i removed (OP_REMOVE).
 * Takes ownership of v. */
static kn_json *array_edit(const kn_json *arr, size_t i, edit_kind k, kn_json *v)
{
    kn_json *out = kn_json_new_array();
    size_t len = kn_json_len(arr);
    for (size_t j = 0; out != NULL && j <= len; j++) {
        if (j == i && k != OP_REMOVE) {
            kn_json_append(out, v);
            v = NULL;
        }
        if (j == len)
            break;
        if (j == i && k != OP_ADD)
            continue; /* replaced or removed */
        kn_json_append(out, kn_json_clone(kn_json_at(arr, j)));
    }
    kn_json_free(v);
    return out;
}

/* Returns a new tree: node with the edit applied at tokens[d..]. */
static kn_json *edit_rec(const kn_json *node, const ptr_tokens *t, int d, edit_kind k, const kn_json *value,
                         kn_err *err)
{
    const char *tok = t->tok[d];
    bool last = d == t->n - 1;
    if (kn_json_is(node, KN_JSON_OBJECT)) {
        kn_json *child = kn_json_get(node, tok);
        if (child == NULL && !(last && k == OP_ADD))
            return kn_err_set(err, "member \"%.100s\" does not exist", tok), NULL;
        kn_json *copy = kn_json_clone(node);
        if (copy == NULL)
            return kn_err_set(err, "out of memory"), NULL;
        if (last && k == OP_REMOVE) {
            kn_json_remove(copy, tok);
            return copy;
        }
        kn_json *nv = last ? kn_json_clone(value) : edit_rec(child, t, d + 1, k, value, err);
        if (nv == NULL || kn_json_set(copy, tok, nv) != 0) {
            kn_json_free(copy);
            return NULL;
        }
        return copy;
    }
    if (kn_json_is(node, KN_JSON_ARRAY)) {
        size_t i, len = kn_json_len(node);
        if (array_index(tok, len, last && k == OP_ADD, &i) != 0 || (!(last && k == OP_ADD) && i >= len))
            return kn_err_set(err, "array index \"%.100s\" is out of range (length %zu)", tok, len), NULL;
        if (last)
            return array_edit(node, i, k, k == OP_REMOVE ? NULL : kn_json_clone(value));
        kn_json *nv = edit_rec(kn_json_at(node, i), t, d + 1, k, value, err);
        return nv != NULL ? array_edit(node, i, OP_REPLACE, nv) : NULL;
    }
    return kn_err_set(err, "cannot step into a %s with \"%.100s\"", kn_json_type_name(kn_json_typeof(node)), tok),
           NULL;
}

static kn_json *edit(const kn_json *doc, const char *path, edit_kind k, const kn_json *value, kn_err *err)
{
    ptr_tokens t;
    if (tokens_parse(path, &t, err) != 0)
        return NULL;
    kn_json *out;
    if (t.n == 0)
        out = k == OP_REMOVE ? (kn_err_set(err, "cannot remove the whole document"), NULL) : kn_json_clone(value);
    else
        out = edit_rec(doc, &t, 0, k, value, err);
    tokens_free(&t);
    return out;
}

static const kn_json *lookup(const kn_json *doc, const char *path, kn_err *err)
{
    const kn_json *v = path[0] == '\0' ? doc : kn_json_pointer_get(doc, path);
    if (v == NULL)
        kn_err_set(err, "\"%.100s\" does not exist", path);
    return v;
}

/* Applies one op; returns the new document (doc is left alone). */
static kn_json *apply_one(const kn_json *doc, const kn_json *op, kn_err *err)
{
    const char *name = kn_json_get_str(op, "op"), *path = kn_json_get_str(op, "path");
    const kn_json *value = kn_json_get(op, "value");
    const char *from = kn_json_get_str(op, "from");
    if (name == NULL || path == NULL)
        return kn_err_set(err, "an op needs string \"op\" and \"path\""), NULL;
    bool needs_value = strcmp(name, "add") == 0 || strcmp(name, "replace") == 0 || strcmp(name, "test") == 0;
    if (needs_value && value == NULL)
        return kn_err_set(err, "%s %s: missing \"value\"", name, path), NULL;
    if (strcmp(name, "add") == 0)
        return edit(doc, path, OP_ADD, value, err);
    if (strcmp(name, "remove") == 0)
        return edit(doc, path, OP_REMOVE, NULL, err);
    if (strcmp(name, "replace") == 0)
        return lookup(doc, path, err) != NULL ? edit(doc, path, OP_REPLACE, value, err) : NULL;
    if (strcmp(name, "test") == 0) {
        const kn_json *cur = lookup(doc, path, err);
        if (cur == NULL)
            return NULL;
        if (!kn_json_equal(cur, value))
            return kn_err_set(err, "test %s: value differs", path), NULL;
        return kn_json_clone(doc);
    }
    if (strcmp(name, "move") == 0 || strcmp(name, "copy") == 0) {
        if (from == NULL)
            return kn_err_set(err, "%s %s: missing \"from\"", name, path), NULL;
        const kn_json *src = lookup(doc, from, err);
        if (src == NULL)
            return NULL;
        kn_json *val = kn_json_clone(src);
        kn_json *mid = strcmp(name, "move") == 0 ? edit(doc, from, OP_REMOVE, NULL, err) : kn_json_clone(doc);
        kn_json *out = mid != NULL && val != NULL ? edit(mid, path, OP_ADD, val, err) : NULL;
        kn_json_free(val);
        kn_json_free(mid);
        return out;
    }
    return kn_err_set(err, "unknown op \"%.40s\"", name), NULL;
}

/* The container the last token of t is looked up in, walking doc in place;
 * NULL with err set as edit_rec words it. */
static kn_json *parent_of(kn_json *doc, const ptr_tokens *t, kn_err *err)
{
    kn_json *node = doc;
    for (int d = 0; d < t->n - 1; d++) {
        const char *tok = t->tok[d];
        if (kn_json_is(node, KN_JSON_OBJECT)) {
            if ((node = kn_json_get(node, tok)) == NULL)
                return kn_err_set(err, "member \"%.100s\" does not exist", tok), NULL;
        } else if (kn_json_is(node, KN_JSON_ARRAY)) {
            size_t i, len = kn_json_len(node);
            if (array_index(tok, len, false, &i) != 0 || i >= len)
                return kn_err_set(err, "array index \"%.100s\" is out of range (length %zu)", tok, len), NULL;
            node = kn_json_at(node, i);
        } else {
            return kn_err_set(err, "cannot step into a %s with \"%.100s\"",
                              kn_json_type_name(kn_json_typeof(node)), tok),
                   NULL;
        }
    }
    return node;
}

/* add, remove and replace of an object member, edited in place in doc (a
 * private copy): 1 done, -1 failed (err set), 0 not such an op (an array
 * element, the root, another op): the caller applies it on a new tree. */
static int apply_in_place(kn_json *doc, const kn_json *op, kn_err *err)
{
    const char *name = kn_json_get_str(op, "op"), *path = kn_json_get_str(op, "path");
    const kn_json *value = kn_json_get(op, "value");
    if (name == NULL || path == NULL)
        return 0;
    edit_kind k = strcmp(name, "add") == 0       ? OP_ADD
                  : strcmp(name, "remove") == 0  ? OP_REMOVE
                  : strcmp(name, "replace") == 0 ? OP_REPLACE
                                                 : (edit_kind)-1;
    if ((int)k < 0 || (k != OP_REMOVE && value == NULL))
        return 0;
    if (k == OP_REPLACE && lookup(doc, path, err) == NULL)
        return -1;
    ptr_tokens t;
    if (tokens_parse(path, &t, err) != 0)
        return -1;
    int rc = 0;
    kn_json *parent = t.n > 0 ? parent_of(doc, &t, err) : NULL;
    if (t.n > 0 && parent == NULL)
        rc = -1;
    else if (parent != NULL && kn_json_is(parent, KN_JSON_OBJECT)) {
        const char *tok = t.tok[t.n - 1];
        kn_json *nv = NULL;
        if (kn_json_get(parent, tok) == NULL && k != OP_ADD)
            rc = kn_err_set(err, "member \"%.100s\" does not exist", tok);
        else if (k == OP_REMOVE)
            rc = (kn_json_remove(parent, tok), 1);
        else if ((nv = kn_json_clone(value)) == NULL || kn_json_set(parent, tok, nv) != 0)
            rc = kn_err_set(err, "out of memory");
        else
            rc = 1;
    }
    tokens_free(&t);
    return rc;
}

kn_json *kn_json_patch_apply(const kn_json *doc, const kn_json *patch, kn_err *err)
{
    if (!kn_json_is(patch, KN_JSON_ARRAY))
        return kn_err_set(err, "a JSON Patch is an array of ops"), NULL;
    return kn_json_patch_apply_owned(kn_json_clone(doc), patch, err);
}

kn_json *kn_json_patch_apply_owned(kn_json *doc, const kn_json *patch, kn_err *err)
{
    if (!kn_json_is(patch, KN_JSON_ARRAY)) {
        kn_json_free(doc);
        return kn_err_set(err, "a JSON Patch is an array of ops"), NULL;
    }
    kn_json *cur = doc;
    for (size_t i = 0; cur != NULL && i < kn_json_len(patch); i++) {
        const kn_json *op = kn_json_at(patch, i);
        int rc = apply_in_place(cur, op, err);
        if (rc == 0) {
            kn_json *next = apply_one(cur, op, err);
            kn_json_free(cur);
            cur = next;
        } else if (rc < 0) {
            kn_json_free(cur);
            cur = NULL;
        }
        if (cur == NULL)
            kn_err_prefix(err, "patch op %zu", i);
    }
    return cur;
}
