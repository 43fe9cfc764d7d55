/* test_webhook_limits.c - the real kubenexus-webhook against clients that
 * try to use up its memory or its connection slots.
 *
 * Request bodies that never end, many of them at once over HTTP/2 and
 * HTTP/1.1, must not take the process past --max-buffered-bytes plus what
 * it needs besides bodies (KN_WEBHOOK_BASELINE_BYTES, which the Deployment's
 * memory limit adds to the flag): the Deployment's limit is where it would be
 * OOM-killed, and failurePolicy Fail would then block SparkApplications and
 * gang pods cluster-wide. Idle connections, more than --max-connections of
 * them, reopened as they are closed, must not keep a new client waiting
 * past the API server's timeout for the webhook. Meanwhile a well-behaved
 * client gets /healthz and a real AdmissionReview answered. Real TLS on
 * 127.0.0.1, real HTTP/1.1 and HTTP/2; every loop is bounded. */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
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
#include "webhook/options.h"
#include "webhook_proc.h"

#define WAIT_MS 10000 /* bound for anything the server must do by itself */
/* timeoutSeconds of every webhook in deploy/base/webhook-configurations.yaml:
 * an answer later than this is a failed admission call. */
#define API_SERVER_TIMEOUT_MS 5000

#define BUDGET_MIB 32   /* --max-buffered-bytes of the budget test */
#define BODY (7u << 20) /* each abusive body announces or heads for this */
#define H2_STREAMS 30   /* on one HTTP/2 connection */
#define H1_CONNS 20
#define PIECE 16384 /* bytes a body grows by per round */

#define IDLE_CONNS 1100 /* past the default --max-connections (1024) */

static struct {
    kn_it_webhook srv; /* the running test's server, killed at teardown if left */
    char *dir;
    char ca[600], cert[600], key[600];
    char *review;
    size_t review_len;
    kn_admit_result want; /* /validate's answer to review */
} g;

/* ---- a well-behaved client -------------------------------------------- */

static long get(int port, const char *path, long version, kn_http_resp *r)
{
    char u[160];
    snprintf(u, sizeof(u), "https://localhost:%d%s", port, path);
    CURL *c = curl_easy_init();
    long long t0 = kn_it_now_ms();
    kn_http_do(c, "GET", u, NULL, 0, g.ca, version, r);
    curl_easy_cleanup(c);
    return (long)(kn_it_now_ms() - t0);
}

static void assert_healthz(const kn_it_webhook *srv, long version)
{
    kn_http_resp r;
    long took = get(srv->port, "/healthz", version, &r);
    if (r.rc != CURLE_OK || r.status != 200) {
        fprintf(stderr, "/healthz: curl %d HTTP %ld after %ld ms\n", (int)r.rc, r.status, took);
        kn_it_webhook_dump_log(srv);
    }
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    kn_http_resp_free(&r);
}

/* A real review on a fresh connection: exactly the rules library's answer. */
static void assert_review_served(const kn_it_webhook *srv, long version)
{
    char u[160];
    snprintf(u, sizeof(u), "https://localhost:%d/validate?timeout=5s", srv->port);
    CURL *c = curl_easy_init();
    kn_http_resp r;
    kn_http_do(c, "POST", u, g.review, g.review_len, g.ca, version, &r);
    curl_easy_cleanup(c);
    if (r.rc != CURLE_OK || r.status != 200) {
        fprintf(stderr, "review: curl %d HTTP %ld\n", (int)r.rc, r.status);
        kn_it_webhook_dump_log(srv);
    }
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, g.want.body_len);
    assert_memory_equal(r.body, g.want.body, r.len);
    kn_http_resp_free(&r);
}

