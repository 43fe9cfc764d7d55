/* volumes.h - the storage the scheduler watches and what pods take of it.
 *
 * PersistentVolumeClaims (by namespace/name), PersistentVolumes,
 * StorageClasses and CSINodes (storage.k8s.io/v1) are kept with the fields
 * kube-scheduler's volume plugins read (VolumeRestrictions, NodeVolumeLimits,
 * VolumeBinding, VolumeZone); the objects themselves are not kept.
 *
 * A pod whose volumes are backed by claims (kn_pod_claim) has a kn_pod_vols
 * record; a pod without one pays nothing here. While such a pod is counted
 * on a node (bound, assumed, or placed tentatively by a cycle) it is
 *  - a user of each claim it mounts as persistentVolumeClaim (kube-scheduler's
 *    "PVC used by pods", which a ReadWriteOncePod claim allows once), and
 *  - attached to the node: each claim's CSI driver and volume handle (the
 *    bound PersistentVolume's spec.csi, else the class's provisioner and a
 *    handle of the claim's own), counted per driver against the CSINode's
 *    spec.drivers[].allocatable.count.
 * A pending pod of ours placed on a node also carries its volume decisions
 * until it is bound: a claim to provision there (the selected-node
 * annotation to write) or a static PersistentVolume to bind it to (the
 * claimRef to write). The decisions are assumed as kube-scheduler's assume
 * cache does: the claim reads as annotated and the PersistentVolume as
 * claimed, so the next pod does not take the same volume; undoing a
 * placement undoes them.
 *
 * Every change that may let a pod fit bumps c->gen (and c->vol_gen). */
#ifndef KN_VOLUMES_H
#define KN_VOLUMES_H

#include "scheduler/cache/cluster.h"

#define KN_ANN_SELECTED_NODE "volume.kubernetes.io/selected-node"
#define KN_ANN_BIND_COMPLETED "pv.kubernetes.io/bind-completed"
#define KN_ANN_BOUND_BY_CONTROLLER "pv.kubernetes.io/bound-by-controller"
#define KN_ANN_BETA_STORAGE_CLASS "volume.beta.kubernetes.io/storage-class"
#define KN_NO_PROVISIONER "kubernetes.io/no-provisioner"

/* Access modes, as bits. */
enum { KN_AM_RWO = 1, KN_AM_ROX = 2, KN_AM_RWX = 4, KN_AM_RWOP = 8 };

typedef struct kn_pvc {
    char *key; /* "ns/name": the table's key */
    char *ns, *name, *uid, *rv;
    bool live;           /* false: a name pods use, no object (yet) */
    char *class_name;    /* beta annotation, else spec.storageClassName; NULL: none */
    char *volume_name;   /* spec.volumeName, NULL when empty */
    char *selected_node; /* the selected-node annotation, NULL when absent */
    char *owner_uid;     /* the controller ownerReference's uid, NULL: none */
    bool bind_completed; /* the bind-completed annotation is present */
    bool deleting;       /* metadata.deletionTimestamp */
    bool lost;           /* status.phase Lost */
    bool block;          /* spec.volumeMode Block (else Filesystem) */
    uint8_t modes;       /* spec.accessModes */
    bool has_request;
    int64_t request;    /* spec.resources.requests.storage, bytes */
    kn_json *selector;  /* spec.selector, NULL: none */
    char *assumed_node; /* the selected-node we decided and have not seen written, or NULL */
    int users;          /* counted pods mounting it as persistentVolumeClaim */
    bool seen;
} kn_pvc;

typedef struct kn_pv {
    char *name, *uid, *rv;
    bool live, seen;
    kn_json *labels;  /* object, never NULL while live */
    char *class_name; /* beta annotation, else spec.storageClassName; "" none */
    int64_t capacity; /* spec.capacity.storage, bytes */
    uint8_t modes;
    bool block;
    char *claim_ns, *claim_name, *claim_uid; /* spec.claimRef (uid may be NULL); NULLs: none */
    bool available;                          /* status.phase Available */
    bool deleting;
    kn_json *affinity;             /* spec.nodeAffinity.required (a NodeSelector), NULL: none */
    char *csi_driver, *csi_handle; /* spec.csi, NULLs: not a CSI volume */
    char *assumed_claim;           /* "ns/name" we decided to bind it to, or NULL */
    char *assumed_uid;             /* that claim's uid */
} kn_pv;

typedef struct kn_sclass {
    char *name;
    bool live, seen;
    char *provisioner;   /* "" when absent */
    bool wffc;           /* volumeBindingMode WaitForFirstConsumer (absent: Immediate, as defaulted) */
    kn_json *topologies; /* allowedTopologies, NULL: none */
} kn_sclass;

typedef struct kn_csi_limit {
    int driver;    /* interned driver index */
    int64_t count; /* allocatable.count */
} kn_csi_limit;

typedef struct kn_csinode {
    char *name;
    bool live, seen;
    int n;
    kn_csi_limit *limits; /* the drivers with an allocatable count */
} kn_csinode;

/* A volume attached to a node for a driver, and how many counted pods use it. */
typedef struct kn_attach {
    int driver;
    int refs;
    char *handle;
} kn_attach;

typedef struct kn_node_attach {
    int n;
    size_t cap;
    kn_attach *a;
} kn_node_attach;

