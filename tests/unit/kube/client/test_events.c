/* test_events.c - the event queue and correlator: what goes to the API server
 * (POST of a new Event, PATCH of a repeat's count), the lane limit, folding,
 * drops when full, and what a 404 or an error does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "kube/client/events.h"

#define T0 1795514400.0 /* 2026-11-24T10:00:00Z */

static kn_pod_event waiting(const char *pod, const char *msg)
{
    return (kn_pod_event){.ns = "spark",
                          .name = (char *)pod,
                          .uid = "uid-1",
                          .type = "Normal",
                          .reason = "GangWaiting",
                          .message = (char *)msg};
}

static kn_evq *new_q(size_t queue_max, size_t cache_max, kn_metrics *m)
{
    kn_evq_opts o = {.component = "kubenexus-scheduler",
                     .instance = "host_1",
                     .queue_max = queue_max,
                     .cache_max = cache_max,
                     .metrics = m};
    kn_err err = {{0}};
    kn_evq *q = kn_evq_new(&o, &err);
    assert_non_null(q);
    return q;
}

static kn_json *body_of(const kn_evq_send *s)
{
    kn_json *j = kn_json_parse(s->body, strlen(s->body), NULL, NULL);
    assert_non_null(j);
    return j;
}

static int64_t count_of(const kn_evq_send *s)
{
    kn_json *j = body_of(s);
    int64_t n = -1;
    assert_int_equal(kn_json_int(kn_json_get(j, "count"), &n), 0);
    kn_json_free(j);
    return n;
}

/* Records ev at T0 and hands out its first request. */
static kn_evq_send *record_and_send(kn_evq *q, const kn_pod_event *ev, double now)
{
    kn_evq_record(q, ev, T0);
    kn_evq_send *s = kn_evq_next(q, 16, now);
    assert_non_null(s);
    return s;
}

/* The Event's metadata.name in a create's body. */
static void event_name(const kn_evq_send *s, char *buf, size_t cap)
{
    kn_json *j = body_of(s);
    const char *name = kn_json_str(kn_json_dig(j, "metadata", "name", NULL));
    assert_non_null(name);
    snprintf(buf, cap, "%s", name);
    kn_json_free(j);
}

/* The API server's answer to a create: the Event as stored. */
static void created(kn_evq *q, kn_evq_send *s)
{
    kn_evq_done(q, s, 201, s->body, strlen(s->body), 0);
}

static void repeat_is_a_patch_of_count(void **state)
{
    (void)state;
    kn_evq *q = new_q(0, 0, NULL);
    kn_pod_event ev = waiting("mpi-0", "waiting for 1 more member(s) of gang spark/mpi (2 of 3 present)");
    assert_int_equal(kn_evq_record(q, &ev, T0), 0);
    kn_evq_send *s = kn_evq_next(q, 16, 0);
    assert_non_null(s);
    assert_string_equal(s->method, "POST");
    assert_string_equal(s->path, "/api/v1/namespaces/spark/events");
    kn_json *j = body_of(s);
    assert_string_equal(kn_json_get_str(j, "kind"), "Event");
    assert_string_equal(kn_json_get_str(j, "reason"), "GangWaiting");
    assert_string_equal(kn_json_str(kn_json_dig(j, "involvedObject", "name", NULL)), "mpi-0");
    assert_string_equal(kn_json_str(kn_json_dig(j, "involvedObject", "uid", NULL)), "uid-1");
    assert_string_equal(kn_json_get_str(j, "firstTimestamp"), "2026-11-24T10:00:00Z");
    char name[256];
    snprintf(name, sizeof name, "%s", kn_json_str(kn_json_dig(j, "metadata", "name", NULL)));
    kn_json_free(j);
    assert_int_equal(count_of(s), 1);
    created(q, s);
    assert_null(kn_evq_next(q, 16, 0));

    /* the same event a minute later: a PATCH of that Event */
    assert_int_equal(kn_evq_record(q, &ev, T0 + 60), 0);
    s = kn_evq_next(q, 16, 0);
    assert_non_null(s);
    assert_string_equal(s->method, "PATCH");
    char path[512];
    snprintf(path, sizeof path, "/api/v1/namespaces/spark/events/%s", name);
    assert_string_equal(s->path, path);
    assert_string_equal(s->body, "{\"count\":2,\"lastTimestamp\":\"2026-11-24T10:01:00Z\"}");
    kn_evq_done(q, s, 200, NULL, 0, 0);
    assert_int_equal(kn_evq_record(q, &ev, T0 + 120), 0);
    s = kn_evq_next(q, 16, 0);
    assert_string_equal(s->body, "{\"count\":3,\"lastTimestamp\":\"2026-11-24T10:02:00Z\"}");
    kn_evq_done(q, s, 200, NULL, 0, 0);

    /* another message is another Event */
    kn_pod_event other = waiting("mpi-0", "waiting for 2 more member(s) of gang spark/mpi (1 of 3 present)");
    assert_int_equal(kn_evq_record(q, &other, T0 + 130), 0);
    s = kn_evq_next(q, 16, 0);
    assert_string_equal(s->method, "POST");
    created(q, s);
    kn_evq_free(q);
}

