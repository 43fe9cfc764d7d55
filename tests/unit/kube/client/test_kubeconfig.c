/* test_kubeconfig.c - kubeconfig and in-cluster configuration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kube/client/kubeconfig.h"

static char g_dir[64];

static void write_file(const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/kn-kc-XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Two contexts; current-context picks the second. Data fields are base64 of
 * "CA-PEM", "CERT-PEM", "KEY-PEM". */
static const char *KUBECONFIG =
    "{\"apiVersion\":\"v1\",\"kind\":\"Config\",\"current-context\":\"prod\","
    "\"clusters\":[{\"name\":\"dev\",\"cluster\":{\"server\":\"https://dev:6443\"}},"
    "{\"name\":\"prod\",\"cluster\":{\"server\":\"https://10.0.0.1:6443/\","
    "\"certificate-authority-data\":\"Q0EtUEVN\"}}],"
    "\"users\":[{\"name\":\"admin\",\"user\":{\"client-certificate-data\":\"Q0VSVC1QRU0=\","
    "\"client-key-data\":\"S0VZLVBFTQ==\"}}],"
    "\"contexts\":[{\"name\":\"dev\",\"context\":{\"cluster\":\"dev\",\"user\":\"admin\"}},"
    "{\"name\":\"prod\",\"context\":{\"cluster\":\"prod\",\"user\":\"admin\",\"namespace\":\"x\"}}]}";

static void current_context_with_data_fields(void **state)
{
    (void)state;
    write_file("config", KUBECONFIG);
    char p[256];
    snprintf(p, sizeof p, "%s/config", g_dir);
    kn_kubeconfig kc;
    kn_err err = {{0}};
    assert_int_equal(kn_kubeconfig_load(p, &kc, &err), 0);
    assert_string_equal(kc.server, "https://10.0.0.1:6443");
    assert_string_equal(kc.ca_pem, "CA-PEM");
    assert_int_equal(kc.ca_len, 6);
    assert_string_equal(kc.cert_pem, "CERT-PEM");
    assert_string_equal(kc.key_pem, "KEY-PEM");
    assert_null(kc.token);
    assert_false(kc.insecure);
    kn_kubeconfig_free(&kc);
}

static void relative_files_and_token_file(void **state)
{
    (void)state;
    write_file("ca.crt", "CA FROM FILE");
    write_file("config",
               "{\"current-context\":\"c\",\"clusters\":[{\"name\":\"k\",\"cluster\":{\"server\":\"https://h:1\","
               "\"certificate-authority\":\"ca.crt\",\"insecure-skip-tls-verify\":true}}],"
               "\"users\":[{\"name\":\"u\",\"user\":{\"tokenFile\":\"tok\"}}],"
               "\"contexts\":[{\"name\":\"c\",\"context\":{\"cluster\":\"k\",\"user\":\"u\"}}]}");
    char p[256], want[256];
    snprintf(p, sizeof p, "%s/config", g_dir);
    kn_kubeconfig kc;
    kn_err err = {{0}};
    assert_int_equal(kn_kubeconfig_load(p, &kc, &err), 0);
    assert_string_equal(kc.ca_pem, "CA FROM FILE");
    snprintf(want, sizeof want, "%s/tok", g_dir);
    assert_string_equal(kc.token_file, want);
    assert_true(kc.insecure);
    kn_kubeconfig_free(&kc);
}

