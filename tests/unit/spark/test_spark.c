/* test_spark.c - the pod sizes Spark 3.5 asks for, from SparkApplications as
 * users write them (YAML, the user guide's examples). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "yaml/manifest.h"
#include "kube/pod.h"
#include "spark/spark.h"

#define MI (1024LL * 1024)
#define GI (1024LL * MI)

/* ---- JVM memory strings ---- */

typedef struct {
    const char *in;
    int64_t bytes;
} size_case;

static void test_memory_strings(void **state)
{
    (void)state;
    static const size_case cases[] = {
        {"512m", 512 * MI},
        {"512M", 512 * MI},
        {"4g", 4 * GI},
        {"4G", 4 * GI},
        {"4gb", 4 * GI},
        {"4GB", 4 * GI},
        {"1024k", 1024 * 1024},
        {"1kb", 1024},
        {"2t", 2048 * GI},
        {"1p", 1024 * 1024 * GI},
        {"1g", GI},
        {"512", 512 * MI},
        {" 2g ", 2 * GI},
        {"100b", 100},
        {"0", 0},
        {"0m", 0},
        {"007m", 7 * MI},
        {"1536m", 1536 * MI},
        {"8191p", 8191LL * 1024 * 1024 * GI},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kn_err err = {{0}};
        int64_t b = -1;
        if (kn_spark_memory_bytes(cases[i].in, &b, &err) != 0 || b != cases[i].bytes) {
            print_error("\"%s\": got %lld want %lld (%s)\n", cases[i].in, (long long)b, (long long)cases[i].bytes,
                        err.msg);
            fail();
        }
    }
}

typedef struct {
    const char *in;
    const char *want; /* exact message */
} msg_case;

#define HELP "want a whole number with an optional unit k, m, g, t or p (e.g. 512m, 4g)"

static void test_memory_string_errors(void **state)
{
    (void)state;
    static const msg_case cases[] = {
        {"4Gi", "\"4Gi\" is not a Spark size (Spark wants 4g)"},
        {"512Mi", "\"512Mi\" is not a Spark size (Spark wants 512m)"},
        {"1Ki", "\"1Ki\" is not a Spark size (Spark wants 1k)"},
        {"2Ti", "\"2Ti\" is not a Spark size (Spark wants 2t)"},
        {"4GI", "\"4GI\" is not a Spark size (Spark wants 4g)"},
        {"1.5g", "\"1.5g\" is not a Spark size: Spark does not take fractions (use 1536m)"},
        {"1.5Gi", "\"1.5Gi\" is not a Spark size: Spark does not take fractions (use 1536m)"},
        {"1.3g", "\"1.3g\" is not a Spark size: Spark does not take fractions (use a whole number, e.g. 1331m)"},
        {"0.5", "\"0.5\" is not a Spark size: Spark does not take fractions (use 512k)"},
        {"2.5t", "\"2.5t\" is not a Spark size: Spark does not take fractions (use 2560g)"},
        {"1.5b", "\"1.5b\" is not a Spark size: Spark does not take fractions (use a whole number of bytes)"},
        {"1.5x", "\"1.5x\" is not a Spark size: Spark does not take fractions (" HELP ")"},
        {"", "\"\" is not a Spark size: " HELP},
        {"g", "\"g\" is not a Spark size: " HELP},
        {"-1g", "\"-1g\" is not a Spark size: " HELP},
        {"+1g", "\"+1g\" is not a Spark size: " HELP},
        {"4 g", "\"4 g\" is not a Spark size: " HELP},
        {"4e3", "\"4e3\" is not a Spark size: " HELP},
        {"1.g", "\"1.g\" is not a Spark size: " HELP},
        {".5g", "\".5g\" is not a Spark size: " HELP},
        {"1Ei", "\"1Ei\" is not a Spark size: " HELP},
        {"4x", "\"4x\" is not a Spark size: " HELP},
        {"4mib", "\"4mib\" is not a Spark size: " HELP},
        {"0x10", "\"0x10\" is not a Spark size: " HELP},
        {"1g\n2", "\"1g\\n2\" is not a Spark size: " HELP},
        {"8192p", "\"8192p\" is too large for a Spark size"},
        {"99999999999999999999", "\"99999999999999999999\" is too large for a Spark size"},
        {"9223372036854775807", "\"9223372036854775807\" is too large for a Spark size"}, /* MiB */
        {"9223372036854775807b", NULL},                                                   /* fits */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kn_err err = {{0}};
        int64_t b = -7;
        int rc = kn_spark_memory_bytes(cases[i].in, &b, &err);
        bool ok = cases[i].want ? rc == -1 && strcmp(err.msg, cases[i].want) == 0 && b == -7 : rc == 0;
        if (!ok) {
            print_error("\"%s\": rc=%d\n got  %s\n want %s\n", cases[i].in, rc, err.msg,
                        cases[i].want ? cases[i].want : "(success)");
            fail();
        }
    }
    kn_err err;
    int64_t b;
    assert_int_equal(kn_spark_memory_bytes(NULL, &b, &err), -1);
    assert_int_equal(kn_spark_memory_bytes("4Gi", &b, NULL), -1);
}

