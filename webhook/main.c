/* kubenexus-webhook: the admission webhook's HTTPS server, or `check` offline.
 *
 * The main thread only controls: it loads the certificate, starts the
 * workers, then waits for SIGTERM/SIGINT while checking the certificate files
 * every --cert-reload-interval (at once on SIGHUP). On SIGTERM/SIGINT it
 * drains (readyz 503, no new connections), gives in-flight requests
 * --shutdown-timeout, and exits 0. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "webhook/check.h"
#include "webhook/send.h"
#include "base/log.h"
#include "base/metrics.h"
#include "webhook/options.h"
#include "webhook/server.h"
#include "webhook/tls.h"

static void reload_certs(kn_tls_store *tls, const kn_webhook_metrics *m, const kn_webhook_options *o)
{
    kn_err err = {{0}};
    int rc = kn_tls_store_reload(tls, &err);
    if (rc > 0) {
        kn_metric_inc(m->cert_reloads, (const char *[]){"success"}, 1);
        kn_log(KN_LOG_INFO, "serving certificate reloaded", "cert=%s key=%s", o->cert_file, o->key_file);
    } else if (rc < 0) {
        kn_metric_inc(m->cert_reloads, (const char *[]){"failure"}, 1);
        kn_log(KN_LOG_ERROR, "new certificate rejected, still serving the previous one", "error=%s", err.msg);
    }
}

/* Returns the signal that ends the wait (SIGTERM or SIGINT); SIGHUP only
 * makes the certificate check happen now. */
static int wait_for_signal(const sigset_t *set, kn_tls_store *tls, const kn_webhook_metrics *m,
                           const kn_webhook_options *o)
{
    struct timespec tick = {o->cert_reload_ms / 1000, (long)(o->cert_reload_ms % 1000) * 1000000L};
    for (;;) {
        int sig = sigtimedwait(set, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT)
            return sig;
        if (sig == SIGHUP || (sig < 0 && errno == EAGAIN))
            reload_certs(tls, m, o);
    }
}

static int serve(const kn_webhook_options *o)
{
    kn_err err = {{0}};
    int status = 1;
    /* Blocked before anything starts (threads inherit the mask), so a
     * SIGTERM during start-up is handled like any other, by sigtimedwait. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    /* Every review mallocs and frees blocks of a few times its size. By
     * default glibc gives a worker's free heap back (madvise) whenever load
     * dips and takes it again when it rises: syscalls, and page faults, in
     * the request path. Keep up to 8 MiB of it (fixing the thresholds also
     * stops glibc moving them); blocks over 4 MiB are mmapped. */
    mallopt(M_TRIM_THRESHOLD, 8 << 20);
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    kn_metrics *reg = kn_metrics_new();
    kn_webhook_metrics m;
    kn_webhook_metrics_init(&m, reg);
    kn_tls_store *tls = kn_tls_store_new(o->cert_file, o->key_file, kn_webhook_count_handshake, &m, &err);
    kn_server *srv = NULL;
    if (tls == NULL) {
        kn_log(KN_LOG_ERROR, "cannot load the serving certificate", "error=%s", err.msg);
        goto out;
    }
    kn_server_config cfg = {
        .bind_address = o->bind_address,
        .port = o->port,
        .threads = o->threads,
        .max_connections = o->max_connections,
        .max_request_bytes = o->max_request_bytes,
        .max_buffered_bytes = o->max_buffered_bytes,
        .request_timeout_ms = o->request_timeout_ms,
        .admit = {.scheduler_name = o->scheduler_name, .fill_gang_labels = o->fill_gang_labels},
    };
    if ((srv = kn_server_new(&cfg, tls, reg, &m, &err)) == NULL || kn_server_start(srv, &err) != 0) {
        kn_log(KN_LOG_ERROR, "cannot start the server", "error=%s", err.msg);
        goto out;
    }
    int sig = wait_for_signal(&set, tls, &m, o);
    kn_log(KN_LOG_INFO, "shutting down", "signal=%s grace_ms=%u", strsignal(sig), o->shutdown_timeout_ms);
    int cut = kn_server_stop(srv, o->shutdown_timeout_ms);
    kn_log(KN_LOG_INFO, "stopped", "connections_cut=%s", cut ? "yes" : "no");
    status = 0;
out:
    kn_server_free(srv);
    kn_tls_store_free(tls);
    kn_metrics_free(reg);
    return status;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "check") == 0)
        return kn_check_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "send") == 0)
        return kn_send_main(argc - 1, argv + 1);
    kn_webhook_options o;
    kn_err err = {{0}};
    switch (kn_options_parse(argc, argv, &o, &err)) {
    case KN_OPTIONS_HELP: kn_options_usage(stdout); return 0;
    case KN_OPTIONS_ERROR:
        fprintf(stderr, "kubenexus-webhook: %s\n\n", err.msg);
        kn_options_usage(stderr);
        return 2;
    case KN_OPTIONS_RUN: break;
    }
    kn_log_set_level(o.log_level);
    /* A client that goes away mid-write must not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    return serve(&o);
}
