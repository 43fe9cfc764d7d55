/* place.h - where one pod (or one held executor slot) can go, and how good each node is.
 *
 * Filters run in kube-scheduler's plugin order and a node stops at the first
 * failing one (not ready, NodeUnschedulable, TaintToleration, NodeAffinity,
 * NodePorts, NodeResourcesFit, then our NUMA fit, then the volume plugins of
 * a pod with claims: VolumeRestrictions, NodeVolumeLimits, VolumeBinding,
 * VolumeZone, volumes.h); NodeResourcesFit reports every resource that does
 * not fit. Why nodes failed is collected in a kn_diag and rendered exactly as
 * kube-scheduler's FitError:
 *   "0/5 nodes are available: 2 node(s) didn't have a NUMA zone that fits (single-numa), 3 Insufficient cpu."
 * ("<count> <reason>" strings sorted as strings, joined by ", ").
 * Nothing here changes the cluster: a kn_choice is turned into a placement by
 * the caller (kn_choice_to_alloc + kn_alloc_take). */
#ifndef KN_PLACE_H
#define KN_PLACE_H

#include <stdbool.h>
#include <stddef.h>

#include "scheduler/cache/cluster.h"

#define KN_DIAG_MAX 24
#define KN_REASON_MAX 160

typedef struct kn_diag {
    int n_nodes; /* nodes considered */
    int n;
    struct {
        char reason[KN_REASON_MAX];
        int count;
    } r[KN_DIAG_MAX];
    int8_t insufficient[KN_RDIM]; /* 1 + the entry "Insufficient <resource r>", or 0 */
} kn_diag;

/* What a placement needs to know about the pod. */
typedef struct kn_want {
    const kn_constraints *pod; /* selectors, tolerations, affinity (NULL: none) */
    const kn_rvec *req;
    const kn_numa_spec *numa;      /* NULL: no policy */
    const int *numa_idx;           /* resource indices of numa->resources */
    const char *unfit_name;        /* a resource no node can have, or NULL */
    int owner;                     /* pod index (for isolated zones), -1 for a slot */
    bool binpack;                  /* gang and batch pods: most-allocated scoring */
    const char *sig;               /* the pod's constraints as text (kn_pod_sig, with vol's static
                                   checks when vol is set), or NULL: no caching */
    const struct kn_vol_want *vol; /* the pod's volumes (place/volumes.h), NULL: none */
    kn_rel *rel;                   /* its labels, namespace and inter-pod terms (relations.h), or NULL */
} kn_want;

typedef struct kn_choice {
    int node;
    int n_zones;
    uint8_t zone[KN_NUMA_MAX_ZONES];
    kn_rvec ztake[KN_NUMA_MAX_ZONES];
    bool exclusive;
    double numa_score; /* 0..100 */
    double score;      /* -1001..1000 (see score.c): from kn_place_best, with the
                          preferences and inter-pod scores; from one node's
                          evaluation, without the preferences */
} kn_choice;

/* The kind of a pod: everything a placement reads of a pod, the cluster
 * aside. Pods of one kind land alike on the same cluster, so every placement
 * cache (the placer's and the index's) is keyed by it: hash, then equality.
 * Static filters read only its signature's constraints, so their cache is
 * keyed by sig alone. */
typedef struct kn_pod_kind {
    uint64_t hash;
    const char *sig; /* kn_pod_sig of the constraints: w's (kn_pod_kind_of) or
                            the cache's own copy (kn_pod_kind_keep) */
    kn_rvec req;
    kn_numa_spec numa; /* zeroed: no policy; only the listed resources set */
    bool binpack, unfit;
} kn_pod_kind;

/* kind.c: w's kind (sig borrowed from w); false when w has no signature (not cacheable). */
bool kn_pod_kind_of(const kn_want *w, kn_pod_kind *k);
bool kn_pod_kind_eq(const kn_pod_kind *a, const kn_pod_kind *b);
/* dst = src with a signature of its own; 0, or -1 out of memory (dst empty). */
int kn_pod_kind_keep(kn_pod_kind *dst, const kn_pod_kind *src);
/* Frees what kn_pod_kind_keep made; k is empty afterwards. */
void kn_pod_kind_drop(kn_pod_kind *k);

