/* test_e2e_admission.c - SparkApplications applied to the kube-apiserver
 * double, which calls the real kubenexus-webhook over TLS through the
 * webhook configurations of deploy/base (caBundle from certs/gen-certs.sh),
 * and the Spark Operator stand-in creating driver pods through the same chain.
 *
 * Cases: every production example is admitted and mutated (schedulerName on
 * both roles, the driver's executor reservation) and its driver pod carries
 * them; every misconfigured example is rejected at apply time with its
 * message; with the webhook down, failurePolicy Fail refuses the apply with
 * kube-apiserver's internal error and Ignore admits it unchanged. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "e2e_env.h"
#include "e2e_operator.h"
#include "sim/operator/spark_operator.h"
#include "spark/sparkapp.h"

#define RESERVATION "scheduling.kubenexus.io/executor-reservation"

static kn_e2e g_env;

static int setup(void **state)
{
    (void)state;
    if (kn_e2e_start(&g_env) == 0)
        return 0;
    g_env.failed = true; /* no teardown after a failed setup: stop here */
    kn_e2e_stop(&g_env);
    return -1;
}

static int teardown(void **state)
{
    (void)state;
    return kn_e2e_stop(&g_env);
}

#define CHECK(cond) KN_E2E_CHECK(&g_env, cond)

static const char *message(const kn_json *status)
{
    const char *m = kn_json_get_str(status, "message");
    return m != NULL ? m : "";
}

static bool contains(const char *hay, const char *needle)
{
    if (strstr(hay, needle) != NULL)
        return true;
    fprintf(stderr, "want \"%s\" in \"%s\"\n", needle, hay);
    return false;
}

/* ---- production examples -------------------------------------------------- */

static const struct example {
    const char *file, *ns, *name;
    int executors;
} k_examples[] = {
    {"deploy/examples/spark-pi.yaml", "default", "spark-pi", 3},
    {"deploy/examples/data-processing.yaml", "spark-jobs", "data-processing", 20},
    {"deploy/examples/spark-ml-gpu.yaml", "spark-jobs", "spark-ml-gpu", 8},
    {"deploy/examples/kafka-stream.yaml", "spark-jobs", "kafka-stream-processor", 5},
    {"deploy/examples/spark-pi-volcano.yaml", "default", "spark-pi-volcano", 2},
};

static void check_reservation(const char *json_text, int count)
{
    CHECK(json_text != NULL);
    kn_json *r = kn_json_parse(json_text, strlen(json_text), NULL, NULL);
    int64_t n = -1;
    CHECK(kn_json_int(kn_json_get(r, "count"), &n) == 0 && n == count);
    CHECK(kn_json_get(r, "requests") != NULL);
    kn_json_free(r);
}

static void check_admitted_app(const kn_json *app, const struct example *ex)
{
    const char *roles[] = {"driver", "executor"};
    for (int i = 0; i < 2; i++) {
        const char *s = kn_json_str(kn_json_dig(app, "spec", roles[i], "schedulerName", NULL));
        CHECK(s != NULL && strcmp(s, "kubenexus-scheduler") == 0);
    }
    check_reservation(kn_json_str(kn_json_dig(app, "spec", "driver", "annotations", RESERVATION, NULL)),
                      ex->executors);
    /* translated: no batch scheduler takes the pods away */
    CHECK(kn_json_dig(app, "spec", "batchScheduler", NULL) == NULL);
}

static void check_driver_pod(const struct example *ex)
{
    char name[256];
    snprintf(name, sizeof(name), "%s-driver", ex->name);
    kn_json *pod = kn_e2e_get_pod(&g_env, ex->ns, name);
    CHECK(pod != NULL);
    const char *sched = kn_json_str(kn_json_dig(pod, "spec", "schedulerName", NULL));
    CHECK(sched != NULL && strcmp(sched, "kubenexus-scheduler") == 0);
    check_reservation(kn_json_str(kn_json_dig(pod, "metadata", "annotations", RESERVATION, NULL)), ex->executors);
    const char *role = kn_json_str(kn_json_dig(pod, "metadata", "labels", "spark-role", NULL));
    CHECK(role != NULL && strcmp(role, "driver") == 0);
    kn_json_free(pod);
}

