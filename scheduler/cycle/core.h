/* core.h - the cycle's inside: gangs and the queue (queue.c), executor
 * reservations (reserve.c, restore.c), placements made and undone
 * (commit.c), what a cycle hands back (out.c) and the cycle (cycle.c) share
 * these types; nothing outside scheduler/cycle includes this header but the
 * tests (the public API is scheduler.h). Bottom up: out.c, commit.c,
 * reserve.c, queue.c, podgroup.c, restore.c, explain.c, cycle.c; each calls
 * only those before it.
 *
 * Gang = namespace + name and how it is declared (labels, or a PodGroup of
 * either kind: spark/gang.h); size = min-available, or the PodGroup's
 * minMember when it is attempted (podgroup.c). Reservation =
 * the N executor slots placed with a Spark driver, each a kn_alloc held on its
 * node and zones until an executor of the gang takes it or the timeout
 * releases it. */
#ifndef KN_CORE_H
#define KN_CORE_H

#include "scheduler/cache/cluster.h"
#include "scheduler/place/place.h"
#include "scheduler/place/volumes.h"
#include "scheduler/cycle/scheduler.h"

typedef struct kn_gangrec {
    bool live;
    char *key;  /* "ns/name", for messages */
    char *mkey; /* gang_by_key's key: key, or for a PodGroup "ns/name#<kind>" */
    char *ns, *name;
    kn_gang_kind kind;
    int min_available;
    int *members; /* pod indices */
    int n;
    size_t cap;
    double ready_since; /* first failed all-at-once attempt; <0 none */
    bool placed;        /* reached min-available placed pods once */
    int resv;           /* live reservation index or -1 */
    int waiting_told;   /* members present when GangWaiting was last posted */
    uint64_t tried_gen;
    uint64_t mark; /* queue building */
} kn_gangrec;

typedef struct kn_resv {
    bool live;
    int gang;
    char *driver_uid, *driver_ns, *driver_name;
    int older;       /* a live reservation the same driver made before, or -1: a
                              driver placed again after its binding failed reserves anew */
    kn_alloc *slots; /* node < 0 once taken or released */
    int n_slots, n_free;
    kn_rel *rel; /* what its slots count as (held): see kn_resv_spec */
    double created, timeout_s;
    bool restored;       /* re-created after a restart (restore.c) */
    kn_json *annotation; /* the driver's executor-reservation (a copy) and constraints (counted): */
    kn_cons_entry *cons; /* to place the slots again when preemption moves them; NULL: cannot */
} kn_resv;

/* A parsed executor-reservation annotation. */
typedef struct kn_resv_spec {
    int count;
    kn_rvec req;
    kn_numa_spec numa;
    int numa_idx[KN_NUMA_MAX_RESOURCES];
    kn_constraints tmpl; /* nodeSelector/tolerations/affinity for the slots */
    bool has_tmpl;
    int unsupported; /* a KN_PODF_ field the template sets that no plugin implements, or -1 */
    char **classes;  /* storageClasses: the classes of the executors' claims to provision */
    int n_classes;
    char *tmpl_sig; /* kn_pod_sig(&tmpl) with has_tmpl, else NULL */
    kn_rel *rel;    /* what a slot counts as in other pods' affinity and spreading, and the
                              terms it is placed with: the executor it stands for (held), or NULL */
} kn_resv_spec;

/* An entry of the queue: a plain pod (id >= 0, its index) or a gang (id =
 * -1 - its index), with what orders it. */
typedef struct kn_qent {
    int id;
    int32_t prio;
    double created;
    uint64_t seq;
} kn_qent;
typedef struct kn_preempt kn_preempt; /* preempt.c's state */

struct kn_scheduler {
    kn_cluster c;
    kn_sched_config cfg;
    kn_gangrec *gangs;
    int n_gangs;
    size_t cap_gangs;
    kn_strmap gang_by_key;
    kn_resv *resvs;
    int n_resvs;
    size_t cap_resvs;
    kn_strmap resv_by_driver; /* driver uid -> its newest live reservation (keys: its driver_uid) */
    kn_qent *queue;           /* this cycle's queue (queue.c), its room kept from cycle to cycle */
    size_t cap_queue;
    kn_alloc *held; /* room a starving gang holds during this cycle */
    int n_held;
    size_t cap_held;
    bool holder_done; /* one starving gang holds room per cycle */
    uint64_t mark;
    double last_now; /* the clock of the last cycle */
    uint64_t attempts, scheduled, unschedulable, bind_errors;
    uint64_t numa_decisions[5];
    uint64_t resv_timeouts;              /* reservations released or not restored past their timeout */
    uint64_t unsupported[KN_PODF_COUNT]; /* pods left pending for each field */
    kn_preempt *pre;                     /* nominations and the cycle's victim index (preempt.c) */
    uint64_t group_seq;                  /* bindings committed together share a group number */
};

