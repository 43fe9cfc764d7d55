/* test_deploy_manifests.c - deploy/ checked with the project's own YAML reader.
 *
 * What a broken install looks like, caught before `kubectl apply -k deploy/`:
 * a Service that selects no pod, a webhook configuration that points at a
 * port or path that does not exist, RBAC bound to a missing account, a
 * Deployment without the hardening the restricted Pod Security Standard
 * demands, or args the binary does not accept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "admission/patch.h"
#include "json/json.h"
#include "kube/quantity.h"
#include "webhook/options.h"
#include "yaml/manifest.h"
#include "kustomize.h"

#define DEPLOY KN_SOURCE_DIR "/deploy"
/* Where deploy/base installs, as the Spark Operator guide expects. */
#define NAMESPACE "kube-system"

typedef struct objs {
    kn_json **docs;
    size_t n, cap;
} objs;

static void load(objs *o, const char *path)
{
    kn_json **docs = NULL;
    size_t n = 0;
    kn_err err = {{0}};
    if (kn_manifest_read_file(path, &docs, &n, &err) != 0)
        fail_msg("%s", err.msg);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(kn_docs_push(&o->docs, &o->n, &o->cap, docs[i]), 0);
    free(docs);
}

/* Reads every file the base kustomization lists, as kustomize would. */
static int setup(void **state)
{
    objs *o = calloc(1, sizeof(*o));
    objs k = {0};
    load(&k, DEPLOY "/base/kustomization.yaml");
    assert_int_equal(k.n, 1);
    const kn_json *res = kn_json_get(k.docs[0], "resources");
    assert_true(kn_json_len(res) >= 6);
    for (size_t i = 0; i < kn_json_len(res); i++) {
        char path[512];
        snprintf(path, sizeof(path), DEPLOY "/base/%s", kn_json_str(kn_json_at(res, i)));
        load(o, path);
    }
    kn_yaml_free_docs(k.docs, k.n);
    *state = o;
    return 0;
}

static int teardown(void **state)
{
    objs *o = *state;
    kn_yaml_free_docs(o->docs, o->n);
    free(o);
    return 0;
}

static const kn_json *find(const objs *o, const char *kind, const char *name)
{
    for (size_t i = 0; i < o->n; i++) {
        const kn_json *meta = kn_json_get(o->docs[i], "metadata");
        if (strcmp(kn_json_get_str(o->docs[i], "kind") ?: "", kind) == 0 &&
            strcmp(kn_json_get_str(meta, "name") ?: "", name) == 0)
            return o->docs[i];
    }
    return NULL;
}

static const kn_json *must_find(const objs *o, const char *kind, const char *name)
{
    const kn_json *v = find(o, kind, name);
    if (v == NULL)
        fail_msg("deploy/base has no %s %s", kind, name);
    return v;
}

static bool is_cluster_scoped(const char *kind)
{
    static const char *k[] = {"Namespace", "ClusterRole", "ClusterRoleBinding", "MutatingWebhookConfiguration",
                              "ValidatingWebhookConfiguration"};
    for (size_t i = 0; i < sizeof(k) / sizeof(*k); i++)
        if (strcmp(kind, k[i]) == 0)
            return true;
    return false;
}

static void every_object_is_complete(void **state)
{
    objs *o = *state;
    for (size_t i = 0; i < o->n; i++) {
        const char *kind = kn_json_get_str(o->docs[i], "kind");
        const kn_json *meta = kn_json_get(o->docs[i], "metadata");
        assert_non_null(kn_json_get_str(o->docs[i], "apiVersion"));
        assert_non_null(kind);
        assert_non_null(kn_json_get_str(meta, "name"));
        const char *ns = kn_json_get_str(meta, "namespace");
        if (is_cluster_scoped(kind))
            assert_null(ns);
        else if (ns == NULL || strcmp(ns, NAMESPACE) != 0)
            fail_msg("%s %s is not in " NAMESPACE, kind, kn_json_get_str(meta, "name"));
    }
}

/* true when every matchLabels entry of selector is among labels. */
static bool selects(const kn_json *match_labels, const kn_json *labels)
{
    for (size_t i = 0; i < kn_json_len(match_labels); i++) {
        const char *want = kn_json_str(kn_json_value_at(match_labels, i));
        const char *have = kn_json_get_str(labels, kn_json_key_at(match_labels, i));
        if (want == NULL || have == NULL || strcmp(want, have) != 0)
            return false;
    }
    return kn_json_len(match_labels) > 0;
}

