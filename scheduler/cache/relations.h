/* relations.h - what inter-pod affinity and topology spreading need of the
 * cluster, kept current as pods come and go instead of recounted for every
 * pod placed.
 *
 *  - A rel is what the scheduler knows of a pod (or of a held executor slot,
 *    which stands for the executor it is held for) that other pods' terms can
 *    match: its label set, namespace, controller (for default spreading),
 *    whether it is terminating, and its own terms (termset). Rels are
 *    interned: pods with the same labels and spec share one. Every placement
 *    (kn_alloc) points at its rel; kn_alloc_take / kn_alloc_release count it
 *    on its node (kn_rel_occupy), which updates every count below that the
 *    rel takes part in.
 *  - A watch is a term's "which pods": the AND of clauses (label selector +
 *    namespaces / namespaceSelector). Watches are interned by their text; each
 *    keeps the rels it matches (and each rel its watches), found through an
 *    anchor (one label value the selector requires) so a new rel is checked
 *    only against watches that can match it, and a new watch only against
 *    rels that carry its anchor.
 *  - A counter is, for one watch, one topology key and (for spreading) one
 *    set of eligible nodes, how many placements of matching rels each domain
 *    of that key holds: PreFilter's per-domain counts of kube-scheduler,
 *    built once from the watch's rels and then moved by every take and
 *    release. Counters unused for long are dropped (at most KN_MAX_COUNTERS).
 *  - A carried term is a term a placed pod holds (required or preferred,
 *    affinity or anti-affinity), with how many of its carriers each domain
 *    holds: kube-scheduler's symmetry ("existing pods' anti-affinity") and
 *    existing pods' preferred terms in scoring.
 *  - A keymap is, for one topology key, the domain of each node (the node's
 *    label value), rebuilt when node labels or liveness change (topo_gen);
 *    counters and carried terms built before such a change are rebuilt
 *    before they are read.
 *
 * Namespaces (watched) give namespaceSelector its labels; a change re-matches
 * the watches that read them (ns_gen). */
#ifndef KN_RELATIONS_H
#define KN_RELATIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/imap.h"
#include "base/strmap.h"
#include "json/json.h"
#include "scheduler/cache/labels.h"

struct kn_cluster;

#define KN_MAX_COUNTERS 2048
#define KN_MAX_KEYMAPS 256
#define KN_MAX_TERMS 64 /* per kind of term, per pod */

/* ---- watches ---- */

typedef struct kn_clause {
    kn_lsel sel;
    uint32_t *ns; /* namespace name ids, sorted */
    uint32_t n_ns;
    bool has_nssel; /* a namespaceSelector (nssel) */
    kn_lsel nssel;
} kn_clause;

struct kn_rel;
struct kn_counter;
struct kn_carried;

typedef struct kn_wedge {
    struct kn_rel *r;
    int pos; /* index of this edge's twin in r->w */
} kn_wedge;

typedef struct kn_watch {
    char *sig;
    int refs;
    uint32_t n_cl;
    kn_clause *cl;
    bool sym;            /* namespaceSelector read against the pod's namespace's labels, a missing
                           namespace having none (an existing pod's term); else namespaces listed
                           by it (the incoming pod's term: a missing namespace matches no selector
                           but {}) */
    bool spread;         /* PodTopologySpread counts: terminating pods do not match */
    uint32_t owner;      /* only pods of this controller (uid id) match (default spreading); 0: any */
    int anchor;          /* how it is found by new rels: 0 unanchored, 1 by value, 2 by key, 3 by owner */
    uint32_t anchor_req; /* the clause-0 requirement anchored on (by value or key) */
    kn_wedge *rels;      /* the rels it matches */
    int n_rels, cap_rels;
    struct kn_counter *counters;
    struct kn_carried *carried;
} kn_watch;

/* ---- rels ---- */

typedef struct kn_redge {
    kn_watch *w;
    int pos; /* index of the twin in w->rels */
} kn_redge;

struct kn_termset;

