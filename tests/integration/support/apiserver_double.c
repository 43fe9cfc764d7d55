/* apiserver_double.c - see apiserver_double.h. */
#include "apiserver_double.h"

#include "proc.h"

#include "base/buf.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef KN_SOURCE_DIR
#define KN_SOURCE_DIR "."
#endif
#ifndef KN_BIN_DIR
#define KN_BIN_DIR "./bin"
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool kn_wait_for(double timeout_s, bool (*pred)(void *ctx), void *ctx)
{
    double end = now_s() + timeout_s;
    for (;;) {
        if (pred(ctx))
            return true;
        if (now_s() > end)
            return false;
        kn_it_sleep_ms(100);
    }
}

static int make_certs(kn_dbl *d)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd %s && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt "
             "-days 1 -subj /CN=kn-test-ca >/dev/null 2>&1 && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key -out srv.csr "
             "-subj /CN=127.0.0.1 >/dev/null 2>&1 && "
             "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > srv.ext && "
             "openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 1 "
             "-extfile srv.ext >/dev/null 2>&1 && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout client.key -out client.csr "
             "-subj '/O=kubenexus/CN=system:kubenexus-scheduler' >/dev/null 2>&1 && "
             "printf 'extendedKeyUsage=clientAuth\\n' > client.ext && "
             "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 1 "
             "-extfile client.ext >/dev/null 2>&1",
             d->dir);
    return kn_it_sh("%s", cmd) == 0 ? 0 : -1;
}

static int write_kubeconfig(kn_dbl *d)
{
    char cmd[1024];
    snprintf(d->kubeconfig, sizeof d->kubeconfig, "%s/kubeconfig.yaml", d->dir);
    /* the CA as certificate-authority-data, the token inline: what kubectl writes */
    snprintf(cmd, sizeof cmd,
             "cd %s && { printf 'apiVersion: v1\\nkind: Config\\nclusters:\\n- name: double\\n  cluster:\\n"
             "    server: https://127.0.0.1:%d\\n    certificate-authority-data: '; base64 -w0 ca.crt; "
             "printf '\\nusers:\\n- name: sched\\n  user:\\n    token: %s\\ncontexts:\\n- name: t\\n  context:\\n"
             "    cluster: double\\n    user: sched\\ncurrent-context: t\\n'; } > kubeconfig.yaml",
             d->dir, d->port, d->token);
    return kn_it_sh("%s", cmd) == 0 ? 0 : -1;
}

int kn_dbl_write_cert_kubeconfig(kn_dbl *d, const char *path)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd,
             "cd %s && { printf 'apiVersion: v1\\nkind: Config\\nclusters:\\n- name: double\\n  cluster:\\n"
             "    server: https://127.0.0.1:%d\\n    certificate-authority: ca.crt\\nusers:\\n- name: sched\\n"
             "  user:\\n    client-certificate-data: '; base64 -w0 client.crt; "
             "printf '\\n    client-key-data: '; base64 -w0 client.key; "
             "printf '\\ncontexts:\\n- name: t\\n  context:\\n    cluster: double\\n    user: sched\\n"
             "current-context: t\\n'; } > '%s'",
             d->dir, d->port, path);
    return kn_it_sh("%s", cmd) == 0 ? 0 : -1;
}

/* The double on port ("0": any; the one taken is written to d->dir/port)
 * with d's certificate, token and client CA, logging to d->dir/log_name;
 * extra: one more argument, or NULL. */
static pid_t spawn(const kn_dbl *d, const char *port, const char *log_name, const char *extra)
{
    char script[512], cert[160], key[160], portfile[160], log[160];
    snprintf(script, sizeof script, "%s/tests/apiserver/kube_apiserver_double.py", KN_SOURCE_DIR);
    snprintf(cert, sizeof cert, "%s/srv.crt", d->dir);
    snprintf(key, sizeof key, "%s/srv.key", d->dir);
    snprintf(portfile, sizeof portfile, "%s/port", d->dir);
    snprintf(log, sizeof log, "%s/%s", d->dir, log_name);
    unlink(portfile);
    char *argv[] = {"/usr/bin/env",
                    "python3",
                    script,
                    "--port",
                    (char *)port,
                    "--cert",
                    cert,
                    "--key",
                    key,
                    "--token",
                    (char *)d->token,
                    "--port-file",
                    portfile,
                    "--bookmark-seconds",
                    "1",
                    "--client-ca",
                    (char *)d->ca,
                    (char *)extra,
                    NULL};
    return kn_it_spawn(argv, log);
}

