/* commit.c - from a choice to a placement: one pod committed as assumed (a
 * binding to make), and the tentative placement of several pods and slots
 * that a gang or a reservation takes all at once or undoes (see core.h). */
#include "scheduler/cycle/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_batch(const kn_cpod *p)
{
    return p->gang >= 0 || (p->d && p->d->batch);
}

void kn_want_for_pod(const kn_scheduler *s, const kn_cpod *p, kn_want *w)
{
    (void)s;
    memset(w, 0, sizeof(*w));
    w->pod = &p->d->cons->cons;
    w->req = &p->alloc.req;
    w->numa = p->d->numa ? &p->d->numa->spec : NULL;
    w->numa_idx = p->d->numa ? p->d->numa->idx : NULL;
    w->unfit_name = p->unfit_name;
    w->owner = (int)(p - s->c.pods);
    w->binpack = is_batch(p);
    w->sig = p->d->cons->sig;
    w->rel = p->alloc.rel;
}

int kn_commit_assumed(const kn_cycle *cy, int pi)
{
    kn_scheduler *s = cy->s;
    kn_cpod *p = &s->c.pods[pi];
    char *nn = strdup(s->c.nodes[p->alloc.node].name);
    if (nn == NULL)
        return -1;
    free(p->node_name);
    p->node_name = nn;
    p->state = KN_POD_ASSUMED;
    p->binding = true;
    if (kn_rel_matters(p->alloc.rel))
        s->c.gen++; /* a pending pod's affinity to it may hold now, or spreading allow more */
    s->scheduled++;
    if (p->d->numa)
        s->numa_decisions[p->d->numa->spec.policy]++;
    return kn_out_binding(&s->c, cy->out, p);
}

static int live_nodes(const kn_cluster *c)
{
    int n = 0;
    for (int i = 0; i < c->n_nodes; i++)
        n += c->nodes[i].live;
    return n;
}

int kn_want_volumes(kn_scheduler *s, int pi, kn_want *w, kn_vol_want **v, char *msg, size_t cap)
{
    char why[KN_MSG_MAX];
    const kn_cpod *p = &s->c.pods[pi];
    *v = NULL;
    if (p->vols == NULL)
        return 0;
    int rc = kn_vol_prefilter(&s->c, p, w->sig, v, why, sizeof(why));
    if (rc == 1) {
        /* kube-scheduler's FitError when PreFilter rejects: every node, one reason */
        int n = live_nodes(&s->c);
        if (n == 0)
            snprintf(msg, cap, "no nodes available to schedule pods");
        else
            snprintf(msg, cap, "0/%d nodes are available: %s.", n, why);
    }
    if (rc != 0)
        return rc;
    w->vol = *v;
    w->sig = (*v)->sig;
    return 0;
}

typedef struct assume_ctx {
    kn_scheduler *s;
    int pi;
    const char *node;
} assume_ctx;

static int assume_one(void *ctx, const kn_pvc *claim, const kn_pv *pv)
{
    assume_ctx *a = ctx;
    return kn_vols_assume(&a->s->c, a->pi, claim->key, pv ? pv->name : NULL, a->node);
}

int kn_pod_take(kn_scheduler *s, int pi, const kn_choice *ch, const kn_vol_want *v)
{
    kn_cpod *p = &s->c.pods[pi];
    if (kn_choice_to_alloc(ch, &p->alloc) != 0)
        return -1;
    kn_alloc_take(&s->c, &p->alloc);
    if (p->vols == NULL)
        return 0;
    assume_ctx a = {s, pi, s->c.nodes[ch->node].name};
    if (kn_vols_pod_count(&s->c, pi, ch->node) != 0 ||
        (v != NULL && kn_vol_decide(&s->c, ch->node, v, assume_one, &a) != 0)) {
        kn_pod_release(s, pi);
        return -1;
    }
    return 0;
}

void kn_pod_release(kn_scheduler *s, int pi)
{
    kn_cpod *p = &s->c.pods[pi];
    if (p->vols != NULL) {
        kn_vols_pod_uncount(&s->c, pi);
        kn_vols_unassume(&s->c, pi);
    }
    kn_alloc_release(&s->c, &p->alloc);
    kn_alloc_clear(&p->alloc);
}

int kn_commit_pod(const kn_cycle *cy, int pi, const kn_choice *ch, const kn_vol_want *v)
{
    if (kn_pod_take(cy->s, pi, ch, v) != 0)
        return -1;
    return kn_commit_assumed(cy, pi);
}

/* Takes the best node for w into a (node, zones, amounts); false when none fits. */
static bool take_best(kn_scheduler *s, const kn_want *w, kn_alloc *a, kn_tentative *t)
{
    kn_diag d;
    kn_diag_init(&d);
    kn_choice ch;
    if (!kn_place_best(&s->c, w, &ch, &d)) {
        kn_diag_message(&d, t->msg, sizeof(t->msg));
        return false;
    }
    if (kn_choice_to_alloc(&ch, a) != 0) {
        t->oom = true;
        return false;
    }
    kn_alloc_take(&s->c, a);
    return true;
}

