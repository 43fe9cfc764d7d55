/* binder.c - bindings and events to the API server (see binder.h). */
#include "scheduler/binder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"

#define BIND_BACKOFF_S 0.2
#define BIND_TIMEOUT_S 30L
#define EVENT_TIMEOUT_S 30L

typedef enum { JOB_BIND, JOB_REREAD, JOB_EVENT, JOB_VOLUME, JOB_VREAD } job_type;

#define VOLUME_POLL_S 1.0 /* binder.go polls the claims every second */

/* The bindings placed together (a gang, or one pod) whose volumes need
 * writing or waiting for: none is POSTed until every write is done and
 * every member's claims are bound; any failure requeues them all. */
typedef struct vgroup {
    struct vgroup *next;
    uint64_t id;
    int refs;    /* jobs pointing here */
    int members; /* its bindings */
    int writes;  /* volume writes not yet done */
    bool failed, waiting;
    double wait_since, next_check;
} vgroup;

/* A binding (or its re-read after a 409) queued or in flight; a volume
 * write (or its re-read after a 409); or an event request in flight (then
 * only req and ev are set). */
typedef struct job {
    struct job *next;
    job_type type;
    char *ns, *name, *uid, *node; /* node: binding target */
    char *body;                   /* binding body, or a volume write's patch */
    char *path;                   /* JOB_VOLUME, JOB_VREAD: the object */
    char *check_ptr, *check_val;  /* JOB_VOLUME: what the object shows once written */
    bool pv;                      /* JOB_VOLUME: a PersistentVolume (else a claim) */
    bool blocked;                 /* JOB_BIND: its group's volumes are not ready */
    vgroup *vg;
    int tries;
    double next_try, started;
    kn_api_req *req; /* in flight */
    kn_evq_send *ev; /* JOB_EVENT */
} job;

struct kn_binder {
    kn_api *api;
    kn_scheduler *s;
    kn_evq *events;
    job *head, *tail; /* bindings and re-reads, in order */
    job *ev_jobs;     /* event requests in flight */
    size_t n_jobs, n_bind_inflight, n_event_inflight;
    kn_sched_out tmp; /* events from bind outcomes */
    kn_metric *bindings_total, *e2e;
    vgroup *groups;
    double volume_timeout_s;
};

static void count(kn_binder *b, const char *result);
static void check_groups(kn_binder *b, double now);

static void group_unref(kn_binder *b, vgroup *g)
{
    if (g == NULL || --g->refs > 0)
        return;
    for (vgroup **pp = &b->groups; *pp; pp = &(*pp)->next)
        if (*pp == g) {
            *pp = g->next;
            break;
        }
    free(g);
}

static void job_free(kn_binder *b, job *j)
{
    if (!j)
        return;
    kn_api_req_free(j->req);
    free(j->ns);
    free(j->name);
    free(j->uid);
    free(j->node);
    free(j->body);
    free(j->path);
    free(j->check_ptr);
    free(j->check_val);
    group_unref(b, j->vg);
    free(j);
}

kn_binder *kn_binder_new(kn_api *api, kn_scheduler *s, const kn_binder_opts *o, kn_err *err)
{
    kn_binder *b = calloc(1, sizeof *b);
    if (!b) {
        kn_err_set(err, "out of memory");
        return NULL;
    }
    kn_evq_opts eo = {.component = o->scheduler_name,
                      .instance = o->identity,
                      .queue_max = o->event_queue_max,
                      .metrics = o->metrics};
    if (!(b->events = kn_evq_new(&eo, err))) {
        free(b);
        return NULL;
    }
    b->api = api;
    b->s = s;
    b->volume_timeout_s = o->volume_bind_timeout_s > 0 ? o->volume_bind_timeout_s : KN_VOLUME_BIND_TIMEOUT_S;
    kn_sched_out_init(&b->tmp);
    if (o->metrics) {
        b->bindings_total =
            kn_metrics_counter(o->metrics, "kubenexus_scheduler_bindings_total",
                               "Binding requests finished, by result.", 1, (const char *[]){"result"});
        static const double buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
        b->e2e = kn_metrics_histogram(o->metrics, "kubenexus_scheduler_e2e_scheduling_duration_seconds",
                                      "From the scheduling cycle that placed a pod to its binding's 201.", 0, NULL,
                                      12, buckets);
    }
    return b;
}

