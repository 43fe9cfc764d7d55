/* Preemption as a user watching pods would notice it: which pods are evicted
 * for a higher-priority pod, gang or Spark application (never a gang left
 * with fewer than min-available running, never a Spark driver without its
 * executors), that members beyond min-available and held executor slots go
 * first, PodDisruptionBudgets, preemptionPolicy Never, kube-scheduler's
 * ranking of nodes and its ties, and the room held for the preemptor until
 * its victims are gone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "support/sched_fixtures.h"
#include "support/volume_fixtures.h"

#define GANG(name, min)                                                                                           \
    "\"pod-group.scheduling.kubenexus.io/name\":\"" name                                                          \
    "\",\"pod-group.scheduling.kubenexus.io/min-available\":\"" min "\""
#define RESERVATION(count, tmpl)                                                                                  \
    "\"scheduling.kubenexus.io/executor-reservation\":\"{\\\"count\\\":" count                                    \
    ",\\\"requests\\\":{\\\"cpu\\\":\\\"1\\\",\\\"memory\\\":\\\"1Gi\\\"}" tmpl "}\""
#define DRIVER ",\"spark-role\":\"driver\""

/* A running pod (any scheduler) of priority prio on node, started at minute:second start. */
static void running(kn_scheduler *s, const char *name, const char *cpu, int prio, const char *labels,
                    const char *node, int start)
{
    kn_json *p = fx_parse(
        "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\",\"uid\":\"uid-%s\",\"labels\":{%s},"
        "\"creationTimestamp\":\"2026-11-24T09:00:00Z\"},"
        "\"spec\":{\"schedulerName\":\"default-scheduler\",\"nodeName\":\"%s\",\"priority\":%d,"
        "\"terminationGracePeriodSeconds\":30,"
        "\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"%s\",\"memory\":\"1Gi\"}}}]},"
        "\"status\":{\"phase\":\"Running\",\"startTime\":\"2026-11-24T09:%02d:%02dZ\"}}",
        name, name, labels, node, prio, cpu, start / 60, start % 60);
    kn_err err = {{0}};
    if (kn_sched_apply_pod(s, p, false, &err) != 0)
        fail_msg("apply %s: %s", name, err.msg);
    kn_json_free(p);
}

/* A running pod owned by a Pod (as Spark's executors are by their driver). */
static void owned(kn_scheduler *s, const char *name, const char *cpu, const char *owner, const char *node)
{
    kn_json *p = fx_parse(
        "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\",\"uid\":\"uid-%s\","
        "\"labels\":{\"spark-role\":\"executor\"},\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
        "\"name\":\"%s\",\"uid\":\"uid-%s\",\"controller\":true}]},"
        "\"spec\":{\"nodeName\":\"%s\",\"priority\":0,"
        "\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"%s\"}}}]},"
        "\"status\":{\"phase\":\"Running\",\"startTime\":\"2026-11-24T09:00:30Z\"}}",
        name, name, owner, owner, node, cpu);
    kn_err err = {{0}};
    if (kn_sched_apply_pod(s, p, false, &err) != 0)
        fail_msg("apply %s: %s", name, err.msg);
    kn_json_free(p);
}

/* A pending pod of ours with priority prio (extra spec members in spec). */
static void pending(kn_scheduler *s, const char *name, const char *cpu, int prio, const char *labels,
                    const char *spec)
{
    char sp[512];
    snprintf(sp, sizeof(sp), ",\"priority\":%d%s", prio, spec);
    fx_pod_full(s, name, cpu, "1Gi", labels, "", sp, "", NULL, NULL);
}

static const kn_sched_victim *victim(const kn_sched_out *out, const char *name)
{
    for (size_t i = 0; i < out->n_victims; i++)
        if (strcmp(out->victims[i].name, name) == 0)
            return &out->victims[i];
    return NULL;
}

static const char *nominated(const kn_sched_out *out, const char *name)
{
    const char *node = NULL;
    for (size_t i = 0; i < out->n_nominations; i++)
        if (strcmp(out->nominations[i].name, name) == 0)
            node = out->nominations[i].node;
    return node;
}

/* The victims' names in order, comma-separated. */
static const char *victims(const kn_sched_out *out)
{
    static char buf[1024];
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < out->n_victims && off < sizeof(buf); i++)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? "," : "", out->victims[i].name);
    return buf;
}