static const kn_json *first_container(const kn_json *deploy)
{
    return kn_json_at(kn_json_dig(deploy, "spec", "template", "spec", "containers", NULL), 0);
}

static bool has_named_port(const kn_json *container, const char *name)
{
    const kn_json *ports = kn_json_get(container, "ports");
    for (size_t i = 0; i < kn_json_len(ports); i++)
        if (strcmp(kn_json_get_str(kn_json_at(ports, i), "name") ?: "", name) == 0)
            return true;
    return false;
}

/* The Service must select the Deployment's pods and target a real port. */
static void check_service_for(const objs *o, const char *name)
{
    const kn_json *svc = must_find(o, "Service", name);
    const kn_json *dep = must_find(o, "Deployment", name);
    const kn_json *pod_labels = kn_json_dig(dep, "spec", "template", "metadata", "labels", NULL);
    assert_true(selects(kn_json_dig(svc, "spec", "selector", NULL), pod_labels));
    assert_true(selects(kn_json_dig(dep, "spec", "selector", "matchLabels", NULL), pod_labels));
    const kn_json *ports = kn_json_dig(svc, "spec", "ports", NULL);
    assert_true(kn_json_len(ports) > 0);
    for (size_t i = 0; i < kn_json_len(ports); i++) {
        const char *target = kn_json_get_str(kn_json_at(ports, i), "targetPort");
        assert_non_null(target);
        assert_true(has_named_port(first_container(dep), target));
    }
    const kn_json *pdb = must_find(o, "PodDisruptionBudget", name);
    assert_true(selects(kn_json_dig(pdb, "spec", "selector", "matchLabels", NULL), pod_labels));
}

static void services_select_their_deployments(void **state)
{
    check_service_for(*state, "kubenexus-webhook");
    check_service_for(*state, "kubenexus-scheduler");
}

static void check_hardening(const kn_json *dep)
{
    const kn_json *pod = kn_json_dig(dep, "spec", "template", "spec", NULL);
    const kn_json *psc = kn_json_get(pod, "securityContext");
    assert_true(kn_json_bool(kn_json_get(psc, "runAsNonRoot"), false));
    assert_string_equal(kn_json_get_str(kn_json_get(psc, "seccompProfile"), "type"), "RuntimeDefault");
    int64_t replicas = 0;
    assert_int_equal(kn_json_int(kn_json_dig(dep, "spec", "replicas", NULL), &replicas), 0);
    assert_int_equal(replicas, 2);
    assert_non_null(kn_json_get(pod, "topologySpreadConstraints"));
    const kn_json *c = first_container(dep);
    const kn_json *sc = kn_json_get(c, "securityContext");
    assert_true(kn_json_bool(kn_json_get(sc, "readOnlyRootFilesystem"), false));
    assert_false(kn_json_bool(kn_json_get(sc, "allowPrivilegeEscalation"), true));
    assert_string_equal(kn_json_str(kn_json_at(kn_json_dig(sc, "capabilities", "drop", NULL), 0)), "ALL");
    assert_non_null(kn_json_dig(c, "resources", "requests", "cpu", NULL));
    assert_non_null(kn_json_dig(c, "resources", "limits", "memory", NULL));
    assert_non_null(kn_json_dig(c, "readinessProbe", "httpGet", NULL));
    assert_non_null(kn_json_dig(c, "livenessProbe", "httpGet", NULL));
}

static void deployments_are_hardened(void **state)
{
    objs *o = *state;
    check_hardening(must_find(o, "Deployment", "kubenexus-webhook"));
    check_hardening(must_find(o, "Deployment", "kubenexus-scheduler"));
    const kn_json *c = first_container(must_find(o, "Deployment", "kubenexus-webhook"));
    assert_string_equal(kn_json_get_str(kn_json_dig(c, "readinessProbe", "httpGet", NULL), "scheme"), "HTTPS");
    assert_string_equal(kn_json_get_str(kn_json_dig(c, "readinessProbe", "httpGet", NULL), "path"), "/readyz");
    assert_string_equal(kn_json_get_str(kn_json_dig(c, "livenessProbe", "httpGet", NULL), "path"), "/healthz");
}

