/* storage.c - simulate's storage objects and controllers' stand-in (see storage.h). */
#include "sim/storage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"
#include "base/strmap.h"
#include "kube/quantity.h"

/* kn_json_str of a nested member */
#define DIG(o, ...) kn_json_str(kn_json_dig((o), __VA_ARGS__, NULL))
#define ANN_SELECTED_NODE "volume.kubernetes.io/selected-node"
#define ANN_DEFAULT_CLASS "storageclass.kubernetes.io/is-default-class"

typedef struct docs {
    kn_json **d;
    char **key;
    int n;
    size_t cap, cap_key;
    kn_strmap by_key;
} docs;

struct kn_sim_storage {
    docs classes, pvs, pvcs;
    unsigned seq; /* uids and resourceVersions */
};

static void docs_free(docs *ds)
{
    for (int i = 0; i < ds->n; i++) {
        kn_json_free(ds->d[i]);
        free(ds->key[i]);
    }
    free(ds->d);
    free(ds->key);
    kn_strmap_free(&ds->by_key);
}

kn_sim_storage *kn_sim_storage_new(void)
{
    kn_sim_storage *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return NULL;
    kn_strmap_init(&st->classes.by_key);
    kn_strmap_init(&st->pvs.by_key);
    kn_strmap_init(&st->pvcs.by_key);
    return st;
}

void kn_sim_storage_free(kn_sim_storage *st)
{
    if (st == NULL)
        return;
    docs_free(&st->classes);
    docs_free(&st->pvs);
    docs_free(&st->pvcs);
    free(st);
}

bool kn_sim_storage_kind(const char *kind)
{
    static const char *const kinds[] = {"StorageClass", "PersistentVolume", "PersistentVolumeClaim", "CSINode"};
    for (size_t i = 0; kind && i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kind, kinds[i]) == 0)
            return true;
    return false;
}

/* Keeps doc (taken) under key; a document of the same key is replaced. */
static int keep(docs *ds, const char *key, kn_json *doc)
{
    int i = kn_strmap_get(&ds->by_key, key);
    if (i >= 0) {
        kn_json_free(ds->d[i]);
        ds->d[i] = doc;
        return 0;
    }
    char *k = strdup(key);
    if (k == NULL || kn_grow((void **)&ds->d, &ds->cap, (size_t)ds->n + 1, sizeof(*ds->d)) != 0 ||
        kn_grow((void **)&ds->key, &ds->cap_key, (size_t)ds->n + 1, sizeof(*ds->key)) != 0 ||
        kn_strmap_put(&ds->by_key, k, ds->n) != 0) {
        free(k);
        kn_json_free(doc);
        return -1;
    }
    ds->d[ds->n] = doc;
    ds->key[ds->n++] = k;
    return 0;
}

static kn_json *find(const docs *ds, const char *key)
{
    int i = kn_strmap_get(&ds->by_key, key);
    return i >= 0 ? ds->d[i] : NULL;
}

static kn_json *obj_at(kn_json *o, const char *key)
{
    kn_json *v = kn_json_get(o, key);
    if (v == NULL && kn_json_set(o, key, kn_json_new_object()) == 0)
        v = kn_json_get(o, key);
    return kn_json_is(v, KN_JSON_OBJECT) ? v : NULL;
}

/* A new resourceVersion on doc, as every write gets. */
static void stamp_rv(kn_sim_storage *st, kn_json *doc)
{
    char rv[24];
    snprintf(rv, sizeof(rv), "%u", ++st->seq);
    kn_json_set_str(obj_at(doc, "metadata"), "resourceVersion", rv);
}

static const char *s_or(const char *s, const char *d)
{
    return s ? s : d;
}

static int apply(kn_sim_storage *st, kn_scheduler *s, kn_json *doc, kn_err *err)
{
    const char *kind = kn_json_get_str(doc, "kind");
    stamp_rv(st, doc);
    kn_sched_kind k = strcmp(kind, "StorageClass") == 0            ? KN_SCHED_STORAGECLASSES
                      : strcmp(kind, "PersistentVolume") == 0      ? KN_SCHED_PVS
                      : strcmp(kind, "PersistentVolumeClaim") == 0 ? KN_SCHED_PVCS
                                                                   : KN_SCHED_CSINODES;
    return kn_sched_apply(s, k, doc, false, err);
}