static void test_higher_priority_pod_preempts_and_binds_once_victim_is_gone(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    fx_node(s, "node-a", "4", "16Gi");
    running(s, "low", "4", 0, "", "node-a", 0);
    pending(s, "high", "2", 100, "", "");
    assert_int_equal(fx_cycle(s, 1, &f->out), 0);
    assert_string_equal(victims(&f->out), "low");
    const kn_sched_victim *v = victim(&f->out, "low");
    assert_string_equal(v->node, "node-a");
    assert_string_equal(v->by_name, "high");
    assert_string_equal(v->by_node, "node-a");
    assert_int_equal(v->grace_s, 30);
    assert_null(v->gang);
    assert_string_equal(nominated(&f->out, "high"), "node-a");
    /* kube-scheduler's FailedScheduling for a preemptor is its FitError */
    fx_expect_failed(&f->out, "high", "0/1 nodes are available: 1 Insufficient cpu.");
    /* the victim terminates, the API server writes the nomination: nothing
     * changes until the victim is gone */
    kn_sched_out_reset(&f->out);
    running(s, "low", "4", 0, "", "node-a", 0); /* an update (deletionTimestamp in a live cluster) */
    pending(s, "high", "2", 100, "", "");       /* status.nominatedNodeName written: an update too */
    assert_int_equal(fx_cycle(s, 2, &f->out), 0);
    assert_int_equal(f->out.n_victims, 0);
    kn_sched_stats st;
    kn_sched_get_stats(s, &st);
    assert_int_equal(st.nominated, 1); /* the same nomination, no second one */
    assert_int_equal(st.preemptions, 1);
    fx_delete_pod(s, "low");
    assert_int_equal(fx_cycle(s, 3, &f->out), 1);
    assert_string_equal(fx_node_of(&f->out, "high"), "node-a");
}

/* Inter-pod terms are filters like the others: a pod anti-affine to a
 * lower-priority pod evicts it (node-a), not pods it may not (node-b's
 * higher-priority one); the message counts the anti-affinity as
 * kube-scheduler's does. */
static void test_anti_affinity_is_lifted_by_evicting_its_target(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    fx_node(s, "node-a", "4", "16Gi");
    fx_node(s, "node-b", "4", "16Gi");
    running(s, "noisy", "1", 0, "\"app\":\"noisy\"", "node-a", 0);
    running(s, "busy", "4", 1000, "", "node-b", 0);
    pending(
        s, "quiet", "1", 100, "",
        ",\"affinity\":{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[{"
        "\"labelSelector\":{\"matchLabels\":{\"app\":\"noisy\"}},\"topologyKey\":\"kubernetes.io/hostname\"}]}}");
    assert_int_equal(fx_cycle(s, 1, &f->out), 0);
    assert_string_equal(victims(&f->out), "noisy");
    assert_string_equal(nominated(&f->out, "quiet"), "node-a");
    fx_expect_failed(
        &f->out, "quiet",
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match pod anti-affinity rules.");
    fx_delete_pod(s, "noisy");
    assert_int_equal(fx_cycle(s, 2, &f->out), 1);
    assert_string_equal(fx_node_of(&f->out, "quiet"), "node-a");
}

static void pdb(kn_scheduler *s, const char *name, const char *selector, int allowed, const char *disrupted)
{
    kn_json *b =
        fx_parse("{\"apiVersion\":\"policy/v1\",\"kind\":\"PodDisruptionBudget\",\"metadata\":{\"name\":\"%s\","
                 "\"namespace\":\"default\",\"uid\":\"pdb-%s\"},\"spec\":{\"selector\":%s},"
                 "\"status\":{\"disruptionsAllowed\":%d,\"disruptedPods\":{%s}}}",
                 name, name, selector, allowed, disrupted);
    kn_err err = {{0}};
    if (kn_sched_apply_pdb(s, b, false, &err) != 0)
        fail_msg("apply pdb %s: %s", name, err.msg);
    kn_json_free(b);
}

static void test_no_victim_of_equal_or_higher_priority(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    fx_node(s, "node-a", "4", "16Gi");
    fx_node(s, "node-b", "2", "16Gi");
    running(s, "same", "4", 100, "", "node-a", 0);
    running(s, "small", "1", 0, "", "node-b", 0);
    running(s, "above", "1", 200, "", "node-b", 0);
    pending(s, "high", "3", 100, "", "");
    assert_int_equal(fx_cycle(s, 1, &f->out), 0);
    assert_int_equal(f->out.n_victims, 0);
    assert_null(nominated(&f->out, "high"));
    /* kube-scheduler's FitError, then why preemption did not help, node by node */
    fx_expect_failed(&f->out, "high",
                     "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are "
                     "available: 1 Insufficient cpu, 1 No preemption victims found for incoming pod.");
}

static void test_no_lower_priority_pod_anywhere_leaves_the_message_alone(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    fx_node(s, "node-a", "2", "16Gi");
    running(s, "peer", "2", 0, "", "node-a", 0);
    pending(s, "p", "1", 0, "", "");
    assert_int_equal(fx_cycle(s, 1, &f->out), 0);
    fx_expect_failed(&f->out, "p", "0/1 nodes are available: 1 Insufficient cpu.");
}

static void test_preemption_policy_never(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    fx_node(s, "node-a", "4", "16Gi");
    running(s, "low", "4", 0, "", "node-a", 0);
    pending(s, "polite", "2", 100, "", ",\"preemptionPolicy\":\"Never\"");
    assert_int_equal(fx_cycle(s, 1, &f->out), 0);
    assert_int_equal(f->out.n_victims, 0);
    fx_expect_failed(&f->out, "polite",
                     "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due "
                     "to preemptionPolicy=Never.");
}

/* One node's victims, reprieved most important first: the lowest priority
 * goes; among equals, the one started last. */
static void test_minimal_victims_highest_priority_reprieved_first(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    fx_node(s, "node-a", "8", "64Gi");
    running(s, "p3", "2", 3, "", "node-a", 10);
    running(s, "p1", "2", 1, "", "node-a", 10);
    running(s, "p2-old", "2", 2, "", "node-a", 5);
    running(s, "p2-new", "2", 2, "", "node-a", 50);
    pending(s, "high", "4", 100, "", "");
    assert_int_equal(fx_cycle(s, 1, &f->out), 0);
    assert_string_equal(victims(&f->out), "p2-new,p1"); /* most important first, as kube-scheduler lists them */
}

/* pickOneNodeForPreemption's order, one criterion at a time: each test has
 * two nodes where the 2-cpu preemptor fits after evicting, and the node the
 * criterion prefers is named so that the name tie-break would pick the other. */
static const char *chosen(fx_sched *f)
{
    pending(f->s, "high", "2", 100, "", "");
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    const char *n = nominated(&f->out, "high");
    assert_non_null(n);
    return n;
}

static void test_choice_fewest_budget_violations(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "a", "2", "16Gi");
    fx_node(f->s, "b", "2", "16Gi");
    pdb(f->s, "db", "{\"matchLabels\":{\"app\":\"db\"}}", 0, "");
    running(f->s, "guarded", "2", 1, "\"app\":\"db\"", "a", 0);
    running(f->s, "higher", "2", 5, "", "b", 0);
    assert_string_equal(chosen(f), "b");
    assert_string_equal(victims(&f->out), "higher");
}

