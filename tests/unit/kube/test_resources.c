/* test_resources.c - ResourceLists as pods and nodes carry them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json/json.h"
#include "kube/resources.h"

static kn_json *parse(const char *text)
{
    kn_err err;
    kn_json *j = kn_json_parse(text, strlen(text), NULL, &err);
    if (j == NULL)
        fail_msg("bad test JSON %s: %s", text, err.msg);
    return j;
}

/* Parses a ResourceList; returns the kn_res_from_json result. */
static int from(const char *text, kn_resources *out, kn_err *err)
{
    kn_json *j = parse(text);
    int rc = kn_res_from_json(j, out, err);
    kn_json_free(j);
    return rc;
}

static void test_from_json_container(void **state)
{
    (void)state;
    kn_resources r;
    kn_err err;
    assert_int_equal(from("{\"cpu\":\"0.1\",\"memory\":\"100Mi\",\"ephemeral-storage\":\"1G\",\"pods\":\"110\","
                          "\"nvidia.com/gpu\":\"2\",\"hugepages-2Mi\":\"512Mi\"}",
                          &r, &err),
                     0);
    assert_int_equal(r.cpu_milli, 100);
    assert_int_equal(r.memory, 104857600);
    assert_int_equal(r.ephemeral_storage, 1000000000);
    assert_int_equal(r.pods, 110);
    assert_int_equal(r.n_scalar, 2);
    assert_int_equal(kn_res_get(&r, "nvidia.com/gpu"), 2);
    assert_int_equal(kn_res_get(&r, "hugepages-2Mi"), 536870912);
    assert_int_equal(kn_res_get(&r, "cpu"), 100);
    assert_int_equal(kn_res_get(&r, "amd.com/gpu"), 0);
}

/* JSON numbers are read through their text, as the API server does. */
static void test_from_json_numbers(void **state)
{
    (void)state;
    kn_resources r;
    kn_err err;
    assert_int_equal(from("{\"cpu\":2,\"memory\":1e3,\"pods\":0.5}", &r, &err), 0);
    assert_int_equal(r.cpu_milli, 2000);
    assert_int_equal(r.memory, 1000);
    assert_int_equal(r.pods, 1); /* rounds up */
    assert_int_equal(from("{\"cpu\":0.5}", &r, &err), 0);
    assert_int_equal(r.cpu_milli, 500);
    assert_int_equal(from("{\"memory\":\"512m\"}", &r, &err), 0);
    assert_int_equal(r.memory, 1); /* 512 milli-bytes: the classic mistake */
    assert_int_equal(from("{\"cpu\":\"-1\"}", &r, &err), 0);
    assert_int_equal(r.cpu_milli, -1000);
    assert_int_equal(kn_res_from_json(NULL, &r, &err), 0);
    assert_int_equal(r.cpu_milli, 0);
    assert_int_equal(from("null", &r, &err), 0);
    assert_int_equal(from("{}", &r, &err), 0);
}

typedef struct {
    const char *json;
    const char *want; /* exact message */
} bad_case;

static void test_from_json_errors(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        {"{\"cpu\":\"500m\",\"memory\":\"4GB\"}",
         "memory: quantity \"4GB\" is not valid: want a number with an optional suffix (Ki, Mi, Gi, Ti, Pi, "
         "Ei, n, u, m, k, M, G, T, P, E) or exponent (e3)"},
        {"{\"cpu\":true}", "cpu: want a quantity string such as \"500m\" or \"1Gi\", got boolean"},
        {"{\"nvidia.com/gpu\":[1]}",
         "nvidia.com/gpu: want a quantity string such as \"500m\" or \"1Gi\", got array"},
        {"{\"memory\":null}", "memory: want a quantity string such as \"500m\" or \"1Gi\", got null"},
        {"[\"cpu\"]", "want an object of resource amounts such as {\"cpu\":\"500m\"}, got array"},
        {"\"1\"", "want an object of resource amounts such as {\"cpu\":\"500m\"}, got string"},
        {"{\"cpu\":\"10000000000000000\"}", "cpu: quantity \"10000000000000000\" is too large: at most "
                                            "9223372036854775.807 (9223372036854775807m) fits"},
        {"{\"memory\":\"99999Ei\"}",
         "memory: quantity \"99999Ei\" is too large: at most 9223372036854775807 fits"},
        {"{\"\":\"1\"}", "resource name is empty"},
        {"{\"bad name\":\"1\"}",
         "resource name \"bad\" has character 0x20: want letters, digits and . - _ / (e.g. nvidia.com/gpu)"},
        {"{\"x\\u0001\":\"1\"}",
         "resource name \"x\" has character 0x01: want letters, digits and . - _ / (e.g. nvidia.com/gpu)"},
        {"{\"example.com/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":\"1\"}",
         "resource name \"example.com/aaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" is 65 characters long, at most 63 are "
         "supported"},
        {"{\"a.io/1\":1,\"a.io/2\":1,\"a.io/3\":1,\"a.io/4\":1,\"a.io/5\":1,\"a.io/6\":1,\"a.io/7\":1}",
         "a.io/7: resource \"a.io/7\" is one extended resource too many: at most 6 are supported"},
        {"{\"memory\":\"1\\u00002\"}", "memory: quantity contains a NUL byte"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kn_resources r;
        kn_err err = {{0}};
        int rc = from(cases[i].json, &r, &err);
        if (rc != -1 || strcmp(err.msg, cases[i].want) != 0) {
            print_error("%s: rc=%d\n got  %s\n want %s\n", cases[i].json, rc, err.msg, cases[i].want);
            fail();
        }
        assert_int_equal(r.cpu_milli, 0); /* zeroed on error */
        assert_int_equal(r.n_scalar, 0);
    }
}

