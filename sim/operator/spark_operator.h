/* spark_operator.h - the pods the Spark Operator and spark-submit make of a
 * SparkApplication: the driver as the operator's spark-submit creates it, and
 * the executors as the driver requests them, with the volumes of sparkConf
 * (spark/volumes.h) and the spec.volumes their volumeMounts name. An emulation for `simulate` and
 * the webhook's `send` command (and the tests), never used to admit or place. */
#ifndef KN_SPARK_OPERATOR_H
#define KN_SPARK_OPERATOR_H

#include "base/err.h"
#include "json/json.h"
#include "kube/pod.h"

typedef struct kn_sparkapp_pod_opts {
    const char *app_id;      /* spark-app-selector; NULL: "spark-" + 32 hex derived from the app */
    const char *name_prefix; /* executor pod names <prefix>-exec-<id>; NULL: the app name */
    const char *driver_uid;  /* executor ownerReference uid; NULL: derived */
} kn_sparkapp_pod_opts;

/* The driver pod the operator's spark-submit creates (name spec.driver.podName
 * or <app>-driver). opts may be NULL. NULL with err on a bad app. */
kn_json *kn_sparkapp_driver_pod(const kn_json *app, const kn_sparkapp_pod_opts *opts, kn_err *err);
/* Executor exec_id (1-based) as the driver creates it, owned by the driver pod. */
kn_json *kn_sparkapp_executor_pod(const kn_json *app, int exec_id, const char *driver_pod_name,
                                  const kn_sparkapp_pod_opts *opts, kn_err *err);
/* Turns pod, the model (kn_pod_from_json) of an executor pod of app built
 * with the same opts, admitted or not, renumbered before or not, into
 * executor exec_id's model: the name and label spark-exec-id as
 * kn_sparkapp_executor_pod sets them (the rest of what differs between
 * executors, spec.hostname and env SPARK_EXECUTOR_ID, is not in a model).
 * Executors after the first are so one model renumbered, not rebuilt. 0, or
 * -1 with err. */
int kn_sparkapp_executor_renumber(kn_pod *pod, const kn_json *app, int exec_id, const kn_sparkapp_pod_opts *opts,
                                  kn_err *err);
/* The PersistentVolumeClaims the driver creates for executor exec_id (its pod
 * named pod_name) after creating the pod, as ExecutorPodsAllocator does for
 * sparkConf claims with a storage class and size (spark/volumes.h): labelled
 * spark-app-selector, owned by the driver pod. An array (empty: none), or
 * NULL with err. */
kn_json *kn_sparkapp_executor_claims(const kn_json *app, int exec_id, const char *pod_name,
                                     const char *driver_pod_name, const char *driver_uid, kn_err *err);

#endif
