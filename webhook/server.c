/* server.c - h2o evloop workers, routing and the webhook's lifecycle. */
#define H2O_USE_LIBUV 0
#include "webhook/server.h"

#include <errno.h>
#include <fcntl.h>
#include <h2o.h>
#include <h2o/http1.h>
#include <h2o/http2.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "webhook/bodies.h"

/* Only ever moves forward. */
enum { ST_RUNNING, ST_DRAINING, ST_CUTTING, ST_STOPPING };

/* How often an idle worker wakes up to look at the server state. */
#define WORKER_TICK_MS 100
/* After cutting the remaining connections, how long h2o gets to close them. */
#define CUT_GRACE_MS 1000
/* h2o's hard body limit, as a multiple of max_request_bytes (see configure_h2o). */
#define H2O_BODY_LIMIT_FACTOR 2
/* How often a worker looks for stalled HTTP/2 connections (see cut_stalled_http2). */
#define STALL_SCAN_MS 250
/* How often a worker leaving new connections to the others (see
 * busier_than_others) looks again. */
#define DEFER_TICK_MS 10
/* How long a TLS handshake may take (capped by --request-timeout). A real
 * client finishes in milliseconds; one that connects and says nothing held
 * its --max-connections slot for the whole --request-timeout, and 1,100 of
 * them, reopened as they were closed, kept /healthz waiting 5.7 to 10 s. */
#define HANDSHAKE_TIMEOUT_MS 2000
/* How often, at most, a worker adds up the request bodies it holds (see
 * meter_bodies): bytes read in between are the budget's overshoot. */
#define BODY_SCAN_MS 1
/* Request bodies arriving at once on one HTTP/2 connection (h2o allows 100
 * streams, each buffering up to twice --max-request-bytes); further ones
 * are refused with REFUSED_STREAM, which clients retry. Also the requests
 * h2o works on at once per connection. */
#define H2_BODIES_PER_CONN 8
/* Warnings about refused bodies, at most one a second per worker. */
#define BODY_LOG_MS 1000

typedef struct kn_worker kn_worker;

typedef struct kn_conn {
    h2o_linklist_t link; /* in kn_worker.conns */
    h2o_socket_t *sock;
    kn_worker *w;
    uint64_t last_request_ms; /* accepted, or last request received whole (h2o_now) */
    struct timeval connected_at;
    SSL_CTX *ssl_ctx; /* held until the handshake ends (see accept_one) */
    h2o_timeout_entry_t handshake_timer;
    int established; /* handshake done, handed to h2o's HTTP/1.1 or HTTP/2 */
    int h2;          /* ... to HTTP/2: sock->data is its h2o_http2_conn_t */
    int stalled;     /* cut by cut_stalled_http2 */
    int evicted;     /* cut by evict, no longer counted in kn_server.live */
} kn_conn;

struct kn_worker {
    kn_server *srv;
    pthread_t tid;
    int listen_fd; /* a dup of the server's; owned by `listener` once created */
    h2o_evloop_t *loop;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *listener;
    int paused;          /* listener stopped because of --max-connections */
    atomic_int deferred; /* listener stopped: another worker has fewer connections
                          * (read by the other workers) */
    int cut;             /* remaining connections were shut down */
    atomic_int nconns;   /* its open connections (read by the other workers) */
    h2o_linklist_t conns;
    uint64_t last_stall_scan_ms;
    atomic_size_t held; /* request body bytes its connections hold (see meter_bodies) */
    uint64_t last_body_scan_ms, last_body_log_ms;
};

struct kn_server {
    kn_server_config cfg;
    kn_tls_store *tls;
    kn_webhook_metrics *m;
    kn_metrics *reg;
    h2o_globalconf_t conf;
    int listen_fd;
    int port;
    atomic_int state;
    atomic_int connections;
    atomic_int live; /* connections against --max-connections: all but those
                          * cut to make room (see evict), which close shortly */
    atomic_int in_flight;
    kn_worker *workers;
    pthread_mutex_t lock; /* guards finished */
    pthread_cond_t finished_cond;
    int started, finished; /* worker threads */
};

/* Set only by kn_server_free when it must leave a server behind (see there). */
static kn_server *g_abandoned;

typedef struct kn_handler {
    h2o_handler_t super;
    kn_server *srv;
} kn_handler;

/* ---- metrics ---------------------------------------------------------- */

void kn_webhook_metrics_init(kn_webhook_metrics *m, kn_metrics *reg)
{
    static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
    m->requests = kn_metrics_counter(reg, "kubenexus_webhook_requests_total",
                                     "AdmissionReview requests answered, by path, kind and verdict.", 3,
                                     (const char *[]){"path", "kind", "verdict"});
    m->duration = kn_metrics_histogram(
        reg, "kubenexus_webhook_request_duration_seconds", "Time from request start to the admission answer.", 1,
        (const char *[]){"path"}, (int)(sizeof(buckets) / sizeof(buckets[0])), buckets);
    m->handshakes =
        kn_metrics_counter(reg, "kubenexus_webhook_tls_handshakes_total", "Completed TLS handshakes.", 0, NULL);
    m->errors =
        kn_metrics_counter(reg, "kubenexus_webhook_errors_total",
                           "Requests or connections that failed, by reason.", 1, (const char *[]){"reason"});
    m->cert_reloads = kn_metrics_counter(reg, "kubenexus_webhook_cert_reloads_total",
                                         "Serving certificate reloads, by result.", 1, (const char *[]){"result"});
    m->in_flight = kn_metrics_gauge(reg, "kubenexus_webhook_in_flight_requests",
                                    "AdmissionReview requests being answered.", 0, NULL);
    m->connections =
        kn_metrics_gauge(reg, "kubenexus_webhook_open_connections", "Open client connections.", 0, NULL);
    m->buffered = kn_metrics_gauge(reg, "kubenexus_webhook_buffered_request_bytes",
                                   "Bytes of request bodies held, against --max-buffered-bytes.", 0, NULL);
    kn_metric_set(m->in_flight, NULL, 0);
    kn_metric_set(m->connections, NULL, 0);
    kn_metric_set(m->buffered, NULL, 0);
}

