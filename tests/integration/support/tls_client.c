#include "tls_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int kn_it_tls_connect(kn_it_tls *t, int port, const char *ca_file, int min_version, int max_version)
{
    /* A handshake that hangs fails the test, not the whole run. */
    return kn_it_tls_connect_within(t, port, ca_file, min_version, max_version, 10000);
}

int kn_it_tls_connect_within(kn_it_tls *t, int port, const char *ca_file, int min_version, int max_version,
                             int timeout_ms)
{
    memset(t, 0, sizeof(*t));
    t->fd = -1;
    if ((t->ctx = SSL_CTX_new(TLS_client_method())) == NULL)
        return -1;
    /* Security level 0 so that OpenSSL itself would offer old protocol
     * versions: a refusal then has to come from the server. */
    SSL_CTX_set_security_level(t->ctx, 0);
    SSL_CTX_set_cipher_list(t->ctx, "ALL:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(t->ctx, min_version);
    SSL_CTX_set_max_proto_version(t->ctx, max_version);
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
    if (SSL_CTX_load_verify_locations(t->ctx, ca_file, NULL) != 1)
        goto fail;
    t->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (t->fd < 0 || connect(t->fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        goto fail;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(t->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if ((t->ssl = SSL_new(t->ctx)) == NULL || SSL_set_fd(t->ssl, t->fd) != 1)
        goto fail;
    SSL_set_tlsext_host_name(t->ssl, "localhost");
    SSL_set1_host(t->ssl, "localhost");
    if (SSL_connect(t->ssl) != 1)
        goto fail;
    return 0;
fail:
    ERR_clear_error();
    kn_it_tls_close(t);
    return -1;
}

int kn_it_tls_peer_serial(const kn_it_tls *t, char *hex, size_t cap)
{
    X509 *cert = SSL_get1_peer_certificate(t->ssl);
    if (cert == NULL)
        return -1;
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(cert), NULL);
    char *s = bn != NULL ? BN_bn2hex(bn) : NULL;
    int rc = -1;
    if (s != NULL && strlen(s) < cap) {
        strcpy(hex, s);
        rc = 0;
    }
    OPENSSL_free(s);
    BN_free(bn);
    X509_free(cert);
    return rc;
}

int kn_it_tls_write(kn_it_tls *t, const char *s)
{
    return SSL_write(t->ssl, s, (int)strlen(s)) == (int)strlen(s) ? 0 : -1;
}

int kn_it_tls_wait_closed(kn_it_tls *t, int timeout_ms)
{
    char buf[4096];
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        if (SSL_pending(t->ssl) == 0) {
            struct pollfd p = {.fd = t->fd, .events = POLLIN};
            if (poll(&p, 1, 100) == 0)
                continue;
        }
        int n = SSL_read(t->ssl, buf, sizeof(buf));
        if (n <= 0) {
            int e = SSL_get_error(t->ssl, n);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                ERR_clear_error();
                return 1;
            }
        }
    }
    return 0;
}

void kn_it_tls_close(kn_it_tls *t)
{
    if (t->ssl != NULL)
        SSL_free(t->ssl);
    if (t->fd >= 0)
        close(t->fd);
    if (t->ctx != NULL)
        SSL_CTX_free(t->ctx);
    memset(t, 0, sizeof(*t));
    t->fd = -1;
}
