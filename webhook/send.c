/* send.c - the `send` subcommand: see send.h. */
#include "webhook/send.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "json/json.h"
#include "yaml/manifest.h"
#include "admission/patch.h"
#include "sim/operator/spark_operator.h"
#include "spark/sparkapp.h"

#define SEND_MAX_RESPONSE (4u * 1024 * 1024)

typedef struct sender {
    CURL *curl;
    const char *server;
    const char *path;
    const char *cacert;
    int denied; /* any request denied */
    int failed; /* any transport or protocol error */
} sender;

static void new_uid(char out[37])
{
    unsigned char r[16];
    if (RAND_bytes(r, sizeof(r)) != 1)
        memset(r, 0x5a, sizeof(r));
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2],
             r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

static kn_json *gvk(const char *group, const char *version, const char *kind_key, const char *kind)
{
    kn_json *o = kn_json_new_object();
    kn_json_set_str(o, "group", group);
    kn_json_set_str(o, "version", version);
    kn_json_set_str(o, kind_key, kind);
    return o;
}

/* The resource name the API server puts in request.resource. */
static void resource_of(const char *kind, char *out, size_t cap)
{
    size_t i = 0;
    for (; kind[i] && i + 2 < cap; i++)
        out[i] = (char)((kind[i] >= 'A' && kind[i] <= 'Z') ? kind[i] + 32 : kind[i]);
    out[i++] = 's';
    out[i] = '\0';
}

/* An AdmissionReview v1 CREATE request for obj, as kube-apiserver builds it. */
static kn_json *build_review(const kn_json *obj)
{
    const char *api = kn_json_get_str(obj, "apiVersion");
    const char *kind = kn_json_get_str(obj, "kind");
    const char *slash = api ? strchr(api, '/') : NULL;
    char group[128] = "", version[64] = "", resource[128];
    if (slash != NULL) {
        snprintf(group, sizeof(group), "%.*s", (int)(slash - api), api);
        snprintf(version, sizeof(version), "%s", slash + 1);
    } else {
        snprintf(version, sizeof(version), "%s", api ? api : "v1");
    }
    resource_of(kind ? kind : "unknown", resource, sizeof(resource));
    const kn_json *meta = kn_json_get(obj, "metadata");
    const char *ns = kn_json_get_str(meta, "namespace");
    char uid[37];
    new_uid(uid);

    kn_json *req = kn_json_new_object();
    kn_json_set_str(req, "uid", uid);
    kn_json_set(req, "kind", gvk(group, version, "kind", kind ? kind : ""));
    kn_json_set(req, "resource", gvk(group, version, "resource", resource));
    kn_json_set(req, "requestKind", gvk(group, version, "kind", kind ? kind : ""));
    kn_json_set(req, "requestResource", gvk(group, version, "resource", resource));
    const char *name = kn_json_get_str(meta, "name");
    if (name != NULL)
        kn_json_set_str(req, "name", name);
    kn_json_set_str(req, "namespace", ns ? ns : "default");
    kn_json_set_str(req, "operation", "CREATE");
    kn_json *user = kn_json_new_object();
    kn_json_set_str(user, "username", "kubernetes-admin");
    kn_json *groups = kn_json_new_array();
    kn_json_append(groups, kn_json_new_string("system:masters"));
    kn_json_append(groups, kn_json_new_string("system:authenticated"));
    kn_json_set(user, "groups", groups);
    kn_json_set(req, "userInfo", user);
    kn_json_set(req, "object", kn_json_clone(obj));
    kn_json_set(req, "oldObject", kn_json_new_null());
    kn_json_set(req, "dryRun", kn_json_new_bool(false));
    kn_json *opts = kn_json_new_object();
    kn_json_set_str(opts, "kind", "CreateOptions");
    kn_json_set_str(opts, "apiVersion", "meta.k8s.io/v1");
    kn_json_set(req, "options", opts);

    kn_json *review = kn_json_new_object();
    kn_json_set_str(review, "kind", "AdmissionReview");
    kn_json_set_str(review, "apiVersion", "admission.k8s.io/v1");
    kn_json_set(review, "request", req);
    return review;
}

/* Defaults the API server applies before mutating webhooks run, for what
 * the webhook reads: the namespace, and a pod's schedulerName. */
