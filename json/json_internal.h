/* json_internal.h - the node layout shared by json.c, json_parse.c and
 * json_dump.c. Not part of the public API: include json.h instead. */
#ifndef KN_JSON_INTERNAL_H
#define KN_JSON_INTERNAL_H

#include "json/json.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct kn_json_member {
    char *key; /* NUL-terminated; klen bytes (a JSON key may hold \u0000) */
    size_t klen;
    kn_json *val;
    bool key_in_arena; /* key lives in the parse arena: not freed on its own */
} kn_json_member;

/* Where a node (and its string or number text) lives. kn_json_parse() puts
 * every node, string, number text and key of a document in one arena, so a
 * parse does not allocate per value; the item and member arrays stay
 * malloc'd (they grow). Nodes added later with
 * kn_json_set()/kn_json_append() are KN_JSON_HEAP as before, so mixed trees
 * free correctly: kn_json_free() frees what is malloc'd, and the arena goes
 * with the document's root. */
typedef enum {
    KN_JSON_HEAP,       /* malloc'd node; its text is malloc'd too */
    KN_JSON_IN_ARENA,   /* node and text in the arena of its document's root */
    KN_JSON_ARENA_ROOT, /* malloc'd kn_json_arena_root: owns the arena */
} kn_json_alloc;

struct kn_json {
    kn_json_type type;
    uint8_t alloc; /* kn_json_alloc (fits in the padding before the union) */
    /* A parsed container's items, or members and index, are in the arena,
     * sized exactly: the first growth copies them to malloc'd arrays. */
    bool arena_arrays;
    union {
        bool b;
        struct {
            char *text; /* valid JSON number text; NULL for a non-finite double */
            double d;
        } num;
        struct {
            char *s; /* NUL-terminated; len bytes, may hold NULs */
            size_t len;
        } str;
        struct {
            kn_json **items;
            size_t len, cap;
        } arr;
        struct {
            kn_json_member *m;
            size_t len, cap;
            uint32_t *idx; /* open addressing: member index + 1, 0 = empty */
            size_t idxcap; /* 0 while the object is small */
        } obj;
    } u;
};

typedef struct kn_json_arena_block {
    struct kn_json_arena_block *next;
    size_t used, cap;
    _Alignas(max_align_t) unsigned char data[];
} kn_json_arena_block;

/* The root of a parsed document: a node followed by its arena's blocks. */
typedef struct kn_json_arena_root {
    kn_json node; /* first: a kn_json * to it is a kn_json_arena_root * */
    kn_json_arena_block *arena;
} kn_json_arena_root;

void kn_json_arena_free(kn_json_arena_block *b);

/* Sets a member whose key has an explicit length (parser keys may hold NULs).
 * Takes ownership of val (frees it on failure). */
int kn_json_setn(kn_json *obj, const char *key, size_t klen, kn_json *val);
/* Slots of the hash index for an object of this many members (0: none, a
 * linear scan is faster). */
size_t kn_json_index_cap(size_t members);
/* Indexes an object whose members are all in place (its index zeroed, with
 * room for them); -1 when two keys are equal (the index is then partial). */
int kn_json_index_fill_unique(kn_json *o);
/* The slots a lookup walks to find each of o's members, summed, and the most
 * for one of them in *longest (if non-NULL); 0 for an object without an
 * index. Tests check with it that no set of keys piles up in the index. */
size_t kn_json_index_probes(const kn_json *o, size_t *longest);
/* Copies a container's arena arrays to malloc'd ones before they grow. */
int kn_json_own_arrays(kn_json *c);
/* The same with a key that stays owned by the caller's arena (no copy). */
int kn_json_setn_borrowed(kn_json *obj, char *key, size_t klen, kn_json *val);

/* kn_json_parse() with yajl alone, without the strict reader in front: for
 * tests and the fuzz target, which check the two give the same trees. */
kn_json *kn_json_parse_yajl(const char *buf, size_t len, const kn_json_limits *lim, kn_err *err);

/* Bytes a JSON string holds as they are (no escape, no UTF-8 check):
 * printable ASCII but '"' and '\\'. */
static inline int kn_json_str_plain(unsigned ch)
{
    return ch >= 0x20 && ch < 0x80 && ch != '"' && ch != '\\';
}

/* How many of the next eight bytes are kn_json_str_plain before the first
 * that is not (8: all of them). The mask's lowest set bit marks the first
 * such byte exactly (false positives only past it). */
static inline unsigned kn_json_plain_run8(const unsigned char *p)
{
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t v;
    memcpy(&v, p, 8);
    uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
    uint64_t stop = (((q - ones) & ~q) | ((b - ones) & ~b) | ((v - ones * 0x20) & ~v) | v) & high;
    return stop == 0 ? 8 : (unsigned)__builtin_ctzll(stop) >> 3;
#else
    unsigned i = 0;
    while (i < 8 && kn_json_str_plain(p[i]))
        i++;
    return i;
#endif
}

/* The same over one block of KN_JSON_PLAIN_BLOCK bytes (all of them readable):
 * 16 with SSE2 (every x86-64), where one signed compare below 0x20 catches
 * control bytes and non-ASCII bytes at once, else eight. Most keys and
 * values of an API object fit in one block. */
#if defined(__SSE2__)
#include <emmintrin.h>
#define KN_JSON_PLAIN_BLOCK 16
static inline unsigned kn_json_plain_block(const unsigned char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i stop =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                     _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
    unsigned m = (unsigned)_mm_movemask_epi8(stop);
    return m == 0 ? 16 : (unsigned)__builtin_ctz(m);
}
#else
#define KN_JSON_PLAIN_BLOCK 8
static inline unsigned kn_json_plain_block(const unsigned char *p)
{
    return kn_json_plain_run8(p);
}
#endif

/* The end of the kn_json_str_plain bytes of s[i..n), a block at a time. */
static inline size_t kn_json_plain_end(const unsigned char *s, size_t i, size_t n)
{
    unsigned k = KN_JSON_PLAIN_BLOCK;
    while (n - i >= KN_JSON_PLAIN_BLOCK && (k = kn_json_plain_block(s + i)) == KN_JSON_PLAIN_BLOCK)
        i += KN_JSON_PLAIN_BLOCK;
    if (k < KN_JSON_PLAIN_BLOCK)
        return i + k;
    while (i < n && kn_json_str_plain(s[i]))
        i++;
    return i;
}

#endif
