/* admission.h - one AdmissionReview request in, one HTTP answer out.
 *
 * This is the whole contract between the HTTP server (server.c) and the rules:
 * the server hands over the raw body and the path's mode; it gets back the
 * status code, the body to send and the labels to count in metrics. It never
 * fails: a body that is not a valid AdmissionReview v1 gives 400 and a JSON
 * error body ({"kind":"Status","apiVersion":"v1","status":"Failure",
 * "message":"...","reason":"BadRequest","code":400}).
 *
 * Thread-safe and free of side effects (dryRun needs nothing special). */
#ifndef KN_ADMISSION_H
#define KN_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { KN_ADMIT_MUTATE, KN_ADMIT_VALIDATE } kn_admit_mode;

typedef struct kn_admit_config {
    const char *scheduler_name;       /* injected into gang members; default "kubenexus-scheduler" */
    bool fill_gang_labels;            /* derive missing gang labels on SparkApplications */
    const char *fill_namespace_label; /* reserved: namespaces opting in (unused if NULL) */
    size_t max_request_bytes;         /* largest body read as JSON; 0: the JSON reader's default (8 MiB) */
} kn_admit_config;

typedef struct kn_admit_result {
    int http_status; /* 200, or 400 for a bad review */
    char *body;      /* malloc'd JSON */
    size_t body_len;
    const char *kind;    /* static: "Pod", "SparkApplication", "other", "invalid" */
    const char *verdict; /* static: "allowed", "patched", "denied", "error" */
} kn_admit_result;

void kn_admit_http(const char *body, size_t len, kn_admit_mode mode, const kn_admit_config *cfg,
                   kn_admit_result *out);
void kn_admit_result_free(kn_admit_result *r);

#endif
