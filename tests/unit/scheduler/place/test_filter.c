/* Node filters as a kubectl-describe user sees them: which node a pod lands
 * on, and the FailedScheduling text when none fits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/sched_fixtures.h"

static void test_fit_message_is_kube_schedulers(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "node-a", "2", "8Gi");
    fx_node(s, "node-b", "2", "8Gi");
    fx_node(s, "node-c", "2", "8Gi");
    fx_node_full(s, "node-d", "16", "64Gi", "", "",
                 ",\"taints\":[{\"key\":\"dedicated\",\"value\":\"spark\","
                 "\"effect\":\"NoSchedule\"}]",
                 "", "True");
    fx_node_full(s, "node-e", "16", "64Gi", "", "",
                 ",\"taints\":[{\"key\":\"dedicated\",\"value\":\"spark\","
                 "\"effect\":\"NoSchedule\"}]",
                 "", "True");
    fx_pod(s, "big", "4", "1Gi");
    assert_int_equal(fx_cycle(s, 1, out), 0);
    /* "<count> <reason>" sorted as strings, as kube-scheduler's FitError */
    fx_expect_failed(out, "big",
                     "0/5 nodes are available: 2 node(s) had untolerated taint {dedicated: spark}, "
                     "3 Insufficient cpu.");
}

static void test_every_insufficient_resource_is_counted(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "node-a", "2", "4Gi");
    fx_pod_full(s, "gpu-job", "4", "8Gi", "", "", "", ",\"nvidia.com/gpu\":\"1\"", NULL, NULL);
    fx_cycle(s, 1, out);
    fx_expect_failed(out, "gpu-job",
                     "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, "
                     "1 Insufficient nvidia.com/gpu.");
}

static void test_extended_resources_and_pod_count(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "cpu-node", "32", "128Gi");
    fx_node_full(s, "gpu-node", "8", "32Gi", "", "", "", ",\"nvidia.com/gpu\":\"2\"", "True");
    fx_pod_full(s, "trainer", "1", "1Gi", "", "", "", ",\"nvidia.com/gpu\":\"2\"", NULL, NULL);
    fx_pod_full(s, "trainer-2", "1", "1Gi", "", "", "", ",\"nvidia.com/gpu\":\"1\"", NULL, NULL);
    fx_cycle(s, 1, out);
    assert_string_equal(fx_node_of(out, "trainer"), "gpu-node");
    fx_expect_failed(out, "trainer-2", "0/2 nodes are available: 2 Insufficient nvidia.com/gpu.");

    /* allocatable pods: 110 on each; a node reporting 1 is full with one pod */
    fx_sched *f2 = fx_sched_new(NULL);
    kn_scheduler *s2 = f2->s;
    kn_sched_out *out2 = &f2->out;
    kn_json *n = fx_parse("{\"kind\":\"Node\",\"metadata\":{\"name\":\"tiny\"},\"status\":{\"allocatable\":"
                          "{\"cpu\":\"8\",\"memory\":\"8Gi\",\"pods\":\"1\"}}}");
    assert_int_equal(kn_sched_apply_node(s2, n, false, NULL), 0);
    kn_json_free(n);
    fx_pod_full(s2, "other", "100m", "10Mi", "", "", "", "", "tiny", "default-scheduler");
    fx_pod(s2, "mine", "100m", "10Mi");
    fx_cycle(s2, 1, out2);
    fx_expect_failed(out2, "mine", "0/1 nodes are available: 1 Too many pods.");
    fx_sched_free(f2);
}

static void test_bound_pods_of_every_scheduler_count(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "node-a", "4", "16Gi");
    fx_pod_full(s, "web", "3", "1Gi", "", "", "", "", "node-a", "default-scheduler");
    fx_pod(s, "etl", "2", "1Gi");
    fx_cycle(s, 1, out);
    fx_expect_failed(out, "etl", "0/1 nodes are available: 1 Insufficient cpu.");
    /* a pending pod of another scheduler takes nothing */
    fx_pod_full(s, "other-pending", "4", "1Gi", "", "", "", "", NULL, "default-scheduler");
    fx_delete_pod(s, "web");
    fx_cycle(s, 2, out);
    assert_string_equal(fx_node_of(out, "etl"), "node-a");
}

static void test_never_overcommits_a_node(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "node-a", "4", "16Gi");
    fx_node(s, "node-b", "4", "16Gi");
    char name[32];
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "task-%d", i);
        fx_pod(s, name, "1", "1Gi");
    }
    assert_int_equal(fx_cycle(s, 1, out), 8);
    int on_a = 0, on_b = 0;
    for (size_t i = 0; i < out->n_bindings; i++)
        *(strcmp(out->bindings[i].node, "node-a") == 0 ? &on_a : &on_b) += 1;
    assert_int_equal(on_a, 4);
    assert_int_equal(on_b, 4);
    assert_int_equal(fx_cycle(s, 2, out), 0);
    kn_sched_stats st;
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.pods_pending, 2);
    assert_int_equal(st.cpu_milli_used, 8000);
}

