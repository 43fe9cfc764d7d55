/* json_keys.c - a Pod AdmissionReview with many label keys crafted to collide
 * under the JSON index's old unkeyed hash (crafted in
 * tests/unit/support/crafted_keys.h), against one with as many random keys of
 * the same length: parse time and kn_admit_http() time of each, and their
 * ratio.
 *
 * Not a test (nothing is asserted): the wall times are read by a person.
 * Before the index was keyed the crafted review cost hundreds of times the
 * random one; with the keyed hash both cost about the same. On a shared
 * machine, instruction counts of one kind at a time are steadier:
 * valgrind --tool=callgrind --toggle-collect=kn_json_parse bench_json_keys 100000 1 crafted
 *
 *   bench_json_keys [keys] [runs] [random|crafted]   (default: 100000 keys,
 *                                                    best of 3 runs, both) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admission/admission.h"
#include "json/json.h"
#include "support/crafted_keys.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The review of a Pod whose metadata.labels are the n keys, each "v". */
static char *review(char (*keys)[CK_LEN + 1], size_t n, size_t *len)
{
    static const char head[] =
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
        "\"uid\":\"0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0\",\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":"
        "\"Pod\"},"
        "\"resource\":{\"group\":\"\",\"version\":\"v1\",\"resource\":\"pods\"},\"namespace\":\"default\","
        "\"operation\":\"CREATE\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{"
        "\"name\":\"labels\",\"namespace\":\"default\",\"labels\":{";
    static const char tail[] = "}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}";
    size_t cap = sizeof(head) + n * (CK_LEN + 8) + sizeof(tail), at = 0;
    char *s = malloc(cap);
    if (s == NULL)
        return NULL;
    at += (size_t)snprintf(s + at, cap - at, "%s", head);
    for (size_t i = 0; i < n; i++)
        at += (size_t)snprintf(s + at, cap - at, "%s\"%s\":\"v\"", i ? "," : "", keys[i]);
    at += (size_t)snprintf(s + at, cap - at, "%s", tail);
    *len = at;
    return s;
}

typedef struct timing {
    double parse, admit; /* seconds, best of the runs */
    int status;
    const char *verdict;
} timing;

static timing measure(const char *body, size_t len, int runs)
{
    timing t = {1e9, 1e9, 0, NULL};
    kn_admit_config cfg = {.scheduler_name = "kubenexus-scheduler", .fill_gang_labels = true};
    for (int r = 0; r < runs; r++) {
        kn_err err = {{0}};
        double t0 = now_s();
        kn_json *v = kn_json_parse(body, len, NULL, &err);
        double t1 = now_s();
        kn_json_free(v);
        kn_admit_result res;
        double t2 = now_s();
        kn_admit_http(body, len, KN_ADMIT_MUTATE, &cfg, &res);
        double t3 = now_s();
        t.status = res.http_status;
        t.verdict = res.verdict;
        kn_admit_result_free(&res);
        if (v == NULL)
            t.status = -1;
        t.parse = t1 - t0 < t.parse ? t1 - t0 : t.parse;
        t.admit = t3 - t2 < t.admit ? t3 - t2 : t.admit;
    }
    return t;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    int runs = argc > 2 ? atoi(argv[2]) : 3;
    const char *only = argc > 3 ? argv[3] : NULL;
    if (n <= 0 || runs <= 0)
        return 2;
    char(*keys)[CK_LEN + 1] = malloc((size_t)n * sizeof(*keys));
    if (keys == NULL)
        return 1;
    const char *names[2] = {"random", "crafted"};
    timing t[2];
    for (int kind = 0; kind < 2; kind++) {
        if (only != NULL && strcmp(only, names[kind]) != 0)
            continue;
        if (kind == 0) {
            ck_random(keys, (size_t)n, 42);
        } else if (ck_old_colliding(keys, (size_t)n) != 0) {
            fprintf(stderr, "bench_json_keys: cannot craft %ld keys\n", n);
            return 1;
        }
        size_t len = 0;
        char *body = review(keys, (size_t)n, &len);
        if (body == NULL)
            return 1;
        t[kind] = measure(body, len, runs);
        printf("%-8s %ld keys %8zu B  %3d %-8s parse %9.4f s  admit %9.4f s\n", names[kind], n, len,
               t[kind].status, t[kind].verdict ? t[kind].verdict : "-", t[kind].parse, t[kind].admit);
        free(body);
    }
    if (only == NULL)
        printf("crafted / random: parse %.2f  admit %.2f\n", t[1].parse / t[0].parse, t[1].admit / t[0].admit);
    free(keys);
    return 0;
}
