/* json_parse.c - kn_json_parse(): a kn_json tree within the size and depth
 * limits of kn_json_limits.
 *
 * Two readers feed the same tree builder (the on_* functions): a strict
 * single-pass reader (RFC 8259 grammar, strict UTF-8, only well-formed
 * surrogate pairs) that handles what the API server sends, at a third of
 * yajl's cost, and yajl's event parser. A document the strict reader does not
 * take whole (bad JSON, too deep, invalid UTF-8 that gets repaired, yajl's
 * own leniencies) is read again by yajl, so trees, repairs and error messages
 * ("offset N: <yajl message>") are yajl's for every input. */
#include "json/json_internal.h"
#include "base/utf8.h"

#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#define KN_JSON_DEFAULT_MAX_BYTES (8u * 1024 * 1024)
#define KN_JSON_DEFAULT_MAX_DEPTH 64
/* Documents up to this size are read from a copy in their arena (see
 * parse_ctx.in_place). */
#define KN_JSON_IN_PLACE_MAX (64u * 1024)
/* Hard ceiling whatever the caller asks: free/clone/dump recurse. */
#define KN_JSON_HARD_MAX_DEPTH 1000

typedef struct {
    kn_json *root;
    kn_json **stack; /* open containers */
    int depth, max_depth;
    char *key; /* pending object key (in the arena) */
    size_t klen;
    const char *why;            /* our own reason when a callback cancels */
    kn_json_arena_block *arena; /* owned by root once there is one */
    size_t next_block;          /* size of the next arena block */
    /* Children of the open containers, in order; each container's own start
     * in starts[depth]. At its end they go into exact-size arena arrays, so a
     * parsed tree has no malloc'd parts but its root (no realloc growth). */
    kn_json_member *pending;
    size_t npending, cappending;
    size_t *starts;
    /* The strict reader reads a copy of the input in the arena and leaves
     * strings where they are (unescaped in place, the closing quote turned
     * into their NUL) rather than copying each one. */
    bool in_place;
} parse_ctx;

/* Bump allocation from the document's arena; align is 1 or 8. Blocks grow
 * geometrically so a big document needs few of them. */
static void *arena_grow(parse_ctx *c, size_t n);

static inline void *arena_alloc(parse_ctx *c, size_t n, size_t align)
{
    kn_json_arena_block *b = c->arena;
    size_t at = b != NULL ? (b->used + align - 1) & ~(align - 1) : 0;
    if (b == NULL || n > b->cap - at || at > b->cap)
        return arena_grow(c, n); /* a new block's data is aligned for anything */
    b->used = at + n;
    return b->data + at;
}

/* Room for n bytes in a new block (the rare path of arena_alloc, kept out
 * of line so the common one is inlined in every node and string). */
