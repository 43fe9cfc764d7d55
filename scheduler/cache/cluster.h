/* cluster.h - the scheduler's view of the cluster: nodes with NUMA zones, pods,
 * and what each placement takes from them.
 *
 * Resources are held as fixed vectors (kn_rvec) indexed by names interned per
 * cluster (cpu in milli-units first, then memory, ephemeral-storage, pods,
 * then extended resources in first-seen order), so accounting is a loop over
 * a few integers and needs no allocation.
 *
 * Every placement (a pod, or a held executor slot) is a kn_alloc: its node,
 * its request, and the NUMA zones and per-zone amounts it took. kn_alloc_take()
 * and kn_alloc_release() are exact inverses, so a tentative gang placement is
 * undone by releasing in reverse order.
 *
 * NUMA zones come, in this order of preference, from the node's
 * NodeResourceTopology (topology.node.k8s.io/v1alpha2, zones of type "Node"),
 * the node annotation numa.kubenexus.io/topology:
 *     {"zones":[{"name":"node-0","cpu":"16","memory":"64Gi","nvidia.com/gpu":"2"}, ...]}
 * (every member other than "name" is an allocatable quantity), or the labels
 * numa.kubenexus.io/node-count, numa.kubenexus.io/node-<i>-cpus ("0-15") and
 * numa.kubenexus.io/node-<i>-memory (bytes). A zone's free room is
 *     min(reported available - what we placed there since that report,
 *         allocatable - everything we placed there)
 * (the first term only with a NodeResourceTopology), so a stale report can
 * never make us over-commit a zone with our own decisions. */
#ifndef KN_CLUSTER_H
#define KN_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "spark/gang.h"
#include "json/json.h"
#include "spark/numa.h"
#include "kube/labels.h"
#include "kube/pod.h"
#include "kube/timestamp.h"
#include "base/strmap.h"
#include "scheduler/cache/labels.h"
#include "scheduler/cache/relations.h"

#define KN_RDIM 16
#define KN_CHLOG_SIZE 65536 /* a power of two */
enum { KN_R_CPU = 0, KN_R_MEMORY, KN_R_EPHEMERAL, KN_R_PODS, KN_R_FIRST_EXT };

#define KN_TOPOLOGY_ANNOTATION "numa.kubenexus.io/topology"
#define KN_NUMA_COUNT_LABEL "numa.kubenexus.io/node-count"

/* kn_json_str of a nested member: KN_DIG_STR(pod, "metadata", "name") */
#define KN_DIG_STR(o, ...) kn_json_str(kn_json_dig((o), __VA_ARGS__, NULL))

typedef struct kn_rvec {
    int64_t v[KN_RDIM];
} kn_rvec;

typedef enum { KN_TOPO_NONE, KN_TOPO_LABELS, KN_TOPO_ANNOTATION, KN_TOPO_NRT } kn_topo_source;

typedef struct kn_zone {
    char name[64];
    kn_rvec alloc;
    kn_rvec avail; /* reported available (NRT only) */
    bool has_avail;
    kn_rvec ours;  /* everything we placed in this zone */
    kn_rvec since; /* what we placed since the last report */
    int users;     /* allocs holding part of this zone */
    int exclusive; /* pod index holding the zone isolated, or -1 */
    kn_rvec room;  /* kn_zone_free() of every resource, kept by kn_zone_sync_room()
                        wherever alloc, avail, ours or since change: a NUMA fit
                        reads one line per zone instead of four */
} kn_zone;

typedef struct kn_taint {
    char *key, *value, *effect;
} kn_taint;

/* Host ports in use on a node, as kube-scheduler's NodeInfo.UsedPorts: a
 * count per (hostIP, protocol, port) of the pods bound, assumed or placed
 * tentatively there, plus a count per (protocol, port) over every address
 * (key ip ""), so a conflict is two lookups however many ports are in use.
 * Open addressing, hashed with kn_keyhash (ports and addresses come from
 * users); scheduler/cache/ports.c. */
