/* Pods as the API server stores them (and sends them to webhooks and watches). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "spark/gang.h"
#include "spark/numa.h"
#include "kube/pod.h"
#include "support/fixture_files.h"

#define MI (1024LL * 1024)
#define GI (1024LL * MI)

/* A pod of tests/fixtures/pods/. */
static kn_json *load(const char *name)
{
    return fixture_json("pods", name);
}

static kn_json *parse(const char *text)
{
    kn_err err = {{0}};
    kn_json *v = kn_json_parse(text, strlen(text), NULL, &err);
    if (v == NULL)
        fail_msg("does not parse: %s: %s", err.msg, text);
    return v;
}

/* Parses pod JSON text, expecting success. */
static void pod_ok(const char *text, kn_pod *p)
{
    kn_json *j = parse(text);
    kn_err err = {{0}};
    if (kn_pod_from_json(j, p, &err) != 0)
        fail_msg("unexpected error: %s", err.msg);
    kn_json_free(j);
}

static void pod_error(const char *text, const char *want)
{
    kn_json *j = parse(text);
    kn_err err = {{0}};
    kn_pod p;
    assert_int_equal(kn_pod_from_json(j, &p, &err), -1);
    if (strstr(err.msg, want) == NULL)
        fail_msg("error \"%s\" does not contain \"%s\"", err.msg, want);
    assert_null(p.name); /* nothing left to free */
    assert_null(p.labels);
    kn_pod_free(&p);
    kn_json_free(j);
}

static void test_spark_driver(void **state)
{
    (void)state;
    kn_json *j = load("spark-driver.json");
    kn_pod p;
    kn_err err = {{0}};
    assert_int_equal(kn_pod_from_json(j, &p, &err), 0);
    kn_json_free(j); /* the pod keeps its own copies */
    assert_string_equal(p.ns, "spark-jobs");
    assert_string_equal(p.name, "spark-pi-driver");
    assert_string_equal(p.uid, "0b7c3f2e-5d41-4c8a-9e6b-2f1a7d9c3e58");
    assert_string_equal(p.resource_version, "4821736");
    assert_string_equal(p.creation_timestamp, "2026-11-24T01:12:33Z");
    assert_string_equal(p.scheduler_name, "default-scheduler");
    assert_null(p.node_name);
    assert_string_equal(p.phase, "Pending");
    assert_false(p.terminating);
    assert_false(kn_pod_terminated(&p));
    assert_int_equal(p.priority, 0);
    /* 1 cpu, 512m heap + 384Mi overhead; limits 1200m as spark.kubernetes.driver.limit.cores */
    assert_int_equal(p.requests.cpu_milli, 1000);
    assert_int_equal(p.requests.memory, 896 * MI);
    assert_int_equal(p.requests.pods, 1);
    assert_int_equal(p.requests.n_scalar, 0);
    assert_int_equal(p.limits.cpu_milli, 1200);
    assert_int_equal(p.limits.memory, 896 * MI);
    assert_string_equal(kn_pod_label(&p, "spark-role"), "driver");
    assert_string_equal(kn_pod_label(&p, "spark-app-selector"), "spark-8f3c2a91d04e4b6c9a7e5d1f2b3c4d5e");
    assert_null(kn_pod_label(&p, "spark-exec-id"));
    assert_string_equal(kn_pod_annotation(&p, KN_NUMA_POLICY_ANNOTATION), "best-effort");
    assert_string_equal(p.owner_kind, "SparkApplication");
    assert_string_equal(p.owner_name, "spark-pi");
    assert_string_equal(p.owner_uid, "c41e8b7d-2a6f-4f93-b1d0-7e5a3c9f2b64");
    assert_null(p.node_selector);
    assert_null(p.required_affinity);
    /* DefaultTolerationSeconds admission adds these two to every pod. */
    assert_int_equal(p.n_tolerations, 2);
    assert_string_equal(p.tolerations[0].key, "node.kubernetes.io/not-ready");
    assert_string_equal(p.tolerations[0].op, "Exists");
    assert_null(p.tolerations[0].value);
    assert_string_equal(p.tolerations[0].effect, "NoExecute");
    assert_string_equal(p.tolerations[1].key, "node.kubernetes.io/unreachable");
    /* The gang and NUMA specs read from the parsed pod. */
    kn_gang_spec g;
    assert_int_equal(kn_gang_from_labels(p.labels, &g, &err), 0);
    assert_true(g.present);
    assert_string_equal(g.name, "spark-pi");
    assert_int_equal(g.min_available, 4);
    kn_numa_spec n;
    assert_int_equal(kn_numa_from_annotations(p.annotations, &n, &err), 0);
    assert_int_equal(n.policy, KN_NUMA_BEST_EFFORT);
    assert_int_equal(n.n_resources, 2);
    kn_pod_free(&p);
    kn_pod_free(&p); /* freeing twice is harmless: free zeroes the struct */
}

