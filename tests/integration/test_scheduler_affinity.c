/* test_scheduler_affinity.c - the real kubenexus-scheduler binary against the
 * kube-apiserver test double with inter-pod affinity: namespaceSelector read
 * from watched Namespaces (and a relabelled one read anew), placed pods'
 * anti-affinity held against a plain pod (symmetry), and a gang whose
 * members are anti-affine on hostname waiting whole until they can spread;
 * and topology spread constraints on zone: DoNotSchedule pods alternating
 * zones against the score, and the pods that cannot keep the skew pending
 * with kube-scheduler's message; ScheduleAnyway steering by score only;
 * a ReplicaSet's pods spread by the system defaults.
 * Every wait is a bounded poll on what the double records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver_double.h"
#include "sched_fixture.h"

#define WAIT_S 30.0
#define HOSTNAME "kubernetes.io/hostname"
#define ZONE "topology.kubernetes.io/zone"

typedef kn_it_world world;

/* A pod of ours (or bound to node, when given) with extra metadata members
 * and spec members (each "" or starting with a comma). */
static void pod_with(world *w, const char *ns, const char *name, const char *labels, const char *meta,
                     const char *spec, const char *node, const char *cpu)
{
    char body[8192], path[256], nodefield[128] = "";
    if (node)
        snprintf(nodefield, sizeof nodefield, "\"nodeName\":\"%s\",", node);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","
             "\"labels\":{%s}%s},\"spec\":{%s\"schedulerName\":\"%s\",\"containers\":[{\"name\":\"main\","
             "\"image\":\"x\",\"resources\":{\"requests\":{\"cpu\":\"%s\",\"memory\":\"256Mi\"}}}]%s}}",
             name, ns, labels, meta, nodefield, node ? "default-scheduler" : "kubenexus-scheduler", cpu, spec);
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods", ns);
    assert_int_equal(kn_dbl_call(&w->d, "POST", path, body, NULL), 201);
}

/* The same without metadata members. */
static void pod(world *w, const char *ns, const char *name, const char *labels, const char *spec, const char *node,
                const char *cpu)
{
    pod_with(w, ns, name, labels, "", spec, node, cpu);
}

static void namespace(world *w, const char *name, const char *labels)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\","
             "\"labels\":{%s}}}",
             name, labels);
    assert_int_equal(kn_dbl_call(&w->d, "POST", "/api/v1/namespaces", body, NULL), 201);
}

static char *node_of(world *w, const char *ns, const char *name)
{
    assert_true(kn_it_wait_pod_bound(&w->d, ns, name, WAIT_S));
    return kn_dbl_pod_node(&w->d, ns, name);
}

/* A node of zone with cpu cores and 32Gi. */
static void zone_node(world *w, const char *name, const char *zone, const char *cpu)
{
    char labels[128];
    snprintf(labels, sizeof labels, "\"" ZONE "\":\"%s\"", zone);
    assert_int_equal(kn_dbl_add_node_labels(&w->d, name, cpu, "32Gi", labels), 0);
}

/* Two zones: a-1 and a-2 of 16 cpu in zone-a, b-1 and b-2 of 4 cpu in
 * zone-b. A plain pod goes to the emptiest node, so 1-cpu pods without
 * constraints all land in zone-a (a-1, a-2, a-1, ...). */
static void two_zones(world *w)
{
    zone_node(w, "a-1", "zone-a", "16");
    zone_node(w, "a-2", "zone-a", "16");
    zone_node(w, "b-1", "zone-b", "4");
    zone_node(w, "b-2", "zone-b", "4");
}

/* spec members: one zone constraint of maxSkew 1 over the pods labelled
 * app=app, with extra members (e.g. minDomains). */
static const char *zone_spread(char *buf, size_t cap, const char *app, const char *when, const char *extra)
{
    snprintf(buf, cap,
             ",\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":\"" ZONE "\","
             "\"whenUnsatisfiable\":\"%s\",\"labelSelector\":{\"matchLabels\":{\"app\":\"%s\"}}%s}]",
             when, app, extra);
    return buf;
}

/* The zone letter of the node ns/name is bound to (names are <zone>-<i>). */
static char zone_of(world *w, const char *ns, const char *name)
{
    char *n = node_of(w, ns, name);
    char z = n[0];
    free(n);
    return z;
}

/* Pods <app>-0, <app>-1, ... labelled app=<app>, 1 cpu, these metadata and
 * spec members, created one at a time, each bound in the zone of its letter. */
