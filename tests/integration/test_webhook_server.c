/* test_webhook_server.c - the real kubenexus-webhook over real TLS.
 *
 * One server runs for the whole suite, serving certificates made by
 * certs/gen-certs.sh and mounted the way kubelet mounts a Secret
 * (live/tls.crt -> ..data/tls.crt, ..data -> a versioned directory), so a
 * rotation is the same atomic symlink swap as in a cluster. The tests run in
 * order; the last one stops the server with SIGTERM. */
#include <openssl/evp.h>
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

#include "admission/admission.h"
#include "http_client.h"
#include "json/json.h"
#include "proc.h"
#include "tls_client.h"
#include "webhook_proc.h"

#define REVIEW_UID "705ab4f5-6393-11e8-b7cc-42010a800002"
#define WAIT_MS 20000 /* generous bound for anything that polls */

static struct {
    char *dir;
    char ca[600], cert[600], key[600];
    kn_it_webhook srv;
    int port; /* srv.port */
    char *review;
    size_t review_len;
    kn_it_webhook big; /* test_request_limit_above_8mib's own server */
} g;

static void url(char *buf, size_t cap, const char *path)
{
    snprintf(buf, cap, "https://localhost:%d%s", g.port, path);
}

static void request(CURL *c, const char *method, const char *path, const char *body, size_t len, long version,
                    kn_http_resp *r)
{
    char u[256];
    url(u, sizeof(u), path);
    kn_http_do(c, method, u, body, len, g.ca, version, r);
}

/* A one-off request on a fresh handle. */
static void request1(const char *method, const char *path, const char *body, size_t len, long version,
                     kn_http_resp *r)
{
    CURL *c = curl_easy_init();
    request(c, method, path, body, len, version, r);
    curl_easy_cleanup(c);
}

static void dump_log(void)
{
    kn_it_webhook_dump_log(&g.srv);
}

/* ---- certificates, kubelet-style ------------------------------------- */

/* Points live/..data at version, atomically, as kubelet does. */
static int publish(const char *version)
{
    return kn_it_sh("cd '%s/live' && ln -sfn '../%s' ..data_tmp && mv -T ..data_tmp ..data", g.dir, version);
}

static int group_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g.dir = kn_it_tempdir("kn-webhook-it");
    if (g.dir == NULL || kn_it_gen_certs(g.dir, "v1", NULL) != 0 ||
        kn_it_sh("mkdir -p '%s/live' && cd '%s/live' && ln -s ../v1 ..data && "
                 "ln -s ..data/tls.crt tls.crt && ln -s ..data/tls.key tls.key",
                 g.dir, g.dir) != 0)
        return -1;
    snprintf(g.ca, sizeof(g.ca), "%s/v1/ca.crt", g.dir);
    snprintf(g.cert, sizeof(g.cert), "%s/live/tls.crt", g.dir);
    snprintf(g.key, sizeof(g.key), "%s/live/tls.key", g.dir);
    char fixture[600];
    snprintf(fixture, sizeof(fixture), "%s/server/review-executor-pod.json", KN_FIXTURES);
    if ((g.review = kn_it_read_file(fixture, &g.review_len)) == NULL)
        return -1;

    const char *flags[] = {"--cert-reload-interval=200ms",
                           "--request-timeout=3s",
                           "--shutdown-timeout",
                           "5s",
                           "--threads",
                           "2",
                           "--log-level",
                           "debug",
                           NULL};
    if (kn_it_webhook_start(&g.srv, g.dir, g.cert, g.key, flags) != 0)
        return -1;
    g.port = g.srv.port;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    kn_it_webhook_kill(&g.srv, WAIT_MS);
    kn_it_webhook_kill(&g.big, WAIT_MS); /* left running by a failed test */
    if (getenv("KN_IT_KEEP") != NULL)    /* for debugging: keep certs and the server log */
        fprintf(stderr, "kept %s\n", g.dir);
    else
        kn_it_rmtree(g.dir);
    free(g.dir);
    free(g.review);
    curl_global_cleanup();
    return 0;
}

