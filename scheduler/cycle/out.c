/* out.c - what a cycle hands its caller: bindings to POST and events to post (see scheduler.h). */
#include "scheduler/cycle/core.h"
#include "scheduler/cache/volumes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"
#include "kube/quantity.h"
#include "base/grow.h"

/* The volume writes' arrays (their strings are the pool's). */
static void free_vsteps(kn_sched_out *o)
{
    for (size_t i = 0; o->n_vstep_bindings > 0 && i < o->n_bindings; i++) {
        kn_sched_binding *b = &o->bindings[i];
        o->n_vstep_bindings -= b->vsteps != NULL;
        free(b->vsteps);
        b->vsteps = NULL;
        b->n_vsteps = 0;
    }
    o->n_vstep_bindings = 0;
}

void kn_sched_out_init(kn_sched_out *o)
{
    memset(o, 0, sizeof(*o));
    kn_strpool_init(&o->strings);
}

void kn_sched_out_reset(kn_sched_out *o)
{
    free_vsteps(o);
    o->n_bindings = 0;
    o->n_events = 0;
    o->n_victims = 0;
    o->n_nominations = 0;
    kn_strpool_reset(&o->strings);
}

void kn_sched_out_free(kn_sched_out *o)
{
    free_vsteps(o);
    free(o->bindings);
    free(o->events);
    free(o->victims);
    free(o->nominations);
    kn_strpool_free(&o->strings);
    kn_sched_out_init(o);
}

int kn_out_event_msg(kn_sched_out *o, const char *ns, const char *name, const char *uid, const char *type,
                     const char *reason, const char *msg)
{
    if (o == NULL)
        return 0;
    if (kn_grow((void **)&o->events, &o->cap_events, o->n_events + 1, sizeof(*o->events)) != 0)
        return -1;
    kn_sched_event *e = &o->events[o->n_events];
    memset(e, 0, sizeof(*e)); /* no related object */
    e->ns = kn_strpool_dup(&o->strings, ns);
    e->name = kn_strpool_dup(&o->strings, name);
    e->uid = kn_strpool_dup(&o->strings, uid);
    e->message = kn_strpool_dup(&o->strings, msg);
    e->type = strcmp(type, "Warning") == 0 ? "Warning" : "Normal";
    e->reason = reason;
    if (!e->ns || !e->name || !e->uid || !e->message)
        return -1;
    o->n_events++;
    return 0;
}

