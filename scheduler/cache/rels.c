/* rels.c - rels, watches, the edges between them, and the counts that move
 * with every placement (see relations.h). */
#include "scheduler/cache/cluster.h"

#include <stdlib.h>
#include <string.h>

#include "base/grow.h"
#include "base/siphash.h"

/* ---- pointer tables ---- */

int kn_ptrtab_put(kn_ptrtab *t, void *p)
{
    int32_t i;
    if (t->n_free > 0) {
        i = t->free[--t->n_free];
    } else {
        if (t->n >= INT32_MAX || kn_grow((void **)&t->p, &t->cap, t->n + 1, sizeof(*t->p)) != 0)
            return -1;
        i = (int32_t)t->n++;
    }
    t->p[i] = p;
    return i;
}

void kn_ptrtab_del(kn_ptrtab *t, int i)
{
    t->p[i] = NULL;
    if (kn_grow((void **)&t->free, &t->cap_free, t->n_free + 1, sizeof(*t->free)) == 0)
        t->free[t->n_free++] = i;
}

/* ---- posting lists ---- */

static kn_postlist *post_of(kn_relstate *rs, const kn_imap *by, uint32_t id)
{
    int32_t i = kn_imap_get(by, id, -1);
    return i >= 0 ? &rs->posts[i] : NULL;
}

static kn_postlist *post_make(kn_relstate *rs, kn_imap *by, uint32_t id)
{
    kn_postlist *l = post_of(rs, by, id);
    if (l != NULL)
        return l;
    int32_t i;
    if (rs->n_free_posts > 0) {
        i = rs->free_posts[rs->n_free_posts - 1];
    } else {
        if (kn_grow((void **)&rs->posts, &rs->cap_posts, rs->n_posts + 1, sizeof(*rs->posts)) != 0)
            return NULL;
        i = (int32_t)rs->n_posts;
    }
    if (kn_imap_put(by, id, i) != 0)
        return NULL;
    if (rs->n_free_posts > 0)
        rs->n_free_posts--;
    else
        rs->n_posts++;
    memset(&rs->posts[i], 0, sizeof(rs->posts[i]));
    return &rs->posts[i];
}

/* Frees the list of id when nothing is in it any more. */
static void post_tidy(kn_relstate *rs, kn_imap *by, uint32_t id)
{
    int32_t i = kn_imap_get(by, id, -1);
    if (i < 0)
        return;
    kn_postlist *l = &rs->posts[i];
    if (l->n_rels > 0 || l->n_watches > 0)
        return;
    free(l->rels);
    free(l->watches);
    memset(l, 0, sizeof(*l));
    kn_imap_del(by, id);
    if (kn_grow((void **)&rs->free_posts, &rs->cap_free_posts, rs->n_free_posts + 1, sizeof(*rs->free_posts)) == 0)
        rs->free_posts[rs->n_free_posts++] = i;
}

static uint32_t post_id(const kn_rel *r, uint32_t pi)
{
    return pi < r->lset->n ? r->lset->p[pi].v : r->owner;
}

static int post_add(kn_relstate *rs, kn_rel *r, uint32_t pi)
{
    kn_postlist *l = post_make(rs, &rs->post_by_val, post_id(r, pi));
    if (l == NULL || kn_grow((void **)&l->rels, &l->cap_rels, l->n_rels + 1, sizeof(*l->rels)) != 0)
        return -1;
    r->post[pi] = (int32_t)l->n_rels;
    l->rels[l->n_rels++] = (kn_post_ent){r, pi};
    return 0;
}

/* Posts r's pair pi (or its owner), making its index array on first use. */
static int rel_post(kn_relstate *rs, kn_rel *r, uint32_t pi)
{
    if (r->post == NULL) {
        if ((r->post = malloc(sizeof(int32_t) * (r->lset->n + 1))) == NULL)
            return -1;
        for (uint32_t i = 0; i <= r->lset->n; i++)
            r->post[i] = -1;
    }
    return r->post[pi] >= 0 ? 0 : post_add(rs, r, pi);
}

static void post_remove(kn_relstate *rs, kn_rel *r, uint32_t pi)
{
    if (r->post == NULL || r->post[pi] < 0)
        return;
    uint32_t id = post_id(r, pi);
    kn_postlist *l = post_of(rs, &rs->post_by_val, id);
    size_t at = (size_t)r->post[pi];
    kn_post_ent last = l->rels[--l->n_rels];
    if (at != l->n_rels) {
        l->rels[at] = last;
        last.r->post[last.pi] = (int32_t)at;
    }
    r->post[pi] = -1;
    post_tidy(rs, &rs->post_by_val, id);
}