static void test_set_get_names(void **state)
{
    (void)state;
    kn_resources r;
    kn_err err;
    kn_res_zero(&r);
    char name63[64];
    memset(name63, 'a', 63);
    name63[63] = '\0';
    assert_int_equal(kn_res_set(&r, name63, 5, &err), 0);
    assert_int_equal(kn_res_get(&r, name63), 5);
    char name64[65];
    memset(name64, 'a', 64);
    name64[64] = '\0';
    assert_int_equal(kn_res_set(&r, name64, 5, &err), -1);
    assert_non_null(strstr(err.msg, "is 64 characters long, at most 63"));
    assert_int_equal(kn_res_set(&r, "cpu", 1500, &err), 0);
    assert_int_equal(kn_res_set(&r, "memory", 7, &err), 0);
    assert_int_equal(kn_res_set(&r, "ephemeral-storage", 8, &err), 0);
    assert_int_equal(kn_res_set(&r, "pods", 9, &err), 0);
    assert_int_equal(r.cpu_milli, 1500);
    assert_int_equal(kn_res_get(&r, "ephemeral-storage"), 8);
    assert_int_equal(kn_res_get(&r, "pods"), 9);
    assert_int_equal(r.n_scalar, 1);                      /* fixed names never take a scalar slot */
    assert_int_equal(kn_res_set(&r, name63, 6, &err), 0); /* replaces */
    assert_int_equal(r.n_scalar, 1);
    assert_int_equal(kn_res_get(&r, name63), 6);
    assert_int_equal(kn_res_get(&r, NULL), 0);
    assert_int_equal(kn_res_set(&r, NULL, 1, &err), -1);
}

static void set(kn_resources *r, const char *name, int64_t v)
{
    assert_int_equal(kn_res_set(r, name, v, NULL), 0);
}

static void test_add_sub_max(void **state)
{
    (void)state;
    kn_resources a, b;
    kn_err err;
    kn_res_zero(&a);
    kn_res_zero(&b);
    set(&a, "cpu", 500);
    set(&a, "memory", 100);
    set(&a, "nvidia.com/gpu", 1);
    set(&b, "cpu", 1500);
    set(&b, "pods", 1);
    set(&b, "nvidia.com/gpu", 2);
    set(&b, "example.com/foo", 3);
    assert_int_equal(kn_res_add(&a, &b, &err), 0);
    assert_int_equal(a.cpu_milli, 2000);
    assert_int_equal(a.memory, 100);
    assert_int_equal(a.pods, 1);
    assert_int_equal(kn_res_get(&a, "nvidia.com/gpu"), 3);
    assert_int_equal(kn_res_get(&a, "example.com/foo"), 3);

    kn_res_sub(&a, &b);
    assert_int_equal(a.cpu_milli, 500);
    assert_int_equal(a.pods, 0);
    assert_int_equal(kn_res_get(&a, "nvidia.com/gpu"), 1);
    assert_int_equal(kn_res_get(&a, "example.com/foo"), 0);

    kn_resources m;
    kn_res_zero(&m);
    set(&m, "cpu", 1000);
    set(&m, "memory", 500);
    assert_int_equal(kn_res_max(&m, &b, &err), 0);
    assert_int_equal(m.cpu_milli, 1500);
    assert_int_equal(m.memory, 500);
    assert_int_equal(kn_res_get(&m, "nvidia.com/gpu"), 2);
    assert_int_equal(kn_res_get(&m, "example.com/foo"), 3);
}

