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
    w->numa = p->d->numa;
    w->numa_idx = p->d->numa_idx;
    w->unfit_name = p->unfit_name;
    w->owner = (int)(p - s->c.pods);
    w->binpack = is_batch(p);
    w->sig = p->d->cons->sig;
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
    s->scheduled++;
    if (p->d->numa)
        s->numa_decisions[p->d->numa->policy]++;
    return kn_out_binding(&s->c, cy->out, p);
}

int kn_commit_pod(const kn_cycle *cy, int pi, const kn_choice *ch)
{
    kn_cpod *p = &cy->s->c.pods[pi];
    if (kn_choice_to_alloc(ch, &p->alloc) != 0)
        return -1;
    kn_alloc_take(&cy->s->c, &p->alloc);
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
        kn_want w;
        kn_want_for_pod(s, &s->c.pods[t->P[t->placed]], &w);
        if (!take_best(s, &w, &s->c.pods[t->P[t->placed]].alloc, t))
            return;
    }
}

void kn_slot_want(const kn_pod_detail *dd, const kn_resv_spec *rs, kn_constraints *driver, kn_want *w)
{
    /* A slot holds room for an executor, not the driver's host ports: with
     * the driver's constraints, those are left out (and so is the signature
     * they are part of). */
    *driver = dd->cons->cons;
    driver->host_ports = NULL;
    driver->n_host_ports = 0;
    bool own = rs->has_tmpl || dd->cons->cons.n_host_ports > 0;
    *w = (kn_want){.pod = rs->has_tmpl ? &rs->tmpl : driver,
                   .req = &rs->req,
                   .numa = &rs->numa,
                   .numa_idx = rs->numa_idx,
                   .owner = -1,
                   .binpack = true,
                   .sig = own ? NULL : dd->cons->sig};
}

void kn_take_slots(kn_scheduler *s, const kn_pod_detail *dd, const kn_resv_spec *rs, kn_tentative *t)
{
    kn_constraints driver;
    kn_want w;
    kn_slot_want(dd, rs, &driver, &w);
    for (; t->held < t->nslots; t->held++) {
        kn_alloc *a = &t->slots[t->held];
        a->node = -1;
        a->req = rs->req;
        a->owner = -1;
        if (!take_best(s, &w, a, t))
            return;
    }
}

void kn_undo_or_hold(kn_scheduler *s, kn_tentative *t, bool hold)
{
    for (int k = t->held - 1; k >= 0; k--) {
        if (hold && (size_t)s->n_held < s->cap_held) {
            s->held[s->n_held++] = t->slots[k];
            continue;
        }
        kn_alloc_release(&s->c, &t->slots[k]);
        kn_alloc_clear(&t->slots[k]);
    }
    for (int i = t->placed - 1; i >= 0; i--) {
        kn_alloc *a = &s->c.pods[t->P[i]].alloc;
        if (hold && (size_t)s->n_held < s->cap_held) {
            s->held[s->n_held++] = *a;
            a->ztake = NULL;
            a->n_zones = 0;
            a->node = -1;
            continue;
        }
        kn_alloc_release(&s->c, a);
        kn_alloc_clear(a);
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