static void check_webhooks(const objs *o, const char *kind, const char *path)
{
    const kn_json *cfg = must_find(o, kind, "kubenexus-webhook");
    const kn_json *svc = must_find(o, "Service", "kubenexus-webhook");
    const kn_json *hooks = kn_json_get(cfg, "webhooks");
    assert_true(kn_json_len(hooks) >= 2);
    for (size_t i = 0; i < kn_json_len(hooks); i++) {
        const kn_json *h = kn_json_at(hooks, i);
        const kn_json *ref = kn_json_dig(h, "clientConfig", "service", NULL);
        assert_string_equal(kn_json_get_str(ref, "name"), kn_json_get_str(kn_json_get(svc, "metadata"), "name"));
        assert_string_equal(kn_json_get_str(ref, "namespace"), NAMESPACE);
        const char *got = kn_json_get_str(ref, "path");
        assert_non_null(got);
        size_t plen = strlen(path);
        /* A sub-path, never a query: kube-apiserver refuses "?" in service.path. */
        if (strncmp(got, path, plen) != 0 || (got[plen] != '\0' && got[plen] != '/') || strchr(got, '?'))
            fail_msg("webhook %s calls %s, want %s", kn_json_get_str(h, "name"), got, path);
        int64_t port = 0, svc_port = 0, timeout = 0;
        assert_int_equal(kn_json_int(kn_json_get(ref, "port"), &port), 0);
        assert_int_equal(
            kn_json_int(kn_json_get(kn_json_at(kn_json_dig(svc, "spec", "ports", NULL), 0), "port"), &svc_port),
            0);
        assert_int_equal(port, svc_port);
        assert_string_equal(kn_json_get_str(h, "sideEffects"), "None");
        const kn_json *versions = kn_json_get(h, "admissionReviewVersions");
        assert_int_equal(kn_json_len(versions), 1);
        assert_string_equal(kn_json_str(kn_json_at(versions, 0)), "v1");
        assert_int_equal(kn_json_int(kn_json_get(h, "timeoutSeconds"), &timeout), 0);
        assert_true(timeout >= 1 && timeout <= 10);
        const char *fp = kn_json_get_str(h, "failurePolicy");
        assert_true(fp && (strcmp(fp, "Fail") == 0 || strcmp(fp, "Ignore") == 0));
        /* Our namespace, either one (deploy/overlays/dedicated-namespace), is
         * never sent to the webhook. */
        const kn_json *expr = kn_json_at(kn_json_dig(h, "namespaceSelector", "matchExpressions", NULL), 0);
        assert_string_equal(kn_json_get_str(expr, "operator"), "NotIn");
        char *vals = kn_json_dump(kn_json_get(expr, "values"), NULL);
        assert_non_null(strstr(vals, "\"kube-system\""));
        assert_non_null(strstr(vals, "\"kubenexus-system\""));
        free(vals);
        /* Pod webhooks are scoped to gang or Spark pods by objectSelector. */
        const kn_json *rule = kn_json_at(kn_json_get(h, "rules"), 0);
        if (strcmp(kn_json_str(kn_json_at(kn_json_get(rule, "resources"), 0)) ?: "", "pods") == 0)
            assert_true(kn_json_len(kn_json_dig(h, "objectSelector", "matchExpressions", NULL)) >= 1);
    }
}

static void webhook_configurations_point_at_the_service(void **state)
{
    check_webhooks(*state, "MutatingWebhookConfiguration", "/mutate");
    check_webhooks(*state, "ValidatingWebhookConfiguration", "/validate");
}

static bool rule_allows(const kn_json *role, const char *group, const char *resource, const char *verb)
{
    const kn_json *rules = kn_json_get(role, "rules");
    for (size_t i = 0; i < kn_json_len(rules); i++) {
        char *text = kn_json_dump(kn_json_at(rules, i), NULL);
        char r[128], v[64];
        snprintf(r, sizeof(r), "\"%s\"", resource);
        snprintf(v, sizeof(v), "\"%s\"", verb);
        const kn_json *groups = kn_json_get(kn_json_at(rules, i), "apiGroups");
        bool group_ok = false;
        for (size_t j = 0; j < kn_json_len(groups); j++)
            group_ok |= strcmp(kn_json_str(kn_json_at(groups, j)) ?: "-", group) == 0;
        bool ok = group_ok && strstr(text, r) && strstr(text, v);
        free(text);
        if (ok)
            return true;
    }
    return false;
}

