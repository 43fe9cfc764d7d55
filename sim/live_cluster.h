/* live_cluster.h - `simulate --kubeconfig`: the live cluster read once into a
 * scheduler, read-only (lists, no watch, no write): Nodes, Pods (every bound
 * pod of any scheduler counts on its node; pods of this scheduler still
 * pending are queued as the live scheduler has them), NodeResourceTopologies,
 * Namespaces, the PodGroups of both kinds (a CRD not installed is skipped),
 * PodDisruptionBudgets (preemption counts them), PriorityClasses (the files'
 * pods get their priority from them, as the API server would give it), and
 * storage: StorageClasses, CSINodes, PersistentVolumes and
 * PersistentVolumeClaims. Drivers of this scheduler already bound get their
 * executor reservations rebuilt by the first cycle, as after a restart (the
 * scheduler's wall_at_zero must be set). */
#ifndef KN_SIM_LIVE_CLUSTER_H
#define KN_SIM_LIVE_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/strmap.h"
#include "scheduler/cycle/scheduler.h"
#include "sim/priority.h"
#include "sim/storage.h"

typedef struct kn_live_cluster {
    size_t read[KN_SCHED_KINDS]; /* objects applied, by kind */
    bool absent[KN_SCHED_KINDS]; /* the resource is not served (CRD not installed) */
    size_t classes;              /* PriorityClasses read (the two system ones are built in) */
    size_t ignored;              /* objects the scheduler refused (each told on stderr) */
    kn_strmap pods;              /* "ns/name" of every pod read: names a new pod cannot take */
    char **refs;                 /* the keys of pods */
    size_t n_refs, cap_refs;
} kn_live_cluster;

/* 0, or -1 with a message (the kubeconfig, or a list the server refused).
 * The cluster's PriorityClasses go to prio; storage objects go through st
 * (kn_sim_storage_load) as simulate's files' do: settle st after. */
int kn_live_cluster_read(kn_scheduler *s, kn_sim_storage *st, const char *kubeconfig, kn_sim_priorities *prio,
                         kn_live_cluster *out, kn_err *err);
/* Whether a pod "ns/name" exists in the cluster read. */
bool kn_live_cluster_has_pod(const kn_live_cluster *lc, const char *ref);
void kn_live_cluster_free(kn_live_cluster *lc);

#endif
