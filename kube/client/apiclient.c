/* apiclient.c - libcurl requests to the API server (see apiclient.h). */
#include "kube/client/apiclient.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/log.h"

#define TOKEN_MAX (64 * 1024)

struct kn_api {
    kn_kubeconfig cfg;  /* owned copy */
    pthread_mutex_t mu; /* guards the token cache */
    char *token;        /* current bearer token (static or from the file) */
    struct timespec token_mtime;
    double token_checked; /* monotonic seconds of the last stat() */
    double token_recheck_s;
    kn_metric *api_errors; /* kubenexus_scheduler_api_errors_total{verb,code} */
};

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *dup_mem(const char *p, size_t n)
{
    if (!p)
        return NULL;
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

/* Re-reads the token file when its mtime changed. Caller holds mu. */
static void refresh_token_locked(kn_api *api)
{
    if (!api->cfg.token_file)
        return;
    double now = mono_now();
    if (api->token && now - api->token_checked < api->token_recheck_s)
        return;
    api->token_checked = now;
    struct stat st;
    if (stat(api->cfg.token_file, &st) != 0) {
        kn_log(KN_LOG_WARN, "cannot stat token file", "path=%s error=%s", api->cfg.token_file, strerror(errno));
        return;
    }
    if (api->token && st.st_mtim.tv_sec == api->token_mtime.tv_sec &&
        st.st_mtim.tv_nsec == api->token_mtime.tv_nsec)
        return;
    kn_err e = {{0}};
    size_t n = 0;
    char *t = kn_read_file_bounded(api->cfg.token_file, TOKEN_MAX, &n, &e);
    if (!t) {
        kn_log(KN_LOG_WARN, "cannot read token file", "error=%s", e.msg);
        return;
    }
    while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' '))
        t[--n] = '\0';
    if (memchr(t, '\n', n) || memchr(t, '\r', n)) { /* would split the header */
        kn_log(KN_LOG_WARN, "token file holds more than one line; ignored", "path=%s", api->cfg.token_file);
        free(t);
        return;
    }
    free(api->token);
    api->token = t;
    api->token_mtime = st.st_mtim;
    kn_log(KN_LOG_INFO, "bearer token loaded", "path=%s", api->cfg.token_file);
}

kn_api *kn_api_new(const kn_kubeconfig *cfg, kn_metrics *metrics, kn_err *err)
{
    kn_api *api = calloc(1, sizeof *api);
    if (!api) {
        kn_err_set(err, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&api->mu, NULL);
    api->token_recheck_s = 60;
    kn_kubeconfig *c = &api->cfg;
    c->server = cfg->server ? strdup(cfg->server) : NULL;
    c->ca_pem = dup_mem(cfg->ca_pem, cfg->ca_len);
    c->ca_len = cfg->ca_len;
    c->cert_pem = dup_mem(cfg->cert_pem, cfg->cert_len);
    c->cert_len = cfg->cert_len;
    c->key_pem = dup_mem(cfg->key_pem, cfg->key_len);
    c->key_len = cfg->key_len;
    c->token = cfg->token ? strdup(cfg->token) : NULL;
    c->token_file = cfg->token_file ? strdup(cfg->token_file) : NULL;
    c->insecure = cfg->insecure;
    if (!c->server || (cfg->ca_pem && !c->ca_pem) || (cfg->cert_pem && !c->cert_pem) ||
        (cfg->key_pem && !c->key_pem) || (cfg->token && !c->token) || (cfg->token_file && !c->token_file)) {
        kn_api_free(api);
        kn_err_set(err, cfg->server ? "out of memory" : "API server URL missing");
        return NULL;
    }
    if (c->token && !(api->token = strdup(c->token))) {
        kn_api_free(api);
        kn_err_set(err, "out of memory");
        return NULL;
    }
    if (metrics)
        api->api_errors =
            kn_metrics_counter(metrics, "kubenexus_scheduler_api_errors_total",
                               "API server requests that failed, by verb and HTTP status (0: no response).", 2,
                               (const char *[]){"verb", "code"});
    return api;
}

void kn_api_free(kn_api *api)
{
    if (!api)
        return;
    kn_kubeconfig_free(&api->cfg);
    free(api->token);
    pthread_mutex_destroy(&api->mu);
    free(api);
}

void kn_api_set_token_recheck(kn_api *api, double seconds)
{
    pthread_mutex_lock(&api->mu);
    api->token_recheck_s = seconds;
    pthread_mutex_unlock(&api->mu);
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *ud)
{
    kn_api_req *r = ud;
    size_t n = size * nmemb;
    if (r->on_data) {
        long code = 0;
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 200 && code < 300)
            return r->on_data(r, data, n) == 0 ? n : 0;
    }
    r->resp.max = r->max_response;
    return kn_buf_sink(data, 1, n, &r->resp); /* 0: CURLE_WRITE_ERROR, a bounded response */
}

static int add_header(kn_api_req *r, const char *h)
{
    struct curl_slist *l = curl_slist_append(r->headers, h);
    if (!l)
        return -1;
    r->headers = l;
    return 0;
}