static void test_spark_executor(void **state)
{
    (void)state;
    kn_json *j = load("spark-executor.json");
    kn_pod p;
    kn_err err = {{0}};
    assert_int_equal(kn_pod_from_json(j, &p, &err), 0);
    kn_json_free(j);
    assert_string_equal(p.name, "spark-pi-6d1e9a8f3b2c7e40-exec-1");
    assert_string_equal(kn_pod_label(&p, "spark-role"), "executor");
    assert_string_equal(kn_pod_label(&p, "spark-exec-id"), "1");
    /* Executors are owned by (and garbage-collected with) the driver pod. */
    assert_string_equal(p.owner_kind, "Pod");
    assert_string_equal(p.owner_name, "spark-pi-driver");
    assert_string_equal(p.owner_uid, "0b7c3f2e-5d41-4c8a-9e6b-2f1a7d9c3e58");
    assert_int_equal(p.requests.cpu_milli, 1000);
    assert_int_equal(p.requests.memory, 939524096);
    assert_int_equal(p.requests.pods, 1);
    assert_int_equal(p.limits.cpu_milli, 1200);
    assert_int_equal(kn_json_len(p.annotations), 0); /* absent: an empty object, never NULL */
    kn_pod_free(&p);
}

static void test_sidecars_init_containers_and_overhead(void **state)
{
    (void)state;
    kn_json *j = load("sidecars-overhead.json");
    kn_pod p;
    kn_err err = {{0}};
    assert_int_equal(kn_pod_from_json(j, &p, &err), 0);
    kn_json_free(j);
    /* cpu: the init container "fetch-schema" (2) beats app + sidecars
     *      (500m + 200m + 100m); memory: app + sidecars (1Gi + 512Mi + 64Mi =
     *      1600Mi) beats "migrate" with the sidecar started before it (1Gi +
     *      512Mi); then spec.overhead (250m, 120Mi) is added. */
    assert_int_equal(p.requests.cpu_milli, 2250);
    assert_int_equal(p.requests.memory, 1720 * MI);
    assert_int_equal(p.requests.ephemeral_storage, 2 * GI);
    assert_int_equal(p.requests.pods, 1);
    /* Given only as a limit, the GPU is requested at the limit. */
    assert_int_equal(kn_res_get(&p.requests, "nvidia.com/gpu"), 1);
    assert_int_equal(p.limits.cpu_milli, 2000);
    assert_int_equal(p.limits.memory, 2 * GI);
    assert_int_equal(kn_res_get(&p.limits, "nvidia.com/gpu"), 1);
    assert_string_equal(p.node_name, "gpu-node-3");
    assert_string_equal(p.scheduler_name, "kubenexus-scheduler");
    assert_string_equal(p.phase, "Running");
    assert_int_equal(p.priority, 100000);
    assert_string_equal(p.owner_kind, "ReplicaSet");
    assert_string_equal(kn_json_get_str(p.node_selector, "kubernetes.io/os"), "linux");
    assert_non_null(p.required_affinity);
    const kn_json *term = kn_json_at(kn_json_get(p.required_affinity, "nodeSelectorTerms"), 0);
    const kn_json *expr = kn_json_at(kn_json_get(term, "matchExpressions"), 0);
    assert_string_equal(kn_json_get_str(expr, "key"), "node.kubernetes.io/instance-type");
    assert_int_equal(p.n_tolerations, 5);
    assert_string_equal(p.tolerations[1].key, "dedicated");
    assert_string_equal(p.tolerations[1].op, "Equal"); /* the default operator */
    assert_string_equal(p.tolerations[1].value, "etl");
    assert_null(p.tolerations[1].effect); /* all effects */
    assert_null(p.tolerations[2].key);    /* tolerates everything */
    assert_string_equal(p.tolerations[2].op, "Exists");
    kn_pod_free(&p);
}

