/* Gangs all-or-nothing, Spark driver-first reservations, queue order and
 * anti-starvation, as a user watching `kubectl get pods` would notice them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "support/sched_fixtures.h"

#define GANG(name, min)                                                                                           \
    "\"pod-group.scheduling.kubenexus.io/name\":\"" name                                                          \
    "\",\"pod-group.scheduling.kubenexus.io/min-available\":\"" min "\""
#define RESERVATION(count)                                                                                        \
    "\"scheduling.kubenexus.io/executor-reservation\":\"{\\\"count\\\":" count                                    \
    ",\\\"requests\\\":{\\\"cpu\\\":\\\"1\\\",\\\"memory\\\":\\\"896Mi\\\"}}\""

static void member(kn_scheduler *s, const char *name, const char *cpu, const char *labels, const char *spec)
{
    fx_pod_full(s, name, cpu, "1Gi", labels, "", spec, "", NULL, NULL);
}

static void members(kn_scheduler *s, const char *prefix, int n, const char *cpu, const char *labels,
                    const char *spec)
{
    char name[64];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "%s-%d", prefix, i);
        member(s, name, cpu, labels, spec);
    }
}

static void test_gang_that_does_not_fit_binds_and_holds_nothing(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "node-a", "3", "16Gi");
    fx_node(s, "node-b", "3", "16Gi");
    members(s, "job", 4, "2", GANG("job", "4"), "");
    assert_int_equal(fx_cycle(s, 1, out), 0);
    const kn_sched_event *e = fx_event(out, "job-3", "FailedScheduling");
    assert_non_null(e);
    assert_string_equal(e->message, "0/2 nodes are available: 2 Insufficient cpu. Gang default/job: only 2 of 4 "
                                    "pods fit at once; none bound.");
    /* nothing is held: a 3-core pod fits right away */
    fx_pod(s, "plain", "3", "1Gi");
    assert_int_equal(fx_cycle(s, 2, out), 1);
    assert_non_null(fx_node_of(out, "plain"));
    kn_sched_stats st;
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.gangs_waiting, 1);
    assert_int_equal(st.pods_pending, 4);
}

/* A Spark driver with gang labels but no executor reservation did not pass
 * through the webhook: its gang can never fill up (Spark creates executors
 * only once the driver runs), and the event says so and what to do. */
static void test_driver_without_reservation_is_named(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "node-a", "8", "32Gi");
    member(s, "spark-pi-driver", "1", GANG("spark-pi", "4") ",\"spark-role\":\"driver\"", "");
    assert_int_equal(fx_cycle(s, 1, out), 0);
    const kn_sched_event *e = fx_event(out, "spark-pi-driver", "GangWaiting");
    assert_non_null(e);
    assert_string_equal(
        e->message,
        "Gang default/spark-pi: 1 of 4 members present, and Spark driver spark-pi-driver "
        "has no annotation scheduling.kubenexus.io/executor-reservation: it did not pass through the "
        "kubenexus webhook, and Spark creates the executors only once the driver runs, so the gang can "
        "never fill up. Recreate the application with the webhook installed (MutatingWebhookConfiguration "
        "kubenexus-webhook, selecting its namespace), or set the annotation on the driver");
}

static void test_gang_waits_for_min_available_then_binds_all(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "node-a", "8", "32Gi");
    fx_node(s, "node-b", "8", "32Gi");
    members(s, "mpi", 3, "2", GANG("mpi", "4"), "");
    assert_int_equal(fx_cycle(s, 1, out), 0);
    const kn_sched_event *e = fx_event(out, "mpi-0", "GangWaiting");
    assert_non_null(e);
    assert_string_equal(e->type, "Normal");
    assert_string_equal(e->message, "Gang default/mpi: 3 of 4 members present; waiting for 1 more before placing "
                                    "them all at once");
    member(s, "mpi-3", "2", GANG("mpi", "4"), "");
    assert_int_equal(fx_cycle(s, 2, out), 4);
    /* bin-packing: a gang fills one node before the next */
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof(name), "mpi-%d", i);
        assert_string_equal(fx_node_of(out, name), "node-a");
    }
    /* members beyond min-available come one by one once the gang runs */
    member(s, "mpi-4", "2", GANG("mpi", "4"), "");
    member(s, "mpi-5", "9", GANG("mpi", "4"), "");
    assert_int_equal(fx_cycle(s, 3, out), 1);
    assert_string_equal(fx_node_of(out, "mpi-4"), "node-b");
    assert_non_null(fx_event(out, "mpi-5", "FailedScheduling"));
}

