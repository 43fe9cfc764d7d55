/* Gang labels as users write them on SparkApplication driver/executor specs,
 * and the PodGroups a pod names by the coscheduling label or Volcano's
 * annotation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "spark/gang.h"

static kn_json *parse(const char *text)
{
    kn_err err = {{0}};
    kn_json *v = kn_json_parse(text, strlen(text), NULL, &err);
    if (v == NULL)
        fail_msg("fixture does not parse: %s", err.msg);
    return v;
}

/* Runs kn_gang_from_labels on a labels object given as JSON text. */
static int gang(const char *labels, kn_gang_spec *out, kn_err *err)
{
    kn_json *l = parse(labels);
    int rc = kn_gang_from_labels(l, out, err);
    kn_json_free(l);
    return rc;
}

static void expect_error(const char *labels, const char *want)
{
    kn_gang_spec g;
    kn_err err = {{0}};
    assert_int_equal(gang(labels, &g, &err), -1);
    if (strstr(err.msg, want) == NULL)
        fail_msg("labels %s: error \"%s\" does not contain \"%s\"", labels, err.msg, want);
    assert_false(g.present);
}

static void test_kubenexus_labels(void **state)
{
    (void)state;
    kn_gang_spec g;
    kn_err err = {{0}};
    assert_int_equal(gang("{\"spark-role\":\"driver\","
                          "\"pod-group.scheduling.kubenexus.io/name\":\"spark-pi\","
                          "\"pod-group.scheduling.kubenexus.io/min-available\":\"4\"}",
                          &g, &err),
                     0);
    assert_true(g.present);
    assert_string_equal(g.name, "spark-pi");
    assert_int_equal(g.min_available, 4);
    assert_string_equal(g.name_label, KN_GANG_NAME_LABEL);
    assert_string_equal(g.min_label, KN_GANG_MIN_LABEL);
}

static void test_name_without_min_is_gang_of_one(void **state)
{
    (void)state;
    kn_gang_spec g;
    assert_int_equal(gang("{\"pod-group.scheduling.kubenexus.io/name\":\"etl\"}", &g, NULL), 0);
    assert_true(g.present);
    assert_string_equal(g.name, "etl");
    assert_int_equal(g.min_available, 1);
    assert_null(g.min_label);
}

static void test_sigs_labels_when_no_kubenexus_label(void **state)
{
    (void)state;
    kn_gang_spec g;
    assert_int_equal(gang("{\"pod-group.scheduling.sigs.k8s.io/name\":\"pg-1\","
                          "\"pod-group.scheduling.sigs.k8s.io/min-available\":\"3\"}",
                          &g, NULL),
                     0);
    assert_true(g.present);
    assert_string_equal(g.name, "pg-1");
    assert_int_equal(g.min_available, 3);
    assert_string_equal(g.name_label, KN_GANG_SIGS_NAME_LABEL);
    assert_string_equal(g.min_label, KN_GANG_SIGS_MIN_LABEL);
}

static void test_kubenexus_labels_win_over_sigs(void **state)
{
    (void)state;
    kn_gang_spec g;
    assert_int_equal(gang("{\"pod-group.scheduling.sigs.k8s.io/name\":\"old\","
                          "\"pod-group.scheduling.sigs.k8s.io/min-available\":\"9\","
                          "\"pod-group.scheduling.kubenexus.io/name\":\"new\"}",
                          &g, NULL),
                     0);
    assert_string_equal(g.name, "new");
    assert_int_equal(g.min_available, 1);
    assert_string_equal(g.name_label, KN_GANG_NAME_LABEL);
}

static void test_no_gang_labels(void **state)
{
    (void)state;
    kn_gang_spec g;
    assert_int_equal(gang("{\"spark-role\":\"executor\"}", &g, NULL), 0);
    assert_false(g.present);
    assert_int_equal(kn_gang_from_labels(NULL, &g, NULL), 0);
    assert_false(g.present);
    assert_int_equal(gang("{}", &g, NULL), 0);
    assert_false(g.present);
}

