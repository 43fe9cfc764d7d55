/* kubeconfig.c - kubeconfig and in-cluster configuration (see kubeconfig.h). */
#include "kube/client/kubeconfig.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "yaml/manifest.h"

/* Standard base64 (RFC 4648), padding optional; CR/LF are skipped because
 * YAML block scalars may fold long values.
 * Returns a NUL-terminated malloc'd buffer or NULL if not base64. */
static char *base64_decode(const char *s, size_t n, size_t *out_len)
{
    char *out = malloc(n / 4 * 3 + 4);
    if (!out)
        return NULL;
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    size_t o = 0, sym = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int v;
        if (c == '\n' || c == '\r')
            continue;
        if (c == '=') {
            pad++;
            sym++;
            continue;
        }
        if (pad)
            goto bad; /* data after padding */
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+')
            v = 62;
        else if (c == '/')
            v = 63;
        else
            goto bad;
        sym++;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    if (pad > 2 || (pad && sym % 4 != 0) || sym % 4 == 1 || o == 0)
        goto bad;
    out[o] = '\0';
    *out_len = o;
    return out;
bad:
    free(out);
    return NULL;
}

/* A kubeconfig is one YAML (or JSON) document. */
static kn_json *parse_file(const char *path, kn_err *err)
{
    size_t len = 0;
    char *buf = kn_read_file_bounded(path, KN_KUBECONFIG_MAX_FILE, &len, err);
    if (!buf) {
        kn_err_prefix(err, "kubeconfig");
        return NULL;
    }
    kn_json **docs = NULL;
    size_t n = 0;
    int rc = kn_yaml_parse_docs(buf, len, NULL, &docs, &n, err);
    free(buf);
    if (rc < 0) {
        kn_err_prefix(err, "kubeconfig %s", path);
        return NULL;
    }
    if (n != 1) {
        kn_yaml_free_docs(docs, n);
        kn_err_set(err, "kubeconfig %s: want one YAML document, found %zu", path, n);
        return NULL;
    }
    kn_json *doc = docs[0];
    free(docs);
    return doc;
}