int kn_dbl_start(kn_dbl *d, const char *extra)
{
    memset(d, 0, sizeof *d);
    snprintf(d->dir, sizeof d->dir, "/tmp/kn-it-XXXXXX");
    if (!mkdtemp(d->dir))
        return -1;
    unsigned r1 = (unsigned)rand() ^ (unsigned)getpid(), r2 = (unsigned)time(NULL) * 2654435761u;
    snprintf(d->token, sizeof d->token, "kn-test-%08x%08x", r1, r2);
    snprintf(d->ca, sizeof d->ca, "%s/ca.crt", d->dir);
    if (make_certs(d) < 0)
        return -1;
    d->pid = spawn(d, "0", "double.log", extra);
    if (d->pid < 0)
        return -1;
    char portfile[160];
    snprintf(portfile, sizeof portfile, "%s/port", d->dir);
    for (int i = 0; i < 200 && d->port == 0; i++) {
        FILE *f = fopen(portfile, "r");
        if (f) {
            if (fscanf(f, "%d", &d->port) != 1)
                d->port = 0;
            fclose(f);
        }
        if (!d->port)
            kn_it_sleep_ms(50);
    }
    return d->port && write_kubeconfig(d) == 0 ? 0 : -1;
}

int kn_dbl_restart(kn_dbl *d)
{
    kill(d->pid, SIGKILL);
    waitpid(d->pid, NULL, 0);
    char port[16];
    snprintf(port, sizeof port, "%d", d->port);
    d->pid = spawn(d, port, "double2.log", "--restore-uids");
    return d->pid > 0 && kn_it_wait_port(d->port, d->pid, 10000) ? 0 : -1;
}

void kn_dbl_stop(kn_dbl *d)
{
    if (d->pid > 0) {
        kill(d->pid, SIGTERM);
        waitpid(d->pid, NULL, 0);
        d->pid = 0;
    }
    if (d->dir[0] && !getenv("KN_KEEP_TMP"))
        kn_it_rmtree(d->dir);
}

/* ---------------------------------------------------------------- HTTP */

static long http(const char *url, const char *ca, const char *token, const char *method, const char *body,
                 char **out)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = NULL;
    char auth[128];
    kn_buf b = KN_BUF_INIT;
    long code = 0;
    if (!h)
        return 0;
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        hdr = curl_slist_append(hdr, auth);
    }
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    if (ca)
        curl_easy_setopt(h, CURLOPT_CAINFO, ca);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, kn_buf_sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    if (out)
        *out = b.p;
    else
        free(b.p);
    return code;
}

long kn_dbl_call(kn_dbl *d, const char *method, const char *path, const char *body, kn_json **resp)
{
    char url[1024];
    char *text = NULL;
    snprintf(url, sizeof url, "https://127.0.0.1:%d%s", d->port, path);
    long code = http(url, d->ca, d->token, method, body, &text);
    if (resp)
        *resp = text ? kn_json_parse(text, strlen(text), NULL, NULL) : NULL;
    free(text);
    return code;
}

int kn_dbl_faults(kn_dbl *d, const char *json)
{
    return kn_dbl_call(d, "POST", "/_test/faults", json, NULL) == 200 ? 0 : -1;
}

kn_json *kn_dbl_state(kn_dbl *d)
{
    kn_json *st = NULL;
    kn_dbl_call(d, "GET", "/_test/state", NULL, &st);
    return st;
}

/* ---------------------------------------------------------------- objects */

int kn_dbl_add_node(kn_dbl *d, const char *name, const char *cpu, const char *memory)
{
    return kn_dbl_add_node_labels(d, name, cpu, memory, NULL);
}

int kn_dbl_add_node_labels(kn_dbl *d, const char *name, const char *cpu, const char *memory, const char *labels)
{
    char body[1536];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\",\"labels\":"
             "{\"kubernetes.io/hostname\":\"%s\",\"kubernetes.io/os\":\"linux\"%s%s}},\"spec\":{},"
             "\"status\":{\"capacity\":{\"cpu\":\"%s\",\"memory\":\"%s\",\"pods\":\"110\",\"ephemeral-storage\":"
             "\"100Gi\"},"
             "\"allocatable\":{\"cpu\":\"%s\",\"memory\":\"%s\",\"pods\":\"110\",\"ephemeral-storage\":\"100Gi\"},"
             "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\"}]}}",
             name, name, labels ? "," : "", labels ? labels : "", cpu, memory, cpu, memory);
    return kn_dbl_call(d, "POST", "/api/v1/nodes", body, NULL) == 201 ? 0 : -1;
}

