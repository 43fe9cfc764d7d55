/* test_scheduler_volumes.c - the real kubenexus-scheduler binary with pods
 * that mount PersistentVolumeClaims, against the kube-apiserver test double
 * and its storage controllers' stand-in (--provisioner): a missing claim
 * keeps the pod pending until it exists; a WaitForFirstConsumer claim is
 * annotated with the chosen node and the pod bound only once the claim is
 * bound (the provisioner held back, then let go); an Immediate claim not
 * bound keeps the pod waiting; a static volume is claimed by the scheduler;
 * a write whose answer was lost counts once re-read; provisioning given
 * up, or not done in --bind-timeout-seconds, requeues the pod; a gang whose member's claim cannot be written binds nothing.
 * Every wait is a bounded poll on state the double records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver_double.h"
#include "sched_fixture.h"

#define NS "spark"
#define WAIT_S 30.0
#define PROVISIONER "csi.kubenexus.test"

typedef struct world {
    kn_dbl d;
    kn_sched_proc a;
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    if (!w || kn_it_dbl_open(&w->d, "--provisioner=" PROVISIONER) != 0) {
        free(w);
        return -1;
    }
    *state = w;
    return 0;
}

/* The scheduler stopped as in production: SIGTERM, exit 0 (a sanitizer's
 * or valgrind's report fails the test). */
static int teardown(void **state)
{
    world *w = *state;
    int rc = w->a.pid > 0 ? kn_sched_proc_stop(&w->a, SIGTERM, 20) : 0;
    if (rc != 0 || getenv("KN_IT_VERBOSE"))
        kn_it_dump_log(w->a.log);
    kn_dbl_stop(&w->d);
    free(w);
    return rc == 0 ? 0 : -1;
}

static void start(world *w, const char *const *extra)
{
    assert_int_equal(kn_sched_proc_start(&w->a, &w->d, "a", extra), 0);
}

static void post(world *w, const char *path, const char *body)
{
    kn_json *resp = NULL;
    long st = kn_dbl_call(&w->d, "POST", path, body, &resp);
    if (st != 201)
        fail_msg("POST %s: HTTP %ld: %s", path, st, kn_json_get_str(resp, "message"));
    kn_json_free(resp);
}

static void storage_class(world *w, const char *name, const char *mode, const char *provisioner, const char *extra)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"storage.k8s.io/v1\",\"kind\":\"StorageClass\",\"metadata\":{\"name\":\"%s\"},"
             "\"provisioner\":\"%s\",\"volumeBindingMode\":\"%s\"%s}",
             name, provisioner, mode, extra);
    post(w, "/apis/storage.k8s.io/v1/storageclasses", body);
}

static void claim(world *w, const char *name, const char *cls)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"%s\","
             "\"namespace\":\"" NS "\"},"
             "\"spec\":{\"storageClassName\":\"%s\",\"accessModes\":[\"ReadWriteOncePod\"],"
             "\"resources\":{\"requests\":{\"storage\":\"50Gi\"}}}}",
             name, cls);
    post(w, "/api/v1/namespaces/" NS "/persistentvolumeclaims", body);
}

/* A pod of ours mounting the claims named (NULL-terminated), with labels. */
static void pod(world *w, const char *name, const char *labels, const char *const *claims)
{
    char vols[1024] = "", body[4096];
    size_t off = 0;
    for (int i = 0; claims[i]; i++)
        off += (size_t)snprintf(vols + off, sizeof vols - off,
                                "%s{\"name\":\"v%d\",\"persistentVolumeClaim\":"
                                "{\"claimName\":\"%s\"}}",
                                i ? "," : "", i, claims[i]);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"" NS "\","
             "\"labels\":%s},\"spec\":{\"schedulerName\":\"kubenexus-scheduler\",\"restartPolicy\":\"Never\","
             "\"containers\":[{\"name\":\"main\",\"image\":\"apache/spark:3.5.1\",\"resources\":{\"requests\":"
             "{\"cpu\":\"1\",\"memory\":\"1Gi\"}}}],\"volumes\":[%s]}}",
             name, labels ? labels : "{}", vols);
    post(w, "/api/v1/namespaces/" NS "/pods", body);
}

static kn_json *get(world *w, const char *path)
{
    kn_json *o = NULL;
    if (kn_dbl_call(&w->d, "GET", path, NULL, &o) != 200) {
        kn_json_free(o);
        return NULL;
    }
    return o;
}

/* A claim's selected-node annotation and volume ("" when absent), its resourceVersion. */
typedef struct claim_state {
    char node[128], volume[128];
    long long rv;
} claim_state;

