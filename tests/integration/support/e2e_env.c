/* e2e_env.c - see e2e_env.h. */
#include "e2e_env.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "yaml/manifest.h"
#include "proc.h"

#define START_MS 30000
#define MAX_RESP (16u * 1024 * 1024)
#define WEBHOOK_SVC "kubenexus-webhook.kube-system:443"

static void binary(char *buf, size_t cap, const char *name, const char *env)
{
    const char *p = getenv(env);
    if (p != NULL && p[0] != '\0')
        snprintf(buf, cap, "%s", p);
    else
        snprintf(buf, cap, "%s/%s", KN_BIN_DIR, name);
}

/* A child that did not come up: killed and reaped, never left behind. */
static void reap(pid_t *pid)
{
    if (*pid > 0) {
        kill(*pid, SIGKILL);
        kn_it_wait_exit(*pid, 5000);
    }
    *pid = 0;
}

static void path_in(char *buf, size_t cap, const kn_e2e *e, const char *name)
{
    snprintf(buf, cap, "%s/%s", e->dir, name);
}

static int gen_certs(kn_e2e *e, const char *sub, const char *service)
{
    return kn_it_sh("bash '%s/certs/gen-certs.sh' --out '%s/%s' --service %s --namespace %s "
                    "--dns localhost --ip 127.0.0.1 >/dev/null 2>&1",
                    KN_SOURCE_DIR, e->dir, sub, service,
                    strcmp(service, "kubernetes") == 0 ? "default" : "kube-system");
}

static int write_kubeconfig(kn_e2e *e)
{
    path_in(e->kubeconfig, sizeof(e->kubeconfig), e, "kubeconfig");
    FILE *f = fopen(e->kubeconfig, "w");
    if (f == NULL)
        return -1;
    fprintf(f,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: double\n  cluster:\n"
            "    server: https://127.0.0.1:%d\n    certificate-authority: %s\n"
            "users:\n- name: scheduler\n  user:\n    token: %s\n"
            "contexts:\n- name: double\n  context: {cluster: double, user: scheduler}\n"
            "current-context: double\n",
            e->api_port, e->api_ca, e->token);
    return fclose(f) == 0 ? 0 : -1;
}

static int start_double(kn_e2e *e)
{
    char script[600], cert[600], key[600], port[16], svc[128];
    snprintf(script, sizeof(script), "%s/tests/apiserver/kube_apiserver_double.py", KN_SOURCE_DIR);
    snprintf(cert, sizeof(cert), "%s/api/tls.crt", e->dir);
    snprintf(key, sizeof(key), "%s/api/tls.key", e->dir);
    snprintf(e->api_ca, sizeof(e->api_ca), "%s/api/ca.crt", e->dir);
    e->api_port = kn_it_free_port();
    snprintf(port, sizeof(port), "%d", e->api_port);
    snprintf(svc, sizeof(svc), WEBHOOK_SVC "=127.0.0.1:%d", e->wh_port);
    /* the storage controllers' stand-in provisions the examples' EBS class */
    char *argv[] = {"/usr/bin/env",
                    "python3",
                    script,
                    "--port",
                    port,
                    "--cert",
                    cert,
                    "--key",
                    key,
                    "--token",
                    e->token,
                    "--webhook-service",
                    svc,
                    "--provisioner",
                    "ebs.csi.aws.com",
                    "--verbose",
                    NULL};
    path_in(e->api_log, sizeof(e->api_log), e, "apiserver.log");
    e->api_pid = kn_it_spawn(argv, e->api_log);
    if (e->api_pid < 0 || !kn_it_wait_port(e->api_port, e->api_pid, START_MS)) {
        fprintf(stderr, "e2e: the kube-apiserver double did not start\n");
        reap(&e->api_pid);
        return -1;
    }
    return 0;
}

