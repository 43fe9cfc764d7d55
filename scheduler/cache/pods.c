/* pods.c - the pod table: what each pod event changes (see cluster.h). */
#include "scheduler/cache/cluster.h"
#include "scheduler/cache/volumes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spark/numa.h"
#include "spark/sparkapp.h"
#include "base/grow.h"
#include "base/siphash.h"

#define KN_MAX_TIMEOUT_S (7 * 24 * 3600)

/* The pod's request as a vector; a resource the table cannot hold makes the
 * pod unplaceable (reported as Insufficient <name>) rather than ignored. */
static void req_vector(kn_cluster *c, const kn_resources *r, kn_rvec *v, char **unfit)
{
    memset(v, 0, sizeof(*v));
    v->v[KN_R_CPU] = r->cpu_milli;
    v->v[KN_R_MEMORY] = r->memory;
    v->v[KN_R_EPHEMERAL] = r->ephemeral_storage;
    v->v[KN_R_PODS] = r->pods;
    free(*unfit);
    *unfit = NULL;
    for (int i = 0; i < r->n_scalar; i++) {
        int idx = kn_res_index(c, r->scalar[i].name, true);
        if (idx >= 0)
            v->v[idx] = r->scalar[i].value;
        else if (r->scalar[i].value > 0 && *unfit == NULL)
            *unfit = strdup(r->scalar[i].name);
    }
}

static const char *s_or(const char *s)
{
    return s ? s : "";
}

static void set_bad(kn_pod_detail *d, const char *what, const kn_err *e)
{
    if (d->bad != NULL)
        return;
    size_t n = strlen(what) + strlen(e->msg) + 4;
    d->bad = malloc(n);
    if (d->bad)
        snprintf(d->bad, n, "%s: %s", what, e->msg);
}

/* {"podAffinity", "podAntiAffinity", "topologySpreadConstraints"} of p
 * (copies), for the slots of a driver's executors (NULL members left out). */
static kn_json *rel_spec(const kn_pod *p)
{
    kn_json *o = kn_json_new_object();
    if (o == NULL)
        return NULL;
    const kn_json *parts[3] = {p->pod_affinity, p->pod_anti_affinity, p->spread};
    static const char *const keys[3] = {"podAffinity", "podAntiAffinity", "topologySpreadConstraints"};
    for (int i = 0; i < 3; i++) {
        kn_json *v = parts[i] != NULL ? kn_json_clone(parts[i]) : NULL;
        if (parts[i] != NULL && (v == NULL || kn_json_set(o, keys[i], v) != 0)) {
            kn_json_free(v);
            kn_json_free(o);
            return NULL;
        }
    }
    return o;
}

/* What scheduling needs from a pending pod of ours. rerr: why its inter-pod
 * terms cannot be read, or NULL. */
static kn_pod_detail *make_detail(kn_cluster *c, const kn_pod *p, const kn_err *gerr, const kn_err *rerr)
{
    kn_pod_detail *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    kn_err e;
    if (gerr != NULL)
        set_bad(d, "invalid gang labels", gerr);
    if (rerr != NULL)
        set_bad(d, "invalid pod", rerr);
    kn_numa_spec numa;
    if (kn_numa_from_annotations(p->annotations, &numa, &e) != 0)
        set_bad(d, "invalid NUMA annotations", &e);
    else if (numa.policy != KN_NUMA_NONE && (d->numa = kn_numa_intern(c, &numa)) == NULL) {
        kn_pod_detail_free(c, d);
        return NULL;
    }
    const char *role = kn_pod_label(p, "spark-role");
    d->batch = role != NULL;
    d->spark_driver = role != NULL && strcmp(role, "driver") == 0;
    d->preempt_never = p->preempt_never;
    const char *resv = kn_pod_annotation(p, KN_EXECUTOR_RESERVATION_ANNOTATION);
    if (resv != NULL) {
        kn_json_limits lim = {.max_bytes = 64 * 1024, .max_depth = 8};
        d->reservation = kn_json_parse(resv, strlen(resv), &lim, &e);
        if (d->reservation == NULL)
            set_bad(d, "annotation " KN_EXECUTOR_RESERVATION_ANNOTATION, &e);
        d->rel_spec = rel_spec(p);
    }
    const char *to = kn_pod_annotation(p, KN_GANG_TIMEOUT_ANNOTATION);
    int secs;
    if (to != NULL) {
        if (kn_parse_positive_int(to, KN_MAX_TIMEOUT_S, &secs) == 0)
            d->timeout_s = secs;
        else {
            kn_err_set(&e, "\"%s\" is not a number of seconds in 1..%d", to, KN_MAX_TIMEOUT_S);
            set_bad(d, "annotation " KN_GANG_TIMEOUT_ANNOTATION, &e);
        }
    }
    d->fields = p->fields;
    d->gated = p->gated;
    kn_constraints cons;
    kn_constraints_view(&cons, p);
    if ((d->cons = kn_cons_intern(c, &cons)) == NULL) {
        kn_pod_detail_free(c, d);
        return NULL;
    }
    return d;
}

