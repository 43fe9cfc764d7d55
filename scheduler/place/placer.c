/* placer.c - the best node for a pod: kn_place_best over every node, with the
 * caches that make a scan cheap (see place.h), and a choice turned into a
 * placement.
 *
 * Every cache is keyed by the pod's kind (kn_pod_kind), and each is kept for
 * a case the others do not answer:
 *  - the place index (place_index.c) answers every placement when all nodes
 *    are scored (the default), re-evaluating only the nodes that changed;
 *  - the last failure answers the next pod of the same kind while nothing
 *    changed, without the diagnosis scan: 3,000 identical pods that fit
 *    nowhere on 1,000 nodes cost 230 M instructions with it, 830 M without;
 *  - the static-filter results per signature serve the diagnosis and the
 *    sampled scans;
 *  - the best candidates of the last scan serve only sampled scoring (an
 *    explicit percentage of nodes), where no index is kept. */
#include "scheduler/place/place.h"
#include "scheduler/place/place_index.h"
#include "scheduler/place/volumes.h"
#include "scheduler/place/relplan.h"

#include <stdlib.h>
#include <string.h>

#include "base/grow.h"

#define SIG_SLOTS 32
#define TOP_K 64

typedef struct cand {
    int node;
    double score;
} cand;

/* A feasible node of a scan for a pod with preferences (prefer_scan). */
typedef struct scored {
    int node;
    double score; /* without the preferences */
    kn_prefs prefs;
} scored;

struct kn_place_cache {
    uint64_t node_gen;
    int cap; /* nodes the pass arrays cover */
    int n_sigs, next_sig;
    char *sig[SIG_SLOTS];
    uint8_t *pass[SIG_SLOTS]; /* per node: 0 unknown, 1 passes, 2 filtered */
    /* the last full scan's best candidates, for the next pod of the same kind */
    bool list_valid;
    kn_pod_kind l_kind;
    uint64_t l_mutations; /* c->mutations expected (one take after the scan) */
    int n_list;
    bool complete;  /* every feasible node is in the list */
    cand last;      /* the list's last entry as scanned */
    int next_start; /* where the next sampled scan starts (kube-scheduler's rotation) */
    cand list[TOP_K];
    /* the last failure: the same kind of pod fails the same way until the
     * cluster changes (many identical pending executors cost one scan) */
    bool fail_valid;
    kn_pod_kind f_kind;
    uint64_t f_mutations, f_node_gen;
    kn_diag f_diag;
    struct kn_place_index *ix; /* every node ranked per kind (pct 100) */
    scored *found;             /* prefer_scan's feasible nodes */
    size_t cap_found;
    kn_relcand *rc; /* the candidates of a pod with inter-pod terms */
    size_t cap_rc;
    kn_pent *ents; /* its kind's feasible nodes */
    size_t cap_ents;
    uint8_t *mark; /* per node: touched by a node-local count (narrowing) */
    size_t cap_mark;
    int *touched;
    size_t n_touched, cap_touched;
    bool touch_oom;
};

void kn_place_cache_free(struct kn_place_cache *pc)
{
    if (pc == NULL)
        return;
    for (int i = 0; i < pc->n_sigs; i++) {
        free(pc->sig[i]);
        free(pc->pass[i]);
    }
    kn_pod_kind_drop(&pc->l_kind);
    kn_pod_kind_drop(&pc->f_kind);
    kn_pindex_free(pc->ix);
    free(pc->found);
    free(pc->rc);
    free(pc->ents);
    free(pc->mark);
    free(pc->touched);
    free(pc);
}

static void reset_sigs(struct kn_place_cache *pc, int cap)
{
    for (int i = 0; i < pc->n_sigs; i++) {
        free(pc->sig[i]);
        free(pc->pass[i]);
    }
    pc->n_sigs = pc->next_sig = 0;
    pc->cap = cap;
    pc->list_valid = false;
}

