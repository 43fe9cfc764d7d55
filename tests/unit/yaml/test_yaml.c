/* test_yaml.c - manifests in YAML mean what kubectl makes of them: same tree
 * as the JSON, YAML 1.1 scalars as go-yaml v2 resolves them, anchors, alias
 * bombs refused, errors with line numbers, "kind: List" flattened. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json/json.h"
#include "yaml/manifest.h"

typedef struct {
    kn_json **docs;
    size_t n;
} docs_t;

static docs_t parse_ok(const char *y)
{
    docs_t d = {0};
    kn_err err = {{0}};
    if (kn_yaml_parse_docs(y, strlen(y), NULL, &d.docs, &d.n, &err) != 0)
        fail_msg("YAML failed: %s", err.msg);
    return d;
}

/* The one document of y. */
static kn_json *one(const char *y, docs_t *d)
{
    *d = parse_ok(y);
    assert_int_equal(d->n, 1);
    return d->docs[0];
}

static void parse_fails(const char *y, kn_err *err)
{
    docs_t d = {0};
    assert_int_equal(kn_yaml_parse_docs(y, strlen(y), NULL, &d.docs, &d.n, err), -1);
    assert_null(d.docs);
    assert_int_equal(d.n, 0);
}

/* y as one document, dumped as compact JSON. */
static void assert_yaml_json(const char *y, const char *want)
{
    docs_t d;
    kn_json *v = one(y, &d);
    char *got = kn_json_dump(v, NULL);
    assert_string_equal(got, want);
    free(got);
    kn_yaml_free_docs(d.docs, d.n);
}

