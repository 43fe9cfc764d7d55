/* test_rules_pod.c - the Pod rules on driver and executor pods as Spark 3.5 and
 * the Spark Operator create them (after the API server's defaulting), and on
 * ordinary pods, through kn_admit_http(); every patch applied. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "support/admission_test_util.h"

#define LABELS "/request/object/metadata/labels"
#define ANNS "/request/object/metadata/annotations"
#define GANG_N "pod-group.scheduling.kubenexus.io/name"
#define GANG_M "pod-group.scheduling.kubenexus.io/min-available"
#define RES "scheduling.kubenexus.io/executor-reservation"

/* A gang member still on default-scheduler gets exactly one `replace`. */
static void expect_scheduler_replaced(const char *fixture_name)
{
    kn_json *r = fixture(fixture_name);
    admitted a = admit(r, KN_ADMIT_MUTATE);
    assert_true(is_allowed(&a));
    assert_non_null(a.patch);
    assert_int_equal(kn_json_len(a.patch), 1);
    assert_string_equal(str_at(a.patch, "/0/op"), "replace");
    assert_string_equal(str_at(a.patch, "/0/path"), "/spec/schedulerName");
    assert_string_equal(str_at(a.patched, "/spec/schedulerName"), "kubenexus-scheduler");
    assert_int_equal(n_warnings(&a), 0);
    /* the stored pod passes unchanged */
    expect_stored_unchanged(r, &a);
    admitted_free(&a);
    kn_json_free(r);
}

static void test_driver_pod(void **state)
{
    (void)state;
    expect_scheduler_replaced("pod-spark-pi-driver.json");
}

static void test_executor_pod(void **state)
{
    (void)state;
    expect_scheduler_replaced("pod-spark-pi-exec-1.json");
}

static void test_plain_pod_untouched(void **state)
{
    (void)state;
    kn_json *r = fixture("pod-plain.json");
    admitted a = admit(r, KN_ADMIT_MUTATE);
    assert_allowed_unchanged(&a);
    assert_string_equal(kn_json_get_str(kn_json_get(a.resp, "response"), "uid"),
                        "3c4d5e6f-7081-4c9d-8e0f-2a3b4c5d6e7f");
    admitted_free(&a);
    /* invalid NUMA annotations on a pod that is not ours: not even read */
    kn_json *ann = kn_json_new_object();
    kn_json_set_str(ann, "numa.scheduling.kubenexus.io/policy", "bogus");
    set_at(r, "/request/object/metadata", "annotations", ann);
    expect_unchanged(r, KN_ADMIT_MUTATE);
    kn_json_free(r);
}

static void test_spark_pod_without_gang(void **state)
{
    (void)state;
    kn_json *r = fixture("pod-spark-pi-exec-1.json");
    remove_at(r, LABELS, GANG_N);
    remove_at(r, LABELS, GANG_M);
    expect_unchanged(r, KN_ADMIT_MUTATE);
    /* a reservation without a gang does nothing: said, not denied */
    kn_json *res = kn_json_new_object();
    kn_json_set_str(res, RES, "{\"count\":3,\"requests\":{\"cpu\":\"1\"}}");
    set_at(r, "/request/object/metadata", "annotations", res);
    admitted a = admit(r, KN_ADMIT_MUTATE);
    assert_allowed_unchanged(&a);
    assert_int_equal(n_warnings(&a), 1);
    assert_string_equal(warning(&a, 0),
                        "annotation scheduling.kubenexus.io/executor-reservation is ignored: the pod "
                        "has no gang labels");
    admitted_free(&a);
    /* but a Spark pod's NUMA annotations are checked */
    kn_json *ann = kn_json_new_object();
    kn_json_set_str(ann, "numa.scheduling.kubenexus.io/policy", "strict");
    set_at(r, "/request/object/metadata", "annotations", ann);
    expect_denial_has(
        r, KN_ADMIT_MUTATE,
        (const char *const[]){"Pod default/spark-pi-exec-1: annotations: ", "\"strict\"", "single-numa", NULL});
    kn_json_free(r);
}

