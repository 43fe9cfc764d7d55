/* test_metrics_server.c - /metrics, /healthz, /readyz over real TCP, and the
 * API client's bounded responses against it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kube/client/apiclient.h"
#include "scheduler/metrics_server.h"

/* Sends raw bytes, returns what came back until the server closed (malloc'd). */
static char *raw(int port, const char *req, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    char *out = calloc(1, 1 << 16);
    size_t got = 0;
    ssize_t n;
    while (got < (1 << 16) - 1 && (n = recv(fd, out + got, (1 << 16) - 1 - got, 0)) > 0)
        got += (size_t)n;
    close(fd);
    return out;
}

static char *get(int port, const char *path)
{
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    return raw(port, req, (size_t)n);
}

static void endpoints(void **state)
{
    (void)state;
    kn_metrics *reg = kn_metrics_new();
    kn_metric *c =
        kn_metrics_counter(reg, "kubenexus_scheduler_bindings_total", "Bindings.", 1, (const char *[]){"result"});
    kn_metric_inc(c, (const char *[]){"ok"}, 3);
    kn_err err = {{0}};
    kn_metrics_server *ms = kn_metrics_server_start("127.0.0.1:0", reg, &err);
    assert_non_null(ms);
    int port = kn_metrics_server_port(ms);

    char *r = get(port, "/metrics");
    assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(r, "Content-Type: text/plain; version=0.0.4"));
    assert_non_null(strstr(r, "kubenexus_scheduler_bindings_total{result=\"ok\"} 3"));
    free(r);
    r = get(port, "/healthz");
    assert_non_null(strstr(r, "HTTP/1.1 200 OK"));
    free(r);
    r = get(port, "/readyz");
    assert_non_null(strstr(r, "HTTP/1.1 503"));
    free(r);
    kn_metrics_server_set_ready(ms, true);
    r = get(port, "/readyz?verbose");
    assert_non_null(strstr(r, "HTTP/1.1 200 OK"));
    free(r);
    r = get(port, "/other");
    assert_non_null(strstr(r, "HTTP/1.1 404"));
    free(r);
    r = raw(port, "DELETE /metrics HTTP/1.1\r\n\r\n", 28);
    assert_non_null(strstr(r, "HTTP/1.1 405"));
    free(r);
    /* a request that never ends its headers is cut off at the bound */
    size_t big = KN_MS_MAX_REQUEST + 100;
    char *huge = malloc(big);
    memcpy(huge, "GET /metrics HTTP/1.1\r\nX: ", 26);
    memset(huge + 26, 'a', big - 26);
    r = raw(port, huge, big);
    assert_non_null(strstr(r, "HTTP/1.1 431"));
    free(r);
    free(huge);

    kn_metrics_server_stop(ms);
    kn_metrics_free(reg);
}

static void bad_addresses(void **state)
{
    (void)state;
    kn_metrics *reg = kn_metrics_new();
    kn_err err = {{0}};
    assert_null(kn_metrics_server_start("8080", reg, &err));
    assert_non_null(strstr(err.msg, "want host:port or :port"));
    assert_null(kn_metrics_server_start(":http", reg, &err));
    assert_non_null(strstr(err.msg, "--metrics-bind-address"));
    kn_metrics_free(reg);
}

/* The API client against a plain HTTP server: status, body, and a response
 * larger than max_response fails instead of growing without bound. */
static void api_client_bounded_response(void **state)
{
    (void)state;
    kn_metrics *reg = kn_metrics_new();
    kn_metric *c = kn_metrics_counter(reg, "filler_total", "Filler.", 1, (const char *[]){"k"});
    char k[32];
    for (int i = 0; i < 200; i++) {
        snprintf(k, sizeof k, "value-%d", i);
        kn_metric_inc(c, (const char *[]){k}, 1);
    }
    kn_err err = {{0}};
    kn_metrics_server *ms = kn_metrics_server_start("127.0.0.1:0", reg, &err);
    assert_non_null(ms);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", kn_metrics_server_port(ms));
    kn_kubeconfig kc = {.server = url, .token = "t0k"};
    kn_api *api = kn_api_new(&kc, reg, &err);
    assert_non_null(api);

    kn_api_req *r = kn_api_req_new(api, "GET", "/metrics", NULL, "get", 10, &err);
    assert_int_equal(kn_api_perform(r, &err), 0);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->resp.p, "filler_total{k=\"value-199\"} 1"));
    kn_api_req_free(r);

    r = kn_api_req_new(api, "GET", "/metrics", NULL, "get", 10, &err);
    r->max_response = 100;
    kn_api_perform(r, &err);
    assert_int_equal(r->result, CURLE_WRITE_ERROR);
    assert_true(r->resp.len <= 100);
    kn_api_req_free(r);

    r = kn_api_req_new(api, "GET", "/nope", NULL, "get", 10, &err);
    assert_int_equal(kn_api_perform(r, &err), 0);
    assert_int_equal(r->status, 404);
    char msg[128];
    assert_string_equal(kn_api_req_error(r, msg, sizeof msg), "HTTP 404");
    kn_api_req_free(r);
    /* the failure was counted */
    size_t len = 0;
    char *text = kn_metrics_render(reg, &len);
    assert_non_null(strstr(text, "kubenexus_scheduler_api_errors_total{verb=\"get\",code=\"404\"} 1"));
    free(text);

    kn_api_free(api);
    kn_metrics_server_stop(ms);
    kn_metrics_free(reg);
}

static const char *auth_header(const kn_api_req *r)
{
    for (const struct curl_slist *h = r->headers; h; h = h->next)
        if (strncmp(h->data, "Authorization: ", 15) == 0)
            return h->data;
    return NULL;
}

/* A rotated service-account token is picked up when the file's mtime changes. */
static void token_file_rotation(void **state)
{
    (void)state;
    char dir[] = "/tmp/kn-tok-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/token", dir);
    FILE *f = fopen(path, "w");
    fputs("first-token\n", f);
    fclose(f);
    kn_kubeconfig kc = {.server = "https://127.0.0.1:1", .token_file = path};
    kn_err err = {{0}};
    kn_api *api = kn_api_new(&kc, NULL, &err);
    kn_api_set_token_recheck(api, 0);
    kn_api_req *r = kn_api_req_new(api, "GET", "/api", NULL, "get", 1, &err);
    assert_string_equal(auth_header(r), "Authorization: Bearer first-token");
    kn_api_req_free(r);

    f = fopen(path, "w");
    fputs("second-token", f);
    fclose(f);
    struct timespec ts[2] = {{.tv_sec = time(NULL) + 5}, {.tv_sec = time(NULL) + 5}};
    utimensat(AT_FDCWD, path, ts, 0);
    r = kn_api_req_new(api, "GET", "/api", NULL, "get", 1, &err);
    assert_string_equal(auth_header(r), "Authorization: Bearer second-token");
    kn_api_req_free(r);

    kn_api_free(api);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(endpoints),
        cmocka_unit_test(bad_addresses),
        cmocka_unit_test(api_client_bounded_response),
        cmocka_unit_test(token_file_rotation),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
