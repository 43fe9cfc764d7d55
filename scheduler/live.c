/* live.c - the live scheduler loop (see live.h). */
#include "scheduler/live.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scheduler/binder.h"
#include "scheduler/preempter.h"
#include "kube/client/informer.h"
#include "base/log.h"
#include "spark/numa.h"

#define N_INF KN_SCHED_KINDS
#define MAX_POLL_MS 200
#define SAFETY_CYCLE_S 5.0 /* a cycle at least this often, in case a change was missed */

typedef struct live {
    kn_scheduler *s;
    const kn_live_opts *o;
    CURLM *multi;
    kn_informer *inf[N_INF];
    kn_binder *binder;
    kn_preempter *pre;
    bool dirty;
    kn_sched_out out;
    kn_sched_stats last;
    kn_metric *attempts, *algo, *pending, *gangs, *gang_wait, *reservations, *resv_timeouts, *numa, *unsupported,
        *leader, *preempt;
} live;

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double mono(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* ---------------------------------------------------------------- sink */

static void sink_apply(void *ctx, int kind, const kn_json *obj, bool deleted)
{
    live *l = ctx;
    kn_err err = {{0}};
    if (kn_sched_apply(l->s, (kn_sched_kind)kind, obj, deleted, &err) < 0)
        kn_log(KN_LOG_WARN, "object ignored", "resource=%s error=%s", kn_sched_kind_path((kn_sched_kind)kind),
               err.msg);
    l->dirty = true;
}

static void sink_begin(void *ctx, int kind)
{
    live *l = ctx;
    kn_sched_resync_begin(l->s, (kn_sched_kind)kind);
}

static void sink_end(void *ctx, int kind)
{
    live *l = ctx;
    kn_sched_resync_end(l->s, (kn_sched_kind)kind);
    l->dirty = true;
}

/* ---------------------------------------------------------------- metrics */

static void init_metrics(live *l, kn_metrics *m)
{
    if (!m)
        return;
    static const double buckets[] = {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5};
    l->attempts = kn_metrics_counter(m, "kubenexus_scheduler_schedule_attempts_total",
                                     "Pod scheduling outcomes, by result (scheduled, unschedulable, error).", 1,
                                     (const char *[]){"result"});
    l->algo = kn_metrics_histogram(m, "kubenexus_scheduler_scheduling_algorithm_duration_seconds",
                                   "Duration of one scheduling cycle (filters, NUMA, scoring, gangs).", 0, NULL,
                                   10, buckets);
    l->pending =
        kn_metrics_gauge(m, "kubenexus_scheduler_pending_pods", "Pods waiting in the scheduling queue.", 0, NULL);
    l->gangs = kn_metrics_gauge(m, "kubenexus_scheduler_gangs_waiting", "Gangs not yet placed.", 0, NULL);
    l->gang_wait =
        kn_metrics_gauge(m, "kubenexus_scheduler_oldest_waiting_gang_seconds",
                         "Age of the oldest pending member of a gang not yet placed (0: none waits).", 0, NULL);
    l->reservations = kn_metrics_gauge(m, "kubenexus_scheduler_reservations_held",
                                       "Driver-first executor reservations holding room.", 0, NULL);
    l->resv_timeouts = kn_metrics_counter(m, "kubenexus_scheduler_reservation_timeouts_total",
                                          "Executor reservations released because the executors did not arrive in "
                                          "time (GangTimeout).",
                                          0, NULL);
    l->numa = kn_metrics_counter(m, "kubenexus_scheduler_numa_decisions_total",
                                 "Placements decided under each NUMA policy.", 1, (const char *[]){"policy"});
    l->unsupported = kn_metrics_counter(m, "kubenexus_scheduler_unsupported_pods_total",
                                        "Pods left pending because they set a scheduling field this scheduler "
                                        "does not implement, by field.",
                                        1, (const char *[]){"field"});
    l->leader = kn_metrics_gauge(m, "kubenexus_scheduler_is_leader", "1 while this replica may bind.", 0, NULL);
    l->preempt = kn_metrics_counter(m, "kubenexus_scheduler_preemption_attempts_total",
                                    "Pods and gangs that looked for victims of lower priority, by result "
                                    "(nominated: room found; none: no victims would make room).",
                                    1, (const char *[]){"result"});
    kn_metric_set(l->leader, NULL, 0);
}

static void update_metrics(live *l)
{
    if (!l->attempts)
        return;
    kn_sched_stats st;
    kn_sched_get_stats(l->s, &st);
    kn_metric_inc(l->attempts, (const char *[]){"scheduled"}, (double)(st.scheduled - l->last.scheduled));
    kn_metric_inc(l->attempts, (const char *[]){"unschedulable"},
                  (double)(st.unschedulable - l->last.unschedulable));
    kn_metric_inc(l->attempts, (const char *[]){"error"}, (double)(st.bind_errors - l->last.bind_errors));
    for (int p = 0; p < 5; p++)
        if (st.numa_decisions[p] != l->last.numa_decisions[p])
            kn_metric_inc(l->numa, (const char *[]){kn_numa_policy_name((kn_numa_policy)p)},
                          (double)(st.numa_decisions[p] - l->last.numa_decisions[p]));
    for (int f = 0; f < KN_PODF_COUNT; f++)
        if (st.unsupported[f] != l->last.unsupported[f])
            kn_metric_inc(l->unsupported, (const char *[]){kn_pod_field_name(f)},
                          (double)(st.unsupported[f] - l->last.unsupported[f]));
    uint64_t found = st.preemptions - l->last.preemptions;
    kn_metric_inc(l->preempt, (const char *[]){"nominated"}, (double)found);
    kn_metric_inc(l->preempt, (const char *[]){"none"},
                  (double)(st.preemption_attempts - l->last.preemption_attempts - found));
    kn_metric_set(l->pending, NULL, (double)st.pods_pending);
    kn_metric_set(l->gangs, NULL, (double)st.gangs_waiting);
    /* creationTimestamps are wall-clock times, so the age is too */
    double age = st.oldest_gang_waiting_since > 0 ? clock_s(CLOCK_REALTIME) - st.oldest_gang_waiting_since : 0;
    kn_metric_set(l->gang_wait, NULL, age > 0 ? age : 0);
    kn_metric_set(l->reservations, NULL, (double)st.reservations_held);
    kn_metric_inc(l->resv_timeouts, NULL, (double)(st.reservations_timed_out - l->last.reservations_timed_out));
    l->last = st;
}

/* ---------------------------------------------------------------- loop */

static void run_cycle(live *l, double now)
{
    kn_err err = {{0}};
    double t0 = mono();
    if (kn_sched_cycle(l->s, now, &l->out, &err) < 0)
        kn_log(KN_LOG_ERROR, "scheduling cycle failed", "error=%s", err.msg);
    if (l->algo)
        kn_metric_observe(l->algo, NULL, mono() - t0);
    kn_preempter_take(l->pre, &l->out, t0);
    kn_binder_take(l->binder, &l->out, t0);
    update_metrics(l);
}

static void finished_transfers(live *l, double now)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(l->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        kn_api_req *req = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&req);
        CURLcode result = msg->data.result;
        kn_api_req_finish(req, result);
        if (req->owner_tag == KN_BINDER_TAG) {
            kn_binder_done(l->binder, l->multi, req, now);
        } else if (req->owner_tag == KN_PREEMPTER_TAG) {
            kn_preempter_done(l->pre, l->multi, req, now);
        } else {
            curl_multi_remove_handle(l->multi, req->easy);
            kn_informer_done(req->owner, req, now);
        }
    }
}

