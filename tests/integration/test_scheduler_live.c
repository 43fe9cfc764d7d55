/* test_scheduler_live.c - the real kubenexus-scheduler binary against the
 * kube-apiserver test double (TLS, token auth, list/watch, binding, events,
 * leases), and kubelet's probes of its metrics address while clients hold it.
 * Every wait is a bounded poll on state the double records; no assertion
 * depends on timing but a probe's own deadline, which is what kubelet applies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "abuse_client.h"
#include "apiserver_double.h"
#include "scheduler/metrics_server.h"
#include "proc.h"
#include "sched_fixture.h"

#define NS "spark"
#define WAIT_S 30.0
#define LEASE_NS "kubenexus-system"
#define SCHED "kubenexus-scheduler"

typedef struct world {
    kn_dbl d;
    kn_sched_proc a, b;
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    if (!w || kn_it_dbl_open(&w->d, NULL) != 0) {
        free(w);
        return -1;
    }
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    kn_sched_proc_stop(&w->a, SIGKILL, 5);
    kn_sched_proc_stop(&w->b, SIGKILL, 5);
    if (getenv("KN_IT_VERBOSE")) {
        kn_it_dump_log(w->a.log);
        kn_it_dump_log(w->b.log);
    }
    kn_dbl_stop(&w->d);
    free(w);
    return 0;
}

/* ---- predicates for kn_wait_for ---- */

static bool wait_bound(kn_dbl *d, const char *name)
{
    return kn_it_wait_pod_bound(d, NS, name, WAIT_S);
}

static bool wait_event(kn_dbl *d, const char *name, const char *reason)
{
    return kn_it_wait_event(d, NS, name, reason, WAIT_S);
}

static void start_sched(world *w, kn_sched_proc *p, const char *tag, const char *const *extra)
{
    assert_int_equal(kn_sched_proc_start(p, &w->d, tag, extra), 0);
}

static void stop_sched_cleanly(kn_sched_proc *p)
{
    int rc = kn_sched_proc_stop(p, SIGTERM, 20);
    if (rc != 0)
        kn_it_dump_log(p->log);
    assert_int_equal(rc, 0);
}

/* ---- tests ---- */

/* A plain pod is bound, a Scheduled event names it, /metrics and /readyz
 * answer, and SIGTERM exits 0. */
static void plain_pod_bound_with_event_and_metrics(void **state)
{
    world *w = *state;
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "8", "32Gi"), 0);
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "solo", "1", "1Gi", NULL, NULL), 0);
    start_sched(w, &w->a, "a", NULL);
    assert_true(wait_bound(&w->d, "solo"));
    assert_true(wait_event(&w->d, "solo", "Scheduled"));
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "solo"), 1);

    char *body = NULL;
    assert_int_equal(kn_sched_proc_http(&w->a, "/readyz", &body), 200);
    free(body);
    body = NULL;
    assert_int_equal(kn_sched_proc_http(&w->a, "/healthz", &body), 200);
    free(body);
    body = NULL;
    assert_int_equal(kn_sched_proc_http(&w->a, "/metrics", &body), 200);
    assert_non_null(body);
    assert_non_null(strstr(body, "kubenexus_scheduler_bindings_total{result=\"ok\"} 1"));
    assert_non_null(strstr(body, "kubenexus_scheduler_schedule_attempts_total"));
    free(body);
    body = NULL;
    assert_int_equal(kn_sched_proc_http(&w->a, "/nope", &body), 404);
    free(body);
    stop_sched_cleanly(&w->a);
}

/* A gang that fits is bound whole; one that cannot fit binds nothing and says why. */
static void gang_all_or_nothing(void **state)
{
    world *w = *state;
    char lab[256];
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "4", "16Gi"), 0);
    assert_int_equal(kn_dbl_add_node(&w->d, "node-b", "4", "16Gi"), 0);
    start_sched(w, &w->a, "a", NULL);
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "fits-%d", i);
        assert_int_equal(
            kn_dbl_add_pod(&w->d, NS, name, "2", "1Gi", kn_it_gang_labels(lab, sizeof lab, "fits", 3), NULL), 0);
    }
    assert_true(kn_it_wait_n_bound(&w->d, NS, "fits-", 3, WAIT_S));
    /* 2 cpu left: a gang of 3 x 2 cpu can never fit */
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "big-%d", i);
        assert_int_equal(
            kn_dbl_add_pod(&w->d, NS, name, "2", "1Gi", kn_it_gang_labels(lab, sizeof lab, "big", 3), NULL), 0);
    }
    assert_true(wait_event(&w->d, "big-0", "FailedScheduling"));
    assert_int_equal(kn_dbl_count_bound(&w->d, NS, "big-"), 0);
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "big-0"), 0);
    stop_sched_cleanly(&w->a);
}

/* The driver is bound with its executors' room held; a plain pod that would
 * take that room stays pending; executors created later are bound. */