static void rbac_is_least_privilege_and_bound(void **state)
{
    objs *o = *state;
    const kn_json *cr = must_find(o, "ClusterRole", "kubenexus-scheduler");
    assert_true(rule_allows(cr, "", "pods", "watch"));
    assert_true(rule_allows(cr, "", "pods/binding", "create"));
    assert_true(rule_allows(cr, "", "nodes", "list"));
    assert_true(rule_allows(cr, "", "namespaces", "list"));
    assert_true(rule_allows(cr, "", "namespaces", "watch"));
    assert_false(rule_allows(cr, "", "namespaces", "get"));
    assert_false(rule_allows(cr, "", "namespaces", "update"));
    assert_true(rule_allows(cr, "topology.node.k8s.io", "noderesourcetopologies", "watch"));
    assert_true(rule_allows(cr, "", "events", "create"));
    /* PodGroups: what the informers do and nothing more */
    static const char *const pg_groups[] = {"scheduling.x-k8s.io", "scheduling.volcano.sh"};
    for (size_t i = 0; i < 2; i++) {
        assert_true(rule_allows(cr, pg_groups[i], "podgroups", "list"));
        assert_true(rule_allows(cr, pg_groups[i], "podgroups", "watch"));
        assert_false(rule_allows(cr, pg_groups[i], "podgroups", "get"));
        assert_false(rule_allows(cr, pg_groups[i], "podgroups", "update"));
        assert_false(rule_allows(cr, pg_groups[i], "podgroups", "create"));
    }
    /* preemption: victims deleted, conditions and nominations patched, budgets read */
    assert_true(rule_allows(cr, "", "pods", "delete"));
    assert_true(rule_allows(cr, "", "pods/status", "patch"));
    assert_true(rule_allows(cr, "policy", "poddisruptionbudgets", "watch"));
    assert_false(rule_allows(cr, "", "pods", "create"));
    assert_false(rule_allows(cr, "", "pods", "patch"));
    assert_false(rule_allows(cr, "", "pods/status", "update"));
    assert_false(rule_allows(cr, "policy", "poddisruptionbudgets", "delete"));
    /* storage: watched, and what a pod's volumes need written before its binding */
    const char *storage[][3] = {{"", "persistentvolumeclaims", "watch"},
                                {"", "persistentvolumeclaims", "patch"},
                                {"", "persistentvolumes", "watch"},
                                {"", "persistentvolumes", "patch"},
                                {"storage.k8s.io", "storageclasses", "watch"},
                                {"storage.k8s.io", "csinodes", "list"}};
    for (size_t i = 0; i < sizeof(storage) / sizeof(storage[0]); i++)
        assert_true(rule_allows(cr, storage[i][0], storage[i][1], storage[i][2]));
    assert_false(rule_allows(cr, "", "persistentvolumeclaims", "delete"));
    assert_false(rule_allows(cr, "storage.k8s.io", "storageclasses", "patch"));
    assert_false(rule_allows(cr, "", "secrets", "get"));
    /* Only what the scheduler calls: it never gets a node or a topology by
     * name, and writes core/v1 Events only. */
    assert_true(rule_allows(cr, "", "pods", "get")); /* a 409 binding re-reads its pod */
    assert_false(rule_allows(cr, "", "nodes", "get"));
    assert_false(rule_allows(cr, "topology.node.k8s.io", "noderesourcetopologies", "get"));
    assert_false(rule_allows(cr, "events.k8s.io", "events", "create"));
    char *text = kn_json_dump(cr, NULL);
    assert_null(strstr(text, "\"*\"")); /* no wildcards */
    free(text);
    const kn_json *role = must_find(o, "Role", "kubenexus-scheduler-leader-election");
    assert_true(rule_allows(role, "coordination.k8s.io", "leases", "update"));
    /* Bindings name roles and service accounts that exist. */
    const char *bindings[][2] = {{"ClusterRoleBinding", "kubenexus-scheduler"},
                                 {"RoleBinding", "kubenexus-scheduler-leader-election"}};
    for (size_t i = 0; i < 2; i++) {
        const kn_json *b = must_find(o, bindings[i][0], bindings[i][1]);
        const kn_json *ref = kn_json_get(b, "roleRef");
        must_find(o, kn_json_get_str(ref, "kind"), kn_json_get_str(ref, "name"));
        const kn_json *subj = kn_json_at(kn_json_get(b, "subjects"), 0);
        must_find(o, "ServiceAccount", kn_json_get_str(subj, "name"));
    }
    const kn_json *dep = must_find(o, "Deployment", "kubenexus-scheduler");
    assert_string_equal(kn_json_get_str(kn_json_dig(dep, "spec", "template", "spec", NULL), "serviceAccountName"),
                        "kubenexus-scheduler");
    /* The webhook calls no API: no token mounted. */
    const kn_json *wsa = must_find(o, "ServiceAccount", "kubenexus-webhook");
    assert_false(kn_json_bool(kn_json_get(wsa, "automountServiceAccountToken"), true));
}

