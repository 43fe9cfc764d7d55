/* informer.h - list then watch one resource, as client-go's reflector does.
 *
 * LIST in pages (limit=500, continue). The pages are held until the last
 * one (no continue token) has arrived, then the whole list is applied at once
 * between sink->resync_begin and sink->resync_end (client-go's Replace): a
 * list that breaks off (410 Expired on a continue token: it starts over)
 * leaves the sink's previous view untouched. The pages of one list together
 * are bounded as one unpaged list response is (KN_API_LIST_MAX_RESPONSE
 * bytes); a bigger list is dropped and started over after a backoff. Then
 * WATCH from the list's resourceVersion with allowWatchBookmarks=true and a
 * randomized timeoutSeconds. A watch that ends is resumed from the last resourceVersion
 * seen (events and bookmarks); a 410 Gone (HTTP status or an ERROR event with
 * code 410) relists. Failures reconnect after exponential backoff with jitter
 * (0.5 s doubling to 30 s). A 404 on the list means the resource (a CRD) is
 * absent: objects of that kind are dropped, the informer counts as synced, and
 * the list is tried again after 1 s, doubling to every 60 s (a CRD installed
 * just after the scheduler is found within seconds).
 *
 * Single-threaded: the owner adds kn_informer_start()ed requests to its curl
 * multi handle and passes finished ones to kn_informer_done(). */
#ifndef KN_INFORMER_H
#define KN_INFORMER_H

#include <stdbool.h>
#include <stddef.h>

#include "kube/client/apiclient.h"
#include "base/err.h"
#include "json/json.h"
#include "kube/client/watch_decoder.h"

/* ---- the informer ---- */
typedef struct kn_informer_sink {
    void *ctx;
    void (*apply)(void *ctx, int kind, const kn_json *obj, bool deleted);
    void (*resync_begin)(void *ctx, int kind);
    void (*resync_end)(void *ctx, int kind);
} kn_informer_sink;

typedef struct kn_informer kn_informer;

/* path: the collection, e.g. "/api/v1/pods". kind is passed back to the sink. */
kn_informer *kn_informer_new(kn_api *api, const char *path, int kind, const kn_informer_sink *sink, kn_err *err);
void kn_informer_free(kn_informer *inf);

/* When no request is in flight and its backoff has passed, returns a new
 * request to add to the multi handle (owner = inf); else NULL. */
kn_api_req *kn_informer_start(kn_informer *inf, double now);
/* A request from kn_informer_start() finished (kn_api_req_finish() done by the
 * caller); the informer frees it. */
void kn_informer_done(kn_informer *inf, kn_api_req *req, double now);
/* The in-flight request, if any (for shutdown: remove it from the multi). */
kn_api_req *kn_informer_inflight(const kn_informer *inf);

bool kn_informer_synced(const kn_informer *inf); /* first list done (or resource absent) */
/* Synced, and no relist under way: the sink's view of this kind is the last
 * whole list plus the watch events after it. While false (between a 410 and
 * the end of the next list) the view may lack what changed meanwhile, so
 * nothing should be placed on it. */
bool kn_informer_current(const kn_informer *inf);
bool kn_informer_absent(const kn_informer *inf);
double kn_informer_next_start(const kn_informer *inf); /* when start() may return a request */
const char *kn_informer_resource_version(const kn_informer *inf);
unsigned kn_informer_relists(const kn_informer *inf); /* lists started after the first */

/* Watch timeout bounds (seconds) for tests; default 300..600 as client-go. */
void kn_informer_set_watch_timeout(kn_informer *inf, int min_s, int max_s);

#endif