typedef struct kn_port_use {
    kn_host_port key;
    int32_t count; /* 0: empty slot */
} kn_port_use;

typedef struct kn_portset {
    kn_port_use *slots;
    size_t cap, used; /* cap a power of two (or 0) */
} kn_portset;

/* Adds delta (+1 take, -1 release) to p's count and to the every-address count. */
void kn_portset_add(kn_portset *s, const kn_host_port *p, int delta);
/* Uses of (ip, protocol, port); ip "" counts every address. */
int32_t kn_portset_count(const kn_portset *s, const char *ip, const char *protocol, int32_t port);
void kn_portset_free(kn_portset *s);

typedef struct kn_node {
    bool live;
    char *name, *uid;
    kn_json *labels; /* owned object, never NULL while live */
    kn_lset *lset;   /* the same labels interned (topology domains), or NULL */
    kn_taint *taints;
    int n_taints;
    bool unschedulable, ready;
    kn_rvec alloc, used; /* used: bound, assumed and held room */
    int n_zones;
    kn_zone *zones; /* n_zones of them, malloc'd (NULL without zones) */
    kn_topo_source topo;
    char *topo_annotation;   /* numa.kubenexus.io/topology as sent, or NULL */
    uint32_t zone_epoch;     /* bumped when the zone layout changes */
    int n_exclusive;         /* zones held isolated */
    kn_portset ports;        /* host ports in use */
    bool prefer_no_schedule; /* has a PreferNoSchedule taint */
    bool seen;               /* resync mark */
} kn_node;

/* Members ordered by size, to pad little: every pod record holds one, and
 * so does every executor slot. */
typedef struct kn_alloc {
    kn_rvec req;
    kn_rvec *ztake;      /* n_zones amounts, malloc'd */
    kn_host_port *ports; /* host ports it holds on its node (a pod's, owned by its
                            record and kept across placements; none for a slot) */
    kn_rel *rel;         /* what it counts as in other pods' affinity and spreading: a pod
                            record's own (held by the record), a slot's borrowed from
                            its reservation; or NULL */
    int node;            /* -1 when not placed */
    int owner;           /* pod index for exclusive zones */
    int n_ports;
    int n_zones;
    uint32_t zone_epoch;
    uint8_t zone[KN_NUMA_MAX_ZONES];
    bool exclusive;
} kn_alloc;

typedef enum { KN_POD_PENDING, KN_POD_ASSUMED, KN_POD_BOUND } kn_pod_state;

/* The parts of a pod spec that placement reads besides its request and NUMA
 * policy (taken out of a kn_pod): filters and scoring preferences. */
typedef struct kn_constraints {
    kn_json *node_selector;      /* owned object or NULL */
    kn_json *required_affinity;  /* owned requiredDuringScheduling... or NULL */
    kn_json *preferred_affinity; /* owned preferredDuringScheduling... array or NULL */
    kn_toleration *tolerations;
    int n_tolerations;
    kn_host_port *host_ports; /* NULL when none */
    int n_host_ports;
} kn_constraints;

/* Moves the constraints out of p (p can then be freed as usual). */
void kn_constraints_take(kn_constraints *out, kn_pod *p);
/* The constraints of p, borrowed: valid while p is, not to be freed. */
void kn_constraints_view(kn_constraints *out, const kn_pod *p);
void kn_constraints_free(kn_constraints *c);

/* Constraints are shared by every pending pod with the same ones (the
 * executors of one application): one entry per distinct signature. */
typedef struct kn_cons_entry {
    char *sig; /* kn_pod_sig() of cons: the key */
    kn_constraints cons;
    int refs;
    int idx;
} kn_cons_entry;

/* A NUMA spec and its resources' indices, shared by every pending pod asking
 * for the same one (a spec is 520 bytes; a third of the gang shape's 150,000
 * pods ask for one of a handful). */
