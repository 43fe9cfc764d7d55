/* sparkapp.c - SparkApplication roles, labels, executor count and reservation. */
#include "spark/sparkapp.h"
#include "spark/volumes.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spark/gang.h"

const kn_json *kn_sparkapp_role(const kn_json *app, kn_spark_role role)
{
    return kn_json_dig(app, "spec", kn_sparkapp_role_name(role), NULL);
}

const char *kn_sparkapp_role_name(kn_spark_role role)
{
    return role == KN_SPARK_DRIVER ? "driver" : "executor";
}

kn_json *kn_sparkapp_effective_labels(const kn_json *app, kn_spark_role role)
{
    kn_json *out = kn_json_new_object();
    const kn_json *srcs[2] = {kn_json_dig(app, "metadata", "labels", NULL),
                              kn_json_get(kn_sparkapp_role(app, role), "labels")};
    for (int s = 0; out != NULL && s < 2; s++) {
        for (size_t i = 0; i < kn_json_len(srcs[s]); i++) {
            if (kn_json_set(out, kn_json_key_at(srcs[s], i), kn_json_clone(kn_json_value_at(srcs[s], i))) != 0) {
                kn_json_free(out);
                return NULL;
            }
        }
    }
    return out;
}

const kn_json *kn_sparkapp_labels_view(const kn_json *app, kn_spark_role role, kn_json **copy)
{
    const kn_json *meta = kn_json_dig(app, "metadata", "labels", NULL),
                  *own = kn_json_get(kn_sparkapp_role(app, role), "labels");
    *copy = NULL;
    /* A source that is not an object but has items (an array) is left to
     * the merge, which refuses it as it always did. */
    if (kn_json_len(meta) == 0 && kn_json_len(own) > 0 && kn_json_is(own, KN_JSON_OBJECT))
        return own;
    if (kn_json_len(own) == 0 && kn_json_len(meta) > 0 && kn_json_is(meta, KN_JSON_OBJECT))
        return meta;
    return *copy = kn_sparkapp_effective_labels(app, role);
}

/* Trimmed, case-insensitive "true" (Scala's toBoolean after trim). */
static bool conf_true(const char *s)
{
    if (s == NULL)
        return false;
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    return n == 4 && strncasecmp(s, "true", 4) == 0;
}

/* A non-negative int from a spec field (JSON number) or, when absent, from a
 * sparkConf string. *found tells whether either was set. */
static int count_field(const kn_json *app, const char *const *spec_path, const char *field_name,
                       const char *conf_key, int *out, bool *found, kn_err *err)
{
    const kn_json *v = kn_json_dig(app, "spec", spec_path[0], spec_path[1], NULL);
    *found = false;
    *out = 0;
    if (v != NULL && !kn_json_is(v, KN_JSON_NULL)) {
        int64_t i;
        if (kn_json_int(v, &i) != 0 || i < 0 || i > KN_GANG_MAX_MEMBERS)
            return kn_err_set(err, "%s is %s, want a whole number from 0 to %d", field_name,
                              kn_json_is(v, KN_JSON_NUMBER) ? kn_json_number_text(v)
                                                            : kn_json_type_name(kn_json_typeof(v)),
                              KN_GANG_MAX_MEMBERS);
        *out = (int)i;
        *found = true;
        return 0;
    }
    const char *s = kn_json_str(kn_json_dig(app, "spec", "sparkConf", conf_key, NULL));
    if (s == NULL)
        return 0;
    char *end;
    long l = strtol(s, &end, 10);
    if (end == s || *end != '\0' || l < 0 || l > KN_GANG_MAX_MEMBERS || !isdigit((unsigned char)s[0]))
        return kn_err_set(err, "spec.sparkConf[%s] is \"%.40s\", want a whole number from 0 to %d", conf_key, s,
                          KN_GANG_MAX_MEMBERS);
    *out = (int)l;
    *found = true;
    return 0;
}