static void test_overflow_and_capacity(void **state)
{
    (void)state;
    kn_resources a, b;
    kn_err err;
    kn_res_zero(&a);
    kn_res_zero(&b);
    set(&a, "memory", INT64_MAX);
    set(&a, "cpu", 1);
    set(&b, "memory", 1);
    set(&b, "cpu", 1);
    kn_resources before = a;
    assert_int_equal(kn_res_add(&a, &b, &err), -1);
    assert_string_equal(err.msg, "memory: the sum of the amounts does not fit in 64 bits");
    assert_memory_equal(&a, &before, sizeof(a)); /* unchanged, cpu too */

    /* Subtraction saturates instead of wrapping. */
    kn_resources low;
    kn_res_zero(&low);
    set(&low, "memory", INT64_MIN + 1);
    set(&b, "memory", 5);
    kn_res_sub(&low, &b);
    assert_true(low.memory == INT64_MIN);

    /* A seventh extended resource is refused by add and max, ignored by sub. */
    kn_resources full, extra;
    kn_res_zero(&full);
    kn_res_zero(&extra);
    const char *names[] = {"a.io/1", "a.io/2", "a.io/3", "a.io/4", "a.io/5", "a.io/6"};
    for (int i = 0; i < 6; i++)
        set(&full, names[i], 1);
    assert_int_equal(kn_res_set(&full, "a.io/7", 1, &err), -1);
    set(&extra, "a.io/7", 1);
    set(&extra, "cpu", 5);
    before = full;
    assert_int_equal(kn_res_add(&full, &extra, &err), -1);
    assert_string_equal(err.msg, "resource \"a.io/7\" is one extended resource too many: at most 6 are supported");
    assert_memory_equal(&full, &before, sizeof(full));
    assert_int_equal(kn_res_max(&full, &extra, &err), -1);
    kn_res_sub(&full, &extra);
    assert_int_equal(full.cpu_milli, -5);
    assert_int_equal(full.n_scalar, 6);
    /* A zero amount of a new name needs no slot. */
    kn_res_zero(&extra);
    set(&extra, "b.io/zero", 0);
    assert_int_equal(kn_res_add(&full, &extra, &err), 0);
    assert_int_equal(kn_res_max(&full, &extra, &err), 0);
}

static void test_fits(void **state)
{
    (void)state;
    kn_resources req, avail;
    kn_res_zero(&req);
    kn_res_zero(&avail);
    set(&avail, "cpu", 4000);
    set(&avail, "memory", 8LL << 30);
    set(&avail, "pods", 110);
    set(&req, "cpu", 4000);
    set(&req, "memory", 8LL << 30);
    set(&req, "pods", 1);
    const char *first = "x";
    assert_true(kn_res_fits(&req, &avail, &first));
    assert_null(first);
    set(&req, "memory", (8LL << 30) + 1);
    assert_false(kn_res_fits(&req, &avail, &first));
    assert_string_equal(first, "memory");
    set(&req, "cpu", 4001);
    assert_false(kn_res_fits(&req, &avail, &first));
    assert_string_equal(first, "cpu");
    set(&req, "cpu", 1);
    set(&req, "memory", 1);
    set(&req, "nvidia.com/gpu", 1);
    assert_false(kn_res_fits(&req, &avail, &first));
    assert_string_equal(first, "nvidia.com/gpu");
    set(&avail, "nvidia.com/gpu", 1);
    assert_true(kn_res_fits(&req, &avail, NULL));
    /* A zero request fits even an overcommitted node, as in kube-scheduler. */
    kn_resources none;
    kn_res_zero(&none);
    set(&avail, "memory", -5);
    assert_true(kn_res_fits(&none, &avail, &first));
    set(&avail, "pods", 0);
    set(&req, "memory", 0);
    assert_false(kn_res_fits(&req, &avail, &first));
    assert_string_equal(first, "pods");
}

static void test_to_json(void **state)
{
    (void)state;
    kn_resources r;
    kn_res_zero(&r);
    set(&r, "cpu", 1500);
    set(&r, "memory", 939524096);
    set(&r, "nvidia.com/gpu", 1);
    set(&r, "example.com/zero", 0);
    kn_json *j = kn_res_to_json(&r);
    assert_non_null(j);
    char *text = kn_json_dump(j, NULL);
    assert_string_equal(text, "{\"cpu\":\"1500m\",\"memory\":\"896Mi\",\"nvidia.com/gpu\":\"1\"}");
    /* And back. */
    kn_resources back;
    kn_err err;
    assert_int_equal(kn_res_from_json(j, &back, &err), 0);
    assert_int_equal(back.cpu_milli, 1500);
    assert_int_equal(back.memory, 939524096);
    assert_int_equal(kn_res_get(&back, "nvidia.com/gpu"), 1);
    free(text);
    kn_json_free(j);

    kn_res_zero(&r);
    set(&r, "cpu", 2000);
    set(&r, "ephemeral-storage", 10LL << 30);
    set(&r, "pods", 1);
    j = kn_res_to_json(&r);
    text = kn_json_dump(j, NULL);
    assert_string_equal(text, "{\"cpu\":\"2\",\"ephemeral-storage\":\"10Gi\",\"pods\":\"1\"}");
    free(text);
    kn_json_free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_json_container),
        cmocka_unit_test(test_from_json_numbers),
        cmocka_unit_test(test_from_json_errors),
        cmocka_unit_test(test_set_get_names),
        cmocka_unit_test(test_add_sub_max),
        cmocka_unit_test(test_overflow_and_capacity),
        cmocka_unit_test(test_fits),
        cmocka_unit_test(test_to_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
