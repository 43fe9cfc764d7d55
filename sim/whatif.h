/* whatif.h - `simulate --kubeconfig`'s answer for each application of the
 * files: would it start now, on which nodes and NUMA zones, and if not, what
 * blocks it on each node; and the executor reservations the cluster holds,
 * with when they expire.
 *
 * JSON lines (before the summary):
 *   {"reservation":{"driver":"ns/d","gang":"ns/g","slots":2,"nodes":{"node-a":2},"expires":"<RFC 3339>"}}
 *   {"application":"ns/app","startsNow":true,"verdict":"would start now on node-a (driver in NUMA node-0, 2 executors)"}
 *   {"application":"ns/app","startsNow":false,"startsAt":"<RFC 3339>","verdict":"would start at ..., once ..."}
 *   {"application":"ns/app","startsNow":false,"preempts":4,"verdict":"would preempt 4 pods of lower priority
 *    (spark/low whole) and start on node-a (driver, 2 executors) once they are gone"}
 *   {"application":"ns/app","startsNow":false,"verdict":"would wait: <reason>","nodes":{"node-a":"Insufficient cpu",...}}
 *   {"application":"ns/app","startsNow":false,"verdict":"would not start: <why it was refused>"}
 * or, with --format table, a HELD RESERVATION and an APPLICATION section.
 * Times are the simulation's clock (0 = when it started) on the wall clock. */
#ifndef KN_SIM_WHATIF_H
#define KN_SIM_WHATIF_H

#include <stdbool.h>

#include "scheduler/cycle/scheduler.h"

typedef struct kn_whatif kn_whatif;

/* wall_at_zero: Unix time of clock 0. NULL when out of memory. */
kn_whatif *kn_whatif_new(double wall_at_zero);
void kn_whatif_free(kn_whatif *w);

/* An application of the files, in file order: its driver pod's uid when it
 * was created and handed to the scheduler, else NULL and refused (why). 0, or
 * -1 out of memory. */
int kn_whatif_app(kn_whatif *w, const char *ns, const char *name, const char *driver_name, const char *driver_uid,
                  const char *refused);
/* A binding the simulation made at clock now, after `jumps` clock jumps to a
 * deadline (a held reservation's timeout). */
void kn_whatif_binding(kn_whatif *w, const kn_sched_binding *b, double now, int jumps);
/* A pod the simulation preempted (its preemptor a pod of an application of
 * the files, or not). */
void kn_whatif_victim(kn_whatif *w, const kn_sched_victim *v);
/* The reservations rebuilt for the cluster's bound drivers, as held now
 * (after the first cycle). */
void kn_whatif_held(kn_whatif *w, const kn_scheduler *s);
/* The lines (JSON) or sections (table) above, on stdout. */
void kn_whatif_report(kn_whatif *w, kn_scheduler *s, bool table);

#endif
