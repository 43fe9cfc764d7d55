/* test_admission_response.c - the AdmissionReview answer kn_admit_http()
 * writes directly is, byte for byte, the one it used to build as a kn_json
 * tree and dump (kept below as the reference): for the admission fixtures
 * and the benchmark bodies, in both modes, and for denials and uids whose
 * text needs escaping. The same for the executor-reservation annotation
 * (kn_sparkapp_reservation), also written without a tree now. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission/admission.h"
#include "json/json.h"
#include "spark/numa.h"
#include "kube/resources.h"
#include "admission/rules.h"
#include "spark/sparkapp.h"

/* The answer as a tree, as admission.c built it before it wrote it directly. */
static kn_json *reference_response(const char *uid, const kn_decision *d)
{
    kn_json *resp = kn_json_new_object();
    kn_json_set_str(resp, "uid", uid);
    kn_json_set(resp, "allowed", kn_json_new_bool(d->allowed));
    if (!d->allowed) {
        kn_json *st = kn_json_new_object();
        kn_json_set_str(st, "status", "Failure");
        kn_json_set_str(st, "message", d->message);
        kn_json_set_str(st, "reason", "Forbidden");
        kn_json_set(st, "code", kn_json_new_int(403));
        kn_json_set(resp, "status", st);
    } else if (kn_json_len(d->patch) > 0) {
        size_t plen = 0;
        char *ptext = kn_json_dump(d->patch, &plen);
        assert_non_null(ptext);
        char *b64 = malloc(4 * ((plen + 2) / 3) + 1);
        assert_non_null(b64);
        EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)ptext, (int)plen);
        free(ptext);
        kn_json_set_str(resp, "patchType", "JSONPatch");
        kn_json_set_str(resp, "patch", b64);
        free(b64);
    }
    if (d->n_warnings > 0) {
        kn_json *w = kn_json_new_array();
        for (int i = 0; i < d->n_warnings; i++)
            kn_json_append(w, kn_json_new_string(d->warnings[i]));
        kn_json_set(resp, "warnings", w);
    }
    kn_json *review = kn_json_new_object();
    kn_json_set_str(review, "apiVersion", "admission.k8s.io/v1");
    kn_json_set_str(review, "kind", "AdmissionReview");
    kn_json_set(review, "response", resp);
    return review;
}

/* The reference answer for a valid review (read as kn_admit_http reads it). */
static char *reference_body(const char *body, size_t len, kn_admit_mode mode, const kn_admit_config *cfg,
                            size_t *out_len)
{
    kn_err err = {{0}};
    kn_json *root = kn_json_parse(body, len, NULL, &err);
    assert_non_null(root);
    const kn_json *req = kn_json_get(root, "request"), *k = kn_json_get(req, "kind");
    kn_rules_input in = {
        .group = kn_json_get_str(k, "group"),
        .version = kn_json_get_str(k, "version"),
        .kind = kn_json_get_str(k, "kind"),
        .operation = kn_json_get_str(req, "operation"),
        .ns = kn_json_get_str(req, "namespace"),
        .name = kn_json_get_str(req, "name"),
        .object = kn_json_get(req, "object"),
        .mode = mode,
        .cfg = cfg,
    };
    const char *sub = kn_json_get_str(req, "subResource");
    if (sub != NULL && sub[0] != '\0')
        in.kind = "";
    kn_decision d;
    kn_rules_evaluate(&in, &d);
    kn_json *tree = reference_response(kn_json_get_str(req, "uid"), &d);
    char *text = kn_json_dump(tree, out_len);
    kn_json_free(tree);
    kn_decision_free(&d);
    kn_json_free(root);
    return text;
}

static int compared;

static void check_body(const char *what, const char *body, size_t len)
{
    const kn_admit_config cfgs[] = {
        {.scheduler_name = "kubenexus-scheduler", .fill_gang_labels = true},
        {.scheduler_name = "kubenexus-scheduler", .fill_gang_labels = false},
    };
    for (int m = 0; m < 2; m++)
        for (int c = 0; c < 2; c++) {
            kn_admit_result r;
            kn_admit_http(body, len, m ? KN_ADMIT_VALIDATE : KN_ADMIT_MUTATE, &cfgs[c], &r);
            assert_int_equal(r.http_status, 200);
            size_t want_len = 0;
            char *want = reference_body(body, len, m ? KN_ADMIT_VALIDATE : KN_ADMIT_MUTATE, &cfgs[c], &want_len);
            if (r.body_len != want_len || memcmp(r.body, want, want_len) != 0)
                fail_msg("%s (mode %d, fill %d):\n got %.*s\nwant %s", what, m, c == 0, (int)r.body_len, r.body,
                         want);
            free(want);
            kn_admit_result_free(&r);
            compared++;
        }
}

static void check_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    check_body(path, buf, n);
}

