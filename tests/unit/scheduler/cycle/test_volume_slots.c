/* Executor slots and WaitForFirstConsumer claims: a driver whose executors
 * get claims of a class with allowedTopologies (the reservation's
 * storageClasses) has their slots reserved where such claims can be
 * provisioned, and the executors take them there; a gang's members each
 * provisioning a claim are bound together, with their writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "support/sched_fixtures.h"
#include "support/volume_fixtures.h"

#define GANG                                                                                                      \
    "\"pod-group.scheduling.kubenexus.io/name\":\"app\",\"pod-group.scheduling.kubenexus.io/"                     \
    "min-available\":\"3\""
#define RESERVATION(classes)                                                                                      \
    "\"scheduling.kubenexus.io/"                                                                                  \
    "executor-reservation\":\"{\\\"count\\\":2,\\\"requests\\\":{\\\"cpu\\\":\\\"1\\\","                          \
    "\\\"memory\\\":\\\"1Gi\\\"}" classes "}\""

/* node-a (zone-a) is the smallest, so bin-packing prefers it; the class
 * provisions only in zone-b. */
static void cluster(kn_scheduler *s)
{
    fx_node_full(s, "node-a", "4", "16Gi", "\"topology.kubernetes.io/zone\":\"zone-a\"", "", "", "", "True");
    fx_node_full(s, "node-b", "16", "64Gi", "\"topology.kubernetes.io/zone\":\"zone-b\"", "", "", "", "True");
    fx_sclass(s, "zonal", "WaitForFirstConsumer", "ebs.csi.aws.com",
              ",\"allowedTopologies\":[{\"matchLabelExpressions\":[{\"key\":\"topology.kubernetes.io/zone\","
              "\"values\":[\"zone-b\"]}]}]");
}

static void driver(kn_scheduler *s, const char *classes)
{
    char ann[512];
    snprintf(ann, sizeof(ann), RESERVATION("%s"), classes);
    fx_pod_full(s, "app-driver", "1", "1Gi", GANG ",\"spark-role\":\"driver\"", ann, "", "", NULL, NULL);
}

static void test_slots_within_the_class_topology(void **state)
{
    fx_sched *f = *state;
    cluster(f->s);
    driver(f->s, ",\\\"storageClasses\\\":[\\\"zonal\\\"]");
    fx_cycle(f->s, 1, &f->out);
    assert_string_equal(fx_node_of(&f->out, "app-driver"), "node-a");
    const kn_sched_event *e = fx_event(&f->out, "app-driver", "GangReserved");
    assert_non_null(e);
    assert_non_null(strstr(e->message, "on node-b (2)"));
    /* the executors (their claims created after them, as Spark's driver does) take the slots */
    for (int i = 1; i <= 2; i++) {
        char name[32], claim[64], vol[200];
        snprintf(name, sizeof(name), "app-exec-%d", i);
        snprintf(claim, sizeof(claim), "app-exec-%d-pvc-0", i);
        snprintf(vol, sizeof(vol),
                 "{\"name\":\"spark-local-dir-1\",\"persistentVolumeClaim\":{\"claimName\":\"%s\"}}", claim);
        fx_pod_volumes(f->s, name, vol, GANG ",\"spark-role\":\"executor\"");
        fx_pvc(f->s, claim, "zonal", "100Gi", ",\"accessModes\":[\"ReadWriteOncePod\"]", "", "Pending");
    }
    fx_cycle_provisioned(f->s, 2, &f->out, "zonal", "ebs.csi.aws.com");
    assert_string_equal(fx_node_of(&f->out, "app-exec-1"), "node-b");
    assert_string_equal(fx_node_of(&f->out, "app-exec-2"), "node-b");
    kn_sched_stats st;
    kn_sched_get_stats(f->s, &st);
    assert_int_equal(st.reservations_held, 0); /* both slots taken */
}

/* Without the classes the slots go where bin-packing puts them. */
static void test_slots_without_classes(void **state)
{
    fx_sched *f = *state;
    cluster(f->s);
    driver(f->s, "");
    fx_cycle(f->s, 1, &f->out);
    const kn_sched_event *e = fx_event(&f->out, "app-driver", "GangReserved");
    assert_non_null(e);
    assert_non_null(strstr(e->message, "on node-a (2)"));
}

/* A class unknown (or Immediate) constrains nothing: its claims are bound
 * wherever their provisioner chose. */
static void test_unknown_class_constrains_nothing(void **state)
{
    fx_sched *f = *state;
    cluster(f->s);
    driver(f->s, ",\\\"storageClasses\\\":[\\\"nope\\\"]");
    fx_cycle(f->s, 1, &f->out);
    assert_non_null(strstr(fx_event(&f->out, "app-driver", "GangReserved")->message, "on node-a (2)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        fx_sched_test(test_slots_within_the_class_topology),
        fx_sched_test(test_slots_without_classes),
        fx_sched_test(test_unknown_class_constrains_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
