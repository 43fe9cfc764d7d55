/* test_json.c - the JSON tree: parsing as the API server sends it, exact
 * round trips, limits, lookups, building and JSON Pointer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "json/json_internal.h"
#include "support/crafted_keys.h"

static kn_json *parse_ok(const char *s)
{
    kn_err err = {{0}};
    kn_json *v = kn_json_parse(s, strlen(s), NULL, &err);
    if (v == NULL)
        fail_msg("parse failed: %s", err.msg);
    return v;
}

/* Parses s, expecting failure; returns the error message in err. */
static void parse_fails(const char *s, size_t len, const kn_json_limits *lim, kn_err *err)
{
    kn_json *v = kn_json_parse(s, len, lim, err);
    if (v != NULL)
        kn_json_free(v);
    assert_null(v);
    assert_true(strncmp(err->msg, "offset ", 7) == 0);
}

static void assert_dump(const kn_json *v, const char *want)
{
    size_t n = 0;
    char *s = kn_json_dump(v, &n);
    assert_non_null(s);
    assert_string_equal(s, want);
    assert_int_equal(n, strlen(want));
    free(s);
}

static void roundtrip(const char *in)
{
    kn_json *v = parse_ok(in);
    assert_dump(v, in);
    kn_json_free(v);
}

static void test_roundtrip_pod(void **state)
{
    (void)state;
    roundtrip("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"spark-pi-driver\","
              "\"namespace\":\"spark\",\"labels\":{\"spark-role\":\"driver\","
              "\"pod-group.scheduling.kubenexus.io/name\":\"spark-pi\"}},\"spec\":{\"containers\":"
              "[{\"name\":\"spark-kubernetes-driver\",\"resources\":{\"requests\":{\"cpu\":\"1\","
              "\"memory\":\"1408Mi\"}}}],\"priority\":0,\"enableServiceLinks\":true,\"x\":null,"
              "\"f\":-1.5e-3,\"e\":[],\"o\":{}}}");
    roundtrip("[]");
    roundtrip("\"just a string\"");
    roundtrip("-0");
}

static void test_big_integers_exact(void **state)
{
    (void)state;
    kn_json *v = parse_ok("{\"a\":9007199254740993,\"b\":123456789012345678901234567890,"
                          "\"c\":-9223372036854775808,\"d\":9223372036854775808,\"e\":2.50}");
    assert_dump(v, "{\"a\":9007199254740993,\"b\":123456789012345678901234567890,"
                   "\"c\":-9223372036854775808,\"d\":9223372036854775808,\"e\":2.50}");
    int64_t i;
    assert_int_equal(kn_json_int(kn_json_get(v, "a"), &i), 0);
    assert_true(i == 9007199254740993LL);
    assert_int_equal(kn_json_int(kn_json_get(v, "c"), &i), 0);
    assert_true(i == INT64_MIN);
    assert_int_equal(kn_json_int(kn_json_get(v, "b"), &i), -1); /* overflow */
    assert_int_equal(kn_json_int(kn_json_get(v, "d"), &i), -1);
    assert_int_equal(kn_json_int(kn_json_get(v, "e"), &i), -1); /* not an integer */
    assert_string_equal(kn_json_number_text(kn_json_get(v, "e")), "2.50");
    double d;
    assert_int_equal(kn_json_double(kn_json_get(v, "e"), &d), 0);
    assert_true(d == 2.5);
    assert_int_equal(kn_json_int(kn_json_get(v, "nope"), &i), -1);
    kn_json_free(v);
}

