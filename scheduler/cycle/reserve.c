/* reserve.c - executor slots held for a Spark driver (see core.h).
 *
 * The driver's annotation scheduling.kubenexus.io/executor-reservation:
 *   {"count": N, "requests": {"cpu":"1","memory":"896Mi"},
 *    "numa": {"policy": "single-numa", "resources": "cpu,memory"},       (optional)
 *    "nodeSelector": {...}, "tolerations": [...], "affinity": {...}}      (optional)
 * The slots are filtered with the reservation's nodeSelector/tolerations/
 * affinity when it has any, else with the driver's own. Each slot stands for
 * the executor it is held for: it carries that executor's labels (the
 * annotation's optional "labels", the executors' own labels as the webhook
 * read them, else the driver's; with the labels Spark and the operator put on
 * every pod of the app, taken from the driver, and spark-role=executor) and
 * its inter-pod terms (the annotation's affinity and optional
 * topologySpreadConstraints when it carries placement members, else the
 * driver's), so slots are placed apart or together as the executors would
 * be, count for other slots and pods as the executors will, and an executor
 * that comes later fits the slot it takes. A slot holds its room
 * on its node (and zones) until an executor of the gang takes it (the
 * executor is then placed with its own spec on that node) or until the
 * gang's timeout (annotation pod-group.scheduling.kubenexus.io/timeout-seconds
 * on the driver, else its coscheduling PodGroup's scheduleTimeoutSeconds,
 * default 600 s) releases the rest with a GangTimeout event. */
#include "scheduler/cycle/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"
#include "kube/quantity.h"

static int parse_numa(const kn_json *numa, kn_numa_spec *out, kn_err *err)
{
    memset(out, 0, sizeof(*out));
    if (numa == NULL)
        return 0;
    kn_json *ann = kn_json_new_object();
    if (ann == NULL)
        return kn_err_set(err, "out of memory");
    const char *pol = kn_json_get_str(numa, "policy");
    const char *res = kn_json_get_str(numa, "resources");
    int rc = 0;
    if (pol == NULL)
        rc = kn_err_set(err, "numa.policy: missing");
    if (rc == 0 && kn_json_set_str(ann, KN_NUMA_POLICY_ANNOTATION, pol) != 0)
        rc = kn_err_set(err, "out of memory");
    if (rc == 0 && res != NULL && kn_json_set_str(ann, KN_NUMA_RESOURCES_ANNOTATION, res) != 0)
        rc = kn_err_set(err, "out of memory");
    if (rc == 0 && kn_numa_from_annotations(ann, out, err) != 0)
        rc = kn_err_prefix(err, "numa");
    kn_json_free(ann);
    return rc;
}

/* A pod object carrying only the slots' placement constraints. */
static int parse_template(const kn_json *rj, const kn_cpod *driver, kn_resv_spec *out, kn_err *err)
{
    const kn_json *sel = kn_json_get(rj, "nodeSelector");
    const kn_json *tol = kn_json_get(rj, "tolerations");
    const kn_json *aff = kn_json_get(rj, "affinity");
    if (!sel && !tol && !aff)
        return 0;
    kn_json *pod = kn_json_new_object(), *meta = kn_json_new_object(), *spec = kn_json_new_object();
    kn_json *ctrs = kn_json_new_array(), *ctr = kn_json_new_object();
    int rc = -1;
    if (pod && meta && spec && ctrs && ctr && kn_json_set_str(meta, "name", driver->name) == 0 &&
        kn_json_set_str(meta, "namespace", driver->ns) == 0 && kn_json_set_str(meta, "uid", "slot") == 0 &&
        kn_json_set_str(ctr, "name", "executor") == 0 && kn_json_append(ctrs, ctr) == 0) {
        ctr = NULL;
        rc = kn_json_set(spec, "containers", ctrs);
        ctrs = NULL;
        if (rc == 0 && sel)
            rc = kn_json_set(spec, "nodeSelector", kn_json_clone(sel));
        if (rc == 0 && tol)
            rc = kn_json_set(spec, "tolerations", kn_json_clone(tol));
        if (rc == 0 && aff)
            rc = kn_json_set(spec, "affinity", kn_json_clone(aff));
        if (rc == 0)
            rc = kn_json_set(pod, "metadata", meta);
        meta = NULL;
        if (rc == 0)
            rc = kn_json_set(pod, "spec", spec);
        spec = NULL;
    }
    kn_json_free(meta);
    kn_json_free(spec);
    kn_json_free(ctrs);
    kn_json_free(ctr);
    if (rc != 0) {
        kn_json_free(pod);
        return kn_err_set(err, "out of memory");
    }
    kn_pod tmpl;
    rc = kn_pod_from_json(pod, &tmpl, err);
    kn_json_free(pod);
    if (rc != 0)
        return -1;
    out->unsupported = kn_unsupported_field(tmpl.fields);
    kn_constraints_take(&out->tmpl, &tmpl);
    kn_pod_free(&tmpl);
    out->has_tmpl = true;
    if ((out->tmpl_sig = kn_pod_sig(&out->tmpl)) == NULL)
        return kn_err_set(err, "out of memory");
    return 0;
}