/* The rel of p: labels, namespace, controller and terms (one more
 * reference); NULL out of memory. *bad with why when its terms cannot be
 * read (the rel then holds none). */
static kn_rel *pod_rel(kn_cluster *c, const kn_pod *p, bool ours, bool *bad, kn_err *why)
{
    kn_lset *ls = kn_lset_from_json(&c->lab, p->labels, why);
    if (ls == NULL) {
        *bad = true;
        return NULL;
    }
    kn_pod_terms in = {.ns = p->ns,
                       .labels = ls,
                       .pod_affinity = p->pod_affinity,
                       .pod_anti_affinity = p->pod_anti_affinity,
                       .spread = p->spread,
                       .owner_kind = p->owner_kind,
                       .owner_uid = p->owner_uid,
                       .own = ours};
    kn_termset *ts = NULL;
    if (kn_termset_compile(c, &in, &ts, why) != 0) {
        *bad = ours; /* another scheduler's pod: it counts with what could be read */
        ts = NULL;
    }
    uint32_t ns = kn_dict_ref(&c->lab.dict, p->ns ? p->ns : "");
    uint32_t owner = kn_default_spread_owner(c, &in);
    kn_rel *r = ns != 0 ? kn_rel_get(c, ls, ns, owner, p->terminating, ts) : NULL;
    if (ns == 0) {
        kn_lset_unref(&c->lab, ls);
        kn_termset_unref(c, ts);
    }
    kn_dict_unref(&c->lab.dict, ns);
    kn_dict_unref(&c->lab.dict, owner);
    return r;
}

/* Gives the pod record rel (taken): a placed pod's counts move to it. */
static void set_rel(kn_cluster *c, kn_cpod *r, kn_rel *rel)
{
    kn_rel *old = r->alloc.rel;
    if (old == rel) {
        kn_rel_unref(c, rel);
        return;
    }
    if (r->state != KN_POD_PENDING && r->alloc.node >= 0) {
        if (old != NULL)
            kn_rel_occupy(c, old, r->alloc.node, -1);
        kn_rel_occupy(c, rel, r->alloc.node, 1);
        if (kn_rel_matters(old) || kn_rel_matters(rel))
            c->gen++; /* labels changed under a placed pod: terms may hold or fail anew */
    }
    r->alloc.rel = rel;
    kn_rel_unref(c, old);
}

/* The record's uid, namespace and name copied into one allocation, uid's:
 * the three live and die with the record. */
static bool set_names(kn_cpod *r, const kn_pod *p)
{
    size_t u = strlen(p->uid) + 1, n = strlen(p->ns) + 1, m = strlen(p->name) + 1;
    char *at = malloc(u + n + m);
    if (at == NULL)
        return false;
    r->uid = memcpy(at, p->uid, u);
    r->ns = memcpy(at + u, p->ns, n);
    r->name = memcpy(at + u + n, p->name, m);
    return true;
}

