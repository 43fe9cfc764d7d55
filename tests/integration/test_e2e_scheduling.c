/* test_e2e_scheduling.c - the whole chain, applied SparkApplication to bound
 * pods: the kube-apiserver double with its admission chain, the real
 * kubenexus-webhook, the Spark Operator stand-in and the real
 * kubenexus-scheduler.
 *
 * Cases: the seed's production examples (and spark-pi) are admitted and fully
 * bound driver first, the driver carrying its executor reservation; a gang too
 * large for the cluster never binds its driver (and holds nothing: a small
 * application still runs); of two applications where only one fits, one is
 * fully bound and the other binds nothing; a scheduler killed after binding a
 * driver is restarted while its executors arrive and binds them all, with no
 * pod bound twice; a scheduler restarted with a driver bound and its executors
 * not yet asked for holds their slots again, so a second application's
 * driver is refused and the first one's executors bind; a high-priority
 * application on a cluster full of low-priority ones preempts one of them
 * whole (its driver and every executor) and runs, the other keeps running,
 * and no gang is left partly running; an application whose executors mount
 * OnDemand claims of a WaitForFirstConsumer class (created by the driver
 * after each executor, as Spark does) has every executor bound in the
 * class's zone once its claim, annotated with that node, is provisioned and
 * bound; an application whose executors are required apart on hostname
 * has its driver's reservation carry that affinity and every executor bound
 * on a node of its own, in a slot held there for it; one whose executors'
 * pod template spreads them over zones has the constraint in the
 * reservation and two executors bound in each zone, in their slots.
 * Every wait polls with a bound; nothing asserts how long anything took. */
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

#define RESERVATION "scheduling.kubenexus.io/executor-reservation"
#define WAIT_S 120.0

static kn_e2e g_env;
static kn_e2e_operator g_op;

static int setup(void **state)
{
    (void)state;
    if (kn_e2e_start(&g_env) != 0) {
        g_env.failed = true;
        kn_e2e_stop(&g_env);
        return -1;
    }
    g_op = (kn_e2e_operator){.env = &g_env};
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return kn_e2e_stop(&g_env);
}

#define CHECK(cond) KN_E2E_CHECK(&g_env, cond)

typedef struct app_ref {
    const char *ns, *name;
    int want; /* 1 driver + executors */
} app_ref;

/* One operator pass, then: every pod of the application exists and is bound. */
static bool app_bound(void *ctx)
{
    const app_ref *a = ctx;
    kn_e2e_operator_step(&g_op);
    int bound = 0;
    int n = kn_e2e_app_pods(&g_env, a->ns, a->name, &bound);
    return n == a->want && bound == a->want;
}

static bool either_bound(void *ctx)
{
    app_ref *two = ctx;
    return app_bound(&two[0]) || app_bound(&two[1]);
}

static bool driver_bound(void *ctx)
{
    const app_ref *a = ctx;
    kn_e2e_operator_step(&g_op);
    char name[256];
    snprintf(name, sizeof(name), "%s-driver", a->name);
    kn_json *pod = kn_e2e_get_pod(&g_env, a->ns, name);
    const char *node = kn_json_str(kn_json_dig(pod, "spec", "nodeName", NULL));
    bool ok = node != NULL && node[0] != '\0';
    kn_json_free(pod);
    return ok;
}

/* The scheduler has looked at the driver and said why it cannot place it. */
static bool driver_refused(void *ctx)
{
    const app_ref *a = ctx;
    kn_e2e_operator_step(&g_op);
    char name[256];
    snprintf(name, sizeof(name), "%s-driver", a->name);
    return kn_e2e_has_event(&g_env, a->ns, name, "FailedScheduling");
}

static void apply_ok(const char *file, const char *name)
{
    kn_json *resp = NULL;
    long st = kn_e2e_apply(&g_env, file, name, &resp);
    if (st != 201)
        fprintf(stderr, "%s: HTTP %ld: %s\n", file, st, kn_json_get_str(resp, "message"));
    CHECK(st == 201);
    kn_json_free(resp);
}

