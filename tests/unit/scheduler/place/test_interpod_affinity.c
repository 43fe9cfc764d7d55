/* test_interpod_affinity.c - InterPodAffinity (scheduler/place/interpod_affinity.c)
 * as kube-scheduler decides it: which nodes a pod's required affinity,
 * anti-affinity and placed pods' anti-affinity (symmetry) leave it, with
 * kube-scheduler's reasons, and the normalized preferred-term scores.
 *
 * Cases are kube-scheduler's own (pkg/scheduler/framework/plugins/
 * interpodaffinity/filtering_test.go and scoring_test.go, v1.33), the case
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

#define ANTI_RULES "node(s) didn't match pod anti-affinity rules"
#define AFF_RULES "node(s) didn't match pod affinity rules"
#define EXISTING "node(s) didn't satisfy existing pods anti-affinity rules"

/* ---- building pods ---- */

/* A PodAffinityTerm with one requirement (vals: a JSON array or "" for
 * Exists) and extra members (",\"namespaces\":[...]" or ""). */
static char *term(const char *key, const char *op, const char *vals, const char *tk, const char *extra)
{
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, 512,
             "{\"labelSelector\":{\"matchExpressions\":[{\"key\":\"%s\",\"operator\":\"%s\"%s%s}]},"
             "\"topologyKey\":\"%s\"%s}",
             key, op, *vals ? ",\"values\":" : "", vals, tk, extra);
    return b;
}

/* spec members for required affinity and anti-affinity terms (JSON lists or ""). */
static char *required(const char *aff, const char *anti)
{
    static char bufs[4][2048];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, 2048,
             ",\"affinity\":{\"podAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[%s]},"
             "\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[%s]}}",
             aff, anti);
    return b;
}

/* spec members for preferred affinity and anti-affinity terms (weighted JSON lists or ""). */
static char *preferred(const char *aff, const char *anti)
{
    static char b[4096];
    snprintf(b, sizeof(b),
             ",\"affinity\":{\"podAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":[%s]},"
             "\"podAntiAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":[%s]}}",
             aff, anti);
    return b;
}

static char *weighted(int w, const char *t)
{
    static char bufs[4][600];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, 600, "{\"weight\":%d,\"podAffinityTerm\":%s}", w, t);
    return b;
}

static void node(kn_scheduler *s, const char *name, const char *labels)
{
    fx_node_full(s, name, "8", "32Gi", labels, "", "", "", "True");
}

#define SERVICE_SS "\"service\":\"securityscan\""
#define SECURITY_S1 "\"security\":\"S1\""
#define RG_CHINA "\"region\":\"China\""
#define RG_CHINA_AZ1 "\"region\":\"China\",\"az\":\"az1\""
#define RG_INDIA "\"region\":\"India\""

/* ---- Filter, one node (TestRequiredAffinitySingleNode) ---- */

static void single_node_cluster(kn_scheduler *s)
{
    node(s, "node1", "\"region\":\"r1\",\"zone\":\"z11\"");
    fx_pod_in(s, "default", "existing", SERVICE_SS, "", "node1");
}

/* "satisfies with requiredDuringSchedulingIgnoredDuringExecution in PodAffinity using In
 * operator that matches the existing pod", and the NotIn one */
static void test_affinity_in_and_notin_match_the_existing_pod(void **state)
{
    fx_sched *f = *state;
    single_node_cluster(f->s);
    fx_pod_in(f->s, "default", "in", SECURITY_S1,
              required(term("service", "In", "[\"securityscan\",\"value2\"]", "region", ""), ""), NULL);
    fx_pod_in(f->s, "default", "notin", SECURITY_S1,
              required(term("service", "NotIn", "[\"securityscan3\",\"value3\"]", "region", ""), ""), NULL);
    assert_string_equal(fx_verdict(f->s, "in", "node1"), "");
    assert_string_equal(fx_verdict(f->s, "notin", "node1"), "");
}

/* "Does not satisfy the PodAffinity with labelSelector because of diff Namespace" */
static void test_affinity_in_another_namespace_fails(void **state)
{
    fx_sched *f = *state;
    node(f->s, "node1", "\"region\":\"r1\",\"zone\":\"z11\"");
    fx_pod_in(f->s, "ns", "existing", SERVICE_SS, "", "node1");
    fx_pod_in(f->s, "default", "p", SECURITY_S1,
              required(term("service", "In", "[\"securityscan\",\"value2\"]", "region",
                            ",\"namespaces\":[\"DiffNameSpace\"]"),
                       ""),
              NULL);
    assert_string_equal(fx_verdict(f->s, "p", "node1"), AFF_RULES);
}

