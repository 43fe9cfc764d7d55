/* place_index.c - per-kind node rankings kept current from the change log (see place_index.h).
 *
 * Nodes are evaluated for "a pod holding no zone" (owner -1): a pending pod
 * holds none (a starving gang's held room is released before its members are
 * tried again), so the result is the pod's own; the winner is re-evaluated
 * for the pod itself and any difference sends the caller to its scan.
 *
 * Scoring preferences (prefer.c) are normalized over the feasible nodes: a
 * node's preference score depends on the largest raw values among all of
 * them, which placements change, so it cannot be part of a per-node key.
 * What is per node is its raw values (kn_prefs), fixed until the node or the
 * kind changes. So a kind whose pods have preferences keeps one heap per
 * distinct raw pair (a bucket), ordered by the rest of the score, which is
 * rounded so that adding a whole preference score keeps every order
 * (fit_plan.c). The best node is then the best of the buckets' tops, each
 * top's score plus its bucket's preference score under the largest raw
 * values of the non-empty buckets: exactly the full scan's answer. A kind
 * with more than MAX_BUCKETS distinct pairs is not indexed (the caller
 * scans). Kinds without preferences have one bucket and add nothing. */
#include "scheduler/place/place_index.h"
#include "scheduler/place/volumes.h"

#include <stdlib.h>
#include <string.h>

#define MAX_KINDS 96
#define MAX_BUCKETS 64 /* slot.bucket is a byte */

/* OUT: filtered (static) or not live. DIRTY: in the heap with a key that is
 * at most too high (a lazy kind's node that only lost room since). */
enum { ST_OUT = 0, ST_UNFIT = 1, ST_FIT = 2, ST_DIRTY = 3 };

typedef kn_pent ent;

/* What a kind knows of one node, together and small (8 bytes): a catch-up
 * touches all of it for every logged node, and every heap move writes pos.
 * A feasible node's score is its heap entry's. */
typedef struct slot {
    int32_t pos;   /* index in its bucket's heap, or -1 */
    uint16_t mark; /* the catch-up round that re-evaluated it */
    uint8_t state;
    uint8_t bucket;
} slot;

/* The nodes of a kind with the same raw preference values. */
typedef struct bucket {
    kn_prefs prefs;
    ent *h; /* its heap: within the kind's, at a multiple of ARITY */
    int n;
    int size; /* its nodes that pass the static filters: room for them all */
} bucket;

typedef struct kind {
    bool used;
    kn_pod_kind key; /* its own signature */
    bool lazy;       /* a take can only lower a node's score (spreading, no NUMA policy) */
    bool prefer;     /* kn_want_prefers: one bucket per raw preference values */
    bool unindexed;  /* more buckets than MAX_BUCKETS: the caller scans */
    int n_dirty;     /* nodes in ST_DIRTY */
    /* feasible nodes per domain of a topology key (inter-pod placement):
     * dcount[dmap[node]], the keymap's domain or its last slot for nodes
     * without the key; dmap is the kind's copy, so a keymap rebuilt
     * meanwhile (dserial) cannot leave it reading freed memory */
    uint32_t dkey;
    uint64_t dserial;
    int32_t *dmap, *dcount;
    uint64_t seen; /* c->mutations caught up to */
    uint64_t last_use;
    uint16_t round;
    slot *slot;    /* per node */
    ent *heap;     /* the buckets' heaps of feasible nodes, best first (heap_mem + 3) */
    ent *heap_mem; /* 64-byte aligned */
    int nb;
    bucket bk[MAX_BUCKETS];
} kind;

struct kn_place_index {
    uint64_t node_gen;
    int n_nodes; /* nodes the per-kind arrays cover */
    int *rank;   /* node name order: ties go to the lower rank */
    uint64_t tick;
    kind kinds[MAX_KINDS];
};

static void kind_clear(kind *k)
{
    kn_pod_kind_drop(&k->key);
    free(k->slot);
    free(k->heap_mem);
    free(k->dcount);
    free(k->dmap);
    memset(k, 0, sizeof(*k));
}

void kn_pindex_free(struct kn_place_index *ix)
{
    if (ix == NULL)
        return;
    for (int i = 0; i < MAX_KINDS; i++)
        kind_clear(&ix->kinds[i]);
    free(ix->rank);
    free(ix);
}

