/* events.c - the event queue and correlator (see events.h). */
#include "kube/client/events.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/hash.h"
#include "json/json.h"
#include "kube/timestamp.h"
#include "base/strmap.h"

#define EVENT_MESSAGE_MAX 1024
#define EXTRA_SLOTS 64 /* room for sends put back after a 404, beyond queue_max */

/* One event to send: queued, then out (in flight), then done. */
typedef struct kn_evq_ent {
    struct kn_evq_ent *next; /* queue or in-flight list */
    char *key;               /* involvedObject, type, reason, message */
    char *ns, *name, *uid, *type, *reason, *message;
    char *rel_ns, *rel_name, *rel_uid, *action; /* NULL: no related object */
    char *ev_name;                              /* Event name to create again after a 404; else NULL */
    uint64_t count;                             /* occurrences folded in */
    uint64_t sent_count;                        /* the count a PATCH set */
    double first, last;                         /* wall clock */
    int slot;                                   /* index in slots while queued, else -1 */
    bool combined;                              /* "(combined from similar events): ..." */
    bool recreate;                              /* POST ev_name again: the PATCHed Event was gone */
    int tries;                                  /* failed sends so far */
    double not_before;                          /* caller's clock: no retry before */
} ent;

/* Distinct messages seen for one pod, type and reason (client-go's
 * EventAggregator with EventAggregatorByReasonFunc). */
typedef struct agg {
    char *key;
    uint64_t msgs[KN_EVENT_SIMILAR_MAX];
    int n;
    double last;
} agg;

/* An Event the API server holds (client-go's eventLog). */
typedef struct seen {
    char *key, *name;
    uint64_t count;
    double first;
    int prev, next; /* LRU, most recent first */
} seen;

struct kn_evq {
    char *component, *instance;
    size_t queue_max, cache_max;
    ent *head, *tail, *inflight;
    size_t n_queued, n_inflight;
    ent **slots;
    int *free_slots;
    size_t n_free;
    kn_strmap queued; /* key -> slot of the queued entry */
    seen *seen;
    size_t n_seen;
    int lru_head, lru_tail;
    kn_strmap seen_idx; /* key -> index in seen */
    agg *aggs;
    size_t n_aggs;
    kn_strmap agg_idx; /* aggregate key -> index in aggs */
    uint64_t dropped;
    kn_metric *m_dropped, *m_total;
};

static void ent_free(ent *e)
{
    if (!e)
        return;
    free(e->key);
    free(e->ns);
    free(e->name);
    free(e->uid);
    free(e->type);
    free(e->reason);
    free(e->message);
    free(e->rel_ns);
    free(e->rel_name);
    free(e->rel_uid);
    free(e->action);
    free(e->ev_name);
    free(e);
}

kn_evq *kn_evq_new(const kn_evq_opts *o, kn_err *err)
{
    kn_evq *q = calloc(1, sizeof *q);
    if (!q)
        goto oom;
    q->queue_max = o->queue_max ? o->queue_max : KN_EVENT_QUEUE_MAX;
    q->cache_max = o->cache_max ? o->cache_max : KN_EVENT_CACHE_MAX;
    size_t n_slots = q->queue_max + EXTRA_SLOTS;
    q->component = strdup(o->component ? o->component : "kubenexus-scheduler");
    q->instance = strdup(o->instance ? o->instance : q->component ? q->component : "");
    q->slots = calloc(n_slots, sizeof *q->slots);
    q->free_slots = malloc(n_slots * sizeof *q->free_slots);
    q->seen = calloc(q->cache_max, sizeof *q->seen);
    q->aggs = calloc(q->cache_max, sizeof *q->aggs);
    if (!q->component || !q->instance || !q->slots || !q->free_slots || !q->seen || !q->aggs)
        goto oom;
    for (size_t i = 0; i < n_slots; i++)
        q->free_slots[q->n_free++] = (int)(n_slots - 1 - i);
    kn_strmap_init(&q->queued);
    kn_strmap_init(&q->seen_idx);
    kn_strmap_init(&q->agg_idx);
    q->lru_head = q->lru_tail = -1;
    if (o->metrics) {
        q->m_dropped = kn_metrics_counter(o->metrics, "kubenexus_scheduler_events_dropped_total",
                                          "Events not sent because the event queue was full.", 0, NULL);
        q->m_total = kn_metrics_counter(o->metrics, "kubenexus_scheduler_events_total",
                                        "Event requests finished, by result (created, patched: a repeat "
                                        "aggregated into an existing Event's count, error).",
                                        1, (const char *[]){"result"});
    }
    return q;
oom:
    kn_evq_free(q);
    kn_err_set(err, "out of memory");
    return NULL;
}