/* "satisfies the PodAffinity with different label Operators in multiple
 * RequiredDuringSchedulingIgnoredDuringExecution" and "The labelSelector
 * requirements(items of matchExpressions) are ANDed, ... one of the
 * matchExpression item don't match." */
static void test_affinity_terms_are_anded(void **state)
{
    fx_sched *f = *state;
    single_node_cluster(f->s);
    const char *exists = "{\"labelSelector\":{\"matchExpressions\":[{\"key\":\"service\",\"operator\":\"Exists\"},"
                         "{\"key\":\"wrongkey\",\"operator\":\"DoesNotExist\"}]},\"topologyKey\":\"region\"}";
    char both[1024], bad[1024];
    snprintf(both, sizeof(both),
             "%s,{\"labelSelector\":{\"matchExpressions\":[{\"key\":\"service\",\"operator\":\"In\","
             "\"values\":[\"securityscan\"]},{\"key\":\"service\",\"operator\":\"NotIn\",\"values\":["
             "\"WrongValue\"]}]},"
             "\"topologyKey\":\"region\"}",
             exists);
    snprintf(bad, sizeof(bad),
             "%s,{\"labelSelector\":{\"matchExpressions\":[{\"key\":\"service\",\"operator\":\"In\","
             "\"values\":[\"securityscan2\"]},{\"key\":\"service\",\"operator\":\"NotIn\",\"values\":["
             "\"WrongValue\"]}]},"
             "\"topologyKey\":\"region\"}",
             exists);
    fx_pod_in(f->s, "default", "ok", SECURITY_S1, required(both, ""), NULL);
    fx_pod_in(f->s, "default", "ko", SECURITY_S1, required(bad, ""), NULL);
    assert_string_equal(fx_verdict(f->s, "ok", "node1"), "");
    assert_string_equal(fx_verdict(f->s, "ko", "node1"), AFF_RULES);
}

/* "satisfies the PodAffinity but doesn't satisfy the PodAntiAffinity with the existing pod" */
static void test_anti_affinity_to_the_existing_pod_fails(void **state)
{
    fx_sched *f = *state;
    single_node_cluster(f->s);
    fx_pod_in(f->s, "default", "p", SECURITY_S1,
              required(term("service", "In", "[\"securityscan\",\"value2\"]", "region", ""),
                       term("service", "In", "[\"securityscan\",\"value2\"]", "zone", "")),
              NULL);
    assert_string_equal(fx_verdict(f->s, "p", "node1"), ANTI_RULES);
}

/* "satisfies the PodAffinity and PodAntiAffinity but doesn't satisfy PodAntiAffinity
 * symmetry with the existing pod", and "verify that PodAntiAffinity from existing pod
 * is respected when pod has no AntiAffinity constraints" (both outcomes) */
static void test_existing_pods_anti_affinity_is_symmetric(void **state)
{
    fx_sched *f = *state;
    node(f->s, "node1", "\"region\":\"r1\",\"zone\":\"z11\"");
    node(f->s, "node2", "\"region\":\"r1\",\"zone\":\"z12\"");
    fx_pod_in(f->s, "default", "guard", SERVICE_SS,
              required("", term("service", "In", "[\"securityscan\",\"value2\"]", "zone", "")), "node1");
    fx_pod_in(f->s, "default", "lax", "\"other\":\"x\"",
              required("", term("service", "NotIn", "[\"securityscan\",\"value2\"]", "zone", "")), "node2");
    fx_pod_in(f->s, "default", "plain", SERVICE_SS, "", NULL);
    fx_pod_in(f->s, "default", "with-terms", SERVICE_SS,
              required(term("service", "In", "[\"securityscan\",\"value2\"]", "region", ""),
                       term("service", "In", "[\"antivirusscan\",\"value2\"]", "node", "")),
              NULL);
    assert_string_equal(fx_verdict(f->s, "plain", "node1"), EXISTING);
    assert_string_equal(fx_verdict(f->s, "with-terms", "node1"), EXISTING);
    /* the NotIn term does not select the pod: its zone stays open */
    assert_string_equal(fx_verdict(f->s, "plain", "node2"), "");
}

