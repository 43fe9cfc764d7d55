/* test_monitoring.c - deploy/monitoring/ against what the binaries export.
 *
 * A dashboard panel or an alert on a metric the binaries do not export, or
 * grouped by a label they do not set, shows nothing and never fires, and
 * nobody notices until the outage it was meant for. So the real binaries
 * are run and scraped: kubenexus-webhook (a test certificate; reviews allowed,
 * patched, denied and malformed, wrong paths and methods, a TLS 1.1 client,
 * a certificate rotated then a broken one) and kubenexus-scheduler against
 * the API server double (a NUMA pod whose first binding gets a 500, a gang
 * short of a member, a pod with topology spread constraints). Every PromQL expression of the PrometheusRule and of
 * the Grafana dashboard is read (support/promql.c) and each selector checked
 * against the scrape: the metric is exported, rate() and increase() read a
 * counter or histogram series, every label matched or grouped by is set on
 * it (or added by the scrape: instance, job, namespace, pod, ...), every
 * label value matched was seen. Also: every exported metric is on the
 * dashboard or in an alert, every alert is explained in README.md, the
 * ServiceMonitors reach the Services' metrics ports of every install, and
 * where promtool is installed the rules pass `promtool check rules` and the
 * alert tests of tests/fixtures/monitoring/alerts-test.yaml. */
#include <limits.h>
#include <openssl/ssl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "apiserver_double.h"
#include "http_client.h"
#include "json/json.h"
#include "kustomize.h"
#include "proc.h"
#include "promql.h"
#include "sched_fixture.h"
#include "tls_client.h"
#include "webhook_proc.h"

#define WAIT_S 30
#define MAX_SERIES 128
#define MAX_LABELS 8
#define MAX_VALUES 48

/* ---------------------------------------------------------------- scrapes */

typedef struct label_seen {
    char name[64];
    char *values[MAX_VALUES];
    int n_values;
} label_seen;

typedef struct series_seen {
    char name[160];
    label_seen labels[MAX_LABELS];
    int n_labels;
} series_seen;

typedef struct family {
    char name[160], type[16];
} family;

static struct {
    family fam[MAX_SERIES];
    int n_fam;
    series_seen ser[MAX_SERIES];
    int n_ser;
} g_reg;

/* Labels a scrape adds to every series (Prometheus: instance, job; the
 * Prometheus Operator from the ServiceMonitor's target: the rest). */
static const char *const TARGET_LABELS[] = {"instance", "job",      "namespace", "pod",
                                            "service",  "endpoint", "container", NULL};

static bool target_label(const char *l)
{
    for (const char *const *t = TARGET_LABELS; *t; t++)
        if (strcmp(*t, l) == 0)
            return true;
    return false;
}

static series_seen *series_of(const char *name, bool add)
{
    for (int i = 0; i < g_reg.n_ser; i++)
        if (strcmp(g_reg.ser[i].name, name) == 0)
            return &g_reg.ser[i];
    if (!add || g_reg.n_ser == MAX_SERIES)
        return NULL;
    series_seen *s = &g_reg.ser[g_reg.n_ser++];
    snprintf(s->name, sizeof(s->name), "%s", name);
    return s;
}

static label_seen *label_of(series_seen *s, const char *name, bool add)
{
    for (int i = 0; s && i < s->n_labels; i++)
        if (strcmp(s->labels[i].name, name) == 0)
            return &s->labels[i];
    if (!add || s == NULL || s->n_labels == MAX_LABELS)
        return NULL;
    label_seen *l = &s->labels[s->n_labels++];
    snprintf(l->name, sizeof(l->name), "%s", name);
    return l;
}

static bool value_seen(const label_seen *l, const char *v)
{
    for (int i = 0; l && i < l->n_values; i++)
        if (strcmp(l->values[i], v) == 0)
            return true;
    return false;
}

/* Prometheus text format 0.0.4 into g_reg. */
static void read_scrape(const char *text)
{
    char *copy = strdup(text);
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[160], type[16];
        if (sscanf(line, "# TYPE %159s %15s", name, type) == 2 && g_reg.n_fam < MAX_SERIES) {
            family *f = &g_reg.fam[g_reg.n_fam++];
            snprintf(f->name, sizeof(f->name), "%s", name);
            snprintf(f->type, sizeof(f->type), "%s", type);
            continue;
        }
        if (line[0] == '#')
            continue;
        size_t n = strcspn(line, "{ ");
        snprintf(name, sizeof(name), "%.*s", (int)n, line);
        series_seen *s = series_of(name, true);
        assert_non_null(s);
        if (line[n] != '{')
            continue;
        for (char *p = line + n + 1; *p && *p != '}';) {
            char *eq = strchr(p, '=');
            assert_non_null(eq);
            char label[64], value[256];
            snprintf(label, sizeof(label), "%.*s", (int)(eq - p), p);
            size_t k = 0;
            for (p = eq + 2; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1])
                    p++;
                if (k + 1 < sizeof(value))
                    value[k++] = *p;
            }
            value[k] = '\0';
            p += *p == '"';
            p += *p == ',';
            label_seen *l = label_of(s, label, true);
            assert_non_null(l);
            if (!value_seen(l, value) && l->n_values < MAX_VALUES)
                l->values[l->n_values++] = strdup(value);
        }
    }
    free(copy);
}