void kn_evq_free(kn_evq *q)
{
    if (!q)
        return;
    while (q->head) {
        ent *e = q->head;
        q->head = e->next;
        ent_free(e);
    }
    for (size_t i = 0; i < q->n_seen; i++) {
        free(q->seen[i].key);
        free(q->seen[i].name);
    }
    kn_strmap_free(&q->queued);
    kn_strmap_free(&q->seen_idx);
    free(q->seen);
    if (q->aggs)
        for (size_t i = 0; i < q->n_aggs; i++)
            free(q->aggs[i].key);
    kn_strmap_free(&q->agg_idx);
    free(q->aggs);
    free(q->slots);
    free(q->free_slots);
    free(q->component);
    free(q->instance);
    free(q);
}

size_t kn_evq_queued(const kn_evq *q)
{
    return q->n_queued;
}

size_t kn_evq_inflight(const kn_evq *q)
{
    return q->n_inflight;
}

uint64_t kn_evq_dropped(const kn_evq *q)
{
    return q->dropped;
}

static void count(kn_evq *q, const char *result)
{
    if (q->m_total)
        kn_metric_inc(q->m_total, (const char *[]){result}, 1);
}

/* ---------------------------------------------------------------- the seen cache (LRU) */

static void lru_unlink(kn_evq *q, int i)
{
    seen *s = &q->seen[i];
    if (s->prev >= 0)
        q->seen[s->prev].next = s->next;
    else
        q->lru_head = s->next;
    if (s->next >= 0)
        q->seen[s->next].prev = s->prev;
    else
        q->lru_tail = s->prev;
}

static void lru_push_front(kn_evq *q, int i)
{
    seen *s = &q->seen[i];
    s->prev = -1;
    s->next = q->lru_head;
    if (q->lru_head >= 0)
        q->seen[q->lru_head].prev = i;
    q->lru_head = i;
    if (q->lru_tail < 0)
        q->lru_tail = i;
}

static void seen_forget(kn_evq *q, int i)
{
    seen *s = &q->seen[i];
    lru_unlink(q, i);
    kn_strmap_del(&q->seen_idx, s->key);
    free(s->key);
    free(s->name);
    s->key = s->name = NULL;
    /* keep the array dense: move the last record into i */
    int last = (int)q->n_seen - 1;
    if (i != last) {
        q->seen[i] = q->seen[last];
        seen *m = &q->seen[i];
        if (m->prev >= 0)
            q->seen[m->prev].next = i;
        else
            q->lru_head = i;
        if (m->next >= 0)
            q->seen[m->next].prev = i;
        else
            q->lru_tail = i;
        kn_strmap_put(&q->seen_idx, m->key, i); /* replaces: no allocation */
    }
    q->n_seen--;
}

/* Remembers (or updates) the Event that key's events go to. */
static void seen_put(kn_evq *q, const char *key, const char *name, uint64_t count, double first)
{
    int i = kn_strmap_get(&q->seen_idx, key);
    if (i >= 0) {
        seen *s = &q->seen[i];
        if (strcmp(s->name, name) != 0) {
            char *n = strdup(name);
            if (!n) {
                seen_forget(q, i);
                return;
            }
            free(s->name);
            s->name = n;
        }
        s->count = count;
        s->first = first;
        lru_unlink(q, i);
        lru_push_front(q, i);
        return;
    }
    if (q->n_seen == q->cache_max)
        seen_forget(q, q->lru_tail);
    i = (int)q->n_seen;
    seen *s = &q->seen[i];
    s->key = strdup(key);
    s->name = strdup(name);
    if (!s->key || !s->name || kn_strmap_put(&q->seen_idx, s->key, i) < 0) {
        free(s->key);
        free(s->name);
        s->key = s->name = NULL;
        return; /* not remembered: the next repeat is a new Event */
    }
    s->count = count;
    s->first = first;
    q->n_seen++;
    lru_push_front(q, i);
}