typedef struct kn_numa_entry {
    kn_numa_spec spec;
    int idx[KN_NUMA_MAX_RESOURCES]; /* kn_res_index of spec.resources (stable: resources are never dropped) */
    int refs;
} kn_numa_entry;

/* What only a pending pod of ours needs (kept small: 150k pending pods; members
 * ordered by size). */
typedef struct kn_pod_detail {
    kn_cons_entry *cons;  /* shared, counted */
    kn_numa_entry *numa;  /* shared, counted; NULL without a policy */
    kn_json *reservation; /* parsed executor-reservation annotation, or NULL */
    kn_json *rel_spec;    /* with a reservation: {"podAffinity", "podAntiAffinity",
                             "topologySpreadConstraints"} as the pod has them, for its executors'
                             slots when the annotation carries none; else NULL */
    double timeout_s;     /* gang timeout annotation, 0 = default */
    char *reason;         /* last FailedScheduling message, or NULL */
    double last_event;    /* clock of the last FailedScheduling event */
    uint64_t tried_gen;   /* cluster generation of the last failed attempt */
    char *bad;            /* why the pod can never be scheduled (bad annotation), or NULL */
    uint32_t fields;      /* kn_pod.fields: scheduling fields beyond the model it sets */
    int nom;              /* the nomination holding room for it (scheduler/cycle/preempt.c): index + 1, 0 none */
    bool batch;           /* a Spark pod (spark-role label): bin-packed */
    bool spark_driver;    /* spark-role: driver */
    bool gated;           /* spec.schedulingGates not empty: not attempted */
    bool preempt_never;   /* spec.preemptionPolicy Never: may not preempt */
    bool nominated;       /* status.nominatedNodeName was set for it (to clear when preemption fails) */
} kn_pod_detail;

/* Members ordered by size, to pad little: one per pod, 150,000 of them. */
typedef struct kn_cpod {
    char *uid, *ns, *name;    /* one allocation, uid's */
    char *node_name;          /* bound or assumed node, or NULL */
    char *unfit_name;         /* a requested resource we cannot track (table full), or NULL */
    kn_pod_detail *d;         /* pending pods of ours only */
    kn_pod_detail *restore;   /* a driver of ours first seen bound (a restart or a new
                                 leader) with an executor reservation to re-create, or NULL */
    struct kn_pod_vols *vols; /* its claims (volumes.h), NULL: none */
    double created;           /* creationTimestamp in seconds (0 if absent) */
    uint64_t seq;             /* arrival order, for ties */
    double bound_at;          /* wall clock it was bound (PodScheduled, else created); 0 unknown */
    kn_alloc alloc;           /* alloc.rel: its labels, namespace and terms (held by the record);
                                 NULL out of memory */
    kn_labelset labels;       /* for PodDisruptionBudget selectors (kept when c->keep_labels) */
    kn_pod_state state;
    int32_t priority;
    int gang; /* gang index or -1 */
    bool live;
    bool ours;
    bool binding; /* our POST .../binding is in flight */
    bool seen;    /* resync mark */
    /* what preemption reads of a running pod */
    bool terminating;   /* metadata.deletionTimestamp set: already going away */
    bool driver;        /* a Spark driver (spark-role=driver, or it carries an executor reservation) */
    bool preempted;     /* chosen as a preemption victim by this process */
    int64_t grace_s;    /* spec.terminationGracePeriodSeconds, -1 unknown */
    uint64_t owner_pod; /* kn_keyhash of its controller's uid when that is a Pod (a Spark executor), else 0 */
    double started;     /* status.startTime (Unix seconds), 0 unknown */
} kn_cpod;

typedef struct kn_nrt {
    char *name;
    int n_zones;
    kn_zone *zones; /* n_zones of them, malloc'd (alloc/avail only) */
    bool seen;
} kn_nrt;

