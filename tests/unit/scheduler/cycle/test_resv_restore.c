/* Executor reservations of Spark drivers already bound when the scheduler
 * (re)starts: the slots their executors still need are held again, so another
 * application's driver cannot take the room, until the timeout counted from
 * the driver's binding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "support/sched_fixtures.h"

#define GANG(name, min)                                                                                           \
    "\"pod-group.scheduling.kubenexus.io/name\":\"" name                                                          \
    "\",\"pod-group.scheduling.kubenexus.io/min-available\":\"" min "\""
#define RESERVATION(count)                                                                                        \
    "\"scheduling.kubenexus.io/executor-reservation\":\"{\\\"count\\\":" count                                    \
    ",\\\"requests\\\":{\\\"cpu\\\":\\\"1\\\",\\\"memory\\\":\\\"896Mi\\\"}}\""
#define TIMEOUT(secs) ",\"pod-group.scheduling.kubenexus.io/timeout-seconds\":\"" secs "\""

/* 2026-11-24T10:00:00Z, when the drivers below were bound; the clock value
 * `now` of the restarted scheduler is 1000 at that instant. */
#define BOUND_AT 1795514400.0
#define T0 1000.0

/* CMocka setup: *state is an fx_sched whose scheduler (re)started at T0. */
static int restarted_setup(void **state)
{
    kn_sched_config cfg = {.wall_at_zero = BOUND_AT - T0};
    *state = fx_sched_new(&cfg);
    return 0;
}

#define restarted_test(t) cmocka_unit_test_setup_teardown(t, restarted_setup, fx_sched_teardown)

/* A driver bound by an earlier scheduler process, as the initial list shows it. */
static void bound_driver(kn_scheduler *s, const char *name, const char *gang, const char *annotations,
                         const char *node)
{
    kn_json *p = fx_parse(
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\","
        "\"uid\":\"uid-%s\",\"resourceVersion\":\"77\",\"creationTimestamp\":\"2026-11-24T09:59:58Z\","
        "\"labels\":{%s,\"spark-role\":\"driver\"},\"annotations\":{%s}},"
        "\"spec\":{\"schedulerName\":\"kubenexus-scheduler\",\"nodeName\":\"%s\",\"containers\":[{\"name\":"
        "\"spark-kubernetes-driver\",\"image\":\"apache/spark:3.5.0\",\"resources\":{\"requests\":{\"cpu\":\"1\","
        "\"memory\":\"1Gi\"}}}]},"
        "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Initialized\",\"status\":\"True\","
        "\"lastTransitionTime\":\"2026-11-24T10:00:03Z\"},{\"type\":\"PodScheduled\",\"status\":\"True\","
        "\"lastTransitionTime\":\"2026-11-24T10:00:00Z\"}]}}",
        name, name, gang, annotations, node);
    kn_err err = {{0}};
    if (kn_sched_apply_pod(s, p, false, &err) != 0)
        fail_msg("apply pod %s: %s", name, err.msg);
    kn_json_free(p);
}

static void executor(kn_scheduler *s, const char *name, const char *gang, const char *node)
{
    char labels[256];
    snprintf(labels, sizeof(labels), "%s,\"spark-role\":\"executor\"", gang);
    fx_pod_full(s, name, "1", "1Gi", labels, "", "", "", node, NULL);
}

static void expect_held(const kn_scheduler *s, size_t resvs, size_t slots)
{
    kn_sched_stats st;
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.reservations_held, resvs);
    assert_int_equal(st.slots_held, slots);
}

/* What kn_sched_each_reservation said of the reservations, as text. */
static void describe(void *ctx, const kn_sched_resv_info *r)
{
    char *buf = ctx;
    size_t off = strlen(buf);
    off += (size_t)snprintf(buf + off, 512 - off, "%s/%s %s %d %.0f %s:", r->driver_ns, r->driver_name, r->gang,
                            r->slots, r->expires, r->restored ? "restored" : "new");
    for (int i = 0; i < r->slots; i++)
        off += (size_t)snprintf(buf + off, 512 - off, " %s", r->slot_nodes[i]);
    snprintf(buf + off, 512 - off, ";");
}