/* ---- node order and the heap ---- */

static int cmp_name(const void *a, const void *b, void *ctx)
{
    const kn_cluster *c = ctx;
    return strcmp(c->nodes[*(const int *)a].name, c->nodes[*(const int *)b].name);
}

static int make_rank(struct kn_place_index *ix, const kn_cluster *c)
{
    int n = c->n_nodes;
    int *order = malloc(sizeof(int) * (size_t)(n + 1)), *rank = malloc(sizeof(int) * (size_t)(n + 1));
    if (order == NULL || rank == NULL) {
        free(order);
        free(rank);
        return -1;
    }
    for (int i = 0; i < n; i++)
        order[i] = i;
    qsort_r(order, (size_t)n, sizeof(int), cmp_name, (void *)c);
    for (int i = 0; i < n; i++)
        rank[order[i]] = i;
    free(order);
    free(ix->rank);
    ix->rank = rank;
    return 0;
}

/* a ranks before b: higher score, then the node name sorting first */
static inline bool above(const ent *a, const ent *b)
{
    if (a->score != b->score)
        return a->score > b->score;
    return a->rank < b->rank;
}

/* An indexed 4-ary heap of the feasible nodes (half the levels of a binary
 * one, and a node's children share a cache line): slot[node].pos is the node's
 * place in it (-1: not in it), so a re-evaluated node moves in place. */
#define ARITY 4 /* best_of_four() is written for it */

/* h: a bucket's heap */
static void put(kind *k, ent *h, int at, ent e)
{
    h[at] = e;
    k->slot[e.node].pos = at;
}

static void sift_up(kind *k, ent *h, int i)
{
    ent e = h[i];
    while (i > 0 && above(&e, &h[(i - 1) / ARITY])) {
        put(k, h, i, h[(i - 1) / ARITY]);
        i = (i - 1) / ARITY;
    }
    put(k, h, i, e);
}

/* above() as 0 or 1 without a branch: many nodes tie, so which child wins
 * cannot be predicted. */
static inline int above_bits(const ent *a, const ent *b)
{
    return (a->score > b->score) | ((a->score == b->score) & (a->rank < b->rank));
}

/* The best of the four children at first..first+3: a tournament of three
 * comparisons (above() is a strict total order, so the winner is the one a
 * scan would pick), and the grandchildren's four lines fetched meanwhile. */
static inline int best_of_four(const ent *h, int first, int n)
{
    if (ARITY * first + 1 < n) { /* 16 entries, 4 lines: written out, a loop costs more than the fetches */
        const ent *g = &h[ARITY * first + 1];
        __builtin_prefetch(g);
        __builtin_prefetch(g + 4);
        __builtin_prefetch(g + 8);
        __builtin_prefetch(g + 12);
    }
    int a = first + above_bits(&h[first + 1], &h[first]);
    int b = first + 2 + above_bits(&h[first + 3], &h[first + 2]);
    int t = above_bits(&h[b], &h[a]);
    return a ^ ((a ^ b) & -t);
}

static void sift_down(kind *k, ent *h, int n, int i)
{
    ent e = h[i];
    for (;;) {
        int first = ARITY * i + 1, m = first;
        if (first >= n)
            break;
        if (first + ARITY <= n) {
            m = best_of_four(h, first, n);
        } else { /* the last parent: fewer children */
            for (int j = first + 1; j < n; j++)
                if (above(&h[j], &h[m]))
                    m = j;
        }
        if (!above(&h[m], &e))
            break;
        put(k, h, i, h[m]);
        i = m;
    }
    put(k, h, i, e);
}

/* Orders the entries rebuild() appended to bucket b. */
static void heapify(kind *k, int b)
{
    ent *h = k->bk[b].h;
    int n = k->bk[b].n;
    for (int i = n > 1 ? (n - 2) / ARITY : -1; i >= 0; i--)
        sift_down(k, h, n, i);
}

/* The node's entry after a re-evaluation: in its bucket's heap with its new
 * score, or out of it; a lowered entry moves down at once. */
