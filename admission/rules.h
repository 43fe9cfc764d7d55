/* rules.h - the admission rules, independent of HTTP and of AdmissionReview.
 *
 * One object in (as the API server sends it to a webhook, or as read from a
 * file by `kubenexus-webhook check`), one decision out:
 *   allowed or denied with a message that names the object, the field, the
 *   value found and the value expected; warnings (each < 120 chars); and a
 *   JSON Patch (RFC 6902 array) that applies to the object as sent.
 * Kinds and operations not handled are allowed with no patch. In
 * KN_ADMIT_VALIDATE mode the same checks run but the patch is always empty.
 * Pure function: no global state, no side effects (dryRun needs nothing). */
#ifndef KN_RULES_H
#define KN_RULES_H

#include <stdbool.h>

#include "admission/admission.h"
#include "json/json.h"
#include "admission/patch.h"

#define KN_WARNING_MAX 119 /* kube-apiserver truncates longer warnings */
#define KN_MAX_WARNINGS 8
#define KN_DECISION_MSG_MAX 1024
#define KN_DEFAULT_SCHEDULER_NAME "kubenexus-scheduler"

typedef enum { KN_OBJ_OTHER, KN_OBJ_POD, KN_OBJ_SPARKAPP } kn_obj_kind;

typedef struct kn_rules_input {
    const char *group;     /* "" for core */
    const char *version;   /* "v1", "v1beta2" */
    const char *kind;      /* "Pod", "SparkApplication" */
    const char *operation; /* "CREATE", "UPDATE", "DELETE", "CONNECT" */
    const char *ns;        /* for messages; may be NULL (taken from the object) */
    const char *name;      /* for messages; may be NULL (taken from the object) */
    const kn_json *object;
    const kn_json *old_object; /* UPDATE: the stored object; else NULL */
    kn_admit_mode mode;
    const kn_admit_config *cfg; /* may be NULL: defaults */
    bool patch_ops_only;        /* leave kn_decision.patch NULL: the caller reads ops
                            (kn_admit_http writes them as text, no tree) */
} kn_rules_input;

typedef struct kn_decision {
    kn_obj_kind kind;
    char subject[320]; /* "SparkApplication spark-jobs/data-processing" */
    bool allowed;
    char message[KN_DECISION_MSG_MAX]; /* when denied: "<Kind> <ns>/<name>: ..." */
    kn_patch_list ops;                 /* the patch; none = no change */
    kn_json *patch;                    /* the same as an array of ops, never NULL (unless
                          in->patch_ops_only or out of memory) */
    int n_warnings;
    char warnings[KN_MAX_WARNINGS][KN_WARNING_MAX + 1];
} kn_decision;

/* Which rule set an object falls under (Pod v1, SparkApplication
 * sparkoperator.k8s.io/v1beta2, else other). */
kn_obj_kind kn_rules_classify(const char *group, const char *version, const char *kind);
const char *kn_obj_kind_name(kn_obj_kind k); /* "Pod", "SparkApplication", "other" */

/* Fills out (which the caller frees with kn_decision_free). Returns 0, or -1
 * only when out of memory (out is then a denial saying so). */
int kn_rules_evaluate(const kn_rules_input *in, kn_decision *out);
void kn_decision_free(kn_decision *d);

/* Helpers for the rule sets. */
/* Denies with "<Kind> <ns>/<name>: <formatted>"; a further denial is listed after
 * "; ", as kube-apiserver lists every field error of an object. */
void kn_decision_deny(kn_decision *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adds a warning, shortened to KN_WARNING_MAX chars; extra warnings are dropped. */
void kn_decision_warn(kn_decision *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *kn_rules_scheduler_name(const kn_admit_config *cfg);

/* The rule sets (rules_pod.c, rules_sparkapp.c); in->object is an object and
 * d is initialised (allowed, empty patch, subject set). */
void kn_rules_pod(const kn_rules_input *in, kn_decision *d);
void kn_rules_sparkapp(const kn_rules_input *in, kn_decision *d);

#endif