static void check_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        fail_msg("cannot open %s", dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        check_file(path);
    }
    closedir(d);
}

static void test_fixtures_and_bench_bodies_answer_as_before(void **state)
{
    (void)state;
    compared = 0;
    check_dir(KN_FIXTURES "/admission");
    check_dir(KN_FIXTURES "/../bench/bodies");
    assert_true(compared >= 4 * 13); /* 10 fixtures + 3 bodies, 4 ways each */
}

/* Reviews of a pod whose uid, schedulerName and gang size need escaping,
 * quoted in a warning or a denial. */
static void test_escaped_uid_and_denial_message_answer_as_before(void **state)
{
    (void)state;
    static const char *const sched[][2] = {
        /* a warning quotes the scheduler name */
        {"other\\\"sched\\n\\t\\u0001", "3"},
        {"caf\\u00e9 \\ud83d\\ude00 </script>", "3"},
        /* a denial quotes the label */
        {"kubenexus-scheduler", "x\\\"\\n\\u0001\\u00e9"},
    };
    for (size_t i = 0; i < sizeof(sched) / sizeof(sched[0]); i++) {
        char body[2048];
        int n = snprintf(
            body, sizeof(body),
            "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
            "\"uid\":\"u-\\\"1\\\\\\u0002\\u00ff\",\"kind\":{\"group\":\"\",\"version\":\"v1\","
            "\"kind\":\"Pod\"},\"operation\":\"CREATE\",\"namespace\":\"ns\",\"object\":{"
            "\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"labels\":{"
            "\"spark-role\":\"driver\",\"pod-group.scheduling.kubenexus.io/name\":\"g\","
            "\"pod-group.scheduling.kubenexus.io/min-available\":\"%s\"}},\"spec\":{\"schedulerName\":\"%s\","
            "\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}",
            sched[i][1], sched[i][0]);
        check_body(sched[i][0], body, (size_t)n);
    }
}

/* ---- the reservation annotation ---- */

static kn_json *reference_selector(const kn_json *app, kn_spark_role role)
{
    kn_json *sel = kn_json_new_object();
    const kn_json *srcs[2] = {kn_json_dig(app, "spec", "nodeSelector", NULL),
                              kn_json_get(kn_sparkapp_role(app, role), "nodeSelector")};
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < kn_json_len(srcs[s]); i++)
            kn_json_set(sel, kn_json_key_at(srcs[s], i), kn_json_clone(kn_json_value_at(srcs[s], i)));
    return sel;
}

static bool reference_same(const kn_json *a, const kn_json *b)
{
    if (kn_json_len(a) == 0 && kn_json_len(b) == 0)
        return true;
    return a != NULL && b != NULL && kn_json_equal(a, b);
}

/* kn_sparkapp_reservation as it was: a tree, dumped. */
static char *reference_reservation(const kn_json *app)
{
    int n;
    bool dyn;
    kn_resources req;
    kn_numa_spec numa;
    kn_err err = {{0}};
    assert_int_equal(kn_sparkapp_executor_count(app, &n, &dyn, &err), 0);
    assert_int_equal(kn_sparkapp_pod_resources(app, KN_SPARK_EXECUTOR, &req, NULL, &err), 0);
    assert_int_equal(kn_numa_from_annotations(kn_json_get(kn_sparkapp_role(app, KN_SPARK_EXECUTOR), "annotations"),
                                              &numa, &err),
                     0);
    kn_json *r = kn_json_new_object();
    kn_json_set(r, "count", kn_json_new_int(n));
    kn_json_set(r, "requests", kn_res_to_json(&req));
    if (numa.policy != KN_NUMA_NONE) {
        char res[KN_NUMA_MAX_RESOURCES * KN_RESOURCE_NAME_MAX];
        kn_numa_resources_str(&numa, res, sizeof(res));
        kn_json *nj = kn_json_new_object();
        kn_json_set_str(nj, "policy", kn_numa_policy_name(numa.policy));
        kn_json_set_str(nj, "resources", res);
        kn_json_set(r, "numa", nj);
    }
    const kn_json *drv = kn_sparkapp_role(app, KN_SPARK_DRIVER), *exe = kn_sparkapp_role(app, KN_SPARK_EXECUTOR);
    kn_json *dsel = reference_selector(app, KN_SPARK_DRIVER), *esel = reference_selector(app, KN_SPARK_EXECUTOR);
    const kn_json *etol = kn_json_get(exe, "tolerations"), *eaff = kn_json_get(exe, "affinity");
    if (!reference_same(dsel, esel) || !reference_same(kn_json_get(drv, "tolerations"), etol) ||
        !reference_same(kn_json_get(drv, "affinity"), eaff)) {
        kn_json_set(r, "nodeSelector", esel);
        esel = NULL;
        if (kn_json_len(etol) > 0)
            kn_json_set(r, "tolerations", kn_json_clone(etol));
        if (kn_json_len(eaff) > 0)
            kn_json_set(r, "affinity", kn_json_clone(eaff));
    }
    kn_json_free(dsel);
    kn_json_free(esel);
    char *text = kn_json_dump(r, NULL);
    kn_json_free(r);
    return text;
}

