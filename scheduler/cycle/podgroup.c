/* podgroup.c - gangs named by a PodGroup (see core.h).
 *
 * A pod naming a PodGroup the scheduler does not know waits, as the
 * coscheduling plugin keeps it unschedulable (its Permit answers "PodGroup
 * not found"): the PodGroup may be created after its pods, or its CRD
 * installed later (the watch looks for it again). The gang's size is the
 * PodGroup's minMember, read at every attempt, so an edited PodGroup counts.
 *
 * minResources, as coscheduling's PreFilter checks it: until the gang has
 * run once, it is attempted only when the free room of the cluster, summed
 * over nodes (allocatable less everything counted there: bound and assumed
 * pods, held executor slots; the gang's own placed pods count as free),
 * holds spec.minResources and minMember pod slots. Unlike coscheduling, nodes
 * that take no pod (not Ready, or cordoned) are left out of the sum, so a
 * gang that passes could fit on nodes that exist. The check only keeps a
 * gang from being tried while it cannot fit; the placement itself decides. */
#include "scheduler/cycle/core.h"

#include <stdio.h>
#include <string.h>

/* Room that spec.minResources lacks in the cluster's free room; true if none. */
static bool min_resources_fit(const kn_scheduler *s, const kn_gangrec *g, const kn_pgrec *pg, kn_rvec *gap)
{
    const kn_cluster *c = &s->c;
    int64_t sum[KN_RDIM] = {0};
    for (int i = 0; i < c->n_nodes; i++) {
        const kn_node *n = &c->nodes[i];
        if (!n->live || !n->ready || n->unschedulable)
            continue;
        for (int r = 0; r < c->n_res; r++)
            sum[r] += n->alloc.v[r] - n->used.v[r];
    }
    for (int m = 0; m < g->n; m++) {
        const kn_cpod *p = &c->pods[g->members[m]];
        if (p->state == KN_POD_PENDING || p->alloc.node < 0)
            continue;
        const kn_node *n = &c->nodes[p->alloc.node];
        if (n->live && n->ready && !n->unschedulable)
            for (int r = 0; r < c->n_res; r++)
                sum[r] += p->alloc.req.v[r];
    }
    bool fits = true;
    memset(gap, 0, sizeof(*gap));
    for (int r = 0; r < c->n_res; r++)
        if (pg->min_res.v[r] > sum[r]) {
            gap->v[r] = pg->min_res.v[r] - (sum[r] > 0 ? sum[r] : 0);
            fits = false;
        }
    return fits;
}

bool kn_podgroup_gate(kn_scheduler *s, kn_gangrec *g, char *msg, size_t cap)
{
    if (g->kind == KN_GANG_LABELS)
        return true;
    const kn_pgrec *pg = kn_cluster_podgroup(&s->c, g->kind, g->ns, g->name);
    if (pg == NULL) {
        snprintf(msg, cap, "PodGroup %s (%s) not found; the gang's pods wait until it is created", g->key,
                 kn_gang_kind_api(g->kind));
        return false;
    }
    if (pg->bad != NULL) {
        snprintf(msg, cap, "%s", pg->bad);
        return false;
    }
    g->min_available = pg->min_member;
    kn_rvec gap;
    if (!pg->has_min_res || g->placed || min_resources_fit(s, g, pg, &gap))
        return true;
    char short_of[512];
    kn_fmt_req(&s->c, &gap, short_of, sizeof(short_of));
    size_t len = strlen(short_of);
    if (gap.v[KN_R_PODS] > 0 && len < sizeof(short_of))
        snprintf(short_of + len, sizeof(short_of) - len, "%spods %lld", len ? ", " : "",
                 (long long)gap.v[KN_R_PODS]);
    snprintf(msg, cap,
             "PodGroup %s (%s): the cluster's free room is short of %s for spec.minResources and "
             "minMember %d; the gang is not attempted until room frees up",
             g->key, kn_gang_kind_api(g->kind), short_of, pg->min_member);
    return false;
}