static void identical_queued_events_fold(void **state)
{
    (void)state;
    kn_evq *q = new_q(0, 0, NULL);
    kn_pod_event ev = waiting("mpi-0", "waiting");
    assert_int_equal(kn_evq_record(q, &ev, T0), 0);
    assert_int_equal(kn_evq_record(q, &ev, T0 + 1), 1);
    assert_int_equal(kn_evq_record(q, &ev, T0 + 2), 1);
    assert_int_equal(kn_evq_queued(q), 1);
    kn_evq_send *s = kn_evq_next(q, 16, 0);
    assert_int_equal(count_of(s), 3);
    kn_json *j = body_of(s);
    assert_string_equal(kn_json_get_str(j, "firstTimestamp"), "2026-11-24T10:00:00Z");
    assert_string_equal(kn_json_get_str(j, "lastTimestamp"), "2026-11-24T10:00:02Z");
    kn_json_free(j);
    created(q, s);
    kn_evq_free(q);
}

static void full_queue_drops_and_counts(void **state)
{
    (void)state;
    kn_metrics *m = kn_metrics_new();
    kn_evq *q = new_q(3, 0, m);
    char pod[16];
    int dropped = 0;
    for (int i = 0; i < 5; i++) {
        snprintf(pod, sizeof pod, "p-%d", i);
        kn_pod_event ev = waiting(pod, "Successfully assigned");
        if (kn_evq_record(q, &ev, T0) < 0)
            dropped++;
    }
    assert_int_equal(dropped, 2);
    assert_int_equal(kn_evq_dropped(q), 2);
    assert_int_equal(kn_evq_queued(q), 3);
    /* the oldest are kept, in order */
    kn_evq_send *s = kn_evq_next(q, 16, 0);
    kn_json *j = body_of(s);
    assert_string_equal(kn_json_str(kn_json_dig(j, "involvedObject", "name", NULL)), "p-0");
    kn_json_free(j);
    created(q, s);
    char *text = kn_metrics_render(m, NULL);
    assert_non_null(strstr(text, "kubenexus_scheduler_events_dropped_total 2\n"));
    assert_non_null(strstr(text, "kubenexus_scheduler_events_total{result=\"created\"} 1\n"));
    free(text);
    while ((s = kn_evq_next(q, 16, 0)))
        created(q, s);
    kn_evq_free(q);
    kn_metrics_free(m);
}

static void lane_limits_requests_in_flight(void **state)
{
    (void)state;
    kn_evq *q = new_q(0, 0, NULL);
    kn_pod_event a = waiting("a", "m"), b = waiting("b", "m");
    kn_evq_record(q, &a, T0);
    kn_evq_record(q, &b, T0);
    kn_evq_send *s1 = kn_evq_next(q, 1, 0);
    assert_non_null(s1);
    assert_null(kn_evq_next(q, 1, 0)); /* bindings busy: one at a time */
    assert_int_equal(kn_evq_inflight(q), 1);
    kn_evq_send *s2 = kn_evq_next(q, 16, 0); /* idle: more */
    assert_non_null(s2);
    created(q, s1);
    created(q, s2);
    assert_int_equal(kn_evq_inflight(q), 0);
    kn_evq_free(q);
}

/* A repeat never goes out while the request it counts on is in flight. */
static void repeat_waits_for_its_create(void **state)
{
    (void)state;
    kn_evq *q = new_q(0, 0, NULL);
    kn_pod_event a = waiting("a", "m"), b = waiting("b", "m");
    kn_evq_record(q, &a, T0);
    kn_evq_send *s1 = kn_evq_next(q, 16, 0);
    kn_evq_record(q, &a, T0 + 1); /* queued behind the create */
    kn_evq_record(q, &b, T0 + 1);
    kn_evq_send *s2 = kn_evq_next(q, 16, 0);
    assert_non_null(s2);
    kn_json *j = body_of(s2);
    assert_string_equal(kn_json_str(kn_json_dig(j, "involvedObject", "name", NULL)), "b");
    kn_json_free(j);
    assert_null(kn_evq_next(q, 16, 0));
    created(q, s1);
    kn_evq_send *s3 = kn_evq_next(q, 16, 0);
    assert_non_null(s3);
    assert_string_equal(s3->method, "PATCH");
    assert_int_equal(count_of(s3), 2);
    kn_evq_done(q, s3, 200, NULL, 0, 0);
    created(q, s2);
    kn_evq_free(q);
}