static void test_min_without_name(void **state)
{
    (void)state;
    expect_error("{\"pod-group.scheduling.kubenexus.io/min-available\":\"4\"}",
                 "label pod-group.scheduling.kubenexus.io/min-available is \"4\" but label "
                 "pod-group.scheduling.kubenexus.io/name is missing");
    expect_error("{\"pod-group.scheduling.sigs.k8s.io/min-available\":\"4\"}",
                 "label pod-group.scheduling.sigs.k8s.io/name is missing");
}

static void test_bad_min_available(void **state)
{
    (void)state;
    expect_error("{\"pod-group.scheduling.kubenexus.io/name\":\"a\","
                 "\"pod-group.scheduling.kubenexus.io/min-available\":\"0\"}",
                 "label pod-group.scheduling.kubenexus.io/min-available is \"0\", want a positive integer");
    static const char *const bad[] = {
        "04", "+4", "4.0", "1e1", " 4", "4 ", "", "-1", "four", "0x10", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char labels[256], want[128];
        snprintf(labels, sizeof(labels),
                 "{\"pod-group.scheduling.kubenexus.io/name\":\"a\","
                 "\"pod-group.scheduling.kubenexus.io/min-available\":\"%s\"}",
                 bad[i]);
        snprintf(want, sizeof(want), "min-available is \"%s\", want a positive integer", bad[i]);
        expect_error(labels, want);
    }
    expect_error("{\"pod-group.scheduling.kubenexus.io/name\":\"a\","
                 "\"pod-group.scheduling.kubenexus.io/min-available\":\"10001\"}",
                 "is \"10001\", want a positive integer of at most 10000");
    expect_error("{\"pod-group.scheduling.kubenexus.io/name\":\"a\","
                 "\"pod-group.scheduling.kubenexus.io/min-available\":4}",
                 "label pod-group.scheduling.kubenexus.io/min-available is a number, want a string");
}

static void test_bad_name(void **state)
{
    (void)state;
    expect_error("{\"pod-group.scheduling.kubenexus.io/name\":\"\"}",
                 "label pod-group.scheduling.kubenexus.io/name is empty");
    expect_error("{\"pod-group.scheduling.kubenexus.io/name\":\"-spark-pi\"}",
                 "label pod-group.scheduling.kubenexus.io/name is \"-spark-pi\", want a legal label value");
    expect_error("{\"pod-group.scheduling.kubenexus.io/name\":\"spark pi\"}", "is \"spark pi\"");
    expect_error("{\"pod-group.scheduling.kubenexus.io/name\":\"a\\\"b\\nc\"}", "is \"a\\\"b\\nc\"");
    expect_error("{\"pod-group.scheduling.sigs.k8s.io/name\":\"pg_\"}",
                 "label pod-group.scheduling.sigs.k8s.io/name is \"pg_\"");
    char labels[256];
    snprintf(labels, sizeof(labels), "{\"pod-group.scheduling.kubenexus.io/name\":\"%064d\"}", 0);
    expect_error(labels, "at most 63 characters");
    expect_error("{\"pod-group.scheduling.kubenexus.io/name\":true}", "is a boolean");
    /* A huge value is cut in the message, not copied whole. */
    char huge[1200];
    snprintf(huge, sizeof(huge), "{\"pod-group.scheduling.kubenexus.io/name\":\"%01000d\"}", 7);
    kn_gang_spec hg;
    kn_err herr = {{0}};
    assert_int_equal(gang(huge, &hg, &herr), -1);
    assert_non_null(strstr(herr.msg, "000...\", want a legal label value"));
    assert_true(strlen(herr.msg) < 300);
    kn_json *arr = parse("[]");
    kn_gang_spec g;
    kn_err err = {{0}};
    assert_int_equal(kn_gang_from_labels(arr, &g, &err), -1);
    assert_non_null(strstr(err.msg, "want an object"));
    kn_json_free(arr);
}