/* ---- edges ---- */

static bool has_edge(const kn_rel *r, const kn_watch *w)
{
    for (int i = 0; i < r->n_w; i++)
        if (r->w[i].w == w)
            return true;
    return false;
}

static int edge_add(kn_rel *r, kn_watch *w)
{
    size_t cr = (size_t)r->cap_w, cw = (size_t)w->cap_rels;
    if (kn_grow((void **)&r->w, &cr, (size_t)r->n_w + 1, sizeof(*r->w)) != 0)
        return -1;
    r->cap_w = (int)cr;
    if (kn_grow((void **)&w->rels, &cw, (size_t)w->n_rels + 1, sizeof(*w->rels)) != 0)
        return -1;
    w->cap_rels = (int)cw;
    r->w[r->n_w] = (kn_redge){w, w->n_rels};
    w->rels[w->n_rels] = (kn_wedge){r, r->n_w};
    r->n_w++;
    w->n_rels++;
    return 0;
}

/* Removes r's i-th edge from both sides. */
static void edge_remove(kn_rel *r, int i)
{
    kn_watch *w = r->w[i].w;
    int at = r->w[i].pos;
    kn_wedge lw = w->rels[--w->n_rels];
    if (at != w->n_rels) {
        w->rels[at] = lw;
        lw.r->w[lw.pos].pos = at;
    }
    kn_redge lr = r->w[--r->n_w];
    if (i != r->n_w) {
        r->w[i] = lr;
        lr.w->rels[lr.pos].pos = i;
    }
}

/* ---- namespaces (the table namespaces.c keeps current) ---- */

const kn_lset *kn_ns_labels(const kn_cluster *c, uint32_t name)
{
    int32_t i = kn_imap_get(&c->rs.ns_by_name, name, -1);
    return i >= 0 ? c->rs.ns[i].labels : NULL;
}

static void namespaces_free(kn_cluster *c)
{
    for (size_t i = 0; i < c->rs.n_ns; i++) {
        kn_lset_unref(&c->lab, c->rs.ns[i].labels);
        kn_dict_unref(&c->lab.dict, c->rs.ns[i].name);
    }
    free(c->rs.ns);
    kn_imap_free(&c->rs.ns_by_name);
}

/* ---- clauses ---- */

void kn_clause_free(kn_cluster *c, kn_clause *cl)
{
    kn_lsel_free(&c->lab.dict, &cl->sel);
    kn_lsel_free(&c->lab.dict, &cl->nssel);
    for (uint32_t i = 0; i < cl->n_ns; i++)
        kn_dict_unref(&c->lab.dict, cl->ns[i]);
    free(cl->ns);
    memset(cl, 0, sizeof(*cl));
}

/* ---- matching ---- */

bool kn_watch_matches(const kn_cluster *c, const kn_watch *w, const kn_rel *r)
{
    if ((w->owner != 0 && r->owner != w->owner) || (w->spread && r->terminating))
        return false;
    for (uint32_t i = 0; i < w->n_cl; i++) {
        const kn_clause *cl = &w->cl[i];
        if (!kn_lsel_match(&cl->sel, r->lset))
            return false;
        if (kn_ids_have(cl->ns, cl->n_ns, r->ns))
            continue;
        if (!cl->has_nssel)
            return false;
        if (kn_lsel_everything(&cl->nssel))
            continue;
        const kn_lset *nl = kn_ns_labels(c, r->ns);
        if (nl == NULL && !w->sym) /* not listed by the selector: it lists namespaces that exist */
            return false;
        if (!kn_lsel_match(&cl->nssel, nl != NULL ? nl : c->lab.empty))
            return false;
    }
    return true;
}

/* The watches a new rel may match, each tried once. */
static int match_watches(kn_cluster *c, kn_rel *r, kn_watch **cand, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!has_edge(r, cand[i]) && kn_watch_matches(c, cand[i], r) && edge_add(r, cand[i]) != 0)
            return -1;
    return 0;
}

static int find_watches(kn_cluster *c, kn_rel *r)
{
    kn_relstate *rs = &c->rs;
    for (uint32_t i = 0; i < r->lset->n; i++) {
        kn_postlist *l = post_of(rs, &rs->post_by_val, r->lset->p[i].v);
        if (l != NULL && match_watches(c, r, l->watches, l->n_watches) != 0)
            return -1;
        l = post_of(rs, &rs->post_by_key, r->lset->p[i].k);
        if (l != NULL && match_watches(c, r, l->watches, l->n_watches) != 0)
            return -1;
    }
    if (r->owner != 0) {
        kn_postlist *l = post_of(rs, &rs->post_by_val, r->owner);
        if (l != NULL && match_watches(c, r, l->watches, l->n_watches) != 0)
            return -1;
    }
    return match_watches(c, r, rs->unanchored, rs->n_unanchored);
}

