/* preempt.c - preemption: the victims that make a pod, a gang or a Spark
 * driver with its executor slots fit, and the room held for it until they
 * are gone (see core.h).
 *
 * Per pod to place, kube-scheduler's DefaultPreemption
 * (pkg/scheduler/framework/preemption, plugins/defaultpreemption):
 *  - candidate nodes pass the pod's static filters (evicting nobody lifts a
 *    taint, a selector or an affinity); on each, every lower-priority victim
 *    unit is taken off and the pod must then fit, else the node is no
 *    candidate; its volumes are checked as when it is placed, but a
 *    victim's are not taken off (evicting frees room, not a
 *    ReadWriteOncePod claim nor a CSI attachment), and claims that fit no
 *    node (PreFilter) make preemption not helpful;
 *  - units are reprieved most important first, those whose eviction would
 *    exceed a PodDisruptionBudget before the others, each kept when the pod
 *    still fits with it back;
 *  - candidates rank as in pickOneNodeForPreemption: fewest budget
 *    violations, lowest highest-victim priority, smallest sum of victim
 *    priorities (each + 2^31), fewest victims, latest start of the
 *    highest-priority victims, then the smaller node name (kube-scheduler:
 *    the first found);
 *  - the search stops at max(10% of the nodes, 100) candidates once one
 *    violates no budget (minCandidateNodesPercentage and -Absolute), and
 *    starts where the last one stopped (kube-scheduler: a random offset).
 * What is evicted or reprieved is a unit, not a pod:
 *  - a pod in no gang: itself;
 *  - a gang member: its whole gang (every running member and the executor
 *    slots it holds), and only when no member has the preemptor's priority
 *    or more; but members beyond min-available (dynamic allocation; never
 *    the Spark driver) go one by one, youngest first, while the gang keeps
 *    min-available running;
 *  - a Spark driver in no gang: itself and the running pods it owns;
 *  - executor slots a lower-priority gang holds on the node: moved to
 *    other nodes, evicting nobody, when they fit there; else they go only
 *    with their gang.
 * Importance, reprieved first: gangs, drivers and pods (by priority, then
 * the older start), then members beyond min-available, then slots.
 * A gang (or a driver with its slots) is placed member by member: each
 * takes free room when there is some, else the best candidate as above,
 * counting the room the victims chosen before it freed; all fit or every
 * victim is put back (a journal of what was taken off).
 * Victims stay counted on their nodes until the watch shows them gone; the
 * preemptor's room (a nomination's holds) is held on top meanwhile, so
 * nobody of its priority or lower fits there. Pods of higher priority do
 * not see it: holds are taken off at the start of a cycle and put back
 * before the first queue entry of their priority or lower. */
#include "scheduler/cycle/core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"
#include "base/siphash.h"

#define MIN_CANDIDATES 100    /* kube-scheduler's minCandidateNodesAbsolute */
#define MIN_CANDIDATES_PCT 10 /* and minCandidateNodesPercentage */
#define NOM_SLACK_S 120.0     /* a nomination waits for its victims their grace period and this */
#define NO_VICTIMS_MSG "No preemption victims found for incoming pod"
#define NOT_HELPFUL_MSG "Preemption is not helpful for scheduling"

enum { U_SLOTS, U_ELASTIC, U_POD, U_DRIVER, U_GANG };

typedef struct unit {
    int kind;
    int id;         /* pod (U_POD, U_ELASTIC, U_DRIVER), gang (U_GANG) or reservation (U_SLOTS) */
    int32_t prio;   /* its highest priority */
    double start;   /* its earliest start */
    bool own_slots; /* U_GANG: its slots on the node are its own (no U_SLOTS unit for them) */
    bool victim, violating, forced;
    int on, n_on; /* U_GANG: its members on the node (not units of their own): pre->on[on .. on+n_on) */
} unit;

enum { J_POD, J_SLOT, J_MOVE };

/* What a session took off the cluster, to put back or to make final. */
typedef struct jent {
    int kind;
    int a, b;     /* J_POD: pod a; J_SLOT, J_MOVE: reservation a's slot b */
    int by, node; /* J_POD: the preemptor pod and its node */
    int gang;     /* J_POD: evicted with this gang, or -1 */
    int driver;   /* J_POD: evicted with this driver, or -1 */
    kn_alloc old; /* J_MOVE: the slot where it was (released) */
} jent;

/* A running pod owned by a Pod (a Spark executor of a driver in no gang). */
typedef struct dep {
    uint64_t owner;
    int pod;
} dep;

typedef struct pinfo {
    uint32_t evicted; /* == session: taken off in this session */
    uint32_t elastic; /* == evaluation: a unit of its own on the node evaluated */
    uint32_t counted; /* == rank: already counted (budgets, a candidate's victims) */
} pinfo;

typedef struct ginfo {
    uint32_t sess; /* the fields below are this session's */
    bool evicted, binding;
    int32_t prio; /* highest priority of any member */
    int running, elastic_used;
    double start; /* earliest start of a running member */
    /* what evicting it costs, as a candidate is ranked (victimable members not
     * evicted in this session), worked out again only after one of its
     * members went or came back */
    unsigned changes; /* members evicted or put back in this session */
    unsigned agg;     /* changes when worked out, + 1; 0 not yet */
    uint32_t ranked;  /* pre->rank when a victim of the candidate ranked */
    int count;
    int64_t sum, hi;
    double latest;
} ginfo;

typedef struct rinfo {
    uint32_t evicted, unmovable; /* == session */
} rinfo;

typedef struct kn_nom {
    bool live, shown; /* shown: the holds are taken */
    int gang;         /* the preemptor's gang, -1 for a pod */
    int32_t prio;
    kn_alloc *holds;
    int *hold_pod; /* the pod a hold is for; -1: an executor slot */
    int n_holds;
    int *pods; /* the preemptor pods and their uids (a record may be reused) */
    char **pod_uids;
    int n_pods;
    char **victims; /* uids of victims not yet seen gone */
    int n_victims;
    double deadline;
} kn_nom;

/* A candidate node and its victim units. */
typedef struct cand {
    int node;
    int viol, count;
    int64_t hi, sum;
    double latest;
    unit *units;
    int n_units;
    size_t cap_units;
} cand;

/* One preemptor (a pod, or a gang and its slots) looking for room. */
typedef struct sess {
    int32_t prio;
    double now;
    int by; /* the pod being placed */
    jent *j;
    int n_j;
    size_t cap_j;
    int n_victims;
} sess;

struct kn_preempt {
    kn_nom *noms;
    int n_noms;
    size_t cap_noms;
    int *gang_nom; /* per gang: its nomination's index + 1, 0 none */
    size_t cap_gang_nom;
    /* this cycle's running pods by node, and pods owned by a Pod */
    bool idx_valid;
    int *node_first, *node_pods;
    size_t cap_first, cap_node_pods;
    dep *deps;
    int n_deps;
    size_t cap_deps;
    int32_t min_prio;   /* lowest priority of a running pod, INT32_MAX if none */
    int n_hidden;       /* nominations whose holds are taken off for this cycle */
    int32_t max_hidden; /* the highest priority among them */
    int offset;         /* where the next search starts */
    /* scratch */
    uint32_t session, eval, rank;
    double now; /* the session's clock (a pod not started yet starts now) */
    pinfo *pi;
    size_t cap_pi;
    ginfo *gi;
    size_t cap_gi;
    rinfo *ri;
    size_t cap_ri;
    int32_t *allowed; /* budgets left in this session */
    size_t cap_allowed;
    int32_t *eval_allowed;
    size_t cap_eval_allowed;
    unit *units;
    size_t cap_units;
    int *on; /* gang members on the node evaluated (unit.on) */
    int n_on;
    size_t cap_on;
    cand best, cur;
    uint64_t attempts, successes, victims;
};

/* ---- state ---- */

static kn_preempt *pre_of(kn_scheduler *s)
{
    if (s->pre == NULL && (s->pre = calloc(1, sizeof(kn_preempt))) != NULL)
        s->pre->min_prio = INT32_MAX;
    return s->pre;
}