static void test_choice_budget_with_room_is_no_violation(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "a", "2", "16Gi");
    fx_node(f->s, "b", "2", "16Gi");
    pdb(f->s, "web", "{\"matchLabels\":{\"app\":\"web\"}}", 1, "");
    running(f->s, "room", "2", 1, "\"app\":\"web\"", "a", 0);
    running(f->s, "higher", "2", 2, "", "b", 0);
    assert_string_equal(chosen(f), "a"); /* within its budget: no violation, so the lower priority */
}

static void test_choice_disrupted_pod_is_no_violation(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "a", "2", "16Gi");
    fx_node(f->s, "b", "2", "16Gi");
    /* the API server counted this pod already: kube-scheduler skips DisruptedPods */
    pdb(f->s, "db", "{\"matchLabels\":{\"app\":\"db\"}}", 0, "\"counted\":\"2026-11-24T09:00:00Z\"");
    pdb(f->s, "db2", "{\"matchLabels\":{\"app\":\"db2\"}}", 0, "");
    running(f->s, "counted", "2", 2, "\"app\":\"db\"", "a", 0);
    running(f->s, "violates", "2", 1, "\"app\":\"db2\"", "b", 0);
    assert_string_equal(chosen(f), "a");
}

static void test_choice_lowest_highest_priority(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "a", "2", "16Gi");
    fx_node(f->s, "b", "2", "16Gi");
    running(f->s, "ten", "2", 10, "", "a", 0);
    running(f->s, "five-1", "1", 5, "", "b", 0);
    running(f->s, "five-2", "1", 5, "", "b", 0);
    assert_string_equal(chosen(f), "b");
    assert_string_equal(victims(&f->out), "five-1,five-2");
}

static void test_choice_smallest_priority_sum(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "a", "2", "16Gi");
    fx_node(f->s, "b", "2", "16Gi");
    running(f->s, "a5", "1", 5, "", "a", 0);
    running(f->s, "a4", "1", 4, "", "a", 0);
    running(f->s, "b5", "1", 5, "", "b", 0);
    running(f->s, "b1", "1", 1, "", "b", 0);
    assert_string_equal(chosen(f), "b");
}

static void test_choice_fewest_victims(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "a", "2", "16Gi");
    fx_node(f->s, "b", "2", "16Gi");
    /* equal highest priority and equal sums (each priority counts + 2^31):
     * one victim of 5 against two of 5 and -2^31 */
    running(f->s, "a5", "1", 5, "", "a", 0);
    running(f->s, "amin", "1", INT32_MIN, "", "a", 0);
    running(f->s, "b5", "2", 5, "", "b", 0);
    assert_string_equal(chosen(f), "b");
}