static claim_state read_claim(world *w, const char *name)
{
    char path[256];
    claim_state c = {.rv = -1};
    snprintf(path, sizeof path, "/api/v1/namespaces/" NS "/persistentvolumeclaims/%s", name);
    kn_json *o = get(w, path);
    snprintf(c.node, sizeof c.node, "%s",
             kn_json_str(kn_json_dig(o, "metadata", "annotations", "volume.kubernetes.io/selected-node", NULL))
                 ?: "");
    snprintf(c.volume, sizeof c.volume, "%s", kn_json_str(kn_json_dig(o, "spec", "volumeName", NULL)) ?: "");
    const char *rv = kn_json_str(kn_json_dig(o, "metadata", "resourceVersion", NULL));
    c.rv = rv ? atoll(rv) : -1;
    kn_json_free(o);
    return c;
}

/* The resourceVersion of the pod's binding as the double recorded it (-1: none). */
static long long binding_rv(world *w, const char *name)
{
    kn_json *st = kn_dbl_state(&w->d);
    const kn_json *b = kn_json_get(st, "bindings");
    long long rv = -1;
    char key[256];
    snprintf(key, sizeof key, NS "/%s", name);
    for (size_t i = 0; i < kn_json_len(b); i++) {
        const kn_json *e = kn_json_at(b, i);
        if (strcmp(kn_json_get_str(e, "pod") ?: "", key) == 0)
            rv = atoll(kn_json_get_str(e, "resourceVersion") ?: "-1");
    }
    kn_json_free(st);
    return rv;
}

typedef struct claim_q {
    world *w;
    const char *name;
} claim_q;

static bool annotated(void *ctx)
{
    claim_q *q = ctx;
    return read_claim(q->w, q->name).node[0] != '\0';
}

static bool event_with(world *w, const char *pod_name, const char *needle)
{
    return kn_dbl_events(&w->d, NS, pod_name, "FailedScheduling", needle, NULL) > 0;
}

typedef struct event_q {
    world *w;
    const char *pod, *needle;
} event_q;

static bool event_seen(void *ctx)
{
    event_q *q = ctx;
    return event_with(q->w, q->pod, q->needle);
}

static void wait_event(world *w, const char *pod_name, const char *needle)
{
    event_q q = {w, pod_name, needle};
    if (!kn_wait_for(WAIT_S, event_seen, &q)) {
        kn_it_dump_log(w->a.log);
        fail_msg("no FailedScheduling event for %s saying \"%s\"", pod_name, needle);
    }
}

static void two_nodes(world *w)
{
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "8", "32Gi"), 0);
    assert_int_equal(kn_dbl_add_node(&w->d, "node-b", "8", "32Gi"), 0);
}

/* Two nodes, a WaitForFirstConsumer class the stand-in provisions, the
 * faults set, claim "data" and pod exec-1 mounting it; the scheduler started
 * with args. */
static void wffc_pod(world *w, const char *faults, const char *const *args)
{
    two_nodes(w);
    storage_class(w, "local-wffc", "WaitForFirstConsumer", PROVISIONER, "");
    if (faults)
        assert_int_equal(kn_dbl_faults(&w->d, faults), 0);
    claim(w, "data", "local-wffc");
    pod(w, "exec-1", NULL, (const char *[]){"data", NULL});
    start(w, args);
}

/* A missing claim keeps the pod pending with kube-scheduler's message; once
 * the claim exists it is provisioned where the pod goes, and the pod is
 * bound after its claim. */
static void missing_claim_then_provisioned(void **state)
{
    world *w = *state;
    two_nodes(w);
    storage_class(w, "local-wffc", "WaitForFirstConsumer", PROVISIONER, "");
    pod(w, "exec-1", NULL, (const char *[]){"data", NULL});
    start(w, NULL);
    wait_event(w, "exec-1", "0/2 nodes are available: persistentvolumeclaim \"data\" not found.");
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "exec-1"), 0);
    claim(w, "data", "local-wffc");
    assert_true(kn_it_wait_pod_bound(&w->d, NS, "exec-1", WAIT_S));
    char *node = kn_dbl_pod_node(&w->d, NS, "exec-1");
    claim_state c = read_claim(w, "data");
    assert_string_equal(c.node, node);
    assert_true(c.volume[0] != '\0');
    assert_true(c.rv < binding_rv(w, "exec-1")); /* bound before the pod */
    free(node);
}

/* The claim is annotated with the node and the pod waits, unbound, while the
 * provisioner has not bound it; then it is bound. */
