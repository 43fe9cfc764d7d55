#include "webhook/options.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { OPT_STR, OPT_INT, OPT_BOOL, OPT_LEVEL, OPT_DURATION, OPT_BYTES } opt_kind;

typedef struct opt_def {
    const char *name;
    opt_kind kind;
    size_t offset; /* of the field in kn_webhook_options */
    long min, max; /* for OPT_INT and OPT_BYTES */
} opt_def;

#define F(field) offsetof(kn_webhook_options, field)
static const opt_def k_opts[] = {
    {"tls-cert-file", OPT_STR, F(cert_file), 0, 0},
    {"tls-key-file", OPT_STR, F(key_file), 0, 0},
    {"port", OPT_INT, F(port), 1, 65535},
    {"bind-address", OPT_STR, F(bind_address), 0, 0},
    {"scheduler-name", OPT_STR, F(scheduler_name), 0, 0},
    {"fill-gang-labels", OPT_BOOL, F(fill_gang_labels), 0, 0},
    {"log-level", OPT_LEVEL, F(log_level), 0, 0},
    {"threads", OPT_INT, F(threads), 1, 64},
    {"max-connections", OPT_INT, F(max_connections), 1, 1000000},
    {"max-request-bytes", OPT_BYTES, F(max_request_bytes), 1024, 64L << 20},
    {"max-buffered-bytes", OPT_BYTES, F(max_buffered_bytes), 1024, 64L << 30},
    {"request-timeout", OPT_DURATION, F(request_timeout_ms), 0, 0},
    {"cert-reload-interval", OPT_DURATION, F(cert_reload_ms), 0, 0},
    {"shutdown-timeout", OPT_DURATION, F(shutdown_timeout_ms), 0, 0},
};
#undef F
#define N_OPTS (sizeof(k_opts) / sizeof(k_opts[0]))

void kn_options_usage(FILE *f)
{
    fputs("usage: kubenexus-webhook --tls-cert-file FILE --tls-key-file FILE [flags]\n"
          "       kubenexus-webhook check [--scheduler-name N] FILE...\n"
          "       kubenexus-webhook send --server https://HOST:PORT [--cacert F] [--path /mutate] FILE...\n"
          "\n"
          "flags (--flag VALUE or --flag=VALUE; env fallback KUBENEXUS_WEBHOOK_<FLAG>):\n"
          "  --tls-cert-file FILE          serving certificate chain (PEM), reloaded on change\n"
          "  --tls-key-file FILE           private key (PEM), reloaded on change\n"
          "  --port N                      HTTPS port (default 8443)\n"
          "  --bind-address ADDR           address to listen on (default 0.0.0.0)\n"
          "  --scheduler-name NAME         scheduler set on gang pods (default kubenexus-scheduler)\n"
          "  --fill-gang-labels[=BOOL]     derive missing gang labels on SparkApplications\n"
          "  --log-level LEVEL             debug, info, warn or error (default info)\n"
          "  --threads N                   worker threads (default 2)\n"
          "  --max-connections N           open connections at most (default 1024)\n"
          "  --max-request-bytes N         largest request body, e.g. 7Mi (default 7Mi)\n"
          "  --max-buffered-bytes N        request bodies held at once, all clients together;\n"
          "                                past it 503 or REFUSED_STREAM (default 48Mi)\n"
          "  --request-timeout DURATION    idle/slow-client timeout, e.g. 10s (default 10s)\n"
          "  --cert-reload-interval DUR    how often the cert files are checked (default 5s)\n"
          "  --shutdown-timeout DURATION   grace period for in-flight requests (default 5s)\n"
          "  --help                        show this and exit\n",
          f);
}

int kn_parse_duration_ms(const char *s, unsigned *out_ms)
{
    if (s == NULL || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned long long mult;
    if (errno != 0)
        return -1;
    if (strcmp(end, "ms") == 0)
        mult = 1;
    else if (strcmp(end, "s") == 0 || *end == '\0')
        mult = 1000;
    else if (strcmp(end, "m") == 0)
        mult = 60000;
    else
        return -1;
    if (v > UINT32_MAX / mult)
        return -1;
    *out_ms = (unsigned)(v * mult);
    return 0;
}

/* "1048576", "512Ki", "1Mi" (binary suffixes, as Kubernetes writes them). */
static int parse_bytes(const char *s, long long *out)
{
    if (s == NULL || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno != 0)
        return -1;
    int shift = 0;
    if (strcmp(end, "Ki") == 0)
        shift = 10;
    else if (strcmp(end, "Mi") == 0)
        shift = 20;
    else if (*end != '\0')
        return -1;
    if (v > (INT64_MAX >> shift))
        return -1;
    *out = v << shift;
    return 0;
}

static int parse_bool(const char *s, bool *out)
{
    if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0 || strcmp(s, "yes") == 0)
        *out = true;
    else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0 || strcmp(s, "no") == 0)
        *out = false;
    else
        return -1;
    return 0;
}

