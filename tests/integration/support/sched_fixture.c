/* sched_fixture.c - see sched_fixture.h. */
#include "sched_fixture.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

void kn_it_dump_log(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[2048];
    fprintf(stderr, "---- %s\n", path);
    while (fgets(line, sizeof line, f))
        fputs(line, stderr);
    fclose(f);
}

const char *kn_it_gang_labels(char *buf, size_t cap, const char *gang, int min)
{
    snprintf(buf, cap,
             "{\"pod-group.scheduling.kubenexus.io/name\":\"%s\","
             "\"pod-group.scheduling.kubenexus.io/min-available\":\"%d\"}",
             gang, min);
    return buf;
}

int kn_it_dbl_open(kn_dbl *d, const char *extra)
{
    if (kn_dbl_start(d, extra) == 0)
        return 0;
    fprintf(stderr, "cannot start the API server double (python3, openssl needed)\n");
    kn_dbl_stop(d);
    return -1;
}

int kn_it_world_setup(void **state)
{
    kn_it_world *w = calloc(1, sizeof *w);
    if (!w || kn_it_dbl_open(&w->d, NULL) != 0) {
        free(w);
        return -1;
    }
    *state = w;
    return 0;
}

int kn_it_world_teardown(void **state)
{
    kn_it_world *w = *state;
    if (w->s.pid > 0)
        kill(w->s.pid, SIGCONT);
    kn_sched_proc_stop(&w->s, SIGKILL, 5);
    if (getenv("KN_IT_VERBOSE"))
        kn_it_dump_log(w->s.log);
    kn_dbl_stop(&w->d);
    free(w);
    return 0;
}

typedef struct wait_q {
    kn_dbl *d;
    const char *ns, *name, *prefix, *reason;
    int n;
} wait_q;

static bool pod_bound(void *ctx)
{
    wait_q *q = ctx;
    char *node = kn_dbl_pod_node(q->d, q->ns, q->name);
    bool ok = node && *node;
    free(node);
    return ok;
}

static bool n_bound(void *ctx)
{
    wait_q *q = ctx;
    return kn_dbl_count_bound(q->d, q->ns, q->prefix) >= q->n;
}

static bool event_seen(void *ctx)
{
    wait_q *q = ctx;
    return kn_dbl_has_event(q->d, q->ns, q->name, q->reason);
}

bool kn_it_wait_pod_bound(kn_dbl *d, const char *ns, const char *name, double timeout_s)
{
    wait_q q = {.d = d, .ns = ns, .name = name};
    return kn_wait_for(timeout_s, pod_bound, &q);
}

bool kn_it_wait_n_bound(kn_dbl *d, const char *ns, const char *prefix, int n, double timeout_s)
{
    wait_q q = {.d = d, .ns = ns, .prefix = prefix, .n = n};
    return kn_wait_for(timeout_s, n_bound, &q);
}

bool kn_it_wait_event(kn_dbl *d, const char *ns, const char *name, const char *reason, double timeout_s)
{
    wait_q q = {.d = d, .ns = ns, .name = name, .reason = reason};
    return kn_wait_for(timeout_s, event_seen, &q);
}

static bool calls_reached(void *ctx)
{
    wait_q *q = ctx;
    return kn_dbl_calls(q->d, q->name) >= q->n;
}

bool kn_it_wait_calls(kn_dbl *d, const char *key, int n, double timeout_s)
{
    wait_q q = {.d = d, .name = key, .n = n};
    return kn_wait_for(timeout_s, calls_reached, &q);
}
