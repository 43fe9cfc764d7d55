/* fuzz_json.c - the JSON reader and writer (kn_json_parse, kn_json_dump).
 *
 * Invariants: parsing never crashes and fails with a message; a parsed tree
 * dumps to JSON that parses back to an equal tree (compact and pretty), the
 * compact form is a fixed point (dump(parse(dump(x))) == dump(x)), a clone is
 * equal, and every member found by iteration is found by lookup and by JSON
 * Pointer. Also run with a small depth limit, which must fail cleanly. And
 * kn_json_parse (strict reader first) gives what yajl alone gives: the same
 * tree, or the same error message. */
#include "fuzz.h"
#include "json/json.h"
#include "json/json_internal.h"

static kn_json *reparse(const char *text, size_t len)
{
    kn_err err = {{0}};
    kn_json *v = kn_json_parse(text, len, NULL, &err);
    if (v == NULL)
        fprintf(stderr, "dumped JSON does not parse (%s): %.500s\n", err.msg, text);
    KN_FUZZ_CHECK(v != NULL);
    return v;
}

/* Two members read the same as C strings ("a\u0000b" and "a"). */
static bool c_key_clash(const kn_json *obj, const char *key)
{
    int n = 0;
    for (size_t i = 0; i < kn_json_len(obj); i++)
        n += strcmp(kn_json_key_at(obj, i), key) == 0;
    return n > 1;
}

/* Every object member is reachable by kn_json_get and by its JSON Pointer. */
static void check_lookups(const kn_json *root, const kn_json *v, char *ptr, size_t len, size_t cap, int depth)
{
    if (depth > 8 || !kn_json_is(v, KN_JSON_OBJECT))
        return;
    for (size_t i = 0; i < kn_json_len(v); i++) {
        const char *key = kn_json_key_at(v, i);
        const kn_json *val = kn_json_value_at(v, i);
        KN_FUZZ_CHECK(key != NULL && val != NULL);
        if (strlen(key) > 200)
            continue;
        const kn_json *found = kn_json_get(v, key);
        /* keys holding \u0000 are not all reachable as C strings */
        if (found == NULL || (found != val && c_key_clash(v, key)))
            continue;
        KN_FUZZ_CHECK(found == val); /* duplicates were collapsed to the last */
        ptr[len] = '/';              /* kn_json_pointer_escape appends to the string in ptr */
        ptr[len + 1] = '\0';
        int n = kn_json_pointer_escape(key, ptr, cap);
        if (n < 0) {
            ptr[len] = '\0';
            continue;
        }
        KN_FUZZ_CHECK(kn_json_pointer_get(root, ptr) == val);
        check_lookups(root, val, ptr, len + 1 + (size_t)n, cap, depth + 1);
        ptr[len] = '\0';
    }
}

static void check_same_as_yajl(const char *buf, size_t size, const kn_json *v, const kn_err *err)
{
    kn_err yerr = {{0}};
    kn_json *y = kn_json_parse_yajl(buf, size, NULL, &yerr);
    KN_FUZZ_CHECK((v == NULL) == (y == NULL));
    if (v == NULL) {
        KN_FUZZ_CHECK(strcmp(err->msg, yerr.msg) == 0);
        return;
    }
    size_t n1 = 0, n2 = 0;
    char *d1 = kn_json_dump(v, &n1), *d2 = kn_json_dump(y, &n2);
    KN_FUZZ_CHECK(d1 != NULL && d2 != NULL && n1 == n2 && memcmp(d1, d2, n1) == 0);
    free(d1);
    free(d2);
    kn_json_free(y);
}

int kn_fuzz_json(const uint8_t *data, size_t size)
{
    char *buf = kn_fuzz_exact(data, size);
    kn_err err = {{0}};
    kn_json *v = kn_json_parse(buf, size, NULL, &err);
    check_same_as_yajl(buf, size, v, &err);
    if (v == NULL) {
        KN_FUZZ_CHECK(err.msg[0] != '\0');
    } else {
        size_t len = 0, len2 = 0, plen = 0;
        char *text = kn_json_dump(v, &len);
        KN_FUZZ_CHECK(text != NULL && strlen(text) <= len);
        kn_json *w = reparse(text, len);
        KN_FUZZ_CHECK(kn_json_equal(v, w));
        char *text2 = kn_json_dump(w, &len2);
        KN_FUZZ_CHECK(text2 != NULL && len == len2 && memcmp(text, text2, len) == 0);
        char *pretty = kn_json_dump_pretty(v, &plen);
        KN_FUZZ_CHECK(pretty != NULL);
        kn_json *p = reparse(pretty, plen);
        KN_FUZZ_CHECK(kn_json_equal(v, p));
        kn_json *c = kn_json_clone(v);
        KN_FUZZ_CHECK(kn_json_equal(v, c));
        char ptr[4096] = "";
        check_lookups(v, v, ptr, 0, sizeof(ptr), 0);
        kn_json_free(c);
        kn_json_free(p);
        free(pretty);
        free(text2);
        kn_json_free(w);
        free(text);
        kn_json_free(v);
    }
    kn_json_limits shallow = {.max_bytes = 4096, .max_depth = 3};
    kn_json *s = kn_json_parse(buf, size, &shallow, &err);
    kn_json_free(s);
    free(buf);
    return 0;
}

KN_FUZZ_TARGET(kn_fuzz_json)