static void test_longest_name(void **state)
{
    (void)state;
    char name[64], labels[256];
    memset(name, 'a', 63);
    name[63] = '\0';
    snprintf(labels, sizeof(labels), "{\"pod-group.scheduling.kubenexus.io/name\":\"%s\"}", name);
    kn_gang_spec g;
    assert_int_equal(gang(labels, &g, NULL), 0);
    assert_string_equal(g.name, name);
}

static void test_parse_positive_int(void **state)
{
    (void)state;
    int v = -7;
    assert_int_equal(kn_parse_positive_int("1", 10, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(kn_parse_positive_int("10", 10, &v), 0);
    assert_int_equal(v, 10);
    assert_int_equal(kn_parse_positive_int("11", 10, &v), -1);
    assert_int_equal(kn_parse_positive_int("2147483647", 2147483647, &v), 0);
    assert_int_equal(v, 2147483647);
    assert_int_equal(kn_parse_positive_int("2147483648", 2147483647, &v), -1);
    assert_int_equal(kn_parse_positive_int("184467440737095516160", 2147483647, &v), -1);
    assert_int_equal(kn_parse_positive_int("0", 10, &v), -1);
    assert_int_equal(kn_parse_positive_int("01", 10, &v), -1);
    assert_int_equal(kn_parse_positive_int("", 10, &v), -1);
    assert_int_equal(kn_parse_positive_int(NULL, 10, &v), -1);
    assert_int_equal(kn_parse_positive_int("1 ", 10, &v), -1);
    assert_int_equal(v, 2147483647); /* untouched by failures */
}

/* Every problem of the labels in one message; a Spark application's size
 * turns "want a positive integer" into the value that is right. */
static void test_every_problem_and_the_value_wanted(void **state)
{
    (void)state;
    kn_json *l = parse("{\"pod-group.scheduling.kubenexus.io/name\":\"bad name\","
                       "\"pod-group.scheduling.kubenexus.io/min-available\":\"four\"}");
    kn_gang_spec g;
    kn_err err = {{0}};
    assert_int_equal(kn_gang_from_labels(l, &g, &err), -1);
    assert_non_null(strstr(err.msg, "label pod-group.scheduling.kubenexus.io/name is \"bad name\""));
    assert_non_null(strstr(err.msg, "; label pod-group.scheduling.kubenexus.io/min-available is \"four\", want a "
                                    "positive integer"));
    assert_int_equal(kn_gang_from_labels_for(l, 3, false, &g, &err), -1);
    assert_non_null(strstr(err.msg, "min-available is \"four\", want \"4\" (1 driver + 3 executors)"));
    assert_int_equal(kn_gang_from_labels_for(l, 1, true, &g, &err), -1);
    assert_non_null(strstr(err.msg, "want \"2\" (1 driver + 1 initial executor)"));
    assert_false(g.present);
    kn_json_free(l);
}

/* kn_gang_from_pod on labels and annotations given as JSON text. */
static int pod_gang(const char *labels, const char *annotations, kn_gang_spec *out, kn_err *err)
{
    kn_json *l = parse(labels), *a = parse(annotations);
    int rc = kn_gang_from_pod(l, a, out, err);
    kn_json_free(l);
    kn_json_free(a);
    return rc;
}

static void test_coscheduling_podgroup_label(void **state)
{
    (void)state;
    kn_gang_spec g;
    kn_err err = {{0}};
    assert_int_equal(pod_gang("{\"scheduling.x-k8s.io/pod-group\":\"spark-pi-pg\"}", "{}", &g, &err), 0);
    assert_true(g.present);
    assert_int_equal(g.kind, KN_GANG_COSCHEDULING);
    assert_string_equal(g.name, "spark-pi-pg");
    assert_int_equal(g.min_available, 0); /* the PodGroup's minMember decides */
    assert_string_equal(g.name_label, KN_PODGROUP_LABEL);
    assert_string_equal(kn_gang_key_what(&g), "label");
    assert_string_equal(kn_gang_kind_api(g.kind), "scheduling.x-k8s.io/v1alpha1");
}

static void test_volcano_group_annotation(void **state)
{
    (void)state;
    kn_gang_spec g;
    kn_err err = {{0}};
    assert_int_equal(pod_gang("{\"spark-role\":\"driver\"}",
                              "{\"scheduling.k8s.io/group-name\":\"spark-spark-pi-pg\"}", &g, &err),
                     0);
    assert_true(g.present);
    assert_int_equal(g.kind, KN_GANG_VOLCANO);
    assert_string_equal(g.name, "spark-spark-pi-pg");
    assert_string_equal(g.name_label, KN_VOLCANO_GROUP_ANNOTATION);
    assert_string_equal(kn_gang_key_what(&g), "annotation");
    assert_string_equal(kn_gang_kind_api(g.kind), "scheduling.volcano.sh/v1beta1");
    /* a Volcano name may be longer than a label value: a subdomain of 63-character labels */
    char name[200], ann[300];
    memset(name, 'v', 190);
    name[63] = name[127] = '.';
    name[190] = '\0';
    snprintf(ann, sizeof(ann), "{\"scheduling.k8s.io/group-name\":\"%s\"}", name);
    assert_int_equal(pod_gang("{}", ann, &g, &err), 0);
    assert_string_equal(g.name, name);
}

/* Ours, then the sigs labels, then coscheduling's label, then Volcano's annotation. */
static void test_declaration_precedence(void **state)
{
    (void)state;
    kn_gang_spec g;
    const char *all_ann = "{\"scheduling.k8s.io/group-name\":\"vc\"}";
    assert_int_equal(pod_gang("{\"pod-group.scheduling.kubenexus.io/name\":\"ours\","
                              "\"pod-group.scheduling.kubenexus.io/min-available\":\"4\","
                              "\"pod-group.scheduling.sigs.k8s.io/name\":\"sigs\","
                              "\"scheduling.x-k8s.io/pod-group\":\"cosched\"}",
                              all_ann, &g, NULL),
                     0);
    assert_int_equal(g.kind, KN_GANG_LABELS);
    assert_string_equal(g.name, "ours");
    assert_int_equal(g.min_available, 4);
    assert_int_equal(pod_gang("{\"pod-group.scheduling.sigs.k8s.io/name\":\"sigs\","
                              "\"scheduling.x-k8s.io/pod-group\":\"cosched\"}",
                              all_ann, &g, NULL),
                     0);
    assert_int_equal(g.kind, KN_GANG_LABELS);
    assert_string_equal(g.name, "sigs");
    assert_int_equal(pod_gang("{\"scheduling.x-k8s.io/pod-group\":\"cosched\"}", all_ann, &g, NULL), 0);
    assert_int_equal(g.kind, KN_GANG_COSCHEDULING);
    assert_string_equal(g.name, "cosched");
    assert_int_equal(pod_gang("{}", all_ann, &g, NULL), 0);
    assert_int_equal(g.kind, KN_GANG_VOLCANO);
    assert_int_equal(pod_gang("{\"app\":\"x\"}", "{\"other\":\"y\"}", &g, NULL), 0);
    assert_false(g.present);
    assert_int_equal(kn_gang_from_pod(NULL, NULL, &g, NULL), 0);
    assert_false(g.present);
}

static void expect_pod_error(const char *labels, const char *annotations, const char *want)
{
    kn_gang_spec g;
    kn_err err = {{0}};
    assert_int_equal(pod_gang(labels, annotations, &g, &err), -1);
    if (strstr(err.msg, want) == NULL)
        fail_msg("labels %s annotations %s: error \"%s\" does not contain \"%s\"", labels, annotations, err.msg,
                 want);
    assert_false(g.present);
}

static void test_bad_podgroup_names(void **state)
{
    (void)state;
    expect_pod_error("{\"scheduling.x-k8s.io/pod-group\":\"Spark_Pi\"}", "{}",
                     "label scheduling.x-k8s.io/pod-group is \"Spark_Pi\", want the name of a "
                     "scheduling.x-k8s.io/v1alpha1 PodGroup in the pod's namespace (at most 63 characters");
    expect_pod_error("{\"scheduling.x-k8s.io/pod-group\":\"\"}", "{}", "is \"\", want the name");
    expect_pod_error("{}", "{\"scheduling.k8s.io/group-name\":\"a..b\"}",
                     "annotation scheduling.k8s.io/group-name is \"a..b\", want the name of a "
                     "scheduling.volcano.sh/v1beta1 PodGroup in the pod's namespace (at most 253 characters");
    expect_pod_error("{}", "{\"scheduling.k8s.io/group-name\":7}",
                     "annotation scheduling.k8s.io/group-name is a number, want a string");
    expect_pod_error("{}", "[]", "metadata.annotations is an array, want an object");
    /* DNS subdomain bounds: 63 per label, 253 in all */
    char ann[400], name[300];
    memset(name, 'a', 64);
    name[64] = '\0';
    snprintf(ann, sizeof(ann), "{\"scheduling.k8s.io/group-name\":\"%s\"}", name);
    expect_pod_error("{}", ann, "want the name of a scheduling.volcano.sh/v1beta1 PodGroup");
    name[63] = '.';
    name[64] = 'b';
    name[65] = '\0';
    snprintf(ann, sizeof(ann), "{\"scheduling.k8s.io/group-name\":\"%s\"}", name);
    kn_gang_spec ok;
    assert_int_equal(pod_gang("{}", ann, &ok, NULL), 0);
    memset(name, 'a', 254);
    for (int i = 50; i < 254; i += 50)
        name[i] = '.';
    name[254] = '\0';
    snprintf(ann, sizeof(ann), "{\"scheduling.k8s.io/group-name\":\"%s\"}", name);
    expect_pod_error("{}", ann, "at most 253 characters");
    name[253] = '\0';
    snprintf(ann, sizeof(ann), "{\"scheduling.k8s.io/group-name\":\"%s\"}", name);
    assert_int_equal(pod_gang("{}", ann, &ok, NULL), 0);
    assert_int_equal(strlen(ok.name), 253);
    /* a malformed declaration is an error even when a later one would do */
    expect_pod_error(
        "{\"pod-group.scheduling.kubenexus.io/name\":\"-x\",\"scheduling.x-k8s.io/pod-group\":\"ok\"}", "{}",
        "label pod-group.scheduling.kubenexus.io/name is \"-x\"");
    expect_pod_error("{\"scheduling.x-k8s.io/pod-group\":\"-x\"}", "{\"scheduling.k8s.io/group-name\":\"ok\"}",
                     "label scheduling.x-k8s.io/pod-group is \"-x\"");
    /* ... and a later malformed one is not read when an earlier one is good */
    kn_gang_spec g;
    assert_int_equal(pod_gang("{\"scheduling.x-k8s.io/pod-group\":\"ok\"}",
                              "{\"scheduling.k8s.io/group-name\":\"-x\"}", &g, NULL),
                     0);
    assert_string_equal(g.name, "ok");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kubenexus_labels),
        cmocka_unit_test(test_every_problem_and_the_value_wanted),
        cmocka_unit_test(test_name_without_min_is_gang_of_one),
        cmocka_unit_test(test_sigs_labels_when_no_kubenexus_label),
        cmocka_unit_test(test_kubenexus_labels_win_over_sigs),
        cmocka_unit_test(test_no_gang_labels),
        cmocka_unit_test(test_min_without_name),
        cmocka_unit_test(test_bad_min_available),
        cmocka_unit_test(test_bad_name),
        cmocka_unit_test(test_longest_name),
        cmocka_unit_test(test_parse_positive_int),
        cmocka_unit_test(test_coscheduling_podgroup_label),
        cmocka_unit_test(test_volcano_group_annotation),
        cmocka_unit_test(test_declaration_precedence),
        cmocka_unit_test(test_bad_podgroup_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
