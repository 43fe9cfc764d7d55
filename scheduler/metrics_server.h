/* metrics_server.h - /metrics, /healthz and /readyz over plain HTTP/1.1.
 *
 * A small poll(2)-based server in its own thread: at most
 * KN_MS_MAX_CONNS connections, requests bounded to KN_MS_MAX_REQUEST bytes;
 * a request head must arrive within 1 second of the connect and the answer
 * be taken within 5, one response per connection (Connection: close). When
 * every slot is taken, a new connection evicts the one that has waited
 * longest for its request head, so idle or trickling clients cannot lock a
 * kubelet probe out. GET /metrics
 * renders the registry (Prometheus text 0.0.4); /healthz answers "ok" while
 * the server runs; /readyz answers 200 "ok" once kn_metrics_server_set_ready()
 * was given true, 503 before. Anything else is 404; non-GET/HEAD is 405. */
#ifndef KN_METRICS_SERVER_H
#define KN_METRICS_SERVER_H

#include <stdbool.h>

#include "base/err.h"
#include "base/metrics.h"

#define KN_MS_MAX_CONNS 128
#define KN_MS_MAX_REQUEST 8192

typedef struct kn_metrics_server kn_metrics_server;

/* addr: "host:port", ":port" (all interfaces) or "[v6]:port"; port 0 picks one. */
kn_metrics_server *kn_metrics_server_start(const char *addr, kn_metrics *reg, kn_err *err);
int kn_metrics_server_port(const kn_metrics_server *ms);
void kn_metrics_server_set_ready(kn_metrics_server *ms, bool ready);
void kn_metrics_server_stop(kn_metrics_server *ms); /* joins and frees */

#endif