/* ---------------------------------------------------------------- the queue */

/* Fields joined with their lengths, so no two events share a key by accident. */
static char *make_key(const char *ns, const char *name, const char *uid, const char *type, const char *reason,
                      const char *message)
{
    const char *f[6] = {ns, name, uid, type, reason, message};
    size_t n = 1;
    for (int i = 0; i < 6; i++)
        n += strlen(f[i]) + 24;
    char *k = malloc(n);
    if (!k)
        return NULL;
    size_t off = 0;
    for (int i = 0; i < 6; i++)
        off += (size_t)snprintf(k + off, n - off, "%zu:%s;", strlen(f[i]), f[i]);
    return k;
}

static char *dup_or_empty(const char *s, size_t max)
{
    return strndup(s ? s : "", max);
}

static ent *ent_new(const kn_pod_event *ev, double now_unix)
{
    ent *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->ns = dup_or_empty(ev->ns, 253);
    e->name = dup_or_empty(ev->name, 253);
    e->uid = dup_or_empty(ev->uid, 253);
    e->type = dup_or_empty(ev->type, 64);
    e->reason = dup_or_empty(ev->reason, 128);
    e->message = dup_or_empty(ev->message, EVENT_MESSAGE_MAX);
    bool related = ev->related_name != NULL;
    if (related) {
        e->rel_ns = dup_or_empty(ev->related_ns, 253);
        e->rel_name = dup_or_empty(ev->related_name, 253);
        e->rel_uid = dup_or_empty(ev->related_uid, 253);
        e->action = dup_or_empty(ev->action, 128);
    }
    if (!e->ns || !e->name || !e->uid || !e->type || !e->reason || !e->message ||
        (related && (!e->rel_ns || !e->rel_name || !e->rel_uid || !e->action)) ||
        !(e->key = make_key(e->ns, e->name, e->uid, e->type, e->reason, e->message))) {
        ent_free(e);
        return NULL;
    }
    e->count = 1;
    e->first = e->last = now_unix;
    e->slot = -1;
    return e;
}

/* Takes a slot and indexes e as queued; at_front for a send put back. */
static int enqueue(kn_evq *q, ent *e, bool at_front)
{
    if (q->n_free == 0)
        return -1;
    int slot = q->free_slots[--q->n_free];
    if (kn_strmap_put(&q->queued, e->key, slot) < 0) {
        q->free_slots[q->n_free++] = slot;
        return -1;
    }
    q->slots[slot] = e;
    e->slot = slot;
    if (at_front) {
        e->next = q->head;
        q->head = e;
        if (!q->tail)
            q->tail = e;
    } else {
        e->next = NULL;
        if (q->tail)
            q->tail->next = e;
        else
            q->head = e;
        q->tail = e;
    }
    q->n_queued++;
    return 0;
}

static void drop(kn_evq *q)
{
    q->dropped++;
    if (q->m_dropped)
        kn_metric_inc(q->m_dropped, NULL, 1);
}

/* The aggregate record of e's pod, type and reason (NULL: out of memory). A
 * full table is emptied: bounded memory, and at worst a few more Events. */
static agg *agg_of(kn_evq *q, const ent *e)
{
    char *key = make_key(e->ns, e->name, e->uid, e->type, e->reason, "\x01");
    if (!key)
        return NULL;
    int i = kn_strmap_get(&q->agg_idx, key);
    if (i >= 0) {
        free(key);
        return &q->aggs[i];
    }
    if (q->n_aggs == q->cache_max) {
        for (size_t k = 0; k < q->n_aggs; k++)
            free(q->aggs[k].key);
        kn_strmap_free(&q->agg_idx);
        kn_strmap_init(&q->agg_idx);
        q->n_aggs = 0;
    }
    agg *a = &q->aggs[q->n_aggs];
    memset(a, 0, sizeof *a);
    a->key = key;
    if (kn_strmap_put(&q->agg_idx, a->key, (int)q->n_aggs) < 0) {
        free(key);
        return NULL;
    }
    q->n_aggs++;
    return a;
}