static void nom_free(kn_cluster *c, kn_nom *n)
{
    for (int i = 0; i < n->n_holds; i++) {
        kn_alloc_clear(&n->holds[i]);
        free(n->holds[i].ports);          /* a copy (see commit) */
        kn_rel_unref(c, n->holds[i].rel); /* held (see commit) */
    }
    free(n->holds);
    free(n->hold_pod);
    for (int i = 0; i < n->n_pods; i++)
        free(n->pod_uids[i]);
    free(n->pod_uids);
    free(n->pods);
    for (int i = 0; i < n->n_victims; i++)
        free(n->victims[i]);
    free(n->victims);
    memset(n, 0, sizeof(*n));
}

void kn_preempt_free(kn_scheduler *s)
{
    kn_preempt *p = s->pre;
    if (p == NULL)
        return;
    for (int i = 0; i < p->n_noms; i++) {
        if (p->noms[i].live && p->noms[i].shown)
            for (int h = 0; h < p->noms[i].n_holds; h++)
                kn_alloc_release(&s->c, &p->noms[i].holds[h]);
        nom_free(&s->c, &p->noms[i]);
    }
    free(p->noms);
    free(p->gang_nom);
    free(p->node_first);
    free(p->node_pods);
    free(p->deps);
    free(p->pi);
    free(p->gi);
    free(p->ri);
    free(p->allowed);
    free(p->eval_allowed);
    free(p->units);
    free(p->on);
    free(p->best.units);
    free(p->cur.units);
    free(p);
    s->pre = NULL;
}

/* Holds room on a node. */
static bool running(const kn_cpod *p)
{
    return p->live && p->state != KN_POD_PENDING && p->alloc.node >= 0;
}

/* May be chosen: a pod already going (a victim before, or terminating) is
 * one too, as kube-scheduler counts it (nothing more is written for it); the
 * room it leaves is not counted twice, since the first preemptor's room is
 * held on top of it. */
static bool victimable(const kn_cpod *p)
{
    return running(p);
}

static int cmp_dep(const void *a, const void *b)
{
    const dep *x = a, *y = b;
    if (x->owner != y->owner)
        return x->owner < y->owner ? -1 : 1;
    return x->pod - y->pod;
}

/* Running pods by node (bucketed), the lowest running priority, and the
 * pods owned by a Pod; built once a cycle, when a preemption first needs it. */
static int build_index(kn_scheduler *s, kn_preempt *pre)
{
    kn_cluster *c = &s->c;
    size_t nn = (size_t)c->n_nodes + 1;
    if (kn_grow((void **)&pre->node_first, &pre->cap_first, nn + 1, sizeof(int)) != 0 ||
        kn_grow((void **)&pre->node_pods, &pre->cap_node_pods, (size_t)c->n_pods + 1, sizeof(int)) != 0)
        return -1;
    memset(pre->node_first, 0, sizeof(int) * (nn + 1));
    pre->min_prio = INT32_MAX;
    pre->n_deps = 0;
    for (int i = 0; i < c->n_pods; i++) {
        const kn_cpod *p = &c->pods[i];
        if (!running(p))
            continue;
        pre->node_first[p->alloc.node + 1]++;
        if (!p->binding && p->priority < pre->min_prio)
            pre->min_prio = p->priority;
        if (p->owner_pod != 0) {
            if (kn_grow((void **)&pre->deps, &pre->cap_deps, (size_t)pre->n_deps + 1, sizeof(dep)) != 0)
                return -1;
            pre->deps[pre->n_deps++] = (dep){p->owner_pod, i};
        }
    }
    for (size_t k = 1; k <= nn; k++)
        pre->node_first[k] += pre->node_first[k - 1];
    int *fill = pre->node_first; /* filled from the front, then shifted back */
    for (int i = 0; i < c->n_pods; i++)
        if (running(&c->pods[i]))
            pre->node_pods[fill[c->pods[i].alloc.node]++] = i;
    for (size_t k = nn; k > 0; k--)
        fill[k] = fill[k - 1];
    fill[0] = 0;
    if (pre->n_deps > 1)
        qsort(pre->deps, (size_t)pre->n_deps, sizeof(dep), cmp_dep);
    pre->idx_valid = true;
    return 0;
}

