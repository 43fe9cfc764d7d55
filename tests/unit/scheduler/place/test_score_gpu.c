/* GPU avoidance in scoring: a pod that requests no GPU goes to a node without
 * GPUs when one fits (so the GPUs stay free for the next GPU job), but a GPU
 * node is never filtered for it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "scheduler/cache/cluster.h"
#include "support/sched_fixtures.h"

#define EXECUTOR "\"spark-role\":\"executor\""
#define GPUS ",\"nvidia.com/gpu\":\"4\""

/* One pending pod, one cycle: the node it was bound to, or NULL. */
static const char *place_one(kn_scheduler *s, kn_sched_out *out, const char *cpu, const char *labels,
                             const char *extra_req)
{
    fx_pod_full(s, "p", cpu, "1Gi", labels, "", "", extra_req, NULL, NULL);
    fx_cycle(s, 1, out);
    return fx_node_of(out, "p");
}

static void test_binpacked_cpu_pod_avoids_gpu_node(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    /* bin-packing alone prefers the smaller, fuller node: the GPU node */
    fx_node_full(s, "a-gpu", "8", "32Gi", "", "", "", GPUS, "True");
    fx_node(s, "b-cpu", "32", "128Gi");
    assert_string_equal(place_one(s, out, "2", EXECUTOR, ""), "b-cpu");
}

static void test_spread_cpu_pod_avoids_gpu_node(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    /* spreading alone prefers the bigger, emptier node: the GPU node */
    fx_node_full(s, "a-gpu", "64", "256Gi", "", "", "", GPUS, "True");
    fx_node(s, "b-cpu", "4", "8Gi");
    fx_pod(s, "p", "1", "1Gi"); /* no spark-role: spread */
    fx_cycle(s, 1, out);
    assert_string_equal(fx_node_of(out, "p"), "b-cpu");
}

static void test_gpu_node_still_takes_cpu_pod_when_nothing_else_fits(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node_full(s, "a-gpu", "32", "128Gi", "", "", "", GPUS, "True");
    fx_node(s, "b-cpu", "4", "8Gi");
    assert_string_equal(place_one(s, out, "16", EXECUTOR, ""), "a-gpu");
    assert_null(fx_event(out, "p", "FailedScheduling"));
}

static void test_gpu_pod_still_prefers_gpu_node_it_packs(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    /* both offer GPUs the pod requests: plain bin-packing, the fuller node */
    fx_node_full(s, "a-gpu", "32", "128Gi", "", "", "", ",\"nvidia.com/gpu\":\"8\"", "True");
    fx_node_full(s, "b-gpu", "8", "32Gi", "", "", "", ",\"nvidia.com/gpu\":\"2\"", "True");
    assert_string_equal(place_one(s, out, "2", EXECUTOR, ",\"nvidia.com/gpu\":\"1\""), "b-gpu");
}

static void test_hugepages_are_not_avoided(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    /* hugepages are node memory, not a scarce device: bin-packing decides */
    fx_node_full(s, "a-huge", "8", "32Gi", "", "", "", ",\"hugepages-2Mi\":\"1Gi\"", "True");
    fx_node(s, "b-cpu", "32", "128Gi");
    assert_string_equal(place_one(s, out, "2", EXECUTOR, ""), "a-huge");
}

static void test_extended_resource_names(void **state)
{
    (void)state;
    assert_true(kn_res_is_extended("nvidia.com/gpu"));
    assert_true(kn_res_is_extended("amd.com/gpu"));
    assert_false(kn_res_is_extended("hugepages-2Mi"));
    assert_false(kn_res_is_extended("attachable-volumes-aws-ebs"));
    assert_false(kn_res_is_extended("kubernetes.io/batch"));
    assert_false(kn_res_is_extended("cpu"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        fx_sched_test(test_binpacked_cpu_pod_avoids_gpu_node),
        fx_sched_test(test_spread_cpu_pod_avoids_gpu_node),
        fx_sched_test(test_gpu_node_still_takes_cpu_pod_when_nothing_else_fits),
        fx_sched_test(test_gpu_pod_still_prefers_gpu_node_it_packs),
        fx_sched_test(test_hugepages_are_not_avoided),
        cmocka_unit_test(test_extended_resource_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
