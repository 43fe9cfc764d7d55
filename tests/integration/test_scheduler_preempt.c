/* test_scheduler_preempt.c - preemption by the real kubenexus-scheduler
 * against the kube-apiserver test double: what reaches the API server and in
 * which order (the victim's DisruptionTarget condition, then its graceful
 * deletion with its grace period and a uid precondition, then its Preempted
 * event; the preemptor's status.nominatedNodeName), PodDisruptionBudgets
 * read by list+watch, a gang evicted whole, and failed writes. Every wait is
 * a bounded poll on what the double records; nothing asserts timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apiserver_double.h"
#include "sched_fixture.h"

#define NS "batch"
#define WAIT_S 30.0

typedef kn_it_world world;

/* The scheduler must stop cleanly (a crash or a sanitizer report fails the
 * test), then the shared teardown. */
static int teardown(void **state)
{
    world *w = *state;
    int rc = kn_sched_proc_stop(&w->s, SIGTERM, 20);
    if (rc > 0)
        kn_it_dump_log(w->s.log);
    kn_it_world_teardown(state);
    return rc > 0 ? -1 : 0;
}

static void priority_class(world *w, const char *name, int value)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"scheduling.k8s.io/v1\",\"kind\":\"PriorityClass\","
             "\"metadata\":{\"name\":\"%s\"},\"value\":%d}",
             name, value);
    assert_int_equal(kn_dbl_call(&w->d, "POST", "/apis/scheduling.k8s.io/v1/priorityclasses", body, NULL), 201);
}

/* A pod of class cls; node: already running there (NULL: for the scheduler). */
static void pod(world *w, const char *name, const char *cpu, const char *cls, const char *labels, const char *node)
{
    char body[2048], nodefield[128] = "", path[128];
    if (node)
        snprintf(nodefield, sizeof nodefield, "\"nodeName\":\"%s\",", node);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"labels\":{%s}},"
             "\"spec\":{%s\"schedulerName\":\"kubenexus-scheduler\",\"priorityClassName\":\"%s\","
             "\"terminationGracePeriodSeconds\":7,\"containers\":[{\"name\":\"main\",\"image\":\"busybox\","
             "\"resources\":{\"requests\":{\"cpu\":\"%s\",\"memory\":\"1Gi\"}}}]}}",
             name, labels ? labels : "", nodefield, cls, cpu);
    snprintf(path, sizeof path, "/api/v1/namespaces/" NS "/pods");
    assert_int_equal(kn_dbl_call(&w->d, "POST", path, body, NULL), 201);
}

static kn_json *get_pod(world *w, const char *name)
{
    char path[128];
    kn_json *p = NULL;
    snprintf(path, sizeof path, "/api/v1/namespaces/" NS "/pods/%s", name);
    if (kn_dbl_call(&w->d, "GET", path, NULL, &p) != 200) {
        kn_json_free(p);
        return NULL;
    }
    return p;
}

typedef struct q {
    world *w;
    const char *name;
} q;

static bool terminating(void *ctx)
{
    q *x = ctx;
    kn_json *p = get_pod(x->w, x->name);
    bool t = kn_json_str(kn_json_dig(p, "metadata", "deletionTimestamp", NULL)) != NULL;
    kn_json_free(p);
    return t;
}

static bool gone(void *ctx)
{
    q *x = ctx;
    kn_json *p = get_pod(x->w, x->name);
    kn_json_free(p);
    return p == NULL;
}

static bool nominated(void *ctx)
{
    q *x = ctx;
    kn_json *p = get_pod(x->w, x->name);
    bool n = kn_json_str(kn_json_dig(p, "status", "nominatedNodeName", NULL)) != NULL;
    kn_json_free(p);
    return n;
}

static const kn_json *condition(const kn_json *pod, const char *type)
{
    const kn_json *conds = kn_json_dig(pod, "status", "conditions", NULL);
    for (size_t i = 0; i < kn_json_len(conds); i++)
        if (strcmp(kn_json_get_str(kn_json_at(conds, i), "type") ?: "", type) == 0)
            return kn_json_at(conds, i);
    return NULL;
}

/* The victim's writes in kube-scheduler's order, the preemptor nominated and
 * then bound where the victim was. */