static int new_record(kn_cluster *c, const kn_pod *p)
{
    int i;
    if (c->n_free_pods > 0) {
        i = c->free_pods[--c->n_free_pods];
    } else {
        if (kn_grow((void **)&c->pods, &c->cap_pods, (size_t)c->n_pods + 1, sizeof(*c->pods)) != 0)
            return -1;
        i = c->n_pods++;
    }
    kn_cpod *r = &c->pods[i];
    memset(r, 0, sizeof(*r));
    r->gang = -1;
    r->alloc.node = -1;
    if (!set_names(r, p) || kn_strmap_put(&c->pod_by_uid, r->uid, i) != 0) {
        free(r->uid);
        r->uid = NULL; /* the slot stays dead */
        return -1;
    }
    r->live = true;
    r->seq = ++c->seq;
    r->alloc.owner = i;
    return i;
}

void kn_cluster_drop_pod(kn_cluster *c, int idx)
{
    kn_cpod *r = &c->pods[idx];
    if (!r->live)
        return;
    kn_strmap_del(&c->pod_by_uid, r->uid);
    kn_vols_pod_drop(c, idx);
    if (r->state != KN_POD_PENDING)
        kn_alloc_release(c, &r->alloc);
    kn_alloc_clear(&r->alloc);
    free(r->alloc.ports);
    free(r->uid); /* and ns and name */
    free(r->node_name);
    free(r->unfit_name);
    kn_labelset_free(&r->labels);
    kn_pod_detail_free(c, r->d);
    kn_cpod_restore_done(c, r);
    kn_rel_unref(c, r->alloc.rel);
    memset(r, 0, sizeof(*r));
    r->gang = -1;
    r->alloc.node = -1;
    if (kn_grow((void **)&c->free_pods, &c->cap_free_pods, (size_t)c->n_free_pods + 1, sizeof(*c->free_pods)) != 0)
        return; /* the slot is just not reused */
    c->free_pods[c->n_free_pods++] = idx;
    c->gen++;
}

/* The pod's host ports onto its record's alloc, before it is taken (a spec's
 * ports cannot change, so a taken alloc keeps the ones it was taken with).
 * -1 out of memory. */
static int alloc_ports(kn_cpod *r, const kn_pod *p)
{
    kn_host_port *ports = NULL;
    size_t bytes = sizeof(*ports) * (size_t)p->n_host_ports;
    if (p->n_host_ports > 0 && (ports = malloc(bytes)) == NULL)
        return -1;
    if (ports)
        memcpy(ports, p->host_ports, bytes);
    free(r->alloc.ports);
    r->alloc.ports = ports;
    r->alloc.n_ports = p->n_host_ports;
    return 0;
}

/* Counts a pod on the node the API server says it is bound to. */
static int bind_record(kn_cluster *c, kn_cpod *r, const kn_pod *p)
{
    int idx = (int)(r - c->pods);
    if (r->state != KN_POD_PENDING) {
        if (r->node_name && strcmp(r->node_name, p->node_name) == 0) {
            r->state = KN_POD_BOUND;
            kn_vols_unassume(c, idx); /* bound: the API server holds what we decided */
            return 0;
        }
        kn_vols_pod_uncount(c, idx);
        kn_vols_unassume(c, idx);
        kn_alloc_release(c, &r->alloc);
        kn_alloc_clear(&r->alloc);
        c->gen++;
    }
    int ni = kn_cluster_node_ref(c, p->node_name);
    char *nn = strdup(p->node_name);
    if (ni < 0 || nn == NULL) {
        free(nn);
        return -1;
    }
    free(r->node_name);
    r->node_name = nn;
    r->alloc.node = ni;
    r->alloc.owner = idx;
    kn_alloc_zones_from_csv(c, &r->alloc, kn_pod_annotation(p, KN_NUMA_ZONES_ANNOTATION));
    kn_alloc_take(c, &r->alloc);
    if (kn_rel_matters(r->alloc.rel))
        c->gen++; /* a pod's affinity to it may hold now */
    r->state = KN_POD_BOUND;
    if (r->vols != NULL && kn_vols_pod_count(c, idx, ni) != 0)
        return -1;
    return 0;
}

