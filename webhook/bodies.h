/* bodies.h - the request bodies h2o holds, kept within a process-wide budget.
 *
 * h2o 2.2 reads every request body whole into memory before the handler
 * sees it (HTTP/1.1: the socket's input buffer; HTTP/2: one buffer per
 * stream, up to 100 streams a connection), with no hook on the way and no
 * bound but max_request_entity_size per request: 30 HTTP/2 streams of 7 MB
 * that never ended took the webhook from 20 to 261 MiB. kn_bodies_enforce
 * is called by each worker between turns of its event loop; it adds up
 * what that worker's requests hold and gives some of them up:
 *
 *   1. An HTTP/2 connection may have per_conn bodies arriving at once; its
 *      newer streams past that are refused (RST_STREAM REFUSED_STREAM, which
 *      clients retry).
 *   2. While the bytes held in the whole process pass the budget, the
 *      oldest requests go first: whoever holds a body longest is the likely
 *      abuser, and a new client is served.
 *   3. A body that announces its length (Content-Length) reserves it, oldest
 *      first; one whose length does not fit in what is left is refused at
 *      once, before its bytes arrive.
 *
 * Refused: an HTTP/1.1 request still arriving gets ops->refuse_http1 (the
 * server answers 503 and closes); an unanswered HTTP/2 stream REFUSED_STREAM;
 * a request already answered but held because its client does not read the
 * answer loses its connection (ops->cut). */
#ifndef KN_BODIES_H
#define KN_BODIES_H

#define H2O_USE_LIBUV 0
#include <h2o.h>
#include <stddef.h>

typedef struct kn_bodies_ops {
    /* An HTTP/1.1 request whose body is still arriving: answer it now. */
    void (*refuse_http1)(h2o_req_t *req, void *arg);
    /* A connection whose held request can no longer be refused: shut it. */
    void (*cut)(h2o_socket_t *sock, void *arg);
    void *arg;
} kn_bodies_ops;

typedef struct kn_bodies_tally {
    size_t held;       /* bytes held (and reserved) by what is left */
    int refused_http1; /* 503s */
    int refused_http2; /* REFUSED_STREAMs */
    int cut;           /* connections shut */
} kn_bodies_tally;

/* Walks ctx's requests. held_elsewhere: what the other workers hold. */
void kn_bodies_enforce(h2o_context_t *ctx, size_t budget, size_t held_elsewhere, int per_conn,
                       const kn_bodies_ops *ops, kn_bodies_tally *tally);

/* Streams open on an HTTP/2 connection (a socket's data once h2o_http2_accept
 * has taken it). */
unsigned kn_http2_streams_open(const void *h2o_http2_conn);

#endif
