/* Feeding the scheduler as watches do: relists, bindings answered 409/404,
 * watch events that lag behind our own bindings, nodes leaving and coming
 * back. No pod is ever placed twice and no room is lost or counted twice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "support/sched_fixtures.h"

static void test_relist_forgets_what_was_not_listed(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "node-a", "4", "16Gi");
    fx_node(s, "node-gone", "64", "16Gi");
    fx_pod_full(s, "old", "3", "1Gi", "", "", "", "", "node-a", "default-scheduler");
    /* 410 Gone: relist; "old" and "node-gone" were deleted meanwhile */
    kn_sched_resync_begin(s, KN_SCHED_PODS);
    kn_sched_resync_end(s, KN_SCHED_PODS);
    kn_sched_resync_begin(s, KN_SCHED_NODES);
    fx_node(s, "node-a", "4", "16Gi");
    kn_sched_resync_end(s, KN_SCHED_NODES);
    fx_pod(s, "new", "4", "1Gi");
    assert_int_equal(fx_cycle(s, 1, out), 1);
    assert_string_equal(fx_node_of(out, "new"), "node-a");
    kn_sched_stats st;
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.nodes, 1);
}

static void test_watch_lag_never_places_twice(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "node-a", "4", "16Gi");
    fx_pod(s, "p", "1", "1Gi");
    kn_err err;
    assert_int_equal(kn_sched_cycle(s, 1, out, &err), 1);
    /* an older MODIFIED event (no nodeName yet) arrives while binding */
    fx_pod(s, "p", "1", "1Gi");
    assert_int_equal(kn_sched_cycle(s, 2, out, &err), 0);
    kn_sched_stats st;
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.pods_assumed, 1);
    assert_int_equal(st.cpu_milli_used, 1000);
    /* then the watch shows it bound where we put it: counted once */
    fx_pod_full(s, "p", "1", "1Gi", "", "", "", "", "node-a", NULL);
    kn_sched_bind_ok(s, "uid-p", 3, out); /* the answer comes after the event */
    kn_sched_bind_ok(s, "uid-p", 3, out); /* (and a duplicate is ignored) */
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.pods_bound, 1);
    assert_int_equal(st.cpu_milli_used, 1000);
    int scheduled = 0;
    for (size_t i = 0; i < out->n_events; i++)
        scheduled += strcmp(out->events[i].reason, "Scheduled") == 0;
    assert_int_equal(scheduled, 1);
    assert_string_equal(fx_event(out, "p", "Scheduled")->message, "Successfully assigned default/p to node-a");
}

static void test_conflict_and_gone(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "node-a", "4", "16Gi");
    fx_node(s, "node-b", "2", "16Gi");
    fx_pod(s, "p", "2", "1Gi");
    fx_pod(s, "q", "1", "1Gi");
    kn_err err;
    assert_int_equal(kn_sched_cycle(s, 1, out, &err), 2);
    assert_string_equal(fx_node_of(out, "p"), "node-a");
    /* 409: another replica bound p elsewhere; the watch says where */
    kn_sched_bind_failed(s, "uid-p", 409, "pod p is already assigned to node node-b", 1, out);
    kn_sched_stats st;
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.pods_assumed, 2); /* until the watch tells */
    fx_pod_full(s, "p", "2", "1Gi", "", "", "", "", "node-b", NULL);
    /* 404: q was deleted before its binding landed */
    kn_sched_bind_failed(s, "uid-q", 404, "pods \"q\" not found", 1, out);
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.pods_assumed, 0);
    assert_int_equal(st.pods_bound, 1);
    assert_int_equal(st.cpu_milli_used, 2000);
    /* node-a is whole again */
    kn_sched_out_reset(out);
    fx_pod(s, "r", "4", "1Gi");
    assert_int_equal(fx_cycle(s, 2, out), 1);
    assert_string_equal(fx_node_of(out, "r"), "node-a");
}

/* A pod whose binding got 409 and that a relist no longer holds (deleted and
 * re-created under a new uid while the scheduler was not watching) must not
 * keep its room; one whose binding is still in flight is kept. */
static void test_relist_drops_conflicted_assumed_pod(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "node-a", "4", "16Gi");
    fx_pod(s, "p", "3", "1Gi");
    fx_pod(s, "q", "1", "1Gi");
    kn_err err;
    assert_int_equal(kn_sched_cycle(s, 1, out, &err), 2); /* both bindings in flight */
    kn_sched_bind_failed(s, "uid-p", 409, "Operation cannot be fulfilled: precondition failed", 1, out);
    kn_sched_resync_begin(s, KN_SCHED_PODS); /* neither p nor q listed */
    kn_sched_resync_end(s, KN_SCHED_PODS);
    kn_sched_stats st;
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.pods_assumed, 1); /* q: its binding is in flight */
    assert_int_equal(st.cpu_milli_used, 1000);
    kn_sched_out_reset(out);
    fx_pod(s, "r", "3", "1Gi"); /* p's room is free again */
    assert_int_equal(fx_cycle(s, 2, out), 1);
    assert_string_equal(fx_node_of(out, "r"), "node-a");
}

