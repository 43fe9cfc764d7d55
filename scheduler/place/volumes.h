/* volumes.h - where a pod's volumes let it go: kube-scheduler's volume
 * plugins, one file each, in their order.
 *
 *   volume_restrictions.c  VolumeRestrictions: a ReadWriteOncePod claim that a
 *                          counted pod already mounts
 *   volume_limits.c        NodeVolumeLimits: CSI volumes attached to the node
 *                          against its CSINode's allocatable counts
 *   volume_binding.c       VolumeBinding: claims that exist, are not being
 *                          deleted, are bound (Immediate) or bindable on the
 *                          node (WaitForFirstConsumer: a static volume that
 *                          matches, else provisioning within the class's
 *                          allowedTopologies); bound volumes' node affinity
 *   volume_zone.c          VolumeZone: bound volumes' zone and region labels
 *
 * kn_vol_prefilter() reads the pod's claims once per attempt (PreFilter): a
 * claim missing, being deleted, lost, not the pod's own (generic ephemeral)
 * or Immediate and unbound fails the pod on every node with kube-scheduler's
 * message. Otherwise it returns a kn_vol_want that the placer filters nodes
 * with (kn_want.vol): kn_vol_static_ok() what depends only on a node's name
 * and labels (cacheable per signature: kn_vol_want.sig), kn_vol_dynamic_ok()
 * what placements change (static volumes taken, CSI attachments, ReadWriteOncePod),
 * kn_vol_filter() both with the reasons, in kube-scheduler's words:
 *   node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode
 *   node(s) exceed max volume count
 *   node(s) had volume node affinity conflict
 *   node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)
 *   node(s) didn't find available persistent volumes to bind
 *   node(s) had no available volume zone
 * kn_vol_decide() is VolumeBinding's decision on the chosen node (Reserve):
 * per unbound claim, the static volume to bind or provisioning there. */
#ifndef KN_PLACE_VOLUMES_H
#define KN_PLACE_VOLUMES_H

#include "scheduler/cache/volumes.h"
#include "scheduler/place/place.h"

#define KN_VR_RWOP "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode"
#define KN_VL_EXCEEDED "node(s) exceed max volume count"
#define KN_VB_NODE_CONFLICT "node(s) had volume node affinity conflict"
#define KN_VB_PV_NOT_EXIST "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"
#define KN_VB_BIND_CONFLICT "node(s) didn't find available persistent volumes to bind"
#define KN_VZ_CONFLICT "node(s) had no available volume zone"
#define KN_VB_UNBOUND_IMMEDIATE "pod has unbound immediate PersistentVolumeClaims"
/* Claims a pod may mount; a pod with more fails (kube-scheduler has no bound). */
#define KN_VOL_MAX_CLAIMS 256

/* One claim of the pod as PreFilter found it. */
typedef struct kn_vclaim {
    const kn_pvc *pvc;
    bool direct;          /* persistentVolumeClaim (not generic ephemeral) */
    bool bound;           /* fully bound */
    const kn_pv *pv;      /* bound: its volume, NULL when not found */
    const kn_sclass *sc;  /* not bound (WaitForFirstConsumer): its class */
    const char *selected; /* not bound: the node selected (written or assumed), NULL: none */
    int n_cand;           /* not bound, no node selected: static volumes that may match */
    const kn_pv **cand;
    int driver; /* NodeVolumeLimits: its CSI driver, -1: none counted */
    char *handle;
} kn_vclaim;

/* A bound volume's zone or region label (VolumeZone). */
typedef struct kn_vzone {
    const char *key;
    const char *values; /* the label's value: zones joined by "__" */
} kn_vzone;

struct kn_vol_want {
    int n;
    kn_vclaim *cl;      /* in spec.volumes order */
    bool rwop_conflict; /* VolumeRestrictions fails every node */
    bool limited;       /* a CSINode limits one of the pod's drivers: counted per node */
    bool matching;      /* a claim has static volumes to match per node */
    int n_zone;
    kn_vzone *zone;
    char *sig; /* the constraint signature with the static checks; NULL when dynamic */
};
typedef struct kn_vol_want kn_vol_want;

/* 0 with *out (NULL: the pod has no claims), 1 when the pod fits no node
 * (msg: the reason, as kube-scheduler's PreFilter says it), -1 out of memory.
 * cons_sig: the pod's constraint signature (kn_pod_sig), or NULL. */
int kn_vol_prefilter(const kn_cluster *c, const kn_cpod *p, const char *cons_sig, kn_vol_want **out, char *msg,
                     size_t cap);
/* For executor slots: the node checks of claims to provision in these
 * classes (allowedTopologies, a provisioner), as a want; NULL when none
 * applies (classes unknown or not WaitForFirstConsumer). */
kn_vol_want *kn_vol_classes_want(const kn_cluster *c, const char *const *classes, int n, const char *cons_sig);
void kn_vol_want_free(kn_vol_want *v);

bool kn_vol_static_ok(const kn_cluster *c, const kn_node *n, const kn_vol_want *v);
bool kn_vol_dynamic_ok(const kn_cluster *c, int node, const kn_vol_want *v);
/* Both, in plugin order, with the first failing plugin's reasons in d. */
bool kn_vol_filter(const kn_cluster *c, int node, const kn_vol_want *v, kn_diag *d);

/* VolumeBinding's decision on node for each claim not bound: fn(ctx, claim
 * "ns/name", pv name or NULL to provision) in claim order. 0, or -1 when
 * the node no longer suits (fn not called). */
int kn_vol_decide(const kn_cluster *c, int node, const kn_vol_want *v,
                  int (*fn)(void *ctx, const kn_pvc *claim, const kn_pv *pv), void *ctx);

/* ---- the plugins (each file's part) ---- */
/* volume_restrictions.c: the ReadWriteOncePod check, from the pod's direct claims. */
bool kn_vr_conflict(const kn_cluster *c, const kn_vol_want *v);
/* volume_limits.c */
int kn_vl_prefilter(const kn_cluster *c, kn_vol_want *v);
bool kn_vl_fits(const kn_cluster *c, int node, const kn_vol_want *v);
/* volume_binding.c */
int kn_vb_prefilter(const kn_cluster *c, const kn_cpod *p, kn_vol_want *v, char *msg, size_t cap);
/* what depends on names and labels: reasons as bits (1 node conflict, 2 no pv, 4 bind conflict) */
int kn_vb_static(const kn_node *n, const kn_vol_want *v);
int kn_vb_dynamic(const kn_node *n, const kn_vol_want *v, const kn_pv **chosen);
bool kn_vb_provisionable(const kn_node *n, const kn_sclass *sc);
/* volume_zone.c */
int kn_vz_prefilter(const kn_cluster *c, const kn_cpod *p, kn_vol_want *v, char *msg, size_t cap);
bool kn_vz_fits(const kn_node *n, const kn_vol_want *v);

#endif