static void test_unicode_escapes(void **state)
{
    (void)state;
    kn_json *v = parse_ok("[\"caf\\u00e9\",\"\\ud83d\\ude80\",\"a\\u0000b\",\"tab\\there\\/\"]");
    assert_string_equal(kn_json_str(kn_json_at(v, 0)), "caf\xc3\xa9");
    assert_string_equal(kn_json_str(kn_json_at(v, 1)), "\xf0\x9f\x9a\x80");
    assert_int_equal(kn_json_strlen(kn_json_at(v, 2)), 3);
    assert_memory_equal(kn_json_str(kn_json_at(v, 2)), "a\0b", 3);
    assert_string_equal(kn_json_str(kn_json_at(v, 3)), "tab\there/");
    /* NUL and control characters are escaped again, '/' is not, UTF-8 is raw. */
    assert_dump(v, "[\"caf\xc3\xa9\",\"\xf0\x9f\x9a\x80\",\"a\\u0000b\",\"tab\\there/\"]");
    kn_json_free(v);

    /* Built strings that are not UTF-8 (a message cut mid-character) still
     * give valid JSON: each bad byte becomes U+FFFD, as Go's encoder does. */
    kn_json *bad = kn_json_new_array();
    kn_json_append(bad, kn_json_new_string("caf\xc3"));                   /* truncated */
    kn_json_append(bad, kn_json_new_string("\xed\xa0\x80!"));             /* surrogate */
    kn_json_append(bad, kn_json_new_string("\xc0\xaf/\xf4\x90\x80\x80")); /* overlong, > U+10FFFF */
    kn_json_append(bad, kn_json_new_string("ok \xf0\x9f\x9a\x80 \xe2\x82\xac"));
    assert_dump(bad, "[\"caf\xef\xbf\xbd\",\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd!\","
                     "\"\xef\xbf\xbd\xef\xbf\xbd/\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\","
                     "\"ok \xf0\x9f\x9a\x80 \xe2\x82\xac\"]");
    char *text = kn_json_dump(bad, NULL);
    kn_json *back = parse_ok(text); /* yajl validates UTF-8 on the way in */
    kn_json_free(back);
    free(text);
    kn_json_free(bad);

    kn_json *s = kn_json_new_stringn("\x01\x1f\"\\\n\r\b\f", 8);
    assert_dump(s, "\"\\u0001\\u001F\\\"\\\\\\n\\r\\b\\f\"");
    kn_json_free(s);
}

static void test_invalid_utf8_rejected(void **state)
{
    (void)state;
    kn_err err = {{0}};
    parse_fails("[\"ab\xff\"]", 7, NULL, &err);
    parse_fails("[\"\xc3\"]", 5, NULL, &err);      /* truncated sequence */
    parse_fails("{\"k\xe9y\":1}", 10, NULL, &err); /* Latin-1 key */
}

static char *nested(int depth)
{
    char *s = malloc((size_t)depth * 2 + 1);
    memset(s, '[', (size_t)depth);
    memset(s + depth, ']', (size_t)depth);
    s[depth * 2] = '\0';
    return s;
}

static void test_depth_limit(void **state)
{
    (void)state;
    char *ok = nested(64), *deep = nested(65);
    kn_err err = {{0}};
    kn_json *v = kn_json_parse(ok, strlen(ok), NULL, &err);
    assert_non_null(v);
    kn_json_free(v);
    parse_fails(deep, strlen(deep), NULL, &err);
    assert_string_equal(err.msg, "offset 65: nesting too deep");
    kn_json_limits lim = {.max_depth = 3};
    parse_fails("{\"a\":{\"b\":{\"c\":{}}}}", 20, &lim, &err);
    assert_string_equal(err.msg, "offset 16: nesting too deep");
    v = kn_json_parse("{\"a\":{\"b\":[1]}}", 15, &lim, &err);
    assert_non_null(v);
    kn_json_free(v);
    free(ok);
    free(deep);
}

static void test_size_limit(void **state)
{
    (void)state;
    kn_json_limits lim = {.max_bytes = 10};
    kn_err err = {{0}};
    kn_json *v = kn_json_parse("[1,2,3,4]", 9, &lim, &err);
    assert_non_null(v);
    kn_json_free(v);
    parse_fails("[1,2,3,4,5]", 11, &lim, &err);
    assert_non_null(strstr(err.msg, "more than the limit of 10 bytes"));
}

static void test_truncated_and_garbage(void **state)
{
    (void)state;
    kn_err err = {{0}};
    parse_fails("{\"a\":[1,2", 9, NULL, &err);
    assert_string_equal(err.msg, "offset 9: parse error: premature EOF");
    parse_fails("", 0, NULL, &err);
    assert_string_equal(err.msg, "offset 0: parse error: premature EOF");
    parse_fails("   ", 3, NULL, &err);
    parse_fails("{} x", 4, NULL, &err);
    assert_non_null(strstr(err.msg, "trailing garbage"));
    parse_fails("{}{}", 4, NULL, &err);
    parse_fails("{\"a\":1,}", 8, NULL, &err);
    parse_fails("/* c */ {}", 10, NULL, &err); /* comments are not JSON */
    parse_fails("{\"a\":tru}", 9, NULL, &err);
    parse_fails("[01]", 4, NULL, &err);
    /* Trailing whitespace is fine. */
    kn_json *v = parse_ok("{}\n");
    kn_json_free(v);
}

