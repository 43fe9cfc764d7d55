/* test_binder.c - the Binding and Event bodies the scheduler POSTs, field by field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "scheduler/binder.h"

static kn_json *parse(char *text)
{
    assert_non_null(text);
    kn_json *j = kn_json_parse(text, strlen(text), NULL, NULL);
    free(text);
    assert_non_null(j);
    return j;
}

static void binding_as_kube_scheduler_sends_it(void **state)
{
    (void)state;
    kn_sched_binding bd = {.ns = "spark",
                           .name = "pi-driver",
                           .uid = "4f1c-uid",
                           .node = "node-a",
                           .zones_annotation = "node-0,node-1"};
    kn_json *j = parse(kn_binding_json(&bd));
    assert_string_equal(kn_json_get_str(j, "apiVersion"), "v1");
    assert_string_equal(kn_json_get_str(j, "kind"), "Binding");
    assert_string_equal(kn_json_str(kn_json_dig(j, "metadata", "name", NULL)), "pi-driver");
    assert_string_equal(kn_json_str(kn_json_dig(j, "metadata", "namespace", NULL)), "spark");
    assert_string_equal(kn_json_str(kn_json_dig(j, "metadata", "uid", NULL)), "4f1c-uid");
    assert_string_equal(kn_json_str(kn_json_dig(j, "metadata", "annotations", KN_NUMA_ZONES_ANNOTATION, NULL)),
                        "node-0,node-1");
    assert_string_equal(kn_json_str(kn_json_dig(j, "target", "kind", NULL)), "Node");
    assert_string_equal(kn_json_str(kn_json_dig(j, "target", "apiVersion", NULL)), "v1");
    assert_string_equal(kn_json_str(kn_json_dig(j, "target", "name", NULL)), "node-a");
    kn_json_free(j);

    kn_sched_binding plain = {.ns = "default", .name = "p", .uid = "u", .node = "n"};
    j = parse(kn_binding_json(&plain));
    assert_null(kn_json_dig(j, "metadata", "annotations", NULL));
    kn_json_free(j);
}

static void event_core_v1_fields(void **state)
{
    (void)state;
    kn_sched_event ev = {.ns = "spark",
                         .name = "pi-exec-1",
                         .uid = "uid-1",
                         .type = "Warning",
                         .reason = "FailedScheduling",
                         .message = "0/5 nodes are available: 3 Insufficient cpu, 2 node(s) didn't have a NUMA "
                                    "zone that fits (single-numa)."};
    /* 2026-11-24T10:00:00.25Z */
    kn_json *j = parse(kn_event_json(&ev, "kubenexus-scheduler", "host_0a1b2c3d", 1795514400.25));
    assert_string_equal(kn_json_get_str(j, "apiVersion"), "v1");
    assert_string_equal(kn_json_get_str(j, "kind"), "Event");
    const char *name = kn_json_str(kn_json_dig(j, "metadata", "name", NULL));
    assert_non_null(name);
    assert_int_equal(strncmp(name, "pi-exec-1.", 10), 0); /* <pod>.<hex nanos>, as client-go names them */
    assert_true(strspn(name + 10, "0123456789abcdef") == strlen(name + 10) && strlen(name + 10) > 0);
    assert_string_equal(kn_json_str(kn_json_dig(j, "metadata", "namespace", NULL)), "spark");
    const kn_json *inv = kn_json_get(j, "involvedObject");
    assert_string_equal(kn_json_get_str(inv, "kind"), "Pod");
    assert_string_equal(kn_json_get_str(inv, "apiVersion"), "v1");
    assert_string_equal(kn_json_get_str(inv, "namespace"), "spark");
    assert_string_equal(kn_json_get_str(inv, "name"), "pi-exec-1");
    assert_string_equal(kn_json_get_str(inv, "uid"), "uid-1");
    assert_string_equal(kn_json_get_str(j, "reason"), "FailedScheduling");
    assert_string_equal(kn_json_get_str(j, "type"), "Warning");
    assert_string_equal(kn_json_get_str(j, "message"), ev.message);
    assert_string_equal(kn_json_str(kn_json_dig(j, "source", "component", NULL)), "kubenexus-scheduler");
    assert_string_equal(kn_json_get_str(j, "reportingComponent"), "kubenexus-scheduler");
    assert_string_equal(kn_json_get_str(j, "reportingInstance"), "host_0a1b2c3d");
    assert_string_equal(kn_json_get_str(j, "firstTimestamp"), "2026-11-24T10:00:00Z");
    assert_string_equal(kn_json_get_str(j, "lastTimestamp"), "2026-11-24T10:00:00Z");
    int64_t count = 0;
    assert_int_equal(kn_json_int(kn_json_get(j, "count"), &count), 0);
    assert_int_equal(count, 1);
    kn_json_free(j);
}

static void event_name_and_message_bounded(void **state)
{
    (void)state;
    char longname[254], longmsg[4000];
    memset(longname, 'p', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    memset(longmsg, 'm', sizeof longmsg - 1);
    longmsg[sizeof longmsg - 1] = '\0';
    kn_sched_event ev = {
        .ns = "ns", .name = longname, .uid = "u", .type = "Normal", .reason = "GangWaiting", .message = longmsg};
    kn_json *j = parse(kn_event_json(&ev, "s", "i", 1.0));
    assert_true(strlen(kn_json_str(kn_json_dig(j, "metadata", "name", NULL))) <= 253);
    assert_true(strlen(kn_json_get_str(j, "message")) <= 1024);
    /* the involved object keeps the full name */
    assert_string_equal(kn_json_str(kn_json_dig(j, "involvedObject", "name", NULL)), longname);
    kn_json_free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(binding_as_kube_scheduler_sends_it),
        cmocka_unit_test(event_core_v1_fields),
        cmocka_unit_test(event_name_and_message_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
