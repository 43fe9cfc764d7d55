/* pod_create.h - what kube-apiserver changes in a pod it creates that a
 * scheduler reads.
 *
 * matchLabelKeys / mismatchLabelKeys of pod affinity and anti-affinity terms
 * (required and preferred; MatchLabelKeysInPodAffinity, on by default since
 * v1.31): for each key the pod has as a label, `key In (value)`
 * (matchLabelKeys) or `key NotIn (value)` (mismatchLabelKeys) is appended to
 * the term's labelSelector.matchExpressions; a term without labelSelector is
 * left alone (it selects nothing either way). The scheduler reads only
 * labelSelector, as kube-scheduler does; `simulate`, which plays the API
 * server, applies this when it creates a pod. */
#ifndef KN_POD_CREATE_H
#define KN_POD_CREATE_H

#include "base/err.h"
#include "json/json.h"

/* Merges the label keys of pod's affinity terms into their selectors, in
 * place: 0, or -1 out of memory. */
int kn_pod_merge_label_keys(kn_json *pod, kn_err *err);

#endif
