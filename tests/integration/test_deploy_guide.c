/* test_deploy_guide.c - the Spark Operator guide's commands against every install.
 *
 * Users follow a guide (shared/seed/spark-operator-integration.md, beside the
 * repository) whose troubleshooting commands look for kubenexus in
 * kube-system: `kubectl get pods -n kube-system -l app=kubenexus-scheduler`,
 * `kubectl logs ...`, the metrics Service kubenexus-scheduler:8080. Each
 * install (deploy/, deploy/cert-manager/, and the dedicated-namespace
 * overlays, where the commands take -n kubenexus-system) is rendered as
 * kustomize renders it (support/kustomize.c; compared with `kubectl
 * kustomize` where kubectl is installed) and each command is checked against
 * the objects: the namespace exists, the selector picks the scheduler's pods
 * and only them, `kubectl logs` needs no -c, the Service and port exist and
 * lead to the port that serves /metrics. Each install is also checked whole:
 * one namespace, webhook configurations, RBAC subjects and the Lease in it,
 * and a serving certificate that names the Service there. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "json/json.h"
#include "kustomize.h"
#include "proc.h"

#define GUIDE_FIXTURE KN_FIXTURES "/guide/spark-operator-integration.txt"
#define GUIDE_BESIDE KN_SOURCE_DIR "/../shared/seed/spark-operator-integration.md"
#define GUIDE_NS "kube-system" /* the namespace the guide's commands name */
#define MAX_LINES 64

typedef struct install {
    const char *dir;   /* under deploy/ */
    const char *ns;    /* where it installs */
    bool cert_manager; /* else the Secret comes from certs/gen-certs.sh */
    kn_kz_objs objs;
} install;

static install g_installs[] = {
    {"", "kube-system", false, {0}},
    {"cert-manager", "kube-system", true, {0}},
    {"overlays/dedicated-namespace", "kubenexus-system", false, {0}},
    {"overlays/dedicated-namespace/cert-manager", "kubenexus-system", true, {0}},
};
#define N_INSTALLS (sizeof(g_installs) / sizeof(g_installs[0]))

static char *g_tmp;              /* a copy of deploy/ with certificates made */
static char *g_lines[MAX_LINES]; /* the guide's lines that name kubenexus objects */
static size_t g_n_lines;

/* ---------------------------------------------------------------- the guide */

/* A guide line that names our objects, normalised: a kubectl command naming
 * kubenexus-<something> (prompt and trailing comment dropped), or
 * "schedulerName: <name>". NULL for any other line. */