static void unlink_job(kn_binder *b, job *j)
{
    job *prev = NULL;
    for (job **pp = &b->head; *pp; prev = *pp, pp = &(*pp)->next)
        if (*pp == j) {
            *pp = j->next;
            if (b->tail == j)
                b->tail = prev;
            b->n_jobs--;
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
        job_free(b, j);
    }
    while (b->ev_jobs) {
        job *j = b->ev_jobs;
        b->ev_jobs = j->next;
        if (multi)
            curl_multi_remove_handle(multi, j->req->easy);
        kn_evq_done(b->events, j->ev, 0, NULL, 0, 0);
        job_free(b, j);
    }
    kn_evq_free(b->events);
    kn_sched_out_free(&b->tmp);
    free(b);
}

static void append_job(kn_binder *b, job *j)
{
    j->next = NULL;
    if (b->tail)
        b->tail->next = j;
    else
        b->head = j;
    b->tail = j;
    b->n_jobs++;
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
        kn_json_set_str(ann, KN_NUMA_ZONES_ANNOTATION, bd->zones_annotation);
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
        job_free(NULL, j);
        return NULL;
    }
    return j;
}

static void queue_events(kn_binder *b, const kn_sched_out *out)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double now_unix = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    for (size_t i = 0; i < out->n_events; i++) {
        const kn_sched_event *ev = &out->events[i];
        kn_log(ev->type && strcmp(ev->type, "Warning") == 0 ? KN_LOG_INFO : KN_LOG_DEBUG, "event",
               "pod=%s/%s reason=%s message=%s", ev->ns, ev->name, ev->reason, ev->message ? ev->message : "");
        if (kn_evq_record(b->events, ev, now_unix + (double)i * 1e-6) < 0)
            kn_log(KN_LOG_DEBUG, "event dropped (queue full)", "pod=%s/%s reason=%s", ev->ns, ev->name,
                   ev->reason);
    }
}

static bool has_volumes(const kn_sched_binding *bd)
{
    return bd->n_vsteps > 0 || bd->wait_volumes;
}

/* The volume writes of bd, queued in group g; -1 out of memory. */
static int queue_writes(kn_binder *b, vgroup *g, const kn_sched_binding *bd, double now)
{
    for (int k = 0; k < bd->n_vsteps; k++) {
        const kn_sched_vstep *v = &bd->vsteps[k];
        job *w = new_job(JOB_VOLUME, bd->ns, bd->name, bd->uid, bd->node);
        if (w == NULL || !(w->path = strdup(v->path)) || !(w->body = strdup(v->body)) ||
            !(w->check_ptr = strdup(v->check_ptr)) || !(w->check_val = strdup(v->check_val))) {
            job_free(b, w);
            return -1;
        }
        w->pv = v->pv;
        w->vg = g;
        g->refs++;
        g->writes++;
        w->next_try = now;
        append_job(b, w);
    }
    return 0;
}

static vgroup *group_new(kn_binder *b, uint64_t id)
{
    vgroup *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return NULL;
    g->id = id;
    g->next = b->groups;
    b->groups = g;
    return g;
}

static void group_fail(kn_binder *b, vgroup *g, const job *keep, const char *why, double now);

