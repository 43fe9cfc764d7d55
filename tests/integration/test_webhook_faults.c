/* test_webhook_faults.c - the real kubenexus-webhook under abuse.
 *
 * Thousands of connections opened and dropped at every stage (TCP only, half
 * a ClientHello, a finished handshake, half a request body), slowloris
 * clients, handshakes that stop half-way, bodies of every wrong shape over
 * HTTP/1.1 and HTTP/2, and more clients than --max-connections. Throughout,
 * well-formed AdmissionReviews sent on fresh connections must get the exact
 * answer the rules library gives, each within LIVENESS_MS (a liveness bound,
 * not a benchmark), and the server's resident memory must stay flat. All
 * over real TLS on 127.0.0.1; every loop is bounded in count and time. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>

#include "abuse_client.h"
#include "admission/admission.h"
#include "http_client.h"
#include "json/json.h"
#include "proc.h"
#include "tls_client.h"
#include "webhook_proc.h"

#define WAIT_MS 10000       /* bound for anything the server must do by itself */
#define LIVENESS_MS 3000    /* a well-formed request must be answered within this (2 cores, shared) */
#define MAX_CONNECTIONS 256 /* --max-connections of the main server */
#define WAVE 250            /* connections held open at once, under MAX_CONNECTIONS */
#define WAVES_PER_ROUND 2
#ifndef ROUNDS
#define ROUNDS 6
#endif
/* ROUNDS x WAVES_PER_ROUND x WAVE = 6 x 2 x 250 = 3,000 connections */
#define LIVENESS_EVERY 50 /* a well-formed request after this many abusive ones */
#define RSS_GROWTH_KIB (16 * 1024)
#define MAX_BODY (7 << 20) /* the webhook's default --max-request-bytes */
#define SLOW_CLIENTS 16
#define SLOW_TICK_MS 500

#define PATH_MUTATE "/mutate?timeout=10s"
#define PATH_VALIDATE "/validate?timeout=10s"

typedef struct body_case {
    const char *name;
    char *body;
    size_t len;
    int want; /* 400 or 413 */
} body_case;

enum { N_BODY_CASES = 24 };

static struct {
    char *dir;
    char ca[600], cert[600], key[600];
    kn_it_webhook srv;
    char *review;
    size_t review_len;
    kn_admit_result want[2]; /* [0] /validate, [1] /mutate */
    unsigned char *hello;
    size_t hello_len;
    body_case cases[N_BODY_CASES];
    int n_cases;
    long served, worst_ms; /* well-formed requests answered during the abuse */
    kn_it_webhook *extra;  /* a test's own server, killed at teardown if left running */
} g;

static void dump_log(void)
{
    kn_it_webhook_dump_log(&g.srv);
}

/* ---- well-formed requests -------------------------------------------- */

/* A well-formed review on a fresh connection to port: the exact answer the
 * rules library gives, within LIVENESS_MS. */
static void assert_served_on(int port, long version, int mutate)
{
    char u[128];
    snprintf(u, sizeof(u), "https://localhost:%d%s", port, mutate ? PATH_MUTATE : PATH_VALIDATE);
    CURL *c = curl_easy_init();
    kn_http_resp r;
    long long t0 = kn_it_now_ms();
    kn_http_do(c, "POST", u, g.review, g.review_len, g.ca, version, &r);
    long took = (long)(kn_it_now_ms() - t0);
    curl_easy_cleanup(c);
    const kn_admit_result *want = &g.want[mutate];
    if (r.rc != CURLE_OK || r.status != 200 || took > LIVENESS_MS) {
        fprintf(stderr, "well-formed request: curl %d, HTTP %ld, %ld ms\n", (int)r.rc, r.status, took);
        dump_log();
    }
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.http_version,
                     version == CURL_HTTP_VERSION_1_1 ? CURL_HTTP_VERSION_1_1 : CURL_HTTP_VERSION_2_0);
    assert_int_equal(r.len, want->body_len);
    assert_memory_equal(r.body, want->body, want->body_len);
    assert_true(took <= LIVENESS_MS);
    kn_http_resp_free(&r);
    g.served++;
    if (took > g.worst_ms)
        g.worst_ms = took;
}

static void assert_served(int i)
{
    assert_served_on(g.srv.port, i % 2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1, (i / 2) % 2);
}

/* A Kubernetes Status body, as every refusal of ours is. */
static void assert_status_json(const char *what, long status, const char *ctype, const char *body, size_t len)
{
    kn_json *doc = kn_json_parse(body, len, NULL, NULL);
    if (strstr(ctype, "application/json") == NULL || doc == NULL)
        fprintf(stderr, "%s: HTTP %ld %s: %.300s\n", what, status, ctype, body);
    assert_non_null(strstr(ctype, "application/json"));
    assert_non_null(doc);
    assert_string_equal(kn_json_get_str(doc, "kind"), "Status");
    assert_string_equal(kn_json_get_str(doc, "status"), "Failure");
    assert_non_null(kn_json_get_str(doc, "message"));
    int64_t code = 0;
    assert_int_equal(kn_json_int(kn_json_get(doc, "code"), &code), 0);
    assert_int_equal(code, status);
    kn_json_free(doc);
}

/* ---- bodies of every wrong shape ------------------------------------- */

static void add_case(const char *name, char *body, size_t len, int want)
{
    assert_true(g.n_cases < N_BODY_CASES && body != NULL);
    g.cases[g.n_cases++] = (body_case){name, body, len, want};
}

