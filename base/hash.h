/* hash.h - FNV-1a over a NUL-terminated string, 64 bits: cheap, stable across
 * runs and machines (ids derived from it must not change), not for tables an
 * attacker fills (kn_keyhash in siphash.h is). Chain calls to hash several
 * strings: kn_fnv1a(b, kn_fnv1a(a, KN_FNV1A_BASIS)). A NULL string hashes as
 * empty. */
#ifndef KN_HASH_H
#define KN_HASH_H

#include <stdint.h>

#define KN_FNV1A_BASIS 14695981039346656037ull

/* One step: a byte into h; also mixes a whole number (a separator, a count)
 * into a hash of several parts. */
static inline uint64_t kn_fnv1a_step(uint64_t h, uint64_t v)
{
    return (h ^ v) * 1099511628211ull;
}

static inline uint64_t kn_fnv1a(const char *s, uint64_t h)
{
    for (; s != NULL && *s; s++)
        h = kn_fnv1a_step(h, (unsigned char)*s);
    return h;
}

#endif
