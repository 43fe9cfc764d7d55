/* test_rules_sparkapp.c - the SparkApplication rules, end to end through
 * kn_admit_http() on AdmissionReviews shaped as kube-apiserver sends them
 * (the seed guide's examples), every patch applied to the object as sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "support/admission_test_util.h"

#define RES_ANN "/spec/driver/annotations/scheduling.kubenexus.io~1executor-reservation"
#define DRV_LABELS "/request/object/spec/driver/labels"
#define EXE_LABELS "/request/object/spec/executor/labels"
#define GANG_N "pod-group.scheduling.kubenexus.io/name"
#define GANG_M "pod-group.scheduling.kubenexus.io/min-available"

/* Admits a fixture in mutate mode and checks it is allowed with exactly the
 * reservation annotation added. */
static void expect_reservation(const char *fixture_name, const char *want)
{
    kn_json *r = fixture(fixture_name);
    admitted a = admit(r, KN_ADMIT_MUTATE);
    assert_true(is_allowed(&a));
    assert_non_null(a.patch);
    assert_int_equal(kn_json_len(a.patch), 1);
    assert_string_equal(str_at(a.patched, RES_ANN), want);
    /* Nothing else changed. */
    kn_json *copy = kn_json_clone(a.patched);
    kn_json_remove(kn_json_pointer_get(copy, "/spec/driver/annotations"),
                   "scheduling.kubenexus.io/executor-reservation");
    if (kn_json_len(kn_json_pointer_get(copy, "/spec/driver/annotations")) == 0)
        kn_json_remove(kn_json_pointer_get(copy, "/spec/driver"), "annotations");
    assert_true(kn_json_equal(copy, object_of(r)));
    kn_json_free(copy);

    /* Admitting the stored object again changes nothing (idempotent). */
    expect_stored_unchanged(r, &a);
    admitted_free(&a);
    kn_json_free(r);
}

static void test_guide_spark_pi(void **state)
{
    (void)state;
    expect_reservation("sparkapp-spark-pi.json",
                       "{\"count\":3,\"requests\":{\"cpu\":\"1\",\"memory\":\"896Mi\"}}");
    /* The driver had no annotations: the patch adds the whole map. */
    kn_json *r = fixture("sparkapp-spark-pi.json");
    admitted a = admit(r, KN_ADMIT_MUTATE);
    assert_string_equal(str_at(a.patch, "/0/op"), "add");
    assert_string_equal(str_at(a.patch, "/0/path"), "/spec/driver/annotations");
    assert_string_equal(a.verdict, "patched");
    admitted_free(&a);
    kn_json_free(r);
}

static void test_guide_data_processing(void **state)
{
    (void)state;
    /* PySpark, 8g + memoryOverhead 1g */
    expect_reservation("sparkapp-data-processing.json",
                       "{\"count\":20,\"requests\":{\"cpu\":\"2\",\"memory\":\"9Gi\"}}");
}

static void test_guide_gpu_numa(void **state)
{
    (void)state;
    /* Python: 16g + 0.4 * 16384 MiB = 22937Mi; the gpu and the NUMA spec travel along. */
    expect_reservation("sparkapp-spark-ml-gpu.json",
                       "{\"count\":8,\"requests\":{\"cpu\":\"4\",\"memory\":\"22937Mi\",\"nvidia.com/gpu\":\"1\"},"
                       "\"numa\":{\"policy\":\"single-numa\",\"resources\":\"cpu,memory,nvidia.com/gpu\"}}");
    kn_json *r = fixture("sparkapp-spark-ml-gpu.json");
    admitted a = admit(r, KN_ADMIT_MUTATE);
    /* The driver already has annotations: one member is added, escaped. */
    assert_string_equal(str_at(a.patch, "/0/path"), RES_ANN);
    assert_string_equal(str_at(a.patched, "/spec/driver/annotations/numa.scheduling.kubenexus.io~1policy"),
                        "single-numa");
    admitted_free(&a);
    kn_json_free(r);
}

static void test_guide_streaming(void **state)
{
    (void)state;
    expect_reservation("sparkapp-kafka-stream.json",
                       "{\"count\":5,\"requests\":{\"cpu\":\"2\",\"memory\":\"4505Mi\"}}");
}

static void test_guide_migration(void **state)
{
    (void)state;
    expect_reservation("sparkapp-migration-after.json",
                       "{\"count\":5,\"requests\":{\"cpu\":\"1\",\"memory\":\"1408Mi\"}}");
    /* Before: no gang at all -> allowed untouched. */
    kn_json *r = fixture("sparkapp-migration-before.json");
    expect_unchanged(r, KN_ADMIT_MUTATE);
    kn_json_free(r);
}

/* Executors whose labels differ from the driver's: the reservation's
 * "labels" are theirs as the patch leaves them, gang labels filled in, so
 * the slots carry what the executors will carry and admitting the patched
 * object again (with the same configuration) changes nothing. */