int kn_e2e_start_webhook(kn_e2e *e)
{
    char exe[600], cert[600], key[600], port[16];
    binary(exe, sizeof(exe), "kubenexus-webhook", "KN_E2E_WEBHOOK");
    snprintf(cert, sizeof(cert), "%s/wh/tls.crt", e->dir);
    snprintf(key, sizeof(key), "%s/wh/tls.key", e->dir);
    snprintf(port, sizeof(port), "%d", e->wh_port);
    char *argv[] = {exe,
                    "--tls-cert-file",
                    cert,
                    "--tls-key-file",
                    key,
                    "--port",
                    port,
                    "--bind-address",
                    "127.0.0.1",
                    "--scheduler-name",
                    "kubenexus-scheduler",
                    NULL};
    e->wh_pid = kn_it_spawn(argv, e->wh_log);
    if (e->wh_pid < 0 || !kn_it_wait_port(e->wh_port, e->wh_pid, START_MS)) {
        fprintf(stderr, "e2e: kubenexus-webhook did not start\n");
        reap(&e->wh_pid);
        return -1;
    }
    return 0;
}

int kn_e2e_stop_webhook(kn_e2e *e)
{
    int st = -1;
    if (e->wh_pid > 0) {
        kill(e->wh_pid, SIGTERM);
        st = kn_it_wait_exit(e->wh_pid, 10000);
    }
    e->wh_pid = 0;
    return st;
}

int kn_e2e_start_scheduler(kn_e2e *e, const char *const *extra)
{
    char exe[600], metrics[64];
    binary(exe, sizeof(exe), "kubenexus-scheduler", "KN_E2E_SCHEDULER");
    e->metrics_port = kn_it_free_port();
    snprintf(metrics, sizeof(metrics), "127.0.0.1:%d", e->metrics_port);
    char *argv[32] = {
        exe,    "--kubeconfig", e->kubeconfig, "--scheduler-name", "kubenexus-scheduler", "--metrics-bind-address",
        metrics};
    int n = 7;
    for (; extra != NULL && *extra != NULL && n < 31; extra++)
        argv[n++] = (char *)*extra;
    argv[n] = NULL;
    e->sched_starts++;
    FILE *f = fopen(e->sched_log, "a");
    if (f != NULL) {
        fprintf(f, "==== kubenexus-scheduler start %d ====\n", e->sched_starts);
        fclose(f);
    }
    e->sched_pid = kn_it_spawn(argv, e->sched_log);
    if (e->sched_pid < 0 || !kn_it_wait_port(e->metrics_port, e->sched_pid, START_MS)) {
        fprintf(stderr, "e2e: kubenexus-scheduler did not start\n");
        reap(&e->sched_pid);
        return -1;
    }
    return 0;
}

int kn_e2e_stop_scheduler(kn_e2e *e, int sig)
{
    if (e->sched_pid <= 0)
        return -1;
    kill(e->sched_pid, sig);
    int st = kn_it_wait_exit(e->sched_pid, 15000);
    e->sched_pid = 0;
    return st;
}

static void random_token(char *buf, size_t cap)
{
    unsigned char r[16];
    if (RAND_bytes(r, sizeof(r)) != 1)
        for (size_t i = 0; i < sizeof(r); i++)
            r[i] = (unsigned char)(rand() & 0xff);
    for (size_t i = 0; i < sizeof(r) && 2 * i + 2 < cap; i++)
        snprintf(buf + 2 * i, 3, "%02x", r[i]);
}

int kn_e2e_start(kn_e2e *e)
{
    memset(e, 0, sizeof(*e));
    e->dir = kn_it_tempdir("kn-e2e");
    if (e->dir == NULL)
        return -1;
    random_token(e->token, sizeof(e->token));
    path_in(e->wh_log, sizeof(e->wh_log), e, "webhook.log");
    path_in(e->sched_log, sizeof(e->sched_log), e, "scheduler.log");
    snprintf(e->wh_ca, sizeof(e->wh_ca), "%s/wh/ca.crt", e->dir);
    if (gen_certs(e, "api", "kubernetes") != 0 || gen_certs(e, "wh", "kubenexus-webhook") != 0)
        return fprintf(stderr, "e2e: certs/gen-certs.sh failed\n"), -1;
    e->wh_port = kn_it_free_port();
    if (start_double(e) != 0 || write_kubeconfig(e) != 0 || kn_e2e_start_webhook(e) != 0)
        return -1;
    return kn_e2e_load_webhook_configs(e, NULL);
}

