/* preempter.c - victims' conditions, deletions and events, preemptors'
 * nominated nodes, to the API server (see preempter.h). */
#include "scheduler/preempter.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "kube/timestamp.h"

#define BACKOFF_S 0.2
#define TIMEOUT_S 30L
#define STATUS_PATCH_TYPE "application/strategic-merge-patch+json"

typedef enum { J_VICTIM, J_NOMINATE } job_kind;
typedef enum { S_CONDITION, S_DELETE } job_step;

typedef struct pjob {
    struct pjob *next;
    job_kind kind;
    job_step step;
    char *ns, *name, *uid, *node;             /* the victim, or the preemptor and its node (NULL: clear) */
    char *by_ns, *by_name, *by_uid, *by_node; /* a victim's preemptor */
    int64_t grace_s;
    int tries;
    double next_try;
    kn_api_req *req;
} pjob;

struct kn_preempter {
    kn_api *api;
    kn_scheduler *s;
    kn_binder *binder;
    char *scheduler_name;
    pjob *head, *tail;
    size_t n_jobs, n_inflight;
    kn_sched_out tmp; /* events to hand the binder */
    kn_metric *victims;
};

static void job_free(pjob *j)
{
    if (!j)
        return;
    kn_api_req_free(j->req);
    char *strs[] = {j->ns, j->name, j->uid, j->node, j->by_ns, j->by_name, j->by_uid, j->by_node};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        free(strs[i]);
    free(j);
}

kn_preempter *kn_preempter_new(kn_api *api, kn_scheduler *s, kn_binder *binder, const char *scheduler_name,
                               kn_metrics *metrics, kn_err *err)
{
    kn_preempter *p = calloc(1, sizeof(*p));
    if (!p || !(p->scheduler_name = strdup(scheduler_name ? scheduler_name : "kubenexus-scheduler"))) {
        free(p);
        kn_err_set(err, "out of memory");
        return NULL;
    }
    p->api = api;
    p->s = s;
    p->binder = binder;
    kn_sched_out_init(&p->tmp);
    if (metrics)
        p->victims = kn_metrics_counter(metrics, "kubenexus_scheduler_preemption_victims_total",
                                        "Pods deleted to make room for pods of higher priority.", 0, NULL);
    return p;
}

void kn_preempter_free(kn_preempter *p, CURLM *multi)
{
    if (!p)
        return;
    while (p->head) {
        pjob *j = p->head;
        p->head = j->next;
        if (j->req && multi)
            curl_multi_remove_handle(multi, j->req->easy);
        job_free(j);
    }
    kn_sched_out_free(&p->tmp);
    free(p->scheduler_name);
    free(p);
}

/* ---------------------------------------------------------------- bodies */

static char *dump(kn_json *root)
{
    char *s = root ? kn_json_dump(root, NULL) : NULL;
    kn_json_free(root);
    return s;
}

char *kn_disruption_patch_json(const char *scheduler_name, double now_unix)
{
    char ts[32], msg[300];
    kn_format_rfc3339(now_unix, ts, sizeof ts);
    snprintf(msg, sizeof msg, "%s: preempting to accommodate a higher priority pod", scheduler_name);
    kn_json *root = kn_json_new_object(), *st = kn_json_new_object(), *conds = kn_json_new_array(),
            *c = kn_json_new_object();
    if (!root || !st || !conds || !c) {
        kn_json_free(root);
        kn_json_free(st);
        kn_json_free(conds);
        kn_json_free(c);
        return NULL;
    }
    kn_json_set_str(c, "type", "DisruptionTarget");
    kn_json_set_str(c, "status", "True");
    kn_json_set_str(c, "reason", "PreemptionByScheduler");
    kn_json_set_str(c, "message", msg);
    kn_json_set_str(c, "lastTransitionTime", ts);
    kn_json_append(conds, c);
    kn_json_set(st, "conditions", conds);
    kn_json_set(root, "status", st);
    return dump(root);
}

char *kn_nomination_patch_json(const char *node)
{
    kn_json *root = kn_json_new_object(), *st = kn_json_new_object();
    if (!root || !st) {
        kn_json_free(root);
        kn_json_free(st);
        return NULL;
    }
    kn_json_set(st, "nominatedNodeName", node ? kn_json_new_string(node) : kn_json_new_null());
    kn_json_set(root, "status", st);
    return dump(root);
}

