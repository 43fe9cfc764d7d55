/* Scoring preferences: preferred node affinity (NodeAffinity's score, weight
 * 2) and PreferNoSchedule taints (TaintToleration's, weight 3), normalized
 * over the feasible nodes as kube-scheduler normalizes them. First
 * kube-scheduler's own plugin tests (nodeaffinity/node_affinity_test.go
 * TestNodeAffinityPriority, tainttoleration/taint_toleration_test.go
 * TestTaintTolerationScore: raw scores per node, normalized), then what a
 * user sees: which node a pod lands on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scheduler/place/place.h"
#include "support/sched_fixtures.h"

/* ---- the plugins' own cases ---- */

static const char *const label1 = "\"foo\":\"bar\"";
static const char *const label2 = "\"key\":\"value\"";
static const char *const label3 = "\"az\":\"az1\"";
static const char *const label4 = "\"abc\":\"az11\",\"def\":\"az22\"";
static const char *const label5 = "\"foo\":\"bar\",\"key\":\"value\",\"az\":\"az1\"";

#define IN(k, v) "{\"key\":\"" k "\",\"operator\":\"In\",\"values\":[\"" v "\"]}"
static const char *const affinity1 =
    "\"affinity\":{\"nodeAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":["
    "{\"weight\":2,\"preference\":{\"matchExpressions\":[" IN("foo", "bar") "]}}]}}";
static const char *const affinity2 =
    "\"affinity\":{\"nodeAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":["
    "{\"weight\":2,\"preference\":{\"matchExpressions\":[" IN(
        "foo", "bar") "]}},"
                      "{\"weight\":4,\"preference\":{\"matchExpressions\":[" IN(
                          "key", "value") "]}},"
                                          "{\"weight\":5,\"preference\":{\"matchExpressions\":[" IN(
                                              "foo", "bar") "," IN("key", "value") "," IN("az", "az1") "]}}]}}";

/* A cluster of nodes named node<i> with these labels (object members) and
 * taints (array members). */
static void nodes(kn_cluster *c, int n, const char *const *labels, const char *const *taints)
{
    assert_int_equal(kn_cluster_init(c, NULL, NULL), 0);
    for (int i = 0; i < n; i++) {
        kn_json *j = fx_parse("{\"metadata\":{\"name\":\"node%d\",\"labels\":{%s}},\"spec\":{\"taints\":[%s]},"
                              "\"status\":{\"allocatable\":{\"cpu\":\"4\",\"memory\":\"8Gi\",\"pods\":\"10\"}}}",
                              i + 1, labels ? labels[i] : "", taints ? taints[i] : "");
        kn_err err = {{0}};
        if (kn_cluster_apply_node(c, j, false, &err) != 0)
            fail_msg("%s", err.msg);
        kn_json_free(j);
    }
}

/* The pod's constraints from its spec members. */
static void constraints(const char *spec, kn_constraints *out)
{
    kn_json *j = fx_parse("{\"spec\":{\"containers\":[]%s%s}}", *spec ? "," : "", spec);
    kn_pod p;
    kn_err err = {{0}};
    if (kn_pod_from_json(j, &p, &err) != 0)
        fail_msg("%s", err.msg);
    kn_constraints_take(out, &p);
    kn_pod_free(&p);
    kn_json_free(j);
}

/* Every node's normalized score for one plugin: affinity (false) or taints (true). */
static void normalized(const char *spec, int n, const char *const *labels, const char *const *taints,
                       bool of_taints, const int64_t *want)
{
    kn_cluster c;
    kn_constraints cons;
    nodes(&c, n, labels, taints);
    constraints(spec, &cons);
    kn_prefs pr[8], max = {0, 0};
    for (int i = 0; i < n; i++) {
        kn_prefs_of_node(&c.nodes[i], &cons, &pr[i]);
        max.affinity = pr[i].affinity > max.affinity ? pr[i].affinity : max.affinity;
        max.taints = pr[i].taints > max.taints ? pr[i].taints : max.taints;
    }
    for (int i = 0; i < n; i++) {
        int64_t got = of_taints ? kn_normalize_score(pr[i].taints, max.taints, true)
                                : kn_normalize_score(pr[i].affinity, max.affinity, false);
        if (got != want[i])
            fail_msg("%s: node%d scores %lld, want %lld", spec, i + 1, (long long)got, (long long)want[i]);
    }
    kn_constraints_free(&cons);
    kn_cluster_free(&c);
}

static void test_node_affinity_priority(void **state)
{
    (void)state;
    /* all nodes are same priority as NodeAffinity is nil */
    normalized("", 3, (const char *const[]){label1, label2, label3}, NULL, false, (const int64_t[]){0, 0, 0});
    /* no node matches preferred scheduling requirements in NodeAffinity of pod so all nodes' priority is zero */
    normalized(affinity1, 3, (const char *const[]){label4, label2, label3}, NULL, false,
               (const int64_t[]){0, 0, 0});
    /* only node1 matches the preferred scheduling requirements of pod */
    normalized(affinity1, 3, (const char *const[]){label1, label2, label3}, NULL, false,
               (const int64_t[]){100, 0, 0});
    /* all nodes matches the preferred scheduling requirements of pod but with different priorities:
     * 2, 11 and 4 of 11, by integer division */
    normalized(affinity2, 3, (const char *const[]){label1, label5, label2}, NULL, false,
               (const int64_t[]){18, 100, 36});
}

#define PNS(k, v) "{\"key\":\"" k "\",\"value\":\"" v "\",\"effect\":\"PreferNoSchedule\"}"
#define TOL(k, v, e) "{\"key\":\"" k "\",\"operator\":\"Equal\",\"value\":\"" v "\",\"effect\":\"" e "\"}"

static void test_taint_toleration_score(void **state)
{
    (void)state;
    /* node with taints tolerated by the pod, gets a higher score than those node with intolerable taints */
    normalized("\"tolerations\":[" TOL("foo", "bar", "PreferNoSchedule") "]", 2, NULL,
               (const char *const[]){PNS("foo", "bar"), PNS("foo", "blah")}, true, (const int64_t[]){100, 0});
    /* the nodes that all of their taints are tolerated by the pod, get the same score, no matter how many
     * tolerable taints a node has */
    normalized(
        "\"tolerations\":[" TOL("cpu-type", "arm64", "PreferNoSchedule") "," TOL("disk-type", "ssd",
                                                                                 "PreferNoSchedule") "]",
        3, NULL,
        (const char *const[]){"", PNS("cpu-type", "arm64"), PNS("cpu-type", "arm64") "," PNS("disk-type", "ssd")},
        true, (const int64_t[]){100, 100, 100});
    /* the more intolerable taints a node has, the lower score it gets */
    normalized(
        "\"tolerations\":[" TOL("foo", "bar", "PreferNoSchedule") "]", 3, NULL,
        (const char *const[]){"", PNS("cpu-type", "arm64"), PNS("cpu-type", "arm64") "," PNS("disk-type", "ssd")},
        true, (const int64_t[]){100, 50, 0});
    /* only taints and tolerations that have effect PreferNoSchedule are checked by taints-tolerations priority */
    normalized(
        "\"tolerations\":[" TOL("cpu-type", "arm64", "NoSchedule") "," TOL("disk-type", "ssd", "NoSchedule") "]",
        3, NULL,
        (const char *const[]){"", "{\"key\":\"cpu-type\",\"value\":\"arm64\",\"effect\":\"NoSchedule\"}",
                              PNS("cpu-type", "arm64") "," PNS("disk-type", "ssd")},
        true, (const int64_t[]){100, 100, 0});
    /* Default behaviour No taints and tolerations, lands on node with no taints */
    normalized("", 2, NULL, (const char *const[]){"", PNS("cpu-type", "arm64")}, true, (const int64_t[]){100, 0});
}

/* ---- what a user sees ---- */

/* A spreading pod of 2 cpu and 1Gi with these spec members. */
static void pod(kn_scheduler *s, const char *name, const char *spec)
{
    char buf[2048];
    snprintf(buf, sizeof(buf), ",%s", spec);
    fx_pod_full(s, name, "2", "1Gi", "", "", buf, "", NULL, NULL);
}

/* Normalized, a weight of 1 is worth 2 x 100 points: more than any
 * difference in room (kube-scheduler's NodeResourcesFit counts once). */
static void test_a_preferred_node_wins_over_an_emptier_one(void **state)
{
    fx_sched *f = *state;
    fx_node_full(f->s, "busy", "8", "32Gi", "\"disk\":\"ssd\"", "", "", "", "True");
    fx_node(f->s, "idle", "8", "32Gi");
    fx_pod_full(f->s, "load", "5", "28Gi", "", "", "", "", "busy", "default-scheduler");
    pod(f->s, "db",
        "\"affinity\":{\"nodeAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":["
        "{\"weight\":1,\"preference\":{\"matchExpressions\":[" IN("disk", "ssd") "]}}]}}");
    pod(f->s, "plain", "\"affinity\":{\"nodeAffinity\":{}}");
    fx_cycle(f->s, 1, &f->out);
    assert_string_equal(fx_node_of(&f->out, "db"), "busy");
    assert_string_equal(fx_node_of(&f->out, "plain"), "idle");
}

/* The largest sum is taken over the nodes the pod fits: node5 matches every
 * term (11) but is too small, so node1 (2) and node2 (4) score 50 and 100,
 * not 18 and 36, and node2 wins though node1 has far more room. */
static void test_normalized_over_feasible_nodes_only(void **state)
{
    fx_sched *f = *state;
    fx_node_full(f->s, "node1", "8", "32Gi", label1, "", "", "", "True");
    fx_node_full(f->s, "node2", "8", "32Gi", label2, "", "", "", "True");
    fx_node_full(f->s, "node5", "1", "32Gi", label5, "", "", "", "True");
    fx_pod_full(f->s, "load", "5", "28Gi", "", "", "", "", "node2", "default-scheduler");
    pod(f->s, "web", affinity2);
    fx_cycle(f->s, 1, &f->out);
    assert_string_equal(fx_node_of(&f->out, "web"), "node2");
}

/* PreferNoSchedule keeps pods that do not tolerate it away while another
 * node fits; a pod tolerating it chooses by room. */
static void test_prefer_no_schedule(void **state)
{
    fx_sched *f = *state;
    fx_node_full(f->s, "spot", "8", "32Gi", "", "", ",\"taints\":[" PNS("spot", "true") "]", "", "True");
    fx_node(f->s, "steady", "8", "32Gi");
    fx_pod_full(f->s, "load", "5", "28Gi", "", "", "", "", "steady", "default-scheduler");
    pod(f->s, "web", "\"tolerations\":[" TOL("other", "x", "PreferNoSchedule") "]");
    pod(f->s, "batch", "\"tolerations\":[{\"key\":\"spot\",\"operator\":\"Exists\"}]");
    fx_cycle(f->s, 1, &f->out);
    assert_string_equal(fx_node_of(&f->out, "web"), "steady");
    assert_string_equal(fx_node_of(&f->out, "batch"), "spot");

    /* and only while another node fits: it is a preference, never a filter */
    fx_pod_full(f->s, "big", "2", "2Gi", "", "", "", "", NULL, NULL);
    fx_cycle(f->s, 2, &f->out);
    assert_string_equal(fx_node_of(&f->out, "big"), "spot");
}

/* The scarce-resource penalty outranks any preference: a CPU-only pod that
 * prefers the GPU node's labels still goes to the CPU node that fits. */
static void test_gpu_avoidance_outranks_preferences(void **state)
{
    fx_sched *f = *state;
    fx_node_full(f->s, "gpu", "32", "128Gi", "\"disk\":\"ssd\"", "", "", ",\"nvidia.com/gpu\":\"4\"", "True");
    fx_node_full(f->s, "cpu", "8", "32Gi", "", "", ",\"taints\":[" PNS("old", "true") "]", "", "True");
    pod(f->s, "etl",
        "\"affinity\":{\"nodeAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":["
        "{\"weight\":100,\"preference\":{\"matchExpressions\":[" IN("disk", "ssd") "]}}]}}");
    fx_cycle(f->s, 1, &f->out);
    assert_string_equal(fx_node_of(&f->out, "etl"), "cpu");
}

/* With an explicit percentageOfNodesToScore the scan samples (half of 200
 * nodes: 100, the next scan starting where the last one stopped), and the
 * preferences are normalized over the nodes each scan found, as
 * kube-scheduler's: the preferred node of each sample wins. */
static void test_sampled_scan_keeps_preferences(void **state)
{
    (void)state;
    kn_sched_config cfg = {.percentage_of_nodes_to_score = 50};
    fx_sched *f = fx_sched_new(&cfg);
    for (int i = 0; i < 200; i++) {
        char name[16];
        snprintf(name, sizeof(name), "n%03d", i);
        fx_node_full(f->s, name, "8", "32Gi", i == 3 || i == 150 ? "\"disk\":\"ssd\"" : "", "", "", "", "True");
    }
    const char *prefers = "\"affinity\":{\"nodeAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":["
                          "{\"weight\":1,\"preference\":{\"matchExpressions\":[" IN("disk", "ssd") "]}}]}}";
    pod(f->s, "db-0", prefers);
    fx_cycle(f->s, 1, &f->out);
    pod(f->s, "db-1", prefers);
    fx_cycle(f->s, 2, &f->out);
    assert_string_equal(fx_node_of(&f->out, "db-0"), "n003");
    assert_string_equal(fx_node_of(&f->out, "db-1"), "n150");
    fx_sched_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node_affinity_priority),
        cmocka_unit_test(test_taint_toleration_score),
        fx_sched_test(test_a_preferred_node_wins_over_an_emptier_one),
        fx_sched_test(test_normalized_over_feasible_nodes_only),
        fx_sched_test(test_prefer_no_schedule),
        fx_sched_test(test_gpu_avoidance_outranks_preferences),
        cmocka_unit_test(test_sampled_scan_keeps_preferences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
