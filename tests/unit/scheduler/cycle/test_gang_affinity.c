/* test_gang_affinity.c - gangs and executor reservations with inter-pod
 * affinity and spreading: members placed together count for one another
 * within the tentative placement (so members anti-affine to each other
 * spread, or the gang waits whole, holding nothing), and a held executor
 * slot counts as the executor it stands for (its labels and terms), so slots
 * spread as executors would, other pods see them, and executors that come
 * later fit the slots they take. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json/json.h"
#include "support/sched_fixtures.h"

#define GANG(name, min)                                                                                           \
    "\"pod-group.scheduling.kubenexus.io/name\":\"" name                                                          \
    "\",\"pod-group.scheduling.kubenexus.io/min-available\":\"" min "\""
#define HOSTNAME "kubernetes.io/hostname"
#define ANTI_MPI                                                                                                  \
    ",\"affinity\":{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[{\"labelSelector\":" \
    "{\"matchLabels\":{\"app\":\"mpi\"}},\"topologyKey\":\"" HOSTNAME "\"}]}}"
#define ANTI_EXECUTORS                                                                                            \
    "{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[{\"labelSelector\":{"              \
    "\"matchLabels\":"                                                                                            \
    "{\"spark-role\":\"executor\",\"app\":\"etl\"}},\"topologyKey\":\"" HOSTNAME "\"}]}}"

/* The executor-reservation annotation with value resv, as an annotations member. */
static char *reservation(const char *resv)
{
    static char buf[4096];
    kn_buf b = KN_BUF_INIT;
    kn_buf_puts(&b, "\"scheduling.kubenexus.io/executor-reservation\":");
    kn_json_write_string(&b, resv, strlen(resv));
    char *text = kn_buf_finish(&b, NULL);
    assert_non_null(text);
    snprintf(buf, sizeof(buf), "%s", text);
    free(text);
    return buf;
}

/* n nodes node-a, node-b, ... */
static void nodes(kn_scheduler *s, int n)
{
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof(name), "node-%c", 'a' + i);
        fx_node(s, name, "16", "64Gi");
    }
}

/* The three members of gang mpi, anti-affine to each other on hostname. */
static void mpi_gang(kn_scheduler *s)
{
    for (int i = 0; i < 3; i++) {
        char n[16];
        snprintf(n, sizeof(n), "mpi-%d", i);
        fx_pod_full(s, n, "1", "1Gi", GANG("mpi", "3") ",\"app\":\"mpi\"", "", ANTI_MPI, "", NULL, NULL);
    }
}

/* The driver of app etl with count slots for executors anti-affine to each other. */
static void etl_driver(kn_scheduler *s, int count)
{
    char resv[1024], gang[256];
    snprintf(resv, sizeof(resv),
             "{\"count\":%d,\"requests\":{\"cpu\":\"1\",\"memory\":\"1Gi\"},\"nodeSelector\":{},\"affinity\":%s,"
             "\"labels\":{\"app\":\"etl\"}}",
             count, ANTI_EXECUTORS);
    snprintf(
        gang, sizeof(gang),
        "\"pod-group.scheduling.kubenexus.io/name\":\"etl\",\"pod-group.scheduling.kubenexus.io/min-available\":"
        "\"%d\",\"app\":\"etl\",\"spark-role\":\"driver\"",
        count + 1);
    fx_pod_full(s, "etl-driver", "1", "1Gi", gang, reservation(resv), "", "", NULL, NULL);
}

static int bound_on(const kn_sched_out *out, const char *node)
{
    int n = 0;
    for (size_t i = 0; i < out->n_bindings; i++)
        n += strcmp(out->bindings[i].node, node) == 0;
    return n;
}

/* A gang of three whose members are anti-affine on hostname: three nodes, one each. */
static void test_anti_affine_gang_spreads(void **state)
{
    fx_sched *f = *state;
    nodes(f->s, 3);
    mpi_gang(f->s);
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 3);
    assert_int_equal(bound_on(&f->out, "node-a"), 1);
    assert_int_equal(bound_on(&f->out, "node-b"), 1);
    assert_int_equal(bound_on(&f->out, "node-c"), 1);
}

/* The same gang over two nodes: the third member meets the first two it was
 * placed with, so nothing is bound and nothing held. */
static void test_anti_affine_gang_too_big_waits_whole(void **state)
{
    fx_sched *f = *state;
    nodes(f->s, 2);
    mpi_gang(f->s);
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    const kn_sched_event *e = fx_event(&f->out, "mpi-0", "FailedScheduling");
    assert_non_null(e);
    assert_string_equal(e->message, "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules. "
                                    "Gang default/mpi: only 2 of 3 pods fit at once; none bound.");
    /* undone: a pod anti-affine to the gang fits anywhere */
    fx_pod_full(f->s, "other", "1", "1Gi", "\"app\":\"other\"", "", ANTI_MPI, "", NULL, NULL);
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 1);
}

/* Executor slots carry the executors' anti-affinity: one slot per node, and
 * the executors that come later land one per node too. */