/* ---- SparkApplications ---- */

static kn_json *yaml(const char *text)
{
    kn_json **docs = NULL;
    size_t n = 0;
    kn_err err = {{0}};
    if (kn_yaml_parse_docs(text, strlen(text), NULL, &docs, &n, &err) != 0 || n != 1)
        fail_msg("bad test YAML (%s): %s", err.msg, text);
    kn_json *doc = docs[0];
    free(docs);
    return doc;
}

static kn_json *fixture(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/sparkapps/%s", KN_FIXTURES, name);
    kn_json **docs = NULL;
    size_t n = 0;
    kn_err err = {{0}};
    if (kn_manifest_read_file(path, &docs, &n, &err) != 0 || n != 1)
        fail_msg("%s: %s", path, err.msg);
    kn_json *doc = docs[0];
    free(docs);
    return doc;
}

static kn_spark_pod_size size_of(const kn_json *app, kn_spark_role role)
{
    kn_spark_pod_size s;
    kn_err err = {{0}};
    if (kn_spark_size_pod(app, role, &s, &err) != 0)
        fail_msg("unexpected error: %s", err.msg);
    return s;
}

/* The pod's requests and limits for one role, checked in one line each. */
static void expect(const kn_spark_pod_size *s, int64_t cpu, int64_t cpu_limit, int64_t mem_mib)
{
    assert_int_equal(s->requests.cpu_milli, cpu);
    assert_int_equal(s->limits.cpu_milli, cpu_limit);
    assert_int_equal(s->requests.memory, mem_mib * MI);
    assert_int_equal(s->limits.memory, mem_mib * MI);
    assert_int_equal(s->memory_mib + s->overhead_mib + s->extra_mib, mem_mib);
    assert_int_equal(s->requests.pods, 1);
}

/* The ResourceList a pod would carry, as text. */
static void expect_json(const kn_resources *r, const char *want)
{
    kn_json *j = kn_res_to_json(r);
    char *text = kn_json_dump(j, NULL);
    assert_string_equal(text, want);
    free(text);
    kn_json_free(j);
}

/* spark-pi: 512m heap + the 384 MiB minimum overhead = 896Mi. */
static void test_guide_spark_pi(void **state)
{
    (void)state;
    kn_json *app = fixture("spark-pi.yaml");
    kn_spark_pod_size d = size_of(app, KN_SPARK_DRIVER), e = size_of(app, KN_SPARK_EXECUTOR);
    expect(&d, 1000, 1200, 896);
    assert_int_equal(d.memory_mib, 512);
    assert_int_equal(d.overhead_mib, 384);
    expect(&e, 1000, 0, 896);
    assert_int_equal(e.requests.n_scalar, 0);
    kn_json_free(app);

    /* The same numbers as the driver pod Spark 3.5 really created. */
    char path[512];
    snprintf(path, sizeof(path), "%s/pods/spark-driver.json", KN_FIXTURES);
    kn_json **docs = NULL;
    size_t n = 0;
    kn_err err = {{0}};
    assert_int_equal(kn_manifest_read_file(path, &docs, &n, &err), 0);
    kn_pod pod;
    assert_int_equal(kn_pod_from_json(docs[0], &pod, &err), 0);
    assert_int_equal(pod.requests.memory, d.requests.memory);
    assert_int_equal(pod.requests.cpu_milli, d.requests.cpu_milli);
    assert_int_equal(pod.limits.memory, d.limits.memory);
    assert_int_equal(pod.limits.cpu_milli, d.limits.cpu_milli);
    kn_pod_free(&pod);
    kn_yaml_free_docs(docs, n);
}