/* The pods driver p owns: deps[*first .. *end). */
static void deps_of(const kn_preempt *pre, const kn_cpod *p, int *first, int *end)
{
    uint64_t h = kn_keyhash_str(p->uid);
    int lo = 0, hi = pre->n_deps;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (pre->deps[mid].owner < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    *first = lo;
    while (lo < pre->n_deps && pre->deps[lo].owner == h)
        lo++;
    *end = lo;
}

/* Scratch arrays as long as the cluster's tables. */
static int ensure_scratch(kn_scheduler *s, kn_preempt *pre)
{
    size_t np = (size_t)s->c.n_pods + 1, ng = (size_t)s->n_gangs + 1, nr = (size_t)s->n_resvs + 1;
    size_t old_pi = pre->cap_pi, old_gi = pre->cap_gi, old_ri = pre->cap_ri;
    if (kn_grow((void **)&pre->pi, &pre->cap_pi, np, sizeof(pinfo)) != 0 ||
        kn_grow((void **)&pre->gi, &pre->cap_gi, ng, sizeof(ginfo)) != 0 ||
        kn_grow((void **)&pre->ri, &pre->cap_ri, nr, sizeof(rinfo)) != 0 ||
        kn_grow((void **)&pre->allowed, &pre->cap_allowed, (size_t)s->c.n_pdbs + 1, sizeof(int32_t)) != 0 ||
        kn_grow((void **)&pre->eval_allowed, &pre->cap_eval_allowed, (size_t)s->c.n_pdbs + 1, sizeof(int32_t)) !=
            0)
        return -1;
    memset(pre->pi + old_pi, 0, (pre->cap_pi - old_pi) * sizeof(pinfo));
    memset(pre->gi + old_gi, 0, (pre->cap_gi - old_gi) * sizeof(ginfo));
    memset(pre->ri + old_ri, 0, (pre->cap_ri - old_ri) * sizeof(rinfo));
    return 0;
}

static ginfo *gang_info(kn_scheduler *s, kn_preempt *pre, int g)
{
    ginfo *gi = &pre->gi[g];
    if (gi->sess == pre->session)
        return gi;
    memset(gi, 0, sizeof(*gi));
    gi->sess = pre->session;
    gi->prio = INT32_MIN;
    gi->start = INFINITY;
    const kn_gangrec *gr = &s->gangs[g];
    for (int m = 0; m < gr->n; m++) {
        const kn_cpod *p = &s->c.pods[gr->members[m]];
        if (p->priority > gi->prio)
            gi->prio = p->priority;
        gi->running += running(p) && !p->preempted; /* what min-available counts on */
        gi->binding = gi->binding || p->binding;
        if (running(p))
            gi->start = fmin(gi->start, p->started > 0 ? p->started : pre->now);
    }
    return gi;
}

/* A gang may go as a whole: nothing of it is worth as much as the preemptor. */
static bool gang_evictable(const ginfo *gi, int32_t prio)
{
    return !gi->evicted && !gi->binding && gi->prio < prio;
}

/* ---- the units on one node ---- */

static double start_of(const kn_cpod *p, double now)
{
    return p->started > 0 ? p->started : now; /* kube-scheduler: not started yet is now */
}

static int add_unit(kn_preempt *pre, int *n, unit u)
{
    if (kn_grow((void **)&pre->units, &pre->cap_units, (size_t)*n + 1, sizeof(unit)) != 0)
        return -1;
    pre->units[(*n)++] = u;
    return 0;
}

static bool has_unit(const kn_preempt *pre, int n, int kind, int id)
{
    for (int i = 0; i < n; i++)
        if (pre->units[i].kind == kind && pre->units[i].id == id)
            return true;
    return false;
}

static bool resv_on(const kn_resv *r, int node)
{
    for (int k = 0; k < r->n_slots; k++)
        if (r->slots[k].node == node)
            return true;
    return false;
}

static bool resv_movable(const kn_preempt *pre, const kn_resv *r, int ri)
{
    return r->annotation != NULL && r->cons != NULL && pre->ri[ri].unmovable != pre->session;
}

static int cmp_younger(const void *a, const void *b, void *ctx)
{
    const kn_cluster *c = ctx;
    const kn_cpod *x = &c->pods[*(const int *)a], *y = &c->pods[*(const int *)b];
    if (x->started != y->started)
        return x->started > y->started ? -1 : 1;
    return x->seq > y->seq ? -1 : x->seq < y->seq;
}

/* The running members gang g keeps: its min-available, or for a gang a
 * PodGroup names, the PodGroup's minMember (the gang's own copy is set only
 * when it is attempted; its pods may have been bound before, by another
 * replica or before a restart); a PodGroup not known or bad: every member
 * (nothing of the gang goes alone). */
static int gang_keeps(kn_scheduler *s, const kn_gangrec *gr)
{
    if (gr->kind == KN_GANG_LABELS)
        return gr->min_available;
    const kn_pgrec *pg = kn_cluster_podgroup(&s->c, gr->kind, gr->ns, gr->name);
    return pg != NULL && pg->bad == NULL ? pg->min_member : KN_GANG_MAX_MEMBERS;
}

/* Gang g's running members on node X (list M of m): members beyond
 * min-available as units of their own, youngest first, the rest as the gang. */
static int gang_units(kn_scheduler *s, kn_preempt *pre, const sess *ss, int g, int *M, int m, int *n)
{
    ginfo *gi = gang_info(s, pre, g);
    const kn_gangrec *gr = &s->gangs[g];
    int budget = gi->running - gi->elastic_used - gang_keeps(s, gr);
    qsort_r(M, (size_t)m, sizeof(int), cmp_younger, &s->c);
    int on = pre->n_on;
    for (int i = 0; i < m; i++) {
        kn_cpod *p = &s->c.pods[M[i]];
        bool going = p->preempted && !p->driver; /* costs no budget: already counted out */
        if ((going || budget > 0) && !p->driver && !p->binding && p->priority < ss->prio) {
            budget -= !going;
            pre->pi[M[i]].elastic = pre->eval;
            if (add_unit(
                    pre, n,
                    (unit){.kind = U_ELASTIC, .id = M[i], .prio = p->priority, .start = start_of(p, ss->now)}) !=
                0)
                return -1;
        } else {
            if (kn_grow((void **)&pre->on, &pre->cap_on, (size_t)pre->n_on + 1, sizeof(int)) != 0)
                return -1;
            pre->on[pre->n_on++] = M[i];
        }
    }
    if (pre->n_on > on && gang_evictable(gi, ss->prio))
        return add_unit(pre, n,
                        (unit){.kind = U_GANG,
                               .id = g,
                               .prio = gi->prio,
                               .start = gi->start,
                               .own_slots = true,
                               .on = on,
                               .n_on = pre->n_on - on});
    pre->n_on = on; /* not a unit: nothing of it goes */
    return 0;
}

static int cmp_gang_of(const void *a, const void *b, void *ctx)
{
    const kn_cluster *c = ctx;
    return c->pods[*(const int *)a].gang - c->pods[*(const int *)b].gang;
}

/* The victim units on node X for a preemptor of priority ss->prio into
 * pre->units; returns how many, -1 out of memory. */
static int collect_units(kn_scheduler *s, kn_preempt *pre, const sess *ss, int X)
{
    kn_cluster *c = &s->c;
    int n = 0;
    int first = pre->node_first[X], end = pre->node_first[X + 1];
    int *gm = malloc(sizeof(int) * (size_t)(end - first + 1)), ng = 0;
    if (gm == NULL)
        return -1;
    pre->eval++;
    pre->n_on = 0;
    for (int k = first; k < end; k++) {
        int pi = pre->node_pods[k];
        kn_cpod *p = &c->pods[pi];
        if (!victimable(p) || p->binding || p->alloc.node != X || pre->pi[pi].evicted == pre->session)
            continue;
        if (p->gang >= 0) {
            gm[ng++] = pi;
            continue;
        }
        int d0 = 0, d1 = 0;
        if (p->driver)
            deps_of(pre, p, &d0, &d1);
        int32_t prio = p->priority;
        for (int d = d0; d < d1; d++)
            if (victimable(&c->pods[pre->deps[d].pod]) && c->pods[pre->deps[d].pod].priority > prio)
                prio = c->pods[pre->deps[d].pod].priority;
        if (prio < ss->prio && add_unit(pre, &n,
                                        (unit){.kind = d1 > d0 ? U_DRIVER : U_POD,
                                               .id = pi,
                                               .prio = prio,
                                               .start = start_of(p, ss->now)}) != 0)
            goto oom;
    }
    qsort_r(gm, (size_t)ng, sizeof(int), cmp_gang_of, c);
    for (int i = 0; i < ng;) {
        int j = i;
        while (j < ng && c->pods[gm[j]].gang == c->pods[gm[i]].gang)
            j++;
        if (gang_units(s, pre, ss, c->pods[gm[i]].gang, gm + i, j - i, &n) != 0)
            goto oom;
        i = j;
    }
    for (int r = 0; r < s->n_resvs; r++) {
        const kn_resv *rv = &s->resvs[r];
        if (!rv->live || rv->gang < 0 || !resv_on(rv, X))
            continue;
        ginfo *gi = gang_info(s, pre, rv->gang);
        if (!gang_evictable(gi, ss->prio))
            continue;
        if (resv_movable(pre, rv, r)) {
            for (int u = 0; u < n; u++)
                if (pre->units[u].kind == U_GANG && pre->units[u].id == rv->gang)
                    pre->units[u].own_slots = false;
            if (add_unit(pre, &n, (unit){.kind = U_SLOTS, .id = r, .prio = gi->prio}) != 0)
                goto oom;
        } else if (!has_unit(pre, n, U_GANG, rv->gang) && add_unit(pre, &n,
                                                                   (unit){.kind = U_GANG,
                                                                          .id = rv->gang,
                                                                          .prio = gi->prio,
                                                                          .start = ss->now,
                                                                          .own_slots = true,
                                                                          .on = pre->n_on}) != 0) {
            goto oom;
        }
    }
    free(gm);
    return n;
oom:
    free(gm);
    return -1;
}

/* Takes (take) or releases u's room on node X. */
static void unit_on(kn_scheduler *s, kn_preempt *pre, const unit *u, int X, bool take)
{
    kn_cluster *c = &s->c;
    void (*op)(kn_cluster *, kn_alloc *) = take ? kn_alloc_take : kn_alloc_release;
    int resv = -1;
    switch (u->kind) {
    case U_POD:
    case U_ELASTIC:
    case U_DRIVER:
        if (c->pods[u->id].alloc.node == X)
            op(c, &c->pods[u->id].alloc);
        return;
    case U_GANG:
        for (int k = u->on; k < u->on + u->n_on; k++)
            op(c, &c->pods[pre->on[k]].alloc);
        if (u->own_slots)
            resv = s->gangs[u->id].resv;
        break;
    case U_SLOTS: resv = u->id; break;
    }
    if (resv < 0 || !s->resvs[resv].live)
        return;
    kn_resv *r = &s->resvs[resv];
    for (int k = 0; k < r->n_slots; k++)
        if (r->slots[k].node == X)
            op(c, &r->slots[k]);
}

static bool fits(kn_scheduler *s, int X, const kn_want *w, kn_diag *d)
{
    kn_choice ch;
    return kn_place_on_node(&s->c, X, w, &ch, d);
}

/* ---- the pods a unit evicts ---- */

typedef void (*pod_fn)(kn_scheduler *s, kn_preempt *pre, int pod, void *ctx);

/* Every running pod u would evict (not already evicted in this session). */
static void unit_pods(kn_scheduler *s, kn_preempt *pre, const unit *u, pod_fn fn, void *ctx)
{
    kn_cluster *c = &s->c;
    if (u->kind == U_SLOTS)
        return;
    if (u->kind == U_GANG) {
        const kn_gangrec *g = &s->gangs[u->id];
        for (int m = 0; m < g->n; m++)
            if (victimable(&c->pods[g->members[m]]) && pre->pi[g->members[m]].evicted != pre->session)
                fn(s, pre, g->members[m], ctx);
        return;
    }
    if (pre->pi[u->id].evicted != pre->session)
        fn(s, pre, u->id, ctx);
    if (u->kind != U_DRIVER)
        return;
    int d0, d1;
    deps_of(pre, &c->pods[u->id], &d0, &d1);
    for (int d = d0; d < d1; d++) {
        int pi = pre->deps[d].pod;
        if (victimable(&c->pods[pi]) && pre->pi[pi].evicted != pre->session)
            fn(s, pre, pi, ctx);
    }
}

/* kube-scheduler's filterPodsWithPDBViolation, a pod at a time (each once
 * per count): every budget covering it loses one; a budget below zero is
 * violated. */
static void count_budgets(kn_scheduler *s, kn_preempt *pre, int pod, void *ctx)
{
    int *violating = ctx;
    if (pre->pi[pod].counted == pre->rank)
        return;
    pre->pi[pod].counted = pre->rank;
    bool v = false;
    for (int b = 0; b < s->c.n_pdbs; b++)
        if (kn_pdb_covers(&s->c.pdbs[b], &s->c.pods[pod]) && --pre->eval_allowed[b] < 0)
            v = true;
    *violating += v;
}

/* ---- one candidate node ---- */

static int importance(const unit *u)
{
    return u->kind == U_SLOTS ? 0 : u->kind == U_ELASTIC ? 1 : 2;
}

/* a before b: more important (reprieved first). Of the same priority, a
 * gang or a driver with its executors before a pod alone (kube-scheduler's
 * pod-group preemption: atomic workloads first), then the older. */
static int cmp_unit(const void *a, const void *b)
{
    const unit *x = a, *y = b;
    if (importance(x) != importance(y))
        return importance(x) > importance(y) ? -1 : 1;
    if (x->prio != y->prio)
        return x->prio > y->prio ? -1 : 1;
    bool xc = x->kind == U_GANG || x->kind == U_DRIVER, yc = y->kind == U_GANG || y->kind == U_DRIVER;
    if (xc != yc)
        return xc ? -1 : 1;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind - y->kind;
    return x->id - y->id;
}

/* Units u depends on being evicted with (its gang's other units on the node). */
static bool part_of(kn_scheduler *s, const unit *part, const unit *whole)
{
    if (whole->kind == U_GANG)
        return (part->kind == U_ELASTIC && s->c.pods[part->id].gang == whole->id) ||
               (part->kind == U_SLOTS && s->resvs[part->id].gang == whole->id);
    if (whole->kind == U_DRIVER && part->kind == U_POD) {
        const kn_cpod *p = &s->c.pods[part->id];
        return p->owner_pod != 0 && p->owner_pod == kn_keyhash_str(s->c.pods[whole->id].uid);
    }
    return false;
}

typedef struct ranker {
    double now;
    cand *cd;
} ranker;

static void rank_one(kn_scheduler *s, kn_preempt *pre, int pod, void *ctx)
{
    ranker *rk = ctx;
    cand *cd = rk->cd;
    if (pre->pi[pod].counted == pre->rank)
        return;
    pre->pi[pod].counted = pre->rank;
    const kn_cpod *p = &s->c.pods[pod];
    double start = start_of(p, rk->now);
    cd->count++;
    cd->sum += (int64_t)p->priority + 2147483648LL;
    if (p->priority > cd->hi) { /* GetEarliestPodStartTime: among the highest-priority victims */
        cd->hi = p->priority;
        cd->latest = start;
    } else if (p->priority == cd->hi && start < cd->latest) {
        cd->latest = start;
    }
}

/* A victim gang's part of a candidate's rank, its members counted once per
 * session (and again after one of them went or came back): a gang may have
 * thousands of members on hundreds of nodes. */
static void rank_gang(kn_scheduler *s, kn_preempt *pre, int g, cand *cd)
{
    ginfo *gi = gang_info(s, pre, g);
    if (gi->agg != gi->changes + 1) {
        gi->count = 0;
        gi->sum = 0;
        gi->hi = INT64_MIN;
        gi->latest = INFINITY;
        const kn_gangrec *gr = &s->gangs[g];
        for (int m = 0; m < gr->n; m++) {
            const kn_cpod *p = &s->c.pods[gr->members[m]];
            if (!victimable(p) || pre->pi[gr->members[m]].evicted == pre->session)
                continue;
            double start = start_of(p, pre->now);
            gi->count++;
            gi->sum += (int64_t)p->priority + 2147483648LL;
            if (p->priority > gi->hi) {
                gi->hi = p->priority;
                gi->latest = start;
            } else if (p->priority == gi->hi && start < gi->latest) {
                gi->latest = start;
            }
        }
        gi->agg = gi->changes + 1;
    }
    cd->count += gi->count;
    cd->sum += gi->sum;
    if (gi->hi > cd->hi) {
        cd->hi = gi->hi;
        cd->latest = gi->latest;
    } else if (gi->hi == cd->hi && gi->latest < cd->latest) {
        cd->latest = gi->latest;
    }
}

/* Moves u's victim slots elsewhere and back: can they go? The preemptor
 * is placed on X first (it has the room the victims left). */
static bool slots_move(kn_scheduler *s, kn_preempt *pre, const sess *ss, int X, const kn_want *w, int n);

/* Node X for want w: the minimal victim set, ranked, in cd (units copied);
 * false when X is no candidate (why it is not goes to why). The cluster is
 * left as it was. 1: candidate, 0: none, -1 out of memory, 2: evaluate again
 * (slots that looked movable are not: they now go with their gang). */
static int eval_node(kn_scheduler *s, kn_preempt *pre, const sess *ss, int X, const kn_want *w, cand *cd,
                     kn_diag *why)
{
    int n = collect_units(s, pre, ss, X);
    if (n < 0)
        return -1;
    if (n == 0) {
        kn_diag_add(why, NO_VICTIMS_MSG);
        return 0;
    }
    for (int i = 0; i < n; i++)
        unit_on(s, pre, &pre->units[i], X, false);
    kn_diag d;
    kn_diag_init(&d);
    if (!fits(s, X, w, &d)) {
        for (int i = n - 1; i >= 0; i--)
            unit_on(s, pre, &pre->units[i], X, true);
        for (int i = 0; i < d.n; i++)
            kn_diag_add(why, d.r[i].reason);
        return 0;
    }
    qsort(pre->units, (size_t)n, sizeof(unit), cmp_unit);
    bool budgets = s->c.n_pdbs > 0; /* without any, no unit violates one: nothing to count */
    memcpy(pre->eval_allowed, pre->allowed, sizeof(int32_t) * (size_t)s->c.n_pdbs);
    pre->rank++;
    for (int i = 0; budgets && i < n; i++) {
        int v = 0;
        unit_pods(s, pre, &pre->units[i], count_budgets, &v);
        pre->units[i].violating = v > 0;
    }
    /* reprieve: budget-violating units first, then the others, most important first */
    int viol_pods = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            unit *u = &pre->units[i];
            if (u->violating != (pass == 0))
                continue;
            if (u->forced) {
                u->victim = true;
                continue;
            }
            unit_on(s, pre, u, X, true);
            kn_diag scratch;
            kn_diag_init(&scratch);
            if (fits(s, X, w, &scratch))
                continue;
            unit_on(s, pre, u, X, false);
            u->victim = true;
            for (int k = 0; k < n; k++)
                if (!pre->units[k].victim && part_of(s, &pre->units[k], u))
                    pre->units[k].forced = true;
        }
    bool moves = false;
    for (int i = 0; i < n; i++)
        moves = moves || (pre->units[i].victim && pre->units[i].kind == U_SLOTS && !pre->units[i].forced);
    int again = 0;
    if (moves && !slots_move(s, pre, ss, X, w, n))
        again = 2;
    /* rank the victim pods (each once) */
    cd->node = X;
    cd->viol = 0;
    cd->count = 0;
    cd->sum = 0;
    cd->hi = INT64_MIN;
    cd->latest = INFINITY;
    cd->n_units = 0;
    ranker rk = {ss->now, cd};
    memcpy(pre->eval_allowed, pre->allowed, sizeof(int32_t) * (size_t)s->c.n_pdbs);
    pre->rank++;
    for (int i = 0; budgets && i < n; i++)
        if (pre->units[i].victim)
            unit_pods(s, pre, &pre->units[i], count_budgets, &viol_pods);
    pre->rank++;
    for (int i = 0; i < n; i++)
        if (pre->units[i].victim && pre->units[i].kind == U_GANG)
            gang_info(s, pre, pre->units[i].id)->ranked = pre->rank;
    for (int i = 0; i < n; i++) {
        unit *u = &pre->units[i];
        if (u->victim) {
            if (u->kind == U_GANG)
                rank_gang(s, pre, u->id, cd);
            else if (u->kind != U_ELASTIC || gang_info(s, pre, s->c.pods[u->id].gang)->ranked != pre->rank)
                unit_pods(s, pre, u, rank_one, &rk); /* a member of a victim gang is counted with it */
            if (kn_grow((void **)&cd->units, &cd->cap_units, (size_t)cd->n_units + 1, sizeof(unit)) != 0)
                again = -1;
            else
                cd->units[cd->n_units++] = *u;
        }
    }
    cd->viol = viol_pods;
    for (int i = n - 1; i >= 0; i--)
        if (pre->units[i].victim)
            unit_on(s, pre, &pre->units[i], X, true);
    return again ? again : 1;
}

