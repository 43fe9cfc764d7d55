/* The Priority admission plugin as simulate applies it: what priority and
 * preemptionPolicy a pod gets from its PriorityClass, and the refusals worded
 * as kube-apiserver words them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/sched_fixtures.h"

#include "sim/priority.h"

static void add(kn_sim_priorities *p, const char *doc)
{
    kn_json *j = fx_parse("%s", doc);
    kn_err err = {{0}};
    if (kn_sim_priority_add(p, j, &err) != 0)
        fail_msg("%s: %s", doc, err.msg);
    kn_json_free(j);
}

/* Admits spec (JSON members) of pod "p": returns the denial (static) or NULL,
 * and the resulting spec.priority / preemptionPolicy. */
static const char *admit(const kn_sim_priorities *p, const char *spec, int64_t *prio, char *policy, size_t cap)
{
    static char denial[512];
    char doc[512];
    snprintf(doc, sizeof(doc), "{\"metadata\":{\"name\":\"p\"},\"spec\":{%s}}", spec);
    kn_json *pod = fx_parse("%s", doc);
    char *d = NULL;
    int rc = kn_sim_priority_admit(p, pod, &d);
    assert_true(rc >= 0);
    *prio = -1;
    kn_json_int(kn_json_dig(pod, "spec", "priority", NULL), prio);
    snprintf(policy, cap, "%s", kn_json_str(kn_json_dig(pod, "spec", "preemptionPolicy", NULL)) ?: "");
    kn_json_free(pod);
    if (rc == 0)
        return NULL;
    snprintf(denial, sizeof(denial), "%s", d);
    free(d);
    return denial;
}

static void test_classes(void **state)
{
    (void)state;
    kn_sim_priorities p;
    kn_sim_priorities_init(&p);
    add(&p, "{\"metadata\":{\"name\":\"spark-high-priority\"},\"value\":1000000}");
    add(&p, "{\"metadata\":{\"name\":\"polite\"},\"value\":500,\"preemptionPolicy\":\"Never\"}");
    int64_t prio;
    char pol[32];
    assert_null(admit(&p, "\"priorityClassName\":\"spark-high-priority\"", &prio, pol, sizeof(pol)));
    assert_int_equal(prio, 1000000);
    assert_string_equal(pol, "PreemptLowerPriority");
    assert_null(admit(&p, "\"priorityClassName\":\"polite\"", &prio, pol, sizeof(pol)));
    assert_int_equal(prio, 500);
    assert_string_equal(pol, "Never");
    assert_null(admit(&p, "\"priorityClassName\":\"system-node-critical\"", &prio, pol, sizeof(pol)));
    assert_int_equal(prio, 2000001000);
    /* no class, no default: as it was */
    assert_null(admit(&p, "\"priority\":0", &prio, pol, sizeof(pol)));
    assert_int_equal(prio, 0);
    assert_string_equal(admit(&p, "\"priorityClassName\":\"gold\"", &prio, pol, sizeof(pol)),
                        "pods \"p\" is forbidden: no PriorityClass with name gold was found");
    assert_string_equal(admit(&p, "\"priorityClassName\":\"polite\",\"priority\":7", &prio, pol, sizeof(pol)),
                        "pods \"p\" is forbidden: the integer value of priority (7) must not be provided in pod "
                        "spec; priority admission controller computed 500 from the given PriorityClass name");
    assert_string_equal(
        admit(&p, "\"priorityClassName\":\"polite\",\"preemptionPolicy\":\"PreemptLowerPriority\"", &prio, pol,
              sizeof(pol)),
        "pods \"p\" is forbidden: the string value of PreemptionPolicy (PreemptLowerPriority) must "
        "not be provided in pod spec; priority admission controller computed Never from the given "
        "PriorityClass name");
    kn_sim_priorities_free(&p);
}

static void test_global_default_lowest_wins(void **state)
{
    (void)state;
    kn_sim_priorities p;
    kn_sim_priorities_init(&p);
    add(&p, "{\"metadata\":{\"name\":\"d2\"},\"value\":20,\"globalDefault\":true}");
    add(&p, "{\"metadata\":{\"name\":\"d1\"},\"value\":10,\"globalDefault\":true}");
    int64_t prio;
    char pol[32];
    assert_null(admit(&p, "\"containers\":[]", &prio, pol, sizeof(pol)));
    assert_int_equal(prio, 10);
    kn_sim_priorities_free(&p);
}

static void test_bad_classes(void **state)
{
    (void)state;
    kn_sim_priorities p;
    kn_sim_priorities_init(&p);
    static const char *const bad[][2] = {
        {"{\"metadata\":{},\"value\":1}", "metadata.name is missing"},
        {"{\"metadata\":{\"name\":\"x\"},\"value\":\"1\"}", "value: want an integer"},
        {"{\"metadata\":{\"name\":\"x\"},\"value\":2000000000}", "value: want an integer of at most 1000000000"},
        {"{\"metadata\":{\"name\":\"system-cluster-critical\"},\"value\":1}", "reserved"},
        {"{\"metadata\":{\"name\":\"x\"},\"value\":1,\"preemptionPolicy\":\"Sometimes\"}", "preemptionPolicy"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        kn_json *j = fx_parse("%s", bad[i][0]);
        kn_err err = {{0}};
        assert_int_equal(kn_sim_priority_add(&p, j, &err), -1);
        if (strstr(err.msg, bad[i][1]) == NULL)
            fail_msg("%s: \"%s\" lacks \"%s\"", bad[i][0], err.msg, bad[i][1]);
        kn_json_free(j);
    }
    kn_sim_priorities_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_global_default_lowest_wins),
        cmocka_unit_test(test_bad_classes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
