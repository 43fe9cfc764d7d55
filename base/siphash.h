/* siphash.h - SipHash-1-3, and the keyed hash for tables that senders fill.
 *
 * A hash table whose keys come from the network (JSON object keys, label
 * keys and values, pod, node and namespace names) must not let the sender
 * pick keys that share a slot: with an unkeyed hash (FNV, a fixed multiply)
 * such keys are computed offline, and a table of n of them costs n^2 probes
 * to fill. kn_keyhash() is SipHash-1-3 (Aumasson and Bernstein's keyed
 * pseudorandom function, one compression round per 8-byte block and three
 * finalization rounds) under a 128-bit key drawn once per process from the
 * kernel; without the key, which keys collide cannot be told.
 *
 * Contract:
 *  - kn_keyhash(p, n) depends on the n bytes at p only (NUL bytes count),
 *    and is the same for the same bytes for the life of the process.
 *  - It differs from one process to the next: never store it, send it, or
 *    let it decide an order anyone sees (walk a table's entries in the order
 *    they were added, not in slot order).
 *  - Thread-safe. The key is drawn on the first call: getrandom(), else
 *    /dev/urandom, else (neither available) a mix of clocks, pid and
 *    addresses. It never fails and never aborts.
 *  - kn_siphash13() is the same function under a key of the caller's. */
#ifndef KN_SIPHASH_H
#define KN_SIPHASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct kn_sipkey {
    uint64_t k0, k1; /* the key's bytes 0-7 and 8-15, read little-endian */
} kn_sipkey;

uint64_t kn_siphash13(const kn_sipkey *key, const void *p, size_t n);

/* SipHash-1-3 of the n bytes at p under this process's secret key. */
uint64_t kn_keyhash(const void *p, size_t n);

static inline uint64_t kn_keyhash_str(const char *s)
{
    return kn_keyhash(s, strlen(s));
}

#endif
