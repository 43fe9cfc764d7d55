/* leader.h - leader election on a coordination.k8s.io/v1 Lease, as client-go does it.
 *
 * A thread tries every retry period (2 s) to acquire or renew the Lease
 * <namespace>/<name>: GET it (404 -> POST a new one); if another holder
 * renewed it less than leaseDurationSeconds (15 s) ago, as observed on our own
 * clock, wait; else PUT our record with the metadata.resourceVersion we read
 * (optimistic concurrency: a 409 means someone else wrote first, re-read next
 * round). Taking over from another (or a released) holder sets acquireTime and
 * increments leaseTransitions. acquireTime/renewTime are RFC 3339 with
 * microseconds ("2026-11-24T10:00:00.000000Z").
 *
 * A leader that has not renewed within the renew deadline (10 s) loses the
 * lease: kn_leader_is_leader() turns false and kn_leader_lost() true, and the
 * thread stops trying (the program stops binding and exits, as kube-scheduler
 * does). kn_leader_stop(release=true) gives a held lease up as client-go's
 * ReleaseOnCancel: holderIdentity "", leaseDurationSeconds 1. */
#ifndef KN_LEADER_H
#define KN_LEADER_H

#include <stdbool.h>

#include "kube/client/apiclient.h"
#include "base/err.h"

typedef struct kn_leader kn_leader;

typedef struct kn_leader_opts {
    const char *ns;          /* lease namespace */
    const char *name;        /* lease name (the scheduler name) */
    const char *identity;    /* holderIdentity */
    double lease_s;          /* 0 -> 15 */
    double renew_deadline_s; /* 0 -> 10 */
    double retry_s;          /* 0 -> 2 */
} kn_leader_opts;

kn_leader *kn_leader_start(kn_api *api, const kn_leader_opts *o, kn_err *err);
bool kn_leader_is_leader(kn_leader *l);
bool kn_leader_lost(kn_leader *l);
/* Stops the thread; with release, gives up a held lease. Frees l. */
void kn_leader_stop(kn_leader *l, bool release);

/* "2026-11-24T10:00:00.000000Z" for a wall-clock time (exposed for tests). */
void kn_micro_time(double unix_s, char *buf, size_t cap);
/* "hostname_<8 hex>" into buf. */
void kn_leader_identity(char *buf, size_t cap);

#endif