/* storageClasses: ["gp3", ...], the classes of claims each executor has provisioned. */
static int parse_classes(const kn_json *arr, kn_resv_spec *out, kn_err *err)
{
    if (arr == NULL)
        return 0;
    if (!kn_json_is(arr, KN_JSON_ARRAY) || kn_json_len(arr) > KN_VOL_MAX_CLAIMS)
        return kn_err_set(err, "storageClasses: want an array of at most %d class names", KN_VOL_MAX_CLAIMS);
    size_t n = kn_json_len(arr);
    if (n == 0)
        return 0;
    if ((out->classes = calloc(n, sizeof(char *))) == NULL)
        return kn_err_set(err, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *name = kn_json_str(kn_json_at(arr, i));
        if (name == NULL)
            return kn_err_set(err, "storageClasses[%zu]: want a class name", i);
        if ((out->classes[out->n_classes++] = strdup(name)) == NULL)
            return kn_err_set(err, "out of memory");
    }
    return 0;
}

/* The labels of the executors: the annotation's, else the driver's; then
 * what Spark and the operator give every pod of the app, and spark-role. */
static kn_json *slot_labels(kn_cluster *c, const kn_cpod *driver, const kn_json *rj, kn_err *err)
{
    const kn_json *given = kn_json_get(rj, "labels");
    const kn_lset *dl = driver->alloc.rel != NULL ? driver->alloc.rel->lset : c->lab.empty;
    kn_json *l = NULL;
    if (given != NULL) {
        for (size_t i = 0; kn_json_is(given, KN_JSON_OBJECT) && i < kn_json_len(given); i++)
            if (!kn_json_is(kn_json_value_at(given, i), KN_JSON_STRING))
                given = NULL;
        if (!kn_json_is(given, KN_JSON_OBJECT)) {
            kn_err_set(err, "labels: want an object of strings");
            return NULL;
        }
        l = kn_json_clone(given);
    } else if ((l = kn_json_new_object()) != NULL) {
        for (uint32_t i = 0; i < dl->n; i++)
            kn_json_set_str(l, kn_dict_str(&c->lab.dict, dl->p[i].k), kn_dict_str(&c->lab.dict, dl->p[i].v));
    }
    static const char *const app_keys[] = {KN_SPARK_APP_SELECTOR_LABEL, KN_SPARK_APP_NAME_LABEL,
                                           KN_SPARK_VERSION_LABEL,      KN_SPARKOP_APP_NAME_LABEL,
                                           KN_SPARKOP_LAUNCHED_LABEL,   KN_SPARKOP_SUBMISSION_ID_LABEL};
    for (size_t i = 0; l != NULL && i < sizeof(app_keys) / sizeof(app_keys[0]); i++) {
        uint32_t k = kn_dict_find(&c->lab.dict, app_keys[i]);
        uint32_t v = k ? kn_lset_get(dl, k) : 0;
        if (v != 0 && kn_json_set_str(l, app_keys[i], kn_dict_str(&c->lab.dict, v)) != 0) {
            kn_json_free(l);
            l = NULL;
        }
    }
    if (l == NULL || kn_json_set_str(l, KN_SPARK_ROLE_LABEL, "executor") != 0) {
        kn_json_free(l);
        kn_err_set(err, "out of memory");
        return NULL;
    }
    return l;
}

static bool has_placement(const kn_json *rj)
{
    return kn_json_get(rj, "nodeSelector") || kn_json_get(rj, "tolerations") || kn_json_get(rj, "affinity") ||
           kn_json_get(rj, "topologySpreadConstraints");
}

