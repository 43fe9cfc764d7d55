/* test_base64.c - RFC 4648's test vectors, and bytes of every value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/base64.h"

static void check(const char *in, const char *want)
{
    char out[64];
    size_t n = strlen(in);
    assert_int_equal(kn_base64_len(n), strlen(want));
    memset(out, '#', sizeof(out));
    kn_base64_encode((const unsigned char *)in, n, out);
    assert_memory_equal(out, want, strlen(want));
    assert_int_equal(out[strlen(want)], '#'); /* nothing written past it */
}

static void test_rfc4648_vectors(void **state)
{
    (void)state;
    check("", "");
    check("f", "Zg==");
    check("fo", "Zm8=");
    check("foo", "Zm9v");
    check("foob", "Zm9vYg==");
    check("fooba", "Zm9vYmE=");
    check("foobar", "Zm9vYmFy");
}

static void test_high_bytes(void **state)
{
    (void)state;
    const unsigned char in[] = {0xff, 0xfe, 0x00, 0xfb, 0xef, 0x3e};
    char out[8];
    kn_base64_encode(in, sizeof(in), out);
    assert_memory_equal(out, "//4A++8+", 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_high_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