static void errors_name_file_and_field(void **state)
{
    (void)state;
    char p[256], want[512];
    snprintf(p, sizeof p, "%s/config", g_dir);
    kn_kubeconfig kc;
    kn_err err = {{0}};

    write_file(
        "config",
        "{\"current-context\":\"c\",\"clusters\":[{\"name\":\"k\",\"cluster\":{\"server\":\"https://h\"}}],"
        "\"users\":[{\"name\":\"x\",\"user\":{}},{\"name\":\"u\",\"user\":{\"client-certificate-data\":\"Q0E=\","
        "\"client-key-data\":\"***\"}}],"
        "\"contexts\":[{\"name\":\"c\",\"context\":{\"cluster\":\"k\",\"user\":\"u\"}}]}");
    assert_int_equal(kn_kubeconfig_load(p, &kc, &err), -1);
    snprintf(want, sizeof want, "kubeconfig %s: users[1].user.client-key-data: not base64", p);
    assert_string_equal(err.msg, want);

    write_file("config", "{\"current-context\":\"nope\",\"contexts\":[]}");
    assert_int_equal(kn_kubeconfig_load(p, &kc, &err), -1);
    assert_non_null(strstr(err.msg, "current-context: no context named \"nope\""));

    write_file("config",
               "{\"current-context\":\"c\",\"clusters\":[{\"name\":\"k\",\"cluster\":{\"server\":\"https://h\"}}],"
               "\"users\":[{\"name\":\"u\",\"user\":{\"exec\":{\"command\":\"aws\"}}}],"
               "\"contexts\":[{\"name\":\"c\",\"context\":{\"cluster\":\"k\",\"user\":\"u\"}}]}");
    assert_int_equal(kn_kubeconfig_load(p, &kc, &err), -1);
    assert_non_null(strstr(err.msg, "users[0].user.exec: credential plugins are not supported"));

    write_file("config",
               "{\"current-context\":\"c\",\"clusters\":[{\"name\":\"k\",\"cluster\":{\"server\":\"ftp://h\"}}],"
               "\"contexts\":[{\"name\":\"c\",\"context\":{\"cluster\":\"k\"}}]}");
    assert_int_equal(kn_kubeconfig_load(p, &kc, &err), -1);
    assert_non_null(strstr(err.msg, "clusters[0].cluster.server: \"ftp://h\" is not an http(s) URL"));

    write_file("config",
               "{\"current-context\":\"c\",\"clusters\":[{\"name\":\"k\",\"cluster\":{\"server\":\"https://h\","
               "\"certificate-authority\":\"missing.crt\"}}],"
               "\"contexts\":[{\"name\":\"c\",\"context\":{\"cluster\":\"k\"}}]}");
    assert_int_equal(kn_kubeconfig_load(p, &kc, &err), -1);
    assert_non_null(strstr(err.msg, "clusters[0].cluster.certificate-authority: cannot open"));
}

/* As kind and kubeadm write it. */
static void yaml_as_kubectl_writes_it(void **state)
{
    (void)state;
    write_file("kind.yaml", "apiVersion: v1\n"
                            "clusters:\n"
                            "- cluster:\n"
                            "    certificate-authority-data: Q0EtUEVN\n"
                            "    server: https://127.0.0.1:40197\n"
                            "  name: kind-kind\n"
                            "contexts:\n"
                            "- context:\n"
                            "    cluster: kind-kind\n"
                            "    user: kind-kind\n"
                            "  name: kind-kind\n"
                            "current-context: kind-kind\n"
                            "kind: Config\n"
                            "preferences: {}\n"
                            "users:\n"
                            "- name: kind-kind\n"
                            "  user:\n"
                            "    token: \"abc.def\"\n");
    char p[256];
    snprintf(p, sizeof p, "%s/kind.yaml", g_dir);
    kn_kubeconfig kc;
    kn_err err = {{0}};
    assert_int_equal(kn_kubeconfig_load(p, &kc, &err), 0);
    assert_string_equal(kc.server, "https://127.0.0.1:40197");
    assert_string_equal(kc.ca_pem, "CA-PEM");
    assert_string_equal(kc.token, "abc.def");
    kn_kubeconfig_free(&kc);

    write_file("kind.yaml", "clusters:\n- name: a\n  cluster: {server: https://x}\n  name: b\n");
    assert_int_equal(kn_kubeconfig_load(p, &kc, &err), -1);
    assert_non_null(strstr(err.msg, "kind.yaml"));
}

static void in_cluster(void **state)
{
    (void)state;
    kn_kubeconfig kc;
    kn_err err = {{0}};
    unsetenv("KUBERNETES_SERVICE_HOST");
    assert_int_equal(kn_kubeconfig_in_cluster(g_dir, &kc, &err), -1);
    assert_non_null(strstr(err.msg, "--kubeconfig"));

    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    write_file("ca.crt", "SERVICE CA");
    write_file("token", "abc\n");
    assert_int_equal(kn_kubeconfig_in_cluster(g_dir, &kc, &err), 0);
    assert_string_equal(kc.server, "https://[fd00::1]:443");
    assert_string_equal(kc.ca_pem, "SERVICE CA");
    assert_non_null(strstr(kc.token_file, "/token"));
    kn_kubeconfig_free(&kc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(current_context_with_data_fields),
        cmocka_unit_test(relative_files_and_token_file),
        cmocka_unit_test(errors_name_file_and_field),
        cmocka_unit_test(yaml_as_kubectl_writes_it),
        cmocka_unit_test(in_cluster),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