static void add_text(const char *name, const char *text)
{
    add_case(name, strdup(text), strlen(text), 400);
}

/* An AdmissionReview envelope with the given JSON fragments spliced in. */
static void add_review(const char *name, const char *api_version, const char *request)
{
    char *b = NULL;
    int n = asprintf(&b, "{\"apiVersion\":\"%s\",\"kind\":\"AdmissionReview\"%s%s}", api_version,
                     request != NULL ? ",\"request\":" : "", request != NULL ? request : "");
    add_case(name, b, n < 0 ? 0 : (size_t)n, 400);
}

#define REQ_HEAD "{\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},\"operation\":\"CREATE\","
#define POD "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{}}"
#define V1 "admission.k8s.io/v1"

/* depth levels of {"a": ... } as request.object. */
static char *deep_review(int depth, size_t *len)
{
    const char head[] = "{\"apiVersion\":\"" V1 "\",\"kind\":\"AdmissionReview\",\"request\":" REQ_HEAD
                        "\"uid\":\"u\",\"object\":";
    size_t cap = sizeof(head) + (size_t)depth * 7 + 8;
    char *b = malloc(cap), *p = b;
    if (b == NULL)
        return NULL;
    p += sprintf(p, "%s", head);
    for (int i = 0; i < depth; i++)
        p += sprintf(p, "{\"a\":");
    p += sprintf(p, "1");
    for (int i = 0; i < depth + 2; i++)
        *p++ = '}';
    *len = (size_t)(p - b);
    return b;
}

static char *many_keys(int n, size_t *len)
{
    char *b = malloc((size_t)n * 16 + 128), *p = b;
    if (b == NULL)
        return NULL;
    p += sprintf(p, "{\"apiVersion\":\"" V1 "\",\"kind\":\"AdmissionReview\"");
    for (int i = 0; i < n; i++)
        p += sprintf(p, ",\"k%d\":%d", i, i);
    *p++ = '}';
    *len = (size_t)(p - b);
    return b;
}

/* A string value of about size bytes in the apiVersion. */
static char *huge_api_version(size_t size, size_t *len)
{
    char *b = malloc(size + 64);
    if (b == NULL)
        return NULL;
    int n = sprintf(b, "{\"kind\":\"AdmissionReview\",\"apiVersion\":\"");
    memset(b + n, 'a', size);
    memcpy(b + n + size, "\"}", 3);
    *len = (size_t)n + size + 2;
    return b;
}

/* The valid review padded with whitespace to one byte over the limit. */
static char *over_limit(size_t *len)
{
    char *b = malloc(MAX_BODY + 1);
    if (b == NULL)
        return NULL;
    memset(b, ' ', MAX_BODY + 1);
    memcpy(b, g.review, g.review_len);
    *len = MAX_BODY + 1;
    return b;
}

static void build_cases(void)
{
    size_t len = 0;
    char *b;
    add_text("empty", "");
    add_text("not JSON", "hello, webhook");
    add_text("JSON number", "42");
    add_text("JSON string", "\"AdmissionReview\"");
    add_text("JSON null", "null");
    add_text("JSON array", "[{\"apiVersion\":\"" V1 "\",\"kind\":\"AdmissionReview\"}]");
    add_text("truncated", "{\"apiVersion\":\"" V1 "\",\"kind\":\"AdmissionRev");
    add_text("trailing garbage", "{\"apiVersion\":\"" V1 "\",\"kind\":\"AdmissionReview\"}}x");
    add_review("wrong apiVersion", "admission.k8s.io/v1beta1", REQ_HEAD "\"uid\":\"u\",\"object\":" POD "}");
    add_text("wrong kind", "{\"apiVersion\":\"" V1 "\",\"kind\":\"AdmissionResponse\","
                           "\"request\":" REQ_HEAD "\"uid\":\"u\",\"object\":" POD "}}");
    add_review("missing request", V1, NULL);
    add_review("request null", V1, "null");
    add_review("request without uid", V1, REQ_HEAD "\"object\":" POD "}");
    add_review("uid a number", V1, REQ_HEAD "\"uid\":12345,\"object\":" POD "}");
    add_review("uid an object", V1, REQ_HEAD "\"uid\":{\"u\":1},\"object\":" POD "}");
    add_review("object a string", V1, REQ_HEAD "\"uid\":\"u\",\"object\":\"pod\"}");
    add_review("object an array", V1, REQ_HEAD "\"uid\":\"u\",\"object\":[" POD "]}");
    add_review("uid with an escaped NUL", V1, REQ_HEAD "\"uid\":\"a\\u0000b\",\"object\":" POD "}");
    add_review("uid not UTF-8", V1, REQ_HEAD "\"uid\":\"\xc3\x28\xff\",\"object\":" POD "}");
    static const char nul[] = "{\"apiVersion\":\"" V1 "\"\0,\"kind\":\"AdmissionReview\"}";
    add_case("raw NUL bytes", memcpy(malloc(sizeof(nul)), nul, sizeof(nul)), sizeof(nul), 400);
    b = deep_review(1000, &len);
    add_case("nested 1000 levels", b, len, 400);
    b = many_keys(10000, &len);
    add_case("10,000 keys", b, len, 400);
    b = huge_api_version(MAX_BODY - 256, &len);
    add_case("string near the size limit", b, len, 400);
    b = over_limit(&len);
    add_case("one byte over the size limit", b, len, 413);
}

