/* test_scheduler_faults.c - the real kubenexus-scheduler against a failing
 * kube-apiserver (the test double's fault switches): 500s on lists, watches
 * and bindings for a while, slow answers, the API server killed and
 * started again on the same port with its objects re-created, a paged relist
 * broken off by 410 Expired on its continue token, and a relist held back.
 *
 * In each case the scheduler must recover by itself and end with every pod
 * bound exactly once (successful Bindings per pod, from /_test/state), no gang
 * partly bound, no pending pod forgotten, and no node over-committed. Waits are bounded polls on what
 * the double records; nothing asserts on timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apiserver_double.h"
#include "proc.h"
#include "sched_fixture.h"

#ifndef KN_SOURCE_DIR
#define KN_SOURCE_DIR "."
#endif

#define NS "faults"
#define WAIT_S 40.0

typedef kn_it_world world;

/* ---- objects ---- */

/* n pods <prefix>0..n-1 of cpu each; when gang, the gang <prefix>gang of min n. */
static void add_pods(kn_dbl *d, const char *prefix, int n, const char *cpu, bool gang)
{
    char lab[256], name[64], gname[64];
    snprintf(gname, sizeof gname, "%sgang", prefix); /* a legal label value */
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s%d", prefix, i);
        assert_int_equal(kn_dbl_add_pod(d, NS, name, cpu, "1Gi",
                                        gang ? kn_it_gang_labels(lab, sizeof lab, gname, n) : NULL, NULL),
                         0);
    }
}

/* A pod as a restarted API server serves it again (etcd keeps it): its uid,
 * and spec.nodeName when it was bound (node "" when pending). */
static void restore_pod(kn_dbl *d, const char *name, const char *uid, const char *node, const char *cpu)
{
    char body[1024], path[128], nodefield[128] = "";
    if (*node)
        snprintf(nodefield, sizeof nodefield, "\"nodeName\":\"%s\",", node);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","
             "\"uid\":\"%s\"},\"spec\":{\"schedulerName\":\"kubenexus-scheduler\",%s\"containers\":[{\"name\":"
             "\"main\",\"image\":\"apache/spark:3.5.1\",\"resources\":{\"requests\":{\"cpu\":\"%s\",\"memory\":"
             "\"1Gi\"},\"limits\":{\"memory\":\"1Gi\"}}}]},\"status\":{\"phase\":\"%s\"}}",
             name, NS, uid, nodefield, cpu, *node ? "Running" : "Pending");
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods", NS);
    assert_int_equal(kn_dbl_call(d, "POST", path, body, NULL), 201);
}

/* uid and spec.nodeName ("" if unbound) of ns/name, malloc'd into *uid, *node. */
static void pod_identity(kn_dbl *d, const char *name, char **uid, char **node)
{
    char path[128];
    kn_json *pod = NULL;
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s", NS, name);
    assert_int_equal(kn_dbl_call(d, "GET", path, NULL, &pod), 200);
    const char *u = kn_json_str(kn_json_dig(pod, "metadata", "uid", NULL));
    const char *n = kn_json_str(kn_json_dig(pod, "spec", "nodeName", NULL));
    *uid = strdup(u ? u : "");
    *node = strdup(n ? n : "");
    kn_json_free(pod);
}

/* ---- what the double recorded ---- */

static void wait_bound(world *w, const char *prefix, int want)
{
    if (!kn_it_wait_n_bound(&w->d, NS, prefix, want, WAIT_S)) {
        kn_it_dump_log(w->s.log);
        fail_msg("only %d of %d pods %s* bound", kn_dbl_count_bound(&w->d, NS, prefix), want, prefix);
    }
}

