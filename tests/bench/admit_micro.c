/* admit_micro.c - kn_admit_http() on each AdmissionReview body, N times.
 *
 * Not a test (nothing is asserted): it prints the wall time per review, and
 * under `valgrind --tool=callgrind` its instruction counts per review are the
 * repeatable measure on a shared machine.
 *
 *   bench_admit [iterations] [body.json ...]   (default: 20000 and
 *                                               tests/bench/bodies/\*.json) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admission/admission.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0, r;
    do {
        if (n == cap) {
            char *nb = realloc(buf, cap = cap ? cap * 2 : 8192);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        r = fread(buf + n, 1, cap - n, f);
        n += r;
    } while (r > 0);
    fclose(f);
    *len = n;
    return buf;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int bench(const char *path, long iters)
{
    size_t len = 0;
    char *body = slurp(path, &len);
    if (body == NULL) {
        fprintf(stderr, "bench_admit: cannot read %s\n", path);
        return -1;
    }
    kn_admit_config cfg = {.scheduler_name = "kubenexus-scheduler", .fill_gang_labels = true};
    kn_admit_result r;
    kn_admit_http(body, len, KN_ADMIT_MUTATE, &cfg, &r); /* warm-up, and the verdict to print */
    const char *verdict = r.verdict;
    int status = r.http_status;
    kn_admit_result_free(&r);
    double t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        kn_admit_http(body, len, KN_ADMIT_MUTATE, &cfg, &r);
        kn_admit_result_free(&r);
    }
    double ns = (now_ns() - t0) / (double)iters;
    const char *base = strrchr(path, '/');
    printf("%-28s %6zu B  %3d %-8s %9.0f ns/review\n", base ? base + 1 : path, len, status, verdict, ns);
    free(body);
    return 0;
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
    if (iters <= 0)
        iters = 1;
    static const char *defaults[] = {KN_BENCH_BODIES "/driver-pod.json", KN_BENCH_BODIES "/executor-pod.json",
                                     KN_BENCH_BODIES "/sparkapplication.json"};
    int rc = 0;
    if (argc > 2) {
        for (int i = 2; i < argc; i++)
            rc |= bench(argv[i], iters);
    } else {
        for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
            rc |= bench(defaults[i], iters);
    }
    return rc != 0;
}
