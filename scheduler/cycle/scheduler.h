/* scheduler.h - the scheduler's placement core, as the live program and `simulate` drive it.
 *
 * The caller feeds the cluster as watch events arrive (whole v1 Node, v1 Pod,
 * v1 Namespace, topology.node.k8s.io/v1alpha2 NodeResourceTopology and
 * PodGroup objects of scheduling.x-k8s.io/v1alpha1 and
 * scheduling.volcano.sh/v1beta1, upserted or deleted), then runs scheduling
 * cycles. A cycle is pure and
 * deterministic given the state and the clock value `now` (seconds, any epoch,
 * monotonic): it decides placements and appends, in order, the bindings to
 * POST and the events to post. Every binding it returns is "assumed": counted
 * on its node (and NUMA zones) until the caller reports the outcome with
 * kn_sched_bind_ok() / kn_sched_bind_failed(), or the watch shows the pod bound.
 *
 * Only pods with spec.schedulerName == config.scheduler_name and no
 * spec.nodeName are scheduled; every bound, non-terminated pod (any scheduler)
 * counts against its node. A pod with spec.schedulingGates is not attempted
 * (no event) until they are removed, as kube-scheduler's SchedulingGates; one
 * that sets a field no plugin implements (scheduler/place/unsupported.c)
 * stays pending with FailedScheduling "unsupported: <field>", and so do the
 * other pending members of its gang. Gangs (declared by labels, or by naming
 * a PodGroup: spark/gang.h) are placed all-or-nothing; a pod naming a
 * PodGroup not known waits for it; a driver with the
 * executor-reservation annotation is bound only with its executor slots held.
 * A driver of ours first seen already bound (after a restart or a leader
 * change) gets the slots its executors not yet placed need re-reserved in the
 * next cycle, all or none, timed from its binding (GangReserved, or a Warning
 * when they no longer fit, or GangTimeout when its timeout has passed).
 *
 * Not thread-safe: one thread (or one mutex) drives a kn_scheduler.
 * Apply functions never abort on bad objects: they return -1 with a message
 * naming the object and the field, and leave the state as it was. */
#ifndef KN_SCHED_H
#define KN_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/strpool.h"
#include "json/json.h"
#include "kube/event.h"
#include "kube/pod.h"
#include "spark/gang.h"
#include "spark/numa.h"
#include "spark/sparkapp.h"

typedef struct kn_scheduler kn_scheduler;

typedef struct kn_sched_config {
    const char *scheduler_name;       /* NULL -> "kubenexus-scheduler" (copied) */
    double gang_timeout_s;            /* 0 -> 600: held executor slots released after this */
    double starvation_s;              /* 0 -> 120: a gang ready but unplaced this long holds room */
    double event_repeat_s;            /* 0 -> 60: same FailedScheduling message re-posted at most this often */
    double wall_at_zero;              /* Unix time at clock value 0 (live: realtime - monotonic); 0: unknown.
                                      Times a reservation re-created after a restart from the driver's
                                      binding; unknown -> from the cycle that re-creates it */
    int percentage_of_nodes_to_score; /* 0 or 100 -> every node, the exact best (indexed: cheap);
                                         1..99 -> that share, sampled as kube-scheduler's */
    bool watch_pdbs;                  /* PodDisruptionBudgets will be fed (maybe after the pods): keep
                                      every pod's labels from the start. Otherwise they are kept
                                      from the first kn_sched_apply_pdb on */
} kn_sched_config;

kn_scheduler *kn_sched_new(const kn_sched_config *cfg, kn_err *err);
void kn_sched_free(kn_scheduler *s);

/* ---- feeding the state (watch ADDED/MODIFIED: deleted=false; DELETED: true) ---- */
int kn_sched_apply_node(kn_scheduler *s, const kn_json *node, bool deleted, kn_err *err);
int kn_sched_apply_pod(kn_scheduler *s, const kn_json *pod, bool deleted, kn_err *err);
/* The same for a pod just created (not deleted, no status), given as its
 * model: read, not taken (what is kept is copied), so a caller creating many
 * alike pods can change one model between calls. */