/* Bindings [i, e) placed together (one group, or one binding alone). */
static void take_run(kn_binder *b, const kn_sched_out *out, size_t i, size_t e, double started)
{
    bool volumes = false;
    for (size_t k = i; k < e && !volumes; k++)
        volumes = has_volumes(&out->bindings[k]);
    vgroup *g = volumes ? group_new(b, out->bindings[i].group) : NULL;
    if (g != NULL)
        g->refs++; /* held while the run is queued */
    for (size_t k = i; k < e; k++) {
        const kn_sched_binding *bd = &out->bindings[k];
        job *j = new_job(JOB_BIND, bd->ns, bd->name, bd->uid, bd->node);
        if (j && !(j->body = kn_binding_json(bd))) {
            job_free(b, j);
            j = NULL;
        }
        if (!j || (volumes && g == NULL)) {
            job_free(b, j);
            kn_sched_bind_failed(b->s, bd->uid, 0, "out of memory", started, &b->tmp);
            continue;
        }
        j->started = started;
        j->next_try = started;
        if (g != NULL) {
            j->vg = g;
            j->blocked = true;
            g->refs++;
            g->members++;
        }
        append_job(b, j);
        if (g != NULL && queue_writes(b, g, bd, started) != 0)
            g->failed = true;
    }
    if (g != NULL && g->failed)
        group_fail(b, g, NULL, "out of memory", started);
    else if (g != NULL && g->writes == 0)
        g->waiting = true; /* nothing to write: wait for the claims at once */
    if (g != NULL) {
        g->wait_since = g->next_check = started;
        group_unref(b, g);
    }
}

void kn_binder_take(kn_binder *b, kn_sched_out *out, double started)
{
    for (size_t i = 0, e; i < out->n_bindings; i = e) {
        /* a group's bindings are consecutive in out */
        for (e = i + 1; out->bindings[i].group != 0 && e < out->n_bindings &&
                        out->bindings[e].group == out->bindings[i].group;)
            e++;
        take_run(b, out, i, e, started);
    }
    queue_events(b, out);
    kn_sched_out_reset(out);
}

void kn_binder_post_events(kn_binder *b, const kn_sched_out *out)
{
    queue_events(b, out);
}

static void flush_tmp(kn_binder *b)
{
    if (b->tmp.n_events || b->tmp.n_bindings)
        kn_binder_take(b, &b->tmp, 0);
}

/* ---------------------------------------------------------------- requests */

static int add_req(CURLM *multi, job *j, kn_api_req *req)
{
    if (!req)
        return -1;
    req->owner = j;
    req->owner_tag = KN_BINDER_TAG;
    if (curl_multi_add_handle(multi, req->easy) != CURLM_OK) {
        kn_api_req_free(req);
        return -1;
    }
    j->req = req;
    return 0;
}

static int start_job(kn_binder *b, CURLM *multi, job *j)
{
    char path[1024];
    kn_err err = {{0}};
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s%s", j->ns, j->name,
             j->type == JOB_BIND ? "/binding" : "");
    kn_api_req *req =
        j->type == JOB_VOLUME   ? kn_api_req_new(b->api, "PATCH", j->path, j->body, "patch", BIND_TIMEOUT_S, &err)
        : j->type == JOB_VREAD  ? kn_api_req_new(b->api, "GET", j->path, NULL, "get", BIND_TIMEOUT_S, &err)
        : j->type == JOB_REREAD ? kn_api_req_new(b->api, "GET", path, NULL, "get", BIND_TIMEOUT_S, &err)
                                : kn_api_req_new(b->api, "POST", path, j->body, "create", BIND_TIMEOUT_S, &err);
    if (add_req(multi, j, req) < 0)
        return -1;
    j->tries++;
    b->n_bind_inflight++;
    return 0;
}

/* The event lane: one request at a time while bindings wait or fly, more when idle. */
static size_t event_lane(const kn_binder *b)
{
    return b->n_jobs ? KN_EVENT_BUSY_INFLIGHT : KN_EVENT_MAX_INFLIGHT;
}