static void heap_set(const struct kn_place_index *ix, kind *k, int node, bool fit, double score)
{
    bucket *b = &k->bk[k->slot[node].bucket];
    ent *h = b->h;
    int at = k->slot[node].pos;
    if (k->dcount != NULL && (at >= 0) != fit) /* entering or leaving the feasible set */
        k->dcount[k->dmap[node]] += fit ? 1 : -1;
    if (at < 0) {
        if (!fit)
            return;
        at = b->n++;
        put(k, h, at, (ent){score, ix->rank[node], node});
        sift_up(k, h, at);
        return;
    }
    if (fit) {
        double was = h[at].score;
        h[at].score = score;
        if (score > was)
            sift_up(k, h, at);
        else if (score < was)
            sift_down(k, h, b->n, at);
        return;
    }
    k->slot[node].pos = -1;
    ent last = h[--b->n];
    if (at == b->n)
        return;
    put(k, h, at, last);
    sift_up(k, h, at);
    sift_down(k, h, b->n, k->slot[last.node].pos);
}

/* ---- evaluation ---- */

static void reeval(const struct kn_place_index *ix, const kn_cluster *c, kind *k, int i, const kn_fit_plan *p)
{
    double score = 0;
    slot *sl = &k->slot[i];
    if (sl->state == ST_OUT)
        return;
    if (sl->state == ST_DIRTY)
        k->n_dirty--;
    bool fit = kn_fit_score(c, i, p, &score);
    sl->state = fit ? ST_FIT : ST_UNFIT;
    heap_set(ix, k, i, fit, score);
}

/* The bucket of these raw preference values, added if new; -1 past MAX_BUCKETS. */
static int bucket_of(kind *k, const kn_prefs *pr)
{
    for (int b = 0; b < k->nb; b++)
        if (k->bk[b].prefs.affinity == pr->affinity && k->bk[b].prefs.taints == pr->taints)
            return b;
    if (k->nb == MAX_BUCKETS)
        return -1;
    k->bk[k->nb] = (bucket){.prefs = *pr};
    return k->nb++;
}

/* Which nodes pass the static filters, and into which bucket each goes:
 * false when there are too many buckets. */
static bool sort_nodes(const struct kn_place_index *ix, const kn_cluster *c, kind *k, const kn_fit_plan *p)
{
    k->nb = 1;
    k->bk[0] = (bucket){.size = 0};
    bool first = true;
    for (int i = 0; i < ix->n_nodes; i++) {
        const kn_node *n = &c->nodes[i];
        kn_diag scratch;
        kn_diag_init(&scratch);
        slot *sl = &k->slot[i];
        sl->pos = -1;
        sl->mark = 0;
        sl->bucket = 0;
        sl->state = ST_OUT;
        if (!n->live || !kn_filter_static(n, p->w->pod, &scratch) ||
            (p->w->vol != NULL && !kn_vol_static_ok(c, n, p->w->vol)))
            continue;
        sl->state = ST_UNFIT;
        if (k->prefer) {
            kn_prefs pr;
            kn_prefs_of_node(n, p->w->pod, &pr);
            if (first) /* bucket 0 takes the first node's values */
                k->bk[0].prefs = pr;
            first = false;
            int b = bucket_of(k, &pr);
            if (b < 0)
                return false;
            sl->bucket = (uint8_t)b;
        }
        k->bk[sl->bucket].size++;
    }
    for (int b = 0, off = 0; b < k->nb; b++) {
        k->bk[b].h = k->heap + off;
        k->bk[b].n = 0;
        off += (k->bk[b].size + ARITY - 1) / ARITY * ARITY; /* each heap starts a cache line */
    }
    return true;
}

static void rebuild(const struct kn_place_index *ix, const kn_cluster *c, kind *k, const kn_fit_plan *p)
{
    double score;
    free(k->dcount); /* counted again when asked for */
    free(k->dmap);
    k->dcount = k->dmap = NULL;
    k->n_dirty = 0;
    k->unindexed = !sort_nodes(ix, c, k, p);
    if (k->unindexed)
        return;
    for (int i = 0; i < ix->n_nodes; i++) {
        slot *sl = &k->slot[i];
        if (sl->state == ST_OUT)
            continue;
        if (kn_fit_score(c, i, p, &score)) {
            bucket *b = &k->bk[sl->bucket];
            sl->state = ST_FIT;
            put(k, b->h, b->n++, (ent){score, ix->rank[i], i});
        }
    }
    for (int b = 0; b < k->nb; b++)
        heapify(k, b);
    k->round = 0;
    k->seen = c->mutations;
}

