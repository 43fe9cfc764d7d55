/* fuzz_admission.c - AdmissionReview handling end to end (kn_admit_http):
 * parse, rules, patch, in both /mutate and /validate modes.
 *
 * Invariants (what the API server relies on):
 *  - the answer is 200 with an AdmissionReview v1 whose response.uid is the
 *    request's uid, or 400 with a v1 Status; the body is always valid JSON;
 *  - a denial carries status.code 403 and a message;
 *  - /validate never patches; a /mutate patch is base64 JSON Patch that
 *    applies to request.object as sent (else kube-apiserver fails the create);
 *  - the patched object is stable: mutating it again allows it with no patch
 *    (reinvocationPolicy: IfNeeded runs the webhook again). */
#include "admission/admission.h"
#include "fuzz.h"
#include "json/json.h"
#include "admission/patch.h"

/* Strict base64 (RFC 4648, padded), as Go's encoding/json decodes []byte. */
static char *base64_decode(const char *in, size_t *len)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in);
    KN_FUZZ_CHECK(n % 4 == 0);
    char *out = malloc(n / 4 * 3 + 1);
    KN_FUZZ_CHECK(out != NULL);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        uint32_t acc = 0;
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            const char *p = in[i + k] != '\0' ? strchr(alphabet, in[i + k]) : NULL;
            if (in[i + k] == '=' && i + 4 == n && k >= 2) {
                pad++;
                acc <<= 6;
                continue;
            }
            KN_FUZZ_CHECK(p != NULL && pad == 0);
            acc = acc << 6 | (uint32_t)(p - alphabet);
        }
        out[o++] = (char)(acc >> 16);
        if (pad < 2)
            out[o++] = (char)(acc >> 8);
        if (pad < 1)
            out[o++] = (char)acc;
    }
    *len = o;
    return out;
}

static kn_json *decode_patch(const char *b64)
{
    size_t len = 0;
    char *raw = base64_decode(b64, &len);
    kn_err err = {{0}};
    kn_json *patch = kn_json_parse(raw, len, NULL, &err);
    free(raw);
    KN_FUZZ_CHECK(patch != NULL);
    KN_FUZZ_CHECK(kn_json_is(patch, KN_JSON_ARRAY));
    return patch;
}

static kn_json *admit(const char *body, size_t len, kn_admit_mode mode, const kn_admit_config *cfg,
                      kn_admit_result *res)
{
    kn_admit_http(body, len, mode, cfg, res);
    KN_FUZZ_CHECK(res->body != NULL && res->body_len > 0);
    KN_FUZZ_CHECK(res->kind != NULL && res->verdict != NULL);
    kn_err err = {{0}};
    kn_json *out = kn_json_parse(res->body, res->body_len, NULL, &err);
    KN_FUZZ_CHECK(out != NULL);
    if (res->http_status != 200) {
        KN_FUZZ_CHECK(res->http_status == 400 || res->http_status == 500);
        KN_FUZZ_CHECK(kn_fuzz_streq(kn_json_get_str(out, "kind"), "Status"));
        KN_FUZZ_CHECK(kn_json_get_str(out, "message") != NULL);
        kn_json_free(out);
        return NULL;
    }
    KN_FUZZ_CHECK(kn_fuzz_streq(kn_json_get_str(out, "kind"), "AdmissionReview"));
    KN_FUZZ_CHECK(kn_fuzz_streq(kn_json_get_str(out, "apiVersion"), "admission.k8s.io/v1"));
    return out;
}