/* The driver's executor reservation, parsed (the caller frees it). */
static kn_json *driver_reservation(const app_ref *a)
{
    char name[256];
    snprintf(name, sizeof(name), "%s-driver", a->name);
    kn_json *pod = kn_e2e_get_pod(&g_env, a->ns, name);
    const char *r = kn_json_str(kn_json_dig(pod, "metadata", "annotations", RESERVATION, NULL));
    CHECK(r != NULL);
    kn_json *res = kn_json_parse(r, strlen(r), NULL, NULL);
    kn_json_free(pod);
    CHECK(res != NULL);
    return res;
}

static void check_driver_reservation(const app_ref *a)
{
    kn_json *res = driver_reservation(a);
    int64_t count = -1;
    CHECK(kn_json_int(kn_json_get(res, "count"), &count) == 0 && count == a->want - 1);
    kn_json_free(res);
}

/* The nodes of the app's executors <app>-exec-1.. into nodes (a->want - 1
 * of them), each checked against the slots held for them: the driver's
 * GangReserved event names every node with as many slots as executors
 * there ("... on node-1 (1), node-2 (1), ..."). */
static void executors_took_slots(const app_ref *a, char nodes[][64])
{
    char driver[256];
    snprintf(driver, sizeof(driver), "%s-driver", a->name);
    char *msg = kn_e2e_event_message(&g_env, a->ns, driver, "GangReserved");
    CHECK(msg != NULL);
    int n = a->want - 1;
    for (int i = 0; i < n; i++) {
        char name[256];
        snprintf(name, sizeof(name), "%s-exec-%d", a->name, i + 1);
        kn_json *pod = kn_e2e_get_pod(&g_env, a->ns, name);
        const char *node = kn_json_str(kn_json_dig(pod, "spec", "nodeName", NULL));
        CHECK(node != NULL);
        snprintf(nodes[i], 64, "%s", node);
        kn_json_free(pod);
    }
    for (int i = 0; i < n; i++) {
        int here = 0;
        for (int j = 0; j < n; j++)
            here += strcmp(nodes[i], nodes[j]) == 0;
        char want[96];
        snprintf(want, sizeof(want), " %.63s (%d)", nodes[i], here);
        if (strstr(msg, want) == NULL)
            fprintf(stderr, "GangReserved: %s; want%s\n", msg, want);
        CHECK(strstr(msg, want) != NULL);
    }
    free(msg);
}

static void wait_fully_bound(const app_ref *a)
{
    bool ok = kn_e2e_wait(WAIT_S, app_bound, (void *)a);
    if (!ok) {
        int bound = 0, n = kn_e2e_app_pods(&g_env, a->ns, a->name, &bound);
        fprintf(stderr, "%s/%s: %d pods, %d bound, want %d (operator refused %d: %s)\n", a->ns, a->name, n, bound,
                a->want, g_op.refused, g_op.last_error);
    }
    CHECK(ok);
}

/* single-numa GPU pods: on a GPU node, given one NUMA zone (the Binding's
 * zones annotation, copied onto the pod by the API server). */
static void check_gpu_placement(const app_ref *a)
{
    kn_json *list = kn_e2e_app_pod_list(&g_env, a->ns, a->name);
    kn_json *items = kn_json_get(list, "items");
    CHECK((int)kn_json_len(items) == a->want);
    for (size_t i = 0; i < kn_json_len(items); i++) {
        const kn_json *p = kn_json_at(items, i);
        const char *node = kn_json_str(kn_json_dig(p, "spec", "nodeName", NULL));
        const char *zones =
            kn_json_str(kn_json_dig(p, "metadata", "annotations", "numa.kubenexus.io/assigned-zones", NULL));
        if (node == NULL || strncmp(node, "gpu-node-", 9) != 0 || zones == NULL || strchr(zones, ',') != NULL)
            fprintf(stderr, "%s: node %s, zones %s\n", kn_json_str(kn_json_dig(p, "metadata", "name", NULL)),
                    node ? node : "-", zones ? zones : "-");
        CHECK(node != NULL && strncmp(node, "gpu-node-", 9) == 0);
        CHECK(zones != NULL && zones[0] != '\0' && strchr(zones, ',') == NULL);
    }
    kn_json_free(list);
}

