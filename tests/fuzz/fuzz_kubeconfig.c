/* fuzz_kubeconfig.c - kubeconfig reading (kn_kubeconfig_from_json on the
 * document as kubectl's YAML reader gives it).
 *
 * File paths in the input are resolved against a directory that does not
 * exist (absolute ones are read: scripts/fuzz.sh runs with stdin at /dev/null).
 * Invariants: never a crash or leak; a failure names the kubeconfig; a success
 * has a server without a trailing slash, and every PEM/len pair agrees. */
#include "fuzz.h"
#include "json/json.h"
#include "kube/client/kubeconfig.h"
#include "yaml/manifest.h"

#define KC_PATH "/nonexistent-kn-fuzz/kubeconfig"

static void check_pair(const char *buf, size_t len)
{
    KN_FUZZ_CHECK((buf == NULL) == (len == 0) || (buf != NULL && len == 0));
}

int kn_fuzz_kubeconfig(const uint8_t *data, size_t size)
{
    char *buf = kn_fuzz_exact(data, size);
    kn_json **docs = NULL;
    size_t n = 0;
    if (kn_yaml_parse_docs(buf, size, NULL, &docs, &n, NULL) == 0) {
        for (size_t i = 0; i < n; i++) {
            kn_kubeconfig kc;
            kn_err err = {{0}};
            if (kn_kubeconfig_from_json(docs[i], KC_PATH, &kc, &err) != 0) {
                KN_FUZZ_CHECK(strstr(err.msg, "kubeconfig") != NULL || strstr(err.msg, "memory") != NULL);
                continue;
            }
            KN_FUZZ_CHECK(kc.server != NULL && kc.server[0] != '\0');
            KN_FUZZ_CHECK(kc.server[strlen(kc.server) - 1] != '/');
            check_pair(kc.ca_pem, kc.ca_len);
            check_pair(kc.cert_pem, kc.cert_len);
            check_pair(kc.key_pem, kc.key_len);
            kn_kubeconfig_free(&kc);
        }
        kn_yaml_free_docs(docs, n);
    }
    free(buf);
    return 0;
}

KN_FUZZ_TARGET(kn_fuzz_kubeconfig)