/* Successful Bindings of ns/name (the double's "bindings", by_binding). */
static int bindings_of(const kn_json *st, const char *name)
{
    char key[128];
    snprintf(key, sizeof key, "%s/%s", NS, name);
    const kn_json *b = kn_json_get(st, "bindings");
    int n = 0;
    for (size_t i = 0; i < kn_json_len(b); i++) {
        const kn_json *e = kn_json_at(b, i);
        const char *pod = kn_json_get_str(e, "pod");
        if (pod && strcmp(pod, key) == 0 && kn_json_bool(kn_json_get(e, "by_binding"), false))
            n++;
    }
    return n;
}

static int attempts_of(const kn_json *st, const char *name)
{
    char key[128];
    snprintf(key, sizeof key, "%s/%s", NS, name);
    int64_t n = 0;
    kn_json_int(kn_json_get(kn_json_get(st, "binding_attempts"), key), &n);
    return (int)n;
}

/* Every one of prefix0..n-1 bound exactly once; returns their binding attempts. */
static int assert_bound_once(kn_dbl *d, const char *prefix, int n)
{
    kn_json *st = kn_dbl_state(d);
    assert_non_null(st);
    int attempts = 0;
    char name[64];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s%d", prefix, i);
        int b = bindings_of(st, name);
        if (b != 1) {
            kn_json_free(st);
            fail_msg("%s bound %d times, want exactly 1", name, b);
        }
        attempts += attempts_of(st, name);
    }
    kn_json_free(st);
    return attempts;
}

static int64_t fault_left(kn_dbl *d, const char *key)
{
    kn_json *st = kn_dbl_state(d);
    int64_t n = -1;
    kn_json_int(kn_json_get(kn_json_get(st, "faults"), key), &n);
    kn_json_free(st);
    return n;
}

/* ---- tests ---- */

/* 500 on every request at start (lists, watches, leases), then on bindings,
 * then on pod lists and watches after the watches drop: the scheduler retries
 * on its own; every pod ends bound once, gangs whole. */
static void errors_500_for_a_while(void **state)
{
    world *w = *state;
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "16", "64Gi"), 0);
    assert_int_equal(kn_dbl_add_node(&w->d, "node-b", "16", "64Gi"), 0);
    add_pods(&w->d, "p-", 4, "1", false);
    add_pods(&w->d, "g-", 4, "2", true);
    assert_int_equal(kn_dbl_faults(&w->d, "{\"fail_next\":12,\"status\":500,\"fail_path\":\"\"}"), 0);
    assert_int_equal(kn_sched_proc_start(&w->s, &w->d, "s", NULL), 0);
    wait_bound(w, "p-", 4);
    wait_bound(w, "g-", 4);
    assert_int_equal(fault_left(&w->d, "fail_next"), 0); /* the 500s were really served */
    /* some of the 500s may have met Bindings: retried, still bound once */
    assert_true(assert_bound_once(&w->d, "p-", 4) + assert_bound_once(&w->d, "g-", 4) >= 8);

    /* 500 on the next 6 Bindings: retried, never bound twice, gang whole */
    assert_int_equal(kn_dbl_faults(&w->d, "{\"fail_next\":6,\"status\":500,\"fail_path\":\"/binding\"}"), 0);
    add_pods(&w->d, "b-", 3, "1", false);
    add_pods(&w->d, "h-", 3, "1", true);
    wait_bound(w, "b-", 3);
    wait_bound(w, "h-", 3);
    assert_int_equal(fault_left(&w->d, "fail_next"), 0);
    int att = assert_bound_once(&w->d, "b-", 3) + assert_bound_once(&w->d, "h-", 3);
    assert_int_equal(att, 6); /* the double counts attempts that pass its fault gate: one each */

    /* watches dropped and the pod list/watch answering 500 for a while */
    assert_int_equal(kn_dbl_faults(&w->d, "{\"drop_watches\":true,\"fail_next\":4,\"status\":503,"
                                          "\"fail_path\":\"/api/v1/pods\"}"),
                     0);
    add_pods(&w->d, "c-", 2, "1", false);
    add_pods(&w->d, "k-", 2, "1", true);
    wait_bound(w, "c-", 2);
    wait_bound(w, "k-", 2);
    assert_int_equal(assert_bound_once(&w->d, "c-", 2), 2);
    assert_int_equal(assert_bound_once(&w->d, "k-", 2), 2);
    assert_int_equal(kn_sched_proc_stop(&w->s, SIGTERM, 20), 0);
}

