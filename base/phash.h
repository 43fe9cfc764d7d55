/* phash.h - a set of pointers found by a 64-bit hash: the interning tables
 * (label sets, pod relations; one per pod, so neither the items nor the
 * slots keep a hash).
 *
 * Open addressing with linear probing and backward-shift deletion, at most
 * three quarters full. The caller hashes (with kn_keyhash when a sender
 * picks the bytes) and says how an item's hash is computed again (rehashing
 * and deletion need it) and when an item is the one looked for (a lookup
 * asks that of each item it passes). */
#ifndef KN_PHASH_H
#define KN_PHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t (*kn_phash_fn)(const void *item);

typedef struct kn_phash {
    void **slots;
    size_t cap, used; /* cap a power of two (or 0) */
    kn_phash_fn hash;
} kn_phash;

void kn_phash_init(kn_phash *t, kn_phash_fn hash);
void kn_phash_free(kn_phash *t); /* the table, not the items */
/* The item with hash h for which eq(item, key) holds, or NULL. */
void *kn_phash_find(const kn_phash *t, uint64_t h, bool (*eq)(const void *item, const void *key), const void *key);
/* Adds item (not in the table): 0, or -1 out of memory. */
int kn_phash_add(kn_phash *t, void *item);
/* Removes item (in the table). */
void kn_phash_del(kn_phash *t, void *item);
/* Every item: slots[0..cap) that are not NULL. */

#endif