/* ---- sessions: taking victims off for good (or putting them back) ---- */

static int journal(sess *ss, jent e)
{
    if (kn_grow((void **)&ss->j, &ss->cap_j, (size_t)ss->n_j + 1, sizeof(jent)) != 0)
        return -1;
    ss->j[ss->n_j++] = e;
    return 0;
}

static void evict_pod(kn_scheduler *s, kn_preempt *pre, sess *ss, int pod, int gang, int driver, int node)
{
    kn_cpod *p = &s->c.pods[pod];
    if (pre->pi[pod].evicted == pre->session || !victimable(p))
        return;
    if (journal(ss, (jent){.kind = J_POD, .a = pod, .by = ss->by, .node = node, .gang = gang, .driver = driver}) !=
        0)
        return;
    kn_alloc_release(&s->c, &p->alloc);
    pre->pi[pod].evicted = pre->session;
    if (p->gang >= 0)
        gang_info(s, pre, p->gang)->changes++;
    for (int b = 0; b < s->c.n_pdbs; b++)
        if (kn_pdb_covers(&s->c.pdbs[b], p))
            pre->allowed[b]--;
}

typedef struct evict_ctx {
    sess *ss;
    int gang, driver, node;
} evict_ctx;

static void evict_one(kn_scheduler *s, kn_preempt *pre, int pod, void *ctx)
{
    evict_ctx *e = ctx;
    evict_pod(s, pre, e->ss, pod, e->gang, e->driver, e->node);
}