/* client-go's EventAggregator: once KN_EVENT_SIMILAR_MAX distinct messages
 * for one pod, type and reason came within KN_EVENT_SIMILAR_S of each other,
 * the next ones become one "(combined from similar events): <message>" Event
 * whose count grows. Returns -1 only when out of memory. */
static int aggregate(kn_evq *q, ent *e)
{
    agg *a = agg_of(q, e);
    if (!a)
        return 0; /* not aggregated: the event goes as it is */
    if (e->last - a->last > KN_EVENT_SIMILAR_S)
        a->n = 0;
    a->last = e->last;
    uint64_t h = kn_fnv1a(e->message, KN_FNV1A_BASIS);
    bool known = false;
    for (int i = 0; i < a->n && !known; i++)
        known = a->msgs[i] == h;
    if (!known) {
        if (a->n == KN_EVENT_SIMILAR_MAX)
            a->msgs[KN_EVENT_SIMILAR_MAX - 1] = h; /* the set stays full (client-go pops one) */
        else
            a->msgs[a->n++] = h;
    }
    if (a->n < KN_EVENT_SIMILAR_MAX)
        return 0;
    static const char prefix[] = "(combined from similar events): ";
    size_t n = sizeof prefix + strlen(e->message);
    char *m = malloc(n), *key = strdup(a->key);
    if (!m || !key) {
        free(m);
        free(key);
        return -1;
    }
    snprintf(m, n, "%s%s", prefix, e->message);
    m[EVENT_MESSAGE_MAX < n - 1 ? EVENT_MESSAGE_MAX : n - 1] = '\0';
    free(e->message);
    e->message = m;
    free(e->key);
    e->key = key; /* every combined one is the same Event */
    e->combined = true;
    return 0;
}

int kn_evq_record(kn_evq *q, const kn_pod_event *ev, double now_unix)
{
    ent *e = ent_new(ev, now_unix);
    if (e && aggregate(q, e) < 0) {
        ent_free(e);
        e = NULL;
    }
    if (!e) {
        drop(q);
        return -1;
    }
    int slot = kn_strmap_get(&q->queued, e->key);
    if (slot >= 0) {
        ent *had = q->slots[slot];
        had->count++;
        had->last = now_unix;
        if (e->combined) { /* the latest message, as client-go's combined event */
            free(had->message);
            had->message = e->message;
            e->message = NULL;
        }
        ent_free(e);
        return 1;
    }
    if (q->n_queued >= q->queue_max || enqueue(q, e, false) < 0) {
        ent_free(e);
        drop(q);
        return -1;
    }
    return 0;
}

