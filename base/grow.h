/* grow.h - the one way an array grows: kn_grow(&items, &cap, need, size)
 * makes room for at least `need` elements, doubling (from 8) so that n
 * appends cost O(n). 0, or -1 (out of memory, or a size that would
 * overflow) with the array untouched.
 *
 *   if (kn_grow((void **)&c->nodes, &c->cap_nodes, c->n_nodes + 1, sizeof(*c->nodes)) != 0)
 *       return -1;
 *   c->nodes[c->n_nodes++] = node; */
#ifndef KN_GROW_H
#define KN_GROW_H

#include <stddef.h>

int kn_grow(void **items, size_t *cap, size_t need, size_t size);

#endif
