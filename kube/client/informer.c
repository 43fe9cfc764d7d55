/* informer.c - list/watch of one resource and the watch stream decoder (see informer.h). */
#include "kube/client/informer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

#define LIST_PAGE "500"
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
    char rv[RV_MAX];        /* resume point; "" = list needed */
    char *cont;             /* continue token of the list in progress */
    bool resyncing;         /* resync_begin called, end not yet */
    bool synced, absent, gone;
    unsigned lists, failures;
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

void kn_informer_free(kn_informer *inf)
{
    if (!inf)
        return;
    kn_api_req_free(inf->req);
    kn_watch_decoder_free(&inf->dec);
    free(inf->cont);
    free(inf->path);
    free(inf);
}

void kn_informer_set_watch_timeout(kn_informer *inf, int min_s, int max_s)
{
    inf->watch_min_s = min_s;
    inf->watch_max_s = max_s > min_s ? max_s : min_s;
}

bool kn_informer_synced(const kn_informer *inf) { return inf->synced; }
bool kn_informer_absent(const kn_informer *inf) { return inf->absent; }
double kn_informer_next_start(const kn_informer *inf) { return inf->req ? 1e300 : inf->next_start; }
const char *kn_informer_resource_version(const kn_informer *inf) { return inf->rv; }
unsigned kn_informer_relists(const kn_informer *inf) { return inf->lists > 0 ? inf->lists - 1 : 0; }
kn_api_req *kn_informer_inflight(const kn_informer *inf) { return inf->req; }

static void set_rv(kn_informer *inf, const kn_json *obj)
{
    const char *rv = kn_json_get_str(kn_json_get(obj, "metadata"), "resourceVersion");
    if (rv && *rv && strlen(rv) < RV_MAX)
        snprintf(inf->rv, sizeof inf->rv, "%s", rv);
}

static void backoff(kn_informer *inf, double now)
{
    double d = BACKOFF_MIN_S;
    for (unsigned i = 0; i < inf->failures && d < BACKOFF_MAX_S; i++)
        d *= 2;
    if (d > BACKOFF_MAX_S)
        d = BACKOFF_MAX_S;
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
    case KN_WATCH_BOOKMARK:
        set_rv(inf, obj);
        return 0;
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
}

/* One page of a list: apply its items; returns 0, or -1 if malformed. */
static int list_page(kn_informer *inf, kn_api_req *req, kn_err *err)
{
    kn_json *list = kn_api_req_json(req, err);
    const kn_json *items = kn_json_get(list, "items");
    const char *rv = kn_json_get_str(kn_json_get(list, "metadata"), "resourceVersion");
    if (!list || !rv || !*rv || strlen(rv) >= RV_MAX || !(kn_json_is(items, KN_JSON_ARRAY) || !items)) {
        if (list)
            kn_err_set(err, "list response without metadata.resourceVersion or items");
        kn_json_free(list);
        return -1;
    }
    if (!inf->cont) {
        if (inf->resyncing)
            inf->sink.resync_end(inf->sink.ctx, inf->kind); /* an earlier list broke off */
        inf->sink.resync_begin(inf->sink.ctx, inf->kind);
        inf->resyncing = true;
    }
    for (size_t i = 0; i < kn_json_len(items); i++)
        inf->sink.apply(inf->sink.ctx, inf->kind, kn_json_at(items, i), false);
    const char *cont = kn_json_get_str(kn_json_get(list, "metadata"), "continue");
    free(inf->cont);
    inf->cont = (cont && *cont) ? strdup(cont) : NULL;
    if (!inf->cont) {
        inf->sink.resync_end(inf->sink.ctx, inf->kind);
        inf->resyncing = false;
        snprintf(inf->rv, sizeof inf->rv, "%s", rv);
        if (!inf->synced)
            kn_log(KN_LOG_INFO, "initial list done", "resource=%s resourceVersion=%s", inf->path, rv);
        inf->synced = true;
        inf->absent = false;
    }
    kn_json_free(list);
    return 0;
}

static void list_done(kn_informer *inf, kn_api_req *req, double now)
{
    char msg[256];
    if (req->status == 404) { /* CRD not installed */
        if (!inf->absent)
            kn_log(KN_LOG_INFO, "resource absent; checking again later", "resource=%s recheck_s=%.0f", inf->path,
                   ABSENT_RECHECK_S);
        inf->sink.resync_begin(inf->sink.ctx, inf->kind);
        inf->sink.resync_end(inf->sink.ctx, inf->kind);
        inf->resyncing = false;
        inf->absent = inf->synced = true;
        relist_now(inf);
        inf->next_start = now + ABSENT_RECHECK_S;
        return;
    }
    kn_err err = {{0}};
    if (req->status == 200 && req->result == CURLE_OK && list_page(inf, req, &err) == 0) {
        inf->failures = 0;
        inf->next_start = now;
        return;
    }
    if (req->status == 410) /* continue token expired: start over */
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
    kn_log(KN_LOG_WARN, "watch broken; reconnecting", "resource=%s status=%ld error=%s", inf->path,
           req->status, why);
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