/* A PodGroup as watched (spark/podgroup.h); gangs that name it look it up by
 * kind, namespace and name when they are attempted. */
typedef struct kn_pgrec {
    char *key; /* the map key: kind digit, then "ns/name" (kn_pgrec_ref) */
    kn_gang_kind kind;
    int min_member;
    bool has_min_res;
    kn_rvec min_res; /* spec.minResources, pods = min_member (as coscheduling adds) */
    int timeout_s;   /* 0: not set */
    char *bad;       /* why no gang can use it (a bad field), or NULL */
    bool seen;       /* resync mark */
} kn_pgrec;

static inline const char *kn_pgrec_ref(const kn_pgrec *g)
{
    return g->key + 1;
}
/* A policy/v1 PodDisruptionBudget, as kube-scheduler's preemption reads it:
 * its namespace, selector, status.disruptionsAllowed and the pods of
 * status.disruptedPods (already counted by the API server). */
#define KN_PDB_MAX_DISRUPTED 4096
typedef struct kn_pdb {
    bool live, seen;
    char *uid, *ns, *name;
    bool selects; /* the selector is valid and not empty (else it matches no pod) */
    kn_label_selector sel;
    int32_t allowed;  /* status.disruptionsAllowed */
    char **disrupted; /* status.disruptedPods' names, sorted */
    int n_disrupted;
} kn_pdb;

typedef struct kn_cluster {
    char res_names[KN_RDIM][KN_RESOURCE_NAME_MAX];
    int n_res;
    uint32_t ext_mask; /* bit r: res_names[r] is an extended resource (kn_res_is_extended) */
    kn_node *nodes;
    int n_nodes;
    size_t cap_nodes;
    kn_strmap node_by_name;
    kn_cpod *pods;
    int n_pods;
    size_t cap_pods;
    int *free_pods; /* indices of dropped records, reused first */
    int n_free_pods;
    size_t cap_free_pods;
    kn_strmap pod_by_uid;
    kn_nrt *nrts;
    int n_nrts;
    size_t cap_nrts;
    kn_strmap nrt_by_name;
    kn_pgrec *pgs; /* PodGroups, both kinds; a deleted one's slot takes the last */
    int n_pgs;
    size_t cap_pgs;
    kn_strmap pg_by_key;
    uint64_t gen;                               /* bumped whenever room may have been freed */
    uint64_t mutations;                         /* every take and release (placement caches check it) */
    int *chlog;                                 /* ring of KN_CHLOG_SIZE: take/release number m at m % size as
                              node * 2 + (1 if a release), or NULL */
    uint64_t node_gen;                          /* every node or topology change (filter caches check it) */
    int n_prefer_no_schedule;                   /* live nodes with a PreferNoSchedule taint */
    struct kn_place_cache *pc;                  /* the placer's caches (scheduler/place), or NULL; */
    void (*pc_free)(struct kn_place_cache *pc); /* held here to live and die with the cluster */
    int pct_nodes;                              /* percentage of nodes to score (0 adaptive, 100 all) */
    kn_cons_entry **cons;                       /* shared constraints, NULL slots free */
    int n_cons;
    size_t cap_cons;
    kn_strmap cons_by_sig;
    kn_phash numa_specs; /* kn_numa_entry, by spec */
    uint64_t seq;
    int n_restore; /* pods with a restore detail */
    char *scheduler_name;
    kn_pdb *pdbs;
    int n_pdbs;
    size_t cap_pdbs;
    kn_strmap pdb_by_uid;
    bool keep_labels;     /* keep every pod's labels (PodDisruptionBudgets are, or will be, watched) */
    int32_t min_priority; /* the lowest priority any pod had (never rises): none below it can be preempted */
    struct kn_vols *vols; /* claims, volumes, classes, CSINodes (volumes.h), or NULL: none seen */
    void (*vols_free)(struct kn_cluster *c); /* frees vols and the pods' volume records */
    uint64_t vol_gen;                        /* every change of a claim, volume, class or CSINode */
    kn_labels lab;                           /* interned label strings and sets (labels.h) */
    kn_relstate rs;                          /* inter-pod relations (relations.h) */
    uint64_t topo_gen;                       /* node labels, taints or liveness changed (topology domains) */
    uint64_t ns_gen;                         /* namespaces changed */
} kn_cluster;

