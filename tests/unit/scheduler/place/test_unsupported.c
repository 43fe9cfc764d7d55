/* Nothing of scheduling meaning in a pod spec is ignored silently: a field
 * kube-scheduler honours and this scheduler does not implement leaves the
 * pod (and its gang) pending with FailedScheduling "unsupported: <field>",
 * counted per field; scheduling gates hold a pod back without a word, as
 * kube-scheduler's SchedulingGates; a pod with spec.nodeName is not ours to
 * place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/sched_fixtures.h"

#define GANG(name, n)                                                                                             \
    "\"pod-group.scheduling.kubenexus.io/name\":\"" name                                                          \
    "\",\"pod-group.scheduling.kubenexus.io/min-available\":\"" n "\""

static uint64_t unsupported_count(kn_scheduler *s, int field)
{
    kn_sched_stats st;
    kn_sched_get_stats(s, &st);
    return st.unsupported[field];
}

static size_t events_of(const kn_sched_out *out, const char *pod)
{
    size_t n = 0;
    for (size_t i = 0; i < out->n_events; i++)
        n += strcmp(out->events[i].name, pod) == 0;
    return n;
}

typedef struct field_case {
    const char *spec; /* spec members */
    int field;
    const char *message;
} field_case;

static const field_case fields[] = {
    {"\"volumes\":[{\"name\":\"scratch\",\"emptyDir\":{}},{\"name\":\"pd\",\"gcePersistentDisk\":"
     "{\"pdName\":\"pd-1\"}}]",
     KN_PODF_VOL_GCE_PD, "unsupported: spec.volumes.gcePersistentDisk"},
    {"\"volumes\":[{\"name\":\"disk\",\"awsElasticBlockStore\":{\"volumeID\":\"vol-1\"}}]", KN_PODF_VOL_AWS_EBS,
     "unsupported: spec.volumes.awsElasticBlockStore"},
    {"\"resourceClaims\":[{\"name\":\"gpu\",\"resourceClaimTemplateName\":\"gpu\"}]", KN_PODF_RESOURCE_CLAIMS,
     "unsupported: spec.resourceClaims"},
};

/* Each field: the pod stays pending with the reason, counted once however
 * many cycles see it. */
static void test_each_unsupported_field(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        fx_sched *f = fx_sched_new(NULL);
        char spec[1024];
        snprintf(spec, sizeof(spec), ",%s", fields[i].spec);
        fx_node(f->s, "node-a", "8", "32Gi");
        fx_pod_full(f->s, "pod", "1", "1Gi", "", "", spec, "", NULL, NULL);
        assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
        fx_expect_failed(&f->out, "pod", fields[i].message);
        fx_node(f->s, "node-b", "8", "32Gi"); /* a change: tried again */
        assert_int_equal(fx_cycle(f->s, 100, &f->out), 0);
        assert_null(fx_node_of(&f->out, "pod"));
        assert_int_equal(unsupported_count(f->s, fields[i].field), 1);
        fx_sched_free(f);
    }
}

/* A field that says nothing (an empty list, an empty podAffinity) is no reason. */
static void test_empty_fields_are_no_reason(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "node-a", "8", "32Gi");
    fx_pod_full(
        f->s, "pod", "1", "1Gi", "", "",
        ",\"affinity\":{\"podAffinity\":{},\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution"
        "\":[]}},\"topologySpreadConstraints\":[],\"resourceClaims\":[],\"volumes\":[{\"name\":\"c\","
        "\"configMap\":{\"name\":\"c\"}}]",
        "", NULL, NULL);
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 1);
}

/* A gang with such a member waits whole: no member is bound, the member is
 * told which field, the others why. */
static void test_gang_waits_whole(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "node-a", "8", "32Gi");
    fx_pod_full(f->s, "job-0", "1", "1Gi", GANG("job", "3"), "", "", "", NULL, NULL);
    fx_pod_full(f->s, "job-1", "1", "1Gi", GANG("job", "3"), "",
                ",\"resourceClaims\":[{\"name\":\"gpu\",\"resourceClaimTemplateName\":\"gpu\"}]", "", NULL, NULL);
    fx_pod_full(f->s, "job-2", "1", "1Gi", GANG("job", "3"), "", "", "", NULL, NULL);
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    fx_expect_failed(&f->out, "job-1", "unsupported: spec.resourceClaims");
    fx_expect_failed(&f->out, "job-0",
                     "Gang default/job: member default/job-1 is unsupported: spec.resourceClaims; none bound.");
    fx_expect_failed(&f->out, "job-2",
                     "Gang default/job: member default/job-1 is unsupported: spec.resourceClaims; none bound.");
    assert_int_equal(unsupported_count(f->s, KN_PODF_RESOURCE_CLAIMS), 1);

    /* the member goes (a spec cannot drop the field): one without it completes the gang */
    fx_delete_pod(f->s, "job-1");
    fx_pod_full(f->s, "job-3", "1", "1Gi", GANG("job", "3"), "", "", "", NULL, NULL);
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 3);
}