int kn_sim_storage_load(kn_sim_storage *st, kn_scheduler *s, const kn_json *doc, kn_err *err)
{
    const char *kind = kn_json_get_str(doc, "kind");
    kn_json *d = kn_json_clone(doc), *md = d ? obj_at(d, "metadata") : NULL;
    const char *name = kn_json_get_str(md, "name");
    if (md == NULL)
        return kn_err_set(err, "out of memory");
    if (name == NULL || *name == '\0') {
        kn_json_free(d);
        return kn_err_set(err, "%s: metadata.name is missing", kind);
    }
    char key[600];
    if (strcmp(kind, "PersistentVolumeClaim") == 0) {
        char uid[40];
        if (kn_json_get_str(md, "namespace") == NULL)
            kn_json_set_str(md, "namespace", "default");
        snprintf(uid, sizeof(uid), "sim-pvc-%06u", ++st->seq);
        if (kn_json_get_str(md, "uid") == NULL)
            kn_json_set_str(md, "uid", uid);
        snprintf(key, sizeof(key), "%s/%s", kn_json_get_str(md, "namespace"), name);
        return keep(&st->pvcs, key, d) == 0 ? 0 : kn_err_set(err, "out of memory"); /* applied when settled */
    }
    if (strcmp(kind, "StorageClass") == 0 && kn_json_get_str(d, "volumeBindingMode") == NULL)
        kn_json_set_str(d, "volumeBindingMode", "Immediate");
    if (strcmp(kind, "PersistentVolume") == 0 && DIG(d, "status", "phase") == NULL)
        kn_json_set_str(obj_at(d, "status"), "phase",
                        kn_json_dig(d, "spec", "claimRef", NULL) ? "Bound" : "Available");
    if (apply(st, s, d, err) != 0) {
        kn_json_free(d);
        return -1;
    }
    if (strcmp(kind, "CSINode") == 0) {
        kn_json_free(d);
        return 0;
    }
    docs *ds = strcmp(kind, "StorageClass") == 0 ? &st->classes : &st->pvs;
    return keep(ds, name, d) == 0 ? 0 : kn_err_set(err, "out of memory");
}

/* The claim bound to volume pv, as the PV controller writes it. */
static int bind_claim(kn_sim_storage *st, kn_scheduler *s, kn_json *pvc, const char *pv, kn_err *err)
{
    kn_json *md = obj_at(pvc, "metadata"), *ann = md ? obj_at(md, "annotations") : NULL;
    kn_json *spec = obj_at(pvc, "spec"), *status = obj_at(pvc, "status");
    if (ann == NULL || spec == NULL || status == NULL ||
        kn_json_set_str(ann, "pv.kubernetes.io/bind-completed", "yes") != 0 ||
        kn_json_set_str(ann, "pv.kubernetes.io/bound-by-controller", "yes") != 0 ||
        kn_json_set_str(spec, "volumeName", pv) != 0 || kn_json_set_str(status, "phase", "Bound") != 0)
        return kn_err_set(err, "out of memory");
    return apply(st, s, pvc, err);
}

static kn_json *claim_ref(const kn_json *pvc)
{
    kn_json *ref = kn_json_new_object();
    const kn_json *md = kn_json_get(pvc, "metadata");
    kn_json_set_str(ref, "kind", "PersistentVolumeClaim");
    kn_json_set_str(ref, "apiVersion", "v1");
    kn_json_set_str(ref, "namespace", s_or(kn_json_get_str(md, "namespace"), ""));
    kn_json_set_str(ref, "name", s_or(kn_json_get_str(md, "name"), ""));
    kn_json_set_str(ref, "uid", s_or(kn_json_get_str(md, "uid"), ""));
    return ref;
}

