/* binder.c - bindings and events to the API server (see binder.h). */
#include "binder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define BIND_BACKOFF_S 0.2
#define BIND_TIMEOUT_S 30L
#define EVENT_MESSAGE_MAX 1024

typedef enum { JOB_BIND, JOB_REREAD, JOB_EVENT } job_type;

typedef struct job {
    struct job *next;
    job_type type;
    char *ns, *name, *uid, *node; /* node: binding target */
    char *body;                   /* POST body (binding or event) */
    int tries;
    double next_try, started;
    kn_api_req *req;              /* in flight */
} job;

struct kn_binder {
    kn_api *api;
    kn_scheduler *s;
    char *scheduler_name, *identity;
    job *head;
    size_t n_bind_inflight, n_event_inflight, n_events;
    kn_sched_out tmp; /* events from bind outcomes */
    kn_metric *bindings_total, *e2e;
};

static void job_free(job *j)
{
    if (!j)
        return;
    kn_api_req_free(j->req);
    free(j->ns);
    free(j->name);
    free(j->uid);
    free(j->node);
    free(j->body);
    free(j);
}

kn_binder *kn_binder_new(kn_api *api, kn_scheduler *s, const kn_binder_opts *o, kn_err *err)
{
    kn_binder *b = calloc(1, sizeof *b);
    if (!b || !(b->scheduler_name = strdup(o->scheduler_name)) ||
        !(b->identity = strdup(o->identity ? o->identity : o->scheduler_name))) {
        if (b)
            free(b->scheduler_name);
        free(b);
        kn_err_set(err, "out of memory");
        return NULL;
    }
    b->api = api;
    b->s = s;
    kn_sched_out_init(&b->tmp);
    if (o->metrics) {
        b->bindings_total = kn_metrics_counter(o->metrics, "kubenexus_scheduler_bindings_total",
                                               "Binding requests finished, by result.", 1,
                                               (const char *[]){"result"});
        static const double buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
        b->e2e = kn_metrics_histogram(o->metrics, "kubenexus_scheduler_e2e_scheduling_duration_seconds",
                                      "From the scheduling cycle that placed a pod to its binding's 201.", 0,
                                      NULL, 12, buckets);
    }
    return b;
}

static void unlink_job(kn_binder *b, job *j)
{
    for (job **pp = &b->head; *pp; pp = &(*pp)->next)
        if (*pp == j) {
            *pp = j->next;
            return;
        }
}

static void drop_inflight(kn_binder *b, CURLM *multi, job *j)
{
    if (!j->req)
        return;
    if (multi)
        curl_multi_remove_handle(multi, j->req->easy);
    kn_api_req_free(j->req);
    j->req = NULL;
    if (j->type == JOB_EVENT)
        b->n_event_inflight--;
    else
        b->n_bind_inflight--;
}

void kn_binder_free(kn_binder *b, CURLM *multi)
{
    if (!b)
        return;
    while (b->head) {
        job *j = b->head;
        b->head = j->next;
        drop_inflight(b, multi, j);
        job_free(j);
    }
    kn_sched_out_free(&b->tmp);
    free(b->scheduler_name);
    free(b->identity);
    free(b);
}

static void append_job(kn_binder *b, job *j)
{
    job **pp = &b->head;
    while (*pp)
        pp = &(*pp)->next;
    *pp = j;
}

/* ---------------------------------------------------------------- JSON bodies */

char *kn_binding_json(const kn_sched_binding *bd)
{
    kn_json *root = kn_json_new_object(), *meta = kn_json_new_object(), *target = kn_json_new_object();
    if (!root || !meta || !target) {
        kn_json_free(root);
        kn_json_free(meta);
        kn_json_free(target);
        return NULL;
    }
    kn_json_set_str(root, "apiVersion", "v1");
    kn_json_set_str(root, "kind", "Binding");
    kn_json_set_str(meta, "name", bd->name);
    kn_json_set_str(meta, "namespace", bd->ns);
    if (bd->uid && *bd->uid)
        kn_json_set_str(meta, "uid", bd->uid);
    if (bd->zones_annotation && *bd->zones_annotation) {
        kn_json *ann = kn_json_new_object();
        kn_json_set_str(ann, KN_SCHED_ZONES_ANNOTATION, bd->zones_annotation);
        kn_json_set(meta, "annotations", ann);
    }
    kn_json_set(root, "metadata", meta);
    kn_json_set_str(target, "apiVersion", "v1");
    kn_json_set_str(target, "kind", "Node");
    kn_json_set_str(target, "name", bd->node);
    kn_json_set(root, "target", target);
    char *s = kn_json_dump(root, NULL);
    kn_json_free(root);
    return s;
}

