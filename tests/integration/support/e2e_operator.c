/* e2e_operator.c - see e2e_operator.h. */
#include "e2e_operator.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/operator/spark_operator.h"
#include "spark/sparkapp.h"

#define OPERATOR_USER "system:serviceaccount:spark-operator:spark-operator"

static bool has_name(const kn_json *items, const char *name)
{
    for (size_t i = 0; i < kn_json_len(items); i++) {
        const char *n = kn_json_str(kn_json_dig(kn_json_at(items, i), "metadata", "name", NULL));
        if (n != NULL && strcmp(n, name) == 0)
            return true;
    }
    return false;
}

static const kn_json *find_pod(const kn_json *items, const char *name)
{
    for (size_t i = 0; i < kn_json_len(items); i++) {
        const kn_json *p = kn_json_at(items, i);
        const char *n = kn_json_str(kn_json_dig(p, "metadata", "name", NULL));
        if (n != NULL && strcmp(n, name) == 0)
            return p;
    }
    return NULL;
}

/* POSTs pod; 409 AlreadyExists counts as done. Returns the HTTP status. */
static long create_pod(kn_e2e_operator *op, const kn_json *pod, const char *user)
{
    const char *ns = kn_json_str(kn_json_dig(pod, "metadata", "namespace", NULL));
    char url[512];
    snprintf(url, sizeof(url), "/api/v1/namespaces/%s/pods", ns != NULL ? ns : "default");
    kn_json *resp = NULL;
    long st = kn_e2e_call_json(op->env, "POST", url, pod, user, &resp);
    if (st != 201 && st != 409) {
        op->refused++;
        snprintf(op->last_error, sizeof(op->last_error), "HTTP %ld: %s", st,
                 kn_json_get_str(resp, "message") ? kn_json_get_str(resp, "message") : "");
    }
    kn_json_free(resp);
    return st;
}

/* The claims Spark's driver creates for an executor just created (sparkConf
 * claims with a class and a size), as the driver's service account. */
static void create_claims(kn_e2e_operator *op, const kn_json *app, int id, const kn_json *pod, const char *dname,
                          const char *duid, const char *user)
{
    kn_err err;
    const char *pname = kn_json_str(kn_json_dig(pod, "metadata", "name", NULL));
    const char *ns = kn_json_str(kn_json_dig(pod, "metadata", "namespace", NULL));
    kn_json *claims = kn_sparkapp_executor_claims(app, id, pname, dname, duid, &err);
    char url[512];
    snprintf(url, sizeof(url), "/api/v1/namespaces/%s/persistentvolumeclaims", ns != NULL ? ns : "default");
    for (size_t i = 0; i < kn_json_len(claims); i++) {
        kn_json *resp = NULL;
        long st = kn_e2e_call_json(op->env, "POST", url, kn_json_at(claims, i), user, &resp);
        if (st != 201 && st != 409) {
            op->refused++;
            snprintf(op->last_error, sizeof(op->last_error), "claim: HTTP %ld: %s", st,
                     kn_json_get_str(resp, "message") ? kn_json_get_str(resp, "message") : "");
        }
        kn_json_free(resp);
    }
    kn_json_free(claims);
}

/* As the operator records a submission: PUT .../status of the whole object
 * with status.applicationState SUBMITTED and the driver's pod name. */
static void mark_submitted(kn_e2e_operator *op, const kn_json *app, const char *driver)
{
    const char *ns = kn_json_str(kn_json_dig(app, "metadata", "namespace", NULL));
    const char *name = kn_json_str(kn_json_dig(app, "metadata", "name", NULL));
    kn_json *obj = kn_json_clone(app), *st = kn_json_new_object();
    kn_json *state = kn_json_new_object(), *info = kn_json_new_object();
    kn_json_set_str(state, "state", "SUBMITTED");
    kn_json_set_str(info, "podName", driver);
    /* Each set takes its value, also on failure; a failed step fails the PUT's set. */
    int rc = kn_json_set(st, "applicationState", state) | kn_json_set(st, "driverInfo", info) |
             kn_json_set(st, "submissionAttempts", kn_json_new_int(1));
    if (kn_json_set(obj, "status", st) == 0 && rc == 0) {
        char url[512];
        snprintf(url, sizeof(url), "/apis/sparkoperator.k8s.io/v1beta2/namespaces/%s/sparkapplications/%s/status",
                 ns, name);
        if (kn_e2e_call_json(op->env, "PUT", url, obj, OPERATOR_USER, NULL) != 200)
            op->refused++;
    }
    kn_json_free(obj);
}

static kn_json *list(kn_e2e *e, const char *url)
{
    kn_json *l = NULL;
    if (kn_e2e_call(e, "GET", url, NULL, NULL, &l) != 200) {
        kn_json_free(l);
        return NULL;
    }
    return l;
}