/* eager: every logged node re-evaluated (the whole heap is read, not its top). */
static void catch_up(const struct kn_place_index *ix, const kn_cluster *c, kind *k, const kn_fit_plan *p,
                     bool eager)
{
    if (k->seen == c->mutations)
        return;
    if (c->mutations - k->seen > KN_CHLOG_SIZE) {
        rebuild(ix, c, k, p);
        return;
    }
    if (++k->round == 0) { /* wrapped: no stale marks may match */
        for (int i = 0; i < ix->n_nodes; i++)
            k->slot[i].mark = 0;
        k->round = 1;
    }
    for (uint64_t m = k->seen; m != c->mutations; m++) {
        int e = c->chlog[m & (KN_CHLOG_SIZE - 1)], i = e >> 1;
        if (i < 0 || i >= ix->n_nodes)
            continue;
        slot *sl = &k->slot[i];
        if (sl->mark == k->round)
            continue;
        if (!(e & 1) && sl->state == ST_UNFIT) /* less room never fits more: still unfit */
            continue;
        if (k->lazy && !eager && !(e & 1)) { /* a take: the node can only have lost room and score */
            if (sl->state == ST_FIT) {
                sl->state = ST_DIRTY;
                k->n_dirty++;
            }
            continue;
        }
        sl->mark = k->round;
        reeval(ix, c, k, i, p);
    }
    k->seen = c->mutations;
}

/* ---- kinds ---- */

static kind *kind_new(struct kn_place_index *ix, const kn_cluster *c, const kn_pod_kind *key, const kn_fit_plan *p)
{
    kind *k = NULL;
    for (int i = 0; i < MAX_KINDS && (k == NULL || k->used); i++) /* a free slot, else the least recently used */
        if (k == NULL || !ix->kinds[i].used || ix->kinds[i].last_use < k->last_use)
            k = &ix->kinds[i];
    kind_clear(k);
    size_t n = (size_t)ix->n_nodes + 1;
    int kept = kn_pod_kind_keep(&k->key, key);
    k->slot = malloc(sizeof(slot) * n);
    k->prefer = p->prefer;
    /* + ARITY * ARITY: best_of_four() fetches a last parent's grandchildren lines whole;
     * + ARITY per bucket: each bucket's heap is rounded up to a cache line */
    size_t hbytes = (sizeof(ent) * (n + 3 + ARITY * ARITY + (k->prefer ? ARITY * MAX_BUCKETS : 0)) + 63) / 64 * 64;
    k->heap_mem = aligned_alloc(64, hbytes);
    k->heap = k->heap_mem ? k->heap_mem + 3 : NULL;
    if (kept != 0 || !k->slot || !k->heap) {
        kind_clear(k);
        return NULL;
    }
    k->used = true;
    /* spreading without NUMA: more used means a lower score, less room never fits more */
    k->lazy = !key->binpack && key->numa.policy == KN_NUMA_NONE;
    rebuild(ix, c, k, p);
    return k;
}

/* A new node set or topology: every kind starts over. */
static int reset(struct kn_place_index *ix, const kn_cluster *c)
{
    for (int i = 0; i < MAX_KINDS; i++)
        kind_clear(&ix->kinds[i]);
    ix->n_nodes = c->n_nodes;
    ix->node_gen = c->node_gen;
    return make_rank(ix, c);
}

/* The kind of w (key), caught up with the change log (eager: see
 * catch_up); NULL when the index cannot answer. plan: kn_fit_plan_init of w
 * as "a pod holding no zone", which the caller keeps while it uses the kind. */
static kind *kind_of(kn_cluster *c, struct kn_place_index **ixp, const kn_want *w, const kn_pod_kind *key,
                     kn_want *anon, kn_fit_plan *plan, bool eager)
{
    if (key->sig == NULL || key->unfit)
        return NULL;
    if (c->chlog == NULL && (c->chlog = malloc(sizeof(int) * KN_CHLOG_SIZE)) == NULL)
        return NULL;
    if (*ixp == NULL && (*ixp = calloc(1, sizeof(**ixp))) == NULL)
        return NULL;
    struct kn_place_index *ix = *ixp;
    if ((ix->node_gen != c->node_gen || ix->n_nodes != c->n_nodes || ix->rank == NULL) && reset(ix, c) != 0)
        return NULL;
    *anon = *w;
    anon->owner = -1;
    kn_fit_plan_init(c, anon, plan);
    kind *k = NULL;
    for (int i = 0; i < MAX_KINDS && k == NULL; i++)
        if (ix->kinds[i].used && kn_pod_kind_eq(&ix->kinds[i].key, key))
            k = &ix->kinds[i];
    if (k == NULL) {
        if ((k = kind_new(ix, c, key, plan)) == NULL)
            return NULL;
    } else if (!k->unindexed) {
        catch_up(ix, c, k, plan, eager);
    }
    k->last_use = ++ix->tick;
    return k->unindexed ? NULL : k;
}

