/* whatif.c - verdicts per application for `simulate --kubeconfig` (see whatif.h). */
#include "sim/whatif.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/grow.h"
#include "base/strmap.h"
#include "json/json.h"

typedef struct place { /* a node the application got pods on */
    char *node;
    int executors;
    bool driver;
    char *zones; /* the driver's NUMA zones there, or NULL */
} place;

typedef struct app {
    char *ref, *driver_ref, *driver_uid, *refused;
    bool bound;
    double at;
    int jumps;
    place *places;
    size_t n_places, cap_places;
    size_t victims; /* pods preempted for it */
    char **gangs;   /* the gangs among them (evicted whole), each once */
    size_t n_gangs, cap_gangs;
} app;

typedef struct held {
    char *driver, *gang, *expires;
    int slots;
    kn_json *nodes; /* {"node": count} */
} held;

struct kn_whatif {
    double wall_at_zero;
    app *apps;
    size_t n_apps, cap_apps;
    kn_strmap by_ref;    /* "ns/app" -> index: executors find their app */
    kn_strmap by_driver; /* "ns/driver" -> index */
    held *held;
    size_t n_held, cap_held;
};

kn_whatif *kn_whatif_new(double wall_at_zero)
{
    kn_whatif *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->wall_at_zero = wall_at_zero;
    kn_strmap_init(&w->by_ref);
    kn_strmap_init(&w->by_driver);
    return w;
}

void kn_whatif_free(kn_whatif *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < w->n_apps; i++) {
        app *a = &w->apps[i];
        free(a->ref);
        free(a->driver_ref);
        free(a->driver_uid);
        free(a->refused);
        for (size_t k = 0; k < a->n_places; k++) {
            free(a->places[k].node);
            free(a->places[k].zones);
        }
        free(a->places);
        for (size_t k = 0; k < a->n_gangs; k++)
            free(a->gangs[k]);
        free(a->gangs);
    }
    free(w->apps);
    for (size_t i = 0; i < w->n_held; i++) {
        free(w->held[i].driver);
        free(w->held[i].gang);
        free(w->held[i].expires);
        kn_json_free(w->held[i].nodes);
    }
    free(w->held);
    kn_strmap_free(&w->by_ref);
    kn_strmap_free(&w->by_driver);
    free(w);
}

static char *joined(const char *ns, const char *name)
{
    kn_buf b = KN_BUF_INIT;
    kn_buf_printf(&b, "%s/%s", ns, name);
    return kn_buf_finish(&b, NULL);
}

/* The clock value on the wall, as the API server writes times. */
static void wall_time(const kn_whatif *w, double clock, char *buf, size_t cap)
{
    time_t t = (time_t)floor(w->wall_at_zero + clock);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, cap, "%.0f", w->wall_at_zero + clock);
}

int kn_whatif_app(kn_whatif *w, const char *ns, const char *name, const char *driver_name, const char *driver_uid,
                  const char *refused)
{
    if (kn_grow((void **)&w->apps, &w->cap_apps, w->n_apps + 1, sizeof(*w->apps)) != 0)
        return -1;
    app *a = &w->apps[w->n_apps];
    memset(a, 0, sizeof(*a));
    a->ref = joined(ns, name);
    a->driver_ref = joined(ns, driver_name);
    a->driver_uid = driver_uid ? strdup(driver_uid) : NULL;
    a->refused = refused ? strdup(refused) : NULL;
    if (!a->ref || !a->driver_ref || (driver_uid && !a->driver_uid) || (refused && !a->refused) ||
        kn_strmap_put(&w->by_ref, a->ref, (int)w->n_apps) != 0 ||
        kn_strmap_put(&w->by_driver, a->driver_ref, (int)w->n_apps) != 0) {
        free(a->ref);
        free(a->driver_ref);
        free(a->driver_uid);
        free(a->refused);
        return -1;
    }
    w->n_apps++;
    return 0;
}

static place *place_on(app *a, const char *node)
{
    for (size_t k = 0; k < a->n_places; k++)
        if (strcmp(a->places[k].node, node) == 0)
            return &a->places[k];
    if (kn_grow((void **)&a->places, &a->cap_places, a->n_places + 1, sizeof(*a->places)) != 0)
        return NULL;
    place *p = &a->places[a->n_places];
    memset(p, 0, sizeof(*p));
    if ((p->node = strdup(node)) == NULL)
        return NULL;
    a->n_places++;
    return p;
}

/* The application an executor "<app>-exec-<id>" belongs to, or -1. */
static int executor_app(const kn_whatif *w, const char *ns, const char *name)
{
    const char *tail = strstr(name, "-exec-");
    for (const char *t = tail; t != NULL; t = strstr(t + 1, "-exec-"))
        tail = t;
    if (tail == NULL || tail[6] == '\0' || strspn(tail + 6, "0123456789") != strlen(tail + 6))
        return -1;
    char ref[600];
    snprintf(ref, sizeof(ref), "%s/%.*s", ns, (int)(tail - name), name);
    return kn_strmap_get(&w->by_ref, ref);
}

