/* PodGroup objects of both kinds as the API server serves them, read for a gang. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "spark/podgroup.h"

static kn_json *pg_obj(const char *api, const char *ns, const char *name, const char *spec)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "{\"apiVersion\":\"%s\",\"kind\":\"PodGroup\",\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\","
             "\"uid\":\"u-1\",\"resourceVersion\":\"7\"},\"spec\":%s,\"status\":{\"phase\":\"Pending\"}}",
             api, ns, name, spec);
    kn_err err = {{0}};
    kn_json *v = kn_json_parse(text, strlen(text), NULL, &err);
    if (v == NULL)
        fail_msg("fixture does not parse: %s", err.msg);
    return v;
}

static int parse_cosched(const char *spec, kn_podgroup *out, kn_err *err, kn_json **obj)
{
    *obj = pg_obj("scheduling.x-k8s.io/v1alpha1", "spark", "spark-pi-pg", spec);
    return kn_podgroup_parse(*obj, KN_GANG_COSCHEDULING, out, err);
}

static void test_coscheduling_podgroup(void **state)
{
    (void)state;
    kn_podgroup pg;
    kn_err err = {{0}};
    kn_json *o;
    /* as the Spark Operator's kube-scheduler integration writes it */
    assert_int_equal(parse_cosched("{\"minMember\":1,\"minResources\":{\"cpu\":\"4\",\"memory\":\"3456Mi\"},"
                                   "\"scheduleTimeoutSeconds\":30}",
                                   &pg, &err, &o),
                     0);
    assert_string_equal(pg.ns, "spark");
    assert_string_equal(pg.name, "spark-pi-pg");
    assert_int_equal(pg.kind, KN_GANG_COSCHEDULING);
    assert_int_equal(pg.min_member, 1);
    assert_non_null(pg.min_resources);
    assert_string_equal(kn_json_get_str(pg.min_resources, "memory"), "3456Mi");
    assert_int_equal(pg.timeout_s, 30);
    kn_json_free(o);
    /* unset fields: the Go zero values, as the plugin reads them */
    assert_int_equal(parse_cosched("{}", &pg, &err, &o), 0);
    assert_int_equal(pg.min_member, 1);
    assert_null(pg.min_resources);
    assert_int_equal(pg.timeout_s, 0);
    kn_json_free(o);
    assert_int_equal(parse_cosched("{\"minMember\":0,\"scheduleTimeoutSeconds\":-5}", &pg, &err, &o), 0);
    assert_int_equal(pg.min_member, 1);
    assert_int_equal(pg.timeout_s, 0);
    kn_json_free(o);
    assert_int_equal(parse_cosched("{\"minMember\":10000}", &pg, &err, &o), 0);
    assert_int_equal(pg.min_member, 10000);
    kn_json_free(o);
}

static void test_volcano_podgroup(void **state)
{
    (void)state;
    kn_podgroup pg;
    kn_err err = {{0}};
    kn_json *o = pg_obj("scheduling.volcano.sh/v1beta1", "default", "spark-spark-pi-pg",
                        "{\"minMember\":1,\"minResources\":{\"cpu\":\"4\"},\"queue\":\"default\","
                        "\"scheduleTimeoutSeconds\":30}");
    assert_int_equal(kn_podgroup_parse(o, KN_GANG_VOLCANO, &pg, &err), 0);
    assert_int_equal(pg.kind, KN_GANG_VOLCANO);
    assert_int_equal(pg.min_member, 1);
    assert_non_null(pg.min_resources);
    assert_int_equal(pg.timeout_s, 0); /* not a Volcano field */
    kn_json_free(o);
}

static void expect_bad(const char *spec, const char *want)
{
    kn_podgroup pg;
    kn_err err = {{0}};
    kn_json *o;
    assert_int_equal(parse_cosched(spec, &pg, &err, &o), -1);
    if (strstr(err.msg, want) == NULL)
        fail_msg("spec %s: error \"%s\" does not contain \"%s\"", spec, err.msg, want);
    /* the identity stays, so a gang naming it is told why */
    assert_string_equal(pg.name, "spark-pi-pg");
    kn_json_free(o);
}

static void test_bad_spec(void **state)
{
    (void)state;
    expect_bad("{\"minMember\":-1}", "PodGroup spark/spark-pi-pg (scheduling.x-k8s.io/v1alpha1): spec.minMember "
                                     "is -1, want an integer from 0 to 10000");
    expect_bad("{\"minMember\":10001}", "spec.minMember is 10001");
    expect_bad("{\"minMember\":\"3\"}", "spec.minMember is \"3\", want an integer");
    expect_bad("{\"minMember\":2.5}", "spec.minMember is 2.5");
    expect_bad("{\"scheduleTimeoutSeconds\":604801}", "spec.scheduleTimeoutSeconds is 604801, want an integer "
                                                      "from -2147483648 to 604800");
    expect_bad("{\"minResources\":[1]}", "spec.minResources is an array, want an object");
    expect_bad("[]", "spec is not an object");
    char big[400];
    snprintf(big, sizeof(big), "{\"minMember\":\"%0300d\"}", 1);
    kn_podgroup pg;
    kn_err err = {{0}};
    kn_json *o;
    assert_int_equal(parse_cosched(big, &pg, &err, &o), -1);
    assert_true(strlen(err.msg) < 200); /* the value is cut in the message */
    kn_json_free(o);
}

static void test_bad_identity(void **state)
{
    (void)state;
    kn_podgroup pg;
    kn_err err = {{0}};
    kn_json *o = pg_obj("scheduling.x-k8s.io/v1alpha1", "", "pg", "{}");
    assert_int_equal(kn_podgroup_ident(o, KN_GANG_COSCHEDULING, &pg, &err), -1);
    assert_string_equal(err.msg, "PodGroup (scheduling.x-k8s.io/v1alpha1): metadata.namespace is missing");
    assert_null(pg.ns);
    kn_json_free(o);
    o = pg_obj("scheduling.volcano.sh/v1beta1", "ns", "Bad_Name", "{}");
    assert_int_equal(kn_podgroup_parse(o, KN_GANG_VOLCANO, &pg, &err), -1);
    assert_string_equal(err.msg, "PodGroup (scheduling.volcano.sh/v1beta1): metadata.name is \"Bad_Name\", "
                                 "not a legal name");
    kn_json_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coscheduling_podgroup),
        cmocka_unit_test(test_volcano_podgroup),
        cmocka_unit_test(test_bad_spec),
        cmocka_unit_test(test_bad_identity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