void kn_diag_init(kn_diag *d);
/* Counts the reason once more; its entry, or -1 when the diagnosis is full. */
int kn_diag_add(kn_diag *d, const char *reason);
/* kn_diag_add of "Insufficient <c->res_names[r]>", found by resource instead
 * of by its text: every node a pod does not fit adds one. */
void kn_diag_add_insufficient(kn_diag *d, const kn_cluster *c, int r);
/* kube-scheduler's FitError text. */
void kn_diag_message(const kn_diag *d, char *buf, size_t cap);

/* filter.c */
bool kn_filter_static(const kn_node *n, const kn_constraints *pod, kn_diag *d);
bool kn_filter_resources(const kn_cluster *c, const kn_node *n, const kn_want *w, kn_diag *d);
bool kn_node_matches_affinity(const kn_node *n, const kn_constraints *pod);
/* A NodeSelector ({"nodeSelectorTerms": [...]}, as a pod's required node
 * affinity or a PersistentVolume's spec.nodeAffinity.required) against n. */
bool kn_node_selector_matches(const kn_node *n, const kn_json *selector);
/* A metav1.LabelSelector (matchLabels, matchExpressions) against labels. */
bool kn_labels_match_selector(const kn_json *labels, const kn_json *selector);
bool kn_tolerates_taints(const kn_node *n, const kn_constraints *pod, const kn_taint **first);
/* One nodeSelectorTerm (matchExpressions and matchFields, all of them) against
 * the node; an empty term matches nothing. */
bool kn_node_matches_term(const kn_node *n, const kn_json *term);
/* A toleration of pod (NULL: none) tolerates the taint. */
bool kn_pod_tolerates(const kn_constraints *pod, const char *key, const char *value, const char *effect);

/* unsupported.c: the first field of kn_pod.fields (a KN_PODF_ bit set) that no
 * plugin here implements, or -1: a pod setting it must not be placed. */
int kn_unsupported_field(uint32_t fields);

/* node_ports.c: NodePorts. False when a host port of the pod is in use on n. */
#define KN_REASON_PORTS "node(s) didn't have free ports for the requested pod ports"
bool kn_ports_fit(const kn_node *n, const kn_constraints *pod);

/* prefer.c: the scoring preferences, NodeAffinity's and TaintToleration's
 * scores. A node's raw values: */
typedef struct kn_prefs {
    int64_t affinity; /* weights of the preferred node affinity terms it matches */
    int32_t taints;   /* PreferNoSchedule taints the pod does not tolerate */
} kn_prefs;
void kn_prefs_of_node(const kn_node *n, const kn_constraints *pod, kn_prefs *out);
/* The preferences can rank nodes differently for this pod: it has preferred
 * terms, or some node has a PreferNoSchedule taint. Only then do they enter
 * its scores (otherwise they are the same on every node). */
bool kn_want_prefers(const kn_cluster *c, const kn_want *w);
/* kube-scheduler's DefaultNormalizeScore for one score: 100 * v / max
 * (integer division), 100 minus that when reverse; max 0: v, or 100 when reverse. */
int64_t kn_normalize_score(int64_t v, int64_t max, bool reverse);
/* What the preferences add to a node's score: 2 * NodeAffinity + 3 *
 * TaintToleration, each normalized over the feasible nodes (max: the largest
 * raw values among them). */
double kn_prefs_score(const kn_prefs *node, const kn_prefs *max);

/* numa_fit.c: zones for the pod on n per its policy; false (with a reason in d)
 * when the policy filters the node out. */
bool kn_numa_fit(const kn_node *n, const kn_want *w, kn_choice *ch, kn_diag *d);
/* The resources a policy aligns (listed and requested) and their amounts. */
typedef struct kn_numa_req {
    int n;
    int idx[KN_NUMA_MAX_RESOURCES];
    int64_t amt[KN_NUMA_MAX_RESOURCES];
} kn_numa_req;
void kn_numa_req_of(const kn_want *w, kn_numa_req *q);
/* The same decision, only its quality (kn_choice.numa_score): what ranking a
 * node needs, without the zone amounts or a reason. q: kn_numa_req_of(w). */
