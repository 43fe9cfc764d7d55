#include "kube/pod.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"
#include "base/quote.h"
#include "kube/timestamp.h"

#define PATH_MAX_LEN 160

static int type_error(kn_err *err, const char *path, const kn_json *v, const char *want)
{
    const char *t = kn_json_type_name(kn_json_typeof(v));
    return kn_err_set(err, "%s: is %s %s, want %s", path, kn_article(t), t, want);
}

/* obj[key] when it is of type t; NULL when absent or JSON null; error otherwise. */
static int get_typed(const kn_json *obj, const char *key, kn_json_type t, const char *path, const kn_json **out,
                     kn_err *err)
{
    const kn_json *v = kn_json_get(obj, key);
    *out = NULL;
    if (v == NULL || kn_json_is(v, KN_JSON_NULL))
        return 0;
    if (!kn_json_is(v, t)) {
        char full[PATH_MAX_LEN];
        snprintf(full, sizeof(full), "%s%s%s", path, *path ? "." : "", key);
        char want[32];
        snprintf(want, sizeof(want), "%s %s", kn_article(kn_json_type_name(t)), kn_json_type_name(t));
        return type_error(err, full, v, want);
    }
    *out = v;
    return 0;
}

/* A malloc'd copy of obj[key] (a string), or of dflt when absent (NULL stays NULL). */
static int dup_str(const kn_json *obj, const char *key, const char *path, const char *dflt, char **out,
                   kn_err *err)
{
    const kn_json *v;
    *out = NULL;
    if (get_typed(obj, key, KN_JSON_STRING, path, &v, err) < 0)
        return -1;
    const char *s = v ? kn_json_str(v) : dflt;
    if (s == NULL)
        return 0;
    *out = strdup(s);
    return *out ? 0 : kn_err_set(err, "out of memory");
}

/* Like dup_str, but an absent or empty string gives NULL. */
static int dup_nonempty(const kn_json *obj, const char *key, const char *path, char **out, kn_err *err)
{
    if (dup_str(obj, key, path, NULL, out, err) < 0)
        return -1;
    if (*out != NULL && (*out)[0] == '\0') {
        free(*out);
        *out = NULL;
    }
    return 0;
}

/* A clone of an object whose values must all be strings (labels, annotations,
 * nodeSelector); an empty object when absent and `always`, else NULL. */
static int clone_string_map(const kn_json *obj, const char *key, const char *path, bool always, kn_json **out,
                            kn_err *err)
{
    const kn_json *m;
    *out = NULL;
    if (get_typed(obj, key, KN_JSON_OBJECT, path, &m, err) < 0)
        return -1;
    for (size_t i = 0; i < kn_json_len(m); i++) {
        if (!kn_json_is(kn_json_value_at(m, i), KN_JSON_STRING)) {
            char full[PATH_MAX_LEN];
            snprintf(full, sizeof(full), "%s.%s.%s", path, key, kn_json_key_at(m, i));
            return type_error(err, full, kn_json_value_at(m, i), "a string");
        }
    }
    if (m == NULL && !always)
        return 0;
    *out = m ? kn_json_clone(m) : kn_json_new_object();
    return *out ? 0 : kn_err_set(err, "out of memory");
}

/* Parses one ResourceList (requests, limits, overhead) at path into out. */
static int resource_list(const kn_json *list, const char *path, kn_resources *out, kn_err *err)
{
    kn_res_zero(out);
    if (list == NULL)
        return 0;
    for (size_t i = 0; i < kn_json_len(list); i++) {
        const kn_json *v = kn_json_value_at(list, i);
        if (!kn_json_is(v, KN_JSON_STRING) && !kn_json_is(v, KN_JSON_NUMBER)) {
            char full[PATH_MAX_LEN];
            snprintf(full, sizeof(full), "%s.%s", path, kn_json_key_at(list, i));
            return type_error(err, full, v, "a quantity such as \"500m\" or \"1Gi\"");
        }
    }
    if (kn_res_from_json(list, out, err) == 0)
        return 0;
    if (err != NULL) {
        /* kn_res_from_json names the resource ("memory: ..."): complete the path. */
        bool named = false;
        for (size_t i = 0; i < kn_json_len(list) && !named; i++) {
            size_t n = strlen(kn_json_key_at(list, i));
            named = strncmp(err->msg, kn_json_key_at(list, i), n) == 0 && err->msg[n] == ':';
        }
        char old[KN_ERR_MAX];
        memcpy(old, err->msg, sizeof(old));
        kn_err_set(err, "%s%s%s", path, named ? "." : ": ", old);
    }
    return -1;
}