int kn_dbl_add_pod(kn_dbl *d, const char *ns, const char *name, const char *cpu, const char *memory,
                   const char *labels, const char *annotations)
{
    char body[4096], path[256];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","
             "\"labels\":%s,\"annotations\":%s},\"spec\":{\"schedulerName\":\"kubenexus-scheduler\","
             "\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"main\",\"image\":\"apache/spark:3.5.1\","
             "\"resources\":{\"requests\":{\"cpu\":\"%s\",\"memory\":\"%s\"},\"limits\":{\"memory\":\"%s\"}}}]}}",
             name, ns, labels ? labels : "{}", annotations ? annotations : "{}", cpu, memory, memory);
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods", ns);
    return kn_dbl_call(d, "POST", path, body, NULL) == 201 ? 0 : -1;
}

int kn_dbl_add_podgroup(kn_dbl *d, bool volcano, const char *ns, const char *name, const char *spec)
{
    const char *api = volcano ? "scheduling.volcano.sh/v1beta1" : "scheduling.x-k8s.io/v1alpha1";
    char body[2048], path[256];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"%s\",\"kind\":\"PodGroup\",\"metadata\":{\"name\":\"%s\","
             "\"namespace\":\"%s\"},\"spec\":%s}",
             api, name, ns, spec);
    snprintf(path, sizeof path, "/apis/%s/namespaces/%s/podgroups", api, ns);
    return kn_dbl_call(d, "POST", path, body, NULL) == 201 ? 0 : -1;
}

char *kn_dbl_pod_node(kn_dbl *d, const char *ns, const char *name)
{
    char path[256];
    kn_json *pod = NULL;
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s", ns, name);
    long code = kn_dbl_call(d, "GET", path, NULL, &pod);
    char *out = NULL;
    if (code == 200) {
        const char *n = kn_json_get_str(kn_json_get(pod, "spec"), "nodeName");
        out = strdup(n ? n : "");
    }
    kn_json_free(pod);
    return out;
}

int kn_dbl_bind_attempts(kn_dbl *d, const char *ns, const char *name)
{
    char key[256];
    snprintf(key, sizeof key, "%s/%s", ns, name);
    kn_json *st = kn_dbl_state(d);
    int64_t n = 0;
    kn_json_int(kn_json_get(kn_json_get(st, "binding_attempts"), key), &n);
    kn_json_free(st);
    return (int)n;
}

int kn_dbl_count_bound(kn_dbl *d, const char *ns, const char *prefix)
{
    kn_json *st = kn_dbl_state(d);
    const kn_json *b = kn_json_get(st, "bindings");
    char want[256];
    snprintf(want, sizeof want, "%s/%s", ns, prefix);
    int n = 0;
    for (size_t i = 0; i < kn_json_len(b); i++) {
        const kn_json *e = kn_json_at(b, i);
        const char *pod = kn_json_get_str(e, "pod");
        if (pod && strncmp(pod, want, strlen(want)) == 0 && kn_json_bool(kn_json_get(e, "by_binding"), false))
            n++;
    }
    kn_json_free(st);
    return n;
}

bool kn_dbl_has_event(kn_dbl *d, const char *ns, const char *pod, const char *reason)
{
    kn_json *st = kn_dbl_state(d);
    const kn_json *evs = kn_json_dig(st, "objects", "events", NULL);
    bool found = false;
    for (size_t i = 0; i < kn_json_len(evs) && !found; i++) {
        const kn_json *e = kn_json_at(evs, i);
        const kn_json *inv = kn_json_get(e, "involvedObject");
        const char *r = kn_json_get_str(e, "reason");
        const char *n = kn_json_get_str(inv, "name");
        const char *s = kn_json_get_str(inv, "namespace");
        found = r && strcmp(r, reason) == 0 && s && strcmp(s, ns) == 0 && (!pod || (n && strcmp(n, pod) == 0));
    }
    kn_json_free(st);
    return found;
}

