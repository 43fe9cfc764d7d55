/* volume_fixtures.h - StorageClasses, PersistentVolumeClaims,
 * PersistentVolumes and CSINodes shaped as the API server sends them, and
 * pods that mount claims, fed to a kn_scheduler; for the volume plugins'
 * tests (tests/unit/scheduler/). Every object is in namespace "default"; a
 * claim's uid is "pvc-uid-<name>", a volume's "pv-uid-<name>". Each helper
 * fails the running test when the scheduler refuses its object. */
#ifndef KN_TEST_VOLUME_FIXTURES_H
#define KN_TEST_VOLUME_FIXTURES_H

#include "scheduler/cycle/scheduler.h"

/* A StorageClass; mode "WaitForFirstConsumer" or "Immediate"; provisioner
 * "" for none; extra: more members starting with a comma, or "". */
void fx_sclass(kn_scheduler *s, const char *name, const char *mode, const char *provisioner, const char *extra);
/* A claim of class cls (NULL: none) for size (NULL: no request), access
 * mode ReadWriteOnce unless spec says accessModes; spec and meta: extra
 * members starting with a comma, or ""; phase: status.phase. */
void fx_pvc(kn_scheduler *s, const char *name, const char *cls, const char *size, const char *spec,
            const char *meta, const char *phase);
/* The claim bound to volume pv (spec.volumeName, bind-completed, Bound). */
void fx_pvc_bound(kn_scheduler *s, const char *name, const char *cls, const char *pv);
/* A volume of class cls and capacity size, phase Available unless spec
 * names a claimRef (then Bound); labels: object members or ""; affinity:
 * the nodeAffinity.required NodeSelector as JSON, or NULL. */
void fx_pv(kn_scheduler *s, const char *name, const char *cls, const char *size, const char *labels,
           const char *affinity, const char *spec);
/* {"nodeSelectorTerms":[{"matchExpressions":[{"key":k,"operator":"In","values":[v]}]}]} */
const char *fx_affinity(char *buf, size_t cap, const char *key, const char *value);
/* A CSINode for node: drivers JSON array text ("[{\"name\":...}]"). */
void fx_csinode(kn_scheduler *s, const char *node, const char *drivers);
/* A pending pod of ours (1 cpu, 1Gi) whose spec.volumes are volumes (JSON
 * array members); labels/annotations as fx_pod_full. */
void fx_pod_volumes(kn_scheduler *s, const char *name, const char *volumes, const char *labels);
/* A pod bound to node by another scheduler, mounting volumes. */
void fx_pod_volumes_on(kn_scheduler *s, const char *name, const char *volumes, const char *node);

/* What an external provisioner and the PV controller do with out's
 * bindings: every claim annotated with a selected node gets a volume
 * (pv-<claim>, spec.csi driver provisioner, node affinity to that
 * kubernetes.io/hostname) and is bound to it; every volume given a claimRef
 * binds its claim. cls and provisioner: the class the claims are of. */
void fx_provision(kn_scheduler *s, const kn_sched_out *out, const char *cls, const char *provisioner);
/* fx_cycle as the live binder runs it: the cycle, then for bindings with
 * volumes fx_provision (the writes, and the controllers acting on them) and
 * the wait (kn_sched_volumes_ready must say 1), then every Binding's 201. */
int fx_cycle_provisioned(kn_scheduler *s, double now, kn_sched_out *out, const char *cls, const char *provisioner);
/* The binding's volume step whose path ends in suffix, or NULL. */
const kn_sched_vstep *fx_vstep(const kn_sched_binding *b, const char *suffix);

#endif