int kn_sparkapp_executor_count(const kn_json *app, int *n, bool *dynamic, kn_err *err)
{
    const kn_json *da = kn_json_dig(app, "spec", "dynamicAllocation", "enabled", NULL);
    *dynamic = kn_json_is(da, KN_JSON_BOOL)
                   ? kn_json_bool(da, false)
                   : conf_true(kn_json_str(
                         kn_json_dig(app, "spec", "sparkConf", "spark.dynamicAllocation.enabled", NULL)));
    int inst, init, min;
    bool has_inst, has_init, has_min;
    if (count_field(app, (const char *const[]){"executor", "instances"}, "spec.executor.instances",
                    "spark.executor.instances", &inst, &has_inst, err) != 0)
        return -1;
    if (!*dynamic) {
        *n = has_inst ? inst : 2;
        return 0;
    }
    if (count_field(app, (const char *const[]){"dynamicAllocation", "initialExecutors"},
                    "spec.dynamicAllocation.initialExecutors", "spark.dynamicAllocation.initialExecutors", &init,
                    &has_init, err) != 0 ||
        count_field(app, (const char *const[]){"dynamicAllocation", "minExecutors"},
                    "spec.dynamicAllocation.minExecutors", "spark.dynamicAllocation.minExecutors", &min, &has_min,
                    err) != 0)
        return -1;
    *n = inst;
    if (init > *n)
        *n = init;
    if (min > *n)
        *n = min;
    return 0;
}

int kn_sparkapp_pod_resources(const kn_json *app, kn_spark_role role, kn_resources *requests, kn_resources *limits,
                              kn_err *err)
{
    kn_spark_pod_size size;
    if (kn_spark_size_pod(app, role, &size, err) != 0)
        return -1;
    /* A pod slot is not a container resource: the scheduler counts one per pod. */
    size.requests.pods = 0;
    size.limits.pods = 0;
    if (requests != NULL)
        *requests = size.requests;
    if (limits != NULL)
        *limits = size.limits;
    return 0;
}

static bool same_json(const kn_json *a, const kn_json *b)
{
    if (kn_json_len(a) == 0 && kn_json_len(b) == 0)
        return true; /* absent, null, {} and [] all mean no constraint */
    return a != NULL && b != NULL && kn_json_equal(a, b);
}

/* A role's nodeSelector: spec.nodeSelector with spec.<role>.nodeSelector over it. */
static kn_json *role_node_selector(const kn_json *app, kn_spark_role role)
{
    kn_json *sel = kn_json_new_object();
    const kn_json *srcs[2] = {kn_json_dig(app, "spec", "nodeSelector", NULL),
                              kn_json_get(kn_sparkapp_role(app, role), "nodeSelector")};
    for (int s = 0; sel != NULL && s < 2; s++)
        for (size_t i = 0; i < kn_json_len(srcs[s]); i++)
            kn_json_set(sel, kn_json_key_at(srcs[s], i), kn_json_clone(kn_json_value_at(srcs[s], i)));
    return sel;
}

#define W(w, lit) kn_json_write_raw((w), lit, sizeof(lit) - 1)

/* A role's topology spread constraints: its Spark pod template's
 * (spec.<role>.template.spec; Spark keeps them on the pods it builds). */
const kn_json *kn_sparkapp_role_spread(const kn_json *app, kn_spark_role role)
{
    return kn_json_dig(kn_sparkapp_role(app, role), "template", "spec", "topologySpreadConstraints", NULL);
}

/* When executors are placed under other constraints than the driver, the
 * reservation carries the executors' own (the scheduler places the slots
 * with them instead of the driver's). */
static void write_placement(const kn_json *app, kn_json_writer *w)
{
    const kn_json *drv = kn_sparkapp_role(app, KN_SPARK_DRIVER), *exe = kn_sparkapp_role(app, KN_SPARK_EXECUTOR);
    const kn_json *etol = kn_json_get(exe, "tolerations"), *eaff = kn_json_get(exe, "affinity");
    const kn_json *esp = kn_sparkapp_role_spread(app, KN_SPARK_EXECUTOR);
    bool same_spread = same_json(kn_sparkapp_role_spread(app, KN_SPARK_DRIVER), esp);
    /* No nodeSelector anywhere (most apps): both roles' are {}, nothing to
     * merge and compare. */
    bool no_selectors = kn_json_len(kn_json_dig(app, "spec", "nodeSelector", NULL)) == 0 &&
                        kn_json_len(kn_json_get(drv, "nodeSelector")) == 0 &&
                        kn_json_len(kn_json_get(exe, "nodeSelector")) == 0;
    if (no_selectors && same_json(kn_json_get(drv, "tolerations"), etol) &&
        same_json(kn_json_get(drv, "affinity"), eaff) && same_spread)
        return;
    kn_json *dsel = role_node_selector(app, KN_SPARK_DRIVER), *esel = role_node_selector(app, KN_SPARK_EXECUTOR);
    if (!same_json(dsel, esel) || !same_json(kn_json_get(drv, "tolerations"), etol) ||
        !same_json(kn_json_get(drv, "affinity"), eaff) || !same_spread) {
        W(w, ",\"nodeSelector\":");
        kn_json_write_value(w, esel);
        if (kn_json_len(etol) > 0) {
            W(w, ",\"tolerations\":");
            kn_json_write_value(w, etol);
        }
        if (kn_json_len(eaff) > 0) {
            W(w, ",\"affinity\":");
            kn_json_write_value(w, eaff);
        }
        if (kn_json_len(esp) > 0) {
            W(w, ",\"topologySpreadConstraints\":");
            kn_json_write_value(w, esp);
        }
    }
    kn_json_free(dsel);
    kn_json_free(esel);
}