/* Every answer 400 ms late (lists, watches, Bindings, Events): the scheduler
 * waits rather than retrying, so each pod gets one Binding. */
static void slow_answers(void **state)
{
    world *w = *state;
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "8", "32Gi"), 0);
    assert_int_equal(kn_dbl_add_node(&w->d, "node-b", "8", "32Gi"), 0);
    add_pods(&w->d, "p-", 4, "1", false);
    add_pods(&w->d, "g-", 5, "1", true);
    assert_int_equal(kn_dbl_faults(&w->d, "{\"delay_ms\":400}"), 0);
    assert_int_equal(kn_sched_proc_start(&w->s, &w->d, "s", NULL), 0);
    wait_bound(w, "p-", 4);
    wait_bound(w, "g-", 5);
    add_pods(&w->d, "h-", 3, "1", true);
    wait_bound(w, "h-", 3);
    assert_int_equal(kn_dbl_faults(&w->d, "{\"delay_ms\":0}"), 0);
    assert_int_equal(assert_bound_once(&w->d, "p-", 4), 4);
    assert_int_equal(assert_bound_once(&w->d, "g-", 5), 5);
    assert_int_equal(assert_bound_once(&w->d, "h-", 3), 3);
    assert_int_equal(kn_sched_proc_stop(&w->s, SIGTERM, 20), 0);
}

typedef struct evdone {
    kn_sched_proc *p;
    long want;
} evdone;

/* Every event either written (created) or dropped. */
static bool events_accounted(void *ctx)
{
    evdone *q = ctx;
    long created = kn_sched_proc_metric(q->p, "kubenexus_scheduler_events_total{result=\"created\"}");
    long dropped = kn_sched_proc_metric(q->p, "kubenexus_scheduler_events_dropped_total");
    return created >= 0 && dropped >= 0 && created + dropped >= q->want;
}

/* Events answered 3 s late and an event queue of 4: a burst of 24 pods fills
 * it. The bindings are not held up (all bound, each once); the events that do
 * not fit are dropped and counted, every other one arrives. */
static void full_event_queue_drops_not_bindings(void **state)
{
    world *w = *state;
    enum { N = 24 };
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "64", "256Gi"), 0);
    add_pods(&w->d, "q-", N, "100m", false);
    assert_int_equal(kn_dbl_faults(&w->d, "{\"delay_ms\":3000,\"delay_path\":\"/events\"}"), 0);
    const char *const args[] = {"--event-queue-size", "4", NULL};
    assert_int_equal(kn_sched_proc_start(&w->s, &w->d, "s", args), 0);
    wait_bound(w, "q-", N);
    assert_int_equal(assert_bound_once(&w->d, "q-", N), N);
    evdone q = {.p = &w->s, .want = N};
    bool done = kn_wait_for(WAIT_S, events_accounted, &q);
    long created = kn_sched_proc_metric(&w->s, "kubenexus_scheduler_events_total{result=\"created\"}");
    long dropped = kn_sched_proc_metric(&w->s, "kubenexus_scheduler_events_dropped_total");
    if (!done) {
        kn_it_dump_log(w->s.log);
        fail_msg("events: %ld created, %ld dropped, want %d in all", created, dropped, N);
    }
    assert_true(dropped > 0);
    assert_int_equal(created + dropped, N);
    int arrived = 0;
    char name[32];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "q-%d", i);
        arrived += kn_dbl_events(&w->d, NS, name, "Scheduled", NULL, NULL);
    }
    assert_int_equal(arrived, created);
    assert_int_equal(kn_dbl_faults(&w->d, "{\"delay_ms\":0,\"delay_path\":\"\"}"), 0);
    assert_int_equal(kn_sched_proc_stop(&w->s, SIGTERM, 20), 0);
}