static void driver_first_reservation(void **state)
{
    world *w = *state;
    char lab[512];
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "4", "16Gi"), 0);
    assert_int_equal(kn_dbl_add_node(&w->d, "node-b", "4", "16Gi"), 0);
    start_sched(w, &w->a, "a", NULL);
    snprintf(lab, sizeof lab,
             "{\"pod-group.scheduling.kubenexus.io/name\":\"pi\","
             "\"pod-group.scheduling.kubenexus.io/min-available\":\"3\",\"spark-role\":\"driver\"}");
    const char *ann = "{\"scheduling.kubenexus.io/executor-reservation\":"
                      "\"{\\\"count\\\":2,\\\"requests\\\":{\\\"cpu\\\":\\\"3\\\",\\\"memory\\\":\\\"4Gi\\\"}}\"}";
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "pi-driver", "1", "1Gi", lab, ann), 0);
    assert_true(wait_bound(&w->d, "pi-driver"));
    /* 8 cpu - 1 (driver) - 6 (two held slots of 3) = 1 cpu free */
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "thief", "2", "1Gi", NULL, NULL), 0);
    assert_true(wait_event(&w->d, "thief", "FailedScheduling"));
    snprintf(lab, sizeof lab,
             "{\"pod-group.scheduling.kubenexus.io/name\":\"pi\","
             "\"pod-group.scheduling.kubenexus.io/min-available\":\"3\",\"spark-role\":\"executor\"}");
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "pi-exec-1", "3", "4Gi", lab, NULL), 0);
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "pi-exec-2", "3", "4Gi", lab, NULL), 0);
    assert_true(wait_bound(&w->d, "pi-exec-1"));
    assert_true(wait_bound(&w->d, "pi-exec-2"));
    char *thief = kn_dbl_pod_node(&w->d, NS, "thief");
    assert_string_equal(thief, "");
    free(thief);
    stop_sched_cleanly(&w->a);
}

/* 409: another scheduler binds the pod just before us. We never retry it and
 * the pod stays where the other put it. A binding whose 201 was lost (500
 * after the bind happened) is retried, gets 409, is re-read and counted as
 * ours: bound once. */
static void conflict_409_never_double_places(void **state)
{
    world *w = *state;
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "8", "32Gi"), 0);
    start_sched(w, &w->a, "a", NULL);
    assert_int_equal(kn_dbl_faults(&w->d, "{\"bind_conflict_next\":1,\"conflict_node\":\"node-other\"}"), 0);
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "contested", "1", "1Gi", NULL, NULL), 0);
    assert_true(wait_bound(&w->d, "contested"));
    char *n = kn_dbl_pod_node(&w->d, NS, "contested");
    assert_string_equal(n, "node-other");
    free(n);

    assert_int_equal(kn_dbl_faults(&w->d, "{\"bind_then_fail_next\":1}"), 0);
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "lost-reply", "1", "1Gi", NULL, NULL), 0);
    assert_true(wait_event(&w->d, "lost-reply", "Scheduled"));
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "lost-reply"), 2);
    assert_int_equal(kn_dbl_count_bound(&w->d, NS, "lost-reply"), 1);
    /* the contested pod was attempted once only, and the scheduler goes on */
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "contested"), 1);
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "after", "1", "1Gi", NULL, NULL), 0);
    assert_true(wait_bound(&w->d, "after"));
    stop_sched_cleanly(&w->a);
}

typedef struct callq {
    kn_dbl *d;
    const char *key;
    int want;
} callq;

static bool calls_reached(void *ctx)
{
    callq *q = ctx;
    return kn_dbl_calls(q->d, q->key) >= q->want;
}

/* Dropped watches reconnect; 410 Gone relists; scheduling goes on. Transient
 * 500s on binding are retried. */
static void watch_drop_and_410_relist(void **state)
{
    world *w = *state;
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "8", "32Gi"), 0);
    start_sched(w, &w->a, "a", NULL);
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "p0", "100m", "128Mi", NULL, NULL), 0);
    assert_true(wait_bound(&w->d, "p0"));
    int watches = kn_dbl_calls(&w->d, "watch pods");
    int lists = kn_dbl_calls(&w->d, "list pods");

    assert_int_equal(kn_dbl_faults(&w->d, "{\"drop_watches\":true}"), 0);
    callq cq = {.d = &w->d, .key = "watch pods", .want = watches + 1};
    assert_true(kn_wait_for(WAIT_S, calls_reached, &cq));
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "p1", "100m", "128Mi", NULL, NULL), 0);
    assert_true(wait_bound(&w->d, "p1"));

    assert_int_equal(kn_dbl_faults(&w->d, "{\"expire_watches\":true}"), 0);
    callq lq = {.d = &w->d, .key = "list pods", .want = lists + 1};
    assert_true(kn_wait_for(WAIT_S, calls_reached, &lq));
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "p2", "100m", "128Mi", NULL, NULL), 0);
    assert_true(wait_bound(&w->d, "p2"));

    /* a reconnect whose resourceVersion was compacted away: HTTP 410 -> relist */
    lists = kn_dbl_calls(&w->d, "list pods");
    assert_int_equal(kn_dbl_faults(&w->d, "{\"watch_410_http\":true,\"compact\":true,\"drop_watches\":true}"), 0);
    callq hq = {.d = &w->d, .key = "list pods", .want = lists + 1};
    assert_true(kn_wait_for(WAIT_S, calls_reached, &hq));
    assert_int_equal(kn_dbl_faults(&w->d, "{\"watch_410_http\":false}"), 0);
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "p2b", "100m", "128Mi", NULL, NULL), 0);
    assert_true(wait_bound(&w->d, "p2b"));

    assert_int_equal(kn_dbl_faults(&w->d, "{\"fail_next\":2,\"status\":503,\"fail_path\":\"/binding\"}"), 0);
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "p3", "100m", "128Mi", NULL, NULL), 0);
    assert_true(wait_bound(&w->d, "p3"));
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "p3"), 1); /* the 503s never reached the pod */
    assert_true(kn_sched_proc_log_has(&w->a, "relisting"));
    stop_sched_cleanly(&w->a);
}

/* A gang waiting for members survives a scheduler restart: the new process
 * binds all of it, each pod once. */
