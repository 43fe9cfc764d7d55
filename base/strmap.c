#include "base/strmap.h"

#include <stdlib.h>
#include <string.h>

#include "base/siphash.h"

static const char tomb_;
#define TOMB (&tomb_)

/* Keyed: node, pod, gang and namespace names and constraint signatures come
 * from the API server, which takes them from its users. */
static uint32_t hash_str(const char *s)
{
    return (uint32_t)kn_keyhash_str(s);
}

void kn_strmap_init(kn_strmap *m)
{
    memset(m, 0, sizeof(*m));
}

void kn_strmap_free(kn_strmap *m)
{
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

static size_t find(const kn_strmap *m, const char *key, uint32_t h, int *found)
{
    size_t mask = m->cap - 1, i = h & mask, first_tomb = (size_t)-1;
    for (;;) {
        const kn_strmap_slot *s = &m->slots[i];
        if (s->key == NULL) {
            *found = 0;
            return first_tomb != (size_t)-1 ? first_tomb : i;
        }
        if (s->key == TOMB) {
            if (first_tomb == (size_t)-1)
                first_tomb = i;
        } else if (s->hash == h && strcmp(s->key, key) == 0) {
            *found = 1;
            return i;
        }
        i = (i + 1) & mask;
    }
}

int kn_strmap_get(const kn_strmap *m, const char *key)
{
    if (m->cap == 0 || key == NULL)
        return -1;
    int found;
    size_t i = find(m, key, hash_str(key), &found);
    return found ? m->slots[i].value : -1;
}

static int grow(kn_strmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16;
    if (m->used < m->cap / 4) /* mostly tombstones: rehash at the same size */
        ncap = m->cap;
    kn_strmap_slot *ns = calloc(ncap, sizeof(*ns));
    if (ns == NULL)
        return -1;
    kn_strmap old = *m;
    m->slots = ns;
    m->cap = ncap;
    m->used = 0;
    m->tombs = 0;
    for (size_t i = 0; i < old.cap; i++) {
        kn_strmap_slot *s = &old.slots[i];
        if (s->key == NULL || s->key == TOMB)
            continue;
        int found;
        size_t j = find(m, s->key, s->hash, &found);
        m->slots[j] = *s;
        m->used++;
    }
    free(old.slots);
    return 0;
}

int kn_strmap_put(kn_strmap *m, const char *key, int value)
{
    if ((m->used + m->tombs + 1) * 4 > m->cap * 3 && grow(m) != 0)
        return -1;
    uint32_t h = hash_str(key);
    int found;
    size_t i = find(m, key, h, &found);
    kn_strmap_slot *s = &m->slots[i];
    if (!found) {
        if (s->key == TOMB)
            m->tombs--;
        m->used++;
    }
    s->key = key;
    s->hash = h;
    s->value = value;
    return 0;
}

void kn_strmap_del(kn_strmap *m, const char *key)
{
    if (m->cap == 0 || key == NULL)
        return;
    int found;
    size_t i = find(m, key, hash_str(key), &found);
    if (!found)
        return;
    m->slots[i].key = TOMB;
    m->used--;
    m->tombs++;
}
