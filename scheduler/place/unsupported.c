/* unsupported.c - the pod spec fields kube-scheduler's default profile
 * honours that no plugin here implements yet (see KN_PODF_ in kube/pod.h).
 * A pod that sets one is never placed: it stays pending with FailedScheduling
 * "unsupported: <field>" (and its gang with it), because a binding that
 * ignored the field could break what it asks for. Remove a field here when
 * its plugin lands. */
#include "scheduler/place/place.h"

/* Claims (persistentVolumeClaim, ephemeral) are the volume plugins'
 * (volumes.h); inline disks are not: VolumeRestrictions' conflicts and the
 * CSI migration NodeVolumeLimits counts them by. */
static const int unsupported[] = {
    KN_PODF_VOL_GCE_PD, KN_PODF_VOL_AWS_EBS,     KN_PODF_VOL_AZURE_DISK, KN_PODF_VOL_AZURE_FILE,
    KN_PODF_VOL_CINDER, KN_PODF_VOL_VSPHERE,     KN_PODF_VOL_PORTWORX,   KN_PODF_VOL_RBD,
    KN_PODF_VOL_ISCSI,  KN_PODF_RESOURCE_CLAIMS,
};

int kn_unsupported_field(uint32_t fields)
{
    for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
        if (fields >> unsupported[i] & 1u)
            return unsupported[i];
    return -1;
}
