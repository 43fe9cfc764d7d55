/* strmap.h - string -> int index, open addressing with tombstones.
 *
 * Keys are NOT copied: a key must stay valid (and unchanged) while it is in
 * the map; the cluster points them at strings owned by the records the index
 * values refer to. Lookups and updates are O(1) on average, whatever the
 * keys: they are hashed under the process's secret key (siphash.h), and the
 * live and deleted slots stay under three quarters of the table. */
#ifndef KN_STRMAP_H
#define KN_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct kn_strmap_slot {
    const char *key; /* NULL = empty; KN_STRMAP_TOMB = deleted */
    uint32_t hash;
    int value;
} kn_strmap_slot;

typedef struct kn_strmap {
    kn_strmap_slot *slots;
    size_t cap, used, tombs; /* cap is a power of two (or 0) */
} kn_strmap;

void kn_strmap_init(kn_strmap *m);
void kn_strmap_free(kn_strmap *m);
/* value, or -1 if absent */
int kn_strmap_get(const kn_strmap *m, const char *key);
/* inserts or replaces; 0 ok, -1 out of memory */
int kn_strmap_put(kn_strmap *m, const char *key, int value);
void kn_strmap_del(kn_strmap *m, const char *key);

#endif
