/* test_webhook_cli.c - kubenexus-webhook's command line as a user meets it,
 * and its connection limit, against the real binary. */
#include <openssl/ssl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "http_client.h"
#include "proc.h"
#include "tls_client.h"
#include "webhook_proc.h"

#define WAIT_MS 20000

static char *g_dir;
static char g_ca[600], g_cert[600], g_key[600];

static int group_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if ((g_dir = kn_it_tempdir("kn-webhook-cli")) == NULL || kn_it_gen_certs(g_dir, "c", NULL))
        return -1;
    snprintf(g_ca, sizeof(g_ca), "%s/c/ca.crt", g_dir);
    snprintf(g_cert, sizeof(g_cert), "%s/c/tls.crt", g_dir);
    snprintf(g_key, sizeof(g_key), "%s/c/tls.key", g_dir);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    kn_it_rmtree(g_dir);
    free(g_dir);
    curl_global_cleanup();
    return 0;
}

/* Runs the binary with args, returns its exit status; its stderr (and
 * stdout) are left in DIR/out. */
static int run(const char *args, char **out)
{
    int rc = kn_it_sh("'%s/kubenexus-webhook' %s >'%s/out' 2>&1", KN_BIN_DIR, args, g_dir);
    char path[700];
    snprintf(path, sizeof(path), "%s/out", g_dir);
    *out = kn_it_read_file(path, NULL);
    return rc;
}

static void test_usage_errors_exit_2(void **state)
{
    (void)state;
    static const char *cases[][2] = {
        {"", "--tls-cert-file and --tls-key-file are required"},
        {"--tls-cert-file a --tls-key-file b --bogus", "unknown flag --bogus"},
        {"--tls-cert-file a --tls-key-file b --port", "--port needs a value"},
        {"--tls-cert-file=a --tls-key-file=b --max-connections=0", "--max-connections"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out = NULL;
        assert_int_equal(run(cases[i][0], &out), 2);
        assert_non_null(out);
        assert_non_null(strstr(out, cases[i][1]));
        assert_non_null(strstr(out, "usage: kubenexus-webhook"));
        free(out);
    }
}

static void test_help_exits_0(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(run("--help", &out), 0);
    assert_non_null(strstr(out, "--tls-cert-file"));
    assert_non_null(strstr(out, "KUBENEXUS_WEBHOOK_"));
    free(out);
}

static void test_unreadable_cert_names_the_file(void **state)
{
    (void)state;
    char args[1400], *out = NULL;
    snprintf(args, sizeof(args), "--tls-cert-file '%s/missing.crt' --tls-key-file '%s'", g_dir, g_key);
    assert_int_equal(run(args, &out), 1);
    assert_non_null(strstr(out, "missing.crt"));
    free(out);
    /* A key that belongs to another certificate is refused too. */
    assert_int_equal(kn_it_gen_certs(g_dir, "other", NULL), 0);
    snprintf(args, sizeof(args), "--tls-cert-file '%s' --tls-key-file '%s/other/tls.key'", g_cert, g_dir);
    assert_int_equal(run(args, &out), 1);
    assert_non_null(strstr(out, "does not match"));
    free(out);
}

static void test_env_fallback_starts_server(void **state)
{
    (void)state;
    setenv("KUBENEXUS_WEBHOOK_TLS_CERT_FILE", g_cert, 1);
    setenv("KUBENEXUS_WEBHOOK_TLS_KEY_FILE", g_key, 1);
    kn_it_webhook w;
    int rc = kn_it_webhook_start(&w, g_dir, NULL, NULL, NULL); /* no cert flags */
    unsetenv("KUBENEXUS_WEBHOOK_TLS_CERT_FILE");
    unsetenv("KUBENEXUS_WEBHOOK_TLS_KEY_FILE");
    assert_int_equal(rc, 0);
    char url[128];
    snprintf(url, sizeof(url), "https://localhost:%d/healthz", w.port);
    CURL *c = curl_easy_init();
    kn_http_resp r;
    kn_http_do(c, "GET", url, NULL, 0, g_ca, CURL_HTTP_VERSION_2TLS, &r);
    curl_easy_cleanup(c);
    assert_int_equal(r.status, 200);
    kn_http_resp_free(&r);
    int st = kn_it_webhook_stop(&w, WAIT_MS);
    assert_true(st != -1 && WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* With --max-connections 1 a second client waits in the backlog until the
 * first leaves, then is served. */
static void test_connection_limit(void **state)
{
    (void)state;
    kn_it_webhook w;
    const char *flags[] = {"--max-connections", "1", "--threads", "2", NULL};
    assert_int_equal(kn_it_webhook_start(&w, g_dir, g_cert, g_key, flags), 0);
    kn_it_tls first, second;
    assert_int_equal(kn_it_tls_connect(&first, w.port, g_ca, TLS1_2_VERSION, TLS1_3_VERSION), 0);
    /* Nobody accepts the second connection, so its handshake cannot finish. */
    assert_int_equal(kn_it_tls_connect_within(&second, w.port, g_ca, TLS1_2_VERSION, TLS1_3_VERSION, 1500), -1);
    kn_it_tls_close(&first);
    int served = 0;
    for (int waited = 0; waited < WAIT_MS && !served; waited += 100) {
        if (kn_it_tls_connect(&second, w.port, g_ca, TLS1_2_VERSION, TLS1_3_VERSION) == 0) {
            served = 1;
            kn_it_tls_close(&second);
        } else {
            kn_it_sleep_ms(100);
        }
    }
    assert_true(served);
    int st = kn_it_webhook_stop(&w, WAIT_MS);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        kn_it_webhook_dump_log(&w);
    assert_true(st != -1 && WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_errors_exit_2),
        cmocka_unit_test(test_help_exits_0),
        cmocka_unit_test(test_unreadable_cert_names_the_file),
        cmocka_unit_test(test_env_fallback_starts_server),
        cmocka_unit_test(test_connection_limit),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
