/* admission_test_util.h - reviews through the admission code as the server
 * sends them, for the admission and SparkApplication test suites.
 *
 * admit() sends a review through kn_admit_http() exactly as the server does,
 * checks the envelope a kube-apiserver requires (apiVersion, kind, echoed
 * uid, patchType with a base64 patch only when non-empty, warnings under 120
 * characters), then decodes the patch and APPLIES it to request.object, so
 * the tests assert on the object the API server would store. Every helper
 * checks with CMocka assertions: a failed check fails the running test. */
#ifndef KN_ADMISSION_TEST_UTIL_H
#define KN_ADMISSION_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "admission/admission.h"
#include "json/json.h"

typedef struct admitted {
    int http_status;
    const char *verdict;
    kn_json *resp;    /* the whole answer */
    kn_json *patch;   /* decoded ops or NULL */
    kn_json *patched; /* request.object with the patch applied (a copy when no patch) */
} admitted;

/* The AdmissionReview tests/fixtures/admission/<name>; the caller frees it. */
kn_json *fixture(const char *name);

/* request.object of a review (for editing before admit()). */
kn_json *object_of(kn_json *review);

/* Sets a member at a pointer's parent; value owned. */
void set_at(kn_json *root, const char *parent_ptr, const char *key, kn_json *value);
/* Removes a member at a pointer's parent, which must hold it. */
void remove_at(kn_json *root, const char *parent_ptr, const char *key);

/* The review through kn_admit_http() in mode with cfg, checked as above (an
 * answer other than 200 is returned unchecked, as sent). Free with
 * admitted_free(). */
admitted admit_cfg(const kn_json *review, kn_admit_mode mode, const kn_admit_config *cfg);
/* admit_cfg with scheduler name kubenexus-scheduler and nothing else set. */
admitted admit(const kn_json *review, kn_admit_mode mode);
void admitted_free(admitted *a);

/* response.allowed of the answer. */
bool is_allowed(const admitted *a);
/* response.status.message of the answer, or NULL. */
const char *denial(const admitted *a);

/* Asserts a denial whose message is exactly want. */
void assert_denied(const admitted *a, const char *want);
/* Asserts the review was allowed with no patch. */
void assert_allowed_unchanged(const admitted *a);

/* The string at a JSON pointer, or NULL. */
const char *str_at(const kn_json *root, const char *ptr);

/* How many warnings the answer has, and the i-th. */
size_t n_warnings(const admitted *a);
const char *warning(const admitted *a, size_t i);

/* Admits review and asserts a denial with exactly the message want. */
void expect_denied(const kn_json *review, kn_admit_mode mode, const char *want);

/* Admits review and asserts it is allowed with no patch; returns the number
 * of warnings. */
size_t expect_unchanged(const kn_json *review, kn_admit_mode mode);

/* The object as stored after a's patch, admitted again in review r, passes
 * unchanged: the rules are idempotent, so an UPDATE never re-patches. */
void expect_stored_unchanged(kn_json *review, const admitted *a);

/* Admits review and asserts a denial whose message contains every string of
 * parts (NULL-terminated). */
void expect_denial_has(const kn_json *review, kn_admit_mode mode, const char *const *parts);

/* The op name of the patch op at path, or NULL. */
const char *op_for(const kn_json *patch, const char *path);

#endif
