/* test_topology_spread.c - PodTopologySpread (scheduler/place/topology_spread.c)
 * as kube-scheduler decides it: which nodes DoNotSchedule constraints leave a
 * pod, with kube-scheduler's reasons (maxSkew, minDomains, missing labels,
 * node inclusion policies, terminating pods, namespaces, matchLabelKeys), and
 * the normalized ScheduleAnyway scores, the system defaults included.
 *
 * Cases are kube-scheduler's own (pkg/scheduler/framework/plugins/
 * podtopologyspread/filtering_test.go and scoring_test.go, v1.33), the case
 * named above each: the same pods, nodes and labels, the same outcome. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/place_probe.h"
#include "support/sched_fixtures.h"

#define SPREAD "node(s) didn't match pod topology spread constraints"
#define SPREAD_LABEL "node(s) didn't match pod topology spread constraints (missing required label)"
#define FOO_EXISTS "{\"matchExpressions\":[{\"key\":\"foo\",\"operator\":\"Exists\"}]}"

/* ---- building ---- */

/* A Node with exactly these labels (no hostname label added). */
static void raw_node(kn_scheduler *s, const char *name, const char *labels, const char *spec)
{
    kn_json *n = fx_parse("{\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\",\"labels\":{%s}},\"spec\":{%s},"
                          "\"status\":{\"allocatable\":{\"cpu\":\"8\",\"memory\":\"32Gi\",\"pods\":\"110\"},"
                          "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
                          name, labels, spec);
    kn_err err = {{0}};
    if (kn_sched_apply_node(s, n, false, &err) != 0)
        fail_msg("%s", err.msg);
    kn_json_free(n);
}

/* Four nodes in two zones, labelled zone and node as the upstream cases are. */
static void four_nodes(kn_scheduler *s)
{
    raw_node(s, "node-a", "\"zone\":\"zone1\",\"node\":\"node-a\"", "");
    raw_node(s, "node-b", "\"zone\":\"zone1\",\"node\":\"node-b\"", "");
    raw_node(s, "node-x", "\"zone\":\"zone2\",\"node\":\"node-x\"", "");
    raw_node(s, "node-y", "\"zone\":\"zone2\",\"node\":\"node-y\"", "");
}

static int pod_seq;
static const char *const xy4[] = {"node-a", "node-b", "node-x", "node-y"};
static const char *const abcd[] = {"node-a", "node-b", "node-c", "node-d"};

/* n bound pods labelled foo on node (in namespace default). */
static void foo_pods(kn_scheduler *s, const char *node, int n)
{
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof(name), "p-%s-%d", node, pod_seq++);
        fx_pod_in(s, "default", name, "\"foo\":\"\"", "", node);
    }
}

/* spec members with one constraint (extra: more constraint members, or ""). */
static char *constraint(int skew, const char *key, const char *when, const char *sel, const char *extra)
{
    static char bufs[4][1024];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, 1024,
             ",\"topologySpreadConstraints\":[{\"maxSkew\":%d,\"topologyKey\":\"%s\",\"whenUnsatisfiable\":\"%s\""
             "%s%s%s}]",
             skew, key, when, sel ? ",\"labelSelector\":" : "", sel ? sel : "", extra);
    return b;
}

/* The verdicts on node-a, node-b, node-x, node-y, in that order. */
static void expect4(kn_scheduler *s, const char *pod, const char *a, const char *b, const char *x, const char *y)
{
    assert_string_equal(fx_verdict(s, pod, "node-a"), a);
    assert_string_equal(fx_verdict(s, pod, "node-b"), b);
    assert_string_equal(fx_verdict(s, pod, "node-x"), x);
    assert_string_equal(fx_verdict(s, pod, "node-y"), y);
}

static void expect_scores(kn_scheduler *s, const char *pod, const char *const *nodes, int n, const int64_t *want)
{
    fx_expect_scores(s, pod, nodes, n, true, want);
}

/* Bound foo pods: counts[i] on nodes[i]. */
static void spread_pods(kn_scheduler *s, const char *const *nodes, const int *counts, int n)
{
    for (int i = 0; i < n; i++)
        foo_pods(s, nodes[i], counts[i]);
}

/* ---- Filter (TestSingleConstraint, TestMultipleConstraints) ---- */

