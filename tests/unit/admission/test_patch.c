/* test_patch.c - JSON Patch: ops built against the object as sent (escaped
 * keys, whole missing maps, replace when present) and RFC 6902 application
 * (the RFC's own examples and its error cases). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "admission/patch.h"

static kn_json *J(const char *s)
{
    kn_err err = {{0}};
    kn_json *v = kn_json_parse(s, strlen(s), NULL, &err);
    if (v == NULL)
        fail_msg("bad test JSON: %s: %s", err.msg, s);
    return v;
}

static void assert_json(const kn_json *v, const char *want)
{
    char *s = kn_json_dump(v, NULL);
    assert_non_null(s);
    assert_string_equal(s, want);
    free(s);
}

/* Applies patch to doc and compares with want (NULL: must fail). */
static void apply_case(const char *doc, const char *patch, const char *want)
{
    kn_json *d = J(doc), *p = J(patch);
    kn_err err = {{0}};
    kn_json *out = kn_json_patch_apply(d, p, &err);
    if (want == NULL) {
        assert_null(out);
        assert_true(strlen(err.msg) > 0);
    } else {
        if (out == NULL)
            fail_msg("patch failed: %s", err.msg);
        kn_json *w = J(want);
        if (!kn_json_equal(out, w)) {
            char *got = kn_json_dump(out, NULL);
            print_error("got %s\n", got);
            free(got);
            fail();
        }
        kn_json_free(w);
    }
    kn_json_free(out);
    kn_json_free(d);
    kn_json_free(p);
}

static void test_rfc6902_examples(void **state)
{
    (void)state;
    apply_case("{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]",
               "{\"baz\":\"qux\",\"foo\":\"bar\"}");
    apply_case("{\"foo\":[\"bar\",\"baz\"]}", "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]",
               "{\"foo\":[\"bar\",\"qux\",\"baz\"]}");
    apply_case("{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"remove\",\"path\":\"/baz\"}]",
               "{\"foo\":\"bar\"}");
    apply_case("{\"foo\":[\"bar\",\"qux\",\"baz\"]}", "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]",
               "{\"foo\":[\"bar\",\"baz\"]}");
    apply_case("{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]",
               "{\"baz\":\"boo\",\"foo\":\"bar\"}");
    apply_case("{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{\"corge\":\"grault\"}}",
               "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/thud\"}]",
               "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":\"grault\",\"thud\":\"fred\"}}");
    apply_case("{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}",
               "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]",
               "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}");
    apply_case("{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}",
               "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"qux\"},{\"op\":\"test\",\"path\":\"/foo/"
               "1\",\"value\":2}]",
               "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}");
    apply_case("{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/child\",\"value\":{\"grandchild\":{}}}]",
               "{\"foo\":\"bar\",\"child\":{\"grandchild\":{}}}");
    apply_case("{\"foo\":[\"bar\"]}", "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":[\"abc\",\"def\"]}]",
               "{\"foo\":[\"bar\",[\"abc\",\"def\"]]}");
    apply_case("{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10}]", "{\"/\":9,\"~1\":10}");
    apply_case("{\"a\":1}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"}]", "{\"a\":1,\"b\":1}");
    apply_case("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":[1]}]", "[1]");
}

static void test_rfc6902_errors(void **state)
{
    (void)state;
    /* adding to a nonexistent target */
    apply_case("{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz/bat\",\"value\":\"qux\"}]", NULL);
    /* test fails */
    apply_case("{\"baz\":\"qux\"}", "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"bar\"}]", NULL);
    apply_case("{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":\"10\"}]", NULL);
    /* replace and remove need an existing target */
    apply_case("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":2}]", NULL);
    apply_case("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/b\"}]", NULL);
    /* array indexes: out of range, leading zero, "-" only for add */
    apply_case("{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/2\",\"value\":2}]", NULL);
    apply_case("{\"a\":[1,2]}", "[{\"op\":\"remove\",\"path\":\"/a/01\"}]", NULL);
    apply_case("{\"a\":[1]}", "[{\"op\":\"remove\",\"path\":\"/a/-\"}]", NULL);
    /* malformed ops and pointers */
    apply_case("{\"a\":1}", "[{\"op\":\"frobnicate\",\"path\":\"/a\"}]", NULL);
    apply_case("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]", NULL);
    apply_case("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a~2\",\"value\":1}]", NULL);
    apply_case("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\"}]", NULL);
    apply_case("{\"a\":1}", "{\"op\":\"add\"}", NULL);
    /* a later failing op fails the whole patch */
    apply_case("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\",\"value\":1},{\"op\":\"remove\",\"path\":\"/c\"}]",
               NULL);
}

