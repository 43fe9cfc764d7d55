/* sched_fixtures.c - the scheduler tests' Nodes, Pods and cycle helpers
 * (contracts in sched_fixtures.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/sched_fixtures.h"

#define FX_BUF 8192

fx_sched *fx_sched_new(const kn_sched_config *cfg)
{
    fx_sched *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    kn_err err = {{0}};
    f->s = kn_sched_new(cfg, &err);
    if (f->s == NULL) {
        free(f);
        fail_msg("kn_sched_new: %s", err.msg);
    }
    kn_sched_out_init(&f->out);
    return f;
}

void fx_sched_free(fx_sched *f)
{
    if (f == NULL)
        return;
    kn_sched_out_free(&f->out);
    kn_sched_free(f->s);
    free(f);
}

int fx_sched_setup(void **state)
{
    *state = fx_sched_new(NULL);
    return 0;
}

int fx_sched_teardown(void **state)
{
    fx_sched_free(*state);
    *state = NULL;
    return 0;
}

kn_json *fx_parse(const char *fmt, ...)
{
    char buf[FX_BUF];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    assert_true(n > 0 && n < (int)sizeof(buf));
    kn_err err = {{0}};
    kn_json *v = kn_json_parse(buf, strlen(buf), NULL, &err);
    if (v == NULL)
        fail_msg("fixture does not parse: %s\n%s", err.msg, buf);
    return v;
}

void fx_node_full(kn_scheduler *s, const char *name, const char *cpu, const char *mem, const char *labels,
                  const char *annotations, const char *spec, const char *alloc, const char *ready)
{
    kn_json *n =
        fx_parse("{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\",\"uid\":\"node-uid-%s\","
                 "\"labels\":{\"kubernetes.io/hostname\":\"%s\"%s%s},\"annotations\":{%s}},"
                 "\"spec\":{\"podCIDR\":\"10.0.0.0/24\"%s},"
                 "\"status\":{\"capacity\":{\"cpu\":\"%s\"},\"allocatable\":{\"cpu\":\"%s\",\"memory\":\"%s\","
                 "\"ephemeral-storage\":\"100Gi\",\"pods\":\"110\"%s},"
                 "\"conditions\":[{\"type\":\"MemoryPressure\",\"status\":\"False\"},"
                 "{\"type\":\"Ready\",\"status\":\"%s\",\"reason\":\"KubeletReady\"}]}}",
                 name, name, name, *labels ? "," : "", labels, annotations, spec, cpu, cpu, mem, alloc, ready);
    kn_err err = {{0}};
    if (kn_sched_apply_node(s, n, false, &err) != 0)
        fail_msg("apply node %s: %s", name, err.msg);
    kn_json_free(n);
}

void fx_node(kn_scheduler *s, const char *name, const char *cpu, const char *mem)
{
    fx_node_full(s, name, cpu, mem, "", "", "", "", "True");
}

/* Pods made so far by this test binary (their resourceVersion and age). */
static int fx_pod_seq;

/* A pod in namespace ns; container: extra members of the container ("" or
 * starting with a comma); the rest as fx_pod_full. */
static void pod_with(kn_scheduler *s, const char *ns, const char *name, const char *cpu, const char *mem,
                     const char *labels, const char *annotations, const char *spec, const char *extra_req,
                     const char *node, const char *scheduler, const char *container)
{
    char nodefield[128] = "";
    if (node)
        snprintf(nodefield, sizeof(nodefield), ",\"nodeName\":\"%s\"", node);
    kn_json *p = fx_parse(
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","
        "\"uid\":\"uid-%s\",\"resourceVersion\":\"%d\",\"creationTimestamp\":\"2026-11-24T10:%02d:%02dZ\","
        "\"labels\":{%s},\"annotations\":{%s}},"
        "\"spec\":{\"schedulerName\":\"%s\",\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"main\","
        "\"image\":\"apache/spark:3.5.0\",\"resources\":{\"requests\":{\"cpu\":\"%s\",\"memory\":\"%s\"%s},"
        "\"limits\":{\"memory\":\"%s\"%s}}%s}]%s%s},"
        "\"status\":{\"phase\":\"%s\",\"qosClass\":\"Burstable\"}}",
        name, ns, name, 100 + fx_pod_seq, (fx_pod_seq / 60) % 60, fx_pod_seq % 60, labels, annotations,
        scheduler ? scheduler : "kubenexus-scheduler", cpu, mem, extra_req, mem, extra_req, container, nodefield,
        spec, node ? "Running" : "Pending");
    fx_pod_seq++;
    kn_err err = {{0}};
    if (kn_sched_apply_pod(s, p, false, &err) != 0)
        fail_msg("apply pod %s: %s", name, err.msg);
    kn_json_free(p);
}

