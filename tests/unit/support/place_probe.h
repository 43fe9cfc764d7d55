/* place_probe.h - asking the placement layer about one pending pod of a
 * kn_scheduler (pods and nodes by name, as sched_fixtures.h makes them):
 * whether it passes every filter on a node, with kube-scheduler's reason
 * when not, and the inter-pod plugins' normalized scores over a list of
 * nodes taken as the feasible ones; for the inter-pod suites
 * (tests/unit/scheduler/place/). Each fails the running test when a name is
 * unknown. */
#ifndef KN_TEST_PLACE_PROBE_H
#define KN_TEST_PLACE_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "scheduler/cycle/scheduler.h"

/* "" when pending pod `pod` passes every filter on node, else the one
 * reason the node was filtered for (valid until the next call). */
const char *fx_verdict(kn_scheduler *s, const char *pod, const char *node);
/* NormalizeScore's InterPodAffinity (spread false) or PodTopologySpread
 * (true) scores of pending pod `pod` over nodes[0..n) (n <= 16), checked
 * against want[0..n): the test fails naming the first node that differs. */
void fx_expect_scores(kn_scheduler *s, const char *pod, const char *const *nodes, int n, bool spread,
                      const int64_t *want);

#endif
