/* sched_fixtures.h - Nodes and Pods shaped as the API server sends them, fed to
 * a kn_scheduler, and helpers to read what a cycle decided; for the
 * scheduler's unit tests (tests/unit/scheduler/).
 *
 * Every helper checks its own step with CMocka assertions: a fixture that does
 * not parse or that the scheduler refuses fails the running test with the
 * reason, so a test body holds only what it means to check. */
#ifndef KN_TEST_SCHED_FIXTURES_H
#define KN_TEST_SCHED_FIXTURES_H

#include <stddef.h>

#include "json/json.h"
#include "scheduler/cycle/scheduler.h"

/* A scheduler and the out of its cycles, as most tests start. */
typedef struct fx_sched {
    kn_scheduler *s;
    kn_sched_out out;
} fx_sched;

/* A new scheduler (cfg NULL: defaults) with an empty out; fails the test when
 * kn_sched_new does. fx_sched_free frees both (NULL: nothing). */
fx_sched *fx_sched_new(const kn_sched_config *cfg);
void fx_sched_free(fx_sched *f);

/* CMocka setup and teardown: *state is an fx_sched_new(NULL) for the test. */
int fx_sched_setup(void **state);
int fx_sched_teardown(void **state);

/* A test that starts from a fresh fx_sched in *state (a CMUnitTest: the
 * suite includes <cmocka.h>). */
#define fx_sched_test(t) cmocka_unit_test_setup_teardown(t, fx_sched_setup, fx_sched_teardown)

/* JSON text made with printf (at most 8191 bytes), parsed; the test fails
 * naming the text when it does not parse. The caller frees the value. */
kn_json *fx_parse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A node "name" (uid node-uid-<name>, label kubernetes.io/hostname) with
 * cpu, memory, 100Gi ephemeral storage and 110 pods allocatable.
 * labels/annotations: object members ("\"k\":\"v\"" or ""); spec: extra spec
 * members starting with a comma or ""; alloc: extra allocatable members,
 * likewise; ready: the Ready condition's status ("True", "False", "Unknown"). */
void fx_node_full(kn_scheduler *s, const char *name, const char *cpu, const char *mem, const char *labels,
                  const char *annotations, const char *spec, const char *alloc, const char *ready);
/* fx_node_full with no labels, annotations, spec or extra allocatable. */
void fx_node(kn_scheduler *s, const char *name, const char *cpu, const char *mem);

/* A pod "name" in namespace "default", uid "uid-<name>", one container
 * requesting cpu and mem (memory limit mem) plus extra_req (requests and
 * limits members starting with a comma, or ""). labels/annotations as for
 * fx_node_full, spec: extra spec members. node NULL: Pending, else Running
 * there. scheduler NULL: kubenexus-scheduler. Every pod a test binary makes
 * gets the next resourceVersion (100, 101, ...) and a creationTimestamp one
 * second after the one before (10:00:00Z on, wrapping at the hour), so pods
 * are as old as the order they were made in. */
void fx_pod_full(kn_scheduler *s, const char *name, const char *cpu, const char *mem, const char *labels,
                 const char *annotations, const char *spec, const char *extra_req, const char *node,
                 const char *scheduler);
/* A pod of 100m cpu and 64Mi whose container has these ports: the members of
 * its ports array ("{\"containerPort\":80,\"hostPort\":8080}", ...); labels,
 * spec, node and scheduler as for fx_pod_full. */
void fx_pod_ports(kn_scheduler *s, const char *name, const char *ports, const char *labels, const char *spec,
                  const char *node, const char *scheduler);
/* A pod "name" in namespace ns (uid uid-<name>: names are unique across
 * namespaces) asking 100m cpu and 64Mi, with labels and extra spec members
 * as fx_pod_full; node NULL: a pending pod of ours, else Running there. */
void fx_pod_in(kn_scheduler *s, const char *ns, const char *name, const char *labels, const char *spec,
               const char *node);
/* A Namespace with labels (object members, or ""). */
void fx_namespace(kn_scheduler *s, const char *name, const char *labels);
/* A pending pod of ours with only cpu and mem requested. */
void fx_pod(kn_scheduler *s, const char *name, const char *cpu, const char *mem);
/* The watch's DELETED event of pod "name" (uid uid-<name>). */
void fx_delete_pod(kn_scheduler *s, const char *name);

/* One cycle at now; every binding it makes is then reported as a success
 * (201). Returns the number of bindings. out keeps bindings and events for
 * inspection (appended to what it held). */
int fx_cycle(kn_scheduler *s, double now, kn_sched_out *out);

/* The node pod "name" was bound to in out, or NULL. */
const char *fx_node_of(const kn_sched_out *out, const char *name);
/* How many bindings in out are of pods whose name starts with prefix. */
int fx_bound_with_prefix(const kn_sched_out *out, const char *prefix);
/* The binding of pod "name" in out, or NULL. */
const kn_sched_binding *fx_binding(const kn_sched_out *out, const char *name);
/* The last event with this reason for a pod, or NULL. */
const kn_sched_event *fx_event(const kn_sched_out *out, const char *pod, const char *reason);
/* Asserts the pod is unbound and its last FailedScheduling event is a
 * Warning saying exactly msg. */
void fx_expect_failed(const kn_sched_out *out, const char *pod, const char *msg);

#endif