/* The events endpoint answers 503 twice: the Scheduled event is sent again
 * after a backoff and arrives once. */
static void event_errors_retried(void **state)
{
    world *w = *state;
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "8", "32Gi"), 0);
    assert_int_equal(kn_dbl_faults(&w->d, "{\"fail_next\":2,\"status\":503,\"fail_path\":\"/events\"}"), 0);
    add_pods(&w->d, "e-", 1, "1", false);
    assert_int_equal(kn_sched_proc_start(&w->s, &w->d, "s", NULL), 0);
    wait_bound(w, "e-", 1);
    assert_true(kn_it_wait_event(&w->d, NS, "e-0", "Scheduled", WAIT_S));
    assert_int_equal(fault_left(&w->d, "fail_next"), 0);
    assert_int_equal(kn_dbl_events(&w->d, NS, "e-0", "Scheduled", NULL, NULL), 1);
    assert_int_equal(assert_bound_once(&w->d, "e-", 1), 1);
    assert_int_equal(kn_sched_proc_stop(&w->s, SIGTERM, 20), 0);
}

/* The API server goes away mid-run and comes back empty at a later
 * resourceVersion, its history compacted, its objects restored as etcd kept
 * them (same uids, bound pods on their nodes): the scheduler reconnects, gets 410 for its old
 * resourceVersion, relists, leaves the running pods where they are, and binds
 * the pods that were pending before the restart and a gang created after it. */
static void apiserver_restarted(void **state)
{
    world *w = *state;
    char name[64];
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "4", "16Gi"), 0);
    assert_int_equal(kn_dbl_add_node(&w->d, "node-b", "4", "16Gi"), 0);
    add_pods(&w->d, "p-", 4, "1", false);
    assert_int_equal(kn_sched_proc_start(&w->s, &w->d, "s", NULL), 0);
    wait_bound(w, "p-", 4);
    add_pods(&w->d, "w-", 2, "3", false); /* 2 cpu left per node: pending */
    assert_true(kn_it_wait_event(&w->d, NS, "w-1", "FailedScheduling", WAIT_S));
    const char *names[6] = {"p-0", "p-1", "p-2", "p-3", "w-0", "w-1"};
    char *uids[6], *nodes[6];
    for (int i = 0; i < 6; i++)
        pod_identity(&w->d, names[i], &uids[i], &nodes[i]);
    kn_json *st = kn_dbl_state(&w->d);
    assert_non_null(kn_json_get_str(st, "resourceVersion"));
    int64_t old_rv = strtoll(kn_json_get_str(st, "resourceVersion"), NULL, 10);
    kn_json_free(st);

    /* down: the scheduler sees its connections fail for a while ... */
    kill(w->d.pid, SIGKILL);
    kn_it_sleep_ms(1500);
    /* ... then is held still while the new server is filled, so that its first
     * request after the restart meets the new history (no race on timing) */
    kill(w->s.pid, SIGSTOP);
    assert_int_equal(kn_dbl_restart(&w->d), 0);
    for (int64_t rv = 100; rv <= old_rv; rv += 2) { /* resourceVersions move on past the old ones */
        snprintf(name, sizeof name, "filler-%lld", (long long)rv);
        assert_int_equal(kn_dbl_add_node(&w->d, name, "1", "1Gi"), 0);
        char path[128];
        snprintf(path, sizeof path, "/api/v1/nodes/%s", name);
        assert_int_equal(kn_dbl_call(&w->d, "DELETE", path, NULL, NULL), 200);
    }
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "4", "16Gi"), 0);
    assert_int_equal(kn_dbl_add_node(&w->d, "node-b", "4", "16Gi"), 0);
    for (int i = 0; i < 6; i++) {
        restore_pod(&w->d, names[i], uids[i], nodes[i], i < 4 ? "1" : "3");
        free(uids[i]);
        free(nodes[i]);
    }
    assert_int_equal(kn_dbl_faults(&w->d, "{\"compact\":true}"), 0);
    kill(w->s.pid, SIGCONT);

    /* the restarted API server gets room (a new node) and new work. node-c
     * holds w-* (6 cpu), the gang (9) and q-* (2) at once: q-* may be placed
     * before the gang's last member exists, and that order must not decide
     * whether the gang fits (this test is about recovery, not contention). */
    assert_int_equal(kn_dbl_add_node(&w->d, "node-c", "32", "64Gi"), 0);
    add_pods(&w->d, "g-", 3, "3", true);
    add_pods(&w->d, "q-", 2, "1", false);
    wait_bound(w, "w-", 2);
    wait_bound(w, "g-", 3);
    wait_bound(w, "q-", 2);
    assert_true(kn_dbl_calls(&w->d, "list pods") >= 1); /* it relisted */
    assert_bound_once(&w->d, "w-", 2);
    assert_int_equal(assert_bound_once(&w->d, "g-", 3), 3);
    assert_int_equal(assert_bound_once(&w->d, "q-", 2), 2);
    st = kn_dbl_state(&w->d);
    for (int i = 0; i < 4; i++) { /* running pods are left alone */
        snprintf(name, sizeof name, "p-%d", i);
        assert_int_equal(attempts_of(st, name), 0);
    }
    kn_json_free(st);
    assert_int_equal(kn_sched_proc_stop(&w->s, SIGTERM, 20), 0);
}

