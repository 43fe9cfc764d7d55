/* test_admission.c - the AdmissionReview v1 envelope: what kube-apiserver
 * requires of an answer (echoed uid, apiVersion/kind, patchType and base64
 * patch only when non-empty, a denial's status) and 400 for bodies that are
 * not an AdmissionReview v1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "support/admission_test_util.h"

/* Sends a raw body; expects 400 with a Status whose message contains want. */
static void expect_bad_request(const char *body, size_t len, const char *want)
{
    kn_admit_result r;
    kn_admit_config cfg = {0};
    kn_admit_http(body, len, KN_ADMIT_MUTATE, &cfg, &r);
    assert_int_equal(r.http_status, 400);
    assert_string_equal(r.kind, "invalid");
    assert_string_equal(r.verdict, "error");
    kn_err err = {{0}};
    kn_json *st = kn_json_parse(r.body, r.body_len, NULL, &err);
    assert_non_null(st);
    assert_string_equal(kn_json_get_str(st, "kind"), "Status");
    assert_string_equal(kn_json_get_str(st, "apiVersion"), "v1");
    assert_string_equal(kn_json_get_str(st, "status"), "Failure");
    assert_string_equal(kn_json_get_str(st, "reason"), "BadRequest");
    int64_t code = 0;
    assert_int_equal(kn_json_int(kn_json_get(st, "code"), &code), 0);
    assert_int_equal(code, 400);
    const char *msg = kn_json_get_str(st, "message");
    if (msg == NULL || strstr(msg, want) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", msg != NULL ? msg : "(none)", want);
    kn_json_free(st);
    kn_admit_result_free(&r);
}

static void expect_bad_review(kn_json *review, const char *want)
{
    size_t len = 0;
    char *body = kn_json_dump(review, &len);
    expect_bad_request(body, len, want);
    free(body);
    kn_json_free(review);
}

static void test_garbage(void **state)
{
    (void)state;
    expect_bad_request("", 0, "body is not JSON");
    expect_bad_request(NULL, 0, "body is not JSON");
    expect_bad_request("{\"apiVersion\":", 14, "body is not JSON");
    expect_bad_request("GET / HTTP/1.1\r\n", 16, "body is not JSON");
    expect_bad_request("[1,2]", 5, "want an AdmissionReview object");
    expect_bad_request("\"x\"", 3, "want an AdmissionReview object");
    expect_bad_request("{}", 2, "AdmissionReview.apiVersion");
    /* NUL inside the body is garbage, not the end of it */
    expect_bad_request("{}\0{}", 5, "body is not JSON");
}

static void test_envelope_errors(void **state)
{
    (void)state;
    kn_json *r = fixture("pod-spark-pi-driver.json");
    set_at(r, "", "apiVersion", kn_json_new_string("admission.k8s.io/v1beta1"));
    expect_bad_review(r, "apiVersion is \"admission.k8s.io/v1beta1\", want \"admission.k8s.io/v1\"");
    r = fixture("pod-spark-pi-driver.json");
    set_at(r, "", "kind", kn_json_new_string("TokenReview"));
    expect_bad_review(r, "kind is \"TokenReview\", want \"AdmissionReview\"");
    r = fixture("pod-spark-pi-driver.json");
    remove_at(r, "", "request");
    expect_bad_review(r, "request: want an object, found nothing");
    r = fixture("pod-spark-pi-driver.json");
    remove_at(r, "/request", "uid");
    expect_bad_review(r, "request.uid: want a non-empty string");
    r = fixture("pod-spark-pi-driver.json");
    set_at(r, "/request", "uid", kn_json_new_int(7));
    expect_bad_review(r, "request.uid: want a non-empty string, found number");
    r = fixture("pod-spark-pi-driver.json");
    set_at(r, "/request", "kind", kn_json_new_string("Pod"));
    expect_bad_review(r, "request.kind: want an object");
    r = fixture("pod-spark-pi-driver.json");
    remove_at(r, "/request", "operation");
    expect_bad_review(r, "request.operation");
    r = fixture("pod-spark-pi-driver.json");
    set_at(r, "/request", "object", kn_json_new_null());
    expect_bad_review(r, "request.object: want an object for CREATE");
}

static void test_allowed_answer_shape(void **state)
{
    (void)state;
    kn_json *r = fixture("pod-plain.json");
    admitted a = admit(r, KN_ADMIT_MUTATE);
    /* exactly: apiVersion, kind, response{uid, allowed} */
    assert_int_equal(kn_json_len(a.resp), 3);
    const kn_json *resp = kn_json_get(a.resp, "response");
    assert_int_equal(kn_json_len(resp), 2);
    assert_true(kn_json_bool(kn_json_get(resp, "allowed"), false));
    admitted_free(&a);
    /* dryRun: same answer */
    set_at(r, "/request", "dryRun", kn_json_new_bool(true));
    expect_unchanged(r, KN_ADMIT_MUTATE);
    kn_json_free(r);
}

static void test_patched_and_denied_shape(void **state)
{
    (void)state;
    kn_json *r = fixture("pod-spark-pi-exec-1.json");
    admitted a = admit(r, KN_ADMIT_MUTATE);
    const kn_json *resp = kn_json_get(a.resp, "response");
    assert_string_equal(kn_json_get_str(resp, "patchType"), "JSONPatch");
    /* the patch is standard base64 of the JSON text */
    assert_string_equal(kn_json_get_str(resp, "patch"), "W3sib3AiOiJyZXBsYWNlIiwicGF0aCI6Ii9zcGVjL3NjaGVkdWxlck5hb"
                                                        "WUiLCJ2YWx1ZSI6Imt1YmVuZXh1cy1zY2hlZHVsZXIifV0=");
    admitted_free(&a);
    set_at(r, "/request/object/metadata/labels", "pod-group.scheduling.kubenexus.io/min-available",
           kn_json_new_string("-1"));
    a = admit(r, KN_ADMIT_MUTATE);
    resp = kn_json_get(a.resp, "response");
    assert_false(kn_json_bool(kn_json_get(resp, "allowed"), true));
    const kn_json *st = kn_json_get(resp, "status");
    int64_t code = 0;
    assert_int_equal(kn_json_int(kn_json_get(st, "code"), &code), 0);
    assert_int_equal(code, 403);
    assert_string_equal(kn_json_get_str(st, "status"), "Failure");
    assert_string_equal(kn_json_get_str(st, "reason"), "Forbidden");
    assert_string_equal(a.verdict, "denied");
    assert_null(kn_json_get(resp, "patchType"));
    admitted_free(&a);
    kn_json_free(r);
}

/* Namespace and name come from the request when the object lacks them
 * (generateName pods have no name yet). */
static void test_subject_names(void **state)
{
    (void)state;
    kn_json *r = fixture("pod-plain.json");
    set_at(r, "/request/object/metadata/labels", "pod-group.scheduling.kubenexus.io/name",
           kn_json_new_string("bad name"));
    remove_at(r, "/request/object/metadata", "namespace");
    admitted a = admit(r, KN_ADMIT_MUTATE);
    assert_false(is_allowed(&a));
    assert_non_null(strstr(denial(&a), "Pod shop/web-7c9d8f6b5-: "));
    admitted_free(&a);
    kn_json_free(r);
}

static void test_result_labels(void **state)
{
    (void)state;
    /* file, kind, verdict at /mutate, at /validate (which sees the object as
     * sent: a gang application that mutation would complete is denied there) */
    const char *cases[][4] = {
        {"pod-plain.json", "Pod", "allowed", "allowed"},
        {"pod-spark-pi-driver.json", "Pod", "patched", "allowed"},
        {"sparkapp-spark-pi.json", "SparkApplication", "patched", "denied"},
        {"sparkapp-spark-pi-update.json", "SparkApplication", "denied", "denied"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kn_json *rv = fixture(cases[i][0]);
        size_t len;
        char *body = kn_json_dump(rv, &len);
        kn_admit_result r;
        kn_admit_http(body, len, KN_ADMIT_MUTATE, NULL, &r);
        assert_int_equal(r.http_status, 200);
        assert_string_equal(r.kind, cases[i][1]);
        assert_string_equal(r.verdict, cases[i][2]);
        kn_admit_result_free(&r);
        kn_admit_http(body, len, KN_ADMIT_VALIDATE, NULL, &r);
        assert_string_equal(r.verdict, cases[i][3]);
        kn_admit_result_free(&r);
        free(body);
        kn_json_free(rv);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_envelope_errors),
        cmocka_unit_test(test_allowed_answer_shape),
        cmocka_unit_test(test_patched_and_denied_shape),
        cmocka_unit_test(test_subject_names),
        cmocka_unit_test(test_result_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
