/* fuzz.h - shared by the libFuzzer targets (tests/fuzz/fuzz_*.c) and their
 * replay test (tests/unit/test_fuzz_regressions.c).
 *
 * Each target is one function `int kn_fuzz_<name>(const uint8_t *, size_t)`
 * that feeds the bytes to a module's public entry points and checks the
 * invariants a user relies on (round trips, well-formed answers). A broken
 * invariant aborts, so libFuzzer saves the input and the replay test fails on
 * it. Built with libFuzzer, KN_FUZZ_TARGET() also defines LLVMFuzzerTestOneInput;
 * with KN_FUZZ_REPLAY (the unit test) it does not, so the very same code runs
 * under gcc, ASan+UBSan and valgrind. */
#ifndef KN_FUZZ_H
#define KN_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"

#define KN_FUZZ_CHECK(cond)                                                                                       \
    do {                                                                                                          \
        if (!(cond)) {                                                                                            \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);                          \
            abort();                                                                                              \
        }                                                                                                         \
    } while (0)

#ifdef KN_FUZZ_REPLAY
#define KN_FUZZ_TARGET(fn)
#else
#define KN_FUZZ_TARGET(fn)                                                                                        \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);                                                 \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                                                  \
    {                                                                                                             \
        return fn(data, size);                                                                                    \
    }
#endif

/* strcmp that treats NULL as different from everything. */
static inline int kn_fuzz_streq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* The input as a malloc'd C string cut at its first NUL and at max bytes (for
 * entry points that take C strings). Aborts on out of memory. */
static inline char *kn_fuzz_cstr(const uint8_t *data, size_t size, size_t max)
{
    size_t n = 0;
    while (n < size && n < max && data[n] != 0)
        n++;
    char *s = malloc(n + 1);
    KN_FUZZ_CHECK(s != NULL);
    memcpy(s, data, n);
    s[n] = '\0';
    return s;
}

/* The input in a buffer of exactly size bytes (no terminator), so ASan
 * catches a reader that runs past the length it was given. */
static inline char *kn_fuzz_exact(const uint8_t *data, size_t size)
{
    char *s = malloc(size > 0 ? size : 1);
    KN_FUZZ_CHECK(s != NULL);
    if (size > 0)
        memcpy(s, data, size);
    return s;
}

/* Applies an RFC 6902 JSON Patch (add, remove, replace, test, copy, move) to a
 * copy of doc, as kube-apiserver applies a webhook's patch. Returns the new
 * document, or NULL (with a reason in why) when the patch does not apply. */
kn_json *kn_fuzz_json_patch(const kn_json *doc, const kn_json *patch, char *why, size_t cap);

/* The targets. */
int kn_fuzz_admission(const uint8_t *data, size_t size);
int kn_fuzz_json(const uint8_t *data, size_t size);
int kn_fuzz_kubeconfig(const uint8_t *data, size_t size);
int kn_fuzz_patch(const uint8_t *data, size_t size);
int kn_fuzz_quantity(const uint8_t *data, size_t size);
int kn_fuzz_sched(const uint8_t *data, size_t size);
int kn_fuzz_spark(const uint8_t *data, size_t size);
int kn_fuzz_watch(const uint8_t *data, size_t size);
int kn_fuzz_yaml(const uint8_t *data, size_t size);

#endif
