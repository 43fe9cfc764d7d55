/* Gangs declared as coscheduling and Volcano users declare them: a label or
 * annotation naming a PodGroup whose spec holds the size, the room it needs
 * and how long it waits; and which declaration wins when a pod has several. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "support/sched_fixtures.h"

#define COSCHED(pg) "\"scheduling.x-k8s.io/pod-group\":\"" pg "\""
#define VOLCANO(pg) "\"scheduling.k8s.io/group-name\":\"" pg "\""
#define GANG(name, min)                                                                                           \
    "\"pod-group.scheduling.kubenexus.io/name\":\"" name                                                          \
    "\",\"pod-group.scheduling.kubenexus.io/min-available\":\"" min "\""
#define RESERVATION(count)                                                                                        \
    "\"scheduling.kubenexus.io/executor-reservation\":\"{\\\"count\\\":" count                                    \
    ",\\\"requests\\\":{\\\"cpu\\\":\\\"1\\\",\\\"memory\\\":\\\"1Gi\\\"}}\""

/* A PodGroup "name" in namespace default as the API server serves it. */
static void podgroup(kn_scheduler *s, kn_gang_kind kind, const char *name, const char *spec, bool deleted)
{
    kn_json *o = fx_parse("{\"apiVersion\":\"%s\",\"kind\":\"PodGroup\",\"metadata\":{\"name\":\"%s\","
                          "\"namespace\":\"default\",\"uid\":\"pg-uid-%s\"},\"spec\":%s}",
                          kn_gang_kind_api(kind), name, name, spec);
    kn_err err = {{0}};
    if (kn_sched_apply_podgroup(s, kind, o, deleted, &err) != 0)
        fail_msg("apply PodGroup %s: %s", name, err.msg);
    kn_json_free(o);
}

/* Pods prefix-0..n-1 of cpu each with these labels and annotations. */
static void members(kn_scheduler *s, const char *prefix, int from, int to, const char *cpu, const char *labels,
                    const char *annotations)
{
    char name[64];
    for (int i = from; i < to; i++) {
        snprintf(name, sizeof(name), "%s-%d", prefix, i);
        fx_pod_full(s, name, cpu, "1Gi", labels, annotations, "", "", NULL, NULL);
    }
}

/* minMember of a coscheduling PodGroup is the gang's size. */
static void test_coscheduling_podgroup_sizes_the_gang(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "node-a", "8", "32Gi");
    podgroup(f->s, KN_GANG_COSCHEDULING, "mpi-pg", "{\"minMember\":3}", false);
    members(f->s, "mpi", 0, 2, "2", COSCHED("mpi-pg"), "");
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    const kn_sched_event *e = fx_event(&f->out, "mpi-0", "GangWaiting");
    assert_non_null(e);
    assert_string_equal(e->message, "Gang default/mpi-pg: 2 of 3 members present; waiting for 1 more before "
                                    "placing them all at once");
    members(f->s, "mpi", 2, 3, "2", COSCHED("mpi-pg"), "");
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 3);
    assert_int_equal(fx_bound_with_prefix(&f->out, "mpi-"), 3);
}

/* The same through Volcano's annotation and PodGroup kind; a larger gang
 * that does not fit binds nothing. */
static void test_volcano_podgroup_all_or_nothing(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "node-a", "4", "32Gi");
    podgroup(f->s, KN_GANG_VOLCANO, "vc-pg", "{\"minMember\":3,\"queue\":\"default\"}", false);
    members(f->s, "vc", 0, 3, "2", "", VOLCANO("vc-pg"));
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    fx_expect_failed(&f->out, "vc-2",
                     "0/1 nodes are available: 1 Insufficient cpu. Gang default/vc-pg: only 2 "
                     "of 3 pods fit at once; none bound.");
    fx_delete_pod(f->s, "vc-2");
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 0);
    assert_non_null(fx_event(&f->out, "vc-0", "GangWaiting"));
    /* an edited PodGroup counts */
    podgroup(f->s, KN_GANG_VOLCANO, "vc-pg", "{\"minMember\":2}", false);
    assert_int_equal(fx_cycle(f->s, 3, &f->out), 2);
}

/* A pod naming a PodGroup not (yet) known waits, saying which; the PodGroup's
 * arrival lets the gang go. */