static int set_auth(kn_api *api, kn_api_req *r)
{
    pthread_mutex_lock(&api->mu);
    refresh_token_locked(api);
    int rc = 0;
    if (api->token && *api->token) {
        size_t n = strlen(api->token) + 32;
        char *h = malloc(n);
        if (h) {
            snprintf(h, n, "Authorization: Bearer %s", api->token);
            rc = add_header(r, h);
            free(h);
        } else {
            rc = -1;
        }
    }
    pthread_mutex_unlock(&api->mu);
    return rc;
}

static void set_tls(kn_api *api, CURL *h)
{
    const kn_kubeconfig *c = &api->cfg;
    if (c->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (c->ca_pem) {
        struct curl_blob ca = {c->ca_pem, c->ca_len, CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
    }
    if (c->cert_pem && c->key_pem) {
        struct curl_blob cert = {c->cert_pem, c->cert_len, CURL_BLOB_COPY};
        struct curl_blob key = {c->key_pem, c->key_len, CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
        curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
        curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
        curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    }
}

kn_api_req *kn_api_req_new(kn_api *api, const char *method, const char *path, const char *body, const char *verb,
                           long timeout_s, kn_err *err)
{
    return kn_api_req_new_typed(api, method, path, body, NULL, verb, timeout_s, err);
}

kn_api_req *kn_api_req_new_typed(kn_api *api, const char *method, const char *path, const char *body,
                                 const char *content_type, const char *verb, long timeout_s, kn_err *err)
{
    kn_api_req *r = calloc(1, sizeof *r);
    size_t ul = strlen(api->cfg.server) + strlen(path) + 1;
    char *url = malloc(ul);
    if (!r || !url || !(r->easy = curl_easy_init())) {
        free(url);
        kn_api_req_free(r);
        kn_err_set(err, "out of memory");
        return NULL;
    }
    snprintf(url, ul, "%s%s", api->cfg.server, path);
    r->api = api;
    r->max_response = KN_API_DEFAULT_MAX_RESPONSE;
    snprintf(r->verb, sizeof r->verb, "%s", verb ? verb : "request");
    CURL *h = r->easy;
    curl_easy_setopt(h, CURLOPT_URL, url);
    free(url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_PRIVATE, r);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "kubenexus-scheduler");
    set_tls(api, h);
    int bad = add_header(r, "Accept: application/json") < 0 || set_auth(api, r) < 0;
    if (body) {
        if (!content_type)
            content_type = strcmp(method, "PATCH") == 0 ? "application/merge-patch+json" : "application/json";
        char ct[128];
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
        bad = bad || add_header(r, ct) < 0 || !(r->body = strdup(body));
        if (!bad) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
        }
    }
    if (bad) {
        kn_api_req_free(r);
        kn_err_set(err, "out of memory");
        return NULL;
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, r->headers);
    if (strcmp(method, "GET") == 0)
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    else if (strcmp(method, "POST") != 0 || !body)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    return r;
}

void kn_api_req_free(kn_api_req *r)
{
    if (!r)
        return;
    if (r->easy)
        curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->headers);
    free(r->body);
    kn_buf_free(&r->resp);
    free(r);
}

void kn_api_req_finish(kn_api_req *r, CURLcode result)
{
    r->result = result;
    r->status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
    bool ok = r->status >= 200 && r->status < 300 && result == CURLE_OK;
    if (!ok && r->api->api_errors) {
        char code[16];
        snprintf(code, sizeof code, "%ld", r->status);
        kn_metric_inc(r->api->api_errors, (const char *[]){r->verb, code}, 1);
    }
}

int kn_api_perform(kn_api_req *r, kn_err *err)
{
    CURLcode rc = curl_easy_perform(r->easy);
    kn_api_req_finish(r, rc);
    if (r->status == 0) {
        char buf[256];
        return kn_err_set(err, "%s", kn_api_req_error(r, buf, sizeof buf));
    }
    return 0;
}

const char *kn_api_req_error(const kn_api_req *r, char *buf, size_t cap)
{
    if (r->resp.len > 0) {
        kn_json *st = kn_json_parse(r->resp.p, r->resp.len, NULL, NULL);
        const char *msg = kn_json_get_str(st, "message");
        if (msg && *msg) {
            snprintf(buf, cap, "%s", msg);
            kn_json_free(st);
            return buf;
        }
        kn_json_free(st);
    }
    if (r->result != CURLE_OK)
        snprintf(buf, cap, "%s", r->errbuf[0] ? r->errbuf : curl_easy_strerror(r->result));
    else
        snprintf(buf, cap, "HTTP %ld", r->status);
    return buf;
}

kn_json *kn_api_req_json(const kn_api_req *r, kn_err *err)
{
    if (r->resp.p == NULL) {
        kn_err_set(err, "empty response");
        return NULL;
    }
    kn_json_limits lim = {.max_bytes = r->max_response, .max_depth = 64};
    return kn_json_parse(r->resp.p, r->resp.len, &lim, err);
}

int kn_api_path_append(char *buf, size_t cap, const char *key, const char *value)
{
    size_t len = strlen(buf);
    char *esc = curl_easy_escape(NULL, value, 0);
    if (!esc)
        return -1;
    int n = snprintf(buf + len, cap - len, "%c%s=%s", strchr(buf, '?') ? '&' : '?', key, esc);
    curl_free(esc);
    return (n < 0 || (size_t)n >= cap - len) ? -1 : 0;
}