/* data-processing (type PySpark): executor 8g + memoryOverhead 1g = 9Gi;
 * driver 4g with the non-JVM factor 0.4: 1638 MiB overhead = 5734Mi. */
static void test_guide_data_processing(void **state)
{
    (void)state;
    kn_json *app = fixture("data-processing.yaml");
    kn_spark_pod_size d = size_of(app, KN_SPARK_DRIVER), e = size_of(app, KN_SPARK_EXECUTOR);
    expect(&e, 2000, 0, 9216);
    assert_int_equal(e.requests.memory, 9 * GI);
    assert_int_equal(e.overhead_mib, 1024);
    expect(&d, 2000, 2000, 5734);
    assert_int_equal(d.overhead_mib, 1638);
    expect_json(&d.requests, "{\"cpu\":\"2\",\"memory\":\"5734Mi\",\"pods\":\"1\"}");
    kn_json_free(app);
}

/* spark-ml-gpu (type Python): the gpu becomes a limit and a request. */
static void test_guide_gpu(void **state)
{
    (void)state;
    kn_json *app = fixture("spark-ml-gpu.yaml");
    kn_spark_pod_size d = size_of(app, KN_SPARK_DRIVER), e = size_of(app, KN_SPARK_EXECUTOR);
    expect(&d, 4000, 4000, 8192 + 3276); /* 0.4 * 8192 = 3276.8 -> 3276 */
    expect(&e, 4000, 0, 16384 + 6553);
    assert_int_equal(kn_res_get(&d.requests, "nvidia.com/gpu"), 1);
    assert_int_equal(kn_res_get(&d.limits, "nvidia.com/gpu"), 1);
    assert_int_equal(kn_res_get(&e.requests, "nvidia.com/gpu"), 1);
    assert_int_equal(kn_res_get(&e.limits, "nvidia.com/gpu"), 1);
    expect_json(&e.limits, "{\"memory\":\"22937Mi\",\"nvidia.com/gpu\":\"1\"}");
    kn_json_free(app);
}

#define APP "apiVersion: sparkoperator.k8s.io/v1beta2\nkind: SparkApplication\nmetadata: {name: a}\nspec:\n"

/* GPUs asked through sparkConf, as RAPIDS users write them: Spark puts
 * <vendor>/<id> = amount in the pod's limits; spec.<role>.gpu wins for the
 * same name (the operator applies it after sparkConf). */
static void test_conf_resources(void **state)
{
    (void)state;
    kn_json *app = yaml(APP "  type: Scala\n  sparkConf:\n"
                            "    spark.executor.resource.gpu.amount: \"2\"\n"
                            "    spark.executor.resource.gpu.vendor: nvidia.com\n"
                            "    spark.executor.resource.gpu.discoveryScript: /opt/getGpus.sh\n"
                            "    spark.executor.resource.fpga.amount: \"0\"\n"
                            "    spark.executor.resource.fpga.vendor: xilinx.com\n"
                            "    spark.task.resource.gpu.amount: \"0.25\"\n"
                            "    spark.driver.resource.gpu.amount: \"1\"\n"
                            "    spark.driver.resource.gpu.vendor: amd.com\n");
    kn_spark_pod_size d = size_of(app, KN_SPARK_DRIVER), e = size_of(app, KN_SPARK_EXECUTOR);
    assert_int_equal(kn_res_get(&e.requests, "nvidia.com/gpu"), 2);
    assert_int_equal(kn_res_get(&e.limits, "nvidia.com/gpu"), 2);
    assert_int_equal(kn_res_get(&e.limits, "xilinx.com/fpga"), 0);
    assert_int_equal(kn_res_get(&e.limits, "amd.com/gpu"), 0);
    assert_int_equal(kn_res_get(&d.requests, "amd.com/gpu"), 1);
    assert_int_equal(kn_res_get(&d.requests, "nvidia.com/gpu"), 0);
    expect_json(&e.limits, "{\"memory\":\"1408Mi\",\"nvidia.com/gpu\":\"2\"}");
    kn_json_free(app);

    app = yaml(APP "  type: Scala\n  executor: {gpu: {name: nvidia.com/gpu, quantity: 4}}\n  sparkConf:\n"
                   "    spark.executor.resource.gpu.amount: \"2\"\n"
                   "    spark.executor.resource.gpu.vendor: nvidia.com\n");
    e = size_of(app, KN_SPARK_EXECUTOR);
    assert_int_equal(kn_res_get(&e.requests, "nvidia.com/gpu"), 4);
    kn_json_free(app);
}