/* ---- assertions on answers -------------------------------------------- */

static char *b64decode(const char *s, size_t *len)
{
    size_t n = strlen(s);
    unsigned char *out = malloc(n + 1);
    int m = out != NULL ? EVP_DecodeBlock(out, (const unsigned char *)s, (int)n) : -1;
    if (m < 0) {
        free(out);
        return NULL;
    }
    while (n > 0 && s[n - 1] == '=') { /* EVP_DecodeBlock counts padding as zeros */
        n--;
        m--;
    }
    out[m] = '\0';
    *len = (size_t)m;
    return (char *)out;
}

/* The executor pod carries gang labels but default-scheduler: the answer
 * must echo the uid, allow it and (on /mutate) patch in our scheduler; and
 * it must be exactly what the rules library answers for the same review. */
static void assert_review_answer(const kn_http_resp *r, int mutate)
{
    assert_int_equal(r->rc, CURLE_OK);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->content_type, "application/json"));
    kn_admit_config cfg = {.scheduler_name = "kubenexus-scheduler"};
    kn_admit_result want;
    kn_admit_http(g.review, g.review_len, mutate ? KN_ADMIT_MUTATE : KN_ADMIT_VALIDATE, &cfg, &want);
    assert_int_equal(want.http_status, 200);
    assert_int_equal(r->len, want.body_len);
    assert_memory_equal(r->body, want.body, want.body_len);
    assert_string_equal(want.verdict, mutate ? "patched" : "allowed");
    int expect_patch = mutate;
    kn_admit_result_free(&want);
    kn_json *doc = kn_json_parse(r->body, r->len, NULL, NULL);
    assert_non_null(doc);
    assert_string_equal(kn_json_get_str(doc, "apiVersion"), "admission.k8s.io/v1");
    assert_string_equal(kn_json_get_str(doc, "kind"), "AdmissionReview");
    kn_json *resp = kn_json_get(doc, "response");
    assert_non_null(resp);
    assert_string_equal(kn_json_get_str(resp, "uid"), REVIEW_UID);
    assert_true(kn_json_bool(kn_json_get(resp, "allowed"), false));
    const char *patch64 = kn_json_get_str(resp, "patch");
    if (expect_patch) {
        assert_non_null(patch64);
        assert_string_equal(kn_json_get_str(resp, "patchType"), "JSONPatch");
        size_t plen = 0;
        char *patch = b64decode(patch64, &plen);
        assert_non_null(patch);
        kn_json *ops = kn_json_parse(patch, plen, NULL, NULL);
        assert_non_null(ops);
        int found = 0;
        for (size_t i = 0; i < kn_json_len(ops); i++) {
            kn_json *op = kn_json_at(ops, i);
            const char *path = kn_json_get_str(op, "path");
            if (path != NULL && strcmp(path, "/spec/schedulerName") == 0) {
                assert_string_equal(kn_json_get_str(op, "value"), "kubenexus-scheduler");
                found = 1;
            }
        }
        assert_true(found);
        kn_json_free(ops);
        free(patch);
    } else {
        assert_null(patch64);
    }
    kn_json_free(doc);
}

/* ---- tests ------------------------------------------------------------ */

static void test_health_and_ready(void **state)
{
    (void)state;
    kn_http_resp r;
    request1("GET", "/healthz", NULL, 0, CURL_HTTP_VERSION_1_1, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "ok");
    kn_http_resp_free(&r);
    request1("GET", "/readyz", NULL, 0, CURL_HTTP_VERSION_2TLS, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.http_version, CURL_HTTP_VERSION_2_0);
    assert_string_equal(r.body, "ok");
    kn_http_resp_free(&r);
    request1("POST", "/healthz", "x", 1, CURL_HTTP_VERSION_1_1, &r);
    assert_int_equal(r.status, 405);
    kn_http_resp_free(&r);
}

