/* strpool.c - strings in large blocks, let go of all at once (see strpool.h). */
#include "base/strpool.h"

#include <stdlib.h>
#include <string.h>

/* Small enough to fit the holes other frees leave in the heap: larger blocks
 * would make it grow instead. */
#define KN_STRPOOL_BLOCK (4 * 1024)

struct kn_strpool_block {
    kn_strpool_block *next;
    size_t cap, used;
    char data[];
};

void kn_strpool_init(kn_strpool *p)
{
    p->first = NULL;
    p->cur = NULL;
}

/* A block with room for need bytes: the current one, or a new one after it
 * (a string longer than a block gets a block of its own size). */
static kn_strpool_block *room(kn_strpool *p, size_t need)
{
    kn_strpool_block *b = p->cur;
    if (b != NULL && b->cap - b->used >= need)
        return b;
    size_t cap = need > KN_STRPOOL_BLOCK ? need : KN_STRPOOL_BLOCK;
    kn_strpool_block *nb = malloc(sizeof(*nb) + cap);
    if (nb == NULL)
        return NULL;
    nb->next = NULL;
    nb->cap = cap;
    nb->used = 0;
    if (b != NULL)
        b->next = nb;
    else
        p->first = nb;
    p->cur = nb;
    return nb;
}

char *kn_strpool_dupn(kn_strpool *p, const char *s, size_t n)
{
    kn_strpool_block *b = room(p, n + 1);
    if (b == NULL)
        return NULL;
    char *at = b->data + b->used;
    memcpy(at, s, n);
    at[n] = '\0';
    b->used += n + 1;
    return at;
}

char *kn_strpool_dup(kn_strpool *p, const char *s)
{
    return kn_strpool_dupn(p, s, strlen(s));
}

static void free_blocks(kn_strpool_block *b)
{
    while (b != NULL) {
        kn_strpool_block *next = b->next;
        free(b);
        b = next;
    }
}

void kn_strpool_reset(kn_strpool *p)
{
    if (p->first == NULL)
        return;
    free_blocks(p->first->next);
    p->first->next = NULL;
    p->first->used = 0;
    p->cur = p->first;
}

void kn_strpool_free(kn_strpool *p)
{
    free_blocks(p->first);
    kn_strpool_init(p);
}