/* The kind of w with every entry exact: caught up eagerly, and the nodes
 * earlier lazy catch-ups left too high re-evaluated; the kind stays eager
 * from then on (pods whose inter-pod terms read every entry use it). */
static kind *exact_kind(kn_cluster *c, struct kn_place_index **ixp, const kn_want *w, const kn_pod_kind *key)
{
    kn_want anon;
    kn_fit_plan plan;
    kind *k = kind_of(c, ixp, w, key, &anon, &plan, true);
    if (k == NULL)
        return NULL;
    k->lazy = false;
    if (k->n_dirty > 0) {
        int *dirty = malloc(sizeof(int) * (size_t)k->n_dirty), nd = 0;
        if (dirty == NULL)
            return NULL;
        for (int b = 0; b < k->nb; b++)
            for (int i = 0; i < k->bk[b].n && nd < k->n_dirty; i++)
                if (k->slot[k->bk[b].h[i].node].state == ST_DIRTY)
                    dirty[nd++] = k->bk[b].h[i].node;
        for (int i = 0; i < nd; i++)
            reeval(*ixp, c, k, dirty[i], &plan);
        free(dirty);
    }
    return k;
}

struct kn_pkind *kn_pindex_exact(kn_cluster *c, struct kn_place_index **ixp, const kn_want *w,
                                 const kn_pod_kind *key)
{
    return (struct kn_pkind *)exact_kind(c, ixp, w, key);
}

int kn_pkind_entries(const struct kn_pkind *pk, kn_pent *out)
{
    const kind *k = (const kind *)pk;
    int n = 0;
    for (int b = 0; b < k->nb; b++) {
        memcpy(out + n, k->bk[b].h, sizeof(ent) * (size_t)k->bk[b].n);
        n += k->bk[b].n;
    }
    return n;
}

bool kn_pkind_fits(const struct kn_pkind *pk, int node, kn_pent *e)
{
    const kind *k = (const kind *)pk;
    int at = k->slot[node].pos;
    if (at < 0)
        return false;
    *e = k->bk[k->slot[node].bucket].h[at];
    return true;
}

int kn_pkind_size(const struct kn_pkind *pk)
{
    const kind *k = (const kind *)pk;
    int n = 0;
    for (int b = 0; b < k->nb; b++)
        n += k->bk[b].n;
    return n;
}

const int32_t *kn_pkind_domain_counts(struct kn_pkind *pk, const kn_keymap *km)
{
    kind *k = (kind *)pk;
    if (k->dcount != NULL && k->dkey == km->key && k->dserial == km->serial)
        return k->dcount;
    free(k->dcount);
    free(k->dmap);
    k->dcount = calloc((size_t)km->n_dom + 1, sizeof(int32_t));
    k->dmap = malloc(sizeof(int32_t) * ((size_t)km->n_nodes + 1));
    if (k->dcount == NULL || k->dmap == NULL || km->n_nodes < kn_pkind_size(pk)) {
        free(k->dcount);
        free(k->dmap);
        k->dcount = k->dmap = NULL;
        return NULL;
    }
    for (int i = 0; i < km->n_nodes; i++)
        k->dmap[i] = km->dom[i] >= 0 ? km->dom[i] : km->n_dom;
    k->dkey = km->key;
    k->dserial = km->serial;
    for (int b = 0; b < k->nb; b++)
        for (int i = 0; i < k->bk[b].n; i++)
            k->dcount[k->dmap[k->bk[b].h[i].node]]++;
    return k->dcount;
}

/* Best-first over the buckets' heaps by score and name (preferences left
 * out): a small binary heap of entries, best first, holding the frontier (a
 * popped entry's children join it). */
