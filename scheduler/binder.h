/* binder.h - POSTs the placement core's bindings and events, many in flight.
 *
 * Bindings: POST /api/v1/namespaces/NS/pods/NAME/binding with a v1 Binding
 * (metadata name, namespace, uid as kube-scheduler sends it, so a pod deleted
 * and recreated under the same name is not bound by mistake; the NUMA zones
 * annotation; target Node). Outcomes go back to the core:
 *   201                     -> kn_sched_bind_ok
 *   409 Conflict            -> the pod is re-read (GET) and applied; if it is on
 *                              the node we chose (an earlier attempt that timed
 *                              out had succeeded) it is bind_ok, else bind_failed(409).
 *                              A 409 is never retried: no double placement.
 *   404                     -> bind_failed(404): the pod is gone
 *   429, 5xx, no response   -> retried with exponential backoff (0.2 s doubling,
 *                              KN_BIND_MAX_TRIES tries), then bind_failed (requeue)
 *   other 4xx               -> bind_failed at once
 * A binding whose pod's volumes need writes (kube-scheduler's VolumeBinding
 * PreBind) waits for them: each write is a PATCH (a PersistentVolume's
 * claimRef, a claim's selected-node annotation) retried as a binding is;
 * a 409 re-reads the object and counts as written if it shows what we
 * wrote. Then, every second, the core is asked whether the pod's claims are
 * bound (kn_sched_volumes_ready); once they are, the Binding is POSTed. The
 * bindings of a gang wait for each other: none is POSTed before every
 * member's volumes are written and bound, and any failure (a write refused,
 * provisioning given up, volume_bind_timeout_s passed) requeues them all
 * (kn_sched_volumes_failed, "running PreBind plugin \"VolumeBinding\": ...").
 * Bindings are the critical path. Events (events.h) go in a low-priority lane:
 * at most KN_EVENT_BUSY_INFLIGHT event request while any binding is queued or
 * in flight, up to KN_EVENT_MAX_INFLIGHT when none is; repeats are aggregated
 * (PATCH of the Event's count), and a full queue drops new events (counted).
 *
 * Single-threaded: driven by the live loop's curl multi handle. */
#ifndef KN_BINDER_H
#define KN_BINDER_H

#include <stdbool.h>

#include "kube/client/apiclient.h"
#include "kube/client/events.h"
#include "base/metrics.h"
#include "scheduler/cycle/scheduler.h"

#define KN_BIND_MAX_TRIES 5
#define KN_BIND_MAX_INFLIGHT 64
#define KN_VOLUME_BIND_TIMEOUT_S 600.0 /* kube-scheduler's VolumeBindingArgs.bindTimeoutSeconds */

typedef struct kn_binder kn_binder;

typedef struct kn_binder_opts {
    const char *scheduler_name;   /* event source.component and reportingComponent */
    const char *identity;         /* reportingInstance */
    kn_metrics *metrics;          /* may be NULL */
    size_t event_queue_max;       /* 0: KN_EVENT_QUEUE_MAX */
    double volume_bind_timeout_s; /* 0: KN_VOLUME_BIND_TIMEOUT_S */
} kn_binder_opts;

kn_binder *kn_binder_new(kn_api *api, kn_scheduler *s, const kn_binder_opts *o, kn_err *err);
/* Aborts what is in flight (removing it from multi) and frees. */
void kn_binder_free(kn_binder *b, CURLM *multi);

/* Takes the cycle's bindings and events (out is reset afterwards). started:
 * monotonic time the cycle began (for the e2e latency histogram). */
void kn_binder_take(kn_binder *b, kn_sched_out *out, double started);
/* Queues out's events (copies them; out is left as it was). */
void kn_binder_post_events(kn_binder *b, const kn_sched_out *out);
/* Adds requests that are due to multi; may_bind false holds bindings back. */
void kn_binder_pump(kn_binder *b, CURLM *multi, bool may_bind, double now);
/* A finished request whose owner_tag is KN_BINDER_TAG. */
void kn_binder_done(kn_binder *b, CURLM *multi, kn_api_req *req, double now);
/* Abandons every binding in flight or queued (leadership lost): they are
 * reported to the core as failed so nothing stays assumed. */
void kn_binder_abort_bindings(kn_binder *b, CURLM *multi, double now);
/* Earliest time pump has something to do (INFINITY if none). */
double kn_binder_next_deadline(const kn_binder *b);
size_t kn_binder_pending(const kn_binder *b); /* bindings and events not finished */

#define KN_BINDER_TAG 0xb1d

/* Builds the v1 Binding JSON (exposed for tests). */
char *kn_binding_json(const kn_sched_binding *bd);

#endif
