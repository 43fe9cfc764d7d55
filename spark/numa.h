/* numa.h - the NUMA spec a pod asks for, from its annotations.
 *
 *   numa.scheduling.kubenexus.io/policy:    best-effort | restricted | single-numa | isolated
 *   numa.scheduling.kubenexus.io/resources: comma-separated names, default "cpu,memory"
 *
 * Allowed resource names: cpu, memory, hugepages-<size>, and extended
 * resources with a domain prefix (nvidia.com/gpu, amd.com/gpu, ...). Bare
 * unknown names ("gpu", "mem") are rejected, with the allowed values listed. */
#ifndef KN_NUMA_H
#define KN_NUMA_H

#include "base/err.h"
#include "json/json.h"
#include "kube/resources.h"

#define KN_NUMA_POLICY_ANNOTATION "numa.scheduling.kubenexus.io/policy"
#define KN_NUMA_RESOURCES_ANNOTATION "numa.scheduling.kubenexus.io/resources"
#define KN_NUMA_MAX_RESOURCES 8
/* Zones a node may report (more are ignored) and a pod may be given. */
#define KN_NUMA_MAX_ZONES 8
/* The live scheduler puts this annotation in the Binding's
 * metadata.annotations; the API server copies it onto the pod, so zone
 * accounting survives a scheduler restart. Value: "node-0,node-1". */
#define KN_NUMA_ZONES_ANNOTATION "numa.kubenexus.io/assigned-zones"

typedef enum {
    KN_NUMA_NONE = 0, /* no annotation */
    KN_NUMA_BEST_EFFORT,
    KN_NUMA_RESTRICTED,
    KN_NUMA_SINGLE,
    KN_NUMA_ISOLATED,
} kn_numa_policy;

typedef struct kn_numa_spec {
    kn_numa_policy policy;
    int n_resources;
    char resources[KN_NUMA_MAX_RESOURCES][KN_RESOURCE_NAME_MAX];
} kn_numa_spec;

/* annotations: an object or NULL. Absent policy -> KN_NUMA_NONE, 0.
 * A resources annotation without a policy is an error (it would do nothing). */
int kn_numa_from_annotations(const kn_json *annotations, kn_numa_spec *out, kn_err *err);
const char *kn_numa_policy_name(kn_numa_policy p); /* "single-numa", ... ; "none" */
int kn_numa_parse_policy(const char *s, kn_numa_policy *out, kn_err *err);
/* "cpu,memory" form of the resources, for annotations and messages. */
void kn_numa_resources_str(const kn_numa_spec *s, char *buf, size_t cap);

#endif