int kn_sched_apply_pod_model(kn_scheduler *s, const kn_pod *pod, kn_err *err);
int kn_sched_apply_nrt(kn_scheduler *s, const kn_json *nrt, bool deleted, kn_err *err);
/* A PodGroup of kind (KN_GANG_COSCHEDULING or KN_GANG_VOLCANO). */
int kn_sched_apply_podgroup(kn_scheduler *s, kn_gang_kind kind, const kn_json *pg, bool deleted, kn_err *err);
/* policy/v1 PodDisruptionBudgets, for preemption's choice of victims. */
int kn_sched_apply_pdb(kn_scheduler *s, const kn_json *pdb, bool deleted, kn_err *err);
/* A v1 Namespace: its labels are what namespaceSelector in pod affinity terms reads. */
int kn_sched_apply_namespace(kn_scheduler *s, const kn_json *ns, bool deleted, kn_err *err);

/* Relist (after 410 Gone or a reconnect without resourceVersion): call begin,
 * apply every listed object, then end, which deletes the objects of that kind
 * not applied since begin. */
typedef enum {
    KN_SCHED_NODES,
    KN_SCHED_PODS,
    KN_SCHED_NRTS,
    KN_SCHED_PODGROUPS,         /* scheduling.x-k8s.io/v1alpha1 */
    KN_SCHED_VOLCANO_PODGROUPS, /* scheduling.volcano.sh/v1beta1 */
    KN_SCHED_PDBS,              /* policy/v1 PodDisruptionBudgets */
    KN_SCHED_PVCS,              /* v1 PersistentVolumeClaims (scheduler/cache/volumes.h) */
    KN_SCHED_PVS,               /* v1 PersistentVolumes */
    KN_SCHED_STORAGECLASSES,    /* storage.k8s.io/v1 */
    KN_SCHED_CSINODES,          /* storage.k8s.io/v1 */
    KN_SCHED_NAMESPACES,        /* v1: their labels, for namespaceSelector */
} kn_sched_kind;
#define KN_SCHED_KINDS 11
/* Where the API server serves a kind's collection ("/api/v1/pods"). */
const char *kn_sched_kind_path(kn_sched_kind kind);
/* The apply function of the kind. */
int kn_sched_apply(kn_scheduler *s, kn_sched_kind kind, const kn_json *obj, bool deleted, kn_err *err);
void kn_sched_resync_begin(kn_scheduler *s, kn_sched_kind kind);
void kn_sched_resync_end(kn_scheduler *s, kn_sched_kind kind);

/* ---- one scheduling cycle ---- */
/* A write the pod's volumes need before its Binding (kube-scheduler's
 * VolumeBinding PreBind): a JSON merge patch guarded by the object's
 * metadata.resourceVersion, and how to tell it took effect (after a 409,
 * from the object re-read: the value at a JSON pointer). */
typedef struct kn_sched_vstep {
    char *path;      /* /api/v1/persistentvolumes/NAME or /api/v1/namespaces/NS/persistentvolumeclaims/NAME */
    char *body;      /* application/merge-patch+json */
    char *check_ptr; /* e.g. /spec/claimRef/uid */
    char *check_val;
    bool pv; /* a PersistentVolume (else a PersistentVolumeClaim) */
} kn_sched_vstep;

typedef struct kn_sched_binding {
    char *ns, *name, *uid, *node;
    int n_zones;
    char *zones[KN_NUMA_MAX_ZONES]; /* NUMA zones given to the pod, in zone order */
    char *zones_annotation;         /* "node-0,node-1", or NULL when no zones */
    uint64_t group;                 /* bindings of one gang placed at once share it; 0: alone */
    int n_vsteps;
    kn_sched_vstep *vsteps; /* volume writes before the Binding, in order */
    bool wait_volumes;      /* the Binding waits until kn_sched_volumes_ready */
} kn_sched_binding;