/* path + suffix into buf (cut to cap): a field's path for error messages. */
static const char *path_join(char *buf, size_t cap, const char *path, const char *suffix)
{
    snprintf(buf, cap, "%s%s", path, suffix);
    return buf;
}

/* A container's requests and limits. Resources given only as limits are
 * requested at the limit, as the API server's defaulting (SetDefaults_Pod) does. */
static int container_resources(const kn_json *c, const char *path, kn_resources *req, kn_resources *lim,
                               kn_err *err)
{
    char p[PATH_MAX_LEN];
    const kn_json *res, *rq, *lm;
    path_join(p, sizeof(p), path, ".resources");
    if (get_typed(c, "resources", KN_JSON_OBJECT, path, &res, err) < 0 ||
        get_typed(res, "requests", KN_JSON_OBJECT, p, &rq, err) < 0 ||
        get_typed(res, "limits", KN_JSON_OBJECT, p, &lm, err) < 0)
        return -1;
    if (resource_list(rq, path_join(p, sizeof(p), path, ".resources.requests"), req, err) < 0)
        return -1;
    if (resource_list(lm, path_join(p, sizeof(p), path, ".resources.limits"), lim, err) < 0)
        return -1;
    for (size_t i = 0; i < kn_json_len(lm); i++) {
        const char *name = kn_json_key_at(lm, i);
        if (kn_json_get(rq, name) == NULL && kn_res_set(req, name, kn_res_get(lim, name), err) < 0)
            return kn_err_prefix(err, "%s.resources", path);
    }
    return 0;
}

/* The i-th element of spec.<key> as an object, with its path. */
static int element(const kn_json *arr, size_t i, const char *key, char *path, size_t cap, const kn_json **out,
                   kn_err *err)
{
    *out = kn_json_at(arr, i);
    snprintf(path, cap, "spec.%s[%zu]", key, i);
    if (!kn_json_is(*out, KN_JSON_OBJECT))
        return type_error(err, path, *out, "an object");
    return 0;
}

/* sum += spec.containers' requests; limits = sum of their limits. */
static int app_containers(const kn_json *spec, kn_resources *sum, kn_resources *limits, kn_err *err)
{
    const kn_json *arr, *c;
    if (get_typed(spec, "containers", KN_JSON_ARRAY, "spec", &arr, err) < 0)
        return -1;
    for (size_t i = 0; i < kn_json_len(arr); i++) {
        char path[PATH_MAX_LEN];
        kn_resources req, lim;
        if (element(arr, i, "containers", path, sizeof(path), &c, err) < 0 ||
            container_resources(c, path, &req, &lim, err) < 0)
            return -1;
        if (kn_res_add(sum, &req, err) < 0 || kn_res_add(limits, &lim, err) < 0)
            return kn_err_prefix(err, "%s", path);
    }
    return 0;
}

/* Init containers as PodRequests treats them: restartable ones ("sidecars",
 * restartPolicy Always) run beside the app and add to sum; each init container
 * runs beside the sidecars started before it, and the largest such moment is
 * returned in init_max. */