/* The Event expired from the API server: the repeat creates it again, under
 * the same name, with the count so far and the first timestamp kept. */
static void patch_404_creates_again(void **state)
{
    (void)state;
    kn_evq *q = new_q(0, 0, NULL);
    kn_pod_event ev = waiting("a", "m");
    kn_evq_send *s = record_and_send(q, &ev, 0);
    char name[256];
    event_name(s, name, sizeof name);
    created(q, s);
    kn_evq_record(q, &ev, T0 + 60);
    s = kn_evq_next(q, 16, 0);
    assert_string_equal(s->method, "PATCH");
    const char *nf = "{\"kind\":\"Status\",\"code\":404,\"reason\":\"NotFound\"}";
    kn_evq_done(q, s, 404, nf, strlen(nf), 0);
    s = kn_evq_next(q, 16, 0);
    assert_non_null(s);
    assert_string_equal(s->method, "POST");
    kn_json *j = body_of(s);
    assert_string_equal(kn_json_str(kn_json_dig(j, "metadata", "name", NULL)), name);
    assert_string_equal(kn_json_get_str(j, "firstTimestamp"), "2026-11-24T10:00:00Z");
    assert_string_equal(kn_json_get_str(j, "lastTimestamp"), "2026-11-24T10:01:00Z");
    kn_json_free(j);
    assert_int_equal(count_of(s), 2);
    created(q, s);
    kn_evq_record(q, &ev, T0 + 120);
    s = kn_evq_next(q, 16, 0);
    assert_string_equal(s->method, "PATCH");
    assert_int_equal(count_of(s), 3);
    kn_evq_done(q, s, 200, NULL, 0, 0);
    kn_evq_free(q);
}

/* No answer or a 5xx: sent again after a backoff, the same Event; given up
 * after KN_EVENT_MAX_TRIES. Other errors are not retried. */
static void transient_errors_retried_others_not(void **state)
{
    (void)state;
    kn_metrics *m = kn_metrics_new();
    kn_evq *q = new_q(0, 0, m);
    kn_pod_event ev = waiting("a", "m");
    double now = 100;
    kn_evq_send *s = record_and_send(q, &ev, now);
    char body[2048];
    snprintf(body, sizeof body, "%s", s->body);
    kn_evq_done(q, s, 503, NULL, 0, now);
    assert_int_equal(kn_evq_queued(q), 1);
    assert_true(kn_evq_next_due(q) > now);
    assert_null(kn_evq_next(q, 16, now)); /* not before its backoff */
    s = kn_evq_next(q, 16, kn_evq_next_due(q));
    assert_non_null(s);
    assert_string_equal(s->method, "POST");
    assert_string_equal(s->body, body); /* the same Event, same name */
    now = kn_evq_next_due(q);
    for (int i = 1; i < KN_EVENT_MAX_TRIES - 1; i++) { /* no answer, again and again */
        kn_evq_done(q, s, 0, NULL, 0, now);
        now = kn_evq_next_due(q);
        s = kn_evq_next(q, 16, now);
        assert_non_null(s);
    }
    kn_evq_done(q, s, 0, NULL, 0, now); /* the last try */
    assert_int_equal(kn_evq_queued(q), 0);
    assert_null(kn_evq_next(q, 16, now + 3600));
    char *text = kn_metrics_render(m, NULL);
    assert_non_null(strstr(text, "kubenexus_scheduler_events_total{result=\"error\"} 1\n"));
    free(text);

    kn_pod_event bad = waiting("b", "m");
    kn_evq_record(q, &bad, T0);
    s = kn_evq_next(q, 16, now);
    kn_evq_done(q, s, 422, NULL, 0, now); /* refused: not retried */
    assert_int_equal(kn_evq_queued(q), 0);
    text = kn_metrics_render(m, NULL);
    assert_non_null(strstr(text, "kubenexus_scheduler_events_total{result=\"error\"} 2\n"));
    free(text);
    kn_evq_free(q);
    kn_metrics_free(m);
}

/* A create whose answer was lost and that meets 409 when sent again made the
 * Event the first time: it counts as created, and a repeat PATCHes it. A 409
 * on a first try is a real clash and is not retried. */
