/* live.h - the live scheduler loop: watch the cluster, schedule, bind.
 *
 * One thread drives everything through one curl multi handle: informers
 * (Nodes, Pods, NodeResourceTopologies, the PodGroups of coscheduling and
 * Volcano, a CRD absent being looked for again, PodDisruptionBudgets,
 * PersistentVolumeClaims, PersistentVolumes, StorageClasses, CSINodes) feed
 * the placement core (scheduler/cycle/scheduler.h); once all have listed,
 * while none is in the middle of a relist, and while this replica is the
 * leader (or leader election is off), scheduling cycles run after every
 * change and at the core's deadlines, and their bindings and events go out
 * through the binder, their preemptions' writes through the preempter.
 * Losing the lease aborts the bindings in flight and returns 1 at once (as
 * kube-scheduler exits). *stop (set by a signal handler) ends the loop: 0. */
#ifndef KN_LIVE_H
#define KN_LIVE_H

#include <signal.h>
#include <stdbool.h>

#include "kube/client/apiclient.h"
#include "kube/client/leader.h"
#include "base/metrics.h"
#include "scheduler/metrics_server.h"
#include "scheduler/cycle/scheduler.h"

typedef struct kn_live_opts {
    const char *scheduler_name;
    const char *identity;  /* events' reportingInstance */
    kn_leader *leader;     /* NULL: always schedule */
    kn_metrics *metrics;   /* may be NULL */
    kn_metrics_server *ms; /* readiness; may be NULL */
    volatile sig_atomic_t *stop;
    int watch_timeout_min_s, watch_timeout_max_s; /* 0: 300..600 */
    size_t event_queue_max;                       /* 0: KN_EVENT_QUEUE_MAX (events.h) */
    double volume_bind_timeout_s;                 /* 0: KN_VOLUME_BIND_TIMEOUT_S (binder.h) */
} kn_live_opts;

int kn_live_run(kn_api *api, kn_scheduler *s, const kn_live_opts *o, kn_err *err);

#endif