/* Waits for the double to have counted n calls of key ("watch pods"). */
static void wait_calls(world *w, const char *key, int n)
{
    if (!kn_it_wait_calls(&w->d, key, n, WAIT_S)) {
        kn_it_dump_log(w->s.log);
        fail_msg("%d calls of %s, want %d", kn_dbl_calls(&w->d, key), key, n);
    }
}

/* node-b (8 cpu) appears: a-new0 (2 cpu) is bound there, once, never to
 * node-a, where b-big0 holds 3 of 4 cpu. */
static void a_new_goes_to_node_b(world *w)
{
    assert_int_equal(kn_dbl_add_node(&w->d, "node-b", "8", "32Gi"), 0);
    wait_bound(w, "a-new", 1);
    char *node = kn_dbl_pod_node(&w->d, NS, "a-new0");
    assert_non_null(node);
    if (strcmp(node, "node-b") != 0) {
        kn_it_dump_log(w->s.log);
        fail_msg("a-new0 (2 cpu) bound to %s, where b-big0 holds 3 of 4 cpu", node);
    }
    free(node);
    assert_int_equal(assert_bound_once(&w->d, "a-new", 1), 1);
}

/* A relist that breaks off must not be taken for the truth. node-a (4 cpu)
 * runs b-big (3 cpu); a-new (2 cpu) waits. The watches expire and the pod
 * list comes in pages of one: a-new, then 410 Expired on the continue token
 * (its snapshot compacted), and the list starts over. Had the scheduler
 * applied the broken list, b-big (never seen in it) would be gone from its
 * view and a-new bound to node-a: 5 cpu on a 4-cpu node. It must wait, and
 * go to node-b once node-b appears. */
