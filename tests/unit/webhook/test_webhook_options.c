/* test_webhook_options.c - kubenexus-webhook's command line and env fallbacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "webhook/options.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *k_env[] = {"KUBENEXUS_WEBHOOK_PORT", "KUBENEXUS_WEBHOOK_TLS_CERT_FILE",
                              "KUBENEXUS_WEBHOOK_TLS_KEY_FILE", "KUBENEXUS_WEBHOOK_FILL_GANG_LABELS"};

static int clear_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(k_env) / sizeof(k_env[0]); i++)
        unsetenv(k_env[i]);
    return 0;
}

static void test_defaults(void **state)
{
    (void)state;
    char *argv[] = {"kubenexus-webhook", "--tls-cert-file", "/c", "--tls-key-file=/k"};
    kn_webhook_options o;
    kn_err err = {{0}};
    assert_int_equal(kn_options_parse(ARGC(argv), argv, &o, &err), KN_OPTIONS_RUN);
    assert_string_equal(o.cert_file, "/c");
    assert_string_equal(o.key_file, "/k");
    assert_int_equal(o.port, 8443);
    assert_string_equal(o.bind_address, "0.0.0.0");
    assert_string_equal(o.scheduler_name, "kubenexus-scheduler");
    assert_false(o.fill_gang_labels);
    assert_int_equal(o.threads, 2);
    assert_int_equal(o.max_connections, 1024);
    assert_int_equal(o.max_request_bytes, 7u << 20);
    assert_int_equal(o.max_buffered_bytes, 48u << 20);
    assert_int_equal(o.request_timeout_ms, 10000);
    assert_int_equal(o.log_level, KN_LOG_INFO);
}

static void test_both_spellings_and_values(void **state)
{
    (void)state;
    char *argv[] = {"kubenexus-webhook",
                    "--tls-cert-file=/c",
                    "--tls-key-file",
                    "/k",
                    "--port",
                    "9443",
                    "--bind-address=::",
                    "--scheduler-name",
                    "gangs",
                    "--fill-gang-labels",
                    "--log-level=debug",
                    "--threads=4",
                    "--max-request-bytes",
                    "512Ki",
                    "--max-buffered-bytes=2Mi",
                    "--request-timeout",
                    "250ms",
                    "--cert-reload-interval=1m",
                    "--shutdown-timeout",
                    "7"};
    kn_webhook_options o;
    kn_err err = {{0}};
    assert_int_equal(kn_options_parse(ARGC(argv), argv, &o, &err), KN_OPTIONS_RUN);
    assert_int_equal(o.port, 9443);
    assert_string_equal(o.bind_address, "::");
    assert_string_equal(o.scheduler_name, "gangs");
    assert_true(o.fill_gang_labels);
    assert_int_equal(o.log_level, KN_LOG_DEBUG);
    assert_int_equal(o.threads, 4);
    assert_int_equal(o.max_request_bytes, 512u * 1024);
    assert_int_equal(o.max_buffered_bytes, 2u << 20);
    assert_int_equal(o.request_timeout_ms, 250);
    assert_int_equal(o.cert_reload_ms, 60000);
    assert_int_equal(o.shutdown_timeout_ms, 7000);
}

static void expect_error(char **argv, int argc, const char *needle)
{
    kn_webhook_options o;
    kn_err err = {{0}};
    assert_int_equal(kn_options_parse(argc, argv, &o, &err), KN_OPTIONS_ERROR);
    assert_non_null(strstr(err.msg, needle));
}

static void test_errors_name_the_flag(void **state)
{
    (void)state;
    char *unknown[] = {"w", "--tls-cert-file=/c", "--tls-key-file=/k", "--tls-cert"};
    expect_error(unknown, ARGC(unknown), "unknown flag --tls-cert");
    char *missing[] = {"w", "--tls-cert-file=/c"};
    expect_error(missing, ARGC(missing), "--tls-key-file");
    char *noval[] = {"w", "--tls-cert-file=/c", "--tls-key-file"};
    expect_error(noval, ARGC(noval), "--tls-key-file needs a value");
    char *port[] = {"w", "--tls-cert-file=/c", "--tls-key-file=/k", "--port=70000"};
    expect_error(port, ARGC(port), "--port: \"70000\"");
    char *dur[] = {"w", "--tls-cert-file=/c", "--tls-key-file=/k", "--request-timeout=10h"};
    expect_error(dur, ARGC(dur), "--request-timeout: \"10h\"");
    char *lvl[] = {"w", "--tls-cert-file=/c", "--tls-key-file=/k", "--log-level", "loud"};
    expect_error(lvl, ARGC(lvl), "--log-level: \"loud\"");
    char *addr[] = {"w", "--tls-cert-file=/c", "--tls-key-file=/k", "--bind-address=localhost"};
    expect_error(addr, ARGC(addr), "--bind-address: \"localhost\"");
    /* A budget that could never hold one review of the largest size. */
    char *budget[] = {"w", "--tls-cert-file=/c", "--tls-key-file=/k", "--max-request-bytes=16Mi",
                      "--max-buffered-bytes=8Mi"};
    expect_error(budget, ARGC(budget), "--max-buffered-bytes (8388608) is less than");
    char *stray[] = {"w", "serve"};
    expect_error(stray, ARGC(stray), "unexpected argument \"serve\"");
}

