/* cycle.c - the scheduling cycle and the public API (see scheduler.h).
 *
 * Each cycle: release expired reservations, build the queue (queue.c), then
 * per entry, in order:
 *  - a plain pod: the best node, or FailedScheduling;
 *  - a gang whose driver carries an executor reservation: the driver and its N
 *    slots all at once, or nothing;
 *  - a gang with held slots: each pending member takes a slot first;
 *  - a gang already running (min-available placed): members one by one;
 *  - a gang with min-available members present: all pending members at once,
 *    or nothing; otherwise GangWaiting.
 * Anti-starvation: a gang whose all-at-once attempt has failed for
 * starvation_s seconds keeps the room it did find for the rest of the cycle
 * (one such gang per cycle, the first in queue order), so later, smaller pods
 * cannot take the room it is accumulating; it is re-placed from scratch each
 * cycle until it fits.
 * A pod (or gang) that failed is not retried until something may have freed
 * room (c->gen moves), so idle cycles are cheap and events are not repeated. */
#include "scheduler/cycle/core.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"
#include "scheduler/cache/volumes.h"

/* ---- construction and feeding ---- */

kn_scheduler *kn_sched_new(const kn_sched_config *cfg, kn_err *err)
{
    kn_scheduler *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        kn_err_set(err, "out of memory");
        return NULL;
    }
    if (cfg)
        s->cfg = *cfg;
    if (s->cfg.gang_timeout_s <= 0)
        s->cfg.gang_timeout_s = 600;
    if (s->cfg.starvation_s <= 0)
        s->cfg.starvation_s = 120;
    if (s->cfg.event_repeat_s <= 0)
        s->cfg.event_repeat_s = 60;
    if (kn_cluster_init(&s->c, s->cfg.scheduler_name, err) != 0) {
        free(s);
        return NULL;
    }
    s->cfg.scheduler_name = s->c.scheduler_name;
    s->c.pct_nodes = s->cfg.percentage_of_nodes_to_score;
    s->c.keep_labels = s->cfg.watch_pdbs;
    kn_strmap_init(&s->gang_by_key);
    kn_strmap_init(&s->resv_by_driver);
    return s;
}

void kn_sched_free(kn_scheduler *s)
{
    if (s == NULL)
        return;
    kn_preempt_free(s);
    for (int i = 0; i < s->n_resvs; i++)
        kn_resv_release(s, i);
    free(s->resvs);
    kn_strmap_free(&s->resv_by_driver);
    free(s->queue);
    for (int i = 0; i < s->n_gangs; i++) {
        if (s->gangs[i].mkey != s->gangs[i].key)
            free(s->gangs[i].mkey);
        free(s->gangs[i].key);
        free(s->gangs[i].ns);
        free(s->gangs[i].name);
        free(s->gangs[i].members);
    }
    free(s->gangs);
    kn_strmap_free(&s->gang_by_key);
    free(s->held);
    kn_cluster_free(&s->c);
    free(s);
}

int kn_sched_apply_node(kn_scheduler *s, const kn_json *node, bool deleted, kn_err *err)
{
    return kn_cluster_apply_node(&s->c, node, deleted, err);
}

int kn_sched_apply_nrt(kn_scheduler *s, const kn_json *nrt, bool deleted, kn_err *err)
{
    return kn_cluster_apply_nrt(&s->c, nrt, deleted, err);
}

int kn_sched_apply_podgroup(kn_scheduler *s, kn_gang_kind kind, const kn_json *pg, bool deleted, kn_err *err)
{
    if (kind == KN_GANG_LABELS)
        return kn_err_set(err, "not a PodGroup kind");
    return kn_cluster_apply_podgroup(&s->c, kind, pg, deleted, err);
}

int kn_sched_apply_namespace(kn_scheduler *s, const kn_json *ns, bool deleted, kn_err *err)
{
    return kn_cluster_apply_namespace(&s->c, ns, deleted, err);
}

static kn_gang_kind podgroup_kind(kn_sched_kind kind)
{
    return kind == KN_SCHED_PODGROUPS ? KN_GANG_COSCHEDULING : KN_GANG_VOLCANO;
}

int kn_sched_apply_pdb(kn_scheduler *s, const kn_json *pdb, bool deleted, kn_err *err)
{
    return kn_cluster_apply_pdb(&s->c, pdb, deleted, err);
}

static void remove_pod(kn_scheduler *s, int idx)
{
    kn_preempt_forget_pod(s, idx);
    kn_resv_release_driver(s, s->c.pods[idx].uid); /* a driver gone: its slots are of no use */
    kn_gang_leave(s, idx);
    kn_cluster_drop_pod(&s->c, idx);
}

static int pod_changed(kn_scheduler *s, const kn_pod_change *chg, kn_err *err);

int kn_sched_apply_pod(kn_scheduler *s, const kn_json *pod, bool deleted, kn_err *err)
{
    kn_pod_change chg;
    if (kn_cluster_apply_pod(&s->c, pod, deleted, &chg, err) != 0)
        return -1;
    return pod_changed(s, &chg, err);
}

int kn_sched_apply_pod_model(kn_scheduler *s, const kn_pod *pod, kn_err *err)
{
    kn_pod_change chg;
    if (kn_cluster_apply_pod_model(&s->c, pod, NULL, &chg, err) != 0)
        return -1;
    return pod_changed(s, &chg, err);
}