static void *arena_grow(parse_ctx *c, size_t n)
{
    size_t cap = c->next_block > n ? c->next_block : n;
    if (c->next_block < ((size_t)1 << 20))
        c->next_block *= 2;
    kn_json_arena_block *b = malloc(sizeof(*b) + cap);
    if (b == NULL)
        return NULL;
    b->cap = cap;
    b->next = c->arena;
    if (c->root != NULL) /* the root's block list is the one to free */
        ((kn_json_arena_root *)c->root)->arena = b;
    c->arena = b;
    b->used = n;
    return b->data;
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
static kn_json *root_new(parse_ctx *c, kn_json_type t)
{
    kn_json_arena_root *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->arena = c->arena;
    r->node.alloc = KN_JSON_ARENA_ROOT;
    r->node.type = t;
    return &r->node;
}

static inline kn_json *node_new(parse_ctx *c, kn_json_type t)
{
    if (c->root == NULL && c->depth == 0)
        return root_new(c, t);
    kn_json *v = arena_alloc(c, sizeof(*v), _Alignof(kn_json));
    if (v != NULL) {
        memset(v, 0, sizeof(*v)); /* the whole union too: a container starts empty */
        v->type = t;
        v->alloc = KN_JSON_IN_ARENA;
    }
    return v;
}

/* Room for more pending children (the rare path of add_value). */
static int pending_grow(parse_ctx *c)
{
    size_t cap = c->cappending ? c->cappending * 2 : 64;
    kn_json_member *p = realloc(c->pending, cap * sizeof(*p));
    if (p == NULL) {
        c->why = "out of memory";
        return 0;
    }
    c->pending = p;
    c->cappending = cap;
    return 1;
}

static inline int add_value(parse_ctx *c, kn_json *v)
{
    if (v == NULL) {
        c->why = "out of memory";
        return 0;
    }
    if (c->depth == 0) {
        c->root = v;
        return 1;
    }
    if (c->npending == c->cappending && !pending_grow(c))
        return 0;
    /* c->key is NULL in an array: it is set by a member's key only, and
     * cleared once the member's value is added */
    c->pending[c->npending++] = (kn_json_member){.key = c->key, .klen = c->klen, .val = v, .key_in_arena = true};
    c->key = NULL;
    return 1;
}

/* No two keys alike, in an object small enough for a linear scan. */
static bool members_unique(const kn_json_member *p, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (p[j].klen == p[i].klen && memcmp(p[j].key, p[i].key, p[i].klen) == 0)
                return false;
    return true;
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
    if (idxcap > 0 || members_unique(p, n)) {
        /* What the loop below builds when no key repeats, without a lookup
         * per member (a big object finds repeats while it is indexed). */
        memcpy(top->u.obj.m, p, n * sizeof(*p)); /* keys in the arena, as add_value marks them */
        top->u.obj.len = n;
        if (idxcap == 0 || kn_json_index_fill_unique(top) == 0)
            return 1;
        top->u.obj.len = 0;
        memset(top->u.obj.idx, 0, idxcap * sizeof(uint32_t));
    }
    for (size_t i = 0; i < n; i++)
        if (kn_json_setn_borrowed(top, p[i].key, p[i].klen, p[i].val) != 0)
            return c->why = "out of memory", 0;
    return 1;
}

static int on_null(void *ctx)
{
    return add_value(ctx, node_new(ctx, KN_JSON_NULL));
}

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

static int add_string(parse_ctx *c, char *t, size_t n)
{
    kn_json *v = t != NULL ? node_new(c, KN_JSON_STRING) : NULL;
    if (v != NULL) {
        v->u.str.s = t;
        v->u.str.len = n;
    }
    return add_value(c, v);
}

static int on_string(void *ctx, const unsigned char *s, size_t n)
{
    char *t = repaired_text(ctx, s, n, &n);
    return add_string(ctx, t, n);
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

static int on_start_map(void *ctx)
{
    return open_container(ctx, node_new(ctx, KN_JSON_OBJECT));
}
static int on_start_array(void *ctx)
{
    return open_container(ctx, node_new(ctx, KN_JSON_ARRAY));
}

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
static void set_yajl_error(yajl_handle h, parse_ctx *c, const char *buf, size_t len, size_t off, kn_err *err)
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

/* ---- the strict reader ---------------------------------------------- */

typedef const unsigned char *cursor;

/* Compact JSON (what the API server sends) has no blanks: that case is
 * decided on the first byte. */
static inline cursor skip_ws(cursor p, cursor end)
{
    if (p<end && * p> ' ')
        return p;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

static int hex4(cursor p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned ch = p[i], d;
        if (ch >= '0' && ch <= '9')
            d = ch - '0';
        else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
            d = (ch | 0x20) - 'a' + 10;
        else
            return 0;
        v = v << 4 | d;
    }
    *out = v;
    return 1;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* One escape at p (after the backslash) into o; returns the bytes of input
 * used (0: not one the strict reader takes), the output length in *olen. */
static inline size_t unescape_one(cursor p, cursor end, char *o, size_t *olen)
{
    static const char simple[256] = {['"'] = '"',  ['\\'] = '\\', ['/'] = '/',  ['b'] = '\b',
                                     ['f'] = '\f', ['n'] = '\n',  ['r'] = '\r', ['t'] = '\t'};
    if (p >= end)
        return 0;
    if (*p != 'u') {
        if (simple[*p] == 0)
            return 0;
        *o = simple[*p];
        *olen = 1;
        return 1;
    }
    unsigned cp, lo;
    if (end - p < 5 || !hex4(p + 1, &cp))
        return 0;
    if (cp < 0xd800 || cp > 0xdfff) {
        *olen = put_utf8(o, cp);
        return 5;
    }
    /* Only a high surrogate followed by a low one: yajl's handling of the
     * rest (and the repair after it) is left to yajl. */
    if (cp > 0xdbff || end - p < 11 || p[5] != '\\' || p[6] != 'u' || !hex4(p + 7, &lo) || lo < 0xdc00 ||
        lo > 0xdfff)
        return 0;
    *olen = put_utf8(o, 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00));
    return 11;
}

/* In a copy being read in place (c->in_place), scanning and unescaping are
 * one pass: the text stays where it is until its first escape, and from then
 * on each piece is moved down over the bytes the escapes freed (o trails p;
 * an escape is never shorter than what it stands for), so a string full of
 * escapes (kubectl's last-applied-configuration annotation) is read once. */
static inline char *read_string_in_place(cursor *pp, cursor end, size_t *len)
{
    enum { B = KN_JSON_PLAIN_BLOCK };
    unsigned char *start = (unsigned char *)*pp + 1, *p = start, *o = NULL;
    for (;;) {
        unsigned run;
        do { /* the plain run at p, a block at a time */
            if (end - p >= B) {
                run = kn_json_plain_block(p);
            } else {
                run = 0;
                while (p + run < end && kn_json_str_plain(p[run]))
                    run++;
            }
            if (o != NULL) {
                /* A whole block is stored at once when all of it is in
                 * hand (copied out first: o trails p by less than a block
                 * at the start) or when o is a block behind p. */
                if (end - p >= B && (run == B || p - o >= B)) {
                    unsigned char blk[B];
                    memcpy(blk, p, B);
                    memcpy(o, blk, B);
                } else {
                    memmove(o, p, run);
                }
                o += run;
            }
            p += run;
        } while (run == B);
        if (p >= end || *p < 0x20)
            return NULL;
        if (*p == '"')
            break;
        if (*p == '\\') {
            if (o == NULL)
                o = p;
            size_t olen, used = unescape_one(p + 1, end, (char *)o, &olen);
            if (used == 0)
                return NULL;
            p += 1 + used;
            o += olen;
            continue;
        }
        size_t k = kn_utf8_seq(p, (size_t)(end - p));
        if (k == 0)
            return NULL; /* yajl and the repair decide */
        if (o != NULL) {
            memmove(o, p, k);
            o += k;
        }
        p += k;
    }
    *pp = p + 1;
    if (o == NULL)
        o = p;
    *o = '\0';
    *len = (size_t)(o - start);
    return (char *)start;
}

static char *read_string_copy(parse_ctx *c, cursor *pp, cursor end, size_t *len);

/* The string whose opening quote is at *pp, into the arena (NUL-terminated);
 * *pp moves past the closing quote. NULL: not taken (or out of memory). The
 * in-place reader is inlined here, the copying one (big documents) is not,
 * so a short key costs no register saves for the path it does not take. */
static inline char *read_string(parse_ctx *c, cursor *pp, cursor end, size_t *len)
{
    return c->in_place ? read_string_in_place(pp, end, len) : read_string_copy(c, pp, end, len);
}

__attribute__((noinline)) static char *read_string_copy(parse_ctx *c, cursor *pp, cursor end, size_t *len)
{
    cursor start = *pp + 1, p = start;
    int escapes = 0;
    for (;;) {
        p += kn_json_plain_end(p, 0, (size_t)(end - p));
        if (p >= end || *p < 0x20)
            return NULL;
        if (*p == '"')
            break;
        if (*p == '\\') {
            escapes = 1;
            p += p + 1 < end ? 2 : 1; /* an escaped quote does not end it */
            continue;
        }
        size_t k = kn_utf8_seq(p, (size_t)(end - p));
        if (k == 0)
            return NULL; /* yajl and the repair decide */
        p += k;
    }
    *pp = p + 1;
    size_t n = (size_t)(p - start);
    char *t = arena_alloc(c, n + 1, 1), *o = t;
    if (t == NULL)
        return NULL;
    memcpy(t, start, n);
    t[n] = '\0';
    *len = n;
    if (!escapes)
        return t;
    /* Unescaped text is never longer than its source. */
    for (const char *q = t; q < t + n;) {
        const char *bs = memchr(q, '\\', (size_t)(t + n - q));
        size_t run = (size_t)((bs != NULL ? bs : t + n) - q);
        if (o != q)
            memmove(o, q, run);
        o += run;
        q += run;
        if (bs == NULL)
            break;
        size_t olen, used = unescape_one((cursor)q + 1, (cursor)t + n, o, &olen);
        if (used == 0)
            return NULL;
        q += 1 + used;
        o += olen;
    }
    *o = '\0';
    *len = (size_t)(o - t);
    return t;
}

/* A number's text per RFC 8259, from p; its end, or NULL. */
static cursor scan_number(cursor p, cursor end)
{
    if (p < end && *p == '-')
        p++;
    if (p >= end)
        return NULL;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    else
        return NULL;
    if (p < end && *p == '.') {
        cursor d = ++p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == d)
            return NULL;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        cursor d = p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == d)
            return NULL;
    }
    return p;
}