static void broken_relist_does_not_overcommit(void **state)
{
    world *w = *state;
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "4", "16Gi"), 0);
    add_pods(&w->d, "b-big", 1, "3", false);
    assert_int_equal(kn_sched_proc_start(&w->s, &w->d, "s", NULL), 0);
    wait_bound(w, "b-big", 1);
    add_pods(&w->d, "a-new", 1, "2", false); /* listed before b-big: a-new0 < b-big0 */
    assert_true(kn_it_wait_event(&w->d, NS, "a-new0", "FailedScheduling", WAIT_S));

    int watches = kn_dbl_calls(&w->d, "watch pods");
    /* the pods' list: the namespaces' is paged too (four of them) and must not take the 410 */
    assert_int_equal(kn_dbl_faults(&w->d,
                                   "{\"page_max\":1,\"expire_continue_next\":1,\"expire_continue_resource\":"
                                   "\"pods\",\"expire_watches\":true}"),
                     0);
    /* the broken list, then a whole one, then a watch from it */
    wait_calls(w, "watch pods", watches + 1);
    assert_int_equal(fault_left(&w->d, "expire_continue_next"), 0); /* the 410 was served */
    assert_true(kn_dbl_calls(&w->d, "list pods") >= 4);             /* 2 of the broken list, 2 whole */
    assert_int_equal(kn_dbl_faults(&w->d, "{\"page_max\":0}"), 0);

    a_new_goes_to_node_b(w);
    assert_int_equal(assert_bound_once(&w->d, "b-big", 1), 1);
    assert_int_equal(kn_sched_proc_stop(&w->s, SIGTERM, 20), 0);
}

/* No placement while a relist is under way: the view then lacks what
 * changed since the watch broke. a-new (2 cpu) waits for a node. While the
 * scheduler is stopped its watches expire, node-a (4 cpu) appears and another
 * scheduler's b-big (3 cpu) runs there; the pod list is then held back while
 * the node list goes through. Placing on that view would put a-new on node-a
 * (b-big not yet seen): 5 cpu on a 4-cpu node. It must wait for the pod list,
 * then go to node-b once node-b appears. */
static void no_placement_during_relist(void **state)
{
    world *w = *state;
    add_pods(&w->d, "a-new", 1, "2", false);
    assert_int_equal(kn_sched_proc_start(&w->s, &w->d, "s", NULL), 0);
    assert_true(kn_it_wait_event(&w->d, NS, "a-new0", "FailedScheduling", WAIT_S)); /* no node */
    int node_watches = kn_dbl_calls(&w->d, "watch nodes"), pod_watches = kn_dbl_calls(&w->d, "watch pods");

    kill(w->s.pid, SIGSTOP); /* all of this happens while its watches are down */
    assert_int_equal(kn_dbl_faults(&w->d, "{\"hold_path\":\"/api/v1/pods\",\"expire_watches\":true}"), 0);
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "4", "16Gi"), 0);
    restore_pod(&w->d, "b-big0", "uid-b-big0", "node-a", "3");
    kill(w->s.pid, SIGCONT);

    /* node-a listed and watched again while the pod list waits */
    wait_calls(w, "watch nodes", node_watches + 1);
    assert_int_equal(kn_dbl_faults(&w->d, "{\"hold_path\":\"\"}"), 0);
    wait_calls(w, "watch pods", pod_watches + 1);

    a_new_goes_to_node_b(w);
    assert_int_equal(kn_sched_proc_stop(&w->s, SIGTERM, 20), 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    srand((unsigned)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(errors_500_for_a_while, kn_it_world_setup, kn_it_world_teardown),
        cmocka_unit_test_setup_teardown(slow_answers, kn_it_world_setup, kn_it_world_teardown),
        cmocka_unit_test_setup_teardown(apiserver_restarted, kn_it_world_setup, kn_it_world_teardown),
        cmocka_unit_test_setup_teardown(full_event_queue_drops_not_bindings, kn_it_world_setup,
                                        kn_it_world_teardown),
        cmocka_unit_test_setup_teardown(event_errors_retried, kn_it_world_setup, kn_it_world_teardown),
        cmocka_unit_test_setup_teardown(broken_relist_does_not_overcommit, kn_it_world_setup,
                                        kn_it_world_teardown),
        cmocka_unit_test_setup_teardown(no_placement_during_relist, kn_it_world_setup, kn_it_world_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
