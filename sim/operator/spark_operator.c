/* spark_operator.c - driver and executor pods as Spark 3.5 and the Spark
 * Operator create them, in the form a mutating webhook receives them (the
 * API server has defaulted schedulerName, restartPolicy, dnsPolicy, ... and
 * the DefaultTolerationSeconds and Priority plugins have run).
 *
 * Sources: Spark's BasicDriverFeatureStep / BasicExecutorFeatureStep (names,
 * labels, container names, ports, env, resources), the operator's submission
 * (app labels and spec.<role>.labels/annotations become pod labels and
 * annotations, plus sparkoperator.k8s.io labels) and its pod webhook
 * (ownerReference, nodeSelector, tolerations, affinity, schedulerName,
 * priorityClassName); topologySpreadConstraints come from the role's Spark
 * pod template (spec.<role>.template.spec), which Spark keeps. A pod naming
 * a PriorityClass is left for the API server's Priority plugin to give its
 * priority and preemptionPolicy. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "sim/operator/spark_operator.h"
#include "spark/sparkapp.h"
#include "spark/volumes.h"

typedef struct pod_ids {
    char app_id[40];        /* spark-<32 hex> */
    char submission_id[40]; /* uuid form */
    char app_name_label[64];
} pod_ids;

/* The seed the ids have always been derived with (not FNV's own basis):
 * another would rename every pod a simulation builds. */
#define IDS_SEED 1469598103934665603ull

/* Stable ids derived from the app (metadata.uid, else namespace/name), so a
 * simulation builds the same pods every time. */
static void derive_ids(const kn_json *app, const kn_sparkapp_pod_opts *o, pod_ids *ids)
{
    const kn_json *md = kn_json_get(app, "metadata");
    uint64_t h1 = kn_fnv1a(kn_json_get_str(md, "uid"), IDS_SEED);
    h1 = kn_fnv1a(kn_json_get_str(md, "namespace"), kn_fnv1a(kn_json_get_str(md, "name"), h1));
    uint64_t h2 = kn_fnv1a("executors", h1);
    char hex[33];
    snprintf(hex, sizeof(hex), "%016llx%016llx", (unsigned long long)h1, (unsigned long long)h2);
    if (o != NULL && o->app_id != NULL)
        snprintf(ids->app_id, sizeof(ids->app_id), "%.39s", o->app_id);
    else
        snprintf(ids->app_id, sizeof(ids->app_id), "spark-%s", hex);
    snprintf(ids->submission_id, sizeof(ids->submission_id), "%.8s-%.4s-%.4s-%.4s-%.12s", hex + 1, hex + 9,
             hex + 13, hex + 17, hex + 20);
    /* KubernetesConf.getAppNameLabel: lower-case, [^a-z0-9.-] -> '-', <= 63,
     * trimmed to alphanumerics at both ends. */
    const char *name = kn_json_get_str(md, "name");
    size_t n = 0;
    for (const char *p = name != NULL ? name : ""; *p && n < 63; p++) {
        char c = (char)tolower((unsigned char)*p);
        ids->app_name_label[n++] = (isalnum((unsigned char)c) || c == '.' || c == '-') ? c : '-';
    }
    ids->app_name_label[n] = '\0';
    while (n > 0 && !isalnum((unsigned char)ids->app_name_label[n - 1]))
        ids->app_name_label[--n] = '\0';
    size_t skip = strspn(ids->app_name_label, "-.");
    memmove(ids->app_name_label, ids->app_name_label + skip, n - skip + 1);
}

static const char *or_empty(const char *s)
{
    return s != NULL ? s : "";
}

static const char *or_default(const char *ns)
{
    return ns != NULL && ns[0] != '\0' ? ns : "default";
}

static void put_str(kn_json *o, const char *k, const char *v)
{
    if (v != NULL)
        kn_json_set_str(o, k, v);
}

static void put_clone(kn_json *o, const char *k, const kn_json *v)
{
    if (v != NULL && !kn_json_is(v, KN_JSON_NULL))
        kn_json_set(o, k, kn_json_clone(v));
}

/* Members of src copied into dst (src wins). */
static void merge_into(kn_json *dst, const kn_json *src)
{
    for (size_t i = 0; i < kn_json_len(src); i++)
        kn_json_set(dst, kn_json_key_at(src, i), kn_json_clone(kn_json_value_at(src, i)));
}

