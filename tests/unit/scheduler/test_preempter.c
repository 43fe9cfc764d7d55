/* test_preempter.c - the bodies of a preemption's writes, field by field, as
 * kube-scheduler sends them: the victim's DisruptionTarget condition, its
 * DeleteOptions, the preemptor's nominatedNodeName. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "scheduler/preempter.h"

static kn_json *parse(char *text)
{
    assert_non_null(text);
    kn_json *j = kn_json_parse(text, strlen(text), NULL, NULL);
    free(text);
    assert_non_null(j);
    return j;
}

static void disruption_condition(void **state)
{
    (void)state;
    kn_json *j = parse(kn_disruption_patch_json("kubenexus-scheduler", 1795514400.0));
    const kn_json *conds = kn_json_dig(j, "status", "conditions", NULL);
    assert_int_equal(kn_json_len(conds), 1);
    const kn_json *c = kn_json_at(conds, 0);
    assert_string_equal(kn_json_get_str(c, "type"), "DisruptionTarget");
    assert_string_equal(kn_json_get_str(c, "status"), "True");
    assert_string_equal(kn_json_get_str(c, "reason"), "PreemptionByScheduler");
    assert_string_equal(kn_json_get_str(c, "message"),
                        "kubenexus-scheduler: preempting to accommodate a higher priority pod");
    assert_string_equal(kn_json_get_str(c, "lastTransitionTime"), "2026-11-24T10:00:00Z");
    assert_int_equal(kn_json_len(j), 1); /* status only */
    kn_json_free(j);
}

static void delete_options(void **state)
{
    (void)state;
    kn_json *j = parse(kn_delete_options_json("uid-1", 45));
    assert_string_equal(kn_json_get_str(j, "kind"), "DeleteOptions");
    assert_string_equal(kn_json_get_str(j, "apiVersion"), "v1");
    int64_t g = -1;
    assert_int_equal(kn_json_int(kn_json_get(j, "gracePeriodSeconds"), &g), 0);
    assert_int_equal(g, 45);
    assert_string_equal(kn_json_str(kn_json_dig(j, "preconditions", "uid", NULL)), "uid-1");
    kn_json_free(j);
    /* unknown grace period: the pod's own (the API server reads its spec) */
    j = parse(kn_delete_options_json("uid-1", -1));
    assert_null(kn_json_get(j, "gracePeriodSeconds"));
    kn_json_free(j);
    /* zero is the pod's wish too: sent as is */
    j = parse(kn_delete_options_json("uid-1", 0));
    assert_int_equal(kn_json_int(kn_json_get(j, "gracePeriodSeconds"), &g), 0);
    assert_int_equal(g, 0);
    kn_json_free(j);
}

static void nomination(void **state)
{
    (void)state;
    kn_json *j = parse(kn_nomination_patch_json("node-a"));
    assert_string_equal(kn_json_str(kn_json_dig(j, "status", "nominatedNodeName", NULL)), "node-a");
    kn_json_free(j);
    j = parse(kn_nomination_patch_json(NULL));
    assert_true(kn_json_is(kn_json_dig(j, "status", "nominatedNodeName", NULL), KN_JSON_NULL));
    kn_json_free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(disruption_condition),
        cmocka_unit_test(delete_options),
        cmocka_unit_test(nomination),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