static int init_containers(const kn_json *spec, kn_resources *sum, kn_resources *init_max, kn_err *err)
{
    const kn_json *arr, *c, *policy;
    kn_resources sidecars;
    kn_res_zero(&sidecars);
    kn_res_zero(init_max);
    if (get_typed(spec, "initContainers", KN_JSON_ARRAY, "spec", &arr, err) < 0)
        return -1;
    for (size_t i = 0; i < kn_json_len(arr); i++) {
        char path[PATH_MAX_LEN];
        kn_resources req, lim;
        if (element(arr, i, "initContainers", path, sizeof(path), &c, err) < 0 ||
            get_typed(c, "restartPolicy", KN_JSON_STRING, path, &policy, err) < 0 ||
            container_resources(c, path, &req, &lim, err) < 0)
            return -1;
        bool sidecar = policy != NULL && strcmp(kn_json_str(policy), "Always") == 0;
        if (sidecar && (kn_res_add(sum, &req, err) < 0 || kn_res_add(&sidecars, &req, err) < 0))
            return kn_err_prefix(err, "%s", path);
        kn_resources moment = sidecars;
        if (!sidecar && kn_res_add(&moment, &req, err) < 0)
            return kn_err_prefix(err, "%s", path);
        if (kn_res_max(init_max, &moment, err) < 0)
            return kn_err_prefix(err, "%s", path);
    }
    return 0;
}

/* Pod-level requests (spec.resources, the PodLevelResources feature) replace
 * the containers' aggregate for the resources supported there: cpu and memory. */
static int pod_level_requests(const kn_json *spec, kn_resources *requests, kn_err *err)
{
    static const char *const supported[] = {"cpu", "memory"};
    const kn_json *res, *rq;
    kn_resources pod;
    if (get_typed(spec, "resources", KN_JSON_OBJECT, "spec", &res, err) < 0 ||
        get_typed(res, "requests", KN_JSON_OBJECT, "spec.resources", &rq, err) < 0 ||
        resource_list(rq, "spec.resources.requests", &pod, err) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(supported) / sizeof(supported[0]); i++) {
        if (kn_json_get(rq, supported[i]) != NULL &&
            kn_res_set(requests, supported[i], kn_res_get(&pod, supported[i]), err) < 0)
            return -1;
    }
    return 0;
}

static int pod_resources(const kn_json *spec, kn_pod *out, kn_err *err)
{
    kn_resources init_max, overhead;
    const kn_json *oh;
    kn_res_zero(&out->requests);
    kn_res_zero(&out->limits);
    if (app_containers(spec, &out->requests, &out->limits, err) < 0 ||
        init_containers(spec, &out->requests, &init_max, err) < 0)
        return -1;
    if (kn_res_max(&out->requests, &init_max, err) < 0)
        return kn_err_prefix(err, "spec.initContainers");
    if (pod_level_requests(spec, &out->requests, err) < 0)
        return -1;
    if (get_typed(spec, "overhead", KN_JSON_OBJECT, "spec", &oh, err) < 0 ||
        resource_list(oh, "spec.overhead", &overhead, err) < 0)
        return -1;
    if (kn_res_add(&out->requests, &overhead, err) < 0)
        return kn_err_prefix(err, "spec.overhead");
    out->requests.pods = 1;
    return 0;
}

static int tolerations(const kn_json *spec, kn_pod *out, kn_err *err)
{
    const kn_json *arr, *t;
    if (get_typed(spec, "tolerations", KN_JSON_ARRAY, "spec", &arr, err) < 0)
        return -1;
    size_t n = kn_json_len(arr);
    if (n == 0)
        return 0;
    out->tolerations = calloc(n, sizeof(*out->tolerations));
    if (out->tolerations == NULL)
        return kn_err_set(err, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX_LEN];
        kn_toleration *tol = &out->tolerations[i];
        out->n_tolerations = (int)i + 1; /* so kn_pod_free frees what was set */
        if (element(arr, i, "tolerations", path, sizeof(path), &t, err) < 0 ||
            dup_nonempty(t, "key", path, &tol->key, err) < 0 ||
            dup_nonempty(t, "operator", path, &tol->op, err) < 0 ||
            dup_nonempty(t, "value", path, &tol->value, err) < 0 ||
            dup_nonempty(t, "effect", path, &tol->effect, err) < 0)
            return -1;
        if (tol->op == NULL && (tol->op = strdup("Equal")) == NULL)
            return kn_err_set(err, "out of memory");
    }
    return 0;
}