/* The e2e report: 5 CPUs on two nodes, pi-a's driver bound, scheduler restarted, pi-b applied. */
static void test_restored_slots_keep_out_a_competing_driver(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    /* the initial lists: the pod before its node */
    bound_driver(s, "pi-a-driver", GANG("pi-a", "3"), RESERVATION("2"), "node-a");
    fx_node(s, "node-a", "3", "16Gi");
    fx_node(s, "node-b", "2", "16Gi");
    assert_int_equal(fx_cycle(s, T0 + 20, out), 0);
    const kn_sched_event *e = fx_event(out, "pi-a-driver", "GangReserved");
    assert_non_null(e);
    assert_string_equal(e->message,
                        "Re-reserved 2 executor slot(s) for gang default/pi-a after a scheduler restart; "
                        "held until the executors arrive or 600s after the driver was bound");
    expect_held(s, 1, 2);
    assert_true(kn_sched_next_deadline(s) == T0 + 600);
    char held[512] = "";
    kn_sched_each_reservation(s, describe, held);
    assert_string_equal(held, "default/pi-a-driver default/pi-a 2 1600 restored: node-a node-a;");
    /* pi-b needs 3 CPUs at once; only 2 are free */
    fx_pod_full(s, "pi-b-driver", "1", "1Gi", GANG("pi-b", "3") ",\"spark-role\":\"driver\"", RESERVATION("2"), "",
                "", NULL, NULL);
    assert_int_equal(fx_cycle(s, T0 + 21, out), 0);
    assert_non_null(fx_event(out, "pi-b-driver", "FailedScheduling"));
    /* pi-a's executors take the slots; pi-b still cannot start */
    executor(s, "pi-a-exec-1", GANG("pi-a", "3"), NULL);
    executor(s, "pi-a-exec-2", GANG("pi-a", "3"), NULL);
    assert_int_equal(fx_cycle(s, T0 + 30, out), 2);
    assert_string_equal(fx_node_of(out, "pi-a-exec-1"), "node-a");
    assert_string_equal(fx_node_of(out, "pi-a-exec-2"), "node-a");
    assert_null(fx_node_of(out, "pi-b-driver"));
    expect_held(s, 0, 0);
    assert_int_equal(fx_cycle(s, T0 + 31, out), 0);
    assert_null(fx_event(out, "pi-a-driver", "GangTimeout"));
}

/* Executors already bound hold their room; one pending at the restart takes a slot. */
static void test_only_missing_executors_reserved(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "node-a", "4", "16Gi");
    fx_node(s, "node-b", "2", "16Gi");
    executor(s, "app-exec-1", GANG("app", "4"), "node-b");
    bound_driver(s, "app-driver", GANG("app", "4"), RESERVATION("3"), "node-a");
    executor(s, "app-exec-2", GANG("app", "4"), NULL);
    assert_int_equal(fx_cycle(s, T0 + 5, out), 1);
    assert_non_null(fx_node_of(out, "app-exec-2"));
    assert_non_null(strstr(fx_event(out, "app-driver", "GangReserved")->message, "Re-reserved 2 executor"));
    expect_held(s, 1, 1);
    /* 6 CPUs: driver, two executors, one slot: 2 left for others, not 3 */
    fx_pod(s, "batch", "3", "1Gi");
    assert_int_equal(fx_cycle(s, T0 + 6, out), 0);
    executor(s, "app-exec-3", GANG("app", "4"), NULL);
    assert_int_equal(fx_cycle(s, T0 + 7, out), 1);
    assert_non_null(fx_node_of(out, "app-exec-3"));
    expect_held(s, 0, 0);
}

/* CMocka setup: restarted_setup with one 3-CPU node; the etl driver (2
 * executors, 30 s timeout) bound at T0. */
static int etl_setup(void **state)
{
    restarted_setup(state);
    fx_sched *f = *state;
    fx_node(f->s, "node-a", "3", "16Gi");
    bound_driver(f->s, "etl-driver", GANG("etl", "3"), RESERVATION("2") TIMEOUT("30"), "node-a");
    return 0;
}

#define etl_test(t) cmocka_unit_test_setup_teardown(t, etl_setup, fx_sched_teardown)

