/* relplace.c - ranking nodes for a pod whose inter-pod terms, or placed pods'
 * terms that select it, take part: the plan (relplan.h), the filters in
 * kube-scheduler's order, and the score with both plugins' normalizations.
 *
 * Both plugins normalize over the feasible nodes (InterPodAffinity maps
 * [min, max] to 0..100, PodTopologySpread divides by the max and weighs by
 * how many domains the feasible nodes span), so one node's score moves when
 * another node changes: the per-kind index cannot rank such pods by itself.
 * It still keeps every node's fit and resource score current (placer.c takes
 * the kind's feasible nodes from it), and the inter-pod part is added here in
 * three passes over those nodes, reading per-domain counts: filter (and note
 * the domains the survivors span), raw scores and their range, totals. */
#include "scheduler/place/relplan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *kn_rel_reason(kn_rel_verdict v)
{
    switch (v) {
    case KN_REL_SPREAD_LABEL:
        return "node(s) didn't match pod topology spread constraints (missing required label)";
    case KN_REL_SPREAD: return "node(s) didn't match pod topology spread constraints";
    case KN_REL_AFFINITY: return "node(s) didn't match pod affinity rules";
    case KN_REL_ANTI: return "node(s) didn't match pod anti-affinity rules";
    case KN_REL_EXISTING: return "node(s) didn't satisfy existing pods anti-affinity rules";
    default: return "";
    }
}

bool kn_relplan_init(kn_cluster *c, const kn_want *w, kn_relplan *p)
{
    memset(p, 0, sizeof(*p));
    p->c = c;
    p->w = w;
    if (w->rel == NULL || (w->rel->ts == NULL && w->rel->n_w == 0))
        return false;
    p->prefer = kn_want_prefers(c, w);
    if (kn_ipa_plan(p) != 0 || kn_pts_plan(p) != 0) {
        p->oom = true;
        return true;
    }
    p->active = p->n_aff > 0 || p->n_anti > 0 || p->n_exist > 0 || p->n_ipa > 0 || p->n_hard > 0 || p->n_soft > 0;
    return p->active;
}

void kn_relplan_free(kn_relplan *p)
{
    free(p->aff);
    free(p->anti);
    free(p->exist);
    free(p->ipa);
    free(p->hard);
    for (int i = 0; i < p->n_soft; i++)
        free(p->soft[i].seen);
    free(p->soft);
    memset(p, 0, sizeof(*p));
}

kn_rel_verdict kn_rel_filter(const kn_relplan *p, int node)
{
    kn_rel_verdict v = kn_pts_filter(p, node);
    return v != KN_REL_OK ? v : kn_ipa_filter(p, node);
}

/* a ranks before b: higher total, then (a total rounds: two scores a hair
 * apart can add up to the same total) the higher score before the inter-pod
 * part, then the node name sorting first. Within one domain, where the
 * inter-pod part is the same for every untouched node, this is the per-kind
 * index's own order, so its best untouched node is the domain's best. */
static bool before(const kn_cluster *c, const kn_relcand *a, double ta, const kn_relcand *b, double tb)
{
    if (ta != tb)
        return ta > tb;
    if (a->pre != b->pre)
        return a->pre > b->pre;
    if (a->rank >= 0 && b->rank >= 0)
        return a->rank < b->rank;
    return strcmp(c->nodes[a->node].name, c->nodes[b->node].name) < 0;
}

void kn_rel_normalized(kn_relplan *p, kn_relcand *cand, int n)
{
    kn_pts_reset(p);
    for (int i = 0; i < n; i++)
        kn_pts_see(p, cand[i].node);
    kn_pts_weights(p);
    int64_t imin = INT64_MAX, imax = INT64_MIN, pmin = INT64_MAX, pmax = 0;
    for (int i = 0; i < n; i++) {
        cand[i].ipa = p->n_ipa > 0 ? kn_ipa_raw(p, cand[i].node) : 0;
        cand[i].pts = p->n_soft > 0 ? kn_pts_raw(p, cand[i].node) : 0;
        if (cand[i].ipa < imin)
            imin = cand[i].ipa;
        if (cand[i].ipa > imax)
            imax = cand[i].ipa;
        if (cand[i].pts >= 0 && cand[i].pts < pmin)
            pmin = cand[i].pts;
        if (cand[i].pts > pmax)
            pmax = cand[i].pts;
    }
    for (int i = 0; i < n; i++) {
        cand[i].ipa = p->n_ipa > 0 ? kn_ipa_normalize(cand[i].ipa, imin, imax) : 0;
        cand[i].pts = p->n_soft > 0 ? kn_pts_normalize(cand[i].pts, pmin, pmax) : 0;
    }
}

int kn_rel_rank(kn_relplan *p, kn_relcand *cand, int n, double *total)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        if (kn_rel_filter(p, cand[i].node) == KN_REL_OK)
            cand[k++] = cand[i];
    if (k == 0)
        return -1;
    kn_rel_normalized(p, cand, k);
    /* the preferences, normalized over the same feasible nodes */
    kn_prefs max = {0, 0};
    for (int i = 0; p->prefer && i < k; i++) {
        kn_prefs_of_node(&p->c->nodes[cand[i].node], p->w->pod, &cand[i].prefs);
        if (cand[i].prefs.affinity > max.affinity)
            max.affinity = cand[i].prefs.affinity;
        if (cand[i].prefs.taints > max.taints)
            max.taints = cand[i].prefs.taints;
    }
    for (int i = 0; i < k; i++)
        cand[i].pre = cand[i].base + (p->prefer ? kn_prefs_score(&cand[i].prefs, &max) : 0);
    int best = -1;
    double bt = 0;
    for (int i = 0; i < k; i++) {
        double t = cand[i].pre + KN_WEIGHT_INTERPOD * (double)cand[i].ipa + KN_WEIGHT_SPREAD * (double)cand[i].pts;
        if (best < 0 || before(p->c, &cand[i], t, &cand[best], bt)) {
            best = i;
            bt = t;
        }
    }
    *total = bt;
    return best;
}