/* The pod as the API server hands it to a mutating webhook. */
static const char *POD =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"spark-pi-driver\","
    "\"labels\":{\"spark-role\":\"driver\"}},\"spec\":{\"schedulerName\":\"default-scheduler\","
    "\"containers\":[{\"name\":\"spark-kubernetes-driver\"}]}}";

static void set(kn_patch_list *ops, const kn_json *root, int n, const char *const *tok, const char *value)
{
    assert_int_equal(kn_patch_set(ops, root, tok, n, kn_json_new_string(value)), 0);
}

/* The patch built is want both as the text an answer carries and as a tree;
 * returns the tree (to apply). */
static kn_json *patch_is(const kn_patch_list *ops, const char *want)
{
    kn_json_writer w = KN_BUF_INIT;
    kn_patch_write(ops, &w);
    char *text = kn_buf_finish(&w, NULL);
    assert_non_null(text);
    assert_string_equal(text, want);
    free(text);
    kn_json *tree = kn_patch_json(ops);
    assert_non_null(tree);
    assert_json(tree, want);
    return tree;
}

static void test_build_replace_and_add(void **state)
{
    (void)state;
    kn_json *pod = J(POD);
    kn_patch_list list = {0};
    set(&list, pod, 2, (const char *const[]){"spec", "schedulerName"}, "kubenexus-scheduler");
    set(&list, pod, 3, (const char *const[]){"metadata", "labels", "pod-group.scheduling.kubenexus.io/name"},
        "spark-pi");
    set(&list, pod, 3, (const char *const[]){"metadata", "labels", "a~b"}, "x");
    kn_json *ops =
        patch_is(&list, "[{\"op\":\"replace\",\"path\":\"/spec/schedulerName\",\"value\":\"kubenexus-scheduler\"},"
                        "{\"op\":\"add\",\"path\":\"/metadata/labels/pod-group.scheduling.kubenexus.io~1name\","
                        "\"value\":\"spark-pi\"},"
                        "{\"op\":\"add\",\"path\":\"/metadata/labels/a~0b\",\"value\":\"x\"}]");
    kn_err err = {{0}};
    kn_json *out = kn_json_patch_apply(pod, ops, &err);
    assert_non_null(out);
    assert_string_equal(kn_json_str(kn_json_dig(out, "spec", "schedulerName", NULL)), "kubenexus-scheduler");
    assert_string_equal(
        kn_json_get_str(kn_json_dig(out, "metadata", "labels", NULL), "pod-group.scheduling.kubenexus.io/name"),
        "spark-pi");
    assert_string_equal(kn_json_get_str(kn_json_dig(out, "metadata", "labels", NULL), "a~b"), "x");
    assert_string_equal(kn_json_get_str(kn_json_dig(out, "metadata", "labels", NULL), "spark-role"), "driver");
    kn_json_free(out);
    kn_json_free(ops);
    kn_patch_list_free(&list);
    kn_json_free(pod);
}

/* A SparkApplication role without labels or annotations: one `add` creates
 * the map with all its members; the patch applies to the object as sent. */
static void test_build_missing_map(void **state)
{
    (void)state;
    kn_json *app = J("{\"spec\":{\"driver\":{\"cores\":1},\"executor\":{\"labels\":null}}}");
    kn_patch_list list = {0};
    set(&list, app, 4, (const char *const[]){"spec", "driver", "labels", "pod-group.scheduling.kubenexus.io/name"},
        "pi");
    set(&list, app, 4,
        (const char *const[]){"spec", "driver", "labels", "pod-group.scheduling.kubenexus.io/min-available"}, "4");
    set(&list, app, 3, (const char *const[]){"spec", "driver", "schedulerName"}, "kubenexus-scheduler");
    set(&list, app, 4, (const char *const[]){"spec", "executor", "labels", "k"}, "v");
    set(&list, app, 4, (const char *const[]){"spec", "executor", "annotations", "a/b"}, "w");
    kn_json *ops = patch_is(
        &list, "[{\"op\":\"add\",\"path\":\"/spec/driver/labels\",\"value\":"
               "{\"pod-group.scheduling.kubenexus.io/name\":\"pi\","
               "\"pod-group.scheduling.kubenexus.io/min-available\":\"4\"}},"
               "{\"op\":\"add\",\"path\":\"/spec/driver/schedulerName\",\"value\":\"kubenexus-scheduler\"},"
               "{\"op\":\"add\",\"path\":\"/spec/executor/labels\",\"value\":{\"k\":\"v\"}},"
               "{\"op\":\"add\",\"path\":\"/spec/executor/annotations\",\"value\":{\"a/b\":\"w\"}}]");
    kn_err err = {{0}};
    kn_json *out = kn_json_patch_apply(app, ops, &err);
    if (out == NULL)
        fail_msg("%s", err.msg);
    assert_json(
        out,
        "{\"spec\":{\"driver\":{\"cores\":1,\"labels\":{\"pod-group.scheduling.kubenexus.io/name\":\"pi\","
        "\"pod-group.scheduling.kubenexus.io/min-available\":\"4\"},\"schedulerName\":\"kubenexus-scheduler\"},"
        "\"executor\":{\"labels\":{\"k\":\"v\"},\"annotations\":{\"a/b\":\"w\"}}}}");
    kn_json_free(out);
    kn_json_free(ops);
    kn_patch_list_free(&list);
    kn_json_free(app);
}

