/* simulate.c - `kubenexus-scheduler simulate [--format json|table] [--kubeconfig F]
 *                [--scheduler-name N] [FILE...]`.
 *
 * Reads Nodes, NodeResourceTopologies, Namespaces, PodGroups (coscheduling's
 * and Volcano's), PriorityClasses, PodDisruptionBudgets, StorageClasses,
 * PersistentVolumes, PersistentVolumeClaims, CSINodes, Pods and
 * SparkApplications (YAML or JSON, several documents, kind: List) and runs
 * the live scheduler's placement code on them with a simulated clock (one
 * second per cycle), as a cluster with the kubenexus webhook would see them:
 *  - a Pod is defaulted as the API server does (namespace "default",
 *    schedulerName "default-scheduler", a uid and a creationTimestamp in file
 *    order when absent, its priority from its PriorityClass: sim/priority.h),
 *    then passes the webhook's rules (same code as the
 *    webhook: a denial leaves it pending with the webhook's message, a patch is
 *    applied), then is stored as the API server stores it (pod affinity
 *    terms' matchLabelKeys merged into their selectors, kube/pod_create.h);
 *  - a Namespace's labels are what namespaceSelector reads;
 *  - a SparkApplication passes the webhook's rules, then becomes its driver pod
 *    (as the Spark Operator's spark-submit creates it); its executors are
 *    created only once the driver is bound, as Spark does;
 *  - storage is defaulted and bound as the API server and the volume
 *    controllers would (sim/storage.h): a pod's claims to provision are
 *    provisioned on its node when it is bound.
 * Every binding succeeds. The clock moves one second per cycle while pods are
 * placed; when nothing more can be, it jumps to the scheduler's next deadline
 * (kn_sched_next_deadline, at most SIM_MAX_JUMPS times) while a reservation is
 * held, so slots whose executors never come are released (GangTimeout) as in a
 * live cluster, and what waited for that room is placed.
 * Pods given with spec.nodeName run there already (a cluster's state); a
 * preemption deletes its victims at once (a live cluster waits for their
 * grace period) and its preemptor is placed in the next cycle.
 * Output (stdout): JSON Lines, one per binding in binding order, one per
 * GangTimeout event when it happens ({"event":{"pod","reason","message"}}),
 * one per preemption victim when it is chosen
 * ({"preempted":{"pod","node","by","byNode","gang"}}),
 * one per pod left pending with the reason a user would see in its
 * FailedScheduling / GangWaiting event, and a summary last (with
 * "preemptions" only when there were some). Without files
 * the built-in sample (kn_sim_sample_yaml) is used. Exit status: 0, 1 on a bad
 * file, 2 on bad usage.
 *
 * --kubeconfig F: a live what-if. The cluster is read first, read-only
 * (live_cluster.h), and the files' objects are added to it (no sample without
 * files); the clock starts at now, new pods are created now (so the cluster's
 * own pending pods, older, come first), a pod name the cluster has is refused
 * as the API server would, and the answer per application (whatif.h) comes
 * before the summary. Nothing is written to the cluster. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/args.h"
#include "yaml/manifest.h"
#include "admission/patch.h"
#include "admission/rules.h"
#include "kube/pod_create.h"
#include "scheduler/cycle/scheduler.h"
#include "sim/live_cluster.h"
#include "sim/priority.h"
#include "sim/simulate.h"
#include "sim/whatif.h"
#include "sim/operator/spark_operator.h"
#include "sim/storage.h"
#include "spark/sparkapp.h"
#include "base/grow.h"
#include "base/strmap.h"

#define SIM_MAX_CYCLES 100000
#define SIM_MAX_JUMPS 64

extern const char kn_sim_sample_yaml[];

typedef struct sim_app {
    kn_json *app; /* as admitted (patched) */
    char *driver_uid;
    char *driver_name;
} sim_app;

typedef struct sim_line { /* table output, and pods not handed to the scheduler */
    char *pod, *node, *zones, *reason;
} sim_line; /* for an event: node holds its reason, reason its message */

typedef struct sim {
    kn_scheduler *s;
    kn_sim_storage *storage;
    bool table;
    sim_app *apps;
    size_t n_apps, cap_apps;
    kn_strmap driver_uids; /* of the apps whose driver is not bound yet (keys: their driver_uid) */
    sim_line *lines;       /* bindings (table mode) */
    size_t n_lines, cap_lines;
    sim_line *outside; /* pods denied or not ours */
    size_t n_outside, cap_outside;
    sim_line *events; /* GangTimeout events (table mode) */
    size_t n_events, cap_events;
    sim_line *preempted; /* victims (table mode): pod, node, by in zones, gang in reason */
    size_t n_preempted, cap_preempted;
    size_t victims;
    kn_strmap gangs_evicted; /* distinct gangs that went whole (keys in gang_keys) */
    char **gang_keys;
    size_t n_gang_keys, cap_gang_keys;
    kn_sim_priorities prio;
    size_t timeouts;
    unsigned uid_seq;
    size_t bindings;
    const char *sched_name; /* the scheduler simulated */
    kn_admit_config acfg;   /* the webhook's configuration (its --scheduler-name) */
    const char *kubeconfig; /* a live what-if, or NULL */
    kn_live_cluster live;
    kn_whatif *wi;       /* the live what-if's answers */
    time_t created_base; /* live: new objects are created this second on */
} sim;

/* ---- small helpers ---- */

static int push_line(sim_line **arr, size_t *n, size_t *cap, const char *pod, const char *node, const char *zones,
                     const char *reason)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 32;
        sim_line *nl = realloc(*arr, sizeof(*nl) * ncap);
        if (nl == NULL)
            return -1;
        *arr = nl;
        *cap = ncap;
    }
    sim_line *l = &(*arr)[(*n)++];
    l->pod = strdup(pod);
    l->node = node ? strdup(node) : NULL;
    l->zones = zones ? strdup(zones) : NULL;
    l->reason = reason ? strdup(reason) : NULL;
    return 0;
}

static void free_lines(sim_line *arr, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(arr[i].pod);
        free(arr[i].node);
        free(arr[i].zones);
        free(arr[i].reason);
    }
    free(arr);
}

static void print_json(kn_json *line)
{
    char *text = line ? kn_json_dump(line, NULL) : NULL;
    if (text)
        printf("%s\n", text);
    free(text);
    kn_json_free(line);
}