static void check_reservation(const char *what, const kn_json *app)
{
    kn_err err = {{0}};
    char *got = kn_sparkapp_reservation(app, &err);
    if (got == NULL)
        fail_msg("%s: %s", what, err.msg);
    char *want = reference_reservation(app);
    if (strcmp(got, want) != 0)
        fail_msg("%s:\n got %s\nwant %s", what, got, want);
    free(got);
    free(want);
}

static kn_json *parse_text(const char *text)
{
    kn_err err = {{0}};
    kn_json *v = kn_json_parse(text, strlen(text), NULL, &err);
    if (v == NULL)
        fail_msg("%s: %s", text, err.msg);
    return v;
}

static void test_reservation_written_as_before(void **state)
{
    (void)state;
    static const char *const apps[] = {"sparkapp-data-processing.json", "sparkapp-kafka-stream.json",
                                       "sparkapp-spark-ml-gpu.json", "sparkapp-spark-pi.json"};
    for (size_t i = 0; i < sizeof(apps) / sizeof(apps[0]); i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/admission/%s", KN_FIXTURES, apps[i]);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        static char buf[1 << 20];
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        kn_err err = {{0}};
        kn_json *review = kn_json_parse(buf, n, NULL, &err);
        assert_non_null(review);
        kn_json *app = kn_json_dig(review, "request", "object", NULL);
        kn_json *exe = kn_json_dig(app, "spec", "executor", NULL);
        assert_non_null(exe);
        check_reservation(apps[i], app);
        /* executors under their own constraints, with text to escape */
        kn_json_set(exe, "nodeSelector", parse_text("{\"pool\":\"exec\\\"\\n\u00e9\",\"zone\":\"a\"}"));
        kn_json_set(exe, "tolerations",
                    parse_text("[{\"key\":\"gpu\",\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}]"));
        check_reservation(apps[i], app);
        kn_json_set(kn_json_get(app, "spec"), "nodeSelector", parse_text("{\"zone\":\"b\",\"rack\":\"r1\"}"));
        kn_json_set(exe, "affinity", parse_text("{\"nodeAffinity\":{}}"));
        check_reservation(apps[i], app);
        /* NUMA on the executors */
        kn_json *ann = kn_json_get(exe, "annotations");
        if (ann == NULL) {
            kn_json_set(exe, "annotations", kn_json_new_object());
            ann = kn_json_get(exe, "annotations");
        }
        kn_json_set_str(ann, KN_NUMA_POLICY_ANNOTATION, "single-numa");
        kn_json_set_str(ann, KN_NUMA_RESOURCES_ANNOTATION, "cpu,memory");
        check_reservation(apps[i], app);
        kn_json_free(review);
    }
}

/* ---- string escapes ---- */

/* kn_json_dump writes short strings in one go and long ones piece by piece;
 * both must give what yajl_gen gives (kn_json_dump_pretty goes through it:
 * a lone string has no whitespace to differ in). */
static void check_string_dump(const char *s, size_t n)
{
    kn_json *v = kn_json_new_stringn(s, n);
    assert_non_null(v);
    size_t glen = 0, wlen = 0;
    char *got = kn_json_dump(v, &glen), *want = kn_json_dump_pretty(v, &wlen);
    assert_non_null(got);
    assert_non_null(want);
    if (glen != wlen || memcmp(got, want, glen) != 0)
        fail_msg("string of %zu bytes:\n got %s\nwant %s", n, got, want);
    free(got);
    free(want);
    kn_json_free(v);
}

static void test_strings_dump_as_yajl_gen(void **state)
{
    (void)state;
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i; /* every control byte, quote, backslash, invalid UTF-8 */
    check_string_dump(all, sizeof(all));
    for (int i = 0; i < 256; i++)
        check_string_dump(all + i, 1);
    static const char mixed[] = "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82 \xed\xa0\x80 \xc0\xaf \"q\" \\ </x>\n";
    check_string_dump(mixed, sizeof(mixed) - 1);
    /* past the one-reservation limit, escapes at the seams */
    static char big[3 * 4096 + 7];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = i % 7 == 0 ? '"' : i % 11 == 0 ? '\x01' : i % 13 == 0 ? (char)0xff : (char)('a' + i % 26);
    for (size_t n = 4090; n < 4100; n++)
        check_string_dump(big, n);
    check_string_dump(big, sizeof(big));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_and_bench_bodies_answer_as_before),
        cmocka_unit_test(test_escaped_uid_and_denial_message_answer_as_before),
        cmocka_unit_test(test_reservation_written_as_before),
        cmocka_unit_test(test_strings_dump_as_yajl_gen),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