/* "PodAntiAffinity symmetry check a1" and "a2": each side's term matches the other */
static void test_symmetry_reports_the_incoming_pods_terms_first(void **state)
{
    fx_sched *f = *state;
    node(f->s, "node1", "\"region\":\"r1\",\"zone\":\"z11\"");
    fx_pod_in(f->s, "default", "existing", SECURITY_S1, required("", term("security", "Exists", "", "zone", "")),
              "node1");
    char two[1024];
    snprintf(two, sizeof(two), "%s,%s", term("service", "Exists", "", "zone", ""),
             term("security", "Exists", "", "zone", ""));
    fx_pod_in(f->s, "default", "a1", SERVICE_SS, required("", two), NULL);
    assert_string_equal(fx_verdict(f->s, "a1", "node1"), ANTI_RULES);

    fx_sched *g = fx_sched_new(NULL);
    node(g->s, "node1", "\"region\":\"r1\",\"zone\":\"z11\"");
    fx_pod_in(g->s, "default", "existing", SERVICE_SS, required("", two), "node1");
    fx_pod_in(g->s, "default", "a2", SECURITY_S1, required("", term("security", "Exists", "", "zone", "")), NULL);
    assert_string_equal(fx_verdict(g->s, "a2", "node1"), EXISTING);
    fx_sched_free(g);
}

/* "pod matches its own Label in PodAffinity and that matches the existing pod Labels":
 * the matching pod sits on a node the scheduler has no Node for, so it counts nowhere,
 * and the pod does not match its own term */
static void test_pods_on_unknown_nodes_count_nowhere(void **state)
{
    fx_sched *f = *state;
    node(f->s, "node1", "\"region\":\"r1\",\"zone\":\"z11\"");
    fx_pod_in(f->s, "default", "elsewhere", SERVICE_SS, "", "node2");
    fx_pod_in(f->s, "default", "p", SERVICE_SS,
              required(term("service", "NotIn", "[\"securityscan\",\"value2\"]", "region", ""), ""), NULL);
    assert_string_equal(fx_verdict(f->s, "p", "node1"), AFF_RULES);
}

/* "affinity with NamespaceSelector", "affinity with non-matching NamespaceSelector",
 * "anti-affinity with matching NamespaceSelector", "... matching all NamespaceSelector",
 * "... non-matching NamespaceSelector" */
static void test_namespace_selector_reads_watched_namespaces(void **state)
{
    fx_sched *f = *state;
    fx_namespace(f->s, "subteam1.team1", "\"team\":\"team1\"");
    fx_namespace(f->s, "subteam2.team1", "\"team\":\"team1\"");
    fx_namespace(f->s, "subteam1.team2", "\"team\":\"team2\"");
    node(f->s, "node1", "\"region\":\"r1\",\"zone\":\"z11\"");
    node(f->s, "node2", "\"region\":\"r2\",\"zone\":\"z21\"");
    fx_pod_in(f->s, "subteam1.team1", "in-team1", SERVICE_SS, "", "node1");
    fx_pod_in(f->s, "subteam1.team2", "in-team2", SERVICE_SS, "", "node2");
    const char *team1 = ",\"namespaceSelector\":{\"matchExpressions\":[{\"key\":\"team\",\"operator\":\"In\","
                        "\"values\":[\"team1\"]}]}";
    fx_pod_in(f->s, "default", "aff", "\"security\":\"S2\"",
              required(term("service", "In", "[\"securityscan\",\"value2\"]", "region", team1), ""), NULL);
    assert_string_equal(fx_verdict(f->s, "aff", "node1"), "");
    assert_string_equal(fx_verdict(f->s, "aff", "node2"), AFF_RULES);
    fx_pod_in(f->s, "subteam2.team1", "anti", "\"security\":\"S2\"",
              required("", term("service", "In", "[\"securityscan\",\"value2\"]", "zone", team1)), NULL);
    assert_string_equal(fx_verdict(f->s, "anti", "node1"), ANTI_RULES);
    assert_string_equal(fx_verdict(f->s, "anti", "node2"), "");
    fx_pod_in(
        f->s, "subteam2.team1", "anti-all", "\"security\":\"S2\"",
        required("", term("service", "In", "[\"securityscan\",\"value2\"]", "zone", ",\"namespaceSelector\":{}")),
        NULL);
    assert_string_equal(fx_verdict(f->s, "anti-all", "node2"), ANTI_RULES);

    /* a namespace relabelled: the selector reads its labels now */
    fx_namespace(f->s, "subteam1.team2", "\"team\":\"team1\"");
    assert_string_equal(fx_verdict(f->s, "anti", "node2"), ANTI_RULES);
}

