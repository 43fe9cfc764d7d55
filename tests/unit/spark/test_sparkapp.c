/* test_sparkapp.c - the SparkApplication model: effective labels, Spark's
 * initial executor count, the executor-reservation annotation (build and
 * parse) and the driver/executor pods built as Spark 3.5 + the operator make
 * them, compared with the pods the API server hands to a webhook. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "support/admission_test_util.h"
#include "admission/patch.h"
#include "admission/rules.h"
#include "sim/operator/spark_operator.h"
#include "spark/sparkapp.h"

#define APP_ID "spark-8f3c1a0e6b2d4c7f9e1a3b5d7c9e0f21"

static kn_json *app_of(const char *fixture_name)
{
    kn_json *r = fixture(fixture_name);
    kn_json *app = kn_json_clone(object_of(r));
    kn_json_free(r);
    return app;
}

static kn_json *obj(const char *text)
{
    kn_err err = {{0}};
    kn_json *v = kn_json_parse(text, strlen(text), NULL, &err);
    if (v == NULL)
        fail_msg("%s", err.msg);
    return v;
}

static void expect_count(const char *app_text, int want, bool want_dynamic)
{
    kn_json *app = obj(app_text);
    int n = -1;
    bool dyn = !want_dynamic;
    kn_err err = {{0}};
    if (kn_sparkapp_executor_count(app, &n, &dyn, &err) != 0)
        fail_msg("%s: %s", app_text, err.msg);
    assert_int_equal(n, want);
    assert_int_equal(dyn, want_dynamic);
    kn_json_free(app);
}

static void test_executor_count(void **state)
{
    (void)state;
    expect_count("{\"spec\":{\"executor\":{\"instances\":3}}}", 3, false);
    expect_count("{\"spec\":{\"executor\":{}}}", 2, false);
    expect_count("{\"spec\":{\"sparkConf\":{\"spark.executor.instances\":\"7\"}}}", 7, false);
    /* the spec field wins over sparkConf (the operator passes it last) */
    expect_count("{\"spec\":{\"executor\":{\"instances\":4},\"sparkConf\":{\"spark.executor.instances\":\"7\"}}}",
                 4, false);
    expect_count("{\"spec\":{\"executor\":{\"instances\":4},\"dynamicAllocation\":{\"enabled\":true}}}", 4, true);
    expect_count("{\"spec\":{\"dynamicAllocation\":{\"enabled\":true}}}", 0, true);
    expect_count("{\"spec\":{\"executor\":{\"instances\":1},\"dynamicAllocation\":{\"enabled\":true,"
                 "\"initialExecutors\":5,\"minExecutors\":2}}}",
                 5, true);
    expect_count("{\"spec\":{\"sparkConf\":{\"spark.dynamicAllocation.enabled\":\" TRUE \","
                 "\"spark.dynamicAllocation.minExecutors\":\"6\"}}}",
                 6, true);
    /* an explicit enabled:false wins over sparkConf */
    expect_count("{\"spec\":{\"dynamicAllocation\":{\"enabled\":false},"
                 "\"sparkConf\":{\"spark.dynamicAllocation.enabled\":\"true\"}}}",
                 2, false);

    const char *bad[] = {"{\"spec\":{\"executor\":{\"instances\":-1}}}",
                         "{\"spec\":{\"executor\":{\"instances\":2.5}}}",
                         "{\"spec\":{\"executor\":{\"instances\":\"3\"}}}",
                         "{\"spec\":{\"sparkConf\":{\"spark.executor.instances\":\"three\"}}}",
                         "{\"spec\":{\"executor\":{\"instances\":100000}}}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        kn_json *app = obj(bad[i]);
        int n;
        bool dyn;
        kn_err err = {{0}};
        assert_int_equal(kn_sparkapp_executor_count(app, &n, &dyn, &err), -1);
        assert_non_null(strstr(err.msg, "instances"));
        kn_json_free(app);
    }
}