static void test_missing_podgroup_waits_until_created(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "node-a", "8", "32Gi");
    members(f->s, "early", 0, 2, "1", COSCHED("late-pg"), "");
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    fx_expect_failed(&f->out, "early-0",
                     "PodGroup default/late-pg (scheduling.x-k8s.io/v1alpha1) not found; the "
                     "gang's pods wait until it is created");
    fx_expect_failed(&f->out, "early-1",
                     "PodGroup default/late-pg (scheduling.x-k8s.io/v1alpha1) not found; the "
                     "gang's pods wait until it is created");
    /* not retried (nor told again) while nothing changes */
    size_t events = f->out.n_events;
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 0);
    assert_int_equal(f->out.n_events, events);
    /* a PodGroup of the other kind with the same name is another gang's */
    podgroup(f->s, KN_GANG_VOLCANO, "late-pg", "{\"minMember\":2}", false);
    assert_int_equal(fx_cycle(f->s, 3, &f->out), 0);
    podgroup(f->s, KN_GANG_COSCHEDULING, "late-pg", "{\"minMember\":2}", false);
    assert_int_equal(fx_cycle(f->s, 4, &f->out), 2);
    /* deleted: a new member waits again */
    podgroup(f->s, KN_GANG_COSCHEDULING, "late-pg", "{}", true);
    members(f->s, "early", 2, 3, "1", COSCHED("late-pg"), "");
    assert_int_equal(fx_cycle(f->s, 5, &f->out), 0);
    fx_expect_failed(&f->out, "early-2",
                     "PodGroup default/late-pg (scheduling.x-k8s.io/v1alpha1) not found; the "
                     "gang's pods wait until it is created");
}

/* A PodGroup with a spec no scheduler can act on: its gang is told why. */
static void test_bad_podgroup_named_to_its_gang(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "node-a", "8", "32Gi");
    podgroup(f->s, KN_GANG_COSCHEDULING, "bad-pg", "{\"minMember\":-2}", false);
    members(f->s, "bad", 0, 1, "1", COSCHED("bad-pg"), "");
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    fx_expect_failed(&f->out, "bad-0",
                     "PodGroup default/bad-pg (scheduling.x-k8s.io/v1alpha1): spec.minMember is "
                     "-2, want an integer from 0 to 10000");
    podgroup(f->s, KN_GANG_COSCHEDULING, "bad-pg", "{\"minResources\":{\"cpu\":\"lots\"}}", false);
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 0);
    const kn_sched_event *e = fx_event(&f->out, "bad-0", "FailedScheduling");
    assert_non_null(
        strstr(e->message, "PodGroup default/bad-pg (scheduling.x-k8s.io/v1alpha1): spec.minResources: "));
    podgroup(f->s, KN_GANG_COSCHEDULING, "bad-pg", "{\"minMember\":1}", false);
    assert_int_equal(fx_cycle(f->s, 3, &f->out), 1);
}

/* kubenexus labels first, whatever else the pod says: a gang of 2 by label
 * runs although the PodGroup its other label names does not exist. */
static void test_kubenexus_labels_win(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "node-a", "8", "32Gi");
    members(f->s, "both", 0, 2, "1", GANG("both", "2") "," COSCHED("nowhere"), VOLCANO("nowhere"));
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 2);
    /* the coscheduling label before Volcano's annotation */
    podgroup(f->s, KN_GANG_COSCHEDULING, "cs", "{\"minMember\":2}", false);
    members(f->s, "mixed", 0, 1, "1", COSCHED("cs"), VOLCANO("vc-missing"));
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 0);
    assert_non_null(fx_event(&f->out, "mixed-0", "GangWaiting"));
    members(f->s, "mixed", 1, 2, "1", COSCHED("cs"), "");
    assert_int_equal(fx_cycle(f->s, 3, &f->out), 2);
}

/* minResources: not attempted until the free room of the cluster (ready,
 * schedulable nodes; bound pods and held slots counted) holds it. */
static void test_min_resources_gate(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "node-a", "4", "16Gi");
    fx_node(f->s, "node-b", "4", "16Gi");
    fx_node_full(f->s, "node-down", "64", "256Gi", "", "", "", "", "False");
    fx_pod_full(f->s, "running", "2", "1Gi", "", "", "", "", "node-a", "default-scheduler");
    /* as the Spark Operator's kube-scheduler integration writes it: minMember 1 */
    podgroup(f->s, KN_GANG_COSCHEDULING, "app-pg",
             "{\"minMember\":1,\"minResources\":{\"cpu\":\"7\",\"memory\":\"4Gi\"}}", false);
    members(f->s, "app-driver", 0, 1, "1", COSCHED("app-pg") ",\"spark-role\":\"driver\"", "");
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    fx_expect_failed(&f->out, "app-driver-0",
                     "PodGroup default/app-pg (scheduling.x-k8s.io/v1alpha1): the cluster's free room is short of "
                     "cpu 1 for spec.minResources and minMember 1; the gang is not attempted until room frees up");
    /* the room comes back: the driver alone fits (it is a gang of 1) */
    fx_delete_pod(f->s, "running");
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 1);
    assert_non_null(fx_node_of(&f->out, "app-driver-0"));
    /* once it has run, later members are not held back */
    members(f->s, "app-exec", 0, 1, "4", COSCHED("app-pg"), "");
    assert_int_equal(fx_cycle(f->s, 3, &f->out), 1);
}

/* Pod slots count: minMember pods must find free pod slots too. */
static void test_min_resources_counts_pod_slots(void **state)
{
    fx_sched *f = *state;
    fx_node_full(f->s, "tiny", "64", "64Gi", "", "", "", ",\"pods\":\"2\"", "True");
    podgroup(f->s, KN_GANG_VOLCANO, "many", "{\"minMember\":3,\"minResources\":{\"cpu\":\"1\"}}", false);
    members(f->s, "many", 0, 3, "100m", "", VOLCANO("many"));
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    fx_expect_failed(&f->out, "many-0",
                     "PodGroup default/many (scheduling.volcano.sh/v1beta1): the cluster's free "
                     "room is short of pods 1 for spec.minResources and minMember 3; the gang is "
                     "not attempted until room frees up");
}