/* The gang layer's part of a pod event. */
static int pod_changed(kn_scheduler *s, const kn_pod_change *c, kn_err *err)
{
    kn_pod_change chg = *c;
    if (chg.idx < 0)
        return 0;
    if (chg.removed) {
        remove_pod(s, chg.idx);
        return 0;
    }
    if (chg.gang.present) {
        if (kn_gang_join(s, chg.idx, &chg.gang) != 0)
            return kn_err_set(err, "out of memory");
    } else {
        kn_gang_leave(s, chg.idx);
    }
    const kn_cpod *p = &s->c.pods[chg.idx];
    if (p->gang >= 0 && p->state == KN_POD_PENDING && p->d && p->d->tried_gen == 0)
        s->gangs[p->gang].tried_gen = 0; /* a member changed (its gates removed, say): the gang may fit now */
    return 0;
}

const char *kn_sched_kind_path(kn_sched_kind kind)
{
    static const char *const paths[KN_SCHED_KINDS] = {
        "/api/v1/nodes",
        "/api/v1/pods",
        "/apis/topology.node.k8s.io/v1alpha2/noderesourcetopologies",
        "/apis/scheduling.x-k8s.io/v1alpha1/podgroups",
        "/apis/scheduling.volcano.sh/v1beta1/podgroups",
        "/apis/policy/v1/poddisruptionbudgets",
        "/api/v1/persistentvolumeclaims",
        "/api/v1/persistentvolumes",
        "/apis/storage.k8s.io/v1/storageclasses",
        "/apis/storage.k8s.io/v1/csinodes",
        "/api/v1/namespaces",
    };
    return (unsigned)kind < KN_SCHED_KINDS ? paths[kind] : "";
}

int kn_sched_apply(kn_scheduler *s, kn_sched_kind kind, const kn_json *obj, bool deleted, kn_err *err)
{
    switch (kind) {
    case KN_SCHED_NODES: return kn_sched_apply_node(s, obj, deleted, err);
    case KN_SCHED_PODS: return kn_sched_apply_pod(s, obj, deleted, err);
    case KN_SCHED_NRTS: return kn_sched_apply_nrt(s, obj, deleted, err);
    case KN_SCHED_PODGROUPS:
    case KN_SCHED_VOLCANO_PODGROUPS: return kn_sched_apply_podgroup(s, podgroup_kind(kind), obj, deleted, err);
    case KN_SCHED_PDBS: return kn_sched_apply_pdb(s, obj, deleted, err);
    case KN_SCHED_PVCS: return kn_cluster_apply_pvc(&s->c, obj, deleted, err);
    case KN_SCHED_PVS: return kn_cluster_apply_pv(&s->c, obj, deleted, err);
    case KN_SCHED_STORAGECLASSES: return kn_cluster_apply_sclass(&s->c, obj, deleted, err);
    case KN_SCHED_CSINODES: return kn_cluster_apply_csinode(&s->c, obj, deleted, err);
    case KN_SCHED_NAMESPACES: return kn_sched_apply_namespace(s, obj, deleted, err);
    }
    return kn_err_set(err, "unknown kind %d", (int)kind);
}

/* the four storage kinds, in volumes.h's order */
static bool storage_kind(kn_sched_kind kind)
{
    return kind >= KN_SCHED_PVCS && kind <= KN_SCHED_CSINODES;
}

void kn_sched_resync_begin(kn_scheduler *s, kn_sched_kind kind)
{
    kn_cluster *c = &s->c;
    if (storage_kind(kind)) {
        kn_vols_resync_begin(c, kind - KN_SCHED_PVCS);
        return;
    }
    if (kind == KN_SCHED_NODES)
        for (int i = 0; i < c->n_nodes; i++)
            c->nodes[i].seen = false;
    else if (kind == KN_SCHED_PODS)
        for (int i = 0; i < c->n_pods; i++)
            c->pods[i].seen = false;
    else if (kind == KN_SCHED_PDBS)
        for (int i = 0; i < c->n_pdbs; i++)
            c->pdbs[i].seen = false;
    else if (kind == KN_SCHED_NAMESPACES)
        kn_cluster_ns_resync_begin(c);
    else if (kind == KN_SCHED_NRTS)
        for (int i = 0; i < c->n_nrts; i++)
            c->nrts[i].seen = false;
    else
        kn_cluster_podgroups_unmark(c, podgroup_kind(kind));
}