/* An Event about a pod (kube/event.h). */
typedef kn_pod_event kn_sched_event;

/* A running pod to evict so that a pod of higher priority fits: give it the
 * DisruptionTarget condition, delete it with its grace period, then post its
 * Preempted event (kube-scheduler's order). */
typedef struct kn_sched_victim {
    char *ns, *name, *uid, *node;   /* the victim and the node it runs on */
    char *by_ns, *by_name, *by_uid; /* its preemptor: the pod (of a gang: the member) it makes room for */
    char *by_node;                  /* the node that preemptor is nominated to */
    char *gang;       /* "ns/name" when it goes with its whole gang (or its Spark driver), else NULL */
    int64_t grace_s;  /* spec.terminationGracePeriodSeconds, -1 unknown (the pod's own then) */
    bool terminating; /* already being deleted: nothing to write */
} kn_sched_victim;

/* status.nominatedNodeName to PATCH on a pending pod; node NULL clears it. */
typedef struct kn_sched_nomination {
    char *ns, *name, *uid, *node;
} kn_sched_nomination;

/* The strings of its bindings and events belong to it: valid until it is
 * reset or freed. */
typedef struct kn_sched_out {
    kn_sched_binding *bindings;
    size_t n_bindings, cap_bindings;
    kn_sched_event *events;
    size_t n_events, cap_events;
    kn_sched_victim *victims;
    size_t n_victims, cap_victims;
    kn_sched_nomination *nominations;
    size_t n_nominations, cap_nominations;
    kn_strpool strings;
    size_t n_vstep_bindings; /* bindings whose vsteps array is to free */
} kn_sched_out;

void kn_sched_out_init(kn_sched_out *o);
void kn_sched_out_reset(kn_sched_out *o); /* frees the contents, keeps o usable */
void kn_sched_out_free(kn_sched_out *o);

/* Places what can be placed now. Appends to out (does not reset it).
 * Returns the number of bindings appended, or -1 (out of memory). */
int kn_sched_cycle(kn_scheduler *s, double now, kn_sched_out *out, kn_err *err);

/* ---- binding outcomes (uid of a binding returned by a cycle) ---- */
/* 201: the pod is bound; appends the "Scheduled" event to out. */
void kn_sched_bind_ok(kn_scheduler *s, const char *uid, double now, kn_sched_out *out);
/* Anything else, after the caller's own retries of transient errors.
 * 409 (already bound): the assumption stays until the watch shows the pod's node.
 * 404 (pod gone): the pod is forgotten. Other statuses: the placement is undone,
 * the pod requeued, and a FailedScheduling "Binding rejected: <message>" event appended. */
void kn_sched_bind_failed(kn_scheduler *s, const char *uid, int http_status, const char *message, double now,
                          kn_sched_out *out);

/* ---- preemption outcomes (the live program's writes for a victim) ---- */
/* The victim's DisruptionTarget condition or its deletion failed for good
 * (not 404: a pod already gone is what preemption wanted). The nominations
 * waiting for it are dropped, their room released and their pods tried
 * again; a FailedScheduling "Preemption failed: <message>" is appended. */
void kn_sched_preempt_failed(kn_scheduler *s, const char *victim_uid, const char *message, double now,
                             kn_sched_out *out);

/* A binding with wait_volumes: are the pod's claims bound as decided?
 * 1 yes (POST the Binding), 0 not yet, -1 never (msg: why, in
 * kube-scheduler's words, e.g. "binding volumes: provisioning failed for
 * PVC \"x\""; then kn_sched_volumes_failed). As binder.go's checkBindings. */
int kn_sched_volumes_ready(kn_scheduler *s, const char *uid, char *msg, size_t cap);
/* The pod's volume writes or wait failed (a gang's members all fail): the
 * placement is undone and the pod requeued with a FailedScheduling event
 * saying message. */