static int add_number(parse_ctx *c, cursor s, size_t n)
{
    char *t = arena_text(c, s, n);
    kn_json *v = t != NULL ? node_new(c, KN_JSON_NUMBER) : NULL;
    if (v == NULL)
        return add_value(c, NULL);
    v->u.num.text = t;
    /* An integer of up to 15 digits is exact as a double: what strtod gives. */
    size_t i = t[0] == '-';
    uint64_t u = 0;
    while (i < n && t[i] >= '0' && t[i] <= '9' && i < 16)
        u = u * 10 + (uint64_t)(t[i++] - '0');
    if (i == n && n <= 15)
        v->u.num.d = t[0] == '-' ? -(double)u : (double)u;
    else
        v->u.num.d = strtod(t, NULL);
    return add_value(c, v);
}

static int literal(cursor *pp, cursor end, const char *word, size_t n)
{
    if ((size_t)(end - *pp) < n || memcmp(*pp, word, n) != 0)
        return 0;
    *pp += n;
    return 1;
}

/* One scalar value at *pp (not a container); 0 if not taken. */
static int read_scalar(parse_ctx *c, cursor *pp, cursor end)
{
    cursor p = *pp;
    switch (*p) {
    case '"': {
        size_t n = 0;
        char *t = read_string(c, pp, end, &n);
        return t != NULL && add_string(c, t, n);
    }
    case 't': return literal(pp, end, "true", 4) && on_bool(c, 1);
    case 'f': return literal(pp, end, "false", 5) && on_bool(c, 0);
    case 'n': return literal(pp, end, "null", 4) && on_null(c);
    default: {
        cursor e = scan_number(p, end);
        if (e == NULL)
            return 0;
        *pp = e;
        return add_number(c, p, (size_t)(e - p));
    }
    }
}