static void rfc3339(double unix_s, char *buf, size_t cap)
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

char *kn_event_json(const kn_sched_event *ev, const char *scheduler_name, const char *identity, double now_unix)
{
    char ts[32], name[254], msg[EVENT_MESSAGE_MAX + 1];
    rfc3339(now_unix, ts, sizeof ts);
    /* client-go names events "<object>.<unix nanos in hex>"; a name is at most 253 chars */
    unsigned long long nanos = (unsigned long long)(now_unix * 1e9);
    snprintf(name, sizeof name, "%.*s.%llx", 253 - 17, ev->name, nanos);
    snprintf(msg, sizeof msg, "%s", ev->message ? ev->message : "");
    kn_json *root = kn_json_new_object(), *meta = kn_json_new_object(), *inv = kn_json_new_object(),
            *src = kn_json_new_object();
    if (!root || !meta || !inv || !src) {
        kn_json_free(root);
        kn_json_free(meta);
        kn_json_free(inv);
        kn_json_free(src);
        return NULL;
    }
    kn_json_set_str(root, "apiVersion", "v1");
    kn_json_set_str(root, "kind", "Event");
    kn_json_set_str(meta, "name", name);
    kn_json_set_str(meta, "namespace", ev->ns);
    kn_json_set(root, "metadata", meta);
    kn_json_set_str(inv, "apiVersion", "v1");
    kn_json_set_str(inv, "kind", "Pod");
    kn_json_set_str(inv, "namespace", ev->ns);
    kn_json_set_str(inv, "name", ev->name);
    if (ev->uid && *ev->uid)
        kn_json_set_str(inv, "uid", ev->uid);
    kn_json_set(root, "involvedObject", inv);
    kn_json_set_str(root, "reason", ev->reason);
    kn_json_set_str(root, "message", msg);
    kn_json_set_str(root, "type", ev->type);
    kn_json_set_str(src, "component", scheduler_name);
    kn_json_set(root, "source", src);
    kn_json_set_str(root, "firstTimestamp", ts);
    kn_json_set_str(root, "lastTimestamp", ts);
    kn_json_set(root, "count", kn_json_new_int(1));
    kn_json_set_str(root, "reportingComponent", scheduler_name);
    kn_json_set_str(root, "reportingInstance", identity);
    char *s = kn_json_dump(root, NULL);
    kn_json_free(root);
    return s;
}

/* ---------------------------------------------------------------- queueing */

static job *new_job(job_type type, const char *ns, const char *name, const char *uid, const char *node)
{
    job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->type = type;
    j->ns = strdup(ns ? ns : "");
    j->name = strdup(name ? name : "");
    j->uid = strdup(uid ? uid : "");
    j->node = node ? strdup(node) : NULL;
    if (!j->ns || !j->name || !j->uid || (node && !j->node)) {
        job_free(j);
        return NULL;
    }
    return j;
}

static void drop_oldest_event(kn_binder *b)
{
    for (job *j = b->head; j; j = j->next)
        if (j->type == JOB_EVENT && !j->req) {
            unlink_job(b, j);
            job_free(j);
            b->n_events--;
            return;
        }
}

static void queue_events(kn_binder *b, kn_sched_out *out)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double now_unix = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    for (size_t i = 0; i < out->n_events; i++) {
        const kn_sched_event *ev = &out->events[i];
        kn_log(ev->type && strcmp(ev->type, "Warning") == 0 ? KN_LOG_INFO : KN_LOG_DEBUG, "event",
               "pod=%s/%s reason=%s message=\"%s\"", ev->ns, ev->name, ev->reason, ev->message ? ev->message : "");
        if (b->n_events >= KN_EVENT_QUEUE_MAX)
            drop_oldest_event(b);
        job *j = new_job(JOB_EVENT, ev->ns, ev->name, ev->uid, NULL);
        if (j && !(j->body = kn_event_json(ev, b->scheduler_name, b->identity, now_unix + i * 1e-6))) {
            job_free(j);
            j = NULL;
        }
        if (!j) {
            kn_log(KN_LOG_ERROR, "out of memory queueing an event", "pod=%s/%s", ev->ns, ev->name);
            continue;
        }
        append_job(b, j);
        b->n_events++;
    }
}

