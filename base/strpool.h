/* strpool.h - strings copied into large blocks and let go of all at once.
 *
 * For many short strings that live and die together (the bindings and events
 * of one scheduling cycle): a copy is a bump of a block's fill, not a malloc,
 * and forgetting them all is one reset, not a free each. A string stays valid
 * until the next kn_strpool_reset or kn_strpool_free. */
#ifndef KN_STRPOOL_H
#define KN_STRPOOL_H

#include <stddef.h>

typedef struct kn_strpool_block kn_strpool_block;

typedef struct kn_strpool {
    kn_strpool_block *first; /* blocks in order of filling */
    kn_strpool_block *cur;   /* the one being filled, or NULL before the first copy */
} kn_strpool;

void kn_strpool_init(kn_strpool *p);
/* A copy of s[0..n) and a NUL in the pool, or NULL out of memory. */
char *kn_strpool_dupn(kn_strpool *p, const char *s, size_t n);
/* The same for a NUL-terminated s. */
char *kn_strpool_dup(kn_strpool *p, const char *s);
/* Forgets every string; keeps the first block for the next ones. */
void kn_strpool_reset(kn_strpool *p);
void kn_strpool_free(kn_strpool *p);

#endif