/* The double's chain called webhook (NULL: any) for resource ns/name with
 * operation op (NULL: any), by its call log. */
static bool webhook_called_op(const char *resource, const char *ns, const char *name, const char *webhook,
                              const char *op)
{
    kn_json *st = NULL;
    kn_e2e_call(&g_env, "GET", "/_test/admission", NULL, NULL, &st);
    kn_json *calls = kn_json_get(st, "calls");
    bool found = false;
    for (size_t i = 0; i < kn_json_len(calls) && !found; i++) {
        const kn_json *c = kn_json_at(calls, i);
        const char *w = kn_json_get_str(c, "webhook"), *n = kn_json_get_str(c, "name");
        const char *cns = kn_json_get_str(c, "namespace"), *r = kn_json_get_str(c, "resource");
        const char *o = kn_json_get_str(c, "operation");
        found = w && n && cns && r && o && (webhook == NULL || strcmp(w, webhook) == 0) && strcmp(n, name) == 0 &&
                strcmp(cns, ns) == 0 && strcmp(r, resource) == 0 && (op == NULL || strcmp(o, op) == 0);
    }
    kn_json_free(st);
    return found;
}

static bool webhook_called(const char *resource, const char *ns, const char *name, const char *webhook)
{
    return webhook_called_op(resource, ns, name, webhook, NULL);
}

/* The operator recorded the submission through the status subresource,
 * which kube-apiserver never sends to the webhooks. */
static void check_submitted(const struct example *ex)
{
    char url[512];
    snprintf(url, sizeof(url), "/apis/sparkoperator.k8s.io/v1beta2/namespaces/%s/sparkapplications/%s", ex->ns,
             ex->name);
    kn_json *app = NULL;
    CHECK(kn_e2e_call(&g_env, "GET", url, NULL, NULL, &app) == 200);
    const char *state = kn_json_str(kn_json_dig(app, "status", "applicationState", "state", NULL));
    CHECK(state != NULL && strcmp(state, "SUBMITTED") == 0);
    CHECK(!webhook_called_op("sparkapplications", ex->ns, ex->name, NULL, "UPDATE"));
    kn_json_free(app);
}

static void test_production_examples_admitted(void **state)
{
    (void)state;
    kn_e2e_operator op = {.env = &g_env};
    for (size_t i = 0; i < sizeof(k_examples) / sizeof(k_examples[0]); i++) {
        const struct example *ex = &k_examples[i];
        kn_json *app = NULL;
        long st = kn_e2e_apply(&g_env, ex->file, NULL, &app);
        if (st != 201)
            fprintf(stderr, "%s: HTTP %ld: %s\n", ex->file, st, message(app));
        CHECK(st == 201);
        check_admitted_app(app, ex);
        kn_json_free(app);
    }
    CHECK(kn_e2e_operator_step(&op) == 0);
    if (op.refused > 0)
        fprintf(stderr, "operator: %s\n", op.last_error);
    CHECK(op.refused == 0);
    for (size_t i = 0; i < sizeof(k_examples) / sizeof(k_examples[0]); i++) {
        char driver[256];
        check_driver_pod(&k_examples[i]);
        check_submitted(&k_examples[i]);
        snprintf(driver, sizeof(driver), "%s-driver", k_examples[i].name);
        CHECK(webhook_called("pods", k_examples[i].ns, driver, "gang-pods.mutate.kubenexus.io"));
        CHECK(webhook_called("pods", k_examples[i].ns, driver, "gang-pods.validate.kubenexus.io"));
    }
}

/* ---- misconfigured examples ------------------------------------------------ */