/* What a slot counts as and is placed with (see the top of this file). */
static int slot_rel(kn_cluster *c, const kn_cpod *driver, const kn_pod_detail *d, const kn_json *rj,
                    kn_resv_spec *out, kn_err *err)
{
    kn_json *labels = slot_labels(c, driver, rj, err);
    if (labels == NULL)
        return -1;
    kn_lset *ls = kn_lset_from_json(&c->lab, labels, err);
    kn_json_free(labels);
    if (ls == NULL)
        return kn_err_prefix(err, "labels");
    const kn_json *src = has_placement(rj) ? rj : d->rel_spec;
    const kn_json *aff = has_placement(rj) ? kn_json_get(rj, "affinity") : d->rel_spec;
    const kn_json *spread = kn_json_get(src, "topologySpreadConstraints");
    if (spread != NULL && !kn_json_is(spread, KN_JSON_ARRAY)) {
        kn_lset_unref(&c->lab, ls);
        return kn_err_set(err, "topologySpreadConstraints: want an array");
    }
    kn_pod_terms in = {.ns = driver->ns,
                       .labels = ls,
                       .pod_affinity = kn_json_get(aff, "podAffinity"),
                       .pod_anti_affinity = kn_json_get(aff, "podAntiAffinity"),
                       .spread = spread,
                       .own = true};
    kn_termset *ts = NULL;
    if (kn_termset_compile(c, &in, &ts, err) != 0) {
        kn_lset_unref(&c->lab, ls);
        return -1;
    }
    uint32_t ns = kn_dict_ref(&c->lab.dict, driver->ns);
    out->rel = ns != 0 ? kn_rel_get(c, ls, ns, 0, false, ts) : NULL;
    if (ns == 0) {
        kn_lset_unref(&c->lab, ls);
        kn_termset_unref(c, ts);
    }
    kn_dict_unref(&c->lab.dict, ns);
    return out->rel != NULL ? 0 : kn_err_set(err, "out of memory");
}

int kn_resv_spec_parse(kn_cluster *c, const kn_cpod *driver, const kn_pod_detail *d, kn_resv_spec *out,
                       kn_err *err)
{
    memset(out, 0, sizeof(*out));
    out->unsupported = -1;
    const kn_json *rj = d->reservation;
    int64_t count;
    if (!kn_json_is(rj, KN_JSON_OBJECT))
        return kn_err_set(err, "want a JSON object");
    if (kn_json_int(kn_json_get(rj, "count"), &count) != 0 || count < 0 || count > KN_GANG_MAX_MEMBERS)
        return kn_err_set(err, "count: want an integer 0..%d", KN_GANG_MAX_MEMBERS);
    out->count = (int)count;
    if (kn_rvec_from_list(c, kn_json_get(rj, "requests"), &out->req, err) != 0)
        return kn_err_prefix(err, "requests");
    out->req.v[KN_R_PODS] = 1;
    if (parse_numa(kn_json_get(rj, "numa"), &out->numa, err) != 0)
        return -1;
    for (int i = 0; i < out->numa.n_resources; i++)
        out->numa_idx[i] = kn_res_index(c, out->numa.resources[i], true);
    if (parse_classes(kn_json_get(rj, "storageClasses"), out, err) != 0)
        return -1;
    return parse_template(rj, driver, out, err) != 0 ? -1 : slot_rel(c, driver, d, rj, out, err);
}

void kn_resv_spec_free(kn_cluster *c, kn_resv_spec *sp)
{
    if (sp->has_tmpl)
        kn_constraints_free(&sp->tmpl);
    sp->has_tmpl = false;
    for (int i = 0; i < sp->n_classes; i++)
        free(sp->classes[i]);
    free(sp->classes);
    sp->classes = NULL;
    sp->n_classes = 0;
    free(sp->tmpl_sig);
    sp->tmpl_sig = NULL;
    kn_rel_unref(c, sp->rel);
    sp->rel = NULL;
}

double kn_gang_timeout(const kn_scheduler *s, const kn_cpod *p, const kn_pod_detail *d)
{
    if (d != NULL && d->timeout_s > 0)
        return d->timeout_s;
    const kn_gangrec *g = p->gang >= 0 ? &s->gangs[p->gang] : NULL;
    const kn_pgrec *pg =
        g && g->kind != KN_GANG_LABELS ? kn_cluster_podgroup(&s->c, g->kind, g->ns, g->name) : NULL;
    return pg != NULL && pg->timeout_s > 0 ? pg->timeout_s : s->cfg.gang_timeout_s;
}

/* The driver's newest reservation is ri; the one it replaces in the map, if
 * any, is kept in r->older. */
static int index_add(kn_scheduler *s, int ri)
{
    kn_resv *r = &s->resvs[ri];
    r->older = kn_strmap_get(&s->resv_by_driver, r->driver_uid);
    return kn_strmap_put(&s->resv_by_driver, r->driver_uid, ri); /* an equal key: its pointer replaced too */
}

/* Takes ri out of its driver's chain of live reservations. */
static void index_remove(kn_scheduler *s, int ri)
{
    const kn_resv *r = &s->resvs[ri];
    int newest = kn_strmap_get(&s->resv_by_driver, r->driver_uid);
    if (newest != ri) {
        for (int i = newest; i >= 0; i = s->resvs[i].older)
            if (s->resvs[i].older == ri) {
                s->resvs[i].older = r->older;
                break;
            }
        return;
    }
    kn_strmap_del(&s->resv_by_driver, r->driver_uid);
    /* out of memory here leaves the older one to its timeout */
    if (r->older >= 0)
        kn_strmap_put(&s->resv_by_driver, s->resvs[r->older].driver_uid, r->older);
}

