/* test_keyhash.c - the keyed hash (base/siphash.h): SipHash-1-3 as OpenSSL
 * computes it, under a key that differs from process to process; and the
 * string map that uses it: names a sender crafts to share a slot under the
 * FNV-1a it used before are all found, and do not pile up in one run of
 * slots. (The JSON object index's are in json/test_json.c.) */
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
#include "base/strmap.h"
#include "support/crafted_keys.h"

/* Names in the map: enough that one pile-up would walk thousands of slots. */
#define N_KEYS 20000

/* Upper bounds on the slots walked to find a name, with a hash the names
 * cannot steer: a map is at most three quarters full (here 0.61 at N_KEYS).
 * Over 300 processes the mean was at most 1.84 slots and the longest walk
 * 87; the longest falls off exponentially past that, and these bounds are
 * passed with a chance below 1e-15. A pile-up walks thousands. */
#define MEAN_WALK_MAX 3
#define STRMAP_LONGEST_MAX 400

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

/* ---- the string map ---- */

static void test_strmap_crafted_keys(void **state)
{
    (void)state;
    char(*keys)[CK_FNV_LEN + 1] = malloc(N_KEYS * sizeof(*keys));
    assert_non_null(keys);
    assert_int_equal(ck_fnv_colliding(keys, N_KEYS), 0);
    uint32_t home = ck_fnv1a32(keys[0], CK_FNV_LEN, 2166136261u) & 0xffff;
    for (size_t i = 0; i < N_KEYS; i++) /* one slot under the old hash, in a map of up to 65536 */
        assert_int_equal(ck_fnv1a32(keys[i], CK_FNV_LEN, 2166136261u) & 0xffff, home);
    kn_strmap m;
    kn_strmap_init(&m);
    for (int i = 0; i < N_KEYS; i++)
        assert_int_equal(kn_strmap_put(&m, keys[i], i), 0);
    size_t walked = 0, longest = 0, mask = m.cap - 1;
    for (size_t s = 0; s < m.cap; s++) {
        if (m.slots[s].key == NULL)
            continue; /* (nothing was deleted: no tombstones) */
        size_t w = ((s - (m.slots[s].hash & mask)) & mask) + 1;
        walked += w;
        longest = w > longest ? w : longest;
    }
    assert_true(walked >= N_KEYS && walked <= MEAN_WALK_MAX * N_KEYS);
    assert_true(longest <= STRMAP_LONGEST_MAX);
    for (int i = 0; i < N_KEYS; i += 2)
        kn_strmap_del(&m, keys[i]);
    for (int i = 0; i < N_KEYS; i++)
        assert_int_equal(kn_strmap_get(&m, keys[i]), i % 2 ? i : -1);
    kn_strmap_free(&m);
    free(keys);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--print-keyhash") == 0)
        return print_keyhash();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_siphash13_matches_openssl),
        cmocka_unit_test(test_key_differs_between_processes),
        cmocka_unit_test(test_strmap_crafted_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
