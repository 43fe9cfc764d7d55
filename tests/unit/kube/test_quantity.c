/* test_quantity.c - Kubernetes quantities as the API server reads them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kube/quantity.h"

typedef struct {
    const char *in;
    int64_t want;
} qcase;

static void check_value_cases(const qcase *c, size_t n, int milli)
{
    for (size_t i = 0; i < n; i++) {
        kn_err err = {{0}};
        int64_t got = -42;
        int rc = milli ? kn_quantity_milli(c[i].in, &got, &err) : kn_quantity_value(c[i].in, &got, &err);
        if (rc != 0 || got != c[i].want) {
            print_error("%s(\"%s\"): rc=%d got=%lld want=%lld err=%s\n", milli ? "milli" : "value", c[i].in, rc,
                        (long long)got, (long long)c[i].want, err.msg);
            fail();
        }
    }
}

/* cpu: milli-units, rounded up. */
static void test_milli(void **state)
{
    (void)state;
    static const qcase cases[] = {
        {"0.1", 100},
        {"100m", 100},
        {"1", 1000},
        {"0", 0},
        {"2E-3", 2},
        {"1e-4", 1},
        {"1e3", 1000000},
        {"1.5", 1500},
        {"1500m", 1500},
        {"0.5", 500},
        {".5", 500},
        {"1.", 1000},
        {"+1", 1000},
        {"-1", -1000},
        {"-0.5", -500},
        {"-0.0001", -1},
        {"0.0001", 1},
        {"1u", 1},
        {"1n", 1},
        {"999999n", 1},
        {"1000001n", 2},
        {"2k", 2000000},
        {"0.1m", 1},
        {"1.0001m", 2},
        {"250m", 250},
        {"00100m", 100},
        {"0.30000000000000004", 301},
        {"1Ki", 1024000},
        {"0.5Ki", 512000},
        {"1e+3", 1000000},
        {"1E0", 1000},
        {"0e99999999999999999999", 0},
        {"1e-99999999999999999", 1},
        {"9223372036854775.807", INT64_MAX},
        {"9223372036854775807m", INT64_MAX},
        {"0.000000000000000000000000000001", 1},
    };
    check_value_cases(cases, sizeof(cases) / sizeof(cases[0]), 1);
}

/* memory and everything else: units, rounded up. */
static void test_value(void **state)
{
    (void)state;
    static const qcase cases[] = {
        {"100Mi", 104857600},
        {"100M", 100000000},
        {"512m", 1}, /* the classic mistake: 512 milli-bytes */
        {"1e3", 1000},
        {"1E3", 1000},
        {"1.5Gi", 1610612736},
        {"1Gi", 1073741824},
        {"1Ki", 1024},
        {"0.1Ki", 103}, /* 102.4 rounds up */
        {"1E", 1000000000000000000},
        {"7Ei", 8070450532247928832},
        {"7.99999999999999999Ei", 9223372036854775797},
        {"7.9999999999999999991Ei", 9223372036854775807},
        {"1Ti", 1099511627776},
        {"2Pi", 2251799813685248},
        {"9223372036854775807", INT64_MAX},
        {"-9223372036854775807", -INT64_MAX},
        {"+1", 1},
        {"-1", -1},
        {"-1.5", -2}, /* away from zero, as Quantity.Value */
        {"1.", 1},
        {"0.0", 0},
        {"-0", 0},
        {"000000000000000000000000000000000012", 12},
        {"12.000000000000000000000000000000000000", 12},
        {"1000000000000000000000e-3", 1000000000000000000},
        {"123456789012345678901234567890e-20", 1234567891},
        {"1e18", 1000000000000000000},
        {"4G", 4000000000},
        {"1m", 1},
        {"0.000001Ei", 1152921504607},
        {"1k", 1000},
        {"2T", 2000000000000},
        {"1P", 1000000000000000},
        {"1e-3", 1},
    };
    check_value_cases(cases, sizeof(cases) / sizeof(cases[0]), 0);
}

static void check_error(const char *in, int milli, const char *want_sub)
{
    kn_err err = {{0}};
    int64_t got = 77;
    int rc = milli ? kn_quantity_milli(in, &got, &err) : kn_quantity_value(in, &got, &err);
    if (rc != -1 || strstr(err.msg, want_sub) == NULL) {
        print_error("\"%s\": rc=%d got=%lld msg=\"%s\" want containing \"%s\"\n", in ? in : "(null)", rc,
                    (long long)got, err.msg, want_sub);
        fail();
    }
    assert_int_equal(got, 77); /* output untouched on error */
}

static void test_garbage(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",    " ",     "1 ",  " 1",    "1 Mi",  "1\tMi", "1.5.3", ".",      "-",     "+",
        "Mi",  "m",     "1e",  "1E+",   "1e-",   "4GB",   "1KiB",  "0x10",   "1,000", "++1",
        "--1", "+-1",   "1K",  "1mi",   "1Mb",   "1k3",   "1e3.5", "1e3e",   "1ee3",  "1.e",
        "e3",  "1Mi5",  "abc", "1.1.M", "0.1am", ".5i",   "1i",    "-3.01i", "1b",    "NaN",
        "Inf", "1_000", "１",  "1e 3",  "1\n",   "1m\r",  "1Ei2",  "1.5Gi ", "1.-5",  "-.",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        check_error(bad[i], 0,
                    "is not valid: want a number with an optional suffix (Ki, Mi, Gi, Ti, "
                    "Pi, Ei, n, u, m, k, M, G, T, P, E) or exponent (e3)");
        check_error(bad[i], 1, "is not valid");
    }
    check_error(NULL, 0, "quantity is missing");
}