static void test_duplicate_keys_last_wins(void **state)
{
    (void)state;
    kn_json *k = parse_ok("{\"a\\u0000b\":1,\"a\":2}"); /* a key holding NUL is its own key */
    assert_int_equal(kn_json_len(k), 2);
    assert_dump(k, "{\"a\\u0000b\":1,\"a\":2}");
    kn_json_free(k);
    kn_json *v = parse_ok("{\"a\":1,\"b\":2,\"a\":{\"x\":3}}");
    assert_int_equal(kn_json_len(v), 2);
    assert_dump(v, "{\"a\":{\"x\":3},\"b\":2}");
    kn_json_free(v);
}

/* A parsed document is edited as the rules edit AdmissionReview objects:
 * members replaced, added past the parsed size, removed, arrays grown, a
 * built subtree attached and a parsed one replaced (valgrind/ASan check the
 * frees). */
static void test_edit_parsed_document(void **state)
{
    (void)state;
    kn_json *v = parse_ok("{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\",\"d\":\"4\","
                          "\"e\":\"5\",\"f\":\"6\",\"g\":\"7\",\"h\":\"8\",\"i\":\"9\"}},"
                          "\"spec\":{\"containers\":[{\"name\":\"c\"}],\"tolerations\":[]},\"x\":\"old\"}");
    kn_json *labels = kn_json_dig(v, "metadata", "labels", NULL);
    assert_int_equal(kn_json_set_str(labels, "b", "two"), 0);
    for (int i = 0; i < 20; i++) {
        char k[16];
        snprintf(k, sizeof(k), "new-%d", i);
        assert_int_equal(kn_json_set_str(labels, k, k), 0);
    }
    assert_int_equal(kn_json_remove(labels, "a"), 0);
    assert_string_equal(kn_json_get_str(labels, "b"), "two");
    assert_string_equal(kn_json_get_str(labels, "i"), "9");
    assert_string_equal(kn_json_get_str(labels, "new-19"), "new-19");
    assert_int_equal(kn_json_len(labels), 8 + 20);
    kn_json *spec = kn_json_get(v, "spec");
    kn_json *containers = kn_json_get(spec, "containers");
    for (int i = 0; i < 5; i++)
        assert_int_equal(kn_json_append(containers, kn_json_clone(kn_json_at(containers, 0))), 0);
    assert_int_equal(kn_json_len(containers), 6);
    assert_int_equal(kn_json_append(kn_json_get(spec, "tolerations"), kn_json_new_object()), 0);
    kn_json *sel = kn_json_new_object();
    kn_json_set_str(sel, "zone", "a");
    assert_int_equal(kn_json_set(spec, "nodeSelector", sel), 0);
    assert_int_equal(kn_json_set(v, "metadata", kn_json_new_object()), 0); /* a parsed subtree replaced */
    assert_int_equal(kn_json_set_str(v, "x", "new"), 0);
    assert_dump(v, "{\"metadata\":{},\"spec\":{\"containers\":[{\"name\":\"c\"},{\"name\":\"c\"},"
                   "{\"name\":\"c\"},{\"name\":\"c\"},{\"name\":\"c\"},{\"name\":\"c\"}],"
                   "\"tolerations\":[{}],\"nodeSelector\":{\"zone\":\"a\"}},\"x\":\"new\"}");
    kn_json *copy = kn_json_clone(v);
    kn_json_free(v);
    assert_string_equal(kn_json_get_str(copy, "x"), "new"); /* a clone owns its own memory */
    kn_json_free(copy);
}

