/* admission.c - AdmissionReview v1 in, AdmissionReview v1 (or a 400 Status) out.
 *
 * The request is checked only as far as the rules need it; everything else
 * in it (userInfo, options, oldObject, dryRun) is read by nobody, which is why
 * dryRun needs no special case. A denial is sent as kube-apiserver turns it
 * into a kubectl error: status {code 403, reason Forbidden, message}, which
 * kubectl prints as `admission webhook "<name>" denied the request: <message>`. */
#include "admission/admission.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission/rules.h"
#include "base/base64.h"
#include "json/json.h"

#define KN_ADMISSION_API_VERSION "admission.k8s.io/v1"

/* Takes body (NULL: out of memory, answered as a 500). */
static void set_text(kn_admit_result *out, char *body, size_t len)
{
    out->body = body;
    out->body_len = len;
    if (out->body == NULL) {
        static const char oom[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                                  "\"message\":\"out of memory\",\"reason\":\"InternalError\",\"code\":500}";
        out->http_status = 500;
        out->verdict = "error";
        out->body = strdup(oom);
        out->body_len = out->body != NULL ? strlen(oom) : 0;
    }
}

static void set_body(kn_admit_result *out, kn_json *doc)
{
    size_t len = 0;
    char *text = doc != NULL ? kn_json_dump(doc, &len) : NULL;
    kn_json_free(doc);
    set_text(out, text, len);
}

static void bad_request(kn_admit_result *out, const char *msg)
{
    kn_json *st = kn_json_new_object();
    if (st != NULL) {
        kn_json_set_str(st, "kind", "Status");
        kn_json_set_str(st, "apiVersion", "v1");
        kn_json_set_str(st, "status", "Failure");
        kn_json_set_str(st, "message", msg);
        kn_json_set_str(st, "reason", "BadRequest");
        kn_json_set(st, "code", kn_json_new_int(400));
    }
    out->http_status = 400;
    out->kind = "invalid";
    out->verdict = "error";
    set_body(out, st);
}

/* Checks a member is a string (empty allowed when allow_empty). */
static const char *req_str(const kn_json *obj, const char *key, const char *where, bool allow_empty, char *msg,
                           size_t cap)
{
    kn_json *v = kn_json_get(obj, key);
    if (!kn_json_is(v, KN_JSON_STRING) || (!allow_empty && kn_json_strlen(v) == 0)) {
        snprintf(msg, cap, "%s.%s: want a %sstring, found %s", where, key, allow_empty ? "" : "non-empty ",
                 v == NULL ? "nothing" : kn_json_type_name(kn_json_typeof(v)));
        return NULL;
    }
    if (strlen(kn_json_str(v)) != kn_json_strlen(v)) {
        snprintf(msg, cap, "%s.%s: contains a NUL character", where, key);
        return NULL;
    }
    return kn_json_str(v);
}

/* Validates the envelope; fills in (object, kind, operation, names) on success. */
static int read_review(const kn_json *root, kn_rules_input *in, const char **uid, char *msg, size_t cap)
{
    if (!kn_json_is(root, KN_JSON_OBJECT))
        return snprintf(msg, cap, "body is a JSON %s, want an AdmissionReview object",
                        kn_json_type_name(kn_json_typeof(root))),
               -1;
    const char *av = req_str(root, "apiVersion", "AdmissionReview", false, msg, cap);
    if (av == NULL)
        return -1;
    if (strcmp(av, KN_ADMISSION_API_VERSION) != 0)
        return snprintf(msg, cap,
                        "apiVersion is \"%.64s\", want \"" KN_ADMISSION_API_VERSION
                        "\" (set admissionReviewVersions: [v1])",
                        av),
               -1;
    const char *kind = req_str(root, "kind", "AdmissionReview", false, msg, cap);
    if (kind == NULL)
        return -1;
    if (strcmp(kind, "AdmissionReview") != 0)
        return snprintf(msg, cap, "kind is \"%.64s\", want \"AdmissionReview\"", kind), -1;
    const kn_json *req = kn_json_get(root, "request");
    if (!kn_json_is(req, KN_JSON_OBJECT))
        return snprintf(msg, cap, "request: want an object, found %s",
                        req == NULL ? "nothing" : kn_json_type_name(kn_json_typeof(req))),
               -1;
    if ((*uid = req_str(req, "uid", "request", false, msg, cap)) == NULL)
        return -1;
    const kn_json *k = kn_json_get(req, "kind");
    if (!kn_json_is(k, KN_JSON_OBJECT))
        return snprintf(msg, cap, "request.kind: want an object {group, version, kind}"), -1;
    if ((in->group = req_str(k, "group", "request.kind", true, msg, cap)) == NULL ||
        (in->version = req_str(k, "version", "request.kind", false, msg, cap)) == NULL ||
        (in->kind = req_str(k, "kind", "request.kind", false, msg, cap)) == NULL ||
        (in->operation = req_str(req, "operation", "request", false, msg, cap)) == NULL)
        return -1;
    in->object = kn_json_get(req, "object");
    in->old_object = kn_json_get(req, "oldObject");
    if ((strcmp(in->operation, "CREATE") == 0 || strcmp(in->operation, "UPDATE") == 0) &&
        !kn_json_is(in->object, KN_JSON_OBJECT))
        return snprintf(msg, cap, "request.object: want an object for %s", in->operation), -1;
    in->ns = kn_json_get_str(req, "namespace");
    in->name = kn_json_get_str(req, "name");
    /* Subresources (pods/binding, pods/status, pods/eviction ...) carry other
     * kinds of objects: not ours. */
    const char *sub = kn_json_get_str(req, "subResource");
    if (sub != NULL && sub[0] != '\0')
        in->kind = "";
    return 0;
}

#define W(w, lit) kn_json_write_raw((w), lit, sizeof(lit) - 1)

/* "patchType":"JSONPatch","patch":"<base64 of the patch's JSON>" */
static void write_patch(kn_json_writer *w, const kn_patch_list *patch)
{
    size_t plen = 0;
    kn_json_writer pw = KN_BUF_INIT;
    kn_patch_write(patch, &pw);
    char *ptext = kn_buf_finish(&pw, &plen);
    if (ptext == NULL || plen > (size_t)1 << 28) {
        free(ptext);
        w->failed = true;
        return;
    }
    W(w, ",\"patchType\":\"JSONPatch\",\"patch\":\"");
    /* base64 needs no escaping */
    char *at = kn_buf_extend(w, kn_base64_len(plen));
    if (at != NULL)
        kn_base64_encode((const unsigned char *)ptext, plen, at);
    W(w, "\"");
    free(ptext);
}

/* The AdmissionReview answer written straight out, with the members, order
 * and escapes a kn_json tree of it would dump to, without building that
 * tree: {apiVersion, kind, response: {uid, allowed,
 * status (denied) | patchType + patch (a non-empty patch), warnings}}. */
static char *write_response(const char *uid, const kn_decision *d, size_t *len)
{
    kn_json_writer w = KN_BUF_INIT;
    W(&w, "{\"apiVersion\":\"" KN_ADMISSION_API_VERSION "\",\"kind\":\"AdmissionReview\",\"response\":{\"uid\":");
    kn_json_write_string(&w, uid, strlen(uid));
    if (!d->allowed) {
        W(&w, ",\"allowed\":false,\"status\":{\"status\":\"Failure\",\"message\":");
        kn_json_write_string(&w, d->message, strlen(d->message));
        W(&w, ",\"reason\":\"Forbidden\",\"code\":403}");
    } else {
        W(&w, ",\"allowed\":true");
        if (d->ops.n > 0)
            write_patch(&w, &d->ops);
    }
    if (d->n_warnings > 0) {
        W(&w, ",\"warnings\":[");
        for (int i = 0; i < d->n_warnings; i++) {
            if (i > 0)
                W(&w, ",");
            kn_json_write_string(&w, d->warnings[i], strlen(d->warnings[i]));
        }
        W(&w, "]");
    }
    W(&w, "}}");
    return kn_buf_finish(&w, len);
}

void kn_admit_http(const char *body, size_t len, kn_admit_mode mode, const kn_admit_config *cfg,
                   kn_admit_result *out)
{
    memset(out, 0, sizeof(*out));
    kn_err err = {{0}};
    /* The server's --max-request-bytes, not the reader's own 8 MiB default:
     * with --max-request-bytes 16Mi a 9 MB review was answered 400. */
    kn_json_limits lim = {.max_bytes = cfg != NULL ? cfg->max_request_bytes : 0};
    kn_json *root = kn_json_parse(body != NULL ? body : "", body != NULL ? len : 0, &lim, &err);
    if (root == NULL) {
        char msg[KN_ERR_MAX + 64];
        snprintf(msg, sizeof(msg), "body is not JSON: %s", err.msg);
        bad_request(out, msg);
        return;
    }
    kn_rules_input in = {.mode = mode, .cfg = cfg, .patch_ops_only = true};
    const char *uid = NULL;
    char msg[512];
    if (read_review(root, &in, &uid, msg, sizeof(msg)) != 0) {
        char full[600];
        snprintf(full, sizeof(full), "not a valid AdmissionReview: %s", msg);
        bad_request(out, full);
        kn_json_free(root);
        return;
    }
    kn_decision d;
    kn_rules_evaluate(&in, &d);
    out->http_status = 200;
    out->kind = d.kind == KN_OBJ_POD ? "Pod" : d.kind == KN_OBJ_SPARKAPP ? "SparkApplication" : "other";
    out->verdict = !d.allowed ? "denied" : d.ops.n > 0 ? "patched" : "allowed";
    size_t blen = 0;
    char *text = write_response(uid, &d, &blen);
    set_text(out, text, blen);
    kn_decision_free(&d);
    kn_json_free(root);
}

void kn_admit_result_free(kn_admit_result *r)
{
    if (r == NULL)
        return;
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}
