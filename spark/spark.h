/* spark.h - Spark's own size rules (Spark 3.5 on Kubernetes).
 *
 * JVM memory strings: <digits>[k|m|g|t|p][b] (case-insensitive, binary units;
 * a bare number is MiB: spark.*.memory and *.memoryOverhead are bytesConf(MiB)).
 * Kubernetes quantities are not Spark sizes: "4Gi" is an error with the hint
 * "Spark wants 4g".
 *
 * Pod sizing for a role (driver or executor) of a SparkApplication:
 *   memory request = memory limit = memory + overhead (+ extra, executors)
 *            (in whole MiB, as Spark does; memory defaults to 1g)
 *   overhead = memoryOverhead if set,
 *              else max(factor * memory, 384 MiB) (truncated to whole MiB),
 *   factor   = spark.<role>.memoryOverheadFactor, else
 *              spark.kubernetes.memoryOverheadFactor (sparkConf, then
 *              spec.memoryOverheadFactor, which the operator passes before
 *              sparkConf), else 0.1 for JVM apps (Java, Scala) and 0.4 for
 *              Python ("PySpark" too) and R apps,
 *   cpu request = coreRequest if set, else cores (default 1); cpu limit = coreLimit,
 *   sparkConf spark.<role>.resource.<id>.amount + .vendor <domain> = the
 *            limit (and so request) <domain>/<id>, as Spark builds it,
 *   gpu {name, quantity} = an extended-resource limit (and so a request);
 *            it wins over sparkConf for the same name,
 *   pods request = 1 (as kn_pod_from_json counts a pod).
 * Rejected, with the field and the fix in the message: cores < 1 or not whole,
 * coreRequest/coreLimit not a quantity or <= 0, coreLimit below the cpu
 * request, memory that is not a Spark size or under 1 MiB, a factor that is
 * not a plain number >= 0, gpu without a domain-qualified name or with a
 * quantity < 1, a spark.<role>.resource.<id> without .amount or .vendor (Spark
 * fails the driver then), a wrong JSON type anywhere on the way.
 * Spec fields win over the matching sparkConf keys (the operator passes them
 * after sparkConf), sparkConf keys (spark.driver.memory, spark.executor.cores,
 * spark.kubernetes.executor.request.cores, spark.executor.memoryOverhead,
 * spark.executor.memoryOverheadFactor, spark.kubernetes.memoryOverheadFactor,
 * ...) win over defaults. */
#ifndef KN_SPARK_H
#define KN_SPARK_H

#include <stdint.h>

#include "base/err.h"
#include "json/json.h"
#include "kube/resources.h"

typedef enum { KN_SPARK_DRIVER, KN_SPARK_EXECUTOR } kn_spark_role;

/* "512m" -> 512 MiB in bytes; "4g", "1024k", "2t", "1g", "4gb" case-insensitive,
 * surrounding blanks ignored (Spark trims); a bare number is MiB.
 * "4Gi" -> error mentioning "4g"; "1.5g" -> error suggesting "1536m". */
int kn_spark_memory_bytes(const char *s, int64_t *bytes, kn_err *err);

typedef struct kn_spark_pod_size {
    kn_resources requests;
    kn_resources limits;
    int64_t memory_mib;   /* heap */
    int64_t overhead_mib; /* added on top */
    int64_t extra_mib;    /* executors: spark.executor.pyspark.memory (Python apps)
                             + spark.memory.offHeap.size (when enabled); else 0 */
} kn_spark_pod_size;

/* app: a whole SparkApplication object. Errors name the field:
 * "spec.executor.memory: \"4Gi\" is not a Spark size (Spark wants 4g)".
 * (Named kn_spark_size_pod because C cannot have a function and a typedef
 * both called kn_spark_pod_size.) out is written only on success. */
int kn_spark_size_pod(const kn_json *app, kn_spark_role role, kn_spark_pod_size *out, kn_err *err);

#endif
