/* informer.c - list/watch of one resource and the watch stream decoder (see informer.h). */
#include "kube/client/informer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"
#include "base/log.h"

#define LIST_PAGE "500"
#define ABSENT_RECHECK_MIN_S 1.0
#define ABSENT_RECHECK_S 60.0
#define BACKOFF_MIN_S 0.5
#define BACKOFF_MAX_S 30.0
#define RV_MAX 128

/* ---------------------------------------------------------------- informer */

typedef enum { INF_IDLE, INF_LIST, INF_WATCH } inf_state;

struct kn_informer {
    kn_api *api;
    char *path;
    int kind;
    kn_informer_sink sink;
    inf_state state;
    kn_api_req *req;
    kn_watch_decoder dec;
    char rv[RV_MAX]; /* resume point; "" = list needed */
    char *cont;      /* continue token of the list in progress */
    /* The pages of the list in progress, held until the last one arrives:
     * a list that breaks off must leave the previous view as it was. */
    kn_json **staged;
    size_t n_staged, cap_staged, staged_bytes;
    bool synced, absent, gone;
    unsigned lists, failures;
    unsigned absent_checks; /* 404s in a row: the next look is later */
    double next_start;
    int watch_min_s, watch_max_s;
};

kn_informer *kn_informer_new(kn_api *api, const char *path, int kind, const kn_informer_sink *sink, kn_err *err)
{
    kn_informer *inf = calloc(1, sizeof *inf);
    if (!inf || !(inf->path = strdup(path))) {
        free(inf);
        kn_err_set(err, "out of memory");
        return NULL;
    }
    inf->api = api;
    inf->kind = kind;
    inf->sink = *sink;
    inf->watch_min_s = 300;
    inf->watch_max_s = 600;
    return inf;
}

static void unstage(kn_informer *inf)
{
    for (size_t i = 0; i < inf->n_staged; i++)
        kn_json_free(inf->staged[i]);
    free(inf->staged);
    inf->staged = NULL;
    inf->n_staged = inf->cap_staged = inf->staged_bytes = 0;
}

void kn_informer_free(kn_informer *inf)
{
    if (!inf)
        return;
    kn_api_req_free(inf->req);
    kn_watch_decoder_free(&inf->dec);
    unstage(inf);
    free(inf->cont);
    free(inf->path);
    free(inf);
}

void kn_informer_set_watch_timeout(kn_informer *inf, int min_s, int max_s)
{
    inf->watch_min_s = min_s;
    inf->watch_max_s = max_s > min_s ? max_s : min_s;
}

bool kn_informer_synced(const kn_informer *inf)
{
    return inf->synced;
}
/* An absent resource's view (nothing) is complete while its list is retried;
 * any other informer without a resourceVersion is between lists. */
bool kn_informer_current(const kn_informer *inf)
{
    return inf->synced && (inf->rv[0] || inf->absent);
}
bool kn_informer_absent(const kn_informer *inf)
{
    return inf->absent;
}
double kn_informer_next_start(const kn_informer *inf)
{
    return inf->req ? 1e300 : inf->next_start;
}
const char *kn_informer_resource_version(const kn_informer *inf)
{
    return inf->rv;
}
unsigned kn_informer_relists(const kn_informer *inf)
{
    return inf->lists > 0 ? inf->lists - 1 : 0;
}
kn_api_req *kn_informer_inflight(const kn_informer *inf)
{
    return inf->req;
}

static void set_rv(kn_informer *inf, const kn_json *obj)
{
    const char *rv = kn_json_get_str(kn_json_get(obj, "metadata"), "resourceVersion");
    if (rv && *rv && strlen(rv) < RV_MAX)
        snprintf(inf->rv, sizeof inf->rv, "%s", rv);
}

/* min doubled n times, at most max. */
static double doubled(double min, double max, unsigned n)
{
    double d = min;
    for (unsigned i = 0; i < n && d < max; i++)
        d *= 2;
    return d > max ? max : d;
}

static void backoff(kn_informer *inf, double now)
{
    double d = doubled(BACKOFF_MIN_S, BACKOFF_MAX_S, inf->failures);
    inf->failures++;
    /* jitter: between half and the full delay, so replicas do not reconnect in step */
    inf->next_start = now + d * (0.5 + 0.5 * ((double)rand() / RAND_MAX));
}

static int on_event(void *ctx, kn_watch_type type, const kn_json *obj)
{
    kn_informer *inf = ctx;
    switch (type) {
    case KN_WATCH_ADDED:
    case KN_WATCH_MODIFIED:
    case KN_WATCH_DELETED:
        inf->sink.apply(inf->sink.ctx, inf->kind, obj, type == KN_WATCH_DELETED);
        set_rv(inf, obj);
        inf->failures = 0;
        return 0;
    case KN_WATCH_BOOKMARK: set_rv(inf, obj); return 0;
    case KN_WATCH_ERROR: {
        int64_t code = 0;
        kn_json_int(kn_json_get(obj, "code"), &code);
        const char *msg = kn_json_get_str(obj, "message");
        if (code == 410)
            inf->gone = true;
        kn_err_set(&inf->dec.err, "watch ERROR %lld: %s", (long long)code, msg ? msg : "(no message)");
        return -1;
    }
    }
    return -1;
}