static void test_choice_latest_start_of_highest_priority_victims(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "a", "2", "16Gi");
    fx_node(f->s, "b", "2", "16Gi");
    running(f->s, "old", "2", 5, "", "a", 10);
    running(f->s, "young", "2", 5, "", "b", 20);
    assert_string_equal(chosen(f), "b");
}

static void test_choice_tie_goes_to_the_first_node_name(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "b", "2", "16Gi");
    fx_node(f->s, "a", "2", "16Gi");
    running(f->s, "on-b", "2", 5, "", "b", 10);
    running(f->s, "on-a", "2", 5, "", "a", 10);
    assert_string_equal(chosen(f), "a");
}

/* filterPodsWithPDBViolation: the victims that would exceed a budget are
 * reprieved first, so a higher-priority pod without budget goes instead. */
static void test_budget_protected_victim_reprieved_first(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "a", "4", "16Gi");
    pdb(f->s, "db", "{\"matchLabels\":{\"app\":\"db\"}}", 0, "");
    running(f->s, "guarded", "2", 1, "\"app\":\"db\"", "a", 0);
    running(f->s, "unguarded", "2", 5, "", "a", 0);
    assert_string_equal(chosen(f), "a");
    assert_string_equal(victims(&f->out), "unguarded");
}

/* ---- gangs, drivers, members beyond min-available ---- */

static void test_gang_victim_takes_its_whole_gang(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "a", "2", "16Gi");
    fx_node(f->s, "b", "2", "16Gi");
    fx_node(f->s, "c", "2", "16Gi");
    running(f->s, "etl-0", "2", 0, GANG("etl", "3"), "a", 0);
    running(f->s, "etl-1", "2", 0, GANG("etl", "3"), "b", 0);
    running(f->s, "etl-2", "2", 0, GANG("etl", "3"), "c", 0);
    assert_string_equal(chosen(f), "a");
    assert_string_equal(victims(&f->out), "etl-0,etl-1,etl-2");
    for (size_t i = 0; i < f->out.n_victims; i++) {
        assert_string_equal(f->out.victims[i].gang, "default/etl");
        assert_string_equal(f->out.victims[i].by_name, "high");
        assert_string_equal(f->out.victims[i].by_node, "a");
    }
    kn_sched_stats st;
    kn_sched_get_stats(f->s, &st);
    assert_int_equal(st.victims, 3);
    assert_int_equal(st.preemptions, 1);
    assert_int_equal(st.nominated, 1);
}

static void test_gang_with_a_member_of_higher_priority_is_no_victim(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "a", "2", "16Gi");
    fx_node(f->s, "b", "2", "16Gi");
    running(f->s, "etl-0", "2", 0, GANG("etl", "2"), "a", 0);
    running(f->s, "etl-1", "2", 200, GANG("etl", "2"), "b", 0);
    pending(f->s, "high", "2", 100, "", "");
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    assert_int_equal(f->out.n_victims, 0);
    fx_expect_failed(&f->out, "high",
                     "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are "
                     "available: 2 No preemption victims found for incoming pod.");
}

/* Dynamic allocation: executors beyond min-available go first, one by one,
 * youngest first, never the driver; once the gang is down to min-available,
 * only the whole gang can go. */
static void test_members_beyond_min_available_go_first_then_the_gang(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "a", "5", "16Gi");
    running(f->s, "dyn-driver", "1", 0, GANG("dyn", "2") DRIVER, "a", 0);
    running(f->s, "dyn-exec-1", "1", 0, GANG("dyn", "2"), "a", 10);
    running(f->s, "dyn-exec-2", "1", 0, GANG("dyn", "2"), "a", 20);
    running(f->s, "dyn-exec-3", "1", 0, GANG("dyn", "2"), "a", 30);
    running(f->s, "plain", "1", 0, "", "a", 0);
    pending(f->s, "high", "2", 100, "", "");
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    /* cheaper than the plain pod of the same priority: the youngest executors */
    assert_string_equal(victims(&f->out), "dyn-exec-2,dyn-exec-3");
    assert_null(f->out.victims[0].gang);
    /* the gang is down to min-available (the victims are on their way out):
     * a second preemptor takes the plain pod, then only the whole gang is left */
    kn_sched_out_reset(&f->out);
    pending(f->s, "high-2", "1", 100, "", "");
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 0);
    assert_string_equal(victims(&f->out), "plain");
    kn_sched_out_reset(&f->out);
    pending(f->s, "high-3", "2", 100, "", "");
    assert_int_equal(fx_cycle(f->s, 3, &f->out), 0);
    assert_string_equal(victims(&f->out), "dyn-driver,dyn-exec-1");
    assert_string_equal(f->out.victims[0].gang, "default/dyn");
}

/* A gang named by a coscheduling PodGroup: its minMember is what stays
 * running (the pods' own copy is only set when the gang is attempted, and
 * these were bound before), and one whose PodGroup is not known goes whole. */