/* One scheduling cycle's context, as kube-scheduler's CycleState: the
 * scheduler, the cycle's clock and where its bindings and events go. The
 * functions of a cycle take it instead of (s, ..., now, out). */
typedef struct kn_cycle {
    kn_scheduler *s;
    double now;
    kn_sched_out *out;
} kn_cycle;

/* queue.c */
int kn_gang_join(kn_scheduler *s, int pod, const kn_gang_spec *g);
void kn_gang_leave(kn_scheduler *s, int pod);
/* The pods to schedule this cycle into s->queue: one entry per plain pod or
 * gang, in order (priority desc, then oldest, then arrival). Returns the
 * count, -1 out of memory. */
int kn_queue_build(kn_scheduler *s);

/* reserve.c */
/* How long the executor slots of driver p (d: its detail) are held: its
 * timeout annotation, else its PodGroup's scheduleTimeoutSeconds, else the
 * configured default. */
double kn_gang_timeout(const kn_scheduler *s, const kn_cpod *p, const kn_pod_detail *d);
/* d: the driver's detail (its d while pending, its restore detail once bound). */
int kn_resv_spec_parse(kn_cluster *c, const kn_cpod *driver, const kn_pod_detail *d, kn_resv_spec *out,
                       kn_err *err);
void kn_resv_spec_free(kn_cluster *c, kn_resv_spec *sp);
/* Takes ownership of slots[0..n) (taken, pointing at rel, which it holds
 * anew), held from clock value `created`. Returns the index or -1. */
int kn_resv_create(kn_scheduler *s, int gang, const kn_cpod *driver, kn_alloc *slots, int n, kn_rel *rel,
                   double created);
/* Releases what a reservation still holds. */
void kn_resv_release(kn_scheduler *s, int r);
/* The newest live reservation of the driver with this uid, or -1. */
int kn_resv_of_driver(const kn_scheduler *s, const char *uid);
/* Releases every live reservation of the driver with this uid. */
void kn_resv_release_driver(kn_scheduler *s, const char *uid);
/* Timeouts: releases expired reservations with a GangTimeout event. */
void kn_resv_expire(const kn_cycle *cy);
/* Tries to place pod p (a pending member of the reservation's gang) on a held
 * slot; true if placed (committed as assumed, binding appended). */
bool kn_resv_take(const kn_cycle *cy, int r, int p);

/* podgroup.c: whether a gang may be attempted now. A gang of labels always;
 * one named by a PodGroup takes min_available from its minMember, and waits
 * (false, msg says why) while the PodGroup is unknown or bad, or, until the
 * gang has run once, while the cluster's free room cannot hold its
 * minResources. */
bool kn_podgroup_gate(kn_scheduler *s, kn_gangrec *g, char *msg, size_t cap);

/* restore.c: re-creates the reservations of drivers first seen bound (see scheduler.h). */
void kn_resv_restore(const kn_cycle *cy);

/* Room for an event message (kube-scheduler's are shorter). */
#define KN_MSG_MAX 1536

/* out.c */
/* "cpu 2, memory 4Gi, nvidia.com/gpu 1": the resources of v above 0 (pods left out). */
void kn_fmt_req(const kn_cluster *c, const kn_rvec *v, char *buf, size_t cap);
/* kn_out_event with the message already written. */
int kn_out_event_msg(kn_sched_out *o, const char *ns, const char *name, const char *uid, const char *type,
                     const char *reason, const char *msg);
/* "Successfully assigned ns/name to node", as kube-scheduler words it. */
void kn_out_scheduled(kn_sched_out *o, const kn_cpod *p);
/* The binding of p (placed: alloc.node set) with its zones. */
int kn_out_binding(const kn_cluster *c, kn_sched_out *o, const kn_cpod *p);
/* Victim v (running) evicted for pod by, nominated to by_node; gang: the
 * "ns/name" v goes with, or NULL. */
int kn_out_victim(const kn_cluster *c, kn_sched_out *o, const kn_cpod *v, const kn_cpod *by, int by_node,
                  const char *gang);
/* status.nominatedNodeName of p: node, or -1 to clear it. */
int kn_out_nomination(const kn_cluster *c, kn_sched_out *o, const kn_cpod *p, int node);

/* commit.c */
/* A gang's tentative placement: pods and slots taken so far, undone or
 * committed as a whole. */
typedef struct kn_tentative {
    int *P; /* the pods, P[0] the driver when there are slots */
    int n, placed;
    kn_alloc *slots;
    int nslots, held;
    bool oom;
    char msg[KN_MSG_MAX]; /* why the next one did not fit */
} kn_tentative;
/* Takes the best node for each pod of t in turn, until one does not fit. */
void kn_take_pods(kn_scheduler *s, kn_tentative *t);
/* What an executor slot of rs asks of a node: the reservation's constraints,
 * else the driver's less its host ports (copied into *driver, which w points
 * to), the executor's labels and inter-pod terms (rs->rel), and a node where
 * the executors' claims' classes could provision (rs->classes): the returned
 * volume want, which w points to, is the caller's to kn_vol_want_free (NULL
 * when there is none). */