/* One wrong body over one protocol; then the server still serves. */
static void send_case(const body_case *bc, long version, int mutate)
{
    char u[128], what[160];
    snprintf(u, sizeof(u), "https://localhost:%d%s", g.srv.port, mutate ? PATH_MUTATE : PATH_VALIDATE);
    snprintf(what, sizeof(what), "%s over HTTP/%s", bc->name, version == CURL_HTTP_VERSION_1_1 ? "1.1" : "2");
    CURL *c = curl_easy_init();
    kn_http_resp r;
    kn_http_do(c, "POST", u, bc->body, bc->len, g.ca, version, &r);
    curl_easy_cleanup(c);
    if (r.rc != CURLE_OK || r.status != bc->want)
        fprintf(stderr, "%s: curl %d HTTP %ld: %.300s\n", what, (int)r.rc, r.status, r.body);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, bc->want);
    assert_status_json(what, r.status, r.content_type, r.body, r.len);
    kn_http_resp_free(&r);
}

static void all_body_cases(void)
{
    for (int i = 0; i < g.n_cases; i++) {
        send_case(&g.cases[i], CURL_HTTP_VERSION_1_1, i % 2);
        send_case(&g.cases[i], CURL_HTTP_VERSION_2TLS, (i + 1) % 2);
        assert_served(i);
    }
}

/* ---- broken HTTP/1.1 framing, sent raw ------------------------------- */

static char *post_head(const char *extra_headers)
{
    char *h = NULL;
    if (asprintf(&h, "POST " PATH_MUTATE " HTTP/1.1\r\nHost: localhost\r\n%s\r\n", extra_headers) < 0)
        return NULL;
    return h;
}

/* head (+ body) sent raw; the answer and whether the server hung up. */
static void raw_exchange(const char *headers, const char *body, size_t len, int wait_close, kn_it_raw_resp *r)
{
    char *head = post_head(headers);
    assert_non_null(head);
    size_t hl = strlen(head);
    char *req = malloc(hl + len);
    assert_non_null(req);
    memcpy(req, head, hl);
    memcpy(req + hl, body, len);
    assert_int_equal(kn_it_raw_h1(g.srv.port, g.ca, req, hl + len, wait_close, WAIT_MS, r), 0);
    free(req);
    free(head);
}

static void test_chunked_bodies(void **state)
{
    (void)state;
    /* Chunked is valid HTTP/1.1: the review arrives whole and is answered. */
    size_t half = g.review_len / 2;
    char *chunked = NULL;
    int n = asprintf(&chunked, "%zx\r\n%.*s\r\n%zx\r\n%s\r\n0\r\n\r\n", half, (int)half, g.review,
                     g.review_len - half, g.review + half);
    assert_true(n > 0);
    kn_it_raw_resp r;
    raw_exchange("Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", chunked, (size_t)n, 0, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, g.want[1].body_len);
    assert_memory_equal(r.body, g.want[1].body, r.len);
    /* The answer itself has a Content-Length, not chunks. */
    assert_string_equal(r.te, "");
    assert_false(r.dechunked);
    kn_it_raw_resp_free(&r);
    /* A chunk size that is not hex: framing is broken, the server refuses
     * and hangs up rather than guessing. */
    raw_exchange("Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", "zz\r\n{}\r\n0\r\n\r\n",
                 strlen("zz\r\n{}\r\n0\r\n\r\n"), 1, &r);
    assert_true(r.status == 0 || (r.status >= 400 && r.status < 500));
    assert_true(r.closed);
    kn_it_raw_resp_free(&r);
    /* A chunked review that never ends is cut by --request-timeout. */
    raw_exchange("Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", "100\r\n{\"apiVersion\"",
                 strlen("100\r\n{\"apiVersion\""), 1, &r);
    assert_true(r.status == 0 || (r.status >= 400 && r.status < 500));
    assert_true(r.closed);
    kn_it_raw_resp_free(&r);
    free(chunked);
    assert_served(0);
    assert_served(1);
}

static void test_content_length_lies(void **state)
{
    (void)state;
    char hdr[160];
    kn_it_raw_resp r;
    /* Shorter than sent: the first 10 bytes are the body (not a review:
     * 400), the rest is not a request (the server hangs up). */
    raw_exchange("Content-Type: application/json\r\nContent-Length: 10\r\n", g.review, g.review_len, 1, &r);
    assert_int_equal(r.status, 400);
    assert_true(r.closed);
    kn_it_raw_resp_free(&r);
    /* Longer than sent: nothing to answer until --request-timeout cuts it. */
    snprintf(hdr, sizeof(hdr), "Content-Type: application/json\r\nContent-Length: %zu\r\n", g.review_len + 100);
    raw_exchange(hdr, g.review, g.review_len, 1, &r);
    assert_true(r.status == 0 || (r.status >= 400 && r.status < 500));
    assert_true(r.closed);
    kn_it_raw_resp_free(&r);
    /* No length at all: an empty body (400), then the bytes are garbage. */
    raw_exchange("Content-Type: application/json\r\n", g.review, g.review_len, 1, &r);
    assert_int_equal(r.status, 400);
    assert_true(r.closed);
    kn_it_raw_resp_free(&r);
    /* Not a number. */
    raw_exchange("Content-Length: lots\r\n", g.review, g.review_len, 1, &r);
    assert_true(r.status >= 400 && r.status < 500);
    assert_true(r.closed);
    kn_it_raw_resp_free(&r);
    assert_served(2);
    assert_served(3);
}