int kn_out_event(kn_sched_out *o, const char *ns, const char *name, const char *uid, const char *type,
                 const char *reason, const char *fmt, ...)
{
    if (o == NULL)
        return 0;
    char msg[KN_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return kn_out_event_msg(o, ns, name, uid, type, reason, msg);
}

/* "Successfully assigned ns/name to node", as kube-scheduler words it: once
 * per binding, so joined by hand (cut to KN_MSG_MAX as the printf form would be). */
void kn_out_scheduled(kn_sched_out *o, const kn_cpod *p)
{
    static const char head[] = "Successfully assigned ", to[] = " to ";
    size_t a = strlen(p->ns), b = strlen(p->name), c = p->node_name ? strlen(p->node_name) : KN_MSG_MAX;
    if (sizeof(head) - 1 + a + 1 + b + sizeof(to) - 1 + c >= KN_MSG_MAX) {
        kn_out_event(o, p->ns, p->name, p->uid, "Normal", "Scheduled", "Successfully assigned %s/%s to %s", p->ns,
                     p->name, p->node_name);
        return;
    }
    char msg[KN_MSG_MAX], *at = msg;
    memcpy(at, head, sizeof(head) - 1);
    at += sizeof(head) - 1;
    memcpy(at, p->ns, a);
    at += a;
    *at++ = '/';
    memcpy(at, p->name, b);
    at += b;
    memcpy(at, to, sizeof(to) - 1);
    at += sizeof(to) - 1;
    memcpy(at, p->node_name, c + 1);
    kn_out_event_msg(o, p->ns, p->name, p->uid, "Normal", "Scheduled", msg);
}

/* ---- volumes ---- */

#define RAW(w, lit) kn_json_write_raw((w), lit, sizeof(lit) - 1)

/* The PersistentVolume's claimRef to the claim, as GetBindVolumeToClaim
 * writes it (bound-by-controller unless the volume named the claim already). */
static char *pv_patch(const kn_pv *pv, const kn_pvc *pvc)
{
    kn_json_writer w = KN_BUF_INIT;
    RAW(&w, "{\"metadata\":{\"resourceVersion\":");
    kn_json_write_string(&w, pv->rv ? pv->rv : "", pv->rv ? strlen(pv->rv) : 0);
    if (!(pv->claim_name && kn_pv_bound_to(pv, pvc->ns, pvc->name, pvc->uid))) {
        static const char ann[] = ",\"annotations\":{\"" KN_ANN_BOUND_BY_CONTROLLER "\":\"yes\"}";
        kn_json_write_raw(&w, ann, sizeof(ann) - 1);
    }
    RAW(&w, "},\"spec\":{\"claimRef\":{\"kind\":\"PersistentVolumeClaim\",\"namespace\":");
    kn_json_write_string(&w, pvc->ns, strlen(pvc->ns));
    RAW(&w, ",\"name\":");
    kn_json_write_string(&w, pvc->name, strlen(pvc->name));
    RAW(&w, ",\"uid\":");
    kn_json_write_string(&w, pvc->uid ? pvc->uid : "", pvc->uid ? strlen(pvc->uid) : 0);
    RAW(&w, ",\"apiVersion\":\"v1\",\"resourceVersion\":");
    kn_json_write_string(&w, pvc->rv ? pvc->rv : "", pvc->rv ? strlen(pvc->rv) : 0);
    RAW(&w, "}}}");
    return kn_buf_finish(&w, NULL);
}

/* The claim's selected-node annotation, as AssumePodVolumes sets it. */
static char *pvc_patch(const kn_pvc *pvc, const char *node)
{
    kn_json_writer w = KN_BUF_INIT;
    RAW(&w, "{\"metadata\":{\"resourceVersion\":");
    kn_json_write_string(&w, pvc->rv ? pvc->rv : "", pvc->rv ? strlen(pvc->rv) : 0);
    static const char ann[] = ",\"annotations\":{\"" KN_ANN_SELECTED_NODE "\":";
    kn_json_write_raw(&w, ann, sizeof(ann) - 1);
    kn_json_write_string(&w, node, strlen(node));
    RAW(&w, "}}}");
    return kn_buf_finish(&w, NULL);
}

/* One write for b: path and body (malloc'd, taken) and the check copied
 * into the out's pool. */
static int add_step(kn_sched_out *o, kn_sched_binding *b, char *path, char *body, const char *ptr, const char *val,
                    bool pv)
{
    kn_strpool *sp = &o->strings;
    kn_sched_vstep st = {.path = path ? kn_strpool_dup(sp, path) : NULL,
                         .body = body ? kn_strpool_dup(sp, body) : NULL,
                         .check_ptr = kn_strpool_dup(sp, ptr),
                         .check_val = kn_strpool_dup(sp, val ? val : ""),
                         .pv = pv};
    free(path);
    free(body);
    size_t cap = (size_t)b->n_vsteps;
    if (st.path == NULL || st.body == NULL || st.check_ptr == NULL || st.check_val == NULL ||
        kn_grow((void **)&b->vsteps, &cap, (size_t)b->n_vsteps + 1, sizeof(*b->vsteps)) != 0)
        return -1;
    if (b->n_vsteps == 0)
        o->n_vstep_bindings++;
    b->vsteps[b->n_vsteps++] = st;
    return 0;
}

static char *joined(const char *a, const char *b, const char *c2, const char *d)
{
    size_t n = strlen(a) + strlen(b) + strlen(c2) + strlen(d) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s%s%s", a, b, c2, d);
    return s;
}

/* What the pod's volume decisions need written before its Binding. */
static int volume_steps(const kn_cluster *c, kn_sched_out *o, kn_sched_binding *b, const kn_cpod *p)
{
    const kn_pod_vols *pv = p->vols;
    for (int i = 0; i < pv->n_dec; i++) {
        const kn_vol_dec *d = &pv->dec[i];
        const char *slash = strchr(d->claim, '/');
        char ns[300];
        snprintf(ns, sizeof(ns), "%.*s", slash ? (int)(slash - d->claim) : 0, d->claim);
        const kn_pvc *pvc = kn_vols_pvc(c, ns, slash ? slash + 1 : d->claim);
        if (pvc == NULL)
            return -1;
        b->wait_volumes = true;
        if (d->pv != NULL) {
            const kn_pv *vol = kn_vols_pv(c, d->pv);
            if (vol == NULL)
                return -1;
            if (add_step(o, b, joined("/api/v1/persistentvolumes/", vol->name, "", ""), pv_patch(vol, pvc),
                         "/spec/claimRef/uid", pvc->uid, true) != 0)
                return -1;
        } else if (pvc->selected_node == NULL || strcmp(pvc->selected_node, b->node) != 0) {
            if (add_step(o, b, joined("/api/v1/namespaces/", pvc->ns, "/persistentvolumeclaims/", pvc->name),
                         pvc_patch(pvc, b->node),
                         "/metadata/annotations/"
                         "volume.kubernetes.io~1selected-node",
                         b->node, false) != 0)
                return -1;
        }
    }
    return 0;
}

int kn_out_binding(const kn_cluster *c, kn_sched_out *o, const kn_cpod *p)
{
    if (kn_grow((void **)&o->bindings, &o->cap_bindings, o->n_bindings + 1, sizeof(*o->bindings)) != 0)
        return -1;
    kn_sched_binding *b = &o->bindings[o->n_bindings];
    memset(b, 0, sizeof(*b));
    const kn_node *n = &c->nodes[p->alloc.node];
    kn_strpool *sp = &o->strings;
    b->ns = kn_strpool_dup(sp, p->ns);
    b->name = kn_strpool_dup(sp, p->name);
    b->uid = kn_strpool_dup(sp, p->uid);
    b->node = kn_strpool_dup(sp, n->name);
    bool ok = b->ns && b->name && b->uid && b->node;
    char csv[KN_NUMA_MAX_ZONES * 65] = "";
    size_t off = 0;
    for (int z = 0; z < p->alloc.n_zones; z++) {
        const char *zn = n->zones[p->alloc.zone[z]].name;
        b->zones[b->n_zones++] = kn_strpool_dup(sp, zn);
        ok = ok && b->zones[z];
        off += (size_t)snprintf(csv + off, sizeof(csv) - off, "%s%s", z ? "," : "", zn);
    }
    if (p->alloc.n_zones > 0)
        ok = ok && (b->zones_annotation = kn_strpool_dup(sp, csv)) != NULL;
    o->n_bindings++;
    if (ok && p->vols != NULL)
        ok = volume_steps(c, o, b, p) == 0;
    return ok ? 0 : -1;
}

void kn_fmt_req(const kn_cluster *c, const kn_rvec *v, char *buf, size_t cap)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int r = 0; r < c->n_res && off < cap; r++) {
        if (r == KN_R_PODS || v->v[r] <= 0)
            continue;
        char q[48];
        if (r == KN_R_CPU)
            kn_quantity_format_milli(v->v[r], q, sizeof(q));
        else
            kn_quantity_format_value(v->v[r], q, sizeof(q));
        off += (size_t)snprintf(buf + off, cap - off, "%s%s %s", off ? ", " : "", c->res_names[r], q);
    }
}