bool kn_numa_score(const kn_node *n, const kn_want *w, const kn_numa_req *q, double *score);

/* score.c: the formula is at the top of score.c and in README "Scheduling". */
double kn_score_node(const kn_cluster *c, const kn_node *n, const kn_want *w, const kn_choice *ch);
/* kube-scheduler's default weights of InterPodAffinity and PodTopologySpread
 * against NodeResourcesFit's 1: their normalized 0..100 scores are added
 * times these to the node's score. */
#define KN_WEIGHT_INTERPOD 2
#define KN_WEIGHT_SPREAD 2

/* The filters that change with placements (resources, NUMA) and the score,
 * without a diagnosis: a node that passed the static filters. */
bool kn_fit_and_score(const kn_cluster *c, int node, const kn_want *w, kn_choice *ch);
/* What kn_fit_and_score reads of a want, worked out once for many nodes:
 * the resources requested, the ones scored (with kube-scheduler's defaults
 * for a zero cpu / memory request), the extended ones a node would strand,
 * the NUMA request. Valid while w and the cluster's resource table
 * (n_res, ext_mask) are unchanged: made anew for each placement. */
typedef struct kn_fit_plan {
    const kn_want *w;
    bool unfit, numa;
    bool ports;  /* the pod asks for host ports */
    bool screen; /* unfit or ports: one test where neither applies */
    bool prefer; /* kn_want_prefers: scores are rounded so preferences add exactly */
    int n_need, n_scored, n_strand;
    int need_r[KN_RDIM], scored_r[KN_RDIM], strand_r[KN_RDIM];
    int64_t need[KN_RDIM], scored_req[KN_RDIM];
    kn_numa_req q;
} kn_fit_plan;
void kn_fit_plan_init(const kn_cluster *c, const kn_want *w, kn_fit_plan *p);
/* kn_fit_and_score's answer and ch->score, without filling a choice: the
 * place index ranks every changed node with it and fills only the winner's. */
bool kn_fit_score(const kn_cluster *c, int node, const kn_fit_plan *p, double *score);
/* Its parts: NodePorts and NodeResourcesFit without a reason, and the score
 * given the NUMA quality. */
bool kn_plan_resources_fit(const kn_node *n, const kn_fit_plan *p);
double kn_plan_score(const kn_node *n, const kn_fit_plan *p, double numa_score);
/* All filters on one node; true and a scored choice if it fits (the score
 * without the preferences). With inter-pod terms (w->rel) the node is also
 * filtered by them (PodTopologySpread and InterPodAffinity, after
 * NodeResourcesFit) and its score is the one it would get were it the only
 * node that fits. */
bool kn_place_on_node(kn_cluster *c, int node, const kn_want *w, kn_choice *ch, kn_diag *d);
/* Its filters after the static ones, whose answers change with placements
 * (NodePorts, NodeResourcesFit, the NUMA fit, the volume plugins), for a pod
 * without inter-pod terms: true and ch's zones if n passes. */
bool kn_filter_changing(const kn_cluster *c, const kn_node *n, const kn_want *w, kn_choice *ch, kn_diag *d);
/* The best node (highest score with the preferences and the inter-pod
 * scores, then node name) or false with d filled.
 * Exactly what a scan of every node with kn_place_on_node would choose (each
 * feasible node's score plus kn_prefs_score under the largest raw values
 * among them when kn_want_prefers, plus the inter-pod scores normalized over
 * them: relplan.h), but cached: the place index
 * (place_index.h); which nodes pass the static filters, per constraint
 * signature, until a node changes; and, for pods without preferences, the
 * best K candidates of the last full scan, reused for the next pod of the
 * same kind while nothing but that pod's own placement (one take) changed the
 * cluster: nodes outside the list are unchanged and ranked below it, so the
 * best re-scored candidate that still ranks above the list's last entry is
 * the best node. Failure rescans with the diagnosis. */
bool kn_place_best(kn_cluster *c, const kn_want *w, kn_choice *best, kn_diag *d);
void kn_place_cache_free(struct kn_place_cache *pc);
/* Fills an alloc (node, zones, amounts) from a choice; 0 or -1 out of memory. */
int kn_choice_to_alloc(const kn_choice *ch, kn_alloc *a);

#endif