void kn_sched_resync_end(kn_scheduler *s, kn_sched_kind kind)
{
    kn_cluster *c = &s->c;
    if (storage_kind(kind)) {
        kn_vols_resync_end(c, kind - KN_SCHED_PVCS);
        return;
    }
    if (kind == KN_SCHED_NODES) {
        for (int i = 0; i < c->n_nodes; i++)
            if (!c->nodes[i].seen && c->nodes[i].live)
                kn_cluster_node_gone(c, i);
    } else if (kind == KN_SCHED_PODS) {
        /* An assumed pod whose binding is still in flight may be missing from
         * a list taken just before it; one whose binding has been answered
         * (a 409 waits for the watch to say where it went) and that the list
         * no longer holds is gone, maybe re-created under a new uid: keeping
         * it would hold its room forever. */
        for (int i = 0; i < c->n_pods; i++)
            if (c->pods[i].live && !c->pods[i].seen && (c->pods[i].state != KN_POD_ASSUMED || !c->pods[i].binding))
                remove_pod(s, i);
    } else if (kind == KN_SCHED_PDBS) {
        for (int i = 0; i < c->n_pdbs; i++)
            if (c->pdbs[i].live && !c->pdbs[i].seen)
                kn_cluster_drop_pdb(c, i);
    } else if (kind == KN_SCHED_NAMESPACES) {
        kn_cluster_ns_resync_end(c);
    } else if (kind != KN_SCHED_NRTS) {
        kn_cluster_podgroups_sweep(c, podgroup_kind(kind));
    } else {
        for (int i = 0; i < c->n_nrts; i++)
            if (!c->nrts[i].seen && c->nrts[i].n_zones > 0) {
                kn_json *o = kn_json_new_object(), *m = kn_json_new_object();
                if (o && m && kn_json_set_str(m, "name", c->nrts[i].name) == 0 &&
                    kn_json_set(o, "metadata", m) == 0) {
                    m = NULL;
                    kn_cluster_apply_nrt(c, o, true, NULL);
                }
                kn_json_free(m);
                kn_json_free(o);
            }
    }
}

/* ---- placing ---- */

static void tell(const kn_cycle *cy, int pi, const char *type, const char *reason, const char *msg)
{
    kn_scheduler *s = cy->s;
    kn_pod_detail *d = s->c.pods[pi].d;
    if (d->reason && strcmp(d->reason, msg) == 0 && cy->now - d->last_event < s->cfg.event_repeat_s)
        return;
    char *m = strdup(msg);
    if (m == NULL)
        return;
    free(d->reason);
    d->reason = m;
    d->last_event = cy->now;
    kn_cpod *p = &s->c.pods[pi];
    kn_out_event(cy->out, p->ns, p->name, p->uid, type, reason, "%s", msg);
}

static void fail_pod(const kn_cycle *cy, int pi, const char *msg)
{
    cy->s->unschedulable++;
    cy->s->c.pods[pi].d->tried_gen = cy->s->c.gen;
    tell(cy, pi, "Warning", "FailedScheduling", msg);
}

/* A pod that sets a field no plugin implements, told msg; counted once per
 * pod and field (when it is first told). */
static void fail_unsupported(const kn_cycle *cy, int pi, int field, const char *msg)
{
    const kn_pod_detail *d = cy->s->c.pods[pi].d;
    if (d->reason == NULL || strcmp(d->reason, msg) != 0)
        cy->s->unsupported[field]++;
    fail_pod(cy, pi, msg);
}

static const char *unsupported_msg(int field, char *buf, size_t cap)
{
    snprintf(buf, cap, "unsupported: %s", kn_pod_field_name(field));
    return buf;
}

static void place_single(const kn_cycle *cy, int pi)
{
    kn_scheduler *s = cy->s;
    kn_cpod *p = &s->c.pods[pi];
    if (p->d->gated || kn_preempt_waiting(cy, &pi, 1) || p->d->tried_gen == s->c.gen)
        return; /* gated: kube-scheduler's SchedulingGates keeps it out of the queue, silently */
    s->attempts++;
    if (p->d->bad) {
        fail_pod(cy, pi, p->d->bad);
        return;
    }
    int field = kn_unsupported_field(p->d->fields);
    if (field >= 0) {
        char msg[KN_MSG_MAX];
        fail_unsupported(cy, pi, field, unsupported_msg(field, msg, sizeof(msg)));
        return;
    }
    kn_want w;
    kn_vol_want *v;
    char msg[KN_MSG_MAX];
    kn_want_for_pod(s, p, &w);
    int rc = kn_want_volumes(s, pi, &w, &v, msg, sizeof(msg));
    if (rc != 0) {
        fail_pod(cy, pi, rc < 0 ? "out of memory while placing the pod" : msg);
        return;
    }
    kn_diag d;
    kn_diag_init(&d);
    kn_choice ch;
    if (kn_place_best(&s->c, &w, &ch, &d)) {
        rc = kn_commit_pod(cy, pi, &ch, v);
        kn_vol_want_free(v);
        if (rc == 0)
            return;
        kn_pod_release(s, pi);
        p->state = KN_POD_PENDING;
        fail_pod(cy, pi, "out of memory while placing the pod");
        return;
    }
    kn_vol_want_free(v);
    char why[KN_MSG_MAX];
    kn_diag_message(&d, msg, sizeof(msg));
    if (!kn_preempt_pod(cy, pi, why, sizeof(why)))
        snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), "%s", why);
    fail_pod(cy, pi, msg);
}

static int cmp_size_desc(const void *a, const void *b, void *ctx)
{
    const kn_cluster *c = ctx;
    const kn_cpod *x = &c->pods[*(const int *)a], *y = &c->pods[*(const int *)b];
    for (int r = 0; r < 2; r++)
        if (x->alloc.req.v[r] != y->alloc.req.v[r])
            return x->alloc.req.v[r] > y->alloc.req.v[r] ? -1 : 1;
    int ns = strcmp(x->name, y->name);
    return ns;
}

