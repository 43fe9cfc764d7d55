/* sched_fixture.h - small helpers shared by the scheduler integration tests:
 * printing a process log when a test fails, and the gang labels a pod carries. */
#ifndef KN_SCHED_FIXTURE_H
#define KN_SCHED_FIXTURE_H

#include <stddef.h>

/* Copies the file at path to stderr, headed by its name (nothing if unreadable). */
void kn_it_dump_log(const char *path);
/* {"pod-group.scheduling.kubenexus.io/name":gang,"...min-available":"min"} into buf. */
const char *kn_it_gang_labels(char *buf, size_t cap, const char *gang, int min);

#endif