static void test_podgroup_gang_keeps_its_min_member(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "a", "5", "16Gi");
    kn_json *pg = fx_parse("{\"apiVersion\":\"scheduling.x-k8s.io/v1alpha1\",\"kind\":\"PodGroup\","
                           "\"metadata\":{\"name\":\"pg\",\"namespace\":\"default\",\"uid\":\"pg-uid\"},"
                           "\"spec\":{\"minMember\":3}}");
    kn_err err = {{0}};
    assert_int_equal(kn_sched_apply_podgroup(f->s, KN_GANG_COSCHEDULING, pg, false, &err), 0);
    kn_json_free(pg);
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof(name), "pg-%d", i);
        running(f->s, name, "1", 0, "\"scheduling.x-k8s.io/pod-group\":\"pg\"", "a", 10 * i);
    }
    pending(f->s, "one", "2", 100, "", "");
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    assert_string_equal(victims(&f->out), "pg-3"); /* the one member beyond minMember, and the free cpu */
    kn_sched_out_reset(&f->out);
    fx_delete_pod(f->s, "pg-3");
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 1);
    /* now at minMember: a second preemptor takes the gang whole or nothing */
    kn_sched_out_reset(&f->out);
    pending(f->s, "two", "1", 100, "", "");
    assert_int_equal(fx_cycle(f->s, 3, &f->out), 0);
    assert_string_equal(victims(&f->out), "pg-0,pg-1,pg-2");
    assert_string_equal(f->out.victims[0].gang, "default/pg");
    /* a PodGroup not known: nothing of its gang goes alone */
    fx_node(f->s, "b", "3", "16Gi");
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof(name), "lost-%d", i);
        running(f->s, name, "1", 0, "\"scheduling.x-k8s.io/pod-group\":\"lost\"", "b", 10 * i);
    }
    kn_sched_out_reset(&f->out);
    pending(f->s, "three", "1", 100, "", ",\"nodeSelector\":{\"kubernetes.io/hostname\":\"b\"}");
    assert_int_equal(fx_cycle(f->s, 4, &f->out), 0);
    assert_string_equal(victims(&f->out), "lost-0,lost-1,lost-2");
}

static void test_spark_driver_without_gang_goes_with_its_executors(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "a", "2", "16Gi");
    fx_node(f->s, "b", "2", "16Gi");
    fx_node(f->s, "c", "2", "16Gi");
    running(f->s, "drv", "2", 0, "\"spark-role\":\"driver\"", "a", 0);
    owned(f->s, "drv-exec-1", "2", "drv", "b");
    owned(f->s, "drv-exec-2", "2", "drv", "c");
    pending(f->s, "on-a", "2", 100, "", ",\"nodeSelector\":{\"kubernetes.io/hostname\":\"a\"}");
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    assert_string_equal(victims(&f->out), "drv,drv-exec-1,drv-exec-2");
    assert_string_equal(victim(&f->out, "drv-exec-2")->gang, "default/drv");
    /* an executor alone may go: the driver asks for another */
    kn_sched_out_reset(&f->out);
    pending(f->s, "on-b", "2", 100, "", ",\"nodeSelector\":{\"kubernetes.io/hostname\":\"b\"}");
    fx_node(f->s, "d", "2", "16Gi");
    owned(f->s, "other-exec", "2", "other", "d");
    pending(f->s, "on-d", "2", 100, "", ",\"nodeSelector\":{\"kubernetes.io/hostname\":\"d\"}");
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 0);
    assert_string_equal(victims(&f->out), "other-exec");
}

/* ---- gangs and drivers as preemptors ---- */

static void test_gang_preemptor_gets_room_for_all_or_evicts_nobody(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "a", "2", "16Gi");
    fx_node(f->s, "b", "2", "16Gi");
    fx_node(f->s, "c", "2", "16Gi");
    running(f->s, "low-a", "2", 0, "", "a", 0);
    running(f->s, "low-b", "2", 0, "", "b", 0);
    running(f->s, "vip", "2", 1000, "", "c", 0);
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof(name), "mpi-%d", i);
        pending(f->s, name, "2", 100, GANG("mpi", "3"), "");
    }
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    assert_int_equal(f->out.n_victims, 0);
    assert_int_equal(f->out.n_nominations, 0);
    const kn_sched_event *e = fx_event(&f->out, "mpi-0", "FailedScheduling");
    assert_non_null(e);
    assert_non_null(strstr(e->message,
                           "Gang default/mpi: only 0 of 3 pods fit at once; none bound. preemption: "
                           "0/3 nodes are available: 3 No preemption victims found for incoming pod."));
    /* the two low pods still run: put back as they were */
    kn_sched_stats st;
    kn_sched_get_stats(f->s, &st);
    assert_int_equal(st.cpu_milli_used, 6000);
}