static char *guide_line(const char *line)
{
    while (*line == ' ' || *line == '\t')
        line++;
    if (strncmp(line, "$ ", 2) == 0)
        line += 2;
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", line);
    char *hash = strstr(buf, " #");
    if (hash)
        *hash = '\0';
    for (size_t n = strlen(buf); n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\r'); n--)
        buf[n - 1] = '\0';
    if (strncmp(buf, "kubectl ", 8) == 0 &&
        (strstr(buf, "kubenexus-scheduler") || strstr(buf, "kubenexus-webhook")))
        return strdup(buf);
    if (strncmp(buf, "schedulerName:", 14) == 0) {
        const char *v = buf + 14;
        while (*v == ' ')
            v++;
        char out[1100];
        snprintf(out, sizeof(out), "schedulerName: %s", v);
        return strdup(out);
    }
    return NULL;
}

/* Distinct normalised lines of a file, in order. */
static size_t read_lines(const char *path, char **out, size_t cap)
{
    char *text = kn_it_read_file(path, NULL);
    size_t n = 0;
    for (char *save = NULL, *l = text ? strtok_r(text, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
        char *g = guide_line(l);
        bool dup = false;
        for (size_t i = 0; g && i < n; i++)
            dup |= strcmp(out[i], g) == 0;
        if (g && !dup && n < cap)
            out[n++] = g;
        else
            free(g);
    }
    free(text);
    return n;
}

/* ---------------------------------------------------------------- setup */

static int setup(void **state)
{
    (void)state;
    /* As the README says: a certificate per install folder, for its namespace. */
    g_tmp = kn_kz_deploy_copy();
    assert_non_null(g_tmp);
    for (size_t i = 0; i < N_INSTALLS; i++) {
        char dir[PATH_MAX];
        kn_err err = {{0}};
        snprintf(dir, sizeof(dir), "%s/deploy/%s", g_tmp, g_installs[i].dir);
        if (kn_kz_render(dir, &g_installs[i].objs, &err) != 0)
            fail_msg("deploy/%s: %s", g_installs[i].dir, err.msg);
    }

    const char *guide = getenv("KN_GUIDE") ? getenv("KN_GUIDE") : GUIDE_BESIDE;
    char *fixture[MAX_LINES];
    size_t n_fixture = read_lines(GUIDE_FIXTURE, fixture, MAX_LINES);
    assert_true(n_fixture >= 4);
    if (access(guide, R_OK) == 0) {
        g_n_lines = read_lines(guide, g_lines, MAX_LINES);
        print_message("read %zu lines naming kubenexus from %s\n", g_n_lines, guide);
        /* The copy in the fixture must be the guide's, line for line. */
        for (size_t i = 0; i < g_n_lines; i++) {
            bool found = false;
            for (size_t j = 0; j < n_fixture; j++)
                found |= strcmp(g_lines[i], fixture[j]) == 0;
            if (!found)
                fail_msg("the guide's line \"%s\" is not in %s: copy it there (with its section)", g_lines[i],
                         GUIDE_FIXTURE);
        }
        assert_int_equal(g_n_lines, n_fixture);
        for (size_t j = 0; j < n_fixture; j++)
            free(fixture[j]);
    } else {
        print_message("%s not found: checking the %zu lines copied in the fixture\n", guide, n_fixture);
        memcpy(g_lines, fixture, n_fixture * sizeof(*fixture));
        g_n_lines = n_fixture;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_INSTALLS; i++)
        kn_kz_free(&g_installs[i].objs);
    for (size_t i = 0; i < g_n_lines; i++)
        free(g_lines[i]);
    kn_it_rmtree(g_tmp);
    free(g_tmp);
    return 0;
}

/* ---------------------------------------------------------------- objects */

static const kn_json *pod_spec(const kn_json *workload)
{
    return kn_json_dig(workload, "spec", "template", "spec", NULL);
}

static const kn_json *pod_labels(const kn_json *workload)
{
    return kn_json_dig(workload, "spec", "template", "metadata", "labels", NULL);
}

static const char *name_of(const kn_json *o)
{
    return kn_json_get_str(kn_json_get(o, "metadata"), "name");
}

static const char *ns_of(const kn_json *o)
{
    return kn_json_get_str(kn_json_get(o, "metadata"), "namespace");
}

static bool is_kind(const kn_json *o, const char *kind)
{
    return strcmp(kn_json_get_str(o, "kind") ?: "", kind) == 0;
}

/* The namespace exists once the install is applied: created by it, or one
 * every cluster has. An install never carries kube-system or default as an
 * object (`kubectl delete -k` would delete it). */
static bool namespace_exists(const install *in, const char *ns)
{
    bool builtin = strcmp(ns, "kube-system") == 0 || strcmp(ns, "default") == 0;
    const kn_json *obj = kn_kz_find(&in->objs, "Namespace", NULL, ns);
    if (builtin && obj != NULL)
        fail_msg("deploy/%s carries the Namespace %s: `kubectl delete -k` would delete it", in->dir, ns);
    return builtin || obj != NULL;
}

/* Equality-based selector "a=b,c=d" against labels. */
static bool selector_matches(const char *selector, const kn_json *labels)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", selector);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        if (eq == NULL)
            return false;
        *eq = '\0';
        const char *want = eq[1] == '=' ? eq + 2 : eq + 1;
        const char *have = kn_json_get_str(labels, t);
        if (have == NULL || strcmp(have, want) != 0)
            return false;
    }
    return true;
}