static kn_json *env_var(const char *name, const char *value, const char *field_path)
{
    kn_json *e = kn_json_new_object();
    put_str(e, "name", name);
    if (field_path != NULL) {
        kn_json *ref = kn_json_new_object(), *from = kn_json_new_object();
        kn_json_set_str(ref, "apiVersion", "v1");
        kn_json_set_str(ref, "fieldPath", field_path);
        kn_json_set(from, "fieldRef", ref);
        kn_json_set(e, "valueFrom", from);
    } else {
        put_str(e, "value", value);
    }
    return e;
}

static kn_json *port(const char *name, int number)
{
    kn_json *p = kn_json_new_object();
    kn_json_set_str(p, "name", name);
    kn_json_set(p, "containerPort", kn_json_new_int(number));
    kn_json_set_str(p, "protocol", "TCP");
    return p;
}

/* Labels every pod of the app carries, then the role's effective labels. */
static kn_json *pod_labels(const kn_json *app, kn_spark_role role, const pod_ids *ids)
{
    kn_json *l = kn_sparkapp_effective_labels(app, role);
    if (l == NULL)
        return NULL;
    const char *version = kn_json_str(kn_json_dig(app, "spec", "sparkVersion", NULL));
    kn_json_set_str(l, KN_SPARK_APP_NAME_LABEL, ids->app_name_label);
    kn_json_set_str(l, KN_SPARK_APP_SELECTOR_LABEL, ids->app_id);
    kn_json_set_str(l, KN_SPARK_ROLE_LABEL, kn_sparkapp_role_name(role));
    kn_json_set_str(l, KN_SPARK_VERSION_LABEL, version != NULL ? version : "3.5.0");
    kn_json_set_str(l, KN_SPARKOP_APP_NAME_LABEL, kn_json_str(kn_json_dig(app, "metadata", "name", NULL)));
    kn_json_set_str(l, KN_SPARKOP_LAUNCHED_LABEL, "true");
    kn_json_set_str(l, KN_SPARKOP_SUBMISSION_ID_LABEL, ids->submission_id);
    return l;
}

static kn_json *owner_ref(const char *api_version, const char *kind, const char *name, const char *uid, bool block)
{
    kn_json *refs = kn_json_new_array(), *r = kn_json_new_object();
    kn_json_set_str(r, "apiVersion", api_version);
    kn_json_set_str(r, "kind", kind);
    kn_json_set_str(r, "name", name != NULL ? name : "");
    kn_json_set_str(r, "uid", uid != NULL ? uid : "");
    kn_json_set(r, "controller", kn_json_new_bool(true));
    if (block)
        kn_json_set(r, "blockOwnerDeletion", kn_json_new_bool(true));
    kn_json_append(refs, r);
    return refs;
}

static kn_json *container_resources(const kn_json *app, kn_spark_role role, kn_err *err)
{
    kn_resources req, lim;
    if (kn_sparkapp_pod_resources(app, role, &req, &lim, err) != 0)
        return NULL;
    kn_json *r = kn_json_new_object();
    kn_json_set(r, "requests", kn_res_to_json(&req));
    kn_json_set(r, "limits", kn_res_to_json(&lim));
    return r;
}

/* The pod skeleton shared by both roles: metadata, scheduling fields and the
 * API server's defaults. */
