/* fit_plan.c - a want's fit and score worked out once for many nodes (see
 * kn_fit_plan in place.h). The formula is score.c's (top of that file); the
 * sums run over the same resources in the same order as reading the want for
 * every node did, so a node's score is the same double. */
#include "scheduler/place/place.h"

#define NONZERO_CPU_MILLI 100
#define NONZERO_MEMORY (200LL * 1024 * 1024)
#define STRAND_PENALTY 1001.0 /* above the most the rest can differ by: score.c */
/* x + ROUNDER - ROUNDER rounds x (|x| < 2048) to a multiple of 2^-40: the sum
 * lies in [2^12, 2^13), where doubles are 2^-40 apart (IEEE double
 * arithmetic, as on x86-64 and arm64; no -ffast-math). */
#define ROUNDER 6144.0

void kn_fit_plan_init(const kn_cluster *c, const kn_want *w, kn_fit_plan *p)
{
    p->w = w;
    p->unfit = w->unfit_name != NULL;
    p->numa = w->numa && w->numa->policy != KN_NUMA_NONE;
    p->ports = w->pod != NULL && w->pod->n_host_ports > 0;
    p->screen = p->unfit || p->ports;
    p->prefer = kn_want_prefers(c, w);
    p->n_need = p->n_scored = p->n_strand = 0;
    /* resources past c->n_res are requested by no pod and held by no node */
    for (int r = 0; r < c->n_res; r++) {
        int64_t req = w->req->v[r];
        if (req > 0) {
            p->need_r[p->n_need] = r;
            p->need[p->n_need++] = req;
        }
        if (r == KN_R_PODS || r == KN_R_EPHEMERAL)
            continue;
        if (r == KN_R_CPU && req == 0) {
            req = NONZERO_CPU_MILLI;
        } else if (r == KN_R_MEMORY && req == 0) {
            req = NONZERO_MEMORY;
        } else if (r >= KN_R_FIRST_EXT && req == 0) {
            if (c->ext_mask >> r & 1u) /* offered by a node, it would be stranded */
                p->strand_r[p->n_strand++] = r;
            continue;
        }
        p->scored_r[p->n_scored] = r;
        p->scored_req[p->n_scored++] = req;
    }
    kn_numa_req_of(w, &p->q);
}

bool kn_plan_resources_fit(const kn_node *n, const kn_fit_plan *p)
{
    if (p->screen && (p->unfit || !kn_ports_fit(n, p->w->pod)))
        return false;
    for (int i = 0; i < p->n_need; i++) {
        int r = p->need_r[i];
        int64_t room = n->n_exclusive > 0 ? kn_node_free_dim(n, p->w->owner, r) : n->alloc.v[r] - n->used.v[r];
        if (p->need[i] > room)
            return false;
    }
    return true;
}

double kn_plan_score(const kn_node *n, const kn_fit_plan *p, double numa_score)
{
    double sum = 0;
    int cnt = 0;
    for (int i = 0; i < p->n_scored; i++) {
        int r = p->scored_r[i];
        int64_t alloc = n->alloc.v[r];
        if (alloc <= 0)
            continue;
        double u = (double)(n->used.v[r] + p->scored_req[i]) / (double)alloc;
        if (u > 1)
            u = 1;
        sum += p->w->binpack ? 100.0 * u : 100.0 * (1.0 - u);
        cnt++;
    }
    double rs = cnt ? sum / cnt : 0;
    double s = p->numa ? (rs + numa_score) / 2 : rs;
    for (int i = 0; i < p->n_strand; i++)
        if (n->alloc.v[p->strand_r[i]] > 0) {
            s -= STRAND_PENALTY;
            break;
        }
    /* Rounded, whole preference scores (integers up to 500) add to it
     * exactly: s1 > s2 still holds after both gain the same amount, which the
     * place index relies on when it ranks nodes before the preferences are
     * known (place_index.c). */
    return p->prefer ? (s + ROUNDER) - ROUNDER : s;
}

bool kn_fit_score(const kn_cluster *c, int node, const kn_fit_plan *p, double *score)
{
    const kn_node *n = &c->nodes[node];
    double numa_score = 0;
    if (!kn_plan_resources_fit(n, p) || !kn_numa_score(n, p->w, &p->q, &numa_score))
        return false;
    *score = kn_plan_score(n, p, numa_score);
    return true;
}