/* The executors' labels when they differ from the driver's: the slots held
 * for them carry them (other pods' affinity and spreading count the slots
 * as the executors they stand for). */
static void write_labels(const kn_json *app, kn_json_writer *w)
{
    kn_json *dcopy = NULL, *ecopy = NULL;
    const kn_json *dl = kn_sparkapp_labels_view(app, KN_SPARK_DRIVER, &dcopy);
    const kn_json *el = kn_sparkapp_labels_view(app, KN_SPARK_EXECUTOR, &ecopy);
    if (!same_json(dl, el)) {
        W(w, ",\"labels\":");
        if (kn_json_len(el) > 0)
            kn_json_write_value(w, el);
        else
            W(w, "{}");
    }
    kn_json_free(dcopy);
    kn_json_free(ecopy);
}

char *kn_sparkapp_reservation(const kn_json *app, kn_err *err)
{
    int n;
    bool dyn;
    kn_resources requests;
    if (kn_sparkapp_executor_count(app, &n, &dyn, err) != 0 ||
        kn_sparkapp_pod_resources(app, KN_SPARK_EXECUTOR, &requests, NULL, err) != 0)
        return NULL;
    return kn_sparkapp_reservation_of(app, n, &requests, err);
}

/* The classes of the claims the driver creates for each executor: where an
 * executor can go, its slot must be (a WaitForFirstConsumer class's
 * allowedTopologies). Absent when there are none. */
static void write_classes(const kn_json *app, kn_json_writer *w)
{
    kn_spark_volume v[KN_SPARK_MAX_VOLUMES];
    int n = kn_spark_conf_volumes(app, KN_SPARK_EXECUTOR, v, KN_SPARK_MAX_VOLUMES), k = 0;
    for (int i = 0; i < n; i++) {
        if (!kn_spark_volume_creates_claim(&v[i]))
            continue;
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = kn_spark_volume_creates_claim(&v[j]) && strcmp(v[j].storage_class, v[i].storage_class) == 0;
        if (seen)
            continue;
        if (k++)
            W(w, ",");
        else
            W(w, ",\"storageClasses\":[");
        kn_json_write_string(w, v[i].storage_class, strlen(v[i].storage_class));
    }
    if (k)
        W(w, "]");
}

char *kn_sparkapp_reservation_of(const kn_json *app, int n, const kn_resources *requests, kn_err *err)
{
    kn_numa_spec numa;
    if (kn_numa_from_annotations(kn_json_get(kn_sparkapp_role(app, KN_SPARK_EXECUTOR), "annotations"), &numa,
                                 err) != 0)
        return kn_err_prefix(err, "spec.executor.annotations"), NULL;
    /* Written straight out, as kn_json_dump of {count, requests, numa,
     * placement} would give it, without building that tree. */
    kn_json_writer w = KN_BUF_INIT;
    char num[24];
    int nn = snprintf(num, sizeof(num), "%d", n);
    W(&w, "{\"count\":");
    kn_json_write_raw(&w, num, (size_t)nn);
    W(&w, ",\"requests\":");
    kn_res_write_json(requests, &w);
    if (numa.policy != KN_NUMA_NONE) {
        char res[KN_NUMA_MAX_RESOURCES * KN_RESOURCE_NAME_MAX];
        kn_numa_resources_str(&numa, res, sizeof(res));
        const char *policy = kn_numa_policy_name(numa.policy);
        W(&w, ",\"numa\":{\"policy\":");
        kn_json_write_string(&w, policy, strlen(policy));
        W(&w, ",\"resources\":");
        kn_json_write_string(&w, res, strlen(res));
        W(&w, "}");
    }
    write_placement(app, &w);
    write_labels(app, &w);
    write_classes(app, &w);
    W(&w, "}");
    char *text = kn_buf_finish(&w, NULL);
    if (text == NULL)
        kn_err_set(err, "out of memory");
    return text;
}

