/* explain.c - why a pending pod does not go to each node, one node at a time
 * (see scheduler.h, kn_sched_explain): what `simulate` shows for an
 * application that would wait. The cycle's FailedScheduling counts the same
 * reasons over all nodes; here each node keeps its own. */
#include "scheduler/cycle/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The reasons a diagnosis of one node holds, joined. */
static void reasons(const kn_diag *d, char *buf, size_t cap)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < d->n && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%s", i ? ", " : "", d->r[i].reason);
}

/* With the driver placed on node ni as ch says, can one executor slot join it there? */
static bool slot_beside(kn_scheduler *s, const kn_cpod *p, int ni, const kn_choice *ch, char *why, size_t cap)
{
    kn_resv_spec rs;
    kn_err e;
    if (kn_resv_spec_parse(&s->c, p, p->d, &rs, &e) != 0) {
        snprintf(why, cap, "annotation %s: %s", KN_EXECUTOR_RESERVATION_ANNOTATION, e.msg);
        return false;
    }
    kn_alloc a = {.node = -1};
    bool ok = rs.count == 0;
    if (!ok && kn_choice_to_alloc(ch, &a) == 0) {
        a.req = p->alloc.req;
        a.owner = (int)(p - s->c.pods);
        a.ports = p->alloc.ports; /* the driver's host ports, held beside the slot as a placement holds them */
        a.n_ports = p->alloc.n_ports;
        a.rel = p->alloc.rel; /* and counted as itself in the slot's inter-pod terms */
        kn_alloc_take(&s->c, &a);
        kn_constraints driver;
        kn_want w;
        kn_vol_want *v = kn_slot_want(s, p->d, &rs, &driver, &w);
        kn_diag d;
        kn_diag_init(&d);
        kn_choice slot;
        ok = kn_place_on_node(&s->c, ni, &w, &slot, &d);
        kn_vol_want_free(v);
        if (!ok) {
            char r[512];
            reasons(&d, r, sizeof(r));
            snprintf(why, cap, "room for the driver, but not for an executor slot beside it: %s", r);
        }
        kn_alloc_release(&s->c, &a);
        kn_alloc_clear(&a);
    } else if (!ok) {
        snprintf(why, cap, "out of memory");
    }
    kn_resv_spec_free(&s->c, &rs);
    return ok;
}

static int by_name(const void *a, const void *b, void *ctx)
{
    const kn_cluster *c = ctx;
    return strcmp(c->nodes[*(const int *)a].name, c->nodes[*(const int *)b].name);
}

int kn_sched_explain(kn_scheduler *s, const char *uid, kn_sched_node_fn fn, void *ctx)
{
    int pi = kn_strmap_get(&s->c.pod_by_uid, uid);
    if (pi < 0)
        return -1;
    kn_cpod *p = &s->c.pods[pi];
    if (!p->ours || p->state != KN_POD_PENDING || p->d == NULL)
        return -1;
    int *order = malloc(sizeof(int) * (size_t)(s->c.n_nodes + 1));
    if (order == NULL)
        return -1;
    int n = 0;
    for (int i = 0; i < s->c.n_nodes; i++)
        if (s->c.nodes[i].live)
            order[n++] = i;
    qsort_r(order, (size_t)n, sizeof(int), by_name, &s->c);
    kn_want w;
    kn_want_for_pod(s, p, &w);
    /* the pod's claims: a PreFilter rejection is every node's reason */
    kn_vol_want *v = NULL;
    char vwhy[KN_MSG_MAX] = "";
    int vrc = p->vols ? kn_vol_prefilter(&s->c, p, w.sig, &v, vwhy, sizeof(vwhy)) : 0;
    if (vrc < 0) {
        free(order);
        return -1;
    }
    if (v != NULL) {
        w.vol = v;
        w.sig = v->sig;
    }
    for (int k = 0; k < n; k++) {
        int ni = order[k];
        char why[KN_MSG_MAX];
        kn_diag d;
        kn_diag_init(&d);
        kn_choice ch;
        bool fits;
        if (p->d->bad != NULL || vrc == 1) {
            snprintf(why, sizeof(why), "%s", p->d->bad ? p->d->bad : vwhy);
            fits = false;
        } else if ((fits = kn_place_on_node(&s->c, ni, &w, &ch, &d)) && p->d->reservation != NULL) {
            fits = slot_beside(s, p, ni, &ch, why, sizeof(why));
        } else if (!fits) {
            reasons(&d, why, sizeof(why));
        }
        fn(ctx, s->c.nodes[ni].name, fits ? NULL : why);
    }
    kn_vol_want_free(v);
    free(order);
    return 0;
}