/* The static-filter results for this signature (NULL: not cacheable). */
static uint8_t *pass_array(kn_cluster *c, const kn_want *w)
{
    struct kn_place_cache *pc = c->pc;
    if (pc == NULL || w->sig == NULL)
        return NULL;
    if (pc->node_gen != c->node_gen || pc->cap < c->n_nodes) {
        reset_sigs(pc, (int)c->cap_nodes);
        pc->node_gen = c->node_gen;
    }
    for (int i = 0; i < pc->n_sigs; i++)
        if (strcmp(pc->sig[i], w->sig) == 0)
            return pc->pass[i];
    int slot;
    if (pc->n_sigs < SIG_SLOTS) {
        slot = pc->n_sigs++;
    } else { /* round robin over the slots */
        slot = pc->next_sig++ % SIG_SLOTS;
        free(pc->sig[slot]);
        free(pc->pass[slot]);
    }
    pc->sig[slot] = strdup(w->sig);
    pc->pass[slot] = calloc((size_t)pc->cap + 1, 1);
    if (pc->sig[slot] == NULL || pc->pass[slot] == NULL) {
        reset_sigs(pc, pc->cap);
        return NULL;
    }
    return pc->pass[slot];
}

static bool static_ok(const kn_cluster *c, const kn_node *n, const kn_want *w, uint8_t *pass, int i)
{
    if (pass && pass[i])
        return pass[i] == 1;
    kn_diag scratch;
    kn_diag_init(&scratch);
    bool ok = kn_filter_static(n, w->pod, &scratch) && (w->vol == NULL || kn_vol_static_ok(c, n, w->vol));
    if (pass)
        pass[i] = ok ? 1 : 2;
    return ok;
}

/* a ranks before b: higher score, then the smaller node name */
static bool before(const kn_cluster *c, const cand *a, const cand *b)
{
    if (a->score != b->score)
        return a->score > b->score;
    return strcmp(c->nodes[a->node].name, c->nodes[b->node].name) < 0;
}

static bool eval(kn_cluster *c, int i, const kn_want *w, uint8_t *pass, kn_choice *ch)
{
    const kn_node *n = &c->nodes[i];
    return n->live && static_ok(c, n, w, pass, i) && kn_fit_and_score(c, i, w, ch);
}

static bool failed_before(const struct kn_place_cache *pc, const kn_cluster *c, const kn_pod_kind *k)
{
    return pc->fail_valid && pc->f_mutations == c->mutations && pc->f_node_gen == c->node_gen && !k->unfit &&
           kn_pod_kind_eq(&pc->f_kind, k);
}

static void remember_failure(struct kn_place_cache *pc, const kn_cluster *c, const kn_pod_kind *k,
                             const kn_diag *d)
{
    kn_pod_kind_drop(&pc->f_kind);
    pc->f_mutations = c->mutations;
    pc->f_node_gen = c->node_gen;
    pc->f_diag = *d;
    pc->fail_valid = kn_pod_kind_keep(&pc->f_kind, k) == 0;
}

static bool same_kind(const struct kn_place_cache *pc, const kn_pod_kind *k)
{
    return pc->list_valid && kn_pod_kind_eq(&pc->l_kind, k);
}

static bool from_list(kn_cluster *c, const kn_want *w, uint8_t *pass, kn_choice *best)
{
    struct kn_place_cache *pc = c->pc;
    bool found = false;
    kn_choice ch;
    for (int k = 0; k < pc->n_list; k++) {
        if (!eval(c, pc->list[k].node, w, pass, &ch))
            continue;
        cand x = {ch.node, ch.score}, y = {found ? best->node : 0, found ? best->score : 0};
        if (!found || before(c, &x, &y)) {
            *best = ch;
            found = true;
        }
    }
    if (!found)
        return false;
    cand b = {best->node, best->score};
    /* nodes outside the list rank below its last entry and have not changed */
    return pc->complete || !before(c, &pc->last, &b);
}

static void remember(kn_cluster *c, const kn_pod_kind *k)
{
    struct kn_place_cache *pc = c->pc;
    kn_pod_kind_drop(&pc->l_kind);
    pc->list_valid = k->sig != NULL && kn_pod_kind_keep(&pc->l_kind, k) == 0;
}

static void list_insert(kn_cluster *c, const kn_choice *ch, int *feasible)
{
    struct kn_place_cache *pc = c->pc;
    cand x = {ch->node, ch->score};
    (*feasible)++;
    if (pc->n_list == TOP_K && !before(c, &x, &pc->list[TOP_K - 1]))
        return;
    int k = pc->n_list < TOP_K ? pc->n_list++ : TOP_K - 1;
    while (k > 0 && before(c, &x, &pc->list[k - 1])) {
        pc->list[k] = pc->list[k - 1];
        k--;
    }
    pc->list[k] = x;
}