/* ---- Filter, several nodes (TestRequiredAffinityMultipleNodes) ---- */

/* "A pod can be scheduled onto all the nodes that have the same topology key & label
 * value with one of them has an existing pod that matches the affinity rules" */
static void test_affinity_holds_across_the_domain(void **state)
{
    fx_sched *f = *state;
    node(f->s, "node1", RG_CHINA);
    node(f->s, "node2", RG_CHINA_AZ1);
    node(f->s, "node3", RG_INDIA);
    fx_pod_in(f->s, "default", "p1", "\"foo\":\"bar\"", "", "node1");
    fx_pod_in(f->s, "default", "p", "", required(term("foo", "In", "[\"bar\"]", "region", ""), ""), NULL);
    assert_string_equal(fx_verdict(f->s, "p", "node1"), "");
    assert_string_equal(fx_verdict(f->s, "p", "node2"), "");
    assert_string_equal(fx_verdict(f->s, "p", "node3"), AFF_RULES);
}

/* "The affinity rule is to schedule all of the pods of this collection to the same
 * zone. The first pod of the collection should not be blocked ...", and "The first pod
 * of the collection can only be scheduled on nodes labelled with the requested topology keys" */
static void test_first_pod_of_a_group_may_go_where_the_keys_are(void **state)
{
    fx_sched *f = *state;
    char two[1024];
    snprintf(two, sizeof(two), "%s,%s", term("foo", "In", "[\"bar\"]", "zone", ""),
             term("service", "In", "[\"securityscan\"]", "zone", ""));
    node(f->s, "nodeA", "\"zone\":\"az1\",\"hostname\":\"h1\"");
    node(f->s, "nodeB", "\"zone\":\"az2\",\"hostname\":\"h2\"");
    fx_pod_in(f->s, "default", "p1", "\"foo\":\"bar\"", "", "nodeA");
    fx_pod_in(f->s, "default", "first", "\"foo\":\"bar\"," SERVICE_SS, required(two, ""), NULL);
    assert_string_equal(fx_verdict(f->s, "first", "nodeA"), "");
    assert_string_equal(fx_verdict(f->s, "first", "nodeB"), "");

    fx_sched *g = fx_sched_new(NULL);
    node(g->s, "nodeA", "\"zoneLabel\":\"az1\",\"hostname\":\"h1\"");
    node(g->s, "nodeB", "\"zoneLabel\":\"az2\",\"hostname\":\"h2\"");
    fx_pod_in(g->s, "default", "p1", "\"foo\":\"bar\"", "", "nodeA");
    fx_pod_in(g->s, "default", "first", "\"foo\":\"bar\"," SERVICE_SS, required(two, ""), NULL);
    assert_string_equal(fx_verdict(g->s, "first", "nodeA"), AFF_RULES);
    assert_string_equal(fx_verdict(g->s, "first", "nodeB"), AFF_RULES);
    fx_sched_free(g);
}

/* "NodeA and nodeB have same topologyKey and label value. NodeA has an existing pod that
 * matches the inter pod affinity rule. The pod can not be scheduled onto nodeA and nodeB
 * but can be scheduled onto nodeC (NodeC has an existing pod that match the inter pod
 * affinity rule but in different namespace)" */
static void test_anti_affinity_covers_the_domain_in_the_pods_namespace(void **state)
{
    fx_sched *f = *state;
    node(f->s, "nodeA", RG_CHINA);
    node(f->s, "nodeB", RG_CHINA_AZ1);
    node(f->s, "nodeC", RG_INDIA);
    fx_pod_in(f->s, "NS1", "a", "\"foo\":\"bar\"", "", "nodeA");
    fx_pod_in(f->s, "NS2", "c", "", required("", term("foo", "In", "[\"123\"]", "region", "")), "nodeC");
    fx_pod_in(f->s, "NS1", "p", "\"foo\":\"123\"", required("", term("foo", "In", "[\"bar\"]", "region", "")),
              NULL);
    assert_string_equal(fx_verdict(f->s, "p", "nodeA"), ANTI_RULES);
    assert_string_equal(fx_verdict(f->s, "p", "nodeB"), ANTI_RULES);
    assert_string_equal(fx_verdict(f->s, "p", "nodeC"), "");
}