/* The ownerReference with controller: true, if any. */
static int controller_owner(const kn_json *meta, kn_pod *out, kn_err *err)
{
    const kn_json *arr;
    if (get_typed(meta, "ownerReferences", KN_JSON_ARRAY, "metadata", &arr, err) < 0)
        return -1;
    for (size_t i = 0; i < kn_json_len(arr); i++) {
        char path[PATH_MAX_LEN];
        const kn_json *ref = kn_json_at(arr, i), *ctl;
        snprintf(path, sizeof(path), "metadata.ownerReferences[%zu]", i);
        if (!kn_json_is(ref, KN_JSON_OBJECT))
            return type_error(err, path, ref, "an object");
        if (get_typed(ref, "controller", KN_JSON_BOOL, path, &ctl, err) < 0)
            return -1;
        if (!kn_json_bool(ctl, false))
            continue;
        return (dup_str(ref, "kind", path, NULL, &out->owner_kind, err) < 0 ||
                dup_str(ref, "name", path, NULL, &out->owner_name, err) < 0 ||
                dup_str(ref, "uid", path, NULL, &out->owner_uid, err) < 0)
                   ? -1
                   : 0;
    }
    return 0;
}

static int metadata(const kn_json *meta, kn_pod *out, kn_err *err)
{
    if (dup_str(meta, "namespace", "metadata", "", &out->ns, err) < 0 ||
        dup_str(meta, "name", "metadata", "", &out->name, err) < 0 ||
        dup_str(meta, "uid", "metadata", "", &out->uid, err) < 0 ||
        dup_str(meta, "resourceVersion", "metadata", "", &out->resource_version, err) < 0 ||
        dup_str(meta, "creationTimestamp", "metadata", "", &out->creation_timestamp, err) < 0 ||
        clone_string_map(meta, "labels", "metadata", true, &out->labels, err) < 0 ||
        clone_string_map(meta, "annotations", "metadata", true, &out->annotations, err) < 0 ||
        controller_owner(meta, out, err) < 0)
        return -1;
    const kn_json *del = kn_json_get(meta, "deletionTimestamp");
    out->terminating = del != NULL && !kn_json_is(del, KN_JSON_NULL);
    return 0;
}

static int priority(const kn_json *spec, kn_pod *out, kn_err *err)
{
    const kn_json *v = kn_json_get(spec, "priority");
    int64_t p = 0;
    if (v == NULL || kn_json_is(v, KN_JSON_NULL))
        return 0;
    if (kn_json_int(v, &p) < 0 || p < INT32_MIN || p > INT32_MAX)
        return type_error(err, "spec.priority", v, "a 32-bit integer");
    out->priority = (int32_t)p;
    return 0;
}

/* A string member copied into a fixed field; an absent or empty one is dflt. */
static int fixed_str(const kn_json *obj, const char *key, const char *path, const char *dflt, char *out,
                     size_t cap, kn_err *err)
{
    const kn_json *v;
    if (get_typed(obj, key, KN_JSON_STRING, path, &v, err) < 0)
        return -1;
    const char *s = v && *kn_json_str(v) ? kn_json_str(v) : dflt;
    if (strlen(s) >= cap)
        return kn_err_set(err, "%s.%s: \"%.40s...\" is longer than %zu bytes", path, key, s, cap - 1);
    strcpy(out, s);
    return 0;
}

/* An integer member in lo..hi, 0 when absent. */
static int int_member(const kn_json *obj, const char *key, const char *path, int64_t lo, int64_t hi, int64_t *out,
                      kn_err *err)
{
    const kn_json *v = kn_json_get(obj, key);
    *out = 0;
    if (v == NULL || kn_json_is(v, KN_JSON_NULL))
        return 0;
    if (kn_json_int(v, out) < 0 || *out < lo || *out > hi) {
        char full[PATH_MAX_LEN], want[48];
        snprintf(full, sizeof(full), "%s.%s", path, key);
        snprintf(want, sizeof(want), "an integer in %lld..%lld", (long long)lo, (long long)hi);
        return type_error(err, full, v, want);
    }
    return 0;
}

