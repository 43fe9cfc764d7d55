/* queue.c - gang membership and the scheduling queue's order (see core.h).
 *
 * Order: higher priority first (a gang's priority is its highest member's),
 * then the oldest (a gang's age is its oldest member's creationTimestamp),
 * then arrival. Pods without gang labels are single entries. */
#include "scheduler/cycle/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"

static int gang_new(kn_scheduler *s, const char *ns, const kn_gang_spec *g, const char *key, const char *mkey)
{
    if (kn_grow((void **)&s->gangs, &s->cap_gangs, (size_t)s->n_gangs + 1, sizeof(*s->gangs)) != 0)
        return -1;
    int gi = s->n_gangs;
    kn_gangrec *gr = &s->gangs[gi];
    memset(gr, 0, sizeof(*gr));
    gr->key = strdup(key);
    gr->mkey = mkey == key ? gr->key : strdup(mkey);
    gr->ns = strdup(ns);
    gr->name = strdup(g->name);
    if (!gr->key || !gr->mkey || !gr->ns || !gr->name || kn_strmap_put(&s->gang_by_key, gr->mkey, gi) != 0) {
        if (gr->mkey != gr->key)
            free(gr->mkey);
        free(gr->key);
        free(gr->ns);
        free(gr->name);
        return -1;
    }
    gr->live = true;
    gr->kind = g->kind;
    gr->min_available = g->min_available;
    gr->ready_since = -1;
    gr->resv = -1;
    s->n_gangs++;
    return gi;
}

int kn_gang_join(kn_scheduler *s, int pod, const kn_gang_spec *g)
{
    kn_cpod *p = &s->c.pods[pod];
    /* a namespace is at most 63 characters, a name 253 */
    char key[KN_OBJECT_NAME_MAX * 2 + 8], mkey[sizeof(key) + 16];
    kn_pod_ref(key, sizeof(key), p->ns, g->name);
    /* gangs of labels and PodGroups of each kind are named apart */
    const char *mk = key;
    if (g->kind != KN_GANG_LABELS) {
        snprintf(mkey, sizeof(mkey), "%s#%d", key, (int)g->kind);
        mk = mkey;
    }
    int gi = kn_strmap_get(&s->gang_by_key, mk);
    if (p->gang >= 0 && p->gang == gi)
        return 0;
    kn_gang_leave(s, pod);
    if (gi < 0 && (gi = gang_new(s, p->ns, g, key, mk)) < 0)
        return -1;
    kn_gangrec *gr = &s->gangs[gi];
    if (!gr->live) { /* revived: every member left earlier */
        gr->live = true;
        gr->min_available = g->min_available;
        gr->ready_since = -1;
        gr->placed = false;
        gr->resv = -1;
        gr->waiting_told = 0;
    }
    if (kn_grow((void **)&gr->members, &gr->cap, (size_t)gr->n + 1, sizeof(*gr->members)) != 0)
        return -1;
    gr->members[gr->n++] = pod;
    gr->tried_gen = 0; /* a new member may complete the gang */
    p->gang = gi;
    return 0;
}

void kn_gang_leave(kn_scheduler *s, int pod)
{
    kn_cpod *p = &s->c.pods[pod];
    if (p->gang < 0)
        return;
    kn_gangrec *gr = &s->gangs[p->gang];
    for (int i = 0; i < gr->n; i++)
        if (gr->members[i] == pod) {
            gr->members[i] = gr->members[--gr->n];
            break;
        }
    p->gang = -1;
    if (gr->n == 0) { /* keep the record (and its key) for reuse; drop the state */
        if (gr->resv >= 0)
            kn_resv_release(s, gr->resv);
        gr->live = false;
    }
}

static int qcmp(const void *a, const void *b)
{
    const kn_qent *x = a, *y = b;
    if (x->prio != y->prio)
        return x->prio > y->prio ? -1 : 1;
    if (x->created != y->created)
        return x->created < y->created ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The array is kept from cycle to cycle: it has room for an entry per pod,
 * past glibc's mmap threshold, so one allocated each cycle, a little larger
 * than the last, would be mapped and faulted in anew every cycle. */
int kn_queue_build(kn_scheduler *s)
{
    kn_cluster *c = &s->c;
    if (kn_grow((void **)&s->queue, &s->cap_queue, (size_t)c->n_pods + 1, sizeof(*s->queue)) != 0)
        return -1;
    kn_qent *q = s->queue;
    int n = 0;
    uint64_t mark = ++s->mark;
    for (int i = 0; i < c->n_pods; i++) {
        const kn_cpod *p = &c->pods[i];
        if (!p->live || !p->ours || p->state != KN_POD_PENDING || p->d == NULL)
            continue;
        if (p->gang < 0) {
            q[n++] = (kn_qent){i, p->priority, p->created, p->seq};
            continue;
        }
        kn_gangrec *g = &s->gangs[p->gang];
        if (g->mark == mark)
            continue;
        g->mark = mark;
        kn_qent e = {-1 - p->gang, INT32_MIN, 0, UINT64_MAX};
        bool first = true;
        for (int m = 0; m < g->n; m++) {
            const kn_cpod *mp = &c->pods[g->members[m]];
            if (mp->priority > e.prio)
                e.prio = mp->priority;
            if (first || mp->created < e.created)
                e.created = mp->created;
            if (mp->seq < e.seq)
                e.seq = mp->seq;
            first = false;
        }
        q[n++] = e;
    }
    qsort(q, (size_t)n, sizeof(*q), qcmp);
    return n;
}
