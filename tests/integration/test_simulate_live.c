/* test_simulate_live.c - `kubenexus-scheduler simulate --kubeconfig` against
 * the kube-apiserver test double: the live cluster (nodes, a pod of another
 * scheduler, a bound driver of ours whose executor reservation must be
 * rebuilt, a pending pod of ours naming a PodGroup, storage) plus
 * applications from a file, answered per application; an application of a
 * PriorityClass the cluster has, which preempts a running application (not
 * the pod a PodDisruptionBudget of the cluster protects); a file's pod placed
 * by a namespaceSelector read from the cluster's Namespaces; and nothing written
 * to the cluster. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiserver_double.h"
#include "kube/client/apiclient.h"
#include "kube/client/kubeconfig.h"
#include "kube/client/lister.h"
#include "proc.h"
#include "sched_fixture.h"

#define NS "spark"
#define MAX_LINES 64

static int setup(void **state)
{
    kn_dbl *d = calloc(1, sizeof *d);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* Volcano's CRD not installed: skipped, as the scheduler skips it */
    if (!d || kn_dbl_start(d, "--absent=podgroups.volcano") != 0) {
        free(d);
        return -1;
    }
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    kn_dbl_stop(*state);
    free(*state);
    curl_global_cleanup();
    return 0;
}

static void rfc3339(time_t t, char *buf, size_t cap)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A pod as a kubelet reports it running on node (bound since `since`). */
static void running_pod(kn_dbl *d, const char *name, const char *cpu, const char *node, const char *scheduler,
                        const char *labels, const char *annotations, time_t since)
{
    char body[4096], path[128], at[32];
    rfc3339(since, at, sizeof at);
    snprintf(
        body, sizeof body,
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","
        "\"labels\":%s,\"annotations\":%s},\"spec\":{\"schedulerName\":\"%s\",\"nodeName\":\"%s\","
        "\"containers\":[{\"name\":\"main\",\"image\":\"spark\",\"resources\":{\"requests\":{\"cpu\":\"%s\","
        "\"memory\":\"1Gi\"}}}]},\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"PodScheduled\","
        "\"status\":\"True\",\"lastTransitionTime\":\"%s\"}]}}",
        name, NS, labels, annotations, scheduler, node, cpu, at);
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods", NS);
    assert_int_equal(kn_dbl_call(d, "POST", path, body, NULL), 201);
}

/* A SparkApplication of 1 driver of driver_cores and n executors of `cores`. */
static void app(FILE *f, const char *name, int driver_cores, int n, int cores)
{
    fprintf(f,
            "---\napiVersion: sparkoperator.k8s.io/v1beta2\nkind: SparkApplication\n"
            "metadata: {name: %s, namespace: %s, labels: {pod-group.scheduling.kubenexus.io/name: %s, "
            "pod-group.scheduling.kubenexus.io/min-available: \"%d\"}}\n"
            "spec:\n  type: Scala\n  mode: cluster\n  image: spark:3.5.0\n  mainClass: Main\n"
            "  mainApplicationFile: local:///app.jar\n  sparkVersion: 3.5.0\n"
            "  driver: {cores: %d, memory: 512m}\n  executor: {instances: %d, cores: %d, memory: 512m}\n",
            name, NS, name, n + 1, driver_cores, n, cores);
}

typedef struct answer {
    char *text;
    kn_json *lines[MAX_LINES];
    int n;
} answer;

static void run_simulate(kn_dbl *d, const char *file, answer *a)
{
    memset(a, 0, sizeof *a);
    char out[256];
    snprintf(out, sizeof out, "%s/simulate.out", d->dir);
    int rc = kn_it_sh("'%s/kubenexus-scheduler' simulate --kubeconfig '%s' '%s' >'%s' 2>'%s.err'", KN_BIN_DIR,
                      d->kubeconfig, file, out, out);
    a->text = kn_it_read_file(out, NULL);
    if (rc != 0) {
        char err[300];
        snprintf(err, sizeof err, "%s.err", out);
        kn_it_dump_log(err);
    }
    assert_int_equal(rc, 0);
    assert_non_null(a->text);
    if (getenv("KN_IT_VERBOSE"))
        fputs(a->text, stderr);
    for (char *line = a->text, *nl; line && *line && a->n < MAX_LINES; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        kn_json *v = kn_json_parse(line, nl ? (size_t)(nl - line) : strlen(line), NULL, NULL);
        if (v == NULL)
            fail_msg("not a JSON line: %.*s", nl ? (int)(nl - line) : (int)strlen(line), line);
        a->lines[a->n++] = v;
    }
}

