/* json.c - the kn_json tree: construction, ownership, lookups, comparison.
 * Parsing is in json_parse.c, serialization in json_dump.c, JSON Pointer in
 * json_pointer.c. */
#include "json/json_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/siphash.h"

/* Objects up to this many members are searched linearly; past it a hash
 * index keeps lookups O(1) (an API server object has thousands of labels at
 * worst, but a ConfigMap-sized object can hold many more keys). Up to 16, a
 * scan, which compares lengths first, costs less than the keyed hash of the
 * key (and a parse checks such an object for repeated keys pair by pair). */
#define KN_JSON_LINEAR_MAX 16

static kn_json *node_new(kn_json_type t)
{
    kn_json *v = calloc(1, sizeof(*v));
    if (v != NULL)
        v->type = t;
    return v;
}

kn_json *kn_json_new_null(void)
{
    return node_new(KN_JSON_NULL);
}

kn_json *kn_json_new_bool(bool b)
{
    kn_json *v = node_new(KN_JSON_BOOL);
    if (v != NULL)
        v->u.b = b;
    return v;
}

/* Takes a malloc'd text that is known to be valid JSON number syntax. */
static kn_json *number_take(char *text, double d)
{
    kn_json *v = node_new(KN_JSON_NUMBER);
    if (v == NULL) {
        free(text);
        return NULL;
    }
    v->u.num.text = text;
    v->u.num.d = d;
    return v;
}

kn_json *kn_json_new_int(int64_t i)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%lld", (long long)i);
    char *t = strndup(buf, (size_t)n);
    return t == NULL ? NULL : number_take(t, (double)i);
}

kn_json *kn_json_new_double(double d)
{
    char buf[64];
    if (!isfinite(d))
        return number_take(NULL, d); /* serialized as null: JSON has no NaN/Inf */
    if (d == floor(d) && fabs(d) < 1e21) {
        snprintf(buf, sizeof(buf), "%.0f", d); /* integral: no exponent (as Go writes it) */
    } else {
        /* The shortest of %.15g..%.17g that reads back as the same double. */
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(buf, sizeof(buf), "%.*g", prec, d);
            if (strtod(buf, NULL) == d)
                break;
        }
    }
    char *t = strdup(buf);
    return t == NULL ? NULL : number_take(t, d);
}