static const struct bad {
    const char *file, *needle;
} k_bad[] = {
    {"batch-scheduler.yaml",
     "spec.batchSchedulerOptions.queue is \"research\": the Spark Operator would put Volcano "
     "PodGroup spark-batch-scheduler-pg in that queue"},
    {"core-limit-below-cores.yaml", "spec.driver.coreLimit \"500m\" is below cores 1"},
    {"gang-name-mismatch.yaml", "gang name differs between roles"},
    {"gang-on-driver-only.yaml", "missing on the executor"},
    {"gpu-without-vendor.yaml", "spark.executor.resource.gpu.vendor is missing"},
    {"kubernetes-memory-unit.yaml", "\"4Gi\" is not a Spark size (Spark wants 4g)"},
    {"min-available-differs.yaml", "min-available is \"5\", want \"4\""},
    {"min-available-not-a-number.yaml", "min-available is \"four\", want \"4\" (1 driver + 3 executors)"},
    {"other-scheduler.yaml", "spec.executor.schedulerName is \"default-scheduler\""},
    {"unknown-numa-policy.yaml", "\"single-node\" is not a NUMA policy"},
    {"unknown-numa-resource.yaml", "\"gpu\" is not a resource kubenexus can align"},
    {"wrong-min-available.yaml", "min-available is \"3\", want \"4\""},
    {"zero-cores.yaml", "spec.driver.cores is 0"},
    {"zero-instances.yaml", "spec.executor.instances is 0"},
};

static void test_misconfigured_rejected(void **state)
{
    (void)state;
    size_t n = sizeof(k_bad) / sizeof(k_bad[0]);
    for (size_t i = 0; i < n; i++) {
        char path[256];
        snprintf(path, sizeof(path), "deploy/examples/misconfigured/%s", k_bad[i].file);
        kn_json *st = NULL;
        long code = kn_e2e_apply(&g_env, path, NULL, &st);
        const char *msg = message(st);
        fprintf(stderr, "%s: HTTP %ld: %s\n", k_bad[i].file, code, msg);
        CHECK(code >= 400 && code < 500);
        CHECK(strncmp(msg, "admission webhook \"sparkapplications.", 37) == 0);
        CHECK(contains(msg, ".kubenexus.io\" denied the request: "));
        CHECK(contains(msg, k_bad[i].needle));
        kn_json_free(st);
        /* Nothing was stored (each file's application is named after it). */
        char url[512];
        snprintf(url, sizeof(url), "/apis/sparkoperator.k8s.io/v1beta2/namespaces/default/sparkapplications/%.*s",
                 (int)(strlen(k_bad[i].file) - 5), k_bad[i].file);
        CHECK(kn_e2e_call(&g_env, "GET", url, NULL, NULL, NULL) == 404);
    }
}

/* ---- the webhook down ---------------------------------------------------- */

/* A driver pod of spark-pi as the operator creates it, named name; with or
 * without the gang labels. */
static long create_driver(const char *name, bool gang, kn_json **resp)
{
    kn_json *app = kn_e2e_read_doc("deploy/examples/spark-pi.yaml");
    kn_json_set_str(kn_json_get(app, "metadata"), "name", name);
    if (!gang) {
        kn_json_remove(kn_json_dig(app, "spec", "driver", NULL), "labels");
        kn_json_remove(kn_json_dig(app, "spec", "executor", NULL), "labels");
    }
    kn_err err;
    kn_json *pod = kn_sparkapp_driver_pod(app, NULL, &err);
    long code = pod != NULL ? kn_e2e_call_json(&g_env, "POST", "/api/v1/namespaces/default/pods", pod,
                                               "system:serviceaccount:spark-operator:spark-operator", resp)
                            : 0;
    kn_json_free(pod);
    kn_json_free(app);
    return code;
}

/* The manifests' own per-webhook policies with the webhook down: a gang pod
 * is refused (gang-pods: Fail), a plain Spark pod admitted (spark-pods: Ignore). */
