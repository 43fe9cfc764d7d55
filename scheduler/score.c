/* score.c - how good a feasible node is, and the node scan.
 *
 * score = (R + w * N) / (1 + w), all terms in 0..100, highest wins, ties go to
 * the node whose name sorts first (deterministic, unlike kube-scheduler's
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
 *     0 when a best-effort pod fits the node but no zone set. */
#include "place.h"

#include <stdlib.h>
#include <string.h>

#define NONZERO_CPU_MILLI 100
#define NONZERO_MEMORY (200LL * 1024 * 1024)

static double resource_score(const kn_node *n, const kn_want *w)
{
    double sum = 0;
    int cnt = 0;
    for (int r = 0; r < KN_RDIM; r++) {
        if (r == KN_R_PODS || r == KN_R_EPHEMERAL)
            continue;
        int64_t req = w->req->v[r];
        if (r == KN_R_CPU && req == 0)
            req = NONZERO_CPU_MILLI;
        else if (r == KN_R_MEMORY && req == 0)
            req = NONZERO_MEMORY;
        else if (r >= KN_R_FIRST_EXT && req == 0)
            continue;
        int64_t alloc = n->alloc.v[r];
        if (alloc <= 0)
            continue;
        double u = (double)(n->used.v[r] + req) / (double)alloc;
        if (u > 1)
            u = 1;
        sum += w->binpack ? 100.0 * u : 100.0 * (1.0 - u);
        cnt++;
    }
    return cnt ? sum / cnt : 0;
}

double kn_score_node(const kn_node *n, const kn_want *w, const kn_choice *ch)
{
    double rs = resource_score(n, w);
    bool numa = w->numa && w->numa->policy != KN_NUMA_NONE;
    return numa ? (rs + ch->numa_score) / 2 : rs;
}

bool kn_place_on_node(const kn_cluster *c, int node, const kn_want *w, kn_choice *ch, kn_diag *d)
{
    const kn_node *n = &c->nodes[node];
    if (!n->live)
        return false;
    d->n_nodes++;
    if (!kn_filter_static(n, w->pod, d) || !kn_filter_resources(c, n, w, d) || !kn_numa_fit(n, w, ch, d))
        return false;
    ch->node = node;
    ch->score = kn_score_node(n, w, ch);
    return true;
}

bool kn_place_best(const kn_cluster *c, const kn_want *w, kn_choice *best, kn_diag *d)
{
    kn_choice ch;
    bool found = false;
    for (int i = 0; i < c->n_nodes; i++) {
        if (!kn_place_on_node(c, i, w, &ch, d))
            continue;
        if (!found || ch.score > best->score ||
            (ch.score == best->score && strcmp(c->nodes[i].name, c->nodes[best->node].name) < 0)) {
            *best = ch;
            found = true;
        }
    }
    return found;
}

int kn_choice_to_alloc(const kn_choice *ch, kn_alloc *a)
{
    a->node = ch->node;
    a->n_zones = 0;
    a->exclusive = ch->exclusive;
    free(a->ztake);
    a->ztake = NULL;
    if (ch->n_zones > 0) {
        a->ztake = malloc(sizeof(kn_rvec) * (size_t)ch->n_zones);
        if (a->ztake == NULL)
            return -1;
        memcpy(a->ztake, ch->ztake, sizeof(kn_rvec) * (size_t)ch->n_zones);
        memcpy(a->zone, ch->zone, sizeof(ch->zone));
        a->n_zones = ch->n_zones;
    }
    return 0;
}
