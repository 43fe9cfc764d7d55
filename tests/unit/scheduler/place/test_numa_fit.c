/* NUMA policies against NodeResourceTopology zones, the topology annotation
 * and the KubeNexus labels: which zones a pod gets, and when a node is
 * filtered out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "support/sched_fixtures.h"

#define POLICY(p) "\"numa.scheduling.kubenexus.io/policy\":\"" p "\""
#define GPU_POLICY(p) POLICY(p) ",\"numa.scheduling.kubenexus.io/resources\":\"cpu,memory,nvidia.com/gpu\""

/* One zone of a NodeResourceTopology as the topology-updater reports it. */
static void zone_json(char *buf, size_t cap, int i, const char *cpu, const char *cpu_avail, const char *gpu)
{
    snprintf(
        buf, cap,
        "{\"name\":\"node-%d\",\"type\":\"Node\",\"costs\":[{\"name\":\"node-0\",\"value\":10}],"
        "\"resources\":[{\"name\":\"cpu\",\"capacity\":\"%s\",\"allocatable\":\"%s\",\"available\":\"%s\"},"
        "{\"name\":\"memory\",\"capacity\":\"64Gi\",\"allocatable\":\"64Gi\",\"available\":\"64Gi\"}%s%s%s%s%s]}",
        i, cpu, cpu, cpu_avail, *gpu ? ",{\"name\":\"nvidia.com/gpu\",\"capacity\":\"" : "", gpu,
        *gpu ? "\",\"allocatable\":\"" : "", gpu, *gpu ? "\",\"available\":\"2\"}" : "");
}

/* NRT for `node` with n zones of `cpu` cores each (available as given). */
static void nrt(kn_scheduler *s, const char *node, int n, const char *cpu, const char *const *avail,
                const char *gpu)
{
    char zones[4096] = "", z[1024];
    for (int i = 0; i < n; i++) {
        zone_json(z, sizeof(z), i, cpu, avail ? avail[i] : cpu, gpu);
        strcat(zones, i ? "," : "");
        strcat(zones, z);
    }
    kn_json *o = fx_parse("{\"apiVersion\":\"topology.node.k8s.io/v1alpha2\",\"kind\":\"NodeResourceTopology\","
                          "\"metadata\":{\"name\":\"%s\",\"uid\":\"nrt-%s\"},"
                          "\"topologyPolicies\":[\"SingleNUMANodeContainerLevel\"],"
                          "\"attributes\":[{\"name\":\"topologyManagerPolicy\",\"value\":\"single-numa-node\"}],"
                          "\"zones\":[%s,{\"name\":\"socket-0\",\"type\":\"Socket\"}]}",
                          node, node, zones);
    kn_err err = {{0}};
    if (kn_sched_apply_nrt(s, o, false, &err) != 0)
        fail_msg("apply nrt: %s", err.msg);
    kn_json_free(o);
}

static void numa_pod(kn_scheduler *s, const char *name, const char *cpu, const char *annotations)
{
    fx_pod_full(s, name, cpu, "1Gi", "", annotations, "", "", NULL, NULL);
}

static void expect_zones(const kn_sched_out *out, const char *pod, const char *csv)
{
    const kn_sched_binding *b = fx_binding(out, pod);
    if (b == NULL)
        fail_msg("%s was not bound", pod);
    if (csv == NULL) {
        assert_int_equal(b->n_zones, 0);
        assert_null(b->zones_annotation);
    } else {
        assert_non_null(b->zones_annotation);
        assert_string_equal(b->zones_annotation, csv);
    }
}

static void test_single_numa(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "numa-a", "32", "128Gi");
    nrt(s, "numa-a", 2, "16", NULL, "");
    numa_pod(s, "fits", "8", POLICY("single-numa"));
    numa_pod(s, "too-wide", "20", POLICY("single-numa"));
    fx_cycle(s, 1, out);
    expect_zones(out, "fits", "node-0");
    assert_string_equal(fx_binding(out, "fits")->zones[0], "node-0");
    /* 20 cores fit the node (24 left) but no zone */
    fx_expect_failed(out, "too-wide",
                     "0/1 nodes are available: 1 node(s) didn't have a NUMA zone that fits "
                     "(single-numa).");
}