static void test_effective_labels(void **state)
{
    (void)state;
    kn_json *app = obj("{\"metadata\":{\"labels\":{\"team\":\"a\",\"tier\":\"batch\"}},"
                       "\"spec\":{\"driver\":{\"labels\":{\"tier\":\"critical\"}},\"executor\":{}}}");
    kn_json *d = kn_sparkapp_effective_labels(app, KN_SPARK_DRIVER);
    kn_json *e = kn_sparkapp_effective_labels(app, KN_SPARK_EXECUTOR);
    assert_string_equal(kn_json_get_str(d, "tier"), "critical");
    assert_string_equal(kn_json_get_str(d, "team"), "a");
    assert_string_equal(kn_json_get_str(e, "tier"), "batch");
    kn_json_free(d);
    kn_json_free(e);
    kn_json_free(app);
}

static void test_reservation_parse(void **state)
{
    (void)state;
    kn_executor_reservation r;
    kn_err err = {{0}};
    assert_int_equal(
        kn_executor_reservation_parse("{\"count\":8,\"requests\":{\"cpu\":\"4\",\"memory\":\"22937Mi\","
                                      "\"nvidia.com/gpu\":\"1\"},\"numa\":{\"policy\":\"single-numa\","
                                      "\"resources\":\"cpu,memory,nvidia.com/gpu\"}}",
                                      &r, &err),
        0);
    assert_int_equal(r.count, 8);
    assert_int_equal(r.requests.cpu_milli, 4000);
    assert_int_equal(r.requests.memory, 22937LL << 20);
    assert_int_equal(kn_res_get(&r.requests, "nvidia.com/gpu"), 1);
    assert_int_equal(r.numa.policy, KN_NUMA_SINGLE);
    assert_int_equal(r.numa.n_resources, 3);
    const char *bad[][2] = {
        {"", "offset"},
        {"[]", "want a JSON object"},
        {"{\"requests\":{}}", "count"},
        {"{\"count\":-1,\"requests\":{}}", "count"},
        {"{\"count\":1.5,\"requests\":{}}", "count"},
        {"{\"count\":1}", "requests"},
        {"{\"count\":1,\"requests\":{\"cpu\":\"1 core\"}}", "requests: cpu"},
        {"{\"count\":1,\"requests\":{},\"numa\":\"single-numa\"}", "numa"},
        {"{\"count\":1,\"requests\":{},\"numa\":{\"policy\":\"tight\"}}", "numa"},
        {"{\"count\":1,\"requests\":{},\"labels\":[\"app\"]}", "labels: want an object"},
        {"{\"count\":1,\"requests\":{},\"labels\":{\"app\":1}}", "labels.app: want a string"},
        {"{\"count\":1,\"requests\":{},\"topologySpreadConstraints\":{}}",
         "topologySpreadConstraints: want an array"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&err, 0, sizeof(err));
        assert_int_equal(kn_executor_reservation_parse(bad[i][0], &r, &err), -1);
        if (strstr(err.msg, bad[i][1]) == NULL)
            fail_msg("%s: \"%s\" lacks \"%s\"", bad[i][0], err.msg, bad[i][1]);
    }
}

/* The guide's "Node Affinity" example: executors go to other nodes than the
 * driver, so the reservation says where. */
static void test_reservation_placement(void **state)
{
    (void)state;
    kn_json *app = app_of("sparkapp-spark-pi.json");
    kn_err err = {{0}};
    char *text = kn_sparkapp_reservation(app, &err);
    assert_string_equal(text, "{\"count\":3,\"requests\":{\"cpu\":\"1\",\"memory\":\"896Mi\"}}");
    free(text);
    kn_json *aff =
        obj("{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":"
            "[{\"matchExpressions\":[{\"key\":\"node-type\",\"operator\":\"In\",\"values\":[\"spark-executor\"]}]}"
            "]}}}");
    kn_json_set(kn_json_pointer_get(app, "/spec/executor"), "affinity", aff);
    text = kn_sparkapp_reservation(app, &err);
    assert_string_equal(
        text, "{\"count\":3,\"requests\":{\"cpu\":\"1\",\"memory\":\"896Mi\"},\"nodeSelector\":{},"
              "\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
              "{\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":\"node-type\",\"operator\":\"In\","
              "\"values\":[\"spark-executor\"]}]}]}}}}");
    free(text);
    /* the same constraints on both roles: nothing extra */
    kn_json_set(kn_json_pointer_get(app, "/spec/driver"), "affinity", kn_json_clone(aff));
    kn_json_set(kn_json_pointer_get(app, "/spec"), "nodeSelector", obj("{\"pool\":\"spark\"}"));
    text = kn_sparkapp_reservation(app, &err);
    assert_string_equal(text, "{\"count\":3,\"requests\":{\"cpu\":\"1\",\"memory\":\"896Mi\"}}");
    free(text);
    kn_json_free(app);
}