int kn_resv_of_driver(const kn_scheduler *s, const char *uid)
{
    return kn_strmap_get(&s->resv_by_driver, uid);
}

void kn_resv_release_driver(kn_scheduler *s, const char *uid)
{
    for (int ri; (ri = kn_resv_of_driver(s, uid)) >= 0;)
        kn_resv_release(s, ri);
}

int kn_resv_create(kn_scheduler *s, int gang, const kn_cpod *driver, kn_alloc *slots, int n, kn_rel *rel,
                   double created)
{
    if (kn_grow((void **)&s->resvs, &s->cap_resvs, (size_t)s->n_resvs + 1, sizeof(*s->resvs)) != 0)
        return -1;
    kn_resv *r = &s->resvs[s->n_resvs];
    memset(r, 0, sizeof(*r));
    r->driver_uid = strdup(driver->uid);
    r->driver_ns = strdup(driver->ns);
    r->driver_name = strdup(driver->name);
    if (!r->driver_uid || !r->driver_ns || !r->driver_name || index_add(s, s->n_resvs) != 0) {
        free(r->driver_uid);
        free(r->driver_ns);
        free(r->driver_name);
        return -1;
    }
    r->live = true;
    r->gang = gang;
    r->rel = rel;
    kn_rel_hold(rel);
    r->slots = slots;
    r->n_slots = r->n_free = n;
    r->created = created;
    r->timeout_s = kn_gang_timeout(s, driver, driver->d);
    const kn_pod_detail *dd = driver->d ? driver->d : driver->restore;
    if (dd && dd->reservation && dd->cons && (r->annotation = kn_json_clone(dd->reservation)) != NULL) {
        r->cons = dd->cons;
        r->cons->refs++;
    }
    s->gangs[gang].resv = s->n_resvs;
    return s->n_resvs++;
}

void kn_resv_release(kn_scheduler *s, int ri)
{
    kn_resv *r = &s->resvs[ri];
    if (!r->live)
        return;
    for (int i = 0; i < r->n_slots; i++) {
        kn_alloc_release(&s->c, &r->slots[i]);
        kn_alloc_clear(&r->slots[i]);
    }
    kn_rel_unref(&s->c, r->rel);
    free(r->slots);
    index_remove(s, ri);
    kn_json_free(r->annotation);
    kn_cons_release(&s->c, r->cons);
    free(r->driver_uid);
    free(r->driver_ns);
    free(r->driver_name);
    if (r->gang >= 0 && s->gangs[r->gang].resv == ri)
        s->gangs[r->gang].resv = -1;
    memset(r, 0, sizeof(*r));
    s->c.gen++;
}

void kn_resv_expire(const kn_cycle *cy)
{
    kn_scheduler *s = cy->s;
    for (int i = 0; i < s->n_resvs; i++) {
        kn_resv *r = &s->resvs[i];
        if (!r->live || cy->now < r->created + r->timeout_s)
            continue;
        kn_out_event(
            cy->out, r->driver_ns, r->driver_name, r->driver_uid, "Warning", "GangTimeout",
            "Released %d unused executor slot(s) of gang %s after %.0fs: executors did not arrive in time",
            r->n_free, s->gangs[r->gang].key, r->timeout_s);
        s->resv_timeouts++;
        kn_resv_release(s, i);
    }
}

bool kn_resv_take(const kn_cycle *cy, int ri, int p)
{
    kn_scheduler *s = cy->s;
    kn_resv *r = &s->resvs[ri];
    kn_want w;
    kn_vol_want *v;
    char msg[KN_MSG_MAX];
    kn_want_for_pod(s, &s->c.pods[p], &w);
    if (kn_want_volumes(s, p, &w, &v, msg, sizeof(msg)) != 0)
        return false; /* placed one by one, it is told why */
    bool placed = false;
    for (int i = 0; i < r->n_slots && !placed; i++) {
        kn_alloc *slot = &r->slots[i];
        if (slot->node < 0)
            continue;
        kn_alloc_release(&s->c, slot); /* the executor gets the slot's room */
        kn_diag d;
        kn_diag_init(&d);
        kn_choice ch;
        if (!kn_place_on_node(&s->c, slot->node, &w, &ch, &d)) {
            kn_alloc_take(&s->c, slot);
            continue;
        }
        if (kn_commit_pod(cy, p, &ch, v) != 0) {
            if (s->c.pods[p].state == KN_POD_PENDING)
                kn_pod_release(s, p);
            kn_alloc_take(&s->c, slot);
            break;
        }
        kn_alloc_clear(slot);
        if (--r->n_free == 0)
            kn_resv_release(s, ri);
        placed = true;
    }
    kn_vol_want_free(v);
    return placed;
}