/* When the pod was bound: PodScheduled's lastTransitionTime, else its creation. */
static double bound_time(const kn_json *obj, double created)
{
    const kn_json *conds = kn_json_dig(obj, "status", "conditions", NULL);
    size_t n = kn_json_is(conds, KN_JSON_ARRAY) ? kn_json_len(conds) : 0;
    for (size_t i = 0; i < n; i++) {
        const kn_json *cd = kn_json_at(conds, i);
        const char *type = kn_json_get_str(cd, "type"), *st = kn_json_get_str(cd, "status");
        double t = kn_parse_rfc3339(kn_json_get_str(cd, "lastTransitionTime"));
        if (type && st && strcmp(type, "PodScheduled") == 0 && strcmp(st, "True") == 0 && t > 0)
            return t;
    }
    return created;
}

/* The API server says the pod is bound: count it there. A driver of ours
 * not bound by this process (a restart, a new leader) keeps what re-creating
 * its executor reservation needs. */
static int apply_bound(kn_cluster *c, kn_cpod *r, const kn_pod *p, double bound_at)
{
    kn_pod_state was = r->state;
    if (was == KN_POD_PENDING) {
        req_vector(c, &p->requests, &r->alloc.req, &r->unfit_name);
        if (alloc_ports(r, p) != 0)
            return -1;
    }
    int rc = was == KN_POD_BOUND ? 0 : bind_record(c, r, p);
    kn_pod_detail_free(c, r->d);
    r->d = NULL;
    if (rc == 0 && was == KN_POD_PENDING && r->ours && r->restore == NULL &&
        kn_pod_annotation(p, KN_EXECUTOR_RESERVATION_ANNOTATION) != NULL) {
        r->bound_at = bound_at;
        if ((r->restore = make_detail(c, p, NULL, NULL)) != NULL)
            c->n_restore++;
    }
    return rc;
}

/* A pending pod of ours, new or updated; old_rel: its rel before. */
static int apply_pending(kn_cluster *c, kn_cpod *r, const kn_pod *p, const kn_err *gerr, const kn_err *rerr,
                         const kn_rel *old_rel)
{
    kn_rvec req = r->alloc.req;
    req_vector(c, &p->requests, &r->alloc.req, &r->unfit_name);
    if (alloc_ports(r, p) != 0)
        return -1;
    kn_pod_detail *d = make_detail(c, p, gerr, rerr);
    if (d == NULL)
        return -1;
    kn_pod_detail *old = r->d;
    if (old) { /* an update: keep what we told the user so far, and its nomination */
        d->reason = old->reason;
        d->last_event = old->last_event;
        d->nom = old->nom;
        d->nominated = old->nominated;
        old->reason = NULL;
        /* a status-only update (a condition, a label that does not matter) is
         * no reason to try again before the cluster changes */
        if (memcmp(&req, &r->alloc.req, sizeof(req)) == 0 && d->cons == old->cons && d->numa == old->numa &&
            r->alloc.rel == old_rel && (d->reservation == NULL) == (old->reservation == NULL) &&
            (d->reservation == NULL || kn_json_equal(d->reservation, old->reservation)) &&
            d->timeout_s == old->timeout_s && d->bad == NULL && old->bad == NULL && d->fields == old->fields &&
            d->gated == old->gated)
            d->tried_gen = old->tried_gen;
        kn_pod_detail_free(c, old);
    }
    r->d = d;
    return 0;
}

/* What choosing and evicting a victim reads of a pod (see cluster.h). */
static int preemption_facts(kn_cluster *c, kn_cpod *r, const kn_pod *p)
{
    const char *role = kn_pod_label(p, KN_SPARK_ROLE_LABEL);
    r->terminating = p->terminating;
    r->driver =
        (role && strcmp(role, "driver") == 0) || kn_pod_annotation(p, KN_EXECUTOR_RESERVATION_ANNOTATION) != NULL;
    r->grace_s = p->grace_s;
    r->started = p->start_time;
    r->owner_pod =
        p->owner_kind && strcmp(p->owner_kind, "Pod") == 0 && p->owner_uid ? kn_keyhash_str(p->owner_uid) : 0;
    kn_labelset_free(&r->labels);
    return c->keep_labels ? kn_labelset_from_json(p->labels, &r->labels) : 0;
}