/* ---- cases ---------------------------------------------------------------- */

static void test_production_examples_bound(void **state)
{
    (void)state;
    CHECK(kn_e2e_load_cluster(&g_env, "deploy/examples/demo-cluster.yaml") == 0);
    CHECK(kn_e2e_start_scheduler(&g_env, NULL) == 0);
    static const struct {
        const char *file;
        app_ref app;
    } examples[] = {
        {"deploy/examples/spark-ml-gpu.yaml", {"spark-jobs", "spark-ml-gpu", 9}},
        {"deploy/examples/data-processing.yaml", {"spark-jobs", "data-processing", 21}},
        {"deploy/examples/kafka-stream.yaml", {"spark-jobs", "kafka-stream-processor", 6}},
        {"deploy/examples/spark-pi.yaml", {"default", "spark-pi", 4}},
    };
    for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
        const app_ref *a = &examples[i].app;
        apply_ok(examples[i].file, NULL);
        wait_fully_bound(a);
        check_driver_reservation(a);
        if (strcmp(a->name, "spark-ml-gpu") == 0)
            check_gpu_placement(a);
        CHECK(kn_e2e_max_bind_attempts(&g_env, a->ns, a->name) == 1);
        CHECK(g_op.refused == 0);
    }
}

static void test_too_big_never_binds_driver(void **state)
{
    (void)state;
    CHECK(kn_e2e_load_cluster(&g_env, "deploy/examples/demo-cluster.yaml") == 0);
    CHECK(kn_e2e_start_scheduler(&g_env, NULL) == 0);
    app_ref big = {"spark-jobs", "too-big", 41};
    apply_ok("deploy/examples/too-big.yaml", NULL);
    CHECK(kn_e2e_wait(WAIT_S, driver_refused, &big));
    int bound = -1;
    CHECK(kn_e2e_app_pods(&g_env, big.ns, big.name, &bound) == 1); /* the driver only */
    CHECK(bound == 0);
    /* It holds nothing: an application that fits runs meanwhile. */
    app_ref pi = {"default", "spark-pi", 4};
    apply_ok("deploy/examples/spark-pi.yaml", NULL);
    wait_fully_bound(&pi);
    CHECK(kn_e2e_app_pods(&g_env, big.ns, big.name, &bound) == 1);
    CHECK(bound == 0);
}

static void test_competing_no_deadlock(void **state)
{
    (void)state;
    /* 5 cpu in all; each spark-pi gang asks 4 (1 driver + 3 executors of 1 cpu). */
    CHECK(kn_e2e_add_node(&g_env, "small-1", "3", "8Gi", 0) == 0);
    CHECK(kn_e2e_add_node(&g_env, "small-2", "2", "8Gi", 0) == 0);
    CHECK(kn_e2e_start_scheduler(&g_env, NULL) == 0);
    apply_ok("deploy/examples/spark-pi.yaml", "pi-a");
    apply_ok("deploy/examples/spark-pi.yaml", "pi-b");
    app_ref a = {"default", "pi-a", 4}, b = {"default", "pi-b", 4};
    /* Whichever the scheduler chose is fully bound... */
    app_ref both[2] = {a, b};
    CHECK(kn_e2e_wait(WAIT_S, either_bound, both));
    const app_ref *winner = app_bound(&a) ? &a : &b, *loser = winner == &a ? &b : &a;
    fprintf(stderr, "%s is bound\n", winner->name);
    /* ...and the other, once refused, has nothing bound. */
    CHECK(kn_e2e_wait(WAIT_S, driver_refused, (void *)loser));
    int bound = -1;
    CHECK(kn_e2e_app_pods(&g_env, loser->ns, loser->name, &bound) == 1);
    CHECK(bound == 0);
    CHECK(kn_e2e_max_bind_attempts(&g_env, winner->ns, winner->name) == 1);
}