/* Every --flag the manifests pass must be one the binary documents. */
static void check_args(const kn_json *dep, const char *binary)
{
    char cmd[1024], help[8192] = "";
    snprintf(cmd, sizeof(cmd), "%s/%s --help 2>&1", KN_BIN_DIR, binary);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(help, 1, sizeof(help) - 1, p);
    help[n] = '\0';
    pclose(p);
    const kn_json *c = first_container(dep);
    const char *command = kn_json_str(kn_json_at(kn_json_get(c, "command"), 0));
    assert_non_null(command);
    assert_non_null(strstr(command, binary));
    const kn_json *args = kn_json_get(c, "args");
    assert_true(kn_json_len(args) > 0);
    for (size_t i = 0; i < kn_json_len(args); i++) {
        char flag[128];
        snprintf(flag, sizeof(flag), "%s", kn_json_str(kn_json_at(args, i)));
        char *eq = strchr(flag, '=');
        if (eq != NULL)
            *eq = '\0';
        if (strstr(help, flag) == NULL)
            fail_msg("%s does not document %s (from deploy/base)", binary, flag);
    }
}

static void args_are_accepted_by_the_binaries(void **state)
{
    objs *o = *state;
    check_args(must_find(o, "Deployment", "kubenexus-webhook"), "kubenexus-webhook");
    check_args(must_find(o, "Deployment", "kubenexus-scheduler"), "kubenexus-scheduler");
}

static int64_t bytes_of(const char *quantity)
{
    int64_t v = -1;
    kn_err err = {{0}};
    if (quantity == NULL || kn_quantity_value(quantity, &v, &err) != 0)
        fail_msg("\"%s\" is not a quantity: %s", quantity ? quantity : "(none)", err.msg);
    return v;
}

/* The webhook's memory limit covers what its flags let it hold: request
 * bodies up to --max-buffered-bytes (set explicitly, so the two are read
 * side by side) plus what it needs besides them. A limit below that is an
 * OOM kill under load, and failurePolicy Fail then blocks gang pods. */
static void webhook_memory_limit_covers_its_budget(void **state)
{
    const kn_json *c = first_container(must_find(*state, "Deployment", "kubenexus-webhook"));
    const char *budget = kn_kz_arg_value(c, "--max-buffered-bytes");
    if (budget == NULL)
        fail_msg("the webhook Deployment does not pass --max-buffered-bytes");
    int64_t limit = bytes_of(kn_json_get_str(kn_json_dig(c, "resources", "limits", NULL), "memory"));
    int64_t want = bytes_of(budget) + (int64_t)KN_WEBHOOK_BASELINE_BYTES;
    if (limit < want)
        fail_msg("memory limit %lld bytes < --max-buffered-bytes %s + %u MiB baseline", (long long)limit, budget,
                 (unsigned)(KN_WEBHOOK_BASELINE_BYTES >> 20));
    /* And the budget holds at least one review of the largest size. */
    const char *max_req = kn_kz_arg_value(c, "--max-request-bytes");
    assert_true(bytes_of(budget) >= (max_req != NULL ? bytes_of(max_req) : 7 << 20));
}

static bool port_is(const kn_json *port, const kn_json *container)
{
    const char *name = kn_json_get_str(port, "port");
    int64_t num = 0;
    const kn_json *cports = kn_json_get(container, "ports");
    for (size_t i = 0; i < kn_json_len(cports); i++) {
        const kn_json *cp = kn_json_at(cports, i);
        int64_t cnum = -1;
        kn_json_int(kn_json_get(cp, "containerPort"), &cnum);
        if ((name != NULL && strcmp(name, kn_json_get_str(cp, "name") ?: "") == 0) ||
            (name == NULL && kn_json_int(kn_json_get(port, "port"), &num) == 0 && num == cnum))
            return true;
    }
    return false;
}

