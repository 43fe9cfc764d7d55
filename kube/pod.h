/* pod.h - the parts of a v1 Pod that admission and scheduling read.
 *
 * kn_pod_from_json() copies what it needs out of the object, so the JSON can
 * be freed afterwards. Effective requests are computed as kube-scheduler does
 * (k8s.io/component-helpers resource.PodRequests):
 *   max( sum(app containers) + sum(restartable init "sidecar" containers),
 *        each regular init container + the sidecars started before it )
 *   (cpu and memory replaced by spec.resources.requests when the pod sets
 *    pod-level resources)
 *   + spec.overhead
 * and `pods` is 1. Resources given only as limits count as requests: the API
 * server's defaulting (SetDefaults_Pod) sets a missing request to the limit,
 * for extended resources and cpu/memory alike, in containers and init
 * containers. Missing optional
 * fields are empty, never an error; a field of the wrong type or a bad
 * quantity is an error naming the field: "spec.containers[0].resources.requests.cpu: ...". */
#ifndef KN_POD_H
#define KN_POD_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "json/json.h"
#include "kube/resources.h"

typedef struct kn_toleration {
    char *key;      /* NULL = empty (matches all keys with op Exists) */
    char *op;       /* "Equal" (default) or "Exists" */
    char *value;    /* NULL = empty */
    char *effect;   /* NULL = all effects */
} kn_toleration;

typedef struct kn_pod {
    char *ns, *name, *uid, *resource_version;
    char *scheduler_name;     /* "" when absent */
    char *node_name;          /* NULL when not bound */
    char *phase;              /* "" when absent */
    bool terminating;         /* metadata.deletionTimestamp set */
    int32_t priority;         /* spec.priority, 0 when absent */
    char *creation_timestamp; /* as sent, "" when absent */
    kn_json *labels;          /* owned object, never NULL */
    kn_json *annotations;     /* owned object, never NULL */
    kn_json *node_selector;   /* owned object or NULL */
    kn_json *required_affinity; /* owned clone of spec.affinity.nodeAffinity.
                                   requiredDuringSchedulingIgnoredDuringExecution, or NULL */
    kn_toleration *tolerations;
    int n_tolerations;
    char *owner_kind, *owner_name, *owner_uid; /* controller owner reference or NULLs */
    kn_resources requests;    /* effective requests, see above */
    kn_resources limits;      /* sum of spec.containers' limits (not init containers, not overhead) */
} kn_pod;

int kn_pod_from_json(const kn_json *pod, kn_pod *out, kn_err *err);
void kn_pod_free(kn_pod *p); /* frees members, not p itself */
/* A deep copy of src into out: 0, or -1 out of memory (out left empty). */
int kn_pod_copy(const kn_pod *src, kn_pod *out);
/* Succeeded or Failed: no longer holds resources on its node. */
bool kn_pod_terminated(const kn_pod *p);
const char *kn_pod_label(const kn_pod *p, const char *key);      /* NULL if absent */
const char *kn_pod_annotation(const kn_pod *p, const char *key); /* NULL if absent */

#endif