void kn_binder_take(kn_binder *b, kn_sched_out *out, double started)
{
    for (size_t i = 0; i < out->n_bindings; i++) {
        const kn_sched_binding *bd = &out->bindings[i];
        job *j = new_job(JOB_BIND, bd->ns, bd->name, bd->uid, bd->node);
        if (j && !(j->body = kn_binding_json(bd))) {
            job_free(j);
            j = NULL;
        }
        if (!j) {
            kn_sched_bind_failed(b->s, bd->uid, 0, "out of memory", started, &b->tmp);
            continue;
        }
        j->started = started;
        j->next_try = started;
        append_job(b, j);
    }
    queue_events(b, out);
    kn_sched_out_reset(out);
}

static void flush_tmp(kn_binder *b)
{
    if (b->tmp.n_events || b->tmp.n_bindings)
        kn_binder_take(b, &b->tmp, 0);
}

/* ---------------------------------------------------------------- requests */

static int start_job(kn_binder *b, CURLM *multi, job *j)
{
    char path[1024];
    kn_err err = {{0}};
    if (j->type == JOB_EVENT)
        snprintf(path, sizeof path, "/api/v1/namespaces/%s/events", j->ns);
    else
        snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s%s", j->ns, j->name,
                 j->type == JOB_BIND ? "/binding" : "");
    const char *method = j->type == JOB_REREAD ? "GET" : "POST";
    const char *verb = j->type == JOB_REREAD ? "get" : "create";
    j->req = kn_api_req_new(b->api, method, path, j->type == JOB_REREAD ? NULL : j->body, verb, BIND_TIMEOUT_S,
                            &err);
    if (!j->req)
        return -1;
    j->req->owner = j;
    j->req->owner_tag = KN_BINDER_TAG;
    if (curl_multi_add_handle(multi, j->req->easy) != CURLM_OK) {
        kn_api_req_free(j->req);
        j->req = NULL;
        return -1;
    }
    j->tries++;
    if (j->type == JOB_EVENT)
        b->n_event_inflight++;
    else
        b->n_bind_inflight++;
    return 0;
}

void kn_binder_pump(kn_binder *b, CURLM *multi, bool may_bind, double now)
{
    for (job *j = b->head; j; j = j->next) {
        if (j->req || j->next_try > now)
            continue;
        if (j->type == JOB_EVENT) {
            if (b->n_event_inflight < KN_EVENT_MAX_INFLIGHT && start_job(b, multi, j) < 0)
                j->next_try = now + 1;
        } else if (may_bind && b->n_bind_inflight < KN_BIND_MAX_INFLIGHT) {
            if (start_job(b, multi, j) < 0)
                j->next_try = now + 1;
        }
    }
}

/* Our binding took effect. The core appends the Scheduled event unless the
 * watch already showed the pod bound (the MODIFIED event can overtake the
 * 201); then we post it ourselves, so every pod we bind gets exactly one. */
static void bound_ok(kn_binder *b, const job *j, double now)
{
    size_t before = b->tmp.n_events;
    kn_sched_bind_ok(b->s, j->uid, now, &b->tmp);
    if (b->tmp.n_events > before)
        return;
    char msg[1024];
    snprintf(msg, sizeof msg, "Successfully assigned %s/%s to %s", j->ns, j->name, j->node);
    kn_sched_event ev = {.ns = j->ns, .name = j->name, .uid = j->uid, .type = "Normal", .reason = "Scheduled",
                         .message = msg};
    kn_sched_out one = {.events = &ev, .n_events = 1, .cap_events = 1};
    queue_events(b, &one);
}

static void count(kn_binder *b, const char *result)
{
    if (b->bindings_total)
        kn_metric_inc(b->bindings_total, (const char *[]){result}, 1);
}

static void bind_finished(kn_binder *b, job *j, kn_api_req *req, double now)
{
    char msg[512];
    long st = req->status;
    if (st == 201 || st == 200) {
        kn_log(KN_LOG_INFO, "bound", "pod=%s/%s node=%s", j->ns, j->name, j->node);
        bound_ok(b, j, now);
        count(b, "ok");
        if (b->e2e && j->started > 0)
            kn_metric_observe(b->e2e, NULL, now - j->started);
    } else if (st == 409) {
        kn_log(KN_LOG_INFO, "binding conflict; re-reading the pod", "pod=%s/%s error=\"%s\"", j->ns, j->name,
               kn_api_req_error(req, msg, sizeof msg));
        job *r = new_job(JOB_REREAD, j->ns, j->name, j->uid, j->node);
        if (r) {
            r->next_try = now;
            append_job(b, r);
        } else {
            kn_sched_bind_failed(b->s, j->uid, 409, "conflict", now, &b->tmp);
        }
        count(b, "conflict");
    } else if (st == 404) {
        kn_sched_bind_failed(b->s, j->uid, 404, kn_api_req_error(req, msg, sizeof msg), now, &b->tmp);
        count(b, "gone");
    } else if ((st == 0 || st == 429 || st >= 500) && j->tries < KN_BIND_MAX_TRIES) {
        j->next_try = now + BIND_BACKOFF_S * pow(2, j->tries - 1) * (0.5 + 0.5 * ((double)rand() / RAND_MAX));
        kn_log(KN_LOG_WARN, "binding failed; retrying", "pod=%s/%s status=%ld try=%d error=\"%s\"", j->ns, j->name,
               st, j->tries, kn_api_req_error(req, msg, sizeof msg));
        return; /* keep the job */
    } else {
        kn_log(KN_LOG_WARN, "binding failed; requeued", "pod=%s/%s status=%ld error=\"%s\"", j->ns, j->name, st,
               kn_api_req_error(req, msg, sizeof msg));
        kn_sched_bind_failed(b->s, j->uid, (int)st, msg, now, &b->tmp);
        count(b, "error");
    }
    j->tries = -1; /* finished */
}