static void place_in_zones(world *w, const char *app, const char *meta, const char *spec, const char *zones)
{
    char labels[64];
    snprintf(labels, sizeof labels, "\"app\":\"%s\"", app);
    for (int i = 0; zones[i]; i++) {
        char name[32];
        snprintf(name, sizeof name, "%s-%d", app, i);
        pod_with(w, "default", name, labels, meta, spec, NULL, "1");
        assert_int_equal(zone_of(w, "default", name), zones[i]);
    }
}

/* default/name is told why it is pending, once, with this message, and stays unbound. */
static void pending_with(world *w, const char *name, const char *message)
{
    assert_true(kn_it_wait_event(&w->d, "default", name, "FailedScheduling", WAIT_S));
    assert_int_equal(kn_dbl_events(&w->d, "default", name, "FailedScheduling", message, NULL), 1);
    char *n = kn_dbl_pod_node(&w->d, "default", name);
    assert_string_equal(n, "");
    free(n);
}

static void start(world *w)
{
    assert_int_equal(kn_sched_proc_start(&w->s, &w->d, "a", NULL), 0);
}

static void stop_cleanly(world *w)
{
    int rc = kn_sched_proc_stop(&w->s, SIGTERM, 20);
    if (rc != 0)
        kn_it_dump_log(w->s.log);
    assert_int_equal(rc, 0);
}

/* The double serves Namespaces as kube-apiserver does: the defaults exist and
 * every one is labelled with its name. */
static void namespaces_are_served(void **state)
{
    world *w = *state;
    kn_json *list = NULL;
    assert_int_equal(kn_dbl_call(&w->d, "GET", "/api/v1/namespaces", NULL, &list), 200);
    assert_string_equal(kn_json_get_str(list, "kind"), "NamespaceList");
    bool found_default = false;
    const kn_json *items = kn_json_get(list, "items");
    for (size_t i = 0; i < kn_json_len(items); i++) {
        const kn_json *meta = kn_json_get(kn_json_at(items, i), "metadata");
        const char *name = kn_json_get_str(meta, "name");
        assert_string_equal(kn_json_get_str(kn_json_get(meta, "labels"), "kubernetes.io/metadata.name"), name);
        found_default |= strcmp(name, "default") == 0;
    }
    assert_true(found_default);
    kn_json_free(list);
    namespace(w, "team-x", "\"team\":\"x\"");
    kn_json *ns = NULL;
    assert_int_equal(kn_dbl_call(&w->d, "GET", "/api/v1/namespaces/team-x", NULL, &ns), 200);
    assert_string_equal(kn_json_get_str(kn_json_dig(ns, "status", NULL), "phase"), "Active");
    kn_json_free(ns);
    assert_int_equal(kn_dbl_call(&w->d, "DELETE", "/api/v1/namespaces/team-x", NULL, &ns), 200);
    assert_string_equal(kn_json_get_str(kn_json_dig(ns, "status", NULL), "phase"), "Terminating");
    kn_json_free(ns);
    assert_int_equal(kn_dbl_call(&w->d, "GET", "/api/v1/namespaces/team-x", NULL, NULL), 404);
}

/* namespaceSelector picks the namespaces by their watched labels; a
 * relabelled namespace is read anew (a pod waiting for it is then placed). */
static void namespace_selector_reads_watched_namespaces(void **state)
{
    world *w = *state;
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "8", "32Gi"), 0);
    assert_int_equal(kn_dbl_add_node(&w->d, "node-b", "8", "32Gi"), 0);
    namespace(w, "data", "\"team\":\"storage\"");
    namespace(w, "apps", "\"team\":\"web\"");
    pod(w, "data", "db", "\"app\":\"db\"", "", "node-b", "100m");
    start(w);
    const char *near_db =
        ",\"affinity\":{\"podAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[{\"labelSelector\":"
        "{\"matchLabels\":{\"app\":\"db\"}},\"namespaceSelector\":{\"matchLabels\":{\"team\":\"storage\"}},"
        "\"topologyKey\":\"" HOSTNAME "\"}]}}";
    pod(w, "apps", "cache", "\"app\":\"cache\"", near_db, NULL, "100m");
    char *n = node_of(w, "apps", "cache");
    assert_string_equal(n, "node-b");
    free(n);
    assert_true(kn_dbl_calls(&w->d, "list namespaces") >= 1);
    assert_true(kn_dbl_calls(&w->d, "watch namespaces") >= 1);

    /* no namespace is labelled archive yet: nothing to be near */
    const char *near_archived_db =
        ",\"affinity\":{\"podAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[{\"labelSelector\":"
        "{\"matchLabels\":{\"app\":\"db\"}},\"namespaceSelector\":{\"matchLabels\":{\"team\":\"archive\"}},"
        "\"topologyKey\":\"" HOSTNAME "\"}]}}";
    pod(w, "apps", "cache-2", "\"app\":\"cache\"", near_archived_db, NULL, "100m");
    assert_true(kn_it_wait_event(&w->d, "apps", "cache-2", "FailedScheduling", WAIT_S));
    assert_int_equal(kn_dbl_events(&w->d, "apps", "cache-2", "FailedScheduling",
                                   "0/2 nodes are available: 2 node(s) didn't match pod affinity rules.", NULL),
                     1);
    /* the data team's namespace is relabelled archive: the watch brings it, the pod is placed */
    kn_json *ns = NULL;
    assert_int_equal(kn_dbl_call(&w->d, "GET", "/api/v1/namespaces/data", NULL, &ns), 200);
    kn_json_set_str(kn_json_dig(ns, "metadata", "labels", NULL), "team", "archive");
    char *text = kn_json_dump(ns, NULL);
    assert_int_equal(kn_dbl_call(&w->d, "PUT", "/api/v1/namespaces/data", text, NULL), 200);
    free(text);
    kn_json_free(ns);
    n = node_of(w, "apps", "cache-2");
    assert_string_equal(n, "node-b");
    free(n);
    stop_cleanly(w);
}

