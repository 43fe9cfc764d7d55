/* options.h - kubenexus-webhook's command line.
 *
 * Every flag may be written `--flag value` or `--flag=value`; a flag not on
 * the command line falls back to the environment variable
 * KUBENEXUS_WEBHOOK_<FLAG> (upper case, '-' as '_'), e.g.
 * KUBENEXUS_WEBHOOK_TLS_CERT_FILE. Strings in the result point into argv or
 * the environment; nothing is allocated. */
#ifndef KN_OPTIONS_H
#define KN_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/err.h"
#include "base/log.h"

typedef struct kn_webhook_options {
    const char *cert_file;        /* --tls-cert-file (required) */
    const char *key_file;         /* --tls-key-file (required) */
    int port;                     /* --port, 8443 */
    const char *bind_address;     /* --bind-address, 0.0.0.0 */
    const char *scheduler_name;   /* --scheduler-name, kubenexus-scheduler */
    bool fill_gang_labels;        /* --fill-gang-labels[=true|false] */
    kn_log_level log_level;       /* --log-level, info */
    int threads;                  /* --threads, 2 */
    int max_connections;          /* --max-connections, 1024 */
    size_t max_request_bytes;     /* --max-request-bytes, 7 MiB */
    size_t max_buffered_bytes;    /* --max-buffered-bytes, 48 MiB */
    unsigned request_timeout_ms;  /* --request-timeout, 10s */
    unsigned cert_reload_ms;      /* --cert-reload-interval, 5s */
    unsigned shutdown_timeout_ms; /* --shutdown-timeout, 5s */
} kn_webhook_options;

/* What the webhook needs besides the request bodies --max-buffered-bytes
 * allows: the process itself, TLS state for --max-connections, and a review
 * of --max-request-bytes parsed and answered on each of two threads. A
 * Deployment's memory limit is --max-buffered-bytes plus this
 * (deploy/base/webhook.yaml). */
#define KN_WEBHOOK_BASELINE_BYTES (80u << 20)

typedef enum { KN_OPTIONS_RUN, KN_OPTIONS_HELP, KN_OPTIONS_ERROR } kn_options_result;

/* Fills o from argv[1..] and the environment. KN_OPTIONS_ERROR leaves a
 * message in err naming the flag and what was wrong with it. */
kn_options_result kn_options_parse(int argc, char **argv, kn_webhook_options *o, kn_err *err);

/* Parses "250ms", "10s", "2m" or a bare number of seconds into milliseconds. */
int kn_parse_duration_ms(const char *s, unsigned *out_ms);

void kn_options_usage(FILE *f);

#endif