static void test_thousand_keys(void **state)
{
    (void)state;
    size_t cap = 32 * 1000 + 16, n = 0;
    char *buf = malloc(cap);
    n += (size_t)sprintf(buf + n, "{");
    for (int i = 0; i < 1000; i++)
        n += (size_t)sprintf(buf + n, "%s\"label-%d\":%d", i ? "," : "", i, i);
    n += (size_t)sprintf(buf + n, "}");
    kn_json *v = parse_ok(buf);
    assert_int_equal(kn_json_len(v), 1000);
    for (int i = 0; i < 1000; i++) {
        char key[32];
        int64_t got = -1;
        snprintf(key, sizeof(key), "label-%d", i);
        assert_int_equal(kn_json_int(kn_json_get(v, key), &got), 0);
        assert_int_equal(got, i);
        assert_string_equal(kn_json_key_at(v, (size_t)i), key); /* order kept */
    }
    assert_null(kn_json_get(v, "label-1000"));
    /* Removing keeps order and the index consistent. */
    assert_int_equal(kn_json_remove(v, "label-500"), 0);
    assert_int_equal(kn_json_remove(v, "label-500"), -1);
    assert_null(kn_json_get(v, "label-500"));
    assert_non_null(kn_json_get(v, "label-999"));
    assert_string_equal(kn_json_key_at(v, 500), "label-501");
    char *out = kn_json_dump(v, NULL);
    assert_non_null(out);
    assert_null(strstr(out, "\"label-500\""));
    free(out);
    free(buf);
    kn_json_free(v);
}

/* ---- the index against keys crafted to collide ---- */

/* Keys per object: enough that one pile-up would walk thousands of slots. */
#define N_CRAFTED 20000

/* Upper bounds on the slots walked to find a member, with a hash the keys
 * cannot steer: the index is at most half full (here 0.31 at N_CRAFTED).
 * Over 300 processes the mean was at most 1.24 slots and the longest walk
 * 21; the longest falls off exponentially past that, and these bounds are
 * passed with a chance below 1e-15. A pile-up walks thousands. */
#define MEAN_WALK_MAX 3
#define LONGEST_WALK_MAX 100

static char (*crafted_keys(void))[CK_LEN + 1]
{
    char(*keys)[CK_LEN + 1] = malloc(N_CRAFTED * sizeof(*keys));
    assert_non_null(keys);
    assert_int_equal(ck_old_colliding(keys, N_CRAFTED), 0);
    for (size_t i = 0; i < N_CRAFTED; i++) /* what made the old index quadratic */
        assert_int_equal(ck_old_key_hash(keys[i], CK_LEN), ck_old_key_hash(keys[0], CK_LEN));
    return keys;
}

static void assert_spread(const kn_json *o, size_t members)
{
    size_t longest = 0, walked = kn_json_index_probes(o, &longest);
    assert_int_equal(kn_json_len(o), members);
    assert_true(walked >= members); /* each member is one slot at least: the index holds all */
    assert_true(walked <= MEAN_WALK_MAX * members);
    assert_true(longest <= LONGEST_WALK_MAX);
}

static void assert_member(const kn_json *o, const char *key, int64_t want)
{
    int64_t got = -1;
    assert_int_equal(kn_json_int(kn_json_get(o, key), &got), 0);
    assert_int_equal(got, want);
}

static void test_parse_crafted_keys(void **state)
{
    (void)state;
    char(*keys)[CK_LEN + 1] = crafted_keys();
    size_t cap = (size_t)N_CRAFTED * (CK_LEN + 16) + 2, n = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (size_t i = 0; i < N_CRAFTED; i++)
        n += (size_t)snprintf(text + n, cap - n, "%c\"%s\":%zu", i ? ',' : '{', keys[i], i);
    n += (size_t)snprintf(text + n, cap - n, "}");
    kn_err err = {{0}};
    kn_json *v = kn_json_parse(text, n, NULL, &err);
    assert_non_null(v);
    assert_spread(v, N_CRAFTED);
    for (size_t i = 0; i < N_CRAFTED; i++)
        assert_member(v, keys[i], (int64_t)i);
    char missing[CK_LEN + 1];
    memcpy(missing, keys[0], sizeof(missing));
    missing[CK_LEN - 1] ^= 1;
    assert_null(kn_json_get(v, missing));
    kn_json_free(v);
    free(text);
    free(keys);
}

