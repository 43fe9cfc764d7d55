/* rules_sparkapp.c - admission rules for SparkApplications (v1beta2, CREATE/UPDATE).
 *
 * Order: sizes, NUMA, executor count, gang labels, batchScheduler,
 * schedulerName, executor reservation. Every independent problem is listed
 * in the one denial, as kube-apiserver lists every field error of an object,
 * so a user fixes them all in one go; a check that needs an earlier one's
 * answer (the gang's size needs the executor count) runs only once it is
 * known.
 *
 * A role's gang is declared as a pod's is (spark/gang.h): kubenexus or sigs
 * labels (effective labels: metadata.labels merged with the role's), else the
 * coscheduling label naming a PodGroup, else Volcano's annotation in the
 * role's annotations. Both roles must declare the same gang; min-available is
 * checked for labels only (a PodGroup holds its own size, out of the
 * webhook's sight).
 *
 * spec.batchScheduler hands the gang to the Spark Operator's batch scheduler
 * integrations (kubeflow/spark-operator internal/scheduler):
 *   "volcano"   a scheduling.volcano.sh/v1beta1 PodGroup spark-<app>-pg
 *               (minMember 1, minResources the driver and executors, or
 *               batchSchedulerOptions.resources; queue and priorityClassName
 *               from batchSchedulerOptions), the annotation
 *               scheduling.k8s.io/group-name on both roles, and the pods'
 *               schedulerName "volcano";
 *   "yunikorn"  YuniKorn's task groups;
 *   any other   a name among the operator's --kube-scheduler-names: a
 *               scheduling.x-k8s.io/v1alpha1 PodGroup <app>-pg (minMember 1,
 *               minResources the driver and executors), the label
 *               scheduling.x-k8s.io/pod-group on the app (so on both pods),
 *               and the pods' schedulerName that name.
 * Either way the pods leave kubenexus-scheduler. For an app that is a gang of
 * ours (declared, filled in, or batchScheduler naming our scheduler) the
 * mutating webhook translates: spec.batchScheduler and
 * spec.batchSchedulerOptions are removed, batchSchedulerOptions.priorityClassName
 * moves to the roles, and a warning says so (/validate, where nothing is
 * patched, denies one left untranslated). What has no kubenexus equivalent is
 * denied with the reason (a Volcano queue, a priorityClassName that
 * contradicts a role's, YuniKorn). An app that is no gang of ours keeps its
 * batchScheduler, with a warning that explains where its pods go. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spark/gang.h"
#include "spark/numa.h"
#include "admission/patch.h"
#include "admission/rules.h"
#include "spark/spark.h"
#include "spark/sparkapp.h"

typedef struct role_info {
    kn_spark_role role;
    const char *name; /* "driver" / "executor" */
    const kn_json *spec;
    const kn_json *labels;      /* effective labels (kn_sparkapp_labels_view) */
    const kn_json *annotations; /* the role's own (the operator copies only those) */
    kn_json *labels_copy;       /* what labels points to when it is a merged copy */
    kn_gang_spec gang;
} role_info;

/* spec.batchScheduler as the Spark Operator reads it (see the top). */
typedef enum { BATCH_NONE, BATCH_VOLCANO, BATCH_YUNIKORN, BATCH_KUBE } batch_kind;

typedef struct app_ctx {
    const kn_rules_input *in;
    kn_decision *d;
    const kn_json *app;
    role_info r[2];
    int n;                      /* initial executor count */
    bool dynamic;               /* dynamic allocation */
    kn_resources exec_requests; /* an executor pod's, once check_sizes passed */
    batch_kind batch;
    const char *batch_name; /* spec.batchScheduler, or NULL */
    bool batch_is_us;       /* it names our scheduler (the operator's kube-scheduler integration) */
    bool labels_patched;    /* the patch writes a role's labels (gang labels filled in) */
} app_ctx;