static int reservation_numa(const kn_json *numa, kn_executor_reservation *out, kn_err *err)
{
    if (numa == NULL)
        return 0;
    const char *policy = kn_json_get_str(numa, "policy");
    const kn_json *res = kn_json_get(numa, "resources");
    if (!kn_json_is(numa, KN_JSON_OBJECT) || policy == NULL || (res != NULL && !kn_json_is(res, KN_JSON_STRING)))
        return kn_err_set(err, "numa: want {\"policy\": \"...\", \"resources\": \"cpu,memory\"}");
    /* Same rules as the pod annotations, so both agree on what is legal. */
    kn_json *ann = kn_json_new_object();
    if (ann == NULL)
        return kn_err_set(err, "out of memory");
    kn_json_set_str(ann, KN_NUMA_POLICY_ANNOTATION, policy);
    if (res != NULL)
        kn_json_set_str(ann, KN_NUMA_RESOURCES_ANNOTATION, kn_json_str(res));
    int rc = kn_numa_from_annotations(ann, &out->numa, err);
    kn_json_free(ann);
    return rc != 0 ? kn_err_prefix(err, "numa") : 0;
}

/* Absent, or an array of strings. */
static bool string_array(const kn_json *a)
{
    if (a == NULL)
        return true;
    if (!kn_json_is(a, KN_JSON_ARRAY))
        return false;
    for (size_t i = 0; i < kn_json_len(a); i++)
        if (!kn_json_is(kn_json_at(a, i), KN_JSON_STRING))
            return false;
    return true;
}

/* The members the slots' placement reads besides count, requests and numa. */
static int reservation_extras(const kn_json *r, kn_err *err)
{
    const kn_json *labels = kn_json_get(r, "labels"), *tsc = kn_json_get(r, "topologySpreadConstraints");
    if (labels != NULL && !kn_json_is(labels, KN_JSON_OBJECT))
        return kn_err_set(err, "labels: want an object of label values");
    for (size_t i = 0; i < kn_json_len(labels); i++)
        if (!kn_json_is(kn_json_value_at(labels, i), KN_JSON_STRING))
            return kn_err_set(err, "labels.%s: want a string", kn_json_key_at(labels, i));
    if (tsc != NULL && !kn_json_is(tsc, KN_JSON_ARRAY))
        return kn_err_set(err, "topologySpreadConstraints: want an array");
    return 0;
}

int kn_executor_reservation_parse(const char *text, kn_executor_reservation *out, kn_err *err)
{
    memset(out, 0, sizeof(*out));
    kn_json *r = kn_json_parse(text, strlen(text), &(kn_json_limits){.max_bytes = 64 * 1024, .max_depth = 8}, err);
    if (r == NULL)
        return -1;
    int rc = -1;
    int64_t count;
    const kn_json *req = kn_json_get(r, "requests");
    if (!kn_json_is(r, KN_JSON_OBJECT))
        kn_err_set(err, "want a JSON object {\"count\": N, \"requests\": {...}}");
    else if (kn_json_int(kn_json_get(r, "count"), &count) != 0 || count < 0 || count > KN_GANG_MAX_MEMBERS)
        kn_err_set(err, "count: want a whole number from 0 to %d", KN_GANG_MAX_MEMBERS);
    else if (!kn_json_is(req, KN_JSON_OBJECT))
        kn_err_set(err, "requests: want a ResourceList object such as {\"cpu\": \"1\", \"memory\": \"896Mi\"}");
    else if (kn_res_from_json(req, &out->requests, err) != 0)
        kn_err_prefix(err, "requests");
    else if (!string_array(kn_json_get(r, "storageClasses")))
        kn_err_set(err, "storageClasses: want an array of StorageClass names");
    else if (reservation_numa(kn_json_get(r, "numa"), out, err) == 0 && reservation_extras(r, err) == 0) {
        out->count = (int)count;
        rc = 0;
    }
    kn_json_free(r);
    return rc;
}