static void annotated_then_bound_after_provisioning(void **state)
{
    world *w = *state;
    wffc_pod(w, "{\"provision_hold\":true}", NULL);
    claim_q q = {w, "data"};
    assert_true(kn_wait_for(WAIT_S, annotated, &q));
    /* the provisioner holds: a while on, still not bound */
    assert_false(kn_it_wait_pod_bound(&w->d, NS, "exec-1", 2.5));
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "exec-1"), 0);
    assert_string_equal(read_claim(w, "data").volume, "");
    assert_int_equal(kn_dbl_faults(&w->d, "{\"provision_hold\":false}"), 0);
    assert_true(kn_it_wait_pod_bound(&w->d, NS, "exec-1", WAIT_S));
    char *node = kn_dbl_pod_node(&w->d, NS, "exec-1");
    claim_state c = read_claim(w, "data");
    assert_string_equal(c.node, node);
    /* the volume provisioned there */
    char path[256];
    snprintf(path, sizeof path, "/api/v1/persistentvolumes/%s", c.volume);
    kn_json *pv = get(w, path);
    const kn_json *term =
        kn_json_at(kn_json_dig(pv, "spec", "nodeAffinity", "required", "nodeSelectorTerms", NULL), 0);
    assert_string_equal(
        kn_json_str(kn_json_at(kn_json_get(kn_json_at(kn_json_get(term, "matchExpressions"), 0), "values"), 0)),
        node);
    kn_json_free(pv);
    free(node);
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "exec-1"), 1);
}

/* An Immediate claim not bound: the pod waits; bound (a volume claiming it,
 * the PV controller binding it), the pod goes where the volume is. */
static void immediate_unbound_waits(void **state)
{
    world *w = *state;
    two_nodes(w);
    storage_class(w, "remote", "Immediate", "other.csi.example", "");
    claim(w, "shared", "remote");
    pod(w, "exec-1", NULL, (const char *[]){"shared", NULL});
    start(w, NULL);
    wait_event(w, "exec-1", "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims.");
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "exec-1"), 0);
    kn_json *c = get(w, "/api/v1/namespaces/" NS "/persistentvolumeclaims/shared");
    char body[2048];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolume\",\"metadata\":{\"name\":\"pv-remote\"},"
             "\"spec\":{\"storageClassName\":\"remote\",\"capacity\":{\"storage\":\"50Gi\"},\"accessModes\":"
             "[\"ReadWriteOncePod\"],\"csi\":{\"driver\":\"other.csi.example\",\"volumeHandle\":\"h\"},"
             "\"claimRef\":{\"namespace\":\"" NS "\",\"name\":\"shared\",\"uid\":\"%s\"},"
             "\"nodeAffinity\":{\"required\":{\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":"
             "\"kubernetes.io/hostname\",\"operator\":\"In\",\"values\":[\"node-b\"]}]}]}}}}",
             kn_json_str(kn_json_dig(c, "metadata", "uid", NULL)));
    kn_json_free(c);
    post(w, "/api/v1/persistentvolumes", body);
    assert_true(kn_it_wait_pod_bound(&w->d, NS, "exec-1", WAIT_S));
    char *node = kn_dbl_pod_node(&w->d, NS, "exec-1");
    assert_string_equal(node, "node-b");
    free(node);
}

/* A static volume is claimed by the scheduler (its claimRef written), the
 * PV controller binds the claim, the pod goes where the volume is. */
static void static_volume_claimed(void **state)
{
    world *w = *state;
    two_nodes(w);
    storage_class(w, "local", "WaitForFirstConsumer", "kubernetes.io/no-provisioner", "");
    post(w, "/api/v1/persistentvolumes",
         "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolume\",\"metadata\":{\"name\":\"disk-b\"},"
         "\"spec\":{\"storageClassName\":\"local\",\"capacity\":{\"storage\":\"100Gi\"},\"accessModes\":"
         "[\"ReadWriteOncePod\"],\"local\":{\"path\":\"/mnt/disk\"},\"nodeAffinity\":{\"required\":"
         "{\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":\"kubernetes.io/hostname\",\"operator\":\"In\","
         "\"values\":[\"node-b\"]}]}]}}}}");
    claim(w, "local-data", "local");
    pod(w, "exec-1", NULL, (const char *[]){"local-data", NULL});
    start(w, NULL);
    assert_true(kn_it_wait_pod_bound(&w->d, NS, "exec-1", WAIT_S));
    char *node = kn_dbl_pod_node(&w->d, NS, "exec-1");
    assert_string_equal(node, "node-b");
    free(node);
    kn_json *pv = get(w, "/api/v1/persistentvolumes/disk-b");
    assert_string_equal(kn_json_str(kn_json_dig(pv, "spec", "claimRef", "name", NULL)), "local-data");
    assert_string_equal(
        kn_json_str(kn_json_dig(pv, "metadata", "annotations", "pv.kubernetes.io/bound-by-controller", NULL)),
        "yes");
    kn_json_free(pv);
    assert_string_equal(read_claim(w, "local-data").volume, "disk-b");
}