/* Unit u off the cluster for good (in this session): its pods everywhere,
 * its gang's slots; U_SLOTS only off node X (moved afterwards). */
static void evict_unit(kn_scheduler *s, kn_preempt *pre, sess *ss, const unit *u, int X)
{
    evict_ctx e = {ss, u->kind == U_GANG ? u->id : -1, u->kind == U_DRIVER ? u->id : -1, X};
    unit_pods(s, pre, u, evict_one, &e);
    if (u->kind == U_ELASTIC && !s->c.pods[u->id].preempted)
        gang_info(s, pre, s->c.pods[u->id].gang)->elastic_used++;
    int resv = -1;
    if (u->kind == U_GANG) {
        gang_info(s, pre, u->id)->evicted = true;
        resv = s->gangs[u->id].resv;
        if (resv >= 0)
            pre->ri[resv].evicted = pre->session;
    }
    if (resv < 0 || !s->resvs[resv].live)
        return;
    kn_resv *r = &s->resvs[resv];
    for (int k = 0; k < r->n_slots; k++)
        if (r->slots[k].node >= 0 && journal(ss, (jent){.kind = J_SLOT, .a = resv, .b = k}) == 0)
            kn_alloc_release(&s->c, &r->slots[k]);
}

/* The want of reservation r's slots, from the driver's annotation it kept
 * (rs, dd and drv hold what w points at; kn_resv_spec_free(rs) after). */
static int slot_want(kn_scheduler *s, const kn_resv *r, kn_resv_spec *rs, kn_pod_detail *dd, kn_cpod *drv,
                     kn_want *w)
{
    memset(dd, 0, sizeof(*dd));
    memset(drv, 0, sizeof(*drv));
    dd->cons = r->cons;
    dd->reservation = r->annotation;
    drv->ns = r->driver_ns;
    drv->name = r->driver_name;
    drv->uid = r->driver_uid;
    kn_err e;
    if (kn_resv_spec_parse(&s->c, drv, dd, rs, &e) != 0)
        return -1;
    *w = (kn_want){.pod = rs->has_tmpl ? &rs->tmpl : &dd->cons->cons,
                   .req = &rs->req,
                   .numa = &rs->numa,
                   .numa_idx = rs->numa_idx,
                   .owner = -1,
                   .binpack = true,
                   .sig = rs->has_tmpl ? rs->tmpl_sig : dd->cons->sig,
                   .rel = rs->rel};
    return 0;
}

/* The best node for w, taken into *a; false when nothing fits (why in d). */
static bool take_free(kn_scheduler *s, const kn_want *w, kn_alloc *a, kn_diag *d)
{
    kn_choice ch;
    if (!kn_place_best(&s->c, w, &ch, d))
        return false;
    if (kn_choice_to_alloc(&ch, a) != 0)
        return false;
    kn_alloc_take(&s->c, a);
    return true;
}

/* Reservation ri's slots on node X (released) placed again anywhere, into
 * to[] (taken). false (nothing left taken) when one does not fit. */
static bool replace_slots(kn_scheduler *s, int ri, int X, kn_alloc *to, int *n_to)
{
    kn_resv *r = &s->resvs[ri];
    kn_resv_spec rs;
    kn_pod_detail dd;
    kn_cpod drv;
    kn_want w;
    *n_to = 0;
    if (slot_want(s, r, &rs, &dd, &drv, &w) != 0)
        return false;
    bool ok = true;
    for (int k = 0; k < r->n_slots && ok; k++) {
        if (r->slots[k].node != X)
            continue;
        kn_diag d;
        kn_diag_init(&d);
        kn_alloc *a = &to[(*n_to)++];
        *a = (kn_alloc){.node = -1, .req = rs.req, .owner = -1, .rel = r->rel};
        ok = take_free(s, &w, a, &d);
        if (!ok)
            kn_alloc_clear(&to[--*n_to]);
    }
    if (!ok)
        for (int k = *n_to - 1; k >= 0; k--) {
            kn_alloc_release(&s->c, &to[k]);
            kn_alloc_clear(&to[k]);
        }
    kn_resv_spec_free(&s->c, &rs);
    return ok;
}

/* With the victims off X and the preemptor on X: do the victim slot units'
 * slots fit elsewhere? Those that do not are marked unmovable. */
static bool slots_move(kn_scheduler *s, kn_preempt *pre, const sess *ss, int X, const kn_want *w, int n)
{
    (void)ss;
    kn_choice ch;
    kn_diag d;
    kn_diag_init(&d);
    kn_alloc me = {.node = -1, .req = *w->req, .owner = w->owner, .rel = w->rel};
    if (!kn_place_on_node(&s->c, X, w, &ch, &d) || kn_choice_to_alloc(&ch, &me) != 0) {
        kn_alloc_clear(&me);
        return false;
    }
    kn_alloc_take(&s->c, &me);
    bool all = true;
    for (int i = 0; i < n; i++) {
        unit *u = &pre->units[i];
        if (!u->victim || u->kind != U_SLOTS || u->forced)
            continue;
        kn_alloc *to = calloc((size_t)s->resvs[u->id].n_slots + 1, sizeof(kn_alloc));
        int nt = 0;
        if (to == NULL || !replace_slots(s, u->id, X, to, &nt)) {
            pre->ri[u->id].unmovable = pre->session;
            all = false;
        }
        for (int k = nt - 1; k >= 0; k--) { /* a trial: put everything back */
            kn_alloc_release(&s->c, &to[k]);
            kn_alloc_clear(&to[k]);
        }
        free(to);
    }
    kn_alloc_release(&s->c, &me);
    kn_alloc_clear(&me);
    return all;
}