/* "Test existing pod's anti-affinity: if an existing pod has a term with invalid
 * topologyKey, labelSelector of the term is firstly checked, and then topologyKey of
 * the term is also checked", and its incoming-pod twin */
static void test_terms_on_keys_no_node_has_change_nothing(void **state)
{
    fx_sched *f = *state;
    node(f->s, "nodeA", "\"region\":\"r1\",\"zone\":\"z1\",\"hostname\":\"nodeA\"");
    node(f->s, "nodeB", "\"region\":\"r1\",\"zone\":\"z1\",\"hostname\":\"nodeB\"");
    fx_pod_in(f->s, "default", "existing", "", required("", term("foo", "Exists", "", "invalid-node-label", "")),
              "nodeA");
    fx_pod_in(f->s, "default", "p", "\"foo\":\"\"", "", NULL);
    assert_string_equal(fx_verdict(f->s, "p", "nodeA"), "");
    fx_pod_in(f->s, "default", "q", "", required("", term("foo", "Exists", "", "invalid-node-label", "")), NULL);
    fx_pod_in(f->s, "default", "foo-pod", "\"foo\":\"\"", "", "nodeB");
    assert_string_equal(fx_verdict(f->s, "q", "nodeA"), "");
    assert_string_equal(fx_verdict(f->s, "q", "nodeB"), "");
}

/* "PodAffinity fails PreFilter with an invalid affinity label syntax" */
static void test_invalid_label_values_keep_the_pod_pending(void **state)
{
    fx_sched *f = *state;
    node(f->s, "node1", "\"region\":\"r1\"");
    fx_pod_in(f->s, "default", "p", SERVICE_SS,
              required(term("service", "In", "[\"{{.bad-value.}}\"]", "region", ""), ""), NULL);
    fx_cycle(f->s, 1, &f->out);
    const kn_sched_event *e = fx_event(&f->out, "p", "FailedScheduling");
    assert_non_null(e);
    assert_non_null(
        strstr(e->message, "Invalid value: \"{{.bad-value.}}\": a valid label must be an empty string"));
}

/* ---- Score (TestPreferredAffinity) ---- */

static const char *const nodes3[] = {"node1", "node2", "node3"};

/* "Affinity: pod that matches topology key & pods in nodes will get high score comparing
 * to others which doesn't match either pods in nodes or in topology key" */
static void test_preferred_affinity_scores_the_matching_domain(void **state)
{
    fx_sched *f = *state;
    node(f->s, "node1", RG_CHINA);
    node(f->s, "node2", RG_INDIA);
    node(f->s, "node3", "\"az\":\"az1\"");
    fx_pod_in(f->s, "default", "e1", SECURITY_S1, "", "node1");
    fx_pod_in(f->s, "default", "e2", "\"security\":\"S2\"", "", "node2");
    fx_pod_in(f->s, "default", "e3", SECURITY_S1, "", "node3");
    fx_pod_in(f->s, "default", "p", SECURITY_S1,
              preferred(weighted(5, term("security", "In", "[\"S1\"]", "region", "")), ""), NULL);
    fx_expect_scores(f->s, "p", nodes3, 3, false, (const int64_t[]){100, 0, 0});
}

/* "Affinity: nodes in one region has more matching pods comparing to other region, so
 * the region which has more matches will get high score" */
static void test_preferred_affinity_follows_the_domain_count(void **state)
{
    fx_sched *f = *state;
    const char *names[] = {"node1", "node2", "node3", "node4", "node5"};
    const char *regions[] = {RG_CHINA, RG_INDIA, RG_CHINA, RG_CHINA, RG_INDIA};
    for (int i = 0; i < 5; i++)
        node(f->s, names[i], regions[i]);
    const char *on[] = {"node1", "node1", "node2", "node3", "node4", "node5"};
    for (int i = 0; i < 6; i++) {
        char name[16];
        snprintf(name, sizeof(name), "s2-%d", i);
        fx_pod_in(f->s, "default", name, "\"security\":\"S2\"", "", on[i]);
    }
    fx_pod_in(f->s, "default", "p", SECURITY_S1,
              preferred(weighted(6, term("security", "In", "[\"S2\"]", "region", "")), ""), NULL);
    fx_expect_scores(f->s, "p", names, 5, false, (const int64_t[]){100, 0, 100, 100, 0});
}