static void restart_mid_gang(void **state)
{
    world *w = *state;
    char lab[256];
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "8", "32Gi"), 0);
    start_sched(w, &w->a, "a", NULL);
    assert_int_equal(
        kn_dbl_add_pod(&w->d, NS, "mpi-0", "1", "1Gi", kn_it_gang_labels(lab, sizeof lab, "mpi", 3), NULL), 0);
    assert_int_equal(
        kn_dbl_add_pod(&w->d, NS, "mpi-1", "1", "1Gi", kn_it_gang_labels(lab, sizeof lab, "mpi", 3), NULL), 0);
    assert_true(wait_event(&w->d, "mpi-0", "GangWaiting"));
    assert_int_equal(kn_dbl_count_bound(&w->d, NS, "mpi-"), 0);
    stop_sched_cleanly(&w->a);

    assert_int_equal(
        kn_dbl_add_pod(&w->d, NS, "mpi-2", "1", "1Gi", kn_it_gang_labels(lab, sizeof lab, "mpi", 3), NULL), 0);
    start_sched(w, &w->b, "b", NULL);
    assert_true(kn_it_wait_n_bound(&w->d, NS, "mpi-", 3, WAIT_S));
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "mpi-0"), 1);
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "mpi-1"), 1);
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "mpi-2"), 1);
    stop_sched_cleanly(&w->b);
}

typedef struct leaseq {
    kn_dbl *d;
    const char *not_holder; /* wait for a holder other than this ("" or NULL: any) */
} leaseq;

static bool lease_held(void *ctx)
{
    leaseq *q = ctx;
    char *h = kn_dbl_lease_holder(q->d, LEASE_NS, SCHED);
    bool ok = h && *h && (!q->not_holder || strcmp(h, q->not_holder) != 0);
    free(h);
    return ok;
}

/* Two replicas with --leader-elect: exactly one binds; SIGTERM on the leader
 * releases the lease, exits 0, and the other takes over. */
static void two_replicas_leader_election(void **state)
{
    world *w = *state;
    const char *const le[] = {"--leader-elect", NULL};
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "16", "64Gi"), 0);
    start_sched(w, &w->a, "a", le);
    start_sched(w, &w->b, "b", le);
    leaseq lq = {.d = &w->d};
    assert_true(kn_wait_for(WAIT_S, lease_held, &lq));
    for (int i = 0; i < 6; i++) {
        char name[32];
        snprintf(name, sizeof name, "le-%d", i);
        assert_int_equal(kn_dbl_add_pod(&w->d, NS, name, "100m", "128Mi", NULL, NULL), 0);
    }
    assert_true(kn_it_wait_n_bound(&w->d, NS, "le-", 6, WAIT_S));
    for (int i = 0; i < 6; i++) {
        char name[32];
        snprintf(name, sizeof name, "le-%d", i);
        assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, name), 1);
    }
    bool a_leads = kn_sched_proc_log_has(&w->a, "became leader");
    bool b_leads = kn_sched_proc_log_has(&w->b, "became leader");
    assert_true(a_leads != b_leads);
    kn_sched_proc *leader = a_leads ? &w->a : &w->b, *other = a_leads ? &w->b : &w->a;
    assert_false(kn_sched_proc_log_has(other, "msg=\"bound\""));

    char *holder = kn_dbl_lease_holder(&w->d, LEASE_NS, SCHED);
    stop_sched_cleanly(leader);
    leaseq moved = {.d = &w->d, .not_holder = holder};
    assert_true(kn_wait_for(WAIT_S, lease_held, &moved));
    free(holder);
    assert_true(kn_sched_proc_log_has(leader, "lease released"));
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "le-after", "100m", "128Mi", NULL, NULL), 0);
    assert_true(wait_bound(&w->d, "le-after"));
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "le-after"), 1);
    stop_sched_cleanly(other);
    char *after = kn_dbl_lease_holder(&w->d, LEASE_NS, SCHED);
    assert_string_equal(after, "");
    free(after);
}

static bool ready(void *ctx)
{
    kn_sched_proc *p = ctx;
    char *body = NULL;
    long code = kn_sched_proc_http(p, "/readyz", &body);
    free(body);
    return code == 200;
}

static bool log_has_401(void *ctx)
{
    return kn_sched_proc_log_has(ctx, "status=401");
}

/* A lease another replica holds is respected (nothing bound) until that
 * holder stops renewing; then we take over, leaseTransitions + 1. */
static void lease_held_elsewhere_then_taken_over(void **state)
{
    world *w = *state;
    const char *const le[] = {"--leader-elect", NULL};
    char lease[1024], now[40];
    time_t t = time(NULL);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%S.000000Z", gmtime(&t));
    snprintf(lease, sizeof lease,
             "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"%s\"},"
             "\"spec\":{\"holderIdentity\":\"other-replica_0001\",\"leaseDurationSeconds\":8,"
             "\"acquireTime\":\"%s\",\"renewTime\":\"%s\",\"leaseTransitions\":3}}",
             SCHED, now, now);
    assert_int_equal(
        kn_dbl_call(&w->d, "POST", "/apis/coordination.k8s.io/v1/namespaces/" LEASE_NS "/leases", lease, NULL),
        201);
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "8", "32Gi"), 0);
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "waits", "1", "1Gi", NULL, NULL), 0);
    start_sched(w, &w->a, "a", le);
    assert_true(kn_wait_for(WAIT_S, ready, &w->a));
    callq cq = {.d = &w->d, .key = "get leases", .want = 2};
    assert_true(kn_wait_for(WAIT_S, calls_reached, &cq));
    char *h = kn_dbl_lease_holder(&w->d, LEASE_NS, SCHED);
    if (strcmp(h, "other-replica_0001") == 0) /* still within the other's lease: nothing bound */
        assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "waits"), 0);
    free(h);
    assert_true(wait_bound(&w->d, "waits"));
    kn_json *l = NULL;
    assert_int_equal(
        kn_dbl_call(&w->d, "GET", "/apis/coordination.k8s.io/v1/namespaces/" LEASE_NS "/leases/" SCHED, NULL, &l),
        200);
    int64_t transitions = 0, dur = 0;
    assert_int_equal(kn_json_int(kn_json_dig(l, "spec", "leaseTransitions", NULL), &transitions), 0);
    assert_int_equal(transitions, 4);
    assert_int_equal(kn_json_int(kn_json_dig(l, "spec", "leaseDurationSeconds", NULL), &dur), 0);
    assert_int_equal(dur, 15);
    const char *renew = kn_json_str(kn_json_dig(l, "spec", "renewTime", NULL));
    assert_non_null(renew);
    assert_int_equal(strlen(renew), 27); /* 2026-11-24T10:00:00.000000Z */
    assert_string_not_equal(kn_json_str(kn_json_dig(l, "spec", "holderIdentity", NULL)), "other-replica_0001");
    kn_json_free(l);
    stop_sched_cleanly(&w->a);
}