/* How many feasible nodes a scan looks for. Every node by default (0) and at
 * 100: the index (place_index.h) makes ranking every node cheap. An explicit percentage samples as kube-scheduler's
 * numFeasibleNodesToFind: every node below 100, else that share of the nodes
 * but at least 100, each scan starting where the last one stopped. */
static int nodes_to_find(const kn_cluster *c)
{
    int n = c->n_nodes, pct = c->pct_nodes;
    if (n < 100 || pct >= 100 || pct <= 0)
        return n;
    int k = (int)((int64_t)n * pct / 100);
    return k < 100 ? 100 : k;
}

/* Why no node fits, from the full filters, remembered for the next pod of its
 * kind. No score: none fits. The static filters are skipped on a node pass
 * knows they let through (they would add nothing), and their verdict is kept
 * in pass for the next diagnosis of the same constraints: a gang that does
 * not fit rescans every node for its message. */
static bool diagnose(kn_cluster *c, const kn_want *w, const kn_pod_kind *kind, uint8_t *pass, kn_diag *d)
{
    kn_choice ch;
    for (int i = 0; i < c->n_nodes; i++) {
        const kn_node *n = &c->nodes[i];
        if (!n->live)
            continue;
        d->n_nodes++;
        if (pass == NULL || pass[i] != 1) {
            bool ok = kn_filter_static(n, w->pod, d);
            if (pass)
                pass[i] = ok ? 1 : 2;
            if (!ok)
                continue;
        }
        kn_filter_changing(c, n, w, &ch, d);
    }
    if (c->pc && pass)
        remember_failure(c->pc, c, kind, d);
    return false;
}

/* The scan for a pod with preferences: their scores are normalized over the
 * feasible nodes found, so the best is known only once all are (no
 * candidate list is kept: one placement can change which nodes are feasible,
 * and with them every node's preference score). */
static bool prefer_scan(kn_cluster *c, const kn_want *w, const kn_pod_kind *kind, uint8_t *pass, kn_choice *best,
                        kn_diag *d)
{
    struct kn_place_cache *pc = c->pc;
    int n = c->n_nodes, want = nodes_to_find(c), start = pc ? pc->next_start % (n ? n : 1) : 0;
    if (pc == NULL || kn_grow((void **)&pc->found, &pc->cap_found, (size_t)n + 1, sizeof(scored)) != 0) {
        kn_diag_init(d);
        d->n_nodes = n;
        kn_diag_add(d, "scheduler out of memory");
        return false;
    }
    pc->list_valid = false;
    int seen = 0, found = 0;
    kn_prefs max = {0, 0};
    kn_choice ch;
    for (; seen < n && found < want; seen++) {
        int i = (start + seen) % n;
        if (!eval(c, i, w, pass, &ch))
            continue;
        scored *f = &pc->found[found++];
        f->node = i;
        f->score = ch.score;
        kn_prefs_of_node(&c->nodes[i], w->pod, &f->prefs);
        if (f->prefs.affinity > max.affinity)
            max.affinity = f->prefs.affinity;
        if (f->prefs.taints > max.taints)
            max.taints = f->prefs.taints;
    }
    if (want < n)
        pc->next_start = (start + seen) % (n ? n : 1);
    if (found == 0)
        return diagnose(c, w, kind, pass, d);
    cand b = {-1, 0};
    for (int k = 0; k < found; k++) {
        cand x = {pc->found[k].node, pc->found[k].score + kn_prefs_score(&pc->found[k].prefs, &max)};
        if (b.node < 0 || before(c, &x, &b))
            b = x;
    }
    if (!kn_fit_and_score(c, b.node, w, best)) /* as just evaluated: it fits */
        return diagnose(c, w, kind, pass, d);
    best->score = b.score;
    return true;
}

/* Every node, with the inter-pod filters, for the diagnosis. */
static void diagnose_rel(kn_cluster *c, const kn_want *w, kn_relplan *p, kn_diag *d)
{
    kn_choice ch;
    for (int i = 0; i < c->n_nodes; i++)
        kn_place_on_node_rel(c, i, w, p, &ch, d);
}

static void touch(void *ctx, int node)
{
    struct kn_place_cache *pc = ctx;
    if (pc->mark[node])
        return;
    if (kn_grow((void **)&pc->touched, &pc->cap_touched, pc->n_touched + 1, sizeof(*pc->touched)) != 0) {
        pc->touch_oom = true;
        return;
    }
    pc->mark[node] = 1;
    pc->touched[pc->n_touched++] = node;
}