/* Pending pods are reported after the bindings. */
static void pending_line(sim *sm, const char *pod, const char *reason)
{
    push_line(&sm->outside, &sm->n_outside, &sm->cap_outside, pod, NULL, NULL, reason);
}

static void print_pending_json(const sim_line *l)
{
    kn_json *o = kn_json_new_object();
    if (o && kn_json_set_str(o, "pod", l->pod) == 0 && kn_json_set(o, "node", kn_json_new_null()) == 0 &&
        kn_json_set_str(o, "reason", l->reason ? l->reason : "") == 0)
        print_json(o);
    else
        kn_json_free(o);
}

static const char *s_or(const char *s, const char *dflt)
{
    return s ? s : dflt;
}

static kn_json *obj_at(kn_json *root, const char *key)
{
    kn_json *v = kn_json_get(root, key);
    if (v == NULL && kn_json_set(root, key, kn_json_new_object()) == 0)
        v = kn_json_get(root, key);
    return kn_json_is(v, KN_JSON_OBJECT) ? v : NULL;
}

/* v as exactly `width` decimal digits (the low ones), zero-padded. */
static char *digits(char *at, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        at[i] = (char)('0' + v % 10);
    return at + width;
}

/* The uid and creationTimestamp the API server gives the next pod (written
 * out by hand: snprintf twice for every pod cost more than admitting it). */