static void test_filled_labels_reach_the_reservation(void **state)
{
    (void)state;
    kn_json *r = fixture("sparkapp-migration-before.json");
    const char *team = "{\"team\":\"etl\"}";
    set_at(r, "/request/object/spec/executor", "labels", kn_json_parse(team, strlen(team), NULL, NULL));
    kn_admit_config cfg = {.scheduler_name = "kubenexus-scheduler", .fill_gang_labels = true};
    admitted a = admit_cfg(r, KN_ADMIT_MUTATE, &cfg);
    assert_true(is_allowed(&a));
    kn_json *res = kn_json_parse(str_at(a.patched, RES_ANN), strlen(str_at(a.patched, RES_ANN)), NULL, NULL);
    assert_non_null(res);
    const kn_json *labels = kn_json_get(res, "labels");
    assert_string_equal(kn_json_get_str(labels, "team"), "etl");
    assert_string_equal(kn_json_get_str(labels, GANG_N), "my-job");
    assert_string_equal(kn_json_get_str(labels, GANG_M), "6");
    kn_json_free(res);
    set_at(r, "/request", "object", kn_json_clone(a.patched));
    admitted_free(&a);
    a = admit_cfg(r, KN_ADMIT_MUTATE, &cfg);
    assert_true(is_allowed(&a));
    assert_null(a.patch);
    admitted_free(&a);
    kn_json_free(r);
}

static void test_fill_gang_labels(void **state)
{
    (void)state;
    kn_json *r = fixture("sparkapp-migration-before.json");
    kn_admit_config cfg = {.scheduler_name = "kubenexus-scheduler", .fill_gang_labels = true};
    admitted a = admit_cfg(r, KN_ADMIT_MUTATE, &cfg);
    assert_true(is_allowed(&a));
    assert_non_null(a.patch);
    const char *roles[] = {"/spec/driver", "/spec/executor"};
    for (int i = 0; i < 2; i++) {
        char p[128];
        snprintf(p, sizeof(p), "%s/labels/pod-group.scheduling.kubenexus.io~1name", roles[i]);
        assert_string_equal(str_at(a.patched, p), "my-job");
        snprintf(p, sizeof(p), "%s/labels/pod-group.scheduling.kubenexus.io~1min-available", roles[i]);
        assert_string_equal(str_at(a.patched, p), "6");
        snprintf(p, sizeof(p), "%s/schedulerName", roles[i]);
        assert_string_equal(str_at(a.patched, p), "kubenexus-scheduler");
    }
    assert_string_equal(str_at(a.patched, RES_ANN),
                        "{\"count\":5,\"requests\":{\"cpu\":\"1\",\"memory\":\"1408Mi\"}}");
    /* The filled object passes the rules unchanged. */
    expect_stored_unchanged(r, &a);
    admitted_free(&a);
    /* Off by default: the same app is left ungrouped (above). A gang name
     * without min-available is filled in too. */
    kn_json_free(r);
    r = fixture("sparkapp-spark-pi.json");
    remove_at(r, DRV_LABELS, GANG_M);
    remove_at(r, EXE_LABELS, GANG_M);
    a = admit_cfg(r, KN_ADMIT_MUTATE, &cfg);
    assert_true(is_allowed(&a));
    assert_string_equal(
        str_at(a.patched, "/spec/executor/labels/pod-group.scheduling.kubenexus.io~1min-available"), "4");
    assert_string_equal(str_at(a.patched, "/spec/driver/labels/pod-group.scheduling.kubenexus.io~1min-available"),
                        "4");
    admitted_free(&a);
    expect_denied(
        r, KN_ADMIT_MUTATE,
        "SparkApplication default/spark-pi: driver label pod-group.scheduling.kubenexus.io/min-available "
        "is missing, want \"4\" (1 driver + 3 executors)");
    kn_json_free(r);
}

static void test_min_available_wrong(void **state)
{
    (void)state;
    kn_json *r = fixture("sparkapp-spark-pi.json");
    set_at(r, EXE_LABELS, GANG_M, kn_json_new_string("3"));
    expect_denied(
        r, KN_ADMIT_MUTATE,
        "SparkApplication default/spark-pi: executor label pod-group.scheduling.kubenexus.io/min-available "
        "is \"3\", want \"4\" (1 driver + 3 executors)");
    /* validate mode runs the same check */
    expect_denial_has(r, KN_ADMIT_VALIDATE, (const char *const[]){": ", NULL});
    /* not a positive integer */
    set_at(r, EXE_LABELS, GANG_M, kn_json_new_string("04"));
    expect_denial_has(r, KN_ADMIT_MUTATE,
                      (const char *const[]){"SparkApplication default/spark-pi: executor ", "\"04\"", NULL});
    kn_json_free(r);
}

/* One denial lists every problem of the object, as kube-apiserver lists
 * every field error: a gang with a missing name label and a min-available
 * that is not a number, and a size Spark rejects, all at once. */