/* Executors spread by their Spark pod template, anti-affine to each other, and
 * labelled apart from the driver: the slots held for them carry all of it. */
static void test_reservation_carries_the_executors_terms_and_labels(void **state)
{
    (void)state;
    kn_json *app = app_of("sparkapp-spark-pi.json");
    kn_err err = {{0}};
    kn_json *spread = obj("{\"spec\":{\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":"
                          "\"topology.kubernetes.io/zone\",\"whenUnsatisfiable\":\"ScheduleAnyway\"}]}}");
    kn_json_set(kn_json_pointer_get(app, "/spec/executor"), "template", spread);
    char *text = kn_sparkapp_reservation(app, &err);
    assert_string_equal(text, "{\"count\":3,\"requests\":{\"cpu\":\"1\",\"memory\":\"896Mi\"},\"nodeSelector\":{},"
                              "\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":"
                              "\"topology.kubernetes.io/zone\",\"whenUnsatisfiable\":\"ScheduleAnyway\"}]}");
    free(text);
    kn_json *labels = kn_json_pointer_get(app, "/spec/executor/labels");
    kn_json_set_str(labels, "tier", "compute");
    text = kn_sparkapp_reservation(app, &err);
    assert_non_null(strstr(text, ",\"labels\":{"));
    assert_non_null(strstr(text, "\"tier\":\"compute\""));
    /* and it reads back */
    kn_executor_reservation r;
    assert_int_equal(kn_executor_reservation_parse(text, &r, &err), 0);
    free(text);
    kn_json_free(app);
}

/* Members of want must be in got with equal values. */
static void assert_subset(const kn_json *got, const kn_json *want, const char *what)
{
    for (size_t i = 0; i < kn_json_len(want); i++) {
        const char *k = kn_json_key_at(want, i);
        if (!kn_json_equal(kn_json_get(got, k), kn_json_value_at(want, i)))
            fail_msg("%s: member %s differs", what, k);
    }
}

static void assert_same_at(const kn_json *a, const kn_json *b, const char *ptr)
{
    if (!kn_json_equal(kn_json_pointer_get(a, ptr), kn_json_pointer_get(b, ptr))) {
        char *x = kn_json_dump(kn_json_pointer_get(a, ptr), NULL),
             *y = kn_json_dump(kn_json_pointer_get(b, ptr), NULL);
        print_error("built %s\nwant  %s\n", x, y);
        free(x);
        free(y);
        fail_msg("%s differs", ptr);
    }
}

static void test_driver_pod_as_spark_builds_it(void **state)
{
    (void)state;
    /* the app as stored after /mutate (with its reservation annotation) */
    kn_json *r = fixture("sparkapp-spark-pi.json");
    admitted a = admit(r, KN_ADMIT_MUTATE);
    kn_json *want_r = fixture("pod-spark-pi-driver.json");
    const kn_json *want = object_of(want_r);
    kn_err err = {{0}};
    kn_sparkapp_pod_opts opts = {.app_id = APP_ID};
    kn_json *pod = kn_sparkapp_driver_pod(a.patched, &opts, &err);
    if (pod == NULL)
        fail_msg("%s", err.msg);
    assert_string_equal(str_at(pod, "/metadata/name"), "spark-pi-driver");
    kn_json *labels = kn_json_clone(kn_json_pointer_get(want, "/metadata/labels"));
    kn_json_remove(labels, "sparkoperator.k8s.io/submission-id"); /* a random UUID */
    assert_subset(kn_json_pointer_get(pod, "/metadata/labels"), labels, "labels");
    assert_int_equal(kn_json_len(kn_json_pointer_get(pod, "/metadata/labels")), kn_json_len(labels) + 1);
    kn_json_free(labels);
    const char *same[] = {"/metadata/namespace",
                          "/metadata/annotations",
                          "/metadata/ownerReferences",
                          "/spec/containers/0/name",
                          "/spec/containers/0/image",
                          "/spec/containers/0/args",
                          "/spec/containers/0/ports",
                          "/spec/containers/0/resources",
                          "/spec/containers/0/imagePullPolicy",
                          "/spec/restartPolicy",
                          "/spec/serviceAccountName",
                          "/spec/tolerations",
                          "/spec/priority",
                          "/spec/dnsPolicy"};
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
        assert_same_at(pod, want, same[i]);
    /* the role's schedulerName (the fixture pod is of a role without one) */
    assert_string_equal(str_at(pod, "/spec/schedulerName"), "kubenexus-scheduler");
    /* the built driver passes the Pod rules unchanged: labels, reservation,
     * min-available and schedulerName all agree */
    kn_json *pr = fixture("pod-spark-pi-driver.json");
    set_at(pr, "/request", "object", pod);
    admitted pa = admit(pr, KN_ADMIT_MUTATE);
    assert_allowed_unchanged(&pa);
    admitted_free(&pa);
    kn_json_free(pr);
    kn_json_free(want_r);
    admitted_free(&a);
    kn_json_free(r);
}