static void stamp(sim *sm, char uid[64], char ts[32])
{
    static const char uid_prefix[] = "00000000-0000-4000-8000-";
    sm->uid_seq++;
    unsigned q = sm->uid_seq;
    memcpy(uid, uid_prefix, sizeof(uid_prefix) - 1);
    *digits(uid + sizeof(uid_prefix) - 1, q, 12) = '\0'; /* an unsigned has at most 10 digits */
    if (sm->created_base != 0) {                         /* live: after everything the cluster holds */
        time_t at = sm->created_base + (time_t)q;
        struct tm tm;
        if (gmtime_r(&at, &tm) != NULL && strftime(ts, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
            return;
    }
    char *t = ts;
    memcpy(t, "2026-01-01T", 11);
    t = digits(t + 11, q / 3600 % 24, 2);
    *t++ = ':';
    t = digits(t, q / 60 % 60, 2);
    *t++ = ':';
    t = digits(t, q % 60, 2);
    memcpy(t, "Z", 2);
}

/* What the API server fills in before admission. */
static int default_pod(sim *sm, kn_json *pod)
{
    kn_json *md = obj_at(pod, "metadata"), *spec = obj_at(pod, "spec");
    if (md == NULL || spec == NULL)
        return -1;
    char uid[64], ts[32];
    stamp(sm, uid, ts);
    if (kn_json_get_str(md, "namespace") == NULL && kn_json_set_str(md, "namespace", "default") != 0)
        return -1;
    if (kn_json_get_str(md, "uid") == NULL && kn_json_set_str(md, "uid", uid) != 0)
        return -1;
    if (kn_json_get_str(md, "creationTimestamp") == NULL && kn_json_set_str(md, "creationTimestamp", ts) != 0)
        return -1;
    if (kn_json_get_str(spec, "schedulerName") == NULL &&
        kn_json_set_str(spec, "schedulerName", "default-scheduler") != 0)
        return -1;
    return 0;
}

/* The webhook's decision on obj (taken); returns it admitted (patched), or
 * NULL with *denial set (malloc'd) when denied. */
static kn_json *admit(const sim *sm, kn_json *obj, const char *group, const char *version, const char *kind,
                      char **denial)
{
    kn_rules_input in = {.group = group,
                         .version = version,
                         .kind = kind,
                         .operation = "CREATE",
                         .object = obj,
                         .mode = KN_ADMIT_MUTATE,
                         .cfg = &sm->acfg};
    kn_decision d;
    kn_err err = {{0}};
    *denial = NULL;
    kn_rules_evaluate(&in, &d);
    kn_json *out = NULL;
    if (!d.allowed) {
        size_t n = strlen(d.message) + 40;
        if ((*denial = malloc(n)) != NULL)
            snprintf(*denial, n, "denied by the kubenexus webhook: %s", d.message);
        kn_json_free(obj);
    } else if ((out = kn_json_patch_apply_owned(obj, d.patch, &err)) == NULL) {
        size_t n = strlen(err.msg) + 40;
        if ((*denial = malloc(n)) != NULL)
            snprintf(*denial, n, "the webhook's patch does not apply: %s", err.msg);
    }
    kn_decision_free(&d);
    return out;
}

static const char *pod_ref(const kn_json *pod, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", s_or(kn_json_str(kn_json_dig(pod, "metadata", "namespace", NULL)), "default"),
             s_or(kn_json_str(kn_json_dig(pod, "metadata", "name", NULL)), ""));
    return buf;
}

/* The scheduler watches an admitted pod (taken). Returns its uid (malloc'd)
 * when the scheduler took it, else NULL. */
static char *watch_pod(sim *sm, kn_json *admitted, kn_err *err)
{
    char ref[600], *uid = NULL;
    pod_ref(admitted, ref, sizeof(ref));
    const char *sched = kn_json_str(kn_json_dig(admitted, "spec", "schedulerName", NULL));
    const char *node = kn_json_str(kn_json_dig(admitted, "spec", "nodeName", NULL));
    const char *mine = kn_json_str(kn_json_dig(admitted, "metadata", "uid", NULL));
    /* stored as kube-apiserver stores it, after the admission webhooks */
    if (kn_pod_merge_label_keys(admitted, err) != 0 || kn_sched_apply_pod(sm->s, admitted, false, err) != 0) {
        kn_json_free(admitted);
        return NULL;
    }
    if ((node == NULL || *node == '\0') && strcmp(sched ? sched : "", sm->sched_name) != 0) {
        char reason[400];
        snprintf(reason, sizeof(reason), "spec.schedulerName is \"%s\": not scheduled by %s", sched ? sched : "",
                 sm->sched_name);
        pending_line(sm, ref, reason);
    } else {
        uid = strdup(mine ? mine : "");
    }
    kn_json_free(admitted);
    return uid;
}

/* A pod as it is created: defaulted and admitted (taken). Returns it as
 * admitted, or NULL when denied (reported pending) or out of memory (err). */
static kn_json *admit_pod(sim *sm, kn_json *pod, kn_err *err)
{
    char ref[600], *denial = NULL;
    int rc = default_pod(sm, pod) != 0 ? -1 : kn_sim_priority_admit(&sm->prio, pod, &denial);
    if (rc != 0) {
        if (rc > 0)
            pending_line(sm, pod_ref(pod, ref, sizeof(ref)), denial);
        else
            kn_err_set(err, "out of memory");
        free(denial);
        kn_json_free(pod);
        return NULL;
    }
    pod_ref(pod, ref, sizeof(ref));
    if (sm->kubeconfig != NULL && kn_live_cluster_has_pod(&sm->live, ref)) {
        char why[700];
        snprintf(why, sizeof(why), "pods \"%s\" already exists", strchr(ref, '/') + 1);
        pending_line(sm, ref, why);
        kn_json_free(pod);
        return NULL;
    }
    kn_json *admitted = admit(sm, pod, "", "v1", "Pod", &denial);
    if (admitted == NULL) {
        pending_line(sm, ref, denial ? denial : "denied by the kubenexus webhook");
        free(denial);
    }
    return admitted;
}

/* A pod as it is created: defaulted, admitted, then watched by the scheduler.
 * Takes pod. Returns its uid (malloc'd) when the scheduler took it, else NULL. */
static char *create_pod(sim *sm, kn_json *pod, kn_err *err)
{
    kn_json *admitted = admit_pod(sm, pod, err);
    return admitted ? watch_pod(sm, admitted, err) : NULL;
}

/* The application for the what-if's answers (live only); driver: its pod's
 * name, uid: NULL when the pod was refused or not ours (why: the pending
 * line just told, when one was). */
static int whatif_app(sim *sm, const kn_json *doc, const char *driver, const char *uid, size_t lines_before,
                      const char *refused)
{
    if (sm->wi == NULL)
        return 0;
    if (uid == NULL && refused == NULL)
        refused = sm->n_outside > lines_before ? sm->outside[sm->n_outside - 1].reason : "not created";
    const char *ns = s_or(kn_json_str(kn_json_dig(doc, "metadata", "namespace", NULL)), "default");
    const char *name = s_or(kn_json_str(kn_json_dig(doc, "metadata", "name", NULL)), "");
    char dname[600];
    if (driver == NULL)
        snprintf(dname, sizeof(dname), "%s-driver", name);
    return kn_whatif_app(sm->wi, ns, name, driver ? driver : dname, uid, refused);
}

static int add_sparkapp(sim *sm, const kn_json *doc, kn_err *err)
{
    kn_json *app = kn_json_clone(doc);
    kn_json *md = app ? obj_at(app, "metadata") : NULL;
    char ref[600], *denial = NULL;
    if (md == NULL ||
        (kn_json_get_str(md, "namespace") == NULL && kn_json_set_str(md, "namespace", "default") != 0)) {
        kn_json_free(app);
        return kn_err_set(err, "out of memory");
    }
    kn_json *admitted = admit(sm, app, "sparkoperator.k8s.io", "v1beta2", "SparkApplication", &denial);
    if (admitted == NULL) {
        char pod[700], name[600];
        snprintf(name, sizeof(name), "%s", pod_ref(doc, ref, sizeof(ref)));
        snprintf(pod, sizeof(pod), "%s-driver", name);
        pending_line(sm, pod, denial ? denial : "denied by the kubenexus webhook");
        int rc = whatif_app(sm, doc, NULL, NULL, 0, denial ? denial : "denied by the kubenexus webhook");
        free(denial);
        return rc == 0 ? 0 : kn_err_set(err, "out of memory");
    }
    kn_json *driver = kn_sparkapp_driver_pod(admitted, NULL, err);
    if (driver == NULL) {
        kn_json_free(admitted);
        return kn_err_prefix(err, "SparkApplication %s", pod_ref(doc, ref, sizeof(ref)));
    }
    char *dname = strdup(s_or(kn_json_str(kn_json_dig(driver, "metadata", "name", NULL)), ""));
    size_t lines = sm->n_outside;
    char *uid = create_pod(sm, driver, err);
    if (dname != NULL && whatif_app(sm, admitted, dname, uid, lines, NULL) != 0) {
        free(dname);
        dname = NULL;
    }
    if (uid == NULL || dname == NULL) { /* denied, not ours, or out of memory */
        free(uid);
        free(dname);
        kn_json_free(admitted);
        return dname == NULL ? kn_err_set(err, "out of memory") : 0;
    }
    if (sm->n_apps == sm->cap_apps) {
        size_t ncap = sm->cap_apps ? sm->cap_apps * 2 : 8;
        sim_app *na = realloc(sm->apps, sizeof(*na) * ncap);
        if (na == NULL) {
            free(uid);
            free(dname);
            kn_json_free(admitted);
            return kn_err_set(err, "out of memory");
        }
        sm->apps = na;
        sm->cap_apps = ncap;
    }
    if (kn_strmap_put(&sm->driver_uids, uid, (int)sm->n_apps) != 0) {
        free(uid);
        free(dname);
        kn_json_free(admitted);
        return kn_err_set(err, "out of memory");
    }
    sm->apps[sm->n_apps++] = (sim_app){.app = admitted, .driver_uid = uid, .driver_name = dname};
    return 0;
}

/* What watch_pod does for a pod given as its model (read, not taken). */
static void watch_model(sim *sm, const kn_pod *p, kn_err *err)
{
    bool ours = strcmp(s_or(p->scheduler_name, ""), sm->sched_name) == 0;
    bool bound = p->node_name != NULL && *p->node_name != '\0';
    if (kn_sched_apply_pod_model(sm->s, p, err) != 0 || bound || ours)
        return;
    char ref[600], reason[400];
    kn_pod_ref(ref, sizeof(ref), s_or(p->ns, "default"), s_or(p->name, ""));
    snprintf(reason, sizeof(reason), "spec.schedulerName is \"%s\": not scheduled by %s",
             s_or(p->scheduler_name, ""), sm->sched_name);
    pending_line(sm, ref, reason);
}

/* *dst (malloc'd) becomes a copy of s: 0, or -1 out of memory (*dst kept).
 * Written over *dst when as long (a uid or timestamp over the last one's). */
static int replace_str(char **dst, const char *s)
{
    size_t n = strlen(s);
    if (*dst != NULL && strlen(*dst) == n) {
        memcpy(*dst, s, n);
        return 0;
    }
    char *copy = strdup(s);
    if (copy == NULL)
        return -1;
    free(*dst);
    *dst = copy;
    return 0;
}

/* The claims the driver creates for executor id (named name) once it is created. */
static void create_claims(sim *sm, const sim_app *a, int id, const char *name, kn_err *err)
{
    kn_json *claims = kn_sparkapp_executor_claims(a->app, id, name, a->driver_name, a->driver_uid, err);
    for (size_t i = 0; i < kn_json_len(claims); i++)
        kn_sim_storage_create(sm->storage, sm->s, kn_json_at(claims, i), err);
    kn_json_free(claims);
}

/* The model of an executor (as admitted) becomes executor id's: renumbered
 * and given the uid and creationTimestamp the API server would give it. */
static int next_executor(sim *sm, const sim_app *a, kn_pod *model, int id, kn_err *err)
{
    char uid[64], ts[32];
    stamp(sm, uid, ts);
    if (replace_str(&model->uid, uid) != 0 || replace_str(&model->creation_timestamp, ts) != 0)
        return kn_err_set(err, "out of memory");
    return kn_sparkapp_executor_renumber(model, a->app, id, NULL, err);
}

/* Executors 1..n, created, admitted and watched in order. The webhook's pod
 * rules read labels, annotations and spec.schedulerName, never what differs
 * between executors (name, hostname, spark-exec-id, SPARK_EXECUTOR_ID), so
 * the first is admitted and its model, renumbered, is handed to the
 * scheduler for each of the others: the same pods, without building,
 * admitting, reading or copying each. */
static void create_executors(sim *sm, const sim_app *a, int n, kn_err *err)
{
    kn_pod model;
    bool have_model = false;
    for (int id = 1; id <= n; id++) {
        if (have_model) {
            if (next_executor(sm, a, &model, id, err) != 0)
                break;
            watch_model(sm, &model, err);
            if (model.n_claims > 0)
                create_claims(sm, a, id, s_or(model.name, ""), err);
            continue;
        }
        /* the first, or after a denial: one by one */
        kn_json *built = kn_sparkapp_executor_pod(a->app, id, a->driver_name, NULL, err);
        kn_json *ex = built ? admit_pod(sm, built, err) : NULL;
        if (ex == NULL)
            continue;
        kn_err perr;
        have_model = kn_pod_from_json(ex, &model, &perr) == 0;
        char name[300];
        snprintf(name, sizeof(name), "%s", s_or(kn_json_str(kn_json_dig(ex, "metadata", "name", NULL)), ""));
        free(watch_pod(sm, ex, err));
        create_claims(sm, a, id, name, err);
    }
    if (have_model)
        kn_pod_free(&model);
}

/* Spark's driver asks for its executors once it runs. */
static void driver_bound(sim *sm, const char *uid, kn_err *err)
{
    if (kn_strmap_get(&sm->driver_uids, uid) < 0) /* not a driver waiting: most bindings */
        return;
    for (size_t i = 0; i < sm->n_apps; i++) {
        sim_app *a = &sm->apps[i];
        if (a->driver_uid == NULL || strcmp(a->driver_uid, uid) != 0)
            continue;
        int n = 0;
        bool dyn;
        if (kn_sparkapp_executor_count(a->app, &n, &dyn, err) != 0)
            n = 0;
        create_executors(sm, a, n, err);
        kn_strmap_del(&sm->driver_uids, a->driver_uid);
        free(a->driver_uid);
        a->driver_uid = NULL;
    }
}

/* ---- loading ---- */

/* A PodGroup of either kind, in namespace "default" unless it names one. */
static int add_podgroup(sim *sm, const kn_json *doc, kn_err *err)
{
    const char *api = s_or(kn_json_get_str(doc, "apiVersion"), "");
    kn_gang_kind kind = strcmp(api, kn_gang_kind_api(KN_GANG_COSCHEDULING)) == 0 ? KN_GANG_COSCHEDULING
                        : strcmp(api, kn_gang_kind_api(KN_GANG_VOLCANO)) == 0    ? KN_GANG_VOLCANO
                                                                                 : KN_GANG_LABELS;
    if (kind == KN_GANG_LABELS)
        return kn_err_set(err, "PodGroup of apiVersion \"%.64s\": want %s or %s", api,
                          kn_gang_kind_api(KN_GANG_COSCHEDULING), kn_gang_kind_api(KN_GANG_VOLCANO));
    kn_json *pg = kn_json_clone(doc);
    kn_json *md = pg ? obj_at(pg, "metadata") : NULL;
    int rc = md == NULL ||
                     (kn_json_get_str(md, "namespace") == NULL && kn_json_set_str(md, "namespace", "default") != 0)
                 ? kn_err_set(err, "out of memory")
                 : kn_sched_apply_podgroup(sm->s, kind, pg, false, err);
    kn_json_free(pg);
    return rc;
}

/* A PodDisruptionBudget as the API server stores it: namespace and uid
 * defaulted (a uid of its own, not a pod's: pods keep theirs). Its status is
 * taken as written (none: no disruption allowed yet, as before the
 * disruption controller has counted). */
static int add_pdb(sim *sm, const kn_json *doc, kn_err *err)
{
    kn_json *b = kn_json_clone(doc);
    kn_json *md = b ? obj_at(b, "metadata") : NULL;
    const char *ns = md ? kn_json_get_str(md, "namespace") : NULL, *name = md ? kn_json_get_str(md, "name") : NULL;
    char uid[600];
    snprintf(uid, sizeof(uid), "pdb-%s-%s", ns ? ns : "default", name ? name : "");
    int rc = md == NULL || (ns == NULL && kn_json_set_str(md, "namespace", "default") != 0) ||
                     (kn_json_get_str(md, "uid") == NULL && kn_json_set_str(md, "uid", uid) != 0)
                 ? kn_err_set(err, "out of memory")
                 : kn_sched_apply_pdb(sm->s, b, false, err);
    kn_json_free(b);
    return rc;
}

static int load_doc(sim *sm, const kn_json *doc, const char *file, kn_err *err)
{
    const char *kind = kn_json_get_str(doc, "kind");
    int rc = 0;
    if (kind == NULL)
        return kn_err_set(err, "%s: a document without kind", file);
    if (strcmp(kind, "Pod") == 0) { /* the most common first */
        kn_json *p = kn_json_clone(doc);
        if (p == NULL)
            return kn_err_set(err, "out of memory");
        err->msg[0] = '\0';
        free(create_pod(sm, p, err));
        rc = err->msg[0] ? -1 : 0;
    } else if (strcmp(kind, "Node") == 0)
        rc = kn_sched_apply_node(sm->s, doc, false, err);
    else if (strcmp(kind, "NodeResourceTopology") == 0)
        rc = kn_sched_apply_nrt(sm->s, doc, false, err);
    else if (strcmp(kind, "SparkApplication") == 0)
        rc = add_sparkapp(sm, doc, err);
    else if (strcmp(kind, "PodGroup") == 0)
        rc = add_podgroup(sm, doc, err);
    else if (strcmp(kind, "PriorityClass") == 0)
        rc = kn_sim_priority_add(&sm->prio, doc, err);
    else if (strcmp(kind, "PodDisruptionBudget") == 0)
        rc = add_pdb(sm, doc, err);
    else if (kn_sim_storage_kind(kind))
        rc = kn_sim_storage_load(sm->storage, sm->s, doc, err);
    else if (strcmp(kind, "Namespace") == 0)
        rc = kn_sched_apply_namespace(sm->s, doc, false, err);
    /* other kinds (Service, ...) are not the scheduler's business */
    return rc == 0 ? 0 : kn_err_prefix(err, "%s", file);
}

static bool is_list(const kn_json *doc)
{
    const char *kind = kn_json_get_str(doc, "kind");
    return kind && strcmp(kind, "List") == 0;
}

/* pass 0: Nodes, topologies, Namespaces and storage; pass 1: the rest (kind: List items inline).
 * Pass 1 frees each document once read (free_after), so 150,000 pods are not
 * all held as JSON at once. */
static int load_pass(sim *sm, kn_json **docs, size_t n, int pass, const char *file, bool free_after, kn_err *err)
{
    for (size_t i = 0; i < n; i++) {
        if (docs[i] == NULL)
            continue;
        if (is_list(docs[i])) {
            const kn_json *items = kn_json_get(docs[i], "items");
            for (size_t j = 0; j < kn_json_len(items); j++) {
                kn_json *item = kn_json_at(items, j);
                if (load_pass(sm, &item, 1, pass, file, false, err) != 0)
                    return -1;
            }
        } else {
            const char *kind = kn_json_get_str(docs[i], "kind");
            bool infra = kind && strcmp(kind, "Pod") != 0 && /* most documents are pods */
                         (strcmp(kind, "Node") == 0 || strcmp(kind, "NodeResourceTopology") == 0 ||
                          strcmp(kind, "PriorityClass") == 0 || strcmp(kind, "PodDisruptionBudget") == 0 ||
                          strcmp(kind, "Namespace") == 0 || kn_sim_storage_kind(kind));
            if (infra == (pass == 0) && load_doc(sm, docs[i], file, err) != 0)
                return -1;
        }
        if (free_after && pass == 1) {
            kn_json_free(docs[i]);
            docs[i] = NULL;
        }
    }
    return 0;
}

static int load(sim *sm, kn_json **docs, size_t n, const char *file, kn_err *err)
{
    /* Nodes, topologies, namespaces and storage first, so pods find the cluster in place. */
    if (load_pass(sm, docs, n, 0, file, false, err) != 0 || kn_sim_storage_settle(sm->storage, sm->s, err) != 0)
        return -1;
    return load_pass(sm, docs, n, 1, file, true, err);
}

/* ---- running and reporting ---- */

static void report_binding(sim *sm, const kn_sched_binding *b)
{
    char pod[600];
    kn_pod_ref(pod, sizeof(pod), b->ns, b->name);
    sm->bindings++;
    if (sm->table) {
        push_line(&sm->lines, &sm->n_lines, &sm->cap_lines, pod, b->node, b->zones_annotation, NULL);
        return;
    }
    /* written directly: the same bytes as dumping the object, without building it */
    kn_json_writer w = KN_BUF_INIT;
    kn_json_write_raw(&w, "{\"pod\":", 7);
    kn_json_write_string(&w, pod, strlen(pod));
    kn_json_write_raw(&w, ",\"node\":", 8);
    kn_json_write_string(&w, b->node, strlen(b->node));
    kn_json_write_raw(&w, ",\"numaZones\":[", 14);
    for (int z = 0; z < b->n_zones; z++) {
        if (z)
            kn_json_write_raw(&w, ",", 1);
        kn_json_write_string(&w, b->zones[z], strlen(b->zones[z]));
    }
    kn_json_write_raw(&w, "]}", 2);
    char *text = kn_buf_finish(&w, NULL);
    if (text)
        printf("%s\n", text);
    free(text);
}

static void report_event(sim *sm, const kn_sched_event *e)
{
    char pod[600];
    kn_pod_ref(pod, sizeof(pod), e->ns, e->name);
    sm->timeouts++;
    if (sm->table) {
        push_line(&sm->events, &sm->n_events, &sm->cap_events, pod, e->reason, NULL, e->message);
        return;
    }
    kn_json *o = kn_json_new_object(), *ev = kn_json_new_object();
    if (o && ev && kn_json_set_str(ev, "pod", pod) == 0 && kn_json_set_str(ev, "reason", e->reason) == 0 &&
        kn_json_set_str(ev, "message", e->message) == 0 && kn_json_set(o, "event", ev) == 0)
        print_json(o);
    else {
        kn_json_free(ev);
        kn_json_free(o);
    }
}

/* The API server deletes a victim at once in a simulation (a live
 * cluster waits for its grace period). */
static void delete_pod(sim *sm, const char *uid)
{
    kn_json *o = kn_json_new_object(), *md = kn_json_new_object();
    kn_err err;
    if (o && md && kn_json_set_str(md, "uid", uid) == 0 && kn_json_set(o, "metadata", md) == 0) {
        md = NULL;
        kn_sched_apply_pod(sm->s, o, true, &err);
    }
    kn_json_free(md);
    kn_json_free(o);
}

static void report_victim(sim *sm, const kn_sched_victim *v)
{
    char pod[600], by[600];
    snprintf(pod, sizeof(pod), "%s/%s", v->ns, v->name);
    snprintf(by, sizeof(by), "%s/%s", v->by_ns, v->by_name);
    sm->victims++;
    if (v->gang && kn_strmap_get(&sm->gangs_evicted, v->gang) < 0 &&
        kn_grow((void **)&sm->gang_keys, &sm->cap_gang_keys, sm->n_gang_keys + 1, sizeof(char *)) == 0 &&
        (sm->gang_keys[sm->n_gang_keys] = strdup(v->gang)) != NULL &&
        kn_strmap_put(&sm->gangs_evicted, sm->gang_keys[sm->n_gang_keys], (int)sm->n_gang_keys) == 0)
        sm->n_gang_keys++;
    if (sm->table) {
        push_line(&sm->preempted, &sm->n_preempted, &sm->cap_preempted, pod, v->node, by, v->gang);
        return;
    }
    kn_json *o = kn_json_new_object(), *p = kn_json_new_object();
    if (o && p && kn_json_set_str(p, "pod", pod) == 0 && kn_json_set_str(p, "node", v->node) == 0 &&
        kn_json_set_str(p, "by", by) == 0 && kn_json_set_str(p, "byNode", v->by_node ? v->by_node : "") == 0 &&
        kn_json_set(p, "gang", v->gang ? kn_json_new_string(v->gang) : kn_json_new_null()) == 0 &&
        kn_json_set(o, "preempted", p) == 0)
        print_json(o);
    else {
        kn_json_free(p);
        kn_json_free(o);
    }
}

static void evict(sim *sm, const kn_sched_out *out)
{
    for (size_t i = 0; i < out->n_victims; i++) {
        const kn_sched_victim *v = &out->victims[i];
        report_victim(sm, v);
        if (sm->wi != NULL)
            kn_whatif_victim(sm->wi, v);
        delete_pod(sm, v->uid);
    }
}

/* Only timeouts: every other event is implied by a binding or a pending line. */
static void report_timeouts(sim *sm, const kn_sched_out *out)
{
    for (size_t i = 0; i < out->n_events; i++)
        if (strcmp(out->events[i].reason, "GangTimeout") == 0)
            report_event(sm, &out->events[i]);
}

/* Nothing more fits at *now: move the clock to the next timed work while a
 * reservation is held (its timeout may free room); false when there is none
 * or the jumps are used up, and the simulation ends. */
static bool jump_clock(sim *sm, double *now, int *jumps)
{
    kn_sched_stats st;
    kn_sched_get_stats(sm->s, &st);
    double next = kn_sched_next_deadline(sm->s);
    if (st.reservations_held == 0 || !isfinite(next) || *jumps >= SIM_MAX_JUMPS)
        return false;
    (*jumps)++;
    *now = next > *now + 1 ? next : *now + 1;
    return true;
}

/* The binding's volumes provisioned and bound as the controllers would; false
 * when they cannot be (the pod requeued with why). */
static bool volumes_bound(sim *sm, const kn_sched_binding *b, double now, kn_sched_out *out)
{
    if (b->n_vsteps == 0 && !b->wait_volumes)
        return true;
    kn_err e = {{0}};
    char why[512] = "", msg[600];
    if (kn_sim_storage_bind(sm->storage, sm->s, b, &e) != 0)
        snprintf(why, sizeof(why), "%s", e.msg);
    else if (kn_sched_volumes_ready(sm->s, b->uid, why, sizeof(why)) == 1)
        return true;
    snprintf(msg, sizeof(msg), "running PreBind plugin \"VolumeBinding\": %s", why);
    kn_sched_volumes_failed(sm->s, b->uid, msg, now, out);
    return false;
}

static int run(sim *sm, kn_err *err)
{
    kn_sched_out out;
    kn_sched_out_init(&out);
    double now = 0;
    int jumps = 0;
    for (int cycle = 0; cycle < SIM_MAX_CYCLES; cycle++) {
        kn_sched_out_reset(&out);
        int n = kn_sched_cycle(sm->s, now, &out, err);
        if (n < 0) {
            kn_sched_out_free(&out);
            return -1;
        }
        if (cycle == 0 && sm->wi != NULL) /* the first cycle rebuilt the cluster's reservations */
            kn_whatif_held(sm->wi, sm->s);
        report_timeouts(sm, &out);
        evict(sm, &out);
        size_t nb = out.n_bindings;
        for (size_t i = 0; i < nb; i++) {
            if (!volumes_bound(sm, &out.bindings[i], now, &out))
                continue;
            if (sm->wi != NULL)
                kn_whatif_binding(sm->wi, &out.bindings[i], now, jumps);
            report_binding(sm, &out.bindings[i]);
            kn_sched_bind_ok(sm->s, out.bindings[i].uid, now, &out);
            driver_bound(sm, out.bindings[i].uid, err);
        }
        if (n > 0 || out.n_victims > 0) /* a preemption: its pods are placed next */
            now += 1;
        else if (!jump_clock(sm, &now, &jumps))
            break;
    }
    kn_sched_out_free(&out);
    return 0;
}

static void each_pending(void *ctx, const char *ns, const char *name, const char *reason)
{
    char pod[600];
    kn_pod_ref(pod, sizeof(pod), ns, name);
    pending_line(ctx, pod, *reason ? reason : "not attempted");
}

static double pct(int64_t used, int64_t alloc)
{
    return alloc > 0 ? round(1000.0 * (double)used / (double)alloc) / 10.0 : 0;
}

static kn_json *summary(const sim *sm, const kn_sched_stats *st)
{
    kn_json *o = kn_json_new_object(), *pods = kn_json_new_object(), *gangs = kn_json_new_object();
    kn_json *resv = kn_json_new_object(), *util = kn_json_new_object(), *top = kn_json_new_object();
    if (!o || !pods || !gangs || !resv || !util || !top) {
        kn_json_free(o), kn_json_free(pods), kn_json_free(gangs);
        kn_json_free(resv), kn_json_free(util), kn_json_free(top);
        return NULL;
    }
    size_t pending = sm->n_outside; /* the scheduler's pending pods are among them */
    kn_json_set(pods, "bound", kn_json_new_int((int64_t)(st->pods_bound + st->pods_assumed)));
    kn_json_set(pods, "boundBySimulation", kn_json_new_int((int64_t)sm->bindings));
    kn_json_set(pods, "pending", kn_json_new_int((int64_t)pending));
    kn_json_set(gangs, "placed", kn_json_new_int((int64_t)st->gangs_placed));
    kn_json_set(gangs, "waiting", kn_json_new_int((int64_t)st->gangs_waiting));
    kn_json_set(resv, "held", kn_json_new_int((int64_t)st->reservations_held));
    kn_json_set(resv, "slots", kn_json_new_int((int64_t)st->slots_held));
    kn_json_set(resv, "timedOut", kn_json_new_int((int64_t)sm->timeouts));
    kn_json_set(util, "cpu", kn_json_new_double(pct(st->cpu_milli_used, st->cpu_milli_alloc)));
    kn_json_set(util, "memory", kn_json_new_double(pct(st->memory_used, st->memory_alloc)));
    kn_json_set(util, "gpu", kn_json_new_double(pct(st->gpu_used, st->gpu_alloc)));
    kn_json_set(o, "nodes", kn_json_new_int((int64_t)st->nodes));
    kn_json_set(o, "pods", pods);
    kn_json_set(o, "gangs", gangs);
    kn_json_set(o, "reservations", resv);
    kn_json_set(o, "utilisation", util);
    kn_json *uns = NULL; /* only when some pod set a field the scheduler does not implement */
    for (int f = 0; f < KN_PODF_COUNT; f++)
        if (st->unsupported[f] > 0 && (uns != NULL || (uns = kn_json_new_object()) != NULL))
            kn_json_set(uns, kn_pod_field_name(f), kn_json_new_int((int64_t)st->unsupported[f]));
    if (uns != NULL)
        kn_json_set(o, "unsupported", uns);
    if (sm->victims > 0) { /* absent otherwise: the same summary as before preemption existed */
        kn_json *pre = kn_json_new_object();
        kn_json_set(pre, "victims", kn_json_new_int((int64_t)sm->victims));
        kn_json_set(pre, "gangsEvicted", kn_json_new_int((int64_t)sm->n_gang_keys));
        kn_json_set(pre, "preemptors", kn_json_new_int((int64_t)st->preemptions));
        kn_json_set(o, "preemptions", pre);
    }
    kn_json_set(top, "summary", o);
    return top;
}

static void print_table(sim *sm, kn_sched_stats *st)
{
    printf("%-48s %-16s %s\n", "POD", "NODE", "NUMA ZONES");
    for (size_t i = 0; i < sm->n_lines; i++)
        printf("%-48s %-16s %s\n", sm->lines[i].pod, sm->lines[i].node, s_or(sm->lines[i].zones, "-"));
    if (sm->n_outside > 0) {
        printf("\n%-48s %s\n", "PENDING POD", "REASON");
        for (size_t i = 0; i < sm->n_outside; i++)
            printf("%-48s %s\n", sm->outside[i].pod, sm->outside[i].reason);
    }
    if (sm->n_preempted > 0) {
        printf("\n%-48s %-16s %s\n", "PREEMPTED POD", "NODE", "BY (WITH ITS GANG)");
        for (size_t i = 0; i < sm->n_preempted; i++) {
            const sim_line *l = &sm->preempted[i];
            printf("%-48s %-16s %s%s%s%s\n", l->pod, l->node, l->zones, l->reason ? " (with " : "",
                   l->reason ? l->reason : "", l->reason ? ")" : "");
        }
    }
    if (sm->n_events > 0) {
        printf("\n%-48s %-16s %s\n", "EVENT POD", "REASON", "MESSAGE");
        for (size_t i = 0; i < sm->n_events; i++)
            printf("%-48s %-16s %s\n", sm->events[i].pod, sm->events[i].node, sm->events[i].reason);
    }
    if (sm->wi != NULL)
        kn_whatif_report(sm->wi, sm->s, true);
    printf(
        "\n%zu node(s); %zu pod(s) bound (%zu by this simulation), %zu pending; gangs: %zu placed, %zu waiting; "
        "reservations held: %zu (%zu slots), %zu timed out\n",
        st->nodes, st->pods_bound + st->pods_assumed, sm->bindings, sm->n_outside, st->gangs_placed,
        st->gangs_waiting, st->reservations_held, st->slots_held, sm->timeouts);
    printf("utilisation: cpu %.1f%%, memory %.1f%%, gpu %.1f%%\n", pct(st->cpu_milli_used, st->cpu_milli_alloc),
           pct(st->memory_used, st->memory_alloc), pct(st->gpu_used, st->gpu_alloc));
    const char *sep = "pods pending on fields the scheduler does not implement: ";
    for (int f = 0; f < KN_PODF_COUNT; f++)
        if (st->unsupported[f] > 0) {
            printf("%s%s (%llu)", sep, kn_pod_field_name(f), (unsigned long long)st->unsupported[f]);
            sep = ", ";
        }
    if (sep[0] == ',')
        printf("\n");
    if (sm->victims > 0)
        printf("preempted: %zu pod(s), %zu gang(s) whole, for %llu preemptor(s)\n", sm->victims, sm->n_gang_keys,
               (unsigned long long)st->preemptions);
}

static void report(sim *sm)
{
    /* after the pods the scheduler never saw: those it holds, in arrival order */
    kn_sched_each_pending(sm->s, each_pending, sm);
    kn_sched_stats st;
    kn_sched_get_stats(sm->s, &st);
    if (sm->table) {
        print_table(sm, &st);
        return;
    }
    for (size_t i = 0; i < sm->n_outside; i++)
        print_pending_json(&sm->outside[i]);
    if (sm->wi != NULL)
        kn_whatif_report(sm->wi, sm->s, false);
    print_json(summary(sm, &st));
}

static int usage(void)
{
    fprintf(stderr,
            "usage: kubenexus-scheduler simulate [--format json|table] [--scheduler-name N] [FILE...]\n"
            "       kubenexus-scheduler simulate --kubeconfig F [--format json|table] [--scheduler-name N]\n"
            "                                    [FILE...]\n"
            "       kubenexus-scheduler simulate --print-sample\n"
            "Places the Pods and SparkApplications of the files (YAML or JSON) on their Nodes with the\n"
            "scheduler's own placement code; without FILE, a built-in sample cluster and the three\n"
            "production SparkApplications of the Spark Operator guide. With --kubeconfig, on the live\n"
            "cluster as it is now (read only, nothing written): would each application start now, where,\n"
            "and if not, what blocks it on each node.\n");
    return 2;
}

static void sim_free(sim *sm)
{
    for (size_t i = 0; i < sm->n_apps; i++) {
        kn_json_free(sm->apps[i].app);
        free(sm->apps[i].driver_uid);
        free(sm->apps[i].driver_name);
    }
    free(sm->apps);
    kn_strmap_free(&sm->driver_uids);
    kn_strmap_free(&sm->gangs_evicted);
    for (size_t i = 0; i < sm->n_gang_keys; i++)
        free(sm->gang_keys[i]);
    free(sm->gang_keys);
    free_lines(sm->preempted, sm->n_preempted);
    kn_sim_priorities_free(&sm->prio);
    kn_sim_storage_free(sm->storage);
    free_lines(sm->lines, sm->n_lines);
    free_lines(sm->outside, sm->n_outside);
    free_lines(sm->events, sm->n_events);
    kn_sched_free(sm->s);
    kn_whatif_free(sm->wi);
    kn_live_cluster_free(&sm->live);
}

/* All files' documents in memory at once (one file, or stdin among them). */
static int load_together(sim *sm, char **files, int nfiles, kn_err *err)
{
    kn_json **docs = NULL, **all = NULL;
    size_t n = 0, n_all = 0, cap = 0;
    int rc = 0;
    for (int f = 0; f < nfiles && rc == 0; f++) {
        if (kn_manifest_read_file_lists(files[f], &docs, &n, err) != 0) {
            rc = -1;
            break;
        }
        for (size_t i = 0; i < n && rc == 0; i++) {
            rc = kn_docs_push(&all, &n_all, &cap, docs[i]);
            docs[i] = NULL;
        }
        kn_yaml_free_docs(docs, n);
        if (rc != 0)
            kn_err_set(err, "out of memory");
    }
    if (rc == 0)
        rc = load(sm, all, n_all, nfiles == 1 ? files[0] : "input", err);
    kn_yaml_free_docs(all, n_all);
    return rc;
}

static int load_all(sim *sm, char **files, int nfiles, kn_err *err)
{
    kn_json **docs = NULL;
    size_t n = 0;
    if (nfiles == 0 && sm->kubeconfig != NULL)
        return 0; /* the cluster as it is */
    if (nfiles == 0) {
        if (kn_yaml_parse_docs(kn_sim_sample_yaml, strlen(kn_sim_sample_yaml), NULL, &docs, &n, err) != 0)
            return kn_err_prefix(err, "built-in sample");
        int rc = load(sm, docs, n, "built-in sample", err);
        kn_yaml_free_docs(docs, n);
        return rc;
    }
    bool from_stdin = false;
    for (int f = 0; f < nfiles; f++)
        from_stdin = from_stdin || strcmp(files[f], "-") == 0;
    if (nfiles == 1 || from_stdin)
        return load_together(sm, files, nfiles, err);
    /* Several files: every file's Nodes, topologies and Namespaces first (a pod file may
     * come before its nodes), then the rest; each file is read twice so that
     * only one file's documents are held at a time. */
    for (int pass = 0; pass < 2; pass++) {
        for (int f = 0; f < nfiles; f++) {
            if (kn_manifest_read_file_lists(files[f], &docs, &n, err) != 0)
                return -1;
            int rc = load_pass(sm, docs, n, pass, files[f], pass == 1, err);
            kn_yaml_free_docs(docs, n);
            if (rc != 0)
                return -1;
        }
        if (pass == 0 && kn_sim_storage_settle(sm->storage, sm->s, err) != 0)
            return -1;
    }
    return 0;
}

/* The cluster read for a live what-if: the clock starts now. */
static int read_live(sim *sm, kn_err *err)
{
    if ((sm->wi = kn_whatif_new((double)sm->created_base)) == NULL)
        return kn_err_set(err, "out of memory");
    if (kn_live_cluster_read(sm->s, sm->storage, sm->kubeconfig, &sm->prio, &sm->live, err) != 0)
        return -1;
    return kn_sim_storage_settle(sm->storage, sm->s, err);
}

int kn_simulate_main(int argc, char **argv)
{
    sim sm;
    memset(&sm, 0, sizeof(sm));
    sm.sched_name = KN_DEFAULT_SCHEDULER_NAME;
    int nfiles = 0;
    char **files = calloc((size_t)argc + 1, sizeof(char *));
    if (files == NULL)
        return 1;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
            const char *f = argv[++i];
            if (strcmp(f, "table") != 0 && strcmp(f, "json") != 0) {
                free(files);
                return usage();
            }
            sm.table = strcmp(f, "table") == 0;
        } else if (strcmp(argv[i], "--print-sample") == 0) {
            fputs(kn_sim_sample_yaml, stdout);
            free(files);
            return 0;
        } else if ((v = kn_flag_value(argc, argv, &i, "--kubeconfig")) != NULL && *v != '\0') {
            sm.kubeconfig = v;
        } else if ((v = kn_flag_value(argc, argv, &i, "--scheduler-name")) != NULL && *v != '\0') {
            sm.sched_name = v;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0 ||
                   (argv[i][0] == '-' && argv[i][1] != '\0')) {
            free(files);
            return usage();
        } else {
            files[nfiles++] = argv[i];
        }
    }
    sm.acfg.scheduler_name = sm.sched_name;
    kn_err err = {{0}};
    int rc = 0;
    kn_sched_config cfg = {.scheduler_name = sm.sched_name};
    if (sm.kubeconfig != NULL) { /* reservations rebuilt from the drivers' bindings, on our clock */
        sm.created_base = time(NULL);
        cfg.wall_at_zero = (double)sm.created_base;
    }
    if ((sm.storage = kn_sim_storage_new()) == NULL)
        kn_err_set(&err, "out of memory");
    if (sm.storage == NULL || (sm.s = kn_sched_new(&cfg, &err)) == NULL ||
        (sm.kubeconfig != NULL && read_live(&sm, &err) != 0) || load_all(&sm, files, nfiles, &err) != 0 ||
        run(&sm, &err) != 0) {
        fprintf(stderr, "kubenexus-scheduler simulate: %s\n", err.msg);
        rc = 1;
    } else {
        report(&sm);
    }
    free(files);
    sim_free(&sm);
    return rc;
}