void kn_webhook_count_handshake(void *arg, int ok)
{
    kn_webhook_metrics *m = arg;
    if (ok)
        kn_metric_inc(m->handshakes, NULL, 1);
    else
        kn_metric_inc(m->errors, (const char *[]){"tls_handshake"}, 1);
}

static void count_error(kn_server *s, const char *reason)
{
    kn_metric_inc(s->m->errors, (const char *[]){reason}, 1);
}

/* ---- responses -------------------------------------------------------- */

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

static int method_is(const h2o_req_t *req, const char *m)
{
    return h2o_memis(req->method.base, req->method.len, m, strlen(m));
}

/* An answer's body, copied into the request's pool, handed out as h2o asks. */
typedef struct {
    h2o_generator_t super;
    const char *rest;
    size_t left;
} pulled_body;

static h2o_send_state_t pull_body(h2o_generator_t *gen, h2o_req_t *req, h2o_iovec_t *buf)
{
    (void)req;
    pulled_body *b = (pulled_body *)gen;
    size_t n = b->left < buf->len ? b->left : buf->len;
    memcpy(buf->base, b->rest, n);
    b->rest += n;
    b->left -= n;
    buf->len = n;
    return b->left == 0 ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS;
}

/* HTTP/1.1 answers are pulled: h2o 2.2 then writes the head and the body
 * from one buffer, i.e. one TLS record and one encryption per answer on
 * each side. Sent (pushed), the head and the body are separate buffers,
 * which h2o encrypts, and the client decrypts, as two records. */
static int send_pulled(h2o_req_t *req, const char *body, size_t len)
{
    if (req->version >= 0x200 || method_is(req, "HEAD"))
        return 0;
    pulled_body *b = h2o_mem_alloc_pool(&req->pool, sizeof(*b) + len);
    char *copy = (char *)(b + 1);
    memcpy(copy, body, len);
    b->super.proceed = NULL; /* pull mode: h2o calls pull_body instead */
    b->super.stop = NULL;
    b->rest = copy;
    b->left = len;
    h2o_start_response(req, &b->super);
    if (req->_ostr_top->start_pull != NULL) {
        req->_ostr_top->start_pull(req->_ostr_top, pull_body);
    } else { /* a filter in the way: push it in one piece */
        h2o_iovec_t buf = h2o_iovec_init(copy, len);
        h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
    }
    return 1;
}

static void send_body(h2o_req_t *req, int status, const char *ctype, const char *body, size_t len)
{
    req->res.status = status;
    req->res.reason = reason_phrase(status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ctype, strlen(ctype));
    /* h2o_send_inline leaves the length unset, and HTTP/1.1 then frames the
     * answer as chunks: two extra TLS records per answer, which the client
     * has to read and decrypt one by one. */
    req->res.content_length = len;
    if (!send_pulled(req, body, len))
        h2o_send_inline(req, body, len); /* copies body into the request's pool */
}

static void send_text(h2o_req_t *req, int status, const char *text)
{
    send_body(req, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* A Kubernetes Status, as the API server expects from a webhook that fails. */
static void send_status(h2o_req_t *req, int status, const char *reason, const char *message)
{
    char body[512];
    int n = snprintf(body, sizeof(body),
                     "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                     "\"message\":\"%s\",\"reason\":\"%s\",\"code\":%d}",
                     message, reason, status);
    send_body(req, status, "application/json", body, (size_t)n < sizeof(body) ? (size_t)n : 0);
}

static void send_method_not_allowed(kn_server *s, h2o_req_t *req, const char *allow)
{
    count_error(s, "method_not_allowed");
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("allow"), 0, NULL, allow, strlen(allow));
    char msg[64];
    snprintf(msg, sizeof(msg), "only %s is allowed here", allow);
    send_status(req, 405, "MethodNotAllowed", msg);
}

/* ---- handlers --------------------------------------------------------- */

static int is_get(const h2o_req_t *req)
{
    return method_is(req, "GET") || method_is(req, "HEAD");
}

static void on_admission_done(void *p)
{
    kn_server *s = *(kn_server **)p;
    int n = atomic_fetch_sub(&s->in_flight, 1) - 1;
    kn_metric_set(s->m->in_flight, NULL, n);
}

/* Counts the request as in flight until h2o disposes of it, i.e. until the
 * answer has been written out (or the client went away). */
static void track_in_flight(kn_server *s, h2o_req_t *req)
{
    kn_server **slot = h2o_mem_alloc_shared(&req->pool, sizeof(*slot), on_admission_done);
    *slot = s;
    int n = atomic_fetch_add(&s->in_flight, 1) + 1;
    kn_metric_set(s->m->in_flight, NULL, n);
}

static double seconds_since(const struct timeval *t0)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    double d = (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_usec - t0->tv_usec) / 1e6;
    return d < 0 ? 0 : d;
}

