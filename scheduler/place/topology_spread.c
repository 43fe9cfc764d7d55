/* topology_spread.c - kube-scheduler's PodTopologySpread plugin (v1.33):
 * PreFilter and PreScore from kept counts (relplan.h), Filter and Score per node.
 *
 * Counting (both): pods of the pod's namespace, not terminating, that the
 * constraint's selector (matchLabelKeys merged) selects; an empty selector
 * counts none. A node counts when it has every topology key of the
 * constraints being read (DoNotSchedule ones for Filter; ScheduleAnyway ones
 * for Score, except for the system defaults, which read nodes without a
 * zone too) and, per constraint, matches the pod's nodeSelector and required
 * node affinity (nodeAffinityPolicy Honor, the default) and tolerates its
 * NoSchedule/NoExecute taints (nodeTaintsPolicy Honor; Ignore by default).
 * Filter: a node without a constraint's key fails ("... (missing required
 * label)"); else count(domain) + (1 if the pod matches its own selector) -
 * the smallest count over the domains of counted nodes (0 when they number
 * fewer than minDomains) must not exceed maxSkew ("node(s) didn't match pod
 * topology spread constraints").
 * Score: per node, sum over ScheduleAnyway constraints of count * w + maxSkew
 * - 1, rounded, where count is the node's own matching pods for
 * kubernetes.io/hostname and its domain's otherwise, and w = log(domains
 * among the feasible nodes + 2) (hostname: feasible nodes); nodes missing a
 * key are not scored (0). NormalizeScore: 100 * (max + min - s) / max over the
 * scored nodes, 100 for all when max is 0. */
#include "scheduler/place/relplan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"

static inline int dom_of(const kn_keymap *km, int node)
{
    return node < km->n_nodes ? km->dom[node] : -1;
}

/* Which nodes count for a set of constraints (hard or soft) of one pod. */
typedef struct elig_ctx {
    const kn_relplan *p;
    const kn_spreadc *sc; /* the constraint (its policies) */
    uint32_t keys[KN_MAX_TERMS];
    int n_keys; /* keys every counted node must have (none: any node) */
} elig_ctx;

static void fill_elig(void *ctx, const kn_cluster *c, uint8_t *elig)
{
    const elig_ctx *e = ctx;
    const kn_constraints *pod = e->p->w->pod;
    for (int i = 0; i < c->n_nodes; i++) {
        const kn_node *n = &c->nodes[i];
        bool ok = n->live && n->lset != NULL;
        for (int k = 0; ok && k < e->n_keys; k++)
            ok = kn_lset_get(n->lset, e->keys[k]) != 0;
        if (ok && e->sc->honor_affinity)
            ok = kn_node_matches_affinity(n, pod);
        if (ok && e->sc->honor_taints)
            ok = kn_tolerates_taints(n, pod, NULL);
        elig[i] = ok;
    }
}

/* Names the eligibility: the keys, and the pod's node constraints when a
 * policy reads them (its constraint signature holds both). */
static char *elig_sig(const elig_ctx *e, const char *pod_sig)
{
    kn_buf b = KN_BUF_INIT;
    kn_buf_puts(&b, "k");
    for (int i = 0; i < e->n_keys; i++)
        kn_buf_printf(&b, "%u,", e->keys[i]);
    kn_buf_printf(&b, "a%dt%d", e->sc->honor_affinity, e->sc->honor_taints);
    if (e->sc->honor_affinity || e->sc->honor_taints)
        kn_buf_puts(&b, pod_sig);
    return kn_buf_finish(&b, NULL);
}

static int push(kn_tspread **arr, int *n, int *cap, kn_tspread t)
{
    size_t c = (size_t)*cap;
    if (kn_grow((void **)arr, &c, (size_t)*n + 1, sizeof(**arr)) != 0)
        return -1;
    *cap = (int)c;
    (*arr)[(*n)++] = t;
    return 0;
}

/* The smallest count over the counted domains, as PreFilter keeps it. */
static int64_t global_min(const kn_counter *k, const kn_spreadc *sc)
{
    if (k->n_elig_dom < sc->min_domains) /* minDomains is at least 1: no domain at all gives 0 too */
        return 0;
    if (sc->everything || (int)k->dom.used < k->n_elig_dom)
        return 0; /* some counted domain holds none */
    int64_t m = INT64_MAX;
    uint32_t pos = 0;
    const kn_imap_slot *s;
    while ((s = kn_imap_next(&k->dom, &pos)) != NULL)
        if (s->val < m)
            m = s->val;
    return m;
}