/* Without the NodeResourceTopology CRD the scheduler is ready and schedules. */
static void without_nrt_crd(void **state)
{
    world *w = *state;
    kn_dbl_stop(&w->d);
    assert_int_equal(kn_dbl_start(&w->d, "--no-nrt"), 0);
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "8", "32Gi"), 0);
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "no-nrt", "1", "1Gi", NULL, NULL), 0);
    start_sched(w, &w->a, "a", NULL);
    assert_true(wait_bound(&w->d, "no-nrt"));
    assert_true(kn_wait_for(WAIT_S, ready, &w->a));
    assert_true(kn_sched_proc_log_has(&w->a, "resource absent"));
    stop_sched_cleanly(&w->a);
}

static bool podgroup_event(void *ctx)
{
    kn_dbl *d = ctx;
    return kn_dbl_events(d, NS, "cs-0", "FailedScheduling",
                         "PodGroup spark/cs-pg (scheduling.x-k8s.io/v1alpha1) not found", NULL) > 0;
}

/* Gangs named by PodGroups, served by the double: Volcano's CRD present,
 * coscheduling's absent at the start. Pods naming a coscheduling PodGroup
 * wait, saying which; once the CRD is installed and the PodGroup created,
 * the scheduler finds it on its own (no restart) and binds the gang. */
static void podgroup_gangs_and_late_crd(void **state)
{
    world *w = *state;
    kn_dbl_stop(&w->d);
    assert_int_equal(kn_dbl_start(&w->d, "--absent=podgroups"), 0);
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "8", "32Gi"), 0);
    assert_int_equal(kn_dbl_add_podgroup(&w->d, true, NS, "vc-pg", "{\"minMember\":2,\"queue\":\"default\"}"), 0);
    const char *vc = "{\"scheduling.k8s.io/group-name\":\"vc-pg\"}";
    const char *cs = "{\"scheduling.x-k8s.io/pod-group\":\"cs-pg\"}";
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "vc-0", "1", "1Gi", NULL, vc), 0);
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "cs-%d", i);
        assert_int_equal(kn_dbl_add_pod(&w->d, NS, name, "1", "1Gi", cs, NULL), 0);
    }
    start_sched(w, &w->a, "a", NULL);
    assert_true(wait_event(&w->d, "vc-0", "GangWaiting"));
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "vc-1", "1", "1Gi", NULL, vc), 0);
    assert_true(kn_it_wait_n_bound(&w->d, NS, "vc-", 2, WAIT_S));
    assert_true(kn_wait_for(WAIT_S, podgroup_event, &w->d));
    assert_true(kn_sched_proc_log_has(&w->a, "resource absent"));
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "cs-0"), 0);
    /* the CRD is installed, then the PodGroup created: found without a restart */
    assert_int_equal(kn_dbl_faults(&w->d, "{\"absent\":{\"podgroups\":false}}"), 0);
    assert_int_equal(kn_dbl_add_podgroup(&w->d, false, NS, "cs-pg", "{\"minMember\":3}"), 0);
    assert_true(kn_it_wait_n_bound(&w->d, NS, "cs-", 3, WAIT_S));
    /* the CRD removed again: its PodGroups go, and a new member waits */
    assert_int_equal(kn_dbl_faults(&w->d, "{\"absent\":{\"podgroups\":true}}"), 0);
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "cs-3", "1", "1Gi", cs, NULL), 0);
    assert_true(wait_event(&w->d, "cs-3", "FailedScheduling"));
    assert_true(kn_dbl_events(&w->d, NS, "cs-3", "FailedScheduling", "PodGroup spark/cs-pg", NULL) > 0);
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "cs-3"), 0);
    stop_sched_cleanly(&w->a);
}

/* A wrong token: 401s, never ready, nothing bound, still a clean stop. Bad
 * flags are a usage error (2); a missing kubeconfig names the file (1). */
static void unauthorized_and_bad_usage(void **state)
{
    world *w = *state;
    char bad[256];
    snprintf(bad, sizeof bad, "%s/bad.yaml", w->d.dir);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "sed 's/token: .*/token: not-the-token/' %s > %s", w->d.kubeconfig, bad);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "8", "32Gi"), 0);
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "unauth", "1", "1Gi", NULL, NULL), 0);
    const char *const args[] = {"--kubeconfig", bad, NULL};
    start_sched(w, &w->a, "a", args);
    assert_true(kn_wait_for(WAIT_S, log_has_401, &w->a));
    char *body = NULL;
    assert_int_equal(kn_sched_proc_http(&w->a, "/readyz", &body), 503);
    free(body);
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "unauth"), 0);
    stop_sched_cleanly(&w->a);

    const char *const bogus[] = {"--bogus", NULL};
    start_sched(w, &w->b, "b", bogus);
    assert_int_equal(kn_sched_proc_stop(&w->b, 0, 20), 2);
    const char *const missing[] = {"--kubeconfig", "/nonexistent/kubeconfig", NULL};
    start_sched(w, &w->b, "c", missing);
    assert_int_equal(kn_sched_proc_stop(&w->b, 0, 20), 1);
    assert_true(kn_sched_proc_log_has(&w->b, "/nonexistent/kubeconfig"));
}