typedef struct kn_rel {
    kn_lset *lset;
    struct kn_termset *ts; /* its own terms, or NULL */
    kn_redge *w;           /* the watches it matches */
    int32_t *post;         /* its index in each posting list (lset pairs, then owner;
                              -1 not posted), or NULL: none posted */
    /* node -> placements taken there: most rels (a pod's own) are on one
     * node, kept inline (occ1_n > 0) while occ is NULL or empty; once a
     * second node comes, every node is in occ. Walk them with
     * kn_rel_occ_next. (One is made per pod: kept small.) */
    kn_imap *occ;
    uint32_t occ1_node;
    int32_t occ1_n;
    int32_t n_occ; /* placements taken, all nodes */
    int32_t refs;
    int32_t n_w, cap_w;
    uint32_t ns;         /* namespace name id */
    uint32_t owner : 31; /* controller uid id when default spreading applies to it, else 0 */
    uint32_t terminating : 1;
} kn_rel;

/* The nodes r has placements on, one per call (*pos = 0 to start): false at
 * the end. */
bool kn_rel_occ_next(const kn_rel *r, uint32_t *pos, uint32_t *node, int32_t *n);

/* ---- terms ---- */

typedef struct kn_pterm {
    kn_watch *w;
    uint32_t key;   /* topologyKey id */
    int32_t weight; /* preferred terms */
} kn_pterm;

typedef struct kn_spreadc {
    kn_watch *w; /* labelSelector (matchLabelKeys merged), the pod's namespace */
    uint32_t key;
    int32_t max_skew, min_domains;
    bool hard;                         /* DoNotSchedule (else ScheduleAnyway) */
    bool honor_affinity, honor_taints; /* nodeAffinityPolicy, nodeTaintsPolicy: Honor */
    bool everything;                   /* an empty selector: kube-scheduler counts no pods for it */
} kn_spreadc;

enum { KN_CARRY_REQ_ANTI, KN_CARRY_REQ_AFF, KN_CARRY_PREF_AFF, KN_CARRY_PREF_ANTI };

typedef struct kn_carried {
    kn_watch *w; /* the term as it reads an incoming pod */
    uint32_t key;
    int type; /* KN_CARRY_* */
    int32_t weight;
    int refs;    /* termsets holding it */
    kn_imap dom; /* domain index -> carriers placed there */
    int64_t total;
    uint64_t topo; /* topo_gen the counts are for (0: to rebuild) */
    struct kn_keymap *km;
    struct kn_carried *next; /* on w */
} kn_carried;

typedef struct kn_termset {
    char *sig;
    int refs;
    kn_pterm *aff; /* required affinity: each term's watch is the AND of every term's clauses */
    uint32_t n_aff;
    kn_pterm *anti; /* required anti-affinity */
    uint32_t n_anti;
    kn_pterm *paff, *panti; /* preferred, with weights */
    uint32_t n_paff, n_panti;
    kn_spreadc *sp;
    uint32_t n_sp;
    bool sp_default;  /* sp holds kube-scheduler's system default constraints */
    kn_carried **car; /* what it makes an existing pod hold against incoming ones */
    uint32_t n_car;
} kn_termset;

/* ---- counters ---- */

typedef struct kn_counter {
    kn_watch *w;
    uint32_t key;
    char *elig_sig; /* which nodes count (spreading's node inclusion), or NULL: every node with the key */
    uint8_t *elig;  /* per node, with elig_sig */
    struct kn_keymap *km;
    kn_imap dom; /* domain index -> matching placements */
    int64_t total;
    int n_elig_dom; /* domains holding an eligible node */
    uint64_t topo;  /* topo_gen it was built for (0: stale) */
    uint64_t last_use;
    struct kn_counter *next; /* on w */
} kn_counter;

/* ---- topology ---- */

typedef struct kn_keymap {
    uint32_t key;
    uint64_t topo;   /* topo_gen of dom (0: to build) */
    uint64_t serial; /* changes with every build: whoever copied dom checks it */
    uint64_t last_use;
    int n_nodes;
    int32_t *dom; /* per node: domain index, -1 without the key or not live */
    int n_dom;
    uint32_t *dom_val; /* per domain: the label value id */
    int32_t *dom_node; /* per domain: its node when it has one, else -1 */
    bool unique;       /* no two live nodes share a value: a domain is a node */
    int n_with;        /* live nodes with the key */
    int n_live;        /* live nodes */
} kn_keymap;

