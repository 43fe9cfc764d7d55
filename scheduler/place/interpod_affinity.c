/* interpod_affinity.c - kube-scheduler's InterPodAffinity plugin (v1.33): its
 * PreFilter and PreScore read from kept counts (relplan.h), Filter and Score
 * per node.
 *
 * Filter, in this order, each failing node with one reason:
 *  - required affinity: the node has every term's topology key, and each
 *    term's domain holds a pod matching all the terms; or no pod matches them
 *    anywhere, the pod matches them itself and the node has the keys (the
 *    first pod of a group that wants to be together): "node(s) didn't match
 *    pod affinity rules";
 *  - required anti-affinity: no term's domain (on a node with its key) holds a
 *    pod the term matches: "node(s) didn't match pod anti-affinity rules";
 *  - placed pods' required anti-affinity (symmetry): no placed pod whose term
 *    matches this pod sits in the node's domain of that term's key: "node(s)
 *    didn't satisfy existing pods anti-affinity rules".
 * Score: per node, the sum over terms of weight x the pods counted in the
 * node's domain of the term's key: the pod's preferred affinity (+weight) and
 * anti-affinity (-weight) against placed pods, and placed pods' required
 * affinity (+1, hardPodAffinityWeight), preferred affinity (+weight) and
 * anti-affinity (-weight) terms that match this pod; NormalizeScore maps the
 * feasible nodes' scores from [min, max] to 0..100 (all 0 when they are equal). */
#include "scheduler/place/relplan.h"

#include <stdlib.h>
#include <string.h>

#include "base/grow.h"

static int push(kn_dterm **arr, int *n, int *cap, kn_dterm t)
{
    size_t c = (size_t)*cap;
    if (kn_grow((void **)arr, &c, (size_t)*n + 1, sizeof(**arr)) != 0)
        return -1;
    *cap = (int)c;
    (*arr)[(*n)++] = t;
    return 0;
}

static inline int dom_of(const kn_keymap *km, int node)
{
    return node < km->n_nodes ? km->dom[node] : -1;
}

static inline int32_t count_at(const kn_dterm *t, int node)
{
    int d = dom_of(t->km, node);
    return d < 0 ? 0 : kn_imap_get(t->dom, (uint32_t)d, 0);
}

/* A term of the pod's own: its counter (a term with no matching pod placed
 * anywhere changes nothing, but required affinity needs every term). */
static int own(kn_relplan *p, const kn_pterm *t, int32_t weight, kn_dterm **arr, int *n, int *cap, bool keep_empty,
               int64_t *total)
{
    kn_counter *k = kn_counter_get(p->c, t->w, t->key, NULL, NULL, NULL);
    if (k == NULL)
        return -1;
    if (total != NULL)
        *total += k->total;
    if (k->total == 0 && !keep_empty)
        return 0;
    return push(arr, n, cap, (kn_dterm){k->km, &k->dom, weight});
}

int kn_ipa_plan(kn_relplan *p)
{
    kn_cluster *c = p->c;
    const kn_rel *r = p->w->rel;
    const kn_termset *ts = r->ts;
    if (kn_carried_sync(c) != 0)
        return -1;
    if (ts != NULL) {
        int64_t total = 0;
        for (uint32_t i = 0; i < ts->n_aff; i++)
            if (own(p, &ts->aff[i], 0, &p->aff, &p->n_aff, &p->cap_aff, true, &total) != 0)
                return -1;
        p->aff_none = total == 0;
        p->aff_self = ts->n_aff > 0 && kn_watch_matches(c, ts->aff[0].w, r);
        for (uint32_t i = 0; i < ts->n_anti; i++)
            if (own(p, &ts->anti[i], 0, &p->anti, &p->n_anti, &p->cap_anti, false, NULL) != 0)
                return -1;
        for (uint32_t i = 0; i < ts->n_paff; i++)
            if (own(p, &ts->paff[i], ts->paff[i].weight, &p->ipa, &p->n_ipa, &p->cap_ipa, false, NULL) != 0)
                return -1;
        for (uint32_t i = 0; i < ts->n_panti; i++)
            if (own(p, &ts->panti[i], -ts->panti[i].weight, &p->ipa, &p->n_ipa, &p->cap_ipa, false, NULL) != 0)
                return -1;
    }
    /* placed pods' terms that select this pod, found through the watches it matches */
    for (int i = 0; i < r->n_w; i++)
        for (const kn_carried *t = r->w[i].w->carried; t != NULL; t = t->next) {
            if (t->total == 0)
                continue;
            kn_dterm d = {t->km, &t->dom, t->weight};
            int rc;
            if (t->type == KN_CARRY_REQ_ANTI)
                rc = push(&p->exist, &p->n_exist, &p->cap_exist, d);
            else {
                d.weight = t->type == KN_CARRY_PREF_ANTI ? -t->weight : t->weight;
                rc = push(&p->ipa, &p->n_ipa, &p->cap_ipa, d);
            }
            if (rc != 0)
                return -1;
        }
    return 0;
}

kn_rel_verdict kn_ipa_filter(const kn_relplan *p, int node)
{
    if (p->n_aff > 0) {
        bool exist = true;
        for (int i = 0; i < p->n_aff; i++) {
            if (dom_of(p->aff[i].km, node) < 0) /* every topology key must be on the node */
                return KN_REL_AFFINITY;
            if (count_at(&p->aff[i], node) <= 0)
                exist = false;
        }
        if (!exist && !(p->aff_none && p->aff_self))
            return KN_REL_AFFINITY;
    }
    for (int i = 0; i < p->n_anti; i++)
        if (count_at(&p->anti[i], node) > 0)
            return KN_REL_ANTI;
    for (int i = 0; i < p->n_exist; i++)
        if (count_at(&p->exist[i], node) > 0)
            return KN_REL_EXISTING;
    return KN_REL_OK;
}

int64_t kn_ipa_raw(const kn_relplan *p, int node)
{
    int64_t s = 0;
    for (int i = 0; i < p->n_ipa; i++)
        s += (int64_t)p->ipa[i].weight * count_at(&p->ipa[i], node);
    return s;
}

int64_t kn_ipa_normalize(int64_t raw, int64_t min, int64_t max)
{
    if (max <= min)
        return 0;
    return (int64_t)(100.0 * ((double)(raw - min) / (double)(max - min)));
}