static void test_driver_first_reservation_honoured(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "node-a", "4", "16Gi");
    fx_node(s, "node-b", "4", "16Gi");
    fx_pod_full(s, "spark-pi-driver", "1", "1Gi", GANG("spark-pi", "4") ",\"spark-role\":\"driver\"",
                RESERVATION("3"), "", "", NULL, NULL);
    assert_int_equal(fx_cycle(s, 10, out), 1);
    assert_string_equal(fx_node_of(out, "spark-pi-driver"), "node-a");
    const kn_sched_event *e = fx_event(out, "spark-pi-driver", "GangReserved");
    assert_non_null(e);
    assert_string_equal(e->message, "Reserved 3 executor slot(s) of cpu 1, memory 896Mi for gang default/spark-pi "
                                    "on node-a (3); held until the executors arrive or 600s pass");
    kn_sched_stats st;
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.reservations_held, 1);
    assert_int_equal(st.slots_held, 3);
    /* the held room is nobody else's */
    fx_pod(s, "intruder", "3", "1Gi");
    assert_int_equal(fx_cycle(s, 11, out), 1);
    assert_string_equal(fx_node_of(out, "intruder"), "node-b");
    fx_pod(s, "intruder-2", "1", "1Gi");
    assert_int_equal(fx_cycle(s, 12, out), 1);
    assert_string_equal(fx_node_of(out, "intruder-2"), "node-b");
    fx_pod(s, "intruder-3", "1", "1Gi");
    assert_int_equal(fx_cycle(s, 13, out), 0);
    /* executors created after the driver runs take the slots */
    members(s, "spark-pi-exec", 3, "1", GANG("spark-pi", "4") ",\"spark-role\":\"executor\"", "");
    assert_int_equal(fx_cycle(s, 20, out), 3);
    assert_string_equal(fx_node_of(out, "spark-pi-exec-0"), "node-a");
    assert_string_equal(fx_node_of(out, "spark-pi-exec-2"), "node-a");
    assert_null(fx_node_of(out, "intruder-3"));
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.reservations_held, 0);
    assert_int_equal(st.cpu_milli_used, 8000);
    assert_null(fx_event(out, "spark-pi-driver", "GangTimeout"));
}

static void test_reservation_released_on_timeout(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "node-a", "4", "16Gi");
    fx_pod_full(s, "etl-driver", "1", "1Gi", GANG("etl", "4"),
                RESERVATION("3") ",\"pod-group.scheduling.kubenexus.io/timeout-seconds\":\"30\"", "", "", NULL,
                NULL);
    assert_int_equal(fx_cycle(s, 100, out), 1);
    assert_true(kn_sched_next_deadline(s) == 130);
    fx_pod(s, "waiting", "2", "1Gi");
    assert_int_equal(fx_cycle(s, 129, out), 0);
    assert_null(fx_event(out, "etl-driver", "GangTimeout"));
    kn_sched_stats st;
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.reservations_timed_out, 0);
    assert_int_equal(fx_cycle(s, 130, out), 1);
    const kn_sched_event *e = fx_event(out, "etl-driver", "GangTimeout");
    assert_non_null(e);
    assert_string_equal(e->type, "Warning");
    assert_string_equal(e->message, "Released 3 unused executor slot(s) of gang default/etl after 30s: executors "
                                    "did not arrive in time");
    assert_string_equal(fx_node_of(out, "waiting"), "node-a");
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.reservations_held, 0);
    assert_int_equal(st.reservations_timed_out, 1); /* kubenexus_scheduler_reservation_timeouts_total */
    assert_int_equal(st.cpu_milli_used, 3000);
    assert_int_equal(fx_cycle(s, 200, out), 0);
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.reservations_timed_out, 1);
}

/* kubenexus_scheduler_oldest_waiting_gang_seconds is measured from the
 * oldest pending member of a gang not yet placed, whether it lacks members
 * (GangWaiting) or room. fx_pod_full makes each pod a second after the last. */
static void test_oldest_waiting_gang(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "node-a", "4", "16Gi");
    kn_sched_stats st;
    kn_sched_get_stats(s, &st);
    assert_true(st.oldest_gang_waiting_since == 0);
    members(s, "short", 2, "1", GANG("short", "3"), ""); /* one member missing */
    members(s, "big", 2, "3", GANG("big", "2"), "");     /* does not fit */
    assert_int_equal(fx_cycle(s, 1, out), 0);
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.gangs_waiting, 2);
    struct tm hour = {.tm_year = 2026 - 1900, .tm_mon = 10, .tm_mday = 24, .tm_hour = 10};
    double first = st.oldest_gang_waiting_since, t10 = (double)timegm(&hour);
    assert_true(first >= t10 && first < t10 + 3600); /* short-0's creationTimestamp */
    /* the short gang completes and is placed: big-0, made two pods later, is the oldest */
    member(s, "short-2", "1", GANG("short", "3"), "");
    assert_int_equal(fx_cycle(s, 2, out), 3);
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.gangs_waiting, 1);
    assert_true(st.oldest_gang_waiting_since == first + 2);
    fx_delete_pod(s, "big-0");
    fx_delete_pod(s, "big-1");
    assert_int_equal(fx_cycle(s, 3, out), 0);
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.gangs_waiting, 0);
    assert_true(st.oldest_gang_waiting_since == 0);
}

