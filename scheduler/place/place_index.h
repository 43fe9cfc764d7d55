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
 * Only placer.c calls this. */
#ifndef KN_PLACE_INDEX_H
#define KN_PLACE_INDEX_H

#include "scheduler/place/place.h"

struct kn_place_index;

/* One feasible node of a kind: its score (for a pod holding no zone), the
 * rank of its name among the nodes (ties go to the lower), the node. */
typedef struct kn_pent {
    double score;
    int rank;
    int node;
} kn_pent;

/* 1 with *best filled (as kn_place_on_node would fill it for that node),
 * 0 when no node fits (the caller diagnoses), -1 when the index cannot answer
 * (out of memory, or the pod is not indexable): the caller scans. */
int kn_pindex_best(kn_cluster *c, struct kn_place_index **ix, const kn_want *w, const kn_pod_kind *kind,
                   kn_choice *best);
void kn_pindex_free(struct kn_place_index *ix);

/* Pods whose inter-pod terms move scores by more than their own nodes
 * (relplace.c) read a kind node by node: every entry exact (scores before
 * the preferences and the inter-pod part), valid until the cluster or the
 * index changes. NULL when the index cannot answer (as kn_pindex_best). */
struct kn_pkind;
struct kn_pkind *kn_pindex_exact(kn_cluster *c, struct kn_place_index **ix, const kn_want *w,
                                 const kn_pod_kind *kind);
/* Every node that fits, in no particular order, into out (room for
 * kn_pkind_size); returns how many. */
int kn_pkind_entries(const struct kn_pkind *k, kn_pent *out);
/* Whether node fits the kind, and its entry (score, name rank). */
bool kn_pkind_fits(const struct kn_pkind *k, int node, kn_pent *e);
int kn_pkind_size(const struct kn_pkind *k); /* nodes that fit */
/* How many nodes that fit each domain of km holds ([km->n_dom]: those without
 * the key), kept current from then on; NULL out of memory. */
const int32_t *kn_pkind_domain_counts(struct kn_pkind *k, const kn_keymap *km);
/* The nodes that fit, best first (score, then name; preferences left out),
 * one step at a time. */
typedef struct kn_pwpos {
    int b, pos; /* a bucket's heap, a place in it */
} kn_pwpos;
typedef struct kn_pwalk {
    const struct kn_pkind *k;
    kn_pwpos *front;
    int n, cap;
    bool oom;
} kn_pwalk;
void kn_pwalk_init(kn_pwalk *it, const struct kn_pkind *k);
bool kn_pwalk_next(kn_pwalk *it, kn_pent *e);
void kn_pwalk_free(kn_pwalk *it);

#endif