void kn_whatif_binding(kn_whatif *w, const kn_sched_binding *b, double now, int jumps)
{
    char ref[600];
    snprintf(ref, sizeof(ref), "%s/%s", b->ns, b->name);
    int i = kn_strmap_get(&w->by_driver, ref);
    bool driver = i >= 0;
    if (!driver && (i = executor_app(w, b->ns, b->name)) < 0)
        return;
    app *a = &w->apps[i];
    place *p = place_on(a, b->node);
    if (p == NULL)
        return;
    if (!driver) {
        p->executors++;
        return;
    }
    p->driver = true;
    p->zones = b->zones_annotation ? strdup(b->zones_annotation) : NULL;
    a->bound = true;
    a->at = now;
    a->jumps = jumps;
}

void kn_whatif_victim(kn_whatif *w, const kn_sched_victim *v)
{
    char ref[600];
    snprintf(ref, sizeof(ref), "%s/%s", v->by_ns, v->by_name);
    int i = kn_strmap_get(&w->by_driver, ref);
    if (i < 0 && (i = executor_app(w, v->by_ns, v->by_name)) < 0)
        return;
    app *a = &w->apps[i];
    a->victims++;
    if (v->gang == NULL)
        return;
    for (size_t k = 0; k < a->n_gangs; k++)
        if (strcmp(a->gangs[k], v->gang) == 0)
            return;
    if (kn_grow((void **)&a->gangs, &a->cap_gangs, a->n_gangs + 1, sizeof(*a->gangs)) == 0 &&
        (a->gangs[a->n_gangs] = strdup(v->gang)) != NULL)
        a->n_gangs++;
}

static void keep_held(void *ctx, const kn_sched_resv_info *r)
{
    kn_whatif *w = ctx;
    if (!r->restored || kn_grow((void **)&w->held, &w->cap_held, w->n_held + 1, sizeof(*w->held)) != 0)
        return;
    held *h = &w->held[w->n_held];
    char at[40];
    wall_time(w, r->expires, at, sizeof(at));
    *h = (held){.driver = joined(r->driver_ns, r->driver_name),
                .gang = strdup(r->gang),
                .expires = strdup(at),
                .slots = r->slots,
                .nodes = kn_json_new_object()};
    for (int k = 0; h->nodes != NULL && k < r->slots; k++) {
        int64_t n = 0;
        kn_json_int(kn_json_get(h->nodes, r->slot_nodes[k]), &n);
        kn_json_set(h->nodes, r->slot_nodes[k], kn_json_new_int(n + 1));
    }
    if (!h->driver || !h->gang || !h->expires || !h->nodes) {
        free(h->driver);
        free(h->gang);
        free(h->expires);
        kn_json_free(h->nodes);
        return;
    }
    w->n_held++;
}

void kn_whatif_held(kn_whatif *w, const kn_scheduler *s)
{
    kn_sched_each_reservation(s, keep_held, w);
}

/* "node-a (driver in NUMA node-0, 2 executors), node-b (1 executor)" */
static void placement(const app *a, kn_buf *b)
{
    for (size_t k = 0; k < a->n_places; k++) {
        const place *p = &a->places[k];
        kn_buf_printf(b, "%s%s (", k ? ", " : "", p->node);
        if (p->driver)
            kn_buf_printf(b, "driver%s%s%s", p->zones ? " in NUMA " : "", p->zones ? p->zones : "",
                          p->executors ? ", " : "");
        if (p->executors)
            kn_buf_printf(b, "%d executor%s", p->executors, p->executors == 1 ? "" : "s");
        kn_buf_printf(b, ")");
    }
}

/* One JSON line on stdout. */
static void print_line(const kn_json *o)
{
    char *text = kn_json_dump(o, NULL);
    if (text)
        printf("%s\n", text);
    free(text);
}

typedef struct node_why {
    kn_json *nodes;
    kn_buf *text;
} node_why;

static void each_node(void *ctx, const char *node, const char *why)
{
    node_why *nw = ctx;
    kn_json_set_str(nw->nodes, node, why ? why : "fits");
    if (nw->text)
        kn_buf_printf(nw->text, "\n%-48s   %s: %s", "", node, why ? why : "fits");
}

