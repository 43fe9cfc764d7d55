#include "abuse_client.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

long long kn_it_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int kn_it_tcp_connect(int port, int timeout_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

void kn_it_tcp_abort(int fd)
{
    struct linger l = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    close(fd);
}

int kn_it_fd_write(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int kn_it_fd_readable(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, timeout_ms) > 0;
}

int kn_it_fd_wait_closed(int fd, int timeout_ms)
{
    char buf[4096];
    long long deadline = kn_it_now_ms() + timeout_ms;
    for (long long left = timeout_ms; left >= 0; left = deadline - kn_it_now_ms()) {
        if (!kn_it_fd_readable(fd, (int)(left < 100 ? left : 100)))
            continue;
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            return 1;
    }
    return 0;
}

int kn_it_client_hello(unsigned char **out, size_t *len)
{
    static const unsigned char alpn[] = "\x02h2\x08http/1.1";
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = ctx != NULL ? SSL_new(ctx) : NULL;
    BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
    int rc = -1;
    *out = NULL;
    if (ssl == NULL || rb == NULL || wb == NULL)
        goto done;
    SSL_set_bio(ssl, rb, wb); /* ssl owns both now */
    rb = wb = NULL;
    SSL_set_tlsext_host_name(ssl, "localhost");
    SSL_set_alpn_protos(ssl, alpn, sizeof(alpn) - 1);
    SSL_connect(ssl); /* writes the ClientHello, then wants to read */
    BIO *w = SSL_get_wbio(ssl);
    int n = (int)BIO_pending(w);
    if (n <= 0 || (*out = malloc((size_t)n)) == NULL)
        goto done;
    *len = (size_t)BIO_read(w, *out, n);
    rc = *len == (size_t)n ? 0 : -1;
done:
    if (rc != 0) {
        free(*out);
        *out = NULL;
    }
    ERR_clear_error();
    BIO_free(rb);
    BIO_free(wb);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return rc;
}

int kn_it_h2_connect(kn_it_tls *t, int port, const char *ca_file, int timeout_ms)
{
    static const unsigned char alpn[] = "\x02h2";
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    const unsigned char *proto = NULL;
    unsigned proto_len = 0;
    memset(t, 0, sizeof(*t));
    t->fd = kn_it_tcp_connect(port, timeout_ms);
    if (t->fd < 0 || (t->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
        SSL_CTX_load_verify_locations(t->ctx, ca_file, NULL) != 1 ||
        SSL_CTX_set_alpn_protos(t->ctx, alpn, sizeof(alpn) - 1) != 0 || (t->ssl = SSL_new(t->ctx)) == NULL ||
        SSL_set_fd(t->ssl, t->fd) != 1)
        goto fail;
    SSL_set_verify(t->ssl, SSL_VERIFY_PEER, NULL);
    SSL_set1_host(t->ssl, "localhost");
    if (SSL_connect(t->ssl) != 1)
        goto fail;
    SSL_get0_alpn_selected(t->ssl, &proto, &proto_len);
    if (proto_len != 2 || memcmp(proto, "h2", 2) != 0 ||
        SSL_write(t->ssl, preface, sizeof(preface) - 1) != (int)sizeof(preface) - 1 ||
        kn_it_h2_frame(t, 4 /* SETTINGS */, 0, 0, NULL, 0) != 0)
        goto fail;
    fcntl(t->fd, F_SETFL, fcntl(t->fd, F_GETFL) | O_NONBLOCK);
    return 0;
fail:
    ERR_clear_error();
    kn_it_tls_close(t);
    return -1;
}

int kn_it_h2_frame(kn_it_tls *t, int type, int flags, unsigned stream, const void *payload, size_t len)
{
    unsigned char f[9 + 256];
    if (len > 256)
        return -1;
    f[0] = (unsigned char)(len >> 16);
    f[1] = (unsigned char)(len >> 8);
    f[2] = (unsigned char)len;
    f[3] = (unsigned char)type;
    f[4] = (unsigned char)flags;
    for (int i = 0; i < 4; i++)
        f[5 + i] = (unsigned char)(stream >> (24 - 8 * i));
    if (len > 0)
        memcpy(f + 9, payload, len);
    int n = SSL_write(t->ssl, f, (int)(9 + len));
    ERR_clear_error();
    return n == (int)(9 + len) ? 0 : -1;
}

/* HPACK: a literal without indexing whose name is static table entry
 * index (>= 15, so two bytes of 4-bit-prefixed integer). */
static size_t hpack_literal(unsigned char *h, int index, const char *value)
{
    size_t vl = strlen(value);
    h[0] = 0x0f;
    h[1] = (unsigned char)(index - 15);
    h[2] = (unsigned char)vl;
    memcpy(h + 3, value, vl);
    return 3 + vl;
}

static int post_headers(kn_it_tls *t, unsigned stream, const char *path, int json, size_t content_length)
{
    /* HPACK: :method POST and :scheme https from the static table, :path and
     * :authority as literals with an indexed name. */
    unsigned char h[256];
    size_t pl = strlen(path), n = 0;
    if (pl > 100)
        return -1;
    h[n++] = 0x83;
    h[n++] = 0x87;
    h[n++] = 0x44;
    h[n++] = (unsigned char)pl;
    memcpy(h + n, path, pl);
    n += pl;
    h[n++] = 0x41;
    h[n++] = 9;
    memcpy(h + n, "localhost", 9);
    n += 9;
    if (json)
        n += hpack_literal(h + n, 31 /* content-type */, "application/json");
    if (content_length > 0) {
        char len[32];
        snprintf(len, sizeof(len), "%zu", content_length);
        n += hpack_literal(h + n, 28 /* content-length */, len);
    }
    return kn_it_h2_frame(t, 1 /* HEADERS */, 0x4 /* END_HEADERS */, stream, h, n);
}

int kn_it_h2_post_headers(kn_it_tls *t, unsigned stream, const char *path)
{
    return post_headers(t, stream, path, 0, 0);
}

int kn_it_h2_post_json_headers(kn_it_tls *t, unsigned stream, const char *path, size_t content_length)
{
    return post_headers(t, stream, path, 1, content_length);
}

int kn_it_tls_send(kn_it_tls *t, const void *buf, size_t len, int timeout_ms)
{
    const char *p = buf;
    long long deadline = kn_it_now_ms() + timeout_ms;
    while (len > 0) {
        int n = SSL_write(t->ssl, p, len > (1u << 30) ? 1 << 30 : (int)len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        int e = SSL_get_error(t->ssl, n);
        ERR_clear_error();
        long long left = deadline - kn_it_now_ms();
        if ((e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ) || left <= 0)
            return -1;
        struct pollfd pf = {.fd = t->fd, .events = e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN};
        poll(&pf, 1, (int)(left < 100 ? left : 100));
    }
    return 0;
}

int kn_it_h2_data(kn_it_tls *t, unsigned stream, size_t len, int timeout_ms)
{
    static unsigned char f[9 + 16384];
    if (len > 16384)
        return -1;
    f[0] = (unsigned char)(len >> 16);
    f[1] = (unsigned char)(len >> 8);
    f[2] = (unsigned char)len;
    f[3] = 0; /* DATA, no flags */
    f[4] = 0;
    for (int i = 0; i < 4; i++)
        f[5 + i] = (unsigned char)(stream >> (24 - 8 * i));
    memset(f + 9, ' ', len);
    return kn_it_tls_send(t, f, 9 + len, timeout_ms);
}

void kn_it_h2_read_frames(kn_it_tls *t, kn_it_h2_frames *f)
{
    while (!f->closed) {
        if (SSL_pending(t->ssl) == 0 && !kn_it_fd_readable(t->fd, 0))
            return;
        int n = SSL_read(t->ssl, f->buf + f->have, (int)(sizeof(f->buf) - f->have));
        if (n <= 0) {
            int e = SSL_get_error(t->ssl, n);
            ERR_clear_error();
            f->closed = e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
            return;
        }
        f->have += (size_t)n;
        for (;;) { /* whole frames out of the buffer */
            if (f->have < 9)
                break;
            size_t len = (size_t)f->buf[0] << 16 | (size_t)f->buf[1] << 8 | f->buf[2];
            if (len > sizeof(f->buf) - 9) { /* not a frame we asked for */
                f->closed = 1;
                return;
            }
            if (f->have < 9 + len)
                break;
            if (f->buf[3] == 3 /* RST_STREAM */ && len == 4) {
                unsigned code = (unsigned)f->buf[9 + 3];
                unsigned id = (unsigned)(f->buf[5] & 0x7f) << 24 | (unsigned)f->buf[6] << 16 |
                              (unsigned)f->buf[7] << 8 | f->buf[8];
                f->rst[code < 16 ? code : 15]++;
                if (id < sizeof(f->rst_code) && f->rst_code[id] == 0)
                    f->rst_code[id] = (unsigned char)(code < 255 ? code + 1 : 255);
            } else if (f->buf[3] == 7 /* GOAWAY */) {
                f->goaway++;
            }
            memmove(f->buf, f->buf + 9 + len, f->have - 9 - len);
            f->have -= 9 + len;
        }
    }
}

int kn_it_tls_hung_up(kn_it_tls *t)
{
    char buf[1024];
    while (SSL_pending(t->ssl) > 0 || kn_it_fd_readable(t->fd, 0)) {
        int n = SSL_read(t->ssl, buf, sizeof(buf));
        if (n <= 0) {
            int e = SSL_get_error(t->ssl, n);
            ERR_clear_error();
            return e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
        }
    }
    return 0;
}

static int tls_write_all(kn_it_tls *t, const char *p, size_t len)
{
    while (len > 0) {
        int chunk = len > (1u << 30) ? 1 << 30 : (int)len;
        int n = SSL_write(t->ssl, p, chunk);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int append(kn_it_raw_resp *r, const char *p, size_t n)
{
    char *nb = realloc(r->body, r->len + n + 1);
    if (nb == NULL)
        return -1;
    memcpy(nb + r->len, p, n);
    r->body = nb;
    r->len += n;
    r->body[r->len] = '\0';
    return 0;
}

/* One header's value from the head (the part before the blank line). */
static void header_value(const char *head, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    size_t nl = strlen(name);
    for (const char *l = strstr(head, "\r\n"); l != NULL; l = strstr(l + 2, "\r\n")) {
        if (strncasecmp(l + 2, name, nl) == 0 && l[2 + nl] == ':') {
            const char *v = l + 3 + nl, *e;
            while (*v == ' ')
                v++;
            for (e = v; *e != '\r' && *e != '\0'; e++)
                ;
            snprintf(out, cap, "%.*s", (int)(e - v), v);
            for (char *c = out; *c; c++)
                *c = (char)tolower((unsigned char)*c);
            return;
        }
    }
}

/* Reads one TLS record's worth; 1 data, 0 nothing yet, -1 closed. */
static int read_some(kn_it_tls *t, kn_it_raw_resp *r, int wait_ms)
{
    char buf[16384];
    if (SSL_pending(t->ssl) == 0 && !kn_it_fd_readable(t->fd, wait_ms))
        return 0;
    int n = SSL_read(t->ssl, buf, sizeof(buf));
    if (n > 0)
        return append(r, buf, (size_t)n) == 0 ? 1 : -1;
    int e = SSL_get_error(t->ssl, n);
    ERR_clear_error();
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

/* Decodes a chunked body in place; 1 once its last chunk is in, 0 before. */
static int dechunk(kn_it_raw_resp *r, const char *raw, size_t n)
{
    size_t out = 0, i = 0;
    while (i < n) {
        char *end;
        unsigned long long size = strtoull(raw + i, &end, 16);
        const char *crlf = strstr(raw + i, "\r\n");
        if (crlf == NULL || end == raw + i)
            return 0;
        i = (size_t)(crlf - raw) + 2;
        if (size == 0) {
            r->len = out;
            r->body[out] = '\0';
            return 1;
        }
        if (i + size + 2 > n)
            return 0;
        memmove(r->body + out, raw + i, size);
        out += size;
        i += size + 2;
    }
    return 0;
}

/* Once the head is complete: parses it, moves it out of r->body, sets
 * *have_head and returns the body length it announces (SIZE_MAX if none). */
static size_t take_head(kn_it_raw_resp *r, int *have_head)
{
    char *end = r->body != NULL ? strstr(r->body, "\r\n\r\n") : NULL;
    if (end == NULL)
        return 0;
    *have_head = 1;
    *end = '\0';
    sscanf(r->body, "HTTP/1.%*d %d", &r->status);
    char cl[32];
    header_value(r->body, "content-type", r->ctype, sizeof(r->ctype));
    header_value(r->body, "content-length", cl, sizeof(cl));
    header_value(r->body, "transfer-encoding", r->te, sizeof(r->te));
    header_value(r->body, "server", r->server, sizeof(r->server));
    size_t head = (size_t)(end - r->body) + 4;
    memmove(r->body, r->body + head, r->len - head + 1);
    r->len -= head;
    return cl[0] != '\0' ? (size_t)strtoull(cl, NULL, 10) : SIZE_MAX;
}

int kn_it_raw_h1(int port, const char *ca_file, const char *req, size_t len, int wait_close, int timeout_ms,
                 kn_it_raw_resp *out)
{
    memset(out, 0, sizeof(*out));
    out->body = calloc(1, 1);
    kn_it_tls t;
    if (out->body == NULL ||
        kn_it_tls_connect_within(&t, port, ca_file, TLS1_2_VERSION, TLS1_3_VERSION, timeout_ms) != 0)
        return -1;
    /* A server that answers early and closes may make the rest of the write
     * fail; the answer is still read. */
    tls_write_all(&t, req, len);
    long long deadline = kn_it_now_ms() + timeout_ms;
    int have_head = 0;
    size_t want = SIZE_MAX;
    while (kn_it_now_ms() < deadline && !out->closed) {
        int rc = read_some(&t, out, 100);
        if (rc < 0)
            out->closed = 1;
        if (!have_head)
            want = take_head(out, &have_head);
        if (have_head && strcmp(out->te, "chunked") == 0 && !out->dechunked) {
            char *raw = strdup(out->body);
            if (raw != NULL)
                out->dechunked = dechunk(out, raw, out->len);
            free(raw);
        }
        int complete = out->dechunked || (want != SIZE_MAX && out->len >= want);
        if (have_head && complete && !wait_close)
            break;
    }
    kn_it_tls_close(&t);
    return 0;
}

void kn_it_raw_resp_free(kn_it_raw_resp *r)
{
    free(r->body);
    r->body = NULL;
}

/* One "Field: N kB" line of /proc/PID/status. */
static long status_kib(pid_t pid, const char *format)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, format, &kib) == 1)
            break;
    fclose(f);
    return kib;
}

long kn_it_rss_kib(pid_t pid)
{
    return status_kib(pid, "VmRSS: %ld kB");
}

long kn_it_hwm_kib(pid_t pid)
{
    return status_kib(pid, "VmHWM: %ld kB");
}
