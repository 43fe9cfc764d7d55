/* storage.h - `simulate`'s storage: StorageClasses, PersistentVolumes,
 * PersistentVolumeClaims and CSINodes read from the files, and what the
 * cluster's controllers would do with them, so that pods mounting claims
 * are placed as in a cluster:
 *  - as the API server, a claim is defaulted (namespace "default", a uid, a
 *    resourceVersion; no storageClassName: the class annotated
 *    storageclass.kubernetes.io/is-default-class), a class's
 *    volumeBindingMode Immediate;
 *  - as the PV controller before any pod (kn_sim_storage_settle): a volume
 *    without a claimRef is Available, a claim naming a volume is bound to
 *    it, an Immediate claim of a class with a provisioner is provisioned
 *    (a volume without node affinity) and bound;
 *  - as an external provisioner and the PV controller when a pod is bound
 *    (kn_sim_storage_bind): a claim annotated with a node gets a volume there
 *    (pvc-<uid>, node affinity kubernetes.io/hostname, spec.csi of the class's
 *    provisioner) and is bound; a volume given a claimRef binds its claim. */
#ifndef KN_SIM_STORAGE_H
#define KN_SIM_STORAGE_H

#include "base/err.h"
#include "json/json.h"
#include "scheduler/cycle/scheduler.h"

typedef struct kn_sim_storage kn_sim_storage;

kn_sim_storage *kn_sim_storage_new(void);
void kn_sim_storage_free(kn_sim_storage *st);
/* Whether a document's kind is storage (and loaded before pods). */
bool kn_sim_storage_kind(const char *kind);
/* A storage document, defaulted and handed to the scheduler. 0, -1 (err). */
int kn_sim_storage_load(kn_sim_storage *st, kn_scheduler *s, const kn_json *doc, kn_err *err);
int kn_sim_storage_settle(kn_sim_storage *st, kn_scheduler *s, kn_err *err);
/* A claim created while pods run (a Spark driver's, for an executor):
 * defaulted, settled and handed to the scheduler. */
int kn_sim_storage_create(kn_sim_storage *st, kn_scheduler *s, const kn_json *pvc, kn_err *err);
int kn_sim_storage_bind(kn_sim_storage *st, kn_scheduler *s, const kn_sched_binding *b, kn_err *err);

#endif