static void test_executor_pod_as_spark_builds_it(void **state)
{
    (void)state;
    kn_json *app = app_of("sparkapp-spark-pi.json");
    kn_json *want_r = fixture("pod-spark-pi-exec-1.json");
    const kn_json *want = object_of(want_r);
    kn_err err = {{0}};
    kn_sparkapp_pod_opts opts = {.app_id = APP_ID, .driver_uid = "6c5d4e3f-2a1b-4c0d-9e8f-7a6b5c4d3e2f"};
    kn_json *pod = kn_sparkapp_executor_pod(app, 1, "spark-pi-driver", &opts, &err);
    if (pod == NULL)
        fail_msg("%s", err.msg);
    kn_json *labels = kn_json_clone(kn_json_pointer_get(want, "/metadata/labels"));
    kn_json_remove(labels, "sparkoperator.k8s.io/submission-id");
    assert_subset(kn_json_pointer_get(pod, "/metadata/labels"), labels, "labels");
    kn_json_free(labels);
    const char *same[] = {"/metadata/name",          "/metadata/ownerReferences", "/spec/containers/0/name",
                          "/spec/containers/0/args", "/spec/containers/0/ports",  "/spec/containers/0/resources",
                          "/spec/hostname",          "/spec/restartPolicy",       "/spec/tolerations"};
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
        assert_same_at(pod, want, same[i]);
    kn_json_free(pod);
    /* a role without schedulerName: the API server's default */
    kn_json_remove(kn_json_pointer_get(app, "/spec/executor"), "schedulerName");
    pod = kn_sparkapp_executor_pod(app, 1, "spark-pi-driver", &opts, &err);
    assert_same_at(pod, want, "/spec/schedulerName");
    kn_json_free(pod);
    /* spec.batchScheduler first, as the operator's pod webhook sets it (empty: none at all) */
    kn_json_set_str(kn_json_get(app, "spec"), "batchScheduler", "volcano");
    pod = kn_sparkapp_executor_pod(app, 1, "spark-pi-driver", &opts, &err);
    assert_string_equal(str_at(pod, "/spec/schedulerName"), "volcano");
    kn_json_free(pod);
    kn_json_set_str(kn_json_pointer_get(app, "/spec/driver"), "schedulerName", "kubenexus-scheduler");
    kn_json_set_str(kn_json_get(app, "spec"), "batchScheduler", "");
    pod = kn_sparkapp_driver_pod(app, &opts, &err);
    assert_string_equal(str_at(pod, "/spec/schedulerName"), "default-scheduler");
    kn_json_free(pod);
    kn_json_remove(kn_json_get(app, "spec"), "batchScheduler");
    /* a name prefix, a second executor */
    opts.name_prefix = "spark-pi-5e7a9c1b3d2f4a6e";
    pod = kn_sparkapp_executor_pod(app, 2, NULL, &opts, &err);
    assert_string_equal(str_at(pod, "/metadata/name"), "spark-pi-5e7a9c1b3d2f4a6e-exec-2");
    assert_string_equal(str_at(pod, "/metadata/labels/spark-exec-id"), "2");
    assert_string_equal(str_at(pod, "/metadata/ownerReferences/0/name"), "spark-pi-driver");
    kn_json_free(pod);
    assert_null(kn_sparkapp_executor_pod(app, 0, NULL, NULL, &err));
    kn_json_free(want_r);
    kn_json_free(app);
}