/* A copy in o's pool of s, or NULL for NULL (*ok false when out of memory). */
static char *pool_dup(kn_sched_out *o, const char *s, bool *ok)
{
    char *d = s ? kn_strpool_dup(&o->strings, s) : NULL;
    *ok = *ok && (s == NULL || d != NULL);
    return d;
}

int kn_out_victim(const kn_cluster *c, kn_sched_out *o, const kn_cpod *v, const kn_cpod *by, int by_node,
                  const char *gang)
{
    if (kn_grow((void **)&o->victims, &o->cap_victims, o->n_victims + 1, sizeof(*o->victims)) != 0)
        return -1;
    kn_sched_victim *r = &o->victims[o->n_victims++];
    bool ok = true;
    r->ns = pool_dup(o, v->ns, &ok);
    r->name = pool_dup(o, v->name, &ok);
    r->uid = pool_dup(o, v->uid, &ok);
    r->node = pool_dup(o, v->alloc.node >= 0 ? c->nodes[v->alloc.node].name : v->node_name, &ok);
    r->by_ns = pool_dup(o, by->ns, &ok);
    r->by_name = pool_dup(o, by->name, &ok);
    r->by_uid = pool_dup(o, by->uid, &ok);
    r->by_node = pool_dup(o, by_node >= 0 ? c->nodes[by_node].name : NULL, &ok);
    r->gang = pool_dup(o, gang, &ok);
    r->grace_s = v->grace_s;
    r->terminating = v->terminating;
    return ok ? 0 : -1;
}

int kn_out_nomination(const kn_cluster *c, kn_sched_out *o, const kn_cpod *p, int node)
{
    if (kn_grow((void **)&o->nominations, &o->cap_nominations, o->n_nominations + 1, sizeof(*o->nominations)) != 0)
        return -1;
    kn_sched_nomination *r = &o->nominations[o->n_nominations++];
    bool ok = true;
    r->ns = pool_dup(o, p->ns, &ok);
    r->name = pool_dup(o, p->name, &ok);
    r->uid = pool_dup(o, p->uid, &ok);
    r->node = pool_dup(o, node >= 0 ? c->nodes[node].name : NULL, &ok);
    return ok ? 0 : -1;
}
