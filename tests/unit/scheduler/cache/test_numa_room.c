/* A NUMA zone's free room (kept per zone and per pod kind between cycles, so
 * that ranking a node reads it instead of recomputing it) follows every change
 * of the zone: a new NodeResourceTopology report, an allocatable that shrinks,
 * a pod that ends, a node deleted and added again. Each test first places a
 * pod of the same kind as the one it checks, so that a stale room or a stale
 * ranking would send the checked pod where it no longer fits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "support/sched_fixtures.h"

#define SINGLE "\"numa.scheduling.kubenexus.io/policy\":\"single-numa\""
#define EXECUTOR "\"spark-role\":\"executor\"" /* bin-packed: prefers the fuller node */

/* NRT for `node`: two zones of `alloc` cores, `avail0` / `avail1` of them available. */
static void report(kn_scheduler *s, const char *node, const char *alloc, const char *avail0, const char *avail1)
{
    const char *avail[2] = {avail0, avail1};
    char zones[2][512];
    for (int i = 0; i < 2; i++)
        snprintf(zones[i], sizeof(zones[i]),
                 "{\"name\":\"node-%d\",\"type\":\"Node\",\"resources\":["
                 "{\"name\":\"cpu\",\"capacity\":\"%s\",\"allocatable\":\"%s\",\"available\":\"%s\"},"
                 "{\"name\":\"memory\",\"capacity\":\"64Gi\",\"allocatable\":\"64Gi\",\"available\":\"64Gi\"}]}",
                 i, alloc, alloc, avail[i]);
    kn_json *o = fx_parse("{\"apiVersion\":\"topology.node.k8s.io/v1alpha2\",\"kind\":\"NodeResourceTopology\","
                          "\"metadata\":{\"name\":\"%s\",\"uid\":\"nrt-%s\"},\"zones\":[%s,%s]}",
                          node, node, zones[0], zones[1]);
    kn_err err = {{0}};
    if (kn_sched_apply_nrt(s, o, false, &err) != 0)
        fail_msg("apply nrt: %s", err.msg);
    kn_json_free(o);
}

static void delete_node(kn_scheduler *s, const char *name)
{
    kn_json *n = fx_parse("{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\","
                          "\"uid\":\"node-uid-%s\"}}",
                          name, name);
    kn_err err = {{0}};
    if (kn_sched_apply_node(s, n, true, &err) != 0)
        fail_msg("delete node %s: %s", name, err.msg);
    kn_json_free(n);
}

static void executor(kn_scheduler *s, const char *name, const char *cpu)
{
    fx_pod_full(s, name, cpu, "1Gi", EXECUTOR, SINGLE, "", "", NULL, NULL);
}

static void expect_on(const kn_sched_out *out, const char *pod, const char *node, const char *zone)
{
    const kn_sched_binding *b = fx_binding(out, pod);
    if (b == NULL)
        fail_msg("%s was not bound", pod);
    assert_string_equal(b->node, node);
    assert_int_equal(b->n_zones, 1);
    assert_string_equal(b->zones[0], zone);
}

/* CMocka setups: *state is an fx_sched with node "a" (and "b" for two): 32
 * cores, two zones of 16 cores all available. */
static int cluster_setup(void **state, int nodes)
{
    fx_sched *f = fx_sched_new(NULL);
    *state = f;
    const char *names[2] = {"a", "b"};
    for (int i = 0; i < nodes; i++) {
        fx_node(f->s, names[i], "32", "128Gi");
        report(f->s, names[i], "16", "16", "16");
    }
    return 0;
}

static int one_node_setup(void **state)
{
    return cluster_setup(state, 1);
}

static int two_nodes_setup(void **state)
{
    return cluster_setup(state, 2);
}

#define one_node_test(t) cmocka_unit_test_setup_teardown(t, one_node_setup, fx_sched_teardown)
#define two_nodes_test(t) cmocka_unit_test_setup_teardown(t, two_nodes_setup, fx_sched_teardown)

/* A later cycle: out holds only what it decided. */
static void next_cycle(kn_scheduler *s, double now, kn_sched_out *out)
{
    kn_sched_out_reset(out);
    fx_cycle(s, now, out);
}

/* Others use most of the zones per the report; a newer report frees one. */
static void test_new_report_frees_room(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    report(s, "a", "16", "6", "2");
    executor(s, "warm", "4");
    executor(s, "waits", "4");
    fx_cycle(s, 1, out);
    expect_on(out, "warm", "a", "node-0");
    fx_expect_failed(out, "waits",
                     "0/1 nodes are available: 1 node(s) didn't have a NUMA zone that fits "
                     "(single-numa).");
    report(s, "a", "16", "2", "16"); /* zone 1's users ended (the report counts warm already) */
    next_cycle(s, 2, out);
    expect_on(out, "waits", "a", "node-1");
}

/* The zones' allocatable shrinks under a pod of the same kind: the fuller node
 * (preferred by bin-packing) can no longer hold the next one. */
static void test_allocatable_shrinks(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    executor(s, "warm", "6");
    executor(s, "second", "6");
    fx_cycle(s, 1, out);
    expect_on(out, "warm", "a", "node-0");
    expect_on(out, "second", "a", "node-0"); /* bin-packed next to warm */
    report(s, "a", "8", "0", "8");           /* a's zones shrink to 8 cores: node-1 holds one more */
    executor(s, "third", "6");
    executor(s, "fourth", "6");
    next_cycle(s, 2, out);
    expect_on(out, "third", "a", "node-1");
    expect_on(out, "fourth", "b", "node-0");
}

/* A pod that ends gives its zone back. */
static void test_ended_pod_returns_room(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    executor(s, "first", "12");
    executor(s, "second", "12");
    executor(s, "third", "12");
    fx_cycle(s, 1, out);
    expect_on(out, "first", "a", "node-0");
    expect_on(out, "second", "a", "node-1");
    assert_null(fx_node_of(out, "third"));
    fx_delete_pod(s, "second");
    next_cycle(s, 2, out);
    expect_on(out, "third", "a", "node-1");
}

/* A node deleted and added again with smaller zones starts from its new
 * report, not from what the old node had free. */
static void test_node_removed_and_readded(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    executor(s, "warm", "10");
    fx_cycle(s, 1, out);
    expect_on(out, "warm", "a", "node-0");
    fx_delete_pod(s, "warm");
    delete_node(s, "a");
    fx_node(s, "a", "16", "128Gi");
    report(s, "a", "8", "8", "8"); /* 8-core zones now: no 10-core pod fits a zone of a */
    executor(s, "after", "10");
    next_cycle(s, 2, out);
    expect_on(out, "after", "b", "node-0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        one_node_test(test_new_report_frees_room),
        two_nodes_test(test_allocatable_shrinks),
        one_node_test(test_ended_pod_returns_room),
        two_nodes_test(test_node_removed_and_readded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
