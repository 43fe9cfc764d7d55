/* admission_test_util.h - shared by the admission test suites (header-only,
 * since every tests/unit/test_*.c is its own binary).
 *
 * admit() sends a review through kn_admit_http() exactly as the server does,
 * checks the envelope a kube-apiserver requires (apiVersion, kind, echoed
 * uid, patchType with a base64 patch only when non-empty, warnings under 120
 * characters), then decodes the patch and APPLIES it to request.object, so
 * the tests assert on the object the API server would store. */
#ifndef KN_ADMISSION_TEST_UTIL_H
#define KN_ADMISSION_TEST_UTIL_H

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission/admission.h"
#include "json/json.h"
#include "admission/patch.h"

typedef struct admitted {
    int http_status;
    const char *verdict;
    kn_json *resp;    /* the whole answer */
    kn_json *patch;   /* decoded ops or NULL */
    kn_json *patched; /* request.object with the patch applied (a copy when no patch) */
} admitted;

static inline kn_json *read_json_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    kn_err err = {{0}};
    kn_json *v = kn_json_parse(buf, n, NULL, &err);
    if (v == NULL)
        fail_msg("%s: %s", path, err.msg);
    return v;
}

static inline kn_json *fixture(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/admission/%s", KN_FIXTURES, name);
    return read_json_file(path);
}

/* request.object of a review (for editing before admit()). */
static inline kn_json *object_of(kn_json *review)
{
    return kn_json_dig(review, "request", "object", NULL);
}

/* Sets a member at a pointer's parent; value owned. */
static inline void set_at(kn_json *root, const char *parent_ptr, const char *key, kn_json *value)
{
    kn_json *parent = kn_json_pointer_get(root, parent_ptr);
    if (parent == NULL)
        fail_msg("no %s", parent_ptr);
    assert_int_equal(kn_json_set(parent, key, value), 0);
}

static inline void remove_at(kn_json *root, const char *parent_ptr, const char *key)
{
    kn_json *parent = kn_json_pointer_get(root, parent_ptr);
    if (parent == NULL)
        fail_msg("no %s", parent_ptr);
    assert_int_equal(kn_json_remove(parent, key), 0);
}

static inline kn_json *decode_patch(const char *b64)
{
    size_t len = strlen(b64);
    assert_true(len % 4 == 0 && len > 0);
    unsigned char *raw = malloc(len);
    assert_non_null(raw);
    int n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)len);
    assert_true(n > 0);
    while (len > 0 && b64[len - 1] == '=') { /* EVP_DecodeBlock counts padding as zeros */
        n--;
        len--;
    }
    kn_err err = {{0}};
    kn_json *p = kn_json_parse((const char *)raw, (size_t)n, NULL, &err);
    free(raw);
    if (p == NULL)
        fail_msg("patch is not JSON: %s", err.msg);
    assert_true(kn_json_is(p, KN_JSON_ARRAY));
    assert_true(kn_json_len(p) > 0);
    return p;
}

static inline admitted admit_cfg(const kn_json *review, kn_admit_mode mode, const kn_admit_config *cfg)
{
    admitted a = {0};
    size_t len = 0;
    char *body = kn_json_dump(review, &len);
    assert_non_null(body);
    kn_admit_result r;
    kn_admit_http(body, len, mode, cfg, &r);
    free(body);
    a.http_status = r.http_status;
    a.verdict = r.verdict;
    kn_err err = {{0}};
    a.resp = kn_json_parse(r.body, r.body_len, NULL, &err);
    kn_admit_result_free(&r);
    if (a.resp == NULL)
        fail_msg("answer is not JSON: %s", err.msg);
    if (a.http_status != 200)
        return a;
    assert_string_equal(kn_json_get_str(a.resp, "apiVersion"), "admission.k8s.io/v1");
    assert_string_equal(kn_json_get_str(a.resp, "kind"), "AdmissionReview");
    const kn_json *resp = kn_json_get(a.resp, "response");
    assert_string_equal(kn_json_get_str(resp, "uid"), kn_json_str(kn_json_dig(review, "request", "uid", NULL)));
    assert_true(kn_json_is(kn_json_get(resp, "allowed"), KN_JSON_BOOL));
    const kn_json *w = kn_json_get(resp, "warnings");
    for (size_t i = 0; i < kn_json_len(w); i++)
        assert_true(kn_json_strlen(kn_json_at(w, i)) < 120);
    const char *b64 = kn_json_get_str(resp, "patch");
    if (b64 != NULL) {
        assert_string_equal(kn_json_get_str(resp, "patchType"), "JSONPatch");
        assert_true(kn_json_bool(kn_json_get(resp, "allowed"), false));
        a.patch = decode_patch(b64);
        a.patched = kn_json_patch_apply(kn_json_dig(review, "request", "object", NULL), a.patch, &err);
        if (a.patched == NULL)
            fail_msg("the patch does not apply to the object as sent: %s", err.msg);
        assert_string_equal(a.verdict, "patched");
    } else {
        assert_null(kn_json_get(resp, "patchType"));
        a.patched = kn_json_clone(kn_json_dig(review, "request", "object", NULL));
    }
    return a;
}