/* The hostPort entries of one container's ports (see pod.h). */
static int container_host_ports(const kn_json *c, const char *path, bool host_network, kn_pod *out, size_t *cap,
                                kn_err *err)
{
    const kn_json *arr;
    if (get_typed(c, "ports", KN_JSON_ARRAY, path, &arr, err) < 0)
        return -1;
    for (size_t i = 0; i < kn_json_len(arr); i++) {
        char p[PATH_MAX_LEN];
        const kn_json *port = kn_json_at(arr, i);
        int64_t host, container;
        if (snprintf(p, sizeof(p), "%s.ports[%zu]", path, i) >= (int)sizeof(p))
            memcpy(p + sizeof(p) - 4, "...", 4); /* cut short, and says so */
        if (!kn_json_is(port, KN_JSON_OBJECT))
            return type_error(err, p, port, "an object");
        if (int_member(port, "hostPort", p, 0, 65535, &host, err) < 0 ||
            int_member(port, "containerPort", p, 0, 65535, &container, err) < 0)
            return -1;
        if (host == 0 && host_network) /* SetDefaults_Pod: hostNetwork ports are host ports */
            host = container;
        if (host == 0)
            continue;
        kn_host_port hp = {.port = (int32_t)host};
        if (fixed_str(port, "protocol", p, "TCP", hp.protocol, sizeof(hp.protocol), err) < 0 ||
            fixed_str(port, "hostIP", p, "0.0.0.0", hp.ip, sizeof(hp.ip), err) < 0)
            return -1;
        if (kn_grow((void **)&out->host_ports, cap, (size_t)out->n_host_ports + 1, sizeof(hp)) != 0)
            return kn_err_set(err, "out of memory");
        out->host_ports[out->n_host_ports++] = hp;
    }
    return 0;
}

/* GetHostPorts' order: the sidecar init containers, then the containers. */
static int host_ports(const kn_json *spec, kn_pod *out, kn_err *err)
{
    static const char *const lists[] = {"initContainers", "containers"};
    bool host_network = kn_json_bool(kn_json_get(spec, "hostNetwork"), false);
    size_t cap = 0;
    for (int l = 0; l < 2; l++) {
        const kn_json *arr, *c, *policy;
        if (get_typed(spec, lists[l], KN_JSON_ARRAY, "spec", &arr, err) < 0)
            return -1;
        for (size_t i = 0; i < kn_json_len(arr); i++) {
            char path[PATH_MAX_LEN];
            if (element(arr, i, lists[l], path, sizeof(path), &c, err) < 0 ||
                get_typed(c, "restartPolicy", KN_JSON_STRING, path, &policy, err) < 0)
                return -1;
            if (l == 0 && (policy == NULL || strcmp(kn_json_str(policy), "Always") != 0))
                continue; /* a regular init container has exited before the pod runs */
            if (container_host_ports(c, path, host_network, out, &cap, err) < 0)
                return -1;
        }
    }
    return 0;
}

/* *out = a clone of v (NULL stays NULL). */
static int clone_opt(const kn_json *v, kn_json **out, kn_err *err)
{
    if (v != NULL && (*out = kn_json_clone(v)) == NULL)
        return kn_err_set(err, "out of memory");
    return 0;
}

/* spec.preemptionPolicy and spec.terminationGracePeriodSeconds: what
 * preemption reads of a pod. */
static int preemption_fields(const kn_json *spec, kn_pod *out, kn_err *err)
{
    const kn_json *pol, *grace;
    if (get_typed(spec, "preemptionPolicy", KN_JSON_STRING, "spec", &pol, err) < 0)
        return -1;
    out->preempt_never = pol != NULL && strcmp(kn_json_str(pol), "Never") == 0;
    out->grace_s = -1;
    grace = kn_json_get(spec, "terminationGracePeriodSeconds");
    if (grace == NULL || kn_json_is(grace, KN_JSON_NULL))
        return 0;
    if (kn_json_int(grace, &out->grace_s) < 0)
        return type_error(err, "spec.terminationGracePeriodSeconds", grace, "an integer");
    return 0;
}

const char *kn_pod_ephemeral_claim(const char *pod, const char *volume, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s-%s", pod, volume);
    return buf;
}