int kn_pts_plan(kn_relplan *p)
{
    kn_cluster *c = p->c;
    const kn_termset *ts = p->w->rel->ts;
    if (ts == NULL || ts->n_sp == 0)
        return 0;
    char *own_sig = p->w->sig ? NULL : kn_pod_sig(p->w->pod);
    const char *pod_sig = p->w->sig ? p->w->sig : own_sig;
    if (pod_sig == NULL)
        return -1;
    p->require_all = !ts->sp_default;
    int rc = 0;
    for (int hard = 1; hard >= 0 && rc == 0; hard--) {
        elig_ctx e = {.p = p};
        if (hard || p->require_all)
            for (uint32_t i = 0; i < ts->n_sp; i++)
                if (ts->sp[i].hard == (bool)hard && e.n_keys < KN_MAX_TERMS)
                    e.keys[e.n_keys++] = ts->sp[i].key;
        for (uint32_t i = 0; i < ts->n_sp && rc == 0; i++) {
            const kn_spreadc *sc = &ts->sp[i];
            if (sc->hard != (bool)hard)
                continue;
            kn_tspread t = {.sc = sc};
            e.sc = sc;
            t.node_count = !hard && sc->key == c->rs.hostname;
            kn_counter *k;
            if (t.node_count) {
                k = kn_counter_get(c, sc->w, 0, NULL, NULL, NULL);
            } else {
                char *sig = elig_sig(&e, pod_sig);
                k = sig ? kn_counter_get(c, sc->w, sc->key, sig, fill_elig, &e) : NULL;
                free(sig);
            }
            /* Score reads domains of the key even when it counts per node */
            kn_keymap *km = k ? kn_keymap_get(c, sc->key) : NULL;
            if (k == NULL || km == NULL) {
                rc = -1;
                break;
            }
            t.k = k;
            t.km = km;
            if (hard) {
                t.min = global_min(k, sc);
                t.self = kn_watch_matches(c, sc->w, p->w->rel) ? 1 : 0;
                rc = push(&p->hard, &p->n_hard, &p->cap_hard, t);
            } else {
                if (!t.node_count && (t.seen = calloc((size_t)km->n_dom + 1, 1)) == NULL)
                    rc = -1;
                if (rc == 0 && push(&p->soft, &p->n_soft, &p->cap_soft, t) != 0) {
                    free(t.seen);
                    rc = -1;
                }
            }
        }
    }
    free(own_sig);
    return rc;
}

kn_rel_verdict kn_pts_filter(const kn_relplan *p, int node)
{
    for (int i = 0; i < p->n_hard; i++) {
        const kn_tspread *t = &p->hard[i];
        int d = dom_of(t->km, node);
        if (d < 0)
            return KN_REL_SPREAD_LABEL;
        int64_t match = t->sc->everything ? 0 : kn_counter_at(t->k, d);
        if (match + t->self - t->min > t->sc->max_skew)
            return KN_REL_SPREAD;
    }
    return KN_REL_OK;
}

/* A node Score ignores: a key of the constraints missing (not for the defaults). */
static bool ignored(const kn_relplan *p, int node)
{
    for (int i = 0; p->require_all && i < p->n_soft; i++)
        if (dom_of(p->soft[i].km, node) < 0)
            return true;
    return false;
}

void kn_pts_reset(kn_relplan *p)
{
    for (int i = 0; i < p->n_soft; i++) {
        p->soft[i].size = 0;
        if (p->soft[i].seen != NULL)
            memset(p->soft[i].seen, 0, (size_t)p->soft[i].km->n_dom + 1);
    }
}

void kn_pts_see(kn_relplan *p, int node)
{
    if (p->n_soft == 0 || ignored(p, node))
        return;
    for (int i = 0; i < p->n_soft; i++) {
        kn_tspread *t = &p->soft[i];
        if (t->node_count) {
            t->size++;
            continue;
        }
        int d = dom_of(t->km, node);
        int at = d < 0 ? t->km->n_dom : d; /* the defaults read a node without a zone as zone "" */
        if (!t->seen[at]) {
            t->seen[at] = 1;
            t->size++;
        }
    }
}

void kn_pts_weights(kn_relplan *p)
{
    for (int i = 0; i < p->n_soft; i++)
        p->soft[i].weight = log((double)p->soft[i].size + 2);
}

int64_t kn_pts_raw(const kn_relplan *p, int node)
{
    if (p->n_soft == 0)
        return 0;
    if (ignored(p, node))
        return -1;
    double s = 0;
    for (int i = 0; i < p->n_soft; i++) {
        const kn_tspread *t = &p->soft[i];
        int d = dom_of(t->km, node);
        if (d < 0)
            continue;
        int64_t cnt = t->sc->everything ? 0 : kn_counter_at(t->k, t->node_count ? dom_of(t->k->km, node) : d);
        s += (double)cnt * t->weight + (double)(t->sc->max_skew - 1);
    }
    return (int64_t)llround(s);
}

int64_t kn_pts_normalize(int64_t raw, int64_t min, int64_t max)
{
    if (raw < 0)
        return 0;
    if (max == 0)
        return 100;
    return 100 * (max + min - raw) / max;
}