/* The scheduler crashes with the gang's driver bound and no executor asked
 * for yet; part of the executors arrive while it is down, the rest after it
 * is back. The restarted scheduler picks up the gang from the API server
 * (the driver's reservation annotation, the pods already bound). */
static void test_scheduler_restarted_midway(void **state)
{
    (void)state;
    CHECK(kn_e2e_load_cluster(&g_env, "deploy/examples/demo-cluster.yaml") == 0);
    CHECK(kn_e2e_start_scheduler(&g_env, NULL) == 0);
    app_ref a = {"spark-jobs", "data-processing", 21};
    g_op.hold_executors = true;
    apply_ok("deploy/examples/data-processing.yaml", NULL);
    CHECK(kn_e2e_wait(WAIT_S, driver_bound, &a));
    CHECK(kn_e2e_stop_scheduler(&g_env, SIGKILL) != -1);

    g_op.hold_executors = false;
    g_op.executor_limit = 8;
    kn_e2e_operator_step(&g_op);
    int bound = -1;
    CHECK(kn_e2e_app_pods(&g_env, a.ns, a.name, &bound) == 9);
    CHECK(bound == 1);
    CHECK(kn_e2e_start_scheduler(&g_env, NULL) == 0);
    g_op.executor_limit = 0;
    wait_fully_bound(&a);
    /* No pod was bound twice, none even tried twice. */
    CHECK(kn_e2e_max_bind_attempts(&g_env, a.ns, a.name) == 1);
}

/* The scheduler restarts with pi-a's driver bound and none of its executors
 * asked for yet: the restarted scheduler holds their slots again (in memory
 * only before), so pi-b, applied then, cannot take the room; pi-a's
 * executors bind when they come. 5 cpu in all; each gang asks 4. */
static void test_restart_keeps_driver_reservation(void **state)
{
    (void)state;
    CHECK(kn_e2e_add_node(&g_env, "small-1", "3", "8Gi", 0) == 0);
    CHECK(kn_e2e_add_node(&g_env, "small-2", "2", "8Gi", 0) == 0);
    CHECK(kn_e2e_start_scheduler(&g_env, NULL) == 0);
    app_ref a = {"default", "pi-a", 4}, b = {"default", "pi-b", 4};
    g_op.hold_executors = true;
    apply_ok("deploy/examples/spark-pi.yaml", "pi-a");
    CHECK(kn_e2e_wait(WAIT_S, driver_bound, &a));
    CHECK(kn_e2e_stop_scheduler(&g_env, SIGKILL) != -1);
    CHECK(kn_e2e_start_scheduler(&g_env, NULL) == 0);
    apply_ok("deploy/examples/spark-pi.yaml", "pi-b");
    CHECK(kn_e2e_wait(WAIT_S, driver_refused, &b));
    int bound = -1;
    CHECK(kn_e2e_app_pods(&g_env, b.ns, b.name, &bound) == 1);
    CHECK(bound == 0);
    g_op.hold_executors = false;
    wait_fully_bound(&a);
    CHECK(kn_e2e_app_pods(&g_env, b.ns, b.name, &bound) == 1);
    CHECK(bound == 0);
    CHECK(kn_e2e_max_bind_attempts(&g_env, a.ns, a.name) == 1);
}

static void priority_class(const char *name, int value)
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"scheduling.k8s.io/v1\",\"kind\":\"PriorityClass\","
             "\"metadata\":{\"name\":\"%s\"},\"value\":%d}",
             name, value);
    CHECK(kn_e2e_call(&g_env, "POST", "/apis/scheduling.k8s.io/v1/priorityclasses", body, NULL, NULL) == 201);
}