static void create_executors(kn_e2e_operator *op, const kn_json *app, const kn_json *driver, const kn_json *items)
{
    int n = 0;
    bool dynamic = false;
    kn_err err;
    if (kn_sparkapp_executor_count(app, &n, &dynamic, &err) != 0)
        return;
    const char *dname = kn_json_str(kn_json_dig(driver, "metadata", "name", NULL));
    const char *ns = kn_json_str(kn_json_dig(driver, "metadata", "namespace", NULL));
    kn_sparkapp_pod_opts opts = {.driver_uid = kn_json_str(kn_json_dig(driver, "metadata", "uid", NULL))};
    char user[256];
    /* The driver runs as spec.driver.serviceAccount (else "default"). */
    const char *sa = kn_json_str(kn_json_dig(driver, "spec", "serviceAccountName", NULL));
    snprintf(user, sizeof(user), "system:serviceaccount:%s:%s", ns, sa != NULL ? sa : "default");
    if (op->executor_limit > 0 && op->executor_limit < n)
        n = op->executor_limit;
    for (int id = 1; id <= n; id++) {
        kn_json *pod = kn_sparkapp_executor_pod(app, id, dname, &opts, &err);
        const char *pname = kn_json_str(kn_json_dig(pod, "metadata", "name", NULL));
        if (pod != NULL && pname != NULL && !has_name(items, pname) && create_pod(op, pod, user) == 201)
            create_claims(op, app, id, pod, dname, opts.driver_uid, user); /* after the pod, as Spark does */
        kn_json_free(pod);
    }
}

/* The operator's view of a submitted application whose driver pod is gone
 * (preempted, deleted): with restartPolicy Never it is FAILED and not
 * submitted again; the garbage collector deletes the pods the driver owned. */
static void driver_lost(kn_e2e_operator *op, const kn_json *app, const kn_json *items)
{
    const char *ns = kn_json_str(kn_json_dig(app, "metadata", "namespace", NULL));
    const char *name = kn_json_str(kn_json_dig(app, "metadata", "name", NULL));
    for (size_t i = 0; i < kn_json_len(items); i++) {
        const kn_json *p = kn_json_at(items, i);
        const char *role = kn_json_str(kn_json_dig(p, "metadata", "labels", "spark-role", NULL));
        const char *pname = kn_json_str(kn_json_dig(p, "metadata", "name", NULL));
        if (role == NULL || strcmp(role, "executor") != 0 || pname == NULL ||
            kn_json_dig(p, "metadata", "deletionTimestamp", NULL) != NULL)
            continue;
        char url[512];
        snprintf(url, sizeof(url), "/api/v1/namespaces/%s/pods/%s", ns, pname);
        kn_e2e_call(op->env, "DELETE", url, NULL, NULL, NULL);
    }
    kn_json *obj = kn_json_clone(app), *st = kn_json_new_object(), *state = kn_json_new_object();
    kn_json_set_str(state, "state", "FAILED");
    kn_json_set_str(state, "errorMessage", "driver pod not found");
    kn_json_set(st, "applicationState", state);
    if (kn_json_set(obj, "status", st) == 0) {
        char url[512];
        snprintf(url, sizeof(url), "/apis/sparkoperator.k8s.io/v1beta2/namespaces/%s/sparkapplications/%s/status",
                 ns, name);
        kn_e2e_call_json(op->env, "PUT", url, obj, OPERATOR_USER, NULL);
    }
    kn_json_free(obj);
}

static void reconcile(kn_e2e_operator *op, const kn_json *app)
{
    const char *ns = kn_json_str(kn_json_dig(app, "metadata", "namespace", NULL));
    const char *name = kn_json_str(kn_json_dig(app, "metadata", "name", NULL));
    kn_err err;
    kn_json *driver = kn_sparkapp_driver_pod(app, NULL, &err);
    if (driver == NULL || ns == NULL || name == NULL) {
        kn_json_free(driver);
        return;
    }
    char url[512];
    snprintf(url, sizeof(url), "/api/v1/namespaces/%s/pods?labelSelector=sparkoperator.k8s.io/app-name%%3D%s", ns,
             name);
    kn_json *pods = list(op->env, url);
    kn_json *items = kn_json_get(pods, "items");
    const char *dname = kn_json_str(kn_json_dig(driver, "metadata", "name", NULL));
    const kn_json *stored = pods != NULL ? find_pod(items, dname) : NULL;
    const char *state = kn_json_str(kn_json_dig(app, "status", "applicationState", "state", NULL));
    const char *restart = kn_json_str(kn_json_dig(app, "spec", "restartPolicy", "type", NULL));
    bool submitted = state != NULL && strcmp(state, "SUBMITTED") == 0;
    bool failed = state != NULL && strcmp(state, "FAILED") == 0;
    if (pods != NULL && stored == NULL && submitted && (restart == NULL || strcmp(restart, "Never") == 0)) {
        driver_lost(op, app, items);
    } else if (pods != NULL && stored == NULL && !failed && create_pod(op, driver, OPERATOR_USER) == 201) {
        mark_submitted(op, app, dname);
    }
    const char *node = kn_json_str(kn_json_dig(stored, "spec", "nodeName", NULL));
    if (stored != NULL && node != NULL && node[0] != '\0' && !op->hold_executors)
        create_executors(op, app, stored, items);
    kn_json_free(pods);
    kn_json_free(driver);
}

int kn_e2e_operator_step(kn_e2e_operator *op)
{
    kn_json *apps = list(op->env, "/apis/sparkoperator.k8s.io/v1beta2/sparkapplications");
    if (apps == NULL)
        return -1;
    kn_json *items = kn_json_get(apps, "items");
    for (size_t i = 0; i < kn_json_len(items); i++)
        reconcile(op, kn_json_at(items, i));
    kn_json_free(apps);
    return 0;
}