static void answer_free(answer *a)
{
    for (int i = 0; i < a->n; i++)
        kn_json_free(a->lines[i]);
    free(a->text);
}

/* The string at key of o; fails the test (not a crash) when absent. */
static const char *str_of(const kn_json *o, const char *key)
{
    const char *v = kn_json_get_str(o, key);
    if (v == NULL) {
        char *text = kn_json_dump(o, NULL);
        fail_msg("no string %s in %s", key, text ? text : "?");
    }
    return v;
}

/* The line whose member key holds value (key "application": its verdict line). */
static const kn_json *line_with(const answer *a, const char *key, const char *value)
{
    for (int i = 0; i < a->n; i++) {
        const char *v = kn_json_get_str(a->lines[i], key);
        if (v && strcmp(v, value) == 0)
            return a->lines[i];
    }
    fail_msg("no line with %s = %s in:\n%s", key, value, a->text);
    return NULL;
}

static void live_what_if_answers_and_writes_nothing(void **state)
{
    kn_dbl *d = *state;
    time_t now = time(NULL), bound = now - 10;
    assert_int_equal(kn_dbl_add_node(d, "node-a", "9", "32Gi"), 0);
    assert_int_equal(kn_dbl_add_node(d, "node-b", "4", "16Gi"), 0);
    /* another scheduler's pod leaves node-b 1 cpu */
    running_pod(d, "web", "3", "node-b", "default-scheduler", "{}", "{}", bound);
    /* our driver, bound 10 s ago, whose 2 executors of 2 cpu never came: 300 s from its binding */
    running_pod(
        d, "etl-driver", "1", "node-a", "kubenexus-scheduler",
        "{\"spark-role\":\"driver\",\"pod-group.scheduling.kubenexus.io/name\":\"etl\","
        "\"pod-group.scheduling.kubenexus.io/min-available\":\"3\"}",
        "{\"scheduling.kubenexus.io/executor-reservation\":\"{\\\"count\\\":2,\\\"requests\\\":{\\\"cpu\\\":"
        "\\\"2\\\",\\\"memory\\\":\\\"1Gi\\\"}}\",\"pod-group.scheduling.kubenexus.io/timeout-seconds\":\"300\"}",
        bound);
    /* our pending pod naming a coscheduling PodGroup the cluster has */
    assert_int_equal(kn_dbl_add_podgroup(d, false, NS, "pg", "{\"minMember\":1}"), 0);
    assert_int_equal(
        kn_dbl_add_pod(d, NS, "pg-0", "100m", "64Mi", "{\"scheduling.x-k8s.io/pod-group\":\"pg\"}", NULL), 0);
    /* the files: one that fits now, one that never does, one that fits once the held slots expire */
    char file[200];
    snprintf(file, sizeof file, "%s/apps.yaml", d->dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    app(f, "small", 1, 1, 1);
    app(f, "big", 16, 1, 1); /* a driver larger than any node */
    app(f, "later", 1, 2, 2);
    fclose(f);

    int writes = kn_dbl_writes(d);
    assert_true(writes > 0); /* the setup's own */
    answer a;
    run_simulate(d, file, &a);

    char expires[32];
    rfc3339(bound + 300, expires, sizeof expires);
    /* the rebuilt reservation, with when it expires */
    const kn_json *held = NULL;
    for (int i = 0; i < a.n && held == NULL; i++)
        held = kn_json_get(a.lines[i], "reservation");
    assert_non_null(held);
    assert_string_equal(str_of(held, "driver"), "spark/etl-driver");
    assert_string_equal(str_of(held, "gang"), "spark/etl");
    assert_string_equal(str_of(held, "expires"), expires);
    int64_t slots = 0;
    assert_int_equal(kn_json_int(kn_json_get(held, "slots"), &slots), 0);
    assert_int_equal(slots, 2);
    /* the cluster's pending pod is placed as the live scheduler would */
    assert_non_null(kn_json_get_str(line_with(&a, "pod", "spark/pg-0"), "node"));

    const kn_json *v = line_with(&a, "application", "spark/small");
    assert_true(kn_json_bool(kn_json_get(v, "startsNow"), false));
    assert_string_equal(str_of(v, "verdict"), "would start now on node-a (driver, 1 executor)");

    v = line_with(&a, "application", "spark/later");
    assert_false(kn_json_bool(kn_json_get(v, "startsNow"), true));
    assert_string_equal(str_of(v, "startsAt"), expires);
    char want[300];
    snprintf(want, sizeof want,
             "would start at %s, once held executor reservations have expired, on node-a "
             "(driver, 2 executors)",
             expires);
    assert_string_equal(str_of(v, "verdict"), want);

    v = line_with(&a, "application", "spark/big");
    assert_false(kn_json_bool(kn_json_get(v, "startsNow"), true));
    const char *verdict = str_of(v, "verdict");
    assert_non_null(strstr(verdict, "would wait: "));
    const char *want_wait = "would wait: 0/2 nodes are available: 2 Insufficient cpu. Gang spark/big: only 0 of 2 "
                            "pods fit at once (driver and its executor slots); none bound.";
    assert_int_equal(strncmp(verdict, want_wait, strlen(want_wait)), 0);
    const kn_json *nodes = kn_json_get(v, "nodes");
    assert_int_equal(kn_json_len(nodes), 2);
    assert_string_equal(str_of(nodes, "node-a"), "Insufficient cpu");
    assert_string_equal(str_of(nodes, "node-b"), "Insufficient cpu");
    answer_free(&a);

    /* the same as a table */
    char out[300];
    snprintf(out, sizeof out, "%s/table.out", d->dir);
    assert_int_equal(kn_it_sh("'%s/kubenexus-scheduler' simulate --format table --kubeconfig '%s' '%s' >'%s'",
                              KN_BIN_DIR, d->kubeconfig, file, out),
                     0);
    char *table = kn_it_read_file(out, NULL);
    assert_non_null(table);
    if (getenv("KN_IT_VERBOSE"))
        fputs(table, stderr);
    assert_non_null(strstr(table, "\nHELD RESERVATION (DRIVER)"));
    assert_non_null(strstr(table, "\nspark/etl-driver "));
    assert_non_null(strstr(table, "\nAPPLICATION "));
    assert_non_null(strstr(table, "would start now on node-a (driver, 1 executor)\n"));
    assert_non_null(strstr(table, "   node-b: Insufficient cpu\n"));
    free(table);

    /* nothing was written: no binding, no event, no PodGroup status */
    assert_int_equal(kn_dbl_writes(d), writes);
    char *node = kn_dbl_pod_node(d, NS, "pg-0");
    assert_string_equal(node, "");
    free(node);
    assert_true(kn_dbl_calls(d, "list pods") >= 1);
    assert_true(kn_dbl_calls(d, "list podgroups") >= 1);
    assert_int_equal(kn_dbl_calls(d, "watch pods"), 0);
}

/* A high-priority application of the files on a full cluster: its class and
 * the cluster's PodDisruptionBudget are read, the running low-priority
 * application goes whole (the budget's pod, alone on the other node and
 * cheaper by kube-scheduler's count, stays), and the verdict says so. */
static void what_if_preempts(void **state)
{
    kn_dbl *d = *state;
    time_t since = time(NULL) - 60;
    assert_int_equal(kn_dbl_add_node(d, "node-a", "4", "16Gi"), 0);
    assert_int_equal(kn_dbl_add_node(d, "node-b", "4", "16Gi"), 0);
    const char *cls = "{\"apiVersion\":\"scheduling.k8s.io/v1\",\"kind\":\"PriorityClass\","
                      "\"metadata\":{\"name\":\"spark-high\"},\"value\":1000}";
    assert_int_equal(kn_dbl_call(d, "POST", "/apis/scheduling.k8s.io/v1/priorityclasses", cls, NULL), 201);
    const char *pdb =
        "{\"apiVersion\":\"policy/v1\",\"kind\":\"PodDisruptionBudget\",\"metadata\":{\"name\":\"db\"},"
        "\"spec\":{\"minAvailable\":1,\"selector\":{\"matchLabels\":{\"app\":\"db\"}}}}";
    assert_int_equal(kn_dbl_call(d, "POST", "/apis/policy/v1/namespaces/" NS "/poddisruptionbudgets", pdb, NULL),
                     201);
    running_pod(d, "db", "4", "node-b", "default-scheduler", "{\"app\":\"db\"}", "{}", since);
    const char *gang = "\"pod-group.scheduling.kubenexus.io/name\":\"low\","
                       "\"pod-group.scheduling.kubenexus.io/min-available\":\"4\"";
    char labels[300];
    snprintf(labels, sizeof labels, "{\"spark-role\":\"driver\",%s}", gang);
    running_pod(d, "low-driver", "1", "node-a", "kubenexus-scheduler", labels, "{}", since);
    snprintf(labels, sizeof labels, "{\"spark-role\":\"executor\",%s}", gang);
    for (int i = 1; i <= 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "low-exec-%d", i);
        running_pod(d, name, "1", "node-a", "kubenexus-scheduler", labels, "{}", since);
    }
    char file[200];
    snprintf(file, sizeof file, "%s/urgent.yaml", d->dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fprintf(f,
            "apiVersion: sparkoperator.k8s.io/v1beta2\nkind: SparkApplication\n"
            "metadata: {name: urgent, namespace: %s, labels: {pod-group.scheduling.kubenexus.io/name: urgent, "
            "pod-group.scheduling.kubenexus.io/min-available: \"3\"}}\n"
            "spec:\n  type: Scala\n  mode: cluster\n  image: spark:3.5.0\n  mainClass: Main\n"
            "  mainApplicationFile: local:///app.jar\n  sparkVersion: 3.5.0\n"
            "  driver: {cores: 1, memory: 512m, priorityClassName: spark-high}\n"
            "  executor: {instances: 2, cores: 1, memory: 512m, priorityClassName: spark-high}\n",
            NS);
    fclose(f);
    int writes = kn_dbl_writes(d);
    answer a;
    run_simulate(d, file, &a);
    int victims = 0;
    for (int i = 0; i < a.n; i++) {
        const kn_json *v = kn_json_get(a.lines[i], "preempted");
        if (v == NULL)
            continue;
        victims++;
        assert_int_equal(strncmp(str_of(v, "pod"), NS "/low-", strlen(NS "/low-")), 0);
        assert_string_equal(str_of(v, "gang"), NS "/low");
    }
    assert_int_equal(victims, 4);
    const kn_json *v = line_with(&a, "application", NS "/urgent");
    assert_false(kn_json_bool(kn_json_get(v, "startsNow"), true));
    int64_t n = 0;
    assert_int_equal(kn_json_int(kn_json_get(v, "preempts"), &n), 0);
    assert_int_equal(n, 4);
    assert_string_equal(str_of(v, "verdict"), "would preempt 4 pods of lower priority (spark/low whole) and start "
                                              "on node-a (driver, 2 executors) once they are gone");
    answer_free(&a);
    assert_int_equal(kn_dbl_writes(d), writes);
    assert_true(kn_dbl_calls(d, "list poddisruptionbudgets") >= 1);
    assert_true(kn_dbl_calls(d, "list priorityclasses") >= 1);
}

static void post(kn_dbl *d, const char *path, const char *body)
{
    kn_json *resp = NULL;
    long st = kn_dbl_call(d, "POST", path, body, &resp);
    if (st != 201)
        fail_msg("POST %s: HTTP %ld: %s", path, st, kn_json_get_str(resp, "message"));
    kn_json_free(resp);
}

/* A pending pod of ours mounting claim (a persistentVolumeClaim volume). */
static void pod_with_claim(kn_dbl *d, const char *name, const char *claim)
{
    char body[2048];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"" NS "\"},"
             "\"spec\":{\"schedulerName\":\"kubenexus-scheduler\",\"containers\":[{\"name\":\"main\",\"image\":"
             "\"spark\",\"resources\":{\"requests\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}}],\"volumes\":[{\"name\":"
             "\"data\",\"persistentVolumeClaim\":{\"claimName\":\"%s\"}}]}}",
             name, claim);
    post(d, "/api/v1/namespaces/" NS "/pods", body);
}

