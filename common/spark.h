/* spark.h - Spark's own size rules (Spark 3.5 on Kubernetes).
 *
 * JVM memory strings: <digits>[k|m|g|t|p][b] (case-insensitive, binary units;
 * a bare number is MiB: spark.*.memory and *.memoryOverhead are bytesConf(MiB)).
 * Kubernetes quantities are not Spark sizes: "4Gi" is an error with the hint
 * "Spark wants 4g".
 *
 * Pod sizing for a role (driver or executor) of a SparkApplication:
 *   memory request = memory limit = memory + overhead   (in MiB, as Spark does)
 *   overhead = memoryOverhead if set,
 *              else max(factor * memory, 384 MiB) (truncated to whole MiB),
 *   factor   = memoryOverheadFactor if set, else 0.1 for JVM apps (Java,
 *              Scala) and 0.4 for Python and R apps,
 *   cpu request = coreRequest if set, else cores (default 1); cpu limit = coreLimit,
 *   gpu {name, quantity} = an extended-resource limit (and so a request).
 * Spec fields win over the matching sparkConf keys (the operator passes them
 * after sparkConf), sparkConf keys (spark.driver.memory, spark.executor.cores,
 * spark.kubernetes.executor.request.cores, spark.executor.memoryOverhead,
 * spark.executor.memoryOverheadFactor, spark.kubernetes.memoryOverheadFactor,
 * ...) win over defaults. */
#ifndef KN_SPARK_H
#define KN_SPARK_H

#include <stdint.h>

#include "err.h"
#include "json.h"
#include "resources.h"

typedef enum { KN_SPARK_DRIVER, KN_SPARK_EXECUTOR } kn_spark_role;

/* "512m" -> 512 MiB in bytes; "4g", "1024k", "2t", "1g" case-insensitive;
 * a bare number is MiB. "4Gi" -> error mentioning "4g". */
int kn_spark_memory_bytes(const char *s, int64_t *bytes, kn_err *err);

typedef struct kn_spark_pod_size {
    kn_resources requests;
    kn_resources limits;
    int64_t memory_mib;   /* heap */
    int64_t overhead_mib; /* added on top */
} kn_spark_pod_size;

/* app: a whole SparkApplication object. Errors name the field:
 * "spec.executor.memory: \"4Gi\" is not a Spark size (Spark wants 4g)". */
int kn_spark_pod_size(const kn_json *app, kn_spark_role role, kn_spark_pod_size *out, kn_err *err);

#endif
