/* phash.c - a set of pointers found by hash (see phash.h). */
#include "base/phash.h"

#include <stdlib.h>
#include <string.h>

void kn_phash_init(kn_phash *t, kn_phash_fn hash)
{
    memset(t, 0, sizeof(*t));
    t->hash = hash;
}

void kn_phash_free(kn_phash *t)
{
    free(t->slots);
    t->slots = NULL;
    t->cap = t->used = 0;
}

static size_t home(const kn_phash *t, const void *item)
{
    return (size_t)t->hash(item) & (t->cap - 1);
}

void *kn_phash_find(const kn_phash *t, uint64_t h, bool (*eq)(const void *item, const void *key), const void *key)
{
    if (t->used == 0)
        return NULL;
    for (size_t i = (size_t)h & (t->cap - 1); t->slots[i] != NULL; i = (i + 1) & (t->cap - 1))
        if (eq(t->slots[i], key)) /* not t->hash: items need not keep theirs */
            return t->slots[i];
    return NULL;
}

static int rehash(kn_phash *t, size_t ncap)
{
    void **old = t->slots;
    size_t ocap = t->cap;
    if ((t->slots = calloc(ncap, sizeof(*t->slots))) == NULL) {
        t->slots = old;
        return -1;
    }
    t->cap = ncap;
    for (size_t i = 0; i < ocap; i++) {
        if (old[i] == NULL)
            continue;
        size_t j = home(t, old[i]);
        while (t->slots[j] != NULL)
            j = (j + 1) & (ncap - 1);
        t->slots[j] = old[i];
    }
    free(old);
    return 0;
}

int kn_phash_add(kn_phash *t, void *item)
{
    if ((t->used + 1) * 4 > t->cap * 3 && rehash(t, t->cap ? t->cap * 2 : 64) != 0)
        return -1;
    size_t i = home(t, item);
    while (t->slots[i] != NULL)
        i = (i + 1) & (t->cap - 1);
    t->slots[i] = item;
    t->used++;
    return 0;
}

void kn_phash_del(kn_phash *t, void *item)
{
    size_t mask = t->cap - 1, i = home(t, item);
    while (t->slots[i] != item)
        i = (i + 1) & mask;
    /* later entries of the run move back where their home allows */
    for (size_t j = i;;) {
        j = (j + 1) & mask;
        if (t->slots[j] == NULL)
            break;
        size_t h = home(t, t->slots[j]);
        if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
            t->slots[i] = t->slots[j];
            i = j;
        }
    }
    t->slots[i] = NULL;
    t->used--;
}