static void test_driver_not_bound_without_room_for_its_executors(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "node-a", "4", "16Gi");
    fx_pod_full(s, "big-driver", "1", "1Gi", GANG("big", "5"), RESERVATION("4"), "", "", NULL, NULL);
    assert_int_equal(fx_cycle(s, 1, out), 0);
    const kn_sched_event *e = fx_event(out, "big-driver", "FailedScheduling");
    assert_non_null(e);
    assert_string_equal(e->message,
                        "0/1 nodes are available: 1 Insufficient cpu. Gang default/big: only 4 of 5 pods "
                        "fit at once (driver and its executor slots); none bound.");
    fx_pod(s, "plain", "4", "1Gi");
    assert_int_equal(fx_cycle(s, 2, out), 1);
    kn_sched_stats st;
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.reservations_held, 0);
}

static void test_priority_then_age(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "node-a", "2", "16Gi");
    fx_pod(s, "old-low", "2", "1Gi");
    fx_pod_full(s, "new-high", "2", "1Gi", "", "", ",\"priority\":1000", "", NULL, NULL);
    assert_int_equal(fx_cycle(s, 1, out), 1);
    assert_string_equal(fx_node_of(out, "new-high"), "node-a");
    fx_delete_pod(s, "new-high");
    fx_pod(s, "newer", "2", "1Gi");
    assert_int_equal(fx_cycle(s, 2, out), 1);
    assert_string_equal(fx_node_of(out, "old-low"), "node-a");
}

static void test_competing_gangs_one_places_fully(void **state)
{
    (void)state;
    for (int prio = 0; prio < 2; prio++) {
        fx_sched *f = fx_sched_new(NULL);
        kn_scheduler *s = f->s;
        kn_sched_out *out = &f->out;
        fx_node(s, "node-a", "4", "16Gi");
        fx_node(s, "node-b", "4", "16Gi");
        /* interleaved arrival: each alone would fit, both together would not */
        for (int i = 0; i < 3; i++) {
            char name[16];
            snprintf(name, sizeof(name), "a-%d", i);
            member(s, name, "2", GANG("a", "3"), "");
            snprintf(name, sizeof(name), "b-%d", i);
            member(s, name, "2", GANG("b", "3"), prio ? ",\"priority\":10" : "");
        }
        assert_int_equal(fx_cycle(s, 1, out), 3);
        assert_int_equal(fx_bound_with_prefix(out, prio ? "b-" : "a-"), 3);
        assert_int_equal(fx_bound_with_prefix(out, prio ? "a-" : "b-"), 0);
        fx_sched_free(f);
    }
}

/* An 8-cpu node with 2 cpu free: blocker-0..2 of another scheduler take 2 each. */
static void three_blockers(kn_scheduler *s)
{
    fx_node(s, "node-a", "8", "32Gi");
    fx_pod_full(s, "blocker-0", "2", "1Gi", "", "", "", "", "node-a", "default-scheduler");
    fx_pod_full(s, "blocker-1", "2", "1Gi", "", "", "", "", "node-a", "default-scheduler");
    fx_pod_full(s, "blocker-2", "2", "1Gi", "", "", "", "", "node-a", "default-scheduler");
}