int kn_cluster_apply_pod(kn_cluster *c, const kn_json *obj, bool deleted, kn_pod_change *chg, kn_err *err)
{
    memset(chg, 0, sizeof(*chg));
    chg->idx = -1;
    const char *uid = KN_DIG_STR(obj, "metadata", "uid");
    if (uid == NULL || *uid == '\0')
        return kn_err_set(err, "Pod %s/%s: metadata.uid is missing",
                          s_or(KN_DIG_STR(obj, "metadata", "namespace")),
                          s_or(KN_DIG_STR(obj, "metadata", "name")));
    int i = kn_strmap_get(&c->pod_by_uid, uid);
    if (deleted) {
        if (i >= 0) {
            chg->idx = i;
            chg->removed = true;
        }
        return 0;
    }
    kn_pod p;
    if (kn_pod_from_json(obj, &p, err) != 0)
        return kn_err_prefix(err, "Pod %s/%s", s_or(KN_DIG_STR(obj, "metadata", "namespace")),
                             s_or(KN_DIG_STR(obj, "metadata", "name")));
    int rc = kn_cluster_apply_pod_model(c, &p, obj, chg, err);
    kn_pod_free(&p);
    return rc;
}

int kn_cluster_apply_pod_model(kn_cluster *c, const kn_pod *p, const kn_json *obj, kn_pod_change *chg, kn_err *err)
{
    memset(chg, 0, sizeof(*chg));
    chg->idx = -1;
    if (p->uid == NULL || *p->uid == '\0')
        return kn_err_set(err, "Pod %s/%s: metadata.uid is missing", s_or(p->ns), s_or(p->name));
    int i = kn_strmap_get(&c->pod_by_uid, p->uid);
    bool ours = strcmp(p->scheduler_name ? p->scheduler_name : "", c->scheduler_name) == 0;
    bool bound = p->node_name != NULL && *p->node_name != '\0';
    if (kn_pod_terminated(p) || (!bound && !ours)) {
        if (i >= 0) {
            chg->idx = i;
            chg->removed = true;
        }
        return 0;
    }
    kn_err gerr;
    bool gang_bad = kn_gang_from_pod(p->labels, p->annotations, &chg->gang, &gerr) != 0;
    if (gang_bad)
        chg->gang.present = false;
    if (i < 0 && (i = new_record(c, p)) < 0)
        return kn_err_set(err, "out of memory");
    kn_cpod *r = &c->pods[i];
    chg->idx = i;
    if (p->n_claims > 0 && kn_vols_pod_set(c, i, p) != 0)
        return kn_err_set(err, "out of memory");
    r->seen = true;
    r->ours = ours;
    r->priority = p->priority;
    if (p->priority < c->min_priority)
        c->min_priority = p->priority;
    r->created = kn_parse_rfc3339(p->creation_timestamp);
    if (preemption_facts(c, r, p) != 0)
        return kn_err_set(err, "out of memory");
    kn_err rerr;
    bool rel_bad = false;
    const kn_rel *old_rel = r->alloc.rel;
    kn_rel *rel = pod_rel(c, p, ours, &rel_bad, &rerr);
    if (rel != NULL)
        set_rel(c, r, rel);
    if (bound) {
        chg->placed_elsewhere =
            r->state == KN_POD_ASSUMED && r->node_name && strcmp(r->node_name, p->node_name) != 0;
        return apply_bound(c, r, p, bound_time(obj, r->created)) == 0 ? 0 : kn_err_set(err, "out of memory");
    }
    if (r->state != KN_POD_PENDING) /* our binding is in flight; the watch lags */
        return 0;
    return apply_pending(c, r, p, gang_bad ? &gerr : NULL, rel_bad ? &rerr : NULL, old_rel) == 0
               ? 0
               : kn_err_set(err, "out of memory");
}
