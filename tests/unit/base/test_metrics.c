/* Prometheus text exposition as a scraper reads it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include <cmocka.h>

#include "base/metrics.h"

static char *render(kn_metrics *reg)
{
    size_t len = 0;
    char *text = kn_metrics_render(reg, &len);
    assert_non_null(text);
    assert_int_equal(len, strlen(text));
    return text;
}

static void expect_render(kn_metrics *reg, const char *want)
{
    char *text = render(reg);
    if (strcmp(text, want) != 0)
        fail_msg("rendered:\n%s\nwanted:\n%s", text, want);
    free(text);
}

static void test_counter_and_gauge(void **state)
{
    (void)state;
    kn_metrics *reg = kn_metrics_new();
    kn_metric *req = kn_metrics_counter(reg, "kubenexus_webhook_requests_total", "Admission requests.", 3,
                                        (const char *[]){"path", "kind", "verdict"});
    kn_metric *up = kn_metrics_gauge(reg, "kubenexus_up", "1 when serving.", 0, NULL);
    assert_non_null(req);
    assert_non_null(up);
    kn_metric_inc(req, (const char *[]){"/mutate", "Pod", "allowed"}, 1);
    kn_metric_inc(req, (const char *[]){"/validate", "SparkApplication", "denied"}, 1);
    kn_metric_inc(req, (const char *[]){"/mutate", "Pod", "allowed"}, 2);
    kn_metric_set(up, NULL, 1);
    expect_render(
        reg,
        "# HELP kubenexus_webhook_requests_total Admission requests.\n"
        "# TYPE kubenexus_webhook_requests_total counter\n"
        "kubenexus_webhook_requests_total{path=\"/mutate\",kind=\"Pod\",verdict=\"allowed\"} 3\n"
        "kubenexus_webhook_requests_total{path=\"/validate\",kind=\"SparkApplication\",verdict=\"denied\"} 1\n"
        "# HELP kubenexus_up 1 when serving.\n"
        "# TYPE kubenexus_up gauge\n"
        "kubenexus_up 1\n");
    kn_metric_set(up, NULL, 0.25);
    kn_metric_inc(up, NULL, -1); /* gauges go down */
    char *text = render(reg);
    assert_non_null(strstr(text, "\nkubenexus_up -0.75\n"));
    free(text);
    kn_metrics_free(reg);
}

static void test_unlabelled_metric_shows_zero(void **state)
{
    (void)state;
    kn_metrics *reg = kn_metrics_new();
    assert_non_null(kn_metrics_counter(reg, "kubenexus_binds_total", "Bindings.", 0, NULL));
    assert_non_null(kn_metrics_counter(reg, "kubenexus_errors_total", "Errors.", 1, (const char *[]){"reason"}));
    expect_render(reg, "# HELP kubenexus_binds_total Bindings.\n"
                       "# TYPE kubenexus_binds_total counter\n"
                       "kubenexus_binds_total 0\n"
                       "# HELP kubenexus_errors_total Errors.\n"
                       "# TYPE kubenexus_errors_total counter\n");
    kn_metrics_free(reg);
}

static void test_escaping(void **state)
{
    (void)state;
    kn_metrics *reg = kn_metrics_new();
    kn_metric *m = kn_metrics_counter(reg, "kubenexus_rejections_total",
                                      "Rejected objects; \"quoted\" help\nwith a \\ backslash.", 1,
                                      (const char *[]){"reason"});
    kn_metric_inc(m, (const char *[]){"bad \"name\"\nC:\\spark"}, 1);
    kn_metric_inc(m, (const char *[]){NULL}, 1); /* NULL reads as "" */
    kn_metric_inc(m, NULL, 1);                   /* and so does a NULL array */
    expect_render(reg,
                  "# HELP kubenexus_rejections_total Rejected objects; \"quoted\" help\\nwith a \\\\ backslash.\n"
                  "# TYPE kubenexus_rejections_total counter\n"
                  "kubenexus_rejections_total{reason=\"bad \\\"name\\\"\\nC:\\\\spark\"} 1\n"
                  "kubenexus_rejections_total{reason=\"\"} 2\n");
    kn_metrics_free(reg);
}