static inline admitted admit(const kn_json *review, kn_admit_mode mode)
{
    kn_admit_config cfg = {.scheduler_name = "kubenexus-scheduler"};
    return admit_cfg(review, mode, &cfg);
}

static inline void admitted_free(admitted *a)
{
    kn_json_free(a->resp);
    kn_json_free(a->patch);
    kn_json_free(a->patched);
}

static inline bool is_allowed(const admitted *a)
{
    return kn_json_bool(kn_json_dig(a->resp, "response", "allowed", NULL), false);
}

static inline const char *denial(const admitted *a)
{
    return kn_json_str(kn_json_dig(a->resp, "response", "status", "message", NULL));
}

/* Asserts a denial whose message is exactly want. */
static inline void assert_denied(const admitted *a, const char *want)
{
    assert_int_equal(a->http_status, 200);
    if (is_allowed(a))
        fail_msg("allowed, want denied with: %s", want);
    assert_string_equal(a->verdict, "denied");
    assert_null(kn_json_dig(a->resp, "response", "patch", NULL));
    assert_int_equal(kn_json_int(kn_json_dig(a->resp, "response", "status", "code", NULL), &(int64_t){0}), 0);
    assert_string_equal(kn_json_str(kn_json_dig(a->resp, "response", "status", "reason", NULL)), "Forbidden");
    assert_string_equal(denial(a), want);
}

static inline void assert_allowed_unchanged(const admitted *a)
{
    assert_int_equal(a->http_status, 200);
    if (!is_allowed(a))
        fail_msg("denied: %s", denial(a));
    assert_null(a->patch);
    assert_string_equal(a->verdict, "allowed");
}

static inline const char *str_at(const kn_json *root, const char *ptr)
{
    return kn_json_str(kn_json_pointer_get(root, ptr));
}

static inline size_t n_warnings(const admitted *a)
{
    return kn_json_len(kn_json_dig(a->resp, "response", "warnings", NULL));
}

static inline const char *warning(const admitted *a, size_t i)
{
    return kn_json_str(kn_json_at(kn_json_dig(a->resp, "response", "warnings", NULL), i));
}

/* Admits review and asserts a denial with exactly the message want. */
static inline void expect_denied(const kn_json *review, kn_admit_mode mode, const char *want)
{
    admitted a = admit(review, mode);
    assert_denied(&a, want);
    admitted_free(&a);
}

/* Admits review and asserts it is allowed with no patch; returns the number
 * of warnings. */
static inline size_t expect_unchanged(const kn_json *review, kn_admit_mode mode)
{
    admitted a = admit(review, mode);
    assert_allowed_unchanged(&a);
    size_t n = n_warnings(&a);
    admitted_free(&a);
    return n;
}

/* The object as stored after a's patch, admitted again in review r, passes
 * unchanged: the rules are idempotent, so an UPDATE never re-patches. */
static inline void expect_stored_unchanged(kn_json *review, const admitted *a)
{
    set_at(review, "/request", "object", kn_json_clone(a->patched));
    expect_unchanged(review, KN_ADMIT_MUTATE);
}

/* Admits review and asserts a denial whose message contains every string of
 * parts (NULL-terminated). */
static inline void expect_denial_has(const kn_json *review, kn_admit_mode mode, const char *const *parts)
{
    admitted a = admit(review, mode);
    if (is_allowed(&a))
        fail_msg("allowed, want denied with: %s", parts[0]);
    assert_string_equal(a.verdict, "denied");
    for (; *parts != NULL; parts++)
        if (strstr(denial(&a), *parts) == NULL)
            fail_msg("denial \"%s\" lacks \"%s\"", denial(&a), *parts);
    admitted_free(&a);
}

/* The op name of the patch op at path, or NULL. */
static inline const char *op_for(const kn_json *patch, const char *path)
{
    for (size_t i = 0; i < kn_json_len(patch); i++)
        if (strcmp(kn_json_get_str(kn_json_at(patch, i), "path"), path) == 0)
            return kn_json_get_str(kn_json_at(patch, i), "op");
    return NULL;
}

#endif
