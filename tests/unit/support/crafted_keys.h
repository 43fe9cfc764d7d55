/* crafted_keys.h - keys that all collide under the unkeyed hashes the JSON
 * index and the string maps (kn_strmap) used before kn_keyhash (copies of
 * those hashes are here to craft them), and random keys of the same shape.
 * What a sender who reads the source could send; for test_json,
 * test_keyhash and tests/bench/json_keys.c. Header-only (static inline), so
 * the benchmark needs nothing of CMocka. */
#ifndef KN_CRAFTED_KEYS_H
#define KN_CRAFTED_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- the JSON index's old key hash ----
 * Eight bytes at a time: h = (h ^ block) * M, then h ^= h >> 32. A change in
 * the high half of a block changes only the high half of the product, which
 * the fold copies into the low half; the next block can undo both halves at
 * once. So from one state, first blocks that differ only in bytes 4-7,
 * each followed by the block that cancels it, all reach one state. */

#define CK_LEN 32 /* a crafted key: two 16-byte segments, letters and digits (a valid label key) */
#define CK_OLD_M 0xff51afd7ed558ccdu

static inline uint64_t ck_load64(const char *p)
{
    uint64_t w = 0;
    for (int i = 7; i >= 0; i--)
        w = w << 8 | (unsigned char)p[i];
    return w;
}

static inline uint64_t ck_old_step(uint64_t h, uint64_t w)
{
    h = (h ^ w) * CK_OLD_M;
    return h ^ (h >> 32);
}

/* json.c's key_hash before it was keyed, byte for byte (little-endian). */
static inline uint32_t ck_old_key_hash(const char *k, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u ^ n;
    for (; n >= 8; k += 8, n -= 8)
        h = ck_old_step(h, ck_load64(k));
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++)
        w |= (uint64_t)(unsigned char)k[i] << (8 * i);
    h = (h ^ w) * CK_OLD_M;
    return (uint32_t)(h ^ (h >> 32));
}

static const char ck_alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

static inline bool ck_is_alnum(unsigned c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Up to `want` 16-byte segments (got: how many) that all take the old hash
 * from state h to one state, which is returned. */
static inline uint64_t ck_old_segments(uint64_t h, char (*seg)[16], size_t want, char tag, size_t *got)
{
    const uint32_t c = 0x61616161u; /* "aaaa": any constant would do */
    *got = 0;
    for (uint32_t i = 0; *got < want && i < 62u * 62 * 62 * 62; i++) {
        char a[8] = {tag,
                     'k',
                     'e',
                     'y',
                     ck_alnum[i % 62],
                     ck_alnum[i / 62 % 62],
                     ck_alnum[i / 3844 % 62],
                     ck_alnum[i / 238328]};
        uint64_t y = (h ^ ck_load64(a)) * CK_OLD_M;
        uint32_t undo = (uint32_t)(y >> 32) ^ c; /* the next block, in each half */
        bool ok = true;
        for (int j = 0; j < 4 && ok; j++) {
            seg[*got][8 + j] = seg[*got][12 + j] = (char)(undo >> (8 * j));
            ok = ck_is_alnum((unsigned char)seg[*got][8 + j]);
        }
        if (ok)
            memcpy(seg[(*got)++], a, 8);
    }
    return *got ? ck_old_step(ck_old_step(h, ck_load64(seg[0])), ck_load64(seg[0] + 8)) : h;
}

/* n distinct keys of CK_LEN letters and digits, each NUL-terminated in
 * keys[i], all with one old hash: every first segment with every second
 * one. 0, or -1 when n is more than this can make (about 2.5 billion). */
static inline int ck_old_colliding(char (*keys)[CK_LEN + 1], size_t n)
{
    size_t side = 1, got1, got2;
    while (side * side < n)
        side++;
    char(*s1)[16] = malloc(side * 16), (*s2)[16] = malloc(side * 16);
    int rc = -1;
    if (s1 != NULL && s2 != NULL) {
        uint64_t h = ck_old_segments(0xcbf29ce484222325u ^ CK_LEN, s1, side, 'p', &got1);
        ck_old_segments(h, s2, side, 'q', &got2);
        rc = got1 == side && got2 == side ? 0 : -1;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        memcpy(keys[i], s1[i % side], 16);
        memcpy(keys[i] + 16, s2[i / side], 16);
        keys[i][CK_LEN] = '\0';
    }
    free(s1);
    free(s2);
    return rc;
}

/* n keys of CK_LEN random letters and digits (distinct in practice: 62^32
 * of them), the same for the same seed. */
static inline void ck_random(char (*keys)[CK_LEN + 1], size_t n, uint64_t seed)
{
    uint64_t x = seed | 1;
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < CK_LEN; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
            keys[i][j] = ck_alnum[(x >> 32) % 62];
        }
        keys[i][CK_LEN] = '\0';
    }
}

/* ---- the string maps' old hash: 32-bit FNV-1a ----
 * The low 16 bits of its state follow from the low 16 bits before and the
 * byte alone, so keys whose states agree there share a home slot in any
 * table of up to 65536 slots. Two 3-letter pieces that take one state to one
 * state (mod 2^16) turn up within a few hundred tries; a key of CK_FNV_STEPS
 * pieces, either of each pair at each step, gives 2^CK_FNV_STEPS keys. */

#define CK_FNV_STEPS 16
#define CK_FNV_LEN (3 * CK_FNV_STEPS)

static inline uint32_t ck_fnv1a32(const char *s, size_t n, uint32_t h)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* n distinct keys of CK_FNV_LEN letters and digits whose old hashes agree
 * in their low 16 bits. 0, or -1 when n > 2^CK_FNV_STEPS or out of memory. */
static inline int ck_fnv_colliding(char (*keys)[CK_FNV_LEN + 1], size_t n)
{
    char pair[CK_FNV_STEPS][2][3];
    uint32_t *seen = malloc(65536 * sizeof(*seen)); /* low 16 bits of a state -> piece + 1 */
    if (seen == NULL || n > (size_t)1 << CK_FNV_STEPS) {
        free(seen);
        return -1;
    }
    uint32_t h = 2166136261u;
    for (int step = 0; step < CK_FNV_STEPS; step++) {
        memset(seen, 0, 65536 * sizeof(*seen));
        for (uint32_t i = 0;; i++) { /* 65537 pieces cannot all differ mod 2^16 */
            const char piece[3] = {ck_alnum[i % 62], ck_alnum[i / 62 % 62], ck_alnum[i / 3844 % 62]};
            uint32_t to = ck_fnv1a32(piece, 3, h), *at = &seen[to & 0xffff];
            if (*at == 0) {
                *at = i + 1;
                continue;
            }
            uint32_t j = *at - 1;
            const char other[3] = {ck_alnum[j % 62], ck_alnum[j / 62 % 62], ck_alnum[j / 3844 % 62]};
            memcpy(pair[step][0], other, 3);
            memcpy(pair[step][1], piece, 3);
            h = to; /* its high bits differ from the other's: they do not matter */
            break;
        }
    }
    free(seen);
    for (size_t i = 0; i < n; i++) {
        for (int step = 0; step < CK_FNV_STEPS; step++)
            memcpy(keys[i] + 3 * step, pair[step][i >> step & 1], 3);
        keys[i][CK_FNV_LEN] = '\0';
    }
    return 0;
}

#endif
