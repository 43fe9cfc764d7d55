/* test_scheduler_constraints.c - the real kubenexus-scheduler against the
 * kube-apiserver test double, for the pod constraints kube-scheduler honours:
 * host ports (NodePorts), scoring preferences (preferred node affinity and
 * PreferNoSchedule taints), scheduling gates, and the fields it does not
 * implement (left pending with "unsupported: <field>" and a metric). Every
 * wait is a bounded poll on what the double records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver_double.h"
#include "sched_fixture.h"

#define NS "apps"
#define WAIT_S 30.0

typedef kn_it_world world;

/* A Ready node of 8 cpu and 32Gi with these label members and taints array members. */
static void node(world *w, const char *name, const char *labels, const char *taints)
{
    char body[2048];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\",\"labels\":"
             "{\"kubernetes.io/hostname\":\"%s\"%s%s}},\"spec\":{\"taints\":[%s]},"
             "\"status\":{\"allocatable\":{\"cpu\":\"8\",\"memory\":\"32Gi\",\"pods\":\"110\"},"
             "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\"}]}}",
             name, name, *labels ? "," : "", labels, taints);
    assert_int_equal(kn_dbl_call(&w->d, "POST", "/api/v1/nodes", body, NULL), 201);
}

/* A pod of ours: 500m cpu and 1Gi, these label members, container members
 * (e.g. ports) and spec members (each "" or starting with a comma). */
static const char *pod_body(char *body, size_t cap, const char *name, const char *labels, const char *container,
                            const char *spec)
{
    snprintf(
        body, cap,
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"" NS "\","
        "\"labels\":{%s}},\"spec\":{\"schedulerName\":\"kubenexus-scheduler\",\"containers\":[{\"name\":\"main\","
        "\"image\":\"nginx:1.27\",\"resources\":{\"requests\":{\"cpu\":\"500m\",\"memory\":\"1Gi\"}}%s}]%s}}",
        name, labels, container, spec);
    return body;
}

static void pod(world *w, const char *name, const char *labels, const char *container, const char *spec)
{
    char body[4096];
    assert_int_equal(kn_dbl_call(&w->d, "POST", "/api/v1/namespaces/" NS "/pods",
                                 pod_body(body, sizeof body, name, labels, container, spec), NULL),
                     201);
}

static void start(world *w)
{
    assert_int_equal(kn_sched_proc_start(&w->s, &w->d, "a", NULL), 0);
}

static char *node_of(world *w, const char *name)
{
    char *n = kn_dbl_pod_node(&w->d, NS, name);
    assert_non_null(n);
    return n;
}

/* Two pods asking for host port 8080 go to different nodes; a third finds no
 * node with the port free and says so in kube-scheduler's words. */
static void host_ports(void **state)
{
    world *w = *state;
    const char *port = ",\"ports\":[{\"containerPort\":80,\"hostPort\":8080}]";
    node(w, "node-a", "", "");
    node(w, "node-b", "", "");
    start(w);
    pod(w, "web-1", "", port, "");
    assert_true(kn_it_wait_pod_bound(&w->d, NS, "web-1", WAIT_S));
    pod(w, "web-2", "", port, "");
    assert_true(kn_it_wait_pod_bound(&w->d, NS, "web-2", WAIT_S));
    char *a = node_of(w, "web-1"), *b = node_of(w, "web-2");
    assert_string_not_equal(a, b);
    free(a);
    free(b);
    pod(w, "web-3", "", port, "");
    assert_true(kn_it_wait_event(&w->d, NS, "web-3", "FailedScheduling", WAIT_S));
    assert_int_equal(kn_dbl_events(&w->d, NS, "web-3", "FailedScheduling",
                                   "0/2 nodes are available: 2 node(s) didn't have free ports for the requested "
                                   "pod ports.",
                                   NULL),
                     1);
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "web-3"), 0);
    /* another protocol on the same port is free */
    pod(w, "dns", "", ",\"ports\":[{\"containerPort\":53,\"hostPort\":8080,\"protocol\":\"UDP\"}]", "");
    assert_true(kn_it_wait_pod_bound(&w->d, NS, "dns", WAIT_S));
}

/* Equal nodes would go to the first name; preferred node affinity and
 * PreferNoSchedule taints decide instead. */