static void test_build_missing_parents(void **state)
{
    (void)state;
    kn_json *app = J("{\"metadata\":{\"name\":\"x\"}}");
    kn_patch_list list = {0};
    set(&list, app, 4, (const char *const[]){"spec", "driver", "annotations", "k"}, "v");
    set(&list, app, 3, (const char *const[]){"spec", "executor", "schedulerName"}, "s");
    kn_json *ops = patch_is(
        &list, "[{\"op\":\"add\",\"path\":\"/spec\",\"value\":{\"driver\":{\"annotations\":{\"k\":\"v\"}},"
               "\"executor\":{\"schedulerName\":\"s\"}}}]");
    /* depth limits are errors, not crashes */
    assert_int_equal(kn_patch_set(&list, app, (const char *const[]){"x"}, 0, kn_json_new_string("v")), -1);
    assert_int_equal(list.n, 1);
    kn_json_free(ops);
    kn_patch_list_free(&list);
    kn_json_free(app);
}

/* The owned form edits the document itself: members in place, array
 * elements through a new tree; a failing op frees it (valgrind checks) and
 * names the op, as the copying form does. */
static void test_apply_owned(void **state)
{
    (void)state;
    kn_err err = {{0}};
    kn_json *p = J("[{\"op\":\"add\",\"path\":\"/metadata/labels/a~1b\",\"value\":\"x\"},"
                   "{\"op\":\"replace\",\"path\":\"/spec/schedulerName\",\"value\":\"k\"},"
                   "{\"op\":\"add\",\"path\":\"/spec/tolerations/-\",\"value\":{\"key\":\"t\"}},"
                   "{\"op\":\"remove\",\"path\":\"/metadata/annotations\"}]");
    kn_json *out = kn_json_patch_apply_owned(
        J("{\"metadata\":{\"labels\":{},\"annotations\":{\"z\":\"1\"}},\"spec\":{\"schedulerName\":\"d\","
          "\"tolerations\":[]}}"),
        p, &err);
    assert_non_null(out);
    assert_json(out, "{\"metadata\":{\"labels\":{\"a/b\":\"x\"}},\"spec\":{\"schedulerName\":\"k\","
                     "\"tolerations\":[{\"key\":\"t\"}]}}");
    kn_json_free(out);
    kn_json_free(p);
    p = J("[{\"op\":\"add\",\"path\":\"/a/b\",\"value\":1},{\"op\":\"replace\",\"path\":\"/a/c\",\"value\":2}]");
    assert_null(kn_json_patch_apply_owned(J("{\"a\":{}}"), p, &err));
    assert_string_equal(err.msg, "patch op 1: \"/a/c\" does not exist");
    kn_json_free(p);
    p = J("[{\"op\":\"add\",\"path\":\"/a/b/c\",\"value\":1}]");
    assert_null(kn_json_patch_apply_owned(J("{\"a\":{}}"), p, &err));
    assert_string_equal(err.msg, "patch op 0: member \"b\" does not exist");
    kn_json_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6902_examples),  cmocka_unit_test(test_apply_owned),
        cmocka_unit_test(test_rfc6902_errors),    cmocka_unit_test(test_build_replace_and_add),
        cmocka_unit_test(test_build_missing_map), cmocka_unit_test(test_build_missing_parents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