static void pump_events(kn_binder *b, CURLM *multi, double now)
{
    size_t lane = event_lane(b);
    kn_evq_send *s;
    while (b->n_event_inflight < lane && (s = kn_evq_next(b->events, lane, now))) {
        kn_err err = {{0}};
        job *j = calloc(1, sizeof *j);
        kn_api_req *req =
            j ? kn_api_req_new_typed(b->api, s->method, s->path, s->body,
                                     strcmp(s->method, "PATCH") == 0 ? KN_EVENT_PATCH_TYPE : NULL,
                                     strcmp(s->method, "PATCH") == 0 ? "patch" : "create", EVENT_TIMEOUT_S, &err)
              : NULL;
        if (!j || add_req(multi, j, req) < 0) {
            free(j);
            kn_evq_done(b->events, s, 0, NULL, 0, now); /* retried later */
            continue;
        }
        j->type = JOB_EVENT;
        j->ev = s;
        j->next = b->ev_jobs;
        b->ev_jobs = j;
        b->n_event_inflight++;
    }
}

void kn_binder_pump(kn_binder *b, CURLM *multi, bool may_bind, double now)
{
    if (may_bind) {
        check_groups(b, now);
        flush_tmp(b); /* requeued pods' events */
    }
    for (job *j = b->head; j && may_bind && b->n_bind_inflight < KN_BIND_MAX_INFLIGHT; j = j->next) {
        if (j->req || j->next_try > now || j->blocked || (j->vg && j->vg->failed))
            continue;
        if (start_job(b, multi, j) < 0)
            j->next_try = now + 1;
    }
    pump_events(b, multi, now);
}

/* ---------------------------------------------------------------- volumes */

/* Drops the queued (not in flight) jobs of g but keep, telling the core
 * its bindings failed with why; jobs in flight end on their own. */
static void group_fail(kn_binder *b, vgroup *g, const job *keep, const char *why, double now)
{
    char msg[1024];
    g->failed = true;
    g->waiting = false;
    for (job *j = b->head, *next; j; j = next) {
        next = j->next;
        if (j->vg != g || j->req != NULL || j == keep)
            continue;
        if (j->type == JOB_BIND) {
            if (g->members > 1)
                snprintf(msg, sizeof msg,
                         "running PreBind plugin \"VolumeBinding\": %s (pods placed together, none bound)", why);
            else
                snprintf(msg, sizeof msg, "running PreBind plugin \"VolumeBinding\": %s", why);
            kn_log(KN_LOG_WARN, "volumes not bound; requeued", "pod=%s/%s error=%s", j->ns, j->name, why);
            kn_sched_volumes_failed(b->s, j->uid, msg, now, &b->tmp);
            count(b, "error");
        }
        unlink_job(b, j);
        job_free(b, j);
    }
}

/* The wait of g's bindings for their claims (binder.go's checkBindings, every second). */
static void check_group(kn_binder *b, vgroup *g, double now)
{
    char msg[512];
    bool ready = true;
    for (job *j = b->head; j && ready; j = j->next) {
        if (j->vg != g || j->type != JOB_BIND)
            continue;
        int r = kn_sched_volumes_ready(b->s, j->uid, msg, sizeof msg);
        if (r < 0) {
            char why[700];
            snprintf(why, sizeof why, "%s%s%s%s", g->members > 1 ? "pod " : "", g->members > 1 ? j->name : "",
                     g->members > 1 ? ": " : "", msg);
            group_fail(b, g, NULL, why, now);
            return;
        }
        ready = r == 1;
    }
    if (ready) {
        g->waiting = false;
        for (job *j = b->head; j; j = j->next)
            if (j->vg == g && j->type == JOB_BIND) {
                j->blocked = false;
                j->next_try = now;
            }
        return;
    }
    if (now - g->wait_since >= b->volume_timeout_s) {
        group_fail(b, g, NULL, "binding volumes: context deadline exceeded", now);
        return;
    }
    g->next_check = now + VOLUME_POLL_S;
}

static void check_groups(kn_binder *b, double now)
{
    for (vgroup *g = b->groups, *next; g; g = next) {
        next = g->next;
        g->refs++; /* a failure may free its jobs */
        if (g->waiting && !g->failed && g->next_check <= now)
            check_group(b, g, now);
        group_unref(b, g);
    }
}

/* A volume write that took effect: its answer is the object as written,
 * ahead of the watch. */