static void told_reserved(const kn_cycle *cy, int driver, const kn_resv_spec *rs, const kn_alloc *slots)
{
    const kn_scheduler *s = cy->s;
    const kn_cpod *p = &s->c.pods[driver];
    char where[KN_MSG_MAX / 2] = "", req[256];
    size_t off = 0;
    for (int i = 0; i < rs->count && off < sizeof(where); i++) {
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = slots[j].node == slots[i].node;
        if (seen)
            continue;
        int cnt = 0;
        for (int j = i; j < rs->count; j++)
            cnt += slots[j].node == slots[i].node;
        off += (size_t)snprintf(where + off, sizeof(where) - off, "%s%s (%d)", off ? ", " : "",
                                s->c.nodes[slots[i].node].name, cnt);
    }
    kn_fmt_req(&s->c, &rs->req, req, sizeof(req));
    kn_gangrec *g = &s->gangs[p->gang];
    double to = kn_gang_timeout(s, p, p->d);
    kn_out_event(
        cy->out, p->ns, p->name, p->uid, "Normal", "GangReserved",
        "Reserved %d executor slot(s) of %s for gang %s on %s; held until the executors arrive or %.0fs pass",
        rs->count, req, g->key, rs->count ? where : "no node", to);
}

static void commit_group(const kn_cycle *cy, int gi, const kn_resv_spec *rs, kn_tentative *t)
{
    kn_scheduler *s = cy->s;
    size_t first = cy->out->n_bindings;
    for (int i = 0; i < t->n; i++)
        kn_commit_assumed(cy, t->P[i]);
    /* bound all or none: the binder writes every member's volumes before any Binding */
    uint64_t group = ++s->group_seq;
    for (size_t b = first; b < cy->out->n_bindings; b++)
        cy->out->bindings[b].group = group;
    if (rs) {
        told_reserved(cy, t->P[0], rs, t->slots);
        if (t->nslots > 0 &&
            kn_resv_create(s, gi, &s->c.pods[t->P[0]], t->slots, t->nslots, rs->rel, cy->now) >= 0)
            t->slots = NULL; /* the reservation holds them now */
    }
    kn_gangrec *g = &s->gangs[gi];
    g->ready_since = -1;
    g->placed = true;
}

/* Places pods P[0..n) (P[0] the driver when rs) and rs->count slots all at once.
 * true: committed. false: nothing placed (or, for a starving gang, the room
 * found is held until the end of the cycle), members told why. */
static bool place_group(const kn_cycle *cy, int gi, int *P, int n, const kn_resv_spec *rs)
{
    kn_scheduler *s = cy->s;
    kn_gangrec *g = &s->gangs[gi];
    int first = rs ? 1 : 0;
    qsort_r(P + first, (size_t)(n - first), sizeof(int), cmp_size_desc, &s->c);
    kn_tentative t = {.P = P, .n = n, .nslots = rs ? rs->count : 0};
    if (t.nslots > 0 && (t.slots = calloc((size_t)t.nslots, sizeof(kn_alloc))) == NULL)
        t.oom = true;
    if (!t.oom)
        kn_take_pods(s, &t);
    if (rs && !t.oom && t.placed == n)
        kn_take_slots(s, s->c.pods[P[0]].d, rs, &t);
    if (!t.oom && t.placed == n && t.held == t.nslots) {
        commit_group(cy, gi, rs, &t);
        free(t.slots);
        return true;
    }
    if (g->ready_since < 0)
        g->ready_since = cy->now;
    bool hold = cy->now - g->ready_since >= s->cfg.starvation_s && !s->holder_done && !t.oom;
    int fit = t.placed + t.held;
    char why[KN_MSG_MAX] = "";
    kn_undo_or_hold(s, &t, false);
    if (!t.oom && kn_preempt_group(cy, gi, P, n, rs, why, sizeof(why))) {
        hold = false;
        snprintf(why, sizeof(why), " Preempting pods of lower priority to fit them all; nominated.");
    } else if (hold) { /* the room found so far, again, held to the end of the cycle */
        t.placed = t.held = 0;
        kn_take_pods(s, &t);
        if (!t.oom && t.placed == n && rs)
            kn_take_slots(s, s->c.pods[P[0]].d, rs, &t);
        /* a gang of which nothing fits holds nothing: it does not take the
         * cycle's one hold from another starving gang, nor say it holds */
        hold = t.placed + t.held > 0;
        kn_undo_or_hold(s, &t, true);
        s->holder_done = hold;
    }
    free(t.slots);
    char full[2 * KN_MSG_MAX + 256];
    size_t len = strlen(t.msg);
    if (t.oom)
        snprintf(full, sizeof(full), "out of memory while placing gang %s", g->key);
    else
        snprintf(full, sizeof(full), "%s%s Gang %s: only %d of %d pods fit at once%s; none bound.%s%s", t.msg,
                 len && t.msg[len - 1] != '.' ? "." : "", g->key, fit, n + t.nslots,
                 rs ? " (driver and its executor slots)" : "",
                 hold ? " Holding the room found so far (waiting longer than the starvation bound)." : "", why);
    for (int i = 0; i < n; i++)
        fail_pod(cy, P[i], full);
    g->tried_gen = s->c.gen;
    return false;
}

static int reserve_held(kn_scheduler *s, int extra)
{
    return kn_grow((void **)&s->held, &s->cap_held, (size_t)s->n_held + (size_t)extra, sizeof(*s->held));
}