/* An arg's value with $(VAR) expanded as kubelet does, from the
 * container's env; a fieldRef to metadata.namespace is the pod's namespace. */
static void expand(const kn_json *container, const char *ns, const char *value, char *out, size_t cap)
{
    out[0] = '\0';
    if (value == NULL)
        return;
    if (strncmp(value, "$(", 2) != 0) {
        snprintf(out, cap, "%s", value);
        return;
    }
    const kn_json *env = kn_json_get(container, "env");
    for (size_t i = 0; i < kn_json_len(env); i++) {
        const kn_json *e = kn_json_at(env, i);
        const char *name = kn_json_get_str(e, "name");
        size_t nl = name ? strlen(name) : 0;
        if (name == NULL || strncmp(value + 2, name, nl) != 0 || strcmp(value + 2 + nl, ")") != 0)
            continue;
        const char *path = kn_json_get_str(kn_json_dig(e, "valueFrom", "fieldRef", NULL), "fieldPath");
        if (kn_json_get_str(e, "value"))
            snprintf(out, cap, "%s", kn_json_get_str(e, "value"));
        else if (path && strcmp(path, "metadata.namespace") == 0)
            snprintf(out, cap, "%s", ns);
    }
}

/* The Deployments of ns whose pods the selector picks. */
static size_t selected(const install *in, const char *ns, const char *selector, const kn_json **out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < in->objs.n; i++) {
        const kn_json *o = in->objs.docs[i];
        if (is_kind(o, "Deployment") && strcmp(ns_of(o) ?: "", ns) == 0 &&
            selector_matches(selector, pod_labels(o)) && n < cap)
            out[n++] = o;
    }
    return n;
}

static const kn_json *container_named_by(const kn_json *deploy, const char *binary)
{
    const kn_json *cs = kn_json_get(pod_spec(deploy), "containers");
    for (size_t i = 0; i < kn_json_len(cs); i++) {
        const char *cmd = kn_json_str(kn_json_at(kn_json_get(kn_json_at(cs, i), "command"), 0));
        if (cmd && strstr(cmd, binary))
            return kn_json_at(cs, i);
    }
    return NULL;
}

/* The container port a Service port leads to, in a pod the Service selects:
 * sets *container and returns the port object, or NULL. */
static const kn_json *service_backend(const install *in, const kn_json *svc, const kn_json *sport,
                                      const kn_json **deploy, const kn_json **container)
{
    const kn_json *sel = kn_json_dig(svc, "spec", "selector", NULL);
    const char *target = kn_json_get_str(sport, "targetPort");
    int64_t target_num = -1;
    if (target == NULL && kn_json_int(kn_json_get(sport, "targetPort"), &target_num) != 0)
        kn_json_int(kn_json_get(sport, "port"), &target_num);
    for (size_t i = 0; i < in->objs.n; i++) {
        const kn_json *o = in->objs.docs[i];
        if (!is_kind(o, "Deployment") || strcmp(ns_of(o) ?: "", ns_of(svc) ?: "") != 0)
            continue;
        bool all = kn_json_len(sel) > 0;
        for (size_t k = 0; k < kn_json_len(sel); k++)
            all = all && strcmp(kn_json_get_str(pod_labels(o), kn_json_key_at(sel, k)) ?: "",
                                kn_json_str(kn_json_value_at(sel, k)) ?: "-") == 0;
        if (!all)
            continue;
        const kn_json *cs = kn_json_get(pod_spec(o), "containers");
        for (size_t c = 0; c < kn_json_len(cs); c++) {
            const kn_json *ports = kn_json_get(kn_json_at(cs, c), "ports");
            for (size_t p = 0; p < kn_json_len(ports); p++) {
                const kn_json *cp = kn_json_at(ports, p);
                int64_t num = -2;
                kn_json_int(kn_json_get(cp, "containerPort"), &num);
                if ((target && strcmp(target, kn_json_get_str(cp, "name") ?: "") == 0) || num == target_num) {
                    *deploy = o;
                    *container = kn_json_at(cs, c);
                    return cp;
                }
            }
        }
    }
    return NULL;
}

