/* server.h - the webhook's HTTPS server (h2o evloop, HTTP/1.1 and HTTP/2).
 *
 * Routes: POST /mutate and POST /validate (any query string) hand the body
 * to kn_admit_http(); GET /healthz, GET /readyz (503 while draining) and
 * GET /metrics. Other methods on a known path: 405; other paths: 404.
 *
 * N worker threads each run their own event loop and accept from one shared
 * listening socket; connections over --max-connections wait in the kernel's
 * backlog. Bodies over max_request_bytes get a JSON 413 (over both protocols
 * up to twice the limit; beyond that h2o answers HTTP/1.1 with its own 413
 * and resets an HTTP/2 stream); slow clients are cut off after
 * request_timeout_ms (an HTTP/2 connection on which no request arrives whole
 * for twice that, even if it keeps sending frames, is cut too).
 *
 * Lifecycle, all from one controlling thread:
 *   kn_server_new (binds) -> kn_server_start (threads) -> kn_server_drain
 *   (stop accepting, readyz 503, close keep-alive as requests finish)
 *   -> kn_server_stop (waits up to a deadline, then cuts what is left)
 *   -> kn_server_free. */
#ifndef KN_SERVER_H
#define KN_SERVER_H

#include <stddef.h>

#include "admission/admission.h"
#include "base/err.h"
#include "base/metrics.h"
#include "webhook/tls.h"

typedef struct kn_webhook_metrics {
    kn_metric *requests;     /* kubenexus_webhook_requests_total{path,kind,verdict} */
    kn_metric *duration;     /* kubenexus_webhook_request_duration_seconds{path} */
    kn_metric *handshakes;   /* kubenexus_webhook_tls_handshakes_total */
    kn_metric *errors;       /* kubenexus_webhook_errors_total{reason} */
    kn_metric *cert_reloads; /* kubenexus_webhook_cert_reloads_total{result} */
    kn_metric *in_flight;    /* kubenexus_webhook_in_flight_requests */
    kn_metric *connections;  /* kubenexus_webhook_open_connections */
    kn_metric *buffered;     /* kubenexus_webhook_buffered_request_bytes */
} kn_webhook_metrics;

/* Registers the webhook's metrics in reg. */
void kn_webhook_metrics_init(kn_webhook_metrics *m, kn_metrics *reg);
/* A kn_tls_handshake_cb: arg is a kn_webhook_metrics*. */
void kn_webhook_count_handshake(void *arg, int ok);

typedef struct kn_server_config {
    const char *bind_address; /* numeric IPv4 or IPv6 */
    int port;                 /* 0 picks a free port (see kn_server_port) */
    int threads;
    int max_connections;
    size_t max_request_bytes;
    size_t max_buffered_bytes; /* request bodies held at once, all connections */
    unsigned request_timeout_ms;
    kn_admit_config admit;
} kn_server_config;

typedef struct kn_server kn_server;

/* Binds and listens; the TLS store, metrics and strings in cfg must outlive
 * the server. */
kn_server *kn_server_new(const kn_server_config *cfg, kn_tls_store *tls, kn_metrics *reg,
                         kn_webhook_metrics *metrics, kn_err *err);
int kn_server_port(const kn_server *s);
int kn_server_start(kn_server *s, kn_err *err);
void kn_server_drain(kn_server *s);
/* Returns 0 when every connection closed by itself within timeout_ms, 1 when
 * some had to be cut. Joins the worker threads. */
int kn_server_stop(kn_server *s, unsigned timeout_ms);
void kn_server_free(kn_server *s);

#endif