/* kn_relplan_narrow's candidates from the kind k into pc->rc: the touched
 * nodes that fit, and per domain of few (or over all nodes without one) the
 * best untouched node that fits, found by walking the kind best first until
 * every domain holding one has given it. Returns how many, or -1. */
static int narrow_candidates(kn_cluster *c, struct kn_place_cache *pc, const kn_relplan *p, struct kn_pkind *k,
                             const kn_keymap *few, bool restricted)
{
    size_t had = pc->cap_mark;
    if (kn_grow((void **)&pc->mark, &pc->cap_mark, (size_t)c->n_nodes + 1, 1) != 0)
        return -1;
    memset(pc->mark + had, 0, pc->cap_mark - had); /* marks are cleared after use: only new room */
    pc->n_touched = 0;
    pc->touch_oom = false;
    kn_relplan_touched(p, restricted, touch, pc);
    int ng = few != NULL ? few->n_dom + 1 : 1, n = 0, left = 0;
    int32_t *tcnt = calloc((size_t)ng * 2, sizeof(int32_t));
    const int32_t *counts = few != NULL ? kn_pkind_domain_counts(k, few) : NULL;
    int32_t all = kn_pkind_size(k);
    if (tcnt == NULL || pc->touch_oom || (few != NULL && counts == NULL))
        n = -1;
    for (size_t i = 0; n >= 0 && i < pc->n_touched; i++) {
        kn_pent e;
        int node = pc->touched[i];
        if (!kn_pkind_fits(k, node, &e))
            continue;
        pc->rc[n++] = (kn_relcand){.node = node, .rank = e.rank, .base = e.score};
        tcnt[few != NULL && few->dom[node] >= 0 ? few->dom[node] : ng - 1]++;
    }
    int32_t *have = tcnt + ng;
    for (int g = 0; n >= 0 && !restricted && g < ng; g++)
        left += (few != NULL ? counts[g] : all) > tcnt[g];
    kn_pwalk it;
    kn_pwalk_init(&it, k);
    kn_pent e;
    while (n >= 0 && left > 0 && kn_pwalk_next(&it, &e)) {
        if (pc->mark[e.node])
            continue;
        int g = few != NULL && few->dom[e.node] >= 0 ? few->dom[e.node] : ng - 1;
        if (have[g])
            continue;
        have[g] = 1;
        left--;
        pc->rc[n++] = (kn_relcand){.node = e.node, .rank = e.rank, .base = e.score};
    }
    if (it.oom || left > 0)
        n = -1;
    kn_pwalk_free(&it);
    free(tcnt);
    for (size_t i = 0; i < pc->n_touched; i++)
        pc->mark[pc->touched[i]] = 0;
    return n;
}

/* The candidates of a pod with inter-pod terms: every node its kind fits
 * (the index's, or a scan's; a scan with a percentage stops once that many
 * nodes pass every filter, as kube-scheduler's sampling does), or only the
 * narrowed ones (kn_relplan_narrow; not with preferences, which are
 * normalized over every feasible node), then kn_rel_rank. */