void fx_pod_full(kn_scheduler *s, const char *name, const char *cpu, const char *mem, const char *labels,
                 const char *annotations, const char *spec, const char *extra_req, const char *node,
                 const char *scheduler)
{
    pod_with(s, "default", name, cpu, mem, labels, annotations, spec, extra_req, node, scheduler, "");
}

void fx_pod_in(kn_scheduler *s, const char *ns, const char *name, const char *labels, const char *spec,
               const char *node)
{
    pod_with(s, ns, name, "100m", "64Mi", labels, "", spec, "", node, NULL, "");
}

void fx_namespace(kn_scheduler *s, const char *name, const char *labels)
{
    kn_json *n = fx_parse("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\","
                          "\"labels\":{%s}}}",
                          name, labels);
    kn_err err = {{0}};
    if (kn_sched_apply_namespace(s, n, false, &err) != 0)
        fail_msg("apply namespace %s: %s", name, err.msg);
    kn_json_free(n);
}

void fx_pod_ports(kn_scheduler *s, const char *name, const char *ports, const char *labels, const char *spec,
                  const char *node, const char *scheduler)
{
    char container[FX_BUF / 2];
    int n = snprintf(container, sizeof(container), ",\"ports\":[%s]", ports);
    assert_true(n > 0 && n < (int)sizeof(container));
    pod_with(s, "default", name, "100m", "64Mi", labels, "", spec, "", node, scheduler, container);
}

void fx_pod(kn_scheduler *s, const char *name, const char *cpu, const char *mem)
{
    fx_pod_full(s, name, cpu, mem, "", "", "", "", NULL, NULL);
}

void fx_delete_pod(kn_scheduler *s, const char *name)
{
    kn_json *p = fx_parse("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
                          "\"namespace\":\"default\",\"uid\":\"uid-%s\"},\"spec\":{\"containers\":[]}}",
                          name, name);
    kn_err err = {{0}};
    assert_int_equal(kn_sched_apply_pod(s, p, true, &err), 0);
    kn_json_free(p);
}

int fx_cycle(kn_scheduler *s, double now, kn_sched_out *out)
{
    kn_err err = {{0}};
    size_t before = out->n_bindings;
    int n = kn_sched_cycle(s, now, out, &err);
    assert_true(n >= 0);
    for (size_t i = before; i < out->n_bindings; i++)
        kn_sched_bind_ok(s, out->bindings[i].uid, now, out);
    return n;
}

const char *fx_node_of(const kn_sched_out *out, const char *name)
{
    for (size_t i = 0; i < out->n_bindings; i++)
        if (strcmp(out->bindings[i].name, name) == 0)
            return out->bindings[i].node;
    return NULL;
}

int fx_bound_with_prefix(const kn_sched_out *out, const char *prefix)
{
    int n = 0;
    for (size_t i = 0; i < out->n_bindings; i++)
        n += strncmp(out->bindings[i].name, prefix, strlen(prefix)) == 0;
    return n;
}

const kn_sched_binding *fx_binding(const kn_sched_out *out, const char *name)
{
    for (size_t i = 0; i < out->n_bindings; i++)
        if (strcmp(out->bindings[i].name, name) == 0)
            return &out->bindings[i];
    return NULL;
}

const kn_sched_event *fx_event(const kn_sched_out *out, const char *pod, const char *reason)
{
    const kn_sched_event *e = NULL;
    for (size_t i = 0; i < out->n_events; i++)
        if (strcmp(out->events[i].name, pod) == 0 && strcmp(out->events[i].reason, reason) == 0)
            e = &out->events[i];
    return e;
}

void fx_expect_failed(const kn_sched_out *out, const char *pod, const char *msg)
{
    const kn_sched_event *e = fx_event(out, pod, "FailedScheduling");
    if (e == NULL)
        fail_msg("no FailedScheduling event for %s", pod);
    assert_string_equal(e->type, "Warning");
    assert_string_equal(e->message, msg);
    assert_null(fx_node_of(out, pod));
}