/* The claim behind volume v (at path), if any: 1 with *src set to its
 * persistentVolumeClaim or ephemeral member, 0 for any other volume. */
static int claim_source(const kn_json *v, const char *path, const kn_json **src, bool *ephemeral, kn_err *err)
{
    const kn_json *pvc, *eph;
    if (get_typed(v, "persistentVolumeClaim", KN_JSON_OBJECT, path, &pvc, err) < 0 ||
        get_typed(v, "ephemeral", KN_JSON_OBJECT, path, &eph, err) < 0)
        return -1;
    *src = pvc ? pvc : eph;
    *ephemeral = pvc == NULL;
    return *src != NULL;
}

/* spec.volumes backed by claims (metadata.name read already: an ephemeral
 * volume's claim is named after the pod). */
static int claims(const kn_json *spec, kn_pod *out, kn_err *err)
{
    const kn_json *arr, *v, *src;
    char path[PATH_MAX_LEN];
    bool eph;
    if (get_typed(spec, "volumes", KN_JSON_ARRAY, "spec", &arr, err) < 0)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < kn_json_len(arr); i++) {
        int rc;
        if (element(arr, i, "volumes", path, sizeof(path), &v, err) < 0 ||
            (rc = claim_source(v, path, &src, &eph, err)) < 0)
            return -1;
        n += (size_t)rc;
    }
    if (n == 0)
        return 0;
    if ((out->claims = calloc(n, sizeof(*out->claims))) == NULL)
        return kn_err_set(err, "out of memory");
    for (size_t i = 0; i < kn_json_len(arr); i++) {
        element(arr, i, "volumes", path, sizeof(path), &v, err);
        if (claim_source(v, path, &src, &eph, err) == 0)
            continue;
        kn_pod_claim *c = &out->claims[out->n_claims++]; /* counted, so kn_pod_free frees it */
        c->ephemeral = eph;
        if (dup_str(v, "name", path, "", &c->volume, err) < 0)
            return -1;
        if (!eph) {
            char sub[PATH_MAX_LEN + 32];
            snprintf(sub, sizeof(sub), "%s.persistentVolumeClaim", path);
            if (dup_str(src, "claimName", sub, "", &c->claim, err) < 0)
                return -1;
            continue;
        }
        const char *pod = out->name ? out->name : "";
        size_t len = strlen(pod) + strlen(c->volume) + 2;
        if ((c->claim = malloc(len)) == NULL)
            return kn_err_set(err, "out of memory");
        kn_pod_ephemeral_claim(pod, c->volume, c->claim, len);
    }
    return 0;
}

/* spec.affinity's parts (node affinity, required and preferred; pod affinity
 * and anti-affinity) and the topology spread constraints. */
static int affinity(const kn_json *spec, kn_pod *out, kn_err *err)
{
    const kn_json *aff, *node, *req, *pref, *pa, *paa, *tsc;
    if (get_typed(spec, "affinity", KN_JSON_OBJECT, "spec", &aff, err) < 0 ||
        get_typed(aff, "nodeAffinity", KN_JSON_OBJECT, "spec.affinity", &node, err) < 0 ||
        get_typed(node, "requiredDuringSchedulingIgnoredDuringExecution", KN_JSON_OBJECT,
                  "spec.affinity.nodeAffinity", &req, err) < 0 ||
        get_typed(node, "preferredDuringSchedulingIgnoredDuringExecution", KN_JSON_ARRAY,
                  "spec.affinity.nodeAffinity", &pref, err) < 0 ||
        get_typed(aff, "podAffinity", KN_JSON_OBJECT, "spec.affinity", &pa, err) < 0 ||
        get_typed(aff, "podAntiAffinity", KN_JSON_OBJECT, "spec.affinity", &paa, err) < 0 ||
        get_typed(spec, "topologySpreadConstraints", KN_JSON_ARRAY, "spec", &tsc, err) < 0)
        return -1;
    return (clone_opt(req, &out->required_affinity, err) < 0 ||
            clone_opt(kn_json_len(pref) > 0 ? pref : NULL, &out->preferred_affinity, err) < 0 ||
            clone_opt(pa, &out->pod_affinity, err) < 0 || clone_opt(paa, &out->pod_anti_affinity, err) < 0 ||
            clone_opt(kn_json_len(tsc) > 0 ? tsc : NULL, &out->spread, err) < 0)
               ? -1
               : 0;
}

