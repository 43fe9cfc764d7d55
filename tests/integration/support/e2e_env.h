/* e2e_env.h - the whole kubenexus chain on one machine, for end-to-end tests.
 *
 * kn_e2e_start() makes a private directory, certificates with
 * certs/gen-certs.sh (one for the kube-apiserver double on 127.0.0.1, one for
 * the webhook Service kubenexus-webhook.kube-system), starts the double
 * (tests/apiserver/kube_apiserver_double.py, with its admission chain
 * pointing the webhook Service at the local webhook port), starts the real
 * kubenexus-webhook, and loads deploy/base/webhook-configurations.yaml (read
 * with kn_manifest_read_file, caBundle filled from the generated CA) into the
 * double. kn_e2e_start_scheduler() starts the real kubenexus-scheduler with a
 * kubeconfig for the double. Every wait polls with a bound; none asserts time.
 *
 * Binaries come from KN_BIN_DIR (the build); the environment variables
 * KN_E2E_WEBHOOK and KN_E2E_SCHEDULER (paths) override them. Logs of all three processes are printed by
 * kn_e2e_stop() when the test failed. */
#ifndef KN_E2E_ENV_H
#define KN_E2E_ENV_H

#include <stdbool.h>
#include <sys/types.h>

#include "json/json.h"

typedef struct kn_e2e {
    char *dir;
    char token[40];
    char api_ca[512], wh_ca[512], kubeconfig[512];
    char api_log[512], wh_log[512], sched_log[512];
    int api_port, wh_port, metrics_port;
    pid_t api_pid, wh_pid, sched_pid;
    int sched_starts;
    char warnings[1024]; /* Warning headers of the last kn_e2e_call, "\n"-separated */
    bool failed;         /* set by a test to get the logs printed */
} kn_e2e;

/* Double + webhook + webhook configurations. 0 ok; -1 (message on stderr). */
int kn_e2e_start(kn_e2e *e);
/* Stops everything (SIGTERM); -1 if the webhook or the scheduler did not
 * exit 0 (a crash, a sanitizer report), and then their logs are printed. */
int kn_e2e_stop(kn_e2e *e);

int kn_e2e_start_webhook(kn_e2e *e);
/* SIGTERM; returns the wait status, or -1. */
int kn_e2e_stop_webhook(kn_e2e *e);
/* extra: NULL-terminated extra flags or NULL. */
int kn_e2e_start_scheduler(kn_e2e *e, const char *const *extra);
/* SIGKILL (a crash) or SIGTERM; returns the wait status or -1. */
int kn_e2e_stop_scheduler(kn_e2e *e, int sig);

/* One request to the double as user as_user (NULL: the admin). Returns the
 * HTTP status (0: no answer); *resp (if non-NULL) gets the JSON body or NULL. */
long kn_e2e_call(kn_e2e *e, const char *method, const char *path, const char *body, const char *as_user,
                 kn_json **resp);
long kn_e2e_call_json(kn_e2e *e, const char *method, const char *path, const kn_json *body, const char *as_user,
                      kn_json **resp);

/* The deploy manifests' webhook configurations, caBundle filled, every
 * failurePolicy replaced by policy unless it is NULL; POSTed the first time,
 * PUT afterwards. 0 ok. */
int kn_e2e_load_webhook_configs(kn_e2e *e, const char *policy);

/* Creates every Node and NodeResourceTopology in a manifest file. 0 ok. */
int kn_e2e_load_cluster(kn_e2e *e, const char *path);
/* A Ready node (gpus may be 0). 0 ok. */
int kn_e2e_add_node(kn_e2e *e, const char *name, const char *cpu, const char *memory, int gpus);
/* The same with more labels: JSON object members ("\"k\":\"v\",...") or NULL. */
int kn_e2e_add_node_labels(kn_e2e *e, const char *name, const char *cpu, const char *memory, int gpus,
                           const char *labels);

/* kubectl apply of the first SparkApplication in path (relative to the
 * source tree), renamed to name unless NULL (the gang label too, so a copy
 * is a gang of its own): returns the HTTP status; *resp
 * gets the answer (the stored object or a Status). */
long kn_e2e_apply(kn_e2e *e, const char *path, const char *name, kn_json **resp);
/* The same with spec.driver and spec.executor given priorityClassName
 * priority_class (NULL: as in the file). */
long kn_e2e_apply_class(kn_e2e *e, const char *path, const char *name, const char *priority_class, kn_json **resp);
/* The first document of a manifest (relative to the source tree); NULL on error. */
kn_json *kn_e2e_read_doc(const char *path);

/* GET a pod: NULL if absent. */
kn_json *kn_e2e_get_pod(kn_e2e *e, const char *ns, const char *name);
/* The PodList of a SparkApplication's pods (label
 * sparkoperator.k8s.io/app-name); NULL on error. */
kn_json *kn_e2e_app_pod_list(kn_e2e *e, const char *ns, const char *app);
/* Pods of a SparkApplication (label sparkoperator.k8s.io/app-name): total
 * and bound counts. -1 on error. */
int kn_e2e_app_pods(kn_e2e *e, const char *ns, const char *app, int *bound);
/* Binding attempts the double counted for every pod, maximum over pods of
 * app (0 if none). */
int kn_e2e_max_bind_attempts(kn_e2e *e, const char *ns, const char *app);
/* True when an Event (core/v1 or events.k8s.io/v1) with reason names ns/pod. */
bool kn_e2e_has_event(kn_e2e *e, const char *ns, const char *pod, const char *reason);
/* The message of the first such Event (malloc'd), NULL if there is none. */
char *kn_e2e_event_message(kn_e2e *e, const char *ns, const char *pod, const char *reason);

/* Polls pred (with ctx) every 100 ms for up to timeout_s; true once it holds. */
bool kn_e2e_wait(double timeout_s, bool (*pred)(void *ctx), void *ctx);

/* A CMocka assertion that first marks env failed, so kn_e2e_stop() prints
 * the logs; cond is evaluated once (it often has side effects). */
#define KN_E2E_CHECK(env, cond)                                                                                   \
    do {                                                                                                          \
        bool ok_ = (cond);                                                                                        \
        if (!ok_)                                                                                                 \
            (env)->failed = true;                                                                                 \
        assert_true(ok_);                                                                                         \
    } while (0)

#endif