static bool key_inflight(const kn_evq *q, const char *key)
{
    for (const ent *e = q->inflight; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            return true;
    return false;
}

/* ---------------------------------------------------------------- request bodies */

/* A Pod's ObjectReference: the involved or the related object. */
static int set_pod_ref(kn_json *root, const char *member, const char *ns, const char *name, const char *uid)
{
    kn_json *ref = kn_json_new_object();
    if (!ref)
        return -1;
    kn_json_set_str(ref, "apiVersion", "v1");
    kn_json_set_str(ref, "kind", "Pod");
    kn_json_set_str(ref, "namespace", ns);
    kn_json_set_str(ref, "name", name);
    if (*uid)
        kn_json_set_str(ref, "uid", uid);
    return kn_json_set(root, member, ref);
}

static char *event_body(const ent *e, const char *ev_name, const char *component, const char *instance)
{
    char first[32], last[32];
    kn_format_rfc3339(e->first, first, sizeof first);
    kn_format_rfc3339(e->last, last, sizeof last);
    kn_json *root = kn_json_new_object(), *meta = kn_json_new_object(), *src = kn_json_new_object();
    if (!root || !meta || !src) {
        kn_json_free(root);
        kn_json_free(meta);
        kn_json_free(src);
        return NULL;
    }
    kn_json_set_str(root, "apiVersion", "v1");
    kn_json_set_str(root, "kind", "Event");
    kn_json_set_str(meta, "name", ev_name);
    kn_json_set_str(meta, "namespace", e->ns);
    kn_json_set(root, "metadata", meta);
    set_pod_ref(root, "involvedObject", e->ns, e->name, e->uid);
    if (e->rel_name) {
        set_pod_ref(root, "related", e->rel_ns, e->rel_name, e->rel_uid);
        if (*e->action)
            kn_json_set_str(root, "action", e->action);
    }
    kn_json_set_str(root, "reason", e->reason);
    kn_json_set_str(root, "message", e->message);
    kn_json_set_str(root, "type", e->type);
    kn_json_set_str(src, "component", component);
    kn_json_set(root, "source", src);
    kn_json_set_str(root, "firstTimestamp", first);
    kn_json_set_str(root, "lastTimestamp", last);
    kn_json_set(root, "count", kn_json_new_int((int64_t)e->count));
    kn_json_set_str(root, "reportingComponent", component);
    kn_json_set_str(root, "reportingInstance", instance);
    char *s = kn_json_dump(root, NULL);
    kn_json_free(root);
    return s;
}

/* client-go names events "<object>.<unix nanos in hex>"; a name is at most 253 chars. */
static void new_event_name(char *buf, size_t cap, const char *object, double unix_s)
{
    unsigned long long nanos = (unsigned long long)(unix_s * 1e9);
    snprintf(buf, cap, "%.*s.%llx", 253 - 17, object, nanos);
}

char *kn_event_json(const kn_pod_event *ev, const char *scheduler_name, const char *identity, double now_unix)
{
    ent *e = ent_new(ev, now_unix);
    if (!e)
        return NULL;
    char name[254];
    new_event_name(name, sizeof name, e->name, now_unix);
    char *s = event_body(e, name, scheduler_name, identity);
    ent_free(e);
    return s;
}

static char *events_path(const char *ns, const char *name)
{
    size_t n = strlen(ns) + (name ? strlen(name) : 0) + 40;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "/api/v1/namespaces/%s/events%s%s", ns, name ? "/" : "", name ? name : "");
    return p;
}

/* {"count":N,"lastTimestamp":T} (and the message of a combined event, which
 * changes), as client-go's two-way strategic merge patch of those fields. */
static char *patch_body(const ent *e)
{
    char last[32];
    kn_format_rfc3339(e->last, last, sizeof last);
    kn_json *p = kn_json_new_object();
    if (!p)
        return NULL;
    kn_json_set(p, "count", kn_json_new_int((int64_t)e->sent_count));
    kn_json_set_str(p, "lastTimestamp", last);
    if (e->combined)
        kn_json_set_str(p, "message", e->message);
    char *s = kn_json_dump(p, NULL);
    kn_json_free(p);
    return s;
}

/* Fills s for e: a PATCH if the API server holds e's Event, else a POST. */
static int build_send(kn_evq *q, ent *e, kn_evq_send *s)
{
    int si = e->recreate ? -1 : kn_strmap_get(&q->seen_idx, e->key);
    if (si >= 0) {
        seen *sn = &q->seen[si];
        e->sent_count = sn->count + e->count;
        s->method = "PATCH";
        s->path = events_path(e->ns, sn->name);
        s->body = patch_body(e);
        /* what a 404 re-creates */
        e->first = sn->first;
        free(e->ev_name);
        e->ev_name = strdup(sn->name);
        if (!e->ev_name)
            return -1;
    } else {
        char name[254];
        if (e->ev_name)
            snprintf(name, sizeof name, "%s", e->ev_name);
        else
            new_event_name(name, sizeof name, e->name, e->first);
        e->sent_count = e->count;
        s->method = "POST";
        s->path = events_path(e->ns, NULL);
        s->body = event_body(e, name, q->component, q->instance);
        free(e->ev_name);
        e->ev_name = strdup(name);
        if (!e->ev_name)
            return -1;
    }
    return s->path && s->body ? 0 : -1;
}

static void leave_queue(kn_evq *q, ent *prev, ent *e)
{
    if (prev)
        prev->next = e->next;
    else
        q->head = e->next;
    if (q->tail == e)
        q->tail = prev;
    kn_strmap_del(&q->queued, e->key);
    q->free_slots[q->n_free++] = e->slot;
    q->slots[e->slot] = NULL;
    e->slot = -1;
    e->next = NULL;
    q->n_queued--;
}

/* Not now: a repeat waits for the request it follows; a retry for its backoff. */
static bool held(const kn_evq *q, const ent *e, double now)
{
    return e->not_before > now || key_inflight(q, e->key);
}