kn_vol_want *kn_slot_want(kn_scheduler *s, const kn_pod_detail *dd, const kn_resv_spec *rs, kn_constraints *driver,
                          kn_want *w);
/* The driver's executor slots, filtered with the reservation's constraints or the driver's. */
void kn_take_slots(kn_scheduler *s, const kn_pod_detail *dd, const kn_resv_spec *rs, kn_tentative *t);
/* Releases, in reverse order, what the tentative placement took; or, for the
 * starving gang, keeps it as held room until the end of the cycle. */
void kn_undo_or_hold(kn_scheduler *s, kn_tentative *t, bool hold);
/* The pod's alloc is taken already: make it an assumed placement and a binding. */
int kn_commit_assumed(const kn_cycle *cy, int pi);
/* n slots of rs (constraints: rs's template, else d's) placed all at once as for
 * a new reservation: 0 with *slots malloc'd and taken, or -1 with why in msg. */
int kn_place_slots(kn_scheduler *s, const kn_pod_detail *d, const kn_resv_spec *rs, int n, kn_alloc **slots,
                   char *msg, size_t cap);
void kn_want_for_pod(const kn_scheduler *s, const kn_cpod *p, kn_want *w);
/* The pod's volumes for this attempt (PreFilter) into w: 0 with *v (NULL:
 * no claims); 1 when they fit no node (msg: the FailedScheduling text,
 * "0/N nodes are available: <why>."); -1 out of memory. Free *v after. */
int kn_want_volumes(kn_scheduler *s, int pi, kn_want *w, kn_vol_want **v, char *msg, size_t cap);
/* Pod pi takes ch: its room, its volumes counted on the node, and v's
 * decisions there assumed. 0, or -1 (out of memory) with nothing taken. */
int kn_pod_take(kn_scheduler *s, int pi, const kn_choice *ch, const kn_vol_want *v);
/* Undoes kn_pod_take (or what an assumed pod holds): room, volumes, decisions. */
void kn_pod_release(kn_scheduler *s, int pi);
int kn_commit_pod(const kn_cycle *cy, int p, const kn_choice *ch, const kn_vol_want *v);
int kn_out_event(kn_sched_out *o, const char *ns, const char *name, const char *uid, const char *type,
                 const char *reason, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* ---- preempt.c: preemption ----
 * When a pod, a gang (all its pending members at once) or a Spark driver with
 * its executor slots cannot be placed, victims are looked for among running
 * pods of strictly lower priority, as kube-scheduler's DefaultPreemption
 * does, but a victim in a gang takes its whole gang along (a Spark driver
 * its executors), members beyond min-available go one by one and first,
 * and held executor slots of lower-priority gangs are moved elsewhere when
 * they fit there (costing nothing). The preemptor's room is held on its
 * nominated nodes until its victims are gone (a nomination); pods of higher
 * priority do not see that room, as kube-scheduler's nominated pods count
 * only in the filters of pods of lower or equal priority. */
void kn_preempt_free(kn_scheduler *s);
/* Cycle bracket: drops nominations whose pods are gone or placed, hides the
 * held room (kn_preempt_show brings it back before the first entry of its
 * priority or lower), and forgets the last cycle's victim index. */
void kn_preempt_cycle_begin(kn_scheduler *s);
void kn_preempt_show(kn_scheduler *s, int32_t prio);
void kn_preempt_cycle_end(kn_scheduler *s);
/* One of pods P[0..n) (a pod, or a gang's pending members) holds a
 * nomination: true while its victims are still there (it waits: nothing to
 * try); once they are gone (or the wait timed out) the held room is released
 * and false (place them now). */
bool kn_preempt_waiting(const kn_cycle *cy, const int *P, int n);
/* Gang gi holds a nomination (try it even when nothing changed: its wait may be over). */
bool kn_preempt_gang_nominated(const kn_scheduler *s, int gi);
/* Pod pi fits nowhere. true: victims chosen, pi nominated (victims and the
 * nomination appended to out). false: nothing done, and why gets what
 * kube-scheduler appends to the FitError (" preemption: ..."), or "" when
 * no pod of lower priority runs anywhere (preemption cannot apply). */
bool kn_preempt_pod(const kn_cycle *cy, int pi, char *why, size_t cap);
/* The same for pods P[0..n) of gang gi and rs->count executor slots (P[0]
 * the driver when rs), all at once or nobody is evicted. */
bool kn_preempt_group(const kn_cycle *cy, int gi, const int *P, int n, const kn_resv_spec *rs, char *why,
                      size_t cap);
/* Pod pi is being removed: nominations it holds room in are dropped. */
void kn_preempt_forget_pod(kn_scheduler *s, int pi);
double kn_preempt_next_deadline(const kn_scheduler *s);
void kn_preempt_stats(const kn_scheduler *s, kn_sched_stats *st);

#endif
