/* podgroup.h - PodGroup objects, the gangs the coscheduling plugin
 * (scheduling.x-k8s.io/v1alpha1) and Volcano (scheduling.volcano.sh/v1beta1)
 * schedule: what a gang needs of one, checked.
 *
 *   spec.minMember               the gang's size: members placed at once (absent or 0: 1)
 *   spec.minResources            a ResourceList the cluster's free room must hold
 *                                before the gang is attempted
 *   spec.scheduleTimeoutSeconds  coscheduling only: how long members wait for
 *                                the rest (kubenexus: how long a driver's
 *                                executor slots are held)
 * Pods name their PodGroup by label or annotation (spark/gang.h). */
#ifndef KN_PODGROUP_H
#define KN_PODGROUP_H

#include "base/err.h"
#include "json/json.h"
#include "spark/gang.h"

#define KN_PODGROUP_MAX_TIMEOUT_S (7 * 24 * 3600)

typedef struct kn_podgroup {
    kn_gang_kind kind;
    const char *ns, *name;        /* into the object */
    int min_member;               /* 1..KN_GANG_MAX_MEMBERS */
    const kn_json *min_resources; /* into the object: an object of quantities, or NULL */
    int timeout_s;                /* 0: not set */
} kn_podgroup;

/* The object's identity (metadata.namespace and .name): -1 with a message when
 * either is missing or not a legal name; out->ns and out->name are then unset. */
int kn_podgroup_ident(const kn_json *obj, kn_gang_kind kind, kn_podgroup *out, kn_err *err);
/* kn_podgroup_ident, then the spec: -1 with a message naming the field
 * ("spec.minMember is -1, want an integer from 0 to 10000") when it is not
 * one a scheduler could act on; out->ns and out->name stay set when the
 * identity was good. Quantities are read by the caller (minResources). */
int kn_podgroup_parse(const kn_json *obj, kn_gang_kind kind, kn_podgroup *out, kn_err *err);

#endif