static void test_build_crafted_keys(void **state)
{
    (void)state;
    char(*keys)[CK_LEN + 1] = crafted_keys();
    kn_json *v = kn_json_new_object();
    for (size_t i = 0; i < N_CRAFTED; i++) /* the index grows, and is rebuilt, on the way */
        assert_int_equal(kn_json_set(v, keys[i], kn_json_new_int((int64_t)i)), 0);
    assert_spread(v, N_CRAFTED);
    for (size_t i = 0; i < 100; i += 2)
        assert_int_equal(kn_json_remove(v, keys[i]), 0);
    assert_spread(v, N_CRAFTED - 50);
    for (size_t i = 0; i < N_CRAFTED; i++) {
        if (i < 100 && i % 2 == 0)
            assert_null(kn_json_get(v, keys[i]));
        else
            assert_member(v, keys[i], (int64_t)i);
    }
    kn_json *copy = kn_json_clone(v);
    assert_spread(copy, N_CRAFTED - 50);
    assert_true(kn_json_equal(v, copy));
    kn_json_free(copy);
    kn_json_free(v);
    free(keys);
}

static void test_building(void **state)
{
    (void)state;
    kn_json *o = kn_json_new_object();
    assert_int_equal(kn_json_set_str(o, "name", "spark-pi"), 0);
    assert_int_equal(kn_json_set(o, "n", kn_json_new_int(-42)), 0);
    assert_int_equal(kn_json_set(o, "d", kn_json_new_double(0.1)), 0);
    assert_int_equal(kn_json_set(o, "w", kn_json_new_double(3.0)), 0);
    assert_int_equal(kn_json_set(o, "big", kn_json_new_double(1e20)), 0);
    assert_int_equal(kn_json_set(o, "huge", kn_json_new_double(1.5e300)), 0);
    assert_int_equal(kn_json_set(o, "third", kn_json_new_double(1.0 / 3)), 0);
    assert_int_equal(kn_json_set(o, "t", kn_json_new_bool(true)), 0);
    assert_int_equal(kn_json_set(o, "z", kn_json_new_null()), 0);
    kn_json *a = kn_json_new_array();
    assert_int_equal(kn_json_append(a, kn_json_new_string("x")), 0);
    assert_int_equal(kn_json_append(a, kn_json_new_int(INT64_MAX)), 0);
    assert_int_equal(kn_json_set(o, "a", a), 0);
    assert_int_equal(kn_json_set_str(o, "name", "spark-pi-2"), 0); /* replaces in place */
    assert_int_equal(kn_json_set(o, "bad", NULL), -1);
    assert_int_equal(kn_json_set(a, "not-an-object", kn_json_new_null()), -1); /* freed */
    assert_int_equal(kn_json_append(o, kn_json_new_null()), -1);
    assert_dump(o, "{\"name\":\"spark-pi-2\",\"n\":-42,\"d\":0.1,\"w\":3,"
                   "\"big\":100000000000000000000,\"huge\":1.5e+300,\"third\":0.3333333333333333,"
                   "\"t\":true,\"z\":null,"
                   "\"a\":[\"x\",9223372036854775807]}");
    kn_json *c = kn_json_clone(o);
    assert_true(kn_json_equal(o, c));
    kn_json_set(c, "t", kn_json_new_bool(false));
    assert_false(kn_json_equal(o, c));
    kn_json_free(c);
    assert_true(kn_json_bool(kn_json_get(o, "t"), false));
    assert_true(kn_json_bool(kn_json_get(o, "name"), true)); /* not a bool: default */
    assert_string_equal(kn_json_type_name(kn_json_typeof(kn_json_get(o, "a"))), "array");
    kn_json_free(o);
}

static void test_equal_semantics(void **state)
{
    (void)state;
    kn_json *a = parse_ok("{\"x\":1,\"y\":[1.0,\"s\"]}");
    kn_json *b = parse_ok("{\"y\":[1,\"s\"],\"x\":1e0}");
    kn_json *c = parse_ok("{\"y\":[1,\"s\"],\"x\":2}");
    assert_true(kn_json_equal(a, b));
    assert_false(kn_json_equal(a, c));
    assert_true(kn_json_equal(NULL, NULL));
    assert_false(kn_json_equal(a, NULL));
    kn_json_free(a);
    kn_json_free(b);
    kn_json_free(c);
}