static void test_histogram(void **state)
{
    (void)state;
    kn_metrics *reg = kn_metrics_new();
    static const double b[] = {0.005, 0.1, 1, 2.5};
    kn_metric *h = kn_metrics_histogram(reg, "kubenexus_webhook_duration_seconds", "Latency.", 1,
                                        (const char *[]){"path"}, 4, b);
    assert_non_null(h);
    const char *const mut[] = {"/mutate"};
    kn_metric_observe(h, mut, 0.005); /* on a bound: counts in that bucket (le is <=) */
    kn_metric_observe(h, mut, 0.05);
    kn_metric_observe(h, mut, 0.5);
    kn_metric_observe(h, mut, 7);
    kn_metric_observe(h, (const char *[]){"/validate"}, 0.001);
    expect_render(reg, "# HELP kubenexus_webhook_duration_seconds Latency.\n"
                       "# TYPE kubenexus_webhook_duration_seconds histogram\n"
                       "kubenexus_webhook_duration_seconds_bucket{path=\"/mutate\",le=\"0.005\"} 1\n"
                       "kubenexus_webhook_duration_seconds_bucket{path=\"/mutate\",le=\"0.1\"} 2\n"
                       "kubenexus_webhook_duration_seconds_bucket{path=\"/mutate\",le=\"1\"} 3\n"
                       "kubenexus_webhook_duration_seconds_bucket{path=\"/mutate\",le=\"2.5\"} 3\n"
                       "kubenexus_webhook_duration_seconds_bucket{path=\"/mutate\",le=\"+Inf\"} 4\n"
                       "kubenexus_webhook_duration_seconds_sum{path=\"/mutate\"} 7.555\n"
                       "kubenexus_webhook_duration_seconds_count{path=\"/mutate\"} 4\n"
                       "kubenexus_webhook_duration_seconds_bucket{path=\"/validate\",le=\"0.005\"} 1\n"
                       "kubenexus_webhook_duration_seconds_bucket{path=\"/validate\",le=\"0.1\"} 1\n"
                       "kubenexus_webhook_duration_seconds_bucket{path=\"/validate\",le=\"1\"} 1\n"
                       "kubenexus_webhook_duration_seconds_bucket{path=\"/validate\",le=\"2.5\"} 1\n"
                       "kubenexus_webhook_duration_seconds_bucket{path=\"/validate\",le=\"+Inf\"} 1\n"
                       "kubenexus_webhook_duration_seconds_sum{path=\"/validate\"} 0.001\n"
                       "kubenexus_webhook_duration_seconds_count{path=\"/validate\"} 1\n");
    kn_metrics_free(reg);
}

static void test_histogram_without_labels(void **state)
{
    (void)state;
    kn_metrics *reg = kn_metrics_new();
    kn_metric *h = kn_metrics_histogram(reg, "kubenexus_cycle_seconds", "Cycle.", 0, NULL, 1, (const double[]){1});
    kn_metric_observe(h, NULL, 3);
    expect_render(reg, "# HELP kubenexus_cycle_seconds Cycle.\n"
                       "# TYPE kubenexus_cycle_seconds histogram\n"
                       "kubenexus_cycle_seconds_bucket{le=\"1\"} 0\n"
                       "kubenexus_cycle_seconds_bucket{le=\"+Inf\"} 1\n"
                       "kubenexus_cycle_seconds_sum 3\n"
                       "kubenexus_cycle_seconds_count 1\n");
    kn_metrics_free(reg);
}

static void test_registration_rules(void **state)
{
    (void)state;
    kn_metrics *reg = kn_metrics_new();
    const char *const l1[] = {"node"};
    kn_metric *a = kn_metrics_gauge(reg, "kubenexus_free_cpu", "Free.", 1, l1);
    assert_non_null(a);
    assert_ptr_equal(kn_metrics_gauge(reg, "kubenexus_free_cpu", "Free.", 1, l1), a);
    assert_null(kn_metrics_counter(reg, "kubenexus_free_cpu", "Free.", 1, l1));
    assert_null(kn_metrics_gauge(reg, "kubenexus_free_cpu", "Free.", 1, (const char *[]){"zone"}));
    assert_null(kn_metrics_gauge(reg, "9lives", "x", 0, NULL));
    assert_null(kn_metrics_gauge(reg, "bad-name", "x", 0, NULL));
    assert_null(kn_metrics_gauge(reg, "", "x", 0, NULL));
    assert_null(kn_metrics_gauge(reg, "ok", "x", 1, (const char *[]){"bad:label"}));
    assert_null(kn_metrics_gauge(reg, "ok", "x", 1, (const char *[]){"__reserved"}));
    assert_null(kn_metrics_gauge(reg, "ok", "x", 2, (const char *[]){"a", "a"}));
    assert_null(kn_metrics_histogram(reg, "h", "x", 1, (const char *[]){"le"}, 1, (const double[]){1}));
    assert_null(kn_metrics_histogram(reg, "h", "x", 0, NULL, 2, (const double[]){1, 1}));
    assert_null(kn_metrics_histogram(reg, "h", "x", 0, NULL, 2, (const double[]){2, 1}));
    /* None of the refused ones shows up. */
    expect_render(reg, "# HELP kubenexus_free_cpu Free.\n# TYPE kubenexus_free_cpu gauge\n");
    kn_metrics_free(reg);
}

static void test_ignored_updates(void **state)
{
    (void)state;
    kn_metrics *reg = kn_metrics_new();
    kn_metric *c = kn_metrics_counter(reg, "c_total", "C.", 0, NULL);
    kn_metric_inc(c, NULL, -5);    /* counters never go down */
    kn_metric_set(c, NULL, 42);    /* set is for gauges */
    kn_metric_observe(c, NULL, 1); /* observe is for histograms */
    kn_metric_inc(NULL, NULL, 1);  /* a metric that failed to register */
    kn_metric_inc(c, NULL, 0.5);
    expect_render(reg, "# HELP c_total C.\n# TYPE c_total counter\nc_total 0.5\n");
    kn_metrics_free(reg);
    kn_metrics_free(NULL);
}