static void test_every_problem_listed(void **state)
{
    (void)state;
    kn_json *r = fixture("sparkapp-spark-pi.json");
    remove_at(r, EXE_LABELS, GANG_N);
    set_at(r, EXE_LABELS, GANG_M, kn_json_new_string("four"));
    set_at(r, "/request/object/spec/driver", "memory", kn_json_new_string("4Gi"));
    expect_denied(
        r, KN_ADMIT_MUTATE,
        "SparkApplication default/spark-pi: spec.driver.memory: \"4Gi\" is not a Spark size "
        "(Spark wants 4g); executor label pod-group.scheduling.kubenexus.io/min-available is \"four\" but label "
        "pod-group.scheduling.kubenexus.io/name is missing; set pod-group.scheduling.kubenexus.io/name to the "
        "gang's name on the driver and every executor; label pod-group.scheduling.kubenexus.io/min-available "
        "is \"four\", want \"4\" (1 driver + 3 executors)");
    kn_json_free(r);
}

static void test_update_changes_instances(void **state)
{
    (void)state;
    kn_json *r = fixture("sparkapp-spark-pi-update.json");
    expect_denied(
        r, KN_ADMIT_MUTATE,
        "SparkApplication default/spark-pi: driver label pod-group.scheduling.kubenexus.io/min-available "
        "is \"4\", want \"6\" (1 driver + 5 executors)");
    set_at(r, DRV_LABELS, GANG_M, kn_json_new_string("6"));
    set_at(r, EXE_LABELS, GANG_M, kn_json_new_string("6"));
    admitted a = admit(r, KN_ADMIT_MUTATE);
    assert_true(is_allowed(&a));
    assert_string_equal(str_at(a.patched, RES_ANN),
                        "{\"count\":5,\"requests\":{\"cpu\":\"1\",\"memory\":\"896Mi\"}}");
    admitted_free(&a);
    kn_json_free(r);
}

static void test_gang_names(void **state)
{
    (void)state;
    kn_json *r = fixture("sparkapp-spark-pi.json");
    set_at(r, DRV_LABELS, GANG_N, kn_json_new_string("my-job-driver"));
    set_at(r, EXE_LABELS, GANG_N, kn_json_new_string("my-job-executor"));
    expect_denied(r, KN_ADMIT_MUTATE,
                  "SparkApplication default/spark-pi: gang name differs between roles: driver label "
                  "pod-group.scheduling.kubenexus.io/name is \"my-job-driver\", executor label "
                  "pod-group.scheduling.kubenexus.io/name is \"my-job-executor\"; want the same name on both, "
                  "or the pods never form one gang");
    remove_at(r, EXE_LABELS, GANG_N);
    remove_at(r, EXE_LABELS, GANG_M);
    expect_denied(r, KN_ADMIT_MUTATE,
                  "SparkApplication default/spark-pi: gang label pod-group.scheduling.kubenexus.io/name is "
                  "\"my-job-driver\" on the driver but missing on the executor; add it to spec.executor.labels "
                  "(or to metadata.labels for both roles)");
    /* bad label value */
    set_at(r, EXE_LABELS, GANG_N, kn_json_new_string("my job"));
    expect_denial_has(r, KN_ADMIT_MUTATE, (const char *const[]){"executor ", "\"my job\"", NULL});
    kn_json_free(r);
}

/* Gang labels on metadata.labels reach both roles (the operator copies them). */
static void test_gang_on_metadata_labels(void **state)
{
    (void)state;
    kn_json *r = fixture("sparkapp-spark-pi.json");
    kn_json *labels = kn_json_new_object();
    kn_json_set_str(labels, GANG_N, "spark-pi");
    kn_json_set_str(labels, GANG_M, "4");
    set_at(r, "/request/object/metadata", "labels", labels);
    remove_at(r, "/request/object/spec/driver", "labels");
    remove_at(r, "/request/object/spec/executor", "labels");
    admitted a = admit(r, KN_ADMIT_MUTATE);
    assert_true(is_allowed(&a));
    assert_non_null(str_at(a.patched, RES_ANN));
    admitted_free(&a);
    /* a role label overrides metadata.labels */
    kn_json *el = kn_json_new_object();
    kn_json_set_str(el, GANG_M, "5");
    set_at(r, "/request/object/spec/executor", "labels", el);
    expect_denied(
        r, KN_ADMIT_MUTATE,
        "SparkApplication default/spark-pi: executor label pod-group.scheduling.kubenexus.io/min-available "
        "is \"5\", want \"4\" (1 driver + 3 executors)");
    kn_json_free(r);
}

static void test_scheduler_name(void **state)
{
    (void)state;
    kn_json *r = fixture("sparkapp-spark-pi.json");
    remove_at(r, "/request/object/spec/driver", "schedulerName");
    set_at(r, "/request/object/spec/executor", "schedulerName", kn_json_new_string(""));
    admitted a = admit(r, KN_ADMIT_MUTATE);
    assert_true(is_allowed(&a));
    assert_string_equal(str_at(a.patched, "/spec/driver/schedulerName"), "kubenexus-scheduler");
    assert_string_equal(str_at(a.patched, "/spec/executor/schedulerName"), "kubenexus-scheduler");
    assert_string_equal(str_at(a.patch, "/0/op"), "add");
    assert_string_equal(str_at(a.patch, "/1/op"), "replace");
    admitted_free(&a);
    /* the configured name is the one injected */
    kn_admit_config cfg = {.scheduler_name = "gang-scheduler"};
    a = admit_cfg(r, KN_ADMIT_MUTATE, &cfg);
    assert_string_equal(str_at(a.patched, "/spec/driver/schedulerName"), "gang-scheduler");
    admitted_free(&a);
    /* another scheduler: denied */
    set_at(r, "/request/object/spec/executor", "schedulerName", kn_json_new_string("default-scheduler"));
    expect_denied(
        r, KN_ADMIT_MUTATE,
        "SparkApplication default/spark-pi: spec.executor.schedulerName is \"default-scheduler\", want "
        "\"kubenexus-scheduler\": another scheduler would ignore the gang \"spark-pi\" and start its pods "
        "one by one");
    kn_json_free(r);
}