/* Every filter, in kube-scheduler's order, then the NUMA fit and the score;
 * p (NULL: no inter-pod terms) after NodeResourcesFit. */
static bool node_fits(kn_cluster *c, int node, const kn_want *w, kn_relplan *p, kn_choice *ch, kn_diag *d)
{
    const kn_node *n = &c->nodes[node];
    if (!n->live)
        return false;
    d->n_nodes++;
    if (!kn_filter_static(n, w->pod, d) || !kn_filter_changing(c, n, w, ch, d))
        return false;
    /* kube-scheduler's order: PodTopologySpread and InterPodAffinity after the volume plugins */
    kn_rel_verdict v = p != NULL && p->active ? kn_rel_filter(p, node) : KN_REL_OK;
    if (v != KN_REL_OK) {
        kn_diag_add(d, kn_rel_reason(v));
        return false;
    }
    ch->node = node;
    ch->score = kn_score_node(c, n, w, ch);
    return true;
}

bool kn_place_on_node_rel(kn_cluster *c, int node, const kn_want *w, kn_relplan *p, kn_choice *ch, kn_diag *d)
{
    if (!node_fits(c, node, w, p, ch, d))
        return false;
    if (p->active) { /* as the only feasible node would score; no preferences (place.h) */
        kn_relcand one = {.node = node, .rank = 0, .base = ch->score};
        kn_rel_normalized(p, &one, 1);
        ch->score += KN_WEIGHT_INTERPOD * (double)one.ipa + KN_WEIGHT_SPREAD * (double)one.pts;
    }
    return true;
}

bool kn_place_on_node(kn_cluster *c, int node, const kn_want *w, kn_choice *ch, kn_diag *d)
{
    kn_relplan p;
    if (kn_relplan_init(c, w, &p)) {
        bool ok = !p.oom && kn_place_on_node_rel(c, node, w, &p, ch, d);
        kn_relplan_free(&p);
        return ok;
    }
    kn_relplan_free(&p);
    return node_fits(c, node, w, NULL, ch, d);
}

/* ---- narrowing the candidates (see kn_relplan_narrow) ---- */

#define FEW_DOMAINS 1024

/* A term's keymap: node-local, or the few-domain key (one at most). */
static bool narrow_key(const kn_keymap *km, const kn_keymap **few)
{
    if (km->unique)
        return true;
    if (km->n_dom > FEW_DOMAINS || (*few != NULL && *few != km))
        return false;
    *few = km;
    return true;
}

static bool narrow_terms(const kn_dterm *t, int n, const kn_keymap **few)
{
    for (int i = 0; i < n; i++)
        if (!narrow_key(t[i].km, few))
            return false;
    return true;
}

bool kn_relplan_narrow(const kn_relplan *p, const kn_keymap **few, bool *restricted)
{
    *few = NULL;
    *restricted = false;
    if (!narrow_terms(p->aff, p->n_aff, few) || !narrow_terms(p->anti, p->n_anti, few) ||
        !narrow_terms(p->exist, p->n_exist, few) || !narrow_terms(p->ipa, p->n_ipa, few))
        return false;
    for (int i = 0; i < p->n_hard + p->n_soft; i++) {
        const kn_tspread *t = i < p->n_hard ? &p->hard[i] : &p->soft[i - p->n_hard];
        if (t->node_count || t->km->unique || !narrow_key(t->km, few))
            return false;
    }
    for (int i = 0; i < p->n_aff; i++) {
        const kn_keymap *km = p->aff[i].km;
        if (!km->unique)
            continue;
        if (!(p->aff_none && p->aff_self))
            *restricted = true;
        else if (km->n_with != km->n_live) /* the first pod may go where the key is: all nodes must have it */
            return false;
    }
    return true;
}

static void touch_term(const kn_dterm *t, void (*visit)(void *ctx, int node), void *ctx)
{
    if (!t->km->unique)
        return;
    uint32_t pos = 0;
    const kn_imap_slot *s;
    while ((s = kn_imap_next(t->dom, &pos)) != NULL)
        if (s->val > 0 && s->key < (uint32_t)t->km->n_dom && t->km->dom_node[s->key] >= 0)
            visit(ctx, t->km->dom_node[s->key]);
}

void kn_relplan_touched(const kn_relplan *p, bool restricted, void (*visit)(void *ctx, int node), void *ctx)
{
    if (restricted) {
        for (int i = 0; i < p->n_aff; i++)
            if (p->aff[i].km->unique) {
                touch_term(&p->aff[i], visit, ctx);
                return;
            }
        return;
    }
    const kn_dterm *lists[4] = {p->aff, p->anti, p->exist, p->ipa};
    int ns[4] = {p->n_aff, p->n_anti, p->n_exist, p->n_ipa};
    for (int l = 0; l < 4; l++)
        for (int i = 0; i < ns[l]; i++)
            touch_term(&lists[l][i], visit, ctx);
}