static void test_cordoned_and_not_ready(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node_full(s, "cordoned", "8", "8Gi", "", "", ",\"unschedulable\":true", "", "True");
    fx_node_full(s, "down", "8", "8Gi", "", "", "", "", "False");
    fx_node_full(s, "unknown", "8", "8Gi", "", "", "", "", "Unknown");
    fx_pod(s, "p", "1", "1Gi");
    fx_cycle(s, 1, out);
    fx_expect_failed(out, "p", "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) were not ready.");
}

static void test_taints_and_tolerations(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node_full(s, "spark", "8", "8Gi", "", "",
                 ",\"taints\":[{\"key\":\"spark\",\"value\":\"true\","
                 "\"effect\":\"NoSchedule\"},{\"key\":\"batch\",\"effect\":\"PreferNoSchedule\"}]",
                 "", "True");
    fx_node_full(s, "evicting", "8", "8Gi", "", "",
                 ",\"taints\":[{\"key\":\"maintenance\","
                 "\"effect\":\"NoExecute\"}]",
                 "", "True");
    fx_pod(s, "plain", "1", "1Gi");
    fx_pod_full(s, "equal", "1", "1Gi", "", "",
                ",\"tolerations\":[{\"key\":\"spark\",\"operator\":\"Equal\","
                "\"value\":\"true\",\"effect\":\"NoSchedule\"}]",
                "", NULL, NULL);
    fx_pod_full(s, "wrong-value", "1", "1Gi", "", "", ",\"tolerations\":[{\"key\":\"spark\",\"value\":\"false\"}]",
                "", NULL, NULL);
    fx_pod_full(s, "exists-noexec", "1", "1Gi", "", "",
                ",\"tolerations\":[{\"key\":\"maintenance\","
                "\"operator\":\"Exists\",\"effect\":\"NoExecute\"}]",
                "", NULL, NULL);
    fx_pod_full(s, "tolerate-all", "1", "1Gi", "", "", ",\"tolerations\":[{\"operator\":\"Exists\"}]", "", NULL,
                NULL);
    fx_cycle(s, 1, out);
    fx_expect_failed(out, "plain",
                     "0/2 nodes are available: 1 node(s) had untolerated taint {maintenance: }, "
                     "1 node(s) had untolerated taint {spark: true}.");
    assert_string_equal(fx_node_of(out, "equal"), "spark"); /* PreferNoSchedule does not filter */
    assert_null(fx_node_of(out, "wrong-value"));
    assert_string_equal(fx_node_of(out, "exists-noexec"), "evicting");
    assert_non_null(fx_node_of(out, "tolerate-all"));
}

/* Places one pod with the given affinity on nodes a (zone=z1, gen=3),
 * b (zone=z2, gen=5, ssd) and c (no labels); returns the node or NULL. */
static char *place_with(const char *spec)
{
    fx_sched *f = fx_sched_new(NULL);
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node_full(s, "a", "8", "8Gi", "\"zone\":\"z1\",\"gen\":\"3\"", "", "", "", "True");
    fx_node_full(s, "b", "8", "8Gi", "\"zone\":\"z2\",\"gen\":\"5\",\"disk\":\"ssd\"", "", "", "", "True");
    fx_node_full(s, "c", "8", "8Gi", "", "", "", "", "True");
    fx_pod_full(s, "p", "1", "1Gi", "", "", spec, "", NULL, NULL);
    fx_cycle(s, 1, out);
    const char *n = fx_node_of(out, "p");
    char *r = n ? strdup(n) : NULL;
    if (n == NULL) {
        const kn_sched_event *e = fx_event(out, "p", "FailedScheduling");
        assert_non_null(e);
        assert_string_equal(e->message,
                            "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.");
    }
    fx_sched_free(f);
    return r;
}

static void expect_place(const char *expr, const char *want)
{
    char spec[1024];
    snprintf(spec, sizeof(spec),
             ",\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
             "{\"nodeSelectorTerms\":[%s]}}}",
             expr);
    char *got = place_with(spec);
    if (want == NULL) {
        if (got != NULL)
            fail_msg("%s: placed on %s, want unschedulable", expr, got);
    } else if (got == NULL || strcmp(got, want) != 0) {
        fail_msg("%s: placed on %s, want %s", expr, got ? got : "(none)", want);
    }
    free(got);
}