static void check_pods_while_webhook_down(void)
{
    kn_json *st = NULL;
    long code = create_driver("down-gang", true, &st);
    fprintf(stderr, "webhook down, gang driver pod: HTTP %ld: %s\n", code, message(st));
    CHECK(code == 500);
    CHECK(contains(message(st), "failed calling webhook \"gang-pods.mutate.kubenexus.io\""));
    kn_json_free(st);
    st = NULL;
    code = create_driver("down-plain", false, &st);
    CHECK(code == 201);
    const char *role = kn_json_str(kn_json_dig(st, "metadata", "labels", "spark-role", NULL));
    CHECK(role != NULL && strcmp(role, "driver") == 0);
    kn_json_free(st);
    CHECK(webhook_called_op("pods", "default", "down-plain-driver", "spark-pods.mutate.kubenexus.io", "CREATE"));
}

static void test_webhook_down_fail_then_ignore(void **state)
{
    (void)state;
    kn_e2e_stop_webhook(&g_env);
    kn_json *st = NULL;
    long code = kn_e2e_apply(&g_env, "deploy/examples/spark-pi.yaml", "pi-webhook-down", &st);
    fprintf(stderr, "webhook down, Fail: HTTP %ld: %s\n", code, message(st));
    CHECK(code == 500);
    CHECK(strcmp(kn_json_get_str(st, "reason") ? kn_json_get_str(st, "reason") : "", "InternalError") == 0);
    CHECK(contains(message(st), "Internal error occurred: failed calling webhook "
                                "\"sparkapplications.mutate.kubenexus.io\": failed to call webhook: "
                                "Post \"https://kubenexus-webhook.kube-system.svc:443/mutate?timeout=5s\": "));
    kn_json_free(st);
    check_pods_while_webhook_down();

    /* failurePolicy Ignore: admitted as sent (nothing injected). */
    CHECK(kn_e2e_load_webhook_configs(&g_env, "Ignore") == 0);
    kn_json *app = NULL;
    code = kn_e2e_apply(&g_env, "deploy/examples/spark-pi.yaml", "pi-webhook-ignored", &app);
    CHECK(code == 201);
    CHECK(kn_json_dig(app, "spec", "driver", "schedulerName", NULL) == NULL);
    CHECK(kn_json_dig(app, "spec", "driver", "annotations", NULL) == NULL);
    kn_json_free(app);

    /* Back to the manifests' policies and a running webhook: mutated again. */
    CHECK(kn_e2e_load_webhook_configs(&g_env, NULL) == 0);
    CHECK(kn_e2e_start_webhook(&g_env) == 0);
    code = kn_e2e_apply(&g_env, "deploy/examples/spark-pi.yaml", "pi-webhook-back", &app);
    CHECK(code == 201);
    const char *s = kn_json_str(kn_json_dig(app, "spec", "driver", "schedulerName", NULL));
    CHECK(s != NULL && strcmp(s, "kubenexus-scheduler") == 0);
    kn_json_free(app);
}

/* ---- warnings reach the user, a hung webhook times out ------------------ */

static void test_warning_header(void **state)
{
    (void)state;
    kn_json *app = kn_e2e_read_doc("deploy/examples/spark-pi.yaml");
    CHECK(app != NULL);
    kn_json_set_str(kn_json_get(app, "metadata"), "name", "pi-dynamic");
    kn_json *dyn = kn_json_new_object();
    kn_json_set(dyn, "enabled", kn_json_new_bool(true));
    kn_json_set(dyn, "initialExecutors", kn_json_new_int(3));
    kn_json_set(dyn, "maxExecutors", kn_json_new_int(10));
    kn_json_set(kn_json_get(app, "spec"), "dynamicAllocation", dyn);
    kn_json *out = NULL;
    long code =
        kn_e2e_call_json(&g_env, "POST", "/apis/sparkoperator.k8s.io/v1beta2/namespaces/default/sparkapplications",
                         app, NULL, &out);
    fprintf(stderr, "dynamic allocation: HTTP %ld, Warning: %s", code, g_env.warnings);
    CHECK(code == 201);
    CHECK(strncmp(g_env.warnings, "299 - \"", 7) == 0);
    CHECK(contains(g_env.warnings, "dynamic allocation"));
    CHECK(strchr(g_env.warnings, '\n') == g_env.warnings + strlen(g_env.warnings) - 1); /* once */
    kn_json_free(out);
    kn_json_free(app);
}

