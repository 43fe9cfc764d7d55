/* metrics_server.c - the /metrics, /healthz, /readyz HTTP server (see metrics_server.h). */
#include "scheduler/metrics_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

/* kubelet's probes send their request at once and give up after 1 s (the
 * default timeoutSeconds): a connection without its whole request head by
 * then is stuck or hostile, and slots held longer by such clients are what
 * starved the probes. */
#define HEADER_TIMEOUT_S 1.0
/* A reader that has not taken its answer in 5 s is not waiting for it. */
#define WRITE_TIMEOUT_S 5.0

typedef struct conn {
    int fd;
    char buf[KN_MS_MAX_REQUEST + 1];
    size_t len;
    double accepted; /* monotonic: the oldest idle one is evicted first */
    double deadline; /* monotonic: closed when reached */
    char *out;       /* response being written */
    size_t out_len, out_off;
} conn;

struct kn_metrics_server {
    int lfd, port;
    int wake[2]; /* self-pipe: stop */
    kn_metrics *reg;
    atomic_bool ready;
    pthread_t thread;
    conn conns[KN_MS_MAX_CONNS];
};

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int split_addr(const char *addr, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || !colon[1])
        return -1;
    size_t hl = (size_t)(colon - addr);
    if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') {
        addr++;
        hl -= 2;
    }
    if (hl >= hcap || strlen(colon + 1) >= pcap)
        return -1;
    memcpy(host, addr, hl);
    host[hl] = '\0';
    strcpy(port, colon + 1);
    for (const char *p = port; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    return 0;
}

static int listen_on(const char *addr, int *port_out, kn_err *err)
{
    char host[256], port[16];
    if (split_addr(addr, host, sizeof host, port, sizeof port) < 0)
        return kn_err_set(err, "--metrics-bind-address \"%s\": want host:port or :port", addr);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res;
    int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (rc != 0)
        return kn_err_set(err, "--metrics-bind-address \"%s\": %s", addr, gai_strerror(rc));
    int fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return kn_err_set(err, "--metrics-bind-address \"%s\": cannot listen: %s", addr, strerror(errno));
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

static void close_conn(conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->out);
    c->fd = -1;
    c->out = NULL;
    c->len = c->out_len = c->out_off = 0;
}

static void respond(conn *c, int code, const char *reason, const char *ctype, const char *body, size_t blen,
                    bool head)
{
    char hdr[256];
    int hl = snprintf(hdr, sizeof hdr,
                      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                      code, reason, ctype, blen);
    size_t total = (size_t)hl + (head ? 0 : blen);
    c->out = malloc(total);
    if (!c->out) {
        close_conn(c);
        return;
    }
    memcpy(c->out, hdr, (size_t)hl);
    if (!head)
        memcpy(c->out + hl, body, blen);
    c->out_len = total;
    c->out_off = 0;
    c->deadline = mono() + WRITE_TIMEOUT_S;
}

static void handle_request(kn_metrics_server *ms, conn *c)
{
    char method[8] = "", target[256] = "";
    c->buf[c->len] = '\0';
    if (sscanf(c->buf, "%7s %255s", method, target) != 2) {
        respond(c, 400, "Bad Request", "text/plain", "bad request\n", 12, false);
        return;
    }
    bool head = strcmp(method, "HEAD") == 0;
    if (!head && strcmp(method, "GET") != 0) {
        respond(c, 405, "Method Not Allowed", "text/plain", "method not allowed\n", 19, false);
        return;
    }
    char *q = strchr(target, '?');
    if (q)
        *q = '\0';
    if (strcmp(target, "/metrics") == 0) {
        size_t len = 0;
        char *text = kn_metrics_render(ms->reg, &len);
        if (text)
            respond(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", text, len, head);
        else
            respond(c, 500, "Internal Server Error", "text/plain", "out of memory\n", 14, head);
        free(text);
    } else if (strcmp(target, "/healthz") == 0 || strcmp(target, "/livez") == 0) {
        respond(c, 200, "OK", "text/plain", "ok\n", 3, head);
    } else if (strcmp(target, "/readyz") == 0) {
        if (atomic_load(&ms->ready))
            respond(c, 200, "OK", "text/plain", "ok\n", 3, head);
        else
            respond(c, 503, "Service Unavailable", "text/plain", "informers not synced\n", 21, head);
    } else {
        respond(c, 404, "Not Found", "text/plain", "not found\n", 10, head);
    }
}

static void on_readable(kn_metrics_server *ms, conn *c)
{
    ssize_t n = read(c->fd, c->buf + c->len, KN_MS_MAX_REQUEST - c->len);
    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            close_conn(c);
        return;
    }
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    if (strstr(c->buf, "\r\n\r\n") || strstr(c->buf, "\n\n"))
        handle_request(ms, c);
    else if (c->len >= KN_MS_MAX_REQUEST)
        respond(c, 431, "Request Header Fields Too Large", "text/plain", "request too large\n", 18, false);
}