static void retried_create_409_is_created(void **state)
{
    (void)state;
    kn_metrics *m = kn_metrics_new();
    kn_evq *q = new_q(0, 0, m);
    kn_pod_event ev = waiting("a", "m");
    double now = 100;
    kn_evq_send *s = record_and_send(q, &ev, now);
    char first[256];
    event_name(s, first, sizeof first);
    kn_evq_done(q, s, 0, NULL, 0, now); /* no answer */
    now = kn_evq_next_due(q);
    s = kn_evq_next(q, 16, now);
    assert_string_equal(s->method, "POST");
    const char *exists = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                         "\"reason\":\"AlreadyExists\",\"code\":409}";
    kn_evq_done(q, s, 409, exists, strlen(exists), now);
    char *text = kn_metrics_render(m, NULL);
    assert_non_null(strstr(text, "kubenexus_scheduler_events_total{result=\"created\"} 1\n"));
    assert_null(strstr(text, "result=\"error\""));
    free(text);
    kn_evq_record(q, &ev, T0 + 5); /* a repeat PATCHes the Event the first try made */
    s = kn_evq_next(q, 16, now);
    assert_string_equal(s->method, "PATCH");
    assert_non_null(strstr(s->path, first));
    assert_int_equal(count_of(s), 2);
    kn_evq_done(q, s, 200, NULL, 0, now);

    kn_pod_event other = waiting("b", "m");
    kn_evq_record(q, &other, T0);
    s = kn_evq_next(q, 16, now);
    kn_evq_done(q, s, 409, exists, strlen(exists), now); /* first try: a clash */
    assert_int_equal(kn_evq_queued(q), 0);
    text = kn_metrics_render(m, NULL);
    assert_non_null(strstr(text, "kubenexus_scheduler_events_total{result=\"error\"} 1\n"));
    free(text);
    kn_evq_free(q);
    kn_metrics_free(m);
}

/* A repeat whose PATCH met a 500 is PATCHed again, not created anew. */
static void failed_patch_retried_as_patch(void **state)
{
    (void)state;
    kn_evq *q = new_q(0, 0, NULL);
    kn_pod_event ev = waiting("a", "m");
    created(q, record_and_send(q, &ev, 0));
    kn_evq_record(q, &ev, T0 + 60);
    kn_evq_send *s = kn_evq_next(q, 16, 0);
    assert_string_equal(s->method, "PATCH");
    kn_evq_done(q, s, 500, NULL, 0, 0);
    kn_evq_record(q, &ev, T0 + 61); /* folded into the retry */
    s = kn_evq_next(q, 16, kn_evq_next_due(q));
    assert_non_null(s);
    assert_string_equal(s->method, "PATCH");
    assert_int_equal(count_of(s), 3);
    kn_evq_done(q, s, 200, NULL, 0, 0);
    kn_evq_free(q);
}

/* The correlator remembers cache_max Events; the least recently used is
 * forgotten, and its next repeat is a new Event. */
static void correlator_cache_is_lru(void **state)
{
    (void)state;
    kn_evq *q = new_q(0, 2, NULL);
    kn_pod_event a = waiting("a", "m"), b = waiting("b", "m"), c = waiting("c", "m");
    const kn_pod_event *order[] = {&a, &b, &a, &c, &a, &b};
    const char *want[] = {"POST", "POST", "PATCH", "POST", "PATCH", "POST"};
    for (int i = 0; i < 6; i++) {
        kn_evq_record(q, order[i], T0 + i);
        kn_evq_send *s = kn_evq_next(q, 16, 0);
        assert_non_null(s);
        assert_string_equal(s->method, want[i]);
        if (strcmp(s->method, "POST") == 0)
            created(q, s);
        else
            kn_evq_done(q, s, 200, NULL, 0, 0);
    }
    kn_evq_free(q);
}

/* A pod whose FailedScheduling message keeps changing: 9 Events, then one
 * "(combined from similar events)" Event whose count and message follow. */