static void report_app(kn_whatif *w, kn_scheduler *s, const app *a, bool table)
{
    kn_buf v = KN_BUF_INIT, nodes_text = KN_BUF_INIT;
    kn_json *o = kn_json_new_object(), *nodes = NULL;
    char at[40] = "";
    bool now = a->bound && a->jumps == 0 && a->victims == 0;
    if (a->refused != NULL) {
        kn_buf_printf(&v, "would not start: %s", a->refused);
    } else if (a->bound && a->victims > 0) {
        kn_buf_printf(&v, "would preempt %zu pod%s of lower priority", a->victims, a->victims == 1 ? "" : "s");
        for (size_t k = 0; k < a->n_gangs; k++)
            kn_buf_printf(&v, "%s%s%s", k ? ", " : " (", a->gangs[k], k + 1 == a->n_gangs ? " whole)" : "");
        if (a->jumps > 0) {
            wall_time(w, a->at, at, sizeof(at));
            kn_buf_printf(&v, " and start at %s, once held executor reservations have expired, on ", at);
        } else {
            kn_buf_printf(&v, " and start on ");
        }
        placement(a, &v);
        kn_buf_printf(&v, " once they are gone");
    } else if (a->bound) {
        if (!now) {
            wall_time(w, a->at, at, sizeof(at));
            kn_buf_printf(&v, "would start at %s, once held executor reservations have expired, on ", at);
        } else {
            kn_buf_printf(&v, "would start now on ");
        }
        placement(a, &v);
    } else {
        const char *why = a->driver_uid ? kn_sched_pending_reason(s, a->driver_uid) : NULL;
        kn_buf_printf(&v, "would wait: %s", why && *why ? why : "not attempted");
        node_why nw = {.nodes = nodes = kn_json_new_object(), .text = table ? &nodes_text : NULL};
        if (nodes == NULL || a->driver_uid == NULL || kn_sched_explain(s, a->driver_uid, each_node, &nw) != 0) {
            kn_json_free(nodes);
            nodes = NULL;
        }
    }
    char *verdict = kn_buf_finish(&v, NULL), *per_node = kn_buf_finish(&nodes_text, NULL);
    if (table) {
        printf("%-48s %s%s\n", a->ref, verdict ? verdict : "?", per_node ? per_node : "");
    } else if (o && kn_json_set_str(o, "application", a->ref) == 0 &&
               kn_json_set(o, "startsNow", kn_json_new_bool(now)) == 0 &&
               (at[0] == '\0' || kn_json_set_str(o, "startsAt", at) == 0) &&
               (a->victims == 0 || kn_json_set(o, "preempts", kn_json_new_int((int64_t)a->victims)) == 0) &&
               kn_json_set_str(o, "verdict", verdict ? verdict : "?") == 0 &&
               (nodes == NULL || kn_json_set(o, "nodes", nodes) == 0)) {
        nodes = NULL;
        print_line(o);
    }
    kn_json_free(nodes);
    kn_json_free(o);
    free(verdict);
    free(per_node);
}

static void report_held(const held *h, bool table)
{
    if (table) {
        kn_buf b = KN_BUF_INIT;
        for (size_t i = 0; i < kn_json_len(h->nodes); i++) {
            int64_t n = 0;
            kn_json_int(kn_json_value_at(h->nodes, i), &n);
            kn_buf_printf(&b, "%s%s (%lld)", i ? ", " : "", kn_json_key_at(h->nodes, i), (long long)n);
        }
        char *nodes = kn_buf_finish(&b, NULL);
        printf("%-48s %-24s %5d  %s  %s\n", h->driver, h->gang, h->slots, h->expires, nodes ? nodes : "");
        free(nodes);
        return;
    }
    kn_json *o = kn_json_new_object(), *r = kn_json_new_object(), *nodes = kn_json_clone(h->nodes);
    if (o && r && nodes && kn_json_set_str(r, "driver", h->driver) == 0 &&
        kn_json_set_str(r, "gang", h->gang) == 0 && kn_json_set(r, "slots", kn_json_new_int(h->slots)) == 0 &&
        kn_json_set(r, "nodes", nodes) == 0) {
        nodes = NULL;
        if (kn_json_set_str(r, "expires", h->expires) == 0 && kn_json_set(o, "reservation", r) == 0) {
            r = NULL;
            print_line(o);
        }
    }
    kn_json_free(nodes);
    kn_json_free(r);
    kn_json_free(o);
}

void kn_whatif_report(kn_whatif *w, kn_scheduler *s, bool table)
{
    if (table && w->n_held > 0)
        printf("\n%-48s %-24s %5s  %-20s  %s\n", "HELD RESERVATION (DRIVER)", "GANG", "SLOTS", "EXPIRES", "NODES");
    for (size_t i = 0; i < w->n_held; i++)
        report_held(&w->held[i], table);
    if (table && w->n_apps > 0)
        printf("\n%-48s %s\n", "APPLICATION", "VERDICT");
    for (size_t i = 0; i < w->n_apps; i++)
        report_app(w, s, &w->apps[i], table);
}