static void test_slots_spread_as_their_executors(void **state)
{
    fx_sched *f = *state;
    nodes(f->s, 3);
    etl_driver(f->s, 2);
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 1);
    const kn_sched_event *e = fx_event(&f->out, "etl-driver", "GangReserved");
    assert_non_null(e);
    /* bin-packing puts the driver's node first; the slots cannot share a node */
    assert_non_null(strstr(e->message, "(1)"));
    assert_null(strstr(e->message, "(2)"));

    /* a pod anti-affine to executors keeps off the nodes holding slots: they count as executors */
    fx_pod_full(f->s, "guard", "1", "1Gi", "\"app\":\"guard\"", "",
                ",\"affinity\":{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
                "[{\"labelSelector\":{\"matchLabels\":{\"spark-role\":\"executor\"}},\"topologyKey\":\"" HOSTNAME
                "\"}]}}",
                "", NULL, NULL);
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 1);
    const char *gnode = fx_node_of(&f->out, "guard");
    assert_non_null(gnode);
    assert_null(strstr(e->message, gnode));

    const char *exec_spec = ",\"affinity\":" ANTI_EXECUTORS;
    fx_pod_full(f->s, "etl-exec-1", "1", "1Gi", GANG("etl", "3") ",\"app\":\"etl\",\"spark-role\":\"executor\"",
                "", exec_spec, "", NULL, NULL);
    fx_pod_full(f->s, "etl-exec-2", "1", "1Gi", GANG("etl", "3") ",\"app\":\"etl\",\"spark-role\":\"executor\"",
                "", exec_spec, "", NULL, NULL);
    assert_int_equal(fx_cycle(f->s, 3, &f->out), 2);
    const char *n1 = fx_node_of(&f->out, "etl-exec-1"), *n2 = fx_node_of(&f->out, "etl-exec-2");
    assert_non_null(n1);
    assert_non_null(n2);
    assert_string_not_equal(n1, n2);
    assert_non_null(strstr(e->message, n1)); /* each took a slot */
    assert_non_null(strstr(e->message, n2));
    kn_sched_stats st;
    kn_sched_get_stats(f->s, &st);
    assert_int_equal(st.reservations_held, 0);
}

/* More anti-affine executors than nodes: the driver is not bound, nothing is held. */
static void test_driver_waits_when_its_slots_cannot_spread(void **state)
{
    fx_sched *f = *state;
    nodes(f->s, 2);
    etl_driver(f->s, 3);
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    const kn_sched_event *e = fx_event(&f->out, "etl-driver", "FailedScheduling");
    assert_non_null(e);
    assert_string_equal(e->message, "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules. "
                                    "Gang default/etl: only 3 of 4 pods fit at once (driver and its executor "
                                    "slots); none bound.");
    kn_sched_stats st;
    kn_sched_get_stats(f->s, &st);
    assert_int_equal(st.reservations_held, 0);
}

/* Executors spread over zones by the reservation's topologySpreadConstraints. */
static void test_slots_follow_topology_spread(void **state)
{
    fx_sched *f = *state;
    const char *zones[] = {"\"topology.kubernetes.io/zone\":\"z1\"", "\"topology.kubernetes.io/zone\":\"z2\""};
    for (int i = 0; i < 4; i++) {
        char n[16];
        snprintf(n, sizeof(n), "node-%d", i);
        fx_node_full(f->s, n, "16", "64Gi", zones[i % 2], "", "", "", "True");
    }
    const char *resv =
        "{\"count\":4,\"requests\":{\"cpu\":\"1\",\"memory\":\"1Gi\"},\"nodeSelector\":{},"
        "\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":\"topology.kubernetes.io/zone\","
        "\"whenUnsatisfiable\":\"DoNotSchedule\",\"labelSelector\":{\"matchLabels\":"
        "{\"spark-role\":\"executor\"}}}]}";
    fx_pod_full(f->s, "zoned-driver", "1", "1Gi", GANG("zoned", "5") ",\"spark-role\":\"driver\"",
                reservation(resv), "", "", NULL, NULL);
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 1);
    const kn_sched_event *e = fx_event(&f->out, "zoned-driver", "GangReserved");
    assert_non_null(e);
    /* two slots in each zone: bin-packing alone would have put all four on the driver's node */
    int z1 = 0, z2 = 0;
    for (int i = 0; i < 4; i++) {
        char n[32];
        snprintf(n, sizeof(n), "node-%d (", i);
        const char *at = strstr(e->message, n);
        int cnt = at ? atoi(at + strlen(n)) : 0;
        if (i % 2 == 0)
            z1 += cnt;
        else
            z2 += cnt;
    }
    assert_int_equal(z1, 2);
    assert_int_equal(z2, 2);
}

/* An annotation without labels (as written before they existed) is read as it
 * was: the slots carry the driver's labels, as an executor. */
static void test_old_annotation_slots_carry_the_drivers_labels(void **state)
{
    fx_sched *f = *state;
    nodes(f->s, 2);
    fx_pod_full(f->s, "pi-driver", "1", "1Gi", GANG("pi", "2") ",\"app\":\"pi\",\"spark-role\":\"driver\"",
                reservation("{\"count\":1,\"requests\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}"), "", "", NULL, NULL);
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 1);
    const char *dnode = fx_node_of(&f->out, "pi-driver");
    /* a Spark pod (bin-packed: it would join the driver's node) */
    fx_pod_full(f->s, "away", "1", "1Gi", "\"spark-role\":\"driver\"", "",
                ",\"affinity\":{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
                "[{\"labelSelector\":{\"matchLabels\":{\"app\":\"pi\",\"spark-role\":\"executor\"}},"
                "\"topologyKey\":\"" HOSTNAME "\"}]}}",
                "", NULL, NULL);
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 1);
    /* the slot sits with the driver: the pod keeps off that node */
    assert_string_not_equal(fx_node_of(&f->out, "away"), dnode);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        fx_sched_test(test_anti_affine_gang_spreads),
        fx_sched_test(test_anti_affine_gang_too_big_waits_whole),
        fx_sched_test(test_slots_spread_as_their_executors),
        fx_sched_test(test_driver_waits_when_its_slots_cannot_spread),
        fx_sched_test(test_slots_follow_topology_spread),
        fx_sched_test(test_old_annotation_slots_carry_the_drivers_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
