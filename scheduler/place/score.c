/* score.c - how good a feasible node is, and every filter and the score on one node.
 *
 * score = (R + w * N) / (1 + w) - G, R and N in 0..100, highest wins, ties go
 * to the node whose name sorts first (deterministic, unlike kube-scheduler's
 * random tie-break):
 *   R (resources), over cpu, memory and every extended resource the pod requests,
 *     averaged; u_r = (used_r + req_r) / allocatable_r on the node:
 *       gang and batch pods (bin-packing, kube-scheduler's MostAllocated): 100 * u_r
 *       other pods (spreading, LeastAllocated):                          100 * (1 - u_r)
 *     a zero cpu / memory request counts as 100m / 200Mi, as kube-scheduler does;
 *   N (NUMA fit quality), only when the pod has a NUMA policy (w = 1, else 0):
 *       (2 * A + T) / 3, A = 100 * (zones on node - zones used) / (zones on node - 1)
 *       (100 with one zone), T = 100 * (1 - mean over resources of
 *       (free in the chosen zones - request) / allocatable of those zones);
 *     0 when a best-effort pod fits the node but no zone set;
 *   G (scarce-resource avoidance): 101 when the node has allocatable > 0 of an
 *     extended resource (nvidia.com/gpu; not hugepages) the pod does not
 *     request, else 0. Bin-packing would otherwise fill GPU nodes with CPU-only
 *     pods and strand their GPUs for the next GPU job; 101 puts every such node
 *     (-101..-1) below every other feasible one (0..100), yet it only ranks:
 *     with no other node feasible the pod still goes there. */
#include "scheduler/place/place.h"

#include <stdlib.h>
#include <string.h>

double kn_score_node(const kn_cluster *c, const kn_node *n, const kn_want *w, const kn_choice *ch)
{
    kn_fit_plan p;
    kn_fit_plan_init(c, w, &p);
    return kn_plan_score(n, &p, ch->numa_score);
}

bool kn_place_on_node(const kn_cluster *c, int node, const kn_want *w, kn_choice *ch, kn_diag *d)
{
    const kn_node *n = &c->nodes[node];
    if (!n->live)
        return false;
    d->n_nodes++;
    if (!kn_filter_static(n, w->pod, d))
        return false;
    if (!kn_ports_fit(n, w->pod)) {
        kn_diag_add(d, KN_REASON_PORTS);
        return false;
    }
    if (!kn_filter_resources(c, n, w, d) || !kn_numa_fit(n, w, ch, d))
        return false;
    ch->node = node;
    ch->score = kn_score_node(c, n, w, ch);
    return true;
}

bool kn_fit_and_score(const kn_cluster *c, int node, const kn_want *w, kn_choice *ch)
{
    const kn_node *n = &c->nodes[node];
    kn_fit_plan p;
    kn_fit_plan_init(c, w, &p);
    if (!kn_plan_resources_fit(n, &p))
        return false;
    kn_diag scratch;
    kn_diag_init(&scratch);
    if (!kn_numa_fit(n, w, ch, &scratch))
        return false;
    ch->node = node;
    ch->score = kn_plan_score(n, &p, ch->numa_score);
    return true;
}