static void test_zones_never_overcommitted(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "numa-a", "48", "128Gi"); /* 16 cores outside the reported zones */
    nrt(s, "numa-a", 2, "16", NULL, "");
    char name[32];
    for (int i = 0; i < 11; i++) {
        snprintf(name, sizeof(name), "exec-%d", i);
        numa_pod(s, name, "3", POLICY("single-numa"));
    }
    /* 5 x 3 cores per 16-core zone: 10 fit, the 11th would straddle zones */
    assert_int_equal(fx_cycle(s, 1, out), 10);
    int per_zone[2] = {0, 0};
    for (size_t i = 0; i < out->n_bindings; i++)
        per_zone[strcmp(out->bindings[i].zones[0], "node-1") == 0]++;
    assert_int_equal(per_zone[0], 5);
    assert_int_equal(per_zone[1], 5);
    fx_expect_failed(out, "exec-10",
                     "0/1 nodes are available: 1 node(s) didn't have a NUMA zone that fits "
                     "(single-numa).");
}

static void test_restricted_and_best_effort(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "numa-a", "32", "128Gi");
    nrt(s, "numa-a", 4, "8", NULL, "");
    numa_pod(s, "wide", "12", POLICY("restricted"));
    fx_cycle(s, 1, out);
    expect_zones(out, "wide", "node-0,node-1"); /* 12 cores: 2 zones of 8 is the fewest */
    fx_delete_pod(s, "wide");
    kn_sched_out_reset(out);

    for (int i = 0; i < 3; i++) { /* 5 of 8 cores used in zones 0..2 */
        char name[16];
        snprintf(name, sizeof(name), "small-%d", i);
        numa_pod(s, name, "5", POLICY("single-numa"));
    }
    fx_cycle(s, 2, out);
    expect_zones(out, "small-0", "node-0");
    expect_zones(out, "small-2", "node-2");
    /* 17 cores are free on the node, but no 2 zones hold 12 (8 + 3): restricted
     * filters the node, best-effort takes 3 zones */
    numa_pod(s, "restricted", "12", POLICY("restricted"));
    numa_pod(s, "best-effort", "12", POLICY("best-effort"));
    fx_cycle(s, 3, out);
    fx_expect_failed(out, "restricted",
                     "0/1 nodes are available: 1 node(s) couldn't fit the request in the fewest "
                     "NUMA zones that can hold it (restricted).");
    expect_zones(out, "best-effort", "node-0,node-1,node-3");
}

static void test_isolated_zone_stays_exclusive(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "numa-a", "48", "128Gi"); /* 16 cores outside the reported zones */
    nrt(s, "numa-a", 2, "16", NULL, "");
    numa_pod(s, "iso", "2", POLICY("isolated"));
    fx_cycle(s, 1, out);
    expect_zones(out, "iso", "node-0");
    numa_pod(s, "single", "15", POLICY("single-numa"));
    numa_pod(s, "single-2", "10", POLICY("single-numa"));
    numa_pod(s, "iso-2", "1", POLICY("isolated"));
    fx_cycle(s, 2, out);
    expect_zones(out, "single", "node-1");
    /* zone node-0 has 14 cores left but belongs to "iso" alone */
    fx_expect_failed(out, "single-2",
                     "0/1 nodes are available: 1 node(s) didn't have a NUMA zone that fits "
                     "(single-numa).");
    fx_expect_failed(out, "iso-2",
                     "0/1 nodes are available: 1 node(s) didn't have a free NUMA zone to isolate "
                     "the pod (isolated).");
    /* and pods without a policy cannot use the isolated zone's room either */
    fx_pod(s, "plain", "20", "1Gi"); /* 48 - 17 used - 14 kept for "iso" = 17 */
    fx_cycle(s, 3, out);
    fx_expect_failed(out, "plain", "0/1 nodes are available: 1 Insufficient cpu.");
    fx_delete_pod(s, "iso");
    fx_delete_pod(s, "single-2");
    fx_delete_pod(s, "iso-2");
    fx_cycle(s, 4, out);
    assert_string_equal(fx_node_of(out, "plain"), "numa-a");
}

static void test_stale_available_is_not_trusted(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "numa-a", "32", "128Gi");
    nrt(s, "numa-a", 2, "16", NULL, "");
    numa_pod(s, "a", "12", POLICY("single-numa"));
    fx_cycle(s, 1, out);
    expect_zones(out, "a", "node-0");
    /* the report still says 16 free in node-0: our own placement counts anyway */
    numa_pod(s, "b", "8", POLICY("single-numa"));
    fx_cycle(s, 2, out);
    expect_zones(out, "b", "node-1");
    /* a fresh report: something else took node-1's remaining cores */
    const char *avail[] = {"4", "0"};
    nrt(s, "numa-a", 2, "16", avail, "");
    numa_pod(s, "c", "4", POLICY("single-numa"));
    numa_pod(s, "d", "1", POLICY("single-numa"));
    fx_cycle(s, 3, out);
    expect_zones(out, "c", "node-0");
    fx_expect_failed(out, "d",
                     "0/1 nodes are available: 1 node(s) didn't have a NUMA zone that fits (single-numa).");
}