int kn_cluster_init(kn_cluster *c, const char *scheduler_name, kn_err *err);
void kn_cluster_free(kn_cluster *c);

/* Resource name -> index; create=true interns it. -1 if unknown / table full. */
int kn_res_index(kn_cluster *c, const char *name, bool create);
const char *kn_res_name(const kn_cluster *c, int idx);
/* Kubernetes' extended resource: a domain-qualified name outside kubernetes.io
 * (nvidia.com/gpu), unlike hugepages-2Mi or attachable-volumes-*. */
bool kn_res_is_extended(const char *name);
/* One quantity into the vector slot of its resource (cpu in milli). */
int kn_rvec_set_quantity(kn_cluster *c, kn_rvec *v, const char *name, const char *qty, kn_err *err);
/* A ResourceList object into a vector; names beyond the table are skipped. */
int kn_rvec_from_list(kn_cluster *c, const kn_json *list, kn_rvec *v, kn_err *err);

int kn_cluster_apply_node(kn_cluster *c, const kn_json *node, bool deleted, kn_err *err);
int kn_cluster_apply_nrt(kn_cluster *c, const kn_json *nrt, bool deleted, kn_err *err);
/* podgroups.c: a PodGroup of kind (not KN_GANG_LABELS) added, changed or
 * deleted. One with a bad spec is kept with its reason (gangs naming it are
 * told); one without a legal namespace and name is refused (-1). Any change
 * bumps c->gen: gangs that waited for it are tried again. */
int kn_cluster_apply_podgroup(kn_cluster *c, kn_gang_kind kind, const kn_json *pg, bool deleted, kn_err *err);
/* The PodGroup, or NULL when none is known. */
const kn_pgrec *kn_cluster_podgroup(const kn_cluster *c, kn_gang_kind kind, const char *ns, const char *name);
/* Resync of one kind: clear the marks, then (after applying the list) drop
 * the records not applied since. */
void kn_cluster_podgroups_unmark(kn_cluster *c, kn_gang_kind kind);
void kn_cluster_podgroups_sweep(kn_cluster *c, kn_gang_kind kind);
/* A v1 Namespace (its labels feed namespaceSelector). */
int kn_cluster_apply_namespace(kn_cluster *c, const kn_json *ns, bool deleted, kn_err *err);
/* Relist of namespaces: begin marks all unseen, end drops the unseen. */
void kn_cluster_ns_resync_begin(kn_cluster *c);
void kn_cluster_ns_resync_end(kn_cluster *c);
/* What a pod event changed, for the gang layer. */
typedef struct kn_pod_change {
    int idx;               /* the pod's record, or -1 when the event was ignored */
    bool removed;          /* deleted or terminated: the caller takes it out of its
                         gang, then kn_cluster_drop_pod() releases and frees it */
    bool placed_elsewhere; /* an assumed pod turned up bound to another node */
    kn_gang_spec gang;     /* its gang (spark/gang.h; present=false if none or invalid) */
} kn_pod_change;

int kn_cluster_apply_pod(kn_cluster *c, const kn_json *pod, bool deleted, kn_pod_change *chg, kn_err *err);
/* The same for a pod not deleted, given as its model (read, not taken: what
 * is kept is copied); obj is the object it was read from, for its status
 * conditions, or NULL (created just now: none). */
int kn_cluster_apply_pod_model(kn_cluster *c, const kn_pod *p, const kn_json *obj, kn_pod_change *chg,
                               kn_err *err);