/* Re-sends the review with request.object replaced by obj; checks it passes unchanged. */
static void check_stable(const kn_json *review, const kn_json *obj, const kn_admit_config *cfg)
{
    kn_json *again = kn_json_clone(review);
    KN_FUZZ_CHECK(again != NULL);
    kn_json_set(kn_json_get(again, "request"), "object", kn_json_clone(obj));
    size_t len = 0;
    char *text = kn_json_dump(again, &len);
    KN_FUZZ_CHECK(text != NULL);
    kn_admit_result res;
    kn_json *out = admit(text, len, KN_ADMIT_MUTATE, cfg, &res);
    KN_FUZZ_CHECK(out != NULL);
    const kn_json *resp = kn_json_get(out, "response");
    if (!kn_json_bool(kn_json_get(resp, "allowed"), false) || kn_json_get(resp, "patch") != NULL)
        fprintf(stderr, "patched object: %s\nsecond answer: %s\n", text, res.body);
    KN_FUZZ_CHECK(kn_json_bool(kn_json_get(resp, "allowed"), false));
    KN_FUZZ_CHECK(kn_json_get(resp, "patch") == NULL);
    kn_json_free(out);
    kn_admit_result_free(&res);
    free(text);
    kn_json_free(again);
}

static void run(const char *body, size_t len, kn_admit_mode mode, const kn_admit_config *cfg)
{
    kn_admit_result res;
    kn_json *out = admit(body, len, mode, cfg, &res);
    if (out == NULL) {
        kn_admit_result_free(&res);
        return;
    }
    kn_json *review = kn_json_parse(body, len, NULL, NULL); /* it was accepted, so it parses */
    KN_FUZZ_CHECK(review != NULL);
    const kn_json *resp = kn_json_get(out, "response");
    const char *uid = kn_json_get_str(resp, "uid");
    KN_FUZZ_CHECK(kn_fuzz_streq(uid, kn_json_get_str(kn_json_get(review, "request"), "uid")));
    kn_json *allowed = kn_json_get(resp, "allowed");
    KN_FUZZ_CHECK(kn_json_is(allowed, KN_JSON_BOOL));
    if (!kn_json_bool(allowed, true)) {
        KN_FUZZ_CHECK(kn_json_get(resp, "patch") == NULL);
        int64_t code = 0;
        KN_FUZZ_CHECK(kn_json_int(kn_json_dig(resp, "status", "code", NULL), &code) == 0 && code == 403);
        KN_FUZZ_CHECK(kn_json_get_str(kn_json_get(resp, "status"), "message") != NULL);
    }
    const char *b64 = kn_json_get_str(resp, "patch");
    if (b64 != NULL) {
        KN_FUZZ_CHECK(mode == KN_ADMIT_MUTATE);
        KN_FUZZ_CHECK(kn_fuzz_streq(kn_json_get_str(resp, "patchType"), "JSONPatch"));
        kn_json *patch = decode_patch(b64);
        const kn_json *obj = kn_json_dig(review, "request", "object", NULL);
        char why[256] = "";
        kn_json *patched = kn_fuzz_json_patch(obj, patch, why, sizeof(why));
        if (patched == NULL)
            fprintf(stderr, "patch does not apply (%s): %s\n", why, b64);
        KN_FUZZ_CHECK(patched != NULL);
        kn_json *applied = kn_json_patch_apply(obj, patch, NULL); /* the product's own applier agrees */
        KN_FUZZ_CHECK(applied != NULL && kn_json_equal(applied, patched));
        kn_json_free(applied);
        check_stable(review, patched, cfg);
        kn_json_free(patched);
        kn_json_free(patch);
    }
    kn_json_free(review);
    kn_json_free(out);
    kn_admit_result_free(&res);
}

int kn_fuzz_admission(const uint8_t *data, size_t size)
{
    char *body = kn_fuzz_exact(data, size);
    kn_admit_config fill = {.scheduler_name = NULL, .fill_gang_labels = true};
    kn_admit_config custom = {.scheduler_name = "spark-gang", .fill_gang_labels = false};
    run(body, size, KN_ADMIT_MUTATE, &fill);
    run(body, size, KN_ADMIT_MUTATE, &custom);
    run(body, size, KN_ADMIT_VALIDATE, NULL);
    free(body);
    return 0;
}

KN_FUZZ_TARGET(kn_fuzz_admission)