static bool place_related(kn_cluster *c, const kn_want *w, const kn_pod_kind *kind, kn_relplan *p, kn_choice *best,
                          kn_diag *d, bool may_index)
{
    struct kn_place_cache *pc = c->pc;
    if (p->oom || pc == NULL ||
        kn_grow((void **)&pc->rc, &pc->cap_rc, (size_t)c->n_nodes + 1, sizeof(*pc->rc)) != 0) {
        d->n_nodes = c->n_nodes;
        kn_diag_add(d, "out of memory reading inter-pod affinity and topology spread");
        return false;
    }
    int n = 0, want = nodes_to_find(c);
    struct kn_pkind *k = may_index && want >= c->n_nodes ? kn_pindex_exact(c, &pc->ix, w, kind) : NULL;
    const kn_keymap *few;
    bool restricted, indexed = k != NULL;
    if (k != NULL && !p->prefer && kn_relplan_narrow(p, &few, &restricted) &&
        (n = narrow_candidates(c, pc, p, k, few, restricted)) >= 0) {
        /* narrowed */
    } else if (k != NULL &&
               kn_grow((void **)&pc->ents, &pc->cap_ents, (size_t)c->n_nodes + 1, sizeof(*pc->ents)) == 0) {
        int ne = kn_pkind_entries(k, pc->ents);
        for (n = 0; n < ne; n++)
            pc->rc[n] =
                (kn_relcand){.node = pc->ents[n].node, .rank = pc->ents[n].rank, .base = pc->ents[n].score};
    } else {
        indexed = false;
        n = 0;
        uint8_t *pass = pass_array(c, w);
        int start = pc->next_start % (c->n_nodes ? c->n_nodes : 1), seen = 0, found = 0;
        kn_choice ch;
        for (; seen < c->n_nodes && found < want; seen++) {
            int i = (start + seen) % c->n_nodes;
            if (!eval(c, i, w, pass, &ch))
                continue;
            pc->rc[n++] = (kn_relcand){.node = i, .rank = -1, .base = ch.score};
            found += kn_rel_filter(p, i) == KN_REL_OK;
        }
        if (want < c->n_nodes)
            pc->next_start = (start + seen) % (c->n_nodes ? c->n_nodes : 1);
    }
    double total;
    int bi = kn_rel_rank(p, pc->rc, n, &total);
    if (bi < 0) {
        diagnose_rel(c, w, p, d);
        return false;
    }
    kn_relcand win = pc->rc[bi];
    /* the index ranks for a pod holding no zone: the pod itself must see the same */
    if (!kn_fit_and_score(c, win.node, w, best) || best->score != win.base) {
        if (indexed) /* the pod holds an isolated zone there: a scan for the pod itself */
            return place_related(c, w, kind, p, best, d, false);
        diagnose_rel(c, w, p, d);
        return false;
    }
    best->score = total;
    return true;
}

bool kn_place_best(kn_cluster *c, const kn_want *w, kn_choice *best, kn_diag *d)
{
    if (c->pc == NULL) {
        c->pc = calloc(1, sizeof(*c->pc));
        c->pc_free = kn_place_cache_free;
    }
    kn_pod_kind kind;
    kn_pod_kind_of(w, &kind);
    if (w->rel != NULL) {
        kn_relplan p;
        if (kn_relplan_init(c, w, &p)) {
            bool ok = place_related(c, w, &kind, &p, best, d, true);
            kn_relplan_free(&p);
            return ok;
        }
        kn_relplan_free(&p);
    }
    uint8_t *pass = pass_array(c, w);
    struct kn_place_cache *pc = c->pc;
    if (pc && pass && failed_before(pc, c, &kind)) {
        *d = pc->f_diag;
        return false;
    }
    /* a ReadWriteOncePod claim in use fails every node: straight to why */
    int got = w->vol && w->vol->rwop_conflict        ? 0
              : pc && nodes_to_find(c) >= c->n_nodes ? kn_pindex_best(c, &pc->ix, w, &kind, best)
                                                     : -1;
    if (got == 1)
        return true;
    if (got == 0) /* no node fits: why not, with the diagnosis */
        return diagnose(c, w, &kind, pass, d);
    if (kn_want_prefers(c, w))
        return prefer_scan(c, w, &kind, pass, best, d);
    if (pc && pass && same_kind(pc, &kind) && pc->l_mutations == c->mutations && from_list(c, w, pass, best)) {
        pc->l_mutations = c->mutations + 1;
        return true;
    }
    bool found = false;
    int feasible = 0, want = nodes_to_find(c), start = pc ? pc->next_start % (c->n_nodes ? c->n_nodes : 1) : 0;
    int seen = 0;
    if (pc)
        pc->n_list = 0;
    kn_choice ch;
    for (; seen < c->n_nodes && feasible < want; seen++) {
        int i = (start + seen) % c->n_nodes;
        if (!eval(c, i, w, pass, &ch))
            continue;
        cand x = {ch.node, ch.score}, y = {found ? best->node : 0, found ? best->score : 0};
        if (!found || before(c, &x, &y)) {
            *best = ch;
            found = true;
        }
        if (pc)
            list_insert(c, &ch, &feasible);
        else
            feasible++;
    }
    if (pc && want < c->n_nodes) /* sampling: the next scan starts where this one stopped */
        pc->next_start = (start + seen) % (c->n_nodes ? c->n_nodes : 1);
    if (pc) {
        remember(c, &kind);
        pc->complete = feasible <= TOP_K && seen == c->n_nodes;
        if (pc->n_list > 0)
            pc->last = pc->list[pc->n_list - 1];
        pc->l_mutations = c->mutations + 1;
        pc->list_valid = pc->list_valid && found;
    }
    if (found)
        return true;
    return diagnose(c, w, &kind, pass, d);
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
