/* imap.h - uint32 -> int32 map, open addressing with linear probing and
 * backward-shift deletion (no tombstones).
 *
 * For tables keyed by numbers this process hands out itself (node indices,
 * interned-string ids, topology domain indices), never by bytes a sender
 * picks: the hash is a plain multiply, which is only safe because nobody
 * outside chooses the keys. Key UINT32_MAX is reserved (the empty slot).
 * Walk the entries with kn_imap_next(); their order is the table's, so a
 * caller that lets an order show sorts what it collected. */
#ifndef KN_IMAP_H
#define KN_IMAP_H

#include <stddef.h>
#include <stdint.h>

#define KN_IMAP_EMPTY UINT32_MAX

typedef struct kn_imap_slot {
    uint32_t key;
    int32_t val;
} kn_imap_slot;

typedef struct kn_imap {
    kn_imap_slot *slots;
    uint32_t cap, used; /* cap a power of two (or 0) */
} kn_imap;

void kn_imap_init(kn_imap *m);
void kn_imap_free(kn_imap *m);
void kn_imap_clear(kn_imap *m); /* empties, keeps the memory */

/* The value, or dflt when absent. */
static inline int32_t kn_imap_get(const kn_imap *m, uint32_t key, int32_t dflt)
{
    if (m->used == 0)
        return dflt;
    uint32_t mask = m->cap - 1, i = (key * 2654435761u) & mask;
    for (;; i = (i + 1) & mask) {
        if (m->slots[i].key == key)
            return m->slots[i].val;
        if (m->slots[i].key == KN_IMAP_EMPTY)
            return dflt;
    }
}

/* Inserts or replaces: 0, or -1 out of memory (the map unchanged). */
int kn_imap_put(kn_imap *m, uint32_t key, int32_t val);
/* Adds delta to key's value (absent counts as 0); an entry that reaches 0 is
 * removed. Returns the new value in *now (may be NULL); 0, or -1 out of memory. */
int kn_imap_add(kn_imap *m, uint32_t key, int32_t delta, int32_t *now);
void kn_imap_del(kn_imap *m, uint32_t key);
/* Iteration: start with *pos = 0; returns the next slot or NULL at the end. */
const kn_imap_slot *kn_imap_next(const kn_imap *m, uint32_t *pos);

#endif