/* Ingress to the webhook's pods only on its HTTPS port, and only from the
 * sources a rule names: no rule without `from` (that would admit every
 * pod), no ipBlock of the whole address space without exceptions. */
static void webhook_network_policy_admits_named_sources_only(void **state)
{
    objs *o = *state;
    const kn_json *np = must_find(o, "NetworkPolicy", "kubenexus-webhook");
    const kn_json *dep = must_find(o, "Deployment", "kubenexus-webhook");
    const kn_json *pod_labels = kn_json_dig(dep, "spec", "template", "metadata", "labels", NULL);
    assert_true(selects(kn_json_dig(np, "spec", "podSelector", "matchLabels", NULL), pod_labels));
    char *types = kn_json_dump(kn_json_dig(np, "spec", "policyTypes", NULL), NULL);
    assert_non_null(strstr(types, "\"Ingress\""));
    free(types);
    const kn_json *rules = kn_json_dig(np, "spec", "ingress", NULL);
    assert_true(kn_json_len(rules) >= 1);
    for (size_t i = 0; i < kn_json_len(rules); i++) {
        const kn_json *r = kn_json_at(rules, i);
        const kn_json *ports = kn_json_get(r, "ports");
        assert_true(kn_json_len(ports) >= 1);
        for (size_t j = 0; j < kn_json_len(ports); j++)
            if (!port_is(kn_json_at(ports, j), first_container(dep)))
                fail_msg("ingress rule %zu opens a port the webhook does not serve", i);
        const kn_json *from = kn_json_get(r, "from");
        if (kn_json_len(from) == 0)
            fail_msg("ingress rule %zu admits every source", i);
        for (size_t j = 0; j < kn_json_len(from); j++) {
            const kn_json *block = kn_json_get(kn_json_at(from, j), "ipBlock");
            const char *cidr = kn_json_get_str(block, "cidr");
            if (cidr != NULL && (strcmp(cidr, "0.0.0.0/0") == 0 || strcmp(cidr, "::/0") == 0) &&
                kn_json_len(kn_json_get(block, "except")) == 0)
                fail_msg("ingress rule %zu admits every address", i);
        }
    }
}