static void test_unknown_path_and_method(void **state)
{
    (void)state;
    kn_http_resp r;
    request1("GET", "/admit", NULL, 0, CURL_HTTP_VERSION_1_1, &r);
    assert_int_equal(r.status, 404);
    kn_http_resp_free(&r);
    request1("GET", "/mutate", NULL, 0, CURL_HTTP_VERSION_2TLS, &r);
    assert_int_equal(r.status, 405);
    assert_non_null(strstr(r.content_type, "application/json"));
    assert_non_null(strstr(r.body, "\"code\":405"));
    kn_http_resp_free(&r);
}

static void test_mutate_http1(void **state)
{
    (void)state;
    kn_http_resp r;
    request1("POST", "/mutate?timeout=10s", g.review, g.review_len, CURL_HTTP_VERSION_1_1, &r);
    assert_int_equal(r.http_version, CURL_HTTP_VERSION_1_1);
    assert_review_answer(&r, 1);
    kn_http_resp_free(&r);
}

static void test_mutate_and_validate_http2(void **state)
{
    (void)state;
    kn_http_resp r;
    request1("POST", "/mutate?timeout=10s", g.review, g.review_len, CURL_HTTP_VERSION_2TLS, &r);
    assert_int_equal(r.http_version, CURL_HTTP_VERSION_2_0);
    assert_review_answer(&r, 1);
    kn_http_resp_free(&r);
    request1("POST", "/validate?timeout=10s", g.review, g.review_len, CURL_HTTP_VERSION_2TLS, &r);
    assert_int_equal(r.http_version, CURL_HTTP_VERSION_2_0);
    assert_review_answer(&r, 0); /* validation never patches */
    kn_http_resp_free(&r);
}

static void test_keep_alive_reuse(void **state)
{
    (void)state;
    const long versions[] = {CURL_HTTP_VERSION_1_1, CURL_HTTP_VERSION_2TLS};
    for (int v = 0; v < 2; v++) {
        CURL *c = curl_easy_init();
        kn_http_resp r;
        request(c, "POST", "/validate", g.review, g.review_len, versions[v], &r);
        assert_int_equal(r.num_connects, 1);
        assert_review_answer(&r, 0);
        kn_http_resp_free(&r);
        request(c, "POST", "/mutate", g.review, g.review_len, versions[v], &r);
        assert_int_equal(r.num_connects, 0);
        assert_review_answer(&r, 1);
        kn_http_resp_free(&r);
        curl_easy_cleanup(c);
    }
}

static void test_malformed_bodies(void **state)
{
    (void)state;
    static const char *bodies[] = {
        "{\"kind\":\"AdmissionReview\",",                                        /* truncated */
        "",                                                                      /* empty */
        "[1,2,3]",                                                               /* not an object */
        "{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\"}", /* no request */
        "\xff\xfe\x00garbage",                                                   /* not text */
    };
    CURL *c = curl_easy_init();
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        kn_http_resp r;
        size_t len = i == 4 ? 10 : strlen(bodies[i]);
        request(c, "POST", "/validate", bodies[i], len, i % 2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1,
                &r);
        assert_int_equal(r.rc, CURLE_OK);
        assert_int_equal(r.status, 400);
        assert_non_null(strstr(r.content_type, "application/json"));
        kn_json *doc = kn_json_parse(r.body, r.len, NULL, NULL);
        assert_non_null(doc);
        assert_string_equal(kn_json_get_str(doc, "kind"), "Status");
        assert_string_equal(kn_json_get_str(doc, "status"), "Failure");
        assert_non_null(kn_json_get_str(doc, "message"));
        kn_json_free(doc);
        kn_http_resp_free(&r);
    }
    curl_easy_cleanup(c);
    kn_http_resp r; /* and the server still answers */
    request1("POST", "/mutate", g.review, g.review_len, CURL_HTTP_VERSION_2TLS, &r);
    assert_review_answer(&r, 1);
    kn_http_resp_free(&r);
}

