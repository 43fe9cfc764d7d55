/* test_scheduler_http2.c - kubenexus-scheduler talking HTTP/2 to its API server.
 *
 * kube-apiserver offers h2 in ALPN and the scheduler takes it: list, watch,
 * bindings and events then share one multiplexed connection. The test double
 * speaks HTTP/1.1 only, so here nginx (a real HTTP/2 server) terminates TLS
 * with ALPN h2 in front of it and passes every request through unbuffered
 * (watch streams included). nginx's access log records the protocol each of
 * the scheduler's requests came in on. Skipped when nginx is not installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apiserver_double.h"
#include "proc.h"
#include "sched_fixture.h"

#define NS "spark"
#define WAIT_S 30.0
#define NGINX "/usr/sbin/nginx"

typedef struct world {
    kn_dbl d;
    kn_sched_proc s;
    pid_t nginx;
    int port;
    char access_log[192];
} world;

/* nginx in front of the double: h2 and http/1.1 on TLS with the double's own
 * certificate, every request proxied to the double over HTTP/1.1 keep-alive. */
static int start_nginx(world *w)
{
    w->port = kn_it_free_port();
    const char *dir = w->d.dir;
    snprintf(w->access_log, sizeof w->access_log, "%s/nginx-access.log", dir);
    if (kn_it_sh("mkdir -p %s/nginx-tmp && chmod a+rx %s && cat > %s/nginx.conf <<'EOF'\n"
                 "pid %s/nginx.pid;\nerror_log %s/nginx-error.log info;\nworker_processes 1;\n"
                 "events { worker_connections 256; }\n"
                 "http {\n"
                 "  log_format proto '$server_protocol $request_method $request_uri $status';\n"
                 "  access_log %s proto;\n"
                 "  client_body_temp_path %s/nginx-tmp/body; proxy_temp_path %s/nginx-tmp/proxy;\n"
                 "  fastcgi_temp_path %s/nginx-tmp/fcgi; uwsgi_temp_path %s/nginx-tmp/uwsgi;\n"
                 "  scgi_temp_path %s/nginx-tmp/scgi;\n"
                 "  upstream double { server 127.0.0.1:%d; keepalive 16; }\n"
                 "  server {\n"
                 "    listen 127.0.0.1:%d ssl http2;\n"
                 "    ssl_certificate %s/srv.crt; ssl_certificate_key %s/srv.key;\n"
                 "    location / {\n"
                 "      proxy_pass https://double; proxy_http_version 1.1; proxy_set_header Connection \"\";\n"
                 "      proxy_ssl_verify off; proxy_buffering off; proxy_request_buffering off;\n"
                 "      proxy_read_timeout 1h; proxy_send_timeout 1h; client_max_body_size 3m;\n"
                 "    }\n"
                 "  }\n"
                 "}\nEOF",
                 dir, dir, dir, dir, dir, w->access_log, dir, dir, dir, dir, dir, w->d.port, w->port, dir,
                 dir) != 0)
        return -1;
    char conf[192], log[192];
    snprintf(conf, sizeof conf, "%s/nginx.conf", dir);
    snprintf(log, sizeof log, "%s/nginx.log", dir);
    char *argv[] = {NGINX, "-p", (char *)dir, "-c", conf, "-g", "daemon off;", NULL};
    w->nginx = kn_it_spawn(argv, log);
    if (w->nginx <= 0 || !kn_it_wait_port(w->port, w->nginx, 10000)) {
        kn_it_dump_log(log);
        return -1;
    }
    /* The scheduler's kubeconfig: the double's, pointed at nginx. */
    return kn_it_sh("cd %s && sed -i 's#https://127.0.0.1:%d#https://127.0.0.1:%d#' kubeconfig.yaml", dir,
                    w->d.port, w->port) == 0
               ? 0
               : -1;
}

static int setup(void **state)
{
    if (access(NGINX, X_OK) != 0) {
        fprintf(stderr, "nginx is not installed (scripts/install-deps.sh installs it): skipped\n");
        *state = NULL;
        return 0;
    }
    world *w = calloc(1, sizeof *w);
    if (!w || kn_it_dbl_open(&w->d, NULL) != 0 || start_nginx(w) != 0) {
        fprintf(stderr, "cannot start the API server double behind nginx\n");
        if (w) {
            if (w->nginx > 0) {
                kill(w->nginx, SIGTERM);
                kn_it_wait_exit(w->nginx, 5000);
            }
            kn_dbl_stop(&w->d);
        }
        free(w);
        return -1;
    }
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    if (w == NULL)
        return 0;
    kn_sched_proc_stop(&w->s, SIGKILL, 5);
    if (getenv("KN_IT_VERBOSE"))
        kn_it_dump_log(w->s.log);
    kill(w->nginx, SIGQUIT);
    kn_it_wait_exit(w->nginx, 5000);
    kn_dbl_stop(&w->d);
    free(w);
    return 0;
}

