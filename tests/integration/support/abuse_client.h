/* abuse_client.h - misbehaving clients for the webhook's fault tests.
 *
 * Raw TCP sockets that stop at any point of a TLS handshake or an HTTP/1.1
 * request, a real ClientHello to send (whole or in part) without ever
 * finishing, one raw HTTP/1.1 exchange over TLS for requests curl will not
 * send (lying Content-Length, broken chunking), and a process's resident
 * memory. Every wait here is bounded by the caller's timeout. */
#ifndef KN_IT_ABUSE_CLIENT_H
#define KN_IT_ABUSE_CLIENT_H

#include <stddef.h>
#include <sys/types.h>

#include "tls_client.h"

/* Blocking connect to 127.0.0.1:port with send/receive timeouts of
 * timeout_ms; the fd or -1. */
int kn_it_tcp_connect(int port, int timeout_ms);
/* Closes with a reset (SO_LINGER 0) instead of a FIN. */
void kn_it_tcp_abort(int fd);
/* Writes all of buf; 0 or -1 (also when the peer has gone). */
int kn_it_fd_write(int fd, const void *buf, size_t len);
/* 1 once something (data, EOF or a reset) can be read, 0 if nothing within timeout_ms. */
int kn_it_fd_readable(int fd, int timeout_ms);
/* 1 once the peer closed (EOF or reset; data before it is read and
 * dropped), 0 if still open after timeout_ms. */
int kn_it_fd_wait_closed(int fd, int timeout_ms);

/* A real ClientHello (TLS 1.2-1.3, SNI localhost, ALPN h2 and http/1.1) as
 * OpenSSL's client writes it. Malloc'd into *out; 0 or -1. */
int kn_it_client_hello(unsigned char **out, size_t *len);

/* A TLS connection to 127.0.0.1:port (verified against ca_file) that
 * negotiated HTTP/2 by ALPN, client preface and empty SETTINGS already sent,
 * its socket non-blocking. 0 or -1 (t cleaned up). */
int kn_it_h2_connect(kn_it_tls *t, int port, const char *ca_file, int timeout_ms);
/* Writes one HTTP/2 frame; 0 or -1. */
int kn_it_h2_frame(kn_it_tls *t, int type, int flags, unsigned stream, const void *payload, size_t len);
/* HEADERS for POST path on stream, END_HEADERS set, END_STREAM not. */
int kn_it_h2_post_headers(kn_it_tls *t, unsigned stream, const char *path);
/* The same with content-type application/json and, unless 0, a
 * content-length. */
int kn_it_h2_post_json_headers(kn_it_tls *t, unsigned stream, const char *path, size_t content_length);
/* One DATA frame of len (at most 16384) spaces on stream, END_STREAM not
 * set, written whole within timeout_ms; 0 or -1. */
int kn_it_h2_data(kn_it_tls *t, unsigned stream, size_t len, int timeout_ms);

/* What the server sent on an HTTP/2 connection, read as it comes. */
typedef struct kn_it_h2_frames {
    unsigned char buf[16384 + 9]; /* a partial frame */
    size_t have;
    int closed;                  /* the server hung up */
    int rst[16];                 /* RST_STREAMs by error code (REFUSED_STREAM is 7) */
    unsigned char rst_code[256]; /* by stream id (below 256): its RST_STREAM's code + 1 */
    int goaway;
} kn_it_h2_frames;
/* Reads what has arrived (never waits) into f. */
void kn_it_h2_read_frames(kn_it_tls *t, kn_it_h2_frames *f);
/* Writes all of buf on a TLS connection, blocking or not, within
 * timeout_ms; 0 or -1 (the server hung up, or it would not take it). */
int kn_it_tls_send(kn_it_tls *t, const void *buf, size_t len, int timeout_ms);
/* 1 once the peer has hung up (EOF or reset; data before it is read and
 * dropped), 0 if not yet. Never waits. */
int kn_it_tls_hung_up(kn_it_tls *t);

typedef struct kn_it_raw_resp {
    int status;      /* from the status line; 0 if no answer came */
    int closed;      /* the server closed the connection */
    char ctype[128]; /* Content-Type, lower case */
    char te[32];     /* Transfer-Encoding, lower case */
    char server[64]; /* Server, lower case ("" when the header is absent) */
    int dechunked;   /* a chunked body was complete and is decoded in body */
    char *body;      /* NUL-terminated, malloc'd (never NULL after a call) */
    size_t len;
} kn_it_raw_resp;

/* A fresh TLS connection (verified against ca_file), req written as is,
 * then one HTTP/1.1 answer read (framed by Content-Length or chunked) and, if
 * wait_close, the close that should follow. 0 when the exchange ran; -1
 * when the connection could not be made. */
int kn_it_raw_h1(int port, const char *ca_file, const char *req, size_t len, int wait_close, int timeout_ms,
                 kn_it_raw_resp *out);
void kn_it_raw_resp_free(kn_it_raw_resp *r);

/* VmRSS of pid in KiB; -1 if unreadable. */
long kn_it_rss_kib(pid_t pid);
/* VmHWM (the highest VmRSS so far) of pid in KiB; -1 if unreadable. */
long kn_it_hwm_kib(pid_t pid);
/* Milliseconds on the monotonic clock. */
long long kn_it_now_ms(void);

#endif
