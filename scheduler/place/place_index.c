/* place_index.c - per-kind node rankings kept current from the change log (see place_index.h).
 *
 * Nodes are evaluated for "a pod holding no zone" (owner -1): a pending pod
 * holds none (a starving gang's held room is released before its members are
 * tried again), so the result is the pod's own; the winner is re-evaluated
 * for the pod itself and any difference sends the caller to its scan. */
#include "scheduler/place/place_index.h"

#include <stdlib.h>
#include <string.h>


#define MAX_KINDS 96

/* OUT: filtered (static) or not live. DIRTY: in the heap with a key that is
 * at most too high (a lazy kind's node that only lost room since). */
enum { ST_OUT = 0, ST_UNFIT = 1, ST_FIT = 2, ST_DIRTY = 3 };

typedef struct ent {
    double score;
    int rank;                /* of the node's name: ties go to the lower one */
    int node;
} ent;

/* What a kind knows of one node, together and small (8 bytes): a catch-up
 * touches all of it for every logged node, and every heap move writes pos.
 * A feasible node's score is its heap entry's. */
typedef struct slot {
    int32_t pos;             /* index in heap, or -1 */
    uint16_t mark;           /* the catch-up round that re-evaluated it */
    uint8_t state;
} slot;

typedef struct kind {
    bool used;
    kn_pod_kind key;         /* its own signature */
    bool lazy;               /* a take can only lower a node's score (spreading, no NUMA policy) */
    uint64_t seen;           /* c->mutations caught up to */
    uint64_t last_use;
    uint16_t round;
    slot *slot;              /* per node */
    ent *heap;               /* the feasible nodes, best first (heap_mem + 3) */
    ent *heap_mem;           /* 64-byte aligned */
    int n_heap;
} kind;

struct kn_place_index {
    uint64_t node_gen;
    int n_nodes;             /* nodes the per-kind arrays cover */
    int *rank;               /* node name order: ties go to the lower rank */
    uint64_t tick;
    kind kinds[MAX_KINDS];
};

static void kind_clear(kind *k)
{
    kn_pod_kind_drop(&k->key);
    free(k->slot);
    free(k->heap_mem);
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

static void put(kind *k, int at, ent e)
{
    k->heap[at] = e;
    k->slot[e.node].pos = at;
}

static void sift_up(kind *k, int i)
{
    ent e = k->heap[i];
    while (i > 0 && above(&e, &k->heap[(i - 1) / ARITY])) {
        put(k, i, k->heap[(i - 1) / ARITY]);
        i = (i - 1) / ARITY;
    }
    put(k, i, e);
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

static void sift_down(kind *k, int i)
{
    ent *h = k->heap, e = h[i];
    int n = k->n_heap;
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
        put(k, i, h[m]);
        i = m;
    }
    put(k, i, e);
}

/* Orders the entries rebuild() appended. */
static void heapify(kind *k)
{
    for (int i = k->n_heap > 1 ? (k->n_heap - 2) / ARITY : -1; i >= 0; i--)
        sift_down(k, i);
}

/* The node's entry after a re-evaluation: in the heap with its new score, or
 * out of it; a lowered entry moves down at once. */
static void heap_set(const struct kn_place_index *ix, kind *k, int node, bool fit, double score)
{
    int at = k->slot[node].pos;
    if (at < 0) {
        if (!fit)
            return;
        at = k->n_heap++;
        put(k, at, (ent){score, ix->rank[node], node});
        sift_up(k, at);
        return;
    }
    if (fit) {
        double was = k->heap[at].score;
        k->heap[at].score = score;
        if (score > was)
            sift_up(k, at);
        else if (score < was)
            sift_down(k, at);
        return;
    }
    k->slot[node].pos = -1;
    ent last = k->heap[--k->n_heap];
    if (at == k->n_heap)
        return;
    put(k, at, last);
    sift_up(k, at);
    sift_down(k, k->slot[last.node].pos);
}

/* ---- evaluation ---- */

static void reeval(const struct kn_place_index *ix, const kn_cluster *c, kind *k, int i, const kn_fit_plan *p)
{
    double score = 0;
    slot *sl = &k->slot[i];
    if (sl->state == ST_OUT)
        return;
    bool fit = kn_fit_score(c, i, p, &score);
    sl->state = fit ? ST_FIT : ST_UNFIT;
    heap_set(ix, k, i, fit, score);
}

static void rebuild(const struct kn_place_index *ix, const kn_cluster *c, kind *k, const kn_fit_plan *p)
{
    double score;
    k->n_heap = 0;
    for (int i = 0; i < ix->n_nodes; i++) {
        const kn_node *n = &c->nodes[i];
        kn_diag scratch;
        kn_diag_init(&scratch);
        k->slot[i].pos = -1;
        if (!n->live || !kn_filter_static(n, p->w->pod, &scratch))
            k->slot[i].state = ST_OUT;
        else if (kn_fit_score(c, i, p, &score)) {
            k->slot[i].state = ST_FIT;
            put(k, k->n_heap++, (ent){score, ix->rank[i], i});
        } else
            k->slot[i].state = ST_UNFIT;
        k->slot[i].mark = 0;
    }
    k->round = 0;
    heapify(k);
    k->seen = c->mutations;
}

static void catch_up(const struct kn_place_index *ix, const kn_cluster *c, kind *k, const kn_fit_plan *p)
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
        if (k->lazy && !(e & 1)) { /* a take: the node can only have lost room and score */
            if (sl->state == ST_FIT)
                sl->state = ST_DIRTY;
            continue;
        }
        sl->mark = k->round;
        reeval(ix, c, k, i, p);
    }
    k->seen = c->mutations;
}