/* Pending members into P (bad ones told why and left out); returns how many,
 * *placed the members bound or assumed, *driver the index in P of a driver
 * with an executor reservation or -1. */
static int gang_pending(kn_scheduler *s, const kn_gangrec *g, int *P, int *placed, int *driver)
{
    int n = 0;
    *placed = 0;
    *driver = -1;
    for (int m = 0; m < g->n; m++) {
        int pi = g->members[m];
        const kn_cpod *p = &s->c.pods[pi];
        if (p->state != KN_POD_PENDING)
            (*placed)++;
        else if (p->ours && p->d && !p->d->bad && !p->d->gated) { /* a gated member is not there yet */
            if (*driver < 0 && p->d->reservation)
                *driver = n;
            P[n++] = pi;
        }
    }
    return n;
}

static void tell_bad_members(const kn_cycle *cy, const kn_gangrec *g)
{
    for (int m = 0; m < g->n; m++) {
        const kn_cpod *p = &cy->s->c.pods[g->members[m]];
        if (p->state == KN_POD_PENDING && p->ours && p->d && p->d->bad && !p->d->gated)
            fail_pod(cy, g->members[m], p->d->bad);
    }
}

/* A gang waits whole while a pending member sets a field no plugin
 * implements: that member is told which, the others why none is bound.
 * True when it does. */
static bool unsupported_member(const kn_cycle *cy, kn_gangrec *g, const int *P, int n)
{
    kn_scheduler *s = cy->s;
    int who = -1, field = -1;
    for (int i = 0; i < n && who < 0; i++)
        if ((field = kn_unsupported_field(s->c.pods[P[i]].d->fields)) >= 0)
            who = P[i];
    if (who < 0)
        return false;
    char msg[KN_MSG_MAX];
    snprintf(msg, sizeof(msg), "Gang %s: member %s/%s is unsupported: %s; none bound.", g->key, s->c.pods[who].ns,
             s->c.pods[who].name, kn_pod_field_name(field));
    for (int i = 0; i < n; i++) {
        int f = kn_unsupported_field(s->c.pods[P[i]].d->fields);
        char own[KN_MSG_MAX];
        if (f >= 0)
            fail_unsupported(cy, P[i], f, unsupported_msg(f, own, sizeof(own)));
        else
            fail_pod(cy, P[i], msg);
    }
    g->tried_gen = s->c.gen;
    return true;
}

/* Executors take the gang's held slots first, else go one by one. */
static void take_held_slots(const kn_cycle *cy, const kn_gangrec *g, const int *P, int n)
{
    for (int i = 0; i < n; i++)
        if (g->resv < 0 || !kn_resv_take(cy, g->resv, P[i]))
            place_single(cy, P[i]);
}

static void place_driver_first(const kn_cycle *cy, int gi, int *P, int n, int driver)
{
    kn_scheduler *s = cy->s;
    kn_resv_spec rs;
    kn_err e;
    int dp = P[driver];
    if (kn_resv_spec_parse(&s->c, &s->c.pods[dp], s->c.pods[dp].d, &rs, &e) != 0) {
        char msg[KN_MSG_MAX];
        snprintf(msg, sizeof(msg), "annotation %s: %s", KN_EXECUTOR_RESERVATION_ANNOTATION, e.msg);
        fail_pod(cy, dp, msg);
    } else if (rs.unsupported >= 0) { /* the slots would ignore it */
        char msg[KN_MSG_MAX];
        const char *name = kn_pod_field_name(rs.unsupported);
        snprintf(msg, sizeof(msg), "annotation %s: unsupported: %s", KN_EXECUTOR_RESERVATION_ANNOTATION,
                 strncmp(name, "spec.", 5) == 0 ? name + 5 : name);
        fail_unsupported(cy, dp, rs.unsupported, msg);
    } else if (reserve_held(s, 1 + rs.count) == 0) {
        P[driver] = P[0];
        P[0] = dp;
        /* the driver and its slots; executors already present then take them */
        if (place_group(cy, gi, P, 1, &rs))
            take_held_slots(cy, &s->gangs[gi], P + 1, n - 1);
    }
    kn_resv_spec_free(&s->c, &rs);
}

/* A Spark driver of the gang without the executor reservation: it did not
 * pass through the webhook, and Spark creates the executors only once the
 * driver runs, so the gang can never fill up by waiting. -1 if none. */
static int driver_without_reservation(const kn_scheduler *s, const int *P, int n)
{
    for (int i = 0; i < n; i++) {
        const kn_pod_detail *d = s->c.pods[P[i]].d;
        if (d->spark_driver && d->reservation == NULL)
            return P[i];
    }
    return -1;
}