double kn_evq_next_due(const kn_evq *q)
{
    double d = INFINITY;
    for (const ent *e = q->head; e; e = e->next)
        if (e->not_before < d && !key_inflight(q, e->key))
            d = e->not_before;
    return d;
}

kn_evq_send *kn_evq_next(kn_evq *q, size_t max_inflight, double now)
{
    if (max_inflight > KN_EVENT_MAX_INFLIGHT)
        max_inflight = KN_EVENT_MAX_INFLIGHT;
    while (q->n_inflight < max_inflight) {
        ent *prev = NULL, *e = q->head;
        while (e && held(q, e, now)) {
            prev = e;
            e = e->next;
        }
        if (!e)
            return NULL;
        leave_queue(q, prev, e);
        kn_evq_send *s = calloc(1, sizeof *s);
        if (!s || build_send(q, e, s) < 0) {
            if (s) {
                free(s->path);
                free(s->body);
            }
            free(s);
            ent_free(e);
            drop(q);
            continue;
        }
        s->ent = e;
        e->next = q->inflight;
        q->inflight = e;
        q->n_inflight++;
        return s;
    }
    return NULL;
}

static void leave_inflight(kn_evq *q, ent *e)
{
    for (ent **pp = &q->inflight; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            e->next = NULL;
            q->n_inflight--;
            return;
        }
}

/* The API server no longer holds the Event we PATCHed: create it again (same
 * name, the count so far), ahead of the queue, or folded into a queued repeat. */
static void recreate(kn_evq *q, ent *e)
{
    int si = kn_strmap_get(&q->seen_idx, e->key);
    if (si >= 0)
        seen_forget(q, si);
    e->count = e->sent_count;
    e->recreate = true;
    int slot = kn_strmap_get(&q->queued, e->key);
    if (slot >= 0) {
        ent *had = q->slots[slot];
        had->count += e->count;
        had->first = e->first;
        had->recreate = true;
        free(had->ev_name);
        had->ev_name = e->ev_name;
        e->ev_name = NULL;
        ent_free(e);
    } else if (enqueue(q, e, true) < 0) {
        ent_free(e);
        drop(q);
    }
}

/* No answer, 429 or 5xx: sent again after a backoff (1 s doubling), ahead of
 * the queue, or folded into a queued repeat. */
static void retry(kn_evq *q, ent *e, double now)
{
    e->tries++;
    e->not_before = now + KN_EVENT_RETRY_S * (double)(1u << (e->tries - 1));
    int slot = kn_strmap_get(&q->queued, e->key);
    if (slot >= 0) {
        ent *had = q->slots[slot];
        had->count += e->count;
        had->first = e->first < had->first ? e->first : had->first;
        had->tries = e->tries;
        had->not_before = e->not_before;
        ent_free(e);
    } else if (enqueue(q, e, true) < 0) {
        ent_free(e);
        drop(q);
    }
}

void kn_evq_done(kn_evq *q, kn_evq_send *s, long status, const char *resp, size_t resp_len, double now)
{
    ent *e = s->ent;
    bool patch = strcmp(s->method, "PATCH") == 0;
    leave_inflight(q, e);
    /* A create sent again (its first answer was lost) that meets 409 found
     * the Event its first try made: same name, so it is ours, not a clash. */
    bool made_before = !patch && status == 409 && e->tries > 0;
    if (status == 200 || status == 201 || made_before) {
        const char *name = e->ev_name;
        kn_json *obj = resp && !made_before ? kn_json_parse(resp, resp_len, NULL, NULL) : NULL;
        const char *got = kn_json_get_str(kn_json_get(obj, "metadata"), "name");
        if (got && *got)
            name = got;
        seen_put(q, e->key, name, e->sent_count, e->first);
        kn_json_free(obj);
        count(q, patch ? "patched" : "created");
        ent_free(e);
    } else if (patch && status == 404) {
        recreate(q, e);
    } else if ((status == 0 || status == 429 || status >= 500) && e->tries + 1 < KN_EVENT_MAX_TRIES) {
        retry(q, e, now);
    } else {
        count(q, "error");
        ent_free(e);
    }
    free(s->path);
    free(s->body);
    free(s);
}
