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
    char *key; /* pending object key (in the arena) */
    size_t klen;
    const char *why; /* our own reason when a callback cancels */
    kn_json_arena_block *arena; /* owned by root once there is one */
    size_t next_block;          /* size of the next arena block */
    /* Children of the open containers, in order; each container's own start
     * in starts[depth]. At its end they go into exact-size arena arrays, so a
     * parsed tree has no malloc'd parts but its root (no realloc growth). */
    kn_json_member *pending;
    size_t npending, cappending;
    size_t *starts;
} parse_ctx;

/* Bump allocation from the document's arena; align is 1 or 8. Blocks grow
 * geometrically so a big document needs few of them. */
static void *arena_alloc(parse_ctx *c, size_t n, size_t align)
{
    kn_json_arena_block *b = c->arena;
    size_t at = b != NULL ? (b->used + align - 1) & ~(align - 1) : 0;
    if (b == NULL || n > b->cap - at || at > b->cap) {
        size_t cap = c->next_block > n ? c->next_block : n;
        if (c->next_block < ((size_t)1 << 20))
            c->next_block *= 2;
        b = malloc(sizeof(*b) + cap);
        if (b == NULL)
            return NULL;
        b->cap = cap;
        b->next = c->arena;
        if (c->root != NULL) /* the root's block list is the one to free */
            ((kn_json_arena_root *)c->root)->arena = b;
        c->arena = b;
        at = 0;
    }
    b->used = at + n;
    return b->data + at;
}

static char *arena_text(parse_ctx *c, const void *s, size_t n)
{
    char *t = arena_alloc(c, n + 1, 1);
    if (t != NULL) {
        if (n > 0)
            memcpy(t, s, n);
        t[n] = '\0';
    }
    return t;
}

/* The first value is the root: malloc'd with the arena pointer after it, so
 * kn_json_free(root) frees the whole document. Later nodes are in the arena. */
static kn_json *node_new(parse_ctx *c, kn_json_type t)
{
    kn_json *v;
    if (c->root == NULL && c->depth == 0) {
        kn_json_arena_root *r = calloc(1, sizeof(*r));
        if (r == NULL)
            return NULL;
        r->arena = c->arena;
        v = &r->node;
        v->alloc = KN_JSON_ARENA_ROOT;
    } else {
        v = arena_alloc(c, sizeof(*v), _Alignof(kn_json));
        if (v == NULL)
            return NULL;
        memset(v, 0, sizeof(*v));
        v->alloc = KN_JSON_IN_ARENA;
    }
    v->type = t;
    return v;
}

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
    if (c->npending == c->cappending) {
        size_t cap = c->cappending ? c->cappending * 2 : 64;
        kn_json_member *p = realloc(c->pending, cap * sizeof(*p));
        if (p == NULL) {
            c->why = "out of memory";
            return 0;
        }
        c->pending = p;
        c->cappending = cap;
    }
    bool in_object = c->stack[c->depth - 1]->type == KN_JSON_OBJECT;
    c->pending[c->npending++] = (kn_json_member){.key = in_object ? c->key : NULL, .klen = c->klen, .val = v};
    c->key = NULL;
    return 1;
}

/* The container's children (pending from start) into its arena arrays.
 * Objects go through kn_json_setn_borrowed for its duplicate-key rule (last
 * wins, in the first one's place) with room reserved, so nothing grows. */
static int close_container(parse_ctx *c, kn_json *top, size_t start)
{
    size_t n = c->npending - start;
    top->arena_arrays = true;
    if (n == 0)
        return 1; /* c->pending may still be NULL: no pointer arithmetic on it */
    const kn_json_member *p = c->pending + start;
    if (top->type == KN_JSON_ARRAY) {
        top->u.arr.items = arena_alloc(c, n * sizeof(kn_json *), _Alignof(kn_json *));
        if (top->u.arr.items == NULL)
            return c->why = "out of memory", 0;
        for (size_t i = 0; i < n; i++)
            top->u.arr.items[i] = p[i].val;
        top->u.arr.len = top->u.arr.cap = n;
        return 1;
    }
    size_t idxcap = kn_json_index_cap(n);
    top->u.obj.m = arena_alloc(c, n * sizeof(kn_json_member), _Alignof(kn_json_member));
    top->u.obj.idx = idxcap ? arena_alloc(c, idxcap * sizeof(uint32_t), _Alignof(uint32_t)) : NULL;
    if (top->u.obj.m == NULL || (idxcap > 0 && top->u.obj.idx == NULL))
        return c->why = "out of memory", 0;
    if (idxcap > 0)
        memset(top->u.obj.idx, 0, idxcap * sizeof(uint32_t));
    top->u.obj.cap = n;
    top->u.obj.idxcap = idxcap;
    for (size_t i = 0; i < n; i++)
        if (kn_json_setn_borrowed(top, p[i].key, p[i].klen, p[i].val) != 0)
            return c->why = "out of memory", 0;
    return 1;
}

