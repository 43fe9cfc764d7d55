/* place_index.h - the best node for a kind of pod, kept up to date as the
 * cluster changes, instead of a scan of every node for every pod.
 *
 * Kinds are kn_pod_kind (place.h). Per kind the index holds, for every node,
 * whether it passes the static filters, whether the pod fits now and its
 * score, and a max-heap of (score, node name) over the feasible nodes.
 * kn_alloc_take / kn_alloc_release log the node they changed (c->chlog); a
 * kind re-evaluates only the nodes logged since its last use (stale heap
 * entries are dropped when they surface), so a placement costs a few node
 * evaluations however many nodes the cluster has. Any node or topology
 * change (c->node_gen), or more changes than the log holds, rebuilds a kind
 * from a scan of every node. The answer is exactly the full scan's: the
 * feasible node with the highest score, ties to the first name; scoring
 * preferences, normalized over the feasible nodes, are kept exact with one
 * heap per distinct raw values (place_index.c).
 * Only placer.c's kn_place_best calls this. */
#ifndef KN_PLACE_INDEX_H
#define KN_PLACE_INDEX_H

#include "scheduler/place/place.h"

struct kn_place_index;

/* 1 with *best filled (as kn_place_on_node would fill it for that node),
 * 0 when no node fits (the caller diagnoses), -1 when the index cannot answer
 * (out of memory, or the pod is not indexable): the caller scans. */
int kn_pindex_best(kn_cluster *c, struct kn_place_index **ix, const kn_want *w, const kn_pod_kind *kind,
                   kn_choice *best);
void kn_pindex_free(struct kn_place_index *ix);

#endif
