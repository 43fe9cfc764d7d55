/* prefer.c - the scoring preferences of kube-scheduler's default profile
 * that a pod states: NodeAffinity's score (weight 2) and TaintToleration's
 * (weight 3); see place.h and the formula at the top of score.c.
 *
 *  NodeAffinity: the sum of the weights of the pod's
 *    preferredDuringSchedulingIgnoredDuringExecution terms the node matches
 *    (terms of weight 0 or with no requirement count for nothing), normalized
 *    over the feasible nodes: 100 * sum / largest sum.
 *  TaintToleration: the node's PreferNoSchedule taints that no toleration of
 *    the pod with an empty or PreferNoSchedule effect tolerates, normalized
 *    in reverse: 100 - 100 * count / largest count (100 when no feasible node
 *    has one).
 * Both as kube-scheduler's DefaultNormalizeScore, integer division included. */
#include "scheduler/place/place.h"

#include <string.h>

#define MAX_NODE_SCORE 100
#define WEIGHT_NODE_AFFINITY 2
#define WEIGHT_TAINT_TOLERATION 3
/* a sum that cannot overflow 100 * sum, whatever the weights sent */
#define AFFINITY_SUM_MAX ((int64_t)1 << 40)

bool kn_want_prefers(const kn_cluster *c, const kn_want *w)
{
    return c->n_prefer_no_schedule > 0 || (w->pod != NULL && w->pod->preferred_affinity != NULL);
}

void kn_prefs_of_node(const kn_node *n, const kn_constraints *pod, kn_prefs *out)
{
    out->affinity = 0;
    out->taints = 0;
    const kn_json *terms = pod ? pod->preferred_affinity : NULL;
    for (size_t i = 0; i < kn_json_len(terms); i++) {
        const kn_json *t = kn_json_at(terms, i);
        int64_t weight;
        /* the API server admits 1..100; anything else scores nothing */
        if (kn_json_int(kn_json_get(t, "weight"), &weight) != 0 || weight <= 0 || weight > INT32_MAX)
            continue;
        if (kn_node_matches_term(n, kn_json_get(t, "preference")))
            out->affinity = out->affinity + weight < AFFINITY_SUM_MAX ? out->affinity + weight : AFFINITY_SUM_MAX;
    }
    for (int i = 0; n->prefer_no_schedule && i < n->n_taints; i++) {
        const kn_taint *t = &n->taints[i];
        if (strcmp(t->effect, "PreferNoSchedule") == 0 && !kn_pod_tolerates(pod, t->key, t->value, t->effect))
            out->taints++;
    }
}

int64_t kn_normalize_score(int64_t v, int64_t max, bool reverse)
{
    if (max == 0)
        return reverse ? MAX_NODE_SCORE : v;
    int64_t s = MAX_NODE_SCORE * v / max;
    return reverse ? MAX_NODE_SCORE - s : s;
}

double kn_prefs_score(const kn_prefs *node, const kn_prefs *max)
{
    return (double)(WEIGHT_NODE_AFFINITY * kn_normalize_score(node->affinity, max->affinity, false) +
                    WEIGHT_TAINT_TOLERATION * kn_normalize_score(node->taints, max->taints, true));
}