/* A PodDisruptionBudget (policy/v1) upserted or deleted by uid. From the
 * first one on, pods' labels are kept (c->keep_labels). A bad selector is no
 * error: the budget then covers no pod, as in kube-scheduler. */
int kn_cluster_apply_pdb(kn_cluster *c, const kn_json *pdb, bool deleted, kn_err *err);
/* Evicting p counts against b: same namespace, b's selector matches p's
 * labels, and p is not among b's disrupted pods. */
bool kn_pdb_covers(const kn_pdb *b, const kn_cpod *p);
void kn_cluster_drop_pdb(kn_cluster *c, int i); /* deleted, or gone from a relist */
void kn_pdbs_free(kn_cluster *c);               /* by kn_cluster_free */
/* Frees a pod record (already released and out of its gang). */
void kn_cluster_drop_pod(kn_cluster *c, int idx);
void kn_pod_detail_free(kn_cluster *c, kn_pod_detail *d);
/* Frees p->restore (the reservation was re-created or given up). */
void kn_cpod_restore_done(kn_cluster *c, kn_cpod *p);
/* The shared entry for these constraints (copied when new), or NULL on OOM. */
kn_cons_entry *kn_cons_intern(kn_cluster *c, const kn_constraints *cons);
void kn_cons_release(kn_cluster *c, kn_cons_entry *e);
/* The shared entry of a spec with a policy (one more reference); NULL out of memory. */
kn_numa_entry *kn_numa_intern(kn_cluster *c, const kn_numa_spec *spec);
void kn_numa_release(kn_cluster *c, kn_numa_entry *e);
/* The scheduling constraints of a pod as one string (malloc'd), or NULL: the
 * key that pods with the same constraints share, and part of the placement
 * caches' key (a kind of pod): every member of kn_constraints is in it, so
 * a field a placement reads must be added both there and here. */
char *kn_pod_sig(const kn_constraints *p);
/* Node index for a name, creating a not-live placeholder so that pods bound to
 * a node we have not seen yet are counted when it arrives. -1 out of memory. */
int kn_cluster_node_ref(kn_cluster *c, const char *name);
/* Node i is gone (deleted, or missing from a relist): not live, its record
 * and the room its pods take kept for a re-add. */
void kn_cluster_node_gone(kn_cluster *c, int i);

/* Free room of a node for a pod in resource r (alloc - used - room kept for
 * isolated zones of others). */
int64_t kn_node_free_dim(const kn_node *n, int pod, int r);
/* Free room of a zone for resource r (see the header comment), as last
 * synced; inline: the NUMA fit asks it for every zone of every node it evaluates. */
static inline int64_t kn_zone_free(const kn_zone *z, int r)
{
    return z->room.v[r];
}

/* Recomputes z->room; after any change of the zone's alloc, avail, has_avail,
 * ours or since (cluster.c's take and release, nodes.c's set_zones). */
static inline void kn_zone_sync_room(kn_zone *z)
{
    for (int r = 0; r < KN_RDIM; r++) {
        int64_t f = z->alloc.v[r] - z->ours.v[r];
        if (z->has_avail) {
            int64_t a = z->avail.v[r] - z->since.v[r];
            if (a < f)
                f = a;
        }
        z->room.v[r] = f;
    }
}

/* Accounting. take: the alloc's node, zones and amounts must be filled in.
 * release does not bump c->gen (undoing a tentative placement frees nothing
 * real); callers that free room for good do. */
void kn_alloc_take(kn_cluster *c, kn_alloc *a);
void kn_alloc_release(kn_cluster *c, kn_alloc *a);
void kn_alloc_clear(kn_alloc *a); /* frees ztake, node = -1; the ports stay (the pod's) */
/* Before kn_alloc_take() of a bound pod: its zones from the zones annotation
 * (after a restart), its request split over them in zone order. */
void kn_alloc_zones_from_csv(kn_cluster *c, kn_alloc *a, const char *zones_csv);

#endif