static void test_gpu_zones(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node_full(s, "gpu-a", "32", "128Gi", "", "", "", ",\"nvidia.com/gpu\":\"4\"", "True");
    nrt(s, "gpu-a", 2, "16", NULL, "2");
    char name[16];
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof(name), "gpu-%d", i);
        fx_pod_full(s, name, "2", "1Gi", "", GPU_POLICY("single-numa"), "", ",\"nvidia.com/gpu\":\"2\"", NULL,
                    NULL);
    }
    fx_cycle(s, 1, out);
    expect_zones(out, "gpu-0", "node-0");
    expect_zones(out, "gpu-1", "node-1");
    fx_expect_failed(out, "gpu-2", "0/1 nodes are available: 1 Insufficient nvidia.com/gpu.");
}

static void test_annotation_and_label_topologies(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node_full(
        s, "annotated", "16", "64Gi", "",
        "\"numa.kubenexus.io/topology\":\"{\\\"zones\\\":[{\\\"name\\\":\\\"numa0\\\",\\\"cpu\\\":\\\"8\\\","
        "\\\"memory\\\":\\\"32Gi\\\"},{\\\"name\\\":\\\"numa1\\\",\\\"cpu\\\":\\\"8\\\",\\\"memory\\\":"
        "\\\"32Gi\\\"}]}\"",
        ",\"taints\":[{\"key\":\"t\",\"value\":\"a\",\"effect\":\"NoSchedule\"}]", "", "True");
    fx_node_full(s, "labelled", "16", "64Gi",
                 "\"numa.kubenexus.io/node-count\":\"2\",\"numa.kubenexus.io/node-0-cpus\":\"0-7\","
                 "\"numa.kubenexus.io/node-0-memory\":\"34359738368\",\"numa.kubenexus.io/node-1-cpus\":\"8-15\","
                 "\"numa.kubenexus.io/node-1-memory\":\"34359738368\"",
                 "", ",\"taints\":[{\"key\":\"t\",\"value\":\"l\",\"effect\":\"NoSchedule\"}]", "", "True");
    fx_node(s, "flat", "64", "256Gi");
    fx_pod_full(s, "on-annotated", "6", "1Gi", "", POLICY("single-numa"),
                ",\"tolerations\":[{\"key\":\"t\",\"value\":\"a\"}]", "", NULL, NULL);
    fx_pod_full(s, "on-labelled", "6", "1Gi", "", POLICY("single-numa"),
                ",\"tolerations\":[{\"key\":\"t\",\"value\":\"l\"}]", "", NULL, NULL);
    fx_pod(s, "no-topology", "2", "1Gi");
    numa_pod(s, "needs-zone", "12", POLICY("single-numa"));
    numa_pod(s, "best-effort", "12", POLICY("best-effort"));
    fx_cycle(s, 1, out);
    expect_zones(out, "on-annotated", "numa0");
    expect_zones(out, "on-labelled", "node-0");
    fx_expect_failed(out, "needs-zone",
                     "0/3 nodes are available: 1 node(s) didn't report NUMA topology "
                     "(single-numa), 1 node(s) had untolerated taint {t: a}, "
                     "1 node(s) had untolerated taint {t: l}.");
    assert_string_equal(fx_node_of(out, "best-effort"), "flat");
    expect_zones(out, "best-effort", NULL);
}

/* After a restart, pods we bound carry their zones in an annotation (copied
 * from the Binding by the API server): they are counted in those zones. */
static void test_zones_of_bound_pods_survive_a_restart(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "numa-a", "32", "128Gi");
    nrt(s, "numa-a", 2, "16", NULL, "");
    fx_pod_full(s, "running", "12", "1Gi", "",
                POLICY("single-numa") ",\"numa.kubenexus.io/assigned-zones\":\"node-0\"", "", "", "numa-a", NULL);
    numa_pod(s, "new", "8", POLICY("single-numa"));
    fx_cycle(s, 1, out);
    expect_zones(out, "new", "node-1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        fx_sched_test(test_single_numa),
        fx_sched_test(test_zones_never_overcommitted),
        fx_sched_test(test_restricted_and_best_effort),
        fx_sched_test(test_isolated_zone_stays_exclusive),
        fx_sched_test(test_stale_available_is_not_trusted),
        fx_sched_test(test_gpu_zones),
        fx_sched_test(test_annotation_and_label_topologies),
        fx_sched_test(test_zones_of_bound_pods_survive_a_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