/* The family a sample name belongs to, and its type: x_bucket, x_sum and
 * x_count are series of the histogram x. NULL if nothing exports it. */
static const family *family_of(const char *series, bool *is_part)
{
    *is_part = false;
    for (int i = 0; i < g_reg.n_fam; i++)
        if (strcmp(g_reg.fam[i].name, series) == 0)
            return strcmp(g_reg.fam[i].type, "histogram") == 0 ? NULL : &g_reg.fam[i];
    const char *suffixes[] = {"_bucket", "_sum", "_count"};
    for (int k = 0; k < 3; k++) {
        size_t n = strlen(series), sl = strlen(suffixes[k]);
        if (n <= sl || strcmp(series + n - sl, suffixes[k]) != 0)
            continue;
        for (int i = 0; i < g_reg.n_fam; i++)
            if (strlen(g_reg.fam[i].name) == n - sl && strncmp(g_reg.fam[i].name, series, n - sl) == 0 &&
                strcmp(g_reg.fam[i].type, "histogram") == 0) {
                *is_part = true;
                return &g_reg.fam[i];
            }
    }
    return NULL;
}

/* ---------------------------------------------------------------- the binaries */

static struct {
    char *dir;
    kn_it_webhook wh;
    char ca[600];
    kn_dbl d;
    kn_sched_proc sched;
    bool dbl_up;
    char *deploy; /* a copy of deploy/ with certificates */
    kn_kz_objs mon[2], inst[4];
    kn_json *dashboard;
    const kn_json *rule;
} g;

static const struct {
    const char *dir, *ns;
    int mon; /* which monitoring render goes with it */
} INSTALLS[] = {
    {"", "kube-system", 0},
    {"cert-manager", "kube-system", 0},
    {"overlays/dedicated-namespace", "kubenexus-system", 1},
    {"overlays/dedicated-namespace/cert-manager", "kubenexus-system", 1},
};
static const char *const MONITORING[] = {"monitoring", "overlays/dedicated-namespace/monitoring"};

static long webhook_call(const char *method, const char *path, const char *body, char **out)
{
    char url[256];
    snprintf(url, sizeof(url), "https://localhost:%d%s", g.wh.port, path);
    CURL *c = curl_easy_init();
    kn_http_resp r;
    kn_http_do(c, method, url, body, body ? strlen(body) : 0, g.ca, CURL_HTTP_VERSION_1_1, &r);
    curl_easy_cleanup(c);
    long st = r.rc == CURLE_OK ? r.status : 0;
    if (out)
        *out = r.body ? strdup(r.body) : NULL;
    kn_http_resp_free(&r);
    return st;
}

static char *fixture(const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", KN_FIXTURES, name);
    char *text = kn_it_read_file(path, NULL);
    assert_non_null(text);
    return text;
}

/* Polls a scrape until every needle is in it (bounded); the last scrape, malloc'd. */
static char *scrape_until(char *(*scrape)(void), const char *const *needles)
{
    char *text = NULL;
    for (int waited = 0; waited <= WAIT_S * 1000; waited += 100) {
        free(text);
        text = scrape();
        bool all = text != NULL;
        for (int i = 0; all && needles[i]; i++)
            all = strstr(text, needles[i]) != NULL;
        if (all)
            return text;
        kn_it_sleep_ms(100);
    }
    for (int i = 0; needles[i]; i++)
        if (text == NULL || strstr(text, needles[i]) == NULL)
            print_message("never scraped: %s\n", needles[i]);
    print_message("the last scrape:\n%s\n", text ? text : "(none)");
    fail_msg("the binaries did not export what the test drove (see above)");
    return NULL;
}

static char *webhook_metrics(void)
{
    char *body = NULL;
    return webhook_call("GET", "/metrics", NULL, &body) == 200 ? body : (free(body), NULL);
}

static char *scheduler_metrics(void)
{
    char *body = NULL;
    return kn_sched_proc_http(&g.sched, "/metrics", &body) == 200 ? body : (free(body), NULL);
}

