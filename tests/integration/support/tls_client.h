/* tls_client.h - a raw TLS client for integration tests: what curl will not
 * do on purpose (offer only TLS 1.1, stall half-way through a request) or
 * does not show directly (the serving certificate's serial number). */
#ifndef KN_IT_TLS_CLIENT_H
#define KN_IT_TLS_CLIENT_H

#include <openssl/ssl.h>
#include <stddef.h>

typedef struct kn_it_tls {
    SSL_CTX *ctx;
    SSL *ssl;
    int fd;
} kn_it_tls;

/* Connects to 127.0.0.1:port and handshakes offering versions
 * [min_version, max_version] (e.g. TLS1_1_VERSION) and verifying the server
 * against ca_file. 0 on success; -1 otherwise (t is then cleaned up). */
int kn_it_tls_connect(kn_it_tls *t, int port, const char *ca_file, int min_version, int max_version);
/* The same, giving up on a handshake that takes longer than timeout_ms. */
int kn_it_tls_connect_within(kn_it_tls *t, int port, const char *ca_file, int min_version, int max_version,
                             int timeout_ms);
/* Serial of the server's certificate, in hex; 0 or -1. */
int kn_it_tls_peer_serial(const kn_it_tls *t, char *hex, size_t cap);
int kn_it_tls_write(kn_it_tls *t, const char *s);
/* Waits up to timeout_ms for the server to close the connection (EOF or a
 * reset, ignoring any data it sends first); 1 closed, 0 still open. */
int kn_it_tls_wait_closed(kn_it_tls *t, int timeout_ms);
void kn_it_tls_close(kn_it_tls *t);

#endif