static void test_node_leaving_and_coming_back(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    /* a pod bound to a node we have not seen yet is counted when it arrives */
    fx_pod_full(s, "early", "3", "1Gi", "", "", "", "", "node-a", "default-scheduler");
    fx_node(s, "node-a", "4", "16Gi");
    fx_pod(s, "p", "2", "1Gi");
    fx_cycle(s, 1, out);
    fx_expect_failed(out, "p", "0/1 nodes are available: 1 Insufficient cpu.");
    /* the node leaves: nothing can go there */
    kn_json *del = fx_parse("{\"kind\":\"Node\",\"metadata\":{\"name\":\"node-a\"}}");
    assert_int_equal(kn_sched_apply_node(s, del, true, NULL), 0);
    kn_json_free(del);
    fx_pod(s, "q", "1", "1Gi");
    fx_cycle(s, 2, out);
    fx_expect_failed(out, "q", "no nodes available to schedule pods");
    /* it comes back with its pod still there */
    fx_node(s, "node-a", "4", "16Gi");
    assert_int_equal(fx_cycle(s, 3, out), 1);
    assert_string_equal(fx_node_of(out, "q"), "node-a");
    assert_null(fx_node_of(out, "p"));
}

static void test_bad_objects_are_errors_not_crashes(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    kn_err err = {{0}};
    kn_json *j = fx_parse("{\"kind\":\"Node\",\"metadata\":{\"name\":\"n\"},\"status\":{\"allocatable\":"
                          "{\"cpu\":\"lots\"}}}");
    assert_int_equal(kn_sched_apply_node(s, j, false, &err), -1);
    assert_non_null(strstr(err.msg, "Node n: status.allocatable"));
    kn_json_free(j);
    j = fx_parse("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"x\"}}");
    assert_int_equal(kn_sched_apply_pod(s, j, false, &err), -1);
    assert_string_equal(err.msg, "Pod x/p: metadata.uid is missing");
    kn_json_free(j);
    j = fx_parse("{\"kind\":\"NodeResourceTopology\",\"metadata\":{\"name\":\"n\"},\"zones\":"
                 "[{\"name\":\"node-0\",\"type\":\"Node\",\"resources\":[{\"name\":\"cpu\"}]}]}");
    assert_int_equal(kn_sched_apply_nrt(s, j, false, &err), -1);
    assert_non_null(strstr(err.msg, "NodeResourceTopology n: zones[0].resources[0]"));
    kn_json_free(j);
    /* a pod whose annotations cannot be honoured is told why, once */
    fx_node(s, "node-a", "4", "16Gi");
    fx_pod_full(s, "bad", "1", "1Gi", "", "\"numa.scheduling.kubenexus.io/policy\":\"sometimes\"", "", "", NULL,
                NULL);
    fx_cycle(s, 1, out);
    const kn_sched_event *e = fx_event(out, "bad", "FailedScheduling");
    assert_non_null(e);
    assert_non_null(strstr(e->message, "invalid NUMA annotations"));
    assert_null(fx_node_of(out, "bad"));
}

/* A pending pod's status updates (say, a PodScheduled condition written
 * after FailedScheduling) do not make it retried until the cluster changes;
 * a new request does. */
static void test_status_updates_do_not_retry(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    kn_sched_out *out = &f->out;
    fx_node(s, "node-a", "2", "8Gi");
    fx_pod(s, "p", "4", "1Gi");
    fx_cycle(s, 1, out);
    kn_sched_stats before, after;
    kn_sched_get_stats(s, &before);
    fx_pod(s, "p", "4", "1Gi"); /* MODIFIED: same spec, a new resourceVersion */
    fx_cycle(s, 2, out);
    kn_sched_get_stats(s, &after);
    assert_int_equal(after.attempts, before.attempts);
    fx_pod(s, "p", "2", "1Gi"); /* resized (in-place resize of a pending pod) */
    assert_int_equal(fx_cycle(s, 3, out), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        fx_sched_test(test_relist_forgets_what_was_not_listed),
        fx_sched_test(test_watch_lag_never_places_twice),
        fx_sched_test(test_conflict_and_gone),
        fx_sched_test(test_relist_drops_conflicted_assumed_pod),
        fx_sched_test(test_node_leaving_and_coming_back),
        fx_sched_test(test_bad_objects_are_errors_not_crashes),
        fx_sched_test(test_status_updates_do_not_retry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