static void drive_webhook(void)
{
    g.dir = kn_it_tempdir("kn-monitoring");
    assert_non_null(g.dir);
    char ca_args[1400];
    snprintf(ca_args, sizeof(ca_args), "--ca-cert '%s/v1/ca.crt' --ca-key '%s/v1/ca.key'", g.dir, g.dir);
    assert_int_equal(kn_it_gen_certs(g.dir, "v1", NULL), 0);
    assert_int_equal(kn_it_gen_certs(g.dir, "v2", ca_args), 0);
    assert_int_equal(
        kn_it_sh("mkdir '%s/live' && cp '%s/v1/tls.crt' '%s/v1/tls.key' '%s/live/'", g.dir, g.dir, g.dir, g.dir),
        0);
    snprintf(g.ca, sizeof(g.ca), "%s/v1/ca.crt", g.dir);
    char cert[700], key[700];
    snprintf(cert, sizeof(cert), "%s/live/tls.crt", g.dir);
    snprintf(key, sizeof(key), "%s/live/tls.key", g.dir);
    const char *flags[] = {"--cert-reload-interval=200ms", NULL};
    assert_int_equal(kn_it_webhook_start(&g.wh, g.dir, cert, key, flags), 0);

    /* Reviews as the API server sends them: patched, denied, allowed, not a review. */
    char *app = fixture("admission/sparkapp-spark-pi.json");
    assert_int_equal(webhook_call("POST", "/mutate", app, NULL), 200);
    char *wrong = strstr(app, "\"pod-group.scheduling.kubenexus.io/min-available\": \"4\"");
    assert_non_null(wrong);
    wrong[strlen("\"pod-group.scheduling.kubenexus.io/min-available\": \"")] = '3';
    char *answer = NULL;
    assert_int_equal(webhook_call("POST", "/mutate", app, &answer), 200);
    assert_non_null(strstr(answer, "\"allowed\":false"));
    free(answer);
    free(app);
    char *pod = fixture("admission/pod-plain.json");
    assert_int_equal(webhook_call("POST", "/validate", pod, NULL), 200);
    free(pod);
    assert_int_equal(webhook_call("POST", "/mutate", "{\"kind\":", NULL), 400);
    /* Other clients: a wrong path, a wrong method, TLS 1.1. */
    assert_int_equal(webhook_call("GET", "/nope", NULL, NULL), 404);
    assert_int_equal(webhook_call("GET", "/mutate", NULL, NULL), 405);
    kn_it_tls t;
    assert_int_equal(kn_it_tls_connect(&t, g.wh.port, g.ca, TLS1_VERSION, TLS1_1_VERSION), -1);
    /* A renewed certificate swapped in, then a key that does not match it. */
    assert_int_equal(kn_it_sh("cp '%s/v2/tls.key' '%s/live/k' && cp '%s/v2/tls.crt' '%s/live/c' && "
                              "mv '%s/live/k' '%s/live/tls.key' && mv '%s/live/c' '%s/live/tls.crt'",
                              g.dir, g.dir, g.dir, g.dir, g.dir, g.dir, g.dir, g.dir),
                     0);
    const char *reloaded[] = {"kubenexus_webhook_cert_reloads_total{result=\"success\"}", NULL};
    free(scrape_until(webhook_metrics, reloaded));
    assert_int_equal(
        kn_it_sh("cp '%s/v1/tls.key' '%s/live/k' && mv '%s/live/k' '%s/live/tls.key'", g.dir, g.dir, g.dir, g.dir),
        0);
    const char *all[] = {"kubenexus_webhook_cert_reloads_total{result=\"failure\"}",
                         "kubenexus_webhook_errors_total{reason=\"tls_handshake\"}",
                         "kubenexus_webhook_errors_total{reason=\"bad_request\"}", "verdict=\"denied\"", NULL};
    char *text = scrape_until(webhook_metrics, all);
    read_scrape(text);
    free(text);
}

static void drive_scheduler(void)
{
    assert_int_equal(kn_it_dbl_open(&g.d, NULL), 0);
    g.dbl_up = true;
    assert_int_equal(kn_dbl_add_node(&g.d, "node-a", "8", "32Gi"), 0);
    assert_int_equal(
        kn_dbl_call(&g.d, "POST", "/apis/topology.node.k8s.io/v1alpha2/noderesourcetopologies",
                    "{\"apiVersion\":\"topology.node.k8s.io/v1alpha2\",\"kind\":\"NodeResourceTopology\","
                    "\"metadata\":{\"name\":\"node-a\"},\"zones\":["
                    "{\"name\":\"node-0\",\"type\":\"Node\",\"resources\":["
                    "{\"name\":\"cpu\",\"capacity\":\"4\",\"allocatable\":\"4\",\"available\":\"4\"},"
                    "{\"name\":\"memory\",\"capacity\":\"16Gi\",\"allocatable\":\"16Gi\","
                    "\"available\":\"16Gi\"}]}]}",
                    NULL),
        201);
    assert_int_equal(kn_sched_proc_start(&g.sched, &g.d, "monitoring", NULL), 0);
    /* The first binding gets a 500 (retried), and the pod is placed under single-numa. */
    assert_int_equal(kn_dbl_faults(&g.d, "{\"fail_next\":1,\"status\":500,\"fail_path\":\"/binding\"}"), 0);
    assert_int_equal(kn_dbl_add_pod(&g.d, "default", "numa-1", "2", "1Gi", NULL,
                                    "{\"numa.scheduling.kubenexus.io/policy\":\"single-numa\"}"),
                     0);
    /* A gang of two with one member: it waits. */
    char labels[256];
    assert_int_equal(kn_dbl_add_pod(&g.d, "default", "gang-0", "1", "1Gi",
                                    kn_it_gang_labels(labels, sizeof(labels), "gang", 2), NULL),
                     0);
    /* A pod asking for what the scheduler does not implement: pending, counted. */
    assert_int_equal(
        kn_dbl_call(&g.d, "POST", "/api/v1/namespaces/default/pods",
                    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"claim\"},"
                    "\"spec\":{\"schedulerName\":\"kubenexus-scheduler\",\"containers\":[{\"name\":\"a\","
                    "\"image\":\"nginx\"}],\"resourceClaims\":[{\"name\":\"gpu\","
                    "\"resourceClaimTemplateName\":\"gpu\"}]}}",
                    NULL),
        201);
    const char *all[] = {"kubenexus_scheduler_numa_decisions_total{policy=\"single-numa\"} 1",
                         "kubenexus_scheduler_unsupported_pods_total{field=\"spec.resourceClaims\"} 1",
                         "kubenexus_scheduler_api_errors_total{verb=\"create\",code=\"500\"} 1",
                         "kubenexus_scheduler_bindings_total{result=\"ok\"} 1",
                         "kubenexus_scheduler_events_total{result=\"created\"}",
                         "kubenexus_scheduler_gangs_waiting 1",
                         "kubenexus_scheduler_is_leader 1",
                         NULL};
    char *text = scrape_until(scheduler_metrics, all);
    /* the waiting gang has an age */
    const char *age = strstr(text, "\nkubenexus_scheduler_oldest_waiting_gang_seconds ");
    assert_non_null(age);
    assert_true(strtod(age + strlen("\nkubenexus_scheduler_oldest_waiting_gang_seconds "), NULL) > 0);
    read_scrape(text);
    free(text);
}