/* "Anti Affinity: pod that does not match existing pods in node will get high score"
 * (stay away from S1 in az) and existing pods' preferred terms in both directions */
static void test_preferred_anti_affinity_and_existing_pods_preferences(void **state)
{
    fx_sched *f = *state;
    node(f->s, "node1", "\"az\":\"az1\"");
    node(f->s, "node2", RG_CHINA);
    fx_pod_in(f->s, "default", "e1", SECURITY_S1, "", "node1");
    fx_pod_in(f->s, "default", "e2", "\"security\":\"S2\"", "", "node2");
    fx_pod_in(f->s, "default", "p", SECURITY_S1,
              preferred("", weighted(5, term("security", "In", "[\"S1\"]", "az", ""))), NULL);
    fx_expect_scores(f->s, "p", (const char *const[]){"node1", "node2"}, 2, false, (const int64_t[]){0, 100});

    /* a placed pod's preferred affinity to S1 pods in its region draws a plain S1 pod there */
    fx_sched *g = fx_sched_new(NULL);
    node(g->s, "node1", RG_CHINA);
    node(g->s, "node2", RG_INDIA);
    fx_pod_in(g->s, "default", "wants-s1", "",
              preferred(weighted(5, term("security", "In", "[\"S1\"]", "region", "")), ""), "node2");
    fx_pod_in(g->s, "default", "p", SECURITY_S1, "", NULL);
    fx_expect_scores(g->s, "p", (const char *const[]){"node1", "node2"}, 2, false, (const int64_t[]){0, 100});
    fx_sched_free(g);
}

/* "Affinity: nodes in one region has more matching pods ..." with the hard affinity of
 * placed pods (hardPodAffinityWeight 1): "Hard Pod Affinity symmetry: hard pod affinity
 * symmetry weights 1 by default, then nodes that match the hard pod affinity symmetry
 * rules, get a high score" */
static void test_placed_pods_required_affinity_weighs_one(void **state)
{
    fx_sched *f = *state;
    node(f->s, "node1", RG_CHINA);
    node(f->s, "node2", RG_INDIA);
    node(f->s, "node3", "\"az\":\"az1\"");
    const char *hard = required(term("security", "In", "[\"S1\",\"value2\"]", "region", ""), "");
    fx_pod_in(f->s, "default", "h1", "", hard, "node1");
    fx_pod_in(f->s, "default", "h2", "", hard, "node2");
    fx_pod_in(f->s, "default", "p", SECURITY_S1, "", NULL);
    fx_expect_scores(f->s, "p", nodes3, 3, false, (const int64_t[]){100, 100, 0});
}

/* "all nodes are same priority as Affinity is nil": nothing to score, every node 0 */
static void test_no_terms_score_nothing(void **state)
{
    fx_sched *f = *state;
    node(f->s, "node1", RG_CHINA);
    node(f->s, "node2", RG_INDIA);
    node(f->s, "node3", "\"az\":\"az1\"");
    fx_pod_in(f->s, "default", "p", SECURITY_S1, "", NULL);
    fx_expect_scores(f->s, "p", nodes3, 3, false, (const int64_t[]){0, 0, 0});
}

/* ---- the placement the pod gets ---- */

/* The repro: three app=web pods, required anti-affinity on hostname, two nodes. */
static void test_three_anti_affine_pods_over_two_nodes(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "node-a", "8", "32Gi");
    fx_node(f->s, "node-b", "8", "32Gi");
    const char *anti = required("", "{\"labelSelector\":{\"matchLabels\":{\"app\":\"web\"}},"
                                    "\"topologyKey\":\"kubernetes.io/hostname\"}");
    for (int i = 1; i <= 3; i++) {
        char name[16];
        snprintf(name, sizeof(name), "web-%d", i);
        fx_pod_in(f->s, "default", name, "\"app\":\"web\"", anti, NULL);
    }
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 2);
    assert_string_not_equal(fx_node_of(&f->out, "web-1"), fx_node_of(&f->out, "web-2"));
    fx_expect_failed(&f->out, "web-3", "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules.");
}