static void test_starving_gang_holds_room(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    three_blockers(s);
    members(s, "big", 4, "2", GANG("big", "4"), "");
    assert_int_equal(fx_cycle(s, 0, out), 0);
    /* before the bound: room freed goes to whoever fits */
    fx_delete_pod(s, "blocker-0");
    fx_pod(s, "small-0", "1", "1Gi");
    assert_int_equal(fx_cycle(s, 10, out), 1);
    assert_non_null(fx_node_of(out, "small-0"));
    assert_true(kn_sched_next_deadline(s) == 120);
    /* past the bound (120 s), the gang keeps the room it finds */
    fx_delete_pod(s, "small-0");
    fx_pod(s, "small-1", "1", "1Gi");
    assert_int_equal(fx_cycle(s, 121, out), 0);
    /* the bound has passed: no deadline left that would make the caller spin */
    assert_true(kn_sched_next_deadline(s) > 121);
    const kn_sched_event *e = fx_event(out, "small-1", "FailedScheduling");
    assert_non_null(e);
    assert_string_equal(e->message, "0/1 nodes are available: 1 Insufficient cpu.");
    fx_delete_pod(s, "blocker-1");
    fx_pod(s, "small-2", "1", "1Gi");
    assert_int_equal(fx_cycle(s, 122, out), 0);
    fx_delete_pod(s, "blocker-2");
    assert_int_equal(fx_cycle(s, 123, out), 4);
    assert_int_equal(fx_bound_with_prefix(out, "big-"), 4);
    assert_int_equal(fx_bound_with_prefix(out, "small-"), 1); /* only small-0, before the bound */
}

/* One gang holds room per cycle past the bound: a starving gang of which
 * nothing fits anywhere holds nothing, so it neither says it holds nor
 * keeps the hold from the next starving gang, which keeps what it finds. */
static void test_gang_that_fits_nothing_leaves_the_hold(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    three_blockers(s);
    members(s, "huge", 2, "10", GANG("huge", "2"), ""); /* older: tried first */
    members(s, "big", 4, "2", GANG("big", "4"), "");
    assert_int_equal(fx_cycle(s, 0, out), 0);
    fx_delete_pod(s, "blocker-0");
    fx_pod(s, "small", "1", "1Gi");
    assert_int_equal(fx_cycle(s, 121, out), 0);
    assert_null(fx_node_of(out, "small")); /* big holds the 4 cpu freed */
    const kn_sched_event *e = fx_event(out, "huge-0", "FailedScheduling");
    assert_non_null(e);
    assert_null(strstr(e->message, "Holding"));
    e = fx_event(out, "big-0", "FailedScheduling");
    assert_non_null(e);
    assert_non_null(strstr(e->message, "Holding the room found so far"));
}

static void test_driver_deleted_releases_slots(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "node-a", "4", "16Gi");
    fx_pod_full(s, "d", "1", "1Gi", GANG("g", "4"), RESERVATION("3"), "", "", NULL, NULL);
    assert_int_equal(fx_cycle(s, 1, out), 1);
    fx_pod(s, "p", "4", "1Gi");
    assert_int_equal(fx_cycle(s, 2, out), 0);
    fx_delete_pod(s, "d");
    assert_int_equal(fx_cycle(s, 3, out), 1);
    assert_string_equal(fx_node_of(out, "p"), "node-a");
}

/* A driver whose binding failed is placed again with new slots (the first
 * ones released at once, not at the gang's timeout); deleting it releases
 * whatever it still holds. */
static void test_driver_placed_again_then_deleted_releases_all(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    kn_err err = {{0}};
    fx_node(s, "node-a", "8", "16Gi");
    fx_pod_full(s, "d", "1", "1Gi", GANG("g", "4"), RESERVATION("3"), "", "", NULL, NULL);
    assert_int_equal(kn_sched_cycle(s, 1, out, &err), 1);
    kn_sched_bind_failed(s, "uid-d", 500, "etcd timeout", 1, out);
    assert_int_equal(fx_cycle(s, 2, out), 1);
    kn_sched_stats st;
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.reservations_held, 1); /* the first slots went with the failed binding */
    assert_int_equal(st.cpu_milli_used, 4000);
    fx_delete_pod(s, "d");
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.reservations_held, 0);
    assert_int_equal(st.cpu_milli_used, 0);
    fx_pod(s, "p", "8", "1Gi");
    assert_int_equal(fx_cycle(s, 3, out), 1);
    assert_string_equal(fx_node_of(out, "p"), "node-a");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        fx_sched_test(test_gang_that_does_not_fit_binds_and_holds_nothing),
        fx_sched_test(test_driver_without_reservation_is_named),
        fx_sched_test(test_gang_waits_for_min_available_then_binds_all),
        fx_sched_test(test_driver_first_reservation_honoured),
        fx_sched_test(test_reservation_released_on_timeout),
        fx_sched_test(test_oldest_waiting_gang),
        fx_sched_test(test_driver_not_bound_without_room_for_its_executors),
        fx_sched_test(test_priority_then_age),
        cmocka_unit_test(test_competing_gangs_one_places_fully),
        fx_sched_test(test_starving_gang_holds_room),
        fx_sched_test(test_gang_that_fits_nothing_leaves_the_hold),
        fx_sched_test(test_driver_deleted_releases_slots),
        fx_sched_test(test_driver_placed_again_then_deleted_releases_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