static void scoring_preferences(void **state)
{
    world *w = *state;
    node(w, "a-spot", "", "{\"key\":\"spot\",\"value\":\"true\",\"effect\":\"PreferNoSchedule\"}");
    node(w, "b-plain", "", "");
    node(w, "z-ssd", "\"disk\":\"ssd\"", "");
    start(w);
    pod(w, "db", "", "",
        ",\"affinity\":{\"nodeAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":[{\"weight\":1,"
        "\"preference\":{\"matchExpressions\":[{\"key\":\"disk\",\"operator\":\"In\",\"values\":[\"ssd\"]}]}}]}}");
    assert_true(kn_it_wait_pod_bound(&w->d, NS, "db", WAIT_S));
    char *n = node_of(w, "db");
    assert_string_equal(n, "z-ssd");
    free(n);
    pod(w, "web", "", "", "");
    assert_true(kn_it_wait_pod_bound(&w->d, NS, "web", WAIT_S));
    n = node_of(w, "web");
    assert_string_equal(n, "b-plain"); /* a-spot is as empty, but tainted PreferNoSchedule */
    free(n);
    pod(w, "batch", "", "", ",\"tolerations\":[{\"key\":\"spot\",\"operator\":\"Exists\"}]");
    assert_true(kn_it_wait_pod_bound(&w->d, NS, "batch", WAIT_S));
    n = node_of(w, "batch");
    assert_string_equal(n, "a-spot"); /* tolerated: the emptiest node */
    free(n);
}

typedef struct metric_q {
    kn_sched_proc *p;
    const char *series;
    long want;
} metric_q;

static bool metric_is(void *ctx)
{
    metric_q *q = ctx;
    return kn_sched_proc_metric(q->p, q->series) == q->want;
}

/* A pod with a field the scheduler does not implement stays pending with the
 * field named and counted; its gang waits whole. A gated pod is not
 * attempted, says nothing, and is bound once its gates are removed. */
static void unsupported_fields_and_gates(void **state)
{
    world *w = *state;
    node(w, "node-a", "", "");
    start(w);
    const char *claim = ",\"resourceClaims\":[{\"name\":\"gpu\",\"resourceClaimTemplateName\":\"gpu\"}]";
    pod(w, "claim", "", "", claim);
    assert_true(kn_it_wait_event(&w->d, NS, "claim", "FailedScheduling", WAIT_S));
    assert_int_equal(
        kn_dbl_events(&w->d, NS, "claim", "FailedScheduling", "unsupported: spec.resourceClaims", NULL), 1);
    metric_q q = {&w->s, "kubenexus_scheduler_unsupported_pods_total{field=\"spec.resourceClaims\"}", 1};
    assert_true(kn_wait_for(WAIT_S, metric_is, &q));

    const char *gang = "\"pod-group.scheduling.kubenexus.io/name\":\"job\","
                       "\"pod-group.scheduling.kubenexus.io/min-available\":\"2\"";
    pod(w, "job-0", gang, "", "");
    pod(w, "job-1", gang, "", claim);
    assert_true(kn_it_wait_event(&w->d, NS, "job-0", "FailedScheduling", WAIT_S));
    assert_int_equal(kn_dbl_events(&w->d, NS, "job-0", "FailedScheduling",
                                   "Gang " NS "/job: member " NS "/job-1 is unsupported: spec.resourceClaims",
                                   NULL),
                     1);

    char body[4096];
    const char *gates = ",\"schedulingGates\":[{\"name\":\"example.com/quota\"}]";
    pod(w, "gated", "", "", gates);
    pod(w, "after", "", "", "");
    assert_true(kn_it_wait_pod_bound(&w->d, NS, "after", WAIT_S)); /* a cycle has seen the gated pod */
    assert_int_equal(kn_dbl_events(&w->d, NS, "gated", "FailedScheduling", NULL, NULL), 0);
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "gated"), 0);
    /* its controller removes the gate */
    assert_int_equal(kn_dbl_call(&w->d, "PUT", "/api/v1/namespaces/" NS "/pods/gated",
                                 pod_body(body, sizeof body, "gated", "", "", ""), NULL),
                     200);
    assert_true(kn_it_wait_pod_bound(&w->d, NS, "gated", WAIT_S));
    assert_int_equal(kn_dbl_count_bound(&w->d, NS, "job-"), 0);
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "claim"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(host_ports, kn_it_world_setup, kn_it_world_teardown),
        cmocka_unit_test_setup_teardown(scoring_preferences, kn_it_world_setup, kn_it_world_teardown),
        cmocka_unit_test_setup_teardown(unsupported_fields_and_gates, kn_it_world_setup, kn_it_world_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
