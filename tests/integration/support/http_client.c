#include "http_client.h"

#include "base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kn_http_do(CURL *c, const char *method, const char *url, const char *body, size_t len, const char *ca_file,
                long version, kn_http_resp *out)
{
    memset(out, 0, sizeof(*out));
    kn_buf got = KN_BUF_INIT;
    struct curl_slist *hdrs = NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, version);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, kn_buf_sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (strcmp(method, "POST") == 0) {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body != NULL ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, strcmp(method, "GET") == 0 ? NULL : method);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    out->rc = curl_easy_perform(c);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_easy_getinfo(c, CURLINFO_HTTP_VERSION, &out->http_version);
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &out->num_connects);
    char *ct = NULL;
    if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL)
        snprintf(out->content_type, sizeof(out->content_type), "%s", ct);
    if ((out->body = kn_buf_finish(&got, &out->len)) == NULL)
        out->rc = CURLE_OUT_OF_MEMORY;
}

void kn_http_resp_free(kn_http_resp *r)
{
    free(r->body);
    r->body = NULL;
}
