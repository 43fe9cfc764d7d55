/* sparkapp.h - the SparkApplication (sparkoperator.k8s.io/v1beta2) model:
 * what the Spark Operator and Spark 3.5 make of one, as admission and the
 * scheduler's simulation need it.
 *
 *  - Effective labels of a role: metadata.labels merged with
 *    spec.<role>.labels (the role wins), as the operator copies both onto pods.
 *  - Initial executor count N (Spark's getInitialTargetExecutorNumber): without
 *    dynamic allocation spec.executor.instances (else sparkConf
 *    spark.executor.instances, else 2); with dynamic allocation
 *    (spec.dynamicAllocation.enabled, or sparkConf spark.dynamicAllocation.enabled
 *    "true") the largest of instances, initialExecutors and minExecutors (0 when unset).
 *  - The executor reservation a gang's driver carries in the annotation
 *    scheduling.kubenexus.io/executor-reservation:
 *      {"count":N,"requests":{"cpu":"1","memory":"896Mi"},
 *       "numa":{"policy":"single-numa","resources":"cpu,memory"}}
 *    requests are one executor pod's requests (canonical quantities; cpu,
 *    memory, extended resources - each executor also takes one pod slot),
 *    numa only when the executors carry a NUMA policy. When the executors'
 *    placement constraints differ from the driver's, it also carries the
 *    executors' "nodeSelector" (always, {} for none), "tolerations",
 *    "affinity" and "topologySpreadConstraints" (their Spark pod template's,
 *    spec.executor.template.spec) when set, so the slots are reserved where
 *    executors may run, apart or together as they would be; when the
 *    executors' labels differ from the driver's, their "labels", which the
 *    slots carry (other pods' affinity and spreading count a slot as the
 *    executor it stands for). When the driver creates claims for each
 *    executor (spark/volumes.h), it carries their classes,
 *    "storageClasses":["gp3"]: a slot is reserved only where such a claim
 *    could be provisioned.
 *  - Driver and executor pods built as Spark 3.5 + the operator create them
 *    (as a mutating webhook then sees them: schedulerName defaulted). */
#ifndef KN_SPARKAPP_H
#define KN_SPARKAPP_H

#include <stdbool.h>

#include "base/err.h"
#include "json/json.h"
#include "kube/pod.h"
#include "spark/numa.h"
#include "kube/resources.h"
#include "spark/spark.h"

#define KN_EXECUTOR_RESERVATION_ANNOTATION "scheduling.kubenexus.io/executor-reservation"
#define KN_SPARK_ROLE_LABEL "spark-role"
#define KN_SPARK_APP_SELECTOR_LABEL "spark-app-selector"
#define KN_SPARK_APP_NAME_LABEL "spark-app-name"
#define KN_SPARK_EXEC_ID_LABEL "spark-exec-id"
#define KN_SPARK_VERSION_LABEL "spark-version"
#define KN_SPARKOP_APP_NAME_LABEL "sparkoperator.k8s.io/app-name"
#define KN_SPARKOP_LAUNCHED_LABEL "sparkoperator.k8s.io/launched-by-spark-operator"
#define KN_SPARKOP_SUBMISSION_ID_LABEL "sparkoperator.k8s.io/submission-id"

/* spec.driver or spec.executor (NULL when absent). */
const kn_json *kn_sparkapp_role(const kn_json *app, kn_spark_role role);
/* The role's topologySpreadConstraints: spec.<role>.template.spec's (Spark's
 * pod template, kept on the pods it builds), or NULL. */
const kn_json *kn_sparkapp_role_spread(const kn_json *app, kn_spark_role role);
const char *kn_sparkapp_role_name(kn_spark_role role); /* "driver" / "executor" */
/* A new object: metadata.labels merged with spec.<role>.labels. NULL on OOM. */
kn_json *kn_sparkapp_effective_labels(const kn_json *app, kn_spark_role role);
/* The same for reading only: when just one of the two sources has members
 * (the usual case), that object itself, not a copy; else the merged copy,
 * which *copy then holds for the caller to free (NULL otherwise). NULL on OOM. */
const kn_json *kn_sparkapp_labels_view(const kn_json *app, kn_spark_role role, kn_json **copy);

/* One role's container requests and limits by Spark's sizing rules (spark.h),
 * without the pod slot (pods = 0). */
int kn_sparkapp_pod_resources(const kn_json *app, kn_spark_role role, kn_resources *requests, kn_resources *limits,
                              kn_err *err);

/* Initial executor count; *dynamic tells whether dynamic allocation is on.
 * Errors name the field ("spec.executor.instances is -1, want ..."). */
int kn_sparkapp_executor_count(const kn_json *app, int *n, bool *dynamic, kn_err *err);

typedef struct kn_executor_reservation {
    int count;
    kn_resources requests;
    kn_numa_spec numa; /* policy KN_NUMA_NONE when absent */
} kn_executor_reservation;

/* The annotation's value for app (malloc'd compact JSON), or NULL with err. */
char *kn_sparkapp_reservation(const kn_json *app, kn_err *err);
/* The same from what the caller already worked out for app: count from
 * kn_sparkapp_executor_count, requests from kn_sparkapp_pod_resources
 * (KN_SPARK_EXECUTOR). */
char *kn_sparkapp_reservation_of(const kn_json *app, int count, const kn_resources *requests, kn_err *err);
/* Parses and checks an annotation value (count 0..KN_GANG_MAX_MEMBERS,
 * requests a ResourceList, numa optional with a known policy, labels an
 * optional object of strings, topologySpreadConstraints an optional array). */
int kn_executor_reservation_parse(const char *text, kn_executor_reservation *out, kn_err *err);

#endif