static void test_number_format(void **state)
{
    (void)state;
    kn_metrics *reg = kn_metrics_new();
    kn_metric *g = kn_metrics_gauge(reg, "g", "G.", 1, (const char *[]){"k"});
    kn_metric_set(g, (const char *[]){"big"}, 9007199254740992.0);
    kn_metric_set(g, (const char *[]){"tenth"}, 0.1);
    kn_metric_set(g, (const char *[]){"million"}, 1e6);
    kn_metric_set(g, (const char *[]){"six"}, 123456);
    kn_metric_set(g, (const char *[]){"seven"}, 1234567);
    kn_metric_set(g, (const char *[]){"tiny"}, 0.00001);
    kn_metric_set(g, (const char *[]){"inf"}, 1.0 / 0.0);
    kn_metric_set(g, (const char *[]){"ninf"}, -1.0 / 0.0);
    char *text = render(reg);
    assert_non_null(strstr(text, "g{k=\"big\"} 9.007199254740992e+15\n"));
    assert_non_null(strstr(text, "g{k=\"tenth\"} 0.1\n"));
    assert_non_null(strstr(text, "g{k=\"million\"} 1e+06\n"));
    assert_non_null(strstr(text, "g{k=\"six\"} 123456\n"));
    assert_non_null(strstr(text, "g{k=\"seven\"} 1.234567e+06\n"));
    assert_non_null(strstr(text, "g{k=\"tiny\"} 1e-05\n"));
    assert_non_null(strstr(text, "g{k=\"inf\"} +Inf\n"));
    assert_non_null(strstr(text, "g{k=\"ninf\"} -Inf\n"));
    free(text);
    kn_metrics_free(reg);
}

static void test_series_bound(void **state)
{
    (void)state;
    kn_metrics *reg = kn_metrics_new();
    kn_metric *m = kn_metrics_counter(reg, "kubenexus_pods_seen_total", "Pods.", 1, (const char *[]){"pod"});
    char v[32];
    for (int i = 0; i < KN_METRICS_MAX_SERIES + 5; i++) {
        snprintf(v, sizeof(v), "pod-%d", i);
        kn_metric_inc(m, (const char *[]){v}, 1);
    }
    kn_metric_inc(m, (const char *[]){"pod-0"}, 1); /* an existing series still counts */
    char *text = render(reg);
    assert_non_null(strstr(text, "kubenexus_pods_seen_total{pod=\"pod-0\"} 2\n"));
    assert_non_null(strstr(text, "kubenexus_pods_seen_total{pod=\"pod-9999\"} 1\n"));
    assert_null(strstr(text, "pod-10000"));
    assert_non_null(strstr(text, "# TYPE " KN_METRICS_DROPPED_NAME " counter\n" KN_METRICS_DROPPED_NAME
                                 "{metric=\"kubenexus_pods_seen_total\"} 5\n"));
    free(text);
    kn_metrics_free(reg);
}

typedef struct worker {
    kn_metric *c, *h;
    int id;
} worker;

static int work(void *arg)
{
    worker *w = arg;
    char v[16];
    snprintf(v, sizeof(v), "t%d", w->id % 2);
    for (int i = 0; i < 2000; i++) {
        kn_metric_inc(w->c, (const char *[]){v}, 1);
        kn_metric_observe(w->h, NULL, 0.5);
    }
    return 0;
}

static void test_concurrent_updates(void **state)
{
    (void)state;
    kn_metrics *reg = kn_metrics_new();
    worker w[4];
    thrd_t th[4];
    kn_metric *c = kn_metrics_counter(reg, "ops_total", "Ops.", 1, (const char *[]){"t"});
    kn_metric *h = kn_metrics_histogram(reg, "op_seconds", "Op.", 0, NULL, 1, (const double[]){1});
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){c, h, i};
        assert_int_equal(thrd_create(&th[i], work, &w[i]), thrd_success);
    }
    for (int i = 0; i < 4; i++)
        thrd_join(th[i], NULL);
    char *text = render(reg);
    assert_non_null(strstr(text, "ops_total{t=\"t0\"} 4000\n"));
    assert_non_null(strstr(text, "ops_total{t=\"t1\"} 4000\n"));
    assert_non_null(strstr(text, "op_seconds_count 8000\n"));
    assert_non_null(strstr(text, "op_seconds_sum 4000\n"));
    free(text);
    kn_metrics_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_and_gauge),
        cmocka_unit_test(test_unlabelled_metric_shows_zero),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_histogram_without_labels),
        cmocka_unit_test(test_registration_rules),
        cmocka_unit_test(test_ignored_updates),
        cmocka_unit_test(test_number_format),
        cmocka_unit_test(test_series_bound),
        cmocka_unit_test(test_concurrent_updates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
