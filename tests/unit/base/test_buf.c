/* test_buf.c - the shared growable buffer (base/buf.h) and array growth
 * (base/grow.h): appends across growth, printf, the limit, failure that
 * sticks, libcurl's write callback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/grow.h"

static void test_appends_across_growth(void **state)
{
    (void)state;
    kn_buf b = KN_BUF_INIT;
    for (int i = 0; i < 1000; i++)
        kn_buf_printf(&b, "%d,", i); /* crosses 1 KiB and several doublings */
    kn_buf_puts(&b, "end");
    kn_buf_putc(&b, '!');
    size_t len = 0;
    char *s = kn_buf_finish(&b, &len);
    assert_non_null(s);
    assert_int_equal(len, strlen(s));
    assert_memory_equal(s, "0,1,2,", 6);
    assert_non_null(strstr(s, ",998,999,end!"));
    assert_null(b.p); /* emptied */
    free(s);
}

static void test_empty_finishes_as_empty_string(void **state)
{
    (void)state;
    kn_buf b = KN_BUF_INIT;
    size_t len = 7;
    char *s = kn_buf_finish(&b, &len);
    assert_non_null(s);
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    free(s);
}

static void test_limit_fails_and_sticks(void **state)
{
    (void)state;
    kn_buf b = KN_BUF_MAX(10);
    kn_buf_puts(&b, "0123456789"); /* exactly max: fine */
    assert_false(b.failed);
    kn_buf_putc(&b, 'x');
    assert_true(b.failed);
    kn_buf_puts(&b, ""); /* nothing more is taken */
    assert_null(kn_buf_extend(&b, 1));
    size_t len = 99;
    assert_null(kn_buf_finish(&b, &len));
    assert_int_equal(len, 0);
    assert_int_equal(b.max, 10); /* kept for reuse */

    kn_buf c = KN_BUF_MAX(10);
    kn_buf_printf(&c, "%s", "01234567890"); /* a printf past max fails too */
    assert_null(kn_buf_finish(&c, NULL));
}

static void test_extend_fills_in_place(void **state)
{
    (void)state;
    kn_buf b = KN_BUF_INIT;
    kn_buf_puts(&b, "ab");
    char *at = kn_buf_extend(&b, 3);
    assert_non_null(at);
    memcpy(at, "cde", 3);
    char *s = kn_buf_finish(&b, NULL);
    assert_string_equal(s, "abcde");
    free(s);
}

static void test_sink_as_curl_calls_it(void **state)
{
    (void)state;
    kn_buf b = KN_BUF_MAX(8);
    char chunk[] = "abcd";
    assert_int_equal(kn_buf_sink(chunk, 1, 4, &b), 4);
    assert_string_equal(b.p, "abcd"); /* NUL-terminated between chunks */
    assert_int_equal(kn_buf_sink(chunk, 2, 2, &b), 4);
    assert_int_equal(b.len, 8);
    assert_int_equal(kn_buf_sink(chunk, 1, 1, &b), 0);        /* past max: curl aborts */
    assert_int_equal(kn_buf_sink(chunk, SIZE_MAX, 2, &b), 0); /* size * n overflows */
    kn_buf_free(&b);
}

static void test_grow_doubles_and_refuses_overflow(void **state)
{
    (void)state;
    int *a = NULL;
    size_t cap = 0;
    assert_int_equal(kn_grow((void **)&a, &cap, 1, sizeof(*a)), 0);
    assert_int_equal(cap, 8);
    assert_int_equal(kn_grow((void **)&a, &cap, 9, sizeof(*a)), 0);
    assert_int_equal(cap, 16);
    for (int i = 0; i < 16; i++)
        a[i] = i;
    assert_int_equal(kn_grow((void **)&a, &cap, 100, sizeof(*a)), 0);
    assert_int_equal(cap, 128);
    assert_int_equal(a[15], 15); /* kept */
    int *before = a;
    assert_int_equal(kn_grow((void **)&a, &cap, SIZE_MAX / 2, sizeof(*a)), -1);
    assert_ptr_equal(a, before); /* untouched */
    assert_int_equal(cap, 128);
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appends_across_growth),  cmocka_unit_test(test_empty_finishes_as_empty_string),
        cmocka_unit_test(test_limit_fails_and_sticks), cmocka_unit_test(test_extend_fills_in_place),
        cmocka_unit_test(test_sink_as_curl_calls_it),  cmocka_unit_test(test_grow_doubles_and_refuses_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