static void test_gang_preemptor_evicts_then_binds_all(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "a", "2", "16Gi");
    fx_node(f->s, "b", "2", "16Gi");
    running(f->s, "low-a", "2", 0, "", "a", 0);
    running(f->s, "low-b", "2", 0, "", "b", 0);
    pending(f->s, "mpi-0", "2", 100, GANG("mpi", "2"), "");
    pending(f->s, "mpi-1", "2", 100, GANG("mpi", "2"), "");
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    assert_int_equal(f->out.n_victims, 2);
    assert_non_null(nominated(&f->out, "mpi-0"));
    assert_non_null(nominated(&f->out, "mpi-1"));
    assert_string_not_equal(nominated(&f->out, "mpi-0"), nominated(&f->out, "mpi-1"));
    fx_delete_pod(f->s, "low-a");
    kn_sched_out_reset(&f->out);
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 0); /* one victim still there: the gang waits */
    fx_delete_pod(f->s, "low-b");
    assert_int_equal(fx_cycle(f->s, 3, &f->out), 2);
}

static void test_driver_preempts_for_itself_and_every_slot(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "a", "2", "16Gi");
    fx_node(f->s, "b", "2", "16Gi");
    running(f->s, "low-a", "2", 0, "", "a", 0);
    running(f->s, "low-b", "2", 0, "", "b", 0);
    fx_pod_full(f->s, "app-driver", "1", "1Gi", GANG("app", "3") DRIVER, RESERVATION("2", ""), ",\"priority\":100",
                "", NULL, NULL);
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    assert_string_equal(victims(&f->out), "low-a,low-b");
    assert_int_equal(f->out.n_nominations, 1); /* the driver: slots are not pods */
    fx_delete_pod(f->s, "low-a");
    fx_delete_pod(f->s, "low-b");
    kn_sched_out_reset(&f->out);
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 1);
    assert_non_null(fx_node_of(&f->out, "app-driver"));
    assert_non_null(fx_event(&f->out, "app-driver", "GangReserved"));
    kn_sched_stats st;
    kn_sched_get_stats(f->s, &st);
    assert_int_equal(st.slots_held, 2);
}

/* ---- held executor slots ---- */

/* A lower-priority driver's slots on a: (1 driver + 2 slots) of 4 cpus. */
static void low_driver_with_slots_on_a(fx_sched *f)
{
    fx_node(f->s, "a", "4", "16Gi");
    /* its slots may go anywhere (their own constraints: none), the driver only on a */
    fx_pod_full(f->s, "low-driver", "1", "1Gi", GANG("low", "3") DRIVER,
                RESERVATION("2", ",\\\"tolerations\\\":[]"),
                ",\"nodeSelector\":{\"kubernetes.io/hostname\":\"a\"}", "", NULL, NULL);
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 1);
    kn_sched_out_reset(&f->out);
}

static void test_held_slots_move_instead_of_evicting(void **state)
{
    fx_sched *f = *state;
    low_driver_with_slots_on_a(f);
    fx_node(f->s, "b", "2", "16Gi");
    /* 3 cpus: a has 1 free, b 2; with the slots moved to b, a has 3 */
    pending(f->s, "high", "3", 100, "", "");
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 0);
    assert_int_equal(f->out.n_victims, 0);
    assert_string_equal(nominated(&f->out, "high"), "a");
    kn_sched_out_reset(&f->out);
    assert_int_equal(fx_cycle(f->s, 3, &f->out), 1);
    assert_string_equal(fx_node_of(&f->out, "high"), "a");
    /* the slots still wait for the driver's executors, on b */
    kn_sched_stats st;
    kn_sched_get_stats(f->s, &st);
    assert_int_equal(st.slots_held, 2);
    assert_int_equal(st.cpu_milli_used, 6000);
    fx_pod_full(f->s, "low-exec-1", "1", "1Gi", GANG("low", "3"), "", "", "", NULL, NULL);
    assert_int_equal(fx_cycle(f->s, 4, &f->out), 1);
    assert_string_equal(fx_node_of(&f->out, "low-exec-1"), "b");
}

static void test_slots_that_cannot_move_go_with_their_gang(void **state)
{
    fx_sched *f = *state;
    low_driver_with_slots_on_a(f);
    fx_node(f->s, "b", "1", "16Gi");
    pending(f->s, "high", "3", 100, "", "");
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 0);
    assert_string_equal(victims(&f->out), "low-driver");
    assert_string_equal(f->out.victims[0].gang, "default/low");
    /* its reservation is released at once: nothing is held for a dying gang */
    kn_sched_stats st;
    kn_sched_get_stats(f->s, &st);
    assert_int_equal(st.slots_held, 0);
}

/* ---- the nominated room ---- */

