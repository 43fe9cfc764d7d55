/* tls.h - the webhook's serving certificate, reloaded when its files change.
 *
 * A kn_tls_store owns the current server SSL_CTX (TLS 1.2+, ECDHE with
 * AES-GCM or ChaCha20 for TLS 1.2, ALPN h2 and http/1.1). Each new connection
 * takes a reference with kn_tls_store_acquire(); kn_tls_store_reload() (called
 * every few seconds from one thread) stats the two files following symlinks
 * (as kubelet's atomic Secret updates swap them) and, when device, inode,
 * size or mtime of either changed, builds a new SSL_CTX and swaps it in. A
 * pair that does not load or does not match is logged and the old context is
 * kept, so existing and new connections keep working. Connections already
 * open keep the context they started with (OpenSSL reference counts it). */
#ifndef KN_TLS_H
#define KN_TLS_H

#include <openssl/ssl.h>

#include "base/err.h"

typedef struct kn_tls_store kn_tls_store;

/* Called from the handshaking thread once per finished server handshake
 * (ok = 1) or once per fatal alert the server sent (ok = 0). */
typedef void (*kn_tls_handshake_cb)(void *arg, int ok);

kn_tls_store *kn_tls_store_new(const char *cert_file, const char *key_file, kn_tls_handshake_cb cb, void *cb_arg,
                               kn_err *err);

/* The current context with one more reference; release it with SSL_CTX_free. */
SSL_CTX *kn_tls_store_acquire(kn_tls_store *s);

/* 0: files unchanged; 1: changed and the new pair is now served; -1: changed
 * but rejected (err says why; the previous pair is still served). */
int kn_tls_store_reload(kn_tls_store *s, kn_err *err);

void kn_tls_store_free(kn_tls_store *s);

#endif