/* JSON text parsed (a fixture piece: must parse). */
static kn_json *js(const char *text)
{
    kn_json *v = kn_json_parse(text, strlen(text), NULL, NULL);
    assert_non_null(v);
    return v;
}

/* The warnings of an answer joined by " | ", for exact comparison. */
static const char *warnings_of(const admitted *a, char *buf, size_t cap)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n_warnings(a) && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%s", i ? " | " : "", warning(a, i));
    return buf;
}

/* spec.batchScheduler on a gang of ours: translated (the batch scheduler
 * fields removed, a warning), the rest of the rules as without it. */
static void test_batch_scheduler_translated(void **state)
{
    (void)state;
    static const struct {
        const char *batch, *warning;
    } cases[] = {
        {"volcano",
         "spec.batchScheduler \"volcano\" removed: kubenexus-scheduler gangs driver + 3 executors itself"},
        {"kube-scheduler", "spec.batchScheduler \"kube-scheduler\" removed: kubenexus-scheduler gangs driver + 3 "
                           "executors itself"},
        {"kubenexus-scheduler", "spec.batchScheduler \"kubenexus-scheduler\" removed: kubenexus-scheduler gangs "
                                "driver + 3 executors itself"},
    };
    char w[1024];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kn_json *r = fixture("sparkapp-spark-pi.json");
        set_at(r, "/request/object/spec", "batchScheduler", kn_json_new_string(cases[i].batch));
        admitted a = admit(r, KN_ADMIT_MUTATE);
        assert_true(is_allowed(&a));
        assert_string_equal(op_for(a.patch, "/spec/batchScheduler"), "remove");
        assert_null(kn_json_pointer_get(a.patched, "/spec/batchScheduler"));
        assert_string_equal(warnings_of(&a, w, sizeof(w)), cases[i].warning);
        assert_string_equal(str_at(a.patched, RES_ANN),
                            "{\"count\":3,\"requests\":{\"cpu\":\"1\",\"memory\":\"896Mi\"}}");
        /* /validate never patches: one the mutating webhook left untranslated is refused */
        char want[1024];
        snprintf(
            want, sizeof(want),
            "SparkApplication default/spark-pi: spec.batchScheduler is \"%s\": the kubenexus "
            "mutating webhook did not run on this application (check that the MutatingWebhookConfiguration "
            "kubenexus-webhook exists and selects its namespace); the Spark Operator would hand the pods to it "
            "and the gang \"spark-pi\" would be silently ignored",
            cases[i].batch);
        expect_denied(r, KN_ADMIT_VALIDATE, want);
        expect_stored_unchanged(r, &a);
        admitted_free(&a);
        kn_json_free(r);
    }
}

/* Volcano's options: a priorityClassName moves to the roles, resources are
 * dropped (the reservation is exact), a queue has no equivalent. */
static void test_batch_scheduler_volcano_options(void **state)
{
    (void)state;
    kn_json *r = fixture("sparkapp-spark-pi.json");
    set_at(r, "/request/object/spec", "batchScheduler", kn_json_new_string("volcano"));
    set_at(r, "/request/object/spec", "batchSchedulerOptions",
           js("{\"priorityClassName\":\"spark-high\",\"resources\":{\"cpu\":\"4\"}}"));
    admitted a = admit(r, KN_ADMIT_MUTATE);
    assert_true(is_allowed(&a));
    assert_string_equal(str_at(a.patched, "/spec/driver/priorityClassName"), "spark-high");
    assert_string_equal(str_at(a.patched, "/spec/executor/priorityClassName"), "spark-high");
    assert_null(kn_json_pointer_get(a.patched, "/spec/batchSchedulerOptions"));
    char w[1024];
    assert_string_equal(
        warnings_of(&a, w, sizeof(w)),
        "spec.batchSchedulerOptions.resources dropped: the driver reserves room for exactly its 3 "
        "executors | spec.batchScheduler \"volcano\" removed: kubenexus-scheduler gangs driver + 3 "
        "executors itself");
    expect_stored_unchanged(r, &a);
    admitted_free(&a);
    kn_json_free(r);
    /* a role's own priorityClassName that says otherwise */
    r = fixture("sparkapp-spark-pi.json");
    set_at(r, "/request/object/spec", "batchScheduler", kn_json_new_string("volcano"));
    set_at(r, "/request/object/spec", "batchSchedulerOptions", js("{\"priorityClassName\":\"spark-high\"}"));
    set_at(r, "/request/object/spec/executor", "priorityClassName", kn_json_new_string("batch-low"));
    expect_denied(
        r, KN_ADMIT_MUTATE,
        "SparkApplication default/spark-pi: spec.batchSchedulerOptions.priorityClassName "
        "is \"spark-high\" but spec.executor.priorityClassName is \"batch-low\": kubenexus-scheduler orders a "
        "gang by its pods' priority; give both roles one priorityClassName and remove spec.batchScheduler");
    set_at(r, "/request/object/spec/batchSchedulerOptions", "queue", kn_json_new_string("research"));
    expect_denied(
        r, KN_ADMIT_MUTATE,
        "SparkApplication default/spark-pi: spec.batchSchedulerOptions.queue is "
        "\"research\": the Spark Operator would put Volcano PodGroup spark-spark-pi-pg in that queue, and "
        "kubenexus-scheduler has no queues; remove spec.batchScheduler and spec.batchSchedulerOptions to "
        "have the gang \"spark-pi\" of 1 driver + 3 executors scheduled by kubenexus-scheduler");
    kn_json_free(r);
}