/* A bound pod's required anti-affinity keeps a plain pod it selects off its
 * node, though that node is the emptier one. */
static void placed_pods_anti_affinity_is_symmetric(void **state)
{
    world *w = *state;
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "8", "32Gi"), 0);
    assert_int_equal(kn_dbl_add_node(&w->d, "node-b", "8", "32Gi"), 0);
    pod(w, "default", "loner", "\"app\":\"loner\"",
        ",\"affinity\":{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[{"
        "\"labelSelector\":"
        "{\"matchLabels\":{\"app\":\"web\"}},\"topologyKey\":\"" HOSTNAME "\"}]}}",
        "node-a", "100m");
    pod(w, "default", "busy", "\"app\":\"busy\"", "", "node-b", "6");
    start(w);
    pod(w, "default", "web-1", "\"app\":\"web\"", "", NULL, "100m");
    char *n = node_of(w, "default", "web-1");
    assert_string_equal(n, "node-b");
    free(n);
    /* node-b full for a 2-core web pod: node-a would fit it but for the loner */
    pod(w, "default", "web-2", "\"app\":\"web\"", "", NULL, "2");
    assert_true(kn_it_wait_event(&w->d, "default", "web-2", "FailedScheduling", WAIT_S));
    assert_int_equal(
        kn_dbl_events(&w->d, "default", "web-2", "FailedScheduling",
                      "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't satisfy existing "
                      "pods anti-affinity rules.",
                      NULL),
        1);
    stop_cleanly(w);
}

/* A gang of three anti-affine on hostname: on two nodes nothing is bound; a
 * third node comes and all three are bound, one per node. */
static void anti_affine_gang_waits_whole_then_spreads(void **state)
{
    world *w = *state;
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "8", "32Gi"), 0);
    assert_int_equal(kn_dbl_add_node(&w->d, "node-b", "8", "32Gi"), 0);
    start(w);
    char labels[256];
    kn_it_gang_labels(labels, sizeof labels, "mpi", 3);
    labels[strlen(labels) - 1] = '\0'; /* members of the object, without its braces */
    char members[300];
    snprintf(members, sizeof members, "%s,\"app\":\"mpi\"", labels + 1);
    const char *anti =
        ",\"affinity\":{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
        "[{\"labelSelector\":{\"matchLabels\":{\"app\":\"mpi\"}},\"topologyKey\":\"" HOSTNAME "\"}]}}";
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "mpi-%d", i);
        pod(w, "default", name, members, anti, NULL, "1");
    }
    assert_true(kn_it_wait_event(&w->d, "default", "mpi-0", "FailedScheduling", WAIT_S));
    assert_int_equal(kn_dbl_count_bound(&w->d, "default", "mpi-"), 0);
    assert_int_equal(kn_dbl_add_node(&w->d, "node-c", "8", "32Gi"), 0);
    assert_true(kn_it_wait_n_bound(&w->d, "default", "mpi-", 3, WAIT_S));
    char *nodes[3];
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "mpi-%d", i);
        nodes[i] = kn_dbl_pod_node(&w->d, "default", name);
    }
    assert_string_not_equal(nodes[0], nodes[1]);
    assert_string_not_equal(nodes[0], nodes[2]);
    assert_string_not_equal(nodes[1], nodes[2]);
    for (int i = 0; i < 3; i++)
        free(nodes[i]);
    stop_cleanly(w);
}

