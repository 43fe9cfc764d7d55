/* preempter.h - the API writes of a preemption, as kube-scheduler makes them.
 *
 * Per victim (kube-scheduler's preemption Executor, PreemptPod):
 *   1. PATCH /api/v1/namespaces/NS/pods/NAME/status, a strategic merge patch
 *      adding the condition DisruptionTarget=True, reason
 *      PreemptionByScheduler, message "<scheduler>: preempting to accommodate
 *      a higher priority pod";
 *   2. DELETE /api/v1/namespaces/NS/pods/NAME with DeleteOptions
 *      gracePeriodSeconds (the pod's spec.terminationGracePeriodSeconds) and a
 *      uid precondition (a pod re-created under the same name is not hit);
 *   3. the Event Preempted on the victim, "Preempted by pod <preemptor uid> on
 *      node <node>", its related object the preemptor, action Preempting.
 * A victim already being deleted gets nothing (kube-scheduler skips it too).
 * Per preemptor pod: PATCH .../status {"status":{"nominatedNodeName":N}}
 * (null clears it).
 * Outcomes: 2xx goes on; 404 (a victim gone, or a 409 on the uid
 * precondition: the pod of that name is another one) is what preemption
 * wanted and ends the victim's writes; 429, 5xx and no response are retried
 * with backoff (0.2 s doubling, KN_BIND_MAX_TRIES tries), as bindings are;
 * anything else, or the tries used up, tells the core
 * (kn_sched_preempt_failed), which releases the preemptor's room and tries it
 * again. A failed nominatedNodeName write is logged only.
 *
 * Single-threaded, driven by the live loop's curl multi handle beside the binder. */
#ifndef KN_PREEMPTER_H
#define KN_PREEMPTER_H

#include <stdbool.h>

#include "kube/client/apiclient.h"
#include "base/metrics.h"
#include "scheduler/binder.h"
#include "scheduler/cycle/scheduler.h"

#define KN_PREEMPT_MAX_INFLIGHT 16
#define KN_PREEMPTER_TAG 0xe71c

typedef struct kn_preempter kn_preempter;

/* events go out through binder (kn_binder_take). metrics may be NULL. */
kn_preempter *kn_preempter_new(kn_api *api, kn_scheduler *s, kn_binder *binder, const char *scheduler_name,
                               kn_metrics *metrics, kn_err *err);
/* Aborts what is in flight (removing it from multi) and frees. */
void kn_preempter_free(kn_preempter *p, CURLM *multi);
/* Takes a cycle's victims and nominations (copied: out keeps them). */
void kn_preempter_take(kn_preempter *p, const kn_sched_out *out, double now);
/* Adds requests that are due to multi; may_write false holds them back. */
void kn_preempter_pump(kn_preempter *p, CURLM *multi, bool may_write, double now);
/* A finished request whose owner_tag is KN_PREEMPTER_TAG. */
void kn_preempter_done(kn_preempter *p, CURLM *multi, kn_api_req *req, double now);
/* Earliest time pump has something to do (INFINITY if none). */
double kn_preempter_next_deadline(const kn_preempter *p);
size_t kn_preempter_pending(const kn_preempter *p);

/* The request bodies (exposed for tests). */
char *kn_disruption_patch_json(const char *scheduler_name, double now_unix);
char *kn_nomination_patch_json(const char *node);
char *kn_delete_options_json(const char *uid, int64_t grace_s);

#endif