static int on_null(void *ctx) { return add_value(ctx, node_new(ctx, KN_JSON_NULL)); }

static int on_bool(void *ctx, int b)
{
    kn_json *v = node_new(ctx, KN_JSON_BOOL);
    if (v != NULL)
        v->u.b = b != 0;
    return add_value(ctx, v);
}

static int on_number(void *ctx, const char *s, size_t n)
{
    if (!kn_json_number_text_valid(s, n)) /* yajl checked it; be sure anyway */
        return add_value(ctx, NULL);
    char *t = arena_text(ctx, s, n);
    kn_json *v = t != NULL ? node_new(ctx, KN_JSON_NUMBER) : NULL;
    if (v != NULL) {
        v->u.num.text = t;
        v->u.num.d = strtod(t, NULL);
    }
    return add_value(ctx, v);
}

/* yajl lets overlong forms and lone surrogate escapes through; Go's decoder
 * (which the API server and kubectl use) turns each invalid byte into U+FFFD.
 * Doing the same keeps every string equal to what kn_json_dump writes back.
 * Returns the text in the arena (NULL: out of memory), its length in *len. */
static char *repaired_text(parse_ctx *c, const unsigned char *s, size_t n, size_t *len)
{
    char *fixed = kn_utf8_repair((const char *)s, n, len);
    if (fixed == NULL && *len == (size_t)-1)
        return NULL;
    char *t = fixed != NULL ? arena_text(c, fixed, *len) : arena_text(c, s, *len = n);
    free(fixed);
    return t;
}

static int on_string(void *ctx, const unsigned char *s, size_t n)
{
    char *t = repaired_text(ctx, s, n, &n);
    kn_json *v = t != NULL ? node_new(ctx, KN_JSON_STRING) : NULL;
    if (v != NULL) {
        v->u.str.s = t;
        v->u.str.len = n;
    }
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
    /* Until the end of the document, nodes not yet in a container have no
     * malloc'd parts: a failure frees the root and the arena, nothing else. */
    if (!add_value(c, v))
        return 0;
    c->starts[c->depth] = c->npending;
    c->stack[c->depth++] = v;
    return 1;
}

static int on_start_map(void *ctx) { return open_container(ctx, node_new(ctx, KN_JSON_OBJECT)); }
static int on_start_array(void *ctx) { return open_container(ctx, node_new(ctx, KN_JSON_ARRAY)); }

static int on_end(void *ctx)
{
    parse_ctx *c = ctx;
    c->depth--;
    size_t start = c->starts[c->depth];
    int ok = close_container(c, c->stack[c->depth], start);
    c->npending = start;
    return ok;
}

static int on_map_key(void *ctx, const unsigned char *s, size_t n)
{
    parse_ctx *c = ctx;
    c->key = repaired_text(c, s, n, &c->klen); /* as on_string */
    if (c->key == NULL) {
        c->why = "out of memory";
        return 0;
    }
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
    /* About two bytes of nodes and text per byte of input. */
    parse_ctx c = {.max_depth = max_depth, .next_block = len < 512 ? 1024 : len < (1u << 20) ? 2 * len : 2u << 20};
    c.stack = malloc((size_t)max_depth * sizeof(*c.stack));
    c.starts = malloc((size_t)max_depth * sizeof(*c.starts));
    yajl_handle h = c.stack && c.starts ? yajl_alloc(&callbacks, NULL, &c) : NULL;
    if (h == NULL) {
        free(c.stack);
        free(c.starts);
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
        if (c.root == NULL)
            kn_json_arena_free(c.arena); /* else the root owns it */
        kn_json_free(c.root);
        c.root = NULL;
    }
    yajl_free(h);
    free(c.stack);
    free(c.starts);
    free(c.pending);
    return c.root;
}