/* A volume for the claim from its class's provisioner (on node: affinity to it). */
static int provision(kn_sim_storage *st, kn_scheduler *s, kn_json *pvc, const kn_json *sc, const char *node,
                     kn_err *err)
{
    const char *uid = DIG(pvc, "metadata", "uid"), *prov = kn_json_get_str(sc, "provisioner");
    const char *size = DIG(pvc, "spec", "resources", "requests", "storage");
    char name[128], handle[128];
    snprintf(name, sizeof(name), "pvc-%s", s_or(uid, ""));
    snprintf(handle, sizeof(handle), "vol-%s", s_or(uid, ""));
    kn_json *pv = kn_json_new_object(), *md = kn_json_new_object(), *spec = kn_json_new_object();
    kn_json *csi = kn_json_new_object(), *cap = kn_json_new_object(), *status = kn_json_new_object();
    const kn_json *modes = kn_json_dig(pvc, "spec", "accessModes", NULL);
    kn_json_set_str(pv, "apiVersion", "v1");
    kn_json_set_str(pv, "kind", "PersistentVolume");
    kn_json_set_str(md, "name", name);
    kn_json_set(pv, "metadata", md);
    kn_json_set_str(cap, "storage", s_or(size, "1Gi"));
    kn_json_set(spec, "capacity", cap);
    if (modes)
        kn_json_set(spec, "accessModes", kn_json_clone(modes));
    kn_json_set_str(spec, "storageClassName", s_or(kn_json_get_str(kn_json_get(sc, "metadata"), "name"), ""));
    kn_json_set_str(csi, "driver", s_or(prov, ""));
    kn_json_set_str(csi, "volumeHandle", handle);
    kn_json_set(spec, "csi", csi);
    kn_json_set(spec, "claimRef", claim_ref(pvc));
    if (node != NULL) {
        char text[600];
        snprintf(text, sizeof(text),
                 "{\"required\":{\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":"
                 "\"kubernetes.io/hostname\",\"operator\":\"In\",\"values\":[]}]}]}}");
        kn_json *aff = kn_json_parse(text, strlen(text), NULL, NULL);
        kn_json *vals = kn_json_get(
            kn_json_at(kn_json_get(kn_json_at(kn_json_dig(aff, "required", "nodeSelectorTerms", NULL), 0),
                                   "matchExpressions"),
                       0),
            "values");
        kn_json_append(vals, kn_json_new_string(node));
        kn_json_set(spec, "nodeAffinity", aff);
    }
    kn_json_set(pv, "spec", spec);
    kn_json_set_str(status, "phase", "Bound");
    kn_json_set(pv, "status", status);
    if (DIG(pv, "spec", "claimRef", "name") == NULL || apply(st, s, pv, err) != 0) {
        kn_json_free(pv);
        return err->msg[0] ? -1 : kn_err_set(err, "out of memory");
    }
    if (keep(&st->pvs, name, pv) != 0)
        return kn_err_set(err, "out of memory");
    return bind_claim(st, s, pvc, name, err);
}

static const kn_json *class_of(const kn_sim_storage *st, const kn_json *pvc)
{
    const char *cls = DIG(pvc, "spec", "storageClassName");
    return cls ? find(&st->classes, cls) : NULL;
}

static bool provisions(const kn_json *sc)
{
    const char *p = kn_json_get_str(sc, "provisioner");
    return p != NULL && *p && strcmp(p, "kubernetes.io/no-provisioner") != 0;
}

/* An Available volume for an Immediate claim (the PV controller's match:
 * the class, big enough, its access modes), the smallest; NULL: none. */
static kn_json *match(const kn_sim_storage *st, const kn_json *pvc)
{
    kn_json *best = NULL;
    int64_t want = 0, best_cap = 0, cap;
    const char *q = DIG(pvc, "spec", "resources", "requests", "storage");
    const char *cls = DIG(pvc, "spec", "storageClassName");
    if (q)
        kn_quantity_value(q, &want, NULL);
    for (int i = 0; i < st->pvs.n; i++) {
        kn_json *pv = st->pvs.d[i];
        const char *phase = DIG(pv, "status", "phase"), *c = DIG(pv, "spec", "capacity", "storage");
        if (kn_json_dig(pv, "spec", "claimRef", NULL) || !phase || strcmp(phase, "Available") != 0 ||
            strcmp(s_or(DIG(pv, "spec", "storageClassName"), ""), s_or(cls, "")) != 0 || c == NULL ||
            kn_quantity_value(c, &cap, NULL) != 0 || cap < want)
            continue;
        const kn_json *wm = kn_json_dig(pvc, "spec", "accessModes", NULL),
                      *hm = kn_json_dig(pv, "spec", "accessModes", NULL);
        bool modes = true;
        for (size_t k = 0; k < kn_json_len(wm) && modes; k++) {
            bool has = false;
            for (size_t j = 0; j < kn_json_len(hm) && !has; j++)
                has = strcmp(s_or(kn_json_str(kn_json_at(wm, k)), ""),
                             s_or(kn_json_str(kn_json_at(hm, j)), "-")) == 0;
            modes = has;
        }
        if (modes && (best == NULL || cap < best_cap)) {
            best = pv;
            best_cap = cap;
        }
    }
    return best;
}

/* The volume pv claimed by the claim (the claimRef written), re-applied. */
static int claim_volume(kn_sim_storage *st, kn_scheduler *s, kn_json *pv, const kn_json *pvc, kn_err *err)
{
    kn_json *spec = obj_at(pv, "spec"), *status = obj_at(pv, "status");
    if (spec == NULL || status == NULL || kn_json_set(spec, "claimRef", claim_ref(pvc)) != 0 ||
        kn_json_set_str(status, "phase", "Bound") != 0)
        return kn_err_set(err, "out of memory");
    return apply(st, s, pv, err);
}

static const char *default_class(const kn_sim_storage *st)
{
    for (int i = 0; i < st->classes.n; i++)
        if (strcmp(s_or(DIG(st->classes.d[i], "metadata", "annotations", ANN_DEFAULT_CLASS), ""), "true") == 0)
            return DIG(st->classes.d[i], "metadata", "name");
    return NULL;
}