static void test_gang_labels_invalid(void **state)
{
    (void)state;
    kn_json *r = fixture("pod-spark-pi-exec-1.json");
    set_at(r, LABELS, GANG_M, kn_json_new_string("0"));
    expect_denial_has(r, KN_ADMIT_MUTATE,
                      (const char *const[]){"Pod default/spark-pi-exec-1: ", GANG_M, "\"0\"", NULL});
    set_at(r, LABELS, GANG_M, kn_json_new_string("4"));
    set_at(r, LABELS, GANG_N, kn_json_new_string("-spark-pi"));
    expect_denial_has(r, KN_ADMIT_MUTATE, (const char *const[]){GANG_N, "\"-spark-pi\"", NULL});
    /* min-available without a name */
    remove_at(r, LABELS, GANG_N);
    expect_denial_has(r, KN_ADMIT_MUTATE, (const char *const[]){": ", NULL});
    kn_json_free(r);
}

static void test_reservation_vs_min_available(void **state)
{
    (void)state;
    kn_json *r = fixture("pod-spark-pi-driver.json");
    set_at(r, LABELS, GANG_M, kn_json_new_string("5"));
    expect_denied(r, KN_ADMIT_MUTATE,
                  "Pod default/spark-pi-driver: label pod-group.scheduling.kubenexus.io/min-available is \"5\", "
                  "want \"4\" (1 driver + 3 executors reserved by annotation "
                  "scheduling.kubenexus.io/executor-reservation)");
    remove_at(r, LABELS, GANG_M); /* a gang of 1 by its labels */
    expect_denied(r, KN_ADMIT_MUTATE,
                  "Pod default/spark-pi-driver: label pod-group.scheduling.kubenexus.io/min-available is missing, "
                  "want \"4\" (1 driver + 3 executors reserved by annotation "
                  "scheduling.kubenexus.io/executor-reservation)");
    set_at(r, LABELS, GANG_M, kn_json_new_string("4"));
    set_at(r, ANNS, RES, kn_json_new_string("{\"count\":3,\"requests\":{\"cpu\":\"one\"}}"));
    expect_denial_has(r, KN_ADMIT_MUTATE,
                      (const char *const[]){"Pod default/spark-pi-driver: annotation "
                                            "scheduling.kubenexus.io/executor-reservation: requests",
                                            NULL});
    set_at(r, ANNS, RES, kn_json_new_string("not json"));
    expect_denial_has(r, KN_ADMIT_VALIDATE, (const char *const[]){": ", NULL});
    /* numa in the reservation follows the annotation rules */
    set_at(r, ANNS, RES,
           kn_json_new_string("{\"count\":3,\"requests\":{\"cpu\":\"1\"},\"numa\":{\"policy\":\"tight\"}}"));
    expect_denial_has(r, KN_ADMIT_MUTATE, (const char *const[]){"numa", NULL});
    set_at(r, ANNS, RES,
           kn_json_new_string("{\"count\":3,\"requests\":{\"cpu\":\"1\",\"memory\":\"896Mi\"},"
                              "\"numa\":{\"policy\":\"single-numa\",\"resources\":\"cpu,memory\"}}"));
    admitted a = admit(r, KN_ADMIT_MUTATE);
    assert_true(is_allowed(&a));
    admitted_free(&a);
    kn_json_free(r);
}

/* A driver whose gang is a PodGroup: its reservation is taken as it is (the
 * PodGroup's size is out of sight), its scheduler left alone (a
 * default-scheduler may run the coscheduling plugin), a bad PodGroup name
 * refused. */
static void test_podgroup_gang_pod(void **state)
{
    (void)state;
    kn_json *r = fixture("pod-spark-pi-driver.json");
    remove_at(r, LABELS, GANG_N);
    remove_at(r, LABELS, GANG_M);
    set_at(r, LABELS, "scheduling.x-k8s.io/pod-group", kn_json_new_string("spark-pi-pg"));
    size_t warnings = expect_unchanged(r, KN_ADMIT_MUTATE);
    assert_int_equal(warnings, 0);
    set_at(r, "/request/object/spec", "schedulerName", kn_json_new_string("default-scheduler"));
    expect_unchanged(r, KN_ADMIT_MUTATE);
    remove_at(r, LABELS, "scheduling.x-k8s.io/pod-group");
    set_at(r, ANNS, "scheduling.k8s.io/group-name", kn_json_new_string("Spark_Pi"));
    expect_denial_has(
        r, KN_ADMIT_MUTATE,
        (const char *const[]){
            "Pod default/spark-pi-driver: annotation "
            "scheduling.k8s.io/group-name is \"Spark_Pi\", want the name of a scheduling.volcano.sh/v1beta1 "
            "PodGroup",
            NULL});
    kn_json_free(r);
}