/* A leader that cannot renew its lease within the renew deadline stops
 * binding and exits 1 (as kube-scheduler does), without releasing. */
static void lost_lease_stops_the_leader(void **state)
{
    world *w = *state;
    const char *const le[] = {"--leader-elect", NULL};
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "8", "32Gi"), 0);
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "before", "1", "1Gi", NULL, NULL), 0);
    start_sched(w, &w->a, "a", le);
    assert_true(wait_bound(&w->d, "before"));
    assert_int_equal(kn_dbl_faults(&w->d, "{\"fail_next\":100000,\"status\":500,\"fail_path\":\"/leases/\"}"), 0);
    assert_int_equal(kn_sched_proc_stop(&w->a, 0, WAIT_S), 1);
    assert_true(kn_sched_proc_log_has(&w->a, "leader election lost"));
    assert_false(kn_sched_proc_log_has(&w->a, "lease released"));
    assert_int_equal(kn_dbl_faults(&w->d, "{\"fail_next\":0}"), 0);
}

/* x509 client-certificate auth from client-certificate-data/client-key-data,
 * the CA from a file path relative to the kubeconfig. */
static void client_certificate_auth(void **state)
{
    world *w = *state;
    char kc[256];
    snprintf(kc, sizeof kc, "%s/cert-kubeconfig.yaml", w->d.dir);
    assert_int_equal(kn_dbl_write_cert_kubeconfig(&w->d, kc), 0);
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "8", "32Gi"), 0);
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "by-cert", "1", "1Gi", NULL, NULL), 0);
    const char *const args[] = {"--kubeconfig", kc, NULL};
    start_sched(w, &w->a, "a", args);
    assert_true(wait_bound(&w->d, "by-cert"));
    stop_sched_cleanly(&w->a);
}

/* Held executor slots are released after the gang's timeout (annotation on
 * the driver), with a GangTimeout event; the room goes to a waiting pod. */
static void reservation_released_on_timeout(void **state)
{
    world *w = *state;
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "4", "16Gi"), 0);
    start_sched(w, &w->a, "a", NULL);
    const char *lab = "{\"pod-group.scheduling.kubenexus.io/name\":\"etl\","
                      "\"pod-group.scheduling.kubenexus.io/min-available\":\"2\",\"spark-role\":\"driver\"}";
    const char *ann = "{\"scheduling.kubenexus.io/executor-reservation\":"
                      "\"{\\\"count\\\":1,\\\"requests\\\":{\\\"cpu\\\":\\\"3\\\",\\\"memory\\\":\\\"1Gi\\\"}}\","
                      "\"pod-group.scheduling.kubenexus.io/timeout-seconds\":\"3\"}";
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "etl-driver", "1", "1Gi", lab, ann), 0);
    assert_true(wait_bound(&w->d, "etl-driver"));
    assert_true(wait_event(&w->d, "etl-driver", "GangReserved"));
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "waiting", "3", "1Gi", NULL, NULL), 0);
    assert_true(wait_event(&w->d, "etl-driver", "GangTimeout"));
    assert_true(wait_bound(&w->d, "waiting"));
    /* counted for the KubenexusReservationsTimingOut alert */
    assert_int_equal(kn_sched_proc_metric(&w->a, "kubenexus_scheduler_reservation_timeouts_total"), 1);
    stop_sched_cleanly(&w->a);
}

static const char *NRT_FMT =
    "{\"apiVersion\":\"topology.node.k8s.io/v1alpha2\",\"kind\":\"NodeResourceTopology\","
    "\"metadata\":{\"name\":\"%s\"},\"topologyPolicies\":[\"SingleNUMANodeContainerLevel\"],\"zones\":[%s]}";
static const char *ZONE_FMT =
    "%s{\"name\":\"node-%d\",\"type\":\"Node\",\"resources\":["
    "{\"name\":\"cpu\",\"capacity\":\"%d\",\"allocatable\":\"%d\",\"available\":\"%d\"},"
    "{\"name\":\"memory\",\"capacity\":\"16Gi\",\"allocatable\":\"16Gi\",\"available\":\"16Gi\"}]}";

static void add_nrt(kn_dbl *d, const char *node, int zones, int cpus_per_zone)
{
    char zs[2048] = "", body[3072];
    size_t off = 0;
    for (int i = 0; i < zones; i++)
        off += (size_t)snprintf(zs + off, sizeof zs - off, ZONE_FMT, i ? "," : "", i, cpus_per_zone, cpus_per_zone,
                                cpus_per_zone);
    snprintf(body, sizeof body, NRT_FMT, node, zs);
    assert_int_equal(
        kn_dbl_call(d, "POST", "/apis/topology.node.k8s.io/v1alpha2/noderesourcetopologies", body, NULL), 201);
}

/* single-numa from NodeResourceTopology: only a node with a zone that holds the
 * whole request qualifies; the zone goes onto the pod through the Binding. */
static void numa_single_from_nrt(void **state)
{
    world *w = *state;
    /* node-a would win a tie by name; only node-b has a zone of 8 cpu */
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "16", "64Gi"), 0); /* 4 zones x 4 cpu */
    assert_int_equal(kn_dbl_add_node(&w->d, "node-b", "16", "64Gi"), 0); /* 2 zones x 8 cpu */
    add_nrt(&w->d, "node-a", 4, 4);
    add_nrt(&w->d, "node-b", 2, 8);
    start_sched(w, &w->a, "a", NULL);
    const char *ann = "{\"numa.scheduling.kubenexus.io/policy\":\"single-numa\"}";
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "numa-6", "6", "4Gi", NULL, ann), 0);
    assert_true(wait_bound(&w->d, "numa-6"));
    char *n = kn_dbl_pod_node(&w->d, NS, "numa-6");
    assert_string_equal(n, "node-b");
    free(n);
    kn_json *pod = NULL;
    assert_int_equal(kn_dbl_call(&w->d, "GET", "/api/v1/namespaces/" NS "/pods/numa-6", NULL, &pod), 200);
    const char *zones =
        kn_json_str(kn_json_dig(pod, "metadata", "annotations", "numa.kubenexus.io/assigned-zones", NULL));
    assert_non_null(zones);
    assert_true(strcmp(zones, "node-0") == 0 || strcmp(zones, "node-1") == 0);
    kn_json_free(pod);
    /* no zone anywhere holds 10 cpu */
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "numa-10", "10", "4Gi", NULL, ann), 0);
    assert_true(wait_event(&w->d, "numa-10", "FailedScheduling"));
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "numa-10"), 0);
    stop_sched_cleanly(&w->a);
}