static int spec_fields(const kn_json *spec, kn_pod *out, kn_err *err)
{
    const kn_json *gates, *volumes;
    if (dup_str(spec, "schedulerName", "spec", "", &out->scheduler_name, err) < 0 ||
        dup_nonempty(spec, "nodeName", "spec", &out->node_name, err) < 0 || priority(spec, out, err) < 0 ||
        preemption_fields(spec, out, err) < 0 ||
        clone_string_map(spec, "nodeSelector", "spec", false, &out->node_selector, err) < 0 ||
        tolerations(spec, out, err) < 0 || affinity(spec, out, err) < 0 || host_ports(spec, out, err) < 0 ||
        claims(spec, out, err) < 0 || get_typed(spec, "schedulingGates", KN_JSON_ARRAY, "spec", &gates, err) < 0 ||
        get_typed(spec, "volumes", KN_JSON_ARRAY, "spec", &volumes, err) < 0)
        return -1;
    out->gated = kn_json_len(gates) > 0;
    out->fields = kn_pod_spec_fields(spec);
    return pod_resources(spec, out, err);
}

int kn_pod_from_json(const kn_json *pod, kn_pod *out, kn_err *err)
{
    memset(out, 0, sizeof(*out));
    const kn_json *meta, *spec, *status;
    if (!kn_json_is(pod, KN_JSON_OBJECT))
        return type_error(err, "pod", pod, "an object");
    if (get_typed(pod, "metadata", KN_JSON_OBJECT, "", &meta, err) < 0 ||
        get_typed(pod, "spec", KN_JSON_OBJECT, "", &spec, err) < 0 ||
        get_typed(pod, "status", KN_JSON_OBJECT, "", &status, err) < 0 || metadata(meta, out, err) < 0 ||
        spec_fields(spec, out, err) < 0 || dup_str(status, "phase", "status", "", &out->phase, err) < 0) {
        kn_pod_free(out);
        return -1;
    }
    out->start_time = kn_parse_rfc3339(kn_json_get_str(status, "startTime"));
    return 0;
}

void kn_pod_free(kn_pod *p)
{
    if (p == NULL)
        return;
    char **strs[] = {&p->ns,
                     &p->name,
                     &p->uid,
                     &p->resource_version,
                     &p->scheduler_name,
                     &p->node_name,
                     &p->phase,
                     &p->creation_timestamp,
                     &p->owner_kind,
                     &p->owner_name,
                     &p->owner_uid};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        free(*strs[i]);
    kn_json_free(p->labels);
    kn_json_free(p->annotations);
    kn_json_free(p->node_selector);
    kn_json_free(p->required_affinity);
    kn_json_free(p->preferred_affinity);
    free(p->host_ports);
    kn_tolerations_free(p->tolerations, p->n_tolerations);
    for (int i = 0; i < p->n_claims; i++) {
        free(p->claims[i].volume);
        free(p->claims[i].claim);
    }
    free(p->claims);
    kn_json_free(p->pod_affinity);
    kn_json_free(p->pod_anti_affinity);
    kn_json_free(p->spread);
    memset(p, 0, sizeof(*p));
}

void kn_tolerations_free(kn_toleration *t, int n)
{
    for (int i = 0; i < n; i++) {
        free(t[i].key);
        free(t[i].op);
        free(t[i].value);
        free(t[i].effect);
    }
    free(t);
}

static bool copy_str(char **dst, const char *src)
{
    *dst = src != NULL ? strdup(src) : NULL;
    return src == NULL || *dst != NULL;
}

