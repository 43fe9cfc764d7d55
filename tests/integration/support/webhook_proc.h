/* webhook_proc.h - certificates and a running kubenexus-webhook for tests.
 *
 * kn_it_gen_certs runs the real certs/gen-certs.sh (SANs include localhost
 * and 127.0.0.1); kn_it_webhook_start starts the built binary on a free
 * port of 127.0.0.1 with its output in DIR/webhook.log and waits until it
 * listens. */
#ifndef KN_IT_WEBHOOK_PROC_H
#define KN_IT_WEBHOOK_PROC_H

#include <sys/types.h>

typedef struct kn_it_webhook {
    pid_t pid;
    int port;
    char log[600];
} kn_it_webhook;

/* gen-certs.sh --out DIR/SUBDIR --dns localhost --ip 127.0.0.1 EXTRA; 0 ok. */
int kn_it_gen_certs(const char *dir, const char *subdir, const char *extra_args);
/* kn_it_gen_certs into DIR/certs, and the paths of its CA, certificate and
 * key (each buffer cap bytes); 0 ok. */
int kn_it_webhook_certs(const char *dir, char *ca, char *cert, char *key, size_t cap);
/* cert/key may be NULL (not passed, e.g. to test the environment fallback);
 * extra: NULL-terminated further flags. 0 once it listens; -1 (log dumped). */
int kn_it_webhook_start(kn_it_webhook *w, const char *dir, const char *cert, const char *key,
                        const char *const *extra);
/* SIGTERM, then the wait status (-1 if it did not exit within timeout_ms). */
int kn_it_webhook_stop(kn_it_webhook *w, int timeout_ms);
void kn_it_webhook_dump_log(const kn_it_webhook *w);
/* SIGKILL to a server a failed test left running, and its exit reaped. */
void kn_it_webhook_kill(kn_it_webhook *w, int timeout_ms);
/* A suite's temporary directory removed (or kept and named, with
 * KN_IT_KEEP set in the environment), then freed. */
void kn_it_tempdir_done(char *dir);

#endif
