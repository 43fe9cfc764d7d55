/* fuzz_spark.c - Spark's size rules: JVM memory strings (kn_spark_memory_bytes)
 * and pod sizing of a SparkApplication (kn_spark_size_pod).
 *
 * An input starting with '{' is a SparkApplication (JSON); anything else is a
 * memory string. Invariants: never a crash; a failure says why; a size is
 * non-negative and, when a whole number of KiB, "<n>k" parses back to it; a
 * sized pod asks memory request == limit == (memory + overhead + extra) MiB
 * with non-negative overhead and extra, and a positive cpu request. */
#include <inttypes.h>

#include "fuzz.h"
#include "json/json.h"
#include "spark/spark.h"

static void memory_string(const uint8_t *data, size_t size)
{
    char *s = kn_fuzz_cstr(data, size, 256);
    int64_t bytes = -1;
    kn_err err = {{0}};
    if (kn_spark_memory_bytes(s, &bytes, &err) == 0) {
        KN_FUZZ_CHECK(bytes >= 0);
        if (bytes % 1024 == 0) {
            char k[32];
            snprintf(k, sizeof(k), "%" PRId64 "k", bytes / 1024);
            int64_t back = -1;
            KN_FUZZ_CHECK(kn_spark_memory_bytes(k, &back, NULL) == 0 && back == bytes);
        }
    } else {
        KN_FUZZ_CHECK(err.msg[0] != '\0');
    }
    free(s);
}

static void pod_size(const kn_json *app, kn_spark_role role)
{
    kn_spark_pod_size sz;
    kn_err err = {{0}};
    if (kn_spark_size_pod(app, role, &sz, &err) != 0) {
        KN_FUZZ_CHECK(err.msg[0] != '\0');
        return;
    }
    KN_FUZZ_CHECK(sz.memory_mib > 0 && sz.overhead_mib >= 0 && sz.extra_mib >= 0);
    KN_FUZZ_CHECK(sz.requests.memory == sz.limits.memory);
    KN_FUZZ_CHECK(sz.requests.memory == (sz.memory_mib + sz.overhead_mib + sz.extra_mib) * 1024 * 1024);
    KN_FUZZ_CHECK(sz.requests.cpu_milli > 0);
}

int kn_fuzz_spark(const uint8_t *data, size_t size)
{
    if (size == 0 || data[0] != '{') {
        memory_string(data, size);
        return 0;
    }
    char *buf = kn_fuzz_exact(data, size);
    kn_json *app = kn_json_parse(buf, size, NULL, NULL);
    free(buf);
    if (app != NULL) {
        pod_size(app, KN_SPARK_DRIVER);
        pod_size(app, KN_SPARK_EXECUTOR);
    }
    kn_json_free(app);
    return 0;
}

KN_FUZZ_TARGET(kn_fuzz_spark)