/* The webhook's pod rules applied to pod (taken), as the API server applies
 * the patch; NULL if denied. */
static kn_json *as_admitted(kn_json *pod)
{
    kn_json_set_str(kn_json_get(pod, "spec"), "schedulerName", "default-scheduler"); /* the API server's default */
    kn_rules_input in = {.group = "",
                         .version = "v1",
                         .kind = "Pod",
                         .operation = "CREATE",
                         .object = pod,
                         .mode = KN_ADMIT_MUTATE};
    kn_decision d;
    kn_err err = {{0}};
    kn_rules_evaluate(&in, &d);
    kn_json *out = NULL;
    if (d.allowed)
        out = kn_json_patch_apply_owned(pod, d.patch, &err);
    else
        kn_json_free(pod);
    assert_true(d.allowed);
    assert_int_equal(kn_json_len(d.patch), 1);
    kn_decision_free(&d);
    return out;
}

static void assert_same_str(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void assert_json_same(const kn_json *a, const kn_json *b)
{
    assert_true((a == NULL && b == NULL) || kn_json_equal(a, b));
}

/* Every member of the two models. */
static void assert_same_model(const kn_pod *a, const kn_pod *b)
{
    const char *sa[] = {a->ns,
                        a->name,
                        a->uid,
                        a->resource_version,
                        a->scheduler_name,
                        a->node_name,
                        a->phase,
                        a->creation_timestamp,
                        a->owner_kind,
                        a->owner_name,
                        a->owner_uid};
    const char *sb[] = {b->ns,
                        b->name,
                        b->uid,
                        b->resource_version,
                        b->scheduler_name,
                        b->node_name,
                        b->phase,
                        b->creation_timestamp,
                        b->owner_kind,
                        b->owner_name,
                        b->owner_uid};
    for (size_t i = 0; i < sizeof(sa) / sizeof(sa[0]); i++)
        assert_same_str(sa[i], sb[i]);
    assert_int_equal(a->terminating, b->terminating);
    assert_int_equal(a->priority, b->priority);
    assert_json_same(a->labels, b->labels);
    assert_json_same(a->annotations, b->annotations);
    assert_json_same(a->node_selector, b->node_selector);
    assert_json_same(a->required_affinity, b->required_affinity);
    assert_int_equal(a->n_tolerations, b->n_tolerations);
    for (int i = 0; i < a->n_tolerations; i++) {
        assert_same_str(a->tolerations[i].key, b->tolerations[i].key);
        assert_same_str(a->tolerations[i].op, b->tolerations[i].op);
        assert_same_str(a->tolerations[i].value, b->tolerations[i].value);
        assert_same_str(a->tolerations[i].effect, b->tolerations[i].effect);
    }
    assert_memory_equal(&a->requests, &b->requests, sizeof(a->requests));
    assert_memory_equal(&a->limits, &b->limits, sizeof(a->limits));
    assert_int_equal(a->n_claims, b->n_claims);
    for (int i = 0; i < a->n_claims; i++) {
        assert_same_str(a->claims[i].volume, b->claims[i].volume);
        assert_same_str(a->claims[i].claim, b->claims[i].claim);
        assert_int_equal(a->claims[i].ephemeral, b->claims[i].ephemeral);
    }
}

/* spark-pi with executors' claims from sparkConf (an OnDemand one from a
 * WaitForFirstConsumer class, one per executor id, a shared one) and a
 * generic ephemeral volume from spec.volumes. */
static kn_json *app_with_volumes(void)
{
    kn_json *app = app_of("sparkapp-spark-pi.json");
    kn_json *conf =
        obj("{\"spark.kubernetes.executor.volumes.persistentVolumeClaim.spark-local-dir-1.options.claimName\":"
            "\"OnDemand\","
            "\"spark.kubernetes.executor.volumes.persistentVolumeClaim.spark-local-dir-1.options.storageClass\":"
            "\"gp3\","
            "\"spark.kubernetes.executor.volumes.persistentVolumeClaim.spark-local-dir-1.options.sizeLimit\":"
            "\"100Gi\","
            "\"spark.kubernetes.executor.volumes.persistentVolumeClaim.spark-local-dir-1.mount.path\":\"/data\","
            "\"spark.kubernetes.executor.volumes.emptyDir.tmp.mount.path\":\"/tmp\","
            "\"spark.kubernetes.executor.volumes.persistentVolumeClaim.ckpt.options.claimName\":\"ckpt-SPARK_"
            "EXECUTOR_ID\","
            "\"spark.kubernetes.executor.volumes.persistentVolumeClaim.ckpt.mount.path\":\"/ckpt\","
            "\"spark.kubernetes.executor.volumes.persistentVolumeClaim.shared.options.claimName\":\"team-data\","
            "\"spark.kubernetes.executor.volumes.persistentVolumeClaim.shared.mount.path\":\"/shared\","
            "\"spark.kubernetes.executor.volumes.persistentVolumeClaim.nopath.options.claimName\":\"x\"}");
    kn_json_set(kn_json_get(app, "spec"), "sparkConf", conf);
    kn_json_set(kn_json_get(app, "spec"), "volumes",
                obj("[{\"name\":\"scratch\",\"ephemeral\":{\"volumeClaimTemplate\":{\"spec\":{}}}},"
                    "{\"name\":\"unused\",\"emptyDir\":{}}]"));
    kn_json_set(kn_json_get(kn_json_get(app, "spec"), "executor"), "volumeMounts",
                obj("[{\"name\":\"scratch\",\"mountPath\":\"/scratch\"}]"));
    return app;
}

static kn_pod model_of(const kn_json *pod)
{
    kn_pod p;
    kn_err err = {{0}};
    if (kn_pod_from_json(pod, &p, &err) != 0)
        fail_msg("%s", err.msg);
    return p;
}

/* Executors after the first as its model renumbered again and again (what
 * simulate does): the same models as read from the pods built and admitted
 * one by one. */
/* Spark's sparkConf volumes on the executor pod (as MountVolumesFeatureStep
 * builds them) and the spec.volumes its mounts name (as the operator adds
 * them); the claims the driver creates for it; the reservation names the
 * claims' class. */
static void test_executor_volumes_and_claims(void **state)
{
    (void)state;
    kn_err err = {{0}};
    kn_json *app = app_with_volumes();
    kn_json *pod = kn_sparkapp_executor_pod(app, 3, "spark-pi-driver", NULL, &err);
    assert_non_null(pod);
    const kn_json *vols = kn_json_dig(pod, "spec", "volumes", NULL);
    assert_int_equal(kn_json_len(vols), 5);
    assert_string_equal(kn_json_str(kn_json_dig(kn_json_at(vols, 0), "persistentVolumeClaim", "claimName", NULL)),
                        "spark-pi-exec-3-pvc-0");
    assert_non_null(kn_json_dig(kn_json_at(vols, 1), "emptyDir", NULL));
    assert_string_equal(kn_json_str(kn_json_dig(kn_json_at(vols, 2), "persistentVolumeClaim", "claimName", NULL)),
                        "ckpt-3");
    assert_string_equal(kn_json_str(kn_json_dig(kn_json_at(vols, 3), "persistentVolumeClaim", "claimName", NULL)),
                        "team-data");
    assert_string_equal(kn_json_get_str(kn_json_at(vols, 4), "name"), "scratch");
    const kn_json *mounts =
        kn_json_get(kn_json_at(kn_json_dig(pod, "spec", "containers", NULL), 0), "volumeMounts");
    assert_int_equal(kn_json_len(mounts), 5);
    assert_string_equal(kn_json_get_str(kn_json_at(mounts, 0), "mountPath"), "/data");
    assert_string_equal(kn_json_get_str(kn_json_at(mounts, 4), "mountPath"), "/scratch");
    kn_pod model = model_of(pod);
    assert_int_equal(model.n_claims, 4);
    assert_string_equal(model.claims[3].claim, "spark-pi-exec-3-scratch");
    kn_pod_free(&model);
    kn_json *claims =
        kn_sparkapp_executor_claims(app, 3, "spark-pi-exec-3", "spark-pi-driver", "driver-uid", &err);
    assert_int_equal(kn_json_len(claims), 1); /* only the claim with a class and a size is created */
    const kn_json *c = kn_json_at(claims, 0);
    assert_string_equal(kn_json_str(kn_json_dig(c, "metadata", "name", NULL)), "spark-pi-exec-3-pvc-0");
    assert_string_equal(kn_json_str(kn_json_dig(c, "spec", "storageClassName", NULL)), "gp3");
    assert_string_equal(kn_json_str(kn_json_at(kn_json_dig(c, "spec", "accessModes", NULL), 0)),
                        "ReadWriteOncePod");
    assert_string_equal(kn_json_str(kn_json_dig(c, "spec", "resources", "requests", "storage", NULL)), "100Gi");
    const kn_json *owner = kn_json_at(kn_json_dig(c, "metadata", "ownerReferences", NULL), 0);
    assert_string_equal(kn_json_get_str(owner, "uid"), "driver-uid");
    kn_json_free(claims);
    kn_json_set_str(kn_json_dig(app, "spec", "sparkConf", NULL),
                    "spark.kubernetes.legacy.useReadWriteOnceAccessMode", "true");
    claims = kn_sparkapp_executor_claims(app, 1, "spark-pi-exec-1", "spark-pi-driver", "driver-uid", &err);
    assert_string_equal(
        kn_json_str(kn_json_at(kn_json_dig(kn_json_at(claims, 0), "spec", "accessModes", NULL), 0)),
        "ReadWriteOnce");
    kn_json_free(claims);
    char *resv = kn_sparkapp_reservation(app, &err);
    assert_non_null(resv);
    kn_json *r = obj(resv);
    assert_string_equal(kn_json_str(kn_json_at(kn_json_get(r, "storageClasses"), 0)), "gp3");
    assert_int_equal(kn_json_len(kn_json_get(r, "storageClasses")), 1);
    kn_executor_reservation parsed;
    assert_int_equal(kn_executor_reservation_parse(resv, &parsed, &err), 0);
    assert_int_equal(
        kn_executor_reservation_parse("{\"count\":1,\"requests\":{},\"storageClasses\":[1]}", &parsed, &err), -1);
    assert_non_null(strstr(err.msg, "storageClasses"));
    kn_json_free(r);
    free(resv);
    kn_json_free(pod);
    kn_json_free(app);
    /* without claims, no storageClasses */
    app = app_of("sparkapp-spark-pi.json");
    resv = kn_sparkapp_reservation(app, &err);
    assert_null(strstr(resv, "storageClasses"));
    free(resv);
    kn_json_free(app);
}

static void test_executor_renumbered_as_built(void **state)
{
    (void)state;
    kn_err err = {{0}};
    const char *fixtures[] = {"sparkapp-spark-pi.json", "sparkapp-data-processing.json", NULL};
    kn_sparkapp_pod_opts opts = {.app_id = APP_ID, .name_prefix = "spark-pi-5e7a9c1b3d2f4a6e"};
    for (size_t f = 0; f < 3; f++) {
        kn_json *app = fixtures[f] ? app_of(fixtures[f]) : app_with_volumes();
        const kn_sparkapp_pod_opts *o = f == 0 ? &opts : NULL; /* a name prefix; the app's name */
        kn_json *first_pod = as_admitted(kn_sparkapp_executor_pod(app, 1, NULL, o, &err));
        assert_non_null(first_pod);
        kn_pod first = model_of(first_pod), got = model_of(first_pod);
        for (int id = 2; id <= 12; id += 5) {
            kn_json *want_pod = as_admitted(kn_sparkapp_executor_pod(app, id, NULL, o, &err));
            kn_pod want = model_of(want_pod);
            assert_int_equal(kn_sparkapp_executor_renumber(&got, app, id, o, &err), 0);
            assert_same_model(&got, &want);
            char idtext[16];
            snprintf(idtext, sizeof(idtext), "%d", id);
            assert_string_equal(kn_pod_label(&got, "spark-exec-id"), idtext);
            char name[300];
            snprintf(name, sizeof(name), "%.200s-exec-%d",
                     o ? o->name_prefix : kn_json_str(kn_json_dig(app, "metadata", "name", NULL)), id);
            assert_string_equal(got.name, name);
            assert_string_not_equal(got.name, first.name);
            kn_pod_free(&want);
            kn_json_free(want_pod);
        }
        kn_pod_free(&got);
        /* not an executor pod: an error, not a half-renumbered pod */
        kn_json *driver_pod = kn_sparkapp_driver_pod(app, o, &err);
        kn_pod driver = model_of(driver_pod);
        assert_int_equal(kn_sparkapp_executor_renumber(&driver, app, 2, o, &err), -1);
        assert_non_null(strstr(err.msg, "spark-exec-id"));
        assert_int_equal(kn_sparkapp_executor_renumber(&first, app, 0, o, &err), -1);
        kn_pod_free(&driver);
        kn_json_free(driver_pod);
        kn_pod_free(&first);
        kn_json_free(first_pod);
        kn_json_free(app);
    }
}

/* The guide's production example: role env, volume mounts, extra labels,
 * GPU limits, NUMA annotations and the role's schedulerName reach the pods. */
static void test_pods_carry_role_settings(void **state)
{
    (void)state;
    kn_err err = {{0}};
    kn_json *app = app_of("sparkapp-data-processing.json");
    kn_json *pod = kn_sparkapp_executor_pod(app, 3, NULL, NULL, &err);
    assert_non_null(pod);
    assert_string_equal(str_at(pod, "/metadata/name"), "data-processing-exec-3");
    assert_string_equal(str_at(pod, "/metadata/labels/job"), "data-processing");
    assert_string_equal(str_at(pod, "/metadata/labels/pod-group.scheduling.kubenexus.io~1min-available"), "21");
    assert_string_equal(str_at(pod, "/spec/schedulerName"), "kubenexus-scheduler");
    assert_string_equal(str_at(pod, "/spec/containers/0/resources/requests/memory"), "9Gi");
    assert_string_equal(str_at(pod, "/spec/containers/0/resources/requests/cpu"), "2");
    assert_string_equal(str_at(pod, "/spec/containers/0/volumeMounts/0/mountPath"), "/data");
    const kn_json *env = kn_json_pointer_get(pod, "/spec/containers/0/env");
    assert_string_equal(kn_json_get_str(kn_json_at(env, kn_json_len(env) - 1), "name"), "AWS_REGION");
    kn_json_free(pod);
    kn_json_free(app);

    app = app_of("sparkapp-spark-ml-gpu.json");
    pod = kn_sparkapp_driver_pod(app, NULL, &err);
    assert_non_null(pod);
    assert_string_equal(str_at(pod, "/spec/containers/0/resources/limits/nvidia.com~1gpu"), "1");
    assert_string_equal(str_at(pod, "/metadata/annotations/numa.scheduling.kubenexus.io~1policy"), "single-numa");
    assert_string_equal(str_at(pod, "/metadata/labels/spark-app-selector"),
                        str_at(pod, "/spec/containers/0/env/1/value"));
    assert_true(strncmp(str_at(pod, "/metadata/labels/spark-app-selector"), "spark-", 6) == 0);
    assert_int_equal(strlen(str_at(pod, "/metadata/labels/spark-app-selector")), 38);
    kn_json_free(pod);
    /* a bad size is an error naming the field, not a pod */
    kn_json_set_str(kn_json_pointer_get(app, "/spec/driver"), "memory", "8Gi");
    assert_null(kn_sparkapp_driver_pod(app, NULL, &err));
    assert_non_null(strstr(err.msg, "spec.driver.memory"));
    kn_json_free(app);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_executor_count),
        cmocka_unit_test(test_effective_labels),
        cmocka_unit_test(test_reservation_parse),
        cmocka_unit_test(test_reservation_placement),
        cmocka_unit_test(test_reservation_carries_the_executors_terms_and_labels),
        cmocka_unit_test(test_driver_pod_as_spark_builds_it),
        cmocka_unit_test(test_executor_pod_as_spark_builds_it),
        cmocka_unit_test(test_pods_carry_role_settings),
        cmocka_unit_test(test_executor_volumes_and_claims),
        cmocka_unit_test(test_executor_renumbered_as_built),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
