/* pod_fields.c - which of the pod spec fields kube-scheduler's default
 * profile reads beyond kn_pod's model a pod sets (see KN_PODF_ in pod.h).
 *
 * A scheduler that honours only part of what kube-scheduler honours must
 * know when a pod asks for the rest, or it would bind the pod where the
 * field forbids it. The walk never fails: a member of an unexpected type
 * counts as set, so a malformed field is never taken for an absent one
 * (kn_pod_from_json refuses a spec.volumes that is not a list). */
#include "kube/pod.h"

#include <stddef.h>

static const char *const names[KN_PODF_COUNT] = {
    [KN_PODF_POD_AFFINITY] = "spec.affinity.podAffinity",
    [KN_PODF_POD_ANTI_AFFINITY] = "spec.affinity.podAntiAffinity",
    [KN_PODF_TOPOLOGY_SPREAD] = "spec.topologySpreadConstraints",
    [KN_PODF_VOL_PVC] = "spec.volumes.persistentVolumeClaim",
    [KN_PODF_VOL_EPHEMERAL] = "spec.volumes.ephemeral",
    [KN_PODF_VOL_GCE_PD] = "spec.volumes.gcePersistentDisk",
    [KN_PODF_VOL_AWS_EBS] = "spec.volumes.awsElasticBlockStore",
    [KN_PODF_VOL_AZURE_DISK] = "spec.volumes.azureDisk",
    [KN_PODF_VOL_AZURE_FILE] = "spec.volumes.azureFile",
    [KN_PODF_VOL_CINDER] = "spec.volumes.cinder",
    [KN_PODF_VOL_VSPHERE] = "spec.volumes.vsphereVolume",
    [KN_PODF_VOL_PORTWORX] = "spec.volumes.portworxVolume",
    [KN_PODF_VOL_RBD] = "spec.volumes.rbd",
    [KN_PODF_VOL_ISCSI] = "spec.volumes.iscsi",
    [KN_PODF_RESOURCE_CLAIMS] = "spec.resourceClaims",
};

const char *kn_pod_field_name(int field)
{
    return field >= 0 && field < KN_PODF_COUNT ? names[field] : "?";
}

/* Set: present, not null, and not an empty list or object. */
static bool set(const kn_json *v)
{
    if (v == NULL || kn_json_is(v, KN_JSON_NULL))
        return false;
    return !(kn_json_is(v, KN_JSON_ARRAY) || kn_json_is(v, KN_JSON_OBJECT)) || kn_json_len(v) > 0;
}

/* podAffinity / podAntiAffinity: a constraint only with a term. */
static bool terms_set(const kn_json *v)
{
    if (!kn_json_is(v, KN_JSON_OBJECT))
        return set(v);
    return set(kn_json_get(v, "requiredDuringSchedulingIgnoredDuringExecution")) ||
           set(kn_json_get(v, "preferredDuringSchedulingIgnoredDuringExecution"));
}

uint32_t kn_pod_spec_fields(const kn_json *spec)
{
    /* the volume sources the volume plugins read, by member name */
    static const struct {
        int field;
        const char *member;
    } volume_sources[] = {
        {KN_PODF_VOL_PVC, "persistentVolumeClaim"},
        {KN_PODF_VOL_EPHEMERAL, "ephemeral"},
        {KN_PODF_VOL_GCE_PD, "gcePersistentDisk"},
        {KN_PODF_VOL_AWS_EBS, "awsElasticBlockStore"},
        {KN_PODF_VOL_AZURE_DISK, "azureDisk"},
        {KN_PODF_VOL_AZURE_FILE, "azureFile"},
        {KN_PODF_VOL_CINDER, "cinder"},
        {KN_PODF_VOL_VSPHERE, "vsphereVolume"},
        {KN_PODF_VOL_PORTWORX, "portworxVolume"},
        {KN_PODF_VOL_RBD, "rbd"},
        {KN_PODF_VOL_ISCSI, "iscsi"},
    };
    uint32_t f = 0;
    const kn_json *aff = kn_json_get(spec, "affinity");
    if (terms_set(kn_json_get(aff, "podAffinity")))
        f |= 1u << KN_PODF_POD_AFFINITY;
    if (terms_set(kn_json_get(aff, "podAntiAffinity")))
        f |= 1u << KN_PODF_POD_ANTI_AFFINITY;
    if (set(kn_json_get(spec, "topologySpreadConstraints")))
        f |= 1u << KN_PODF_TOPOLOGY_SPREAD;
    if (set(kn_json_get(spec, "resourceClaims")))
        f |= 1u << KN_PODF_RESOURCE_CLAIMS;
    const kn_json *vols = kn_json_get(spec, "volumes");
    for (size_t i = 0; i < kn_json_len(vols); i++) {
        const kn_json *v = kn_json_at(vols, i);
        for (size_t k = 0; k < sizeof(volume_sources) / sizeof(volume_sources[0]); k++)
            if (kn_json_get(v, volume_sources[k].member) != NULL &&
                !kn_json_is(kn_json_get(v, volume_sources[k].member), KN_JSON_NULL))
                f |= 1u << volume_sources[k].field;
    }
    return f;
}
