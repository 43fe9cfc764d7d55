/* apiclient.h - HTTP requests to the Kubernetes API server over libcurl.
 *
 * A kn_api holds where the server is and how to authenticate (copied from a
 * kn_kubeconfig): TLS verified against the configured CA (unless
 * insecure-skip-tls-verify), client certificate and key passed to curl as
 * in-memory blobs, or a bearer token; a token file is re-read when its mtime
 * changes (checked at most every `token_recheck_s`, 60 s by default), so a
 * rotated service-account token is picked up. HTTP/2 is used where the server
 * offers it (ALPN), HTTP/1.1 otherwise.
 *
 * A kn_api_req is one request: an easy handle ready for curl_multi_add_handle()
 * or kn_api_perform() (blocking). Responses are buffered up to `max_response`
 * bytes (a bigger one fails the transfer), or handed to `on_data` when set
 * (watch streams). kn_api_req_finish() records the outcome (status, API error
 * metrics). kn_api is thread-safe; a request belongs to one thread. */
#ifndef KN_APICLIENT_H
#define KN_APICLIENT_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "json/json.h"
#include "kube/client/kubeconfig.h"
#include "base/metrics.h"

#define KN_API_DEFAULT_MAX_RESPONSE (1024 * 1024)
#define KN_API_LIST_MAX_RESPONSE (256 * 1024 * 1024)

typedef struct kn_api kn_api;

typedef struct kn_api_req kn_api_req;
/* Streaming sink: return 0 to continue, -1 to abort the transfer. */
typedef int (*kn_api_data_fn)(kn_api_req *req, const char *data, size_t n);

struct kn_api_req {
    kn_api *api;
    CURL *easy;
    struct curl_slist *headers;
    char *body;             /* request body (owned) */
    char verb[8];           /* "get", "list", "watch", "create", "update", "delete" for metrics */
    kn_buf resp;            /* response body: resp.p[0..resp.len), NUL-terminated (NULL: none) */
    size_t max_response;    /* a longer body fails the transfer */
    kn_api_data_fn on_data; /* when set, a 2xx body goes here instead of resp */
    long status;            /* HTTP status after finish; 0 if no response */
    CURLcode result;
    char errbuf[CURL_ERROR_SIZE];
    void *owner;   /* caller's */
    int owner_tag; /* caller's */
};

/* cfg is copied. metrics may be NULL. */
kn_api *kn_api_new(const kn_kubeconfig *cfg, kn_metrics *metrics, kn_err *err);
void kn_api_free(kn_api *api);
void kn_api_set_token_recheck(kn_api *api, double seconds);

/* method: "GET", "POST", "PUT", "PATCH", "DELETE"; path begins with '/'
 * (query included); body NULL or JSON text (copied). timeout_s: whole
 * transfer, 0 = none. verb labels the API-error metric. */
kn_api_req *kn_api_req_new(kn_api *api, const char *method, const char *path, const char *body, const char *verb,
                           long timeout_s, kn_err *err);
/* The same with the body's Content-Type (NULL: application/json, or
 * application/merge-patch+json for a PATCH), e.g. a strategic merge patch. */
kn_api_req *kn_api_req_new_typed(kn_api *api, const char *method, const char *path, const char *body,
                                 const char *content_type, const char *verb, long timeout_s, kn_err *err);
void kn_api_req_free(kn_api_req *req);

/* Records the result of a finished transfer (from curl_multi_info_read or
 * kn_api_perform): sets status and counts API errors. */
void kn_api_req_finish(kn_api_req *req, CURLcode result);
/* Blocking: performs and finishes. 0 if a response arrived (any status),
 * -1 with an error if the transfer failed. */
int kn_api_perform(kn_api_req *req, kn_err *err);

/* A one-line description of the failure for logs and events: the Status
 * message of the body when there is one ("pods \"x\" not found"), else the
 * curl error or "HTTP 500". Writes into buf and returns it. */
const char *kn_api_req_error(const kn_api_req *req, char *buf, size_t cap);

/* Parses the buffered response as JSON (limits sized for the response). */
kn_json *kn_api_req_json(const kn_api_req *req, kn_err *err);

/* "?"/"&" joined, percent-encoded query value appended to a path buffer. */
int kn_api_path_append(char *buf, size_t cap, const char *key, const char *value);

#endif