static void patch_role(app_ctx *c, const role_info *r, const char *map, const char *key, kn_json *value)
{
    const char *tok[4] = {"spec", r->name, map, key};
    c->labels_patched = c->labels_patched || strcmp(map, "labels") == 0;
    if (kn_patch_set(&c->d->ops, c->app, tok, key != NULL ? 4 : 3, value) != 0)
        kn_decision_deny(c->d, "out of memory building the patch");
}

/* ---- sizes Spark or Kubernetes would reject later ---- */

/* 0, or -1 when the executor count is unknown (a gang's size cannot be judged). */
static int check_sizes(app_ctx *c)
{
    kn_err err = {{0}};
    int rc = 0;
    if (kn_sparkapp_executor_count(c->app, &c->n, &c->dynamic, &err) != 0) {
        kn_decision_deny(c->d, "%s", err.msg);
        rc = -1;
    } else if (!c->dynamic && c->n == 0) {
        kn_decision_deny(c->d, "spec.executor.instances is 0: the application would never get an executor; "
                               "set it to at least 1 (or enable dynamic allocation)");
        rc = -1; /* no gang size to judge against */
    }
    /* Spark's sizing rules name the field and the fix: "4Gi" (Spark wants 4g),
     * cores 0, coreLimit below the request, ... */
    for (int i = 0; i < 2; i++) {
        kn_resources *req = c->r[i].role == KN_SPARK_EXECUTOR ? &c->exec_requests : NULL;
        if (kn_sparkapp_pod_resources(c->app, c->r[i].role, req, NULL, &err) != 0)
            kn_decision_deny(c->d, "%s", err.msg);
    }
    return rc;
}

static void check_numa(app_ctx *c)
{
    for (int i = 0; i < 2; i++) {
        kn_numa_spec numa;
        kn_err err = {{0}};
        if (kn_numa_from_annotations(kn_json_get(c->r[i].spec, "annotations"), &numa, &err) != 0)
            kn_decision_deny(c->d, "spec.%s.annotations: %s", c->r[i].name, err.msg);
    }
}

/* ---- gang labels ---- */

static const char *min_label_of(const role_info *r)
{
    return r->gang.name_label != NULL && strcmp(r->gang.name_label, KN_GANG_SIGS_NAME_LABEL) == 0
               ? KN_GANG_SIGS_MIN_LABEL
               : KN_GANG_MIN_LABEL;
}

static const char *executors_word(int n)
{
    return n == 1 ? "executor" : "executors";
}

/* Fills missing gang labels (name = app name, min = 1 + N) on both roles. */
static int fill_gang(app_ctx *c)
{
    const char *app_name = kn_json_get_str(kn_json_get(c->app, "metadata"), "name");
    char name[KN_LABEL_VALUE_MAX + 1];
    snprintf(name, sizeof(name), "%s", app_name != NULL ? app_name : "");
    size_t len = strlen(name);
    while (len > 0 &&
           !((name[len - 1] >= 'a' && name[len - 1] <= 'z') || (name[len - 1] >= '0' && name[len - 1] <= '9')))
        name[--len] = '\0';
    if (len == 0 || !kn_label_value_valid(name))
        return kn_decision_deny(c->d, "cannot derive a gang name from metadata.name; set label %s on both roles",
                                KN_GANG_NAME_LABEL),
               -1;
    char min[16];
    snprintf(min, sizeof(min), "%d", 1 + c->n);
    for (int i = 0; i < 2; i++) {
        role_info *r = &c->r[i];
        if (!r->gang.present) {
            patch_role(c, r, "labels", KN_GANG_NAME_LABEL, kn_json_new_string(name));
            snprintf(r->gang.name, sizeof(r->gang.name), "%s", name);
            r->gang.present = true;
            r->gang.name_label = KN_GANG_NAME_LABEL;
        }
        patch_role(c, r, "labels", KN_GANG_MIN_LABEL, kn_json_new_string(min));
        r->gang.min_available = 1 + c->n;
    }
    return 0;
}

