/* json_parse.c - kn_json_parse(): yajl's event parser building a kn_json tree,
 * within the size and depth limits of kn_json_limits. */
#include "json_internal.h"
#include "utf8.h"

#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#define KN_JSON_DEFAULT_MAX_BYTES (8u * 1024 * 1024)
#define KN_JSON_DEFAULT_MAX_DEPTH 64
/* Hard ceiling whatever the caller asks: free/clone/dump recurse. */
#define KN_JSON_HARD_MAX_DEPTH 1000

typedef struct {
    kn_json *root;
    kn_json **stack; /* open containers */
    int depth, max_depth;
    char *key; /* pending object key */
    size_t klen;
    const char *why; /* our own reason when a callback cancels */
} parse_ctx;

static int add_value(parse_ctx *c, kn_json *v)
{
    if (v == NULL) {
        c->why = "out of memory";
        return 0;
    }
    if (c->depth == 0) {
        c->root = v;
        return 1;
    }
    kn_json *top = c->stack[c->depth - 1];
    int rc;
    if (top->type == KN_JSON_ARRAY) {
        rc = kn_json_append(top, v);
    } else {
        rc = kn_json_setn(top, c->key, c->klen, v); /* duplicate key: last wins */
        free(c->key);
        c->key = NULL;
    }
    if (rc != 0) {
        c->why = "out of memory";
        return 0;
    }
    return 1;
}

static int on_null(void *ctx) { return add_value(ctx, kn_json_new_null()); }
static int on_bool(void *ctx, int b) { return add_value(ctx, kn_json_new_bool(b != 0)); }

static int on_number(void *ctx, const char *s, size_t n)
{
    return add_value(ctx, kn_json_new_number(s, n));
}

/* yajl lets overlong forms and lone surrogate escapes through; Go's decoder
 * (which the API server and kubectl use) turns each invalid byte into U+FFFD.
 * Doing the same keeps every string equal to what kn_json_dump writes back. */
static int on_string(void *ctx, const unsigned char *s, size_t n)
{
    size_t len;
    char *fixed = kn_utf8_repair((const char *)s, n, &len);
    if (fixed == NULL && len == (size_t)-1)
        return add_value(ctx, NULL);
    kn_json *v = kn_json_new_stringn(fixed ? fixed : (const char *)s, len);
    free(fixed);
    return add_value(ctx, v);
}

static int open_container(parse_ctx *c, kn_json *v)
{
    if (v == NULL) {
        c->why = "out of memory";
        return 0;
    }
    if (c->depth >= c->max_depth) {
        kn_json_free(v);
        c->why = "nesting too deep";
        return 0;
    }
    /* The container is linked into its parent first, so a later failure
     * leaves everything reachable from root for one kn_json_free(). */
    if (!add_value(c, v))
        return 0;
    c->stack[c->depth++] = v;
    return 1;
}

static int on_start_map(void *ctx) { return open_container(ctx, kn_json_new_object()); }
static int on_start_array(void *ctx) { return open_container(ctx, kn_json_new_array()); }

static int on_end(void *ctx)
{
    parse_ctx *c = ctx;
    c->depth--;
    return 1;
}

static int on_map_key(void *ctx, const unsigned char *s, size_t n)
{
    parse_ctx *c = ctx;
    free(c->key);
    size_t len;
    char *fixed = kn_utf8_repair((const char *)s, n, &len); /* as on_string */
    c->key = fixed ? fixed : len == (size_t)-1 ? NULL : malloc(n + 1);
    if (c->key == NULL) {
        c->why = "out of memory";
        return 0;
    }
    if (fixed == NULL) {
        memcpy(c->key, s, n);
        c->key[n] = '\0';
    }
    c->klen = len;
    return 1;
}

static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_bool,
    .yajl_number = on_number, /* raw text: keeps big integers exact */
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

/* "offset N: parse error: trailing garbage" from yajl's terse message. */
static void set_yajl_error(yajl_handle h, parse_ctx *c, const char *buf, size_t len, size_t off,
                           kn_err *err)
{
    if (c->why != NULL) {
        kn_err_set(err, "offset %zu: %s", off, c->why);
        return;
    }
    unsigned char *msg = yajl_get_error(h, 0, (const unsigned char *)buf, len);
    size_t n = msg ? strlen((char *)msg) : 0;
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        n--;
    kn_err_set(err, "offset %zu: %.*s", off, (int)n, msg ? (char *)msg : "invalid JSON");
    if (msg != NULL)
        yajl_free_error(h, msg);
}

kn_json *kn_json_parse(const char *buf, size_t len, const kn_json_limits *lim, kn_err *err)
{
    size_t max_bytes = lim && lim->max_bytes ? lim->max_bytes : KN_JSON_DEFAULT_MAX_BYTES;
    int max_depth = lim && lim->max_depth > 0 ? lim->max_depth : KN_JSON_DEFAULT_MAX_DEPTH;
    if (max_depth > KN_JSON_HARD_MAX_DEPTH)
        max_depth = KN_JSON_HARD_MAX_DEPTH;
    if (buf == NULL && len > 0) {
        kn_err_set(err, "offset 0: no input");
        return NULL;
    }
    if (len > max_bytes) {
        kn_err_set(err, "offset %zu: document is %zu bytes, more than the limit of %zu bytes", max_bytes,
                   len, max_bytes);
        return NULL;
    }
    parse_ctx c = {.max_depth = max_depth};
    c.stack = malloc((size_t)max_depth * sizeof(*c.stack));
    yajl_handle h = c.stack ? yajl_alloc(&callbacks, NULL, &c) : NULL;
    if (h == NULL) {
        free(c.stack);
        kn_err_set(err, "offset 0: out of memory");
        return NULL;
    }
    yajl_config(h, yajl_allow_comments, 0);
    yajl_config(h, yajl_dont_validate_strings, 0);
    size_t off = 0;
    yajl_status st = yajl_parse(h, (const unsigned char *)(buf ? buf : ""), len);
    if (st == yajl_status_ok) {
        st = yajl_complete_parse(h);
        off = len; /* complete_parse fails only at the end (premature EOF) */
    } else {
        off = yajl_get_bytes_consumed(h);
    }
    if (st != yajl_status_ok) {
        set_yajl_error(h, &c, buf ? buf : "", len, off, err);
        kn_json_free(c.root);
        c.root = NULL;
    }
    yajl_free(h);
    free(c.key);
    free(c.stack);
    return c.root;
}