/* ---- kinds ---- */

static kind *kind_new(struct kn_place_index *ix, const kn_cluster *c, const kn_pod_kind *key,
                      const kn_fit_plan *p)
{
    kind *k = NULL;
    for (int i = 0; i < MAX_KINDS && (k == NULL || k->used); i++) /* a free slot, else the least recently used */
        if (k == NULL || !ix->kinds[i].used || ix->kinds[i].last_use < k->last_use)
            k = &ix->kinds[i];
    kind_clear(k);
    size_t n = (size_t)ix->n_nodes + 1;
    int kept = kn_pod_kind_keep(&k->key, key);
    k->slot = malloc(sizeof(slot) * n);
    /* + ARITY * ARITY: best_of_four() fetches a last parent's grandchildren lines whole */
    size_t hbytes = (sizeof(ent) * (n + 3 + ARITY * ARITY) + 63) / 64 * 64;
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

int kn_pindex_best(kn_cluster *c, struct kn_place_index **ixp, const kn_want *w, const kn_pod_kind *key,
                   kn_choice *best)
{
    if (key->sig == NULL || key->unfit)
        return -1;
    if (c->chlog == NULL && (c->chlog = malloc(sizeof(int) * KN_CHLOG_SIZE)) == NULL)
        return -1;
    if (*ixp == NULL && (*ixp = calloc(1, sizeof(**ixp))) == NULL)
        return -1;
    struct kn_place_index *ix = *ixp;
    if ((ix->node_gen != c->node_gen || ix->n_nodes != c->n_nodes || ix->rank == NULL) && reset(ix, c) != 0)
        return -1;
    kn_want anon = *w;
    anon.owner = -1;
    kn_fit_plan plan;
    kn_fit_plan_init(c, &anon, &plan);
    kind *k = NULL;
    for (int i = 0; i < MAX_KINDS && k == NULL; i++)
        if (ix->kinds[i].used && kn_pod_kind_eq(&ix->kinds[i].key, key))
            k = &ix->kinds[i];
    if (k == NULL) {
        if ((k = kind_new(ix, c, key, &plan)) == NULL)
            return -1;
    } else {
        catch_up(ix, c, k, &plan);
    }
    k->last_use = ++ix->tick;
    while (k->n_heap > 0 && k->slot[k->heap[0].node].state == ST_DIRTY) /* its true key is lower: find where */
        reeval(ix, c, k, k->heap[0].node, &plan);
    if (k->n_heap == 0)
        return 0;
    double score = k->heap[0].score;
    int node = k->heap[0].node;
    if (!kn_fit_and_score(c, node, w, best) || best->score != score) /* the pod itself sees it otherwise */
        return -1;
    return 1;
}