static kn_json *apiserver_defaults(const kn_json *obj, const char *ns)
{
    kn_json *o = kn_json_clone(obj);
    kn_json *meta = kn_json_get(o, "metadata");
    if (meta != NULL && kn_json_get(meta, "namespace") == NULL)
        kn_json_set_str(meta, "namespace", ns);
    const char *kind = kn_json_get_str(o, "kind");
    kn_json *spec = kn_json_get(o, "spec");
    if (kind && strcmp(kind, "Pod") == 0 && spec && kn_json_get(spec, "schedulerName") == NULL)
        kn_json_set_str(spec, "schedulerName", "default-scheduler");
    return o;
}

static kn_json *decode_patch(const char *b64, kn_err *err)
{
    size_t n = strlen(b64);
    if (n % 4 != 0 || n > SEND_MAX_RESPONSE) {
        kn_err_set(err, "response.patch is not base64");
        return NULL;
    }
    unsigned char *out = malloc(n / 4 * 3 + 1);
    if (out == NULL)
        return NULL;
    int len = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
    if (len < 0) {
        free(out);
        kn_err_set(err, "response.patch is not base64");
        return NULL;
    }
    while (len > 0 && n > 0 && b64[--n] == '=')
        len--; /* EVP_DecodeBlock counts padding as zero bytes */
    kn_json *patch = kn_json_parse((const char *)out, (size_t)len, NULL, err);
    free(out);
    if (patch == NULL)
        kn_err_prefix(err, "response.patch");
    return patch;
}

/* POSTs one review; returns the parsed AdmissionReview answer or NULL. */
static kn_json *post_review(sender *s, const kn_json *review, kn_err *err)
{
    char url[2048];
    /* As the API server does: its timeout joins the configured path's query. */
    snprintf(url, sizeof(url), "%s%s%ctimeout=10s", s->server, s->path, strchr(s->path, '?') ? '&' : '?');
    size_t blen;
    char *body = kn_json_dump(review, &blen);
    kn_buf resp = KN_BUF_MAX(SEND_MAX_RESPONSE); /* a webhook answer is never larger */
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    curl_easy_setopt(s->curl, CURLOPT_URL, url);
    curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE, (long)blen);
    curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, kn_buf_sink);
    curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, &resp);
    CURLcode rc = curl_easy_perform(s->curl);
    curl_slist_free_all(hdrs);
    free(body);
    long status = 0;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
    kn_json *answer = NULL;
    if (rc != CURLE_OK)
        kn_err_set(err, "POST %s: %s", url, curl_easy_strerror(rc));
    else if (status != 200)
        kn_err_set(err, "POST %s: HTTP %ld: %.300s", url, status, resp.p ? resp.p : "");
    else if ((answer = kn_json_parse(resp.p ? resp.p : "", resp.len, NULL, err)) == NULL)
        kn_err_prefix(err, "POST %s: answer is not JSON", url);
    kn_buf_free(&resp);
    return answer;
}

/* Sends obj, prints the verdict, and returns the object as the API server
 * would store it (patch applied) when allowed, else NULL. */
static kn_json *admit(sender *s, const kn_json *obj)
{
    const char *kind = kn_json_get_str(obj, "kind");
    const kn_json *meta = kn_json_get(obj, "metadata");
    const char *ns = kn_json_get_str(meta, "namespace");
    const char *name = kn_json_get_str(meta, "name");
    printf("%s %s/%s: ", kind ? kind : "?", ns ? ns : "default", name ? name : "?");
    kn_err err = {{0}};
    kn_json *review = build_review(obj);
    kn_json *answer = post_review(s, review, &err);
    kn_json_free(review);
    const kn_json *resp = kn_json_get(answer, "response");
    if (resp == NULL) {
        printf("ERROR: %s\n", answer ? "answer has no response" : err.msg);
        kn_json_free(answer);
        s->failed = 1;
        return NULL;
    }
    kn_json *stored = NULL;
    const char *b64 = kn_json_get_str(resp, "patch");
    kn_json *patch = b64 ? decode_patch(b64, &err) : NULL;
    if (!kn_json_bool(kn_json_get(resp, "allowed"), false)) {
        const char *msg = kn_json_get_str(kn_json_get(resp, "status"), "message");
        printf("DENIED: %s\n", msg ? msg : "(no message)");
        s->denied = 1;
    } else if (b64 != NULL && patch == NULL) {
        printf("ERROR: %s\n", err.msg);
        s->failed = 1;
    } else {
        printf("%s\n", patch ? "PATCHED" : "ALLOWED");
        stored = patch ? kn_json_patch_apply(obj, patch, &err) : kn_json_clone(obj);
        if (stored == NULL) {
            printf("  ERROR: the patch does not apply: %s\n", err.msg);
            s->failed = 1;
        }
    }
    const kn_json *warnings = kn_json_get(resp, "warnings");
    for (size_t i = 0; i < kn_json_len(warnings); i++)
        printf("  warning: %s\n",
               kn_json_str(kn_json_at(warnings, i)) ? kn_json_str(kn_json_at(warnings, i)) : "");
    if (patch != NULL) {
        char *text = kn_json_dump(patch, NULL);
        printf("  patch: %s\n", text ? text : "");
        free(text);
    }
    kn_json_free(patch);
    kn_json_free(answer);
    return stored;
}