/* The whole document, through the same builder as yajl's callbacks; 0 when
 * it is not taken (the caller frees what was built and asks yajl). */
static int read_strict(parse_ctx *c, cursor p, cursor end)
{
    p = skip_ws(p, end);
value:
    if (p >= end)
        return 0;
    if (*p == '{' || *p == '[') {
        int obj = *p == '{';
        if (!open_container(c, node_new(c, obj ? KN_JSON_OBJECT : KN_JSON_ARRAY)))
            return 0;
        p = skip_ws(p + 1, end);
        if (p < end && *p == (obj ? '}' : ']')) {
            p++;
            if (!on_end(c))
                return 0;
            goto after;
        }
        if (obj)
            goto key;
        goto value;
    }
    if (!read_scalar(c, &p, end))
        return 0;
after:
    p = skip_ws(p, end);
    if (c->depth == 0)
        return p == end;
    if (p >= end)
        return 0;
    int in_obj = c->stack[c->depth - 1]->type == KN_JSON_OBJECT;
    if (*p == ',') {
        p = skip_ws(p + 1, end);
        if (!in_obj)
            goto value;
        goto key;
    }
    if (*p != (in_obj ? '}' : ']') || !on_end(c))
        return 0;
    p++;
    goto after;
key:
    if (p >= end || *p != '"')
        return 0;
    c->key = read_string(c, &p, end, &c->klen);
    if (c->key == NULL)
        return 0;
    p = skip_ws(p, end);
    if (p >= end || *p != ':')
        return 0;
    p = skip_ws(p + 1, end);
    goto value;
}