/* Framing a front end and the webhook could read two ways is refused
 * (RFC 9112 6.3): a request with both Content-Length and Transfer-Encoding,
 * or two different Content-Lengths, gets 400 and the connection closes, so
 * nothing sent behind its body is served as a request of its own. */
static void test_ambiguous_framing_is_refused(void **state)
{
    (void)state;
    kn_it_raw_resp r;
    char *body = NULL, hdr[200];
    /* A chunked review, a Content-Length covering only its first bytes, and a
     * request smuggled behind: the server must not answer it. */
    int n = asprintf(&body, "%zx\r\n%s\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", g.review_len,
                     g.review);
    assert_true(n > 0);
    snprintf(hdr, sizeof(hdr),
             "Content-Type: application/json\r\nContent-Length: 8\r\n"
             "Transfer-Encoding: chunked\r\n");
    raw_exchange(hdr, body, (size_t)n, 1, &r);
    assert_int_equal(r.status, 400);
    assert_true(r.closed);
    kn_it_raw_resp_free(&r);
    /* Transfer-Encoding first, then Content-Length: the same. */
    snprintf(hdr, sizeof(hdr),
             "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
             "Content-Length: %zu\r\n",
             (size_t)n);
    raw_exchange(hdr, body, (size_t)n, 1, &r);
    assert_int_equal(r.status, 400);
    assert_true(r.closed);
    kn_it_raw_resp_free(&r);
    free(body);
    /* Two Content-Lengths that disagree. */
    snprintf(hdr, sizeof(hdr),
             "Content-Type: application/json\r\nContent-Length: %zu\r\n"
             "Content-Length: 10\r\n",
             g.review_len);
    raw_exchange(hdr, g.review, g.review_len, 1, &r);
    assert_int_equal(r.status, 400);
    assert_true(r.closed);
    kn_it_raw_resp_free(&r);
    /* Two that agree are one length (RFC 9110 8.6 allows it): answered. */
    snprintf(hdr, sizeof(hdr),
             "Content-Type: application/json\r\nContent-Length: %zu\r\n"
             "Content-Length: %zu\r\n",
             g.review_len, g.review_len);
    raw_exchange(hdr, g.review, g.review_len, 0, &r);
    assert_int_equal(r.status, 200);
    kn_it_raw_resp_free(&r);
    assert_served(0);
}

/* Any type but application/json is refused with 415, even around a review;
 * JSON with parameters, in any case, or with no Content-Type at all is read. */
static void test_wrong_content_type(void **state)
{
    (void)state;
    static const char *types[] = {"text/plain", "application/x-www-form-urlencoded",
                                  "multipart/form-data; boundary=x", "application/jsonx",
                                  "application/merge-patch+json"};
    char hdr[200];
    for (int i = 0; i < 5; i++) {
        snprintf(hdr, sizeof(hdr), "Content-Type: %s\r\nContent-Length: %zu\r\n", types[i], g.review_len);
        kn_it_raw_resp r;
        raw_exchange(hdr, g.review, g.review_len, 0, &r);
        assert_int_equal(r.status, 415);
        assert_status_json(types[i], r.status, r.ctype, r.body, r.len);
        assert_non_null(memmem(r.body, r.len, "UnsupportedMediaType", 20));
        assert_non_null(memmem(r.body, r.len, types[i], strlen(types[i])));
        kn_it_raw_resp_free(&r);
        assert_served(i);
    }
    static const char *json_types[] = {"application/json; charset=utf-8", "Application/JSON",
                                       " application/json ;charset=UTF-8", NULL};
    for (int i = 0; i < 4; i++) {
        if (json_types[i])
            snprintf(hdr, sizeof(hdr), "Content-Type: %s\r\nContent-Length: %zu\r\n", json_types[i], g.review_len);
        else
            snprintf(hdr, sizeof(hdr), "Content-Length: %zu\r\n", g.review_len);
        kn_it_raw_resp r;
        raw_exchange(hdr, g.review, g.review_len, 0, &r);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.len, g.want[1].body_len);
        assert_memory_equal(r.body, g.want[1].body, r.len);
        assert_string_equal(r.server, ""); /* no h2o version handed out */
        kn_it_raw_resp_free(&r);
    }
}

static void test_bodies_of_every_wrong_shape(void **state)
{
    (void)state;
    all_body_cases();
}

/* ---- connections opened and dropped ---------------------------------- */

enum { DROP_AT_CONNECT, DROP_MID_HELLO, DROP_AFTER_HANDSHAKE, DROP_MID_BODY, N_DROPS };

typedef struct held {
    int fd;        /* raw, or -1 */
    kn_it_tls tls; /* tls.ssl NULL when raw */
} held;

typedef struct wave_stats {
    int opened, tls_failed;
} wave_stats;