/* Held executor slots are not free room for another gang's minResources. */
static void test_min_resources_sees_held_slots(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "node-a", "8", "32Gi");
    fx_pod_full(f->s, "etl-driver", "1", "1Gi", GANG("etl", "5") ",\"spark-role\":\"driver\"", RESERVATION("4"),
                "", "", NULL, NULL);
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 1); /* 1 + 4 slots of 1 cpu held */
    podgroup(f->s, KN_GANG_COSCHEDULING, "next", "{\"minMember\":1,\"minResources\":{\"cpu\":\"4\"}}", false);
    members(f->s, "next", 0, 1, "1", COSCHED("next"), "");
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 0);
    fx_expect_failed(&f->out, "next-0",
                     "PodGroup default/next (scheduling.x-k8s.io/v1alpha1): the cluster's free "
                     "room is short of cpu 1 for spec.minResources and minMember 1; the gang is "
                     "not attempted until room frees up");
}

/* scheduleTimeoutSeconds is how long a driver's executor slots are held,
 * unless the driver's own timeout annotation says otherwise. */
static void test_schedule_timeout_holds_slots(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "node-a", "8", "32Gi");
    podgroup(f->s, KN_GANG_COSCHEDULING, "spark-pi-pg", "{\"minMember\":1,\"scheduleTimeoutSeconds\":45}", false);
    fx_pod_full(f->s, "spark-pi-driver", "1", "1Gi", COSCHED("spark-pi-pg") ",\"spark-role\":\"driver\"",
                RESERVATION("2"), "", "", NULL, NULL);
    assert_int_equal(fx_cycle(f->s, 100, &f->out), 1);
    const kn_sched_event *e = fx_event(&f->out, "spark-pi-driver", "GangReserved");
    assert_non_null(e);
    assert_string_equal(e->message,
                        "Reserved 2 executor slot(s) of cpu 1, memory 1Gi for gang default/spark-pi-pg "
                        "on node-a (2); held until the executors arrive or 45s pass");
    assert_true(kn_sched_next_deadline(f->s) == 145);
    fx_cycle(f->s, 144, &f->out);
    assert_null(fx_event(&f->out, "spark-pi-driver", "GangTimeout"));
    fx_cycle(f->s, 145, &f->out);
    assert_non_null(fx_event(&f->out, "spark-pi-driver", "GangTimeout"));
    /* the annotation first */
    podgroup(f->s, KN_GANG_VOLCANO, "vc", "{\"minMember\":1}", false);
    fx_pod_full(f->s, "own-driver", "1", "1Gi", "\"spark-role\":\"driver\"",
                VOLCANO("vc") "," RESERVATION("1") ",\"pod-group.scheduling.kubenexus.io/timeout-seconds\":\"20\"",
                "", "", NULL, NULL);
    assert_int_equal(fx_cycle(f->s, 200, &f->out), 1);
    e = fx_event(&f->out, "own-driver", "GangReserved");
    assert_non_null(strstr(e->message, "or 20s pass"));
}

/* A relist without the PodGroup drops it (its CRD removed): the gang waits. */
static void test_resync_drops_podgroups_of_its_kind(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "node-a", "8", "32Gi");
    podgroup(f->s, KN_GANG_COSCHEDULING, "kept", "{\"minMember\":1}", false);
    podgroup(f->s, KN_GANG_VOLCANO, "vc-kept", "{\"minMember\":1}", false);
    kn_sched_resync_begin(f->s, KN_SCHED_PODGROUPS);
    kn_sched_resync_end(f->s, KN_SCHED_PODGROUPS);
    members(f->s, "gone", 0, 1, "1", COSCHED("kept"), "");
    members(f->s, "vc", 0, 1, "1", "", VOLCANO("vc-kept"));
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 1);
    assert_non_null(fx_node_of(&f->out, "vc-0"));
    fx_expect_failed(&f->out, "gone-0",
                     "PodGroup default/kept (scheduling.x-k8s.io/v1alpha1) not found; the "
                     "gang's pods wait until it is created");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        fx_sched_test(test_coscheduling_podgroup_sizes_the_gang),
        fx_sched_test(test_volcano_podgroup_all_or_nothing),
        fx_sched_test(test_missing_podgroup_waits_until_created),
        fx_sched_test(test_bad_podgroup_named_to_its_gang),
        fx_sched_test(test_kubenexus_labels_win),
        fx_sched_test(test_min_resources_gate),
        fx_sched_test(test_min_resources_counts_pod_slots),
        fx_sched_test(test_min_resources_sees_held_slots),
        fx_sched_test(test_schedule_timeout_holds_slots),
        fx_sched_test(test_resync_drops_podgroups_of_its_kind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