static void write_done(kn_binder *b, job *j, const kn_json *obj, double now)
{
    kn_err err = {{0}};
    if (obj != NULL && kn_sched_apply(b->s, j->pv ? KN_SCHED_PVS : KN_SCHED_PVCS, obj, false, &err) < 0)
        kn_log(KN_LOG_WARN, "cannot apply a written volume object", "path=%s error=%s", j->path, err.msg);
    vgroup *g = j->vg;
    if (g != NULL && !g->failed && --g->writes == 0) {
        g->waiting = true;
        g->wait_since = now;
        g->next_check = now;
    }
}

static void volume_finished(kn_binder *b, job *j, kn_api_req *req, double now)
{
    char msg[512];
    long st = req->status;
    kn_err err = {{0}};
    if (j->vg != NULL && j->vg->failed)
        return;
    if (st == 200 || st == 201) {
        kn_json *obj = kn_api_req_json(req, &err);
        kn_log(KN_LOG_INFO, j->pv ? "volume claimed for a pod" : "claim annotated for a pod", "pod=%s/%s path=%s",
               j->ns, j->name, j->path);
        write_done(b, j, obj, now);
        kn_json_free(obj);
    } else if (st == 409) { /* someone wrote first; maybe us, with the answer lost */
        job *r = new_job(JOB_VREAD, j->ns, j->name, j->uid, j->node);
        if (r && (r->path = strdup(j->path)) && (r->check_ptr = strdup(j->check_ptr)) &&
            (r->check_val = strdup(j->check_val)) && (r->body = strdup(kn_api_req_error(req, msg, sizeof msg)))) {
            r->pv = j->pv;
            r->vg = j->vg;
            if (r->vg)
                r->vg->refs++;
            r->next_try = now;
            append_job(b, r);
        } else {
            job_free(b, r);
            group_fail(b, j->vg, j, "out of memory", now);
        }
    } else if ((st == 0 || st == 429 || st >= 500) && j->tries < KN_BIND_MAX_TRIES) {
        j->next_try = now + BIND_BACKOFF_S * pow(2, j->tries - 1) * (0.5 + 0.5 * ((double)rand() / RAND_MAX));
        kn_log(KN_LOG_WARN, "volume write failed; retrying", "path=%s status=%ld try=%d error=%s", j->path, st,
               j->tries, kn_api_req_error(req, msg, sizeof msg));
        return; /* keep the job */
    } else if (j->vg != NULL) {
        group_fail(b, j->vg, j, kn_api_req_error(req, msg, sizeof msg), now);
    }
    j->tries = -1;
}

/* The object re-read after a 409: written as we wanted (our lost answer), or
 * the conflict stands. */