bool kn_json_number_text_valid(const char *s, size_t n)
{
    size_t i = 0;
    if (s == NULL || n == 0)
        return false;
    if (s[i] == '-')
        i++;
    if (i >= n)
        return false;
    if (s[i] == '0')
        i++;
    else if (s[i] >= '1' && s[i] <= '9')
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    else
        return false;
    if (i < n && s[i] == '.') {
        size_t start = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    return i == n;
}

kn_json *kn_json_new_number(const char *text, size_t n)
{
    if (!kn_json_number_text_valid(text, n))
        return NULL;
    char *t = strndup(text, n);
    if (t == NULL)
        return NULL;
    return number_take(t, strtod(t, NULL));
}

kn_json *kn_json_new_stringn(const char *s, size_t n)
{
    kn_json *v = node_new(KN_JSON_STRING);
    if (v == NULL)
        return NULL;
    v->u.str.s = malloc(n + 1);
    if (v->u.str.s == NULL) {
        free(v);
        return NULL;
    }
    if (n > 0)
        memcpy(v->u.str.s, s, n);
    v->u.str.s[n] = '\0';
    v->u.str.len = n;
    return v;
}

kn_json *kn_json_new_string(const char *s)
{
    return kn_json_new_stringn(s == NULL ? "" : s, s == NULL ? 0 : strlen(s));
}

kn_json *kn_json_new_array(void)
{
    return node_new(KN_JSON_ARRAY);
}
kn_json *kn_json_new_object(void)
{
    return node_new(KN_JSON_OBJECT);
}

void kn_json_arena_free(kn_json_arena_block *b)
{
    while (b != NULL) {
        kn_json_arena_block *next = b->next;
        free(b);
        b = next;
    }
}

/* A scalar in a parsed document's arena owns nothing: its text is in the
 * arena too (no API replaces a node's text), so there is nothing to visit. */
static inline bool owns_nothing(const kn_json *v)
{
    return v == NULL || (v->alloc == KN_JSON_IN_ARENA && v->type != KN_JSON_ARRAY && v->type != KN_JSON_OBJECT);
}

void kn_json_free(kn_json *v)
{
    if (v == NULL)
        return;
    bool heap_text = v->alloc == KN_JSON_HEAP; /* a root's text is in its arena too */
    switch (v->type) {
    case KN_JSON_NUMBER:
        if (heap_text)
            free(v->u.num.text);
        break;
    case KN_JSON_STRING:
        if (heap_text)
            free(v->u.str.s);
        break;
    case KN_JSON_ARRAY:
        for (size_t i = 0; i < v->u.arr.len; i++)
            if (!owns_nothing(v->u.arr.items[i]))
                kn_json_free(v->u.arr.items[i]);
        if (!v->arena_arrays)
            free(v->u.arr.items);
        break;
    case KN_JSON_OBJECT:
        for (size_t i = 0; i < v->u.obj.len; i++) {
            if (!v->u.obj.m[i].key_in_arena)
                free(v->u.obj.m[i].key);
            if (!owns_nothing(v->u.obj.m[i].val))
                kn_json_free(v->u.obj.m[i].val);
        }
        if (!v->arena_arrays) {
            free(v->u.obj.m);
            free(v->u.obj.idx);
        }
        break;
    default: break;
    }
    if (v->alloc == KN_JSON_ARENA_ROOT)
        kn_json_arena_free(((kn_json_arena_root *)v)->arena);
    if (v->alloc != KN_JSON_IN_ARENA)
        free(v);
}

static void *memdup(const void *p, size_t n)
{
    void *q = n > 0 ? malloc(n) : NULL;
    if (q != NULL)
        memcpy(q, p, n);
    return q;
}

int kn_json_own_arrays(kn_json *c)
{
    if (!c->arena_arrays)
        return 0;
    if (c->type == KN_JSON_ARRAY) {
        kn_json **items = memdup(c->u.arr.items, c->u.arr.cap * sizeof(*items));
        if (items == NULL && c->u.arr.cap > 0)
            return -1;
        c->u.arr.items = items;
    } else {
        kn_json_member *m = memdup(c->u.obj.m, c->u.obj.cap * sizeof(*m));
        uint32_t *idx = memdup(c->u.obj.idx, c->u.obj.idxcap * sizeof(*idx));
        if ((m == NULL && c->u.obj.cap > 0) || (idx == NULL && c->u.obj.idxcap > 0)) {
            free(m);
            free(idx);
            return -1;
        }
        c->u.obj.m = m;
        c->u.obj.idx = idx;
    }
    c->arena_arrays = false;
    return 0;
}

/* ---- object hash index ----
 *
 * Keys come from whoever sent the document, so the index hashes them with
 * the process's secret SipHash key (siphash.h): a sender cannot compute keys
 * that share a slot, as it could with an unkeyed hash. The index is never
 * more than half full (kn_json_index_cap() sizes it for twice the members,
 * an insert past half rebuilds it, a removal only empties slots), so with
 * that hash a lookup walks 1.5 slots on average when it finds its key and
 * 2.5 when it does not, and always stops at an empty slot. */

static inline size_t key_slot(const char *k, size_t n, size_t mask)
{
    return (size_t)kn_keyhash(k, n) & mask;
}

static void index_insert(kn_json *o, size_t member)
{
    size_t mask = o->u.obj.idxcap - 1;
    size_t slot = key_slot(o->u.obj.m[member].key, o->u.obj.m[member].klen, mask);
    while (o->u.obj.idx[slot] != 0)
        slot = (slot + 1) & mask;
    o->u.obj.idx[slot] = (uint32_t)(member + 1);
}

/* (Re)builds the index so that it stays at most half full. */
size_t kn_json_index_cap(size_t members)
{
    if (members <= KN_JSON_LINEAR_MAX)
        return 0;
    size_t cap = 16;
    while (cap < members * 2)
        cap *= 2;
    return cap;
}

static int index_rebuild(kn_json *o, size_t want_members)
{
    size_t cap = kn_json_index_cap(want_members);
    uint32_t *idx = calloc(cap, sizeof(*idx));
    if (idx == NULL)
        return -1;
    free(o->u.obj.idx);
    o->u.obj.idx = idx;
    o->u.obj.idxcap = cap;
    for (size_t i = 0; i < o->u.obj.len; i++)
        index_insert(o, i);
    return 0;
}

static bool key_eq(const kn_json_member *m, const char *k, size_t n)
{
    return m->klen == n && memcmp(m->key, k, n) == 0;
}

/* Index of the member with this key, or -1. */
static long member_find(const kn_json *o, const char *k, size_t n)
{
    if (o->u.obj.idxcap == 0) {
        for (size_t i = 0; i < o->u.obj.len; i++)
            if (key_eq(&o->u.obj.m[i], k, n))
                return (long)i;
        return -1;
    }
    size_t mask = o->u.obj.idxcap - 1;
    for (size_t slot = key_slot(k, n, mask); o->u.obj.idx[slot] != 0; slot = (slot + 1) & mask) {
        size_t i = o->u.obj.idx[slot] - 1;
        if (key_eq(&o->u.obj.m[i], k, n))
            return (long)i;
    }
    return -1;
}

size_t kn_json_index_probes(const kn_json *o, size_t *longest)
{
    size_t total = 0, most = 0;
    if (kn_json_is(o, KN_JSON_OBJECT) && o->u.obj.idxcap != 0) {
        size_t mask = o->u.obj.idxcap - 1;
        for (size_t slot = 0; slot < o->u.obj.idxcap; slot++) {
            if (o->u.obj.idx[slot] == 0)
                continue;
            const kn_json_member *m = &o->u.obj.m[o->u.obj.idx[slot] - 1];
            size_t walked = ((slot - key_slot(m->key, m->klen, mask)) & mask) + 1;
            total += walked;
            most = walked > most ? walked : most;
        }
    }
    if (longest != NULL)
        *longest = most;
    return total;
}

int kn_json_index_fill_unique(kn_json *o)
{
    size_t mask = o->u.obj.idxcap - 1;
    for (size_t i = 0; i < o->u.obj.len; i++) {
        const kn_json_member *m = &o->u.obj.m[i];
        size_t slot = key_slot(m->key, m->klen, mask);
        for (; o->u.obj.idx[slot] != 0; slot = (slot + 1) & mask)
            if (key_eq(&o->u.obj.m[o->u.obj.idx[slot] - 1], m->key, m->klen))
                return -1;
        o->u.obj.idx[slot] = (uint32_t)(i + 1);
    }
    return 0;
}

/* Room for one more member, and an index once the object outgrows a linear
 * scan (kept at most half full). */
static int members_reserve(kn_json *o)
{
    size_t n = o->u.obj.len;
    bool reindex = n + 1 > KN_JSON_LINEAR_MAX && (n + 1) * 2 > o->u.obj.idxcap;
    if ((n == o->u.obj.cap || reindex) && kn_json_own_arrays(o) != 0)
        return -1;
    if (n == o->u.obj.cap) {
        size_t cap = o->u.obj.cap ? o->u.obj.cap * 2 : 4;
        kn_json_member *m = cap < UINT32_MAX ? realloc(o->u.obj.m, cap * sizeof(*m)) : NULL;
        if (m == NULL) /* (the index stores member numbers in 32 bits) */
            return -1;
        o->u.obj.m = m;
        o->u.obj.cap = cap;
    }
    if (reindex)
        return index_rebuild(o, n + 1);
    return 0;
}

/* Adds or replaces a member; key is copied unless borrowed (an arena key). */
static int member_set(kn_json *obj, const char *key, size_t klen, kn_json *val, char *borrowed)
{
    if (obj == NULL || obj->type != KN_JSON_OBJECT || key == NULL || val == NULL || val == obj) {
        kn_json_free(val);
        return -1;
    }
    long at = member_find(obj, key, klen);
    if (at >= 0) {
        kn_json_free(obj->u.obj.m[at].val);
        obj->u.obj.m[at].val = val;
        return 0;
    }
    char *k = members_reserve(obj) != 0 ? NULL : borrowed != NULL ? borrowed : malloc(klen + 1);
    if (k == NULL) {
        kn_json_free(val);
        return -1;
    }
    if (borrowed == NULL) {
        memcpy(k, key, klen);
        k[klen] = '\0';
    }
    size_t n = obj->u.obj.len++;
    obj->u.obj.m[n] = (kn_json_member){.key = k, .klen = klen, .val = val, .key_in_arena = borrowed != NULL};
    if (obj->u.obj.idxcap != 0)
        index_insert(obj, n);
    return 0;
}

int kn_json_setn(kn_json *obj, const char *key, size_t klen, kn_json *val)
{
    return member_set(obj, key, klen, val, NULL);
}

int kn_json_setn_borrowed(kn_json *obj, char *key, size_t klen, kn_json *val)
{
    return member_set(obj, key, klen, val, key);
}

int kn_json_set(kn_json *obj, const char *key, kn_json *val)
{
    if (key == NULL) {
        kn_json_free(val);
        return -1;
    }
    return kn_json_setn(obj, key, strlen(key), val);
}

int kn_json_set_str(kn_json *obj, const char *key, const char *s)
{
    return kn_json_set(obj, key, kn_json_new_string(s));
}

int kn_json_append(kn_json *arr, kn_json *val)
{
    if (arr == NULL || arr->type != KN_JSON_ARRAY || val == NULL || val == arr) {
        kn_json_free(val);
        return -1;
    }
    if (arr->u.arr.len == arr->u.arr.cap && kn_json_own_arrays(arr) != 0) {
        kn_json_free(val);
        return -1;
    }
    if (arr->u.arr.len == arr->u.arr.cap) {
        size_t cap = arr->u.arr.cap ? arr->u.arr.cap * 2 : 4;
        kn_json **items = realloc(arr->u.arr.items, cap * sizeof(*items));
        if (items == NULL) {
            kn_json_free(val);
            return -1;
        }
        arr->u.arr.items = items;
        arr->u.arr.cap = cap;
    }
    arr->u.arr.items[arr->u.arr.len++] = val;
    return 0;
}

int kn_json_remove(kn_json *obj, const char *key)
{
    if (obj == NULL || obj->type != KN_JSON_OBJECT || key == NULL)
        return -1;
    long at = member_find(obj, key, strlen(key));
    if (at < 0)
        return -1;
    if (!obj->u.obj.m[at].key_in_arena)
        free(obj->u.obj.m[at].key);
    kn_json_free(obj->u.obj.m[at].val);
    memmove(&obj->u.obj.m[at], &obj->u.obj.m[at + 1], (obj->u.obj.len - (size_t)at - 1) * sizeof(kn_json_member));
    obj->u.obj.len--;
    if (obj->u.obj.idxcap != 0) {
        /* Member indexes shifted: rebuild in place (cannot fail: same size). */
        memset(obj->u.obj.idx, 0, obj->u.obj.idxcap * sizeof(uint32_t));
        for (size_t i = 0; i < obj->u.obj.len; i++)
            index_insert(obj, i);
    }
    return 0;
}

/* ---- inspecting ---- */

kn_json_type kn_json_typeof(const kn_json *v)
{
    return v == NULL ? KN_JSON_NULL : v->type;
}

const char *kn_json_type_name(kn_json_type t)
{
    switch (t) {
    case KN_JSON_NULL: return "null";
    case KN_JSON_BOOL: return "boolean";
    case KN_JSON_NUMBER: return "number";
    case KN_JSON_STRING: return "string";
    case KN_JSON_ARRAY: return "array";
    case KN_JSON_OBJECT: return "object";
    }
    return "unknown";
}

bool kn_json_is(const kn_json *v, kn_json_type t)
{
    return v != NULL && v->type == t;
}

kn_json *kn_json_get(const kn_json *obj, const char *key)
{
    if (obj == NULL || obj->type != KN_JSON_OBJECT || key == NULL)
        return NULL;
    long at = member_find(obj, key, strlen(key));
    return at < 0 ? NULL : obj->u.obj.m[at].val;
}

kn_json *kn_json_dig(const kn_json *v, ...)
{
    va_list ap;
    va_start(ap, v);
    const char *k;
    while (v != NULL && (k = va_arg(ap, const char *)) != NULL)
        v = kn_json_get(v, k);
    va_end(ap);
    return (kn_json *)v;
}

const char *kn_json_str(const kn_json *v)
{
    return kn_json_is(v, KN_JSON_STRING) ? v->u.str.s : NULL;
}

size_t kn_json_strlen(const kn_json *v)
{
    return kn_json_is(v, KN_JSON_STRING) ? v->u.str.len : 0;
}

const char *kn_json_get_str(const kn_json *obj, const char *key)
{
    return kn_json_str(kn_json_get(obj, key));
}

bool kn_json_bool(const kn_json *v, bool dflt)
{
    return kn_json_is(v, KN_JSON_BOOL) ? v->u.b : dflt;
}

int kn_json_int(const kn_json *v, int64_t *out)
{
    if (!kn_json_is(v, KN_JSON_NUMBER) || v->u.num.text == NULL)
        return -1;
    const char *t = v->u.num.text;
    if (strpbrk(t, ".eE") == NULL) {
        char *end;
        errno = 0;
        long long i = strtoll(t, &end, 10);
        if (errno != 0 || *end != '\0')
            return -1; /* overflow */
        if (out != NULL)
            *out = i;
        return 0;
    }
    /* "2.0" or "1e3": integral, and small enough that the double is exact. */
    double d = v->u.num.d;
    if (d != floor(d) || fabs(d) > 9007199254740992.0)
        return -1;
    if (out != NULL)
        *out = (int64_t)d;
    return 0;
}

int kn_json_double(const kn_json *v, double *out)
{
    if (!kn_json_is(v, KN_JSON_NUMBER))
        return -1;
    if (out != NULL)
        *out = v->u.num.d;
    return 0;
}

const char *kn_json_number_text(const kn_json *v)
{
    return kn_json_is(v, KN_JSON_NUMBER) ? v->u.num.text : NULL;
}

size_t kn_json_len(const kn_json *v)
{
    if (kn_json_is(v, KN_JSON_ARRAY))
        return v->u.arr.len;
    if (kn_json_is(v, KN_JSON_OBJECT))
        return v->u.obj.len;
    return 0;
}

kn_json *kn_json_at(const kn_json *arr, size_t i)
{
    return kn_json_is(arr, KN_JSON_ARRAY) && i < arr->u.arr.len ? arr->u.arr.items[i] : NULL;
}

const char *kn_json_key_at(const kn_json *obj, size_t i)
{
    return kn_json_is(obj, KN_JSON_OBJECT) && i < obj->u.obj.len ? obj->u.obj.m[i].key : NULL;
}

kn_json *kn_json_value_at(const kn_json *obj, size_t i)
{
    return kn_json_is(obj, KN_JSON_OBJECT) && i < obj->u.obj.len ? obj->u.obj.m[i].val : NULL;
}

/* ---- copying and comparing ---- */

kn_json *kn_json_clone(const kn_json *v)
{
    if (v == NULL)
        return NULL;
    kn_json *c = NULL;
    switch (v->type) {
    case KN_JSON_NULL: return kn_json_new_null();
    case KN_JSON_BOOL: return kn_json_new_bool(v->u.b);
    case KN_JSON_NUMBER:
        if (v->u.num.text == NULL)
            return number_take(NULL, v->u.num.d);
        c = kn_json_new_number(v->u.num.text, strlen(v->u.num.text));
        return c;
    case KN_JSON_STRING: return kn_json_new_stringn(v->u.str.s, v->u.str.len);
    case KN_JSON_ARRAY:
        c = kn_json_new_array();
        for (size_t i = 0; c != NULL && i < v->u.arr.len; i++) {
            kn_json *e = kn_json_clone(v->u.arr.items[i]);
            if (kn_json_append(c, e) != 0) {
                kn_json_free(c);
                c = NULL;
            }
        }
        return c;
    case KN_JSON_OBJECT:
        c = kn_json_new_object();
        for (size_t i = 0; c != NULL && i < v->u.obj.len; i++) {
            const kn_json_member *m = &v->u.obj.m[i];
            if (kn_json_setn(c, m->key, m->klen, kn_json_clone(m->val)) != 0) {
                kn_json_free(c);
                c = NULL;
            }
        }
        return c;
    }
    return NULL;
}

/* Numbers are equal when their values are: 1.0 == 1 == 1e0. Integers
 * compare exactly through their text when both are plain integers. */
static bool number_equal(const kn_json *a, const kn_json *b)
{
    int64_t ia, ib;
    const char *ta = a->u.num.text, *tb = b->u.num.text;
    if (ta != NULL && tb != NULL && strpbrk(ta, ".eE") == NULL && strpbrk(tb, ".eE") == NULL) {
        if (kn_json_int(a, &ia) == 0 && kn_json_int(b, &ib) == 0)
            return ia == ib;
        return strcmp(ta, tb) == 0; /* beyond int64: compare the digits */
    }
    return a->u.num.d == b->u.num.d;
}

/* Objects are equal regardless of member order (as JSON semantics say). */
bool kn_json_equal(const kn_json *a, const kn_json *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case KN_JSON_NULL: return true;
    case KN_JSON_BOOL: return a->u.b == b->u.b;
    case KN_JSON_NUMBER: return number_equal(a, b);
    case KN_JSON_STRING: return a->u.str.len == b->u.str.len && memcmp(a->u.str.s, b->u.str.s, a->u.str.len) == 0;
    case KN_JSON_ARRAY:
        if (a->u.arr.len != b->u.arr.len)
            return false;
        for (size_t i = 0; i < a->u.arr.len; i++)
            if (!kn_json_equal(a->u.arr.items[i], b->u.arr.items[i]))
                return false;
        return true;
    case KN_JSON_OBJECT:
        if (a->u.obj.len != b->u.obj.len)
            return false;
        for (size_t i = 0; i < a->u.obj.len; i++) {
            const kn_json_member *m = &a->u.obj.m[i];
            long j = member_find(b, m->key, m->klen);
            if (j < 0 || !kn_json_equal(m->val, b->u.obj.m[j].val))
                return false;
        }
        return true;
    }
    return false;
}