static void similar_messages_are_combined(void **state)
{
    (void)state;
    kn_evq *q = new_q(0, 0, NULL);
    char msg[64];
    for (int i = 0; i < KN_EVENT_SIMILAR_MAX + 1; i++) {
        snprintf(msg, sizeof msg, "0/50 nodes are available: %d Insufficient cpu.", i + 1);
        kn_pod_event ev = {.ns = "spark",
                           .name = "exec-1",
                           .uid = "u",
                           .type = "Warning",
                           .reason = "FailedScheduling",
                           .message = msg};
        assert_int_equal(kn_evq_record(q, &ev, T0 + i), 0);
        kn_evq_send *s = kn_evq_next(q, 16, 0);
        assert_non_null(s);
        kn_json *j = body_of(s);
        if (i < KN_EVENT_SIMILAR_MAX - 1) {
            assert_string_equal(s->method, "POST");
            assert_string_equal(kn_json_get_str(j, "message"), msg);
        } else if (i == KN_EVENT_SIMILAR_MAX - 1) {
            assert_string_equal(s->method, "POST");
            assert_string_equal(kn_json_get_str(j, "message"),
                                "(combined from similar events): 0/50 nodes are available: 10 Insufficient cpu.");
        } else {
            assert_string_equal(s->method, "PATCH");
            assert_string_equal(kn_json_get_str(j, "message"),
                                "(combined from similar events): 0/50 nodes are available: 11 Insufficient cpu.");
            int64_t n = 0;
            assert_int_equal(kn_json_int(kn_json_get(j, "count"), &n), 0);
            assert_int_equal(n, 2);
        }
        kn_json_free(j);
        if (strcmp(s->method, "POST") == 0)
            created(q, s);
        else
            kn_evq_done(q, s, 200, NULL, 0, 0);
    }
    /* ten minutes of quiet: messages count afresh */
    kn_pod_event ev = {.ns = "spark",
                       .name = "exec-1",
                       .uid = "u",
                       .type = "Warning",
                       .reason = "FailedScheduling",
                       .message = "0/50 nodes are available: 99 Insufficient cpu."};
    kn_evq_record(q, &ev, T0 + KN_EVENT_SIMILAR_MAX + KN_EVENT_SIMILAR_S + 1);
    kn_evq_send *s = kn_evq_next(q, 16, 0);
    assert_string_equal(s->method, "POST");
    kn_json *j = body_of(s);
    assert_string_equal(kn_json_get_str(j, "message"), "0/50 nodes are available: 99 Insufficient cpu.");
    kn_json_free(j);
    created(q, s);
    kn_evq_free(q);
}

/* kube-scheduler's Preempted event names the preemptor as its related object
 * and "Preempting" as its action; other events have neither. */
static void preempted_names_the_preemptor(void **state)
{
    (void)state;
    kn_evq *q = new_q(0, 0, NULL);
    kn_pod_event ev = {.ns = "batch",
                       .name = "low-1",
                       .uid = "uid-low",
                       .type = "Normal",
                       .reason = "Preempted",
                       .message = "Preempted by pod uid-high on node node-a",
                       .related_ns = "spark",
                       .related_name = "high-driver",
                       .related_uid = "uid-high",
                       .action = "Preempting"};
    kn_evq_send *s = record_and_send(q, &ev, 0);
    kn_json *j = body_of(s);
    assert_string_equal(kn_json_str(kn_json_dig(j, "involvedObject", "name", NULL)), "low-1");
    assert_string_equal(kn_json_str(kn_json_dig(j, "related", "kind", NULL)), "Pod");
    assert_string_equal(kn_json_str(kn_json_dig(j, "related", "namespace", NULL)), "spark");
    assert_string_equal(kn_json_str(kn_json_dig(j, "related", "name", NULL)), "high-driver");
    assert_string_equal(kn_json_str(kn_json_dig(j, "related", "uid", NULL)), "uid-high");
    assert_string_equal(kn_json_get_str(j, "action"), "Preempting");
    assert_string_equal(kn_json_get_str(j, "message"), "Preempted by pod uid-high on node node-a");
    kn_json_free(j);
    created(q, s);
    kn_pod_event plain = waiting("mpi-0", "waiting");
    s = record_and_send(q, &plain, 0);
    j = body_of(s);
    assert_null(kn_json_get(j, "related"));
    assert_null(kn_json_get(j, "action"));
    kn_json_free(j);
    created(q, s);
    kn_evq_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(repeat_is_a_patch_of_count),          cmocka_unit_test(identical_queued_events_fold),
        cmocka_unit_test(full_queue_drops_and_counts),         cmocka_unit_test(lane_limits_requests_in_flight),
        cmocka_unit_test(repeat_waits_for_its_create),         cmocka_unit_test(patch_404_creates_again),
        cmocka_unit_test(transient_errors_retried_others_not), cmocka_unit_test(retried_create_409_is_created),
        cmocka_unit_test(failed_patch_retried_as_patch),       cmocka_unit_test(correlator_cache_is_lru),
        cmocka_unit_test(similar_messages_are_combined),       cmocka_unit_test(preempted_names_the_preemptor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