static void vread_finished(kn_binder *b, job *j, kn_api_req *req, double now)
{
    char msg[512];
    kn_err err = {{0}};
    if (j->vg != NULL && j->vg->failed)
        return;
    kn_json *obj = req->status == 200 ? kn_api_req_json(req, &err) : NULL;
    const char *have = kn_json_str(kn_json_pointer_get(obj, j->check_ptr));
    if (have != NULL && strcmp(have, j->check_val) == 0) {
        write_done(b, j, obj, now);
    } else if (j->vg != NULL) {
        if (obj != NULL) /* what the watch will say anyway: the next placement sees it */
            kn_sched_apply(b->s, j->pv ? KN_SCHED_PVS : KN_SCHED_PVCS, obj, false, &err);
        group_fail(b, j->vg, j, req->status == 200 ? j->body : kn_api_req_error(req, msg, sizeof msg), now);
    }
    kn_json_free(obj);
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
    kn_sched_event ev = {
        .ns = j->ns, .name = j->name, .uid = j->uid, .type = "Normal", .reason = "Scheduled", .message = msg};
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
        kn_log(KN_LOG_INFO, "binding conflict; re-reading the pod", "pod=%s/%s error=%s", j->ns, j->name,
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
        kn_log(KN_LOG_WARN, "binding failed; retrying", "pod=%s/%s status=%ld try=%d error=%s", j->ns, j->name, st,
               j->tries, kn_api_req_error(req, msg, sizeof msg));
        return; /* keep the job */
    } else {
        kn_log(KN_LOG_WARN, "binding failed; requeued", "pod=%s/%s status=%ld error=%s", j->ns, j->name, st,
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
        kn_log(KN_LOG_WARN, "cannot apply re-read pod", "pod=%s/%s error=%s", j->ns, j->name, err.msg);
    if (node && strcmp(node, j->node) == 0 && uid && strcmp(uid, j->uid) == 0) {
        kn_log(KN_LOG_INFO, "bound (an earlier attempt had succeeded)", "pod=%s/%s node=%s", j->ns, j->name, node);
        bound_ok(b, j, now);
    } else {
        snprintf(msg, sizeof msg, "pod %s is already assigned to node \"%s\"", j->name, node ? node : "");
        kn_sched_bind_failed(b->s, j->uid, 409, msg, now, &b->tmp);
    }
    kn_json_free(pod);
}

static void event_done(kn_binder *b, job *j, kn_api_req *req, double now)
{
    for (job **pp = &b->ev_jobs; *pp; pp = &(*pp)->next)
        if (*pp == j) {
            *pp = j->next;
            break;
        }
    b->n_event_inflight--;
    if (req->status != 201 && req->status != 200 && !(req->status == 404 && strcmp(j->ev->method, "PATCH") == 0)) {
        char msg[256];
        kn_log(KN_LOG_WARN, "event not recorded", "method=%s path=%s status=%ld error=%s", j->ev->method,
               j->ev->path, req->status, kn_api_req_error(req, msg, sizeof msg));
    }
    kn_evq_done(b->events, j->ev, req->status, req->resp.p, req->resp.len, now);
    kn_api_req_free(req);
    free(j);
}

void kn_binder_done(kn_binder *b, CURLM *multi, kn_api_req *req, double now)
{
    job *j = req->owner;
    curl_multi_remove_handle(multi, req->easy);
    j->req = NULL;
    if (j->type == JOB_EVENT) {
        event_done(b, j, req, now);
        return;
    }
    b->n_bind_inflight--;
    if (j->type == JOB_BIND)
        bind_finished(b, j, req, now);
    else if (j->type == JOB_VOLUME)
        volume_finished(b, j, req, now);
    else {
        if (j->type == JOB_VREAD)
            vread_finished(b, j, req, now);
        else
            reread_finished(b, j, req, now);
        j->tries = -1;
    }
    kn_api_req_free(req);
    if (j->tries < 0 || (j->vg != NULL && j->vg->failed && j->type != JOB_BIND)) {
        unlink_job(b, j);
        job_free(b, j);
    }
    flush_tmp(b);
}

void kn_binder_abort_bindings(kn_binder *b, CURLM *multi, double now)
{
    while (b->head) {
        job *j = b->head;
        drop_inflight(b, multi, j);
        if (j->type == JOB_BIND || j->type == JOB_REREAD)
            kn_sched_bind_failed(b->s, j->uid, 0, "leadership lost before the binding finished", now, &b->tmp);
        b->head = j->next;
        job_free(b, j);
    }
    b->tail = NULL;
    b->n_jobs = 0;
    kn_sched_out_reset(&b->tmp); /* a non-leader posts no events about it */
}

double kn_binder_next_deadline(const kn_binder *b)
{
    double d = INFINITY;
    /* a full lane waits for a finished request, which wakes the loop anyway */
    if (b->n_bind_inflight < KN_BIND_MAX_INFLIGHT)
        for (const job *j = b->head; j; j = j->next)
            if (!j->req && !j->blocked && j->next_try < d)
                d = j->next_try;
    for (const vgroup *g = b->groups; g; g = g->next)
        if (g->waiting && !g->failed)
            d = fmin(d, g->next_check);
    if (b->n_event_inflight < event_lane(b))
        d = fmin(d, kn_evq_next_due(b->events)); /* event retries after their backoff */
    return d;
}

size_t kn_binder_pending(const kn_binder *b)
{
    return b->n_jobs + kn_evq_queued(b->events) + kn_evq_inflight(b->events);
}