static void test_batch_scheduler_not_translated(void **state)
{
    (void)state;
    kn_json *r = fixture("sparkapp-spark-pi.json");
    set_at(r, "/request/object/spec", "batchScheduler", kn_json_new_string("yunikorn"));
    expect_denied(r, KN_ADMIT_MUTATE,
                  "SparkApplication default/spark-pi: spec.batchScheduler is \"yunikorn\": the Spark "
                  "Operator would hand the pods to YuniKorn and the gang \"spark-pi\" would be silently ignored; "
                  "remove spec.batchScheduler");
    kn_json_free(r);
    /* no gang of ours: the app keeps its batch scheduler, told where its pods go */
    r = fixture("sparkapp-migration-before.json");
    set_at(r, "/request/object/spec", "batchScheduler", kn_json_new_string("volcano"));
    admitted a = admit(r, KN_ADMIT_MUTATE);
    assert_allowed_unchanged(&a);
    char w[1024];
    assert_string_equal(warnings_of(&a, w, sizeof(w)),
                        "spec.batchScheduler \"volcano\": Volcano places the pods (PodGroup spark-my-job-pg), not "
                        "kubenexus-scheduler | to gang them with kubenexus-scheduler, set label "
                        "pod-group.scheduling.kubenexus.io/name or remove spec.batchScheduler");
    admitted_free(&a);
    kn_json_free(r);
}

/* batchScheduler naming kubenexus-scheduler asks for a gang: filled in as
 * with fill-gang-labels, and the batch scheduler removed. */
static void test_batch_scheduler_naming_us_fills_the_gang(void **state)
{
    (void)state;
    kn_json *r = fixture("sparkapp-migration-before.json");
    set_at(r, "/request/object/spec", "batchScheduler", kn_json_new_string("kubenexus-scheduler"));
    admitted a = admit(r, KN_ADMIT_MUTATE);
    assert_true(is_allowed(&a));
    assert_string_equal(str_at(a.patched, "/spec/executor/labels/pod-group.scheduling.kubenexus.io~1name"),
                        "my-job");
    assert_string_equal(str_at(a.patched, "/spec/driver/labels/pod-group.scheduling.kubenexus.io~1min-available"),
                        "6");
    assert_string_equal(str_at(a.patched, "/spec/driver/schedulerName"), "kubenexus-scheduler");
    assert_null(kn_json_pointer_get(a.patched, "/spec/batchScheduler"));
    assert_string_equal(str_at(a.patched, RES_ANN),
                        "{\"count\":5,\"requests\":{\"cpu\":\"1\",\"memory\":\"1408Mi\"}}");
    expect_stored_unchanged(r, &a);
    admitted_free(&a);
    kn_json_free(r);
}

/* A gang declared by PodGroup (coscheduling's label, Volcano's annotation):
 * checked for both roles, scheduled by us, reserved for; its size is the
 * PodGroup's. */
static void test_podgroup_declared_gang(void **state)
{
    (void)state;
    kn_json *r = fixture("sparkapp-migration-before.json");
    set_at(r, "/request/object/metadata", "labels", js("{\"scheduling.x-k8s.io/pod-group\":\"my-job-pg\"}"));
    admitted a = admit(r, KN_ADMIT_MUTATE);
    assert_true(is_allowed(&a));
    assert_string_equal(str_at(a.patched, "/spec/executor/schedulerName"), "kubenexus-scheduler");
    assert_string_equal(str_at(a.patched, RES_ANN),
                        "{\"count\":5,\"requests\":{\"cpu\":\"1\",\"memory\":\"1408Mi\"}}");
    assert_null(kn_json_pointer_get(a.patched, "/spec/driver/labels"));
    expect_stored_unchanged(r, &a);
    admitted_free(&a);
    kn_json_free(r);

    r = fixture("sparkapp-migration-before.json");
    set_at(r, "/request/object/spec/driver", "annotations", js("{\"scheduling.k8s.io/group-name\":\"vc-pg\"}"));
    expect_denied(r, KN_ADMIT_MUTATE,
                  "SparkApplication default/my-job: gang annotation scheduling.k8s.io/group-name is "
                  "\"vc-pg\" on the driver but missing on the executor; add it to spec.executor.annotations");
    set_at(r, "/request/object/spec/executor", "labels", js("{\"scheduling.x-k8s.io/pod-group\":\"vc-pg\"}"));
    expect_denied(
        r, KN_ADMIT_MUTATE,
        "SparkApplication default/my-job: gang name differs between roles: driver "
        "annotation scheduling.k8s.io/group-name is \"vc-pg\", executor label scheduling.x-k8s.io/pod-group is "
        "\"vc-pg\"; want the same name on both, or the pods never form one gang");
    set_at(r, "/request/object/spec/executor", "labels", js("{\"scheduling.x-k8s.io/pod-group\":\"Bad_Name\"}"));
    expect_denial_has(r, KN_ADMIT_MUTATE,
                      (const char *const[]){"SparkApplication default/my-job: executor label "
                                            "scheduling.x-k8s.io/pod-group is \"Bad_Name\", want the name of a",
                                            NULL});
    kn_json_free(r);
}

