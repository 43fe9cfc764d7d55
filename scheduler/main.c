/* kubenexus-scheduler: the live scheduler, or `simulate` without a cluster.
 *
 *   kubenexus-scheduler [--kubeconfig F] [--scheduler-name N]
 *                       [--metrics-bind-address :8080] [--leader-elect]
 *                       [--lease-namespace kubenexus-system] [--log-level info]
 *                       [--event-queue-size 1000] [--bind-timeout-seconds 600]
 *   kubenexus-scheduler simulate [--kubeconfig F] FILE...
 *
 * Exit status: 0 after SIGTERM/SIGINT (the lease released), 1 on a runtime
 * failure (including a lost lease), 2 on bad usage. */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/args.h"
#include "kube/client/apiclient.h"
#include "kube/client/kubeconfig.h"
#include "kube/client/leader.h"
#include "scheduler/live.h"
#include "base/log.h"
#include "base/metrics.h"
#include "scheduler/metrics_server.h"
#include "scheduler/cycle/scheduler.h"
#include "sim/simulate.h"

typedef struct opts {
    const char *kubeconfig, *scheduler_name, *metrics_addr, *lease_ns, *log_level;
    bool leader_elect;
    size_t event_queue_size;
    double bind_timeout_s;
} opts;

/* Unix time when CLOCK_MONOTONIC (the live loop's clock) read 0: times the
 * executor reservations re-created after a restart from the drivers' binding. */
static double wall_at_mono_zero(void)
{
    struct timespec w, m;
    clock_gettime(CLOCK_REALTIME, &w);
    clock_gettime(CLOCK_MONOTONIC, &m);
    return (double)(w.tv_sec - m.tv_sec) + (double)(w.tv_nsec - m.tv_nsec) / 1e9;
}

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static int usage(const char *why)
{
    if (why)
        fprintf(stderr, "kubenexus-scheduler: %s\n", why);
    fprintf(stderr, "usage: kubenexus-scheduler [--kubeconfig F] [--scheduler-name kubenexus-scheduler]\n"
                    "         [--metrics-bind-address :8080] [--leader-elect]\n"
                    "         [--lease-namespace kubenexus-system] [--log-level debug|info|warn|error]\n"
                    "         [--event-queue-size 1000] [--bind-timeout-seconds 600]\n"
                    "       kubenexus-scheduler simulate [--kubeconfig F] [--format table] FILE...\n");
    return 2;
}

static int parse_args(int argc, char **argv, opts *o)
{
    *o = (opts){.scheduler_name = "kubenexus-scheduler",
                .metrics_addr = ":8080",
                .lease_ns = "kubenexus-system",
                .log_level = "info"};
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (strcmp(argv[i], "--leader-elect") == 0 || strcmp(argv[i], "--leader-elect=true") == 0)
            o->leader_elect = true;
        else if (strcmp(argv[i], "--leader-elect=false") == 0)
            o->leader_elect = false;
        else if ((v = kn_flag_value(argc, argv, &i, "--kubeconfig")))
            o->kubeconfig = v;
        else if ((v = kn_flag_value(argc, argv, &i, "--scheduler-name")))
            o->scheduler_name = v;
        else if ((v = kn_flag_value(argc, argv, &i, "--metrics-bind-address")))
            o->metrics_addr = v;
        else if ((v = kn_flag_value(argc, argv, &i, "--lease-namespace")))
            o->lease_ns = v;
        else if ((v = kn_flag_value(argc, argv, &i, "--log-level")))
            o->log_level = v;
        else if ((v = kn_flag_value(argc, argv, &i, "--event-queue-size"))) {
            char *end;
            unsigned long n = strtoul(v, &end, 10);
            if (*v < '0' || *v > '9' || *end || n < 1 || n > 1000000)
                return usage("--event-queue-size: want a number from 1 to 1000000");
            o->event_queue_size = n;
        } else if ((v = kn_flag_value(argc, argv, &i, "--bind-timeout-seconds"))) {
            /* kube-scheduler's VolumeBindingArgs.bindTimeoutSeconds: how long a pod's
               claims may take to be bound before its placement is given up */
            char *end;
            unsigned long n = strtoul(v, &end, 10);
            if (*v < '0' || *v > '9' || *end || n < 1 || n > 86400)
                return usage("--bind-timeout-seconds: want a number of seconds from 1 to 86400");
            o->bind_timeout_s = (double)n;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return usage(NULL);
        else {
            char why[300];
            snprintf(why, sizeof why, "unknown or incomplete argument \"%.200s\"", argv[i]);
            return usage(why);
        }
    }
    if (!*o->scheduler_name)
        return usage("--scheduler-name must not be empty");
    return 0;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int run(const opts *o, kn_err *err)
{
    kn_kubeconfig kc;
    int rc =
        o->kubeconfig ? kn_kubeconfig_load(o->kubeconfig, &kc, err) : kn_kubeconfig_in_cluster(NULL, &kc, err);
    if (rc < 0)
        return -1;
    char identity[128];
    kn_leader_identity(identity, sizeof identity);
    kn_metrics *reg = kn_metrics_new();
    kn_api *api = reg ? kn_api_new(&kc, reg, err) : NULL;
    kn_kubeconfig_free(&kc);
    kn_sched_config sc = {
        .scheduler_name = o->scheduler_name, .wall_at_zero = wall_at_mono_zero(), .watch_pdbs = true};
    kn_scheduler *s = api ? kn_sched_new(&sc, err) : NULL;
    kn_metrics_server *ms = s ? kn_metrics_server_start(o->metrics_addr, reg, err) : NULL;
    kn_leader *leader = NULL;
    rc = -1;
    if (ms && o->leader_elect) {
        kn_leader_opts lo = {.ns = o->lease_ns, .name = o->scheduler_name, .identity = identity};
        leader = kn_leader_start(api, &lo, err);
    }
    if (ms && (leader || !o->leader_elect)) {
        kn_log(KN_LOG_INFO, "starting", "scheduler=%s identity=%s leader_elect=%s", o->scheduler_name, identity,
               o->leader_elect ? "true" : "false");
        kn_live_opts lo = {.scheduler_name = o->scheduler_name,
                           .identity = identity,
                           .leader = leader,
                           .metrics = reg,
                           .ms = ms,
                           .stop = &g_stop,
                           .event_queue_max = o->event_queue_size,
                           .volume_bind_timeout_s = o->bind_timeout_s};
        rc = kn_live_run(api, s, &lo, err);
    }
    /* A lost lease is not ours to release; a clean stop gives it up. */
    kn_leader_stop(leader, rc == 0);
    kn_metrics_server_stop(ms);
    kn_sched_free(s);
    kn_api_free(api);
    kn_metrics_free(reg);
    if (!reg)
        kn_err_set(err, "out of memory");
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "simulate") == 0)
        return kn_simulate_main(argc - 1, argv + 1);
    opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc;
    kn_log_level lvl;
    if (kn_log_parse_level(o.log_level, &lvl) < 0)
        return usage("--log-level: want debug, info, warn or error");
    kn_log_set_level(lvl);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    install_signals();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "kubenexus-scheduler: cannot initialise libcurl\n");
        return 1;
    }
    kn_err err = {{0}};
    rc = run(&o, &err);
    curl_global_cleanup();
    if (rc < 0) {
        kn_log(KN_LOG_ERROR, "kubenexus-scheduler stopped", "error=%s", err.msg);
        fprintf(stderr, "kubenexus-scheduler: %s\n", err.msg);
        return 1;
    }
    kn_log(KN_LOG_INFO, "stopped", "scheduler=%s", o.scheduler_name);
    return 0;
}