static void on_writable(conn *c)
{
    ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR)
            close_conn(c);
        return;
    }
    c->out_off += (size_t)n;
    if (c->out_off == c->out_len)
        close_conn(c);
}

/* A slot for a new connection: a free one, else the one that has waited
 * longest for its request head (an idle or trickling client; the newcomer may
 * be a probe that sends at once). Connections being answered keep their slot:
 * when every slot is answering, NULL. */
static conn *take_slot(kn_metrics_server *ms)
{
    conn *oldest = NULL;
    for (int i = 0; i < KN_MS_MAX_CONNS; i++) {
        conn *c = &ms->conns[i];
        if (c->fd < 0)
            return c;
        if (!c->out && (!oldest || c->accepted < oldest->accepted))
            oldest = c;
    }
    if (oldest)
        close_conn(oldest);
    return oldest;
}

static void accept_conns(kn_metrics_server *ms)
{
    for (;;) {
        int fd = accept4(ms->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        conn *slot = take_slot(ms);
        if (!slot) { /* every slot is sending an answer: shed load rather than queue */
            close(fd);
            continue;
        }
        slot->fd = fd;
        slot->len = 0;
        slot->accepted = mono();
        slot->deadline = slot->accepted + HEADER_TIMEOUT_S;
    }
}

static void *server_thread(void *arg)
{
    kn_metrics_server *ms = arg;
    struct pollfd pfd[KN_MS_MAX_CONNS + 2];
    int idx[KN_MS_MAX_CONNS + 2];
    for (;;) {
        int n = 0;
        pfd[n++] = (struct pollfd){.fd = ms->wake[0], .events = POLLIN};
        pfd[n++] = (struct pollfd){.fd = ms->lfd, .events = POLLIN};
        double now = mono(), next = now + 1.0;
        for (int i = 0; i < KN_MS_MAX_CONNS; i++) {
            conn *c = &ms->conns[i];
            if (c->fd < 0)
                continue;
            if (now >= c->deadline) {
                close_conn(c);
                continue;
            }
            if (c->deadline < next)
                next = c->deadline;
            idx[n] = i;
            pfd[n++] = (struct pollfd){.fd = c->fd, .events = c->out ? POLLOUT : POLLIN};
        }
        /* wake for the next deadline, so a stuck client is gone on time */
        int timeout_ms = (int)((next - now) * 1000.0) + 1;
        if (poll(pfd, (nfds_t)n, timeout_ms) < 0 && errno != EINTR)
            break;
        if (pfd[0].revents)
            break;
        if (pfd[1].revents & POLLIN)
            accept_conns(ms);
        for (int k = 2; k < n; k++) {
            conn *c = &ms->conns[idx[k]];
            if (!pfd[k].revents || c->fd != pfd[k].fd)
                continue;
            if (c->out)
                on_writable(c);
            else if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR))
                on_readable(ms, c);
        }
    }
    return NULL;
}

kn_metrics_server *kn_metrics_server_start(const char *addr, kn_metrics *reg, kn_err *err)
{
    kn_metrics_server *ms = calloc(1, sizeof *ms);
    if (!ms) {
        kn_err_set(err, "out of memory");
        return NULL;
    }
    ms->reg = reg;
    atomic_init(&ms->ready, false);
    for (int i = 0; i < KN_MS_MAX_CONNS; i++)
        ms->conns[i].fd = -1;
    ms->wake[0] = ms->wake[1] = -1;
    ms->lfd = listen_on(addr, &ms->port, err);
    if (ms->lfd < 0 || pipe2(ms->wake, O_CLOEXEC) < 0 ||
        pthread_create(&ms->thread, NULL, server_thread, ms) != 0) {
        if (ms->lfd >= 0) {
            kn_err_set(err, "cannot start the metrics server: %s", strerror(errno));
            close(ms->lfd);
        }
        if (ms->wake[0] >= 0) {
            close(ms->wake[0]);
            close(ms->wake[1]);
        }
        free(ms);
        return NULL;
    }
    kn_log(KN_LOG_INFO, "metrics server listening", "address=%s port=%d", addr, ms->port);
    return ms;
}

int kn_metrics_server_port(const kn_metrics_server *ms)
{
    return ms->port;
}

void kn_metrics_server_set_ready(kn_metrics_server *ms, bool ready)
{
    atomic_store(&ms->ready, ready);
}

void kn_metrics_server_stop(kn_metrics_server *ms)
{
    if (!ms)
        return;
    ssize_t w = write(ms->wake[1], "x", 1);
    (void)w;
    pthread_join(ms->thread, NULL);
    for (int i = 0; i < KN_MS_MAX_CONNS; i++)
        close_conn(&ms->conns[i]);
    close(ms->lfd);
    close(ms->wake[0]);
    close(ms->wake[1]);
    free(ms);
}