static void kustomizations_reference_existing_files(void **state)
{
    (void)state;
    objs k = {0};
    load(&k, DEPLOY "/cert-manager/kustomization.yaml");
    const kn_json *res = kn_json_get(k.docs[0], "resources");
    char path[512];
    for (size_t i = 0; i < kn_json_len(res); i++) {
        snprintf(path, sizeof(path), DEPLOY "/cert-manager/%s", kn_json_str(kn_json_at(res, i)));
        FILE *f = fopen(path, "r");
        if (f == NULL && strstr(path, "base") == NULL)
            fail_msg("missing %s", path);
        if (f)
            fclose(f);
    }
    objs cm = {0};
    load(&cm, DEPLOY "/cert-manager/certificate.yaml");
    const kn_json *cert = NULL;
    for (size_t i = 0; i < cm.n; i++)
        if (strcmp(kn_json_get_str(kn_json_get(cm.docs[i], "metadata"), "name") ?: "", "kubenexus-webhook") == 0)
            cert = cm.docs[i];
    assert_non_null(cert);
    assert_string_equal(kn_json_get_str(kn_json_get(cert, "spec"), "secretName"), "kubenexus-webhook-tls");
    char *names = kn_json_dump(kn_json_dig(cert, "spec", "dnsNames", NULL), NULL);
    assert_non_null(strstr(names, "\"kubenexus-webhook." NAMESPACE ".svc\""));
    free(names);
    kn_yaml_free_docs(cm.docs, cm.n);
    kn_yaml_free_docs(k.docs, k.n);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* certs/gen-certs.sh --kustomize writes the Secret the webhook Deployment
 * mounts and a caBundle for every webhook; applied as kustomize applies the
 * JSON 6902 patches, each webhook ends up trusting the generated CA. */
static void gen_certs_kustomize_fills_every_ca_bundle(void **state)
{
    objs *o = *state;
    char dir[] = "/tmp/kn-deploy-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "bash %s/certs/gen-certs.sh --kustomize %s/tls 2>/dev/null", KN_SOURCE_DIR, dir);
    assert_int_equal(system(cmd), 0);
    /* Idempotent: a second run keeps the certificate. */
    char path[512];
    snprintf(path, sizeof(path), "%s/tls/tls.crt", dir);
    char *before = read_text(path);
    assert_int_equal(system(cmd), 0);
    char *after = read_text(path);
    assert_non_null(before);
    assert_string_equal(before, after);
    free(before);
    free(after);

    objs sec = {0};
    snprintf(path, sizeof(path), "%s/tls/secret.yaml", dir);
    load(&sec, path);
    const kn_json *dep = must_find(o, "Deployment", "kubenexus-webhook");
    const kn_json *vol = kn_json_at(kn_json_dig(dep, "spec", "template", "spec", "volumes", NULL), 0);
    assert_string_equal(kn_json_get_str(kn_json_get(sec.docs[0], "metadata"), "name"),
                        kn_json_get_str(kn_json_get(vol, "secret"), "secretName"));
    assert_string_equal(kn_json_get_str(sec.docs[0], "type"), "kubernetes.io/tls");
    const char *ca_b64 = kn_json_get_str(kn_json_get(sec.docs[0], "data"), "ca.crt");
    assert_non_null(ca_b64);

    const char *kinds[][2] = {{"MutatingWebhookConfiguration", "mutating"},
                              {"ValidatingWebhookConfiguration", "validating"}};
    for (int k = 0; k < 2; k++) {
        objs patch = {0};
        snprintf(path, sizeof(path), "%s/tls/cabundle-%s.yaml", dir, kinds[k][1]);
        load(&patch, path);
        assert_int_equal(patch.n, 1);
        kn_err err = {{0}};
        kn_json *patched =
            kn_json_patch_apply(must_find(o, kinds[k][0], "kubenexus-webhook"), patch.docs[0], &err);
        if (patched == NULL)
            fail_msg("%s: %s", path, err.msg);
        const kn_json *hooks = kn_json_get(patched, "webhooks");
        for (size_t i = 0; i < kn_json_len(hooks); i++)
            assert_string_equal(kn_json_get_str(kn_json_get(kn_json_at(hooks, i), "clientConfig"), "caBundle"),
                                ca_b64);
        kn_json_free(patched);
        kn_yaml_free_docs(patch.docs, patch.n);
    }
    kn_yaml_free_docs(sec.docs, sec.n);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* Where kubectl exists, kustomize's own rendering of deploy/base must hold
 * exactly the objects read above (same kinds and names, namespace set). */
static void kubectl_kustomize_renders_the_same_objects(void **state)
{
    objs *o = *state;
    if (system("kubectl version --client >/dev/null 2>&1") != 0) {
        print_message("kubectl not installed: rendering checked with our reader only\n");
        skip();
    }
    char path[] = "/tmp/kn-kustomize-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "kubectl kustomize %s/base > %s 2>/dev/null", DEPLOY, path);
    if (system(cmd) != 0) {
        unlink(path);
        print_message("this kubectl cannot render deploy/base (kustomize too old)\n");
        skip();
    }
    objs r = {0};
    load(&r, path);
    unlink(path);
    assert_int_equal(r.n, o->n);
    for (size_t i = 0; i < r.n; i++) {
        const kn_json *meta = kn_json_get(r.docs[i], "metadata");
        must_find(o, kn_json_get_str(r.docs[i], "kind"), kn_json_get_str(meta, "name"));
    }
    kn_yaml_free_docs(r.docs, r.n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_object_is_complete),
        cmocka_unit_test(services_select_their_deployments),
        cmocka_unit_test(deployments_are_hardened),
        cmocka_unit_test(webhook_configurations_point_at_the_service),
        cmocka_unit_test(rbac_is_least_privilege_and_bound),
        cmocka_unit_test(args_are_accepted_by_the_binaries),
        cmocka_unit_test(webhook_memory_limit_covers_its_budget),
        cmocka_unit_test(webhook_network_policy_admits_named_sources_only),
        cmocka_unit_test(kustomizations_reference_existing_files),
        cmocka_unit_test(gen_certs_kustomize_fills_every_ca_bundle),
        cmocka_unit_test(kubectl_kustomize_renders_the_same_objects),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
