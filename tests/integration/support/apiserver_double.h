/* apiserver_double.h - integration-test support: the kube-apiserver test double
 * (tests/apiserver/kube_apiserver_double.py) and real kubenexus-scheduler
 * processes started against it.
 *
 * kn_dbl_start() makes a private temp directory, a CA and a server
 * certificate for 127.0.0.1 (openssl), a random bearer token, starts the
 * double on a free port and writes a kubeconfig (YAML) for it. Requests from
 * the test go over the same TLS with the token. Processes' output goes to log
 * files in that directory (printed when a test fails). */
#ifndef KN_APISERVER_DOUBLE_H
#define KN_APISERVER_DOUBLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "json/json.h"

typedef struct kn_dbl {
    char dir[64];
    char token[40];
    char ca[128], kubeconfig[128];
    int port;
    pid_t pid;
} kn_dbl;

/* extra: extra arguments for the double (e.g. "--no-nrt"), or NULL. 0 ok. */
int kn_dbl_start(kn_dbl *d, const char *extra);
/* Kills the double and starts a fresh one on the same port, certificate and
 * token (a kubeconfig stays valid); the new one starts empty and keeps the
 * uids objects are created with (--restore-uids). 0 once it accepts. */
int kn_dbl_restart(kn_dbl *d);
void kn_dbl_stop(kn_dbl *d);
/* A kubeconfig at path (in d->dir, so certificate-authority: ca.crt is
 * relative to it) authenticating with the client certificate the double's
 * --client-ca accepts, instead of the token. */
int kn_dbl_write_cert_kubeconfig(kn_dbl *d, const char *path);

/* One request; returns the HTTP status (0: no response); *resp (if non-NULL)
 * gets the parsed JSON body or NULL. */
long kn_dbl_call(kn_dbl *d, const char *method, const char *path, const char *body, kn_json **resp);
/* POST /_test/faults; 0 ok. */
int kn_dbl_faults(kn_dbl *d, const char *json);
/* GET /_test/state (caller frees). */
kn_json *kn_dbl_state(kn_dbl *d);

/* ---- objects as the API server receives them ---- */
int kn_dbl_add_node(kn_dbl *d, const char *name, const char *cpu, const char *memory);
/* The same node with more labels: JSON object members ("\"k\":\"v\",...") or NULL. */
int kn_dbl_add_node_labels(kn_dbl *d, const char *name, const char *cpu, const char *memory, const char *labels);
/* labels/annotations: JSON object text or NULL. */
int kn_dbl_add_pod(kn_dbl *d, const char *ns, const char *name, const char *cpu, const char *memory,
                   const char *labels, const char *annotations);
/* A PodGroup (Volcano's kind, else coscheduling's) with this spec (JSON object text). */
int kn_dbl_add_podgroup(kn_dbl *d, bool volcano, const char *ns, const char *name, const char *spec);
/* spec.nodeName of a pod ("" if unbound, NULL if the pod is absent); malloc'd. */
char *kn_dbl_pod_node(kn_dbl *d, const char *ns, const char *name);
/* Binding attempts the double counted for ns/name. */
int kn_dbl_bind_attempts(kn_dbl *d, const char *ns, const char *name);
/* Pods bound through the binding subresource whose name starts with prefix. */
int kn_dbl_count_bound(kn_dbl *d, const char *ns, const char *prefix);
/* True if an event with this reason exists for ns/pod (pod NULL: any pod). */
bool kn_dbl_has_event(kn_dbl *d, const char *ns, const char *pod, const char *reason);
/* Event objects for ns/pod with this reason whose message contains needle
 * (NULL: any message): how many there are; *count (if non-NULL) gets the
 * largest Event count among them (0 if none). */
int kn_dbl_events(kn_dbl *d, const char *ns, const char *pod, const char *reason, const char *needle,
                  int64_t *count);
/* Lease spec.holderIdentity (malloc'd; "" if released; NULL if no lease). */
char *kn_dbl_lease_holder(kn_dbl *d, const char *ns, const char *name);
/* calls["<verb> <resource>"] as counted by the double, e.g. "list pods". */
int kn_dbl_calls(kn_dbl *d, const char *key);
/* Requests other than GET the double has received (its "writes" log). */
int kn_dbl_writes(kn_dbl *d);

/* ---- kubenexus-scheduler processes ---- */
typedef struct kn_sched_proc {
    pid_t pid;
    char log[192];
    int metrics_port;
} kn_sched_proc;

/* Starts build/bin/kubenexus-scheduler --kubeconfig <double's> with a free
 * metrics port and the extra NULL-terminated args; tag names the log file. */
int kn_sched_proc_start(kn_sched_proc *p, kn_dbl *d, const char *tag, const char *const *extra);
/* Sends sig and waits up to timeout_s; returns the exit status, or -1 (then killed). */
int kn_sched_proc_stop(kn_sched_proc *p, int sig, double timeout_s);
/* True if the process's log contains needle. */
bool kn_sched_proc_log_has(const kn_sched_proc *p, const char *needle);
/* HTTP GET on the metrics port; returns status, *body malloc'd (may be NULL). */
long kn_sched_proc_http(const kn_sched_proc *p, const char *path, char **body);
/* One sample's value from its /metrics, e.g. series
 * "kubenexus_scheduler_events_total{result=\"created\"}"; -1 if absent. */
long kn_sched_proc_metric(const kn_sched_proc *p, const char *series);

/* Polls pred every 100 ms for up to timeout_s; true once it holds. */
bool kn_wait_for(double timeout_s, bool (*pred)(void *ctx), void *ctx);

#endif