static void test_init_container_alone_dominates(void **state)
{
    (void)state;
    kn_pod p;
    /* No sidecars: max(sum of app containers, largest init container). */
    pod_ok("{\"spec\":{\"initContainers\":[{\"name\":\"i\",\"resources\":{\"requests\":"
           "{\"cpu\":\"3\",\"memory\":\"100Mi\"}}}],\"containers\":["
           "{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}},"
           "{\"name\":\"b\",\"resources\":{\"requests\":{\"cpu\":\"500m\",\"memory\":\"1Gi\"}}}]}}",
           &p);
    assert_int_equal(p.requests.cpu_milli, 3000);
    assert_int_equal(p.requests.memory, 2 * GI);
    kn_pod_free(&p);
    /* A sidecar started after an init container does not add to it. */
    pod_ok("{\"spec\":{\"initContainers\":[{\"name\":\"i\",\"resources\":{\"requests\":{\"cpu\":\"3\"}}},"
           "{\"name\":\"s\",\"restartPolicy\":\"Always\",\"resources\":{\"requests\":{\"cpu\":\"1\"}}}],"
           "\"containers\":[{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"1\"}}}]}}",
           &p);
    assert_int_equal(p.requests.cpu_milli, 3000);
    kn_pod_free(&p);
    /* Started before it, it does. */
    pod_ok("{\"spec\":{\"initContainers\":["
           "{\"name\":\"s\",\"restartPolicy\":\"Always\",\"resources\":{\"requests\":{\"cpu\":\"1\"}}},"
           "{\"name\":\"i\",\"resources\":{\"requests\":{\"cpu\":\"3\"}}}],"
           "\"containers\":[{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"1\"}}}]}}",
           &p);
    assert_int_equal(p.requests.cpu_milli, 4000);
    kn_pod_free(&p);
}

