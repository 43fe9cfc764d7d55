/* gang.h - the gang (pod group) a pod belongs to, from its labels and annotations.
 *
 *   pod-group.scheduling.kubenexus.io/name           a legal label value (<= 63 chars,
 *                                                     [A-Za-z0-9] at both ends, -_. inside)
 *   pod-group.scheduling.kubenexus.io/min-available  a plain positive decimal integer
 *                                                     ("4"; not "04", "+4", "4.0", "1e1"),
 *                                                     at most KN_GANG_MAX_MEMBERS
 * When neither kubenexus label is present, pod-group.scheduling.sigs.k8s.io/{name,min-available}
 * are read instead (coscheduling plugin users). A name without min-available
 * is a gang of min-available 1; min-available without a name is an error.
 *
 * A gang may also be a PodGroup object that the pod names, as the
 * coscheduling plugin and Volcano read them (the Spark Operator's
 * batchScheduler integrations write these):
 *   label scheduling.x-k8s.io/pod-group        a scheduling.x-k8s.io/v1alpha1 PodGroup
 *   annotation scheduling.k8s.io/group-name    a scheduling.volcano.sh/v1beta1 PodGroup
 * whose spec holds the size (minMember), the room it needs (minResources)
 * and, for coscheduling, how long it waits (scheduleTimeoutSeconds).
 * Precedence when a pod carries several: the kubenexus labels, the
 * pod-group.scheduling.sigs.k8s.io labels, the coscheduling label, the
 * Volcano annotation; the first present decides alone (a malformed one is an
 * error even when a later one would do). */
#ifndef KN_GANG_H
#define KN_GANG_H

#include <stdbool.h>

#include "base/err.h"
#include "json/json.h"
#include "kube/labels.h" /* kn_label_value_valid, KN_LABEL_VALUE_MAX */

#define KN_GANG_NAME_LABEL "pod-group.scheduling.kubenexus.io/name"
#define KN_GANG_MIN_LABEL "pod-group.scheduling.kubenexus.io/min-available"
#define KN_GANG_TIMEOUT_ANNOTATION "pod-group.scheduling.kubenexus.io/timeout-seconds"
#define KN_GANG_SIGS_NAME_LABEL "pod-group.scheduling.sigs.k8s.io/name"
#define KN_GANG_SIGS_MIN_LABEL "pod-group.scheduling.sigs.k8s.io/min-available"
#define KN_PODGROUP_LABEL "scheduling.x-k8s.io/pod-group"
#define KN_VOLCANO_GROUP_ANNOTATION "scheduling.k8s.io/group-name"
#define KN_GANG_MAX_MEMBERS 10000
#define KN_OBJECT_NAME_MAX 253

typedef enum {
    KN_GANG_LABELS,       /* kubenexus or sigs labels: the size is on the pod */
    KN_GANG_COSCHEDULING, /* a scheduling.x-k8s.io/v1alpha1 PodGroup */
    KN_GANG_VOLCANO,      /* a scheduling.volcano.sh/v1beta1 PodGroup */
} kn_gang_kind;
#define KN_GANG_KINDS 3

typedef struct kn_gang_spec {
    bool present;
    kn_gang_kind kind;
    char name[KN_OBJECT_NAME_MAX + 1];
    int min_available;      /* KN_GANG_LABELS only; 0 for a PodGroup (its minMember decides) */
    const char *name_label; /* the label (annotation for Volcano) the name came from (one of the macros) */
    const char *min_label;  /* NULL when min-available is absent (then min_available is 1) */
} kn_gang_spec;

/* labels: an object or NULL. No gang labels -> present=false, returns 0.
 * Errors name the label and the value found, e.g.
 * "label pod-group.scheduling.kubenexus.io/min-available is \"0\", want a positive integer". */
int kn_gang_from_labels(const kn_json *labels, kn_gang_spec *out, kn_err *err);
/* The same for a Spark application's pods, whose gang is 1 driver + executors
 * (initial: the initial count under dynamic allocation): a min-available that
 * is not a number says what it should be, "want \"4\" (1 driver + 3
 * executors)". Every problem of the labels is in err, "; "-separated. */
int kn_gang_from_labels_for(const kn_json *labels, int executors, bool initial, kn_gang_spec *out, kn_err *err);
/* Every declaration above, in precedence order. labels, annotations: objects or NULL. */
int kn_gang_from_pod(const kn_json *labels, const kn_json *annotations, kn_gang_spec *out, kn_err *err);
/* The same for a Spark application's pods (as kn_gang_from_labels_for). */
int kn_gang_from_pod_for(const kn_json *labels, const kn_json *annotations, int executors, bool initial,
                         kn_gang_spec *out, kn_err *err);
/* "label" or "annotation": what g->name_label is. */
const char *kn_gang_key_what(const kn_gang_spec *g);
/* The PodGroup kind a gang names, as "PodGroup <ns>/<name> (<group>/<version>)"
 * reads it: "scheduling.x-k8s.io/v1alpha1"; "" for KN_GANG_LABELS. */
const char *kn_gang_kind_api(kn_gang_kind kind);
/* Strict positive decimal integer <= max ("1".."max"); -1 otherwise. */
int kn_parse_positive_int(const char *s, int max, int *out);

#endif
