/* priority.h - PriorityClasses (scheduling.k8s.io/v1) and kube-apiserver's
 * Priority admission plugin, as `simulate` applies them to the pods it creates.
 *
 * The plugin, on a pod being created:
 *  - spec.priorityClassName names a class: the two system classes
 *    (system-cluster-critical 2000000000, system-node-critical 2000001000)
 *    or one read from the files; unknown: the pod is refused
 *    ("pods \"x\" is forbidden: no PriorityClass with name y was found");
 *  - no name: the globalDefault class with the lowest value, if any (its
 *    name is set on the pod), else priority 0;
 *  - spec.priority and spec.preemptionPolicy are set from the class
 *    (preemptionPolicy defaults to PreemptLowerPriority); a pod that already
 *    carries a different one is refused, as the plugin refuses it. A pod
 *    without a class name that carries spec.priority keeps it (the pods the
 *    Spark Operator stand-in builds carry 0, the plugin's result without a
 *    default class). */
#ifndef KN_SIM_PRIORITY_H
#define KN_SIM_PRIORITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/strmap.h"
#include "json/json.h"

typedef struct kn_sim_class {
    char *name;
    int32_t value;
    bool never; /* preemptionPolicy: Never */
    bool global_default;
} kn_sim_class;

typedef struct kn_sim_priorities {
    kn_sim_class *classes;
    size_t n, cap;
    kn_strmap by_name;
} kn_sim_priorities;

void kn_sim_priorities_init(kn_sim_priorities *p);
void kn_sim_priorities_free(kn_sim_priorities *p);
/* A PriorityClass document; errors name the field. A second class of the
 * same name replaces the first. */
int kn_sim_priority_add(kn_sim_priorities *p, const kn_json *pc, kn_err *err);
/* The plugin on pod (its metadata.name for messages). 0 admitted (maybe
 * changed); 1 refused, *denial malloc'd; -1 out of memory. */
int kn_sim_priority_admit(const kn_sim_priorities *p, kn_json *pod, char **denial);

#endif