static void test_nominated_room_is_held_from_pods_of_its_priority(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "a", "4", "16Gi");
    running(f->s, "low", "4", 0, "", "a", 0);
    /* older than high, same priority, but may not preempt */
    pending(f->s, "polite", "4", 100, "", ",\"preemptionPolicy\":\"Never\"");
    pending(f->s, "high", "4", 100, "", "");
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    assert_string_equal(nominated(&f->out, "high"), "a");
    fx_delete_pod(f->s, "low");
    kn_sched_out_reset(&f->out);
    /* polite comes first in the queue (older) and does not get the room */
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 1);
    assert_string_equal(fx_node_of(&f->out, "high"), "a");
    assert_null(fx_node_of(&f->out, "polite"));
}

static void test_higher_priority_pod_ignores_the_nominated_room(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "a", "4", "16Gi");
    running(f->s, "low", "4", 0, "", "a", 0);
    pending(f->s, "high", "4", 100, "", "");
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    fx_delete_pod(f->s, "low");
    pending(f->s, "critical", "4", 1000, "", "");
    kn_sched_out_reset(&f->out);
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 1);
    assert_string_equal(fx_node_of(&f->out, "critical"), "a");
    /* high cannot preempt critical: its nomination is cleared */
    assert_null(fx_node_of(&f->out, "high"));
    bool cleared = false;
    for (size_t i = 0; i < f->out.n_nominations; i++)
        cleared =
            cleared || (strcmp(f->out.nominations[i].name, "high") == 0 && f->out.nominations[i].node == NULL);
    assert_true(cleared);
}

/* A pending pod asking for a host port, as its updates bring it (the
 * nomination's write among them). */
static void pending_with_port(kn_scheduler *s, const char *name, int rv)
{
    kn_json *p = fx_parse(
        "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\",\"uid\":\"uid-%s\",\"resourceVersion\":\"%d\","
        "\"creationTimestamp\":\"2026-11-24T09:00:00Z\"},\"spec\":{\"schedulerName\":\"kubenexus-scheduler\","
        "\"priority\":100,\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":80,\"hostPort\":8080}],"
        "\"resources\":{\"requests\":{\"cpu\":\"2\",\"memory\":\"1Gi\"}}}]},\"status\":{\"phase\":\"Pending\"}}",
        name, name, rv);
    kn_err err = {{0}};
    assert_int_equal(kn_sched_apply_pod(s, p, false, &err), 0);
    kn_json_free(p);
}

/* The held room keeps the preemptor's host port, through the pod's updates. */
static void test_nominated_room_keeps_the_host_port(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "a", "4", "16Gi");
    running(f->s, "low", "4", 0, "", "a", 0);
    pending_with_port(f->s, "web", 1);
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    assert_string_equal(nominated(&f->out, "web"), "a");
    pending_with_port(f->s, "web", 2); /* status.nominatedNodeName written */
    fx_delete_pod(f->s, "low");
    /* another pod of the same port and priority, older, arrives: the port is held */
    kn_json *p = fx_parse("{\"metadata\":{\"name\":\"rival\",\"namespace\":\"default\",\"uid\":\"uid-rival\","
                          "\"creationTimestamp\":\"2026-11-24T08:00:00Z\"},\"spec\":{\"schedulerName\":"
                          "\"kubenexus-scheduler\",\"priority\":100,\"preemptionPolicy\":\"Never\",\"containers\":"
                          "[{\"name\":\"c\",\"ports\":[{\"containerPort\":80,\"hostPort\":8080}],\"resources\":"
                          "{\"requests\":{\"cpu\":\"1\"}}}]},\"status\":{\"phase\":\"Pending\"}}");
    kn_err err = {{0}};
    assert_int_equal(kn_sched_apply_pod(f->s, p, false, &err), 0);
    kn_json_free(p);
    kn_sched_out_reset(&f->out);
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 1);
    assert_string_equal(fx_node_of(&f->out, "web"), "a");
    assert_null(fx_node_of(&f->out, "rival"));
}

static void test_failed_eviction_drops_the_nomination(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "a", "4", "16Gi");
    running(f->s, "low", "4", 0, "", "a", 0);
    pending(f->s, "high", "4", 100, "", "");
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    kn_sched_out_reset(&f->out);
    kn_sched_preempt_failed(f->s, "uid-low", "pods \"low\" is forbidden", 2, &f->out);
    const kn_sched_event *e = fx_event(&f->out, "high", "FailedScheduling");
    assert_non_null(e);
    assert_string_equal(e->message, "Preemption failed: pods \"low\" is forbidden");
    kn_sched_stats st;
    kn_sched_get_stats(f->s, &st);
    assert_int_equal(st.nominated, 0);
    assert_int_equal(st.cpu_milli_used, 4000); /* the held room is released */
    /* tried again: low is a victim again */
    kn_sched_out_reset(&f->out);
    assert_int_equal(fx_cycle(f->s, 3, &f->out), 0);
    assert_string_equal(victims(&f->out), "low");
}