/* Puts back everything the session took off, newest first. */
static void undo(kn_scheduler *s, kn_preempt *pre, sess *ss)
{
    for (int i = ss->n_j - 1; i >= 0; i--) {
        jent *e = &ss->j[i];
        if (e->kind == J_POD) {
            kn_alloc_take(&s->c, &s->c.pods[e->a].alloc);
            pre->pi[e->a].evicted = 0;
            if (s->c.pods[e->a].gang >= 0)
                gang_info(s, pre, s->c.pods[e->a].gang)->changes++;
        } else if (e->kind == J_SLOT) {
            kn_alloc_take(&s->c, &s->resvs[e->a].slots[e->b]);
        } else {
            kn_alloc *slot = &s->resvs[e->a].slots[e->b];
            kn_alloc_release(&s->c, slot);
            kn_alloc_clear(slot);
            *slot = e->old;
            kn_alloc_take(&s->c, slot);
        }
    }
    ss->n_j = 0;
}

/* Candidate cd applied for want w: its victims off, the preemptor on its
 * node (into *a, taken), its movable slots moved. 0, or -1 (the caller
 * undoes the session; *a is then not taken). */
static int apply(kn_scheduler *s, kn_preempt *pre, sess *ss, const cand *cd, const kn_want *w, kn_alloc *a)
{
    int X = cd->node;
    for (int i = 0; i < cd->n_units; i++) {
        const unit *u = &cd->units[i];
        if (u->kind == U_SLOTS && !u->forced)
            unit_on(s, pre, u, X, false); /* released here, placed again below */
        else if (u->kind != U_SLOTS)
            evict_unit(s, pre, ss, u, X);
    }
    kn_choice ch;
    kn_diag d;
    kn_diag_init(&d);
    bool taken = kn_place_on_node(&s->c, X, w, &ch, &d) && kn_choice_to_alloc(&ch, a) == 0, ok = taken;
    if (taken)
        kn_alloc_take(&s->c, a);
    for (int i = 0; i < cd->n_units; i++) {
        const unit *u = &cd->units[i];
        if (u->kind != U_SLOTS || u->forced)
            continue;
        kn_resv *r = &s->resvs[u->id];
        kn_alloc *to = ok ? calloc((size_t)r->n_slots + 1, sizeof(kn_alloc)) : NULL;
        int nt = 0;
        if (to == NULL || !replace_slots(s, u->id, X, to, &nt)) {
            ok = false;
            unit_on(s, pre, u, X, true); /* back where they were */
            free(to);
            continue;
        }
        for (int k = 0, t = 0; k < r->n_slots; k++) {
            if (r->slots[k].node != X || t >= nt)
                continue;
            if (journal(ss, (jent){.kind = J_MOVE, .a = u->id, .b = k, .old = r->slots[k]}) != 0) {
                kn_alloc_release(&s->c, &to[t]);
                kn_alloc_clear(&to[t]);
                kn_alloc_take(&s->c, &r->slots[k]);
                ok = false;
            } else {
                r->slots[k] = to[t];
            }
            t++;
        }
        free(to);
    }
    if (!ok && taken) {
        kn_alloc_release(&s->c, a);
        kn_alloc_clear(a);
    }
    return ok ? 0 : -1;
}

static bool better(const kn_cluster *c, const cand *a, const cand *b)
{
    if (a->viol != b->viol)
        return a->viol < b->viol;
    if (a->hi != b->hi)
        return a->hi < b->hi;
    if (a->sum != b->sum)
        return a->sum < b->sum;
    if (a->count != b->count)
        return a->count < b->count;
    if (a->latest != b->latest)
        return a->latest > b->latest;
    return strcmp(c->nodes[a->node].name, c->nodes[b->node].name) < 0;
}

static int live_nodes(const kn_cluster *c)
{
    int n = 0;
    for (int i = 0; i < c->n_nodes; i++)
        n += c->nodes[i].live;
    return n;
}

/* The best candidate for w in pre->best: 1, 0 (none: why says why each node
 * is not one), -1 out of memory. */
static int search(kn_scheduler *s, kn_preempt *pre, const sess *ss, const kn_want *w, kn_diag *why)
{
    kn_cluster *c = &s->c;
    int nodes = live_nodes(c), want = nodes * MIN_CANDIDATES_PCT / 100, found = 0, clean = 0;
    if (want < MIN_CANDIDATES)
        want = MIN_CANDIDATES;
    kn_diag_init(why);
    why->n_nodes = nodes;
    int start = c->n_nodes ? pre->offset % c->n_nodes : 0, i;
    for (i = 0; i < c->n_nodes && !(clean > 0 && found >= want); i++) {
        int X = (start + i) % c->n_nodes;
        const kn_node *node = &c->nodes[X];
        if (!node->live)
            continue;
        kn_diag scratch;
        kn_diag_init(&scratch);
        if (!kn_filter_static(node, w->pod, &scratch)) {
            kn_diag_add(why, NOT_HELPFUL_MSG);
            continue;
        }
        int rc;
        for (int tries = 0; (rc = eval_node(s, pre, ss, X, w, &pre->cur, why)) == 2 && tries <= s->n_resvs;
             tries++)
            ;
        if (rc < 0)
            return -1;
        if (rc != 1)
            continue;
        found++;
        clean += pre->cur.viol == 0;
        if (found == 1 || better(c, &pre->cur, &pre->best)) {
            cand t = pre->best;
            pre->best = pre->cur;
            pre->cur = t;
        }
    }
    pre->offset = c->n_nodes ? (start + i) % c->n_nodes : 0;
    return found > 0;
}

/* ---- nominations ---- */

static kn_nom *nom_of(kn_scheduler *s, int pi)
{
    kn_preempt *pre = s->pre;
    const kn_pod_detail *d = s->c.pods[pi].d;
    if (pre == NULL || d == NULL || d->nom <= 0 || d->nom > pre->n_noms)
        return NULL;
    kn_nom *n = &pre->noms[d->nom - 1];
    return n->live ? n : NULL;
}

static void show(kn_scheduler *s, kn_nom *n, bool on)
{
    if (n->shown == on)
        return;
    for (int h = 0; h < n->n_holds; h++)
        (on ? kn_alloc_take : kn_alloc_release)(&s->c, &n->holds[h]);
    n->shown = on;
}

/* Its room released, its pods told they may be placed anew. */
static void drop(kn_scheduler *s, kn_nom *n)
{
    show(s, n, false);
    int ni = (int)(n - s->pre->noms) + 1;
    if (n->gang >= 0 && (size_t)n->gang < s->pre->cap_gang_nom && s->pre->gang_nom[n->gang] == ni)
        s->pre->gang_nom[n->gang] = 0;
    for (int i = 0; i < n->n_pods; i++) {
        int pi = n->pods[i];
        kn_cpod *p = &s->c.pods[pi];
        if (p->live && p->d && strcmp(p->uid, n->pod_uids[i]) == 0 && p->d->nom == ni)
            p->d->nom = 0;
    }
    nom_free(&s->c, n);
    s->c.gen++;
}

/* Victims not seen gone yet (the list shrinks as they go). */
static int victims_left(kn_scheduler *s, kn_nom *n)
{
    for (int i = 0; i < n->n_victims;) {
        int pi = kn_strmap_get(&s->c.pod_by_uid, n->victims[i]);
        if (pi >= 0 && s->c.pods[pi].live) {
            i++;
            continue;
        }
        free(n->victims[i]);
        n->victims[i] = n->victims[--n->n_victims];
    }
    return n->n_victims;
}

bool kn_preempt_gang_nominated(const kn_scheduler *s, int gi)
{
    return s->pre && (size_t)gi < s->pre->cap_gang_nom && s->pre->gang_nom[gi] > 0;
}