/* cycles: whether a cycle may run now; the core's deadlines wake the loop
 * only then (during a relist a passed deadline would make it spin). */
static int poll_timeout_ms(live *l, double now, bool leader, bool cycles)
{
    double t = now + MAX_POLL_MS / 1000.0;
    for (int i = 0; i < N_INF; i++)
        t = fmin(t, kn_informer_next_start(l->inf[i]));
    if (leader) {
        t = fmin(t, kn_binder_next_deadline(l->binder));
        t = fmin(t, kn_preempter_next_deadline(l->pre));
    }
    if (cycles)
        t = fmin(t, kn_sched_next_deadline(l->s));
    double ms = (t - now) * 1000.0;
    return ms < 0 ? 0 : ms > MAX_POLL_MS ? MAX_POLL_MS : (int)ms + 1;
}

static int loop(live *l, kn_err *err)
{
    bool was_leader = false;
    double last_cycle = 0;
    while (!*l->o->stop) {
        double now = mono();
        bool leader = l->o->leader ? kn_leader_is_leader(l->o->leader) : true;
        if (l->o->leader && kn_leader_lost(l->o->leader)) {
            kn_binder_abort_bindings(l->binder, l->multi, now);
            return kn_err_set(err, "leader election lost (lease %s not renewed in time); stopping",
                              l->o->scheduler_name);
        }
        if (leader != was_leader) {
            l->dirty = true;
            if (l->leader)
                kn_metric_set(l->leader, NULL, leader ? 1 : 0);
            was_leader = leader;
        }
        for (int i = 0; i < N_INF; i++) {
            kn_api_req *req = kn_informer_start(l->inf[i], now);
            if (req && curl_multi_add_handle(l->multi, req->easy) != CURLM_OK)
                kn_log(KN_LOG_ERROR, "cannot add a request to the multi handle", "resource=%s",
                       kn_sched_kind_path((kn_sched_kind)i));
        }
        bool synced = true, current = true;
        for (int i = 0; i < N_INF; i++) {
            synced = synced && kn_informer_synced(l->inf[i]);
            current = current && kn_informer_current(l->inf[i]);
        }
        if (l->o->ms)
            kn_metrics_server_set_ready(l->o->ms, synced);
        /* Place only on whole lists: during a relist the view misses what
         * changed since the watch broke (a pod bound by someone else, a node
         * gone), and a placement on it can over-commit a node. */
        if (leader && current &&
            (l->dirty || now >= kn_sched_next_deadline(l->s) || now - last_cycle >= SAFETY_CYCLE_S)) {
            l->dirty = false;
            last_cycle = now;
            run_cycle(l, now);
        }
        kn_binder_pump(l->binder, l->multi, leader, now);
        kn_preempter_pump(l->pre, l->multi, leader, now);
        int running = 0;
        curl_multi_perform(l->multi, &running);
        finished_transfers(l, mono());
        /* Changes wait for the next cycle only where cycles run: a follower
         * (or an unsynced start, or a relist) must still sleep, not spin. */
        if (!(l->dirty && leader && current))
            curl_multi_poll(l->multi, NULL, 0, poll_timeout_ms(l, mono(), leader, leader && current), NULL);
    }
    return 0;
}