char *kn_delete_options_json(const char *uid, int64_t grace_s)
{
    kn_json *root = kn_json_new_object(), *pre = kn_json_new_object();
    if (!root || !pre) {
        kn_json_free(root);
        kn_json_free(pre);
        return NULL;
    }
    kn_json_set_str(root, "kind", "DeleteOptions");
    kn_json_set_str(root, "apiVersion", "v1");
    if (grace_s >= 0)
        kn_json_set(root, "gracePeriodSeconds", kn_json_new_int(grace_s));
    kn_json_set_str(pre, "uid", uid);
    kn_json_set(root, "preconditions", pre);
    return dump(root);
}

/* ---------------------------------------------------------------- queueing */

static char *dup(const char *s, bool *ok)
{
    char *d = s ? strdup(s) : NULL;
    *ok = *ok && (!s || d);
    return d;
}

static void append(kn_preempter *p, pjob *j)
{
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    p->n_jobs++;
}

void kn_preempter_take(kn_preempter *p, const kn_sched_out *out, double now)
{
    for (size_t i = 0; i < out->n_victims; i++) {
        const kn_sched_victim *v = &out->victims[i];
        kn_log(KN_LOG_INFO, "preempting", "pod=%s/%s node=%s preemptor=%s/%s gang=%s", v->ns, v->name, v->node,
               v->by_ns, v->by_name, v->gang ? v->gang : "");
        if (v->terminating) /* graceful deletion under way: kube-scheduler sends nothing either */
            continue;
        pjob *j = calloc(1, sizeof(*j));
        bool ok = j != NULL;
        if (ok) {
            j->kind = J_VICTIM;
            j->ns = dup(v->ns, &ok);
            j->name = dup(v->name, &ok);
            j->uid = dup(v->uid, &ok);
            j->node = dup(v->node, &ok);
            j->by_ns = dup(v->by_ns, &ok);
            j->by_name = dup(v->by_name, &ok);
            j->by_uid = dup(v->by_uid, &ok);
            j->by_node = dup(v->by_node, &ok);
            j->grace_s = v->grace_s;
            j->next_try = now;
        }
        if (!ok) {
            job_free(j);
            kn_sched_preempt_failed(p->s, v->uid, "out of memory", now, &p->tmp);
            continue;
        }
        append(p, j);
    }
    for (size_t i = 0; i < out->n_nominations; i++) {
        const kn_sched_nomination *n = &out->nominations[i];
        pjob *j = calloc(1, sizeof(*j));
        bool ok = j != NULL;
        if (ok) {
            j->kind = J_NOMINATE;
            j->ns = dup(n->ns, &ok);
            j->name = dup(n->name, &ok);
            j->uid = dup(n->uid, &ok);
            j->node = dup(n->node, &ok);
            j->next_try = now;
        }
        if (ok)
            append(p, j);
        else
            job_free(j);
    }
    if (p->tmp.n_events)
        kn_binder_take(p->binder, &p->tmp, 0);
}

/* ---------------------------------------------------------------- requests */

static int start(kn_preempter *p, CURLM *multi, pjob *j)
{
    char path[1024], *body;
    kn_err err = {{0}};
    const char *method = "PATCH", *type = STATUS_PATCH_TYPE, *verb = "patch";
    if (j->kind == J_NOMINATE) {
        snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s/status", j->ns, j->name);
        body = kn_nomination_patch_json(j->node);
    } else if (j->step == S_CONDITION) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s/status", j->ns, j->name);
        body = kn_disruption_patch_json(p->scheduler_name, (double)ts.tv_sec);
    } else {
        snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s", j->ns, j->name);
        body = kn_delete_options_json(j->uid, j->grace_s < 0 ? -1 : j->grace_s);
        method = "DELETE";
        type = NULL;
        verb = "delete";
    }
    kn_api_req *req = body ? kn_api_req_new_typed(p->api, method, path, body, type, verb, TIMEOUT_S, &err) : NULL;
    free(body);
    if (!req)
        return -1;
    req->owner = j;
    req->owner_tag = KN_PREEMPTER_TAG;
    if (curl_multi_add_handle(multi, req->easy) != CURLM_OK) {
        kn_api_req_free(req);
        return -1;
    }
    j->req = req;
    j->tries++;
    p->n_inflight++;
    return 0;
}

