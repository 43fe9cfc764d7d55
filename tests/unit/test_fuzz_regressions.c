/* test_fuzz_regressions.c - replays every seed (tests/fuzz/corpus/<target>/)
 * and every saved crash input (tests/fuzz/regressions/<target>/) through the
 * fuzz targets' own entry points, without libFuzzer. A target aborts when an
 * invariant breaks, so a regression fails this test (and shows the file). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuzz.h"

#define KN_REPLAY_MAX_INPUT (1 << 20)
#define MAX_FILES 4096

typedef struct target {
    const char *name;
    int (*fn)(const uint8_t *, size_t);
} target;

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every file of KN_FUZZ_DIR/<kind>/<name>/ through the target, in name
 * order; returns how many ran. */
static int replay_dir(const char *kind, const target *t)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/%s/%s", KN_FUZZ_DIR, kind, t->name);
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    static char *names[MAX_FILES];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < MAX_FILES)
        if (e->d_name[0] != '.')
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof(names[0]), cmp_names);
    static uint8_t buf[KN_REPLAY_MAX_INPUT];
    int ran = 0;
    for (int i = 0; i < n; i++) {
        char path[2048];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        if (f != NULL) {
            size_t len = fread(buf, 1, sizeof(buf), f);
            fclose(f);
            fprintf(stderr, "replay %s/%s/%s (%zu bytes)\n", kind, t->name, names[i], len);
            t->fn(buf, len);
            ran++;
        }
        free(names[i]);
    }
    return ran;
}

static void replay(void **state)
{
    const target *t = *state;
    int seeds = replay_dir("corpus", t);
    int crashes = replay_dir("regressions", t);
    printf("%s: %d seeds, %d regression inputs replayed\n", t->name, seeds, crashes);
    assert_true(seeds > 0); /* every target ships a seed corpus */
}

/* Edge inputs every target must survive, whatever the corpus holds. */
static void edges(void **state)
{
    const target *t = *state;
    static const char *inputs[] = {"",
                                   "{",
                                   "}",
                                   "[]",
                                   "{}",
                                   "\"",
                                   "0",
                                   "-",
                                   "1e999999",
                                   "\xff\xfe",
                                   "{\"apiVersion\":null}",
                                   "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]"};
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
        t->fn((const uint8_t *)inputs[i], strlen(inputs[i]));
    static const uint8_t nul[] = {'1', 0, '2', 0, 0, 0, 0, 0x80};
    t->fn(nul, sizeof(nul));
}

#define TARGET(n)                                                                                                 \
    {                                                                                                             \
#n, kn_fuzz_##n                                                                                           \
    }
static const target targets[] = {
    TARGET(admission), TARGET(json),  TARGET(kubeconfig), TARGET(patch), TARGET(quantity),
    TARGET(sched),     TARGET(spark), TARGET(watch),      TARGET(yaml),
};
#define N_TARGETS (sizeof(targets) / sizeof(targets[0]))

int main(void)
{
    struct CMUnitTest tests[2 * N_TARGETS];
    static char names[2 * N_TARGETS][64];
    size_t n = 0;
    for (size_t i = 0; i < N_TARGETS; i++) {
        snprintf(names[n], sizeof(names[n]), "%s_replay", targets[i].name);
        tests[n] = (struct CMUnitTest){names[n], replay, NULL, NULL, (void *)&targets[i]};
        n++;
        snprintf(names[n], sizeof(names[n]), "%s_edges", targets[i].name);
        tests[n] = (struct CMUnitTest){names[n], edges, NULL, NULL, (void *)&targets[i]};
        n++;
    }
    return _cmocka_run_group_tests("fuzz_regressions", tests, n, NULL, NULL);
}