static void open_one(int kind, held *h, wave_stats *st)
{
    h->fd = -1;
    memset(&h->tls, 0, sizeof(h->tls));
    h->tls.fd = -1;
    if (kind == DROP_AT_CONNECT || kind == DROP_MID_HELLO) {
        h->fd = kn_it_tcp_connect(g.srv.port, WAIT_MS);
        if (h->fd >= 0 && kind == DROP_MID_HELLO)
            kn_it_fd_write(h->fd, g.hello, g.hello_len / 2);
        st->opened += h->fd >= 0;
        return;
    }
    if (kn_it_tls_connect_within(&h->tls, g.srv.port, g.ca, TLS1_2_VERSION, TLS1_3_VERSION, WAIT_MS) != 0) {
        st->tls_failed++;
        return;
    }
    st->opened++;
    if (kind == DROP_MID_BODY) {
        char req[8192];
        int n = snprintf(req, sizeof(req),
                         "POST " PATH_VALIDATE " HTTP/1.1\r\nHost: localhost\r\n"
                         "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%.*s",
                         g.review_len, (int)(g.review_len / 2), g.review);
        if (n > 0 && (size_t)n < sizeof(req))
            kn_it_tls_write(&h->tls, req);
    }
}

/* Half the drops are a FIN, half a reset. */
static void drop_one(held *h, int rst)
{
    int fd = h->tls.ssl != NULL ? h->tls.fd : h->fd;
    if (fd >= 0 && rst) {
        struct linger l = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    }
    if (h->tls.ssl != NULL)
        kn_it_tls_close(&h->tls); /* no close_notify: just gone */
    else if (h->fd >= 0)
        close(h->fd);
}

typedef struct upload {
    const char *data;
    size_t sent, stop; /* the client gives up after stop bytes */
} upload;

static size_t upload_then_abort(char *buf, size_t size, size_t n, void *arg)
{
    upload *u = arg;
    if (u->sent >= u->stop)
        return CURL_READFUNC_ABORT;
    size_t k = size * n < u->stop - u->sent ? size * n : u->stop - u->sent;
    memcpy(buf, u->data + u->sent, k);
    u->sent += k;
    return k;
}

/* A real client (curl) that announces a 64 KiB review and gives up half-way
 * through sending it: over HTTP/2 a stream reset mid-DATA, over HTTP/1.1 a
 * connection closed mid-body. */
static void abort_upload(long version)
{
    enum { LEN = 64 * 1024 };
    char *body = malloc(LEN), u[128];
    assert_non_null(body);
    memset(body, ' ', LEN);
    memcpy(body, g.review, g.review_len);
    upload up = {body, 0, LEN / 2};
    snprintf(u, sizeof(u), "https://localhost:%d" PATH_MUTATE, g.srv.port);
    CURL *c = curl_easy_init();
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, u);
    curl_easy_setopt(c, CURLOPT_CAINFO, g.ca);
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, version);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)LEN);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, upload_then_abort);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)WAIT_MS);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    free(body);
    assert_int_equal(rc, CURLE_ABORTED_BY_CALLBACK);
    assert_int_equal(up.sent, LEN / 2);
}

/* WAVE abusive connections held open together, then all dropped, with
 * well-formed requests in between. */
static void abuse_wave(wave_stats *st)
{
    held *hs = calloc(WAVE, sizeof(*hs));
    assert_non_null(hs);
    for (int i = 0; i < WAVE; i++) {
        open_one(i % N_DROPS, &hs[i], st);
        if (i % LIVENESS_EVERY == LIVENESS_EVERY - 1)
            assert_served(i / LIVENESS_EVERY);
    }
    for (int i = 0; i < WAVE; i++)
        drop_one(&hs[i], (i / N_DROPS) % 2);
    free(hs);
    abort_upload(CURL_HTTP_VERSION_1_1);
    abort_upload(CURL_HTTP_VERSION_2TLS);
    assert_served(0);
}

/* Full ClientHellos answered by the server, then the clients vanish. */
static void half_handshakes_dropped(int n)
{
    for (int i = 0; i < n; i++) {
        int fd = kn_it_tcp_connect(g.srv.port, WAIT_MS);
        assert_true(fd >= 0);
        assert_int_equal(kn_it_fd_write(fd, g.hello, g.hello_len), 0);
        assert_true(kn_it_fd_readable(fd, WAIT_MS)); /* the ServerHello */
        kn_it_tcp_abort(fd);
    }
}

static void abuse_round(wave_stats *st)
{
    for (int w = 0; w < WAVES_PER_ROUND; w++)
        abuse_wave(st);
    half_handshakes_dropped(20);
    all_body_cases();
}

static void test_churn_and_memory_stays_flat(void **state)
{
    (void)state;
    wave_stats st = {0, 0};
    abuse_round(&st); /* warm-up: h2o's and OpenSSL's caches, malloc arenas */
    long warm = kn_it_rss_kib(g.srv.pid);
    for (int r = 1; r < ROUNDS; r++) {
        abuse_round(&st);
        if (getenv("KN_IT_RSS_TRACE") != NULL)
            fprintf(stderr, "round %d: VmRSS %ld KiB\n", r, kn_it_rss_kib(g.srv.pid));
    }
    long after = kn_it_rss_kib(g.srv.pid);
    fprintf(stderr,
            "[ churn ] %d connections opened and dropped (%d TLS handshakes failed), "
            "%ld well-formed requests answered (slowest %ld ms); VmRSS after warm-up %ld KiB, "
            "after %d more rounds %ld KiB (%+ld KiB)\n",
            st.opened, st.tls_failed, g.served, g.worst_ms, warm, ROUNDS - 1, after, after - warm);
    assert_int_equal(st.tls_failed, 0);
    assert_int_equal(st.opened, ROUNDS * WAVES_PER_ROUND * WAVE);
    assert_true(warm > 0 && after > 0);
#ifdef __SANITIZE_ADDRESS__
    /* ASan keeps freed memory in quarantine (256 MiB by default), so RSS
     * says nothing here; LeakSanitizer checks the server at its exit. */
    fprintf(stderr, "[ churn ] sanitizer build: VmRSS growth not checked\n");
#else
    assert_true(after - warm < RSS_GROWTH_KIB);
#endif
}