int kn_live_run(kn_api *api, kn_scheduler *s, const kn_live_opts *o, kn_err *err)
{
    live l = {.s = s, .o = o};
    kn_sched_out_init(&l.out);
    init_metrics(&l, o->metrics);
    kn_informer_sink sink = {.ctx = &l, .apply = sink_apply, .resync_begin = sink_begin, .resync_end = sink_end};
    kn_binder_opts bo = {.scheduler_name = o->scheduler_name,
                         .identity = o->identity,
                         .metrics = o->metrics,
                         .event_queue_max = o->event_queue_max,
                         .volume_bind_timeout_s = o->volume_bind_timeout_s};
    int rc = -1;
    l.multi = curl_multi_init();
    l.binder = l.multi ? kn_binder_new(api, s, &bo, err) : NULL;
    l.pre = l.binder ? kn_preempter_new(api, s, l.binder, o->scheduler_name, o->metrics, err) : NULL;
    if (!l.pre)
        goto out;
    curl_multi_setopt(l.multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    /* Over HTTP/1.1 every request in flight needs its own connection: keep
     * them all between bursts (curl's default cache shrinks with the handles
     * in use), so the next burst of bindings does not pay TLS handshakes. */
    curl_multi_setopt(l.multi, CURLMOPT_MAXCONNECTS,
                      (long)(KN_BIND_MAX_INFLIGHT + KN_EVENT_MAX_INFLIGHT + KN_PREEMPT_MAX_INFLIGHT + N_INF + 4));
    for (int i = 0; i < N_INF; i++) {
        /* the kind index matches kn_sched_kind: nodes, pods, NRTs, both PodGroups, PDBs, storage, namespaces */
        if (!(l.inf[i] = kn_informer_new(api, kn_sched_kind_path((kn_sched_kind)i), i, &sink, err)))
            goto out;
        if (o->watch_timeout_min_s > 0)
            kn_informer_set_watch_timeout(l.inf[i], o->watch_timeout_min_s, o->watch_timeout_max_s);
    }
    rc = loop(&l, err);
out:
    for (int i = 0; i < N_INF; i++) {
        if (!l.inf[i])
            continue;
        kn_api_req *req = kn_informer_inflight(l.inf[i]);
        if (req)
            curl_multi_remove_handle(l.multi, req->easy);
        kn_informer_free(l.inf[i]);
    }
    kn_preempter_free(l.pre, l.multi);
    kn_binder_free(l.binder, l.multi);
    kn_sched_out_free(&l.out);
    if (l.multi)
        curl_multi_cleanup(l.multi);
    else
        kn_err_set(err, "out of memory");
    return rc;
}