static void test_numa(void **state)
{
    (void)state;
    kn_json *r = fixture("sparkapp-spark-ml-gpu.json");
    set_at(r, "/request/object/spec/executor/annotations", "numa.scheduling.kubenexus.io/policy",
           kn_json_new_string("single"));
    expect_denial_has(r, KN_ADMIT_MUTATE,
                      (const char *const[]){
                          "SparkApplication spark-jobs/spark-ml-gpu: spec.executor.annotations: ", "\"single\"",
                          "single-numa", "best-effort", NULL});
    set_at(r, "/request/object/spec/executor/annotations", "numa.scheduling.kubenexus.io/policy",
           kn_json_new_string("single-numa"));
    set_at(r, "/request/object/spec/driver/annotations", "numa.scheduling.kubenexus.io/resources",
           kn_json_new_string("cpu,gpu"));
    expect_denial_has(r, KN_ADMIT_MUTATE, (const char *const[]){"spec.driver.annotations: ", "gpu", NULL});
    kn_json_free(r);
}

static void test_sizes(void **state)
{
    (void)state;
    kn_json *r = fixture("sparkapp-spark-pi.json");
    set_at(r, "/request/object/spec/executor", "memory", kn_json_new_string("4Gi"));
    expect_denial_has(
        r, KN_ADMIT_MUTATE,
        (const char *const[]){"SparkApplication default/spark-pi: spec.executor.memory", "4g", NULL});
    set_at(r, "/request/object/spec/executor", "memory", kn_json_new_string("512m"));

    set_at(r, "/request/object/spec/executor", "cores", kn_json_new_int(0));
    expect_denial_has(r, KN_ADMIT_MUTATE, (const char *const[]){"spec.executor.cores", NULL});
    set_at(r, "/request/object/spec/executor", "cores", kn_json_new_int(1));

    set_at(r, "/request/object/spec/driver", "coreLimit", kn_json_new_string("500m"));
    expect_denial_has(r, KN_ADMIT_MUTATE, (const char *const[]){"spec.driver.coreLimit", "500m", NULL});
    set_at(r, "/request/object/spec/driver", "coreLimit", kn_json_new_string("1200m"));

    set_at(r, "/request/object/spec/executor", "instances", kn_json_new_int(0));
    expect_denied(r, KN_ADMIT_MUTATE,
                  "SparkApplication default/spark-pi: spec.executor.instances is 0: the application would never "
                  "get an executor; set it to at least 1 (or enable dynamic allocation)");
    set_at(r, "/request/object/spec/executor", "instances", kn_json_new_int(-2));
    expect_denied(
        r, KN_ADMIT_MUTATE,
        "SparkApplication default/spark-pi: spec.executor.instances is -2, want a whole number from 0 to "
        "10000");
    kn_json_free(r);
}

/* GPUs asked the RAPIDS way, in sparkConf with a vendor: the executor
 * reservation carries them, so the reserved slots fit the executors Spark
 * creates; without a vendor Spark cannot build the pods: denied. */
static void test_conf_gpus(void **state)
{
    (void)state;
    kn_json *r = fixture("sparkapp-spark-pi.json");
    kn_json *conf = kn_json_new_object();
    kn_json_set_str(conf, "spark.executor.resource.gpu.amount", "2");
    kn_json_set_str(conf, "spark.executor.resource.gpu.vendor", "nvidia.com");
    kn_json_set_str(conf, "spark.task.resource.gpu.amount", "0.5");
    set_at(r, "/request/object/spec", "sparkConf", conf);
    admitted a = admit(r, KN_ADMIT_MUTATE);
    assert_true(is_allowed(&a));
    assert_string_equal(
        str_at(a.patch, "/0/value/scheduling.kubenexus.io~1executor-reservation"),
        "{\"count\":3,\"requests\":{\"cpu\":\"1\",\"memory\":\"896Mi\",\"nvidia.com/gpu\":\"2\"}}");
    admitted_free(&a);

    kn_json_remove(kn_json_pointer_get(r, "/request/object/spec/sparkConf"), "spark.executor.resource.gpu.vendor");
    expect_denial_has(r, KN_ADMIT_MUTATE,
                      (const char *const[]){"SparkApplication default/spark-pi: spec.sparkConf: "
                                            "spark.executor.resource.gpu.amount is set but "
                                            "spark.executor.resource.gpu.vendor is missing",
                                            "e.g. nvidia.com", NULL});
    kn_json_free(r);
}