static void test_oversized_body(void **state)
{
    (void)state;
    /* A valid review padded with whitespace: 8 MiB against the default 7 MiB
     * limit is refused; 6.5 MiB, the size of an UPDATE's review of an object
     * at the API server's 3 MiB limit (object and oldObject), is answered. */
    size_t len = 8u << 20;
    char *big = malloc(len);
    assert_non_null(big);
    memset(big, ' ', len);
    memcpy(big, g.review, g.review_len);
    const long versions[] = {CURL_HTTP_VERSION_1_1, CURL_HTTP_VERSION_2TLS};
    for (int v = 0; v < 2; v++) {
        kn_http_resp r;
        request1("POST", "/mutate", big, len, versions[v], &r);
        assert_int_equal(r.rc, CURLE_OK);
        assert_int_equal(r.status, 413);
        kn_http_resp_free(&r);
        request1("POST", "/mutate", big, (13u << 20) / 2, versions[v], &r);
        assert_review_answer(&r, 1);
        kn_http_resp_free(&r);
    }
    free(big);
    kn_http_resp r;
    request1("POST", "/validate", g.review, g.review_len, CURL_HTTP_VERSION_1_1, &r);
    assert_review_answer(&r, 0);
    kn_http_resp_free(&r);
}

/* --max-request-bytes above the JSON reader's own 8 MiB default is what
 * the server reads: a 9 MiB review with 16Mi is answered, not refused as
 * "body is not JSON". Its own server, as the limit is a start-up flag. */