static void test_message_quotes_input(void **state)
{
    (void)state;
    kn_err err;
    int64_t v;
    assert_int_equal(kn_quantity_value("4GB", &v, &err), -1);
    assert_string_equal(err.msg, "quantity \"4GB\" is not valid: want a number with an optional suffix "
                                 "(Ki, Mi, Gi, Ti, Pi, Ei, n, u, m, k, M, G, T, P, E) or exponent (e3)");
    /* Control bytes are escaped and long input shortened. */
    assert_int_equal(kn_quantity_value("1\x01\"x", &v, &err), -1);
    assert_non_null(strstr(err.msg, "quantity \"1\\x01\\\"x\" is not valid"));
    char longin[400];
    memset(longin, '7', sizeof(longin) - 2);
    longin[sizeof(longin) - 2] = 'Q';
    longin[sizeof(longin) - 1] = '\0';
    assert_int_equal(kn_quantity_value(longin, &v, &err), -1);
    assert_non_null(strstr(err.msg, "...\" is not valid"));
    assert_true(strlen(err.msg) < 300);
    /* A NULL kn_err is allowed. */
    assert_int_equal(kn_quantity_value("x", &v, NULL), -1);
}

static void test_overflow(void **state)
{
    (void)state;
    static const char *const big[] = {
        "10000000000000000000",
        "9223372036854775808",
        "8Ei",
        "99999Ei",
        "1e19",
        "9.3E",
        "10E",
        "-9223372036854775809",
        "1e1000000000000000000",
        "100000000000000000000000000000000000000000e-10",
        "8192Pi",
        "7.999999999999999999999Ei",
    };
    for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
        check_error(big[i], 0, "is too large: at most 9223372036854775807 fits");
        check_error(big[i], 1, "is too large");
    }
    kn_err err;
    int64_t v;
    assert_int_equal(kn_quantity_value("99999Ei", &v, &err), -1);
    assert_string_equal(err.msg, "quantity \"99999Ei\" is too large: at most 9223372036854775807 fits");
    /* Fits in units, not in milli-units. */
    assert_int_equal(kn_quantity_value("10000000000000000", &v, &err), 0);
    assert_int_equal(v, 10000000000000000);
    check_error("10000000000000000", 1, "is too large: at most 9223372036854775.807");
    check_error("9223372036854775.808", 1, "is too large");
    check_error("9223372036854775.8071", 1, "is too large"); /* rounds up past the limit */
    /* The most negative int64 reads back, as the formatters can write it. */
    assert_int_equal(kn_quantity_value("-9223372036854775808", &v, &err), 0);
    assert_true(v == INT64_MIN);
    char text[32];
    assert_true(kn_quantity_format_value(INT64_MIN, text, sizeof(text)) > 0);
    assert_int_equal(kn_quantity_value(text, &v, &err), 0);
    assert_true(v == INT64_MIN);
    assert_true(kn_quantity_format_milli(INT64_MIN, text, sizeof(text)) > 0);
    assert_int_equal(kn_quantity_milli(text, &v, &err), 0);
    assert_true(v == INT64_MIN);
}

typedef struct {
    int64_t v;
    const char *want;
} fcase;

typedef int (*format_fn)(int64_t, char *, size_t);
typedef int (*parse_fn)(const char *, int64_t *, kn_err *);

/* Each amount formats as want, and the text parses back to the same amount. */
static void check_format(const fcase *c, size_t n, format_fn format, parse_fn parse)
{
    char buf[64];
    for (size_t i = 0; i < n; i++) {
        int len = format(c[i].v, buf, sizeof(buf));
        assert_int_equal(len, (int)strlen(c[i].want));
        assert_string_equal(buf, c[i].want);
        int64_t back;
        assert_int_equal(parse(buf, &back, NULL), 0);
        assert_int_equal(back, c[i].v);
    }
}

static void test_format_milli(void **state)
{
    (void)state;
    static const fcase cases[] = {
        {0, "0"},           {1500, "1500m"},
        {2000, "2"},        {100, "100m"},
        {1, "1m"},          {-500, "-500m"},
        {-2000, "-2"},      {2000000, "2k"},
        {1500000, "1500"},  {INT64_MAX, "9223372036854775807m"},
        {3000000000, "3M"},
    };
    check_format(cases, sizeof(cases) / sizeof(cases[0]), kn_quantity_format_milli, kn_quantity_milli);
    char buf[8];
    assert_int_equal(kn_quantity_format_milli(1500, buf, 5), -1); /* "1500m" needs 6 */
    assert_int_equal(kn_quantity_format_milli(1500, buf, 6), 5);
}

static void test_format_value(void **state)
{
    (void)state;
    static const fcase cases[] = {
        {939524096, "896Mi"},
        {1073741824, "1Gi"},
        {1536, "1536"},
        {1024, "1Ki"},
        {0, "0"},
        {512, "512"},
        {1000, "1k"},
        {1023, "1023"},
        {9663676416, "9Gi"},
        {6012534784, "5734Mi"},
        {1, "1"},
        {-1073741824, "-1Gi"},
        {1152921504606846976, "1Ei"},
        {INT64_MAX, "9223372036854775807"},
        {1500000000, "1500000000"},
        {2048, "2Ki"},
        {-1000, "-1k"},
    };
    check_format(cases, sizeof(cases) / sizeof(cases[0]), kn_quantity_format_value, kn_quantity_value);
    char buf[8];
    assert_int_equal(kn_quantity_format_value(939524096, buf, 5), -1);
    assert_int_equal(kn_quantity_format_value(939524096, buf, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_milli),        cmocka_unit_test(test_value),
        cmocka_unit_test(test_garbage),      cmocka_unit_test(test_message_quotes_input),
        cmocka_unit_test(test_overflow),     cmocka_unit_test(test_format_milli),
        cmocka_unit_test(test_format_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