static int check_min_available(app_ctx *c)
{
    int want = 1 + c->n;
    for (int i = 0; i < 2; i++) {
        role_info *r = &c->r[i];
        const char *label = min_label_of(r);
        const char *found = kn_json_get_str(r->labels, label);
        if (r->gang.min_available == want && (found != NULL || want == 1))
            continue; /* a name alone is a gang of 1 */
        if (found == NULL && c->in->cfg != NULL && c->in->cfg->fill_gang_labels) {
            char v[16];
            snprintf(v, sizeof(v), "%d", want);
            patch_role(c, r, "labels", label, kn_json_new_string(v));
            continue;
        }
        char shown[96];
        if (found != NULL)
            snprintf(shown, sizeof(shown), "is \"%.63s\"", found);
        else
            snprintf(shown, sizeof(shown), "is missing");
        return kn_decision_deny(c->d, "%s label %s %s, want \"%d\" (1 driver + %d %s%s)", r->name, label, shown,
                                want, c->n, c->dynamic ? "initial " : "", executors_word(c->n)),
               -1;
    }
    return 0;
}

/* 1 = a gang, 0 = not a gang (done), -1 = denied. */
static int check_gang(app_ctx *c)
{
    role_info *dr = &c->r[0], *ex = &c->r[1];
    int bad = 0;
    for (int i = 0; i < 2; i++) {
        kn_err err = {{0}};
        if (kn_gang_from_pod_for(c->r[i].labels, c->r[i].annotations, c->n, c->dynamic, &c->r[i].gang, &err) !=
            0) {
            kn_decision_deny(c->d, "%s %s", c->r[i].name, err.msg);
            bad = -1;
        }
    }
    if (bad)
        return -1;
    if (!dr->gang.present && !ex->gang.present) {
        if ((c->in->cfg == NULL || !c->in->cfg->fill_gang_labels) && !c->batch_is_us)
            return 0;
        return fill_gang(c) == 0 ? 1 : -1;
    }
    if (dr->gang.present != ex->gang.present) {
        const role_info *has = dr->gang.present ? dr : ex, *lacks = dr->gang.present ? ex : dr;
        bool ann = has->gang.kind == KN_GANG_VOLCANO;
        return kn_decision_deny(c->d,
                                "gang %s %s is \"%s\" on the %s but missing on the %s; "
                                "add it to spec.%s.%s",
                                kn_gang_key_what(&has->gang), has->gang.name_label, has->gang.name, has->name,
                                lacks->name, lacks->name,
                                ann ? "annotations" : "labels (or to metadata.labels for both roles)"),
               -1;
    }
    if (dr->gang.kind != ex->gang.kind || strcmp(dr->gang.name, ex->gang.name) != 0)
        return kn_decision_deny(c->d,
                                "gang name differs between roles: driver %s %s is \"%s\", executor %s %s "
                                "is \"%s\"; want the same name on both, or the pods never form one gang",
                                kn_gang_key_what(&dr->gang), dr->gang.name_label, dr->gang.name,
                                kn_gang_key_what(&ex->gang), ex->gang.name_label, ex->gang.name),
               -1;
    if (dr->gang.kind != KN_GANG_LABELS)
        return 1; /* the PodGroup holds the size */
    return check_min_available(c) == 0 ? 1 : -1;
}

/* ---- who schedules the gang ---- */

/* Why /validate finds a gang the mutating webhook should have completed. */
#define NOT_MUTATED                                                                                               \
    "the kubenexus mutating webhook did not run on this application (check that the "                             \
    "MutatingWebhookConfiguration kubenexus-webhook exists and selects its namespace)"

static void read_batch(app_ctx *c)
{
    const char *b = kn_json_str(kn_json_dig(c->app, "spec", "batchScheduler", NULL));
    c->batch_name = b != NULL && b[0] != '\0' ? b : NULL;
    c->batch = c->batch_name == NULL                    ? BATCH_NONE
               : strcmp(c->batch_name, "volcano") == 0  ? BATCH_VOLCANO
               : strcmp(c->batch_name, "yunikorn") == 0 ? BATCH_YUNIKORN
                                                        : BATCH_KUBE;
    c->batch_is_us = c->batch == BATCH_KUBE && strcmp(c->batch_name, kn_rules_scheduler_name(c->in->cfg)) == 0;
}

