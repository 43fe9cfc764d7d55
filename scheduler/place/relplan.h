/* relplan.h - one placement's view of inter-pod affinity and topology
 * spreading: what kube-scheduler's PreFilter and PreScore work out for a pod,
 * read from the cluster's kept counts (scheduler/cache/relations.h) instead
 * of a walk over every pod, and then asked per node.
 *
 * A plan is made for one pod (or slot) at one moment and read while nothing
 * changes the cluster; interpod_affinity.c and topology_spread.c fill their
 * parts and answer for a node, relplace.c ranks the nodes with them. Only
 * placer.c, score.c and those three include this header. */
#ifndef KN_RELPLAN_H
#define KN_RELPLAN_H

#include "scheduler/place/place.h"

/* A count per domain of a topology key, read at a node's domain. */
typedef struct kn_dterm {
    const kn_keymap *km;
    const kn_imap *dom; /* domain index -> pods */
    int32_t weight;     /* scoring: added per pod counted (negative for anti-affinity) */
} kn_dterm;

/* A topology spread constraint as Filter and Score read it. */
typedef struct kn_tspread {
    const kn_spreadc *sc;
    const kn_keymap *km;
    const kn_counter *k; /* matching pods per domain over the eligible nodes */
    int64_t min;         /* Filter: the global minimum, minDomains applied */
    int self;            /* Filter: 1 when the pod matches its own selector */
    bool node_count;     /* Score: kubernetes.io/hostname counts the node's own pods */
    uint8_t *seen;       /* Score: per domain, held by a feasible scored node */
    int size;            /* Score: such domains (hostname: such nodes) */
    double weight;       /* Score: log(size + 2) */
} kn_tspread;

typedef struct kn_relplan {
    kn_cluster *c;
    const kn_want *w;
    bool active; /* anything below at all */
    /* InterPodAffinity Filter */
    kn_dterm *aff; /* required affinity, one per term */
    int n_aff, cap_aff;
    bool aff_none;  /* no pod matches them anywhere */
    bool aff_self;  /* the pod matches all its own terms */
    kn_dterm *anti; /* required anti-affinity */
    int n_anti, cap_anti;
    kn_dterm *exist; /* placed pods' required anti-affinity that matches this pod */
    int n_exist, cap_exist;
    /* InterPodAffinity Score */
    kn_dterm *ipa;
    int n_ipa, cap_ipa;
    /* PodTopologySpread Filter and Score */
    kn_tspread *hard;
    int n_hard, cap_hard;
    kn_tspread *soft;
    int n_soft, cap_soft;
    bool require_all; /* Score ignores nodes missing a key (not for the system defaults) */
    bool prefer;      /* kn_want_prefers: ranking adds the preferences too */
    bool oom;
} kn_relplan;

/* Fills p for w (w->rel set); false when the pod has no inter-pod terms and
 * none of placed pods' terms select it (kube-scheduler skips both plugins).
 * p->oom when something could not be built (the caller fails the pod). */
bool kn_relplan_init(kn_cluster *c, const kn_want *w, kn_relplan *p);
void kn_relplan_free(kn_relplan *p);

/* Why a node fails the inter-pod filters, in kube-scheduler's order. */
typedef enum {
    KN_REL_OK = 0,
    KN_REL_SPREAD_LABEL, /* node(s) didn't match pod topology spread constraints (missing required label) */
    KN_REL_SPREAD,       /* node(s) didn't match pod topology spread constraints */
    KN_REL_AFFINITY,     /* node(s) didn't match pod affinity rules */
    KN_REL_ANTI,         /* node(s) didn't match pod anti-affinity rules */
    KN_REL_EXISTING,     /* node(s) didn't satisfy existing pods anti-affinity rules */
} kn_rel_verdict;
const char *kn_rel_reason(kn_rel_verdict v);

/* relplace.c */
kn_rel_verdict kn_rel_filter(const kn_relplan *p, int node);
/* A node whose static filters and resources fit, with its score before the
 * inter-pod part (base), and the name order when known (rank, else -1). */
typedef struct kn_relcand {
    int node;
    int rank;
    double base;
    double pre; /* base with the preferences (kn_rel_rank) */
    kn_prefs prefs;
    int64_t ipa, pts; /* the plugins' scores (raw, then normalized) */
} kn_relcand;
/* Filters cand[0..n) with the plan, scores the survivors (both plugins and,
 * with p->prefer, the preferences normalized over them, times their weights,
 * added to base) and returns the index of the best (ties to the higher score
 * before the inter-pod part, then the first name), its total in *total; -1
 * when none passes. cand is reordered. */
int kn_rel_rank(kn_relplan *p, kn_relcand *cand, int n, double *total);
/* PreScore, Score and NormalizeScore of both plugins over cand[0..n) (taken
 * as the feasible nodes): ipa and pts become the normalized 0..100 scores. */
void kn_rel_normalized(kn_relplan *p, kn_relcand *cand, int n);
/* kn_place_on_node with the plan: the inter-pod filters after
 * NodeResourcesFit and before the NUMA fit. */
bool kn_place_on_node_rel(kn_cluster *c, int node, const kn_want *w, kn_relplan *p, kn_choice *ch, kn_diag *d);

/* How a pod's terms let its candidates be narrowed (placer.c): every term
 * reads a key whose domains are single nodes (node-local, as hostname is when
 * no two nodes share one) or one key with few domains (a zone), spreading
 * reads only the latter. Then a node no node-local count touches scores and
 * fails exactly as every other untouched node of its domain of that key:
 * the touched nodes and the best untouched node per domain are all the
 * candidates ranking needs. *few: that key's keymap, or NULL; *restricted:
 * required node-local affinity admits only the nodes its first term touches.
 * False when the pod's terms are not of that shape. */
bool kn_relplan_narrow(const kn_relplan *p, const kn_keymap **few, bool *restricted);
/* Calls visit for each node the node-local counts touch (restricted: the
 * nodes the first required affinity term touches); a node may come twice. */
void kn_relplan_touched(const kn_relplan *p, bool restricted, void (*visit)(void *ctx, int node), void *ctx);

/* interpod_affinity.c */
int kn_ipa_plan(kn_relplan *p); /* 0, or -1 out of memory */
kn_rel_verdict kn_ipa_filter(const kn_relplan *p, int node);
int64_t kn_ipa_raw(const kn_relplan *p, int node); /* Score before NormalizeScore */
/* NormalizeScore: raw within [min, max] of the feasible nodes -> 0..100. */
int64_t kn_ipa_normalize(int64_t raw, int64_t min, int64_t max);

/* topology_spread.c */
int kn_pts_plan(kn_relplan *p); /* 0, or -1 out of memory */
kn_rel_verdict kn_pts_filter(const kn_relplan *p, int node);
/* PreScore over the feasible nodes: kn_pts_reset, each node once, then kn_pts_weights. */
void kn_pts_reset(kn_relplan *p);
void kn_pts_see(kn_relplan *p, int node);
void kn_pts_weights(kn_relplan *p);
/* Score: the node's raw score, or -1 when it is ignored (a key missing). */
int64_t kn_pts_raw(const kn_relplan *p, int node);
/* NormalizeScore: raw (-1 ignored) with min and max over the scored nodes -> 0..100. */
int64_t kn_pts_normalize(int64_t raw, int64_t min, int64_t max);

#endif