/* A NoSchedule taint keeps pods off unless tolerated; required node affinity
 * picks the node. */
static void taints_and_affinity(void **state)
{
    world *w = *state;
    const char *tainted =
        "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"gpu-a\",\"labels\":"
        "{\"kubernetes.io/hostname\":\"gpu-a\"}},\"spec\":{\"taints\":[{\"key\":\"dedicated\",\"value\":\"spark\","
        "\"effect\":\"NoSchedule\"}]},\"status\":{\"allocatable\":{\"cpu\":\"8\",\"memory\":\"32Gi\",\"pods\":"
        "\"110\"},"
        "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}";
    assert_int_equal(kn_dbl_call(&w->d, "POST", "/api/v1/nodes", tainted, NULL), 201);
    assert_int_equal(kn_dbl_add_node(&w->d, "plain-b", "8", "32Gi"), 0);
    start_sched(w, &w->a, "a", NULL);
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "untol-%d", i);
        assert_int_equal(kn_dbl_add_pod(&w->d, NS, name, "1", "1Gi", NULL, NULL), 0);
        assert_true(wait_bound(&w->d, name));
        char *n = kn_dbl_pod_node(&w->d, NS, name);
        assert_string_equal(n, "plain-b");
        free(n);
    }
    const char *tol =
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"tolerant\",\"namespace\":\"" NS "\"},"
        "\"spec\":{\"schedulerName\":\"kubenexus-scheduler\",\"tolerations\":[{\"key\":\"dedicated\","
        "\"operator\":\"Equal\",\"value\":\"spark\",\"effect\":\"NoSchedule\"}],\"affinity\":{\"nodeAffinity\":"
        "{\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":[{\"matchExpressions\":"
        "[{\"key\":\"kubernetes.io/hostname\",\"operator\":\"In\",\"values\":[\"gpu-a\"]}]}]}}},"
        "\"containers\":[{\"name\":\"main\",\"image\":\"x\",\"resources\":{\"requests\":{\"cpu\":\"1\"}}}]}}";
    assert_int_equal(kn_dbl_call(&w->d, "POST", "/api/v1/namespaces/" NS "/pods", tol, NULL), 201);
    assert_true(wait_bound(&w->d, "tolerant"));
    char *n = kn_dbl_pod_node(&w->d, NS, "tolerant");
    assert_string_equal(n, "gpu-a");
    free(n);
    stop_sched_cleanly(&w->a);
}

typedef struct evcount {
    kn_dbl *d;
    const char *pod, *reason, *needle;
    int64_t want;
} evcount;

static bool event_count_reached(void *ctx)
{
    evcount *q = ctx;
    int64_t c = 0;
    kn_dbl_events(q->d, NS, q->pod, q->reason, q->needle, &c);
    return c >= q->want;
}

static void wait_event_count(kn_dbl *d, const char *pod, const char *needle, int64_t want)
{
    evcount q = {.d = d, .pod = pod, .reason = "GangWaiting", .needle = needle, .want = want};
    assert_true(kn_wait_for(WAIT_S, event_count_reached, &q));
}

static bool metric_at_least(kn_sched_proc *p, const char *series, long want)
{
    return kn_sched_proc_metric(p, series) >= want;
}

/* A gang waiting for members whose count goes up and back down (an executor
 * created, then deleted) tells its members the same GangWaiting message
 * again: kube-style aggregation, one Event object whose count grows (PATCH),
 * not one object per repeat. */
static void repeated_event_aggregated(void **state)
{
    world *w = *state;
    char lab[256], name[32];
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "8", "32Gi"), 0);
    kn_it_gang_labels(lab, sizeof lab, "agg", 4);
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "agg-0", "1", "1Gi", lab, NULL), 0);
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "agg-1", "1", "1Gi", lab, NULL), 0);
    start_sched(w, &w->a, "a", NULL);
    const char *two = "2 of 4 members present", *three = "3 of 4 members present";
    wait_event_count(&w->d, "agg-0", two, 1);
    for (int round = 1; round <= 2; round++) {
        snprintf(name, sizeof name, "agg-x%d", round);
        assert_int_equal(kn_dbl_add_pod(&w->d, NS, name, "1", "1Gi", lab, NULL), 0);
        wait_event_count(&w->d, "agg-0", three, round);
        char path[128];
        snprintf(path, sizeof path, "/api/v1/namespaces/" NS "/pods/%s", name);
        assert_int_equal(kn_dbl_call(&w->d, "DELETE", path, NULL, NULL), 200);
        wait_event_count(&w->d, "agg-0", two, round + 1);
    }
    int64_t count = 0;
    assert_int_equal(kn_dbl_events(&w->d, NS, "agg-0", "GangWaiting", two, &count), 1);
    assert_int_equal(count, 3);
    assert_int_equal(kn_dbl_events(&w->d, NS, "agg-1", "GangWaiting", two, &count), 1);
    assert_int_equal(count, 3);
    assert_int_equal(kn_dbl_events(&w->d, NS, "agg-0", "GangWaiting", three, &count), 1);
    assert_int_equal(count, 2);
    assert_true(metric_at_least(&w->a, "kubenexus_scheduler_events_total{result=\"patched\"}", 6));
    assert_int_equal(kn_dbl_count_bound(&w->d, NS, "agg-"), 0);
    /* as kube-apiserver: a PATCH whose body is not a patch type is refused */
    assert_int_equal(kn_dbl_call(&w->d, "PATCH", "/api/v1/namespaces/" NS "/events/x", "{\"count\":2}", NULL),
                     415);
    stop_sched_cleanly(&w->a);
}

