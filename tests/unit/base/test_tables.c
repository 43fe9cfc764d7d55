/* test_tables.c - the integer map (base/imap.h) and the pointer set found by
 * hash (base/phash.h): against a plain array as reference through many
 * random inserts, adds and deletes (deletion shifts runs back: every key
 * stays found), counts that reach zero leave, iteration sees each entry once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/imap.h"
#include "base/phash.h"

#define KEYS 4096

static uint32_t rnd(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

static void test_imap_matches_a_plain_array(void **state)
{
    (void)state;
    static int32_t ref[KEYS];
    static bool in[KEYS];
    memset(ref, 0, sizeof(ref));
    memset(in, 0, sizeof(in));
    kn_imap m;
    kn_imap_init(&m);
    uint64_t seed = 7;
    for (int step = 0; step < 200000; step++) {
        /* half the keys are multiples of 64: long probe runs to shift back */
        uint32_t k = (step & 1) ? rnd(&seed) % (KEYS / 64) * 64 : rnd(&seed) % KEYS;
        switch (rnd(&seed) % 3) {
        case 0:
            assert_int_equal(kn_imap_put(&m, k, (int32_t)step), 0);
            ref[k] = step;
            in[k] = true;
            break;
        case 1: {
            int32_t now;
            assert_int_equal(kn_imap_add(&m, k, 1, &now), 0);
            ref[k] = (in[k] ? ref[k] : 0) + 1;
            in[k] = ref[k] != 0;
            assert_int_equal(now, ref[k]);
            break;
        }
        default: kn_imap_del(&m, k); in[k] = false;
        }
    }
    uint32_t n = 0;
    for (uint32_t k = 0; k < KEYS; k++) {
        assert_int_equal(kn_imap_get(&m, k, -7), in[k] ? ref[k] : -7);
        n += in[k];
    }
    assert_int_equal(m.used, n);
    uint32_t pos = 0, seen = 0;
    const kn_imap_slot *s;
    while ((s = kn_imap_next(&m, &pos)) != NULL) {
        assert_true(s->key < KEYS && in[s->key]);
        seen++;
    }
    assert_int_equal(seen, n);
    kn_imap_free(&m);
}

static void test_imap_count_reaching_zero_leaves(void **state)
{
    (void)state;
    kn_imap m;
    kn_imap_init(&m);
    assert_int_equal(kn_imap_add(&m, 5, 2, NULL), 0);
    assert_int_equal(kn_imap_add(&m, 5, -2, NULL), 0);
    assert_int_equal(m.used, 0);
    assert_int_equal(kn_imap_get(&m, 5, -1), -1);
    assert_int_equal(kn_imap_put(&m, KN_IMAP_EMPTY, 1), -1); /* the reserved key */
    kn_imap_free(&m);
}

typedef struct item {
    uint64_t h;
    int id;
} item;

static uint64_t item_hash(const void *p)
{
    return ((const item *)p)->h;
}

static bool item_is(const void *p, const void *key)
{
    return ((const item *)p)->id == *(const int *)key;
}

static void test_phash_finds_what_is_in_it(void **state)
{
    (void)state;
    static item items[KEYS];
    static bool in[KEYS];
    memset(in, 0, sizeof(in));
    kn_phash t;
    kn_phash_init(&t, item_hash);
    uint64_t seed = 11;
    for (int i = 0; i < KEYS; i++)
        items[i] = (item){(uint64_t)(rnd(&seed) % 512) << 3, i}; /* many share a hash and a slot */
    for (int step = 0; step < 100000; step++) {
        int i = (int)(rnd(&seed) % KEYS);
        if (in[i]) {
            kn_phash_del(&t, &items[i]);
            in[i] = false;
        } else {
            assert_int_equal(kn_phash_add(&t, &items[i]), 0);
            in[i] = true;
        }
    }
    size_t n = 0;
    for (int i = 0; i < KEYS; i++) {
        item *got = kn_phash_find(&t, items[i].h, item_is, &i);
        assert_ptr_equal(got, in[i] ? &items[i] : NULL);
        n += in[i];
    }
    assert_int_equal(t.used, n);
    kn_phash_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_imap_matches_a_plain_array),
        cmocka_unit_test(test_imap_count_reaching_zero_leaves),
        cmocka_unit_test(test_phash_finds_what_is_in_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