static void test_node_affinity_operators(void **state)
{
    (void)state;
    expect_place("{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"z2\",\"z9\"]}]}",
                 "b");
    expect_place("{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"z9\"]}]}", NULL);
    /* NotIn also matches nodes without the label */
    expect_place("{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"NotIn\",\"values\":[\"z1\",\"z2\"]}]}",
                 "c");
    expect_place("{\"matchExpressions\":[{\"key\":\"disk\",\"operator\":\"Exists\"}]}", "b");
    expect_place("{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"DoesNotExist\"}]}", "c");
    expect_place("{\"matchExpressions\":[{\"key\":\"gen\",\"operator\":\"Gt\",\"values\":[\"4\"]}]}", "b");
    expect_place("{\"matchExpressions\":[{\"key\":\"gen\",\"operator\":\"Lt\",\"values\":[\"4\"]}]}", "a");
    expect_place("{\"matchExpressions\":[{\"key\":\"gen\",\"operator\":\"Gt\",\"values\":[\"9\"]}]}", NULL);
    expect_place("{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":[\"c\"]}]}", "c");
    expect_place("{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"NotIn\",\"values\":[\"a\"]}],"
                 "\"matchExpressions\":[{\"key\":\"disk\",\"operator\":\"DoesNotExist\"}]}",
                 "c");
    /* a node field selector takes exactly one value (kube-apiserver rejects
     * more; kube-scheduler's selector fails to parse): such a term matches nothing */
    expect_place("{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":[\"b\",\"c\"]}]}",
                 NULL);
    expect_place("{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"NotIn\",\"values\":[\"a\",\"b\"]}]}",
                 NULL);
    /* expressions in a term are ANDed, terms are ORed, an empty term matches nothing */
    expect_place("{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"Exists\"},"
                 "{\"key\":\"disk\",\"operator\":\"DoesNotExist\"}]}",
                 "a");
    expect_place("{}", NULL);
    expect_place("{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"nope\"]}]},"
                 "{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":[\"a\"]}]}",
                 "a");
    char *got = place_with(",\"nodeSelector\":{\"disk\":\"ssd\"}");
    assert_string_equal(got, "b");
    free(got);
    got = place_with(",\"nodeSelector\":{\"disk\":\"nvme\"}");
    assert_null(got);
}

static void test_scheduled_event_after_bind(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "node-a", "4", "16Gi");
    fx_pod(s, "p", "1", "1Gi");
    assert_int_equal(fx_cycle(s, 1, out), 1);
    const kn_sched_event *e = fx_event(out, "p", "Scheduled");
    assert_non_null(e);
    assert_string_equal(e->type, "Normal");
    assert_string_equal(e->message, "Successfully assigned default/p to node-a");
}

static void test_bind_failure_requeues(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "node-a", "1", "16Gi");
    fx_pod(s, "p", "1", "1Gi");
    fx_pod(s, "q", "1", "1Gi");
    kn_err err;
    assert_int_equal(kn_sched_cycle(s, 1, out, &err), 1);
    assert_string_equal(out->bindings[0].name, "p");
    kn_sched_bind_failed(s, "uid-p", 500, "etcdserver: request timed out", 1, out);
    const kn_sched_event *e = fx_event(out, "p", "FailedScheduling");
    assert_non_null(e);
    assert_string_equal(e->message, "Binding rejected: etcdserver: request timed out");
    kn_sched_out_reset(out);
    /* the room came back: one of them gets it, never both */
    assert_int_equal(fx_cycle(s, 2, out), 1);
    assert_int_equal(fx_cycle(s, 3, out), 1 - 1);
}

/* Node status heartbeats change nothing the scheduler reads: an
 * unschedulable pod is not retried (nor re-reported) for each of them. */
static void test_heartbeats_do_not_retry(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "node-a", "2", "8Gi");
    fx_pod(s, "big", "4", "1Gi");
    fx_cycle(s, 1, out);
    kn_sched_stats before, after;
    kn_sched_get_stats(s, &before);
    fx_node(s, "node-a", "2", "8Gi");
    fx_cycle(s, 2, out);
    kn_sched_get_stats(s, &after);
    assert_int_equal(after.attempts, before.attempts);
    fx_node(s, "node-a", "4", "8Gi"); /* a resize is news */
    assert_int_equal(fx_cycle(s, 3, out), 1);
}

/* In a large cluster only a share of the feasible nodes is scored (as
 * kube-scheduler does), but a pod that fits one node still finds it. */
static void test_large_cluster_still_finds_the_one_node(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    char name[32];
    for (int i = 0; i < 400; i++) {
        snprintf(name, sizeof(name), "small-%03d", i);
        fx_node(s, name, "2", "8Gi");
    }
    fx_node(s, "big", "64", "256Gi");
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof(name), "p-%03d", i);
        fx_pod(s, name, "1", "1Gi");
    }
    fx_pod(s, "wide", "32", "1Gi");
    assert_int_equal(fx_cycle(s, 1, out), 201);
    assert_string_equal(fx_node_of(out, "wide"), "big");
    kn_sched_stats st;
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.cpu_milli_used, 232000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        fx_sched_test(test_fit_message_is_kube_schedulers),
        fx_sched_test(test_every_insufficient_resource_is_counted),
        fx_sched_test(test_extended_resources_and_pod_count),
        fx_sched_test(test_bound_pods_of_every_scheduler_count),
        fx_sched_test(test_never_overcommits_a_node),
        fx_sched_test(test_cordoned_and_not_ready),
        fx_sched_test(test_taints_and_tolerations),
        cmocka_unit_test(test_node_affinity_operators),
        fx_sched_test(test_scheduled_event_after_bind),
        fx_sched_test(test_bind_failure_requeues),
        fx_sched_test(test_heartbeats_do_not_retry),
        fx_sched_test(test_large_cluster_still_finds_the_one_node),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