/* ---------------------------------------------------------------- setup */

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g.deploy = kn_kz_deploy_copy();
    assert_non_null(g.deploy);
    for (int i = 0; i < 2; i++) {
        char dir[PATH_MAX];
        kn_err err = {{0}};
        snprintf(dir, sizeof(dir), "%s/deploy/%s", g.deploy, MONITORING[i]);
        if (kn_kz_render(dir, &g.mon[i], &err) != 0)
            fail_msg("deploy/%s: %s", MONITORING[i], err.msg);
    }
    for (size_t i = 0; i < 4; i++) {
        char dir[PATH_MAX];
        kn_err err = {{0}};
        snprintf(dir, sizeof(dir), "%s/deploy/%s", g.deploy, INSTALLS[i].dir);
        if (kn_kz_render(dir, &g.inst[i], &err) != 0)
            fail_msg("deploy/%s: %s", INSTALLS[i].dir, err.msg);
    }
    g.rule = kn_kz_find(&g.mon[0], "PrometheusRule", NULL, "kubenexus");
    assert_non_null(g.rule);
    const kn_json *cm = kn_kz_find(&g.mon[0], "ConfigMap", NULL, "kubenexus-grafana-dashboard");
    assert_non_null(cm);
    assert_string_equal(kn_json_get_str(kn_json_dig(cm, "metadata", "labels", NULL), "grafana_dashboard"), "1");
    const char *json = kn_json_get_str(kn_json_get(cm, "data"), "kubenexus.json");
    assert_non_null(json);
    kn_err err = {{0}};
    g.dashboard = kn_json_parse(json, strlen(json), NULL, &err);
    if (g.dashboard == NULL)
        fail_msg("dashboards/kubenexus.json: %s", err.msg);
    drive_webhook();
    drive_scheduler();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (g.sched.pid > 0 && kn_sched_proc_stop(&g.sched, SIGTERM, 10) != 0)
        kn_it_dump_log(g.sched.log);
    if (g.dbl_up)
        kn_dbl_stop(&g.d);
    if (g.wh.pid > 0 && kn_it_webhook_stop(&g.wh, 10000) != 0)
        kn_it_webhook_dump_log(&g.wh);
    kn_it_rmtree(g.dir);
    free(g.dir);
    kn_it_rmtree(g.deploy);
    free(g.deploy);
    for (int i = 0; i < 2; i++)
        kn_kz_free(&g.mon[i]);
    for (int i = 0; i < 4; i++)
        kn_kz_free(&g.inst[i]);
    kn_json_free(g.dashboard);
    for (int i = 0; i < g_reg.n_ser; i++)
        for (int l = 0; l < g_reg.ser[i].n_labels; l++)
            for (int v = 0; v < g_reg.ser[i].labels[l].n_values; v++)
                free(g_reg.ser[i].labels[l].values[v]);
    curl_global_cleanup();
    return 0;
}

/* ---------------------------------------------------------------- the queries */

typedef struct query {
    char where[160];
    const char *expr;
} query;

