/* bodies.c - request bodies held by h2o, kept within a budget (bodies.h).
 *
 * This reads h2o's HTTP/2 streams through <h2o/http2_internal.h>, the
 * layout of the libh2o the webhook is built with (Debian's 2.2.5+dfsg2,
 * h2o 2.2.6's headers); shim/khash.h beside this file stands in for the klib
 * header that package does not install. Only what h2o's own
 * stream_send_error and the status handler's request listing use is used. */
#include "webhook/bodies.h"

#include <h2o/http1.h>
#include <h2o/http2.h>
#include <h2o/http2_internal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum {
    H1_ARRIVING, /* HTTP/1.1 body still arriving: can be answered (503) */
    H1_HELD,     /* HTTP/1.1 request being answered, or a head arriving */
    H2_ARRIVING, /* HTTP/2 stream not yet answered: can be refused */
    H2_HELD,     /* HTTP/2 stream answered, its body held till the answer is sent */
} holder_kind;

typedef struct holder {
    holder_kind kind;
    h2o_req_t *req;
    h2o_socket_t *sock;         /* its connection's */
    h2o_http2_conn_t *h2;       /* HTTP/2 only */
    h2o_http2_stream_t *stream; /* freed once refused: read only while !gone */
    uint32_t stream_id;
    size_t have;          /* bytes of buffer holding the body */
    size_t want;          /* announced length (capped), 0 if none */
    struct timeval since; /* the request's start */
    int gone;
} holder;

typedef struct scan {
    holder *h;
    size_t n, cap;
    size_t max_entity; /* h2o's own per-request limit */
} scan;

static holder *push(scan *sc)
{
    if (sc->n == sc->cap) {
        size_t cap = sc->cap ? 2 * sc->cap : 64;
        holder *h = realloc(sc->h, cap * sizeof(*h));
        if (h == NULL)
            return NULL; /* what was collected is still enforced */
        sc->h = h;
        sc->cap = cap;
    }
    holder *h = &sc->h[sc->n++];
    memset(h, 0, sizeof(*h));
    return h;
}

static size_t capped(const scan *sc, size_t announced)
{
    return announced < sc->max_entity ? announced : sc->max_entity;
}

/* Content-Length from a request head still in the input buffer (h2o keeps
 * it there while the body arrives, and does not list it in req->headers).
 * 0 when absent or not a number. */