/* ---- rels ---- */

typedef struct rel_key {
    const void *lset, *ts;
    uint32_t ns, owner;
    uint32_t terminating;
} rel_key;

static uint64_t rel_hash(const kn_lset *l, uint32_t ns, uint32_t owner, bool term, const kn_termset *ts)
{
    rel_key k;
    memset(&k, 0, sizeof(k));
    k.lset = l;
    k.ts = ts;
    k.ns = ns;
    k.owner = owner;
    k.terminating = term;
    return kn_keyhash(&k, sizeof(k));
}

/* Recomputed (rehashing and deletion only): a rel per pod does not keep it. */
static uint64_t rel_hash_of(const void *item)
{
    const kn_rel *r = item;
    return rel_hash(r->lset, r->ns, r->owner, r->terminating, r->ts);
}

static bool same_rel(const void *item, const void *key)
{
    const kn_rel *r = item, *k = key;
    return r->lset == k->lset && r->ns == k->ns && r->owner == k->owner && r->terminating == k->terminating &&
           r->ts == k->ts;
}

static void count_rel(kn_cluster *c, kn_rel *r, int node, int delta);

static void rel_destroy(kn_cluster *c, kn_rel *r, bool in_table)
{
    kn_relstate *rs = &c->rs;
    /* what is still placed leaves the counts (not when the whole cluster
     * goes: they go with it); r->occ itself goes with r, so one walk, no
     * deletions */
    uint32_t pos = 0, node;
    int32_t n;
    while (!rs->closing && kn_rel_occ_next(r, &pos, &node, &n))
        count_rel(c, r, (int)node, -n);
    while (r->n_w > 0)
        edge_remove(r, r->n_w - 1);
    for (uint32_t i = 0; r->post != NULL && !rs->closing && i <= r->lset->n; i++)
        post_remove(rs, r, i);    /* closing: the lists go whole */
    if (in_table && !rs->closing) /* closing: the table goes whole */
        kn_phash_del(&rs->rels, r);
    if (r->occ != NULL)
        kn_imap_free(r->occ);
    free(r->occ);
    free(r->w);
    free(r->post);
    kn_lset_unref(&c->lab, r->lset);
    kn_termset_unref(c, r->ts);
    kn_dict_unref(&c->lab.dict, r->ns);
    kn_dict_unref(&c->lab.dict, r->owner);
    free(r);
}

kn_rel *kn_rel_get(kn_cluster *c, kn_lset *lset, uint32_t ns, uint32_t owner, bool terminating, kn_termset *ts)
{
    kn_relstate *rs = &c->rs;
    if (owner >> 31 != 0) { /* owner is a 31-bit field (dict ids never get there) */
        kn_lset_unref(&c->lab, lset);
        kn_termset_unref(c, ts);
        return NULL;
    }
    kn_rel key = {.lset = lset, .ns = ns, .owner = owner, .terminating = terminating, .ts = ts};
    uint64_t h = rel_hash(lset, ns, owner, terminating, ts);
    kn_rel *r = kn_phash_find(&rs->rels, h, same_rel, &key);
    if (r != NULL) {
        r->refs++;
        kn_lset_unref(&c->lab, lset);
        kn_termset_unref(c, ts);
        return r;
    }
    if ((r = calloc(1, sizeof(*r))) == NULL) {
        kn_lset_unref(&c->lab, lset);
        kn_termset_unref(c, ts);
        return NULL;
    }
    r->refs = 1;
    r->lset = lset;
    r->ns = ns;
    r->owner = owner;
    r->terminating = terminating;
    r->ts = ts;
    kn_dict_hold(&c->lab.dict, ns);
    kn_dict_hold(&c->lab.dict, owner);
    bool ok = true;
    for (uint32_t i = 0; ok && i <= lset->n; i++)
        if (i < lset->n ? kn_imap_get(&rs->posted_keys, lset->p[i].k, 0) != 0 : owner != 0)
            ok = rel_post(rs, r, i) == 0;
    if (ok)
        ok = find_watches(c, r) == 0;
    if (!ok || kn_phash_add(&rs->rels, r) != 0) {
        rel_destroy(c, r, false);
        return NULL;
    }
    return r;
}

void kn_rel_hold(kn_rel *r)
{
    if (r != NULL)
        r->refs++;
}