/* "no existing pods", and "... incoming pod doesn't match itself" */
static void test_empty_cluster_fits_everywhere(void **state)
{
    fx_sched *f = *state;
    four_nodes(f->s);
    fx_pod_in(f->s, "default", "p", "\"foo\":\"\"", constraint(1, "zone", "DoNotSchedule", FOO_EXISTS, ""), NULL);
    fx_pod_in(f->s, "default", "q", "\"foo\":\"\"",
              constraint(1, "zone", "DoNotSchedule",
                         "{\"matchExpressions\":[{\"key\":\"bar\",\"operator\":\"Exists\"}]}", ""),
              NULL);
    expect4(f->s, "p", "", "", "", "");
    expect4(f->s, "q", "", "", "", "");
}

/* "existing pods in a different namespace do not count" */
static void test_other_namespaces_do_not_count(void **state)
{
    fx_sched *f = *state;
    four_nodes(f->s);
    fx_pod_in(f->s, "ns1", "p-a1", "\"foo\":\"\"", "", "node-a");
    fx_pod_in(f->s, "ns2", "p-b1", "\"foo\":\"\"", "", "node-a");
    foo_pods(f->s, "node-x", 1);
    foo_pods(f->s, "node-y", 1);
    fx_pod_in(f->s, "default", "p", "\"foo\":\"\"", constraint(1, "zone", "DoNotSchedule", FOO_EXISTS, ""), NULL);
    expect4(f->s, "p", "", "", SPREAD, SPREAD);
}

/* "pods spread across zones as 3/3, all nodes fit" */
static void test_even_zones_fit_everywhere(void **state)
{
    fx_sched *f = *state;
    four_nodes(f->s);
    spread_pods(f->s, xy4, (const int[]){2, 1, 0, 3}, 4);
    fx_pod_in(f->s, "default", "p", "\"foo\":\"\"", constraint(1, "zone", "DoNotSchedule", FOO_EXISTS, ""), NULL);
    expect4(f->s, "p", "", "", "", "");
}

/* "pods spread across zones as 1/2 due to absence of label 'zone' on node-b" */
static void test_a_node_without_the_key_fails_and_does_not_count(void **state)
{
    fx_sched *f = *state;
    raw_node(f->s, "node-a", "\"zone\":\"zone1\",\"node\":\"node-a\"", "");
    raw_node(f->s, "node-b", "\"zon\":\"zone1\",\"node\":\"node-b\"", "");
    raw_node(f->s, "node-x", "\"zone\":\"zone2\",\"node\":\"node-x\"", "");
    raw_node(f->s, "node-y", "\"zone\":\"zone2\",\"node\":\"node-y\"", "");
    spread_pods(f->s, xy4, (const int[]){1, 1, 1, 1}, 4);
    fx_pod_in(f->s, "default", "p", "\"foo\":\"\"", constraint(1, "zone", "DoNotSchedule", FOO_EXISTS, ""), NULL);
    expect4(f->s, "p", "", SPREAD_LABEL, SPREAD, SPREAD);
}

/* "pod cannot be scheduled as all nodes don't have label 'rack'": the message a user sees */
static void test_no_node_with_the_key(void **state)
{
    fx_sched *f = *state;
    raw_node(f->s, "node-a", "\"zone\":\"zone1\",\"node\":\"node-a\"", "");
    raw_node(f->s, "node-x", "\"zone\":\"zone2\",\"node\":\"node-x\"", "");
    fx_pod_in(f->s, "default", "p", "\"foo\":\"\"", constraint(1, "rack", "DoNotSchedule", FOO_EXISTS, ""), NULL);
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    fx_expect_failed(&f->out, "p", "0/2 nodes are available: 2 " SPREAD_LABEL ".");
}

/* "pods spread across nodes as 2/1/0/3, only node-x fits", "... maxSkew is 2, node-b
 * and node-x fit", "... but pod doesn't match itself" */