static void tell_waiting(const kn_cycle *cy, kn_gangrec *g, const int *P, int n, int present)
{
    char msg[KN_MSG_MAX];
    int drv = driver_without_reservation(cy->s, P, n);
    if (drv >= 0)
        snprintf(
            msg, sizeof(msg),
            "Gang %s: %d of %d members present, and Spark driver %s has no annotation %s: "
            "it did not pass through the kubenexus webhook, and Spark creates the executors only once the "
            "driver runs, so the gang can never fill up. Recreate the application with the webhook installed "
            "(MutatingWebhookConfiguration kubenexus-webhook, selecting its namespace), or set the annotation "
            "on the driver",
            g->key, present, g->min_available, cy->s->c.pods[drv].name, KN_EXECUTOR_RESERVATION_ANNOTATION);
    else
        snprintf(msg, sizeof(msg),
                 "Gang %s: %d of %d members present; waiting for %d more before placing them all "
                 "at once",
                 g->key, present, g->min_available, g->min_available - present);
    if (g->waiting_told != present)
        for (int i = 0; i < n; i++) {
            cy->s->c.pods[P[i]].d->last_event = -INFINITY; /* a new count is news */
            tell(cy, P[i], "Normal", "GangWaiting", msg);
        }
    g->waiting_told = present;
    g->tried_gen = cy->s->c.gen;
}

static void place_gang(const kn_cycle *cy, int gi)
{
    kn_scheduler *s = cy->s;
    kn_gangrec *g = &s->gangs[gi];
    bool starving = g->ready_since >= 0 && cy->now - g->ready_since >= s->cfg.starvation_s;
    if (g->tried_gen == s->c.gen && !starving && !kn_preempt_gang_nominated(s, gi))
        return;
    int *P = malloc(sizeof(int) * (size_t)(g->n + 1));
    if (P == NULL)
        return;
    int placed, driver, n = gang_pending(s, g, P, &placed, &driver);
    tell_bad_members(cy, g);
    if (n == 0 || kn_preempt_waiting(cy, P, n)) {
        free(P);
        return;
    }
    s->attempts++;
    char why[KN_MSG_MAX];
    if (unsupported_member(cy, g, P, n))
        ; /* the gang waits whole */
    else if (!kn_podgroup_gate(s, g, why, sizeof(why))) {
        for (int i = 0; i < n; i++)
            fail_pod(cy, P[i], why);
        g->tried_gen = s->c.gen;
    } else if (g->resv >= 0 && driver < 0)
        take_held_slots(cy, g, P, n);
    else if (driver >= 0)
        place_driver_first(cy, gi, P, n, driver);
    else if (placed >= g->min_available) /* the gang runs: one by one */
        for (int i = 0; i < n; i++)
            place_single(cy, P[i]);
    else if (placed + n < g->min_available)
        tell_waiting(cy, g, P, n, placed + n);
    else if (reserve_held(s, n) == 0)
        place_group(cy, gi, P, n, NULL);
    free(P);
}

int kn_sched_cycle(kn_scheduler *s, double now, kn_sched_out *out, kn_err *err)
{
    const kn_cycle cy = {.s = s, .now = now, .out = out};
    size_t before = out->n_bindings;
    s->last_now = now;
    kn_resv_expire(&cy);
    if (s->c.n_restore > 0)
        kn_resv_restore(&cy);
    s->holder_done = false;
    kn_preempt_cycle_begin(s);
    int n = kn_queue_build(s);
    if (n < 0)
        return kn_err_set(err, "out of memory");
    for (int i = 0; i < n; i++) {
        int id = s->queue[i].id;
        kn_preempt_show(s, s->queue[i].prio);
        if (id >= 0) {
            kn_cpod *p = &s->c.pods[id];
            if (p->live && p->state == KN_POD_PENDING && p->d)
                place_single(&cy, id);
        } else {
            place_gang(&cy, -1 - id);
        }
    }
    kn_preempt_cycle_end(s);
    for (int i = s->n_held - 1; i >= 0; i--) { /* the starving gang's hold ends with the cycle */
        kn_alloc_release(&s->c, &s->held[i]);
        kn_alloc_clear(&s->held[i]);
        kn_rel_unref(&s->c, s->held[i].rel);
    }
    s->n_held = 0;
    return (int)(out->n_bindings - before);
}

/* ---- binding outcomes ---- */

void kn_sched_bind_ok(kn_scheduler *s, const char *uid, double now, kn_sched_out *out)
{
    (void)now;
    int pi = kn_strmap_get(&s->c.pod_by_uid, uid);
    if (pi < 0)
        return;
    kn_cpod *p = &s->c.pods[pi];
    /* the watch may have shown the pod bound before the answer came */
    if (!p->binding || p->state == KN_POD_PENDING)
        return;
    p->binding = false;
    p->state = KN_POD_BOUND;
    if (p->vols != NULL)
        kn_vols_unassume(&s->c, pi); /* the API server holds the volume decisions now */
    kn_out_scheduled(out, p);
    kn_pod_detail_free(&s->c, p->d);
    p->d = NULL;
}

/* An assumed pod whose binding (or its volumes) failed: pending again, told why. */
static void requeue(kn_scheduler *s, int pi, const char *msg, double now, kn_sched_out *out)
{
    const kn_cycle cy = {.s = s, .now = now, .out = out};
    kn_cpod *p = &s->c.pods[pi];
    kn_pod_release(s, pi);
    /* a driver placed again takes new slots with it: the old ones go now,
     * not at the gang's timeout */
    kn_resv_release_driver(s, p->uid);
    free(p->node_name);
    p->node_name = NULL;
    p->state = KN_POD_PENDING;
    s->c.gen++;
    if (p->d) {
        p->d->tried_gen = 0;
        tell(&cy, pi, "Warning", "FailedScheduling", msg);
    }
}

