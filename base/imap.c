/* imap.c - uint32 -> int32 open-addressing map (see imap.h). */
#include "base/imap.h"

#include <stdlib.h>
#include <string.h>

void kn_imap_init(kn_imap *m)
{
    memset(m, 0, sizeof(*m));
}

void kn_imap_free(kn_imap *m)
{
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

void kn_imap_clear(kn_imap *m)
{
    for (uint32_t i = 0; i < m->cap; i++)
        m->slots[i].key = KN_IMAP_EMPTY;
    m->used = 0;
}

static uint32_t home(uint32_t key, uint32_t mask)
{
    return (key * 2654435761u) & mask;
}

static int rehash(kn_imap *m, uint32_t ncap)
{
    kn_imap_slot *ns = malloc(sizeof(*ns) * ncap);
    if (ns == NULL)
        return -1;
    for (uint32_t i = 0; i < ncap; i++)
        ns[i].key = KN_IMAP_EMPTY;
    for (uint32_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key == KN_IMAP_EMPTY)
            continue;
        uint32_t j = home(m->slots[i].key, ncap - 1);
        while (ns[j].key != KN_IMAP_EMPTY)
            j = (j + 1) & (ncap - 1);
        ns[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return 0;
}

/* The slot of key, or of the empty slot where it would go. */
static uint32_t find(const kn_imap *m, uint32_t key)
{
    uint32_t mask = m->cap - 1, i = home(key, mask);
    while (m->slots[i].key != key && m->slots[i].key != KN_IMAP_EMPTY)
        i = (i + 1) & mask;
    return i;
}

int kn_imap_put(kn_imap *m, uint32_t key, int32_t val)
{
    if (key == KN_IMAP_EMPTY)
        return -1;
    if ((m->used + 1) * 4 > m->cap * 3 && rehash(m, m->cap ? m->cap * 2 : 4) != 0)
        return -1;
    uint32_t i = find(m, key);
    if (m->slots[i].key == KN_IMAP_EMPTY) {
        m->slots[i].key = key;
        m->used++;
    }
    m->slots[i].val = val;
    return 0;
}

/* Removes slot i, moving later entries of the run back so lookups still find them. */
static void remove_at(kn_imap *m, uint32_t i)
{
    uint32_t mask = m->cap - 1, j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (m->slots[j].key == KN_IMAP_EMPTY)
            break;
        uint32_t h = home(m->slots[j].key, mask);
        /* j's entry may move to i when its home is not within (i, j] */
        if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].key = KN_IMAP_EMPTY;
    m->used--;
}

void kn_imap_del(kn_imap *m, uint32_t key)
{
    if (m->used == 0)
        return;
    uint32_t i = find(m, key);
    if (m->slots[i].key == key)
        remove_at(m, i);
}

int kn_imap_add(kn_imap *m, uint32_t key, int32_t delta, int32_t *now)
{
    if (m->cap > 0) {
        uint32_t i = find(m, key);
        if (m->slots[i].key == key) {
            int32_t v = m->slots[i].val + delta;
            if (now)
                *now = v;
            if (v == 0)
                remove_at(m, i);
            else
                m->slots[i].val = v;
            return 0;
        }
    }
    if (now)
        *now = delta;
    return delta == 0 ? 0 : kn_imap_put(m, key, delta);
}

const kn_imap_slot *kn_imap_next(const kn_imap *m, uint32_t *pos)
{
    for (; *pos < m->cap; (*pos)++)
        if (m->slots[*pos].key != KN_IMAP_EMPTY)
            return &m->slots[(*pos)++];
    return NULL;
}