/* ---- slow clients ------------------------------------------------------ */

typedef struct slow_client {
    kn_it_tls t;
    const char *script; /* sent one byte per tick */
    size_t sent;
    int closed;
} slow_client;

/* One byte more, unless the server has hung up. */
static void slow_tick(slow_client *c)
{
    if (c->closed)
        return;
    if (kn_it_tls_hung_up(&c->t) || SSL_write(c->t.ssl, c->script + c->sent % strlen(c->script), 1) != 1) {
        ERR_clear_error();
        c->closed = 1;
        return;
    }
    c->sent++;
}

static void test_slowloris(void **state)
{
    (void)state;
    static const char header_drip[] = "POST /validate HTTP/1.1\r\nHost: localhost\r\n"
                                      "X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    static const char body_drip[] = "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"Adm";
    slow_client c[SLOW_CLIENTS];
    memset(c, 0, sizeof(c));
    for (int i = 0; i < SLOW_CLIENTS; i++) {
        assert_int_equal(
            kn_it_tls_connect_within(&c[i].t, g.srv.port, g.ca, TLS1_2_VERSION, TLS1_3_VERSION, WAIT_MS), 0);
        /* Non-blocking, so that looking for a hang-up never waits. */
        fcntl(c[i].t.fd, F_SETFL, fcntl(c[i].t.fd, F_GETFL) | O_NONBLOCK);
        c[i].script = header_drip;
        if (i % 2) { /* complete headers, then a body that drips */
            c[i].script = body_drip;
            assert_int_equal(kn_it_tls_write(&c[i].t, "POST /validate HTTP/1.1\r\n"
                                                      "Host: localhost\r\nContent-Length: 4000\r\n\r\n"),
                             0);
        }
    }
    /* --request-timeout is 2s: all must be gone well before the bound. */
    int open = SLOW_CLIENTS, ticks = 0;
    long long deadline = kn_it_now_ms() + WAIT_MS;
    while (open > 0 && kn_it_now_ms() < deadline) {
        open = 0;
        for (int i = 0; i < SLOW_CLIENTS; i++) {
            slow_tick(&c[i]);
            open += !c[i].closed;
        }
        assert_served(ticks++); /* others are served meanwhile */
        kn_it_sleep_ms(SLOW_TICK_MS);
    }
    size_t min_sent = SIZE_MAX;
    for (int i = 0; i < SLOW_CLIENTS; i++) {
        if (c[i].sent < min_sent)
            min_sent = c[i].sent;
        kn_it_tls_close(&c[i].t);
    }
    fprintf(stderr,
            "[ slowloris ] %d of %d slow clients still open after %d ticks; each "
            "dripped at least %zu bytes first\n",
            open, SLOW_CLIENTS, ticks, min_sent);
    assert_int_equal(open, 0);
    assert_true(min_sent >= 2); /* they really were dripping, not refused at once */
}

/* The same over HTTP/2, where every frame restarts h2o's idle timeout: a
 * client that PINGs, or drips one byte of DATA into a request, every tick
 * must still be cut (after at most twice --request-timeout), while a client
 * that keeps sending real requests on one connection keeps it. */
static void test_http2_slowloris(void **state)
{
    (void)state;
    enum { N = 8 };
    kn_it_tls c[N];
    int closed[N], ticks = 0, open = N;
    for (int i = 0; i < N; i++) {
        assert_int_equal(kn_it_h2_connect(&c[i], g.srv.port, g.ca, WAIT_MS), 0);
        closed[i] = 0;
        if (i % 2)
            assert_int_equal(kn_it_h2_post_headers(&c[i], 1, "/validate"), 0);
    }
    CURL *busy = curl_easy_init();
    char u[128];
    snprintf(u, sizeof(u), "https://localhost:%d" PATH_VALIDATE, g.srv.port);
    long long deadline = kn_it_now_ms() + WAIT_MS;
    while (open > 0 && kn_it_now_ms() < deadline) {
        open = 0;
        for (int i = 0; i < N; i++) {
            if (!closed[i] && (kn_it_tls_hung_up(&c[i]) ||
                               (i % 2 ? kn_it_h2_frame(&c[i], 0 /* DATA */, 0, 1, "{", 1)
                                      : kn_it_h2_frame(&c[i], 6 /* PING */, 0, 0, "12345678", 8)) != 0))
                closed[i] = 1;
            open += !closed[i];
        }
        /* The busy client's connection outlives the stalled ones. */
        kn_http_resp r;
        kn_http_do(busy, "POST", u, g.review, g.review_len, g.ca, CURL_HTTP_VERSION_2TLS, &r);
        assert_int_equal(r.rc, CURLE_OK);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.num_connects, ticks == 0 ? 1 : 0);
        kn_http_resp_free(&r);
        ticks++;
        kn_it_sleep_ms(SLOW_TICK_MS);
    }
    curl_easy_cleanup(busy);
    for (int i = 0; i < N; i++)
        kn_it_tls_close(&c[i]);
    fprintf(stderr, "[ h2 slowloris ] %d of %d stalled HTTP/2 clients still open after %d ticks\n", open, N,
            ticks);
    assert_int_equal(open, 0);
    assert_true(ticks > 4); /* they outlived h2o's own idle timeout first */
    assert_served(0);
}