static void add_dashboard_queries(const kn_json *panels, query *q, int *n, int cap)
{
    for (size_t i = 0; i < kn_json_len(panels); i++) {
        const kn_json *p = kn_json_at(panels, i);
        add_dashboard_queries(kn_json_get(p, "panels"), q, n, cap);
        const kn_json *targets = kn_json_get(p, "targets");
        for (size_t t = 0; t < kn_json_len(targets) && *n < cap; t++) {
            snprintf(q[*n].where, sizeof(q[*n].where), "dashboard panel \"%s\"",
                     kn_json_get_str(p, "title") ?: "?");
            q[*n].expr = kn_json_get_str(kn_json_at(targets, t), "expr");
            assert_non_null(q[*n].expr);
            (*n)++;
        }
    }
}

static int all_queries(query *q, int cap)
{
    int n = 0;
    const kn_json *groups = kn_json_dig(g.rule, "spec", "groups", NULL);
    for (size_t i = 0; i < kn_json_len(groups); i++) {
        const kn_json *rules = kn_json_get(kn_json_at(groups, i), "rules");
        for (size_t r = 0; r < kn_json_len(rules) && n < cap; r++) {
            snprintf(q[n].where, sizeof(q[n].where), "alert %s",
                     kn_json_get_str(kn_json_at(rules, r), "alert") ?: "?");
            q[n].expr = kn_json_get_str(kn_json_at(rules, r), "expr");
            assert_non_null(q[n].expr);
            n++;
        }
    }
    add_dashboard_queries(kn_json_get(g.dashboard, "panels"), q, &n, cap);
    return n;
}