/* The PodGroup the operator's integration would create for the app. */
static const char *operator_podgroup(const app_ctx *c, char *buf, size_t cap)
{
    const char *app = kn_json_get_str(kn_json_get(c->app, "metadata"), "name");
    snprintf(buf, cap, c->batch == BATCH_VOLCANO ? "spark-%.200s-pg" : "%.200s-pg", app != NULL ? app : "");
    return buf;
}

/* An app that is no gang of ours, handed to a batch scheduler: allowed, told where its pods go. */
static void explain_batch(app_ctx *c)
{
    char pg[256];
    if (c->batch == BATCH_NONE)
        return;
    const char *want = kn_rules_scheduler_name(c->in->cfg);
    if (c->batch == BATCH_YUNIKORN)
        kn_decision_warn(c->d, "spec.batchScheduler \"yunikorn\": YuniKorn schedules the pods, not %s", want);
    else
        kn_decision_warn(c->d, "spec.batchScheduler \"%.40s\": %s%.40s places the pods (PodGroup %s), not %s",
                         c->batch_name, c->batch == BATCH_VOLCANO ? "" : "scheduler ",
                         c->batch == BATCH_VOLCANO ? "Volcano" : c->batch_name,
                         operator_podgroup(c, pg, sizeof(pg)), want);
    kn_decision_warn(c->d, "to gang them with %s, set label %s or remove spec.batchScheduler", want,
                     KN_GANG_NAME_LABEL);
}

/* A gang of ours with spec.batchScheduler: translated where nothing the user
 * asked for is lost, else denied saying what has no equivalent. */
static int translate_batch(app_ctx *c)
{
    char pg[256];
    if (c->batch == BATCH_NONE)
        return 0;
    if (c->batch == BATCH_YUNIKORN)
        return kn_decision_deny(
                   c->d,
                   "spec.batchScheduler is \"yunikorn\": the Spark Operator would hand the pods to "
                   "YuniKorn and the gang \"%s\" would be silently ignored; remove spec.batchScheduler",
                   c->r[0].gang.name),
               -1;
    const kn_json *opts = kn_json_dig(c->app, "spec", "batchSchedulerOptions", NULL);
    if (c->batch == BATCH_VOLCANO) {
        const char *queue = kn_json_get_str(opts, "queue");
        if (queue != NULL && queue[0] != '\0')
            return kn_decision_deny(
                       c->d,
                       "spec.batchSchedulerOptions.queue is \"%.63s\": the Spark Operator would "
                       "put Volcano PodGroup %s in that queue, and kubenexus-scheduler has no queues; "
                       "remove spec.batchScheduler and spec.batchSchedulerOptions to have the gang \"%s\" "
                       "of 1 driver + %d %s scheduled by %s",
                       queue, operator_podgroup(c, pg, sizeof(pg)), c->r[0].gang.name, c->n, executors_word(c->n),
                       kn_rules_scheduler_name(c->in->cfg)),
                   -1;
        const char *pcn = kn_json_get_str(opts, "priorityClassName");
        for (int i = 0; pcn != NULL && pcn[0] != '\0' && i < 2; i++) {
            const char *have = kn_json_get_str(c->r[i].spec, "priorityClassName");
            if (have == NULL || have[0] == '\0')
                patch_role(c, &c->r[i], "priorityClassName", NULL, kn_json_new_string(pcn));
            else if (strcmp(have, pcn) != 0)
                return kn_decision_deny(
                           c->d,
                           "spec.batchSchedulerOptions.priorityClassName is \"%.63s\" but "
                           "spec.%s.priorityClassName is \"%.63s\": kubenexus-scheduler orders a gang "
                           "by its pods' priority; give both roles one priorityClassName and remove "
                           "spec.batchScheduler",
                           pcn, c->r[i].name, have),
                       -1;
        }
        if (kn_json_get(opts, "resources") != NULL)
            kn_decision_warn(c->d,
                             "spec.batchSchedulerOptions.resources dropped: the driver reserves room for "
                             "exactly its %d %s",
                             c->n, executors_word(c->n));
    }
    if (c->in->mode == KN_ADMIT_VALIDATE) /* the backstop: mutation should have removed it */
        return kn_decision_deny(c->d,
                                "spec.batchScheduler is \"%.63s\": " NOT_MUTATED "; the Spark Operator would "
                                "hand the pods to it and the gang \"%s\" would be silently ignored",
                                c->batch_name, c->r[0].gang.name),
               -1;
    static const char *const batch[] = {"spec", "batchScheduler"}, *const options[] = {"spec",
                                                                                       "batchSchedulerOptions"};
    if (kn_patch_remove(&c->d->ops, c->app, batch, 2) != 0 || kn_patch_remove(&c->d->ops, c->app, options, 2) != 0)
        return kn_decision_deny(c->d, "out of memory building the patch"), -1;
    kn_decision_warn(c->d, "spec.batchScheduler \"%.40s\" removed: %s gangs driver + %d %s itself", c->batch_name,
                     kn_rules_scheduler_name(c->in->cfg), c->n, executors_word(c->n));
    return 0;
}