static void reread_finished(kn_binder *b, job *j, kn_api_req *req, double now)
{
    char msg[512];
    kn_err err = {{0}};
    if (req->status == 404) {
        kn_sched_bind_failed(b->s, j->uid, 404, kn_api_req_error(req, msg, sizeof msg), now, &b->tmp);
        return;
    }
    kn_json *pod = req->status == 200 ? kn_api_req_json(req, &err) : NULL;
    if (!pod) {
        kn_sched_bind_failed(b->s, j->uid, 409, "pod already bound (re-read failed)", now, &b->tmp);
        kn_json_free(pod);
        return;
    }
    const char *node = kn_json_get_str(kn_json_get(pod, "spec"), "nodeName");
    const char *uid = kn_json_get_str(kn_json_get(pod, "metadata"), "uid");
    if (kn_sched_apply_pod(b->s, pod, false, &err) < 0)
        kn_log(KN_LOG_WARN, "cannot apply re-read pod", "pod=%s/%s error=\"%s\"", j->ns, j->name, err.msg);
    if (node && strcmp(node, j->node) == 0 && uid && strcmp(uid, j->uid) == 0) {
        kn_log(KN_LOG_INFO, "bound (an earlier attempt had succeeded)", "pod=%s/%s node=%s", j->ns, j->name, node);
        bound_ok(b, j, now);
    } else {
        snprintf(msg, sizeof msg, "pod %s is already assigned to node \"%s\"", j->name, node ? node : "");
        kn_sched_bind_failed(b->s, j->uid, 409, msg, now, &b->tmp);
    }
    kn_json_free(pod);
}

void kn_binder_done(kn_binder *b, CURLM *multi, kn_api_req *req, double now)
{
    job *j = req->owner;
    curl_multi_remove_handle(multi, req->easy);
    j->req = NULL;
    if (j->type == JOB_EVENT) {
        b->n_event_inflight--;
        if (req->status != 201 && req->status != 200) {
            char msg[256];
            kn_log(KN_LOG_WARN, "event not recorded", "pod=%s/%s status=%ld error=\"%s\"", j->ns, j->name,
                   req->status, kn_api_req_error(req, msg, sizeof msg));
        }
        b->n_events--;
        j->tries = -1;
    } else {
        b->n_bind_inflight--;
        if (j->type == JOB_BIND)
            bind_finished(b, j, req, now);
        else {
            reread_finished(b, j, req, now);
            j->tries = -1;
        }
    }
    kn_api_req_free(req);
    if (j->tries < 0) {
        unlink_job(b, j);
        job_free(j);
    }
    flush_tmp(b);
}

void kn_binder_abort_bindings(kn_binder *b, CURLM *multi, double now)
{
    job **pp = &b->head;
    while (*pp) {
        job *j = *pp;
        if (j->type == JOB_EVENT) {
            pp = &j->next;
            continue;
        }
        drop_inflight(b, multi, j);
        kn_sched_bind_failed(b->s, j->uid, 0, "leadership lost before the binding finished", now, &b->tmp);
        *pp = j->next;
        job_free(j);
    }
    kn_sched_out_reset(&b->tmp); /* a non-leader posts no events about it */
}

double kn_binder_next_deadline(const kn_binder *b)
{
    double d = INFINITY;
    for (const job *j = b->head; j; j = j->next)
        if (!j->req && j->next_try < d)
            d = j->next_try;
    return d;
}

size_t kn_binder_pending(const kn_binder *b)
{
    size_t n = 0;
    for (const job *j = b->head; j; j = j->next)
        n++;
    return n;
}