typedef struct {
    const char *yaml;
    kn_spark_role role;
    int64_t cpu, cpu_limit, mem_mib;
} app_case;

static void test_precedence(void **state)
{
    (void)state;
    static const app_case cases[] = {
        /* Nothing set: Spark's defaults, 1 core and 1g + 384m. */
        {APP "  type: Scala\n", KN_SPARK_DRIVER, 1000, 0, 1408},
        {APP "  type: Scala\n  driver: {}\n  executor: {}\n", KN_SPARK_EXECUTOR, 1000, 0, 1408},
        /* sparkConf when the spec is silent; the spec field wins over it. */
        {APP "  type: Scala\n  sparkConf: {spark.driver.memory: 2g, spark.driver.cores: \"3\"}\n", KN_SPARK_DRIVER,
         3000, 0, 2048 + 384},
        {APP "  type: Scala\n  sparkConf: {spark.driver.memory: 2g, spark.driver.cores: \"3\"}\n"
             "  driver: {memory: 1g, cores: 2}\n",
         KN_SPARK_DRIVER, 2000, 0, 1024 + 384},
        {APP "  type: Scala\n  sparkConf: {spark.executor.memoryOverhead: 1g}\n  executor: {memory: 2g}\n",
         KN_SPARK_EXECUTOR, 1000, 0, 3072},
        {APP "  type: Scala\n  sparkConf: {spark.executor.memoryOverhead: 1g}\n"
             "  executor: {memory: 2g, memoryOverhead: 512m}\n",
         KN_SPARK_EXECUTOR, 1000, 0, 2560},
        /* The driver's overhead settings do not touch the executor. */
        {APP "  type: Scala\n  sparkConf: {spark.driver.memoryOverhead: 1g, spark.driver.memoryOverheadFactor: "
             "\"0.5\"}\n"
             "  executor: {memory: 10g}\n",
         KN_SPARK_EXECUTOR, 1000, 0, 10240 + 1024},
        /* Factor: role key > spark.kubernetes key > spec.memoryOverheadFactor > default. */
        {APP "  type: Scala\n  memoryOverheadFactor: \"0.5\"\n"
             "  sparkConf: {spark.executor.memoryOverheadFactor: \"0.2\", spark.kubernetes.memoryOverheadFactor: "
             "\"0.3\"}\n"
             "  executor: {memory: 10g}\n",
         KN_SPARK_EXECUTOR, 1000, 0, 10240 + 2048},
        {APP "  type: Scala\n  memoryOverheadFactor: \"0.5\"\n"
             "  sparkConf: {spark.kubernetes.memoryOverheadFactor: \"0.3\"}\n  executor: {memory: 10g}\n",
         KN_SPARK_EXECUTOR, 1000, 0, 10240 + 3072},
        {APP "  type: Scala\n  memoryOverheadFactor: \"0.5\"\n  executor: {memory: 10g}\n", KN_SPARK_EXECUTOR,
         1000, 0, 10240 + 5120},
        {APP "  type: Java\n  executor: {memory: 10g}\n", KN_SPARK_EXECUTOR, 1000, 0, 10240 + 1024},
        {APP "  type: R\n  executor: {memory: 10g}\n", KN_SPARK_EXECUTOR, 1000, 0, 10240 + 4096},
        {APP "  type: Python\n  executor: {memory: 10g}\n", KN_SPARK_EXECUTOR, 1000, 0, 10240 + 4096},
        /* spark.kubernetes.memoryOverheadFactor may be 0 (then the 384 MiB minimum applies). */
        {APP "  type: Python\n  memoryOverheadFactor: \"0\"\n  executor: {memory: 10g}\n", KN_SPARK_EXECUTOR, 1000,
         0, 10240 + 384},
        /* 0.1 * 4096 = 409.6 -> 409 (truncated, as Spark's toLong). */
        {APP "  type: Scala\n  driver: {memory: 4g}\n", KN_SPARK_DRIVER, 1000, 0, 4096 + 409},
        /* Spark sizes truncate to whole MiB: 1500k is 1 MiB. */
        {APP "  type: Scala\n  driver: {memory: 1500k, memoryOverhead: 1536k}\n", KN_SPARK_DRIVER, 1000, 0, 2},
        /* cpu: coreRequest > spark.kubernetes.<role>.request.cores > cores. */
        {APP "  type: Scala\n  executor: {cores: 4, coreRequest: 500m}\n", KN_SPARK_EXECUTOR, 500, 0, 1408},
        {APP "  type: Scala\n  sparkConf: {spark.kubernetes.executor.request.cores: \"0.5\"}\n"
             "  executor: {cores: 4}\n",
         KN_SPARK_EXECUTOR, 500, 0, 1408},
        {APP "  type: Scala\n  sparkConf: {spark.kubernetes.executor.request.cores: \"0.5\"}\n"
             "  executor: {cores: 4, coreRequest: \"1.5\"}\n",
         KN_SPARK_EXECUTOR, 1500, 0, 1408},
        {APP "  type: Scala\n  sparkConf: {spark.executor.cores: \"3\"}\n", KN_SPARK_EXECUTOR, 3000, 0, 1408},
        {APP "  type: Scala\n  sparkConf: {spark.executor.cores: \" 2 \"}\n", KN_SPARK_EXECUTOR, 2000, 0, 1408},
        {APP "  type: Scala\n  sparkConf: {spark.kubernetes.driver.limit.cores: \"2\"}\n", KN_SPARK_DRIVER, 1000,
         2000, 1408},
        {APP "  type: Scala\n  sparkConf: {spark.kubernetes.driver.limit.cores: \"2\"}\n  driver: {coreLimit: "
             "1500m}\n",
         KN_SPARK_DRIVER, 1000, 1500, 1408},
        {APP "  type: Scala\n  executor: {cores: 2, coreLimit: \"2\"}\n", KN_SPARK_EXECUTOR, 2000, 2000, 1408},
        /* Executor extras: PySpark memory (Python apps only) and off-heap. */
        {APP "  type: Python\n  sparkConf: {spark.executor.pyspark.memory: 1g}\n  executor: {memory: 1g}\n",
         KN_SPARK_EXECUTOR, 1000, 0, 1024 + 409 + 1024},
        {APP "  type: Python\n  sparkConf: {spark.executor.pyspark.memory: 1g}\n  driver: {memory: 1g}\n",
         KN_SPARK_DRIVER, 1000, 0, 1024 + 409},
        {APP "  type: Scala\n  sparkConf: {spark.executor.pyspark.memory: 1g}\n  executor: {memory: 1g}\n",
         KN_SPARK_EXECUTOR, 1000, 0, 1408},
        {APP
         "  type: Scala\n  sparkConf: {spark.memory.offHeap.enabled: \"true\", spark.memory.offHeap.size: 2g}\n",
         KN_SPARK_EXECUTOR, 1000, 0, 1408 + 2048},
        {APP "  type: Scala\n  sparkConf: {spark.memory.offHeap.enabled: \"true\", spark.memory.offHeap.size: "
             "\"1073741824\"}\n",
         KN_SPARK_EXECUTOR, 1000, 0, 1408 + 1024},
        {APP
         "  type: Scala\n  sparkConf: {spark.memory.offHeap.enabled: \"false\", spark.memory.offHeap.size: 2g}\n",
         KN_SPARK_EXECUTOR, 1000, 0, 1408},
        {APP
         "  type: Scala\n  sparkConf: {spark.memory.offHeap.enabled: \"true\", spark.memory.offHeap.size: 2g}\n",
         KN_SPARK_DRIVER, 1000, 0, 1408},
        /* Spark trims values; PySpark (seen in manifests) counts as Python. */
        {APP "  type: PySpark\n  sparkConf: {spark.executor.memory: \" 2g \"}\n", KN_SPARK_EXECUTOR, 1000, 0,
         2048 + 819},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kn_json *app = yaml(cases[i].yaml);
        kn_spark_pod_size s;
        kn_err err = {{0}};
        int rc = kn_spark_size_pod(app, cases[i].role, &s, &err);
        kn_json_free(app);
        if (rc != 0 || s.requests.cpu_milli != cases[i].cpu || s.limits.cpu_milli != cases[i].cpu_limit ||
            s.requests.memory != cases[i].mem_mib * MI || s.limits.memory != s.requests.memory) {
            print_error("case %zu:\n%s\n rc=%d err=%s cpu=%lld limit=%lld mem=%lldMi; want %lld %lld %lldMi\n", i,
                        cases[i].yaml, rc, err.msg, (long long)s.requests.cpu_milli, (long long)s.limits.cpu_milli,
                        (long long)(s.requests.memory / MI), (long long)cases[i].cpu,
                        (long long)cases[i].cpu_limit, (long long)cases[i].mem_mib);
            fail();
        }
    }
}