/* How many of the app's pods exist; how many of those are bound. */
static int app_state(const app_ref *a, int *bound)
{
    *bound = 0;
    return kn_e2e_app_pods(&g_env, a->ns, a->name, bound);
}

static bool either_gone(void *ctx)
{
    const app_ref *two = ctx;
    kn_e2e_operator_step(&g_op);
    int bound;
    return app_state(&two[0], &bound) == 0 || app_state(&two[1], &bound) == 0;
}

/* The guide's PriorityClass for critical Spark jobs, on a cluster that two
 * low-priority applications fill. */
static void test_high_priority_app_preempts_whole_apps(void **state)
{
    (void)state;
    /* 8 cpu in all; each spark-pi gang asks 4 (1 driver + 3 executors of 1 cpu). */
    CHECK(kn_e2e_add_node(&g_env, "small-1", "4", "8Gi", 0) == 0);
    CHECK(kn_e2e_add_node(&g_env, "small-2", "4", "8Gi", 0) == 0);
    priority_class("spark-high-priority", 1000000);
    priority_class("spark-low-priority", 100);
    CHECK(kn_e2e_start_scheduler(&g_env, NULL) == 0);
    app_ref low[2] = {{"default", "low-a", 4}, {"default", "low-b", 4}};
    for (int i = 0; i < 2; i++) {
        kn_json *resp = NULL;
        CHECK(kn_e2e_apply_class(&g_env, "deploy/examples/spark-pi.yaml", low[i].name, "spark-low-priority",
                                 &resp) == 201);
        kn_json_free(resp);
        wait_fully_bound(&low[i]);
    }
    app_ref high = {"default", "urgent", 4};
    kn_json *resp = NULL;
    CHECK(kn_e2e_apply_class(&g_env, "deploy/examples/spark-pi.yaml", high.name, "spark-high-priority", &resp) ==
          201);
    kn_json_free(resp);
    /* the driver got its priority from its class, through the API server's Priority plugin */
    wait_fully_bound(&high);
    kn_json *drv = kn_e2e_get_pod(&g_env, "default", "urgent-driver");
    int64_t prio = 0;
    CHECK(kn_json_int(kn_json_dig(drv, "spec", "priority", NULL), &prio) == 0 && prio == 1000000);
    kn_json_free(drv);
    /* one low application went whole, the other runs whole: none partly */
    CHECK(kn_e2e_wait(WAIT_S, either_gone, low));
    int bound = -1;
    int gone = app_state(&low[0], &bound) == 0 ? 0 : 1;
    const app_ref *kept = &low[1 - gone];
    CHECK(app_state(kept, &bound) == 4 && bound == 4);
    char driver[64];
    snprintf(driver, sizeof(driver), "%s-driver", low[gone].name);
    CHECK(kn_e2e_has_event(&g_env, "default", driver, "Preempted"));
    for (int e = 1; e <= 3; e++) {
        char exec[64];
        snprintf(exec, sizeof(exec), "%s-exec-%d", low[gone].name, e);
        CHECK(kn_e2e_has_event(&g_env, "default", exec, "Preempted"));
    }
    /* the evicted application is not submitted again (restartPolicy Never) */
    for (int i = 0; i < 5; i++)
        kn_e2e_operator_step(&g_op);
    CHECK(app_state(&low[gone], &bound) == 0);
    CHECK(g_op.refused == 0);
}

/* The double's record of a pod's binding: its resourceVersion, -1 if none. */
static long long binding_rv(const char *ns, const char *name)
{
    kn_json *st = NULL;
    long long rv = -1;
    char key[300];
    snprintf(key, sizeof(key), "%s/%s", ns, name);
    if (kn_e2e_call(&g_env, "GET", "/_test/state", NULL, NULL, &st) == 200) {
        const kn_json *b = kn_json_get(st, "bindings");
        for (size_t i = 0; i < kn_json_len(b); i++)
            if (strcmp(kn_json_get_str(kn_json_at(b, i), "pod") ?: "", key) == 0)
                rv = atoll(kn_json_get_str(kn_json_at(b, i), "resourceVersion") ?: "-1");
    }
    kn_json_free(st);
    return rv;
}

