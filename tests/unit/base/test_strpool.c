/* test_strpool.c - the string pool (base/strpool.h): copies stay whole and in
 * place until it is reset, across many blocks and past a block's size; a reset
 * pool is used again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/strpool.h"

#define N 20000

static void test_copies_stay_until_reset(void **state)
{
    (void)state;
    kn_strpool p;
    kn_strpool_init(&p);
    static char *got[N];
    char want[64];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) { /* a few hundred KB: many blocks */
            snprintf(want, sizeof(want), "pod-%d-round-%d", i, round);
            got[i] = kn_strpool_dup(&p, want);
            assert_non_null(got[i]);
        }
        for (int i = 0; i < N; i++) {
            snprintf(want, sizeof(want), "pod-%d-round-%d", i, round);
            assert_string_equal(got[i], want);
        }
        kn_strpool_reset(&p);
    }
    kn_strpool_free(&p);
}

static void test_long_string_and_dupn(void **state)
{
    (void)state;
    kn_strpool p;
    kn_strpool_init(&p);
    size_t n = 200 * 1024; /* longer than a block */
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'x', n);
    big[n] = '\0';
    const char *a = kn_strpool_dup(&p, "before");
    const char *b = kn_strpool_dup(&p, big);
    const char *c = kn_strpool_dupn(&p, "after-and-more", 5);
    assert_string_equal(a, "before");
    assert_string_equal(b, big);
    assert_string_equal(c, "after");
    assert_string_equal(kn_strpool_dupn(&p, "", 0), "");
    kn_strpool_reset(&p);
    assert_string_equal(kn_strpool_dup(&p, "again"), "again");
    free(big);
    kn_strpool_free(&p);
    kn_strpool_free(&p); /* freed twice: nothing left to free */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copies_stay_until_reset),
        cmocka_unit_test(test_long_string_and_dupn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