static const ent *walk_ent(const kind *k, kn_pwpos p)
{
    return &k->bk[p.b].h[p.pos];
}

static int walk_push(kn_pwalk *it, const kind *k, kn_pwpos p)
{
    if (it->n == it->cap) {
        int ncap = it->cap ? it->cap * 2 : 64;
        kn_pwpos *nf = realloc(it->front, sizeof(*nf) * (size_t)ncap);
        if (nf == NULL)
            return -1;
        it->front = nf;
        it->cap = ncap;
    }
    int i = it->n++;
    while (i > 0 && above(walk_ent(k, p), walk_ent(k, it->front[(i - 1) / 2]))) {
        it->front[i] = it->front[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    it->front[i] = p;
    return 0;
}

void kn_pwalk_init(kn_pwalk *it, const struct kn_pkind *pk)
{
    const kind *k = (const kind *)pk;
    memset(it, 0, sizeof(*it));
    it->k = pk;
    for (int b = 0; b < k->nb && !it->oom; b++)
        if (k->bk[b].n > 0 && walk_push(it, k, (kn_pwpos){b, 0}) != 0)
            it->oom = true;
}

bool kn_pwalk_next(kn_pwalk *it, kn_pent *e)
{
    const kind *k = (const kind *)it->k;
    if (it->n == 0 || it->oom)
        return false;
    kn_pwpos top = it->front[0], last = it->front[--it->n];
    int i = 0;
    for (;;) { /* sift last down from the root */
        int c = 2 * i + 1;
        if (c >= it->n)
            break;
        if (c + 1 < it->n && above(walk_ent(k, it->front[c + 1]), walk_ent(k, it->front[c])))
            c++;
        if (!above(walk_ent(k, it->front[c]), walk_ent(k, last)))
            break;
        it->front[i] = it->front[c];
        i = c;
    }
    if (it->n > 0)
        it->front[i] = last;
    *e = *walk_ent(k, top);
    const bucket *bk = &k->bk[top.b];
    for (int c = ARITY * top.pos + 1; c <= ARITY * top.pos + ARITY && c < bk->n; c++)
        if (walk_push(it, k, (kn_pwpos){top.b, c}) != 0) {
            it->oom = true;
            break;
        }
    return true;
}

void kn_pwalk_free(kn_pwalk *it)
{
    free(it->front);
    memset(it, 0, sizeof(*it));
}

int kn_pindex_best(kn_cluster *c, struct kn_place_index **ixp, const kn_want *w, const kn_pod_kind *key,
                   kn_choice *best)
{
    kn_want anon;
    kn_fit_plan plan;
    kind *k = kind_of(c, ixp, w, key, &anon, &plan, false);
    if (k == NULL)
        return -1;
    struct kn_place_index *ix = *ixp;
    for (int b = 0; b < k->nb; b++) {
        bucket *bk = &k->bk[b];
        while (bk->n > 0 && k->slot[bk->h[0].node].state == ST_DIRTY) /* its true key is lower: find where */
            reeval(ix, c, k, bk->h[0].node, &plan);
    }
    ent top = {0, 0, -1};
    double total = 0;
    if (!k->prefer) { /* one bucket, nothing to add */
        if (k->bk[0].n > 0)
            top = k->bk[0].h[0];
        total = top.score;
    } else {
        kn_prefs max = {0, 0}; /* over the non-empty buckets: the feasible nodes */
        for (int b = 0; b < k->nb; b++) {
            const bucket *bk = &k->bk[b];
            if (bk->n > 0 && bk->prefs.affinity > max.affinity)
                max.affinity = bk->prefs.affinity;
            if (bk->n > 0 && bk->prefs.taints > max.taints)
                max.taints = bk->prefs.taints;
        }
        for (int b = 0; b < k->nb; b++) {
            if (k->bk[b].n == 0)
                continue;
            ent e = k->bk[b].h[0];
            ent et = {e.score + kn_prefs_score(&k->bk[b].prefs, &max), e.rank, e.node};
            ent tt = {total, top.rank, top.node};
            if (top.node < 0 || above(&et, &tt)) {
                top = e;
                total = et.score;
            }
        }
    }
    if (top.node < 0)
        return 0;
    if (!kn_fit_and_score(c, top.node, w, best) || best->score != top.score) /* the pod itself sees it otherwise */
        return -1;
    best->score = total;
    return 1;
}