char *kn_read_file_bounded(const char *path, size_t max, size_t *len, kn_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        kn_err_set(err, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        kn_err_set(err, "cannot read %s", path);
        return NULL;
    }
    if (n > max) {
        free(buf);
        kn_err_set(err, "%s is larger than %zu bytes", path, max);
        return NULL;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

void kn_kubeconfig_free(kn_kubeconfig *c)
{
    if (!c)
        return;
    free(c->server);
    free(c->ca_pem);
    free(c->cert_pem);
    free(c->key_pem);
    free(c->token);
    free(c->token_file);
    memset(c, 0, sizeof *c);
}

/* Finds the entry named `name` in a kubeconfig list (clusters, users,
 * contexts): [{name: x, <field>: {...}}]. *idx gets its index for messages. */
static const kn_json *named_entry(const kn_json *list, const char *name, const char *field, size_t *idx)
{
    for (size_t i = 0; i < kn_json_len(list); i++) {
        const kn_json *e = kn_json_at(list, i);
        const char *n = kn_json_get_str(e, "name");
        if (n && strcmp(n, name) == 0) {
            *idx = i;
            return kn_json_get(e, field);
        }
    }
    return NULL;
}

/* Path relative to the kubeconfig's directory, as kubectl resolves it. */
static char *resolve_path(const char *kc_path, const char *p)
{
    if (p[0] == '/' || !kc_path)
        return strdup(p);
    const char *slash = strrchr(kc_path, '/');
    size_t dl = slash ? (size_t)(slash - kc_path) + 1 : 0;
    char *out = malloc(dl + strlen(p) + 1);
    if (out) {
        memcpy(out, kc_path, dl);
        strcpy(out + dl, p);
    }
    return out;
}

/* Reads `<field>-data` (base64) or `<field>` (a file) of obj into *buf.
 * Absent both: 0 with *buf NULL. */
static int data_or_file(const char *kc, const kn_json *obj, const char *where, const char *field, char **buf,
                        size_t *len, kn_err *err)
{
    char data_key[64];
    snprintf(data_key, sizeof data_key, "%s-data", field);
    const kn_json *d = kn_json_get(obj, data_key);
    const kn_json *f = kn_json_get(obj, field);
    *buf = NULL;
    *len = 0;
    if (d && kn_json_typeof(d) != KN_JSON_NULL) {
        const char *s = kn_json_str(d);
        if (!s)
            return kn_err_set(err, "kubeconfig %s: %s.%s: want a string", kc, where, data_key);
        *buf = base64_decode(s, kn_json_strlen(d), len);
        if (!*buf)
            return kn_err_set(err, "kubeconfig %s: %s.%s: not base64", kc, where, data_key);
        return 0;
    }
    if (f && kn_json_typeof(f) != KN_JSON_NULL) {
        const char *s = kn_json_str(f);
        if (!s || !*s)
            return kn_err_set(err, "kubeconfig %s: %s.%s: want a file path", kc, where, field);
        char *p = resolve_path(kc, s);
        if (!p)
            return kn_err_set(err, "out of memory");
        *buf = kn_read_file_bounded(p, KN_KUBECONFIG_MAX_FILE, len, err);
        free(p);
        if (!*buf)
            return kn_err_prefix(err, "kubeconfig %s: %s.%s", kc, where, field);
    }
    return 0;
}

static int opt_string(const char *kc, const kn_json *obj, const char *where, const char *field, char **out,
                      kn_err *err)
{
    const kn_json *v = kn_json_get(obj, field);
    *out = NULL;
    if (!v || kn_json_typeof(v) == KN_JSON_NULL)
        return 0;
    if (!kn_json_str(v))
        return kn_err_set(err, "kubeconfig %s: %s.%s: want a string, found %s", kc, where, field,
                          kn_json_type_name(kn_json_typeof(v)));
    *out = strdup(kn_json_str(v));
    return *out ? 0 : kn_err_set(err, "out of memory");
}

static int read_cluster(const char *kc, const kn_json *cl, size_t ci, kn_kubeconfig *out, kn_err *err)
{
    char where[64];
    snprintf(where, sizeof where, "clusters[%zu].cluster", ci);
    if (opt_string(kc, cl, where, "server", &out->server, err) < 0)
        return -1;
    if (!out->server || !*out->server)
        return kn_err_set(err, "kubeconfig %s: %s.server: required", kc, where);
    if (strncmp(out->server, "https://", 8) != 0 && strncmp(out->server, "http://", 7) != 0)
        return kn_err_set(err, "kubeconfig %s: %s.server: \"%s\" is not an http(s) URL", kc, where, out->server);
    size_t sl = strlen(out->server);
    while (sl > 0 && out->server[sl - 1] == '/')
        out->server[--sl] = '\0';
    out->insecure = kn_json_bool(kn_json_get(cl, "insecure-skip-tls-verify"), false);
    return data_or_file(kc, cl, where, "certificate-authority", &out->ca_pem, &out->ca_len, err);
}

static int read_user(const char *kc, const kn_json *u, size_t ui, kn_kubeconfig *out, kn_err *err)
{
    char where[64];
    snprintf(where, sizeof where, "users[%zu].user", ui);
    if (kn_json_get(u, "exec") || kn_json_get(u, "auth-provider"))
        return kn_err_set(err,
                          "kubeconfig %s: %s.%s: credential plugins are not supported; "
                          "use token, tokenFile or client-certificate/client-key",
                          kc, where, kn_json_get(u, "exec") ? "exec" : "auth-provider");
    if (data_or_file(kc, u, where, "client-certificate", &out->cert_pem, &out->cert_len, err) < 0 ||
        data_or_file(kc, u, where, "client-key", &out->key_pem, &out->key_len, err) < 0 ||
        opt_string(kc, u, where, "token", &out->token, err) < 0)
        return -1;
    if (!!out->cert_pem != !!out->key_pem)
        return kn_err_set(err, "kubeconfig %s: %s: client-certificate and client-key must be given together", kc,
                          where);
    char *tf = NULL;
    if (opt_string(kc, u, where, "tokenFile", &tf, err) < 0)
        return -1;
    if (tf && !out->token) {
        out->token_file = resolve_path(kc, tf);
        free(tf);
        if (!out->token_file)
            return kn_err_set(err, "out of memory");
    } else {
        free(tf);
    }
    return 0;
}

int kn_kubeconfig_from_json(const kn_json *root, const char *path, kn_kubeconfig *out, kn_err *err)
{
    const char *kc = path ? path : "(inline)";
    memset(out, 0, sizeof *out);
    if (!kn_json_is(root, KN_JSON_OBJECT))
        return kn_err_set(err, "kubeconfig %s: not a mapping", kc);
    const kn_json *contexts = kn_json_get(root, "contexts");
    const char *cur = kn_json_get_str(root, "current-context");
    if (!cur || !*cur) {
        if (kn_json_len(contexts) != 1)
            return kn_err_set(err, "kubeconfig %s: current-context: not set (and not exactly one context)", kc);
        cur = kn_json_get_str(kn_json_at(contexts, 0), "name");
        if (!cur)
            return kn_err_set(err, "kubeconfig %s: contexts[0].name: required", kc);
    }
    size_t xi = 0, ci = 0, ui = 0;
    const kn_json *ctx = named_entry(contexts, cur, "context", &xi);
    if (!ctx)
        return kn_err_set(err, "kubeconfig %s: current-context: no context named \"%s\" in contexts", kc, cur);
    const char *cname = kn_json_get_str(ctx, "cluster");
    const char *uname = kn_json_get_str(ctx, "user");
    if (!cname)
        return kn_err_set(err, "kubeconfig %s: contexts[%zu].context.cluster: required", kc, xi);
    const kn_json *cl = named_entry(kn_json_get(root, "clusters"), cname, "cluster", &ci);
    if (!cl)
        return kn_err_set(err, "kubeconfig %s: contexts[%zu].context.cluster: no cluster named \"%s\"", kc, xi,
                          cname);
    int rc = read_cluster(kc, cl, ci, out, err);
    if (rc == 0 && uname && *uname) {
        const kn_json *u = named_entry(kn_json_get(root, "users"), uname, "user", &ui);
        if (!u)
            rc = kn_err_set(err, "kubeconfig %s: contexts[%zu].context.user: no user named \"%s\"", kc, xi, uname);
        else
            rc = read_user(kc, u, ui, out, err);
    }
    if (rc < 0)
        kn_kubeconfig_free(out);
    return rc;
}

int kn_kubeconfig_load(const char *path, kn_kubeconfig *out, kn_err *err)
{
    memset(out, 0, sizeof *out);
    kn_json *doc = parse_file(path, err);
    if (!doc)
        return -1;
    int rc = kn_kubeconfig_from_json(doc, path, out, err);
    kn_json_free(doc);
    return rc;
}

int kn_kubeconfig_in_cluster(const char *sa_dir, kn_kubeconfig *out, kn_err *err)
{
    memset(out, 0, sizeof *out);
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    if (!host || !*host || !port || !*port)
        return kn_err_set(err, "not running in a cluster (KUBERNETES_SERVICE_HOST/PORT unset); "
                               "pass --kubeconfig FILE");
    if (!sa_dir)
        sa_dir = KN_SA_DIR;
    char path[PATH_MAX];
    size_t n = strlen(host) + strlen(port) + 16;
    out->server = malloc(n);
    if (!out->server)
        return kn_err_set(err, "out of memory");
    /* An IPv6 service host needs brackets in a URL. */
    snprintf(out->server, n, strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host, port);
    snprintf(path, sizeof path, "%s/ca.crt", sa_dir);
    out->ca_pem = kn_read_file_bounded(path, KN_KUBECONFIG_MAX_FILE, &out->ca_len, err);
    snprintf(path, sizeof path, "%s/token", sa_dir);
    out->token_file = strdup(path);
    struct stat st;
    if (!out->ca_pem || !out->token_file || stat(path, &st) != 0) {
        if (out->ca_pem && out->token_file)
            kn_err_set(err, "in-cluster config: service account token %s: %s", path, strerror(errno));
        else
            kn_err_prefix(err, "in-cluster config");
        kn_kubeconfig_free(out);
        return -1;
    }
    return 0;
}