static size_t head_content_length(const h2o_buffer_t *in)
{
    static const char name[] = "\ncontent-length:";
    size_t len = in->size < H2O_MAX_REQLEN ? in->size : H2O_MAX_REQLEN;
    const char *p = in->bytes, *end = p + len;
    const char *head_end = memmem(p, len, "\r\n\r\n", 4);
    if (head_end != NULL)
        end = head_end + 2;
    for (const char *q = p; (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++) {
        if ((size_t)(end - q) < sizeof(name) - 1 || strncasecmp(q, name, sizeof(name) - 1) != 0)
            continue;
        const char *v = q + sizeof(name) - 1;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        size_t n = 0;
        for (; v < end && *v >= '0' && *v <= '9'; v++) {
            if (n > (SIZE_MAX - 9) / 10)
                return SIZE_MAX;
            n = n * 10 + (size_t)(*v - '0');
        }
        return n;
    }
    return 0;
}

static int collect_http1(h2o_req_t *req, void *arg)
{
    scan *sc = arg;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    if (sock == NULL || sock->input->bytes == NULL)
        return 0; /* nothing buffered: an idle keep-alive connection */
    holder *h = push(sc);
    if (h == NULL)
        return 1;
    h->req = req;
    h->sock = sock;
    h->have = sock->input->capacity;
    h->since = req->timestamps.request_begin_at;
    /* Not yet handed to a handler (h2o binds a path when it does), its body
     * begun, and nothing being written (a 100 Continue) that an answer
     * would collide with. */
    int arriving =
        req->pathconf == NULL && req->timestamps.request_body_begin_at.tv_sec != 0 && !h2o_socket_is_writing(sock);
    h->kind = arriving ? H1_ARRIVING : H1_HELD;
    if (arriving)
        h->want = capped(sc, head_content_length(sock->input));
    return 0;
}

static int collect_http2(h2o_req_t *req, void *arg)
{
    scan *sc = arg;
    h2o_http2_stream_t *st = H2O_STRUCT_FROM_MEMBER(h2o_http2_stream_t, req, req);
    h2o_http2_conn_t *conn = (h2o_http2_conn_t *)req->conn;
    size_t have = st->_req_body != NULL && st->_req_body->bytes != NULL ? st->_req_body->capacity : 0;
    size_t want = st->state == H2O_HTTP2_STREAM_STATE_RECV_BODY && st->_expected_content_length != SIZE_MAX
                      ? capped(sc, st->_expected_content_length)
                      : 0;
    if (have == 0 && want == 0)
        return 0;
    holder *h = push(sc);
    if (h == NULL)
        return 1;
    h->kind = st->state <= H2O_HTTP2_STREAM_STATE_REQ_PENDING ? H2_ARRIVING : H2_HELD;
    h->req = req;
    h->sock = conn->sock;
    h->h2 = conn;
    h->stream = st;
    h->stream_id = st->stream_id;
    h->have = have;
    h->want = want;
    h->since = req->timestamps.request_begin_at;
    return 0;
}

static int older(const holder *a, const holder *b)
{
    if (a->since.tv_sec != b->since.tv_sec)
        return a->since.tv_sec < b->since.tv_sec ? -1 : 1;
    if (a->since.tv_usec != b->since.tv_usec)
        return a->since.tv_usec < b->since.tv_usec ? -1 : 1;
    return a->stream_id < b->stream_id ? -1 : a->stream_id > b->stream_id;
}

static int by_age(const void *x, const void *y)
{
    return older(x, y);
}

/* HTTP/2 streams still arriving, grouped by connection, oldest first. */
static int by_conn(const void *x, const void *y)
{
    const holder *a = x, *b = y;
    uintptr_t ca = a->kind == H2_ARRIVING ? (uintptr_t)a->h2 : 0;
    uintptr_t cb = b->kind == H2_ARRIVING ? (uintptr_t)b->h2 : 0;
    if (ca != cb)
        return ca < cb ? -1 : 1;
    return older(a, b);
}

static void give_up(holder *h, const kn_bodies_ops *ops, kn_bodies_tally *t)
{
    h->gone = 1;
    switch (h->kind) {
    case H1_ARRIVING:
        ops->refuse_http1(h->req, ops->arg);
        t->refused_http1++;
        return;
    case H2_ARRIVING:
        if (h->h2->state >= H2O_HTTP2_CONN_STATE_IS_CLOSING)
            return; /* on its way out with all its streams */
        /* As h2o's own stream_send_error, then the stream is gone. */
        h->h2->super.ctx->http2.events.protocol_level_errors[-H2O_HTTP2_ERROR_REFUSED_STREAM]++;
        h2o_http2_encode_rst_stream_frame(&h->h2->_write.buf, h->stream->stream_id,
                                          -H2O_HTTP2_ERROR_REFUSED_STREAM);
        h2o_http2_conn_request_write(h->h2);
        h2o_http2_stream_reset(h->h2, h->stream);
        t->refused_http2++;
        return;
    case H1_HELD:
    case H2_HELD:
        ops->cut(h->sock, ops->arg);
        t->cut++;
        return;
    }
}

void kn_bodies_enforce(h2o_context_t *ctx, size_t budget, size_t held_elsewhere, int per_conn,
                       const kn_bodies_ops *ops, kn_bodies_tally *t)
{
    memset(t, 0, sizeof(*t));
    scan sc = {.max_entity = ctx->globalconf->max_request_entity_size};
    H2O_HTTP1_CALLBACKS.foreach_request(ctx, collect_http1, &sc);
    H2O_HTTP2_CALLBACKS.foreach_request(ctx, collect_http2, &sc);
    if (sc.n == 0)
        return;
    /* Acting changes h2o's stream tables, so only once all is collected;
     * a stream reset frees that stream alone, and a connection closes
     * only with its last stream, so every other holder stays valid. */
    qsort(sc.h, sc.n, sizeof(*sc.h), by_conn);
    for (size_t i = 0, run = 0; i < sc.n; i++) {
        holder *h = &sc.h[i];
        run = i > 0 && h->kind == H2_ARRIVING && sc.h[i - 1].kind == H2_ARRIVING && sc.h[i - 1].h2 == h->h2
                  ? run + 1
                  : 1;
        if (h->kind == H2_ARRIVING && run > (size_t)per_conn)
            give_up(h, ops, t);
    }
    qsort(sc.h, sc.n, sizeof(*sc.h), by_age);
    size_t held = held_elsewhere;
    for (size_t i = 0; i < sc.n; i++)
        if (!sc.h[i].gone)
            held += sc.h[i].have;
    for (size_t i = 0; i < sc.n && held > budget; i++)
        if (!sc.h[i].gone) {
            give_up(&sc.h[i], ops, t);
            held -= sc.h[i].have;
        }
    /* What is left of the budget goes to announced lengths, oldest first. */
    for (size_t i = 0; i < sc.n; i++) {
        holder *h = &sc.h[i];
        size_t more = h->want > h->have ? h->want - h->have : 0;
        if (h->gone || more == 0)
            continue;
        if (held <= budget && more <= budget - held) {
            held += more;
        } else {
            give_up(h, ops, t);
            held -= h->have;
        }
    }
    t->held = held - held_elsewhere;
    free(sc.h);
}

unsigned kn_http2_streams_open(const void *h2o_http2_conn)
{
    const h2o_http2_conn_t *conn = h2o_http2_conn;
    return conn->num_streams.pull.open + conn->num_streams.push.open;
}