void kn_rel_unref(kn_cluster *c, kn_rel *r)
{
    if (r != NULL && --r->refs == 0)
        rel_destroy(c, r, true);
}

/* ---- the counts a placement moves ---- */

static void count_at(kn_imap *dom, int64_t *total, uint64_t *topo, const kn_keymap *km, const uint8_t *elig,
                     int node, int delta)
{
    if (node >= km->n_nodes || km->dom[node] < 0 || (elig != NULL && !elig[node]))
        return;
    if (kn_imap_add(dom, (uint32_t)km->dom[node], delta, NULL) != 0)
        *topo = 0; /* out of memory: counted again before its next use */
    *total += delta;
}

bool kn_rel_occ_next(const kn_rel *r, uint32_t *pos, uint32_t *node, int32_t *n)
{
    if (*pos == 0) {
        *pos = 1;
        if (r->occ1_n != 0) {
            *node = r->occ1_node;
            *n = r->occ1_n;
            return true;
        }
    }
    uint32_t at = *pos - 1;
    const kn_imap_slot *s = r->occ != NULL ? kn_imap_next(r->occ, &at) : NULL;
    *pos = at + 1;
    if (s == NULL)
        return false;
    *node = s->key;
    *n = s->val;
    return true;
}

/* A second node: occ made, and the node kept inline joins it first. */
static int occ_spill(kn_rel *r)
{
    if (r->occ == NULL) {
        if ((r->occ = malloc(sizeof(*r->occ))) == NULL)
            return -1;
        kn_imap_init(r->occ);
    }
    if (r->occ1_n == 0)
        return 0;
    if (kn_imap_add(r->occ, r->occ1_node, r->occ1_n, NULL) != 0)
        return -1;
    r->occ1_n = 0;
    return 0;
}

void kn_rel_occupy(kn_cluster *c, kn_rel *r, int node, int delta)
{
    if ((r->occ == NULL || r->occ->used == 0) && (r->occ1_n == 0 || r->occ1_node == (uint32_t)node)) {
        r->occ1_node = (uint32_t)node;
        r->occ1_n += delta;
        r->n_occ += delta;
    } else if (occ_spill(r) == 0 && kn_imap_add(r->occ, (uint32_t)node, delta, NULL) == 0) {
        r->n_occ += delta;
    }
    count_rel(c, r, node, delta);
}

/* delta pods of r on node, in every count that watches r */
static void count_rel(kn_cluster *c, kn_rel *r, int node, int delta)
{
    for (int i = 0; i < r->n_w; i++)
        for (kn_counter *k = r->w[i].w->counters; k != NULL; k = k->next)
            if (k->topo == c->topo_gen)
                count_at(&k->dom, &k->total, &k->topo, k->km, k->elig, node, delta);
    for (uint32_t i = 0; r->ts != NULL && i < r->ts->n_car; i++) {
        kn_carried *t = r->ts->car[i];
        if (t->topo == c->topo_gen)
            count_at(&t->dom, &t->total, &t->topo, t->km, NULL, node, delta);
        if (t->topo != c->topo_gen)
            c->rs.carried_dirty = true;
    }
}

/* ---- watches ---- */

static size_t posting_size(kn_relstate *rs, const kn_lreq *q)
{
    size_t n = 0;
    for (uint32_t j = 0; j < q->n; j++) {
        kn_postlist *l = post_of(rs, &rs->post_by_val, q->vals[j]);
        n += l ? l->n_rels : 0;
    }
    return n;
}

/* Posts every rel's pairs of key k from now on (once per key: one walk over
 * the rels). -1 out of memory, with nothing of k posted. */
static int post_key(kn_relstate *rs, uint32_t k)
{
    if (kn_imap_get(&rs->posted_keys, k, 0) != 0)
        return 0;
    int failed = 0;
    for (size_t i = 0; i < rs->rels.cap && !failed; i++) {
        kn_rel *r = rs->rels.slots[i];
        for (uint32_t j = 0; r != NULL && j < r->lset->n && !failed; j++)
            if (r->lset->p[j].k == k)
                failed = rel_post(rs, r, j) != 0;
    }
    if (!failed && kn_imap_put(&rs->posted_keys, k, 1) == 0)
        return 0;
    for (size_t i = 0; i < rs->rels.cap; i++) {
        kn_rel *r = rs->rels.slots[i];
        for (uint32_t j = 0; r != NULL && j < r->lset->n; j++)
            if (r->lset->p[j].k == k)
                post_remove(rs, r, j);
    }
    return -1;
}

/* How new rels find w: by the value of its most selective In requirement
 * (its key's pairs posted from then on), by the key of an Exists one, by
 * owner, or not at all (tried on every rel). */