static void dump(const char *title, const char *path)
{
    char *s = kn_it_read_file(path, NULL);
    if (s != NULL)
        fprintf(stderr, "---- %s (%s) ----\n%s\n", title, path, s);
    free(s);
}

static bool clean_exit(const char *what, int st)
{
    if (st == -2 || (st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0))
        return true;
    fprintf(stderr, "e2e: %s did not exit 0 on SIGTERM (wait status %d)\n", what, st);
    return false;
}

int kn_e2e_stop(kn_e2e *e)
{
    bool ok = clean_exit("kubenexus-scheduler", e->sched_pid > 0 ? kn_e2e_stop_scheduler(e, SIGTERM) : -2);
    ok = clean_exit("kubenexus-webhook", e->wh_pid > 0 ? kn_e2e_stop_webhook(e) : -2) && ok;
    if (e->api_pid > 0) {
        kill(e->api_pid, SIGTERM);
        kn_it_wait_exit(e->api_pid, 10000);
        e->api_pid = 0;
    }
    if (e->dir == NULL)
        return ok ? 0 : -1;
    if (!ok || e->failed || getenv("KN_E2E_LOGS") != NULL) {
        dump("kube-apiserver double", e->api_log);
        dump("kubenexus-webhook", e->wh_log);
        dump("kubenexus-scheduler", e->sched_log);
    }
    kn_it_rmtree(e->dir);
    free(e->dir);
    e->dir = NULL;
    return ok ? 0 : -1;
}

/* ---- requests ---------------------------------------------------------- */

/* Keeps every "Warning:" header line (kube-apiserver's webhook warnings). */
static size_t on_header(char *d, size_t sz, size_t nm, void *ud)
{
    kn_e2e *e = ud;
    size_t n = sz * nm, have = strlen(e->warnings);
    if (n > 9 && strncasecmp(d, "Warning:", 8) == 0 && have + n < sizeof(e->warnings)) {
        size_t len = n - 9;
        while (len > 0 && (d[9 + len - 1] == '\r' || d[9 + len - 1] == '\n'))
            len--;
        memcpy(e->warnings + have, d + 9, len);
        e->warnings[have + len] = '\n';
        e->warnings[have + len + 1] = '\0';
    }
    return n;
}

long kn_e2e_call(kn_e2e *e, const char *method, const char *path, const char *body, const char *as_user,
                 kn_json **resp)
{
    if (resp != NULL)
        *resp = NULL;
    CURL *c = curl_easy_init();
    if (c == NULL)
        return 0;
    char url[1024], auth[128], imp[300];
    snprintf(url, sizeof(url), "https://127.0.0.1:%d%s", e->api_port, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", e->token);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Accept: application/json");
    if (as_user != NULL) {
        snprintf(imp, sizeof(imp), "Impersonate-User: %s", as_user);
        h = curl_slist_append(h, imp);
    }
    kn_buf b = KN_BUF_MAX(MAX_RESP);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CAINFO, e->api_ca);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, kn_buf_sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    e->warnings[0] = '\0';
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, e);
    if (body != NULL)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (resp != NULL && b.p != NULL) {
        kn_json_limits lim = {.max_bytes = MAX_RESP, .max_depth = 128};
        *resp = kn_json_parse(b.p, b.len, &lim, NULL);
    }
    free(b.p);
    return status;
}

long kn_e2e_call_json(kn_e2e *e, const char *method, const char *path, const kn_json *body, const char *as_user,
                      kn_json **resp)
{
    char *text = kn_json_dump(body, NULL);
    if (text == NULL)
        return 0;
    long st = kn_e2e_call(e, method, path, text, as_user, resp);
    free(text);
    return st;
}

/* ---- webhook configurations ------------------------------------------- */

static char *base64_file(const char *path)
{
    size_t len = 0;
    char *pem = kn_it_read_file(path, &len);
    if (pem == NULL)
        return NULL;
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    if (out != NULL)
        EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)pem, (int)len);
    free(pem);
    return out;
}