typedef struct {
    const char *yaml;
    kn_spark_role role;
    const char *want; /* exact message */
} app_error;

static void test_errors(void **state)
{
    (void)state;
    static const app_error cases[] = {
        {APP "  type: Scala\n  executor: {cores: 0}\n", KN_SPARK_EXECUTOR,
         "spec.executor.cores is 0, want at least 1"},
        {APP "  type: Scala\n  executor: {cores: -2}\n", KN_SPARK_EXECUTOR,
         "spec.executor.cores is -2, want at least 1"},
        {APP "  type: Scala\n  driver: {cores: 0.5}\n", KN_SPARK_DRIVER,
         "spec.driver.cores is 0.5, want a whole number of cores (for a fraction of a core set coreRequest, "
         "e.g. \"500m\")"},
        {APP "  type: Scala\n  sparkConf: {spark.executor.cores: \"2.5\"}\n", KN_SPARK_EXECUTOR,
         "spec.sparkConf[\"spark.executor.cores\"] is \"2.5\", want a whole number of cores (for a fraction of a "
         "core set spark.kubernetes.executor.request.cores, e.g. \"500m\")"},
        {APP "  type: Scala\n  executor: {cores: 99999999999999999999}\n", KN_SPARK_EXECUTOR,
         "spec.executor.cores is 99999999999999999999, want at most 100000"},
        {APP "  type: Scala\n  sparkConf: {spark.executor.cores: \"0\"}\n", KN_SPARK_EXECUTOR,
         "spec.sparkConf[\"spark.executor.cores\"] is \"0\", want at least 1"},
        {APP "  type: Scala\n  driver: {cores: 1, coreLimit: 500m}\n", KN_SPARK_DRIVER,
         "spec.driver.coreLimit \"500m\" is below cores 1 (1000m): raise coreLimit to at least 1000m or remove "
         "it"},
        {APP "  type: Scala\n  driver: {coreLimit: 500m}\n", KN_SPARK_DRIVER,
         "spec.driver.coreLimit \"500m\" is below the default cores 1 (1000m): raise coreLimit to at least 1000m "
         "or remove it"},
        {APP "  type: Scala\n  executor: {cores: 4, coreRequest: \"1.5\", coreLimit: \"1\"}\n", KN_SPARK_EXECUTOR,
         "spec.executor.coreLimit \"1\" is below coreRequest \"1.5\" (1500m): raise coreLimit to at least 1500m "
         "or remove it"},
        {APP "  type: Scala\n  sparkConf: {spark.kubernetes.executor.limit.cores: 500m}\n  executor: {cores: 2}\n",
         KN_SPARK_EXECUTOR,
         "spec.sparkConf[\"spark.kubernetes.executor.limit.cores\"] \"500m\" is below cores 2 (2000m): raise "
         "spark.kubernetes.executor.limit.cores to at least 2000m or remove it"},
        {APP "  type: Scala\n  executor: {memory: 4Gi}\n", KN_SPARK_EXECUTOR,
         "spec.executor.memory: \"4Gi\" is not a Spark size (Spark wants 4g)"},
        {APP "  type: Scala\n  sparkConf: {spark.driver.memory: 1.5g}\n", KN_SPARK_DRIVER,
         "spec.sparkConf[\"spark.driver.memory\"]: \"1.5g\" is not a Spark size: Spark does not take fractions "
         "(use 1536m)"},
        {APP "  type: Scala\n  executor: {memory: 0m}\n", KN_SPARK_EXECUTOR,
         "spec.executor.memory is \"0m\", less than 1 MiB: want at least 1m (e.g. 512m, 4g)"},
        {APP "  type: Scala\n  executor: {memory: 1000k}\n", KN_SPARK_EXECUTOR,
         "spec.executor.memory is \"1000k\", less than 1 MiB: want at least 1m (e.g. 512m, 4g)"},
        {APP "  type: Scala\n  driver: {memoryOverhead: 512Mi}\n", KN_SPARK_DRIVER,
         "spec.driver.memoryOverhead: \"512Mi\" is not a Spark size (Spark wants 512m)"},
        {APP "  type: Scala\n  driver: {memory: {size: 4g}}\n", KN_SPARK_DRIVER,
         "spec.driver.memory: want a string, got object"},
        {APP "  type: Scala\n  sparkConf: {spark.driver.memory: 4}\n", KN_SPARK_DRIVER,
         "spec.sparkConf[\"spark.driver.memory\"]: want a string, got number"},
        {APP "  type: Scala\n  memoryOverheadFactor: abc\n", KN_SPARK_DRIVER,
         "spec.memoryOverheadFactor is \"abc\", want a decimal number such as 0.1"},
        {APP "  type: Scala\n  memoryOverheadFactor: \"-0.1\"\n", KN_SPARK_DRIVER,
         "spec.memoryOverheadFactor is \"-0.1\", want a number of at least 0 such as 0.1"},
        {APP "  type: Scala\n  sparkConf: {spark.driver.memoryOverheadFactor: \"0\"}\n", KN_SPARK_DRIVER,
         "spec.sparkConf[\"spark.driver.memoryOverheadFactor\"] is \"0\", want a number above 0 such as 0.1"},
        {APP "  type: Scala\n  sparkConf: {spark.kubernetes.memoryOverheadFactor: \"1e9\"}\n", KN_SPARK_DRIVER,
         "spec.sparkConf[\"spark.kubernetes.memoryOverheadFactor\"] is \"1e9\", far too large: want a fraction of "
         "the memory such as 0.1"},
        {APP "  type: Scala\n  executor: {coreRequest: \"0\"}\n", KN_SPARK_EXECUTOR,
         "spec.executor.coreRequest is \"0\", want more than 0 cores (e.g. \"500m\" or \"2\")"},
        {APP "  type: Scala\n  executor: {coreRequest: 500 m}\n", KN_SPARK_EXECUTOR,
         "spec.executor.coreRequest: quantity \"500 m\" is not valid: want a number with an optional suffix (Ki, "
         "Mi, Gi, Ti, Pi, Ei, n, u, m, k, M, G, T, P, E) or exponent (e3)"},
        {APP "  type: Scala\n  driver: {coreLimit: \"-1\"}\n", KN_SPARK_DRIVER,
         "spec.driver.coreLimit is \"-1\", want more than 0 cores (e.g. \"500m\" or \"2\")"},
        {APP "  type: Python\n  driver: {gpu: {quantity: 1}}\n", KN_SPARK_DRIVER,
         "spec.driver.gpu.name is missing: want the GPU's resource name, e.g. nvidia.com/gpu"},
        {APP "  type: Python\n  driver: {gpu: {name: gpu, quantity: 1}}\n", KN_SPARK_DRIVER,
         "spec.driver.gpu.name is \"gpu\": want an extended resource with a domain, e.g. nvidia.com/gpu or "
         "amd.com/gpu"},
        {APP "  type: Python\n  executor: {gpu: {name: nvidia.com/gpu, quantity: 0}}\n", KN_SPARK_EXECUTOR,
         "spec.executor.gpu.quantity is 0, want a whole number of at least 1"},
        {APP "  type: Python\n  executor: {gpu: {name: nvidia.com/gpu}}\n", KN_SPARK_EXECUTOR,
         "spec.executor.gpu.quantity is missing, want a whole number of at least 1"},
        {APP "  type: Python\n  executor: {gpu: {name: nvidia.com/gpu, quantity: \"1\"}}\n", KN_SPARK_EXECUTOR,
         "spec.executor.gpu.quantity is \"1\", want a whole number of at least 1"},
        {APP "  type: Python\n  executor: {gpu: {name: nvidia.com/my gpu, quantity: 1}}\n", KN_SPARK_EXECUTOR,
         "spec.executor.gpu.name: resource name \"nvidia.com/my\" has character 0x20: want letters, digits and . "
         "- _ / "
         "(e.g. nvidia.com/gpu)"},
        {APP "  type: Scala\n  sparkConf: {spark.executor.resource.gpu.amount: \"1\"}\n", KN_SPARK_EXECUTOR,
         "spec.sparkConf: spark.executor.resource.gpu.amount is set but spark.executor.resource.gpu.vendor is "
         "missing "
         "(Spark fails the driver with \"Resource: gpu was requested, but vendor was not specified.\"): set it to "
         "the "
         "device plugin's domain, e.g. nvidia.com"},
        {APP "  type: Scala\n  sparkConf: {spark.driver.resource.gpu.vendor: nvidia.com}\n", KN_SPARK_DRIVER,
         "spec.sparkConf: spark.driver.resource.gpu.* is set but spark.driver.resource.gpu.amount is missing "
         "(Spark "
         "fails the driver with \"You must specify an amount for gpu\"): set it, e.g. \"1\""},
        {APP "  type: Scala\n  sparkConf: {spark.executor.resource.gpu.amount: \"0.5\", "
             "spark.executor.resource.gpu.vendor: nvidia.com}\n",
         KN_SPARK_EXECUTOR,
         "spec.sparkConf[\"spark.executor.resource.gpu.amount\"] is \"0.5\", want a whole number of at least 0"},
        {APP "  type: Scala\n  sparkConf: {spark.executor.resource.gpu: \"1\"}\n", KN_SPARK_EXECUTOR,
         "spec.sparkConf[\"spark.executor.resource.gpu\"]: want spark.executor.resource.<name>.amount (and "
         ".vendor), "
         "e.g. spark.executor.resource.gpu.amount"},
        {APP "  type: Scala\n  sparkConf: {spark.executor.resource.gpu.amount: \"1\", "
             "spark.executor.resource.gpu.vendor: nvidia com}\n",
         KN_SPARK_EXECUTOR,
         "spec.sparkConf[\"spark.executor.resource.gpu.vendor\"]: resource name \"nvidia\" has character "
         "0x20: want letters, digits and . - _ / (e.g. nvidia.com/gpu)"},
        {APP "  type: Python\n  executor: {gpu: nvidia.com/gpu}\n", KN_SPARK_EXECUTOR,
         "spec.executor.gpu: want an object such as {name: nvidia.com/gpu, quantity: 1}, got string"},
        {APP "  type: Scala\n  sparkConf: {spark.memory.offHeap.enabled: \"true\"}\n", KN_SPARK_EXECUTOR,
         "spec.sparkConf[\"spark.memory.offHeap.size\"] must be at least 1m when spark.memory.offHeap.enabled is "
         "true (Spark refuses to start otherwise)"},
        {APP "  type: Scala\n  executor: {memory: 9000000000g}\n", KN_SPARK_EXECUTOR,
         "spec.executor.memory: \"9000000000g\" is too large for a Spark size"},
        {APP "  type: Scala\n  executor: {memory: 8000000000000m}\n", KN_SPARK_EXECUTOR,
         "spec.executor: memory plus overhead is too large"},
        {APP "  type: Scala\n  executor: [1]\n", KN_SPARK_EXECUTOR, "spec.executor: want an object, got array"},
        {APP "  type: Scala\n  sparkConf: [a]\n", KN_SPARK_EXECUTOR,
         "spec.sparkConf: want an object of strings, got array"},
        {"apiVersion: v1\nkind: SparkApplication\n", KN_SPARK_DRIVER, "spec: want an object, got null"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kn_json *app = yaml(cases[i].yaml);
        kn_spark_pod_size s;
        memset(&s, 0x5a, sizeof(s));
        kn_spark_pod_size before = s;
        kn_err err = {{0}};
        int rc = kn_spark_size_pod(app, cases[i].role, &s, &err);
        kn_json_free(app);
        if (rc != -1 || strcmp(err.msg, cases[i].want) != 0) {
            print_error("case %zu:\n%s\n rc=%d\n got  %s\n want %s\n", i, cases[i].yaml, rc, err.msg,
                        cases[i].want);
            fail();
        }
        assert_memory_equal(&s, &before, sizeof(s)); /* out untouched on error */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_strings), cmocka_unit_test(test_memory_string_errors),
        cmocka_unit_test(test_guide_spark_pi), cmocka_unit_test(test_guide_data_processing),
        cmocka_unit_test(test_guide_gpu),      cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_errors),         cmocka_unit_test(test_conf_resources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
