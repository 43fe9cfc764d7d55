#define H2O_USE_LIBUV 0
#include "webhook/tls.h"

#include <errno.h>
#include <h2o.h>
#include <h2o/http2.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"

/* What identifies one version of a file: a symlink swap changes the inode,
 * an in-place rewrite changes size or mtime. */
typedef struct file_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    bool present;
} file_id;

struct kn_tls_store {
    char *cert_file, *key_file;
    kn_tls_handshake_cb cb;
    void *cb_arg;
    pthread_mutex_t lock; /* guards current */
    SSL_CTX *current;
    file_id cert_id, key_id; /* of the last pair tried, loaded or not */
};

/* ECDHE only (forward secrecy), AEAD only; TLS 1.3 suites are OpenSSL's defaults. */
static const char k_tls12_ciphers[] = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                      "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                      "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

static void stat_file(const char *path, file_id *id)
{
    struct stat st;
    memset(id, 0, sizeof(*id));
    if (stat(path, &st) != 0)
        return;
    id->present = true;
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    id->size = st.st_size;
    id->mtime = st.st_mtim;
}

static bool same_file(const file_id *a, const file_id *b)
{
    return a->present == b->present && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* OpenSSL's own reason for the last failure, then the queue cleared. */
static int ssl_err(kn_err *err, const char *what, const char *path)
{
    char buf[256] = "no detail from OpenSSL";
    unsigned long e = ERR_peek_last_error();
    if (e != 0)
        ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    return kn_err_set(err, "%s %s: %s", what, path, buf);
}

static void info_cb(const SSL *ssl, int where, int ret)
{
    kn_tls_store *s = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    if (s == NULL || s->cb == NULL)
        return;
    if (where & SSL_CB_HANDSHAKE_DONE)
        s->cb(s->cb_arg, 1);
    else if ((where & SSL_CB_WRITE_ALERT) && (ret >> 8) == SSL3_AL_FATAL)
        s->cb(s->cb_arg, 0);
}

/* OpenSSL reports a missing file as "system lib"; say what is wrong. */
static int readable(const char *path, const char *what, kn_err *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return kn_err_set(err, "cannot read the %s %s: %s", what, path, strerror(errno));
    fclose(f);
    return 0;
}

static SSL_CTX *build_ctx(kn_tls_store *s, kn_err *err)
{
    if (readable(s->cert_file, "certificate", err) != 0 || readable(s->key_file, "private key", err) != 0)
        return NULL;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        ssl_err(err, "cannot create a TLS context for", s->cert_file);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_set_cipher_list(ctx, k_tls12_ciphers) != 1) {
        ssl_err(err, "cannot set ciphers for", s->cert_file);
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, s->cert_file) != 1) {
        ssl_err(err, "cannot load the certificate chain (PEM) from", s->cert_file);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, s->key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
            ERR_clear_error();
            kn_err_set(err, "the private key in %s does not match the certificate in %s", s->key_file,
                       s->cert_file);
        } else {
            ssl_err(err, "cannot load the private key (PEM) from", s->key_file);
        }
        goto fail;
    }
    SSL_CTX_set_app_data(ctx, s);
    SSL_CTX_set_info_callback(ctx, info_cb);
    h2o_ssl_register_alpn_protocols(ctx, h2o_http2_alpn_protocols);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

kn_tls_store *kn_tls_store_new(const char *cert_file, const char *key_file, kn_tls_handshake_cb cb, void *cb_arg,
                               kn_err *err)
{
    kn_tls_store *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        kn_err_set(err, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    if ((s->cert_file = strdup(cert_file)) == NULL || (s->key_file = strdup(key_file)) == NULL) {
        kn_tls_store_free(s);
        kn_err_set(err, "out of memory");
        return NULL;
    }
    s->cb = cb;
    s->cb_arg = cb_arg;
    stat_file(cert_file, &s->cert_id);
    stat_file(key_file, &s->key_id);
    if ((s->current = build_ctx(s, err)) == NULL) {
        kn_tls_store_free(s);
        return NULL;
    }
    return s;
}

SSL_CTX *kn_tls_store_acquire(kn_tls_store *s)
{
    pthread_mutex_lock(&s->lock);
    SSL_CTX *ctx = s->current;
    SSL_CTX_up_ref(ctx);
    pthread_mutex_unlock(&s->lock);
    return ctx;
}

int kn_tls_store_reload(kn_tls_store *s, kn_err *err)
{
    file_id cert, key;
    stat_file(s->cert_file, &cert);
    stat_file(s->key_file, &key);
    if (same_file(&cert, &s->cert_id) && same_file(&key, &s->key_id))
        return 0;
    /* Remember this version even if it fails, so a bad pair is reported
     * once and retried only when a file changes again. */
    s->cert_id = cert;
    s->key_id = key;
    SSL_CTX *fresh = build_ctx(s, err);
    if (fresh == NULL)
        return -1;
    pthread_mutex_lock(&s->lock);
    SSL_CTX *old = s->current;
    s->current = fresh;
    pthread_mutex_unlock(&s->lock);
    SSL_CTX_free(old); /* connections using it hold their own references */
    return 1;
}

void kn_tls_store_free(kn_tls_store *s)
{
    if (s == NULL)
        return;
    SSL_CTX_free(s->current); /* NULL-safe */
    pthread_mutex_destroy(&s->lock);
    free(s->cert_file);
    free(s->key_file);
    free(s);
}
