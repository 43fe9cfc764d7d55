#include "webhook_proc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

#define MAX_ARGS 64

int kn_it_gen_certs(const char *dir, const char *subdir, const char *extra_args)
{
    return kn_it_sh("bash '%s/certs/gen-certs.sh' --out '%s/%s' --dns localhost --ip 127.0.0.1 "
                    "%s >/dev/null 2>&1",
                    KN_SOURCE_DIR, dir, subdir, extra_args != NULL ? extra_args : "");
}

int kn_it_webhook_certs(const char *dir, char *ca, char *cert, char *key, size_t cap)
{
    if (kn_it_gen_certs(dir, "certs", NULL) != 0)
        return -1;
    snprintf(ca, cap, "%s/certs/ca.crt", dir);
    snprintf(cert, cap, "%s/certs/tls.crt", dir);
    snprintf(key, cap, "%s/certs/tls.key", dir);
    return 0;
}

void kn_it_webhook_kill(kn_it_webhook *w, int timeout_ms)
{
    if (w->pid <= 0)
        return;
    kill(w->pid, SIGKILL);
    kn_it_wait_exit(w->pid, timeout_ms);
    w->pid = 0;
}

void kn_it_tempdir_done(char *dir)
{
    if (dir != NULL && getenv("KN_IT_KEEP") != NULL)
        fprintf(stderr, "kept %s\n", dir);
    else if (dir != NULL)
        kn_it_rmtree(dir);
    free(dir);
}

void kn_it_webhook_dump_log(const kn_it_webhook *w)
{
    char *log = kn_it_read_file(w->log, NULL);
    if (log != NULL)
        fprintf(stderr, "---- kubenexus-webhook log ----\n%s\n----\n", log);
    free(log);
}

int kn_it_webhook_start(kn_it_webhook *w, const char *dir, const char *cert, const char *key,
                        const char *const *extra)
{
    char port[16];
    memset(w, 0, sizeof(*w));
    snprintf(w->log, sizeof(w->log), "%s/webhook.log", dir);
    w->port = kn_it_free_port();
    snprintf(port, sizeof(port), "%d", w->port);
    const char *argv[MAX_ARGS] = {KN_BIN_DIR "/kubenexus-webhook", "--port", port, "--bind-address=127.0.0.1"};
    int n = 4;
    if (cert != NULL) {
        argv[n++] = "--tls-cert-file";
        argv[n++] = cert;
    }
    if (key != NULL) {
        argv[n++] = "--tls-key-file";
        argv[n++] = key;
    }
    for (int i = 0; extra != NULL && extra[i] != NULL && n < MAX_ARGS - 1; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    w->pid = kn_it_spawn((char *const *)argv, w->log);
    if (w->pid < 0 || !kn_it_wait_port(w->port, w->pid, 20000)) {
        kn_it_webhook_dump_log(w);
        return -1;
    }
    return 0;
}

int kn_it_webhook_stop(kn_it_webhook *w, int timeout_ms)
{
    if (w->pid <= 0)
        return -1;
    kill(w->pid, SIGTERM);
    int st = kn_it_wait_exit(w->pid, timeout_ms);
    w->pid = 0;
    return st;
}