static void choose_anchor(kn_relstate *rs, kn_watch *w)
{
    w->anchor = 0;
    if (w->owner != 0) {
        w->anchor = 3;
        return;
    }
    size_t best = SIZE_MAX;
    for (uint32_t i = 0; w->n_cl > 0 && i < w->cl[0].sel.n; i++) {
        const kn_lreq *q = &w->cl[0].sel.r[i];
        if (q->op == KN_SEL_IN && post_key(rs, q->key) == 0) {
            size_t n = posting_size(rs, q);
            if (n < best) {
                best = n;
                w->anchor = 1;
                w->anchor_req = i;
            }
        } else if (q->op == KN_SEL_EXISTS && w->anchor == 0) {
            w->anchor = 2;
            w->anchor_req = i;
        }
    }
}

static int list_push(kn_watch ***arr, size_t *n, size_t *cap, kn_watch *w)
{
    if (kn_grow((void **)arr, cap, *n + 1, sizeof(**arr)) != 0)
        return -1;
    (*arr)[(*n)++] = w;
    return 0;
}

static void list_drop(kn_watch **arr, size_t *n, const kn_watch *w)
{
    for (size_t i = 0; i < *n; i++)
        if (arr[i] == w) {
            arr[i] = arr[--*n];
            return;
        }
}

static void anchor_lists(kn_relstate *rs, kn_watch *w, bool add, int *failed)
{
    if (w->anchor == 0) {
        if (add)
            *failed |= list_push(&rs->unanchored, &rs->n_unanchored, &rs->cap_unanchored, w);
        else
            list_drop(rs->unanchored, &rs->n_unanchored, w);
        return;
    }
    const kn_lreq *q = w->anchor == 3 ? NULL : &w->cl[0].sel.r[w->anchor_req];
    uint32_t n = w->anchor == 1 ? q->n : 1;
    for (uint32_t j = 0; j < n; j++) {
        kn_imap *by = w->anchor == 2 ? &rs->post_by_key : &rs->post_by_val;
        uint32_t id = w->anchor == 3 ? w->owner : w->anchor == 2 ? q->key : q->vals[j];
        if (add) {
            kn_postlist *l = post_make(rs, by, id);
            *failed |= l == NULL || list_push(&l->watches, &l->n_watches, &l->cap_watches, w);
        } else {
            kn_postlist *l = post_of(rs, by, id);
            if (l != NULL) {
                list_drop(l->watches, &l->n_watches, w);
                post_tidy(rs, by, id);
            }
        }
    }
}

static bool reads_ns(const kn_watch *w)
{
    for (uint32_t i = 0; i < w->n_cl; i++)
        if (w->cl[i].has_nssel && !kn_lsel_everything(&w->cl[i].nssel))
            return true;
    return false;
}

/* Edges to every rel w matches now. */
static int match_rels(kn_cluster *c, kn_watch *w)
{
    kn_relstate *rs = &c->rs;
    if (w->anchor == 1 || w->anchor == 3) {
        const kn_lreq *q = w->anchor == 1 ? &w->cl[0].sel.r[w->anchor_req] : NULL;
        uint32_t n = q ? q->n : 1;
        for (uint32_t j = 0; j < n; j++) {
            kn_postlist *l = post_of(rs, &rs->post_by_val, q ? q->vals[j] : w->owner);
            for (size_t k = 0; l != NULL && k < l->n_rels; k++) {
                kn_rel *r = l->rels[k].r;
                uint32_t pi = l->rels[k].pi;
                bool by_it = q ? pi < r->lset->n && r->lset->p[pi].k == q->key : pi == r->lset->n;
                if (by_it && kn_watch_matches(c, w, r) && edge_add(r, w) != 0)
                    return -1;
            }
        }
        return 0;
    }
    for (size_t i = 0; i < rs->rels.cap; i++) {
        kn_rel *r = rs->rels.slots[i];
        if (r != NULL && kn_watch_matches(c, w, r) && edge_add(r, w) != 0)
            return -1;
    }
    return 0;
}

static void watch_destroy(kn_cluster *c, kn_watch *w, int obj)
{
    kn_relstate *rs = &c->rs;
    while (w->n_rels > 0) {
        kn_wedge e = w->rels[w->n_rels - 1];
        edge_remove(e.r, e.pos);
    }
    int failed = 0;
    anchor_lists(rs, w, false, &failed);
    if (reads_ns(w))
        list_drop(rs->nsw, &rs->n_nsw, w);
    if (obj >= 0) {
        kn_strmap_del(&rs->watch_by_sig, w->sig);
        kn_ptrtab_del(&rs->objs, obj);
    }
    for (uint32_t i = 0; i < w->n_cl; i++)
        kn_clause_free(c, &w->cl[i]);
    free(w->cl);
    free(w->rels);
    free(w->sig);
    free(w);
}