/* What the Spark Operator and Spark do after the application is admitted:
 * the driver pod, then (once it runs) its executors. */
static void send_sparkapp_pods(sender *s, const kn_json *app)
{
    kn_err err = {{0}};
    kn_json *driver = kn_sparkapp_driver_pod(app, NULL, &err);
    if (driver == NULL) {
        printf("  ERROR: cannot build the driver pod: %s\n", err.msg);
        s->failed = 1;
        return;
    }
    kn_json *stored = admit(s, driver);
    int n = 0;
    bool dynamic = false;
    const char *driver_name = kn_json_get_str(kn_json_get(driver, "metadata"), "name");
    if (stored != NULL && kn_sparkapp_executor_count(app, &n, &dynamic, &err) == 0) {
        for (int i = 1; i <= n; i++) {
            kn_json *exec = kn_sparkapp_executor_pod(app, i, driver_name, NULL, &err);
            if (exec == NULL) {
                printf("  ERROR: cannot build executor %d: %s\n", i, err.msg);
                s->failed = 1;
                break;
            }
            kn_json_free(admit(s, exec));
            kn_json_free(exec);
        }
    }
    kn_json_free(stored);
    kn_json_free(driver);
}

static void send_doc(sender *s, const kn_json *doc)
{
    const char *kind = kn_json_get_str(doc, "kind");
    if (kind == NULL || kn_json_get(doc, "metadata") == NULL) {
        fprintf(stderr, "send: skipping a document without kind or metadata\n");
        return;
    }
    kn_json *obj = apiserver_defaults(doc, "default");
    kn_json *stored = admit(s, obj);
    if (stored != NULL && strcmp(kind, "SparkApplication") == 0)
        send_sparkapp_pods(s, stored);
    kn_json_free(stored);
    kn_json_free(obj);
}

static int usage(void)
{
    fprintf(stderr, "usage: kubenexus-webhook send --server https://HOST:PORT [--cacert CA.crt]\n"
                    "         [--path /mutate] FILE...\n");
    return 2;
}

int kn_send_main(int argc, char **argv)
{
    sender s = {.path = "/mutate"};
    int first = argc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = strcmp(a, "--server") == 0   ? &s.server
                           : strcmp(a, "--cacert") == 0 ? &s.cacert
                           : strcmp(a, "--path") == 0   ? &s.path
                                                        : NULL;
        if (dst != NULL && i + 1 < argc) {
            *dst = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage();
        } else {
            first = i;
            break;
        }
    }
    if (s.server == NULL || first >= argc)
        return usage();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    s.curl = curl_easy_init();
    curl_easy_setopt(s.curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(s.curl, CURLOPT_TIMEOUT, 15L);
    curl_easy_setopt(s.curl, CURLOPT_NOSIGNAL, 1L);
    if (s.cacert != NULL)
        curl_easy_setopt(s.curl, CURLOPT_CAINFO, s.cacert);
    int bad_input = 0;
    for (int i = first; i < argc; i++) {
        kn_json **docs = NULL;
        size_t n = 0;
        kn_err err = {{0}};
        if (kn_manifest_read_file(argv[i], &docs, &n, &err) != 0) {
            fprintf(stderr, "send: %s\n", err.msg);
            bad_input = 1;
            continue;
        }
        for (size_t d = 0; d < n; d++)
            send_doc(&s, docs[d]);
        kn_yaml_free_docs(docs, n);
    }
    curl_easy_cleanup(s.curl);
    curl_global_cleanup();
    fflush(stdout);
    return (bad_input || s.failed) ? 2 : s.denied ? 1 : 0;
}