/* What a pod counted on a node added there, to take back exactly. */
typedef struct kn_att_ref {
    int driver;
    char *handle;
} kn_att_ref;

/* A volume decision for a claim of a pending pod on its chosen node. */
typedef struct kn_vol_dec {
    char *claim; /* "ns/name" */
    char *pv;    /* bind to this PersistentVolume; NULL: provision on the node */
} kn_vol_dec;

typedef struct kn_pod_vols {
    int n;
    kn_pod_claim *claims; /* taken from the pod model */
    int node;             /* where it is counted, -1: nowhere */
    int n_att;
    kn_att_ref *att;
    int n_dec;
    kn_vol_dec *dec; /* assumed decisions, until the pod is bound or its placement undone */
} kn_pod_vols;

typedef struct kn_vtab {
    void **rec; /* records, NULL slots free */
    int n;
    size_t cap;
    kn_strmap by_key;
} kn_vtab;

struct kn_vols {
    kn_vtab pvcs, pvs, classes, csinodes;
    char **drivers; /* interned CSI driver names */
    int n_drivers;
    size_t cap_drivers;
    kn_strmap driver_by_name;
    int *limited; /* per driver: CSINodes with a limit for it */
    size_t cap_limited;
    kn_node_attach *att; /* per node index */
    size_t cap_att;
};

/* ---- objects (watch ADDED/MODIFIED: deleted=false; DELETED: true) ---- */
int kn_cluster_apply_pvc(kn_cluster *c, const kn_json *obj, bool deleted, kn_err *err);
int kn_cluster_apply_pv(kn_cluster *c, const kn_json *obj, bool deleted, kn_err *err);
int kn_cluster_apply_sclass(kn_cluster *c, const kn_json *obj, bool deleted, kn_err *err);
int kn_cluster_apply_csinode(kn_cluster *c, const kn_json *obj, bool deleted, kn_err *err);
/* Relists: which = 0 claims, 1 volumes, 2 classes, 3 CSINodes. */
void kn_vols_resync_begin(kn_cluster *c, int which);
void kn_vols_resync_end(kn_cluster *c, int which);

/* Lookups of live objects (NULL: none). */
const kn_pvc *kn_vols_pvc(const kn_cluster *c, const char *ns, const char *name);
const kn_pv *kn_vols_pv(const kn_cluster *c, const char *name);
const kn_sclass *kn_vols_class(const kn_cluster *c, const char *name);
const kn_csinode *kn_vols_csinode(const kn_cluster *c, const char *name);
/* Every live PersistentVolume, for matching: *n of them. */
kn_pv *const *kn_vols_pv_list(const kn_cluster *c, int *n);
/* The interned driver name, or NULL. */
const char *kn_vols_driver_name(const kn_cluster *c, int driver);
/* Interned driver index for name (create: intern it); -1 absent or out of memory. */
int kn_vols_driver(kn_cluster *c, const char *name, bool create);
/* Does any CSINode limit volumes of this driver? */
bool kn_vols_driver_limited(const kn_cluster *c, int driver);
/* The CSI driver a claim attaches and its volume handle (into handle):
 * the bound volume's spec.csi, else (not bound, or bound to a volume not
 * seen) the class's provisioner and a handle of the claim's own, as
 * NodeVolumeLimits counts them; NULL when it attaches nothing countable. */
const char *kn_vols_claim_attach(const kn_cluster *c, const kn_pvc *pvc, char *handle, size_t cap);
/* What is attached to node i (NULL: nothing). */
const kn_node_attach *kn_vols_node_attach(const kn_cluster *c, int node);

/* The PersistentVolume's claim as decided or written: is it claimed by
 * another claim than (ns, name, uid)? (IsVolumeBoundToClaim, with our
 * assumption standing in for a claimRef not yet written.) */
bool kn_pv_claimed_by_other(const kn_pv *pv, const char *ns, const char *name, const char *uid);
bool kn_pv_bound_to(const kn_pv *pv, const char *ns, const char *name, const char *uid);
/* The claim's selected node, as decided (assumed) or written; NULL: none. */
const char *kn_pvc_selected_node(const kn_pvc *pvc);
/* Fully bound, as kube-scheduler reads it: volumeName and bind-completed. */
bool kn_pvc_bound(const kn_pvc *pvc);

/* ---- pods ---- */
/* Copies p's claims into pod record idx (a pod with none keeps no record). 0, -1 out of memory. */
int kn_vols_pod_set(kn_cluster *c, int idx, const kn_pod *p);
/* Counts pod idx on node (users and attachments); uncount takes back what
 * count added, without bumping c->gen (as kn_alloc_release: callers that
 * free for good do). 0, -1 out of memory. */
int kn_vols_pod_count(kn_cluster *c, int idx, int node);
void kn_vols_pod_uncount(kn_cluster *c, int idx);
/* Assumes a decision for pod idx: claim "ns/name" bound to pv, or (pv NULL)
 * provisioned on node. 0, -1 out of memory. */
int kn_vols_assume(kn_cluster *c, int idx, const char *claim, const char *pv, const char *node);
/* Takes back every decision of pod idx. */
void kn_vols_unassume(kn_cluster *c, int idx);
/* Uncounts, unassumes and frees the pod's record. */
void kn_vols_pod_drop(kn_cluster *c, int idx);

#endif