int kn_tolerations_copy(const kn_toleration *src, int n, kn_toleration **out)
{
    *out = NULL;
    if (n <= 0)
        return 0;
    kn_toleration *t = calloc((size_t)n, sizeof(*t));
    if (t == NULL)
        return -1;
    bool ok = true;
    for (int i = 0; i < n; i++) { /* each one on its own: a failure frees what was copied */
        ok &= copy_str(&t[i].key, src[i].key);
        ok &= copy_str(&t[i].op, src[i].op);
        ok &= copy_str(&t[i].value, src[i].value);
        ok &= copy_str(&t[i].effect, src[i].effect);
    }
    if (!ok) {
        kn_tolerations_free(t, n);
        return -1;
    }
    *out = t;
    return 0;
}

static bool copy_json(kn_json **dst, const kn_json *src)
{
    *dst = src != NULL ? kn_json_clone(src) : NULL;
    return src == NULL || *dst != NULL;
}

int kn_pod_copy(const kn_pod *src, kn_pod *out)
{
    *out = *src; /* scalars and requests; every pointer is replaced below */
    bool ok = true;
    char **strs[] = {&out->ns,
                     &out->name,
                     &out->uid,
                     &out->resource_version,
                     &out->scheduler_name,
                     &out->node_name,
                     &out->phase,
                     &out->creation_timestamp,
                     &out->owner_kind,
                     &out->owner_name,
                     &out->owner_uid};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        ok &= copy_str(strs[i], *strs[i]);
    ok &= copy_json(&out->labels, src->labels);
    ok &= copy_json(&out->annotations, src->annotations);
    ok &= copy_json(&out->node_selector, src->node_selector);
    ok &= copy_json(&out->required_affinity, src->required_affinity);
    ok &= copy_json(&out->preferred_affinity, src->preferred_affinity);
    out->host_ports = NULL;
    if (src->n_host_ports > 0) {
        size_t bytes = sizeof(kn_host_port) * (size_t)src->n_host_ports;
        if ((out->host_ports = malloc(bytes)) != NULL)
            memcpy(out->host_ports, src->host_ports, bytes);
        else
            ok = false;
    }
    ok &= copy_json(&out->pod_affinity, src->pod_affinity);
    ok &= copy_json(&out->pod_anti_affinity, src->pod_anti_affinity);
    ok &= copy_json(&out->spread, src->spread);
    out->n_tolerations = 0;
    if (kn_tolerations_copy(src->tolerations, src->n_tolerations, &out->tolerations) == 0)
        out->n_tolerations = src->n_tolerations;
    else
        ok = false;
    out->claims = NULL;
    out->n_claims = 0;
    if (src->n_claims > 0) {
        if ((out->claims = calloc((size_t)src->n_claims, sizeof(kn_pod_claim))) == NULL)
            ok = false;
        for (int i = 0; out->claims != NULL && i < src->n_claims; i++) {
            kn_pod_claim *o = &out->claims[out->n_claims++];
            *o = src->claims[i];
            /* Each one on its own: every pointer must be replaced before a
             * failure frees the copy (a short-circuit would leave src's). */
            ok &= copy_str(&o->volume, src->claims[i].volume);
            ok &= copy_str(&o->claim, src->claims[i].claim);
        }
    }
    if (!ok) {
        kn_pod_free(out);
        return -1;
    }
    return 0;
}

bool kn_pod_terminated(const kn_pod *p)
{
    return p->phase != NULL && (strcmp(p->phase, "Succeeded") == 0 || strcmp(p->phase, "Failed") == 0);
}

/* A plain copy, not snprintf: a gang's key is joined for every pod that joins
 * it and simulate joins one per binding, where the format costs several times
 * the copy (measured: 2.5% of a gang-only simulation's instructions). */
const char *kn_pod_ref(char *buf, size_t cap, const char *ns, const char *name)
{
    size_t a = strlen(ns), b = strlen(name);
    if (a + 1 + b >= cap) {
        snprintf(buf, cap, "%s/%s", ns, name);
        return buf;
    }
    memcpy(buf, ns, a);
    buf[a] = '/';
    memcpy(buf + a + 1, name, b + 1);
    return buf;
}

const char *kn_pod_label(const kn_pod *p, const char *key)
{
    return kn_json_get_str(p->labels, key);
}

const char *kn_pod_annotation(const kn_pod *p, const char *key)
{
    return kn_json_get_str(p->annotations, key);
}