/* Inter-pod scores and the preferences are normalized over the same feasible
 * nodes and added together: the pod prefers to be near the db pod (2 * 100 on
 * node-a), node-a has a PreferNoSchedule taint it does not tolerate (3 * 100
 * on node-b), so node-b wins; with either part alone the other node would. */
static void test_inter_pod_scores_and_preferences_add_up(void **state)
{
    fx_sched *f = *state;
    const char *near_db = preferred(weighted(100, "{\"labelSelector\":{\"matchLabels\":{\"app\":\"db\"}},"
                                                  "\"topologyKey\":\"kubernetes.io/hostname\"}"),
                                    "");
    fx_node_full(f->s, "node-a", "8", "32Gi", "", "",
                 ",\"taints\":[{\"key\":\"k\",\"value\":\"v\",\"effect\":\"PreferNoSchedule\"}]", "", "True");
    fx_node(f->s, "node-b", "8", "32Gi");
    fx_pod_in(f->s, "default", "db", "\"app\":\"db\"", "", "node-a");
    fx_pod_in(f->s, "default", "p", "", near_db, NULL);
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 1);
    assert_string_equal(fx_node_of(&f->out, "p"), "node-b");

    /* the affinity alone: node-a */
    fx_sched *g = fx_sched_new(NULL);
    fx_node(g->s, "node-a", "8", "32Gi");
    fx_node(g->s, "node-b", "8", "32Gi");
    fx_pod_in(g->s, "default", "db", "\"app\":\"db\"", "", "node-a");
    fx_pod_in(g->s, "default", "p", "", near_db, NULL);
    assert_int_equal(fx_cycle(g->s, 1, &g->out), 1);
    assert_string_equal(fx_node_of(&g->out, "p"), "node-a");
    fx_sched_free(g);
}

/* A pod whose required affinity is to a pod placed later in the same run is retried
 * once that pod is placed. */
static void test_affinity_is_retried_when_its_target_arrives(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "node-a", "8", "32Gi");
    fx_node(f->s, "node-b", "8", "32Gi");
    fx_pod_in(f->s, "default", "cache", "\"app\":\"cache\"",
              required("{\"labelSelector\":{\"matchLabels\":{\"app\":\"db\"}},"
                       "\"topologyKey\":\"kubernetes.io/hostname\"}",
                       ""),
              NULL);
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    fx_expect_failed(&f->out, "cache", "0/2 nodes are available: 2 node(s) didn't match pod affinity rules.");
    fx_pod_in(f->s, "default", "db", "\"app\":\"db\"", "", NULL);
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 1);
    assert_int_equal(fx_cycle(f->s, 3, &f->out), 1);
    assert_string_equal(fx_node_of(&f->out, "cache"), fx_node_of(&f->out, "db"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        fx_sched_test(test_affinity_in_and_notin_match_the_existing_pod),
        fx_sched_test(test_affinity_in_another_namespace_fails),
        fx_sched_test(test_affinity_terms_are_anded),
        fx_sched_test(test_anti_affinity_to_the_existing_pod_fails),
        fx_sched_test(test_existing_pods_anti_affinity_is_symmetric),
        fx_sched_test(test_symmetry_reports_the_incoming_pods_terms_first),
        fx_sched_test(test_pods_on_unknown_nodes_count_nowhere),
        fx_sched_test(test_namespace_selector_reads_watched_namespaces),
        fx_sched_test(test_affinity_holds_across_the_domain),
        fx_sched_test(test_first_pod_of_a_group_may_go_where_the_keys_are),
        fx_sched_test(test_anti_affinity_covers_the_domain_in_the_pods_namespace),
        fx_sched_test(test_terms_on_keys_no_node_has_change_nothing),
        fx_sched_test(test_invalid_label_values_keep_the_pod_pending),
        fx_sched_test(test_preferred_affinity_scores_the_matching_domain),
        fx_sched_test(test_preferred_affinity_follows_the_domain_count),
        fx_sched_test(test_preferred_anti_affinity_and_existing_pods_preferences),
        fx_sched_test(test_placed_pods_required_affinity_weighs_one),
        fx_sched_test(test_no_terms_score_nothing),
        fx_sched_test(test_three_anti_affine_pods_over_two_nodes),
        fx_sched_test(test_affinity_is_retried_when_its_target_arrives),
        fx_sched_test(test_inter_pod_scores_and_preferences_add_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