static void test_request_limit_above_8mib(void **state)
{
    (void)state;
    char subdir[700];
    snprintf(subdir, sizeof(subdir), "%s/big", g.dir);
    assert_int_equal(kn_it_sh("mkdir -p '%s'", subdir), 0);
    const char *flags[] = {"--max-request-bytes", "16Mi", "--threads", "2", NULL};
    assert_int_equal(kn_it_webhook_start(&g.big, subdir, g.cert, g.key, flags), 0);
    size_t len = 9u << 20;
    char *big = malloc(len);
    assert_non_null(big);
    memset(big, ' ', len);
    memcpy(big, g.review, g.review_len);
    char u[128];
    snprintf(u, sizeof(u), "https://localhost:%d/mutate", g.big.port);
    const long versions[] = {CURL_HTTP_VERSION_1_1, CURL_HTTP_VERSION_2TLS};
    for (int v = 0; v < 2; v++) {
        CURL *c = curl_easy_init();
        kn_http_resp r;
        kn_http_do(c, "POST", u, big, len, g.ca, versions[v], &r);
        curl_easy_cleanup(c);
        if (r.status != 200)
            kn_it_webhook_dump_log(&g.big);
        assert_review_answer(&r, 1);
        kn_http_resp_free(&r);
    }
    free(big);
    int st = kn_it_webhook_stop(&g.big, WAIT_MS);
    assert_true(st != -1 && WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_slow_client_is_cut_off(void **state)
{
    (void)state;
    kn_it_tls slow;
    assert_int_equal(kn_it_tls_connect(&slow, g.port, g.ca, TLS1_2_VERSION, TLS1_3_VERSION), 0);
    assert_int_equal(kn_it_tls_write(&slow, "POST /validate HTTP/1.1\r\nHost: localhost\r\nCont"), 0);
    /* Others are served while it stalls... */
    kn_http_resp r;
    request1("POST", "/validate", g.review, g.review_len, CURL_HTTP_VERSION_1_1, &r);
    assert_review_answer(&r, 0);
    kn_http_resp_free(&r);
    /* ...and the server hangs up on it (--request-timeout=3s). */
    assert_int_equal(kn_it_tls_wait_closed(&slow, WAIT_MS), 1);
    kn_it_tls_close(&slow);
}

static void test_old_tls_refused(void **state)
{
    (void)state;
    kn_it_tls t;
    assert_int_equal(kn_it_tls_connect(&t, g.port, g.ca, TLS1_VERSION, TLS1_1_VERSION), -1);
    /* The same client succeeds when it may use TLS 1.2, so the refusal
     * above came from the server's minimum version. */
    assert_int_equal(kn_it_tls_connect(&t, g.port, g.ca, TLS1_VERSION, TLS1_2_VERSION), 0);
    assert_int_equal(SSL_version(t.ssl), TLS1_2_VERSION);
    kn_it_tls_close(&t);
}

static int current_serial(char *hex, size_t cap)
{
    kn_it_tls t;
    if (kn_it_tls_connect(&t, g.port, g.ca, TLS1_2_VERSION, TLS1_3_VERSION) != 0)
        return -1;
    int rc = kn_it_tls_peer_serial(&t, hex, cap);
    kn_it_tls_close(&t);
    return rc;
}

/* A request on an already open connection: it must still be the same one. */
static void assert_reused(CURL *c, long version)
{
    kn_http_resp r;
    request(c, "GET", "/healthz", NULL, 0, version, &r);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.num_connects, 0);
    kn_http_resp_free(&r);
}

static double metric_value(const char *series)
{
    kn_http_resp r;
    request1("GET", "/metrics", NULL, 0, CURL_HTTP_VERSION_1_1, &r);
    double v = -1;
    char *line = r.body != NULL ? strstr(r.body, series) : NULL;
    while (line != NULL && line != r.body && line[-1] != '\n')
        line = strstr(line + 1, series);
    if (line != NULL && line[strlen(series)] == ' ')
        v = strtod(line + strlen(series) + 1, NULL);
    kn_http_resp_free(&r);
    return v;
}

static void test_cert_rotation(void **state)
{
    (void)state;
    char before[128], now[128];
    assert_int_equal(current_serial(before, sizeof(before)), 0);
    /* Open keep-alive connections over both protocols before the swap. */
    CURL *h1 = curl_easy_init(), *h2 = curl_easy_init();
    kn_http_resp r;
    request(h1, "GET", "/healthz", NULL, 0, CURL_HTTP_VERSION_1_1, &r);
    kn_http_resp_free(&r);
    request(h2, "GET", "/healthz", NULL, 0, CURL_HTTP_VERSION_2TLS, &r);
    assert_int_equal(r.http_version, CURL_HTTP_VERSION_2_0);
    kn_http_resp_free(&r);

    /* cert-manager renews: same CA, new key and serial, swapped in at once. */
    char ca_args[1400];
    snprintf(ca_args, sizeof(ca_args), "--ca-cert '%s/v1/ca.crt' --ca-key '%s/v1/ca.key'", g.dir, g.dir);
    assert_int_equal(kn_it_gen_certs(g.dir, "v2", ca_args), 0);
    assert_int_equal(publish("v2"), 0);
    int seen = 0;
    for (int waited = 0; waited < WAIT_MS && !seen; waited += 100) {
        /* Using the old connections while waiting keeps them open. */
        assert_reused(h1, CURL_HTTP_VERSION_1_1);
        assert_reused(h2, CURL_HTTP_VERSION_2TLS);
        assert_int_equal(current_serial(now, sizeof(now)), 0);
        seen = strcmp(now, before) != 0;
        if (!seen)
            kn_it_sleep_ms(100);
    }
    if (!seen)
        dump_log();
    assert_true(seen);
    assert_reused(h1, CURL_HTTP_VERSION_1_1); /* survived the rotation */
    assert_reused(h2, CURL_HTTP_VERSION_2TLS);
    assert_true(metric_value("kubenexus_webhook_cert_reloads_total{result=\"success\"}") >= 1);

    /* A broken pair (v1's certificate with v2's key) is refused and v2 stays. */
    assert_int_equal(
        kn_it_sh("mkdir '%s/bad' && cp '%s/v1/tls.crt' '%s/v2/tls.key' '%s/bad/'", g.dir, g.dir, g.dir, g.dir), 0);
    assert_int_equal(publish("bad"), 0);
    double failures = -1;
    for (int waited = 0; waited < WAIT_MS && failures < 1; waited += 100) {
        failures = metric_value("kubenexus_webhook_cert_reloads_total{result=\"failure\"}");
        if (failures < 1)
            kn_it_sleep_ms(100);
    }
    assert_true(failures >= 1);
    char after_bad[128];
    assert_int_equal(current_serial(after_bad, sizeof(after_bad)), 0);
    assert_string_equal(after_bad, now);
    assert_int_equal(publish("v2"), 0);

    curl_easy_cleanup(h1);
    curl_easy_cleanup(h2);
}

static void test_metrics(void **state)
{
    (void)state;
    const char *series = "kubenexus_webhook_requests_total{path=\"/validate\",kind=\"Pod\",verdict=\"allowed\"}";
    double before = metric_value(series);
    kn_http_resp r;
    request1("POST", "/validate", g.review, g.review_len, CURL_HTTP_VERSION_2TLS, &r);
    assert_review_answer(&r, 0);
    kn_http_resp_free(&r);
    assert_true(before >= 1); /* earlier tests validated this pod */
    assert_true(metric_value(series) == before + 1);
    assert_true(metric_value("kubenexus_webhook_tls_handshakes_total") >= 10);
    assert_true(metric_value("kubenexus_webhook_errors_total{reason=\"bad_request\"}") >= 5);
    assert_true(metric_value("kubenexus_webhook_errors_total{reason=\"body_too_large\"}") >= 2);

    request1("GET", "/metrics", NULL, 0, CURL_HTTP_VERSION_1_1, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.content_type, "text/plain"));
    assert_non_null(strstr(r.body, "kubenexus_webhook_request_duration_seconds_count{path=\"/mutate\"}"));
    assert_non_null(strstr(r.body, "kubenexus_webhook_in_flight_requests"));
    kn_http_resp_free(&r);
}

