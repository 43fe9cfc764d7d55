/* score.c - how good a feasible node is.
 *
 * score = (R + w * N) / (1 + w) + 2 * NA + 3 * TT + 2 * I + 2 * S - G,
 * highest wins, ties go to the node whose name sorts first (deterministic,
 * unlike kube-scheduler's random tie-break). R, N, NA, TT, I and S are in
 * 0..100; the weights are those of kube-scheduler's default profile, R
 * standing for NodeResourcesFit (1), NA for NodeAffinity (2), TT for
 * TaintToleration (3), I for InterPodAffinity (2), S for PodTopologySpread (2):
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
 *   NA (preferred node affinity): 100 * (weights of the pod's preferred terms
 *     the node matches) / (the largest such sum over the feasible nodes),
 *     integer division, 0 when that is 0;
 *   TT (PreferNoSchedule taints): 100 - 100 * (taints the pod does not
 *     tolerate) / (the largest such count over the feasible nodes), 100 when
 *     that is 0 (prefer.c);
 *   I, S (InterPodAffinity, PodTopologySpread): kube-scheduler's normalized
 *     scores, with its default weights of 2 (KN_WEIGHT_INTERPOD,
 *     KN_WEIGHT_SPREAD); 0 for a pod without inter-pod terms that no placed
 *     pod's terms select (interpod_affinity.c, topology_spread.c);
 *   G (scarce-resource avoidance): 1001 when the node has allocatable > 0 of
 *     an extended resource (nvidia.com/gpu; not hugepages) the pod does not
 *     request, else 0. Bin-packing would otherwise fill GPU nodes with CPU-only
 *     pods and strand their GPUs for the next GPU job; 1001 is more than the
 *     rest can differ by (0..1000), so every such node ranks below every other
 *     feasible one, yet it only ranks: with no other node feasible the pod
 *     still goes there.
 * NA and TT are the same on every node when the pod has no preferred terms
 * and no node has a PreferNoSchedule taint: then they are left out (the
 * ranking is the same). Otherwise the rest of the score is rounded to a
 * multiple of 2^-40 first (fit_plan.c), so that adding them is exact.
 * NA, TT, I and S depend on the feasible nodes as a whole, so they are added
 * by the placer (placer.c, place_index.c, relplace.c): kn_fit_and_score
 * gives the rest (kn_place_on_node adds I and S as for a lone feasible node). */
#include "scheduler/place/place.h"
#include "scheduler/place/volumes.h"

#include <stdlib.h>
#include <string.h>

double kn_score_node(const kn_cluster *c, const kn_node *n, const kn_want *w, const kn_choice *ch)
{
    kn_fit_plan p;
    kn_fit_plan_init(c, w, &p);
    return kn_plan_score(n, &p, ch->numa_score);
}

bool kn_filter_changing(const kn_cluster *c, const kn_node *n, const kn_want *w, kn_choice *ch, kn_diag *d)
{
    if (!kn_ports_fit(n, w->pod)) {
        kn_diag_add(d, KN_REASON_PORTS);
        return false;
    }
    return kn_filter_resources(c, n, w, d) && kn_numa_fit(n, w, ch, d) &&
           (w->vol == NULL || kn_vol_filter(c, (int)(n - c->nodes), w->vol, d));
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
    if (!kn_numa_fit(n, w, ch, &scratch) || (w->vol != NULL && !kn_vol_dynamic_ok(c, node, w->vol)))
        return false;
    ch->node = node;
    ch->score = kn_plan_score(n, &p, ch->numa_score);
    return true;
}