/* kube-apiserver sends every AdmissionReview as application/json (any
 * parameters, e.g. charset, allowed). A request with no Content-Type is read
 * as JSON, as kube-apiserver reads its own clients' requests; any other type
 * is refused outright, so a form or text post is never judged as a review.
 * The header's value when it names another type, else NULL. */
static const h2o_iovec_t *not_json(const h2o_req_t *req)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (i < 0)
        return NULL;
    const h2o_iovec_t *v = &req->headers.entries[i].value;
    const char *semi = memchr(v->base, ';', v->len);
    h2o_iovec_t type = h2o_str_stripws(v->base, semi != NULL ? (size_t)(semi - v->base) : v->len);
    return h2o_lcstris(type.base, type.len, H2O_STRLIT("application/json")) ? NULL : v;
}

static void send_unsupported_type(kn_server *s, h2o_req_t *req, const char *got, size_t len)
{
    count_error(s, "unsupported_media_type");
    char shown[64], msg[160];
    size_t k = 0;
    for (size_t j = 0; j < len && k + 1 < sizeof(shown); j++) /* safe inside a JSON string */
        if (got[j] >= 0x20 && got[j] < 0x7f && got[j] != '"' && got[j] != '\\')
            shown[k++] = got[j];
    shown[k] = '\0';
    snprintf(msg, sizeof(msg),
             "the request's Content-Type is %s%s; an AdmissionReview is sent as "
             "application/json",
             shown, k < len ? "..." : "");
    send_status(req, 415, "UnsupportedMediaType", msg);
}

/* The mutating entry of namespaces that opt in to gang-label fill-in. */
#define KN_FILL_PATH "/mutate/fill-gang-labels"

static void serve_admission(kn_server *s, h2o_req_t *req, kn_admit_mode mode, const char *path)
{
    if (!method_is(req, "POST")) {
        send_method_not_allowed(s, req, "POST");
        return;
    }
    const h2o_iovec_t *ctype = not_json(req);
    if (ctype != NULL) {
        send_unsupported_type(s, req, ctype->base, ctype->len);
        return;
    }
    track_in_flight(s, req);
    /* h2o lets bodies up to H2O_BODY_LIMIT_FACTOR times the limit through
     * (see configure_h2o) so that this answer, JSON over either protocol,
     * is what an oversized review normally gets. */
    if (req->entity.len > s->cfg.max_request_bytes) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "the request body is %zu bytes, over the webhook's limit of "
                 "%zu (--max-request-bytes)",
                 req->entity.len, s->cfg.max_request_bytes);
        count_error(s, "body_too_large");
        send_status(req, 413, "RequestEntityTooLarge", msg);
        return;
    }
    /* An AdmissionReview does not carry the namespace's labels, so namespaces
     * that opt in to gang-label fill-in get a webhook entry of their own whose
     * path says so (deploy/base/webhook-configurations.yaml): the path segment
     * /mutate/fill-gang-labels, since kube-apiserver refuses a query string in
     * clientConfig.service.path (each segment must be a DNS-1123 subdomain). */
    kn_admit_config admit = s->cfg.admit;
    admit.max_request_bytes = s->cfg.max_request_bytes;
    if (strcmp(path, KN_FILL_PATH) == 0)
        admit.fill_gang_labels = true;
    kn_admit_result r;
    memset(&r, 0, sizeof(r));
    kn_admit_http(req->entity.base != NULL ? req->entity.base : "", req->entity.len, mode, &admit, &r);
    const char *kind = r.kind ? r.kind : "invalid", *verdict = r.verdict ? r.verdict : "error";
    if (r.body == NULL) {
        count_error(s, "internal");
        send_status(req, 500, "InternalError", "the webhook could not build an answer");
    } else {
        send_body(req, r.http_status, "application/json", r.body, r.body_len);
    }
    if (r.body != NULL && r.http_status >= 400) {
        count_error(s, "bad_request");
        kn_log(KN_LOG_WARN, "rejected a malformed admission request", "path=%s status=%d bytes=%zu", path,
               r.http_status, req->entity.len);
    } else {
        /* Denials are what operators look for; the rest only when debugging. */
        kn_log(strcmp(verdict, "denied") == 0 ? KN_LOG_INFO : KN_LOG_DEBUG, "admission",
               "path=%s kind=%s verdict=%s bytes=%zu", path, kind, verdict, req->entity.len);
    }
    kn_metric_inc(s->m->requests, (const char *[]){path, kind, verdict}, 1);
    kn_metric_observe(s->m->duration, (const char *[]){path}, seconds_since(&req->timestamps.request_begin_at));
    kn_admit_result_free(&r);
}