/* The what-if reads storage as the scheduler watches it: a pending pod whose
 * WaitForFirstConsumer claim's class allows node-b only is answered on
 * node-b, one whose claim does not exist stays pending with kube-scheduler's
 * message; the claims are neither annotated nor provisioned in the cluster. */
static void live_what_if_reads_storage(void **state)
{
    kn_dbl *d = *state;
    assert_int_equal(kn_dbl_add_node(d, "node-a", "8", "32Gi"), 0);
    assert_int_equal(kn_dbl_add_node(d, "node-b", "8", "32Gi"), 0);
    post(
        d, "/apis/storage.k8s.io/v1/storageclasses",
        "{\"apiVersion\":\"storage.k8s.io/v1\",\"kind\":\"StorageClass\",\"metadata\":{\"name\":\"local-b\"},"
        "\"provisioner\":\"ebs.csi.aws.com\",\"volumeBindingMode\":\"WaitForFirstConsumer\",\"allowedTopologies\":"
        "[{\"matchLabelExpressions\":[{\"key\":\"kubernetes.io/hostname\",\"values\":[\"node-b\"]}]}]}");
    post(d, "/api/v1/namespaces/" NS "/persistentvolumeclaims",
         "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"shuffle\","
         "\"namespace\":\"" NS
         "\"},\"spec\":{\"storageClassName\":\"local-b\",\"accessModes\":[\"ReadWriteOnce\"],"
         "\"resources\":{\"requests\":{\"storage\":\"10Gi\"}}}}");
    pod_with_claim(d, "exec-1", "shuffle");
    pod_with_claim(d, "exec-2", "nope");
    char file[200];
    snprintf(file, sizeof file, "%s/none.yaml", d->dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    int writes = kn_dbl_writes(d);
    answer a;
    run_simulate(d, file, &a);
    assert_string_equal(str_of(line_with(&a, "pod", "spark/exec-1"), "node"), "node-b");
    assert_string_equal(str_of(line_with(&a, "pod", "spark/exec-2"), "reason"),
                        "0/2 nodes are available: persistentvolumeclaim \"nope\" not found.");
    answer_free(&a);
    assert_int_equal(kn_dbl_writes(d), writes);
    kn_json *pvc = NULL;
    assert_int_equal(kn_dbl_call(d, "GET", "/api/v1/namespaces/" NS "/persistentvolumeclaims/shuffle", NULL, &pvc),
                     200);
    assert_null(kn_json_dig(pvc, "metadata", "annotations", "volume.kubernetes.io/selected-node", NULL));
    assert_string_equal(kn_json_str(kn_json_dig(pvc, "status", "phase", NULL)), "Pending");
    kn_json_free(pvc);
    assert_true(kn_dbl_calls(d, "list persistentvolumeclaims") >= 1);
    assert_true(kn_dbl_calls(d, "list storageclasses") >= 1);
}

/* The what-if reads Namespaces too: a file's pod whose required affinity
 * picks its target's namespace by namespaceSelector goes where that pod
 * runs, as the live scheduler would place it. */
static void live_namespaces_feed_namespace_selector(void **state)
{
    kn_dbl *d = *state;
    assert_int_equal(kn_dbl_add_node(d, "node-a", "4", "16Gi"), 0);
    assert_int_equal(kn_dbl_add_node(d, "node-b", "4", "16Gi"), 0);
    assert_int_equal(kn_dbl_call(d, "POST", "/api/v1/namespaces",
                                 "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"data\","
                                 "\"labels\":{\"team\":\"data\"}}}",
                                 NULL),
                     201);
    assert_int_equal(kn_dbl_call(d, "POST", "/api/v1/namespaces/data/pods",
                                 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"db\","
                                 "\"namespace\":\"data\",\"labels\":{\"app\":\"db\"}},\"spec\":{\"nodeName\":"
                                 "\"node-b\",\"containers\":[{\"name\":\"db\",\"image\":\"postgres\"}]},"
                                 "\"status\":{\"phase\":\"Running\"}}",
                                 NULL),
                     201);
    char file[200];
    snprintf(file, sizeof file, "%s/near-db.yaml", d->dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fprintf(f,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: near-db, namespace: %s}\n"
            "spec:\n  schedulerName: kubenexus-scheduler\n"
            "  containers: [{name: main, image: spark, resources: {requests: {cpu: 100m}}}]\n"
            "  affinity:\n    podAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n"
            "      - labelSelector: {matchLabels: {app: db}}\n"
            "        namespaceSelector: {matchLabels: {team: data}}\n"
            "        topologyKey: kubernetes.io/hostname\n",
            NS);
    fclose(f);
    answer a;
    run_simulate(d, file, &a);
    assert_string_equal(str_of(line_with(&a, "pod", NS "/near-db"), "node"), "node-b");
    answer_free(&a);
}

/* A bad kubeconfig names the file; the server unreachable is an error, not an empty answer. */
static void errors_are_said(void **state)
{
    kn_dbl *d = *state;
    int rc = kn_it_sh("'%s/kubenexus-scheduler' simulate --kubeconfig /nonexistent/kc >/dev/null 2>'%s/e1'",
                      KN_BIN_DIR, d->dir);
    assert_int_equal(rc, 1);
    char path[200];
    snprintf(path, sizeof path, "%s/e1", d->dir);
    char *e = kn_it_read_file(path, NULL);
    assert_non_null(e);
    assert_non_null(strstr(e, "/nonexistent/kc"));
    free(e);
    /* the server gone: its kubeconfig kept aside, as the double's directory goes with it */
    assert_int_equal(kn_it_sh("cp '%s' '%s' && cp '%s/ca.crt' /tmp/kn-sim-live-ca.crt", d->kubeconfig,
                              "/tmp/kn-sim-live-kc", d->dir),
                     0);
    kn_dbl_stop(d);
    rc = kn_it_sh("sed -i 's|certificate-authority: .*|certificate-authority: /tmp/kn-sim-live-ca.crt|' "
                  "/tmp/kn-sim-live-kc && '%s/kubenexus-scheduler' simulate --kubeconfig /tmp/kn-sim-live-kc "
                  ">/dev/null 2>/dev/null",
                  KN_BIN_DIR);
    assert_int_equal(rc, 1);
    kn_it_sh("rm -f /tmp/kn-sim-live-kc /tmp/kn-sim-live-ca.crt");
    assert_int_equal(kn_dbl_start(d, NULL), 0);
}

static int collect(void *ctx, const kn_json *item, kn_err *err)
{
    (void)err;
    char *names = ctx;
    strcat(names, kn_json_str(kn_json_dig(item, "metadata", "name", NULL)));
    strcat(names, " ");
    return 0;
}

/* The one-shot lister follows continue tokens to the end (pages of 2 here),
 * starts over when the list expires under it, hands over nothing of a list
 * it could not finish, and tells a resource not served (404) from an error. */
static void lister_pages_through(void **state)
{
    kn_dbl *d = *state;
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "n%d", i);
        assert_int_equal(kn_dbl_add_node(d, name, "1", "1Gi"), 0);
    }
    kn_err err = {{0}};
    kn_kubeconfig kc;
    assert_int_equal(kn_kubeconfig_load(d->kubeconfig, &kc, &err), 0);
    kn_api *api = kn_api_new(&kc, NULL, &err);
    kn_kubeconfig_free(&kc);
    assert_non_null(api);
    char names[256] = "";
    assert_int_equal(kn_list_all(api, "/api/v1/nodes", 2, collect, names, &err), 0);
    assert_string_equal(names, "n0 n1 n2 n3 n4 ");
    assert_int_equal(kn_dbl_calls(d, "list nodes"), 3);
    /* the snapshot a continue token pages through compacted: started over, whole */
    assert_int_equal(kn_dbl_faults(d, "{\"expire_continue_next\":1}"), 0);
    names[0] = '\0';
    assert_int_equal(kn_list_all(api, "/api/v1/nodes", 2, collect, names, &err), 0);
    assert_string_equal(names, "n0 n1 n2 n3 n4 ");
    assert_int_equal(kn_dbl_calls(d, "list nodes"), 3 + 2 + 3);
    /* ... but not forever */
    assert_int_equal(kn_dbl_faults(d, "{\"expire_continue_next\":100}"), 0);
    names[0] = '\0';
    assert_int_equal(kn_list_all(api, "/api/v1/nodes", 2, collect, names, &err), -1);
    assert_string_equal(names, "");
    assert_non_null(strstr(err.msg, "list /api/v1/nodes: the list expired (410) 4 times"));
    assert_int_equal(kn_dbl_faults(d, "{\"expire_continue_next\":0}"), 0);
    assert_int_equal(kn_list_all(api, "/apis/scheduling.volcano.sh/v1beta1/podgroups", 2, collect, names, &err),
                     1);
    assert_int_equal(kn_list_all(api, "/api/v1/nope", 2, collect, names, &err), 1);
    kn_api_free(api);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(live_what_if_answers_and_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(what_if_preempts, setup, teardown),
        cmocka_unit_test_setup_teardown(live_what_if_reads_storage, setup, teardown),
        cmocka_unit_test_setup_teardown(live_namespaces_feed_namespace_selector, setup, teardown),
        cmocka_unit_test_setup_teardown(errors_are_said, setup, teardown),
        cmocka_unit_test_setup_teardown(lister_pages_through, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