/* Provisioning given up (the annotation taken away): the pod is requeued
 * with kube-scheduler's message and placed again. */
static void provisioning_failed_requeues(void **state)
{
    world *w = *state;
    wffc_pod(w, "{\"provision_fail_next\":1}", NULL);
    wait_event(w, "exec-1",
               "running PreBind plugin \"VolumeBinding\": binding volumes: provisioning failed for PVC \"data\"");
    assert_true(kn_it_wait_pod_bound(&w->d, NS, "exec-1", WAIT_S));
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "exec-1"), 1);
}

/* The answer to the claim's PATCH lost: the retry meets a 409 (our own
 * write moved the resourceVersion), the claim re-read shows our
 * annotation, and the pod is bound on the first placement. */
static void lost_answer_counts_as_written(void **state)
{
    world *w = *state;
    wffc_pod(w, "{\"patch_then_fail_next\":1,\"patch_then_fail_path\":\"/persistentvolumeclaims/data\"}", NULL);
    assert_true(kn_it_wait_pod_bound(&w->d, NS, "exec-1", WAIT_S));
    assert_int_equal(kn_dbl_calls(&w->d, "patch persistentvolumeclaims"), 2);
    assert_int_equal(kn_dbl_calls(&w->d, "get persistentvolumeclaims"), 1);
    assert_false(event_with(w, "exec-1", "VolumeBinding"));
}

/* Not bound within --bind-timeout-seconds: requeued; bound once provisioned. */
static void bind_timeout_requeues(void **state)
{
    world *w = *state;
    wffc_pod(w, "{\"provision_hold\":true}", (const char *[]){"--bind-timeout-seconds", "2", NULL});
    wait_event(w, "exec-1",
               "running PreBind plugin \"VolumeBinding\": binding volumes: context deadline exceeded");
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "exec-1"), 0);
    assert_int_equal(kn_dbl_faults(&w->d, "{\"provision_hold\":false}"), 0);
    assert_true(kn_it_wait_pod_bound(&w->d, NS, "exec-1", WAIT_S));
}

/* A gang: every member's claim is written before any Binding; one claim
 * that cannot be written binds none; once it can, all bind. */
static void gang_claims_all_or_nothing(void **state)
{
    world *w = *state;
    char lab[256];
    two_nodes(w);
    storage_class(w, "local-wffc", "WaitForFirstConsumer", PROVISIONER, "");
    claim(w, "g-0", "local-wffc");
    claim(w, "g-1", "local-wffc");
    /* every write of g-1 refused (500, past the retries) */
    assert_int_equal(
        kn_dbl_faults(&w->d, "{\"fail_next\":1000,\"status\":500,\"fail_path\":\"/persistentvolumeclaims/g-1\"}"),
        0);
    kn_it_gang_labels(lab, sizeof lab, "g", 2);
    pod(w, "member-0", lab, (const char *[]){"g-0", NULL});
    pod(w, "member-1", lab, (const char *[]){"g-1", NULL});
    start(w, NULL);
    wait_event(w, "member-0", "running PreBind plugin \"VolumeBinding\"");
    wait_event(w, "member-1", "running PreBind plugin \"VolumeBinding\"");
    assert_int_equal(kn_dbl_count_bound(&w->d, NS, "member-"), 0);
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "member-0"), 0);
    assert_int_equal(kn_dbl_faults(&w->d, "{\"fail_next\":0}"), 0);
    assert_true(kn_it_wait_n_bound(&w->d, NS, "member-", 2, WAIT_S));
    long long first = binding_rv(w, "member-0"), second = binding_rv(w, "member-1");
    long long bindings = first < second ? first : second;
    assert_true(read_claim(w, "g-0").rv < bindings);
    assert_true(read_claim(w, "g-1").rv < bindings);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(missing_claim_then_provisioned, setup, teardown),
        cmocka_unit_test_setup_teardown(annotated_then_bound_after_provisioning, setup, teardown),
        cmocka_unit_test_setup_teardown(immediate_unbound_waits, setup, teardown),
        cmocka_unit_test_setup_teardown(static_volume_claimed, setup, teardown),
        cmocka_unit_test_setup_teardown(provisioning_failed_requeues, setup, teardown),
        cmocka_unit_test_setup_teardown(lost_answer_counts_as_written, setup, teardown),
        cmocka_unit_test_setup_teardown(bind_timeout_requeues, setup, teardown),
        cmocka_unit_test_setup_teardown(gang_claims_all_or_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