bool kn_preempt_waiting(const kn_cycle *cy, const int *P, int np)
{
    kn_scheduler *s = cy->s;
    kn_nom *n = NULL;
    for (int i = 0; i < np && n == NULL; i++)
        n = nom_of(s, P[i]);
    if (n == NULL)
        return false;
    if (victims_left(s, n) > 0 && cy->now < n->deadline)
        return true;
    drop(s, n);
    return false;
}

static bool nom_valid(kn_scheduler *s, const kn_nom *n)
{
    int ni = (int)(n - s->pre->noms) + 1;
    for (int i = 0; i < n->n_pods; i++) {
        const kn_cpod *p = &s->c.pods[n->pods[i]];
        if (!p->live || p->state != KN_POD_PENDING || p->d == NULL || strcmp(p->uid, n->pod_uids[i]) != 0 ||
            p->d->nom != ni)
            return false;
    }
    return true;
}

void kn_preempt_cycle_begin(kn_scheduler *s)
{
    kn_preempt *pre = s->pre;
    if (pre == NULL)
        return;
    pre->idx_valid = false;
    for (int i = 0; i < pre->n_noms; i++) {
        kn_nom *n = &pre->noms[i];
        if (!n->live)
            continue;
        if (!nom_valid(s, n))
            drop(s, n);
        else
            show(s, n, false);
    }
    pre->n_hidden = 0;
    pre->max_hidden = INT32_MIN;
    for (int i = 0; i < pre->n_noms; i++)
        if (pre->noms[i].live && !pre->noms[i].shown) {
            pre->n_hidden++;
            if (pre->noms[i].prio > pre->max_hidden)
                pre->max_hidden = pre->noms[i].prio;
        }
}

void kn_preempt_show(kn_scheduler *s, int32_t prio)
{
    kn_preempt *pre = s->pre;
    if (pre == NULL || pre->n_hidden == 0 || prio > pre->max_hidden)
        return; /* queue entries come highest priority first: mostly nothing to do */
    pre->max_hidden = INT32_MIN;
    for (int i = 0; i < pre->n_noms; i++) {
        kn_nom *n = &pre->noms[i];
        if (!n->live || n->shown)
            continue;
        if (n->prio >= prio) {
            show(s, n, true);
            pre->n_hidden--;
        } else if (n->prio > pre->max_hidden) {
            pre->max_hidden = n->prio;
        }
    }
}

void kn_preempt_cycle_end(kn_scheduler *s)
{
    kn_preempt *pre = s->pre;
    for (int i = 0; pre && i < pre->n_noms; i++)
        if (pre->noms[i].live)
            show(s, &pre->noms[i], true);
    if (pre)
        pre->n_hidden = 0;
}

void kn_preempt_forget_pod(kn_scheduler *s, int pi)
{
    kn_preempt *pre = s->pre;
    for (int i = 0; pre && i < pre->n_noms; i++) {
        kn_nom *n = &pre->noms[i];
        for (int k = 0; n->live && k < n->n_pods; k++)
            if (n->pods[k] == pi) {
                drop(s, n);
                break;
            }
    }
}

double kn_preempt_next_deadline(const kn_scheduler *s)
{
    double t = INFINITY;
    for (int i = 0; s->pre && i < s->pre->n_noms; i++)
        if (s->pre->noms[i].live && s->pre->noms[i].deadline > s->last_now && s->pre->noms[i].deadline < t)
            t = s->pre->noms[i].deadline;
    return t;
}

void kn_preempt_stats(const kn_scheduler *s, kn_sched_stats *st)
{
    const kn_preempt *pre = s->pre;
    if (pre == NULL)
        return;
    st->preemption_attempts = pre->attempts;
    st->preemptions = pre->successes;
    st->victims = pre->victims;
    for (int i = 0; i < pre->n_noms; i++)
        if (pre->noms[i].live)
            st->nominated += (size_t)pre->noms[i].n_pods;
}

void kn_sched_preempt_failed(kn_scheduler *s, const char *victim_uid, const char *message, double now,
                             kn_sched_out *out)
{
    (void)now;
    int vi = kn_strmap_get(&s->c.pod_by_uid, victim_uid);
    if (vi >= 0)
        s->c.pods[vi].preempted = false;
    kn_preempt *pre = s->pre;
    for (int i = 0; pre && i < pre->n_noms; i++) {
        kn_nom *n = &pre->noms[i];
        bool hit = false;
        for (int k = 0; n->live && k < n->n_victims && !hit; k++)
            hit = strcmp(n->victims[k], victim_uid) == 0;
        if (!hit)
            continue;
        for (int k = 0; k < n->n_pods; k++) {
            const kn_cpod *p = &s->c.pods[n->pods[k]];
            if (p->live && p->d && strcmp(p->uid, n->pod_uids[k]) == 0) {
                p->d->tried_gen = 0;
                kn_out_event(out, p->ns, p->name, p->uid, "Warning", "FailedScheduling", "Preemption failed: %s",
                             message ? message : "unknown error");
            }
        }
        drop(s, n);
    }
}

/* ---- a preemptor's session ---- */

/* The preemptor's room after a session that found it: a nomination holding
 * it, victims marked and handed out, evicted gangs' slots released. */
static int commit(kn_scheduler *s, kn_preempt *pre, sess *ss, int gang, const int *P, int n, kn_alloc *slots,
                  int nslots, kn_sched_out *out)
{
    kn_cluster *c = &s->c;
    size_t old_gn = pre->cap_gang_nom;
    if (kn_grow((void **)&pre->noms, &pre->cap_noms, (size_t)pre->n_noms + 1, sizeof(kn_nom)) != 0 ||
        (gang >= 0 && kn_grow((void **)&pre->gang_nom, &pre->cap_gang_nom, (size_t)gang + 1, sizeof(int)) != 0))
        return -1;
    if (pre->cap_gang_nom > old_gn)
        memset(pre->gang_nom + old_gn, 0, (pre->cap_gang_nom - old_gn) * sizeof(int));
    int ni;
    for (ni = 0; ni < pre->n_noms && pre->noms[ni].live; ni++)
        ;
    kn_nom *nom = &pre->noms[ni];
    memset(nom, 0, sizeof(*nom));
    int nv = 0;
    for (int i = 0; i < ss->n_j; i++)
        nv += ss->j[i].kind == J_POD;
    nom->holds = calloc((size_t)(n + nslots) + 1, sizeof(kn_alloc));
    nom->hold_pod = calloc((size_t)(n + nslots) + 1, sizeof(int));
    nom->pods = calloc((size_t)n + 1, sizeof(int));
    nom->pod_uids = calloc((size_t)n + 1, sizeof(char *));
    nom->victims = calloc((size_t)nv + 1, sizeof(char *));
    if (!nom->holds || !nom->hold_pod || !nom->pods || !nom->pod_uids || !nom->victims) {
        nom_free(c, nom);
        return -1;
    }
    if (ni == pre->n_noms)
        pre->n_noms++;
    nom->live = true;
    nom->shown = true;
    nom->prio = ss->prio;
    nom->gang = gang;
    if (gang >= 0)
        pre->gang_nom[gang] = ni + 1;
    double grace = 30;
    for (int i = 0; i < ss->n_j; i++) {
        jent *e = &ss->j[i];
        if (e->kind == J_MOVE) {
            kn_alloc_clear(&e->old); /* the slot stays where it moved */
            continue;
        }
        if (e->kind == J_SLOT) {
            kn_alloc_take(c, &s->resvs[e->a].slots[e->b]); /* released below with its reservation */
            continue;
        }
        kn_cpod *v = &c->pods[e->a];
        kn_alloc_take(c, &v->alloc); /* it runs until the API server has it gone */
        char key[KN_LABEL_VALUE_MAX * 2 + 300];
        const char *with = NULL;
        if (e->gang >= 0)
            with = s->gangs[e->gang].key;
        else if (e->driver >= 0 && e->driver != e->a) {
            snprintf(key, sizeof(key), "%s/%s", c->pods[e->driver].ns, c->pods[e->driver].name);
            with = key;
        }
        if (!v->preempted) { /* a victim of an earlier preemption is on its way out already */
            kn_out_victim(c, out, v, &c->pods[e->by], e->node, with);
            pre->victims++;
        }
        if (v->grace_s > grace)
            grace = (double)v->grace_s;
        v->preempted = true;
        if ((nom->victims[nom->n_victims] = strdup(v->uid)) != NULL)
            nom->n_victims++;
    }
    for (int r = 0; r < s->n_resvs; r++)
        if (s->resvs[r].live && pre->ri[r].evicted == pre->session)
            kn_resv_release(s, r);
    nom->deadline = ss->now + grace + NOM_SLACK_S;
    for (int i = 0; i < n; i++) {
        kn_cpod *p = &c->pods[P[i]];
        kn_alloc *h = &nom->holds[nom->n_holds];
        *h = p->alloc;
        kn_rel_hold(h->rel); /* counted as the pod while held, whatever becomes of its record */
        /* the pod's host ports are its record's (replaced by its updates): the hold keeps a copy */
        h->ports = h->n_ports ? malloc(sizeof(*h->ports) * (size_t)h->n_ports) : NULL;
        if (h->ports)
            memcpy(h->ports, p->alloc.ports, sizeof(*h->ports) * (size_t)h->n_ports);
        else if (h->n_ports) { /* out of memory: the ports are given back, the room held all the same */
            kn_alloc_release(c, &p->alloc);
            h->n_ports = 0;
            kn_alloc_take(c, h);
        }
        nom->hold_pod[nom->n_holds++] = P[i];
        memset(&p->alloc.zone, 0, sizeof(p->alloc.zone));
        p->alloc.ztake = NULL;
        p->alloc.n_zones = 0;
        p->alloc.node = -1;
        p->alloc.exclusive = false;
        nom->pods[nom->n_pods] = P[i];
        nom->pod_uids[nom->n_pods] = strdup(p->uid);
        if (nom->pod_uids[nom->n_pods])
            nom->n_pods++;
        p->d->nom = ni + 1;
        p->d->nominated = kn_out_nomination(c, out, p, nom->holds[nom->n_holds - 1].node) == 0;
    }
    for (int k = 0; k < nslots; k++) {
        nom->holds[nom->n_holds] = slots[k];
        kn_rel_hold(slots[k].rel);
        nom->hold_pod[nom->n_holds++] = -1;
        slots[k].ztake = NULL;
        slots[k].node = -1;
    }
    ss->n_j = 0;
    pre->successes++;
    return 0;
}