static void test_executor_count_rules(void **state)
{
    (void)state;
    kn_json *r = fixture("sparkapp-spark-pi.json");
    /* instances unset, no dynamic allocation: Spark starts 2 */
    remove_at(r, "/request/object/spec/executor", "instances");
    expect_denied(
        r, KN_ADMIT_MUTATE,
        "SparkApplication default/spark-pi: driver label pod-group.scheduling.kubenexus.io/min-available "
        "is \"4\", want \"3\" (1 driver + 2 executors)");
    /* sparkConf spark.executor.instances counts when the spec field is unset */
    kn_json *conf = kn_json_new_object();
    kn_json_set_str(conf, "spark.executor.instances", "3");
    set_at(r, "/request/object/spec", "sparkConf", conf);
    admitted a = admit(r, KN_ADMIT_MUTATE);
    assert_true(is_allowed(&a));
    admitted_free(&a);
    /* dynamic allocation: max(instances, initialExecutors, minExecutors) + a warning */
    kn_json_set_str(conf, "spark.dynamicAllocation.enabled", "true");
    kn_json *da = kn_json_new_object();
    kn_json_set(da, "enabled", kn_json_new_bool(true));
    kn_json_set(da, "initialExecutors", kn_json_new_int(2));
    kn_json_set(da, "minExecutors", kn_json_new_int(1));
    kn_json_set(da, "maxExecutors", kn_json_new_int(10));
    set_at(r, "/request/object/spec", "dynamicAllocation", da);
    a = admit(r, KN_ADMIT_MUTATE);
    assert_true(is_allowed(&a));
    assert_int_equal(n_warnings(&a), 1);
    assert_string_equal(warning(&a, 0),
                        "dynamic allocation: the gang holds 1 driver + 3 executors; executors beyond 3 "
                        "are scheduled outside the gang");
    assert_string_equal(str_at(a.patched, RES_ANN),
                        "{\"count\":3,\"requests\":{\"cpu\":\"1\",\"memory\":\"896Mi\"}}");
    admitted_free(&a);
    set_at(r, "/request/object/spec/dynamicAllocation", "minExecutors", kn_json_new_int(5));
    expect_denied(
        r, KN_ADMIT_MUTATE,
        "SparkApplication default/spark-pi: driver label pod-group.scheduling.kubenexus.io/min-available "
        "is \"4\", want \"6\" (1 driver + 5 initial executors)");
    kn_json_free(r);
}

static void test_validate_mode(void **state)
{
    (void)state;
    kn_json *r = fixture("sparkapp-spark-pi.json");
    /* /validate is the backstop after every mutating webhook: a gang that
     * ours did not complete is denied, saying why. */
    expect_denied(
        r, KN_ADMIT_VALIDATE,
        "SparkApplication default/spark-pi: spec.driver.annotations[scheduling.kubenexus.io/"
        "executor-reservation] is missing: the kubenexus mutating webhook did not run on this application "
        "(check that the MutatingWebhookConfiguration kubenexus-webhook exists and selects its namespace); "
        "the driver would wait forever for its executors, which Spark creates only once the driver runs");
    remove_at(r, "/request/object/spec/driver", "schedulerName");
    expect_denial_has(r, KN_ADMIT_VALIDATE,
                      (const char *const[]){"spec.driver.schedulerName is not set, want "
                                            "\"kubenexus-scheduler\": the kubenexus mutating webhook did not run",
                                            NULL});
    kn_json *ann = kn_json_new_object();
    kn_json_set_str(ann, "scheduling.kubenexus.io/executor-reservation", "{\"count\":\"three\"}");
    set_at(r, "/request/object/spec/driver", "annotations", ann);
    set_at(r, "/request/object/spec/driver", "schedulerName", kn_json_new_string("kubenexus-scheduler"));
    expect_denial_has(r, KN_ADMIT_VALIDATE,
                      (const char *const[]){"SparkApplication default/spark-pi: spec.driver.annotations"
                                            "[scheduling.kubenexus.io/executor-reservation]: count",
                                            NULL});
    kn_json_set_str(ann, "scheduling.kubenexus.io/executor-reservation",
                    "{\"count\":2,\"requests\":{\"cpu\":\"1\",\"memory\":\"896Mi\"}}");
    expect_denied(r, KN_ADMIT_VALIDATE,
                  "SparkApplication default/spark-pi: spec.driver.annotations[scheduling.kubenexus.io/"
                  "executor-reservation] has count 2, want 3 (the executors of the gang)");
    /* mutate rewrites a stale reservation and sets the scheduler */
    remove_at(r, "/request/object/spec/driver", "schedulerName");
    admitted a = admit(r, KN_ADMIT_MUTATE);
    assert_true(is_allowed(&a));
    assert_string_equal(op_for(a.patch, RES_ANN), "replace");
    assert_string_equal(op_for(a.patch, "/spec/driver/schedulerName"), "add");
    assert_string_equal(str_at(a.patched, RES_ANN),
                        "{\"count\":3,\"requests\":{\"cpu\":\"1\",\"memory\":\"896Mi\"}}");
    admitted_free(&a);
    kn_json_free(r);
}