/* Claim i as the API server and the PV controller leave it before any pod. */
static int settle_claim(kn_sim_storage *st, kn_scheduler *s, int i, const char *dflt, kn_err *err)
{
    kn_json *pvc = st->pvcs.d[i], *spec = obj_at(pvc, "spec");
    if (spec == NULL)
        return kn_err_set(err, "out of memory");
    if (kn_json_get(spec, "storageClassName") == NULL && dflt != NULL)
        kn_json_set_str(spec, "storageClassName", dflt);
    const char *vol = kn_json_get_str(spec, "volumeName");
    const kn_json *sc = class_of(st, pvc);
    const char *mode = kn_json_get_str(sc, "volumeBindingMode");
    bool wffc = mode && strcmp(mode, "WaitForFirstConsumer") == 0;
    const char *node = DIG(pvc, "metadata", "annotations", ANN_SELECTED_NODE);
    kn_json *pv = vol ? find(&st->pvs, vol) : NULL;
    int rc = 0;
    if (pv != NULL) {
        if (kn_json_dig(pv, "spec", "claimRef", NULL) == NULL)
            rc = claim_volume(st, s, pv, pvc, err);
        if (rc == 0)
            rc = bind_claim(st, s, pvc, vol, err);
    } else if (vol == NULL && !wffc && sc != NULL && (pv = match(st, pvc)) != NULL) {
        rc = claim_volume(st, s, pv, pvc, err);
        if (rc == 0)
            rc = bind_claim(st, s, pvc, DIG(pv, "metadata", "name"), err);
    } else if (vol == NULL && sc != NULL && provisions(sc) && (!wffc || node != NULL)) {
        rc = provision(st, s, pvc, sc, wffc ? node : NULL, err);
    } else {
        rc = apply(st, s, pvc, err);
    }
    return rc != 0 ? kn_err_prefix(err, "PersistentVolumeClaim %s", st->pvcs.key[i]) : 0;
}

int kn_sim_storage_settle(kn_sim_storage *st, kn_scheduler *s, kn_err *err)
{
    const char *dflt = default_class(st);
    for (int i = 0; i < st->pvcs.n; i++)
        if (settle_claim(st, s, i, dflt, err) != 0)
            return -1;
    return 0;
}

int kn_sim_storage_create(kn_sim_storage *st, kn_scheduler *s, const kn_json *pvc, kn_err *err)
{
    int before = st->pvcs.n;
    if (kn_sim_storage_load(st, s, pvc, err) != 0)
        return -1;
    int i = st->pvcs.n > before ? st->pvcs.n - 1 : before - 1;
    const char *ns = DIG(pvc, "metadata", "namespace"), *name = DIG(pvc, "metadata", "name");
    char key[600];
    snprintf(key, sizeof(key), "%s/%s", s_or(ns, "default"), s_or(name, ""));
    if ((i = kn_strmap_get(&st->pvcs.by_key, key)) < 0)
        return kn_err_set(err, "claim %s not kept", key);
    return settle_claim(st, s, i, default_class(st), err);
}

int kn_sim_storage_bind(kn_sim_storage *st, kn_scheduler *s, const kn_sched_binding *b, kn_err *err)
{
    for (int k = 0; k < b->n_vsteps; k++) {
        const kn_sched_vstep *v = &b->vsteps[k];
        const char *last = strrchr(v->path, '/');
        char key[600];
        if (last == NULL)
            continue;
        if (v->pv) {
            kn_json *body = kn_json_parse(v->body, strlen(v->body), NULL, err);
            snprintf(key, sizeof(key), "%s/%s", s_or(DIG(body, "spec", "claimRef", "namespace"), ""),
                     s_or(DIG(body, "spec", "claimRef", "name"), ""));
            kn_json_free(body);
            kn_json *pvc = find(&st->pvcs, key), *pv = find(&st->pvs, last + 1);
            if (pvc == NULL || pv == NULL || claim_volume(st, s, pv, pvc, err) != 0 ||
                bind_claim(st, s, pvc, last + 1, err) != 0)
                return pvc && pv ? -1 : kn_err_set(err, "volume %s or claim %s unknown", last + 1, key);
            continue;
        }
        snprintf(key, sizeof(key), "%s/%s", b->ns, last + 1);
        kn_json *pvc = find(&st->pvcs, key), *ann = pvc ? obj_at(obj_at(pvc, "metadata"), "annotations") : NULL;
        const kn_json *sc = pvc ? class_of(st, pvc) : NULL;
        if (ann == NULL || sc == NULL || kn_json_set_str(ann, ANN_SELECTED_NODE, b->node) != 0 ||
            provision(st, s, pvc, sc, b->node, err) != 0)
            return err->msg[0] ? -1 : kn_err_set(err, "claim %s unknown", key);
    }
    return 0;
}