static void test_executors_ondemand_claims_on_wffc_class(void **state)
{
    (void)state;
    CHECK(kn_e2e_load_cluster(&g_env, "deploy/examples/demo-cluster.yaml") == 0);
    CHECK(kn_e2e_load_cluster(&g_env, "deploy/examples/storage-class-wffc.yaml") == 0);
    CHECK(kn_e2e_start_scheduler(&g_env, NULL) == 0);
    app_ref a = {"default", "shuffle-ondemand", 4};
    apply_ok("deploy/examples/spark-shuffle-ondemand.yaml", NULL);
    wait_fully_bound(&a);
    check_driver_reservation(&a);
    kn_json *driver = kn_e2e_get_pod(&g_env, a.ns, "shuffle-ondemand-driver");
    const char *resv = kn_json_str(kn_json_dig(driver, "metadata", "annotations", RESERVATION, NULL));
    CHECK(resv != NULL && strstr(resv, "\"storageClasses\":[\"gp3-shuffle\"]") != NULL);
    kn_json_free(driver);
    for (int i = 1; i <= 3; i++) {
        char pod_name[64], path[256];
        snprintf(pod_name, sizeof(pod_name), "shuffle-ondemand-exec-%d", i);
        kn_json *pod = kn_e2e_get_pod(&g_env, a.ns, pod_name);
        const char *node = kn_json_str(kn_json_dig(pod, "spec", "nodeName", NULL));
        const char *claim = kn_json_str(kn_json_dig(kn_json_at(kn_json_dig(pod, "spec", "volumes", NULL), 0),
                                                    "persistentVolumeClaim", "claimName", NULL));
        CHECK(claim != NULL);
        char want_claim[80];
        snprintf(want_claim, sizeof(want_claim), "%s-pvc-0", pod_name);
        CHECK(strcmp(claim, want_claim) == 0);
        /* in the class's zone: cpu-node-3 or cpu-node-4 */
        CHECK(node != NULL && (strcmp(node, "cpu-node-3") == 0 || strcmp(node, "cpu-node-4") == 0));
        snprintf(path, sizeof(path), "/api/v1/namespaces/%s/persistentvolumeclaims/%s", a.ns, claim);
        kn_json *pvc = NULL;
        CHECK(kn_e2e_call(&g_env, "GET", path, NULL, NULL, &pvc) == 200);
        const char *sel =
            kn_json_str(kn_json_dig(pvc, "metadata", "annotations", "volume.kubernetes.io/selected-node", NULL));
        CHECK(sel != NULL && node != NULL && strcmp(sel, node) == 0);
        CHECK(kn_json_str(kn_json_dig(pvc, "spec", "volumeName", NULL)) != NULL);
        CHECK(strcmp(kn_json_str(kn_json_dig(pvc, "status", "phase", NULL)) ?: "", "Bound") == 0);
        const char *rv = kn_json_str(kn_json_dig(pvc, "metadata", "resourceVersion", NULL));
        CHECK(rv != NULL && atoll(rv) < binding_rv(a.ns, pod_name)); /* the claim was bound before the pod */
        kn_json_free(pvc);
        kn_json_free(pod);
    }
    CHECK(kn_e2e_max_bind_attempts(&g_env, a.ns, a.name) == 1);
    CHECK(g_op.refused == 0);
}

/* Applies the app in file, waits until a is bound whole, and checks that
 * the driver's reservation carries member as the file has it at path under
 * spec.executor (e.g. {"affinity", NULL}). */