static void test_dig_and_null_tolerance(void **state)
{
    (void)state;
    kn_json *v = parse_ok("{\"spec\":{\"driver\":{\"labels\":{\"version\":\"3.5.0\"}}}}");
    assert_string_equal(kn_json_get_str(kn_json_dig(v, "spec", "driver", "labels", NULL), "version"), "3.5.0");
    assert_null(kn_json_dig(v, "spec", "executor", "labels", NULL));
    assert_null(kn_json_get(NULL, "x"));
    assert_null(kn_json_str(NULL));
    assert_int_equal(kn_json_len(NULL), 0);
    assert_null(kn_json_at(v, 0));
    assert_null(kn_json_key_at(v, 1));
    assert_int_equal(kn_json_typeof(NULL), KN_JSON_NULL);
    kn_json_free(NULL);
    assert_null(kn_json_dump(NULL, NULL));
    kn_json_free(v);
}

static void test_pretty(void **state)
{
    (void)state;
    kn_json *v = parse_ok("{\"a\":[1,{\"b\":null}]}");
    char *s = kn_json_dump_pretty(v, NULL);
    assert_string_equal(s, "{\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ]\n}");
    kn_json *back = parse_ok(s);
    assert_true(kn_json_equal(v, back));
    free(s);
    kn_json_free(back);
    kn_json_free(v);
    v = parse_ok("{\"a\":{},\"b\":[],\"c\":[{}],\"d\":\"{\\n\\n}\"}");
    size_t n = 0;
    s = kn_json_dump_pretty(v, &n);
    assert_string_equal(s, "{\n  \"a\": {},\n  \"b\": [],\n  \"c\": [\n    {}\n  ],\n  \"d\": \"{\\n\\n}\"\n}");
    assert_int_equal(n, strlen(s));
    free(s);
    kn_json_free(v);
    v = parse_ok("[]");
    s = kn_json_dump_pretty(v, NULL);
    assert_string_equal(s, "[]");
    free(s);
    kn_json_free(v);
}

static void test_pointer_escape(void **state)
{
    (void)state;
    char buf[128] = "";
    int n = kn_json_pointer_escape("pod-group.scheduling.kubenexus.io/name", buf, sizeof(buf));
    assert_string_equal(buf, "pod-group.scheduling.kubenexus.io~1name");
    assert_int_equal(n, (int)strlen(buf));
    buf[0] = '\0';
    assert_int_equal(kn_json_pointer_escape("a~b", buf, sizeof(buf)), 4);
    assert_string_equal(buf, "a~0b");
    strcpy(buf, "/metadata/labels/");
    assert_int_equal(kn_json_pointer_escape("app.kubernetes.io/name", buf, sizeof(buf)), 23);
    assert_string_equal(buf, "/metadata/labels/app.kubernetes.io~1name");
    char small[5] = "";
    assert_int_equal(kn_json_pointer_escape("a/b", small, sizeof(small)), 4);
    small[0] = '\0';
    assert_int_equal(kn_json_pointer_escape("a/bc", small, sizeof(small)), -1);
    assert_string_equal(small, "");
}

static void test_pointer_get(void **state)
{
    (void)state;
    kn_json *v = parse_ok("{\"metadata\":{\"labels\":{\"pod-group.scheduling.kubenexus.io/name\":\"g1\","
                          "\"a~b\":\"tilde\",\"~1\":\"literal\",\"\":\"empty\"}},"
                          "\"spec\":{\"containers\":[{\"name\":\"c0\"},{\"name\":\"c1\"}]}}");
    char ptr[256] = "/metadata/labels/";
    kn_json_pointer_escape("pod-group.scheduling.kubenexus.io/name", ptr, sizeof(ptr));
    assert_string_equal(kn_json_str(kn_json_pointer_get(v, ptr)), "g1");
    assert_string_equal(kn_json_str(kn_json_pointer_get(v, "/metadata/labels/a~0b")), "tilde");
    assert_string_equal(kn_json_str(kn_json_pointer_get(v, "/metadata/labels/~01")), "literal");
    assert_string_equal(kn_json_str(kn_json_pointer_get(v, "/metadata/labels/")), "empty");
    assert_string_equal(kn_json_str(kn_json_pointer_get(v, "/spec/containers/1/name")), "c1");
    assert_ptr_equal(kn_json_pointer_get(v, ""), v);
    assert_null(kn_json_pointer_get(v, "/spec/containers/-"));
    assert_null(kn_json_pointer_get(v, "/spec/containers/2"));
    assert_null(kn_json_pointer_get(v, "/spec/containers/01"));
    assert_null(kn_json_pointer_get(v, "/spec/containers/x"));
    assert_null(kn_json_pointer_get(v, "/metadata/labels/a~2b"));
    assert_null(kn_json_pointer_get(v, "/metadata/labels/a~"));
    assert_null(kn_json_pointer_get(v, "metadata"));
    assert_null(kn_json_pointer_get(v, "/metadata/labels/a~0b/deeper"));
    kn_json_free(v);
}