typedef struct allev {
    kn_dbl *d;
    int n;
} allev;

static bool every_burst_pod_has_scheduled(void *ctx)
{
    allev *q = ctx;
    char name[32];
    for (int i = 0; i < q->n; i++) {
        snprintf(name, sizeof name, "burst-%d", i);
        if (kn_dbl_events(q->d, NS, name, "Scheduled", NULL, NULL) != 1)
            return false;
    }
    return true;
}

/* A burst: every pod bound exactly once, and (the event queue never full)
 * every pod gets its one Scheduled event once the bindings are done. */
static void burst_bound_once_events_follow(void **state)
{
    world *w = *state;
    enum { N = 40 };
    char name[32];
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "64", "256Gi"), 0);
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "burst-%d", i);
        assert_int_equal(kn_dbl_add_pod(&w->d, NS, name, "100m", "128Mi", NULL, NULL), 0);
    }
    start_sched(w, &w->a, "a", NULL);
    assert_true(kn_it_wait_n_bound(&w->d, NS, "burst-", N, WAIT_S));
    allev aq = {.d = &w->d, .n = N};
    assert_true(kn_wait_for(WAIT_S, every_burst_pod_has_scheduled, &aq));
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "burst-%d", i);
        assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, name), 1);
    }
    assert_int_equal(kn_dbl_count_bound(&w->d, NS, "burst-"), N);
    assert_true(metric_at_least(&w->a, "kubenexus_scheduler_events_dropped_total", 0));
    assert_false(metric_at_least(&w->a, "kubenexus_scheduler_events_dropped_total", 1));
    stop_sched_cleanly(&w->a);
}

/* ---- kubelet's probes while clients hold the metrics address ----
 *
 * Clients that connect and say nothing, or trickle a request head that never
 * ends, must not lock out /healthz and /metrics: kubelet restarts a replica
 * whose liveness probe fails three times. A probe here is what kubelet's
 * httpGet probe does with its default timeoutSeconds of 1: a new connection,
 * one GET, and the answer within that second, or the probe counts as failed.
 * The 1 s is the probe's own deadline (what makes it fail on a cluster), not
 * a measure of speed. */

#define PROBE_TIMEOUT_MS 1000 /* kubelet's default timeoutSeconds */
#define N_PROBES 30
#define N_IDLE 192   /* connect and say nothing */
#define N_TRICKLE 16 /* a request head, a byte at a time, never ended */
#define N_HOLD (N_IDLE + N_TRICKLE)

/* More than the server has slots: the probes must get in by evicting, not by
 * finding room. */
_Static_assert(N_IDLE > KN_MS_MAX_CONNS, "hold more idle sockets than there are slots");

typedef struct holder {
    int port;
    int fd[N_HOLD];
    long long closed_at[N_HOLD]; /* ms; re-opened 100 ms later, as a client that retries */
    atomic_bool reopen;          /* reconnect sockets the server closed */
    atomic_bool stop;
    atomic_int opened; /* connections made */
    atomic_int closed_by_server;
    atomic_int open_now;
} holder;

static bool is_trickler(int i)
{
    return i >= N_IDLE;
}

static int hold_connect(holder *h, int i)
{
    int fd = kn_it_tcp_connect(h->port, 200);
    if (fd < 0)
        return -1;
    /* a trickler starts a request head it will never end */
    if (is_trickler(i) && kn_it_fd_write(fd, "GET /metrics HTTP/1.1\r\n", 23) != 0) {
        close(fd);
        return -1;
    }
    atomic_fetch_add(&h->opened, 1);
    return fd;
}

static void *hold_thread(void *arg)
{
    holder *h = arg;
    struct pollfd pfd[N_HOLD];
    long long next_trickle = 0;
    while (!atomic_load(&h->stop)) {
        int open = 0;
        for (int i = 0; i < N_HOLD; i++) {
            if (h->fd[i] < 0 && atomic_load(&h->reopen) && kn_it_now_ms() >= h->closed_at[i] + 100)
                h->fd[i] = hold_connect(h, i);
            pfd[i] = (struct pollfd){.fd = h->fd[i], .events = POLLIN};
            open += h->fd[i] >= 0;
        }
        atomic_store(&h->open_now, open);
        poll(pfd, N_HOLD, 50);
        for (int i = 0; i < N_HOLD; i++) {
            if (h->fd[i] < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buf[256];
            ssize_t n = recv(h->fd[i], buf, sizeof buf, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                close(h->fd[i]);
                h->fd[i] = -1;
                h->closed_at[i] = kn_it_now_ms();
                atomic_fetch_add(&h->closed_by_server, 1);
            }
        }
        if (kn_it_now_ms() >= next_trickle) { /* one more header line, every 200 ms */
            for (int i = N_IDLE; i < N_HOLD; i++)
                if (h->fd[i] >= 0 && send(h->fd[i], "X: y\r\n", 6, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
                    errno != EAGAIN) {
                    close(h->fd[i]);
                    h->fd[i] = -1;
                    h->closed_at[i] = kn_it_now_ms();
                    atomic_fetch_add(&h->closed_by_server, 1);
                }
            next_trickle = kn_it_now_ms() + 200;
        }
    }
    int open = 0;
    for (int i = 0; i < N_HOLD; i++)
        open += h->fd[i] >= 0;
    atomic_store(&h->open_now, open);
    return NULL;
}

/* True when GET path on a new connection was answered 200 with a body
 * containing want, all within PROBE_TIMEOUT_MS of starting to connect. */
static bool probe(int port, const char *path, const char *want)
{
    long long deadline = kn_it_now_ms() + PROBE_TIMEOUT_MS;
    int fd = kn_it_tcp_connect(port, PROBE_TIMEOUT_MS);
    if (fd < 0)
        return false;
    char req[256];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: kube-probe/1.30\r\nAccept: */*\r\n"
                     "Connection: close\r\n\r\n",
                     path, port);
    bool ok = false;
    if (kn_it_fd_write(fd, req, (size_t)n) == 0) {
        char *resp = calloc(1, 1 << 20);
        size_t got = 0;
        for (long long left; resp && (left = deadline - kn_it_now_ms()) > 0 && got < (1 << 20) - 1;) {
            if (!kn_it_fd_readable(fd, (int)left))
                break;
            ssize_t r = recv(fd, resp + got, (1 << 20) - 1 - got, MSG_DONTWAIT);
            if (r == 0) { /* Connection: close: the whole answer is in */
                ok = strncmp(resp, "HTTP/1.1 200 ", 13) == 0 && strstr(resp, want) != NULL;
                break;
            }
            if (r < 0 && errno != EAGAIN && errno != EINTR)
                break;
            if (r > 0)
                got += (size_t)r;
        }
        free(resp);
    }
    close(fd);
    return ok && kn_it_now_ms() <= deadline;
}