static int fill_webhooks(kn_json *cfg, const char *ca_b64, const char *policy)
{
    kn_json *hooks = kn_json_get(cfg, "webhooks");
    for (size_t i = 0; i < kn_json_len(hooks); i++) {
        kn_json *h = kn_json_at(hooks, i);
        if (kn_json_set_str(kn_json_get(h, "clientConfig"), "caBundle", ca_b64) != 0)
            return -1;
        if (policy != NULL && kn_json_set_str(h, "failurePolicy", policy) != 0)
            return -1;
    }
    return 0;
}

static int put_config(kn_e2e *e, kn_json *cfg)
{
    const char *kind = kn_json_get_str(cfg, "kind");
    const char *name = kn_json_str(kn_json_dig(cfg, "metadata", "name", NULL));
    char path[512];
    snprintf(path, sizeof(path), "/apis/admissionregistration.k8s.io/v1/%s",
             kind != NULL && strcmp(kind, "MutatingWebhookConfiguration") == 0
                 ? "mutatingwebhookconfigurations"
                 : "validatingwebhookconfigurations");
    kn_json *resp = NULL;
    long st = kn_e2e_call_json(e, "POST", path, cfg, NULL, &resp);
    if (st == 409) {
        kn_json_free(resp);
        snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s", name);
        st = kn_e2e_call_json(e, "PUT", path, cfg, NULL, &resp);
    }
    if (st != 200 && st != 201)
        fprintf(stderr, "e2e: storing %s %s: HTTP %ld: %s\n", kind, name, st,
                kn_json_get_str(resp, "message") ? kn_json_get_str(resp, "message") : "");
    kn_json_free(resp);
    return st == 200 || st == 201 ? 0 : -1;
}

int kn_e2e_load_webhook_configs(kn_e2e *e, const char *policy)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/deploy/base/webhook-configurations.yaml", KN_SOURCE_DIR);
    kn_json **docs = NULL;
    size_t n = 0;
    kn_err err;
    if (kn_manifest_read_file(path, &docs, &n, &err) != 0)
        return fprintf(stderr, "e2e: %s\n", err.msg), -1;
    char *ca = base64_file(e->wh_ca);
    int rc = ca != NULL && n == 2 ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (fill_webhooks(docs[i], ca, policy) != 0 || put_config(e, docs[i]) != 0)
            rc = -1;
    free(ca);
    kn_yaml_free_docs(docs, n);
    return rc;
}

/* ---- cluster and applications ----------------------------------------- */

int kn_e2e_load_cluster(kn_e2e *e, const char *path)
{
    char full[600];
    snprintf(full, sizeof(full), "%s/%s", KN_SOURCE_DIR, path);
    kn_json **docs = NULL;
    size_t n = 0;
    kn_err err;
    if (kn_manifest_read_file(full, &docs, &n, &err) != 0)
        return fprintf(stderr, "e2e: %s\n", err.msg), -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *kind = kn_json_get_str(docs[i], "kind");
        const char *url = kind == NULL                ? NULL
                          : strcmp(kind, "Node") == 0 ? "/api/v1/nodes"
                          : strcmp(kind, "NodeResourceTopology") == 0
                              ? "/apis/topology.node.k8s.io/v1alpha2/noderesourcetopologies"
                          : strcmp(kind, "StorageClass") == 0     ? "/apis/storage.k8s.io/v1/storageclasses"
                          : strcmp(kind, "CSINode") == 0          ? "/apis/storage.k8s.io/v1/csinodes"
                          : strcmp(kind, "PersistentVolume") == 0 ? "/api/v1/persistentvolumes"
                                                                  : NULL;
        kn_json *resp = NULL;
        long st = url != NULL ? kn_e2e_call_json(e, "POST", url, docs[i], NULL, &resp) : 201;
        if (st != 201) {
            fprintf(stderr, "e2e: creating a %s from %s: HTTP %ld: %s\n", kind, path, st,
                    kn_json_get_str(resp, "message") ? kn_json_get_str(resp, "message") : "");
            rc = -1;
        }
        kn_json_free(resp);
    }
    kn_yaml_free_docs(docs, n);
    return rc;
}