static int check_schedulers(app_ctx *c)
{
    const char *want = kn_rules_scheduler_name(c->in->cfg);
    for (int i = 0; i < 2; i++) {
        const role_info *r = &c->r[i];
        const kn_json *v = kn_json_get(r->spec, "schedulerName");
        const char *s = kn_json_str(v);
        if (v == NULL || kn_json_is(v, KN_JSON_NULL) || (s != NULL && s[0] == '\0')) {
            if (c->in->mode == KN_ADMIT_VALIDATE) { /* the backstop: mutation should have set it */
                kn_decision_deny(c->d,
                                 "spec.%s.schedulerName is not set, want \"%s\": " NOT_MUTATED
                                 "; the pods would go to the default scheduler one by one",
                                 r->name, want);
                continue;
            }
            patch_role(c, r, "schedulerName", NULL, kn_json_new_string(want));
            continue;
        }
        if (s == NULL || strcmp(s, want) != 0)
            return kn_decision_deny(c->d,
                                    "spec.%s.schedulerName is \"%.63s\", want \"%s\": another scheduler "
                                    "would ignore the gang \"%s\" and start its pods one by one",
                                    r->name, s != NULL ? s : "not a string", want, r->gang.name),
                   -1;
    }
    return 0;
}

/* ---- driver-first executor reservation ---- */

static const char *existing_reservation(const app_ctx *c)
{
    return kn_json_get_str(kn_json_get(c->r[0].spec, "annotations"), KN_EXECUTOR_RESERVATION_ANNOTATION);
}

/* A reservation annotation already on the app must be well-formed (and, for
 * a gang, carry count N) whenever this webhook does not rewrite it. At
 * /validate, after every mutating webhook, a gang must have one. */
static int check_reservation(app_ctx *c, bool gang)
{
    const char *have = existing_reservation(c);
    if (have == NULL && gang && c->in->mode == KN_ADMIT_VALIDATE && c->n > 0)
        return kn_decision_deny(c->d,
                                "spec.driver.annotations[%s] is missing: " NOT_MUTATED "; the driver would "
                                "wait forever for its executors, which Spark creates only once the driver runs",
                                KN_EXECUTOR_RESERVATION_ANNOTATION),
               -1;
    if (have == NULL)
        return 0;
    kn_executor_reservation res;
    kn_err err = {{0}};
    if (kn_executor_reservation_parse(have, &res, &err) != 0)
        return kn_decision_deny(c->d, "spec.driver.annotations[%s]: %s", KN_EXECUTOR_RESERVATION_ANNOTATION,
                                err.msg),
               -1;
    if (gang && res.count != c->n)
        return kn_decision_deny(c->d,
                                "spec.driver.annotations[%s] has count %d, want %d (the executors of the gang)",
                                KN_EXECUTOR_RESERVATION_ANNOTATION, res.count, c->n),
               -1;
    return 0;
}