static void test_not_handled(void **state)
{
    (void)state;
    kn_json *r = fixture("sparkapp-spark-pi.json");
    set_at(r, EXE_LABELS, GANG_M, kn_json_new_string("3")); /* would be denied */
    /* DELETE: allowed unchanged */
    set_at(r, "/request", "operation", kn_json_new_string("DELETE"));
    expect_unchanged(r, KN_ADMIT_MUTATE);
    /* status subresource updates */
    set_at(r, "/request", "operation", kn_json_new_string("UPDATE"));
    set_at(r, "/request", "subResource", kn_json_new_string("status"));
    expect_unchanged(r, KN_ADMIT_MUTATE);
    remove_at(r, "/request", "subResource");
    /* an app being deleted only loses finalizers */
    set_at(r, "/request/object/metadata", "deletionTimestamp", kn_json_new_string("2026-11-24T10:00:00Z"));
    expect_unchanged(r, KN_ADMIT_MUTATE);
    remove_at(r, "/request/object/metadata", "deletionTimestamp");
    /* an UPDATE leaving spec and labels as stored (an annotation, a finalizer)
     * is not judged again: the stored app may predate a stricter rule */
    set_at(r, "/request", "oldObject", kn_json_clone(kn_json_dig(r, "request", "object", NULL)));
    set_at(r, "/request/object/metadata", "annotations", kn_json_new_object());
    set_at(r, "/request/object/metadata/annotations", "team", kn_json_new_string("data"));
    set_at(r, "/request/object/metadata", "finalizers", kn_json_new_array());
    expect_unchanged(r, KN_ADMIT_MUTATE);
    expect_unchanged(r, KN_ADMIT_VALIDATE);
    /* ... but one that touches the spec or the labels the pods get is */
    set_at(r, "/request/object/spec/executor", "instances", kn_json_new_int(2));
    expect_denial_has(r, KN_ADMIT_MUTATE, (const char *const[]){"min-available", NULL});
    set_at(r, "/request/object/spec/executor", "instances",
           kn_json_clone(kn_json_dig(r, "request", "oldObject", "spec", "executor", "instances", NULL)));
    expect_unchanged(r, KN_ADMIT_MUTATE);
    set_at(r, "/request/object/metadata", "labels", kn_json_new_object());
    set_at(r, "/request/object/metadata/labels", "team", kn_json_new_string("data"));
    expect_denial_has(r, KN_ADMIT_MUTATE, (const char *const[]){"min-available", NULL});
    remove_at(r, "/request", "oldObject");
    set_at(r, "/request", "operation", kn_json_new_string("UPDATE"));
    /* other versions and kinds */
    set_at(r, "/request/kind", "version", kn_json_new_string("v1beta1"));
    admitted a = admit(r, KN_ADMIT_MUTATE);
    assert_allowed_unchanged(&a);
    assert_string_equal(kn_json_get_str(kn_json_get(a.resp, "response"), "uid"),
                        "b1e5c3a2-0d4f-4f6e-8a7b-9c0d1e2f3a4b");
    admitted_free(&a);
    set_at(r, "/request/kind", "version", kn_json_new_string("v1beta2"));
    set_at(r, "/request/kind", "kind", kn_json_new_string("ScheduledSparkApplication"));
    expect_unchanged(r, KN_ADMIT_MUTATE);
    /* dryRun behaves the same */
    set_at(r, "/request/kind", "kind", kn_json_new_string("SparkApplication"));
    set_at(r, "/request", "dryRun", kn_json_new_bool(true));
    expect_denial_has(r, KN_ADMIT_MUTATE, (const char *const[]){": ", NULL});
    kn_json_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guide_spark_pi),
        cmocka_unit_test(test_guide_data_processing),
        cmocka_unit_test(test_guide_gpu_numa),
        cmocka_unit_test(test_guide_streaming),
        cmocka_unit_test(test_guide_migration),
        cmocka_unit_test(test_fill_gang_labels),
        cmocka_unit_test(test_filled_labels_reach_the_reservation),
        cmocka_unit_test(test_min_available_wrong),
        cmocka_unit_test(test_every_problem_listed),
        cmocka_unit_test(test_update_changes_instances),
        cmocka_unit_test(test_gang_names),
        cmocka_unit_test(test_gang_on_metadata_labels),
        cmocka_unit_test(test_scheduler_name),
        cmocka_unit_test(test_batch_scheduler_translated),
        cmocka_unit_test(test_batch_scheduler_volcano_options),
        cmocka_unit_test(test_batch_scheduler_not_translated),
        cmocka_unit_test(test_batch_scheduler_naming_us_fills_the_gang),
        cmocka_unit_test(test_podgroup_declared_gang),
        cmocka_unit_test(test_numa),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_executor_count_rules),
        cmocka_unit_test(test_conf_gpus),
        cmocka_unit_test(test_validate_mode),
        cmocka_unit_test(test_not_handled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