int kn_e2e_add_node(kn_e2e *e, const char *name, const char *cpu, const char *memory, int gpus)
{
    return kn_e2e_add_node_labels(e, name, cpu, memory, gpus, NULL);
}

int kn_e2e_add_node_labels(kn_e2e *e, const char *name, const char *cpu, const char *memory, int gpus,
                           const char *labels)
{
    char gpu[64] = "", res[256], body[1536];
    if (gpus > 0)
        snprintf(gpu, sizeof(gpu), ",\"nvidia.com/gpu\":\"%d\"", gpus);
    snprintf(res, sizeof(res), "{\"cpu\":\"%s\",\"memory\":\"%s\",\"pods\":\"110\"%s}", cpu, memory, gpu);
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\",\"labels\":"
             "{\"kubernetes.io/hostname\":\"%s\"%s%s}},\"spec\":{},\"status\":{\"capacity\":%s,"
             "\"allocatable\":%s,\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
             name, name, labels ? "," : "", labels ? labels : "", res, res);
    return kn_e2e_call(e, "POST", "/api/v1/nodes", body, NULL, NULL) == 201 ? 0 : -1;
}

kn_json *kn_e2e_read_doc(const char *path)
{
    char full[600];
    snprintf(full, sizeof(full), "%s/%s", KN_SOURCE_DIR, path);
    kn_json **docs = NULL;
    size_t n = 0;
    kn_err err;
    if (kn_manifest_read_file(full, &docs, &n, &err) != 0) {
        fprintf(stderr, "e2e: %s\n", err.msg);
        return NULL;
    }
    kn_json *doc = n > 0 ? docs[0] : NULL;
    if (n > 0)
        docs[0] = NULL;
    kn_yaml_free_docs(docs, n);
    return doc;
}

/* A copy of an example under another name is another gang too. */
static void rename_app(kn_json *app, const char *name)
{
    kn_json_set_str(kn_json_get(app, "metadata"), "name", name);
    const char *roles[] = {"driver", "executor"};
    for (int i = 0; i < 2; i++) {
        kn_json *labels = kn_json_dig(app, "spec", roles[i], "labels", NULL);
        if (kn_json_get(labels, "pod-group.scheduling.kubenexus.io/name") != NULL)
            kn_json_set_str(labels, "pod-group.scheduling.kubenexus.io/name", name);
    }
}

long kn_e2e_apply(kn_e2e *e, const char *path, const char *name, kn_json **resp)
{
    return kn_e2e_apply_class(e, path, name, NULL, resp);
}

long kn_e2e_apply_class(kn_e2e *e, const char *path, const char *name, const char *priority_class, kn_json **resp)
{
    kn_json *app = kn_e2e_read_doc(path);
    kn_json *md = kn_json_get(app, "metadata");
    if (md == NULL) {
        kn_json_free(app);
        return 0;
    }
    if (name != NULL)
        rename_app(app, name);
    const char *roles[] = {"driver", "executor"};
    for (int i = 0; priority_class != NULL && i < 2; i++)
        kn_json_set_str(kn_json_dig(app, "spec", roles[i], NULL), "priorityClassName", priority_class);
    const char *ns = kn_json_get_str(md, "namespace");
    char url[512];
    snprintf(url, sizeof(url), "/apis/sparkoperator.k8s.io/v1beta2/namespaces/%s/sparkapplications",
             ns != NULL ? ns : "default");
    long st = kn_e2e_call_json(e, "POST", url, app, NULL, resp);
    kn_json_free(app);
    return st;
}

kn_json *kn_e2e_get_pod(kn_e2e *e, const char *ns, const char *name)
{
    char url[512];
    snprintf(url, sizeof(url), "/api/v1/namespaces/%s/pods/%s", ns, name);
    kn_json *pod = NULL;
    if (kn_e2e_call(e, "GET", url, NULL, NULL, &pod) != 200) {
        kn_json_free(pod);
        return NULL;
    }
    return pod;
}