static void victim_condition_graceful_delete_event_then_bind(void **state)
{
    world *w = *state;
    priority_class(w, "low", 100);
    priority_class(w, "high", 1000);
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "4", "16Gi"), 0);
    /* the victim's kubelet takes a while to stop it: the terminating state can be looked at */
    assert_int_equal(kn_dbl_faults(&w->d, "{\"pod_stop_s\":3}"), 0);
    assert_int_equal(kn_sched_proc_start(&w->s, &w->d, "a", NULL), 0);
    pod(w, "low", "4", "low", NULL, NULL);
    assert_true(kn_it_wait_pod_bound(&w->d, NS, "low", WAIT_S));
    pod(w, "high", "2", "high", NULL, NULL);
    q low = {w, "low"}, high = {w, "high"};
    assert_true(kn_wait_for(WAIT_S, terminating, &low));
    kn_json *v = get_pod(w, "low");
    /* deleted with the pod's own grace period, its condition written first */
    int64_t grace = -1;
    assert_int_equal(kn_json_int(kn_json_dig(v, "metadata", "deletionGracePeriodSeconds", NULL), &grace), 0);
    assert_int_equal(grace, 7);
    const kn_json *c = condition(v, "DisruptionTarget");
    assert_non_null(c);
    assert_string_equal(kn_json_get_str(c, "status"), "True");
    assert_string_equal(kn_json_get_str(c, "reason"), "PreemptionByScheduler");
    assert_string_equal(kn_json_get_str(c, "message"),
                        "kubenexus-scheduler: preempting to accommodate a higher priority pod");
    assert_non_null(kn_json_get_str(c, "lastTransitionTime"));
    assert_non_null(condition(v, "PodScheduled")); /* merged by type, not replaced */
    kn_json_free(v);
    assert_true(kn_wait_for(WAIT_S, nominated, &high));
    kn_json *h = get_pod(w, "high");
    assert_string_equal(kn_json_str(kn_json_dig(h, "status", "nominatedNodeName", NULL)), "node-a");
    assert_null(kn_json_str(kn_json_dig(h, "spec", "nodeName", NULL))); /* not before the victim is gone */
    char msg[160];
    snprintf(msg, sizeof msg, "Preempted by pod %s on node node-a",
             kn_json_str(kn_json_dig(h, "metadata", "uid", NULL)));
    kn_json_free(h);
    assert_true(kn_it_wait_event(&w->d, NS, "low", "Preempted", WAIT_S));
    assert_int_equal(kn_dbl_events(&w->d, NS, "low", "Preempted", msg, NULL), 1);
    assert_true(kn_wait_for(WAIT_S, gone, &low));
    assert_true(kn_it_wait_pod_bound(&w->d, NS, "high", WAIT_S));
    char *node = kn_dbl_pod_node(&w->d, NS, "high");
    assert_string_equal(node, "node-a");
    free(node);
    /* the binding cleared the nomination (kube-apiserver 1.35) */
    h = get_pod(w, "high");
    assert_null(kn_json_get(kn_json_get(h, "status"), "nominatedNodeName"));
    kn_json_free(h);
    assert_int_equal(kn_dbl_calls(&w->d, "delete pods"), 1);
    assert_true(kn_sched_proc_metric(&w->s, "kubenexus_scheduler_preemption_victims_total") == 1);
    assert_true(
        kn_sched_proc_metric(&w->s, "kubenexus_scheduler_preemption_attempts_total{result=\"nominated\"}") == 1);
}

static void pdb(world *w, const char *name, const char *app, int allowed)
{
    char body[512], path[256];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"policy/v1\",\"kind\":\"PodDisruptionBudget\",\"metadata\":"
             "{\"name\":\"%s\"},\"spec\":{\"minAvailable\":1,\"selector\":{\"matchLabels\":"
             "{\"app\":\"%s\"}}}}",
             name, app);
    assert_int_equal(
        kn_dbl_call(&w->d, "POST", "/apis/policy/v1/namespaces/" NS "/poddisruptionbudgets", body, NULL), 201);
    /* the disruption controller's part: status through the status subresource */
    kn_json *b = NULL;
    snprintf(path, sizeof path, "/apis/policy/v1/namespaces/" NS "/poddisruptionbudgets/%s", name);
    assert_int_equal(kn_dbl_call(&w->d, "GET", path, NULL, &b), 200);
    kn_json *st = kn_json_new_object();
    kn_json_set(st, "disruptionsAllowed", kn_json_new_int(allowed));
    kn_json_set(b, "status", st);
    char *text = kn_json_dump(b, NULL);
    strcat(path, "/status");
    assert_int_equal(kn_dbl_call(&w->d, "PUT", path, text, NULL), 200);
    free(text);
    kn_json_free(b);
}

