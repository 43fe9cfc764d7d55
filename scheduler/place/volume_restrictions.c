/* volume_restrictions.c - VolumeRestrictions: a ReadWriteOncePod claim is
 * mounted by one pod at a time. Any counted pod (bound, assumed or placed in
 * this cycle) that mounts the claim as persistentVolumeClaim fails the pod
 * on every node, as kube-scheduler's conflictingPVCRefCount does; a generic
 * ephemeral volume's claim belongs to its pod and is not looked at. The
 * claims it reads must exist: VolumeRestrictions' PreFilter is the first to
 * say "persistentvolumeclaim "x" not found" (volume_binding.c says it for
 * both). Inline disks (gcePersistentDisk, awsElasticBlockStore, rbd, iscsi)
 * are not checked. */
#include "scheduler/place/volumes.h"

bool kn_vr_conflict(const kn_cluster *c, const kn_vol_want *v)
{
    (void)c;
    for (int i = 0; i < v->n; i++) {
        const kn_vclaim *cl = &v->cl[i];
        if (cl->direct && (cl->pvc->modes & KN_AM_RWOP) && cl->pvc->users > 0)
            return true;
    }
    return false;
}
