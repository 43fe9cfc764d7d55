/* NUMA annotations as users put them on SparkApplication driver/executor specs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "spark/numa.h"

#define POLICY "\"numa.scheduling.kubenexus.io/policy\":"
#define RESOURCES "\"numa.scheduling.kubenexus.io/resources\":"

static int numa(const char *annotations, kn_numa_spec *out, kn_err *err)
{
    kn_err perr = {{0}};
    kn_json *a = kn_json_parse(annotations, strlen(annotations), NULL, &perr);
    if (a == NULL)
        fail_msg("fixture does not parse: %s", perr.msg);
    int rc = kn_numa_from_annotations(a, out, err);
    kn_json_free(a);
    return rc;
}

static void expect_resources(const char *annotations, kn_numa_policy policy, const char *want)
{
    kn_numa_spec s;
    kn_err err = {{0}};
    if (numa(annotations, &s, &err) != 0)
        fail_msg("%s: unexpected error: %s", annotations, err.msg);
    assert_int_equal(s.policy, policy);
    char buf[600];
    kn_numa_resources_str(&s, buf, sizeof(buf));
    assert_string_equal(buf, want);
}

static void expect_error(const char *annotations, const char *want)
{
    kn_numa_spec s;
    kn_err err = {{0}};
    assert_int_equal(numa(annotations, &s, &err), -1);
    if (strstr(err.msg, want) == NULL)
        fail_msg("%s: error \"%s\" does not contain \"%s\"", annotations, err.msg, want);
}

static void test_user_guide_gpu_example(void **state)
{
    (void)state;
    expect_resources("{" POLICY "\"single-numa\"," RESOURCES "\"cpu,memory,nvidia.com/gpu\"}", KN_NUMA_SINGLE,
                     "cpu,memory,nvidia.com/gpu");
}

static void test_policies(void **state)
{
    (void)state;
    expect_resources("{" POLICY "\"best-effort\"}", KN_NUMA_BEST_EFFORT, "cpu,memory");
    expect_resources("{" POLICY "\"restricted\"}", KN_NUMA_RESTRICTED, "cpu,memory");
    expect_resources("{" POLICY "\"single-numa\"}", KN_NUMA_SINGLE, "cpu,memory");
    expect_resources("{" POLICY "\"isolated\"}", KN_NUMA_ISOLATED, "cpu,memory");
    assert_string_equal(kn_numa_policy_name(KN_NUMA_NONE), "none");
    assert_string_equal(kn_numa_policy_name(KN_NUMA_BEST_EFFORT), "best-effort");
    assert_string_equal(kn_numa_policy_name(KN_NUMA_RESTRICTED), "restricted");
    assert_string_equal(kn_numa_policy_name(KN_NUMA_SINGLE), "single-numa");
    assert_string_equal(kn_numa_policy_name(KN_NUMA_ISOLATED), "isolated");
    kn_numa_policy p;
    assert_int_equal(kn_numa_parse_policy("isolated", &p, NULL), 0);
    assert_int_equal(p, KN_NUMA_ISOLATED);
}

static void test_no_annotations(void **state)
{
    (void)state;
    kn_numa_spec s;
    assert_int_equal(numa("{\"other\":\"x\"}", &s, NULL), 0);
    assert_int_equal(s.policy, KN_NUMA_NONE);
    assert_int_equal(s.n_resources, 0);
    assert_int_equal(kn_numa_from_annotations(NULL, &s, NULL), 0);
    assert_int_equal(s.policy, KN_NUMA_NONE);
}

static void test_unknown_policy(void **state)
{
    (void)state;
    expect_error("{" POLICY "\"single\"}",
                 "annotation numa.scheduling.kubenexus.io/policy: \"single\" is not a NUMA policy; "
                 "want one of best-effort, restricted, single-numa, isolated");
    expect_error("{" POLICY "\"\"}", "\"\" is not a NUMA policy");
    expect_error("{" POLICY "\"Single-NUMA\"}", "names are lower-case: single-numa");
    expect_error("{" POLICY "true}", "annotation numa.scheduling.kubenexus.io/policy is a boolean, want a string");
    kn_numa_policy p = KN_NUMA_SINGLE;
    kn_err err = {{0}};
    assert_int_equal(kn_numa_parse_policy("none", &p, &err), -1);
    assert_string_equal(err.msg, "\"none\" is not a NUMA policy; want one of best-effort, "
                                 "restricted, single-numa, isolated");
    assert_int_equal(p, KN_NUMA_SINGLE);
}

static void test_resource_names(void **state)
{
    (void)state;
    expect_resources("{" POLICY "\"restricted\"," RESOURCES "\" cpu , hugepages-2Mi,hugepages-1Gi \"}",
                     KN_NUMA_RESTRICTED, "cpu,hugepages-2Mi,hugepages-1Gi");
    expect_resources("{" POLICY "\"isolated\"," RESOURCES "\"amd.com/gpu,example.co.uk/fpga_v2.1,memory\"}",
                     KN_NUMA_ISOLATED, "amd.com/gpu,example.co.uk/fpga_v2.1,memory");
    expect_resources("{" POLICY "\"isolated\"," RESOURCES "\"nvidia.com/gpu\"}", KN_NUMA_ISOLATED,
                     "nvidia.com/gpu");
}

static void test_unknown_resources(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "gpu",
        "mem",
        "hugepages-",
        "hugepages-2XB",
        "nvidia/gpu",
        "Nvidia.com/gpu",
        "nvidia.com/",
        "nvidia.com/gpu/x",
        ".nvidia.com/gpu",
        "nvidia..com/gpu",
        "nvidia.com/-gpu",
        "nvidia-.com/gpu",
        "nvidia.com/g pu",
        "ephemeral-storage",
        "kubernetes.io/batteries",
        "node.kubernetes.io/gpu",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char ann[256], want[128];
        snprintf(ann, sizeof(ann), "{" POLICY "\"single-numa\"," RESOURCES "\"cpu,%s\"}", bad[i]);
        snprintf(want, sizeof(want), "\"%s\" is not a resource", bad[i]);
        expect_error(ann, want);
        expect_error(ann, "want cpu, memory, hugepages-<size>, or a vendor resource such as "
                          "nvidia.com/gpu");
        expect_error(ann, "annotation numa.scheduling.kubenexus.io/resources: ");
    }
    expect_error("{" POLICY "\"single-numa\"," RESOURCES "\"CPU\"}", "(resource names are lower-case)");
}

static void test_list_shape(void **state)
{
    (void)state;
    expect_error("{" POLICY "\"single-numa\"," RESOURCES "\"cpu,,memory\"}", "\"cpu,,memory\" has an empty entry");
    expect_error("{" POLICY "\"single-numa\"," RESOURCES "\"cpu,\"}", "has an empty entry");
    expect_error("{" POLICY "\"single-numa\"," RESOURCES "\"\"}", "has an empty entry");
    expect_error("{" POLICY "\"single-numa\"," RESOURCES "\" , \"}", "has an empty entry");
    expect_error("{" POLICY "\"single-numa\"," RESOURCES "\"cpu,memory, cpu\"}", "\"cpu\" is listed twice");
    /* Eight is the most; a ninth is refused. */
    expect_resources("{" POLICY "\"single-numa\"," RESOURCES
                     "\"cpu,memory,hugepages-2Mi,hugepages-1Gi,a.io/x1,a.io/x2,a.io/x3,a.io/x4\"}",
                     KN_NUMA_SINGLE, "cpu,memory,hugepages-2Mi,hugepages-1Gi,a.io/x1,a.io/x2,a.io/x3,a.io/x4");
    expect_error("{" POLICY "\"single-numa\"," RESOURCES
                 "\"cpu,memory,hugepages-2Mi,hugepages-1Gi,a.io/x1,a.io/x2,a.io/x3,a.io/x4,a.io/x5\"}",
                 "more than 8 resources are listed");
    char ann[512];
    snprintf(ann, sizeof(ann), "{" POLICY "\"single-numa\"," RESOURCES "\"example.com/%070d\"}", 0);
    expect_error(ann, "too long");
}

static void test_resources_without_policy(void **state)
{
    (void)state;
    expect_error("{" RESOURCES "\"cpu,memory\"}", "annotation numa.scheduling.kubenexus.io/resources is set but "
                                                  "numa.scheduling.kubenexus.io/policy is missing");
    expect_error("{" POLICY "\"isolated\"," RESOURCES "7}", "resources is a number, want a string");
    expect_error("[]", "want an object");
}

static void test_resources_str_truncates(void **state)
{
    (void)state;
    kn_numa_spec s;
    assert_int_equal(numa("{" POLICY "\"single-numa\"," RESOURCES "\"cpu,memory,nvidia.com/gpu\"}", &s, NULL), 0);
    char small[8];
    kn_numa_resources_str(&s, small, sizeof(small));
    assert_string_equal(small, "cpu,mem");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_guide_gpu_example),
        cmocka_unit_test(test_policies),
        cmocka_unit_test(test_no_annotations),
        cmocka_unit_test(test_unknown_policy),
        cmocka_unit_test(test_resource_names),
        cmocka_unit_test(test_unknown_resources),
        cmocka_unit_test(test_list_shape),
        cmocka_unit_test(test_resources_without_policy),
        cmocka_unit_test(test_resources_str_truncates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