static bool all_held(void *ctx)
{
    holder *h = ctx;
    return atomic_load(&h->opened) >= N_HOLD;
}

static bool none_open(void *ctx)
{
    holder *h = ctx;
    return atomic_load(&h->open_now) == 0;
}

/* N_IDLE silent connections and N_TRICKLE slow request heads, re-opened as
 * soon as the server drops them: every probe of /healthz and /metrics is
 * still answered within its 1 s, and every held connection is closed by the
 * server (none kept past its request-head deadline, trickling or not). */
static void probes_answered_while_idle_sockets_held(void **state)
{
    world *w = *state;
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "4", "16Gi"), 0);
    start_sched(w, &w->a, "a", NULL);
    assert_true(kn_it_wait_port(w->a.metrics_port, w->a.pid, 10000));

    holder *h = calloc(1, sizeof *h);
    assert_non_null(h);
    h->port = w->a.metrics_port;
    for (int i = 0; i < N_HOLD; i++)
        h->fd[i] = -1;
    atomic_store(&h->reopen, true);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, hold_thread, h), 0);
    assert_true(kn_wait_for(20.0, all_held, h));

    int answered = 0;
    for (int i = 0; i < N_PROBES; i++) {
        bool metrics = i % 2;
        answered += probe(w->a.metrics_port, metrics ? "/metrics" : "/healthz",
                          metrics ? "# TYPE kubenexus_scheduler_schedule_attempts_total" : "ok");
        kn_it_sleep_ms(100);
    }
    fprintf(stderr, "probes answered within %d ms: %d of %d (%d held connections made, %d closed by the server)\n",
            PROBE_TIMEOUT_MS, answered, N_PROBES, atomic_load(&h->opened), atomic_load(&h->closed_by_server));

    /* stop re-opening; the trickling ones keep sending their header lines */
    atomic_store(&h->reopen, false);
    bool all_closed = kn_wait_for(10.0, none_open, h);
    int left_open = atomic_load(&h->open_now);
    atomic_store(&h->stop, true);
    pthread_join(t, NULL);
    for (int i = 0; i < N_HOLD; i++)
        if (h->fd[i] >= 0)
            close(h->fd[i]);
    int closed = atomic_load(&h->closed_by_server), opened = atomic_load(&h->opened);
    free(h);

    if (answered != N_PROBES)
        kn_it_dump_log(w->a.log);
    assert_int_equal(answered, N_PROBES);
    assert_true(all_closed);
    assert_int_equal(left_open, 0);
    assert_int_equal(closed, opened); /* every one the server's doing, none given up by us */
    /* and the server is not left worse for it */
    assert_true(probe(w->a.metrics_port, "/healthz", "ok"));
    stop_sched_cleanly(&w->a);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    srand((unsigned)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(plain_pod_bound_with_event_and_metrics, setup, teardown),
        cmocka_unit_test_setup_teardown(gang_all_or_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(driver_first_reservation, setup, teardown),
        cmocka_unit_test_setup_teardown(conflict_409_never_double_places, setup, teardown),
        cmocka_unit_test_setup_teardown(watch_drop_and_410_relist, setup, teardown),
        cmocka_unit_test_setup_teardown(restart_mid_gang, setup, teardown),
        cmocka_unit_test_setup_teardown(two_replicas_leader_election, setup, teardown),
        cmocka_unit_test_setup_teardown(lease_held_elsewhere_then_taken_over, setup, teardown),
        cmocka_unit_test_setup_teardown(without_nrt_crd, setup, teardown),
        cmocka_unit_test_setup_teardown(podgroup_gangs_and_late_crd, setup, teardown),
        cmocka_unit_test_setup_teardown(unauthorized_and_bad_usage, setup, teardown),
        cmocka_unit_test_setup_teardown(lost_lease_stops_the_leader, setup, teardown),
        cmocka_unit_test_setup_teardown(client_certificate_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(reservation_released_on_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(numa_single_from_nrt, setup, teardown),
        cmocka_unit_test_setup_teardown(taints_and_affinity, setup, teardown),
        cmocka_unit_test_setup_teardown(repeated_event_aggregated, setup, teardown),
        cmocka_unit_test_setup_teardown(burst_bound_once_events_follow, setup, teardown),
        cmocka_unit_test_setup_teardown(probes_answered_while_idle_sockets_held, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
