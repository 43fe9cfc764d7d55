/* Gang labels as users write them on SparkApplication driver/executor specs. */
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
                          "\"pod-group.scheduling.kubenexus.io/min-available\":\"4\"}", &g, &err), 0);
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
                          "\"pod-group.scheduling.sigs.k8s.io/min-available\":\"3\"}", &g, NULL), 0);
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
                          "\"pod-group.scheduling.kubenexus.io/name\":\"new\"}", &g, NULL), 0);
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
    static const char *const bad[] = {"04", "+4", "4.0", "1e1", " 4", "4 ", "", "-1", "four",
                                      "0x10", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char labels[256], want[128];
        snprintf(labels, sizeof(labels), "{\"pod-group.scheduling.kubenexus.io/name\":\"a\","
                 "\"pod-group.scheduling.kubenexus.io/min-available\":\"%s\"}", bad[i]);
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

static void test_label_value_valid(void **state)
{
    (void)state;
    static const char *const good[] = {"", "a", "A", "9", "spark-pi", "a.b_c-d", "x--y", "0a"};
    static const char *const bad[] = {"-a", "a-", ".a", "a_", "a b", "a/b", "a:b", "é", "_"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(kn_label_value_valid(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (kn_label_value_valid(bad[i]))
            fail_msg("\"%s\" accepted", bad[i]);
    }
    assert_false(kn_label_value_valid(NULL));
    char s[65];
    memset(s, 'z', 64);
    s[64] = '\0';
    assert_false(kn_label_value_valid(s));
    s[63] = '\0';
    assert_true(kn_label_value_valid(s));
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
        cmocka_unit_test(test_label_value_valid),
        cmocka_unit_test(test_parse_positive_int),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