int kn_dbl_events(kn_dbl *d, const char *ns, const char *pod, const char *reason, const char *needle,
                  int64_t *count)
{
    char path[256];
    kn_json *list = NULL;
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/events", ns);
    int n = 0;
    int64_t max = 0;
    if (kn_dbl_call(d, "GET", path, NULL, &list) == 200) {
        const kn_json *items = kn_json_get(list, "items");
        for (size_t i = 0; i < kn_json_len(items); i++) {
            const kn_json *e = kn_json_at(items, i);
            const char *r = kn_json_get_str(e, "reason"), *m = kn_json_get_str(e, "message");
            const char *on = kn_json_get_str(kn_json_get(e, "involvedObject"), "name");
            if (!r || strcmp(r, reason) != 0 || !on || strcmp(on, pod) != 0 ||
                (needle && (!m || !strstr(m, needle))))
                continue;
            int64_t c = 0;
            kn_json_int(kn_json_get(e, "count"), &c);
            max = c > max ? c : max;
            n++;
        }
    }
    kn_json_free(list);
    if (count)
        *count = max;
    return n;
}

char *kn_dbl_lease_holder(kn_dbl *d, const char *ns, const char *name)
{
    char path[256];
    kn_json *lease = NULL;
    snprintf(path, sizeof path, "/apis/coordination.k8s.io/v1/namespaces/%s/leases/%s", ns, name);
    char *out = NULL;
    if (kn_dbl_call(d, "GET", path, NULL, &lease) == 200) {
        const char *h = kn_json_get_str(kn_json_get(lease, "spec"), "holderIdentity");
        out = strdup(h ? h : "");
    }
    kn_json_free(lease);
    return out;
}

int kn_dbl_calls(kn_dbl *d, const char *key)
{
    kn_json *st = kn_dbl_state(d);
    int64_t n = 0;
    kn_json_int(kn_json_get(kn_json_get(st, "calls"), key), &n);
    kn_json_free(st);
    return (int)n;
}

int kn_dbl_writes(kn_dbl *d)
{
    kn_json *st = kn_dbl_state(d);
    int n = st ? (int)kn_json_len(kn_json_get(st, "writes")) : -1;
    kn_json_free(st);
    return n;
}

/* ---------------------------------------------------------------- processes */

int kn_sched_proc_start(kn_sched_proc *p, kn_dbl *d, const char *tag, const char *const *extra)
{
    memset(p, 0, sizeof *p);
    p->metrics_port = kn_it_free_port();
    char bin[512], addr[64];
    snprintf(bin, sizeof bin, "%s/kubenexus-scheduler", KN_BIN_DIR);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", p->metrics_port);
    snprintf(p->log, sizeof p->log, "%s/scheduler-%s.log", d->dir, tag);
    char *argv[32] = {bin, "--kubeconfig", d->kubeconfig, "--metrics-bind-address", addr, "--log-level", "debug"};
    int n = 7;
    for (int i = 0; extra && extra[i] && n < 31; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    const char *wrap = getenv("KN_IT_WRAPPER"); /* e.g. "valgrind" */
    char *wargv[40];
    if (wrap && *wrap) {
        wargv[0] = "/usr/bin/env";
        wargv[1] = (char *)wrap;
        wargv[2] = "-q";
        wargv[3] = "--leak-check=full";
        wargv[4] = "--errors-for-leak-kinds=all";
        wargv[5] = "--error-exitcode=99";
        for (int i = 0; i <= n; i++)
            wargv[6 + i] = argv[i];
        p->pid = kn_it_spawn(wargv, p->log);
    } else {
        p->pid = kn_it_spawn(argv, p->log);
    }
    return p->pid > 0 ? 0 : -1;
}

int kn_sched_proc_stop(kn_sched_proc *p, int sig, double timeout_s)
{
    if (p->pid <= 0)
        return -1;
    kill(p->pid, sig);
    int status = kn_it_wait_exit(p->pid, (int)(timeout_s * 1000));
    p->pid = 0;
    if (status < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool kn_sched_proc_log_has(const kn_sched_proc *p, const char *needle)
{
    FILE *f = fopen(p->log, "r");
    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

long kn_sched_proc_http(const kn_sched_proc *p, const char *path, char **body)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", p->metrics_port, path);
    return http(url, NULL, NULL, "GET", NULL, body);
}

long kn_sched_proc_metric(const kn_sched_proc *p, const char *series)
{
    char *body = NULL;
    long v = -1;
    if (kn_sched_proc_http(p, "/metrics", &body) == 200 && body) {
        char line[256];
        snprintf(line, sizeof line, "\n%s ", series); /* a sample line, not # HELP */
        const char *at = strstr(body, line);
        if (at)
            v = strtol(at + strlen(line), NULL, 10);
    }
    free(body);
    return v;
}