/* A gauge's value from /metrics; -1 if absent. */
static double metric(const kn_it_webhook *srv, const char *name)
{
    kn_http_resp r;
    get(srv->port, "/metrics", CURL_HTTP_VERSION_1_1, &r);
    assert_int_equal(r.status, 200);
    double v = -1;
    size_t nl = strlen(name);
    for (const char *p = r.body; p != NULL && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, name, nl) == 0 && p[nl] == ' ')
            v = strtod(p + nl + 1, NULL);
    kn_http_resp_free(&r);
    return v;
}

/* Into g.srv, so that a failed test's server does not outlive it. */
static void start(kn_it_webhook *srv, const char *name, const char *const *flags)
{
    char subdir[700];
    snprintf(subdir, sizeof(subdir), "%s/%s", g.dir, name);
    assert_int_equal(kn_it_sh("mkdir -p '%s'", subdir), 0);
    assert_int_equal(kn_it_webhook_start(srv, subdir, g.cert, g.key, flags), 0);
}

static void stop(kn_it_webhook *srv)
{
    int st = kn_it_webhook_stop(srv, WAIT_MS);
    if (!(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0))
        kn_it_webhook_dump_log(srv);
    assert_true(st != -1 && WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---- bodies that never end ---------------------------------------------- */

typedef struct h1_abuser {
    kn_it_tls t;
    int chunked;
    size_t sent;
    int done;   /* refused, or cut */
    int status; /* of the answer, if one came */
    char answer[2048];
    size_t answer_len;
} h1_abuser;

static void h1_open(h1_abuser *a, int port, int chunked)
{
    memset(a, 0, sizeof(*a));
    a->chunked = chunked;
    assert_int_equal(kn_it_tls_connect_within(&a->t, port, g.ca, TLS1_2_VERSION, TLS1_3_VERSION, WAIT_MS), 0);
    fcntl(a->t.fd, F_SETFL, fcntl(a->t.fd, F_GETFL) | O_NONBLOCK);
    char head[256];
    snprintf(head, sizeof(head),
             "POST /validate HTTP/1.1\r\nHost: localhost\r\n"
             "Content-Type: application/json\r\n%s\r\n",
             chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: 7340032\r\n");
    assert_int_equal(kn_it_tls_send(&a->t, head, strlen(head), WAIT_MS), 0);
}

/* Reads what the server sent, waiting up to wait_ms for the first of it;
 * 1 once it answered or hung up. (TLS 1.3 session tickets make the socket
 * readable without any answer: only SSL_read tells.) */
static int h1_read_answer(h1_abuser *a, int wait_ms)
{
    long long deadline = kn_it_now_ms() + wait_ms;
    int ended = 0;
    while (a->answer_len + 1 < sizeof(a->answer)) {
        int n = SSL_read(a->t.ssl, a->answer + a->answer_len, (int)(sizeof(a->answer) - 1 - a->answer_len));
        if (n > 0) {
            a->answer_len += (size_t)n;
            ended = 1;
            continue;
        }
        int e = SSL_get_error(a->t.ssl, n);
        ERR_clear_error();
        long long left = deadline - kn_it_now_ms();
        if (e != SSL_ERROR_WANT_READ) {
            ended = 1;
            break;
        }
        if (left <= 0 || !kn_it_fd_readable(a->t.fd, (int)left))
            break;
    }
    a->answer[a->answer_len] = '\0';
    sscanf(a->answer, "HTTP/1.%*d %d", &a->status);
    return ended;
}

static void h1_grow(h1_abuser *a)
{
    static char piece[PIECE + 16];
    if (a->done)
        return;
    size_t n = 0;
    if (a->chunked)
        n += (size_t)sprintf(piece, "%x\r\n", PIECE);
    memset(piece + n, ' ', PIECE);
    n += PIECE;
    if (a->chunked) {
        memcpy(piece + n, "\r\n", 2);
        n += 2;
    }
    /* An answer, or a write the server does not take, ends this one. */
    if (h1_read_answer(a, 0) || kn_it_tls_send(&a->t, piece, n, WAIT_MS) != 0) {
        a->done = 1;
        h1_read_answer(a, 1000);
        return;
    }
    a->sent += PIECE;
}

typedef struct abuse {
    kn_it_tls h2;
    kn_it_h2_frames frames;
    size_t h2_sent[H2_STREAMS];
    h1_abuser h1[H1_CONNS];
    long peak_rss_kib;
} abuse;

static unsigned stream_id(int i)
{
    return 1 + 2 * (unsigned)i;
}

/* Half the streams and connections announce their length, half do not
 * (HTTP/2 without content-length, HTTP/1.1 chunked): the budget must hold
 * both, reserved up front or counted as the bytes come. */
static void abuse_open(abuse *ab, int port)
{
    memset(ab, 0, sizeof(*ab));
    assert_int_equal(kn_it_h2_connect(&ab->h2, port, g.ca, WAIT_MS), 0);
    for (int i = 0; i < H2_STREAMS; i++)
        assert_int_equal(kn_it_h2_post_json_headers(&ab->h2, stream_id(i), "/validate", i % 2 ? 0 : BODY), 0);
    for (int i = 0; i < H1_CONNS; i++)
        h1_open(&ab->h1[i], port, i % 2);
}

/* One more piece on every body the server still takes; 1 while any does. */
static int abuse_round(abuse *ab, pid_t pid)
{
    int growing = 0;
    kn_it_h2_read_frames(&ab->h2, &ab->frames);
    for (int i = 0; i < H2_STREAMS && !ab->frames.closed; i++) {
        if (ab->h2_sent[i] + PIECE >= BODY)
            continue;
        /* A stream the server reset takes no more (h2o would answer such
         * DATA with RST_STREAM STREAM_CLOSED and drop it). */
        if (ab->frames.rst_code[stream_id(i)] != 0)
            continue;
        if (kn_it_h2_data(&ab->h2, stream_id(i), PIECE, WAIT_MS) != 0) {
            ab->frames.closed = 1;
            break;
        }
        ab->h2_sent[i] += PIECE;
        growing = 1;
    }
    for (int i = 0; i < H1_CONNS; i++)
        if (ab->h1[i].sent + PIECE < BODY) {
            h1_grow(&ab->h1[i]);
            growing |= !ab->h1[i].done;
        }
    long rss = kn_it_rss_kib(pid);
    if (rss > ab->peak_rss_kib)
        ab->peak_rss_kib = rss;
    return growing;
}

static void test_bodies_stay_within_the_budget(void **state)
{
    (void)state;
    char budget[16];
    snprintf(budget, sizeof(budget), "%dMi", BUDGET_MIB);
    const char *flags[] = {"--max-buffered-bytes", budget, "--request-timeout=60s", "--threads", "2", NULL};
    kn_it_webhook *srv = &g.srv;
    start(srv, "budget", flags);
    assert_review_served(srv, CURL_HTTP_VERSION_2TLS);
    long before = kn_it_rss_kib(srv->pid);

    abuse *ab = calloc(1, sizeof(*ab));
    assert_non_null(ab);
    abuse_open(ab, srv->port);
    long long deadline = kn_it_now_ms() + 6 * WAIT_MS;
    int rounds = 0;
    while (abuse_round(ab, srv->pid) && kn_it_now_ms() < deadline)
        rounds++;

    /* Everything the server still holds stays held while others are served. */
    assert_healthz(srv, CURL_HTTP_VERSION_1_1);
    assert_healthz(srv, CURL_HTTP_VERSION_2TLS);
    assert_review_served(srv, CURL_HTTP_VERSION_1_1);
    assert_review_served(srv, CURL_HTTP_VERSION_2TLS);
    kn_it_h2_read_frames(&ab->h2, &ab->frames);
    double held = metric(srv, "kubenexus_webhook_buffered_request_bytes");

    int h1_503 = 0, h1_cut = 0, h1_held = 0;
    for (int i = 0; i < H1_CONNS; i++) {
        h1_abuser *a = &ab->h1[i];
        if (a->status == 503) {
            h1_503++;
            const char *body = strstr(a->answer, "\r\n\r\n");
            kn_json *st = body != NULL ? kn_json_parse(body + 4, strlen(body + 4), NULL, NULL) : NULL;
            if (st == NULL)
                fprintf(stderr, "503 without a Status body: %s\n", a->answer);
            assert_non_null(st);
            assert_string_equal(kn_json_get_str(st, "kind"), "Status");
            assert_string_equal(kn_json_get_str(st, "reason"), "ServiceUnavailable");
            kn_json_free(st);
        } else if (a->done) {
            h1_cut++;
        } else {
            h1_held++;
        }
    }
    long hwm = kn_it_hwm_kib(srv->pid);
    long limit_kib = (long)(BUDGET_MIB << 10) + (long)(KN_WEBHOOK_BASELINE_BYTES >> 10);
    fprintf(stderr,
            "[ budget ] %d rounds: HTTP/2 %d RST_STREAM REFUSED_STREAM of %d streams "
            "(connection %s); HTTP/1.1 %d answered 503, %d cut, %d still held of %d; "
            "%.0f bytes held; VmRSS before %ld KiB, peak while abused %ld KiB, VmHWM %ld KiB "
            "(budget %d MiB + baseline %u MiB = %ld KiB)\n",
            rounds, ab->frames.rst[7], H2_STREAMS, ab->frames.closed ? "closed" : "open", h1_503, h1_cut, h1_held,
            H1_CONNS, held, before, ab->peak_rss_kib, hwm, BUDGET_MIB, (unsigned)(KN_WEBHOOK_BASELINE_BYTES >> 20),
            limit_kib);
    /* The refusals a client sees: REFUSED_STREAM (retried by HTTP/2
     * clients) and a Kubernetes Status with 503. */
    assert_true(ab->frames.rst[7] > 0);
    assert_true(h1_503 > 0);
    /* Some are held, within the budget, as the server reports it. */
    assert_true(held > 0 && held <= (double)(BUDGET_MIB << 20));
#ifdef __SANITIZE_ADDRESS__
    fprintf(stderr, "[ budget ] sanitizer build: VmRSS not checked (ASan's own heap)\n");
#else
    assert_true(hwm > 0 && hwm <= limit_kib);
#endif
    for (int i = 0; i < H1_CONNS; i++)
        kn_it_tls_close(&ab->h1[i].t);
    kn_it_tls_close(&ab->h2);
    free(ab);
    assert_review_served(srv, CURL_HTTP_VERSION_2TLS);
    stop(srv);
}

/* ---- connection slots ------------------------------------------------- */

typedef struct idlers {
    int fd[IDLE_CONNS];
    int port;
    unsigned char *hello;
    size_t hello_len;
    atomic_int stop;
    atomic_int reopened;
} idlers;

/* Half say nothing, half send half a ClientHello; whatever the server
 * closes is opened again at once, as the client in the report did. */
static int idle_open(idlers *d, int i)
{
    int fd = kn_it_tcp_connect(d->port, WAIT_MS);
    if (fd >= 0 && i % 2)
        kn_it_fd_write(fd, d->hello, d->hello_len / 2);
    return fd;
}

static void *idle_keeper(void *arg)
{
    idlers *d = arg;
    while (!atomic_load(&d->stop)) {
        for (int i = 0; i < IDLE_CONNS && !atomic_load(&d->stop); i++) {
            if (d->fd[i] >= 0 && !kn_it_fd_readable(d->fd[i], 0))
                continue;
            if (d->fd[i] >= 0)
                close(d->fd[i]);
            d->fd[i] = idle_open(d, i);
            atomic_fetch_add(&d->reopened, 1);
        }
        kn_it_sleep_ms(20);
    }
    return NULL;
}

static void test_idle_connections_leave_room(void **state)
{
    (void)state;
    /* The defaults a Deployment runs with: --max-connections 1024,
     * --request-timeout 10s. */
    const char *flags[] = {"--threads", "2", NULL};
    kn_it_webhook *srv = &g.srv;
    start(srv, "idle", flags);
    idlers *d = calloc(1, sizeof(*d));
    assert_non_null(d);
    d->port = srv->port;
    assert_int_equal(kn_it_client_hello(&d->hello, &d->hello_len), 0);
    for (int i = 0; i < IDLE_CONNS; i++) {
        d->fd[i] = idle_open(d, i);
        assert_true(d->fd[i] >= 0); /* the kernel's backlog takes what the server does not */
    }
    pthread_t keeper;
    assert_int_equal(pthread_create(&keeper, NULL, idle_keeper, d), 0);
    /* Longer than one --request-timeout, so that the connections held
     * before any fix would be cut once and reopened. */
    long worst = 0;
    int asked = 0;
    long long until = kn_it_now_ms() + 12000;
    while (kn_it_now_ms() < until) {
        kn_http_resp r;
        long version = asked % 2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1;
        long took = get(srv->port, "/healthz", version, &r);
        asked++;
        if (took > worst)
            worst = took;
        if (getenv("KN_IT_TRACE") || r.rc != CURLE_OK || r.status != 200 || took > API_SERVER_TIMEOUT_MS)
            fprintf(stderr, "/healthz %d: curl %d HTTP %ld after %ld ms\n", asked, (int)r.rc, r.status, took);
        kn_http_resp_free(&r);
        /* Answered at all, and before the API server would have given up. */
        if (r.rc != CURLE_OK || took > API_SERVER_TIMEOUT_MS) {
            atomic_store(&d->stop, 1);
            pthread_join(keeper, NULL);
        }
        assert_int_equal(r.rc, CURLE_OK);
        assert_int_equal(r.status, 200);
        assert_true(took <= API_SERVER_TIMEOUT_MS);
        kn_it_sleep_ms(250);
    }
    atomic_store(&d->stop, 1);
    pthread_join(keeper, NULL);
    assert_review_served(srv, CURL_HTTP_VERSION_1_1);
    fprintf(stderr,
            "[ idle ] %d idle connections held (%d reopened after the server closed "
            "them): %d /healthz answered, slowest %ld ms\n",
            IDLE_CONNS, atomic_load(&d->reopened) - IDLE_CONNS, asked, worst);
    assert_true(atomic_load(&d->reopened) > IDLE_CONNS); /* the server did cut some */
    for (int i = 0; i < IDLE_CONNS; i++)
        if (d->fd[i] >= 0)
            close(d->fd[i]);
    free(d->hello);
    free(d);
    stop(srv);
}

/* ---- setup ------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g.dir = kn_it_tempdir("kn-webhook-limits");
    if (g.dir == NULL || kn_it_webhook_certs(g.dir, g.ca, g.cert, g.key, sizeof(g.ca)) != 0)
        return -1;
    char fixture[600];
    snprintf(fixture, sizeof(fixture), "%s/server/review-executor-pod.json", KN_FIXTURES);
    if ((g.review = kn_it_read_file(fixture, &g.review_len)) == NULL)
        return -1;
    kn_admit_config cfg = {.scheduler_name = "kubenexus-scheduler"};
    kn_admit_http(g.review, g.review_len, KN_ADMIT_VALIDATE, &cfg, &g.want);
    return g.want.http_status == 200 ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    kn_it_webhook_kill(&g.srv, WAIT_MS);
    kn_it_tempdir_done(g.dir);
    free(g.review);
    kn_admit_result_free(&g.want);
    curl_global_cleanup();
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* writes to connections the server cut */
    if (getenv("KN_IT_FILTER") != NULL)
        cmocka_set_test_filter(getenv("KN_IT_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bodies_stay_within_the_budget),
        cmocka_unit_test(test_idle_connections_leave_room),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