/* True when a probe of the container uses that port with scheme HTTPS. */
static bool port_is_https(const kn_json *container, const kn_json *cport)
{
    const char *probes[] = {"readinessProbe", "livenessProbe", "startupProbe"};
    for (int i = 0; i < 3; i++) {
        const kn_json *g = kn_json_dig(container, probes[i], "httpGet", NULL);
        const char *port = kn_json_get_str(g, "port");
        if (g && port && strcmp(port, kn_json_get_str(cport, "name") ?: "") == 0 &&
            strcmp(kn_json_get_str(g, "scheme") ?: "HTTP", "HTTPS") == 0)
            return true;
    }
    return false;
}

/* ---------------------------------------------------------------- commands */

typedef struct cmd {
    char line[1024]; /* the command for this install */
    char text[1024]; /* its words */
    char *argv[32];
    int argc;
    const char *ns, *selector, *raw;
    bool piped;
} cmd;

/* The guide's command for this install: its namespace in place of kube-system. */
static void parse(cmd *c, const char *line, const char *ns)
{
    memset(c, 0, sizeof(*c));
    char *o = c->line;
    for (const char *p = line; *p && (size_t)(o - c->line) < sizeof(c->line) - 64;) {
        if (strncmp(p, GUIDE_NS, strlen(GUIDE_NS)) == 0) {
            o += sprintf(o, "%s", ns);
            p += strlen(GUIDE_NS);
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    memcpy(c->text, c->line, sizeof(c->text));
    char *pipe = strchr(c->text, '|');
    if (pipe) {
        *pipe = '\0';
        c->piped = true;
    }
    for (char *save = NULL, *t = strtok_r(c->text, " ", &save); t && c->argc < 32; t = strtok_r(NULL, " ", &save))
        c->argv[c->argc++] = t;
    for (int i = 0; i + 1 < c->argc; i++) {
        if (strcmp(c->argv[i], "-n") == 0 || strcmp(c->argv[i], "--namespace") == 0)
            c->ns = c->argv[i + 1];
        else if (strcmp(c->argv[i], "-l") == 0 || strcmp(c->argv[i], "--selector") == 0)
            c->selector = c->argv[i + 1];
        else if (strcmp(c->argv[i], "--raw") == 0)
            c->raw = c->argv[i + 1];
    }
}

/* `kubectl get pods|logs -n NS -l SEL`: the scheduler's pods, and only them. */
static void check_pods_command(const install *in, const cmd *c, const char *line)
{
    if (c->ns == NULL || c->selector == NULL)
        fail_msg("\"%s\": no -n or -l to check", line);
    if (!namespace_exists(in, c->ns))
        fail_msg("deploy/%s: \"%s\": namespace %s does not exist", in->dir, line, c->ns);
    const kn_json *found[8];
    size_t n = selected(in, c->ns, c->selector, found, 8);
    if (n == 0)
        fail_msg("deploy/%s: \"%s\" finds no pods: no Deployment in %s has pods labelled %s", in->dir, line, c->ns,
                 c->selector);
    /* The workload the command names (kubenexus-scheduler), nothing else. */
    const char *named = strstr(c->selector, "kubenexus-");
    for (size_t i = 0; i < n; i++)
        if (named && strcmp(name_of(found[i]), named) != 0)
            fail_msg("deploy/%s: \"%s\" also picks the pods of %s", in->dir, line, name_of(found[i]));
    bool logs = c->argc > 1 && strcmp(c->argv[1], "logs") == 0;
    for (size_t i = 0; logs && i < n; i++) {
        const kn_json *spec = pod_spec(found[i]);
        const char *dflt =
            kn_json_get_str(kn_json_dig(found[i], "spec", "template", "metadata", "annotations", NULL),
                            "kubectl.kubernetes.io/default-container");
        if (kn_json_len(kn_json_get(spec, "containers")) != 1 && dflt == NULL)
            fail_msg("deploy/%s: \"%s\" needs -c: %s has several containers and no default", in->dir, line,
                     name_of(found[i]));
        /* Piped into grep for a pod's name: the info lines ("bound pod=...") must be logged. */
        const char *level = kn_kz_arg_value(kn_json_at(kn_json_get(spec, "containers"), 0), "--log-level");
        if (c->piped && level && strcmp(level, "info") != 0 && strcmp(level, "debug") != 0)
            fail_msg("deploy/%s: \"%s\": --log-level=%s hides the binding lines", in->dir, line, level);
    }
}

/* `kubectl get --raw /api/v1/namespaces/NS/services/[SCHEME:]NAME[:PORT]/proxy/PATH`
 * (line as the guide writes it; checked in the install's namespace). */
static void check_raw_command(const install *in, const char *guide_line, const char *readme)
{
    cmd parsed, *c = &parsed;
    parse(c, guide_line, in->ns);
    const char *line = c->line;
    char path[512], ns[128], spec[256], rest[256] = "";
    snprintf(path, sizeof(path), "%s", c->raw ?: "");
    if (sscanf(path, "/api/v1/namespaces/%127[^/]/services/%255[^/]/%255s", ns, spec, rest) < 2)
        fail_msg("\"%s\": not a Service path of the API server", line);
    if (!namespace_exists(in, ns))
        fail_msg("deploy/%s: \"%s\": namespace %s does not exist", in->dir, line, ns);
    /* [scheme:]name[:port] */
    char *parts[3] = {0};
    int np = 0;
    for (char *save = NULL, *t = strtok_r(spec, ":", &save); t && np < 3; t = strtok_r(NULL, ":", &save))
        parts[np++] = t;
    bool has_scheme = np == 3 || (np >= 1 && (strcmp(parts[0], "http") == 0 || strcmp(parts[0], "https") == 0));
    const char *scheme = has_scheme ? parts[0] : "http";
    const char *name = parts[has_scheme ? 1 : 0], *port = np > (has_scheme ? 2 : 1) ? parts[np - 1] : NULL;
    const kn_json *svc = kn_kz_find(&in->objs, "Service", ns, name ?: "");
    if (svc == NULL)
        fail_msg("deploy/%s: \"%s\": no Service %s in %s", in->dir, line, name, ns);
    const kn_json *ports = kn_json_dig(svc, "spec", "ports", NULL), *sport = NULL;
    for (size_t i = 0; i < kn_json_len(ports); i++) {
        const kn_json *p = kn_json_at(ports, i);
        int64_t num = -1;
        kn_json_int(kn_json_get(p, "port"), &num);
        char num_text[24];
        snprintf(num_text, sizeof(num_text), "%lld", (long long)num);
        if (port == NULL ? kn_json_len(ports) == 1
                         : strcmp(port, num_text) == 0 || strcmp(port, kn_json_get_str(p, "name") ?: "") == 0)
            sport = p;
    }
    if (sport == NULL)
        fail_msg("deploy/%s: \"%s\": Service %s/%s has no port %s", in->dir, line, ns, name, port ?: "(only)");
    const kn_json *deploy = NULL, *container = NULL;
    const kn_json *cport = service_backend(in, svc, sport, &deploy, &container);
    if (cport == NULL)
        fail_msg("deploy/%s: \"%s\": Service %s/%s port %s leads to no container port", in->dir, line, ns, name,
                 port);
    /* That port is the scheduler's metrics address, plain HTTP as the proxy's default scheme. */
    const char *bind = kn_kz_arg_value(container, "--metrics-bind-address");
    int64_t cnum = -1;
    kn_json_int(kn_json_get(cport, "containerPort"), &cnum);
    const char *colon = bind ? strrchr(bind, ':') : NULL;
    if (container_named_by(deploy, "kubenexus-scheduler") != container || colon == NULL ||
        atoll(colon + 1) != cnum)
        fail_msg("deploy/%s: \"%s\": port %lld is not kubenexus-scheduler's --metrics-bind-address", in->dir, line,
                 (long long)cnum);
    if ((strcmp(scheme, "https") == 0) != port_is_https(container, cport))
        fail_msg("deploy/%s: \"%s\": the port does not speak %s", in->dir, line, scheme);
    /* The API server reaches a Service's endpoints under .../proxy/ only. */
    if (strncmp(rest, "proxy/", 6) == 0) {
        const char *served = rest + 5;
        if (strcmp(served, "/metrics") != 0 && strcmp(served, "/healthz") != 0 && strcmp(served, "/readyz") != 0)
            fail_msg("deploy/%s: \"%s\": the scheduler serves no %s", in->dir, line, served);
        return;
    }
    /* The guide's form: kube-apiserver answers 404 for it whatever is
     * installed; the README gives the form that works, checked as well. */
    char fixed[1024];
    size_t at = strlen(guide_line) - strlen(rest);
    assert_string_equal(guide_line + at, rest);
    snprintf(fixed, sizeof(fixed), "%.*sproxy/%s", (int)at, guide_line, rest);
    if (strstr(readme, fixed) == NULL)
        fail_msg("\"%s\" lacks /proxy/; README.md must give \"%s\"", guide_line, fixed);
    print_message("deploy/%s: \"%s\": no /proxy/ in the path; README.md gives \"%s\"\n", in->dir, guide_line,
                  fixed);
    check_raw_command(in, fixed, readme);
}

static void check_scheduler_name(const install *in, const char *line)
{
    const char *want = line + strlen("schedulerName: ");
    const char *bins[] = {"kubenexus-scheduler", "kubenexus-webhook"};
    for (int b = 0; b < 2; b++) {
        const kn_json *d = kn_kz_find(&in->objs, "Deployment", in->ns, bins[b]);
        assert_non_null(d);
        const char *got = kn_kz_arg_value(container_named_by(d, bins[b]), "--scheduler-name");
        if (got == NULL || strcmp(got, want) != 0)
            fail_msg("deploy/%s: %s runs with --scheduler-name %s, the guide's pods ask for %s", in->dir, bins[b],
                     got ?: "(default)", want);
    }
}

static void guide_commands_find_kubenexus(void **state)
{
    (void)state;
    char *readme = kn_it_read_file(KN_SOURCE_DIR "/README.md", NULL);
    assert_non_null(readme);
    for (size_t i = 0; i < N_INSTALLS; i++) {
        const install *in = &g_installs[i];
        for (size_t l = 0; l < g_n_lines; l++) {
            const char *line = g_lines[l];
            if (strncmp(line, "schedulerName: ", 15) == 0) {
                check_scheduler_name(in, line);
                continue;
            }
            cmd c;
            parse(&c, line, in->ns);
            if (c.raw)
                check_raw_command(in, line, readme);
            else if (c.argc > 2 && (strcmp(c.argv[1], "logs") == 0 ||
                                    (strcmp(c.argv[1], "get") == 0 && strcmp(c.argv[2], "pods") == 0)))
                check_pods_command(in, &c, line);
            else
                fail_msg("the guide's \"%s\" is not a command this test knows how to check", line);
        }
    }
    free(readme);
}

/* ---------------------------------------------------------------- installs */

static void check_lease(const install *in)
{
    const kn_json *d = kn_kz_find(&in->objs, "Deployment", in->ns, "kubenexus-scheduler");
    const kn_json *c = container_named_by(d, "kubenexus-scheduler");
    char lease_ns[128];
    expand(c, in->ns, kn_kz_arg_value(c, "--lease-namespace"), lease_ns, sizeof(lease_ns));
    if (strcmp(lease_ns, in->ns) != 0)
        fail_msg("deploy/%s: the scheduler's Lease is in \"%s\", not %s", in->dir, lease_ns, in->ns);
    const char *name = kn_kz_arg_value(c, "--scheduler-name");
    /* A Role in that namespace, bound to the scheduler's account, lets it update the Lease. */
    bool granted = false;
    for (size_t i = 0; i < in->objs.n; i++) {
        const kn_json *rb = in->objs.docs[i];
        if (!is_kind(rb, "RoleBinding") || strcmp(ns_of(rb) ?: "", lease_ns) != 0)
            continue;
        const kn_json *s = kn_json_at(kn_json_get(rb, "subjects"), 0);
        const kn_json *role =
            kn_kz_find(&in->objs, "Role", lease_ns, kn_json_get_str(kn_json_get(rb, "roleRef"), "name"));
        if (role == NULL ||
            strcmp(kn_json_get_str(s, "name") ?: "", kn_json_get_str(pod_spec(d), "serviceAccountName")) != 0 ||
            strcmp(kn_json_get_str(s, "namespace") ?: "", in->ns) != 0)
            continue;
        char *text = kn_json_dump(kn_json_get(role, "rules"), NULL);
        char want[160];
        snprintf(want, sizeof(want), "\"resourceNames\":[\"%s\"]", name);
        granted |= strstr(text, "\"leases\"") && strstr(text, want) && strstr(text, "\"update\"");
        free(text);
    }
    if (!granted)
        fail_msg("deploy/%s: no Role in %s bound to the scheduler updates the Lease %s", in->dir, lease_ns, name);
}

/* The serving certificate covers <service>.<ns>.svc, the name the API server checks. */
static void check_certificate(const install *in)
{
    const kn_json *svc = kn_kz_find(&in->objs, "Service", in->ns, "kubenexus-webhook");
    const kn_json *d = kn_kz_find(&in->objs, "Deployment", in->ns, "kubenexus-webhook");
    assert_non_null(svc);
    assert_non_null(d);
    const char *secret =
        kn_json_get_str(kn_json_get(kn_json_at(kn_json_get(pod_spec(d), "volumes"), 0), "secret"), "secretName");
    char want[256];
    snprintf(want, sizeof(want), "%s.%s.svc", name_of(svc), in->ns);
    if (in->cert_manager) {
        const kn_json *cert = NULL;
        for (size_t i = 0; i < in->objs.n; i++)
            if (is_kind(in->objs.docs[i], "Certificate") &&
                strcmp(kn_json_get_str(kn_json_get(in->objs.docs[i], "spec"), "secretName") ?: "", secret) == 0)
                cert = in->objs.docs[i];
        if (cert == NULL)
            fail_msg("deploy/%s: no Certificate writes the Secret %s", in->dir, secret);
        assert_string_equal(ns_of(cert), in->ns);
        char *names = kn_json_dump(kn_json_dig(cert, "spec", "dnsNames", NULL), NULL), quoted[300];
        snprintf(quoted, sizeof(quoted), "\"%s\"", want);
        if (strstr(names, quoted) == NULL)
            fail_msg("deploy/%s: Certificate %s names %s, not %s", in->dir, name_of(cert), names, want);
        free(names);
        char from[300];
        snprintf(from, sizeof(from), "%s/%s", in->ns, name_of(cert));
        const char *kinds[] = {"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"};
        for (int k = 0; k < 2; k++) {
            const kn_json *cfg = kn_kz_find(&in->objs, kinds[k], NULL, "kubenexus-webhook");
            const char *got = kn_json_get_str(kn_json_dig(cfg, "metadata", "annotations", NULL),
                                              "cert-manager.io/inject-ca-from");
            if (got == NULL || strcmp(got, from) != 0)
                fail_msg("deploy/%s: %s injects its CA from %s, not %s", in->dir, kinds[k], got ?: "(nothing)",
                         from);
        }
        return;
    }
    const kn_json *sec = kn_kz_find(&in->objs, "Secret", in->ns, secret ?: "");
    if (sec == NULL)
        fail_msg("deploy/%s: no Secret %s in %s for the webhook", in->dir, secret, in->ns);
    const char *crt = kn_json_get_str(kn_json_get(sec, "data"), "tls.crt");
    assert_non_null(crt);
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/crt.b64", g_tmp);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(crt, f);
    fclose(f);
    if (kn_it_sh("base64 -d '%s' | openssl x509 -noout -text | grep -qE 'DNS:%s(,|$)'", path, want) != 0)
        fail_msg("deploy/%s: the Secret's certificate does not name %s", in->dir, want);
}

static void installs_are_consistent(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_INSTALLS; i++) {
        const install *in = &g_installs[i];
        assert_true(in->objs.n >= 10);
        assert_true(namespace_exists(in, in->ns));
        for (size_t o = 0; o < in->objs.n; o++) {
            const kn_json *obj = in->objs.docs[o];
            const char *kind = kn_json_get_str(obj, "kind"), *ns = ns_of(obj);
            if (kn_kz_cluster_scoped(kind) ? ns != NULL : strcmp(ns ?: "", in->ns) != 0)
                fail_msg("deploy/%s: %s %s is in namespace %s, not %s", in->dir, kind, name_of(obj),
                         ns ?: "(none)", in->ns);
            /* Webhook configurations call a Service of the install. */
            const kn_json *hooks = kn_json_get(obj, "webhooks");
            for (size_t h = 0; h < kn_json_len(hooks); h++) {
                const kn_json *ref = kn_json_dig(kn_json_at(hooks, h), "clientConfig", "service", NULL);
                if (!kn_kz_find(&in->objs, "Service", kn_json_get_str(ref, "namespace") ?: "",
                                kn_json_get_str(ref, "name") ?: ""))
                    fail_msg("deploy/%s: webhook %s calls %s/%s, which is not installed", in->dir,
                             kn_json_get_str(kn_json_at(hooks, h), "name"), kn_json_get_str(ref, "namespace"),
                             kn_json_get_str(ref, "name"));
            }
            /* RBAC binds accounts of the install. */
            const kn_json *subjects = kn_json_get(obj, "subjects");
            for (size_t s = 0; s < kn_json_len(subjects); s++) {
                const kn_json *sub = kn_json_at(subjects, s);
                if (!kn_kz_find(&in->objs, "ServiceAccount", kn_json_get_str(sub, "namespace") ?: "",
                                kn_json_get_str(sub, "name") ?: ""))
                    fail_msg("deploy/%s: %s %s binds %s/%s, which is not installed", in->dir, kind, name_of(obj),
                             kn_json_get_str(sub, "namespace"), kn_json_get_str(sub, "name"));
            }
        }
        check_lease(in);
        check_certificate(in);
    }
}

/* Where kubectl is installed, its kustomize renders each install to the
 * same objects, field for field: what the other tests read is what
 * `kubectl apply -k` sends. */
static void renders_match_kubectl(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_INSTALLS; i++) {
        const install *in = &g_installs[i];
        char dir[PATH_MAX], why[16384];
        snprintf(dir, sizeof(dir), "%s/deploy/%s", g_tmp, in->dir);
        int rc = kn_kz_same_as_kubectl(dir, &in->objs, why, sizeof(why));
        if (rc == 0) {
            print_message("%s: rendering checked with support/kustomize.c only\n", why);
            skip();
        }
        if (rc < 0)
            fail_msg("deploy/%s: %s", in->dir, why);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(guide_commands_find_kubenexus),
        cmocka_unit_test(installs_are_consistent),
        cmocka_unit_test(renders_match_kubectl),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