typedef struct kn_nsrec {
    uint32_t name;
    kn_lset *labels;
    bool seen;
} kn_nsrec;

/* A posting list: the rels carrying one label value (any key) or owner, and
 * the watches anchored on it. */
typedef struct kn_post_ent {
    kn_rel *r;
    uint32_t pi; /* which of r's pairs (r->lset->n: the owner) */
} kn_post_ent;

typedef struct kn_postlist {
    kn_post_ent *rels;
    size_t n_rels, cap_rels;
    kn_watch **watches;
    size_t n_watches, cap_watches;
} kn_postlist;

/* Interned objects found by signature: a strmap gives the index here. */
typedef struct kn_ptrtab {
    void **p;
    size_t n, cap;
    int32_t *free;
    size_t n_free, cap_free;
} kn_ptrtab;

typedef struct kn_relstate {
    kn_phash rels;          /* the interning table */
    kn_strmap watch_by_sig; /* sig -> index in objs */
    kn_strmap ts_by_sig;    /* sig -> index in objs */
    kn_ptrtab objs;
    kn_watch **nsw; /* watches reading namespace labels */
    size_t n_nsw, cap_nsw;
    kn_imap post_by_val; /* value (or owner) id -> index in posts */
    kn_imap post_by_key; /* key id -> index in posts (watches anchored on Exists) */
    kn_imap posted_keys; /* label key ids some watch anchors on: only pairs of these
                             keys are posted (keeping every pair of every pod would
                             cost a posting per label of each) */
    kn_postlist *posts;
    size_t n_posts, cap_posts;
    int32_t *free_posts;
    size_t n_free_posts, cap_free_posts;
    kn_watch **unanchored;
    size_t n_unanchored, cap_unanchored;
    kn_counter **counters;
    size_t n_counters, cap_counters;
    kn_carried **carried; /* every carried term (rebuilt together after topology changes) */
    size_t n_carried, cap_carried;
    uint64_t carried_topo;
    bool carried_dirty;
    kn_keymap *keymaps[KN_MAX_KEYMAPS];
    int n_keymaps;
    kn_imap ns_by_name; /* name id -> index in ns */
    kn_nsrec *ns;
    size_t n_ns, cap_ns;
    uint64_t tick;     /* counter use clock */
    uint32_t hostname; /* id of kubernetes.io/hostname (held) */
    uint32_t zone;     /* id of topology.kubernetes.io/zone (held) */
    bool closing;      /* the cluster is being freed: counts are not kept */
} kn_relstate;

int kn_relstate_init(struct kn_cluster *c);
void kn_relstate_free(struct kn_cluster *c);

/* ---- rels (rels.c) ---- */

int kn_ptrtab_put(kn_ptrtab *t, void *p); /* the index, or -1 out of memory */
void kn_ptrtab_del(kn_ptrtab *t, int i);

/* The rel of a pod (interned, one more reference). lset and ts are taken
 * over (their references become the rel's, or are released); ns and owner
 * ids are held anew. NULL out of memory. */
kn_rel *kn_rel_get(struct kn_cluster *c, kn_lset *lset, uint32_t ns, uint32_t owner, bool terminating,
                   struct kn_termset *ts);
void kn_rel_hold(kn_rel *r);
void kn_rel_unref(struct kn_cluster *c, kn_rel *r);
/* One more (delta 1) or one less (-1) placement of r on node: moves every
 * counter and carried count r takes part in. */
void kn_rel_occupy(struct kn_cluster *c, kn_rel *r, int node, int delta);
/* Whether r's placements move anything: some watch matches it or it
 * carries terms (a placement of it may then make room for a pending pod). */
