/* admission_test_util.c - reviews through kn_admit_http() as the server sends
 * them, the answer checked as kube-apiserver reads it and its patch applied
 * (contracts in admission_test_util.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "admission/patch.h"
#include "support/admission_test_util.h"
#include "support/fixture_files.h"

kn_json *fixture(const char *name)
{
    return fixture_json("admission", name);
}

kn_json *object_of(kn_json *review)
{
    return kn_json_dig(review, "request", "object", NULL);
}

void set_at(kn_json *root, const char *parent_ptr, const char *key, kn_json *value)
{
    kn_json *parent = kn_json_pointer_get(root, parent_ptr);
    if (parent == NULL)
        fail_msg("no %s", parent_ptr);
    assert_int_equal(kn_json_set(parent, key, value), 0);
}

void remove_at(kn_json *root, const char *parent_ptr, const char *key)
{
    kn_json *parent = kn_json_pointer_get(root, parent_ptr);
    if (parent == NULL)
        fail_msg("no %s", parent_ptr);
    assert_int_equal(kn_json_remove(parent, key), 0);
}

/* The JSON Patch a response carries in base64: a non-empty array of ops. */
static kn_json *decode_patch(const char *b64)
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

admitted admit_cfg(const kn_json *review, kn_admit_mode mode, const kn_admit_config *cfg)
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

admitted admit(const kn_json *review, kn_admit_mode mode)
{
    kn_admit_config cfg = {.scheduler_name = "kubenexus-scheduler"};
    return admit_cfg(review, mode, &cfg);
}

void admitted_free(admitted *a)
{
    kn_json_free(a->resp);
    kn_json_free(a->patch);
    kn_json_free(a->patched);
}

bool is_allowed(const admitted *a)
{
    return kn_json_bool(kn_json_dig(a->resp, "response", "allowed", NULL), false);
}

const char *denial(const admitted *a)
{
    return kn_json_str(kn_json_dig(a->resp, "response", "status", "message", NULL));
}

void assert_denied(const admitted *a, const char *want)
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

void assert_allowed_unchanged(const admitted *a)
{
    assert_int_equal(a->http_status, 200);
    if (!is_allowed(a))
        fail_msg("denied: %s", denial(a));
    assert_null(a->patch);
    assert_string_equal(a->verdict, "allowed");
}

const char *str_at(const kn_json *root, const char *ptr)
{
    return kn_json_str(kn_json_pointer_get(root, ptr));
}

size_t n_warnings(const admitted *a)
{
    return kn_json_len(kn_json_dig(a->resp, "response", "warnings", NULL));
}

const char *warning(const admitted *a, size_t i)
{
    return kn_json_str(kn_json_at(kn_json_dig(a->resp, "response", "warnings", NULL), i));
}

void expect_denied(const kn_json *review, kn_admit_mode mode, const char *want)
{
    admitted a = admit(review, mode);
    assert_denied(&a, want);
    admitted_free(&a);
}

size_t expect_unchanged(const kn_json *review, kn_admit_mode mode)
{
    admitted a = admit(review, mode);
    assert_allowed_unchanged(&a);
    size_t n = n_warnings(&a);
    admitted_free(&a);
    return n;
}

void expect_stored_unchanged(kn_json *review, const admitted *a)
{
    set_at(review, "/request", "object", kn_json_clone(a->patched));
    expect_unchanged(review, KN_ADMIT_MUTATE);
}

void expect_denial_has(const kn_json *review, kn_admit_mode mode, const char *const *parts)
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

const char *op_for(const kn_json *patch, const char *path)
{
    for (size_t i = 0; i < kn_json_len(patch); i++)
        if (strcmp(kn_json_get_str(kn_json_at(patch, i), "path"), path) == 0)
            return kn_json_get_str(kn_json_at(patch, i), "op");
    return NULL;
}