static void test_second_preemptor_shares_a_terminating_victim(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "a", "4", "16Gi");
    running(f->s, "low", "4", 0, "", "a", 0);
    pending(f->s, "one", "2", 100, "", "");
    pending(f->s, "two", "2", 100, "", "");
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    /* low is evicted once, and both are nominated to its room */
    assert_string_equal(victims(&f->out), "low");
    assert_string_equal(nominated(&f->out, "one"), "a");
    assert_string_equal(nominated(&f->out, "two"), "a");
    fx_delete_pod(f->s, "low");
    kn_sched_out_reset(&f->out);
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 2);
}

/* The preemptor's volumes filter the candidates as they filter nodes: its
 * WaitForFirstConsumer claim's class provisions on node b only, so b's pod
 * is evicted though a comes first by name; a claim that does not exist
 * makes preemption not helpful (nobody evicted). */
static void test_claims_narrow_the_candidates(void **state)
{
    fx_sched *f = *state;
    kn_scheduler *s = f->s;
    fx_node(s, "a", "2", "16Gi");
    fx_node(s, "b", "2", "16Gi");
    fx_sclass(s, "local-b", "WaitForFirstConsumer", "ebs.csi.aws.com",
              ",\"allowedTopologies\":[{\"matchLabelExpressions\":[{\"key\":\"kubernetes.io/hostname\","
              "\"values\":[\"b\"]}]}]");
    fx_pvc(s, "data", "local-b", "10Gi", "", "", "Pending");
    running(s, "on-a", "2", 5, "", "a", 10);
    running(s, "on-b", "2", 5, "", "b", 10);
    pending(s, "high", "2", 100, "",
            ",\"volumes\":[{\"name\":\"d\",\"persistentVolumeClaim\":{\"claimName\":\"data\"}}]");
    pending(s, "lost", "2", 100, "",
            ",\"volumes\":[{\"name\":\"d\",\"persistentVolumeClaim\":{\"claimName\":\"nope\"}}]");
    assert_int_equal(fx_cycle(s, 1, &f->out), 0);
    assert_string_equal(victims(&f->out), "on-b");
    assert_string_equal(nominated(&f->out, "high"), "b");
    assert_null(nominated(&f->out, "lost"));
    fx_expect_failed(&f->out, "lost", "0/2 nodes are available: persistentvolumeclaim \"nope\" not found.");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        fx_sched_test(test_higher_priority_pod_preempts_and_binds_once_victim_is_gone),
        fx_sched_test(test_anti_affinity_is_lifted_by_evicting_its_target),
        fx_sched_test(test_no_victim_of_equal_or_higher_priority),
        fx_sched_test(test_no_lower_priority_pod_anywhere_leaves_the_message_alone),
        fx_sched_test(test_preemption_policy_never),
        fx_sched_test(test_minimal_victims_highest_priority_reprieved_first),
        fx_sched_test(test_choice_fewest_budget_violations),
        fx_sched_test(test_choice_budget_with_room_is_no_violation),
        fx_sched_test(test_choice_disrupted_pod_is_no_violation),
        fx_sched_test(test_choice_lowest_highest_priority),
        fx_sched_test(test_choice_smallest_priority_sum),
        fx_sched_test(test_choice_fewest_victims),
        fx_sched_test(test_choice_latest_start_of_highest_priority_victims),
        fx_sched_test(test_choice_tie_goes_to_the_first_node_name),
        fx_sched_test(test_budget_protected_victim_reprieved_first),
        fx_sched_test(test_gang_victim_takes_its_whole_gang),
        fx_sched_test(test_gang_with_a_member_of_higher_priority_is_no_victim),
        fx_sched_test(test_members_beyond_min_available_go_first_then_the_gang),
        fx_sched_test(test_podgroup_gang_keeps_its_min_member),
        fx_sched_test(test_spark_driver_without_gang_goes_with_its_executors),
        fx_sched_test(test_gang_preemptor_gets_room_for_all_or_evicts_nobody),
        fx_sched_test(test_gang_preemptor_evicts_then_binds_all),
        fx_sched_test(test_driver_preempts_for_itself_and_every_slot),
        fx_sched_test(test_held_slots_move_instead_of_evicting),
        fx_sched_test(test_slots_that_cannot_move_go_with_their_gang),
        fx_sched_test(test_nominated_room_is_held_from_pods_of_its_priority),
        fx_sched_test(test_higher_priority_pod_ignores_the_nominated_room),
        fx_sched_test(test_nominated_room_keeps_the_host_port),
        fx_sched_test(test_failed_eviction_drops_the_nomination),
        fx_sched_test(test_second_preemptor_shares_a_terminating_victim),
        fx_sched_test(test_claims_narrow_the_candidates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