/* Frees what a failed read built: the root owns the arena once there is one. */
static void drop_partial(parse_ctx *c)
{
    if (c->root == NULL)
        kn_json_arena_free(c->arena);
    kn_json_free(c->root);
    c->root = NULL;
    c->arena = NULL;
    c->depth = 0;
    c->npending = 0;
    c->key = NULL;
    c->why = NULL;
}

/* ---- yajl ------------------------------------------------------------ */

/* c->root: the document, or NULL with err set. */
static void read_yajl(parse_ctx *c, const char *buf, size_t len, kn_err *err)
{
    yajl_handle h = yajl_alloc(&callbacks, NULL, c);
    if (h == NULL) {
        kn_err_set(err, "offset 0: out of memory");
        return;
    }
    yajl_config(h, yajl_allow_comments, 0);
    yajl_config(h, yajl_dont_validate_strings, 0);
    size_t off = 0;
    yajl_status st = yajl_parse(h, (const unsigned char *)buf, len);
    if (st == yajl_status_ok) {
        st = yajl_complete_parse(h);
        off = len; /* complete_parse fails only at the end (premature EOF) */
    } else {
        off = yajl_get_bytes_consumed(h);
    }
    if (st != yajl_status_ok) {
        set_yajl_error(h, c, buf, len, off, err);
        drop_partial(c);
    }
    yajl_free(h);
}

static kn_json *parse(const char *buf, size_t len, const kn_json_limits *lim, bool strict_first, kn_err *err)
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
        kn_err_set(err, "offset %zu: document is %zu bytes, more than the limit of %zu bytes", max_bytes, len,
                   max_bytes);
        return NULL;
    }
    /* An API object read in place takes about four bytes of nodes and
     * member arrays per byte of input, and its copy: one block then holds
     * it all. A big document keeps only its strings: about two bytes a byte. */
    size_t first = len < 512                     ? 1024
                   : len <= KN_JSON_IN_PLACE_MAX ? 5 * len
                   : len < (1u << 20)            ? 3 * len
                                                 : 2u << 20;
    parse_ctx c = {.max_depth = max_depth, .next_block = first};
    c.stack = malloc((size_t)max_depth * sizeof(*c.stack));
    c.starts = malloc((size_t)max_depth * sizeof(*c.starts));
    if (c.stack == NULL || c.starts == NULL) {
        free(c.stack);
        free(c.starts);
        kn_err_set(err, "offset 0: out of memory");
        return NULL;
    }
    cursor p = (cursor)(buf ? buf : "");
    if (strict_first && len <= KN_JSON_IN_PLACE_MAX) {
        /* (a big document, a List, keeps only its strings: less memory) */
        unsigned char *copy = arena_alloc(&c, len, 1);
        if (copy != NULL && len > 0)
            memcpy(copy, p, len);
        p = copy;
        c.in_place = true;
    }
    if (!strict_first || p == NULL || !read_strict(&c, p, p + len)) {
        drop_partial(&c);
        read_yajl(&c, buf ? buf : "", len, err);
    }
    free(c.stack);
    free(c.starts);
    free(c.pending);
    return c.root;
}

kn_json *kn_json_parse(const char *buf, size_t len, const kn_json_limits *lim, kn_err *err)
{
    return parse(buf, len, lim, true, err);
}

kn_json *kn_json_parse_yajl(const char *buf, size_t len, const kn_json_limits *lim, kn_err *err)
{
    return parse(buf, len, lim, false, err);
}