static void test_limits_default_requests(void **state)
{
    (void)state;
    kn_pod p;
    /* As the API server's defaulting: a limit without a request is the request;
     * an explicit request (even "0") stays. */
    pod_ok("{\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":{"
           "\"requests\":{\"memory\":\"0\"},"
           "\"limits\":{\"cpu\":\"2\",\"memory\":\"1Gi\",\"amd.com/gpu\":\"2\",\"hugepages-2Mi\":\"64Mi\"}}}]}}",
           &p);
    assert_int_equal(p.requests.cpu_milli, 2000);
    assert_int_equal(p.requests.memory, 0);
    assert_int_equal(kn_res_get(&p.requests, "amd.com/gpu"), 2);
    assert_int_equal(kn_res_get(&p.requests, "hugepages-2Mi"), 64 * MI);
    kn_pod_free(&p);
}

static void test_pod_level_resources(void **state)
{
    (void)state;
    kn_pod p;
    /* spec.resources.requests wins for cpu and memory; the rest still adds up. */
    pod_ok("{\"spec\":{\"resources\":{\"requests\":{\"cpu\":\"4\",\"memory\":\"8Gi\"},"
           "\"limits\":{\"cpu\":\"8\"}},\"overhead\":{\"cpu\":\"100m\"},\"containers\":["
           "{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"1\",\"ephemeral-storage\":\"1Gi\"}}},"
           "{\"name\":\"b\"}]}}",
           &p);
    assert_int_equal(p.requests.cpu_milli, 4100);
    assert_int_equal(p.requests.memory, 8 * GI);
    assert_int_equal(p.requests.ephemeral_storage, 1 * GI);
    kn_pod_free(&p);
    pod_error("{\"spec\":{\"resources\":{\"requests\":{\"memory\":\"8 Gi\"}}}}",
              "spec.resources.requests.memory: ");
    pod_error("{\"spec\":{\"resources\":{\"requests\":[]}}}",
              "spec.resources.requests: is an array, want an object");
}

static void test_minimal_and_bound_pods(void **state)
{
    (void)state;
    kn_pod p;
    pod_ok("{}", &p);
    assert_string_equal(p.name, "");
    assert_string_equal(p.ns, "");
    assert_string_equal(p.scheduler_name, "");
    assert_string_equal(p.phase, "");
    assert_non_null(p.labels);
    assert_non_null(p.annotations);
    assert_null(p.owner_kind);
    assert_int_equal(p.requests.pods, 1);
    assert_int_equal(p.requests.cpu_milli, 0);
    assert_int_equal(p.n_tolerations, 0);
    kn_pod_free(&p);
    pod_ok("{\"metadata\":{\"name\":\"x\",\"deletionTimestamp\":\"2026-11-24T02:00:00Z\","
           "\"ownerReferences\":[{\"kind\":\"Job\",\"name\":\"j\",\"uid\":\"1\"},"
           "{\"kind\":\"Workflow\",\"name\":\"w\",\"uid\":\"2\",\"controller\":false}]},"
           "\"spec\":{\"nodeName\":\"n1\",\"priority\":-5},\"status\":{\"phase\":\"Succeeded\"}}",
           &p);
    assert_true(p.terminating);
    assert_true(kn_pod_terminated(&p));
    assert_string_equal(p.node_name, "n1");
    assert_int_equal(p.priority, -5);
    assert_null(p.owner_kind); /* no reference is the controller */
    kn_pod_free(&p);
    pod_ok("{\"status\":{\"phase\":\"Failed\"}}", &p);
    assert_true(kn_pod_terminated(&p));
    kn_pod_free(&p);
}

/* What preemption reads: who may preempt, how long a victim gets to stop, and
 * how long it has run (kube-scheduler ranks victims by status.startTime). */
static void test_preemption_fields(void **state)
{
    (void)state;
    kn_pod p;
    pod_ok("{}", &p);
    assert_false(p.preempt_never);
    assert_int_equal(p.grace_s, -1);
    assert_true(p.start_time == 0);
    kn_pod_free(&p);
    pod_ok("{\"spec\":{\"preemptionPolicy\":\"Never\",\"terminationGracePeriodSeconds\":45},"
           "\"status\":{\"startTime\":\"2026-01-01T00:00:10Z\"}}",
           &p);
    assert_true(p.preempt_never);
    assert_int_equal(p.grace_s, 45);
    assert_true(p.start_time == 1767225610.0);
    kn_pod copy;
    assert_int_equal(kn_pod_copy(&p, &copy), 0);
    assert_true(copy.preempt_never);
    assert_int_equal(copy.grace_s, 45);
    kn_pod_free(&copy);
    kn_pod_free(&p);
    pod_ok("{\"spec\":{\"preemptionPolicy\":\"PreemptLowerPriority\",\"terminationGracePeriodSeconds\":0},"
           "\"status\":{\"startTime\":\"yesterday\"}}",
           &p);
    assert_false(p.preempt_never);
    assert_int_equal(p.grace_s, 0);
    assert_true(p.start_time == 0);
    kn_pod_free(&p);
}

static void test_broken_fixtures(void **state)
{
    (void)state;
    static const struct {
        const char *file, *want;
    } cases[] = {
        {"broken-bad-quantity.json", "spec.containers[1].resources.requests.memory: "},
        {"broken-wrong-type.json", "spec.containers[1].resources.requests.memory: is an array, want a quantity"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kn_json *j = load(cases[i].file);
        kn_pod p;
        kn_err err = {{0}};
        assert_int_equal(kn_pod_from_json(j, &p, &err), -1);
        if (strstr(err.msg, cases[i].want) == NULL)
            fail_msg("%s: \"%s\" does not contain \"%s\"", cases[i].file, err.msg, cases[i].want);
        kn_pod_free(&p);
        kn_json_free(j);
    }
    kn_json *j = load("broken-bad-quantity.json");
    kn_pod p;
    kn_err err = {{0}};
    assert_int_equal(kn_pod_from_json(j, &p, &err), -1);
    assert_non_null(strstr(err.msg, "4GB")); /* the bad value is quoted */
    kn_json_free(j);
}

static void test_wrong_types(void **state)
{
    (void)state;
    pod_error("[]", "pod: is an array, want an object");
    pod_error("{\"metadata\":\"x\"}", "metadata: is a string, want an object");
    pod_error("{\"metadata\":{\"name\":7}}", "metadata.name: is a number, want a string");
    pod_error("{\"metadata\":{\"labels\":[]}}", "metadata.labels: is an array, want an object");
    pod_error("{\"metadata\":{\"labels\":{\"app\":1}}}", "metadata.labels.app: is a number, want a string");
    pod_error("{\"metadata\":{\"annotations\":{\"a\":null}}}", "metadata.annotations.a: is a null");
    pod_error("{\"metadata\":{\"ownerReferences\":{}}}", "metadata.ownerReferences: is an object, want an array");
    pod_error("{\"metadata\":{\"ownerReferences\":[{\"controller\":\"true\"}]}}",
              "metadata.ownerReferences[0].controller: is a string, want a boolean");
    pod_error("{\"spec\":{\"containers\":{}}}", "spec.containers: is an object, want an array");
    pod_error("{\"spec\":{\"containers\":[{},7]}}", "spec.containers[1]: is a number, want an object");
    pod_error("{\"spec\":{\"containers\":[{},{\"resources\":[]}]}}",
              "spec.containers[1].resources: is an array, want an object");
    pod_error("{\"spec\":{\"containers\":[{},{\"resources\":{\"limits\":\"1\"}}]}}",
              "spec.containers[1].resources.limits: is a string, want an object");
    pod_error("{\"spec\":{\"containers\":[{},{\"resources\":{\"requests\":{\"memory\":true}}}]}}",
              "spec.containers[1].resources.requests.memory: is a boolean, want a quantity");
    pod_error("{\"spec\":{\"containers\":[{\"resources\":{\"limits\":{\"cpu\":\"1.5.3\"}}}]}}",
              "spec.containers[0].resources.limits.cpu: ");
    pod_error("{\"spec\":{\"initContainers\":[{\"restartPolicy\":1}]}}",
              "spec.initContainers[0].restartPolicy: is a number, want a string");
    pod_error("{\"spec\":{\"initContainers\":[{\"resources\":{\"requests\":{\"cpu\":\"-\"}}}]}}",
              "spec.initContainers[0].resources.requests.cpu: ");
    pod_error("{\"spec\":{\"overhead\":{\"memory\":\"lots\"}}}", "spec.overhead.memory: ");
    pod_error("{\"spec\":{\"priority\":\"high\"}}", "spec.priority: is a string, want a 32-bit integer");
    pod_error("{\"spec\":{\"priority\":2147483648}}", "spec.priority: is a number, want a 32-bit integer");
    pod_error("{\"spec\":{\"priority\":1.5}}", "spec.priority");
    pod_error("{\"spec\":{\"preemptionPolicy\":0}}", "spec.preemptionPolicy: is a number, want a string");
    pod_error("{\"spec\":{\"terminationGracePeriodSeconds\":\"30\"}}",
              "spec.terminationGracePeriodSeconds: is a string, want an integer");
    pod_error("{\"spec\":{\"tolerations\":{}}}", "spec.tolerations: is an object, want an array");
    pod_error("{\"spec\":{\"tolerations\":[{\"key\":\"a\"},{\"effect\":5}]}}",
              "spec.tolerations[1].effect: is a number, want a string");
    pod_error("{\"spec\":{\"nodeSelector\":{\"zone\":[]}}}", "spec.nodeSelector.zone: is an array");
    pod_error(
        "{\"spec\":{\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[]}}}}",
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution: is an array");
    pod_error("{\"status\":{\"phase\":{}}}", "status.phase: is an object, want a string");
    pod_error("{\"spec\":{\"volumes\":{}}}", "spec.volumes: is an object, want an array");
    pod_error("{\"spec\":{\"volumes\":[{\"name\":\"a\",\"persistentVolumeClaim\":[]}]}}",
              "spec.volumes[0].persistentVolumeClaim: is an array, want an object");
    pod_error(
        "{\"spec\":{\"volumes\":[{\"name\":\"a\"},{\"name\":\"b\",\"persistentVolumeClaim\":{\"claimName\":1}}]}}",
        "spec.volumes[1].persistentVolumeClaim.claimName: is a number, want a string");
    pod_error("{\"spec\":{\"volumes\":[{\"name\":\"a\",\"ephemeral\":\"x\"}]}}",
              "spec.volumes[0].ephemeral: is a string, want an object");
    /* More distinct extended resources than a kn_resources holds. */
    pod_error("{\"spec\":{\"containers\":[{\"resources\":{\"limits\":{\"a.io/1\":\"1\",\"a.io/2\":\"1\","
              "\"a.io/3\":\"1\",\"a.io/4\":\"1\",\"a.io/5\":\"1\",\"a.io/6\":\"1\",\"a.io/7\":\"1\"}}}]}}",
              "spec.containers[0].resources.limits");
}

/* Volumes backed by claims, in spec order: a persistentVolumeClaim names its
 * claim, a generic ephemeral volume's claim is <pod>-<volume>; others are not
 * kept. */
static void test_claims(void **state)
{
    (void)state;
    kn_pod p;
    pod_ok("{\"metadata\":{\"name\":\"exec-1\",\"namespace\":\"spark\"},\"spec\":{\"volumes\":["
           "{\"name\":\"conf\",\"configMap\":{\"name\":\"c\"}},"
           "{\"name\":\"spark-local-dir-1\",\"persistentVolumeClaim\":{\"claimName\":\"app-exec-1-pvc-0\"}},"
           "{\"name\":\"scratch\",\"ephemeral\":{\"volumeClaimTemplate\":{\"spec\":{}}}},"
           "{\"name\":\"tmp\",\"emptyDir\":{}}]}}",
           &p);
    assert_int_equal(p.n_claims, 2);
    assert_string_equal(p.claims[0].volume, "spark-local-dir-1");
    assert_string_equal(p.claims[0].claim, "app-exec-1-pvc-0");
    assert_false(p.claims[0].ephemeral);
    assert_string_equal(p.claims[1].volume, "scratch");
    assert_string_equal(p.claims[1].claim, "exec-1-scratch");
    assert_true(p.claims[1].ephemeral);
    kn_pod copy;
    assert_int_equal(kn_pod_copy(&p, &copy), 0);
    assert_int_equal(copy.n_claims, 2);
    assert_string_equal(copy.claims[1].claim, "exec-1-scratch");
    assert_ptr_not_equal(copy.claims[1].claim, p.claims[1].claim);
    kn_pod_free(&copy);
    kn_pod_free(&p);
    /* Without volumes, or with none backed by a claim: nothing. */
    pod_ok("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"volumes\":[{\"name\":\"t\",\"emptyDir\":{}}]}}", &p);
    assert_int_equal(p.n_claims, 0);
    assert_null(p.claims);
    kn_pod_free(&p);
}

static void test_wrong_type_after_allocations_does_not_leak(void **state)
{
    (void)state;
    /* Everything before the bad field is allocated, then freed on the error. */
    pod_error(
        "{\"metadata\":{\"name\":\"p\",\"namespace\":\"n\",\"labels\":{\"a\":\"b\"},"
        "\"ownerReferences\":[{\"kind\":\"Pod\",\"name\":\"d\",\"uid\":\"u\",\"controller\":true}]},"
        "\"spec\":{\"nodeSelector\":{\"k\":\"v\"},\"tolerations\":[{\"key\":\"a\"},{\"key\":\"b\",\"value\":3}],"
        "\"containers\":[]}}",
        "spec.tolerations[1].value: is a number, want a string");
    pod_error("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"affinity\":{\"nodeAffinity\":"
              "{\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":[]}}},"
              "\"containers\":[{\"resources\":{\"requests\":{\"cpu\":\"x\"}}}]}}",
              "spec.containers[0].resources.requests.cpu");
}