static void test_scheduler_name_cases(void **state)
{
    (void)state;
    kn_json *r = fixture("pod-spark-pi-exec-1.json");
    /* absent (a client that skips defaulting, e.g. the offline check) -> add */
    remove_at(r, "/request/object/spec", "schedulerName");
    admitted a = admit(r, KN_ADMIT_MUTATE);
    assert_string_equal(str_at(a.patch, "/0/op"), "add");
    assert_string_equal(str_at(a.patched, "/spec/schedulerName"), "kubenexus-scheduler");
    admitted_free(&a);
    /* empty -> replace */
    set_at(r, "/request/object/spec", "schedulerName", kn_json_new_string(""));
    a = admit(r, KN_ADMIT_MUTATE);
    assert_string_equal(str_at(a.patch, "/0/op"), "replace");
    assert_string_equal(str_at(a.patched, "/spec/schedulerName"), "kubenexus-scheduler");
    admitted_free(&a);
    /* another scheduler: left alone, with a warning */
    set_at(r, "/request/object/spec", "schedulerName", kn_json_new_string("volcano"));
    a = admit(r, KN_ADMIT_MUTATE);
    assert_allowed_unchanged(&a);
    assert_int_equal(n_warnings(&a), 1);
    assert_non_null(strstr(warning(&a, 0), "volcano"));
    admitted_free(&a);
    /* validate never patches */
    set_at(r, "/request/object/spec", "schedulerName", kn_json_new_string("default-scheduler"));
    expect_unchanged(r, KN_ADMIT_VALIDATE);
    /* configured name */
    kn_admit_config cfg = {.scheduler_name = "gangs"};
    a = admit_cfg(r, KN_ADMIT_MUTATE, &cfg);
    assert_string_equal(str_at(a.patched, "/spec/schedulerName"), "gangs");
    admitted_free(&a);
    kn_json_free(r);
}

/* Coscheduling-plugin labels are gang labels too. */
static void test_sigs_labels(void **state)
{
    (void)state;
    kn_json *r = fixture("pod-plain.json");
    set_at(r, LABELS, "pod-group.scheduling.sigs.k8s.io/name", kn_json_new_string("web"));
    set_at(r, LABELS, "pod-group.scheduling.sigs.k8s.io/min-available", kn_json_new_string("2"));
    admitted a = admit(r, KN_ADMIT_MUTATE);
    assert_true(is_allowed(&a));
    assert_string_equal(str_at(a.patched, "/spec/schedulerName"), "kubenexus-scheduler");
    admitted_free(&a);
    kn_json_free(r);
}

static void test_pod_not_handled(void **state)
{
    (void)state;
    kn_json *r = fixture("pod-spark-pi-exec-1.json");
    set_at(r, LABELS, GANG_M, kn_json_new_string("zero"));
    set_at(r, "/request", "operation", kn_json_new_string("UPDATE"));
    expect_unchanged(r, KN_ADMIT_MUTATE);
    /* pods/binding CREATE carries a Binding: not a Pod to check */
    set_at(r, "/request", "operation", kn_json_new_string("CREATE"));
    set_at(r, "/request", "subResource", kn_json_new_string("binding"));
    kn_json *binding = kn_json_new_object();
    kn_json_set_str(binding, "kind", "Binding");
    set_at(r, "/request", "object", binding);
    admitted a = admit(r, KN_ADMIT_MUTATE);
    assert_allowed_unchanged(&a);
    assert_string_equal(a.verdict, "allowed");
    admitted_free(&a);
    kn_json_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_driver_pod),          cmocka_unit_test(test_executor_pod),
        cmocka_unit_test(test_plain_pod_untouched), cmocka_unit_test(test_spark_pod_without_gang),
        cmocka_unit_test(test_gang_labels_invalid), cmocka_unit_test(test_reservation_vs_min_available),
        cmocka_unit_test(test_podgroup_gang_pod),   cmocka_unit_test(test_scheduler_name_cases),
        cmocka_unit_test(test_sigs_labels),         cmocka_unit_test(test_pod_not_handled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