static void test_sigterm_drains_and_exits_zero(void **state)
{
    (void)state;
    /* An HTTP/1.1 keep-alive connection open across the signal sees
     * readyz turn 503 while the server drains. */
    CURL *c = curl_easy_init(), *idle_h2 = curl_easy_init();
    kn_http_resp r;
    request(c, "GET", "/readyz", NULL, 0, CURL_HTTP_VERSION_1_1, &r);
    assert_int_equal(r.status, 200);
    kn_http_resp_free(&r);
    /* An idle HTTP/2 connection too: it gets a GOAWAY and must not hold
     * the exit up (or make it fail). */
    request(idle_h2, "GET", "/healthz", NULL, 0, CURL_HTTP_VERSION_2TLS, &r);
    assert_int_equal(r.http_version, CURL_HTTP_VERSION_2_0);
    kn_http_resp_free(&r);
    assert_int_equal(kill(g.srv.pid, SIGTERM), 0);
    long status = 200;
    for (int waited = 0; waited < WAIT_MS && status == 200; waited += 20) {
        request(c, "GET", "/readyz", NULL, 0, CURL_HTTP_VERSION_1_1, &r);
        status = r.rc == CURLE_OK ? r.status : -1;
        kn_http_resp_free(&r);
        if (status == 200)
            kn_it_sleep_ms(20);
    }
    assert_int_equal(status, 503);
    curl_easy_cleanup(c);
    int st = kn_it_wait_exit(g.srv.pid, WAIT_MS);
    g.srv.pid = 0;
    curl_easy_cleanup(idle_h2); /* only now: the server must not wait for it */
    if (!(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0))
        dump_log();
    assert_true(st != -1);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health_and_ready),
        cmocka_unit_test(test_unknown_path_and_method),
        cmocka_unit_test(test_mutate_http1),
        cmocka_unit_test(test_mutate_and_validate_http2),
        cmocka_unit_test(test_keep_alive_reuse),
        cmocka_unit_test(test_malformed_bodies),
        cmocka_unit_test(test_oversized_body),
        cmocka_unit_test(test_request_limit_above_8mib),
        cmocka_unit_test(test_slow_client_is_cut_off),
        cmocka_unit_test(test_old_tls_refused),
        cmocka_unit_test(test_cert_rotation),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_sigterm_drains_and_exits_zero),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