/* The host ports NodePorts counts (GetHostPorts): containers' and sidecars'
 * ports with hostPort > 0, sidecars first, with the API server's defaults. */
static void test_host_ports(void **state)
{
    (void)state;
    kn_pod p;
    pod_ok("{\"metadata\":{\"name\":\"web\"},\"spec\":{"
           "\"initContainers\":["
           "{\"name\":\"setup\",\"ports\":[{\"containerPort\":1,\"hostPort\":7001}]},"
           "{\"name\":\"proxy\",\"restartPolicy\":\"Always\",\"ports\":[{\"containerPort\":15001,"
           "\"hostPort\":15001,\"protocol\":\"UDP\",\"hostIP\":\"10.0.0.7\"}]}],"
           "\"containers\":[{\"name\":\"app\",\"ports\":[{\"containerPort\":80,\"hostPort\":8080},"
           "{\"containerPort\":9090},{\"containerPort\":53,\"hostPort\":0}]}]}}",
           &p);
    /* the regular init container has exited by the time the pod runs: not counted */
    assert_int_equal(p.n_host_ports, 2);
    assert_int_equal(p.host_ports[0].port, 15001);
    assert_string_equal(p.host_ports[0].protocol, "UDP");
    assert_string_equal(p.host_ports[0].ip, "10.0.0.7");
    assert_int_equal(p.host_ports[1].port, 8080);
    assert_string_equal(p.host_ports[1].protocol, "TCP"); /* the default */
    assert_string_equal(p.host_ports[1].ip, "0.0.0.0");   /* empty: every address */
    kn_pod_free(&p);

    /* hostNetwork: SetDefaults_Pod makes every containerPort a hostPort */
    pod_ok("{\"metadata\":{\"name\":\"net\"},\"spec\":{\"hostNetwork\":true,\"containers\":[{\"name\":\"a\","
           "\"ports\":[{\"containerPort\":9100},{\"containerPort\":53,\"protocol\":\"UDP\"}]}]}}",
           &p);
    assert_int_equal(p.n_host_ports, 2);
    assert_int_equal(p.host_ports[0].port, 9100);
    assert_int_equal(p.host_ports[1].port, 53);
    assert_string_equal(p.host_ports[1].protocol, "UDP");
    kn_pod copy;
    assert_int_equal(kn_pod_copy(&p, &copy), 0);
    kn_pod_free(&p);
    assert_int_equal(copy.n_host_ports, 2);
    assert_int_equal(copy.host_ports[1].port, 53);
    kn_pod_free(&copy);

    pod_error("{\"spec\":{\"containers\":[{\"ports\":[{\"hostPort\":70000}]}]}}",
              "spec.containers[0].ports[0].hostPort: is a number, want an integer in 0..65535");
    pod_error("{\"spec\":{\"containers\":[{\"ports\":[{\"hostPort\":80,\"hostIP\":7}]}]}}",
              "spec.containers[0].ports[0].hostIP: is a number, want a string");
    pod_error("{\"spec\":{\"containers\":[{\"ports\":{}}]}}",
              "spec.containers[0].ports: is an object, want an array");
}