/* A budget with no disruption left steers the choice to another node. */
static void budget_protected_pod_is_spared(void **state)
{
    world *w = *state;
    priority_class(w, "low", 100);
    priority_class(w, "high", 1000);
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "2", "16Gi"), 0);
    assert_int_equal(kn_dbl_add_node(&w->d, "node-b", "2", "16Gi"), 0);
    pdb(w, "db", "db", 0);
    pod(w, "db-0", "2", "low", "\"app\":\"db\"", "node-a");
    /* of higher priority than db-0: kube-scheduler would take db-0 without the budget */
    priority_class(w, "mid", 500);
    pod(w, "cache-0", "2", "mid", "\"app\":\"cache\"", "node-b");
    assert_int_equal(kn_sched_proc_start(&w->s, &w->d, "a", NULL), 0);
    pod(w, "high", "2", "high", NULL, NULL);
    assert_true(kn_it_wait_pod_bound(&w->d, NS, "high", WAIT_S));
    char *node = kn_dbl_pod_node(&w->d, NS, "high");
    assert_string_equal(node, "node-b");
    free(node);
    q db = {w, "db-0"};
    assert_false(gone(&db));
    assert_true(kn_dbl_calls(&w->d, "watch poddisruptionbudgets") >= 1);
}

/* A member of a running gang takes its whole gang along. */
static void gang_goes_whole(void **state)
{
    world *w = *state;
    priority_class(w, "low", 100);
    priority_class(w, "high", 1000);
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "2", "16Gi"), 0);
    assert_int_equal(kn_dbl_add_node(&w->d, "node-b", "2", "16Gi"), 0);
    char lab[256];
    kn_it_gang_labels(lab, sizeof lab, "etl", 2);
    lab[strlen(lab) - 1] = '\0'; /* members only, no braces */
    pod(w, "etl-0", "2", "low", lab + 1, "node-a");
    pod(w, "etl-1", "2", "low", lab + 1, "node-b");
    assert_int_equal(kn_sched_proc_start(&w->s, &w->d, "a", NULL), 0);
    pod(w, "high", "2", "high", NULL, NULL);
    assert_true(kn_it_wait_pod_bound(&w->d, NS, "high", WAIT_S));
    q e0 = {w, "etl-0"}, e1 = {w, "etl-1"};
    assert_true(kn_wait_for(WAIT_S, gone, &e0));
    assert_true(kn_wait_for(WAIT_S, gone, &e1)); /* not left with one of its two members */
    assert_true(kn_it_wait_event(&w->d, NS, "etl-1", "Preempted", WAIT_S));
}

/* A refused write gives the room back and the preemptor tries again; a
 * transient one is retried. */
static void failed_writes(void **state)
{
    world *w = *state;
    priority_class(w, "low", 100);
    priority_class(w, "high", 1000);
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "2", "16Gi"), 0);
    pod(w, "low", "2", "low", NULL, "node-a");
    assert_int_equal(kn_dbl_faults(&w->d, "{\"fail_next\":1,\"status\":403,\"fail_path\":\"/pods/low\"}"), 0);
    assert_int_equal(kn_sched_proc_start(&w->s, &w->d, "a", NULL), 0);
    pod(w, "high", "2", "high", NULL, NULL);
    assert_true(kn_it_wait_event(&w->d, NS, "high", "FailedScheduling", WAIT_S));
    assert_true(kn_it_wait_pod_bound(&w->d, NS, "high", WAIT_S));
    assert_int_equal(
        kn_dbl_events(&w->d, NS, "high", "FailedScheduling", "Preemption failed: injected fault", NULL), 1);

    pod(w, "low-2", "2", "low", NULL, "node-a"); /* over-committed: another bound elsewhere */
    assert_int_equal(kn_dbl_add_node(&w->d, "node-b", "2", "16Gi"), 0);
    pod(w, "low-3", "2", "low", NULL, "node-b");
    assert_int_equal(kn_dbl_faults(&w->d, "{\"fail_next\":2,\"status\":503,\"fail_path\":\"/pods/low-3\"}"), 0);
    pod(w, "high-2", "2", "high", NULL, NULL);
    assert_true(kn_it_wait_pod_bound(&w->d, NS, "high-2", WAIT_S));
    assert_int_equal(kn_dbl_events(&w->d, NS, "high-2", "FailedScheduling", "Preemption failed", NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(victim_condition_graceful_delete_event_then_bind, kn_it_world_setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(budget_protected_pod_is_spared, kn_it_world_setup, teardown),
        cmocka_unit_test_setup_teardown(gang_goes_whole, kn_it_world_setup, teardown),
        cmocka_unit_test_setup_teardown(failed_writes, kn_it_world_setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
