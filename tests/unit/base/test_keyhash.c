/* test_keyhash.c - the keyed hash (base/siphash.h): SipHash-1-3 as OpenSSL
 * computes it, under a key that differs from process to process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/siphash.h"

static uint64_t le64(const unsigned char *b)
{
    uint64_t w = 0;
    for (int i = 7; i >= 0; i--)
        w = w << 8 | b[i];
    return w;
}

/* OpenSSL's SipHash with one compression and three finalization rounds. */
static uint64_t openssl_siphash13(const unsigned char key[16], const unsigned char *msg, size_t n)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
    EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    assert_non_null(ctx);
    size_t size = 8, outl = 0;
    unsigned c = 1, d = 3;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
                           OSSL_PARAM_construct_uint(OSSL_MAC_PARAM_C_ROUNDS, &c),
                           OSSL_PARAM_construct_uint(OSSL_MAC_PARAM_D_ROUNDS, &d), OSSL_PARAM_construct_end()};
    unsigned char out[8];
    assert_int_equal(EVP_MAC_init(ctx, key, 16, params), 1);
    assert_int_equal(EVP_MAC_update(ctx, msg, n), 1);
    assert_int_equal(EVP_MAC_final(ctx, out, &outl, sizeof(out)), 1);
    assert_int_equal(outl, 8);
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return le64(out);
}

static void test_siphash13_matches_openssl(void **state)
{
    (void)state;
    unsigned char key[16], msg[80];
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int round = 0; round < 4; round++) {
        for (size_t i = 0; i < sizeof(key); i++)
            key[i] = (unsigned char)((x = x * 6364136223846793005u + 1442695040888963407u) >> 56);
        for (size_t i = 0; i < sizeof(msg); i++) /* every byte value, NUL included */
            msg[i] = (unsigned char)((x = x * 6364136223846793005u + 1442695040888963407u) >> 56);
        kn_sipkey k = {le64(key), le64(key + 8)};
        for (size_t n = 0; n <= sizeof(msg); n++) /* every tail length, several blocks */
            assert_int_equal(kn_siphash13(&k, msg, n), openssl_siphash13(key, msg, n));
    }
}

/* ---- the process's key ---- */

static char self_exe[4096];

static void *hash_in_thread(void *out)
{
    *(uint64_t *)out = kn_keyhash("kubenexus", 9);
    return NULL;
}

/* The child's side (main runs it for --print-keyhash): threads that race to
 * draw the key must all get it. */
static int print_keyhash(void)
{
    pthread_t t[4];
    uint64_t h[4];
    for (int i = 0; i < 4; i++)
        if (pthread_create(&t[i], NULL, hash_in_thread, &h[i]) != 0)
            return 1;
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (int i = 1; i < 4; i++)
        if (h[i] != h[0])
            return 1;
    printf("%016" PRIx64 "\n", h[0]);
    return 0;
}

static uint64_t keyhash_of_new_process(void)
{
    char cmd[sizeof(self_exe) + 32];
    snprintf(cmd, sizeof(cmd), "'%s' --print-keyhash", self_exe);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[64] = "";
    char *got = fgets(line, sizeof(line), p);
    assert_int_equal(pclose(p), 0);
    assert_non_null(got);
    assert_int_equal(strlen(line), 17);
    return strtoull(line, NULL, 16);
}

static void test_key_differs_between_processes(void **state)
{
    (void)state;
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
    assert_true(n > 0);
    self_exe[n] = '\0';
    assert_null(strchr(self_exe, '\'')); /* quoted for popen's shell */
    uint64_t a = keyhash_of_new_process(), b = keyhash_of_new_process();
    assert_true(a != b);
    uint64_t here = kn_keyhash("kubenexus", 9);
    assert_true(here != a && here != b);
    assert_true(here == kn_keyhash("kubenexus", 9));
    const kn_sipkey zero = {0, 0}; /* a key left unset */
    assert_true(here != kn_siphash13(&zero, "kubenexus", 9));
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--print-keyhash") == 0)
        return print_keyhash();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_siphash13_matches_openssl),
        cmocka_unit_test(test_key_differs_between_processes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
