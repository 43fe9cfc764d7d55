/* events.h - the scheduler's core/v1 Events, recorded as client-go's event
 * broadcaster and correlator record kube-scheduler's: asynchronously,
 * best-effort, never in the way of a binding.
 *
 * - kn_evq_record() copies an event into a queue bounded at queue_max
 *   (KN_EVENT_QUEUE_MAX, 1000 as client-go's broadcaster). When it is full the
 *   new event is dropped and counted (kubenexus_scheduler_events_dropped_total).
 *   An event identical to one still queued (same involvedObject, type, reason,
 *   message) is folded into it: its count grows, no new slot is taken.
 * - Aggregation (client-go's eventLogger): the correlator remembers the Events
 *   it wrote (LRU of KN_EVENT_CACHE_MAX keys). A repeat of one is sent as a
 *   strategic-merge PATCH of that Event's count and lastTimestamp, not as a new
 *   Event; a 404 (the Event expired from etcd) creates it again.
 * - Similar events (client-go's EventAggregator by reason): once
 *   KN_EVENT_SIMILAR_MAX distinct messages for one pod, type and reason came
 *   within KN_EVENT_SIMILAR_S of each other, the next ones go to a single
 *   "(combined from similar events): <latest message>" Event, PATCHed with
 *   its count and message, so a pod whose FailedScheduling reason keeps
 *   changing does not make an Event per message.
 * - The lane: kn_evq_next() hands out at most max_inflight requests at a time
 *   (the binder passes 1 while bindings are queued or in flight, more when
 *   idle) and never two for the same key at once, so a PATCH always follows the
 *   create it counts on.
 * - A request with no answer, 429 or 5xx is sent again after a backoff
 *   (KN_EVENT_RETRY_S doubling, KN_EVENT_MAX_TRIES tries in all, as client-go
 *   retries transport errors); other failures are not (events are advisory).
 *   A retried create answered 409 AlreadyExists counts as created: the Event
 *   keeps its name across tries, so the first try reached the API server.
 *   Given up: kubenexus_scheduler_events_total{result="error"}.
 *
 * Pure bookkeeping, no I/O: the caller sends what kn_evq_next() returns and
 * reports the outcome with kn_evq_done(). Single-threaded. */
#ifndef KN_EVENTS_H
#define KN_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/metrics.h"
#include "kube/event.h"

#define KN_EVENT_QUEUE_MAX 1000
#define KN_EVENT_CACHE_MAX 4096
#define KN_EVENT_BUSY_INFLIGHT 1 /* while bindings are queued or in flight */
#define KN_EVENT_MAX_INFLIGHT 16 /* otherwise */
#define KN_EVENT_PATCH_TYPE "application/strategic-merge-patch+json"
#define KN_EVENT_MAX_TRIES 5
#define KN_EVENT_RETRY_S 1.0
#define KN_EVENT_SIMILAR_MAX 10  /* client-go's EventAggregator: distinct messages ... */
#define KN_EVENT_SIMILAR_S 600.0 /* ... within this many seconds before combining */

typedef struct kn_evq kn_evq;

/* One request to send. method "POST" (a new Event, body: the Event) or
 * "PATCH" (a repeat: {"count":N,"lastTimestamp":T}, KN_EVENT_PATCH_TYPE). */
typedef struct kn_evq_send {
    const char *method;
    char *path; /* /api/v1/namespaces/NS/events[/NAME] */
    char *body;
    struct kn_evq_ent *ent; /* private */
} kn_evq_send;

typedef struct kn_evq_opts {
    const char *component; /* source.component, reportingComponent */
    const char *instance;  /* reportingInstance (NULL: component) */
    size_t queue_max;      /* 0: KN_EVENT_QUEUE_MAX */
    size_t cache_max;      /* 0: KN_EVENT_CACHE_MAX */
    kn_metrics *metrics;   /* may be NULL */
} kn_evq_opts;

kn_evq *kn_evq_new(const kn_evq_opts *o, kn_err *err);
/* Frees the queue; sends still out must have been given back first. */
void kn_evq_free(kn_evq *q);

/* now_unix: wall clock. 0: queued, 1: folded into a queued identical event,
 * -1: dropped (queue full, or out of memory), counted. */
int kn_evq_record(kn_evq *q, const kn_pod_event *ev, double now_unix);
/* now: the caller's monotonic clock (seconds), for retry backoffs.
 * The next request, or NULL when nothing can go now (queue empty, backoffs
 * not over, or max_inflight requests out). The caller owns it until
 * kn_evq_done(). */
kn_evq_send *kn_evq_next(kn_evq *q, size_t max_inflight, double now);
/* The outcome: HTTP status (0: no response) and the response body (may be
 * NULL). Frees s. */
void kn_evq_done(kn_evq *q, kn_evq_send *s, long status, const char *resp, size_t resp_len, double now);
/* Earliest time a queued event not waiting on a request in flight may go
 * (INFINITY if none). */
double kn_evq_next_due(const kn_evq *q);

size_t kn_evq_queued(const kn_evq *q);
size_t kn_evq_inflight(const kn_evq *q);
uint64_t kn_evq_dropped(const kn_evq *q);

/* Builds the core/v1 Event JSON (exposed for tests): count 1, first and last
 * timestamp now_unix, named "<pod>.<now in hex nanoseconds>" as client-go does. */
char *kn_event_json(const kn_pod_event *ev, const char *scheduler_name, const char *identity, double now_unix);

#endif
