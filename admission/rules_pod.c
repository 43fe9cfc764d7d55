/* rules_pod.c - admission rules for v1 Pods (CREATE): gang members as Spark,
 * the Spark Operator or anyone else create them.
 *
 * Pods with neither gang labels nor the spark-role label are allowed after
 * reading their labels only: this runs for every pod in the cluster. A gang
 * may also be named by PodGroup (spark/gang.h): its driver's reservation is
 * then not held to a min-available label. */
#include <stdio.h>
#include <string.h>

#include "spark/gang.h"
#include "spark/numa.h"
#include "admission/patch.h"
#include "admission/rules.h"
#include "spark/sparkapp.h"

static bool has_any_label(const kn_json *labels)
{
    static const char *const keys[] = {KN_GANG_NAME_LABEL, KN_GANG_MIN_LABEL, KN_GANG_SIGS_NAME_LABEL,
                                       KN_GANG_SIGS_MIN_LABEL, KN_SPARK_ROLE_LABEL};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (kn_json_get(labels, keys[i]) != NULL)
            return true;
    return false;
}

/* The driver's reservation must describe exactly the gang's other members. */
static void check_reservation(const kn_json *annotations, const kn_gang_spec *gang, const kn_json *labels,
                              kn_decision *d)
{
    const char *text = kn_json_get_str(annotations, KN_EXECUTOR_RESERVATION_ANNOTATION);
    if (text == NULL)
        return;
    kn_executor_reservation res;
    kn_err err = {{0}};
    if (kn_executor_reservation_parse(text, &res, &err) != 0) {
        kn_decision_deny(d, "annotation %s: %s", KN_EXECUTOR_RESERVATION_ANNOTATION, err.msg);
        return;
    }
    if (!gang->present) {
        kn_decision_warn(d, "annotation %s is ignored: the pod has no gang labels",
                         KN_EXECUTOR_RESERVATION_ANNOTATION);
        return;
    }
    /* a PodGroup's size is out of sight: the scheduler places the driver and
     * its slots whatever minMember says */
    if (gang->kind == KN_GANG_LABELS && res.count + 1 != gang->min_available) {
        const char *label = gang->min_label != NULL ? gang->min_label : KN_GANG_MIN_LABEL;
        const char *found = kn_json_get_str(labels, label);
        char shown[80];
        if (found != NULL)
            snprintf(shown, sizeof(shown), "is \"%.63s\"", found);
        else
            snprintf(shown, sizeof(shown), "is missing");
        kn_decision_deny(d, "label %s %s, want \"%d\" (1 driver + %d %s reserved by annotation %s)", label, shown,
                         res.count + 1, res.count, res.count == 1 ? "executor" : "executors",
                         KN_EXECUTOR_RESERVATION_ANNOTATION);
    }
}

static void fix_scheduler(const kn_rules_input *in, const kn_gang_spec *gang, kn_decision *d)
{
    const char *want = kn_rules_scheduler_name(in->cfg);
    const kn_json *v = kn_json_dig(in->object, "spec", "schedulerName", NULL);
    const char *s = kn_json_str(v);
    if (s != NULL && strcmp(s, want) == 0)
        return;
    if (v == NULL || kn_json_is(v, KN_JSON_NULL) ||
        (s != NULL && (s[0] == '\0' || strcmp(s, "default-scheduler") == 0))) {
        /* The API server has defaulted it to default-scheduler: replace. */
        if (kn_patch_set(&d->ops, in->object, (const char *const[]){"spec", "schedulerName"}, 2,
                         kn_json_new_string(want)) != 0)
            kn_decision_deny(d, "out of memory building the patch");
        return;
    }
    kn_decision_warn(d, "schedulerName \"%.40s\" may ignore gang \"%.40s\"; kubenexus gangs need %s",
                     s != NULL ? s : "?", gang->name, want);
}

void kn_rules_pod(const kn_rules_input *in, kn_decision *d)
{
    const kn_json *labels = kn_json_dig(in->object, "metadata", "labels", NULL);
    if (!has_any_label(labels))
        return;
    const kn_json *annotations = kn_json_dig(in->object, "metadata", "annotations", NULL);
    kn_gang_spec gang;
    kn_numa_spec numa;
    kn_err err = {{0}};
    if (kn_gang_from_pod(labels, annotations, &gang, &err) != 0) {
        kn_decision_deny(d, "%s", err.msg);
        return;
    }
    if (kn_numa_from_annotations(annotations, &numa, &err) != 0) {
        kn_decision_deny(d, "annotations: %s", err.msg);
        return;
    }
    check_reservation(annotations, &gang, labels, d);
    /* a pod naming a PodGroup may be meant for a default-scheduler that runs
     * the coscheduling plugin: left where it is */
    if (d->allowed && gang.present && gang.kind == KN_GANG_LABELS)
        fix_scheduler(in, &gang, d);
}