kn_json *kn_e2e_app_pod_list(kn_e2e *e, const char *ns, const char *app)
{
    char url[512];
    snprintf(url, sizeof(url), "/api/v1/namespaces/%s/pods?labelSelector=sparkoperator.k8s.io/app-name%%3D%s", ns,
             app);
    kn_json *list = NULL;
    if (kn_e2e_call(e, "GET", url, NULL, NULL, &list) != 200) {
        kn_json_free(list);
        return NULL;
    }
    return list;
}

int kn_e2e_app_pods(kn_e2e *e, const char *ns, const char *app, int *bound)
{
    kn_json *list = kn_e2e_app_pod_list(e, ns, app);
    if (list == NULL)
        return -1;
    kn_json *items = kn_json_get(list, "items");
    int n = (int)kn_json_len(items), b = 0;
    for (int i = 0; i < n; i++) {
        const char *node = kn_json_str(kn_json_dig(kn_json_at(items, (size_t)i), "spec", "nodeName", NULL));
        b += node != NULL && node[0] != '\0';
    }
    kn_json_free(list);
    *bound = b;
    return n;
}

static kn_json *state(kn_e2e *e)
{
    kn_json *s = NULL;
    if (kn_e2e_call(e, "GET", "/_test/state", NULL, NULL, &s) != 200) {
        kn_json_free(s);
        return NULL;
    }
    return s;
}

int kn_e2e_max_bind_attempts(kn_e2e *e, const char *ns, const char *app)
{
    kn_json *list = kn_e2e_app_pod_list(e, ns, app);
    kn_json *st = state(e);
    kn_json *attempts = kn_json_get(st, "binding_attempts");
    kn_json *items = kn_json_get(list, "items");
    int max = 0;
    for (size_t i = 0; i < kn_json_len(items); i++) {
        char key[512];
        snprintf(key, sizeof(key), "%s/%s", ns,
                 kn_json_str(kn_json_dig(kn_json_at(items, i), "metadata", "name", NULL)));
        int64_t n = 0;
        if (kn_json_int(kn_json_get(attempts, key), &n) == 0 && n > max)
            max = (int)n;
    }
    kn_json_free(list);
    kn_json_free(st);
    return max;
}

static bool event_names(const kn_json *ev, const char *ns, const char *pod, const char *reason)
{
    const char *r = kn_json_get_str(ev, "reason");
    const kn_json *obj = kn_json_get(ev, "regarding");
    if (obj == NULL)
        obj = kn_json_get(ev, "involvedObject");
    const char *n = kn_json_get_str(obj, "name"), *o_ns = kn_json_get_str(obj, "namespace");
    return r != NULL && strcmp(r, reason) == 0 && n != NULL && strcmp(n, pod) == 0 &&
           (o_ns == NULL || strcmp(o_ns, ns) == 0);
}

/* The first Event (core/v1, then events.k8s.io/v1) with reason naming ns/pod. */
static const kn_json *find_event(const kn_json *st, const char *ns, const char *pod, const char *reason)
{
    const char *kinds[] = {"events", "events.k8s.io"};
    for (size_t k = 0; k < 2; k++) {
        const kn_json *evs = kn_json_dig(st, "objects", kinds[k], NULL);
        for (size_t i = 0; i < kn_json_len(evs); i++)
            if (event_names(kn_json_at(evs, i), ns, pod, reason))
                return kn_json_at(evs, i);
    }
    return NULL;
}

bool kn_e2e_has_event(kn_e2e *e, const char *ns, const char *pod, const char *reason)
{
    kn_json *st = state(e);
    bool found = find_event(st, ns, pod, reason) != NULL;
    kn_json_free(st);
    return found;
}

char *kn_e2e_event_message(kn_e2e *e, const char *ns, const char *pod, const char *reason)
{
    kn_json *st = state(e);
    const kn_json *ev = find_event(st, ns, pod, reason);
    const char *m = kn_json_get_str(ev, "message");
    if (m == NULL)
        m = kn_json_get_str(ev, "note");
    char *out = m != NULL ? strdup(m) : NULL;
    kn_json_free(st);
    return out;
}

bool kn_e2e_wait(double timeout_s, bool (*pred)(void *ctx), void *ctx)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (pred(ctx))
            return true;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 > timeout_s)
            return false;
        kn_it_sleep_ms(100);
    }
}