/* A webhook that accepts connections but never answers (stopped): the API
 * server gives up after the configuration's timeoutSeconds (5). */
static void test_webhook_hung_times_out(void **state)
{
    (void)state;
    CHECK(g_env.wh_pid > 0 && kill(g_env.wh_pid, SIGSTOP) == 0);
    kn_json *st = NULL;
    long code = kn_e2e_apply(&g_env, "deploy/examples/spark-pi.yaml", "pi-webhook-hung", &st);
    kill(g_env.wh_pid, SIGCONT);
    fprintf(stderr, "webhook hung: HTTP %ld: %s\n", code, message(st));
    CHECK(code == 500);
    CHECK(contains(message(st), "failed calling webhook \"sparkapplications.mutate.kubenexus.io\""));
    CHECK(contains(message(st), "context deadline exceeded"));
    kn_json_free(st);
}

/* ---- gang-label fill-in for namespaces that opt in ----------------------- */

static void test_fill_gang_labels_namespace(void **state)
{
    (void)state;
    CHECK(kn_e2e_call(&g_env, "POST", "/_test/admission",
                      "{\"namespaces\":{\"fill-in\":{\"labels\":{\"kubenexus.io/fill-gang-labels\":\"true\"}}}}",
                      NULL, NULL) == 200);
    kn_json *app = kn_e2e_read_doc("deploy/examples/spark-pi.yaml");
    CHECK(app != NULL);
    kn_json_set_str(kn_json_get(app, "metadata"), "namespace", "fill-in");
    kn_json_remove(kn_json_dig(app, "spec", "driver", NULL), "labels");
    kn_json_remove(kn_json_dig(app, "spec", "executor", NULL), "labels");
    kn_json *out = NULL;
    long code =
        kn_e2e_call_json(&g_env, "POST", "/apis/sparkoperator.k8s.io/v1beta2/namespaces/fill-in/sparkapplications",
                         app, NULL, &out);
    if (code != 201)
        fprintf(stderr, "fill-in: HTTP %ld: %s\n", code, message(out));
    CHECK(code == 201);
    /* The opt-in entry (path /mutate/fill-gang-labels) derived the gang. */
    const char *gang = kn_json_str(
        kn_json_dig(out, "spec", "executor", "labels", "pod-group.scheduling.kubenexus.io/name", NULL));
    const char *min = kn_json_str(
        kn_json_dig(out, "spec", "driver", "labels", "pod-group.scheduling.kubenexus.io/min-available", NULL));
    CHECK(gang != NULL && strcmp(gang, "spark-pi") == 0);
    CHECK(min != NULL && strcmp(min, "4") == 0);
    CHECK(
        webhook_called("sparkapplications", "fill-in", "spark-pi", "sparkapplications-fill.mutate.kubenexus.io"));
    CHECK(!webhook_called("sparkapplications", "fill-in", "spark-pi", "sparkapplications.mutate.kubenexus.io"));
    kn_json_free(out);
    kn_json_free(app);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_production_examples_admitted),
        cmocka_unit_test(test_misconfigured_rejected),
        cmocka_unit_test(test_webhook_down_fail_then_ignore),
        cmocka_unit_test(test_fill_gang_labels_namespace),
        cmocka_unit_test(test_warning_header),
        cmocka_unit_test(test_webhook_hung_times_out),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