static inline bool kn_rel_matters(const kn_rel *r)
{
    return r != NULL && (r->n_w > 0 || (r->ts != NULL && r->ts->n_car > 0));
}
/* Whether watch w matches rel r now. */
bool kn_watch_matches(const struct kn_cluster *c, const kn_watch *w, const kn_rel *r);

/* ---- watches and terms (terms.c) ---- */

/* Interned watch for clauses (taken over: their strings become the watch's
 * or are released); one more reference. NULL out of memory. */
kn_watch *kn_watch_get(struct kn_cluster *c, kn_clause *cl, uint32_t n_cl, bool sym, bool spread, uint32_t owner);
void kn_watch_unref(struct kn_cluster *c, kn_watch *w);
void kn_clause_free(struct kn_cluster *c, kn_clause *cl);

/* What kn_termset_compile reads of a pod. */
typedef struct kn_pod_terms {
    const char *ns;
    const kn_lset *labels;       /* the pod's labels (matchLabelKeys) */
    const kn_json *pod_affinity; /* spec.affinity.podAffinity or NULL */
    const kn_json *pod_anti_affinity;
    const kn_json *spread;              /* spec.topologySpreadConstraints or NULL */
    const char *owner_kind, *owner_uid; /* controller reference or NULL */
    bool own;                           /* a pod this scheduler places: its spread constraints (or the
                                     system defaults) too; for others only what they carry */
} kn_pod_terms;

/* The pod's terms compiled (interned, one more reference), *out NULL when it
 * has none; -1 with err naming the field when a term is malformed. */
int kn_termset_compile(struct kn_cluster *c, const kn_pod_terms *in, kn_termset **out, kn_err *err);
void kn_termset_unref(struct kn_cluster *c, kn_termset *ts);
/* Frees a termset not (or no longer) interned. */
void kn_termset_destroy(struct kn_cluster *c, kn_termset *ts);
/* The controller uid id default spreading gives a pod of this owner (held), or 0. */
uint32_t kn_default_spread_owner(struct kn_cluster *c, const kn_pod_terms *in);

/* ---- counters and carried terms (rels.c) ---- */

/* Which nodes count for a counter: filled by the caller for every node
 * (1: counts), called when the counter is built. */
typedef void (*kn_elig_fn)(void *ctx, const struct kn_cluster *c, uint8_t *elig);
/* The counter of w's placements per domain of key, over every live node
 * with the key, or (elig_sig non-NULL) over the nodes fill marks; built now
 * when absent or stale. NULL out of memory. */
kn_counter *kn_counter_get(struct kn_cluster *c, kn_watch *w, uint32_t key, const char *elig_sig, kn_elig_fn fill,
                           void *ctx);
static inline int32_t kn_counter_at(const kn_counter *k, int dom)
{
    return dom < 0 ? 0 : kn_imap_get(&k->dom, (uint32_t)dom, 0);
}
/* Carried terms' counts, rebuilt when the topology changed since. 0, or -1
 * out of memory. */
int kn_carried_sync(struct kn_cluster *c);
/* The carried term (interned per watch, one more reference); NULL out of memory. */
kn_carried *kn_carried_get(struct kn_cluster *c, kn_watch *w, uint32_t key, int type, int32_t weight);
void kn_carried_unref(struct kn_cluster *c, kn_carried *t);
kn_watch *kn_watch_new(struct kn_cluster *c, char *sig, kn_clause *cl, uint32_t n_cl, bool sym, bool spread,
                       uint32_t owner);

/* ---- topology (topology.c) ---- */

/* The domains of key over the live nodes, current; NULL out of memory. Key
 * 0 makes every live node its own domain. */
kn_keymap *kn_keymap_get(struct kn_cluster *c, uint32_t key);
void kn_keymaps_free(struct kn_cluster *c);

/* ---- namespaces (the table in rels.c, kept by namespaces.c) ---- */

/* The labels of namespace name id (NULL: not watched or gone). */
const kn_lset *kn_ns_labels(const struct kn_cluster *c, uint32_t name);
/* After namespaces changed: watches that read namespace labels match anew. */
void kn_rel_rematch_nssel(struct kn_cluster *c);

#endif