/* Releases what the preemptor itself took (pods P[0..placed), slots[0..held)). */
static void untake(kn_scheduler *s, const int *P, int placed, kn_alloc *slots, int held)
{
    for (int k = held - 1; k >= 0; k--) {
        kn_alloc_release(&s->c, &slots[k]);
        kn_alloc_clear(&slots[k]);
    }
    for (int i = placed - 1; i >= 0; i--) {
        kn_alloc *a = &s->c.pods[P[i]].alloc;
        kn_alloc_release(&s->c, a);
        kn_alloc_clear(a);
    }
}

/* w into *a: free room, else a candidate's (victims off). 1, 0 (why), -1. */
static int place_or_preempt(kn_scheduler *s, kn_preempt *pre, sess *ss, const kn_want *w, kn_alloc *a,
                            kn_diag *why)
{
    kn_diag d;
    kn_diag_init(&d);
    if (take_free(s, w, a, &d))
        return 1;
    int rc = search(s, pre, ss, w, why);
    if (rc <= 0)
        return rc;
    return apply(s, pre, ss, &pre->best, w, a) == 0 ? 1 : -1;
}

/* kube-scheduler clears status.nominatedNodeName when preemption cannot
 * back it any more. */
static void clear_nominations(kn_scheduler *s, const int *P, int n, kn_sched_out *out)
{
    for (int i = 0; i < n; i++) {
        kn_cpod *p = &s->c.pods[P[i]];
        if (p->d->nominated && kn_out_nomination(&s->c, out, p, -1) == 0)
            p->d->nominated = false;
    }
}

/* Room for P[0..n) and rs->count slots (driver P[0]) by preemption. */
static bool run(kn_scheduler *s, int gang, const int *P, int n, const kn_resv_spec *rs, double now,
                kn_sched_out *out, char *why, size_t cap)
{
    why[0] = '\0';
    int32_t prio = INT32_MAX;
    bool never = false;
    for (int i = 0; i < n; i++) {
        const kn_cpod *p = &s->c.pods[P[i]];
        prio = p->priority < prio ? p->priority : prio;
        never = never || p->d->preempt_never;
    }
    if (prio <= s->c.min_priority) { /* no pod ever had a lower priority: as before preemption existed */
        clear_nominations(s, P, n, out);
        return false;
    }
    kn_preempt *pre = pre_of(s);
    if (pre == NULL || ensure_scratch(s, pre) != 0 || (!pre->idx_valid && build_index(s, pre) != 0))
        return false;
    if (pre->min_prio >= prio || never) {
        if (never && pre->min_prio < prio)
            snprintf(why, cap, " preemption: not eligible due to preemptionPolicy=Never.");
        clear_nominations(s, P, n, out); /* else nobody of lower priority runs: as before preemption existed */
        return false;
    }
    pre->attempts++;
    pre->session++;
    pre->now = now;
    for (int b = 0; b < s->c.n_pdbs; b++)
        pre->allowed[b] = s->c.pdbs[b].live ? s->c.pdbs[b].allowed : 0;
    sess ss = {.prio = prio, .now = now};
    int nslots = rs ? rs->count : 0, placed = 0, held = 0, rc = 1;
    kn_alloc *slots = calloc((size_t)nslots + 1, sizeof(kn_alloc));
    kn_diag d;
    kn_diag_init(&d);
    for (; slots && rc == 1 && placed < n; placed += rc == 1) {
        kn_want w;
        kn_vol_want *v;
        char msg[KN_MSG_MAX];
        ss.by = P[placed];
        kn_want_for_pod(s, &s->c.pods[P[placed]], &w);
        /* the pod's volumes filter the candidates too; claims that fit no node
         * (PreFilter) make preemption not helpful: -2, nothing more to say */
        int vr = kn_want_volumes(s, P[placed], &w, &v, msg, sizeof(msg));
        rc = vr != 0 ? (vr < 0 ? -1 : -2) : place_or_preempt(s, pre, &ss, &w, &s->c.pods[P[placed]].alloc, &d);
        kn_vol_want_free(v);
    }
    if (slots && rc == 1 && nslots > 0) {
        kn_constraints driver;
        kn_want w;
        kn_vol_want *v = kn_slot_want(s, s->c.pods[P[0]].d, rs, &driver, &w);
        ss.by = P[0];
        for (; rc == 1 && held < nslots; held += rc == 1) {
            slots[held] = (kn_alloc){.node = -1, .req = rs->req, .owner = -1, .rel = rs->rel};
            rc = place_or_preempt(s, pre, &ss, &w, &slots[held], &d);
        }
        kn_vol_want_free(v);
    }
    bool ok = slots && rc == 1 && commit(s, pre, &ss, gang, P, n, slots, nslots, out) == 0;
    if (!ok) {
        untake(s, P, placed, slots, held);
        undo(s, pre, &ss);
        if (slots && rc == 0) {
            char msg[KN_MSG_MAX];
            kn_diag_message(&d, msg, sizeof(msg));
            snprintf(why, cap, " preemption: %s", msg);
        }
        if (slots && (rc == 0 || rc == -2))
            clear_nominations(s, P, n, out);
    }
    free(slots);
    free(ss.j);
    return ok;
}

bool kn_preempt_pod(const kn_cycle *cy, int pi, char *why, size_t cap)
{
    return run(cy->s, -1, &pi, 1, NULL, cy->now, cy->out, why, cap);
}

bool kn_preempt_group(const kn_cycle *cy, int gi, const int *P, int n, const kn_resv_spec *rs, char *why,
                      size_t cap)
{
    return run(cy->s, gi, P, n, rs, cy->now, cy->out, why, cap);
}