/* The application as the patch built so far leaves it, when that patch
 * writes a role's labels (the gang labels filled in): the reservation's
 * "labels" are the executors' as they will be, so the next review of the
 * patched object asks for no change. NULL: c->app as sent will do (or out
 * of memory, said in the decision). */
static kn_json *app_as_patched(app_ctx *c)
{
    if (!c->labels_patched)
        return NULL;
    kn_err err = {{0}};
    kn_json *patch = kn_patch_json(&c->d->ops);
    kn_json *app = patch != NULL ? kn_json_patch_apply(c->app, patch, &err) : NULL;
    kn_json_free(patch);
    if (app == NULL)
        kn_decision_deny(c->d, "building the executor reservation: %s", patch ? err.msg : "out of memory");
    return app;
}

static void add_reservation(app_ctx *c)
{
    kn_err err = {{0}};
    kn_json *patched = app_as_patched(c);
    char *text = kn_sparkapp_reservation_of(patched ? patched : c->app, c->n, &c->exec_requests, &err);
    kn_json_free(patched);
    if (text == NULL) {
        kn_decision_deny(c->d, "%s", err.msg);
        return;
    }
    const char *have = existing_reservation(c);
    if (have == NULL || strcmp(have, text) != 0)
        patch_role(c, &c->r[0], "annotations", KN_EXECUTOR_RESERVATION_ANNOTATION, kn_json_new_string(text));
    free(text);
}

static void run_rules(app_ctx *c)
{
    bool counted = check_sizes(c) == 0;
    check_numa(c);
    if (!counted)
        return;
    read_batch(c);
    int gang = check_gang(c);
    if (gang < 0)
        return;
    if (gang == 0) {
        explain_batch(c);
        check_reservation(c, false);
        return;
    }
    if (translate_batch(c) != 0 || check_schedulers(c) != 0 || !c->d->allowed)
        return;
    if (c->dynamic)
        kn_decision_warn(c->d,
                         "dynamic allocation: the gang holds 1 driver + %d executors; executors beyond %d "
                         "are scheduled outside the gang",
                         c->n, c->n);
    if (c->in->mode == KN_ADMIT_VALIDATE)
        check_reservation(c, true);
    else
        add_reservation(c);
}

/* An UPDATE that leaves spec and metadata.labels (which the operator copies
 * to the pods) as they were changes nothing a gang is built from: annotations,
 * finalizers, ownerReferences. Judging it again would only stop such edits to
 * an app admitted before a stricter rule, the ratcheting kube-apiserver
 * applies to CRD validation. */
static bool gang_unchanged(const kn_rules_input *in)
{
    if (strcmp(in->operation, "UPDATE") != 0 || !kn_json_is(in->old_object, KN_JSON_OBJECT))
        return false;
    const kn_json *now = kn_json_get(in->object, "metadata"), *was = kn_json_get(in->old_object, "metadata");
    return kn_json_equal(kn_json_get(in->object, "spec"), kn_json_get(in->old_object, "spec")) &&
           kn_json_equal(kn_json_get(now, "labels"), kn_json_get(was, "labels"));
}

void kn_rules_sparkapp(const kn_rules_input *in, kn_decision *d)
{
    /* An object being deleted only loses finalizers: never block that. */
    if (kn_json_dig(in->object, "metadata", "deletionTimestamp", NULL) != NULL || gang_unchanged(in))
        return;
    app_ctx c = {.in = in, .d = d, .app = in->object};
    for (int i = 0; i < 2; i++) {
        role_info *r = &c.r[i];
        r->role = i == 0 ? KN_SPARK_DRIVER : KN_SPARK_EXECUTOR;
        r->name = kn_sparkapp_role_name(r->role);
        r->spec = kn_sparkapp_role(c.app, r->role);
        r->labels = kn_sparkapp_labels_view(c.app, r->role, &r->labels_copy);
        r->annotations = kn_json_get(r->spec, "annotations");
        if (r->labels == NULL)
            kn_decision_deny(d, "out of memory");
    }
    if (d->allowed)
        run_rules(&c);
    kn_json_free(c.r[0].labels_copy);
    kn_json_free(c.r[1].labels_copy);
}