/* The pod whose binding (or its volumes) failed, if that binding was ours
 * and it is still assumed (the error counted), else -1. */
static int binding_failed(kn_scheduler *s, const char *uid)
{
    int pi = kn_strmap_get(&s->c.pod_by_uid, uid);
    if (pi < 0)
        return -1;
    kn_cpod *p = &s->c.pods[pi];
    bool ours = p->binding;
    p->binding = false;
    if (!ours || p->state != KN_POD_ASSUMED)
        return -1;
    s->bind_errors++;
    return pi;
}

void kn_sched_bind_failed(kn_scheduler *s, const char *uid, int http_status, const char *message, double now,
                          kn_sched_out *out)
{
    int pi = binding_failed(s, uid);
    if (pi < 0)
        return;
    if (http_status == 409) /* bound already (maybe by our lost request): the watch will say where */
        return;
    if (http_status == 404) {
        remove_pod(s, pi);
        return;
    }
    char msg[KN_MSG_MAX];
    snprintf(msg, sizeof(msg), "Binding rejected: %s", message ? message : "unknown error");
    requeue(s, pi, msg, now, out);
}

void kn_sched_volumes_failed(kn_scheduler *s, const char *uid, const char *message, double now, kn_sched_out *out)
{
    int pi = binding_failed(s, uid);
    if (pi >= 0)
        requeue(s, pi, message ? message : "binding volumes failed", now, out);
}

/* ---- volumes before a binding ---- */

int kn_sched_volumes_ready(kn_scheduler *s, const char *uid, char *msg, size_t cap)
{
    int pi = kn_strmap_get(&s->c.pod_by_uid, uid);
    if (pi < 0 || s->c.pods[pi].state != KN_POD_ASSUMED || s->c.pods[pi].alloc.node < 0) {
        snprintf(msg, cap, "binding volumes: pod does not exist any more");
        return -1;
    }
    const kn_cpod *p = &s->c.pods[pi];
    const kn_node *n = &s->c.nodes[p->alloc.node];
    if (!n->live) {
        snprintf(msg, cap, "binding volumes: failed to get node \"%s\": node \"%s\" not found", n->name, n->name);
        return -1;
    }
    int ready = 1;
    for (int i = 0; p->vols != NULL && i < p->vols->n_dec; i++) {
        const kn_vol_dec *d = &p->vols->dec[i];
        const char *slash = strchr(d->claim, '/');
        char ns[300];
        snprintf(ns, sizeof(ns), "%.*s", slash ? (int)(slash - d->claim) : 0, d->claim);
        const kn_pvc *pvc = kn_vols_pvc(&s->c, ns, slash ? slash + 1 : d->claim);
        if (pvc == NULL) {
            snprintf(msg, cap,
                     "binding volumes: failed to check %s pvc: could not find v1.PersistentVolumeClaim \"%s\"",
                     d->pv ? "binding" : "provisioning", d->claim);
            return -1;
        }
        const char *vname = d->pv ? d->pv : pvc->volume_name;
        const kn_pv *pv = vname ? kn_vols_pv(&s->c, vname) : NULL;
        if (d->pv != NULL && pv == NULL) {
            snprintf(msg, cap,
                     "binding volumes: failed to check binding: could not find v1.PersistentVolume \"%s\"", d->pv);
            return -1;
        }
        if (d->pv == NULL && (pvc->selected_node == NULL || strcmp(pvc->selected_node, n->name) != 0)) {
            /* a provisioner that fails takes the annotation away to say so */
            snprintf(msg, cap, "binding volumes: provisioning failed for PVC \"%s\"", pvc->name);
            return -1;
        }
        if (pv != NULL && pv->affinity != NULL && !kn_node_selector_matches(n, pv->affinity)) {
            snprintf(msg, cap,
                     "binding volumes: pv \"%s\" node affinity doesn't match node \"%s\": no matching "
                     "NodeSelectorTerms",
                     pv->name, n->name);
            return -1;
        }
        if (d->pv != NULL && (pv->claim_name == NULL || pv->claim_uid == NULL)) {
            snprintf(msg, cap, "binding volumes: ClaimRef got reset for pv \"%s\"", pv->name);
            return -1;
        }
        if ((vname != NULL && pv == NULL) || !kn_pvc_bound(pvc))
            ready = 0;
    }
    return ready;
}

/* ---- reporting ---- */

/* Only deadlines after the last cycle: one already passed was handled by it
 * (a starving gang stays starving), and must not make the caller spin. */
double kn_sched_next_deadline(const kn_scheduler *s)
{
    double t = INFINITY;
    for (int i = 0; i < s->n_resvs; i++) {
        double d = s->resvs[i].created + s->resvs[i].timeout_s;
        if (s->resvs[i].live && d < t)
            t = d;
    }
    for (int i = 0; i < s->n_gangs; i++) {
        double d = s->gangs[i].ready_since + s->cfg.starvation_s;
        if (s->gangs[i].live && s->gangs[i].ready_since >= 0 && d > s->last_now && d < t)
            t = d;
    }
    return fmin(t, kn_preempt_next_deadline(s));
}

static bool is_gpu(const char *name)
{
    return strcmp(name, "nvidia.com/gpu") == 0 || strcmp(name, "amd.com/gpu") == 0;
}