/* Go's decoder (the API server's, kubectl's) turns each invalid UTF-8 byte
 * into U+FFFD; so do we, so a string survives parse -> dump -> parse. */
static void test_invalid_utf8_becomes_replacement_char(void **state)
{
    (void)state;
    const char overlong[] = "{\"a\":\"x\xc1\x9ey\"}";
    kn_err err = {{0}};
    kn_json *v = kn_json_parse(overlong, sizeof(overlong) - 1, NULL, &err);
    assert_non_null(v);
    assert_string_equal(kn_json_get_str(v, "a"), "x\xEF\xBF\xBD\xEF\xBF\xBDy");
    char *text = kn_json_dump(v, NULL);
    kn_json *w = kn_json_parse(text, strlen(text), NULL, &err);
    assert_true(kn_json_equal(v, w));
    kn_json_free(w);
    free(text);
    kn_json_free(v);
    const char key[] = "{\"\xed\xa0\x80\":1}"; /* a surrogate encoded as UTF-8 */
    v = kn_json_parse(key, sizeof(key) - 1, NULL, &err);
    assert_non_null(v);
    assert_string_equal(kn_json_key_at(v, 0), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    kn_json_free(v);
}

/* kn_json_parse reads most documents with its strict reader and hands the
 * rest to yajl: either way the tree, or the error message, is yajl's. */
static void same_as_yajl(const char *s, size_t len, const kn_json_limits *lim)
{
    kn_err e1 = {{0}}, e2 = {{0}};
    kn_json *a = kn_json_parse(s, len, lim, &e1), *b = kn_json_parse_yajl(s, len, lim, &e2);
    if ((a == NULL) != (b == NULL))
        fail_msg("%.*s: strict reader %s, yajl %s", (int)len, s, a ? "ok" : e1.msg, b ? "ok" : e2.msg);
    if (a == NULL) {
        assert_string_equal(e1.msg, e2.msg);
        return;
    }
    size_t n1 = 0, n2 = 0;
    char *d1 = kn_json_dump(a, &n1), *d2 = kn_json_dump(b, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(d1, d2, n1);
    for (size_t i = 0; i < kn_json_len(a); i++) /* keys holding NULs */
        if (kn_json_key_at(a, i) != NULL)
            assert_string_equal(kn_json_key_at(a, i), kn_json_key_at(b, i));
    assert_true(kn_json_equal(a, b));
    double x = 0, y = 0;
    if (kn_json_double(a, &x) == 0) { /* bit-identical doubles, -0 included */
        assert_int_equal(kn_json_double(b, &y), 0);
        assert_memory_equal(&x, &y, sizeof(x));
    }
    free(d1);
    free(d2);
    kn_json_free(a);
    kn_json_free(b);
}

static void test_strict_reader_matches_yajl(void **state)
{
    (void)state;
    static const char *docs[] = {
        /* surrogates: a pair, lone high, lone low, high + not low, reversed */
        "[\"\\ud83d\\ude80\"]",
        "[\"\\ud83d\"]",
        "[\"\\ud83dx\"]",
        "[\"\\ude80\"]",
        "[\"\\ud83d\\u0041\"]",
        "[\"\\ude80\\ud83d\"]",
        "[\"\\uDBFF\\uDFFF\"]",
        "[\"\\ud800\\udc00\"]",
        "{\"\\ud83d\\ude80\":1,\"\\ud83d\":2}",
        "[\"\\u0000\\u001f\\u007f\\u0080\\u07ff\\u0800\\uffff\"]",
        "[\"\\u00E9\\u00e9\"]",
        "[\"\\u12\"]",
        "[\"\\u12g4\"]",
        "[\"\\x\"]",
        "[\"\\",
        "[\"\\u\"]",
        "[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"]",
        "[\"tab\there\"]",
        "[\"nl\nx\"]",
        /* numbers */
        "-0",
        "0",
        "-0.0",
        "1e5",
        "1E+5",
        "1e-5",
        "123456789012345",
        "-123456789012345",
        "1234567890123456",
        "9007199254740993",
        "12345678901234567890",
        "0.1",
        "1.5e300",
        "1e400",
        "-1e-400",
        "[1,-2,3.25,4e2]",
        "01",
        "-",
        "1.",
        ".5",
        "1e",
        "1e+",
        "+1",
        "-01",
        "[1 2]",
        "[1,]",
        "0x10",
        "1.0e+2",
        /* structure and whitespace */
        "{}",
        "[]",
        " { } ",
        "{\"a\":[{},[],{\"b\":null}],\"c\":true,\"d\":false}",
        "[[[[]]]]",
        "{\"a\" : 1 , \"b\":2}",
        "{\"a\":1,}",
        "{,}",
        "{\"a\"}",
        "{\"a\":}",
        "{1:2}",
        "[\"a\":1]",
        "{\"a\":1]",
        "[1}",
        "tru",
        "true ",
        "nul",
        "null",
        "falsey",
        "\"s\"",
        "\"",
        "{} x",
        "{}{}",
        "\t\r\n[]\n",
        "\v[]",
        "\f[]",
        "[]\v",
        "/* c */ {}",
        "",
        "   ",
        "[",
        "{\"a\":",
        /* duplicate keys: last wins in the first one's place */
        "{\"a\":1,\"b\":2,\"a\":{\"x\":3}}",
        "{\"a\\u0000b\":1,\"a\":2}",
        "{\"k\":1,\"k\":2,\"k\":3,\"j\":[],\"k\":null}",
        /* ... and in objects big enough to be hashed */
        "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"c\":{\"x\":1},\"j\":0,\"a\":[]"
        "}",
        "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"j\":10}",
        /* UTF-8: valid, overlong, surrogate, past U+10FFFF, truncated, stray */
        "[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80\"]",
        "[\"x\xc1\x9ey\"]",
        "[\"\xed\xa0\x80\"]",
        "[\"\xf4\x90\x80\x80\"]",
        "[\"\xf5\x80\x80\x80\"]",
        "[\"\xc3\"]",
        "[\"ab\xff\"]",
        "{\"k\xe9y\":1}",
        "[\"\x80\"]",
        "[\"\xe0\x80\xaf\"]",
        "[\"\xf0\x80\x80\xaf\"]",
        "[\"eight by\",\"tes plus\",\"0123456789abcdef\\\"0123456789\"]",
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
        same_as_yajl(docs[i], strlen(docs[i]), NULL);
    same_as_yajl("[\"a\0b\"]", 7, NULL); /* a raw NUL is not JSON */
    char *deep = nested(64), *deeper = nested(65);
    same_as_yajl(deep, strlen(deep), NULL);
    same_as_yajl(deeper, strlen(deeper), NULL);
    kn_json_limits lim = {.max_depth = 3};
    same_as_yajl("{\"a\":{\"b\":{\"c\":{}}}}", 20, &lim);
    same_as_yajl("{\"a\":{\"b\":[1]}}", 15, &lim);
    free(deep);
    free(deeper);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_pod),
        cmocka_unit_test(test_big_integers_exact),
        cmocka_unit_test(test_unicode_escapes),
        cmocka_unit_test(test_invalid_utf8_rejected),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_truncated_and_garbage),
        cmocka_unit_test(test_duplicate_keys_last_wins),
        cmocka_unit_test(test_edit_parsed_document),
        cmocka_unit_test(test_thousand_keys),
        cmocka_unit_test(test_parse_crafted_keys),
        cmocka_unit_test(test_build_crafted_keys),
        cmocka_unit_test(test_building),
        cmocka_unit_test(test_equal_semantics),
        cmocka_unit_test(test_dig_and_null_tolerance),
        cmocka_unit_test(test_pretty),
        cmocka_unit_test(test_pointer_escape),
        cmocka_unit_test(test_pointer_get),
        cmocka_unit_test(test_invalid_utf8_becomes_replacement_char),
        cmocka_unit_test(test_strict_reader_matches_yajl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