/* ---- handshakes that stop half-way ------------------------------------ */

static void test_half_handshakes_are_cut(void **state)
{
    (void)state;
    enum { N = 30 };
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = kn_it_tcp_connect(g.srv.port, WAIT_MS);
        assert_true(fds[i] >= 0);
        /* A whole ClientHello (the server answers and waits for our
         * Finished), half of one, or a single byte. */
        size_t len = i % 3 == 0 ? g.hello_len : i % 3 == 1 ? g.hello_len / 2 : 1;
        assert_int_equal(kn_it_fd_write(fds[i], g.hello, len), 0);
    }
    assert_served(0);
    assert_served(1);
    int closed = 0;
    for (int i = 0; i < N; i++) {
        closed += kn_it_fd_wait_closed(fds[i], WAIT_MS); /* the handshake timeout is 2s */
        close(fds[i]);
    }
    assert_int_equal(closed, N);
    assert_served(2);
    assert_served(3);
}

/* ---- more clients than --max-connections ------------------------------ */

#define PARTIAL_HEAD "POST /validate HTTP/1.1\r\nHost: localhost\r\n"

/* The server's open connections besides the one asking, once earlier
 * clients' closes have reached it (as /metrics reports them). */
static void wait_for_no_connections(int port)
{
    char u[128];
    snprintf(u, sizeof(u), "https://localhost:%d/metrics", port);
    long long deadline = kn_it_now_ms() + WAIT_MS;
    double open = -1;
    do {
        CURL *c = curl_easy_init();
        kn_http_resp r;
        kn_http_do(c, "GET", u, NULL, 0, g.ca, CURL_HTTP_VERSION_1_1, &r);
        curl_easy_cleanup(c);
        const char *line = r.body ? strstr(r.body, "\nkubenexus_webhook_open_connections ") : NULL;
        open = line != NULL ? strtod(line + strlen("\nkubenexus_webhook_open_connections "), NULL) : -1;
        kn_http_resp_free(&r);
        if (open != 1)
            kn_it_sleep_ms(20);
    } while (open != 1 && kn_it_now_ms() < deadline);
    assert_true(open == 1);
    kn_it_sleep_ms(100); /* and that one's own close */
}

/* Its own server, whose --request-timeout outlasts the test, so the
 * connections held at the limit stay until the server or the test closes
 * them. */
