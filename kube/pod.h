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
 * quantity is an error naming the field: "spec.containers[0].resources.requests.cpu: ...".
 *
 * Host ports are those kube-scheduler's NodePorts counts (GetHostPorts): of
 * every container and of the restartable init containers (sidecars), the
 * ports with hostPort > 0, with the API server's defaults applied (protocol
 * TCP; under hostNetwork a missing hostPort is the containerPort) and an
 * empty hostIP read as 0.0.0.0. */
#ifndef KN_POD_H
#define KN_POD_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "json/json.h"
#include "kube/resources.h"

typedef struct kn_toleration {
    char *key;    /* NULL = empty (matches all keys with op Exists) */
    char *op;     /* "Equal" (default) or "Exists" */
    char *value;  /* NULL = empty */
    char *effect; /* NULL = all effects */
} kn_toleration;

/* One containers[].ports[] entry with a hostPort. */
typedef struct kn_host_port {
    int32_t port;     /* hostPort, 1..65535 */
    char protocol[8]; /* "TCP", "UDP" or "SCTP" */
    char ip[48];      /* hostIP; "0.0.0.0" (every address) when empty */
} kn_host_port;

/* Fields of a pod spec that kube-scheduler's default profile reads beyond
 * what kn_pod models (kn_pod.fields has a bit for each one the pod sets;
 * kn_pod_field_name names them). Which of them the scheduler implements is
 * its own business (scheduler/place/unsupported.c). */
enum {
    KN_PODF_POD_AFFINITY, /* InterPodAffinity */
    KN_PODF_POD_ANTI_AFFINITY,
    KN_PODF_TOPOLOGY_SPREAD, /* PodTopologySpread */
    KN_PODF_VOL_PVC,         /* VolumeBinding, VolumeZone, NodeVolumeLimits, VolumeRestrictions */
    KN_PODF_VOL_EPHEMERAL,   /* generic ephemeral volumes: a PVC per pod */
    KN_PODF_VOL_GCE_PD,      /* VolumeRestrictions and NodeVolumeLimits (CSI migration) */
    KN_PODF_VOL_AWS_EBS,
    KN_PODF_VOL_AZURE_DISK, /* NodeVolumeLimits (CSI migration) */
    KN_PODF_VOL_AZURE_FILE,
    KN_PODF_VOL_CINDER,
    KN_PODF_VOL_VSPHERE,
    KN_PODF_VOL_PORTWORX,
    KN_PODF_VOL_RBD, /* VolumeRestrictions */
    KN_PODF_VOL_ISCSI,
    KN_PODF_RESOURCE_CLAIMS, /* DynamicResources */
    KN_PODF_COUNT
};
/* "spec.affinity.podAntiAffinity", "spec.volumes.persistentVolumeClaim", ... */
const char *kn_pod_field_name(int field);
/* The KN_PODF_ bits of the fields a pod spec sets (kube/pod_fields.c); a
 * field counts when it says something: an empty list or object does not. */
uint32_t kn_pod_spec_fields(const kn_json *spec);

/* A volume whose storage is a PersistentVolumeClaim: spec.volumes[i].
 * persistentVolumeClaim (the claim it names), or .ephemeral (a generic
 * ephemeral volume: the claim "<pod name>-<volume name>" that the ephemeral
 * volume controller creates for the pod, as ephemeral.VolumeClaimName). */
typedef struct kn_pod_claim {
    char *volume; /* the volume's name */
    char *claim;  /* the claim's name; "" when persistentVolumeClaim.claimName is */
    bool ephemeral;
} kn_pod_claim;

typedef struct kn_pod {
    char *ns, *name, *uid, *resource_version;
    char *scheduler_name;        /* "" when absent */
    char *node_name;             /* NULL when not bound */
    char *phase;                 /* "" when absent */
    bool terminating;            /* metadata.deletionTimestamp set */
    int32_t priority;            /* spec.priority, 0 when absent */
    bool preempt_never;          /* spec.preemptionPolicy is "Never" (default PreemptLowerPriority) */
    int64_t grace_s;             /* spec.terminationGracePeriodSeconds, -1 when absent */
    double start_time;           /* status.startTime in Unix seconds, 0 when absent or malformed */
    char *creation_timestamp;    /* as sent, "" when absent */
    kn_json *labels;             /* owned object, never NULL */
    kn_json *annotations;        /* owned object, never NULL */
    kn_json *node_selector;      /* owned object or NULL */
    kn_json *required_affinity;  /* owned clone of spec.affinity.nodeAffinity.
                                   requiredDuringSchedulingIgnoredDuringExecution, or NULL */
    kn_json *preferred_affinity; /* owned clone of spec.affinity.nodeAffinity.
                                    preferredDuringSchedulingIgnoredDuringExecution, or NULL */
    kn_json *pod_affinity;       /* owned clone of spec.affinity.podAffinity, or NULL */
    kn_json *pod_anti_affinity;  /* owned clone of spec.affinity.podAntiAffinity, or NULL */
    kn_json *spread;             /* owned clone of spec.topologySpreadConstraints (an array), or NULL */
    kn_toleration *tolerations;
    int n_tolerations;
    kn_host_port *host_ports; /* see above; NULL when none */
    int n_host_ports;
    uint32_t fields;                           /* bit KN_PODF_x: the spec sets that field */
    bool gated;                                /* spec.schedulingGates is not empty: not to be scheduled yet */
    char *owner_kind, *owner_name, *owner_uid; /* controller owner reference or NULLs */
    kn_resources requests;                     /* effective requests, see above */
    kn_resources limits;  /* sum of spec.containers' limits (not init containers, not overhead) */
    kn_pod_claim *claims; /* the volumes backed by claims, in spec.volumes order (NULL: none) */
    int n_claims;
} kn_pod;

int kn_pod_from_json(const kn_json *pod, kn_pod *out, kn_err *err);
/* "<pod>-<volume>" into buf (cut to cap): a generic ephemeral volume's claim. */
const char *kn_pod_ephemeral_claim(const char *pod, const char *volume, char *buf, size_t cap);
void kn_pod_free(kn_pod *p); /* frees members, not p itself */
/* A deep copy of src into out: 0, or -1 out of memory (out left empty). */
int kn_pod_copy(const kn_pod *src, kn_pod *out);
/* A deep copy of tolerations src[0..n) into *out (NULL for none): 0, or -1
 * out of memory (*out NULL). */
int kn_tolerations_copy(const kn_toleration *src, int n, kn_toleration **out);
void kn_tolerations_free(kn_toleration *t, int n);
/* Succeeded or Failed: no longer holds resources on its node. */
bool kn_pod_terminated(const kn_pod *p);
/* "ns/name" into buf (cut to cap as snprintf cuts), as messages and keys name
 * an object; returns buf. */
const char *kn_pod_ref(char *buf, size_t cap, const char *ns, const char *name);
const char *kn_pod_label(const kn_pod *p, const char *key);      /* NULL if absent */
const char *kn_pod_annotation(const kn_pod *p, const char *key); /* NULL if absent */

#endif
