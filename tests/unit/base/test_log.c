/* Log lines as an operator greps them: one line, timestamp, level=, msg="...", key=value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/log.h"

/* Runs fn with stderr sent to a temporary file and returns what it wrote. */
static char *capture(void (*fn)(void))
{
    fflush(stderr);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    fn();
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    static char out[8192];
    rewind(tmp);
    size_t n = fread(out, 1, sizeof(out) - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
    return out;
}

static void test_parse_level(void **state)
{
    (void)state;
    kn_log_level l = KN_LOG_ERROR;
    assert_int_equal(kn_log_parse_level("debug", &l), 0);
    assert_int_equal(l, KN_LOG_DEBUG);
    assert_int_equal(kn_log_parse_level("info", &l), 0);
    assert_int_equal(l, KN_LOG_INFO);
    assert_int_equal(kn_log_parse_level("warn", &l), 0);
    assert_int_equal(l, KN_LOG_WARN);
    assert_int_equal(kn_log_parse_level("error", &l), 0);
    assert_int_equal(l, KN_LOG_ERROR);
    assert_int_equal(kn_log_parse_level("INFO", &l), -1);
    assert_int_equal(kn_log_parse_level("warning", &l), -1);
    assert_int_equal(kn_log_parse_level("", &l), -1);
    assert_int_equal(kn_log_parse_level(NULL, &l), -1);
    assert_int_equal(l, KN_LOG_ERROR); /* untouched by failures */
}

static void log_bound_pod(void)
{
    kn_log_set_level(KN_LOG_INFO);
    kn_log(KN_LOG_INFO, "bound pod", "pod=%s/%s node=%s", "spark-jobs", "spark-pi-driver", "node-3");
}

/* YYYY-MM-DDTHH:MM:SS.mmmZ */
static void assert_timestamp(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (size_t i = 0; i < sizeof(shape) - 1; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            fail_msg("not a UTC timestamp at %zu: %s", i, s);
    }
}

static void test_line_shape(void **state)
{
    (void)state;
    char *out = capture(log_bound_pod);
    assert_timestamp(out);
    assert_string_equal(out + 24,
                        " level=info msg=\"bound pod\" pod=\"spark-jobs/spark-pi-driver\" node=\"node-3\"\n");
}

static void log_levels(void)
{
    kn_log_set_level(KN_LOG_WARN);
    kn_log(KN_LOG_DEBUG, "hidden debug", NULL);
    kn_log(KN_LOG_INFO, "hidden info", "k=v");
    kn_log(KN_LOG_WARN, "shown warn", NULL);
    kn_log(KN_LOG_ERROR, "shown \"error\"\nsecond line", "err=%d", 5);
    kn_log_set_level(KN_LOG_INFO);
}

static void test_threshold_and_escaping(void **state)
{
    (void)state;
    char *out = capture(log_levels);
    assert_null(strstr(out, "hidden"));
    char *first = out, *second = strchr(out, '\n');
    assert_non_null(second);
    *second++ = '\0';
    assert_timestamp(first);
    assert_string_equal(first + 24, " level=warn msg=\"shown warn\"");
    assert_timestamp(second);
    /* A quote is escaped and a newline cannot split the line. */
    assert_string_equal(second + 24, " level=error msg=\"shown \\\"error\\\"\\nsecond line\" err=5\n");
}

/* Values a client controls (an error message from the API server, a pod
 * name) cannot forge a pair or a line: strings are quoted whole, numbers bare. */
static void log_hostile(void)
{
    kn_log_set_level(KN_LOG_INFO);
    kn_log(KN_LOG_WARN, "binding failed", "pod=%s/%s status=%ld try=%d bytes=%zu error=%s", "ns", "p", 500L, 2,
           (size_t)7, "boom\" level=error injected=1\nfake line\t\x01");
}

static void test_values_quoted_whole(void **state)
{
    (void)state;
    char *out = capture(log_hostile);
    assert_timestamp(out);
    assert_string_equal(out + 24, " level=warn msg=\"binding failed\" pod=\"ns/p\" status=500 try=2 bytes=7 "
                                  "error=\"boom\\\" level=error injected=1\\nfake line\\t\\x01\"\n");
    assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1); /* one line */
}

static void log_long(void)
{
    char big[4096];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    kn_log(KN_LOG_ERROR, big, "value=%s", big);
}

static void test_long_line_is_one_line(void **state)
{
    (void)state;
    char *out = capture(log_long);
    size_t n = strlen(out);
    assert_true(n > 100 && n <= 2048);
    assert_int_equal(out[n - 1], '\n');
    assert_ptr_equal(strchr(out, '\n'), out + n - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_level),
        cmocka_unit_test(test_line_shape),
        cmocka_unit_test(test_threshold_and_escaping),
        cmocka_unit_test(test_values_quoted_whole),
        cmocka_unit_test(test_long_line_is_one_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