static int on_watch_data(kn_api_req *req, const char *data, size_t n)
{
    kn_informer *inf = req->owner;
    return kn_watch_decoder_feed(&inf->dec, data, n);
}

kn_api_req *kn_informer_start(kn_informer *inf, double now)
{
    if (inf->req || now < inf->next_start)
        return NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s", inf->path);
    kn_err err = {{0}};
    int bad = 0;
    kn_api_req *req;
    if (!inf->rv[0]) {
        bad |= kn_api_path_append(path, sizeof path, "limit", LIST_PAGE);
        if (inf->cont)
            bad |= kn_api_path_append(path, sizeof path, "continue", inf->cont);
        req = bad ? NULL : kn_api_req_new(inf->api, "GET", path, NULL, "list", 120, &err);
        if (req) {
            req->max_response = KN_API_LIST_MAX_RESPONSE;
            inf->state = INF_LIST;
            if (!inf->cont)
                inf->lists++;
        }
    } else {
        int span = inf->watch_max_s - inf->watch_min_s;
        int timeout = inf->watch_min_s + (span > 0 ? rand() % (span + 1) : 0);
        char ts[16];
        snprintf(ts, sizeof ts, "%d", timeout);
        bad |= kn_api_path_append(path, sizeof path, "watch", "true");
        bad |= kn_api_path_append(path, sizeof path, "resourceVersion", inf->rv);
        bad |= kn_api_path_append(path, sizeof path, "allowWatchBookmarks", "true");
        bad |= kn_api_path_append(path, sizeof path, "timeoutSeconds", ts);
        /* curl's own limit is a safety net past the server's timeoutSeconds */
        req = bad ? NULL : kn_api_req_new(inf->api, "GET", path, NULL, "watch", timeout + 30, &err);
        if (req) {
            req->on_data = on_watch_data;
            inf->state = INF_WATCH;
            inf->gone = false;
            kn_watch_decoder_free(&inf->dec);
            kn_watch_decoder_init(&inf->dec, KN_WATCH_MAX_LINE, on_event, inf);
        }
    }
    if (!req) {
        kn_log(KN_LOG_ERROR, "cannot build request", "resource=%s error=%s", inf->path,
               bad ? "path too long" : err.msg);
        backoff(inf, now);
        return NULL;
    }
    req->owner = inf;
    inf->req = req;
    return req;
}

static void relist_now(kn_informer *inf)
{
    inf->rv[0] = '\0';
    free(inf->cont);
    inf->cont = NULL;
    unstage(inf);
}

/* Holds one page (taking list); 0, or -1 when the list outgrows its bound
 * or memory runs out (then nothing is held and the list starts over). */
static int stage(kn_informer *inf, kn_json *list, size_t bytes, kn_err *err)
{
    /* The pages of one list together get the bound an unpaged list response
     * has: paging spreads a list over requests, it does not make it bigger. */
    if (bytes > KN_API_LIST_MAX_RESPONSE - inf->staged_bytes) {
        kn_err_set(err, "list larger than %d bytes in all its pages; starting over", KN_API_LIST_MAX_RESPONSE);
        goto fail;
    }
    inf->staged_bytes += bytes;
    if (kn_json_len(kn_json_get(list, "items")) == 0) { /* nothing to hold (a page may be empty) */
        kn_json_free(list);
        return 0;
    }
    if (kn_grow((void **)&inf->staged, &inf->cap_staged, inf->n_staged + 1, sizeof *inf->staged) != 0) {
        kn_err_set(err, "out of memory holding list pages; starting over");
        goto fail;
    }
    inf->staged[inf->n_staged++] = list;
    return 0;
fail:
    kn_json_free(list);
    relist_now(inf);
    return -1;
}

/* The whole list arrived: it replaces what the sink holds of this kind, in
 * one go (client-go's Replace), so no cycle sees part of it. */
static size_t apply_staged(kn_informer *inf)
{
    size_t n = 0;
    inf->sink.resync_begin(inf->sink.ctx, inf->kind);
    for (size_t p = 0; p < inf->n_staged; p++) {
        const kn_json *items = kn_json_get(inf->staged[p], "items");
        for (size_t i = 0; i < kn_json_len(items); i++, n++)
            inf->sink.apply(inf->sink.ctx, inf->kind, kn_json_at(items, i), false);
    }
    inf->sink.resync_end(inf->sink.ctx, inf->kind);
    unstage(inf);
    return n;
}

/* One page of a list: held, and with the last page the whole list applied;
 * returns 0, or -1 if malformed (the page is asked for again) or the list
 * outgrew its bound (it starts over). */