static void test_over_the_connection_limit(void **state)
{
    (void)state;
    enum { LIMIT = MAX_CONNECTIONS, EXTRA = 16, N = LIMIT + EXTRA };
    char limit[16], subdir[700];
    snprintf(limit, sizeof(limit), "%d", LIMIT);
    snprintf(subdir, sizeof(subdir), "%s/limit", g.dir);
    assert_int_equal(kn_it_sh("mkdir -p '%s'", subdir), 0);
    const char *flags[] = {"--max-connections", limit, "--request-timeout=60s", "--threads", "2", NULL};
    kn_it_webhook lim;
    assert_int_equal(kn_it_webhook_start(&lim, subdir, g.cert, g.key, flags), 0);
    g.extra = &lim;
    /* kn_it_wait_port's probe connection may still count for a moment. */
    assert_served_on(lim.port, CURL_HTTP_VERSION_1_1, 1);
    wait_for_no_connections(lim.port);

    /* LIMIT idle keep-alive connections, then EXTRA more: the newcomers are
     * served at once, and as many of the idle ones, the oldest, are cut. */
    kn_it_tls *c = calloc(N, sizeof(*c));
    int closed[N];
    assert_non_null(c);
    for (int i = 0; i < N; i++) {
        assert_int_equal(kn_it_tls_connect_within(&c[i], lim.port, g.ca, TLS1_2_VERSION, TLS1_3_VERSION, WAIT_MS),
                         0);
        fcntl(c[i].fd, F_SETFL, fcntl(c[i].fd, F_GETFL) | O_NONBLOCK);
        closed[i] = 0;
    }
    int n_closed = 0, oldest_half = 1;
    long long deadline = kn_it_now_ms() + WAIT_MS;
    while (n_closed < EXTRA && kn_it_now_ms() < deadline) {
        for (int i = 0; i < N; i++)
            if (!closed[i] && kn_it_tls_hung_up(&c[i])) {
                closed[i] = 1;
                n_closed++;
                oldest_half &= i < LIMIT / 2;
            }
        kn_it_sleep_ms(10);
    }
    kn_it_sleep_ms(500); /* room for a wrongly cut one to show up */
    for (int i = 0; i < N; i++)
        if (!closed[i] && kn_it_tls_hung_up(&c[i])) {
            closed[i] = 1;
            n_closed++;
        }
    fprintf(stderr,
            "[ limit ] %d connections at --max-connections %d: %d idle ones cut "
            "(all among the oldest half: %s)\n",
            N, LIMIT, n_closed, oldest_half ? "yes" : "no");
    assert_int_equal(n_closed, EXTRA);
    assert_true(oldest_half);

    /* Once none is idle (each has begun a request), newcomers wait in the
     * backlog until some close. */
    for (int i = 0; i < N; i++)
        if (!closed[i])
            assert_int_equal(kn_it_tls_send(&c[i], PARTIAL_HEAD, strlen(PARTIAL_HEAD), WAIT_MS), 0);
    kn_it_sleep_ms(300); /* the server reads them */
    int fds[EXTRA];
    for (int i = 0; i < EXTRA; i++) {
        fds[i] = kn_it_tcp_connect(lim.port, WAIT_MS);
        assert_true(fds[i] >= 0); /* the kernel queues what the server does not take */
        assert_int_equal(kn_it_fd_write(fds[i], g.hello, g.hello_len), 0);
    }
    kn_it_sleep_ms(500); /* room for a wrongly accepted one to show up */
    int answered = 0;
    for (int i = 0; i < EXTRA; i++)
        answered += kn_it_fd_readable(fds[i], 0);
    fprintf(stderr, "[ limit ] with every connection busy, %d of %d newcomers served\n", answered, EXTRA);
    assert_int_equal(answered, 0);
    /* Capacity comes back as connections close: the waiting ones are served. */
    for (int i = 0, k = 0; i < N && k < EXTRA; i++)
        if (!closed[i]) {
            kn_it_tls_close(&c[i]);
            closed[i] = 1;
            k++;
        }
    for (int i = 0; i < EXTRA; i++) {
        assert_true(kn_it_fd_readable(fds[i], WAIT_MS));
        close(fds[i]);
    }
    for (int i = 0; i < N; i++) /* the ones the server cut too (idempotent) */
        kn_it_tls_close(&c[i]);
    free(c);
    assert_served_on(lim.port, CURL_HTTP_VERSION_2TLS, 0);
    int st = kn_it_webhook_stop(&lim, WAIT_MS);
    g.extra = NULL;
    if (!(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0))
        kn_it_webhook_dump_log(&lim);
    assert_true(st != -1 && WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---- the end ----------------------------------------------------------- */

static void test_sigterm_exits_zero(void **state)
{
    (void)state;
    assert_served(0);
    int st = kn_it_webhook_stop(&g.srv, WAIT_MS);
    if (!(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0))
        dump_log();
    assert_true(st != -1 && WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---- setup ------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g.dir = kn_it_tempdir("kn-webhook-faults");
    if (g.dir == NULL || kn_it_gen_certs(g.dir, "certs", NULL) != 0)
        return -1;
    snprintf(g.ca, sizeof(g.ca), "%s/certs/ca.crt", g.dir);
    snprintf(g.cert, sizeof(g.cert), "%s/certs/tls.crt", g.dir);
    snprintf(g.key, sizeof(g.key), "%s/certs/tls.key", g.dir);
    char fixture[600];
    snprintf(fixture, sizeof(fixture), "%s/server/review-executor-pod.json", KN_FIXTURES);
    if ((g.review = kn_it_read_file(fixture, &g.review_len)) == NULL ||
        kn_it_client_hello(&g.hello, &g.hello_len) != 0)
        return -1;
    kn_admit_config cfg = {.scheduler_name = "kubenexus-scheduler"};
    kn_admit_http(g.review, g.review_len, KN_ADMIT_VALIDATE, &cfg, &g.want[0]);
    kn_admit_http(g.review, g.review_len, KN_ADMIT_MUTATE, &cfg, &g.want[1]);
    if (g.want[0].http_status != 200 || g.want[1].http_status != 200)
        return -1;
    build_cases();
    char max_conn[16];
    snprintf(max_conn, sizeof(max_conn), "%d", MAX_CONNECTIONS);
    const char *flags[] = {
        "--max-connections", max_conn, "--request-timeout=2s", "--shutdown-timeout", "5s", "--threads", "2", NULL};
    if (kn_it_webhook_start(&g.srv, g.dir, g.cert, g.key, flags) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    kn_it_webhook_kill(&g.srv, WAIT_MS);
    if (g.extra != NULL)
        kn_it_webhook_kill(g.extra, WAIT_MS);
    if (getenv("KN_IT_KEEP") != NULL)
        fprintf(stderr, "kept %s\n", g.dir);
    else if (g.dir != NULL)
        kn_it_rmtree(g.dir);
    free(g.dir);
    free(g.review);
    free(g.hello);
    kn_admit_result_free(&g.want[0]);
    kn_admit_result_free(&g.want[1]);
    for (int i = 0; i < g.n_cases; i++)
        free(g.cases[i].body);
    curl_global_cleanup();
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);           /* writes to connections the server cut */
    if (getenv("KN_IT_FILTER") != NULL) /* e.g. KN_IT_FILTER=test_slowloris */
        cmocka_set_test_filter(getenv("KN_IT_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bodies_of_every_wrong_shape),
        cmocka_unit_test(test_chunked_bodies),
        cmocka_unit_test(test_content_length_lies),
        cmocka_unit_test(test_ambiguous_framing_is_refused),
        cmocka_unit_test(test_wrong_content_type),
        cmocka_unit_test(test_half_handshakes_are_cut),
        cmocka_unit_test(test_slowloris),
        cmocka_unit_test(test_http2_slowloris),
        cmocka_unit_test(test_churn_and_memory_stays_flat),
        cmocka_unit_test(test_over_the_connection_limit),
        cmocka_unit_test(test_sigterm_exits_zero),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