static void problem(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(char *buf, size_t cap, const char *fmt, ...)
{
    size_t len = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
    len = strlen(buf);
    snprintf(buf + len, cap - len, "\n");
}

/* A label of the series: set by the binary on a series scraped, or by the scrape. */
static bool has_label(const char *series, const char *label)
{
    return target_label(label) || label_of(series_of(series, false), label, false) != NULL;
}

static void check_matcher(const query *q, const kn_pq_ref *r, const kn_pq_matcher *m, char *out, size_t cap)
{
    if (!has_label(r->metric, m->label)) {
        problem(out, cap, "%s: %s has no label %s (\"%s\")", q->where, r->metric, m->label, q->expr);
        return;
    }
    if (target_label(m->label) || m->value[0] == '$' || m->value[0] == '\0')
        return;
    const label_seen *l = label_of(series_of(r->metric, false), m->label, false);
    char values[256];
    snprintf(values, sizeof(values), "%s", m->value);
    bool regex = m->op[1] == '~';
    for (char *save = NULL, *v = strtok_r(values, regex ? "|" : "", &save); v; v = strtok_r(NULL, "|", &save)) {
        if (regex && v[strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-")] != '\0')
            problem(out, cap, "%s: %s{%s%s\"%s\"}: only alternatives of plain values are checked here", q->where,
                    r->metric, m->label, m->op, m->value);
        else if (!value_seen(l, v))
            problem(out, cap,
                    "%s: %s{%s=\"%s\"} was never scraped (drive it in this test, or the query "
                    "matches nothing)",
                    q->where, r->metric, m->label, v);
    }
}

static void check_query(const query *q, char *out, size_t cap)
{
    kn_pq pq;
    kn_err err = {{0}};
    if (kn_pq_parse(q->expr, &pq, &err) != 0) {
        problem(out, cap, "%s: %s", q->where, err.msg);
        return;
    }
    if (pq.n_refs == 0)
        problem(out, cap, "%s: reads no metric (\"%s\")", q->where, q->expr);
    for (int i = 0; i < pq.n_refs; i++) {
        const kn_pq_ref *r = &pq.refs[i];
        bool part = false;
        const family *f = family_of(r->metric, &part);
        if (f == NULL) {
            problem(out, cap, "%s: %s is not exported by kubenexus-scheduler or kubenexus-webhook", q->where,
                    r->metric);
            continue;
        }
        bool counting =
            strcmp(r->func, "rate") == 0 || strcmp(r->func, "irate") == 0 || strcmp(r->func, "increase") == 0;
        if (counting && !part && strcmp(f->type, "counter") != 0)
            problem(out, cap, "%s: %s() of %s, a %s", q->where, r->func, r->metric, f->type);
        if (counting != r->range)
            problem(out, cap, "%s: %s%s read %s", q->where, r->metric, r->range ? "[range]" : "",
                    r->func[0] ? r->func : "at the top");
        if (r->n_m > 0 && series_of(r->metric, false) == NULL)
            problem(out, cap, "%s: no series of %s was scraped: drive it in this test", q->where, r->metric);
        for (int m = 0; m < r->n_m; m++)
            check_matcher(q, r, &r->m[m], out, cap);
    }
    for (int gi = 0; gi < pq.n_groups; gi++) {
        const kn_pq_group *gr = &pq.groups[gi];
        for (int l = 0; l < gr->n_labels; l++)
            for (int i = gr->first; i < gr->end; i++)
                if (!has_label(pq.refs[i].metric, gr->labels[l]))
                    problem(out, cap, "%s: %s by (%s) over %s, which has no label %s", q->where, gr->op,
                            gr->labels[l], pq.refs[i].metric, gr->labels[l]);
    }
}

static void queries_read_exported_metrics_and_labels(void **state)
{
    (void)state;
    query q[128];
    int n = all_queries(q, 128);
    assert_true(n >= 20);
    char out[16384] = "";
    for (int i = 0; i < n; i++)
        check_query(&q[i], out, sizeof(out));
    if (out[0])
        fail_msg("%s", out);
}

/* What a binary exports is looked at somewhere: a new metric gets a panel. */
static void every_exported_metric_is_used(void **state)
{
    (void)state;
    query q[128];
    int n = all_queries(q, 128);
    char out[4096] = "";
    for (int f = 0; f < g_reg.n_fam; f++) {
        const char *name = g_reg.fam[f].name;
        bool used = false;
        for (int i = 0; i < n && !used; i++) {
            kn_pq pq;
            kn_err err = {{0}};
            if (kn_pq_parse(q[i].expr, &pq, &err) != 0)
                continue;
            for (int r = 0; r < pq.n_refs && !used; r++)
                used = strncmp(pq.refs[r].metric, name, strlen(name)) == 0;
        }
        if (!used && strcmp(name, "kubenexus_metrics_dropped_updates_total") != 0)
            problem(out, sizeof(out), "%s is on no dashboard panel and in no alert", name);
    }
    if (out[0])
        fail_msg("%s", out);
}

/* ---------------------------------------------------------------- alerts */

static void alerts_are_explained(void **state)
{
    (void)state;
    char *readme = kn_it_read_file(KN_SOURCE_DIR "/README.md", NULL);
    assert_non_null(readme);
    const char *section = strstr(readme, "\n## Monitoring\n");
    if (section == NULL)
        fail_msg("README.md has no \"## Monitoring\" section");
    const char *end = strstr(section + 1, "\n## ");
    size_t len = end ? (size_t)(end - section) : strlen(section);
    const kn_json *groups = kn_json_dig(g.rule, "spec", "groups", NULL);
    int alerts = 0;
    for (size_t i = 0; i < kn_json_len(groups); i++) {
        const kn_json *rules = kn_json_get(kn_json_at(groups, i), "rules");
        for (size_t r = 0; r < kn_json_len(rules); r++, alerts++) {
            const kn_json *rule = kn_json_at(rules, r);
            const char *name = kn_json_get_str(rule, "alert");
            assert_non_null(name);
            const char *sev = kn_json_get_str(kn_json_get(rule, "labels"), "severity");
            if (sev == NULL || (strcmp(sev, "critical") != 0 && strcmp(sev, "warning") != 0))
                fail_msg("alert %s: severity %s, want critical or warning", name, sev ?: "(none)");
            const kn_json *ann = kn_json_get(rule, "annotations");
            if (!kn_json_get_str(ann, "summary") || !kn_json_get_str(ann, "description"))
                fail_msg("alert %s: no summary or description", name);
            char needle[160];
            snprintf(needle, sizeof(needle), "`%s`", name);
            const char *at = strstr(section, needle);
            if (at == NULL || (size_t)(at - section) > len)
                fail_msg("alert %s is not explained in README.md's Monitoring section", name);
        }
    }
    assert_true(alerts >= 6);
    free(readme);
}

static const char *promtool(void)
{
    const char *env = getenv("KN_PROMTOOL");
    if (env && *env)
        return env;
    return kn_it_sh("command -v promtool >/dev/null 2>&1") == 0 ? "promtool" : NULL;
}

/* The PrometheusRule's groups as a Prometheus rules file (JSON is YAML). */
static void write_rules(const char *path, bool annotations)
{
    kn_json *groups = kn_json_clone(kn_json_dig(g.rule, "spec", "groups", NULL));
    for (size_t i = 0; !annotations && i < kn_json_len(groups); i++) {
        const kn_json *rules = kn_json_get(kn_json_at(groups, i), "rules");
        for (size_t r = 0; r < kn_json_len(rules); r++)
            kn_json_remove(kn_json_at(rules, r), "annotations");
    }
    kn_json *file = kn_json_new_object();
    kn_json_set(file, "groups", groups);
    char *text = kn_json_dump(file, NULL);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(text);
    kn_json_free(file);
}

static void rules_pass_promtool(void **state)
{
    (void)state;
    const char *tool = promtool();
    if (tool == NULL) {
        print_message(
            "promtool not installed (Debian: prometheus; or KN_PROMTOOL=path): rules checked above only\n");
        skip();
    }
    char dir[PATH_MAX], path[PATH_MAX + 32];
    snprintf(dir, sizeof(dir), "%s/promtool", g.dir);
    assert_int_equal(kn_it_sh("mkdir -p '%s' && cp '%s/monitoring/alerts-test.yaml' '%s/'", dir, KN_FIXTURES, dir),
                     0);
    snprintf(path, sizeof(path), "%s/all-rules.yaml", dir);
    write_rules(path, true);
    assert_int_equal(kn_it_sh("'%s' check rules '%s' >&2", tool, path), 0);
    snprintf(path, sizeof(path), "%s/kubenexus-rules.yaml", dir);
    write_rules(path, false);
    assert_int_equal(kn_it_sh("cd '%s' && '%s' test rules alerts-test.yaml >&2", dir, tool), 0);
}

/* ---------------------------------------------------------------- deploy/monitoring */

static bool matches_labels(const kn_json *match, const kn_json *labels)
{
    for (size_t i = 0; i < kn_json_len(match); i++)
        if (strcmp(kn_json_get_str(labels, kn_json_key_at(match, i)) ?: "",
                   kn_json_str(kn_json_value_at(match, i)) ?: "-") != 0)
            return false;
    return kn_json_len(match) > 0;
}

static const char *ns_of(const kn_json *o)
{
    return kn_json_get_str(kn_json_get(o, "metadata"), "namespace");
}

static bool is_kind(const kn_json *o, const char *kind)
{
    return strcmp(kn_json_get_str(o, "kind") ?: "", kind) == 0;
}

/* The webhook's HTTPS container port (name) and its TLS Secret in an install. */
static void webhook_of(const kn_kz_objs *in, const char *ns, const char **port, const char **secret)
{
    const kn_json *d = kn_kz_find(in, "Deployment", ns, "kubenexus-webhook");
    assert_non_null(d);
    const kn_json *spec = kn_json_dig(d, "spec", "template", "spec", NULL);
    const kn_json *c = kn_json_at(kn_json_get(spec, "containers"), 0);
    *port = kn_json_get_str(kn_json_dig(c, "readinessProbe", "httpGet", NULL), "port");
    *secret = kn_json_get_str(kn_json_get(kn_json_at(kn_json_get(spec, "volumes"), 0), "secret"), "secretName");
}

static void check_service_monitor(const kn_kz_objs *in, const char *ns, const kn_json *sm, const char *where)
{
    const char *name = kn_json_get_str(kn_json_get(sm, "metadata"), "name");
    if (strcmp(ns_of(sm) ?: "", ns) != 0)
        fail_msg("%s: ServiceMonitor %s is in %s, the install in %s", where, name, ns_of(sm), ns);
    const kn_json *svc = NULL;
    for (size_t i = 0; i < in->n; i++)
        if (is_kind(in->docs[i], "Service") && strcmp(ns_of(in->docs[i]) ?: "", ns) == 0 &&
            matches_labels(kn_json_dig(sm, "spec", "selector", "matchLabels", NULL),
                           kn_json_dig(in->docs[i], "metadata", "labels", NULL)))
            svc = in->docs[i];
    if (svc == NULL)
        fail_msg("%s: ServiceMonitor %s selects no Service", where, name);
    const char *svc_name = kn_json_get_str(kn_json_get(svc, "metadata"), "name");
    const kn_json *eps = kn_json_dig(sm, "spec", "endpoints", NULL);
    assert_true(kn_json_len(eps) >= 1);
    for (size_t e = 0; e < kn_json_len(eps); e++) {
        const kn_json *ep = kn_json_at(eps, e);
        const char *port = kn_json_get_str(ep, "port"), *target = NULL;
        const kn_json *ports = kn_json_dig(svc, "spec", "ports", NULL);
        for (size_t p = 0; p < kn_json_len(ports); p++)
            if (strcmp(kn_json_get_str(kn_json_at(ports, p), "name") ?: "", port ?: "-") == 0)
                target = kn_json_get_str(kn_json_at(ports, p), "targetPort");
        if (target == NULL)
            fail_msg("%s: ServiceMonitor %s scrapes port %s, which Service %s does not name", where, name, port,
                     svc_name);
        assert_string_equal(kn_json_get_str(ep, "path"), "/metrics");
        bool https = strcmp(kn_json_get_str(ep, "scheme") ?: "http", "https") == 0;
        if (strcmp(svc_name, "kubenexus-webhook") == 0) {
            const char *wport, *secret;
            webhook_of(in, ns, &wport, &secret);
            if (!https || strcmp(target, wport) != 0)
                fail_msg("%s: the webhook's /metrics is HTTPS on %s", where, wport);
            const kn_json *tls = kn_json_get(ep, "tlsConfig");
            const kn_json *ca = kn_json_dig(tls, "ca", "secret", NULL);
            if (strcmp(kn_json_get_str(ca, "name") ?: "", secret ?: "-") != 0 ||
                strcmp(kn_json_get_str(ca, "key") ?: "", "ca.crt") != 0)
                fail_msg("%s: the webhook scrape trusts %s/%s, not the serving Secret %s's ca.crt", where,
                         kn_json_get_str(ca, "name"), kn_json_get_str(ca, "key"), secret);
            if (strcmp(kn_json_get_str(tls, "serverName") ?: "", svc_name) != 0)
                fail_msg("%s: the webhook scrape checks the name %s, not %s", where,
                         kn_json_get_str(tls, "serverName"), svc_name);
        } else if (https) {
            fail_msg("%s: %s serves plain HTTP", where, svc_name);
        }
    }
}

/* Each install's ServiceMonitors reach its Services' metrics ports; a
 * NetworkPolicy added for Prometheus only adds to one the install has
 * (alone it would shut the API server out of the webhook). */
static void service_monitors_reach_every_install(void **state)
{
    (void)state;
    for (size_t i = 0; i < 4; i++) {
        const kn_kz_objs *mon = &g.mon[INSTALLS[i].mon], *in = &g.inst[i];
        char where[160];
        snprintf(where, sizeof(where), "deploy/%s with deploy/%s", INSTALLS[i].dir, MONITORING[INSTALLS[i].mon]);
        int sms = 0;
        for (size_t o = 0; o < mon->n; o++) {
            const kn_json *obj = mon->docs[o];
            if (!kn_kz_cluster_scoped(kn_json_get_str(obj, "kind")) &&
                strcmp(ns_of(obj) ?: "", INSTALLS[i].ns) != 0)
                fail_msg("%s: %s is in %s", where, kn_json_get_str(obj, "kind"), ns_of(obj));
            if (is_kind(obj, "ServiceMonitor")) {
                check_service_monitor(in, INSTALLS[i].ns, obj, where);
                sms++;
            }
            if (!is_kind(obj, "NetworkPolicy"))
                continue;
            const kn_json *sel = kn_json_dig(obj, "spec", "podSelector", "matchLabels", NULL);
            bool base = false;
            for (size_t b = 0; b < in->n; b++)
                base |= is_kind(in->docs[b], "NetworkPolicy") &&
                        kn_json_equal(kn_json_dig(in->docs[b], "spec", "podSelector", "matchLabels", NULL), sel);
            if (!base)
                fail_msg("%s: NetworkPolicy %s would be the only one on those pods and shut out the API server",
                         where, kn_json_get_str(kn_json_get(obj, "metadata"), "name"));
            const char *wport, *secret;
            webhook_of(in, INSTALLS[i].ns, &wport, &secret);
            const kn_json *d = kn_kz_find(in, "Deployment", INSTALLS[i].ns, "kubenexus-webhook");
            assert_true(matches_labels(sel, kn_json_dig(d, "spec", "template", "metadata", "labels", NULL)));
            const kn_json *port =
                kn_json_at(kn_json_get(kn_json_at(kn_json_dig(obj, "spec", "ingress", NULL), 0), "ports"), 0);
            assert_string_equal(kn_json_get_str(port, "port"), wport);
        }
        assert_int_equal(sms, 2);
    }
}

static void dashboard_is_well_formed(void **state)
{
    (void)state;
    const kn_json *d = g.dashboard;
    assert_non_null(kn_json_get_str(d, "uid"));
    assert_non_null(kn_json_get_str(d, "title"));
    const kn_json *vars = kn_json_dig(d, "templating", "list", NULL);
    assert_string_equal(kn_json_get_str(kn_json_at(vars, 0), "type"), "datasource");
    assert_string_equal(kn_json_get_str(kn_json_at(vars, 0), "query"), "prometheus");
    const kn_json *panels = kn_json_get(d, "panels");
    int64_t seen[128];
    size_t n_seen = 0;
    for (size_t i = 0; i < kn_json_len(panels); i++) {
        const kn_json *p = kn_json_at(panels, i);
        int64_t id = -1;
        assert_int_equal(kn_json_int(kn_json_get(p, "id"), &id), 0);
        for (size_t k = 0; k < n_seen; k++)
            if (seen[k] == id)
                fail_msg("panel id %lld twice", (long long)id);
        if (n_seen < 128)
            seen[n_seen++] = id;
        assert_non_null(kn_json_get(p, "gridPos"));
        if (strcmp(kn_json_get_str(p, "type") ?: "", "row") == 0)
            continue;
        /* The data source the user picks, not one named in this file. */
        if (strcmp(kn_json_get_str(kn_json_get(p, "datasource"), "uid") ?: "", "${datasource}") != 0)
            fail_msg("panel \"%s\" does not use the ${datasource} variable", kn_json_get_str(p, "title"));
        assert_true(kn_json_len(kn_json_get(p, "targets")) >= 1);
        assert_non_null(kn_json_get_str(p, "description"));
    }
}

static void monitoring_renders_match_kubectl(void **state)
{
    (void)state;
    for (int i = 0; i < 2; i++) {
        char dir[PATH_MAX], why[16384];
        snprintf(dir, sizeof(dir), "%s/deploy/%s", g.deploy, MONITORING[i]);
        int rc = kn_kz_same_as_kubectl(dir, &g.mon[i], why, sizeof(why));
        if (rc == 0) {
            print_message("%s: rendering checked with support/kustomize.c only\n", why);
            skip();
        }
        if (rc < 0)
            fail_msg("deploy/%s: %s", MONITORING[i], why);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(queries_read_exported_metrics_and_labels),
        cmocka_unit_test(every_exported_metric_is_used),
        cmocka_unit_test(alerts_are_explained),
        cmocka_unit_test(rules_pass_promtool),
        cmocka_unit_test(service_monitors_reach_every_install),
        cmocka_unit_test(dashboard_is_well_formed),
        cmocka_unit_test(monitoring_renders_match_kubectl),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