static void test_restored_slots_released_at_timeout_from_binding(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    assert_int_equal(fx_cycle(s, T0 + 20, out), 0);
    expect_held(s, 1, 2);
    assert_true(kn_sched_next_deadline(s) == T0 + 30);
    fx_pod(s, "waiting", "2", "1Gi");
    assert_int_equal(fx_cycle(s, T0 + 29, out), 0);
    assert_int_equal(fx_cycle(s, T0 + 30, out), 1);
    assert_string_equal(fx_node_of(out, "waiting"), "node-a");
    const kn_sched_event *e = fx_event(out, "etl-driver", "GangTimeout");
    assert_non_null(e);
    assert_string_equal(e->message, "Released 2 unused executor slot(s) of gang default/etl after 30s: executors "
                                    "did not arrive in time");
    kn_sched_stats st;
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.reservations_timed_out, 1);
}

static void test_no_reservation_once_timeout_passed(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_pod(s, "waiting", "2", "1Gi");
    assert_int_equal(fx_cycle(s, T0 + 45, out), 1);
    assert_string_equal(fx_node_of(out, "waiting"), "node-a");
    expect_held(s, 0, 0);
    const kn_sched_event *e = fx_event(out, "etl-driver", "GangTimeout");
    assert_non_null(e);
    assert_string_equal(e->message, "Did not re-reserve 2 executor slot(s) of gang default/etl after a scheduler "
                                    "restart: 30s have passed since the driver was bound");
    size_t n = out->n_events;
    assert_int_equal(fx_cycle(s, T0 + 100, out), 0);
    assert_int_equal(out->n_events, n); /* told once */
    kn_sched_stats st;
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.reservations_timed_out, 1); /* and counted once */
}

static void test_slots_that_no_longer_fit_are_not_held(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "node-a", "2", "16Gi");
    bound_driver(s, "big-driver", GANG("big", "4"), RESERVATION("3"), "node-a");
    assert_int_equal(fx_cycle(s, T0 + 1, out), 0);
    const kn_sched_event *e = fx_event(out, "big-driver", "FailedScheduling");
    assert_non_null(e);
    assert_string_equal(e->type, "Warning");
    assert_string_equal(e->message, "could not re-reserve 3 executor slot(s) after a scheduler restart: "
                                    "0/1 nodes are available: 1 Insufficient cpu.");
    expect_held(s, 0, 0);
    /* nothing held: the 1 free CPU is anyone's */
    fx_pod(s, "small", "1", "1Gi");
    assert_int_equal(fx_cycle(s, T0 + 2, out), 1);
    assert_string_equal(fx_node_of(out, "small"), "node-a");
    /* the executors are placed by the usual gang rule when they fit */
    fx_node(s, "node-b", "4", "16Gi");
    executor(s, "big-exec-1", GANG("big", "4"), NULL);
    executor(s, "big-exec-2", GANG("big", "4"), NULL);
    executor(s, "big-exec-3", GANG("big", "4"), NULL);
    assert_int_equal(fx_cycle(s, T0 + 3, out), 3);
    assert_string_equal(fx_node_of(out, "big-exec-3"), "node-b");
}

/* Without a restart the driver's own reservation is the only one. */
static void test_driver_bound_by_us_not_reserved_twice(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "node-a", "8", "16Gi");
    fx_pod_full(s, "d", "1", "1Gi", GANG("g", "3") ",\"spark-role\":\"driver\"", RESERVATION("2"), "", "", NULL,
                NULL);
    assert_int_equal(fx_cycle(s, T0 + 1, out), 1);
    bound_driver(s, "d", GANG("g", "3"), RESERVATION("2"), "node-a"); /* the watch catches up */
    assert_int_equal(fx_cycle(s, T0 + 2, out), 0);
    expect_held(s, 1, 2);
    kn_sched_stats st;
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.cpu_milli_used, 3000);
    assert_null(fx_event(out, "d", "FailedScheduling"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        restarted_test(test_restored_slots_keep_out_a_competing_driver),
        restarted_test(test_only_missing_executors_reserved),
        etl_test(test_restored_slots_released_at_timeout_from_binding),
        etl_test(test_no_reservation_once_timeout_passed),
        restarted_test(test_slots_that_no_longer_fit_are_not_held),
        fx_sched_test(test_driver_bound_by_us_not_reserved_twice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
