/* Why a pending pod does not go to each node, node by node, as `simulate
 * --kubeconfig` shows an application that would wait; and that asking
 * changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "support/sched_fixtures.h"

#define RESERVATION(count, cpu)                                                                                   \
    "\"scheduling.kubenexus.io/executor-reservation\":\"{\\\"count\\\":" count                                    \
    ",\\\"requests\\\":{\\\"cpu\\\":\\\"" cpu "\\\",\\\"memory\\\":\\\"1Gi\\\"}}\""

/* "node: why; " for every node, in the order told. */
static void collect(void *ctx, const char *node, const char *why)
{
    char *buf = ctx;
    size_t off = strlen(buf);
    snprintf(buf + off, 2048 - off, "%s: %s; ", node, why ? why : "fits");
}

static void test_each_node_says_why(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "node-c", "4", "16Gi");
    fx_node(f->s, "node-a", "2", "16Gi");
    fx_node_full(f->s, "node-b", "8", "16Gi", "", "",
                 ",\"taints\":[{\"key\":\"gpu\",\"value\":\"true\","
                 "\"effect\":\"NoSchedule\"}]",
                 "", "True");
    fx_pod_full(f->s, "web", "3", "20Gi", "", "", "", "", NULL, NULL);
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    char why[2048] = "";
    assert_int_equal(kn_sched_explain(f->s, "uid-web", collect, why), 0);
    assert_string_equal(why,
                        "node-a: Insufficient cpu, Insufficient memory; node-b: node(s) had untolerated taint "
                        "{gpu: true}; node-c: Insufficient memory; ");
    /* asking changed nothing: room made, the pod goes */
    fx_node(f->s, "node-d", "4", "32Gi");
    why[0] = '\0';
    assert_int_equal(kn_sched_explain(f->s, "uid-web", collect, why), 0);
    assert_non_null(strstr(why, "node-d: fits; "));
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 1);
    assert_string_equal(fx_node_of(&f->out, "web"), "node-d");
    /* bound now, or unknown: nothing to explain */
    assert_int_equal(kn_sched_explain(f->s, "uid-web", collect, why), -1);
    assert_int_equal(kn_sched_explain(f->s, "uid-nobody", collect, why), -1);
}

/* A driver is judged with an executor slot beside it. */
static void test_driver_needs_a_slot_beside_it(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "node-a", "3", "16Gi");
    fx_node(f->s, "node-b", "5", "16Gi");
    fx_pod_full(f->s, "etl-driver", "2", "1Gi",
                "\"spark-role\":\"driver\",\"pod-group.scheduling.kubenexus.io/name\":\"etl\","
                "\"pod-group.scheduling.kubenexus.io/min-available\":\"4\"",
                RESERVATION("3", "2"), "", "", NULL, NULL);
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    char why[2048] = "";
    assert_int_equal(kn_sched_explain(f->s, "uid-etl-driver", collect, why), 0);
    assert_string_equal(why,
                        "node-a: room for the driver, but not for an executor slot beside it: Insufficient cpu; "
                        "node-b: fits; ");
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 0); /* 2 + 3 x 2 cpu never fit on 8 */
    /* a driver's host port is not asked of the slot beside it */
    fx_pod_full(f->s, "web-driver", "1", "1Gi",
                "\"spark-role\":\"driver\",\"pod-group.scheduling.kubenexus.io/name\":\"web\","
                "\"pod-group.scheduling.kubenexus.io/min-available\":\"2\"",
                RESERVATION("1", "1"),
                ",\"initContainers\":[{\"name\":\"proxy\",\"restartPolicy\":\"Always\","
                "\"ports\":[{\"containerPort\":8080,\"hostPort\":8080}]}]",
                "", NULL, NULL);
    why[0] = '\0';
    assert_int_equal(kn_sched_explain(f->s, "uid-web-driver", collect, why), 0);
    assert_string_equal(why, "node-a: fits; node-b: fits; ");
    kn_sched_stats st;
    kn_sched_get_stats(f->s, &st);
    assert_int_equal(st.reservations_held, 0);
    assert_int_equal(st.cpu_milli_used, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        fx_sched_test(test_each_node_says_why),
        fx_sched_test(test_driver_needs_a_slot_beside_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
