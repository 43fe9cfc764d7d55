/* http_client.h - one HTTPS request with libcurl, for integration tests.
 *
 * The caller owns the CURL handle, so two calls on one handle show whether
 * the connection was reused (num_connects == 0 on the second). */
#ifndef KN_IT_HTTP_CLIENT_H
#define KN_IT_HTTP_CLIENT_H

#include <curl/curl.h>
#include <stddef.h>

typedef struct kn_http_resp {
    CURLcode rc;       /* CURLE_OK when an answer came back */
    long status;       /* HTTP status */
    long http_version; /* CURL_HTTP_VERSION_1_1, CURL_HTTP_VERSION_2_0 */
    long num_connects; /* new connections this request needed */
    char content_type[128];
    char *body; /* NUL-terminated, malloc'd */
    size_t len;
} kn_http_resp;

/* method "GET" or "POST" (body may be NULL); version a CURL_HTTP_VERSION_*. */
void kn_http_do(CURL *c, const char *method, const char *url, const char *body, size_t len, const char *ca_file,
                long version, kn_http_resp *out);
void kn_http_resp_free(kn_http_resp *r);

#endif