void kn_preempter_pump(kn_preempter *p, CURLM *multi, bool may_write, double now)
{
    for (pjob *j = p->head; j && may_write && p->n_inflight < KN_PREEMPT_MAX_INFLIGHT; j = j->next) {
        if (j->req || j->next_try > now)
            continue;
        if (start(p, multi, j) < 0)
            j->next_try = now + 1;
    }
}

static void unlink_job(kn_preempter *p, pjob *j)
{
    pjob *prev = NULL;
    for (pjob **pp = &p->head; *pp; prev = *pp, pp = &(*pp)->next)
        if (*pp == j) {
            *pp = j->next;
            if (p->tail == j)
                p->tail = prev;
            p->n_jobs--;
            return;
        }
}

/* kube-scheduler's event, once the victim's deletion was accepted. */
static void preempted_event(kn_preempter *p, const pjob *j)
{
    char msg[600];
    snprintf(msg, sizeof msg, "Preempted by pod %s on node %s", j->by_uid, j->by_node ? j->by_node : j->node);
    kn_sched_event ev = {.ns = j->ns,
                         .name = j->name,
                         .uid = j->uid,
                         .type = "Normal",
                         .reason = "Preempted",
                         .message = msg,
                         .related_ns = j->by_ns,
                         .related_name = j->by_name,
                         .related_uid = j->by_uid,
                         .action = "Preempting"};
    kn_sched_out one = {.events = &ev, .n_events = 1, .cap_events = 1};
    kn_binder_post_events(p->binder, &one);
    if (p->victims)
        kn_metric_inc(p->victims, NULL, 1);
}

/* true: the job is finished. */
static bool finished(kn_preempter *p, pjob *j, kn_api_req *req, double now)
{
    long st = req->status;
    char msg[512];
    bool ok = st >= 200 && st < 300;
    bool gone = st == 404 || (j->kind == J_VICTIM && j->step == S_DELETE && st == 409);
    if (ok && j->kind == J_VICTIM && j->step == S_CONDITION) {
        j->step = S_DELETE; /* the condition is there: now the deletion */
        j->tries = 0;
        j->next_try = now;
        return false;
    }
    if (ok && j->kind == J_VICTIM) {
        kn_log(KN_LOG_INFO, "preempted", "pod=%s/%s node=%s preemptor=%s/%s", j->ns, j->name, j->node, j->by_ns,
               j->by_name);
        preempted_event(p, j);
        return true;
    }
    if (ok || gone) {
        if (gone && j->kind == J_VICTIM)
            kn_log(KN_LOG_INFO, "victim already gone", "pod=%s/%s", j->ns, j->name);
        return true;
    }
    kn_api_req_error(req, msg, sizeof msg);
    if ((st == 0 || st == 429 || st >= 500) && j->tries < KN_BIND_MAX_TRIES) {
        j->next_try = now + BACKOFF_S * pow(2, j->tries - 1) * (0.5 + 0.5 * ((double)rand() / RAND_MAX));
        kn_log(KN_LOG_WARN, "preemption write failed; retrying", "pod=%s/%s status=%ld try=%d error=%s", j->ns,
               j->name, st, j->tries, msg);
        return false;
    }
    if (j->kind == J_NOMINATE) {
        kn_log(KN_LOG_WARN, "nominatedNodeName not written", "pod=%s/%s status=%ld error=%s", j->ns, j->name, st,
               msg);
        return true;
    }
    kn_log(KN_LOG_WARN, "preemption failed", "pod=%s/%s status=%ld error=%s", j->ns, j->name, st, msg);
    kn_sched_preempt_failed(p->s, j->uid, msg, now, &p->tmp);
    return true;
}

void kn_preempter_done(kn_preempter *p, CURLM *multi, kn_api_req *req, double now)
{
    pjob *j = req->owner;
    curl_multi_remove_handle(multi, req->easy);
    j->req = NULL;
    p->n_inflight--;
    bool done = finished(p, j, req, now);
    kn_api_req_free(req);
    if (done) {
        unlink_job(p, j);
        job_free(j);
    }
    if (p->tmp.n_events)
        kn_binder_take(p->binder, &p->tmp, 0);
}

double kn_preempter_next_deadline(const kn_preempter *p)
{
    double d = INFINITY;
    if (p->n_inflight < KN_PREEMPT_MAX_INFLIGHT)
        for (const pjob *j = p->head; j; j = j->next)
            if (!j->req && j->next_try < d)
                d = j->next_try;
    return d;
}

size_t kn_preempter_pending(const kn_preempter *p)
{
    return p->n_jobs;
}