static void test_skew_per_node(void **state)
{
    fx_sched *f = *state;
    four_nodes(f->s);
    spread_pods(f->s, xy4, (const int[]){2, 1, 0, 3}, 4);
    fx_pod_in(f->s, "default", "skew1", "\"foo\":\"\"", constraint(1, "node", "DoNotSchedule", FOO_EXISTS, ""),
              NULL);
    fx_pod_in(f->s, "default", "skew2", "\"foo\":\"\"", constraint(2, "node", "DoNotSchedule", FOO_EXISTS, ""),
              NULL);
    fx_pod_in(f->s, "default", "notself", "\"bar\":\"\"", constraint(1, "node", "DoNotSchedule", FOO_EXISTS, ""),
              NULL);
    expect4(f->s, "skew1", SPREAD, SPREAD, "", SPREAD);
    expect4(f->s, "skew2", SPREAD, "", "", SPREAD);
    expect4(f->s, "notself", SPREAD, "", "", SPREAD);
}

/* "incoming pod has nodeAffinity, pods spread as 2/~1~/~0~/3, hence node-a fits":
 * nodes the pod's node affinity excludes do not count (nodeAffinityPolicy Honor) */
static void test_node_affinity_policy_honor(void **state)
{
    fx_sched *f = *state;
    four_nodes(f->s);
    spread_pods(f->s, xy4, (const int[]){2, 1, 0, 3}, 4);
    char spec[1024];
    snprintf(spec, sizeof(spec),
             ",\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":{"
             "\"nodeSelectorTerms\":"
             "[{\"matchExpressions\":[{\"key\":\"node\",\"operator\":\"In\",\"values\":[\"node-a\",\"node-y\"]}]}]"
             "}}}%s",
             constraint(1, "node", "DoNotSchedule", FOO_EXISTS, ""));
    fx_pod_in(f->s, "default", "p", "\"foo\":\"\"", spec, NULL);
    const char *na = "node(s) didn't match Pod's node affinity/selector";
    expect4(f->s, "p", "", na, na, SPREAD);

    /* Ignore: every node counts, node-x's 0 is the minimum */
    snprintf(spec, sizeof(spec),
             ",\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":{"
             "\"nodeSelectorTerms\":"
             "[{\"matchExpressions\":[{\"key\":\"node\",\"operator\":\"In\",\"values\":[\"node-a\",\"node-y\"]}]}]"
             "}}}%s",
             constraint(1, "node", "DoNotSchedule", FOO_EXISTS, ",\"nodeAffinityPolicy\":\"Ignore\""));
    fx_pod_in(f->s, "default", "q", "\"foo\":\"\"", spec, NULL);
    expect4(f->s, "q", SPREAD, na, na, SPREAD);
}

/* nodeTaintsPolicy Honor: a tainted node the pod does not tolerate does not count
 * (filtering_test.go's "NodeTaintsPolicy honored with tolerated taints" family) */
static void test_node_taints_policy_honor(void **state)
{
    fx_sched *f = *state;
    raw_node(f->s, "node-a", "\"node\":\"node-a\"", "");
    raw_node(f->s, "node-b", "\"node\":\"node-b\"",
             "\"taints\":[{\"key\":\"foo\",\"value\":\"bar\",\"effect\":\"NoSchedule\"}]");
    foo_pods(f->s, "node-a", 1);
    fx_pod_in(f->s, "default", "ignore", "\"foo\":\"\"", constraint(1, "node", "DoNotSchedule", FOO_EXISTS, ""),
              NULL);
    fx_pod_in(f->s, "default", "honor", "\"foo\":\"\"",
              constraint(1, "node", "DoNotSchedule", FOO_EXISTS, ",\"nodeTaintsPolicy\":\"Honor\""), NULL);
    /* Ignore: node-b's 0 is the minimum, node-a's 1 + 1 - 0 > 1 */
    assert_string_equal(fx_verdict(f->s, "ignore", "node-a"), SPREAD);
    /* Honor: node-b does not count, node-a is the only domain */
    assert_string_equal(fx_verdict(f->s, "honor", "node-a"), "");
}

/* "terminating Pods should be excluded" */
static void test_terminating_pods_do_not_count(void **state)
{
    fx_sched *f = *state;
    raw_node(f->s, "node-a", "\"node\":\"node-a\"", "");
    raw_node(f->s, "node-b", "\"node\":\"node-b\"", "");
    kn_json *p =
        fx_parse("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p-a\",\"namespace\":\"default\",\"uid\":\"uid-p-a\","
                 "\"labels\":{\"foo\":\"\"},\"deletionTimestamp\":\"2026-11-24T10:00:00Z\"},"
                 "\"spec\":{\"nodeName\":\"node-a\",\"containers\":[]},\"status\":{\"phase\":\"Running\"}}");
    assert_int_equal(kn_sched_apply_pod(f->s, p, false, NULL), 0);
    kn_json_free(p);
    foo_pods(f->s, "node-b", 1);
    fx_pod_in(f->s, "default", "p", "\"foo\":\"\"", constraint(1, "node", "DoNotSchedule", FOO_EXISTS, ""), NULL);
    assert_string_equal(fx_verdict(f->s, "p", "node-a"), "");
    assert_string_equal(fx_verdict(f->s, "p", "node-b"), SPREAD);
}

/* TestMultipleConstraints: "two Constraints on zone and node, spreads = [3/3, 2/1/0/3]" */
static void test_constraints_and_together(void **state)
{
    fx_sched *f = *state;
    four_nodes(f->s);
    spread_pods(f->s, xy4, (const int[]){2, 1, 0, 3}, 4);
    char spec[1024];
    snprintf(
        spec, sizeof(spec),
        ",\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":\"zone\",\"whenUnsatisfiable\":"
        "\"DoNotSchedule\",\"labelSelector\":%s},{\"maxSkew\":1,\"topologyKey\":\"node\",\"whenUnsatisfiable\":"
        "\"DoNotSchedule\",\"labelSelector\":%s}]",
        FOO_EXISTS, FOO_EXISTS);
    fx_pod_in(f->s, "default", "p", "\"foo\":\"\"", spec, NULL);
    expect4(f->s, "p", SPREAD, SPREAD, "", SPREAD);
}

/* minDomains: with fewer domains than minDomains the global minimum is 0
 * (filtering_test.go's "minDomains" cases) */
static void test_min_domains(void **state)
{
    fx_sched *f = *state;
    four_nodes(f->s);
    foo_pods(f->s, "node-a", 1);
    foo_pods(f->s, "node-x", 1);
    fx_pod_in(f->s, "default", "two", "\"foo\":\"\"", constraint(1, "zone", "DoNotSchedule", FOO_EXISTS, ""),
              NULL);
    fx_pod_in(f->s, "default", "three", "\"foo\":\"\"",
              constraint(1, "zone", "DoNotSchedule", FOO_EXISTS, ",\"minDomains\":3"), NULL);
    expect4(f->s, "two", "", "", "", "");
    expect4(f->s, "three", SPREAD, SPREAD, SPREAD, SPREAD);
}

/* matchLabelKeys: only pods with the pod's own value of the key count
 * (filtering_test.go's "matchLabelKeys" cases) */
static void test_match_label_keys(void **state)
{
    fx_sched *f = *state;
    four_nodes(f->s);
    fx_pod_in(f->s, "default", "old-a", "\"foo\":\"\",\"version\":\"v1\"", "", "node-a");
    fx_pod_in(f->s, "default", "old-b", "\"foo\":\"\",\"version\":\"v1\"", "", "node-b");
    fx_pod_in(f->s, "default", "new-x", "\"foo\":\"\",\"version\":\"v2\"", "", "node-x");
    fx_pod_in(f->s, "default", "p", "\"foo\":\"\",\"version\":\"v2\"",
              constraint(1, "zone", "DoNotSchedule", FOO_EXISTS, ",\"matchLabelKeys\":[\"version\"]"), NULL);
    fx_pod_in(f->s, "default", "q", "\"foo\":\"\",\"version\":\"v2\"",
              constraint(1, "zone", "DoNotSchedule", FOO_EXISTS, ""), NULL);
    /* v2 pods: zone1 0, zone2 1 */
    expect4(f->s, "p", "", "", SPREAD, SPREAD);
    /* every foo pod: zone1 2, zone2 1 */
    expect4(f->s, "q", SPREAD, SPREAD, "", "");
}

/* ---- Score (TestPodTopologySpreadScore) ---- */

static void hostname_nodes(kn_scheduler *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++) {
        char l[128];
        snprintf(l, sizeof(l), "\"kubernetes.io/hostname\":\"%s\"", names[i]);
        raw_node(s, names[i], l, "");
    }
}

/* "one constraint on node, no existing pods" and "... all nodes have the same number of matching pods" */
static void test_score_even_is_100(void **state)
{
    fx_sched *f = *state;
    hostname_nodes(f->s, abcd, 2);
    fx_pod_in(f->s, "default", "p", "\"foo\":\"\"",
              constraint(1, "kubernetes.io/hostname", "ScheduleAnyway", FOO_EXISTS, ""), NULL);
    expect_scores(f->s, "p", abcd, 2, (const int64_t[]){100, 100});
    foo_pods(f->s, "node-a", 1);
    foo_pods(f->s, "node-b", 1);
    expect_scores(f->s, "p", abcd, 2, (const int64_t[]){100, 100});
}

/* "one constraint on node, all 4 nodes are candidates" (2/1/0/3), maxSkew=2, and
 * "null selector" */
static void test_score_per_node(void **state)
{
    fx_sched *f = *state;
    hostname_nodes(f->s, abcd, 4);
    spread_pods(f->s, abcd, (const int[]){2, 1, 0, 3}, 4);
    fx_pod_in(f->s, "default", "skew1", "\"foo\":\"\"",
              constraint(1, "kubernetes.io/hostname", "ScheduleAnyway", FOO_EXISTS, ""), NULL);
    fx_pod_in(f->s, "default", "skew2", "\"foo\":\"\"",
              constraint(2, "kubernetes.io/hostname", "ScheduleAnyway", FOO_EXISTS, ""), NULL);
    fx_pod_in(f->s, "default", "null", "\"foo\":\"\"",
              constraint(1, "kubernetes.io/hostname", "ScheduleAnyway", NULL, ""), NULL);
    expect_scores(f->s, "skew1", abcd, 4, (const int64_t[]){20, 60, 100, 0});
    expect_scores(f->s, "skew2", abcd, 4, (const int64_t[]){33, 66, 100, 16});
    expect_scores(f->s, "null", abcd, 4, (const int64_t[]){100, 100, 100, 100});
}

/* "one constraint on node, 3 out of 4 nodes are candidates" (4/2/1/~3~) and "... one
 * node doesn't match topology key" */
static void test_score_over_the_candidates(void **state)
{
    fx_sched *f = *state;
    hostname_nodes(f->s, xy4, 4);
    spread_pods(f->s, xy4, (const int[]){4, 2, 1, 3}, 4);
    fx_pod_in(f->s, "default", "p", "\"foo\":\"\"",
              constraint(1, "kubernetes.io/hostname", "ScheduleAnyway", FOO_EXISTS, ""), NULL);
    expect_scores(f->s, "p", xy4, 3, (const int64_t[]){33, 83, 100});

    fx_sched *g = fx_sched_new(NULL);
    hostname_nodes(g->s, (const char *const[]){"node-a"}, 1);
    raw_node(g->s, "node-b", "\"n\":\"node-b\"", "");
    hostname_nodes(g->s, (const char *const[]){"node-x", "node-y"}, 2);
    spread_pods(g->s, xy4, (const int[]){4, 2, 1, 3}, 4);
    fx_pod_in(g->s, "default", "p", "\"foo\":\"\"",
              constraint(1, "kubernetes.io/hostname", "ScheduleAnyway", FOO_EXISTS, ""), NULL);
    expect_scores(g->s, "p", xy4, 3, (const int64_t[]){16, 0, 100});
    fx_sched_free(g);
}

/* "one constraint on zone, 3 out of 4 nodes are candidates" */
static void test_score_per_zone(void **state)
{
    fx_sched *f = *state;
    raw_node(f->s, "node-a", "\"zone\":\"zone1\",\"kubernetes.io/hostname\":\"node-a\"", "");
    raw_node(f->s, "node-b", "\"zone\":\"zone1\",\"kubernetes.io/hostname\":\"node-b\"", "");
    raw_node(f->s, "node-x", "\"zone\":\"zone2\",\"kubernetes.io/hostname\":\"node-x\"", "");
    raw_node(f->s, "node-y", "\"zone\":\"zone2\",\"kubernetes.io/hostname\":\"node-y\"", "");
    spread_pods(f->s, xy4, (const int[]){4, 2, 1, 3}, 4);
    fx_pod_in(f->s, "default", "p", "\"foo\":\"\"", constraint(1, "zone", "ScheduleAnyway", FOO_EXISTS, ""), NULL);
    expect_scores(f->s, "p", (const char *const[]){"node-a", "node-b", "node-x"}, 3,
                  (const int64_t[]){75, 75, 100});
}

/* "system defaulting, nodes don't have zone, pods match service" (4/3/2/1): the pods of
 * one ReplicaSet stand for what the Service selects here (see terms.c) */
static void test_system_defaults_spread_a_controllers_pods(void **state)
{
    fx_sched *f = *state;
    hostname_nodes(f->s, abcd, 4);
    const int on[4] = {4, 3, 2, 1};
    for (int n = 0; n < 4; n++)
        for (int i = 0; i < on[n]; i++) {
            kn_json *p =
                fx_parse("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"r-%d-%d\",\"namespace\":\"default\",\"uid\":"
                         "\"uid-r-%d-%d\","
                         "\"labels\":{\"foo\":\"\"},\"ownerReferences\":[{\"apiVersion\":\"apps/"
                         "v1\",\"kind\":\"ReplicaSet\","
                         "\"name\":\"web-5d\",\"uid\":\"rs-1\",\"controller\":true}]},"
                         "\"spec\":{\"nodeName\":\"%s\",\"containers\":[]},\"status\":{\"phase\":\"Running\"}}",
                         n, i, n, i, abcd[n]);
            assert_int_equal(kn_sched_apply_pod(f->s, p, false, NULL), 0);
            kn_json_free(p);
        }
    kn_json *p =
        fx_parse("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"default\",\"uid\":\"uid-p\","
                 "\"labels\":{\"foo\":\"\"},\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":"
                 "\"ReplicaSet\",\"name\":\"web-5d\",\"uid\":\"rs-1\",\"controller\":true}]},"
                 "\"spec\":{\"schedulerName\":\"kubenexus-scheduler\",\"containers\":[]},"
                 "\"status\":{\"phase\":\"Pending\"}}");
    assert_int_equal(kn_sched_apply_pod(f->s, p, false, NULL), 0);
    kn_json_free(p);
    expect_scores(f->s, "p", abcd, 4, (const int64_t[]){44, 66, 77, 100});

    /* a pod without such a controller gets no defaults: nothing to score */
    fx_pod_in(f->s, "default", "loose", "\"foo\":\"\"", "", NULL);
    expect_scores(f->s, "loose", abcd, 4, (const int64_t[]){0, 0, 0, 0});
}

/* A zone-spread pod lands in the emptier zone even when the other zone's node is
 * emptier of resources: PodTopologySpread weighs 2 against NodeResourcesFit's 1. */
static void test_spread_outweighs_resources(void **state)
{
    fx_sched *f = *state;
    raw_node(f->s, "node-a", "\"zone\":\"zone1\",\"kubernetes.io/hostname\":\"node-a\"", "");
    raw_node(f->s, "node-x", "\"zone\":\"zone2\",\"kubernetes.io/hostname\":\"node-x\"", "");
    fx_pod_full(f->s, "big", "6", "24Gi", "", "", "", "", "node-x", "default-scheduler");
    foo_pods(f->s, "node-a", 2);
    fx_pod_in(f->s, "default", "p", "\"foo\":\"\"", constraint(1, "zone", "ScheduleAnyway", FOO_EXISTS, ""), NULL);
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 1);
    assert_string_equal(fx_node_of(&f->out, "p"), "node-x");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        fx_sched_test(test_empty_cluster_fits_everywhere),
        fx_sched_test(test_other_namespaces_do_not_count),
        fx_sched_test(test_even_zones_fit_everywhere),
        fx_sched_test(test_a_node_without_the_key_fails_and_does_not_count),
        fx_sched_test(test_no_node_with_the_key),
        fx_sched_test(test_skew_per_node),
        fx_sched_test(test_node_affinity_policy_honor),
        fx_sched_test(test_node_taints_policy_honor),
        fx_sched_test(test_terminating_pods_do_not_count),
        fx_sched_test(test_constraints_and_together),
        fx_sched_test(test_min_domains),
        fx_sched_test(test_match_label_keys),
        fx_sched_test(test_score_even_is_100),
        fx_sched_test(test_score_per_node),
        fx_sched_test(test_score_over_the_candidates),
        fx_sched_test(test_score_per_zone),
        fx_sched_test(test_system_defaults_spread_a_controllers_pods),
        fx_sched_test(test_spread_outweighs_resources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