static kn_json *pod_common(const kn_json *app, kn_spark_role role, const char *name, const pod_ids *ids)
{
    const kn_json *spec = kn_sparkapp_role(app, role);
    kn_json *pod = kn_json_new_object(), *md = kn_json_new_object(), *ps = kn_json_new_object();
    kn_json_set_str(pod, "apiVersion", "v1");
    kn_json_set_str(pod, "kind", "Pod");
    kn_json_set_str(md, "name", name);
    put_str(md, "namespace", kn_json_str(kn_json_dig(app, "metadata", "namespace", NULL)));
    kn_json_set(md, "labels", pod_labels(app, role, ids));
    kn_json *ann = kn_json_new_object();
    merge_into(ann, kn_json_get(spec, "annotations"));
    kn_json_set(md, "annotations", ann);
    kn_json_set(pod, "metadata", md);

    kn_json *sel = kn_json_new_object();
    merge_into(sel, kn_json_dig(app, "spec", "nodeSelector", NULL));
    merge_into(sel, kn_json_get(spec, "nodeSelector"));
    if (kn_json_len(sel) > 0)
        kn_json_set(ps, "nodeSelector", sel);
    else
        kn_json_free(sel);
    kn_json_set_str(ps, "restartPolicy", "Never");
    kn_json_set(ps, "terminationGracePeriodSeconds", kn_json_new_int(30));
    kn_json_set_str(ps, "dnsPolicy", "ClusterFirst");
    const char *sa = kn_json_get_str(spec, "serviceAccount");
    if (sa != NULL) {
        kn_json_set_str(ps, "serviceAccountName", sa);
        kn_json_set_str(ps, "serviceAccount", sa);
    }
    kn_json_set(ps, "securityContext", kn_json_new_object());
    put_clone(ps, "affinity", kn_json_get(spec, "affinity"));
    put_clone(ps, "topologySpreadConstraints", kn_sparkapp_role_spread(app, role));
    /* the operator's webhook prefers spec.batchScheduler (even empty) to the role's */
    const kn_json *batch = kn_json_dig(app, "spec", "batchScheduler", NULL);
    const char *sched =
        kn_json_is(batch, KN_JSON_STRING) ? kn_json_str(batch) : kn_json_get_str(spec, "schedulerName");
    kn_json_set_str(ps, "schedulerName", sched != NULL && sched[0] != '\0' ? sched : "default-scheduler");

    /* DefaultTolerationSeconds adds these after the role's own tolerations. */
    kn_json *tol = kn_json_clone(kn_json_get(spec, "tolerations"));
    if (!kn_json_is(tol, KN_JSON_ARRAY)) {
        kn_json_free(tol);
        tol = kn_json_new_array();
    }
    static const char *const taints[] = {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"};
    for (int i = 0; i < 2; i++) {
        kn_json *t = kn_json_new_object();
        kn_json_set_str(t, "key", taints[i]);
        kn_json_set_str(t, "operator", "Exists");
        kn_json_set_str(t, "effect", "NoExecute");
        kn_json_set(t, "tolerationSeconds", kn_json_new_int(300));
        kn_json_append(tol, t);
    }
    kn_json_set(ps, "tolerations", tol);
    /* Without a class, what the Priority plugin gives when no class is the
     * global default; with one, the plugin resolves it from the cluster's
     * PriorityClasses (the API server's part: simulate's, the test double's). */
    const char *prio = kn_json_get_str(spec, "priorityClassName");
    if (prio != NULL) {
        kn_json_set_str(ps, "priorityClassName", prio);
    } else {
        kn_json_set(ps, "priority", kn_json_new_int(0));
        kn_json_set_str(ps, "preemptionPolicy", "PreemptLowerPriority");
    }
    kn_json_set(ps, "enableServiceLinks", kn_json_new_bool(true));
    kn_json_set(pod, "spec", ps);
    kn_json_set(pod, "status", kn_json_new_object());
    return pod;
}

static kn_json *container(const kn_json *app, kn_spark_role role, const char *name, kn_err *err)
{
    const kn_json *spec = kn_sparkapp_role(app, role);
    kn_json *res = container_resources(app, role, err);
    if (res == NULL)
        return NULL;
    kn_json *c = kn_json_new_object();
    const char *image = kn_json_get_str(spec, "image");
    kn_json_set_str(c, "name", name);
    put_str(c, "image", image != NULL ? image : kn_json_str(kn_json_dig(app, "spec", "image", NULL)));
    const char *pull = kn_json_str(kn_json_dig(app, "spec", "imagePullPolicy", NULL));
    kn_json_set_str(c, "imagePullPolicy", pull != NULL ? pull : "IfNotPresent");
    kn_json_set(c, "resources", res);
    kn_json_set_str(c, "terminationMessagePath", "/dev/termination-log");
    kn_json_set_str(c, "terminationMessagePolicy", "File");
    return c;
}

/* env: Spark's own variables, then the role's env. */
static void add_env(kn_json *c, kn_json *env, const kn_json *spec)
{
    for (size_t i = 0; i < kn_json_len(kn_json_get(spec, "env")); i++)
        kn_json_append(env, kn_json_clone(kn_json_at(kn_json_get(spec, "env"), i)));
    kn_json_set(c, "env", env);
}

/* One of Spark's sparkConf volumes as MountVolumesFeatureStep builds it. */
static kn_json *conf_volume(const kn_spark_volume *v, int index, const char *pod, int exec_id)
{
    kn_json *vol = kn_json_new_object(), *src = kn_json_new_object();
    kn_json_set_str(vol, "name", v->name);
    if (strcmp(v->type, "persistentVolumeClaim") == 0) {
        char claim[512];
        kn_spark_volume_claim(v, index, pod, exec_id, claim, sizeof(claim));
        kn_json_set_str(src, "claimName", claim);
        kn_json_set(src, "readOnly", kn_json_new_bool(v->read_only));
    } else if (strcmp(v->type, "hostPath") == 0) {
        kn_json_set_str(src, "path", or_empty(v->path));
        kn_json_set_str(src, "type", or_empty(v->host_type));
    } else if (strcmp(v->type, "nfs") == 0) {
        kn_json_set_str(src, "path", or_empty(v->path));
        kn_json_set_str(src, "server", or_empty(v->server));
    } else {
        kn_json_set_str(src, "medium", or_empty(v->medium));
        put_str(src, "sizeLimit", v->size_limit);
    }
    kn_json_set(vol, v->type, src);
    return vol;
}

/* The pod's volumes: Spark's from sparkConf (and their mounts, before the
 * role's own), then the ones the operator's webhook adds: spec.volumes the
 * role's volumeMounts name. */
static void add_volumes(kn_json *pod, kn_json *c, const kn_json *app, kn_spark_role role, const char *pod_name,
                        int exec_id)
{
    const kn_json *spec = kn_sparkapp_role(app, role), *mounts = kn_json_get(spec, "volumeMounts");
    kn_spark_volume v[KN_SPARK_MAX_VOLUMES];
    int n = kn_spark_conf_volumes(app, role, v, KN_SPARK_MAX_VOLUMES);
    kn_json *vols = kn_json_new_array(), *ms = kn_json_new_array();
    for (int i = 0; i < n; i++) {
        kn_json_append(vols, conf_volume(&v[i], i, pod_name, exec_id));
        kn_json *m = kn_json_new_object();
        kn_json_set_str(m, "name", v[i].name);
        kn_json_set_str(m, "mountPath", v[i].mount_path);
        kn_json_set(m, "readOnly", kn_json_new_bool(v[i].read_only));
        kn_json_set_str(m, "subPath", or_empty(v[i].sub_path));
        kn_json_append(ms, m);
    }
    const kn_json *app_vols = kn_json_dig(app, "spec", "volumes", NULL);
    for (size_t i = 0; i < kn_json_len(mounts); i++) {
        const char *name = kn_json_get_str(kn_json_at(mounts, i), "name");
        kn_json_append(ms, kn_json_clone(kn_json_at(mounts, i)));
        for (size_t j = 0; name != NULL && j < kn_json_len(app_vols); j++) {
            const kn_json *av = kn_json_at(app_vols, j);
            bool added = false;
            for (size_t k = 0; k < kn_json_len(vols) && !added; k++)
                added = strcmp(or_empty(kn_json_get_str(kn_json_at(vols, k), "name")), name) == 0;
            if (!added && strcmp(or_empty(kn_json_get_str(av, "name")), name) == 0)
                kn_json_append(vols, kn_json_clone(av));
        }
    }
    if (kn_json_len(ms) > 0)
        kn_json_set(c, "volumeMounts", ms);
    else
        kn_json_free(ms);
    if (kn_json_len(vols) > 0)
        kn_json_set(kn_json_get(pod, "spec"), "volumes", vols);
    else
        kn_json_free(vols);
}

static const char *driver_name(const kn_json *app, char *buf, size_t cap)
{
    const char *pn = kn_json_str(kn_json_dig(app, "spec", "driver", "podName", NULL));
    if (pn != NULL && pn[0] != '\0')
        return pn;
    snprintf(buf, cap, "%.200s-driver", or_empty(kn_json_str(kn_json_dig(app, "metadata", "name", NULL))));
    return buf;
}

kn_json *kn_sparkapp_driver_pod(const kn_json *app, const kn_sparkapp_pod_opts *opts, kn_err *err)
{
    const char *app_name = kn_json_str(kn_json_dig(app, "metadata", "name", NULL));
    if (app_name == NULL || app_name[0] == '\0')
        return kn_err_set(err, "metadata.name: want the SparkApplication's name"), NULL;
    pod_ids ids;
    derive_ids(app, opts, &ids);
    char nbuf[256];
    const char *name = driver_name(app, nbuf, sizeof(nbuf));
    kn_json *c = container(app, KN_SPARK_DRIVER, "spark-kubernetes-driver", err);
    if (c == NULL)
        return NULL;
    kn_json *args = kn_json_new_array();
    kn_json_append(args, kn_json_new_string("driver"));
    kn_json_append(args, kn_json_new_string("--properties-file"));
    kn_json_append(args, kn_json_new_string("/opt/spark/conf/spark.properties"));
    const char *main_class = kn_json_str(kn_json_dig(app, "spec", "mainClass", NULL));
    if (main_class != NULL) {
        kn_json_append(args, kn_json_new_string("--class"));
        kn_json_append(args, kn_json_new_string(main_class));
    }
    const char *file = kn_json_str(kn_json_dig(app, "spec", "mainApplicationFile", NULL));
    if (file != NULL)
        kn_json_append(args, kn_json_new_string(file));
    const kn_json *uargs = kn_json_dig(app, "spec", "arguments", NULL);
    for (size_t i = 0; i < kn_json_len(uargs); i++)
        kn_json_append(args, kn_json_clone(kn_json_at(uargs, i)));
    kn_json_set(c, "args", args);
    kn_json *ports = kn_json_new_array();
    kn_json_append(ports, port("driver-rpc-port", 7078));
    kn_json_append(ports, port("blockmanager", 7079));
    kn_json_append(ports, port("spark-ui", 4040));
    kn_json_set(c, "ports", ports);
    kn_json *env = kn_json_new_array();
    kn_json_append(env, env_var("SPARK_USER", "root", NULL));
    kn_json_append(env, env_var("SPARK_APPLICATION_ID", ids.app_id, NULL));
    kn_json_append(env, env_var("SPARK_DRIVER_BIND_ADDRESS", NULL, "status.podIP"));
    kn_json_append(env, env_var("SPARK_CONF_DIR", "/opt/spark/conf", NULL));
    add_env(c, env, kn_sparkapp_role(app, KN_SPARK_DRIVER));

    kn_json *pod = pod_common(app, KN_SPARK_DRIVER, name, &ids);
    add_volumes(pod, c, app, KN_SPARK_DRIVER, NULL, 0);
    kn_json *containers = kn_json_new_array();
    kn_json_append(containers, c);
    kn_json_set(kn_json_get(pod, "spec"), "containers", containers);
    kn_json_set(kn_json_get(pod, "metadata"), "ownerReferences",
                owner_ref("sparkoperator.k8s.io/v1beta2", "SparkApplication", app_name,
                          kn_json_str(kn_json_dig(app, "metadata", "uid", NULL)), true));
    return pod;
}

/* Executor exec_id's (1 or more) pod name, "<prefix cut to 200 bytes>-exec-<id>",
 * and the id as text, as Spark writes them. A plain copy, not snprintf:
 * simulate renumbers a model with them once per executor, where the two
 * formats cost 5% of a gang-only simulation's instructions. */
static void executor_names(const char *prefix, int exec_id, char name[300], char id[16])
{
    char digits[16], *d = digits + sizeof(digits);
    *--d = '\0';
    for (unsigned v = (unsigned)exec_id; v > 0; v /= 10)
        *--d = (char)('0' + v % 10);
    size_t idlen = (size_t)(digits + sizeof(digits) - 1 - d);
    memcpy(id, d, idlen + 1);
    size_t plen = strnlen(prefix, 200);
    memcpy(name, prefix, plen);
    memcpy(name + plen, "-exec-", 6);
    memcpy(name + plen + 6, id, idlen + 1);
}

kn_json *kn_sparkapp_executor_pod(const kn_json *app, int exec_id, const char *driver_pod_name,
                                  const kn_sparkapp_pod_opts *opts, kn_err *err)
{
    const char *app_name = kn_json_str(kn_json_dig(app, "metadata", "name", NULL));
    if (app_name == NULL || app_name[0] == '\0')
        return kn_err_set(err, "metadata.name: want the SparkApplication's name"), NULL;
    if (exec_id < 1)
        return kn_err_set(err, "executor id %d: want 1 or more", exec_id), NULL;
    pod_ids ids;
    derive_ids(app, opts, &ids);
    char dbuf[256], name[300], id[16], cores[16];
    if (driver_pod_name == NULL)
        driver_pod_name = driver_name(app, dbuf, sizeof(dbuf));
    const char *prefix = opts != NULL && opts->name_prefix != NULL ? opts->name_prefix : app_name;
    executor_names(prefix, exec_id, name, id);
    kn_json *c = container(app, KN_SPARK_EXECUTOR, "spark-kubernetes-executor", err);
    if (c == NULL)
        return NULL;
    kn_json *args = kn_json_new_array();
    kn_json_append(args, kn_json_new_string("executor"));
    kn_json_set(c, "args", args);
    kn_json *ports = kn_json_new_array();
    kn_json_append(ports, port("blockmanager", 7079));
    kn_json_set(c, "ports", ports);
    int64_t nc = 1;
    kn_json_int(kn_json_dig(app, "spec", "executor", "cores", NULL), &nc);
    snprintf(cores, sizeof(cores), "%lld", (long long)nc);
    char url[400];
    snprintf(url, sizeof(url), "spark://CoarseGrainedScheduler@%.200s-svc.%.63s.svc:7078", driver_pod_name,
             or_default(kn_json_str(kn_json_dig(app, "metadata", "namespace", NULL))));
    const char *mem = kn_json_str(kn_json_dig(app, "spec", "executor", "memory", NULL));
    kn_json *env = kn_json_new_array();
    kn_json_append(env, env_var("SPARK_USER", "root", NULL));
    kn_json_append(env, env_var("SPARK_DRIVER_URL", url, NULL));
    kn_json_append(env, env_var("SPARK_EXECUTOR_CORES", cores, NULL));
    kn_json_append(env, env_var("SPARK_EXECUTOR_MEMORY", mem != NULL ? mem : "1g", NULL));
    kn_json_append(env, env_var("SPARK_APPLICATION_ID", ids.app_id, NULL));
    kn_json_append(env, env_var("SPARK_CONF_DIR", "/opt/spark/conf", NULL));
    kn_json_append(env, env_var("SPARK_EXECUTOR_ID", id, NULL));
    kn_json_append(env, env_var("SPARK_RESOURCE_PROFILE_ID", "0", NULL));
    kn_json_append(env, env_var("SPARK_EXECUTOR_POD_IP", NULL, "status.podIP"));
    kn_json_append(env, env_var("SPARK_EXECUTOR_POD_NAME", NULL, "metadata.name"));
    add_env(c, env, kn_sparkapp_role(app, KN_SPARK_EXECUTOR));

    kn_json *pod = pod_common(app, KN_SPARK_EXECUTOR, name, &ids);
    add_volumes(pod, c, app, KN_SPARK_EXECUTOR, name, exec_id);
    kn_json *labels = kn_json_dig(pod, "metadata", "labels", NULL);
    kn_json_set_str(labels, KN_SPARK_EXEC_ID_LABEL, id);
    kn_json_set_str(labels, "spark-exec-resourceprofile-id", "0");
    kn_json *containers = kn_json_new_array();
    kn_json_append(containers, c);
    kn_json *ps = kn_json_get(pod, "spec");
    kn_json_set(ps, "containers", containers);
    char host[64];
    snprintf(host, sizeof(host), "%.63s", name);
    kn_json_set_str(ps, "hostname", host);
    char uid[64];
    const char *duid = opts != NULL && opts->driver_uid != NULL ? opts->driver_uid : NULL;
    if (duid == NULL) {
        snprintf(uid, sizeof(uid), "%.36s", ids.submission_id);
        duid = uid;
    }
    kn_json_set(kn_json_get(pod, "metadata"), "ownerReferences",
                owner_ref("v1", "Pod", driver_pod_name, duid, false));
    return pod;
}

/* The model's claims for executor exec_id named name: Spark's sparkConf
 * claims come first (in the volumes' order) and name the executor; a
 * generic ephemeral volume's claim is named after the pod. */
static int renumber_claims(kn_pod *pod, const kn_json *app, const char *name, int exec_id)
{
    if (pod->n_claims == 0)
        return 0;
    kn_spark_volume v[KN_SPARK_MAX_VOLUMES];
    int n = kn_spark_conf_volumes(app, KN_SPARK_EXECUTOR, v, KN_SPARK_MAX_VOLUMES), k = 0;
    for (int i = 0; i < pod->n_claims; i++) {
        kn_pod_claim *c = &pod->claims[i];
        char buf[600];
        while (k < n && strcmp(v[k].type, "persistentVolumeClaim") != 0)
            k++;
        if (c->ephemeral)
            kn_pod_ephemeral_claim(name, c->volume, buf, sizeof(buf));
        else if (k < n && strcmp(v[k].name, c->volume) == 0)
            kn_spark_volume_claim(&v[k], k, name, exec_id, buf, sizeof(buf)), k++;
        else
            continue;
        char *d = strdup(buf);
        if (d == NULL)
            return -1;
        free(c->claim);
        c->claim = d;
    }
    return 0;
}

int kn_sparkapp_executor_renumber(kn_pod *pod, const kn_json *app, int exec_id, const kn_sparkapp_pod_opts *opts,
                                  kn_err *err)
{
    const char *app_name = kn_json_str(kn_json_dig(app, "metadata", "name", NULL));
    if (app_name == NULL || app_name[0] == '\0')
        return kn_err_set(err, "metadata.name: want the SparkApplication's name");
    if (exec_id < 1)
        return kn_err_set(err, "executor id %d: want 1 or more", exec_id);
    if (kn_json_get(pod->labels, KN_SPARK_EXEC_ID_LABEL) == NULL)
        return kn_err_set(err, "not an executor pod: no label %s", KN_SPARK_EXEC_ID_LABEL);
    char name[300], id[16];
    const char *prefix = opts != NULL && opts->name_prefix != NULL ? opts->name_prefix : app_name;
    executor_names(prefix, exec_id, name, id);
    char *dup = strdup(name);
    if (dup == NULL || kn_json_set_str(pod->labels, KN_SPARK_EXEC_ID_LABEL, id) != 0 ||
        renumber_claims(pod, app, name, exec_id) != 0) {
        free(dup);
        return kn_err_set(err, "out of memory");
    }
    free(pod->name);
    pod->name = dup;
    return 0;
}

kn_json *kn_sparkapp_executor_claims(const kn_json *app, int exec_id, const char *pod_name,
                                     const char *driver_pod_name, const char *driver_uid, kn_err *err)
{
    kn_spark_volume v[KN_SPARK_MAX_VOLUMES];
    int n = kn_spark_conf_volumes(app, KN_SPARK_EXECUTOR, v, KN_SPARK_MAX_VOLUMES);
    pod_ids ids;
    derive_ids(app, NULL, &ids);
    kn_json *out = kn_json_new_array();
    for (int i = 0; out != NULL && i < n; i++) {
        if (!kn_spark_volume_creates_claim(&v[i]))
            continue;
        char claim[512];
        kn_spark_volume_claim(&v[i], i, pod_name, exec_id, claim, sizeof(claim));
        kn_json *pvc = kn_json_new_object(), *md = kn_json_new_object(), *spec = kn_json_new_object();
        kn_json *labels = kn_json_new_object(), *modes = kn_json_new_array(), *req = kn_json_new_object();
        kn_json *res = kn_json_new_object();
        kn_json_set_str(pvc, "apiVersion", "v1");
        kn_json_set_str(pvc, "kind", "PersistentVolumeClaim");
        kn_json_set_str(md, "name", claim);
        put_str(md, "namespace", kn_json_str(kn_json_dig(app, "metadata", "namespace", NULL)));
        kn_json_set_str(labels, KN_SPARK_APP_SELECTOR_LABEL, ids.app_id);
        kn_json_set(md, "labels", labels);
        /* spark.kubernetes.driver.ownPersistentVolumeClaim (true): the driver owns them */
        kn_json_set(md, "ownerReferences", owner_ref("v1", "Pod", driver_pod_name, driver_uid, false));
        kn_json_set(pvc, "metadata", md);
        kn_json_set_str(spec, "storageClassName", v[i].storage_class);
        kn_json_append(modes, kn_json_new_string(kn_spark_claim_access_mode(app)));
        kn_json_set(spec, "accessModes", modes);
        kn_json_set_str(req, "storage", v[i].size_limit);
        kn_json_set(res, "requests", req);
        kn_json_set(spec, "resources", res);
        kn_json_set(pvc, "spec", spec);
        if (kn_json_append(out, pvc) != 0) {
            kn_json_free(out);
            out = NULL;
        }
    }
    if (out == NULL)
        kn_err_set(err, "out of memory");
    return out;
}