void kn_sched_volumes_failed(kn_scheduler *s, const char *uid, const char *message, double now, kn_sched_out *out);

/* Earliest clock value at which a cycle has timed work (a reservation timeout,
 * a starvation bound, a repeated event); INFINITY if none. Run a cycle then, and
 * after applying watch events. */
double kn_sched_next_deadline(const kn_scheduler *s);

/* ---- for /metrics and the simulation summary ---- */
typedef struct kn_sched_stats {
    size_t nodes, pods_pending, pods_assumed, pods_bound;
    size_t gangs_waiting, gangs_placed;
    /* creationTimestamp (Unix seconds) of the oldest pending member of a
     * waiting gang: how long gangs have waited; 0 when none waits (or no
     * member has one) */
    double oldest_gang_waiting_since;
    size_t reservations_held, slots_held;
    uint64_t reservations_timed_out; /* released by their timeout (GangTimeout), ever */
    uint64_t attempts, scheduled, unschedulable, bind_errors;
    uint64_t preemption_attempts;        /* preemptors that looked for victims */
    uint64_t preemptions, victims;       /* of them, those that found room; the pods they evicted */
    size_t nominated;                    /* pods holding room until their victims are gone */
    uint64_t numa_decisions[5];          /* indexed by kn_numa_policy (numa.h) */
    uint64_t unsupported[KN_PODF_COUNT]; /* pods left pending because they set that field
                                            (kube/pod.h), which no plugin implements */
    /* utilisation of ready, schedulable nodes: requested / allocatable */
    int64_t cpu_milli_used, cpu_milli_alloc;
    int64_t memory_used, memory_alloc;
    int64_t gpu_used, gpu_alloc; /* nvidia.com/gpu + amd.com/gpu */
} kn_sched_stats;

void kn_sched_get_stats(const kn_scheduler *s, kn_sched_stats *st);

/* Pods still pending, in queue order, with the last reason ("" if never
 * tried; "SchedulingGated" while spec.schedulingGates holds them). */
typedef void (*kn_sched_pending_fn)(void *ctx, const char *ns, const char *name, const char *reason);
void kn_sched_each_pending(const kn_scheduler *s, kn_sched_pending_fn fn, void *ctx);

/* ---- for `simulate`'s what-if ---- */
/* The last message a pending pod of ours (by uid) was told (FailedScheduling,
 * GangWaiting; "" if never tried); NULL when the pod is not pending or not ours. */
const char *kn_sched_pending_reason(const kn_scheduler *s, const char *uid);

typedef struct kn_sched_resv_info {
    const char *driver_ns, *driver_name, *gang; /* gang: "ns/name" */
    int slots;                                  /* held, not yet taken by an executor */
    const char **slot_nodes;                    /* the node of each of them */
    double expires;                             /* clock value its timeout releases them at */
    bool restored;                              /* re-created for a driver first seen bound (after a restart) */
} kn_sched_resv_info;
typedef void (*kn_sched_resv_fn)(void *ctx, const kn_sched_resv_info *r);
/* Every reservation held, in the order they were made. */
void kn_sched_each_reservation(const kn_scheduler *s, kn_sched_resv_fn fn, void *ctx);

/* Why pending pod uid (ours) does not go to each live node, in node name
 * order: fn(ctx, node, why), why NULL where it would fit by itself (for a
 * driver with an executor reservation: itself and one executor slot beside
 * it), else the filters' reasons as FailedScheduling counts them
 * ("Insufficient cpu, Insufficient memory", "node(s) had untolerated taint
 * {gpu: true}"). Nothing is changed. 0, or -1 when uid is not a pending pod of
 * ours (or out of memory). */
typedef void (*kn_sched_node_fn)(void *ctx, const char *node, const char *why);
int kn_sched_explain(kn_scheduler *s, const char *uid, kn_sched_node_fn fn, void *ctx);

#endif