/* Lines of nginx's access log ("<protocol> <method> <uri> <status>") that
 * start with proto and contain needle. */
static int log_lines(const world *w, const char *proto, const char *needle)
{
    char *log = kn_it_read_file(w->access_log, NULL);
    int n = 0;
    for (char *line = log, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strncmp(line, proto, strlen(proto)) == 0 && strstr(line, needle))
            n++;
    }
    free(log);
    return n;
}

/* A gang and plain pods bound over HTTP/2: each pod once, the gang whole,
 * Scheduled events posted; list, watch, binding and event requests all came
 * in as HTTP/2.0 and none as HTTP/1.1. */
static void gang_and_pods_over_http2(void **state)
{
    world *w = *state;
    if (w == NULL)
        skip();
    char lab[256];
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "8", "32Gi"), 0);
    assert_int_equal(kn_dbl_add_node(&w->d, "node-b", "8", "32Gi"), 0);
    for (int i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof name, "gang-%d", i);
        assert_int_equal(
            kn_dbl_add_pod(&w->d, NS, name, "2", "2Gi", kn_it_gang_labels(lab, sizeof lab, "g", 4), NULL), 0);
    }
    assert_int_equal(kn_sched_proc_start(&w->s, &w->d, "h2", NULL), 0);
    assert_true(kn_it_wait_n_bound(&w->d, NS, "gang-", 4, WAIT_S));
    /* Pods created while the watch runs: they reach the scheduler over the
     * h2 watch stream, and their bindings go out multiplexed. */
    for (int i = 0; i < 24; i++) {
        char name[32];
        snprintf(name, sizeof name, "plain-%02d", i);
        assert_int_equal(kn_dbl_add_pod(&w->d, NS, name, "250m", "256Mi", NULL, NULL), 0);
    }
    assert_true(kn_it_wait_n_bound(&w->d, NS, "plain-", 24, WAIT_S));
    assert_true(kn_it_wait_event(&w->d, NS, "plain-23", "Scheduled", WAIT_S));
    for (int i = 0; i < 24; i++) {
        char name[32];
        snprintf(name, sizeof name, "plain-%02d", i);
        assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, name), 1);
    }
    assert_int_equal(kn_sched_proc_stop(&w->s, SIGTERM, 20), 0);

    assert_true(log_lines(w, "HTTP/2.0 GET", "watch=") >= 1);
    assert_true(log_lines(w, "HTTP/2.0 GET", "/pods") >= 1);
    assert_int_equal(log_lines(w, "HTTP/2.0 POST", "/binding 201"), 28);
    assert_true(log_lines(w, "HTTP/2.0 POST", "/events") >= 1);
    assert_int_equal(log_lines(w, "HTTP/1.", "/"), 0);
}

/* Watches dropped and a binding answered 409 while on HTTP/2: the scheduler
 * reconnects and relists on its own and never binds a pod twice. */
static void faults_over_http2(void **state)
{
    world *w = *state;
    if (w == NULL)
        skip();
    assert_int_equal(kn_dbl_add_node(&w->d, "node-a", "4", "16Gi"), 0);
    assert_int_equal(kn_sched_proc_start(&w->s, &w->d, "h2f", NULL), 0);
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "first", "1", "1Gi", NULL, NULL), 0);
    assert_true(kn_it_wait_n_bound(&w->d, NS, "first", 1, WAIT_S));

    assert_int_equal(kn_dbl_faults(&w->d, "{\"drop_watches\":true,\"bind_conflict_next\":1,"
                                          "\"conflict_node\":\"node-other\"}"),
                     0);
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "taken", "1", "1Gi", NULL, NULL), 0);
    assert_true(kn_it_wait_pod_bound(&w->d, NS, "taken", WAIT_S));
    /* Someone else bound "taken" first (409 to us): it is not tried again. */
    char *node = kn_dbl_pod_node(&w->d, NS, "taken");
    assert_string_equal(node, "node-other");
    free(node);
    assert_int_equal(kn_dbl_add_pod(&w->d, NS, "after", "1", "1Gi", NULL, NULL), 0);
    assert_true(kn_it_wait_n_bound(&w->d, NS, "after", 1, WAIT_S));
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "taken"), 1);
    assert_int_equal(kn_dbl_bind_attempts(&w->d, NS, "after"), 1);
    assert_int_equal(kn_sched_proc_stop(&w->s, SIGTERM, 20), 0);
    assert_true(log_lines(w, "HTTP/2.0 GET", "watch=") >= 2); /* reconnected */
    assert_int_equal(log_lines(w, "HTTP/1.", "/"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(gang_and_pods_over_http2, setup, teardown),
        cmocka_unit_test_setup_teardown(faults_over_http2, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