kn_watch *kn_watch_new(kn_cluster *c, char *sig, kn_clause *cl, uint32_t n_cl, bool sym, bool spread,
                       uint32_t owner)
{
    kn_relstate *rs = &c->rs;
    kn_watch *w = calloc(1, sizeof(*w));
    kn_clause *copy = malloc(sizeof(*copy) * (n_cl ? n_cl : 1));
    if (w == NULL || copy == NULL) {
        free(w);
        free(copy);
        return NULL;
    }
    memcpy(copy, cl, sizeof(*cl) * n_cl);
    memset(cl, 0, sizeof(*cl) * n_cl);
    w->sig = sig;
    w->refs = 1;
    w->cl = copy;
    w->n_cl = n_cl;
    w->sym = sym;
    w->spread = spread;
    w->owner = owner;
    kn_dict_hold(&c->lab.dict, owner);
    choose_anchor(rs, w);
    int failed = 0;
    anchor_lists(rs, w, true, &failed);
    if (reads_ns(w))
        failed |= list_push(&rs->nsw, &rs->n_nsw, &rs->cap_nsw, w);
    int obj = failed ? -1 : kn_ptrtab_put(&rs->objs, w);
    if (failed || obj < 0 || kn_strmap_put(&rs->watch_by_sig, w->sig, obj) != 0 || match_rels(c, w) != 0) {
        if (obj >= 0)
            kn_ptrtab_del(&rs->objs, obj);
        kn_dict_unref(&c->lab.dict, owner);
        w->sig = NULL;
        watch_destroy(c, w, -1);
        kn_strmap_del(&rs->watch_by_sig, sig);
        return NULL;
    }
    return w;
}

void kn_watch_unref(kn_cluster *c, kn_watch *w)
{
    if (w == NULL || --w->refs > 0)
        return;
    kn_dict_unref(&c->lab.dict, w->owner);
    watch_destroy(c, w, kn_strmap_get(&c->rs.watch_by_sig, w->sig));
}

void kn_rel_rematch_nssel(kn_cluster *c)
{
    kn_relstate *rs = &c->rs;
    for (size_t i = 0; i < rs->n_nsw; i++) {
        kn_watch *w = rs->nsw[i];
        while (w->n_rels > 0) {
            kn_wedge e = w->rels[w->n_rels - 1];
            edge_remove(e.r, e.pos);
        }
        /* a rel missed for want of memory is the same as a count gone stale: built again */
        for (size_t j = 0; j < rs->rels.cap; j++) {
            kn_rel *r = rs->rels.slots[j];
            if (r != NULL && kn_watch_matches(c, w, r))
                edge_add(r, w);
        }
        for (kn_counter *k = w->counters; k != NULL; k = k->next)
            k->topo = 0;
    }
}

/* ---- counters ---- */

static void counter_free(kn_cluster *c, kn_counter *k)
{
    kn_counter **pp = &k->w->counters;
    while (*pp != k)
        pp = &(*pp)->next;
    *pp = k->next;
    kn_relstate *rs = &c->rs;
    for (size_t i = 0; i < rs->n_counters; i++)
        if (rs->counters[i] == k) {
            rs->counters[i] = rs->counters[--rs->n_counters];
            break;
        }
    kn_imap_free(&k->dom);
    free(k->elig);
    free(k->elig_sig);
    kn_watch *w = k->w;
    free(k);
    kn_watch_unref(c, w);
}

static int counter_build(kn_cluster *c, kn_counter *k, kn_elig_fn fill, void *ctx)
{
    kn_keymap *km = kn_keymap_get(c, k->key);
    if (km == NULL)
        return -1;
    k->km = km;
    kn_imap_clear(&k->dom);
    k->total = 0;
    free(k->elig);
    k->elig = NULL;
    if (k->elig_sig != NULL) {
        k->elig = calloc((size_t)km->n_nodes + 1, 1);
        if (k->elig == NULL)
            return -1;
        fill(ctx, c, k->elig);
        uint8_t *seen = calloc((size_t)km->n_dom + 1, 1);
        if (seen == NULL)
            return -1;
        k->n_elig_dom = 0;
        for (int i = 0; i < km->n_nodes; i++)
            if (k->elig[i] && km->dom[i] >= 0 && !seen[km->dom[i]]) {
                seen[km->dom[i]] = 1;
                k->n_elig_dom++;
            }
        free(seen);
    } else {
        k->n_elig_dom = km->n_dom;
    }
    uint64_t topo = c->topo_gen;
    for (int i = 0; i < k->w->n_rels; i++) {
        const kn_rel *r = k->w->rels[i].r;
        uint32_t pos = 0, node;
        int32_t n;
        while (r->n_occ > 0 && kn_rel_occ_next(r, &pos, &node, &n))
            count_at(&k->dom, &k->total, &topo, km, k->elig, (int)node, n);
    }
    k->topo = topo;
    return topo == c->topo_gen ? 0 : -1;
}

