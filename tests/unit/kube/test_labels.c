/* Label values and keys, and label selectors matched against pods' label
 * sets, as kube-scheduler reads a PodDisruptionBudget's selector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "support/sched_fixtures.h"

#include "kube/labels.h"

/* Does the selector (JSON text) match the labels (JSON text)? -1: invalid selector. */
static int match(const char *sel, const char *labels)
{
    kn_json *sj = fx_parse("%s", sel), *lj = fx_parse("%s", labels);
    kn_label_selector s;
    kn_labelset ls;
    kn_err err = {{0}};
    int rc = kn_label_selector_parse(sj, &s, &err);
    assert_int_equal(kn_labelset_from_json(lj, &ls), 0);
    if (rc == 0)
        rc = kn_label_selector_matches(&s, &ls) ? 1 : 0;
    else
        assert_true(kn_label_selector_empty(&s));
    kn_label_selector_free(&s);
    kn_labelset_free(&ls);
    kn_json_free(sj);
    kn_json_free(lj);
    return rc;
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

static void test_label_key_valid(void **state)
{
    (void)state;
    static const char *const good[] = {"app", "spark-role", "app.kubernetes.io/name", "a/b", "x.y-z/A_b.c"};
    static const char *const bad[] = {"", "/a", "a/", "A.b/c", "a//b", "a/b/c", "-a.b/c", "a..b/c", "a b", "a/-b"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!kn_label_key_valid(good[i]))
            fail_msg("\"%s\" refused", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (kn_label_key_valid(bad[i]))
            fail_msg("\"%s\" accepted", bad[i]);
}

static void test_match_labels_and_expressions(void **state)
{
    (void)state;
    const char *pod = "{\"app\":\"web\",\"tier\":\"front\",\"spark-role\":\"driver\"}";
    assert_int_equal(match("{\"matchLabels\":{\"app\":\"web\"}}", pod), 1);
    assert_int_equal(match("{\"matchLabels\":{\"app\":\"web\",\"tier\":\"back\"}}", pod), 0);
    assert_int_equal(match("{\"matchLabels\":{\"app\":\"db\"}}", pod), 0);
    assert_int_equal(
        match("{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"back\",\"front\"]}]}",
              pod),
        1);
    assert_int_equal(
        match("{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"NotIn\",\"values\":[\"front\"]}]}", pod),
        0);
    /* NotIn and DoesNotExist hold for a pod without the key */
    assert_int_equal(
        match("{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"NotIn\",\"values\":[\"a\"]}]}", pod), 1);
    assert_int_equal(match("{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"DoesNotExist\"}]}", pod), 1);
    assert_int_equal(match("{\"matchExpressions\":[{\"key\":\"spark-role\",\"operator\":\"Exists\"}]}", pod), 1);
    assert_int_equal(match("{\"matchExpressions\":[{\"key\":\"spark-role\",\"operator\":\"DoesNotExist\"}]}", pod),
                     0);
    assert_int_equal(match("{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":[{\"key\":\"tier\","
                           "\"operator\":\"In\",\"values\":[\"back\"]}]}",
                           pod),
                     0);
    /* a value equal to another label's value is not a match */
    assert_int_equal(match("{\"matchLabels\":{\"app\":\"front\"}}", pod), 0);
}

static void test_empty_and_invalid_selectors(void **state)
{
    (void)state;
    /* empty: no requirement (the caller decides what that means) */
    assert_int_equal(match("{}", "{\"a\":\"b\"}"), 1);
    assert_int_equal(match("null", "{}"), 1);
    /* invalid, as LabelSelectorAsSelector refuses them */
    assert_int_equal(match("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[]}]}", "{}"),
                     -1);
    assert_int_equal(
        match("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"x\"]}]}", "{}"), -1);
    assert_int_equal(
        match("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Gt\",\"values\":[\"1\"]}]}", "{}"), -1);
    assert_int_equal(match("{\"matchLabels\":{\"a b\":\"x\"}}", "{}"), -1);
    assert_int_equal(match("{\"matchLabels\":{\"a\":\"not valid!\"}}", "{}"), -1);
    assert_int_equal(match("{\"matchLabels\":{\"a\":1}}", "{}"), -1);
    assert_int_equal(match("{\"matchLabels\":[]}", "{}"), -1);
    assert_int_equal(match("[]", "{}"), -1);
}

static void test_selector_size_is_bounded(void **state)
{
    (void)state;
    char sel[16384];
    size_t off = (size_t)snprintf(sel, sizeof(sel),
                                  "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[");
    for (int i = 0; i <= KN_LABEL_SELECTOR_MAX_VALUES; i++)
        off += (size_t)snprintf(sel + off, sizeof(sel) - off, "%s\"v%d\"", i ? "," : "", i);
    snprintf(sel + off, sizeof(sel) - off, "]}]}");
    assert_int_equal(match(sel, "{\"a\":\"v1\"}"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_value_valid),
        cmocka_unit_test(test_label_key_valid),
        cmocka_unit_test(test_match_labels_and_expressions),
        cmocka_unit_test(test_empty_and_invalid_selectors),
        cmocka_unit_test(test_selector_size_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
