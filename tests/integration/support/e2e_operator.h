/* e2e_operator.h - a stand-in for the Spark Operator (and for the Spark
 * driver's executor allocator) in end-to-end tests.
 *
 * One reconcile pass, run from the tests' polling loops (no thread): for every
 * SparkApplication in the API server, create its driver pod if absent (built
 * by kn_sparkapp_driver_pod, so labels, annotations, containers and
 * schedulerName are what the operator's spark-submit sends), as the operator's
 * service account; once the driver is bound (spec.nodeName set), create the
 * executor pods (kn_sparkapp_executor_pod, owned by the driver) as the
 * driver's service account, as Spark's ExecutorPodsAllocator does, each
 * followed by the claims the driver creates for it (sparkConf claims with a
 * class and a size, spark/volumes.h). A submitted application whose driver
 * pod is gone (restartPolicy Never) is marked FAILED and not submitted
 * again, and its executors are deleted (the garbage collector's part: they
 * are owned by the driver). Every pod goes through the API server's admission chain, so the real webhook sees it. */
#ifndef KN_E2E_OPERATOR_H
#define KN_E2E_OPERATOR_H

#include <stdbool.h>

#include "e2e_env.h"

typedef struct kn_e2e_operator {
    kn_e2e *env;
    bool hold_executors; /* the driver has not asked for executors yet */
    int executor_limit;  /* > 0: only executors 1..limit asked for so far */
    int refused;         /* pod creations the API server refused */
    char last_error[512];
} kn_e2e_operator;

/* 0 ok; -1 when the API server could not be read. */
int kn_e2e_operator_step(kn_e2e_operator *op);

#endif