static void serve_metrics(kn_server *s, h2o_req_t *req)
{
    size_t len = 0;
    char *text = kn_metrics_render(s->reg, &len);
    if (text == NULL) {
        count_error(s, "internal");
        send_text(req, 500, "cannot render metrics\n");
        return;
    }
    send_body(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

static int path_is(h2o_iovec_t p, const char *want)
{
    return h2o_memis(p.base, p.len, want, strlen(want));
}

/* The value of a header line "name: value\r\n" at p (name lower case, as h2o
 * leaves it after parsing), or NULL when the line is another header. */
static const char *header_value(const char *p, const char *end, const char *name, size_t *len)
{
    size_t n = strlen(name);
    if ((size_t)(end - p) <= n || memcmp(p, name, n) != 0 || p[n] != ':')
        return NULL;
    const char *v = p + n + 1, *eol = memchr(v, '\n', (size_t)(end - v));
    if (eol == NULL)
        eol = end;
    h2o_iovec_t t = h2o_str_stripws(v, (size_t)(eol - v));
    *len = t.len;
    return t.base;
}

/* HTTP/1.1 framing a front end could read another way than h2o does (RFC
 * 9112 6.3): Transfer-Encoding together with Content-Length, or
 * Content-Lengths that disagree. h2o 2.2 takes the chunked body (or the first
 * length) and would serve what follows as a request of its own, and it keeps
 * neither header in req->headers; so the request head, which h2o leaves in
 * the connection's input buffer right before the body it read, is read
 * again here. */
static bool ambiguous_framing(h2o_req_t *req)
{
    if (req->version >= 0x200 || req->entity.base == NULL)
        return false;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    if (sock == NULL || sock->input == NULL)
        return false;
    const char *p = sock->input->bytes, *end = req->entity.base;
    if (end < p || end > p + sock->input->size)
        return false; /* not where h2o keeps it: nothing to read */
    int te = 0, cl = 0;
    const char *first = NULL;
    size_t first_len = 0;
    for (; p < end; p++) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t len = 0;
        const char *v;
        if (header_value(p, end, "transfer-encoding", &len) != NULL) {
            te++;
        } else if ((v = header_value(p, end, "content-length", &len)) != NULL) {
            if (cl++ == 0)
                first = v, first_len = len;
            else if (len != first_len || memcmp(v, first, len) != 0)
                return true;
        }
        if (eol == NULL)
            break;
        p = eol;
    }
    return te > 0 && cl > 0;
}

static void note_request(h2o_req_t *req);

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    kn_server *s = ((kn_handler *)self)->srv;
    note_request(req);
    h2o_iovec_t path = req->path_normalized; /* without the query string */
    if (ambiguous_framing(req)) {
        req->http1_is_persistent = 0;
        count_error(s, "bad_framing");
        send_status(req, 400, "BadRequest",
                    "the request gives both Transfer-Encoding and Content-Length, "
                    "or two different Content-Lengths");
    } else if (path_is(path, "/mutate")) {
        serve_admission(s, req, KN_ADMIT_MUTATE, "/mutate");
    } else if (path_is(path, KN_FILL_PATH)) {
        serve_admission(s, req, KN_ADMIT_MUTATE, KN_FILL_PATH);
    } else if (path_is(path, "/validate")) {
        serve_admission(s, req, KN_ADMIT_VALIDATE, "/validate");
    } else if (path_is(path, "/healthz") || path_is(path, "/readyz") || path_is(path, "/metrics")) {
        if (!is_get(req))
            send_method_not_allowed(s, req, "GET");
        else if (path_is(path, "/healthz"))
            send_text(req, 200, "ok");
        else if (path_is(path, "/metrics"))
            serve_metrics(s, req);
        else if (atomic_load(&s->state) != ST_RUNNING)
            send_text(req, 503, "shutting down");
        else
            send_text(req, 200, "ok");
    } else {
        count_error(s, "not_found");
        send_text(req, 404, "404 page not found\n");
    }
    return 0;
}

/* ---- connections ------------------------------------------------------ */

static void set_connections_gauge(kn_server *s, int n)
{
    kn_metric_set(s->m->connections, NULL, n);
}

static void end_handshake(kn_conn *c)
{
    if (h2o_timeout_is_linked(&c->handshake_timer))
        h2o_timeout_unlink(&c->handshake_timer);
    SSL_CTX_free(c->ssl_ctx); /* NULL-safe */
    c->ssl_ctx = NULL;
}

static void on_conn_close(void *data)
{
    kn_conn *c = data;
    kn_server *s = c->w->srv;
    end_handshake(c);
    h2o_linklist_unlink(&c->link);
    atomic_fetch_sub(&c->w->nconns, 1);
    if (!c->evicted)
        atomic_fetch_sub(&s->live, 1);
    free(c);
    set_connections_gauge(s, atomic_fetch_sub(&s->connections, 1) - 1);
}

/* h2o hands a request over only once it has arrived whole. */
static void note_request(h2o_req_t *req)
{
    h2o_socket_t *sock =
        req->conn->callbacks->get_socket != NULL ? req->conn->callbacks->get_socket(req->conn) : NULL;
    if (sock != NULL && sock->on_close.cb == on_conn_close) {
        kn_conn *c = sock->on_close.data;
        c->last_request_ms = h2o_now(c->w->loop);
    }
}

static void on_handshake_timeout(h2o_timeout_entry_t *entry)
{
    kn_conn *c = H2O_STRUCT_FROM_MEMBER(kn_conn, handshake_timer, entry);
    count_error(c->w->srv, "tls_handshake_timeout");
    h2o_socket_close(c->sock); /* on_conn_close follows */
}