static void apply_bound_reserving(const char *file, const app_ref *a, const char *member, const char *const *path)
{
    apply_ok(file, NULL);
    wait_fully_bound(a);
    check_driver_reservation(a);
    kn_json *app = kn_e2e_read_doc(file), *res = driver_reservation(a);
    const kn_json *want = kn_json_dig(app, "spec", "executor", NULL);
    for (int i = 0; path[i] != NULL; i++)
        want = kn_json_get(want, path[i]);
    const kn_json *got = kn_json_get(res, member);
    CHECK(got != NULL && want != NULL && kn_json_equal(got, want));
    kn_json_free(res);
    kn_json_free(app);
}

/* Executors required apart on kubernetes.io/hostname (spec.executor.affinity,
 * selecting spark-role=executor and the app's spark-app-name) on four nodes
 * any of which could hold the whole gang: the webhook writes the affinity
 * into the driver's reservation, the slots are held on three nodes and every
 * executor is bound on its own node, in a slot. */
static void test_executors_anti_affine_on_hostname(void **state)
{
    (void)state;
    for (int i = 1; i <= 4; i++) {
        char name[16];
        snprintf(name, sizeof(name), "node-%d", i);
        CHECK(kn_e2e_add_node(&g_env, name, "8", "32Gi", 0) == 0);
    }
    CHECK(kn_e2e_start_scheduler(&g_env, NULL) == 0);
    app_ref a = {"default", "executors-apart", 4};
    apply_bound_reserving("tests/fixtures/sparkapps/executors-apart.yaml", &a, "affinity",
                          (const char *const[]){"affinity", NULL});
    char nodes[3][64];
    executors_took_slots(&a, nodes);
    CHECK(strcmp(nodes[0], nodes[1]) != 0 && strcmp(nodes[0], nodes[2]) != 0 && strcmp(nodes[1], nodes[2]) != 0);
    CHECK(kn_e2e_max_bind_attempts(&g_env, a.ns, a.name) == 1);
    CHECK(g_op.refused == 0);
}

/* Executors spread evenly over two zones (a DoNotSchedule constraint in
 * their Spark pod template) on four nodes any of which holds the whole
 * gang: the webhook writes the constraint into the driver's reservation, the
 * slots are held two per zone and the executors are bound in them. Nodes
 * are named <zone>-<i>. */
static void test_executors_spread_over_zones(void **state)
{
    (void)state;
    static const char *const nodes4[] = {"a-1", "a-2", "b-1", "b-2"};
    for (int i = 0; i < 4; i++) {
        char zone[64];
        snprintf(zone, sizeof(zone), "\"topology.kubernetes.io/zone\":\"zone-%c\"", nodes4[i][0]);
        CHECK(kn_e2e_add_node_labels(&g_env, nodes4[i], "8", "32Gi", 0, zone) == 0);
    }
    CHECK(kn_e2e_start_scheduler(&g_env, NULL) == 0);
    app_ref a = {"default", "executors-spread", 5};
    apply_bound_reserving("tests/fixtures/sparkapps/executors-spread.yaml", &a, "topologySpreadConstraints",
                          (const char *const[]){"template", "spec", "topologySpreadConstraints", NULL});
    char nodes[4][64];
    executors_took_slots(&a, nodes);
    int in_a = 0;
    for (int i = 0; i < 4; i++)
        in_a += nodes[i][0] == 'a';
    CHECK(in_a == 2);
    CHECK(kn_e2e_max_bind_attempts(&g_env, a.ns, a.name) == 1);
    CHECK(g_op.refused == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_production_examples_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_big_never_binds_driver, setup, teardown),
        cmocka_unit_test_setup_teardown(test_competing_no_deadlock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scheduler_restarted_midway, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_keeps_driver_reservation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_high_priority_app_preempts_whole_apps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_executors_ondemand_claims_on_wffc_class, setup, teardown),
        cmocka_unit_test_setup_teardown(test_executors_anti_affine_on_hostname, setup, teardown),
        cmocka_unit_test_setup_teardown(test_executors_spread_over_zones, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