/* DoNotSchedule maxSkew 1 on zone: 1-cpu pods alternate zones, though each
 * would go to the emptier zone-a alone. With minDomains 3 and two zones the
 * global minimum is 0, so no node passes and the pod says so in
 * kube-scheduler's words; a third zone's node takes it. A 6-cpu pod then
 * finds the full zones' nodes short of cpu (NodeResourcesFit comes first)
 * and zone-a's over the skew. */
static void spread_do_not_schedule_alternates_zones(void **state)
{
    world *w = *state;
    two_zones(w);
    start(w);
    char spec[512];
    zone_spread(spec, sizeof spec, "web", "DoNotSchedule", "");
    place_in_zones(w, "web", "", spec, "abab");
    zone_spread(spec, sizeof spec, "web", "DoNotSchedule", ",\"minDomains\":3");
    pod(w, "default", "web-4", "\"app\":\"web\"", spec, NULL, "1");
    pending_with(w, "web-4", "0/4 nodes are available: 4 node(s) didn't match pod topology spread constraints.");
    zone_node(w, "c-1", "zone-c", "4");
    char *n = node_of(w, "default", "web-4");
    assert_string_equal(n, "c-1");
    free(n);
    /* zones a:2 b:2 c:1 */
    zone_spread(spec, sizeof spec, "web", "DoNotSchedule", "");
    pod(w, "default", "web-big", "\"app\":\"web\"", spec, NULL, "6");
    pending_with(w, "web-big",
                 "0/5 nodes are available: 2 node(s) didn't match pod topology spread constraints, 3 Insufficient "
                 "cpu.");
    stop_cleanly(w);
}

/* ScheduleAnyway maxSkew 1 on zone only scores: the second pod goes to
 * zone-b against the resource score (zone-a without the constraint), the
 * third back to zone-a; a 6-cpu pod fits only zone-a's nodes and is bound
 * there over the skew, where the same pod under DoNotSchedule stays
 * pending. */
static void spread_schedule_anyway_scores_not_filters(void **state)
{
    world *w = *state;
    two_zones(w);
    start(w);
    char spec[512];
    zone_spread(spec, sizeof spec, "api", "ScheduleAnyway", "");
    place_in_zones(w, "api", "", spec, "aba");
    /* zones a:2 b:1 */
    char strict[512];
    zone_spread(strict, sizeof strict, "api", "DoNotSchedule", "");
    pod(w, "default", "api-strict", "\"app\":\"api\"", strict, NULL, "6");
    pending_with(w, "api-strict",
                 "0/4 nodes are available: 2 Insufficient cpu, 2 node(s) didn't match pod topology spread "
                 "constraints.");
    pod(w, "default", "api-big", "\"app\":\"api\"", spec, NULL, "6");
    assert_int_equal(zone_of(w, "default", "api-big"), 'a');
    char *n = kn_dbl_pod_node(&w->d, "default", "api-strict");
    assert_string_equal(n, ""); /* still over the skew */
    free(n);
    stop_cleanly(w);
}

/* A ReplicaSet's pods without constraints of their own get kube-scheduler's
 * system default spreading (ScheduleAnyway, hostname maxSkew 3 and zone
 * maxSkew 5): the second goes to the small zone-b node, where the resource
 * score alone would put it beside the first on the big zone-a node. */
static void replicaset_pods_get_default_spreading(void **state)
{
    world *w = *state;
    zone_node(w, "a-1", "zone-a", "16");
    zone_node(w, "b-1", "zone-b", "4");
    start(w);
    place_in_zones(w, "web",
                   ",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":"
                   "\"web-5d8f7c\",\"uid\":\"6f1c2a0e-3b7d-4e59-9a2c-0d4e8b1f7a53\",\"controller\":true,"
                   "\"blockOwnerDeletion\":true}]",
                   "", "ab");
    stop_cleanly(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(namespaces_are_served, kn_it_world_setup, kn_it_world_teardown),
        cmocka_unit_test_setup_teardown(namespace_selector_reads_watched_namespaces, kn_it_world_setup,
                                        kn_it_world_teardown),
        cmocka_unit_test_setup_teardown(placed_pods_anti_affinity_is_symmetric, kn_it_world_setup,
                                        kn_it_world_teardown),
        cmocka_unit_test_setup_teardown(anti_affine_gang_waits_whole_then_spreads, kn_it_world_setup,
                                        kn_it_world_teardown),
        cmocka_unit_test_setup_teardown(spread_do_not_schedule_alternates_zones, kn_it_world_setup,
                                        kn_it_world_teardown),
        cmocka_unit_test_setup_teardown(spread_schedule_anyway_scores_not_filters, kn_it_world_setup,
                                        kn_it_world_teardown),
        cmocka_unit_test_setup_teardown(replicaset_pods_get_default_spreading, kn_it_world_setup,
                                        kn_it_world_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