static int set_opt(const opt_def *d, const char *val, kn_webhook_options *o, const char *source, kn_err *err)
{
    void *field = (char *)o + d->offset;
    long long n;
    char *end;
    switch (d->kind) {
    case OPT_STR:
        if (*val == '\0')
            return kn_err_set(err, "%s%s: must not be empty", source, d->name);
        *(const char **)field = val;
        return 0;
    case OPT_INT:
        errno = 0;
        n = strtoll(val, &end, 10);
        if (errno != 0 || end == val || *end != '\0' || n < d->min || n > d->max)
            return kn_err_set(err, "%s%s: \"%s\" is not a whole number between %ld and %ld", source, d->name, val,
                              d->min, d->max);
        *(int *)field = (int)n;
        return 0;
    case OPT_BYTES:
        if (parse_bytes(val, &n) != 0 || n < d->min || n > d->max)
            return kn_err_set(err,
                              "%s%s: \"%s\" is not a size between %ld and %ld bytes "
                              "(write e.g. 1048576, 512Ki or 1Mi)",
                              source, d->name, val, d->min, d->max);
        *(size_t *)field = (size_t)n;
        return 0;
    case OPT_BOOL:
        if (parse_bool(val, (bool *)field) != 0)
            return kn_err_set(err, "%s%s: \"%s\" is not true or false", source, d->name, val);
        return 0;
    case OPT_LEVEL:
        if (kn_log_parse_level(val, (kn_log_level *)field) != 0)
            return kn_err_set(err, "%s%s: \"%s\" is not one of debug, info, warn, error", source, d->name, val);
        return 0;
    case OPT_DURATION:
        if (kn_parse_duration_ms(val, (unsigned *)field) != 0 || *(unsigned *)field == 0)
            return kn_err_set(err,
                              "%s%s: \"%s\" is not a positive duration (write e.g. 500ms, "
                              "10s or 1m)",
                              source, d->name, val);
        return 0;
    }
    return kn_err_set(err, "--%s: internal error", d->name);
}

static const opt_def *find_opt(const char *name, size_t len)
{
    for (size_t i = 0; i < N_OPTS; i++)
        if (strlen(k_opts[i].name) == len && strncmp(k_opts[i].name, name, len) == 0)
            return &k_opts[i];
    return NULL;
}

static int apply_env(kn_webhook_options *o, kn_err *err)
{
    for (size_t i = 0; i < N_OPTS; i++) {
        char var[64] = "KUBENEXUS_WEBHOOK_";
        size_t n = strlen(var);
        for (const char *p = k_opts[i].name; *p && n < sizeof(var) - 1; p++)
            var[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
        var[n] = '\0';
        const char *val = getenv(var);
        if (val == NULL)
            continue;
        if (set_opt(&k_opts[i], val, o, "--", err) != 0)
            return kn_err_prefix(err, "environment variable %s", var);
    }
    return 0;
}

static void set_defaults(kn_webhook_options *o)
{
    memset(o, 0, sizeof(*o));
    o->port = 8443;
    o->bind_address = "0.0.0.0";
    o->scheduler_name = "kubenexus-scheduler";
    o->log_level = KN_LOG_INFO;
    o->threads = 2;
    o->max_connections = 1024;
    /* An UPDATE's review carries the object and its old version, each up to
     * the API server's 3 MiB request limit, plus under 1 MiB of the rest:
     * 7 MiB, as controller-runtime reasons. With 1 MiB, a kubectl apply to a
     * SparkApplication of some 500 KiB (the last-applied annotation doubles
     * it) was refused by failurePolicy: Fail. */
    o->max_request_bytes = 7u << 20;
    /* Room for six reviews of the largest size arriving at once; with the
     * webhook's own ~80 MiB for handshakes, parsing and answers it fits the
     * Deployment's 128Mi (deploy/base/webhook.yaml). */
    o->max_buffered_bytes = 48u << 20;
    o->request_timeout_ms = 10000;
    o->cert_reload_ms = 5000;
    o->shutdown_timeout_ms = 5000;
}

kn_options_result kn_options_parse(int argc, char **argv, kn_webhook_options *o, kn_err *err)
{
    set_defaults(o);
    for (int i = 1; i < argc; i++) /* --help wins wherever it is */
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return KN_OPTIONS_HELP;
    if (apply_env(o, err) != 0)
        return KN_OPTIONS_ERROR;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            kn_err_set(err, "unexpected argument \"%s\"", a);
            return KN_OPTIONS_ERROR;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const opt_def *d = find_opt(name, len);
        if (d == NULL) {
            kn_err_set(err, "unknown flag --%.*s", (int)len, name);
            return KN_OPTIONS_ERROR;
        }
        const char *val = eq ? eq + 1 : NULL;
        if (val == NULL && d->kind == OPT_BOOL)
            val = "true"; /* a bare boolean flag switches it on */
        if (val == NULL) {
            if (i + 1 >= argc) {
                kn_err_set(err, "--%s needs a value", d->name);
                return KN_OPTIONS_ERROR;
            }
            val = argv[++i];
        }
        if (set_opt(d, val, o, "--", err) != 0)
            return KN_OPTIONS_ERROR;
    }
    unsigned char addr[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, o->bind_address, addr) != 1 && inet_pton(AF_INET6, o->bind_address, addr) != 1) {
        kn_err_set(err,
                   "--bind-address: \"%s\" is not a numeric IPv4 or IPv6 address "
                   "(0.0.0.0 or :: for all)",
                   o->bind_address);
        return KN_OPTIONS_ERROR;
    }
    if (o->max_buffered_bytes < o->max_request_bytes) {
        kn_err_set(err,
                   "--max-buffered-bytes (%zu) is less than --max-request-bytes (%zu): a "
                   "review of the largest size could never be read",
                   o->max_buffered_bytes, o->max_request_bytes);
        return KN_OPTIONS_ERROR;
    }
    if (o->cert_file == NULL || o->key_file == NULL) {
        kn_err_set(err, "--tls-cert-file and --tls-key-file are required (the API server only "
                        "calls webhooks over HTTPS; certs/gen-certs.sh makes a pair)");
        return KN_OPTIONS_ERROR;
    }
    return KN_OPTIONS_RUN;
}
