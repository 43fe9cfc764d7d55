/* kubeconfig.h - where the API server is and how to authenticate to it.
 *
 * From a kubeconfig file (YAML or JSON, as kubectl reads it): the context named
 * by current-context (or the only one), its cluster's server,
 * certificate-authority(-data), insecure-skip-tls-verify, and its user's
 * client-certificate(-data), client-key(-data), token or tokenFile. Relative
 * file paths are resolved against the kubeconfig's directory, as kubectl does.
 * Errors name the file and the field:
 *   "kubeconfig /x: users[0].user.client-key-data: not base64".
 *
 * In-cluster: KUBERNETES_SERVICE_HOST/PORT and the service account's token and
 * ca.crt (paths overridable for tests). The token is kept as a file path so the
 * API client re-reads it when it rotates. */
#ifndef KN_KUBECONFIG_H
#define KN_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "json/json.h"

#define KN_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define KN_KUBECONFIG_MAX_FILE (1024 * 1024)

typedef struct kn_kubeconfig {
    char *server; /* "https://host:port", no trailing slash */
    char *ca_pem; /* CA bundle (PEM) or NULL: system roots */
    size_t ca_len;
    char *cert_pem, *key_pem; /* client certificate and key (PEM) or NULL */
    size_t cert_len, key_len;
    char *token;      /* static bearer token or NULL */
    char *token_file; /* bearer token file (re-read on change) or NULL */
    bool insecure;    /* insecure-skip-tls-verify */
} kn_kubeconfig;

/* Reads and resolves a kubeconfig file. */
int kn_kubeconfig_load(const char *path, kn_kubeconfig *out, kn_err *err);
/* Same from an already parsed document; `path` names it in errors and anchors
 * relative paths (its directory). */
int kn_kubeconfig_from_json(const kn_json *root, const char *path, kn_kubeconfig *out, kn_err *err);

/* In-cluster configuration. sa_dir NULL -> KN_SA_DIR; host/port from the
 * environment (KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT). */
int kn_kubeconfig_in_cluster(const char *sa_dir, kn_kubeconfig *out, kn_err *err);

void kn_kubeconfig_free(kn_kubeconfig *c);

/* Reads a whole file of at most `max` bytes (NUL-terminated); NULL + error. */
char *kn_read_file_bounded(const char *path, size_t max, size_t *len, kn_err *err);

#endif