static int list_page(kn_informer *inf, kn_api_req *req, kn_err *err)
{
    kn_json *list = kn_api_req_json(req, err);
    const kn_json *items = kn_json_get(list, "items");
    const kn_json *meta = kn_json_get(list, "metadata");
    const char *rv = kn_json_get_str(meta, "resourceVersion");
    const char *cont = kn_json_get_str(meta, "continue");
    if (!list || !rv || !*rv || strlen(rv) >= RV_MAX || !(kn_json_is(items, KN_JSON_ARRAY) || !items)) {
        if (list)
            kn_err_set(err, "list response without metadata.resourceVersion or items");
        kn_json_free(list);
        return -1;
    }
    char list_rv[RV_MAX];
    snprintf(list_rv, sizeof list_rv, "%s", rv);
    char *next = (cont && *cont) ? strdup(cont) : NULL;
    if (cont && *cont && !next) {
        kn_json_free(list);
        return kn_err_set(err, "out of memory");
    }
    if (!inf->cont)
        unstage(inf); /* a first page: nothing of an earlier list may mix in */
    if (stage(inf, list, req->resp.len, err) < 0) {
        free(next);
        return -1;
    }
    free(inf->cont);
    inf->cont = next;
    if (next)
        return 0;
    size_t n = apply_staged(inf);
    snprintf(inf->rv, sizeof inf->rv, "%s", list_rv);
    if (!inf->synced)
        kn_log(KN_LOG_INFO, "initial list done", "resource=%s resourceVersion=%s objects=%zu", inf->path, list_rv,
               n);
    else
        kn_log(KN_LOG_INFO, "relist applied", "resource=%s resourceVersion=%s objects=%zu", inf->path, list_rv, n);
    inf->synced = true;
    inf->absent = false;
    inf->absent_checks = 0;
    return 0;
}

static void list_done(kn_informer *inf, kn_api_req *req, double now)
{
    char msg[256];
    if (req->status == 404) { /* CRD not installed */
        /* soon at first (a CRD installed with the scheduler, or just after),
         * then at most once a minute */
        double wait = doubled(ABSENT_RECHECK_MIN_S, ABSENT_RECHECK_S, inf->absent_checks++);
        if (!inf->absent)
            kn_log(KN_LOG_INFO, "resource absent; checking again later", "resource=%s recheck_s=%.0f..%.0f",
                   inf->path, wait, ABSENT_RECHECK_S);
        relist_now(inf); /* pages of a list held before the CRD went away are void too */
        inf->sink.resync_begin(inf->sink.ctx, inf->kind);
        inf->sink.resync_end(inf->sink.ctx, inf->kind);
        inf->absent = inf->synced = true;
        inf->next_start = now + wait;
        return;
    }
    kn_err err = {{0}};
    if (req->status == 200 && req->result == CURLE_OK && list_page(inf, req, &err) == 0) {
        inf->failures = 0;
        inf->next_start = now;
        return;
    }
    /* The continue token expired: start over, the pages held so far dropped.
     * The Status may carry a token to go on at the latest resourceVersion,
     * but that list would be inconsistent (kube-apiserver says so), and an
     * inconsistent list is what must not replace the view. */
    if (req->status == 410)
        relist_now(inf);
    kn_log(KN_LOG_WARN, "list failed", "resource=%s status=%ld error=%s", inf->path, req->status,
           err.msg[0] ? err.msg : kn_api_req_error(req, msg, sizeof msg));
    backoff(inf, now);
}

static void watch_done(kn_informer *inf, kn_api_req *req, double now)
{
    char msg[256];
    if (req->status == 410 || inf->gone) {
        kn_log(KN_LOG_INFO, "watch expired (410 Gone); relisting", "resource=%s resourceVersion=%s", inf->path,
               inf->rv);
        relist_now(inf);
        inf->next_start = now;
        return;
    }
    if (req->status == 404 && inf->absent == false && strstr(inf->path, "/apis/")) {
        relist_now(inf); /* the CRD went away: the list will see 404 */
        backoff(inf, now);
        return;
    }
    if (req->status == 200 && req->result == CURLE_OK && !inf->dec.err.msg[0]) {
        inf->next_start = now; /* timeoutSeconds reached: resume */
        return;
    }
    const char *why = inf->dec.err.msg[0] ? inf->dec.err.msg : kn_api_req_error(req, msg, sizeof msg);
    kn_log(KN_LOG_WARN, "watch broken; reconnecting", "resource=%s status=%ld error=%s", inf->path, req->status,
           why);
    backoff(inf, now);
}

void kn_informer_done(kn_informer *inf, kn_api_req *req, double now)
{
    if (req != inf->req) {
        kn_api_req_free(req);
        return;
    }
    if (inf->state == INF_LIST)
        list_done(inf, req, now);
    else if (inf->state == INF_WATCH)
        watch_done(inf, req, now);
    inf->state = INF_IDLE;
    inf->req = NULL;
    kn_api_req_free(req);
}