/* Preferred node affinity, scheduling gates, and which fields beyond the
 * model a pod sets (an empty list or object sets nothing). */
static void test_preferences_gates_and_fields(void **state)
{
    (void)state;
    kn_pod p;
    pod_ok("{\"spec\":{\"containers\":[],\"affinity\":{\"nodeAffinity\":{"
           "\"preferredDuringSchedulingIgnoredDuringExecution\":[{\"weight\":5,\"preference\":{"
           "\"matchExpressions\":[{\"key\":\"disk\",\"operator\":\"In\",\"values\":[\"ssd\"]}]}}]},"
           "\"podAffinity\":{},\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[]}},"
           "\"schedulingGates\":[],\"topologySpreadConstraints\":[],\"resourceClaims\":null}}",
           &p);
    assert_non_null(p.preferred_affinity);
    assert_int_equal(kn_json_len(p.preferred_affinity), 1);
    assert_null(p.required_affinity);
    assert_false(p.gated);
    assert_int_equal(p.fields, 0);
    kn_pod_free(&p);

    pod_ok("{\"spec\":{\"containers\":[],\"schedulingGates\":[{\"name\":\"example.com/quota\"}],"
           "\"affinity\":{\"podAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":[{}]},"
           "\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[{}]}},"
           "\"topologySpreadConstraints\":[{\"maxSkew\":1}],\"resourceClaims\":[{\"name\":\"gpu\"}],"
           "\"volumes\":[{\"name\":\"a\",\"emptyDir\":{}},{\"name\":\"b\",\"persistentVolumeClaim\":"
           "{\"claimName\":\"data\"}},{\"name\":\"c\",\"ephemeral\":{}},{\"name\":\"d\",\"iscsi\":{}}]}}",
           &p);
    assert_true(p.gated);
    uint32_t want = 1u << KN_PODF_POD_AFFINITY | 1u << KN_PODF_POD_ANTI_AFFINITY | 1u << KN_PODF_TOPOLOGY_SPREAD |
                    1u << KN_PODF_RESOURCE_CLAIMS | 1u << KN_PODF_VOL_PVC | 1u << KN_PODF_VOL_EPHEMERAL |
                    1u << KN_PODF_VOL_ISCSI;
    assert_int_equal(p.fields, want);
    assert_string_equal(kn_pod_field_name(KN_PODF_POD_ANTI_AFFINITY), "spec.affinity.podAntiAffinity");
    assert_string_equal(kn_pod_field_name(KN_PODF_VOL_PVC), "spec.volumes.persistentVolumeClaim");
    kn_pod_free(&p);

    pod_error("{\"spec\":{\"volumes\":{}}}", "spec.volumes: is an object, want an array");
    pod_error(
        "{\"spec\":{\"affinity\":{\"nodeAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":{}}}}}",
        "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution: is an object, want an array");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spark_driver),
        cmocka_unit_test(test_spark_executor),
        cmocka_unit_test(test_sidecars_init_containers_and_overhead),
        cmocka_unit_test(test_init_container_alone_dominates),
        cmocka_unit_test(test_limits_default_requests),
        cmocka_unit_test(test_pod_level_resources),
        cmocka_unit_test(test_minimal_and_bound_pods),
        cmocka_unit_test(test_preemption_fields),
        cmocka_unit_test(test_broken_fixtures),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_claims),
        cmocka_unit_test(test_wrong_type_after_allocations_does_not_leak),
        cmocka_unit_test(test_host_ports),
        cmocka_unit_test(test_preferences_gates_and_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