/* Pod affinity, anti-affinity and topology spreading are implemented now,
 * for pods and for executor slots alike: a pod setting them is placed, and a
 * driver whose reservation's slots are anti-affine to each other is bound
 * with its slots on different nodes. */
static void slot_nodes(void *ctx, const kn_sched_resv_info *r)
{
    char *out = ctx;
    for (int i = 0; i < r->slots; i++)
        snprintf(out + strlen(out), 64, "%s%s", i ? "," : "", r->slot_nodes[i]);
}

static void test_pod_relations_are_supported(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "node-a", "8", "32Gi");
    fx_node(f->s, "node-b", "8", "32Gi");
    fx_pod_full(
        f->s, "pi-driver", "1", "1Gi", GANG("pi", "3") ",\"spark-role\":\"driver\"",
        "\"scheduling.kubenexus.io/executor-reservation\":\"{\\\"count\\\":2,\\\"requests\\\":{\\\"cpu\\\":"
        "\\\"1\\\"},\\\"affinity\\\":{\\\"podAntiAffinity\\\":{\\\"requiredDuringSchedulingIgnoredDuringExecution"
        "\\\":[{\\\"labelSelector\\\":{\\\"matchLabels\\\":{\\\"spark-role\\\":\\\"executor\\\"}},"
        "\\\"topologyKey\\\":\\\"kubernetes.io/hostname\\\"}]}}}\"",
        "", "", NULL, NULL);
    fx_pod_full(
        f->s, "web", "1", "1Gi", "\"app\":\"web\"", "",
        ",\"affinity\":{\"podAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[{\"labelSelector\":"
        "{\"matchLabels\":{\"app\":\"web\"}},\"topologyKey\":\"kubernetes.io/hostname\"}]}},"
        "\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":\"kubernetes.io/hostname\","
        "\"whenUnsatisfiable\":\"DoNotSchedule\",\"labelSelector\":{\"matchLabels\":{\"app\":\"web\"}}}]",
        "", NULL, NULL);
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 2);
    assert_non_null(fx_node_of(&f->out, "pi-driver"));
    assert_non_null(fx_node_of(&f->out, "web"));
    char nodes[256] = "";
    kn_sched_each_reservation(f->s, slot_nodes, nodes);
    assert_true(strcmp(nodes, "node-a,node-b") == 0 || strcmp(nodes, "node-b,node-a") == 0);
    for (int field = KN_PODF_POD_AFFINITY; field <= KN_PODF_TOPOLOGY_SPREAD; field++)
        assert_int_equal(unsupported_count(f->s, field), 0);
}

/* Gated pods are not attempted and get no event (kube-scheduler's
 * SchedulingGates); once the gates are removed they are placed. A gated gang
 * member is not there yet: the gang waits for it. */
static void test_scheduling_gates(void **state)
{
    fx_sched *f = *state;
    const char *gated = ",\"schedulingGates\":[{\"name\":\"example.com/quota\"}]";
    fx_node(f->s, "node-a", "8", "32Gi");
    fx_pod_full(f->s, "held", "1", "1Gi", "", "", gated, "", NULL, NULL);
    fx_pod_full(f->s, "g-0", "1", "1Gi", GANG("g", "2"), "", "", "", NULL, NULL);
    fx_pod_full(f->s, "g-1", "1", "1Gi", GANG("g", "2"), "", gated, "", NULL, NULL);
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    assert_int_equal(events_of(&f->out, "held"), 0);
    assert_int_equal(events_of(&f->out, "g-1"), 0);
    const kn_sched_event *e = fx_event(&f->out, "g-0", "GangWaiting");
    assert_non_null(e);
    assert_non_null(strstr(e->message, "1 of 2 members present"));
    kn_sched_stats st;
    kn_sched_get_stats(f->s, &st);
    assert_int_equal(st.attempts, 1); /* the gang's; never the gated pods' */
    assert_int_equal(st.pods_pending, 3);

    /* the gates are removed (the pods are updated, as by their controller) */
    fx_pod_full(f->s, "held", "1", "1Gi", "", "", "", "", NULL, NULL);
    fx_pod_full(f->s, "g-1", "1", "1Gi", GANG("g", "2"), "", "", "", NULL, NULL);
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 3);
    assert_string_equal(fx_node_of(&f->out, "held"), "node-a");
    assert_string_equal(fx_node_of(&f->out, "g-1"), "node-a");
}

/* A pod of ours with spec.nodeName is already placed: never bound by us, and
 * counted on its node. */
static void test_node_name_set_is_not_ours_to_place(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "node-a", "2", "8Gi");
    fx_pod_full(f->s, "pinned", "2", "1Gi", "", "", "", "", "node-a", NULL);
    fx_pod(f->s, "next", "1", "1Gi");
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    assert_null(fx_node_of(&f->out, "pinned"));
    fx_expect_failed(&f->out, "next", "0/1 nodes are available: 1 Insufficient cpu.");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_unsupported_field), fx_sched_test(test_empty_fields_are_no_reason),
        fx_sched_test(test_gang_waits_whole),          fx_sched_test(test_pod_relations_are_supported),
        fx_sched_test(test_scheduling_gates),          fx_sched_test(test_node_name_set_is_not_ours_to_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
