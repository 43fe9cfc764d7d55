/* sched_fixture.h - small helpers shared by the scheduler integration tests:
 * printing a process log when a test fails, the gang labels a pod carries, and
 * bounded waits on what the API server double records (polls, no timing
 * assertions). */
#ifndef KN_SCHED_FIXTURE_H
#define KN_SCHED_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "apiserver_double.h"

/* Copies the file at path to stderr, headed by its name (nothing if unreadable). */
void kn_it_dump_log(const char *path);
/* {"pod-group.scheduling.kubenexus.io/name":gang,"...min-available":"min"} into buf. */
const char *kn_it_gang_labels(char *buf, size_t cap, const char *gang, int min);

/* kn_dbl_start(d, extra), saying on stderr what is missing when it fails
 * (then d is already stopped). 0 ok. */
int kn_it_dbl_open(kn_dbl *d, const char *extra);

/* The double and one scheduler process, as a test starts from them. */
typedef struct kn_it_world {
    kn_dbl d;
    kn_sched_proc s; /* started by the test (kn_sched_proc_start) */
} kn_it_world;
/* CMocka setup and teardown: *state is a kn_it_world with the double
 * running; teardown kills the scheduler (continued first, in case a test
 * stopped it), prints its log when KN_IT_VERBOSE is set, stops the double. */
int kn_it_world_setup(void **state);
int kn_it_world_teardown(void **state);

/* Waits up to timeout_s for: ns/name to have a node; at least n pods of ns
 * whose names start with prefix bound through the binding subresource; an
 * event with reason about ns/name. False when the wait ran out. */
bool kn_it_wait_pod_bound(kn_dbl *d, const char *ns, const char *name, double timeout_s);
bool kn_it_wait_n_bound(kn_dbl *d, const char *ns, const char *prefix, int n, double timeout_s);
bool kn_it_wait_event(kn_dbl *d, const char *ns, const char *name, const char *reason, double timeout_s);
/* Waits up to timeout_s for the double to have counted n calls of key
 * (kn_dbl_calls, e.g. "watch pods"). False when the wait ran out. */
bool kn_it_wait_calls(kn_dbl *d, const char *key, int n, double timeout_s);

#endif