static bool same_sig(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

kn_counter *kn_counter_get(kn_cluster *c, kn_watch *w, uint32_t key, const char *elig_sig, kn_elig_fn fill,
                           void *ctx)
{
    kn_relstate *rs = &c->rs;
    kn_counter *k = w->counters;
    while (k != NULL && (k->key != key || !same_sig(k->elig_sig, elig_sig)))
        k = k->next;
    if (k == NULL) {
        if (rs->n_counters >= KN_MAX_COUNTERS) { /* the least recently used goes */
            kn_counter *old = rs->counters[0];
            for (size_t i = 1; i < rs->n_counters; i++)
                if (rs->counters[i]->last_use < old->last_use)
                    old = rs->counters[i];
            counter_free(c, old);
        }
        k = calloc(1, sizeof(*k));
        if (k == NULL ||
            kn_grow((void **)&rs->counters, &rs->cap_counters, rs->n_counters + 1, sizeof(*rs->counters)) != 0) {
            free(k);
            return NULL;
        }
        k->elig_sig = elig_sig ? strdup(elig_sig) : NULL;
        if (elig_sig != NULL && k->elig_sig == NULL) {
            free(k);
            return NULL;
        }
        k->w = w;
        w->refs++;
        k->key = key;
        kn_imap_init(&k->dom);
        k->next = w->counters;
        w->counters = k;
        rs->counters[rs->n_counters++] = k;
    }
    k->last_use = ++rs->tick;
    if (k->topo != c->topo_gen && counter_build(c, k, fill, ctx) != 0) {
        k->topo = 0;
        return NULL;
    }
    return k;
}

/* ---- carried terms ---- */

kn_carried *kn_carried_get(kn_cluster *c, kn_watch *w, uint32_t key, int type, int32_t weight)
{
    kn_relstate *rs = &c->rs;
    for (kn_carried *t = w->carried; t != NULL; t = t->next)
        if (t->key == key && t->type == type && t->weight == weight) {
            t->refs++;
            return t;
        }
    kn_carried *t = calloc(1, sizeof(*t));
    if (t == NULL ||
        kn_grow((void **)&rs->carried, &rs->cap_carried, rs->n_carried + 1, sizeof(*rs->carried)) != 0) {
        free(t);
        return NULL;
    }
    t->w = w;
    w->refs++;
    t->key = key;
    kn_dict_hold(&c->lab.dict, key);
    t->type = type;
    t->weight = weight;
    t->refs = 1;
    kn_imap_init(&t->dom);
    /* nothing carries a new term yet: its counts are current, all zero */
    t->km = kn_keymap_get(c, key);
    t->topo = t->km != NULL ? c->topo_gen : 0;
    if (t->topo == 0)
        rs->carried_dirty = true;
    t->next = w->carried;
    w->carried = t;
    rs->carried[rs->n_carried++] = t;
    return t;
}

void kn_carried_unref(kn_cluster *c, kn_carried *t)
{
    if (t == NULL || --t->refs > 0)
        return;
    kn_relstate *rs = &c->rs;
    kn_carried **pp = &t->w->carried;
    while (*pp != t)
        pp = &(*pp)->next;
    *pp = t->next;
    for (size_t i = 0; i < rs->n_carried; i++)
        if (rs->carried[i] == t) {
            rs->carried[i] = rs->carried[--rs->n_carried];
            break;
        }
    kn_imap_free(&t->dom);
    kn_dict_unref(&c->lab.dict, t->key);
    kn_watch *w = t->w;
    free(t);
    kn_watch_unref(c, w);
}

int kn_carried_sync(kn_cluster *c)
{
    kn_relstate *rs = &c->rs;
    if (!rs->carried_dirty && rs->carried_topo == c->topo_gen)
        return 0;
    for (size_t i = 0; i < rs->n_carried; i++) {
        kn_carried *t = rs->carried[i];
        kn_imap_clear(&t->dom);
        t->total = 0;
        t->topo = 0;
        if ((t->km = kn_keymap_get(c, t->key)) == NULL)
            return -1;
    }
    uint64_t topo = c->topo_gen;
    for (size_t i = 0; i < rs->rels.cap; i++) {
        const kn_rel *r = rs->rels.slots[i];
        if (r == NULL || r->ts == NULL || r->ts->n_car == 0 || r->n_occ == 0)
            continue;
        uint32_t pos = 0, node;
        int32_t n;
        while (kn_rel_occ_next(r, &pos, &node, &n))
            for (uint32_t j = 0; j < r->ts->n_car; j++) {
                kn_carried *t = r->ts->car[j];
                count_at(&t->dom, &t->total, &topo, t->km, NULL, (int)node, n);
            }
    }
    if (topo != c->topo_gen)
        return -1;
    for (size_t i = 0; i < rs->n_carried; i++)
        rs->carried[i]->topo = topo;
    rs->carried_topo = topo;
    rs->carried_dirty = false;
    return 0;
}

/* ---- termsets (compiled by terms.c) ---- */

void kn_termset_destroy(kn_cluster *c, kn_termset *ts)
{
    kn_pterm *lists[4] = {ts->aff, ts->anti, ts->paff, ts->panti};
    uint32_t ns[4] = {ts->n_aff, ts->n_anti, ts->n_paff, ts->n_panti};
    for (int l = 0; l < 4; l++) {
        for (uint32_t i = 0; i < ns[l]; i++) {
            kn_watch_unref(c, lists[l][i].w);
            kn_dict_unref(&c->lab.dict, lists[l][i].key);
        }
        free(lists[l]);
    }
    for (uint32_t i = 0; i < ts->n_sp; i++) {
        kn_watch_unref(c, ts->sp[i].w);
        kn_dict_unref(&c->lab.dict, ts->sp[i].key);
    }
    free(ts->sp);
    for (uint32_t i = 0; i < ts->n_car; i++)
        kn_carried_unref(c, ts->car[i]);
    free(ts->car);
    free(ts->sig);
    free(ts);
}

void kn_termset_unref(kn_cluster *c, kn_termset *ts)
{
    if (ts == NULL || --ts->refs > 0)
        return;
    int i = kn_strmap_get(&c->rs.ts_by_sig, ts->sig);
    if (i >= 0) {
        kn_strmap_del(&c->rs.ts_by_sig, ts->sig);
        kn_ptrtab_del(&c->rs.objs, i);
    }
    kn_termset_destroy(c, ts);
}

/* ---- the state ---- */

int kn_relstate_init(kn_cluster *c)
{
    kn_relstate *rs = &c->rs;
    memset(rs, 0, sizeof(*rs));
    kn_phash_init(&rs->rels, rel_hash_of);
    kn_strmap_init(&rs->watch_by_sig);
    kn_strmap_init(&rs->ts_by_sig);
    kn_imap_init(&rs->post_by_val);
    kn_imap_init(&rs->post_by_key);
    kn_imap_init(&rs->posted_keys);
    kn_imap_init(&rs->ns_by_name);
    rs->hostname = kn_dict_ref(&c->lab.dict, "kubernetes.io/hostname");
    rs->zone = kn_dict_ref(&c->lab.dict, "topology.kubernetes.io/zone");
    return rs->hostname != 0 && rs->zone != 0 ? 0 : -1;
}

void kn_relstate_free(kn_cluster *c)
{
    kn_relstate *rs = &c->rs;
    /* every rel, termset and watch is released by the pods and reservations
     * that hold them; what is left here is counters and the tables */
    while (rs->n_counters > 0)
        counter_free(c, rs->counters[rs->n_counters - 1]);
    free(rs->counters);
    free(rs->carried);
    for (size_t i = 0; i < rs->n_posts; i++) {
        free(rs->posts[i].rels);
        free(rs->posts[i].watches);
    }
    free(rs->posts);
    free(rs->free_posts);
    free(rs->unanchored);
    free(rs->nsw);
    kn_phash_free(&rs->rels);
    free(rs->objs.p);
    free(rs->objs.free);
    kn_strmap_free(&rs->watch_by_sig);
    kn_strmap_free(&rs->ts_by_sig);
    kn_imap_free(&rs->post_by_val);
    kn_imap_free(&rs->post_by_key);
    kn_imap_free(&rs->posted_keys);
    kn_keymaps_free(c);
    namespaces_free(c);
    kn_dict_unref(&c->lab.dict, rs->hostname);
    kn_dict_unref(&c->lab.dict, rs->zone);
    memset(rs, 0, sizeof(*rs));
}