static void test_manifest_same_as_json(void **state)
{
    (void)state;
    kn_json **y = NULL, **j = NULL;
    size_t ny = 0, nj = 0;
    kn_err err = {{0}};
    if (kn_manifest_read_file(KN_FIXTURES "/yaml/manifests.yaml", &y, &ny, &err) != 0)
        fail_msg("%s", err.msg);
    if (kn_manifest_read_file(KN_FIXTURES "/yaml/manifests-list.json", &j, &nj, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(ny, 3);
    assert_int_equal(nj, 3); /* the List is flattened into its items */
    for (size_t i = 0; i < 3; i++) {
        char *a = kn_json_dump(y[i], NULL), *b = kn_json_dump(j[i], NULL);
        assert_string_equal(a, b); /* same members, same order, same types */
        free(a);
        free(b);
    }
    assert_string_equal(kn_json_get_str(y[2], "kind"), "SparkApplication");
    kn_json *labels = kn_json_dig(y[2], "spec", "driver", "labels", NULL);
    assert_string_equal(kn_json_get_str(labels, "pod-group.scheduling.kubenexus.io/min-available"), "4");
    int64_t inst = 0;
    assert_int_equal(kn_json_int(kn_json_dig(y[2], "spec", "executor", "instances", NULL), &inst), 0);
    assert_int_equal(inst, 3);
    assert_string_equal(kn_json_str(kn_json_pointer_get(y[1], "/spec/containers/0/ports/1/name")), "spark-ui");
    kn_yaml_free_docs(y, ny);
    kn_yaml_free_docs(j, nj);
}

static void test_scalar_types(void **state)
{
    (void)state;
    assert_yaml_json("a: \"4\"\nb: 4\nc: '4'\nd: \"true\"\ne: true\nf: 3.5.0\ng: 1.20\nh: -7\n",
                     "{\"a\":\"4\",\"b\":4,\"c\":\"4\",\"d\":\"true\",\"e\":true,\"f\":\"3.5.0\","
                     "\"g\":1.20,\"h\":-7}");
    /* YAML 1.1 booleans as go-yaml v2 reads them. */
    assert_yaml_json("[yes, No, ON, off, y, N, True, FALSE, 'yes', yES]",
                     "[true,false,true,false,true,false,true,false,\"yes\",\"yES\"]");
    assert_yaml_json("- null\n- ~\n-\n- Null\n- 'null'\n- \"\"\n", "[null,null,null,null,\"null\",\"\"]");
    /* Integers: hex, octal (file modes), separators, sign; big ones exact. */
    assert_yaml_json("[0x1F, 0644, 0o17, 0b101, 1_000, +5, 08, 123456789012345678901234567890]",
                     "[31,420,15,5,1000,5,8,123456789012345678901234567890]");
    assert_yaml_json("[1.5, 1e3, .5, 1., -0.25, 6.02e+23]", "[1.5,1e3,0.5,1,-0.25,6.02e+23]");
    assert_yaml_json("[-, 0x, 1.2.3, 12abc, 1e, '0x1F', 0xZZ]",
                     "[\"-\",\"0x\",\"1.2.3\",\"12abc\",\"1e\",\"0x1F\",\"0xZZ\"]");
    /* Keys are strings; plain non-string keys take their JSON text. */
    assert_yaml_json("yes: 1\n1: 2\n\"no\": 3\n", "{\"true\":1,\"1\":2,\"no\":3}");
}

static void test_tags(void **state)
{
    (void)state;
    assert_yaml_json("[!!str 4, !!str true, !!int \"7\", !!float 1, !!bool \"yes\", !!null x, "
                     "!custom 5, ! 12]",
                     "[\"4\",\"true\",7,1,true,null,\"5\",\"12\"]");
    kn_err err = {{0}};
    parse_fails("replicas: !!int three\n", &err);
    assert_non_null(strstr(err.msg, "line 1"));
    assert_non_null(strstr(err.msg, "!!int"));
    parse_fails("x: .inf\n", &err);
    assert_non_null(strstr(err.msg, "not a number JSON can hold"));
    parse_fails("x: [1, .NaN]\n", &err);
}

static void test_block_scalars(void **state)
{
    (void)state;
    assert_yaml_json("literal: |\n  line one\n  line two\nfolded: >\n  folded one\n  folded two\n\n"
                     "  para\nstrip: |-\n  no newline\nkeep: |+\n  kept\n\nnum: |\n  42\n",
                     "{\"literal\":\"line one\\nline two\\n\",\"folded\":\"folded one folded two\\npara\\n\","
                     "\"strip\":\"no newline\",\"keep\":\"kept\\n\\n\",\"num\":\"42\\n\"}");
    assert_yaml_json("s: \"tab\\there \\u00e9 \\x41 nul\\0end\"\n",
                     "{\"s\":\"tab\\there \xc3\xa9 A nul\\u0000end\"}");
}

static void test_anchors_and_merge(void **state)
{
    (void)state;
    assert_yaml_json("base: &labels\n  app: spark\n  tier: batch\n"
                     "driver:\n  labels: *labels\nexecutor:\n  labels: *labels\nk: &n 3\nm: *n\n",
                     "{\"base\":{\"app\":\"spark\",\"tier\":\"batch\"},\"driver\":{\"labels\":{\"app\":\"spark\","
                     "\"tier\":\"batch\"}},\"executor\":{\"labels\":{\"app\":\"spark\",\"tier\":\"batch\"}},"
                     "\"k\":3,\"m\":3}");
    /* Merge keys: explicit keys win wherever they are written. */
    assert_yaml_json("defaults: &d {cores: 1, memory: 512m, image: spark}\n"
                     "driver:\n  cores: 2\n  <<: *d\n  memory: 1g\n",
                     "{\"defaults\":{\"cores\":1,\"memory\":\"512m\",\"image\":\"spark\"},"
                     "\"driver\":{\"cores\":2,\"memory\":\"1g\",\"image\":\"spark\"}}");
    assert_yaml_json("a: &a {p: 1, q: 1}\nb: &b {q: 2, r: 2}\nc:\n  <<: [*a, *b]\n",
                     "{\"a\":{\"p\":1,\"q\":1},\"b\":{\"q\":2,\"r\":2},\"c\":{\"p\":1,\"q\":1,\"r\":2}}");
    /* An anchor inside a merge source stays usable afterwards. */
    assert_yaml_json("c:\n  <<: {x: &v 5}\nd: *v\n", "{\"c\":{\"x\":5},\"d\":5}");
    kn_err err = {{0}};
    parse_fails("a: *nope\n", &err);
    assert_non_null(strstr(err.msg, "unknown anchor \"nope\""));
    parse_fails("a: &x [1, *x]\n", &err); /* recursive: not yet defined */
    parse_fails("a:\n  <<: 5\n", &err);
    assert_non_null(strstr(err.msg, "merge key"));
}

static void test_billion_laughs(void **state)
{
    (void)state;
    const char *bomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
                       "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                       "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                       "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                       "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                       "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                       "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
                       "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
                       "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
    kn_err err = {{0}};
    parse_fails(bomb, &err);
    assert_non_null(strstr(err.msg, "alias bomb"));
    assert_non_null(strstr(err.msg, "line "));
    /* Many documents each below the budget still add up to a refusal. */
    const char *doc = "---\na: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                      "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n";
    size_t dl = strlen(doc);
    char *many = malloc(dl * 100 + 1);
    for (int i = 0; i < 100; i++)
        memcpy(many + (size_t)i * dl, doc, dl);
    many[dl * 100] = '\0';
    docs_t d = parse_ok(doc); /* one is fine */
    assert_int_equal(kn_json_len(kn_json_at(kn_json_get(d.docs[0], "d"), 9)), 10);
    kn_yaml_free_docs(d.docs, d.n);
    parse_fails(many, &err);
    assert_non_null(strstr(err.msg, "alias bomb"));
    free(many);
    /* A deep alias chain breaks the depth limit instead. */
    char deep[4096] = "a0: &a0 [x]\n";
    for (int i = 1; i < 70; i++)
        snprintf(deep + strlen(deep), sizeof(deep) - strlen(deep), "a%d: &a%d [*a%d]\n", i, i, i - 1);
    parse_fails(deep, &err);
    assert_non_null(strstr(err.msg, "too deeply"));
}

static void test_malformed(void **state)
{
    (void)state;
    kn_err err = {{0}};
    parse_fails("metadata:\n  name: a\n   labels: x\n", &err); /* bad indentation */
    assert_non_null(strstr(err.msg, "line 3"));
    parse_fails("metadata:\n  name: \"spark-pi\n  namespace: x\n", &err); /* unclosed quote */
    assert_non_null(strstr(err.msg, "line "));
    assert_non_null(strstr(err.msg, "quoted scalar"));
    parse_fails("spec:\n\tcores: 1\n", &err); /* tab indentation */
    assert_non_null(strstr(err.msg, "line 2"));
    parse_fails("a: 1\na: 2\n", &err);
    assert_string_equal(err.msg, "line 2, column 1: mapping key \"a\" is already defined");
    parse_fails("? [a, b]\n: c\n", &err);
    assert_non_null(strstr(err.msg, "must be a scalar"));
    parse_fails("kind: Pod\na: \"\xff\"\n", &err); /* invalid UTF-8 */
    assert_string_equal(err.msg, "line 2, column 5: invalid leading UTF-8 octet");
    parse_fails("kind: Pod\na: \"x\0\"\n", &err); /* NUL byte */
    parse_fails("a: [1, 2\n", &err);
    /* JSON-looking input gets the JSON parser's message with a line. */
    parse_fails("{\n  \"a\": 1,\n  \"b\": [1, 2\n}\n", &err);
    assert_non_null(strstr(err.msg, "line 4"));
    assert_non_null(strstr(err.msg, "offset"));
    /* ... unless it is flow YAML that YAML understood further. */
    parse_fails("{name: spark-pi, labels: {a: b, a: c}}\n", &err);
    assert_string_equal(err.msg, "line 1, column 33: mapping key \"a\" is already defined");
    /* Size limit. */
    docs_t d = {0};
    kn_json_limits lim = {.max_bytes = 4};
    assert_int_equal(kn_yaml_parse_docs("a: 12\n", 6, &lim, &d.docs, &d.n, &err), -1);
}

static void test_documents(void **state)
{
    (void)state;
    docs_t d = parse_ok("---\n---\n# only a comment\n---\na: 1\n---\n\n...\n---\n- x\n---\nplain text\n");
    assert_int_equal(d.n, 3);
    assert_int_equal(kn_json_len(d.docs[0]), 1);
    assert_true(kn_json_is(d.docs[1], KN_JSON_ARRAY));
    assert_string_equal(kn_json_str(d.docs[2]), "plain text");
    kn_yaml_free_docs(d.docs, d.n);
    d = parse_ok("");
    assert_int_equal(d.n, 0);
    kn_yaml_free_docs(d.docs, d.n);
    /* JSON first: exact, and flow YAML that starts with '{' still works. */
    kn_json *v = one("  {\"n\": 9007199254740993, \"s\": \"x\"}", &d);
    assert_string_equal(kn_json_number_text(kn_json_get(v, "n")), "9007199254740993");
    kn_yaml_free_docs(d.docs, d.n);
    v = one("{a: yes, b: [1, two]}\n", &d);
    assert_true(kn_json_bool(kn_json_get(v, "a"), false));
    kn_yaml_free_docs(d.docs, d.n);
    d = parse_ok("{\"a\": 1}\n---\n{\"a\": 2}\n");
    assert_int_equal(d.n, 2);
    kn_yaml_free_docs(d.docs, d.n);
}

static void test_manifest_file_errors(void **state)
{
    (void)state;
    kn_json **docs = NULL;
    size_t n = 0;
    kn_err err = {{0}};
    assert_int_equal(kn_manifest_read_file(KN_FIXTURES "/yaml/does-not-exist.yaml", &docs, &n, &err), -1);
    assert_non_null(strstr(err.msg, "does-not-exist.yaml: "));
    assert_int_equal(kn_manifest_read_file(KN_FIXTURES "/yaml/bad-indent.yaml", &docs, &n, &err), -1);
    assert_non_null(strstr(err.msg, "bad-indent.yaml: line 8, column"));
    assert_null(docs);
}

/* Writes y (then pad bytes of a comment line) to a temporary file, reads it
 * with kn_manifest_read_file() and removes it. path gets the file's name. */
static bool keep_lists; /* read_temp_manifest reads with kn_manifest_read_file_lists */

static int read_temp_manifest(const char *y, size_t pad, char path[32], kn_json ***docs, size_t *n, kn_err *err)
{
    strcpy(path, "/tmp/kn-test-yaml-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(y, f);
    for (size_t i = 0; i < pad; i += 1024)
        fprintf(f, "%01024d", 0);
    fclose(f);
    int rc =
        keep_lists ? kn_manifest_read_file_lists(path, docs, n, err) : kn_manifest_read_file(path, docs, n, err);
    unlink(path);
    return rc;
}

static void test_manifest_too_large(void **state)
{
    (void)state;
    char path[32];
    kn_json **docs = NULL;
    size_t n = 0;
    kn_err err = {{0}};
    assert_int_equal(read_temp_manifest("kind: Pod\n#", KN_MANIFEST_MAX_BYTES, path, &docs, &n, &err), -1);
    assert_non_null(strstr(err.msg, "larger than 16777216 bytes"));
    assert_true(strncmp(err.msg, path, strlen(path)) == 0);
    assert_null(docs);
}

static void test_list_flattening(void **state)
{
    (void)state;
    const char *y = "apiVersion: v1\nkind: List\nitems:\n- kind: ConfigMap\n  metadata: {name: a}\n"
                    "- kind: List\n  items:\n  - kind: Secret\n- kind: Service\n---\nkind: Pod\n---\n"
                    "kind: List\nitems: []\n";
    char path[32];
    kn_json **docs = NULL;
    size_t n = 0;
    kn_err err = {{0}};
    assert_int_equal(read_temp_manifest(y, 0, path, &docs, &n, &err), 0);
    assert_int_equal(n, 4);
    const char *kinds[] = {"ConfigMap", "Secret", "Service", "Pod"};
    for (size_t i = 0; i < n; i++)
        assert_string_equal(kn_json_get_str(docs[i], "kind"), kinds[i]);
    kn_yaml_free_docs(docs, n);
}

/* simulate's reader: Lists stay whole (their items are not copied out). */
static void test_lists_kept(void **state)
{
    (void)state;
    const char *y = "apiVersion: v1\nkind: List\nitems:\n- kind: ConfigMap\n  metadata: {name: a}\n"
                    "- kind: Service\n---\nkind: Pod\n";
    char path[32];
    kn_json **docs = NULL;
    size_t n = 0;
    kn_err err = {{0}};
    keep_lists = true;
    assert_int_equal(read_temp_manifest(y, 0, path, &docs, &n, &err), 0);
    keep_lists = false;
    assert_int_equal(n, 2);
    assert_string_equal(kn_json_get_str(docs[0], "kind"), "List");
    const kn_json *items = kn_json_get(docs[0], "items");
    assert_int_equal(kn_json_len(items), 2);
    assert_string_equal(kn_json_get_str(kn_json_at(items, 1), "kind"), "Service");
    assert_string_equal(kn_json_get_str(docs[1], "kind"), "Pod");
    kn_yaml_free_docs(docs, n);
    keep_lists = true; /* errors carry the file name as well */
    assert_int_equal(read_temp_manifest("kind: [", 0, path, &docs, &n, &err), -1);
    keep_lists = false;
    assert_true(strncmp(err.msg, path, strlen(path)) == 0);
    assert_null(docs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest_same_as_json),
        cmocka_unit_test(test_scalar_types),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_block_scalars),
        cmocka_unit_test(test_anchors_and_merge),
        cmocka_unit_test(test_billion_laughs),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_documents),
        cmocka_unit_test(test_manifest_file_errors),
        cmocka_unit_test(test_manifest_too_large),
        cmocka_unit_test(test_list_flattening),
        cmocka_unit_test(test_lists_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