/* What h2o_accept does once the handshake is over, done here so that the
 * connection knows its protocol (evict_idle, the body budget) and the
 * handshake has a timeout of its own. */
static void on_handshake_done(h2o_socket_t *sock, const char *err)
{
    kn_conn *c = sock->on_close.data;
    end_handshake(c);
    if (err != NULL) {
        h2o_socket_close(sock);
        return;
    }
    h2o_iovec_t proto = h2o_socket_ssl_get_selected_protocol(sock);
    c->established = 1;
    c->h2 = h2o_memis(proto.base, proto.len, H2O_STRLIT("h2"));
    if (c->h2)
        h2o_http2_accept(&c->w->accept_ctx, sock, c->connected_at);
    else
        h2o_http1_accept(&c->w->accept_ctx, sock, c->connected_at);
}

/* sock holds a slot already counted in s->connections and s->live (see
 * on_accept); on_conn_close gives it back. */
static void accept_one(kn_worker *w, h2o_socket_t *sock)
{
    kn_server *s = w->srv;
    kn_conn *c = calloc(1, sizeof(*c)); /* h2o_linklist_insert wants an unlinked node */
    if (c == NULL) {
        count_error(s, "out_of_memory");
        h2o_socket_close(sock);
        atomic_fetch_sub(&s->connections, 1);
        atomic_fetch_sub(&s->live, 1);
        return;
    }
    c->sock = sock;
    c->w = w;
    c->last_request_ms = h2o_now(w->loop);
    c->connected_at = *h2o_get_timestamp(&w->ctx, NULL, NULL);
    h2o_linklist_insert(&w->conns, &c->link);
    atomic_fetch_add(&w->nconns, 1);
    set_connections_gauge(s, atomic_load(&s->connections));
    sock->on_close.cb = on_conn_close;
    sock->on_close.data = c;
    int one = 1;
    setsockopt(h2o_socket_get_fd(sock), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* Each handshake starts from the certificate current right now. h2o
     * creates the SSL object only when the ClientHello arrives, so the
     * reference is held until then: a reload in between must not free it. */
    c->ssl_ctx = kn_tls_store_acquire(s->tls);
    c->handshake_timer.cb = on_handshake_timeout;
    h2o_timeout_link(w->loop, &w->ctx.handshake_timeout, &c->handshake_timer);
    h2o_socket_ssl_handshake(sock, c->ssl_ctx, NULL, on_handshake_done);
}

/* Whether c does nothing for anyone: still handshaking, or between
 * requests with nothing buffered or being written. */
static int is_idle(const kn_conn *c)
{
    if (c->evicted || c->stalled)
        return 0;
    if (!c->established)
        return 1;
    if (c->sock->input->size != 0 || h2o_socket_is_writing(c->sock))
        return 0;
    return !c->h2 || kn_http2_streams_open(c->sock->data) == 0;
}

/* At --max-connections, the connection of this worker that has been idle
 * longest makes room for a new one: idle clients (or ones that connect and
 * never speak) must not keep the API server waiting in the backlog. */
static kn_conn *oldest_idle(kn_worker *w)
{
    kn_conn *oldest = NULL;
    for (h2o_linklist_t *l = w->conns.next; l != &w->conns; l = l->next) {
        kn_conn *c = H2O_STRUCT_FROM_MEMBER(kn_conn, link, l);
        if (is_idle(c) && (oldest == NULL || c->last_request_ms < oldest->last_request_ms))
            oldest = c;
    }
    return oldest;
}

static void evict(kn_conn *c)
{
    /* As cut_connections: h2o tears it down on its next read. */
    shutdown(h2o_socket_get_fd(c->sock), SHUT_RDWR);
    c->evicted = 1;
    atomic_fetch_sub(&c->w->srv->live, 1);
    count_error(c->w->srv, "connection_evicted");
}

/* Whether another worker that is accepting holds fewer connections. All
 * workers wait on the one listening socket, and the first to wake used to
 * take a whole burst (a client opening its connections at once): one
 * worker then served most of them on one core while the other idled. A
 * busier worker leaves new connections to the least busy one, so they
 * spread evenly; but only to one that is accepting: two workers leaving
 * them to each other took turns at one connection each per DEFER_TICK_MS,
 * some 300 a second, and a burst of 1,100 idle connections kept a new
 * client in the backlog for seconds. */
static int busier_than_others(const kn_worker *w)
{
    kn_server *s = w->srv;
    int mine = atomic_load(&w->nconns);
    for (int i = 0; i < s->cfg.threads; i++) {
        const kn_worker *o = &s->workers[i];
        if (o != w && atomic_load(&o->nconns) < mine && !atomic_load(&o->deferred))
            return 1;
    }
    return 0;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    kn_worker *w = listener->data;
    kn_server *s = w->srv;
    if (err != NULL)
        return;
    for (int i = 0; i < 16; i++) {
        if (busier_than_others(w)) {
            /* follow_state starts reading again once that is no longer so */
            h2o_socket_read_stop(listener);
            atomic_store(&w->deferred, 1);
            return;
        }
        /* Take the slot before accepting: workers checking and then
         * accepting could both take the last one. At the limit, an idle
         * connection gives way, but only once there is a newcomer (the
         * other worker may have taken it). */
        kn_conn *victim = NULL;
        if (atomic_fetch_add(&s->live, 1) >= s->cfg.max_connections && (victim = oldest_idle(w)) == NULL) {
            atomic_fetch_sub(&s->live, 1);
            /* Leave the rest in the kernel's backlog until some close. */
            h2o_socket_read_stop(listener);
            if (!w->paused)
                kn_log(KN_LOG_WARN, "connection limit reached, not accepting", "max_connections=%d",
                       s->cfg.max_connections);
            w->paused = 1;
            return;
        }
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (sock == NULL) {
            atomic_fetch_sub(&s->live, 1);
            return;
        }
        if (victim != NULL)
            evict(victim);
        atomic_fetch_add(&s->connections, 1);
        accept_one(w, sock);
    }
}

/* ---- the request body budget ------------------------------------------ */

/* An HTTP/1.1 request whose body is still arriving, refused with a Status:
 * h2o reads no more of it (the client sees the answer, then the close) and
 * never hands it over. Its path is bound the way h2o's own early error
 * answers bind it. */
static void refuse_body(h2o_req_t *req, void *arg)
{
    kn_server *s = arg;
    h2o_socket_read_stop(req->conn->callbacks->get_socket(req->conn));
    h2o_hostconf_t *host = *req->conn->hosts;
    h2o_req_bind_conf(req, host, &host->fallback_path);
    req->http1_is_persistent = 0;
    count_error(s, "body_budget");
    char msg[200];
    snprintf(msg, sizeof(msg),
             "the webhook holds as many request bodies as it may (%zu bytes, "
             "--max-buffered-bytes); retry",
             s->cfg.max_buffered_bytes);
    send_status(req, 503, "ServiceUnavailable", msg);
}

/* As cut_connections: h2o tears it down on its next read. */
static void cut_body(h2o_socket_t *sock, void *arg)
{
    count_error(arg, "body_budget");
    shutdown(h2o_socket_get_fd(sock), SHUT_RDWR);
}

/* Keeps the bodies all workers hold within --max-buffered-bytes (bodies.h),
 * between turns of the event loop, when h2o is in none of its callbacks. */
static void meter_bodies(kn_worker *w)
{
    kn_server *s = w->srv;
    uint64_t now = h2o_now(w->loop);
    if (now - w->last_body_scan_ms < BODY_SCAN_MS)
        return;
    w->last_body_scan_ms = now;
    size_t elsewhere = 0;
    for (int i = 0; i < s->cfg.threads; i++)
        if (&s->workers[i] != w)
            elsewhere += atomic_load(&s->workers[i].held);
    const kn_bodies_ops ops = {refuse_body, cut_body, s};
    kn_bodies_tally t;
    kn_bodies_enforce(&w->ctx, s->cfg.max_buffered_bytes, elsewhere, H2_BODIES_PER_CONN, &ops, &t);
    size_t before = atomic_exchange(&w->held, t.held);
    if (before != t.held)
        kn_metric_set(s->m->buffered, NULL, (double)(elsewhere + t.held));
    int refused = t.refused_http1 + t.refused_http2 + t.cut;
    if (t.refused_http2 > 0)
        kn_metric_inc(s->m->errors, (const char *[]){"body_budget"}, t.refused_http2);
    if (refused > 0 && now - w->last_body_log_ms >= BODY_LOG_MS) {
        w->last_body_log_ms = now;
        kn_log(KN_LOG_WARN, "refused request bodies over the budget",
               "http1_503=%d http2_refused=%d connections_cut=%d held_bytes=%zu "
               "max_buffered_bytes=%zu",
               t.refused_http1, t.refused_http2, t.cut, elsewhere + t.held, s->cfg.max_buffered_bytes);
    }
}

/* ---- workers ---------------------------------------------------------- */

static void close_listener(kn_worker *w)
{
    if (w->listener != NULL) {
        h2o_socket_close(w->listener);
        w->listener = NULL;
    }
}

/* Shuts the sockets down without closing them: h2o sees the error on its
 * next read or write and tears each connection down through its own path. */
static void cut_connections(kn_worker *w)
{
    for (h2o_linklist_t *l = w->conns.next; l != &w->conns; l = l->next) {
        kn_conn *c = H2O_STRUCT_FROM_MEMBER(kn_conn, link, l);
        shutdown(h2o_socket_get_fd(c->sock), SHUT_RDWR);
    }
    w->cut = 1;
}

/* h2o 2.2 restarts its HTTP/2 idle timeout on every frame and puts no
 * deadline on a request's body, so a client sending a PING, or one byte of
 * DATA into a request, every second would hold its connection, and a
 * --max-connections slot, for ever (HTTP/1.1 is covered: h2o's request
 * timeout spans the whole request). An HTTP/2 connection on which no request
 * has arrived whole for twice --request-timeout is cut: a really idle one is
 * closed by h2o after one, so a request starting before that and arriving
 * within --request-timeout always completes first. */
static void cut_stalled_http2(kn_worker *w)
{
    kn_server *s = w->srv;
    uint64_t now = h2o_now(w->loop), limit = 2 * (uint64_t)s->cfg.request_timeout_ms;
    if (now - w->last_stall_scan_ms < STALL_SCAN_MS)
        return;
    w->last_stall_scan_ms = now;
    for (h2o_linklist_t *l = w->conns.next; l != &w->conns; l = l->next) {
        kn_conn *c = H2O_STRUCT_FROM_MEMBER(kn_conn, link, l);
        if (c->stalled || now - c->last_request_ms <= limit || c->sock->ssl == NULL)
            continue;
        h2o_iovec_t proto = h2o_socket_ssl_get_selected_protocol(c->sock);
        if (!h2o_memis(proto.base, proto.len, H2O_STRLIT("h2")))
            continue;
        /* As cut_connections: h2o tears it down on its next read. */
        shutdown(h2o_socket_get_fd(c->sock), SHUT_RDWR);
        c->stalled = 1;
        count_error(s, "http2_stalled");
        kn_log(KN_LOG_WARN, "cut an HTTP/2 connection that sent no whole request in time", "idle_ms=%llu",
               (unsigned long long)(now - c->last_request_ms));
    }
}

static void follow_state(kn_worker *w, int st)
{
    kn_server *s = w->srv;
    if (st >= ST_DRAINING && w->listener != NULL) {
        close_listener(w);
        /* HTTP/1: no more keep-alive; HTTP/2: GOAWAY. */
        h2o_context_request_shutdown(&w->ctx);
    }
    if (st >= ST_CUTTING && !w->cut)
        cut_connections(w);
    if (w->paused && w->listener != NULL && atomic_load(&s->live) < s->cfg.max_connections) {
        w->paused = 0;
        if (!atomic_load(&w->deferred))
            h2o_socket_read_start(w->listener, on_accept);
    }
    if (atomic_load(&w->deferred) && w->listener != NULL && !busier_than_others(w)) {
        atomic_store(&w->deferred, 0);
        if (!w->paused)
            h2o_socket_read_start(w->listener, on_accept);
    }
}

/* Reports the worker finished, then sleeps until the process exits. h2o 2.2
 * caches freed pool chunks and socket and HTTP/2 write buffers in
 * thread-local lists, mostly static with no way to drain them; a parked thread keeps them reachable
 * (so valgrind and LeakSanitizer see no leak) where an exited one would
 * lose them. The worker touches nothing of the server after reporting. */
static void park(kn_server *s)
{
    pthread_mutex_lock(&s->lock);
    s->finished++;
    pthread_cond_broadcast(&s->finished_cond);
    pthread_mutex_unlock(&s->lock);
    for (;;)
        pause(); /* every signal is blocked in workers */
}

static void *worker_main(void *arg)
{
    kn_worker *w = arg;
    kn_server *s = w->srv;
    w->loop = h2o_evloop_create();
    h2o_context_init(&w->ctx, w->loop, &s->conf);
    w->accept_ctx.ctx = &w->ctx;
    w->accept_ctx.hosts = s->conf.hosts;
    h2o_linklist_init_anchor(&w->conns);
    w->listener = h2o_evloop_socket_create(w->loop, w->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    w->listener->data = w;
    h2o_socket_read_start(w->listener, on_accept);

    int st;
    while ((st = atomic_load(&s->state)) != ST_STOPPING) {
        follow_state(w, st);
        cut_stalled_http2(w);
        meter_bodies(w);
        h2o_evloop_run(w->loop, atomic_load(&w->deferred) ? DEFER_TICK_MS : WORKER_TICK_MS);
    }
    close_listener(w);
    h2o_evloop_run(w->loop, 0); /* lets h2o release the closed sockets */
    if (!h2o_linklist_is_empty(&w->conns)) {
        /* Tearing h2o down under live connections is not safe; the process
         * is about to exit and the kernel closes the sockets. */
        kn_log(KN_LOG_WARN, "connections still open at exit", NULL);
        park(s);
    }
    /* h2o 2.2 leaves its HTTP/2 GOAWAY re-send timer linked when the
     * connections finished before it fired; disposing requires it unlinked. */
    if (h2o_timeout_is_linked(&w->ctx.http2._graceful_shutdown_timeout))
        h2o_timeout_unlink(&w->ctx.http2._graceful_shutdown_timeout);
    h2o_context_dispose(&w->ctx);
    h2o_evloop_destroy(w->loop);
    /* h2o 2.2's h2o_multithread_destroy_queue (evloop flavour) closes the
     * queue's pipe but never frees the queue itself. */
    free(w->ctx.queue);
    w->loop = NULL;
    park(s);
    return NULL;
}

/* ---- lifecycle -------------------------------------------------------- */

static int open_listener(kn_server *s, kn_err *err)
{
    char port[16];
    snprintf(port, sizeof(port), "%d", s->cfg.port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
    if (getaddrinfo(s->cfg.bind_address, port, &hints, &res) != 0 || res == NULL)
        return kn_err_set(err, "--bind-address: \"%s\" is not a numeric IPv4 or IPv6 address",
                          s->cfg.bind_address);
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
    if (fd < 0) {
        freeaddrinfo(res);
        return kn_err_set(err, "cannot create a socket: %s", strerror(errno));
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        int e = errno;
        freeaddrinfo(res);
        close(fd);
        return kn_err_set(err, "cannot listen on %s port %d: %s", s->cfg.bind_address, s->cfg.port, strerror(e));
    }
    freeaddrinfo(res);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
    s->listen_fd = fd;
    return 0;
}

static void configure_h2o(kn_server *s)
{
    h2o_config_init(&s->conf);
    /* h2o's own limit answers HTTP/1.1 with a bare 413 but resets an HTTP/2
     * stream (REFUSED_STREAM, which clients retry). Letting h2o buffer up to
     * twice our limit means a moderately oversized review gets a JSON
     * 413 over both protocols from serve_admission; only grossly oversized
     * bodies meet h2o's cut-off. */
    s->conf.max_request_entity_size = s->cfg.max_request_bytes * H2O_BODY_LIMIT_FACTOR;
    /* No "server: h2o/2.2.5": naming the library and its version only helps
     * someone matching it against known bugs; nothing reads the header. */
    s->conf.server_name = h2o_iovec_init(H2O_STRLIT(""));
    s->conf.handshake_timeout =
        s->cfg.request_timeout_ms < HANDSHAKE_TIMEOUT_MS ? s->cfg.request_timeout_ms : HANDSHAKE_TIMEOUT_MS;
    s->conf.http1.req_timeout = s->cfg.request_timeout_ms;
    s->conf.http2.idle_timeout = s->cfg.request_timeout_ms;
    s->conf.http2.max_concurrent_requests_per_connection = H2_BODIES_PER_CONN;
    s->conf.http2.graceful_shutdown_timeout = s->cfg.request_timeout_ms;
    h2o_hostconf_t *host = h2o_config_register_host(&s->conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pc = h2o_config_register_path(host, "/", 0);
    kn_handler *h = (kn_handler *)h2o_create_handler(pc, sizeof(*h));
    h->srv = s;
    h->super.on_req = on_req;
}

kn_server *kn_server_new(const kn_server_config *cfg, kn_tls_store *tls, kn_metrics *reg,
                         kn_webhook_metrics *metrics, kn_err *err)
{
    kn_server *s = calloc(1, sizeof(*s));
    if (s == NULL || cfg->threads < 1 ||
        (s->workers = calloc((size_t)cfg->threads, sizeof(*s->workers))) == NULL) {
        free(s);
        kn_err_set(err, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    s->tls = tls;
    s->reg = reg;
    s->m = metrics;
    s->listen_fd = -1;
    atomic_init(&s->state, ST_RUNNING);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->finished_cond, NULL);
    if (open_listener(s, err) != 0) {
        free(s->workers);
        free(s);
        return NULL;
    }
    configure_h2o(s);
    return s;
}

int kn_server_port(const kn_server *s)
{
    return s->port;
}

int kn_server_start(kn_server *s, kn_err *err)
{
    /* Workers take no signals: the controlling thread waits for them. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED); /* they park, see park() */
    int rc = 0;
    for (int i = 0; i < s->cfg.threads; i++) {
        kn_worker *w = &s->workers[i];
        w->srv = s;
        w->listen_fd = fcntl(s->listen_fd, F_DUPFD_CLOEXEC, 0);
        int e = w->listen_fd < 0 ? errno : pthread_create(&w->tid, &attr, worker_main, w);
        if (e != 0) {
            if (w->listen_fd >= 0)
                close(w->listen_fd);
            rc = kn_err_set(err, "cannot start worker thread %d: %s", i, strerror(e));
            break;
        }
        s->started++;
    }
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc == 0)
        kn_log(KN_LOG_INFO, "listening", "address=%s port=%d threads=%d", s->cfg.bind_address, s->port,
               s->cfg.threads);
    return rc;
}

void kn_server_drain(kn_server *s)
{
    int expected = ST_RUNNING;
    atomic_compare_exchange_strong(&s->state, &expected, ST_DRAINING);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int wait_for_no_connections(kn_server *s, unsigned timeout_ms)
{
    for (unsigned waited = 0; atomic_load(&s->connections) > 0; waited += 20) {
        if (waited >= timeout_ms)
            return -1;
        sleep_ms(20);
    }
    return 0;
}

int kn_server_stop(kn_server *s, unsigned timeout_ms)
{
    if (atomic_load(&s->state) == ST_STOPPING)
        return 0;
    kn_server_drain(s);
    int cut = 0;
    if (wait_for_no_connections(s, timeout_ms) != 0) {
        cut = 1;
        kn_log(KN_LOG_WARN, "grace period over, closing remaining connections", "connections=%d",
               atomic_load(&s->connections));
        atomic_store(&s->state, ST_CUTTING);
        wait_for_no_connections(s, CUT_GRACE_MS);
    }
    atomic_store(&s->state, ST_STOPPING);
    pthread_mutex_lock(&s->lock);
    while (s->finished < s->started)
        pthread_cond_wait(&s->finished_cond, &s->lock);
    pthread_mutex_unlock(&s->lock);
    return cut;
}

void kn_server_free(kn_server *s)
{
    if (s == NULL)
        return;
    kn_server_stop(s, 0);
    int clean = 1;
    for (int i = 0; i < s->cfg.threads; i++)
        clean &= s->workers[i].loop == NULL;
    if (!clean) {
        /* A worker could not dispose of h2o under live connections; keep
         * its state reachable rather than free what h2o still uses. */
        g_abandoned = s;
        return;
    }
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    h2o_config_dispose(&s->conf);
    pthread_cond_destroy(&s->finished_cond);
    pthread_mutex_destroy(&s->lock);
    free(s->workers);
    free(s);
}