void kn_sched_get_stats(const kn_scheduler *s, kn_sched_stats *st)
{
    const kn_cluster *c = &s->c;
    memset(st, 0, sizeof(*st));
    for (int i = 0; i < c->n_nodes; i++) {
        const kn_node *n = &c->nodes[i];
        if (!n->live)
            continue;
        st->nodes++;
        if (!n->ready || n->unschedulable)
            continue;
        st->cpu_milli_alloc += n->alloc.v[KN_R_CPU];
        st->cpu_milli_used += n->used.v[KN_R_CPU];
        st->memory_alloc += n->alloc.v[KN_R_MEMORY];
        st->memory_used += n->used.v[KN_R_MEMORY];
        for (int r = KN_R_FIRST_EXT; r < c->n_res; r++)
            if (is_gpu(c->res_names[r])) {
                st->gpu_alloc += n->alloc.v[r];
                st->gpu_used += n->used.v[r];
            }
    }
    for (int i = 0; i < c->n_pods; i++) {
        const kn_cpod *p = &c->pods[i];
        if (!p->live)
            continue;
        if (p->state == KN_POD_PENDING)
            st->pods_pending++;
        else if (p->state == KN_POD_ASSUMED)
            st->pods_assumed++;
        else
            st->pods_bound++;
    }
    for (int i = 0; i < s->n_gangs; i++) {
        const kn_gangrec *g = &s->gangs[i];
        if (!g->live)
            continue;
        bool pending = false;
        double since = 0;
        for (int m = 0; m < g->n; m++) {
            const kn_cpod *p = &c->pods[g->members[m]];
            if (p->state != KN_POD_PENDING)
                continue;
            pending = true;
            if (p->created > 0 && (since == 0 || p->created < since))
                since = p->created;
        }
        if (g->placed) {
            st->gangs_placed++;
        } else if (pending) {
            st->gangs_waiting++;
            if (since > 0 && (st->oldest_gang_waiting_since == 0 || since < st->oldest_gang_waiting_since))
                st->oldest_gang_waiting_since = since;
        }
    }
    for (int i = 0; i < s->n_resvs; i++)
        if (s->resvs[i].live) {
            st->reservations_held++;
            st->slots_held += (size_t)s->resvs[i].n_free;
        }
    st->attempts = s->attempts;
    st->scheduled = s->scheduled;
    st->unschedulable = s->unschedulable;
    st->bind_errors = s->bind_errors;
    st->reservations_timed_out = s->resv_timeouts;
    kn_preempt_stats(s, st);
    memcpy(st->numa_decisions, s->numa_decisions, sizeof(st->numa_decisions));
    memcpy(st->unsupported, s->unsupported, sizeof(st->unsupported));
}

static int cmp_seq(const void *a, const void *b, void *ctx)
{
    const kn_cluster *c = ctx;
    uint64_t x = c->pods[*(const int *)a].seq, y = c->pods[*(const int *)b].seq;
    return x < y ? -1 : x > y;
}

void kn_sched_each_pending(const kn_scheduler *s, kn_sched_pending_fn fn, void *ctx)
{
    const kn_cluster *c = &s->c;
    int *ids = malloc(sizeof(int) * (size_t)(c->n_pods + 1));
    if (ids == NULL)
        return;
    int n = 0;
    for (int i = 0; i < c->n_pods; i++)
        if (c->pods[i].live && c->pods[i].ours && c->pods[i].state == KN_POD_PENDING)
            ids[n++] = i;
    qsort_r(ids, (size_t)n, sizeof(int), cmp_seq, (void *)c);
    for (int i = 0; i < n; i++) {
        const kn_cpod *p = &c->pods[ids[i]];
        fn(ctx, p->ns, p->name,
           p->d && p->d->gated    ? "SchedulingGated"
           : p->d && p->d->reason ? p->d->reason
                                  : "");
    }
    free(ids);
}

const char *kn_sched_pending_reason(const kn_scheduler *s, const char *uid)
{
    int pi = kn_strmap_get(&s->c.pod_by_uid, uid);
    const kn_cpod *p = pi >= 0 ? &s->c.pods[pi] : NULL;
    if (p == NULL || !p->ours || p->state != KN_POD_PENDING)
        return NULL;
    return p->d && p->d->reason ? p->d->reason : "";
}

void kn_sched_each_reservation(const kn_scheduler *s, kn_sched_resv_fn fn, void *ctx)
{
    for (int i = 0; i < s->n_resvs; i++) {
        const kn_resv *r = &s->resvs[i];
        if (!r->live)
            continue;
        const char **nodes = malloc(sizeof(char *) * (size_t)(r->n_slots + 1));
        if (nodes == NULL)
            return;
        int n = 0;
        for (int k = 0; k < r->n_slots; k++)
            if (r->slots[k].node >= 0)
                nodes[n++] = s->c.nodes[r->slots[k].node].name;
        kn_sched_resv_info info = {.driver_ns = r->driver_ns,
                                   .driver_name = r->driver_name,
                                   .gang = s->gangs[r->gang].key,
                                   .slots = n,
                                   .slot_nodes = nodes,
                                   .expires = r->created + r->timeout_s,
                                   .restored = r->restored};
        fn(ctx, &info);
        free(nodes);
    }
}