void kn_take_pods(kn_scheduler *s, kn_tentative *t)
{
    for (; t->placed < t->n; t->placed++) {
        int pi = t->P[t->placed];
        kn_want w;
        kn_vol_want *v;
        kn_want_for_pod(s, &s->c.pods[pi], &w);
        int rc = kn_want_volumes(s, pi, &w, &v, t->msg, sizeof(t->msg));
        if (rc != 0) {
            t->oom = rc < 0;
            return;
        }
        kn_diag d;
        kn_diag_init(&d);
        kn_choice ch;
        bool ok = kn_place_best(&s->c, &w, &ch, &d);
        if (!ok)
            kn_diag_message(&d, t->msg, sizeof(t->msg));
        else if (kn_pod_take(s, pi, &ch, v) != 0)
            ok = !(t->oom = true);
        kn_vol_want_free(v);
        if (!ok)
            return;
    }
}

kn_vol_want *kn_slot_want(kn_scheduler *s, const kn_pod_detail *dd, const kn_resv_spec *rs, kn_constraints *driver,
                          kn_want *w)
{
    /* A slot holds room for an executor, not the driver's host ports: with
     * the driver's constraints, those are left out (and so is the signature
     * they are part of). */
    *driver = dd->cons->cons;
    driver->host_ports = NULL;
    driver->n_host_ports = 0;
    const char *sig = rs->has_tmpl ? rs->tmpl_sig : dd->cons->cons.n_host_ports > 0 ? NULL : dd->cons->sig;
    *w = (kn_want){.pod = rs->has_tmpl ? &rs->tmpl : driver,
                   .req = &rs->req,
                   .numa = &rs->numa,
                   .numa_idx = rs->numa_idx,
                   .owner = -1,
                   .binpack = true,
                   .sig = sig,
                   .rel = rs->rel};
    /* a slot is where its executor's claims could be provisioned */
    kn_vol_want *v =
        rs->n_classes ? kn_vol_classes_want(&s->c, (const char *const *)rs->classes, rs->n_classes, w->sig) : NULL;
    if (v != NULL) {
        w->vol = v;
        w->sig = v->sig;
    }
    return v;
}

void kn_take_slots(kn_scheduler *s, const kn_pod_detail *dd, const kn_resv_spec *rs, kn_tentative *t)
{
    kn_constraints driver;
    kn_want w;
    kn_vol_want *v = kn_slot_want(s, dd, rs, &driver, &w);
    for (; t->held < t->nslots; t->held++) {
        kn_alloc *a = &t->slots[t->held];
        a->node = -1;
        a->req = rs->req;
        a->owner = -1;
        a->rel = rs->rel; /* each slot counts for the next as its executor will */
        if (!take_best(s, &w, a, t))
            break;
    }
    kn_vol_want_free(v);
}

void kn_undo_or_hold(kn_scheduler *s, kn_tentative *t, bool hold)
{
    for (int k = t->held - 1; k >= 0; k--) {
        if (hold && (size_t)s->n_held < s->cap_held) {
            kn_rel_hold(t->slots[k].rel); /* released with the hold, after the spec that holds it now */
            s->held[s->n_held++] = t->slots[k];
            continue;
        }
        kn_alloc_release(&s->c, &t->slots[k]);
        kn_alloc_clear(&t->slots[k]);
    }
    for (int i = t->placed - 1; i >= 0; i--) {
        kn_alloc *a = &s->c.pods[t->P[i]].alloc;
        if (hold && (size_t)s->n_held < s->cap_held) {
            if (s->c.pods[t->P[i]].vols != NULL) { /* the room is held, not the volumes */
                kn_vols_pod_uncount(&s->c, t->P[i]);
                kn_vols_unassume(&s->c, t->P[i]);
            }
            kn_rel_hold(a->rel);
            s->held[s->n_held++] = *a;
            a->ztake = NULL;
            a->n_zones = 0;
            a->node = -1;
            continue;
        }
        kn_pod_release(s, t->P[i]);
    }
}

int kn_place_slots(kn_scheduler *s, const kn_pod_detail *d, const kn_resv_spec *rs, int n, kn_alloc **slots,
                   char *msg, size_t cap)
{
    kn_tentative t = {.nslots = n};
    *slots = NULL;
    if (n > 0 && (t.slots = calloc((size_t)n, sizeof(kn_alloc))) == NULL)
        t.oom = true;
    if (!t.oom)
        kn_take_slots(s, d, rs, &t);
    if (!t.oom && t.held == n) {
        *slots = t.slots;
        return 0;
    }
    kn_undo_or_hold(s, &t, false);
    free(t.slots);
    snprintf(msg, cap, "%s", t.oom ? "out of memory" : t.msg);
    return -1;
}