static void test_help(void **state)
{
    (void)state;
    char *argv[] = {"w", "--port=nope", "--help"};
    kn_webhook_options o;
    /* --help wins even after a bad flag and without the required ones. */
    assert_int_equal(kn_options_parse(ARGC(argv), argv, &o, NULL), KN_OPTIONS_HELP);
}

static void test_env_fallback_and_override(void **state)
{
    (void)state;
    setenv("KUBENEXUS_WEBHOOK_TLS_CERT_FILE", "/env/c", 1);
    setenv("KUBENEXUS_WEBHOOK_TLS_KEY_FILE", "/env/k", 1);
    setenv("KUBENEXUS_WEBHOOK_PORT", "10443", 1);
    setenv("KUBENEXUS_WEBHOOK_FILL_GANG_LABELS", "true", 1);
    char *argv[] = {"w", "--port", "11443"};
    kn_webhook_options o;
    kn_err err = {{0}};
    assert_int_equal(kn_options_parse(ARGC(argv), argv, &o, &err), KN_OPTIONS_RUN);
    assert_string_equal(o.cert_file, "/env/c");
    assert_string_equal(o.key_file, "/env/k");
    assert_int_equal(o.port, 11443); /* the flag beats the environment */
    assert_true(o.fill_gang_labels);
    setenv("KUBENEXUS_WEBHOOK_PORT", "https", 1);
    char *none[] = {"w"};
    assert_int_equal(kn_options_parse(1, none, &o, &err), KN_OPTIONS_ERROR);
    assert_non_null(strstr(err.msg, "KUBENEXUS_WEBHOOK_PORT"));
}

static void test_durations(void **state)
{
    (void)state;
    unsigned ms;
    assert_int_equal(kn_parse_duration_ms("10s", &ms), 0);
    assert_int_equal(ms, 10000);
    assert_int_equal(kn_parse_duration_ms("5", &ms), 0);
    assert_int_equal(ms, 5000);
    assert_int_equal(kn_parse_duration_ms("2m", &ms), 0);
    assert_int_equal(ms, 120000);
    assert_int_equal(kn_parse_duration_ms("-1s", &ms), -1);
    assert_int_equal(kn_parse_duration_ms("1.5s", &ms), -1);
    assert_int_equal(kn_parse_duration_ms("99999999999999999999s", &ms), -1);
    assert_int_equal(kn_parse_duration_ms("", &ms), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, clear_env),
        cmocka_unit_test_setup(test_both_spellings_and_values, clear_env),
        cmocka_unit_test_setup(test_errors_name_the_flag, clear_env),
        cmocka_unit_test_setup(test_help, clear_env),
        cmocka_unit_test_setup_teardown(test_env_fallback_and_override, clear_env, clear_env),
        cmocka_unit_test_setup(test_durations, clear_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
