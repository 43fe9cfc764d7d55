/* hash.h - FNV-1a over a NUL-terminated string, 64 bits: cheap, stable across
 * runs and machines (ids derived from it must not change), not for tables an
 * attacker fills (kn_keyhash in siphash.h is). Chain calls to hash several
 * strings: kn_fnv1a(b, kn_fnv1a(a, KN_FNV1A_BASIS)). A NULL string hashes as
 * empty. */
#ifndef KN_HASH_H
#define KN_HASH_H

#include <stdint.h>

#define KN_FNV1A_BASIS 14695981039346656037ull

static inline uint64_t kn_fnv1a(const char *s, uint64_t h)
{
    for (; s != NULL && *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

#endif
