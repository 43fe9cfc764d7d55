/* volumes.c - claims, volumes, classes and CSINodes as watched, and what
 * pods counted on nodes take of them (see volumes.h). */
#include "scheduler/cache/volumes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"
#include "kube/quantity.h"

enum { T_PVC, T_PV, T_CLASS, T_CSINODE };

static const char *s_or(const char *s)
{
    return s ? s : "";
}

static bool set_str(char **dst, const char *src)
{
    char *d = src ? strdup(src) : NULL;
    if (src && !d)
        return false;
    free(*dst);
    *dst = d;
    return true;
}

/* ---- the tables ---- */

static void pvc_free(kn_pvc *r)
{
    char **strs[] = {&r->key,        &r->ns,          &r->name,          &r->uid,       &r->rv,
                     &r->class_name, &r->volume_name, &r->selected_node, &r->owner_uid, &r->assumed_node};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        free(*strs[i]);
    kn_json_free(r->selector);
    free(r);
}

static void pv_clear_object(kn_pv *r)
{
    char **strs[] = {&r->uid,        &r->rv,        &r->class_name, &r->claim_ns,
                     &r->claim_name, &r->claim_uid, &r->csi_driver, &r->csi_handle};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
    kn_json_free(r->labels);
    kn_json_free(r->affinity);
    r->labels = r->affinity = NULL;
}

static void pv_free(kn_pv *r)
{
    pv_clear_object(r);
    free(r->name);
    free(r->assumed_claim);
    free(r->assumed_uid);
    free(r);
}

static void class_free(kn_sclass *r)
{
    free(r->name);
    free(r->provisioner);
    kn_json_free(r->topologies);
    free(r);
}

/* Counts (by +1 or -1) a CSINode's limits per driver. */
static void limits_count(struct kn_vols *v, const kn_csinode *r, int by)
{
    for (int i = 0; i < r->n; i++)
        if ((size_t)r->limits[i].driver < v->cap_limited)
            v->limited[r->limits[i].driver] += by;
}

static void csinode_free(kn_csinode *r)
{
    free(r->name);
    free(r->limits);
    free(r);
}

static void rec_free(int type, void *r)
{
    if (r == NULL)
        return;
    if (type == T_PVC)
        pvc_free(r);
    else if (type == T_PV)
        pv_free(r);
    else if (type == T_CLASS)
        class_free(r);
    else
        csinode_free(r);
}

static const char *rec_key(int type, const void *r)
{
    return type == T_PVC     ? ((const kn_pvc *)r)->key
           : type == T_PV    ? ((const kn_pv *)r)->name
           : type == T_CLASS ? ((const kn_sclass *)r)->name
                             : ((const kn_csinode *)r)->name;
}

static void *vt_get(const kn_vtab *t, const char *key)
{
    int i = kn_strmap_get(&t->by_key, key);
    return i >= 0 ? t->rec[i] : NULL;
}

/* Inserts r (its key inside it); 0 or -1 out of memory (r not taken). */
static int vt_put(kn_vtab *t, int type, void *r)
{
    int i;
    for (i = 0; i < t->n && t->rec[i] != NULL; i++)
        ;
    if (kn_grow((void **)&t->rec, &t->cap, (size_t)i + 1, sizeof(*t->rec)) != 0 ||
        kn_strmap_put(&t->by_key, rec_key(type, r), i) != 0)
        return -1;
    t->rec[i] = r;
    if (i == t->n)
        t->n++;
    return 0;
}

static void vt_del(kn_vtab *t, int type, void *r)
{
    int i = kn_strmap_get(&t->by_key, rec_key(type, r));
    kn_strmap_del(&t->by_key, rec_key(type, r));
    if (i >= 0)
        t->rec[i] = NULL;
    rec_free(type, r);
}

static void vt_free(kn_vtab *t, int type)
{
    for (int i = 0; i < t->n; i++)
        rec_free(type, t->rec[i]);
    free(t->rec);
    kn_strmap_free(&t->by_key);
}

static void pod_vols_free(kn_pod_vols *pv)
{
    if (pv == NULL)
        return;
    for (int i = 0; i < pv->n; i++) {
        free(pv->claims[i].volume);
        free(pv->claims[i].claim);
    }
    free(pv->claims);
    for (int i = 0; i < pv->n_att; i++)
        free(pv->att[i].handle);
    free(pv->att);
    for (int i = 0; i < pv->n_dec; i++) {
        free(pv->dec[i].claim);
        free(pv->dec[i].pv);
    }
    free(pv->dec);
    free(pv);
}

static void vols_free(kn_cluster *c)
{
    struct kn_vols *v = c->vols;
    for (int i = 0; i < c->n_pods; i++) {
        pod_vols_free(c->pods[i].vols);
        c->pods[i].vols = NULL;
    }
    if (v == NULL)
        return;
    vt_free(&v->pvcs, T_PVC);
    vt_free(&v->pvs, T_PV);
    vt_free(&v->classes, T_CLASS);
    vt_free(&v->csinodes, T_CSINODE);
    for (int i = 0; i < v->n_drivers; i++)
        free(v->drivers[i]);
    free(v->drivers);
    free(v->limited);
    kn_strmap_free(&v->driver_by_name);
    for (size_t i = 0; i < v->cap_att; i++) {
        for (int j = 0; j < v->att[i].n; j++)
            free(v->att[i].a[j].handle);
        free(v->att[i].a);
    }
    free(v->att);
    free(v);
    c->vols = NULL;
}

static struct kn_vols *vols_of(kn_cluster *c)
{
    if (c->vols != NULL)
        return c->vols;
    struct kn_vols *v = calloc(1, sizeof(*v));
    if (v == NULL)
        return NULL;
    kn_strmap_init(&v->pvcs.by_key);
    kn_strmap_init(&v->pvs.by_key);
    kn_strmap_init(&v->classes.by_key);
    kn_strmap_init(&v->csinodes.by_key);
    kn_strmap_init(&v->driver_by_name);
    c->vols = v;
    c->vols_free = vols_free;
    return v;
}

static void changed(kn_cluster *c)
{
    c->vol_gen++;
    c->gen++;
}

static kn_vtab *table_of(struct kn_vols *v, int type)
{
    return type == T_PVC ? &v->pvcs : type == T_PV ? &v->pvs : type == T_CLASS ? &v->classes : &v->csinodes;
}

static void limits_count(struct kn_vols *v, const kn_csinode *r, int by);

/* The name of a cluster-scoped object (a volume, class or CSINode) and its
 * record (*rec, NULL when new); a deletion is done here. 0: go on with it,
 * 1: done, -1: refused (err). */
static int scoped(kn_cluster *c, int type, const char *kind, const kn_json *obj, bool deleted, const char **name,
                  void **rec, kn_err *err)
{
    *name = KN_DIG_STR(obj, "metadata", "name");
    *rec = NULL;
    if (*name == NULL || **name == '\0')
        return kn_err_set(err, "%s: metadata.name is missing", kind);
    struct kn_vols *v = deleted ? c->vols : vols_of(c);
    if (v == NULL)
        return deleted ? 1 : kn_err_set(err, "out of memory");
    *rec = vt_get(table_of(v, type), *name);
    if (!deleted)
        return 0;
    if (*rec != NULL) {
        if (type == T_CSINODE)
            limits_count(v, *rec, -1);
        vt_del(table_of(v, type), type, *rec);
        changed(c);
    }
    return 1;
}

/* A new record named name in its table, or NULL (out of memory). */
static void *scoped_new(kn_cluster *c, int type, const char *name)
{
    size_t size = type == T_PV ? sizeof(kn_pv) : type == T_CLASS ? sizeof(kn_sclass) : sizeof(kn_csinode);
    void *r = calloc(1, size);
    char *n = strdup(name);
    if (r == NULL || n == NULL) {
        free(r);
        free(n);
        return NULL;
    }
    if (type == T_PV)
        ((kn_pv *)r)->name = n;
    else if (type == T_CLASS)
        ((kn_sclass *)r)->name = n;
    else
        ((kn_csinode *)r)->name = n;
    if (vt_put(table_of(c->vols, type), type, r) != 0) {
        rec_free(type, r);
        return NULL;
    }
    return r;
}

/* ---- reading objects ---- */

static uint8_t access_modes(const kn_json *arr)
{
    static const char *const names[] = {"ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"};
    uint8_t m = 0;
    for (size_t i = 0; i < kn_json_len(arr); i++) {
        const char *s = kn_json_str(kn_json_at(arr, i));
        for (int k = 0; s && k < 4; k++)
            if (strcmp(s, names[k]) == 0)
                m |= (uint8_t)(1u << k);
    }
    return m;
}

static bool is_block(const kn_json *spec)
{
    const char *m = kn_json_get_str(spec, "volumeMode");
    return m != NULL && strcmp(m, "Block") == 0;
}

static bool deleting(const kn_json *meta)
{
    const kn_json *d = kn_json_get(meta, "deletionTimestamp");
    return d != NULL && !kn_json_is(d, KN_JSON_NULL);
}

/* The storage quantity of a ResourceList; -1 with err when malformed. */
static int storage_of(const kn_json *list, const char *path, bool *has, int64_t *out, kn_err *err)
{
    const kn_json *q = kn_json_get(list, "storage");
    *has = false;
    *out = 0;
    if (q == NULL || kn_json_is(q, KN_JSON_NULL))
        return 0;
    const char *s = kn_json_is(q, KN_JSON_NUMBER) ? kn_json_number_text(q) : kn_json_str(q);
    if (s == NULL)
        return kn_err_set(err, "%s.storage: want a quantity", path);
    if (kn_quantity_value(s, out, err) != 0)
        return kn_err_prefix(err, "%s.storage", path);
    *has = true;
    return 0;
}

static const char *controller_uid(const kn_json *meta)
{
    const kn_json *refs = kn_json_get(meta, "ownerReferences");
    for (size_t i = 0; i < kn_json_len(refs); i++) {
        const kn_json *r = kn_json_at(refs, i);
        if (kn_json_bool(kn_json_get(r, "controller"), false))
            return kn_json_get_str(r, "uid");
    }
    return NULL;
}

static const char *class_of(const kn_json *meta, const kn_json *spec)
{
    const char *beta = kn_json_get_str(kn_json_get(meta, "annotations"), KN_ANN_BETA_STORAGE_CLASS);
    return beta ? beta : kn_json_get_str(spec, "storageClassName");
}

/* A watch event older than the object we hold: our own write's answer,
 * applied already, overtook it. resourceVersions compare as kube-scheduler's
 * assume cache compares them (integers); any other form is never older. */
static bool older(const char *have, const char *got)
{
    char *e1, *e2;
    if (have == NULL || got == NULL || !*have || !*got)
        return false;
    unsigned long long h = strtoull(have, &e1, 10), g = strtoull(got, &e2, 10);
    return *e1 == '\0' && *e2 == '\0' && g < h;
}

/* A record placeholder for a claim name (a pod uses it, no object yet). */
static kn_pvc *pvc_ref(kn_cluster *c, const char *ns, const char *name)
{
    struct kn_vols *v = vols_of(c);
    if (v == NULL)
        return NULL;
    size_t len = strlen(ns) + strlen(name) + 2;
    char *key = malloc(len);
    if (key == NULL)
        return NULL;
    snprintf(key, len, "%s/%s", ns, name);
    kn_pvc *r = vt_get(&v->pvcs, key);
    if (r != NULL) {
        free(key);
        return r;
    }
    if ((r = calloc(1, sizeof(*r))) == NULL) {
        free(key);
        return NULL;
    }
    r->key = key;
    r->ns = strdup(ns);
    r->name = strdup(name);
    if (r->ns == NULL || r->name == NULL || vt_put(&v->pvcs, T_PVC, r) != 0) {
        pvc_free(r);
        return NULL;
    }
    return r;
}

/* A placeholder stays while a counted pod or our decision refers to it. */
static void pvc_maybe_drop(kn_cluster *c, kn_pvc *r)
{
    if (!r->live && r->users == 0 && r->assumed_node == NULL)
        vt_del(&c->vols->pvcs, T_PVC, r);
}

int kn_cluster_apply_pvc(kn_cluster *c, const kn_json *obj, bool deleted, kn_err *err)
{
    const kn_json *meta = kn_json_get(obj, "metadata"), *spec = kn_json_get(obj, "spec");
    const char *ns = kn_json_get_str(meta, "namespace"), *name = kn_json_get_str(meta, "name");
    if (name == NULL || *name == '\0')
        return kn_err_set(err, "PersistentVolumeClaim: metadata.name is missing");
    if (ns == NULL)
        ns = "";
    if (deleted) {
        char key[600];
        snprintf(key, sizeof(key), "%s/%s", ns, name);
        kn_pvc *r = c->vols ? vt_get(&c->vols->pvcs, key) : NULL;
        if (r != NULL && r->live) {
            r->live = false;
            pvc_maybe_drop(c, r);
            changed(c);
        }
        return 0;
    }
    bool has = false;
    int64_t req = 0;
    const kn_json *sel = kn_json_get(spec, "selector");
    if (storage_of(kn_json_dig(spec, "resources", "requests", NULL), "spec.resources.requests", &has, &req, err) !=
        0)
        return kn_err_prefix(err, "PersistentVolumeClaim %s/%s", ns, name);
    kn_pvc *r = pvc_ref(c, ns, name);
    if (r == NULL)
        return kn_err_set(err, "out of memory");
    if (r->live && older(r->rv, kn_json_get_str(meta, "resourceVersion"))) {
        r->seen = true;
        return 0;
    }
    const char *vol = kn_json_get_str(spec, "volumeName");
    const kn_json *ann = kn_json_get(meta, "annotations");
    kn_json *selc = sel && kn_json_is(sel, KN_JSON_OBJECT) ? kn_json_clone(sel) : NULL;
    bool ok =
        set_str(&r->uid, kn_json_get_str(meta, "uid")) &&
        set_str(&r->rv, kn_json_get_str(meta, "resourceVersion")) &&
        set_str(&r->class_name, class_of(meta, spec)) && set_str(&r->volume_name, vol && *vol ? vol : NULL) &&
        set_str(&r->selected_node, kn_json_get_str(ann, KN_ANN_SELECTED_NODE)) &&
        set_str(&r->owner_uid, controller_uid(meta)) && (sel == NULL || !kn_json_is(sel, KN_JSON_OBJECT) || selc);
    if (!ok) {
        kn_json_free(selc);
        if (!r->live)
            pvc_maybe_drop(c, r);
        return kn_err_set(err, "out of memory");
    }
    kn_json_free(r->selector);
    r->selector = selc;
    r->bind_completed = kn_json_get(ann, KN_ANN_BIND_COMPLETED) != NULL;
    r->deleting = deleting(meta);
    const char *phase = KN_DIG_STR(obj, "status", "phase");
    r->lost = phase && strcmp(phase, "Lost") == 0;
    r->block = is_block(spec);
    r->modes = access_modes(kn_json_get(spec, "accessModes"));
    r->has_request = has;
    r->request = req;
    /* our decision is written (or overtaken): the object speaks for itself */
    if (r->assumed_node && (r->selected_node || r->volume_name)) {
        free(r->assumed_node);
        r->assumed_node = NULL;
    }
    r->live = true;
    r->seen = true;
    changed(c);
    return 0;
}

int kn_cluster_apply_pv(kn_cluster *c, const kn_json *obj, bool deleted, kn_err *err)
{
    const kn_json *meta = kn_json_get(obj, "metadata"), *spec = kn_json_get(obj, "spec");
    const char *name;
    kn_pv *r;
    int rc = scoped(c, T_PV, "PersistentVolume", obj, deleted, &name, (void **)&r, err);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    bool has;
    int64_t cap;
    if (storage_of(kn_json_get(spec, "capacity"), "spec.capacity", &has, &cap, err) != 0)
        return kn_err_prefix(err, "PersistentVolume %s", name);
    if (r == NULL) {
        if ((r = scoped_new(c, T_PV, name)) == NULL)
            return kn_err_set(err, "out of memory");
    } else if (older(r->rv, kn_json_get_str(meta, "resourceVersion"))) {
        r->seen = true;
        return 0;
    }
    pv_clear_object(r);
    const kn_json *labels = kn_json_get(meta, "labels"), *ref = kn_json_get(spec, "claimRef");
    const kn_json *aff = kn_json_dig(spec, "nodeAffinity", "required", NULL), *csi = kn_json_get(spec, "csi");
    const char *cls = class_of(meta, spec), *phase = KN_DIG_STR(obj, "status", "phase");
    r->labels = kn_json_is(labels, KN_JSON_OBJECT) ? kn_json_clone(labels) : kn_json_new_object();
    r->affinity = kn_json_is(aff, KN_JSON_OBJECT) ? kn_json_clone(aff) : NULL;
    bool ok = r->labels && (!kn_json_is(aff, KN_JSON_OBJECT) || r->affinity) &&
              set_str(&r->uid, kn_json_get_str(meta, "uid")) &&
              set_str(&r->rv, kn_json_get_str(meta, "resourceVersion")) && set_str(&r->class_name, s_or(cls));
    if (ok && kn_json_is(ref, KN_JSON_OBJECT)) {
        const char *uid = kn_json_get_str(ref, "uid");
        ok = set_str(&r->claim_ns, s_or(kn_json_get_str(ref, "namespace"))) &&
             set_str(&r->claim_name, s_or(kn_json_get_str(ref, "name"))) &&
             set_str(&r->claim_uid, uid && *uid ? uid : NULL);
    }
    if (ok && kn_json_is(csi, KN_JSON_OBJECT))
        ok = set_str(&r->csi_driver, s_or(kn_json_get_str(csi, "driver"))) &&
             set_str(&r->csi_handle, s_or(kn_json_get_str(csi, "volumeHandle")));
    r->capacity = cap;
    r->modes = access_modes(kn_json_get(spec, "accessModes"));
    r->block = is_block(spec);
    r->available = phase && strcmp(phase, "Available") == 0;
    r->deleting = deleting(meta);
    if (r->claim_name && r->assumed_claim) { /* written (or someone else's): the object speaks */
        free(r->assumed_claim);
        free(r->assumed_uid);
        r->assumed_claim = r->assumed_uid = NULL;
    }
    r->live = ok;
    r->seen = true;
    changed(c);
    if (!ok) {
        vt_del(&c->vols->pvs, T_PV, r);
        return kn_err_set(err, "out of memory");
    }
    return 0;
}

int kn_cluster_apply_sclass(kn_cluster *c, const kn_json *obj, bool deleted, kn_err *err)
{
    const char *name;
    kn_sclass *r;
    int rc = scoped(c, T_CLASS, "StorageClass", obj, deleted, &name, (void **)&r, err);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    const kn_json *topo = kn_json_get(obj, "allowedTopologies");
    kn_json *tc = kn_json_is(topo, KN_JSON_ARRAY) && kn_json_len(topo) > 0 ? kn_json_clone(topo) : NULL;
    if ((r == NULL && (r = scoped_new(c, T_CLASS, name)) == NULL) ||
        !set_str(&r->provisioner, s_or(kn_json_get_str(obj, "provisioner"))) ||
        (kn_json_is(topo, KN_JSON_ARRAY) && kn_json_len(topo) > 0 && tc == NULL)) {
        kn_json_free(tc);
        if (r != NULL)
            vt_del(&c->vols->classes, T_CLASS, r);
        return kn_err_set(err, "out of memory");
    }
    kn_json_free(r->topologies);
    r->topologies = tc;
    const char *mode = kn_json_get_str(obj, "volumeBindingMode");
    r->wffc = mode && strcmp(mode, "WaitForFirstConsumer") == 0;
    r->live = r->seen = true;
    changed(c);
    return 0;
}

int kn_vols_driver(kn_cluster *c, const char *name, bool create)
{
    struct kn_vols *v = create ? vols_of(c) : c->vols;
    if (v == NULL)
        return -1;
    int i = kn_strmap_get(&v->driver_by_name, name);
    if (i >= 0 || !create)
        return i;
    char *d = strdup(name);
    if (d == NULL ||
        kn_grow((void **)&v->drivers, &v->cap_drivers, (size_t)v->n_drivers + 1, sizeof(char *)) != 0 ||
        kn_strmap_put(&v->driver_by_name, d, v->n_drivers) != 0) {
        free(d);
        return -1;
    }
    v->drivers[v->n_drivers] = d;
    return v->n_drivers++;
}

const char *kn_vols_driver_name(const kn_cluster *c, int driver)
{
    return c->vols && driver >= 0 && driver < c->vols->n_drivers ? c->vols->drivers[driver] : NULL;
}

#define KN_CSI_MAX_DRIVERS 64

int kn_cluster_apply_csinode(kn_cluster *c, const kn_json *obj, bool deleted, kn_err *err)
{
    const char *name;
    kn_csinode *r;
    int rc = scoped(c, T_CSINODE, "CSINode", obj, deleted, &name, (void **)&r, err);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    struct kn_vols *v = c->vols;
    const kn_json *drivers = kn_json_dig(obj, "spec", "drivers", NULL);
    if (drivers != NULL && !kn_json_is(drivers, KN_JSON_ARRAY))
        return kn_err_set(err, "CSINode %s: spec.drivers: want an array", name);
    if (kn_json_len(drivers) > KN_CSI_MAX_DRIVERS)
        return kn_err_set(err, "CSINode %s: spec.drivers: more than %d drivers", name, KN_CSI_MAX_DRIVERS);
    kn_csi_limit lim[KN_CSI_MAX_DRIVERS];
    int n = 0;
    for (size_t i = 0; i < kn_json_len(drivers); i++) {
        const kn_json *d = kn_json_at(drivers, i);
        const char *dn = kn_json_get_str(d, "name");
        const kn_json *cnt = kn_json_dig(d, "allocatable", "count", NULL);
        int64_t count;
        if (dn == NULL || cnt == NULL || kn_json_is(cnt, KN_JSON_NULL))
            continue;
        if (kn_json_int(cnt, &count) != 0 || count < 0)
            return kn_err_set(err, "CSINode %s: spec.drivers[%zu].allocatable.count: want a count", name, i);
        if ((lim[n].driver = kn_vols_driver(c, dn, true)) < 0)
            return kn_err_set(err, "out of memory");
        if ((size_t)lim[n].driver >= v->cap_limited) {
            size_t old = v->cap_limited;
            if (kn_grow((void **)&v->limited, &v->cap_limited, (size_t)lim[n].driver + 1, sizeof(int)) != 0)
                return kn_err_set(err, "out of memory");
            memset(v->limited + old, 0, sizeof(int) * (v->cap_limited - old));
        }
        lim[n++].count = count;
    }
    if (r == NULL && (r = scoped_new(c, T_CSINODE, name)) == NULL)
        return kn_err_set(err, "out of memory");
    kn_csi_limit *l = n ? malloc(sizeof(*l) * (size_t)n) : NULL;
    if (n && l == NULL)
        return kn_err_set(err, "out of memory");
    if (n)
        memcpy(l, lim, sizeof(*l) * (size_t)n);
    limits_count(v, r, -1);
    free(r->limits);
    r->limits = l;
    r->n = n;
    limits_count(v, r, +1);
    r->live = r->seen = true;
    changed(c);
    return 0;
}

static kn_vtab *table(struct kn_vols *v, int which, int *type)
{
    static const int types[] = {T_PVC, T_PV, T_CLASS, T_CSINODE};
    *type = types[which & 3];
    return table_of(v, *type);
}

static bool *seen_of(int type, void *r)
{
    return type == T_PVC     ? &((kn_pvc *)r)->seen
           : type == T_PV    ? &((kn_pv *)r)->seen
           : type == T_CLASS ? &((kn_sclass *)r)->seen
                             : &((kn_csinode *)r)->seen;
}

void kn_vols_resync_begin(kn_cluster *c, int which)
{
    if (c->vols == NULL)
        return;
    int type;
    kn_vtab *t = table(c->vols, which, &type);
    for (int i = 0; i < t->n; i++)
        if (t->rec[i])
            *seen_of(type, t->rec[i]) = false;
}

void kn_vols_resync_end(kn_cluster *c, int which)
{
    if (c->vols == NULL)
        return;
    int type;
    kn_vtab *t = table(c->vols, which, &type);
    for (int i = 0; i < t->n; i++) {
        void *r = t->rec[i];
        if (r == NULL || *seen_of(type, r))
            continue;
        if (type == T_PVC) {
            kn_pvc *p = r;
            if (!p->live)
                continue;
            p->live = false;
            pvc_maybe_drop(c, p);
        } else {
            if (type == T_CSINODE)
                limits_count(c->vols, r, -1);
            vt_del(t, type, r);
        }
        changed(c);
    }
}

/* ---- lookups ---- */

const kn_pvc *kn_vols_pvc(const kn_cluster *c, const char *ns, const char *name)
{
    if (c->vols == NULL)
        return NULL;
    char key[600];
    if ((size_t)snprintf(key, sizeof(key), "%s/%s", ns, name) >= sizeof(key))
        return NULL; /* longer than any valid namespace and name */
    const kn_pvc *r = vt_get(&c->vols->pvcs, key);
    return r && r->live ? r : NULL;
}

const kn_pv *kn_vols_pv(const kn_cluster *c, const char *name)
{
    const kn_pv *r = c->vols ? vt_get(&c->vols->pvs, name) : NULL;
    return r && r->live ? r : NULL;
}

const kn_sclass *kn_vols_class(const kn_cluster *c, const char *name)
{
    const kn_sclass *r = c->vols ? vt_get(&c->vols->classes, name) : NULL;
    return r && r->live ? r : NULL;
}

const kn_csinode *kn_vols_csinode(const kn_cluster *c, const char *name)
{
    const kn_csinode *r = c->vols ? vt_get(&c->vols->csinodes, name) : NULL;
    return r && r->live ? r : NULL;
}

kn_pv *const *kn_vols_pv_list(const kn_cluster *c, int *n)
{
    *n = c->vols ? c->vols->pvs.n : 0;
    return c->vols ? (kn_pv *const *)c->vols->pvs.rec : NULL;
}

bool kn_vols_driver_limited(const kn_cluster *c, int driver)
{
    return c->vols && driver >= 0 && (size_t)driver < c->vols->cap_limited && c->vols->limited[driver] > 0;
}

const kn_node_attach *kn_vols_node_attach(const kn_cluster *c, int node)
{
    if (c->vols == NULL || node < 0 || (size_t)node >= c->vols->cap_att || c->vols->att[node].n == 0)
        return NULL;
    return &c->vols->att[node];
}

bool kn_pv_bound_to(const kn_pv *pv, const char *ns, const char *name, const char *uid)
{
    const char *cns = pv->claim_name ? pv->claim_ns : NULL, *cname = pv->claim_name, *cuid = pv->claim_uid;
    char buf[600];
    if (cname == NULL && pv->assumed_claim != NULL) { /* "ns/name" */
        snprintf(buf, sizeof(buf), "%s", pv->assumed_claim);
        char *slash = strchr(buf, '/');
        if (slash == NULL)
            return false;
        *slash = '\0';
        cns = buf;
        cname = slash + 1;
        cuid = pv->assumed_uid;
    }
    if (cname == NULL || strcmp(cname, name) != 0 || strcmp(s_or(cns), ns) != 0)
        return false;
    return cuid == NULL || *cuid == '\0' || strcmp(cuid, s_or(uid)) == 0;
}

bool kn_pv_claimed_by_other(const kn_pv *pv, const char *ns, const char *name, const char *uid)
{
    if (pv->claim_name == NULL && pv->assumed_claim == NULL)
        return false;
    return !kn_pv_bound_to(pv, ns, name, uid);
}

const char *kn_pvc_selected_node(const kn_pvc *pvc)
{
    return pvc->selected_node ? pvc->selected_node : pvc->assumed_node;
}

bool kn_pvc_bound(const kn_pvc *pvc)
{
    return pvc->volume_name != NULL && pvc->bind_completed;
}

/* ---- pods ---- */

int kn_vols_pod_set(kn_cluster *c, int idx, const kn_pod *p)
{
    kn_cpod *r = &c->pods[idx];
    if (p->n_claims == 0 || r->vols != NULL) /* a pod's volumes never change */
        return 0;
    if (vols_of(c) == NULL || (r->vols = calloc(1, sizeof(*r->vols))) == NULL ||
        (r->vols->claims = calloc((size_t)p->n_claims, sizeof(*r->vols->claims))) == NULL) {
        free(r->vols);
        r->vols = NULL;
        return -1;
    }
    r->vols->node = -1;
    bool ok = true;
    for (int i = 0; i < p->n_claims; i++) {
        kn_pod_claim *o = &r->vols->claims[r->vols->n++];
        o->ephemeral = p->claims[i].ephemeral;
        /* each on its own: both pointers are set before a failure frees the record */
        ok &= (o->volume = strdup(p->claims[i].volume)) != NULL;
        ok &= (o->claim = strdup(p->claims[i].claim)) != NULL;
    }
    if (!ok) {
        pod_vols_free(r->vols);
        r->vols = NULL;
        return -1;
    }
    return 0;
}

static kn_node_attach *node_attach(struct kn_vols *v, int node)
{
    if ((size_t)node >= v->cap_att) {
        size_t old = v->cap_att;
        if (kn_grow((void **)&v->att, &v->cap_att, (size_t)node + 1, sizeof(*v->att)) != 0)
            return NULL;
        memset(v->att + old, 0, sizeof(*v->att) * (v->cap_att - old));
    }
    return &v->att[node];
}

/* Adds (driver, handle) to node; 0 or -1 out of memory. */
static int attach_add(struct kn_vols *v, int node, int driver, const char *handle)
{
    kn_node_attach *na = node_attach(v, node);
    if (na == NULL)
        return -1;
    for (int i = 0; i < na->n; i++)
        if (na->a[i].driver == driver && strcmp(na->a[i].handle, handle) == 0) {
            na->a[i].refs++;
            return 0;
        }
    char *h = strdup(handle);
    if (h == NULL || kn_grow((void **)&na->a, &na->cap, (size_t)na->n + 1, sizeof(*na->a)) != 0) {
        free(h);
        return -1;
    }
    na->a[na->n++] = (kn_attach){.driver = driver, .refs = 1, .handle = h};
    return 0;
}

static void attach_del(struct kn_vols *v, int node, int driver, const char *handle)
{
    if ((size_t)node >= v->cap_att)
        return;
    kn_node_attach *na = &v->att[node];
    for (int i = 0; i < na->n; i++)
        if (na->a[i].driver == driver && strcmp(na->a[i].handle, handle) == 0) {
            if (--na->a[i].refs > 0)
                return;
            free(na->a[i].handle);
            na->a[i] = na->a[--na->n];
            return;
        }
}

/* csi.go's getCSIDriverInfo. */
const char *kn_vols_claim_attach(const kn_cluster *c, const kn_pvc *pvc, char *handle, size_t cap)
{
    if (pvc->volume_name != NULL) {
        const kn_pv *pv = kn_vols_pv(c, pvc->volume_name);
        if (pv != NULL) {
            if (pv->csi_driver == NULL || !*pv->csi_driver || pv->csi_handle == NULL || !*pv->csi_handle)
                return NULL; /* not a CSI volume (in-tree volumes are not translated) */
            snprintf(handle, cap, "%s", pv->csi_handle);
            return pv->csi_driver;
        }
    }
    const kn_sclass *sc = pvc->class_name && *pvc->class_name ? kn_vols_class(c, pvc->class_name) : NULL;
    if (sc == NULL || !*sc->provisioner)
        return NULL;
    /* a prefix no volume handle has, so the claim counts as a volume of its own */
    snprintf(handle, cap, "\x1f%s", pvc->key);
    return sc->provisioner;
}

int kn_vols_pod_count(kn_cluster *c, int idx, int node)
{
    kn_cpod *r = &c->pods[idx];
    kn_pod_vols *pv = r->vols;
    if (pv == NULL || pv->node >= 0)
        return 0;
    struct kn_vols *v = vols_of(c);
    if (v == NULL || (pv->n > 0 && (pv->att = calloc((size_t)pv->n, sizeof(*pv->att))) == NULL))
        return -1;
    pv->node = node;
    for (int i = 0; i < pv->n; i++) {
        const kn_pod_claim *cl = &pv->claims[i];
        if (!cl->ephemeral) {
            kn_pvc *u = pvc_ref(c, r->ns, cl->claim);
            if (u != NULL)
                u->users++;
        }
        const kn_pvc *pvc = kn_vols_pvc(c, r->ns, cl->claim);
        if (pvc == NULL || (cl->ephemeral && (pvc->owner_uid == NULL || strcmp(pvc->owner_uid, r->uid) != 0)))
            continue; /* kube-scheduler does not count it either */
        char handle[700];
        const char *driver = kn_vols_claim_attach(c, pvc, handle, sizeof(handle));
        int d = driver ? kn_vols_driver(c, driver, true) : -1;
        if (d < 0)
            continue;
        char *h = strdup(handle);
        if (h == NULL || attach_add(v, node, d, handle) != 0) {
            free(h);
            continue; /* out of memory: one volume less counted */
        }
        pv->att[pv->n_att++] = (kn_att_ref){.driver = d, .handle = h};
    }
    return 0;
}

void kn_vols_pod_uncount(kn_cluster *c, int idx)
{
    kn_cpod *r = &c->pods[idx];
    kn_pod_vols *pv = r->vols;
    if (pv == NULL || pv->node < 0 || c->vols == NULL)
        return;
    for (int i = 0; i < pv->n; i++) {
        if (pv->claims[i].ephemeral)
            continue;
        char key[600];
        snprintf(key, sizeof(key), "%s/%s", r->ns, pv->claims[i].claim);
        kn_pvc *u = vt_get(&c->vols->pvcs, key);
        if (u != NULL && u->users > 0) {
            u->users--;
            pvc_maybe_drop(c, u);
        }
    }
    for (int i = 0; i < pv->n_att; i++) {
        attach_del(c->vols, pv->node, pv->att[i].driver, pv->att[i].handle);
        free(pv->att[i].handle);
    }
    free(pv->att);
    pv->att = NULL;
    pv->n_att = 0;
    pv->node = -1;
}

int kn_vols_assume(kn_cluster *c, int idx, const char *claim, const char *pvname, const char *node)
{
    kn_pod_vols *pv = c->pods[idx].vols;
    struct kn_vols *v = c->vols;
    kn_pvc *pvc = v ? vt_get(&v->pvcs, claim) : NULL;
    if (pv == NULL || pvc == NULL)
        return -1;
    kn_vol_dec *nd = realloc(pv->dec, sizeof(*nd) * (size_t)(pv->n_dec + 1));
    if (nd == NULL)
        return -1;
    pv->dec = nd;
    kn_vol_dec *d = &pv->dec[pv->n_dec];
    d->claim = strdup(claim);
    d->pv = pvname ? strdup(pvname) : NULL;
    kn_pv *vol = pvname ? vt_get(&v->pvs, pvname) : NULL;
    bool ok = d->claim && (!pvname || (d->pv && vol));
    if (ok && vol) {
        ok = set_str(&vol->assumed_claim, claim) && set_str(&vol->assumed_uid, pvc->uid);
    } else if (ok) {
        ok = set_str(&pvc->assumed_node, node);
    }
    if (!ok) {
        free(d->claim);
        free(d->pv);
        return -1;
    }
    pv->n_dec++;
    return 0;
}

void kn_vols_unassume(kn_cluster *c, int idx)
{
    kn_pod_vols *pv = c->pods[idx].vols;
    if (pv == NULL)
        return;
    for (int i = 0; i < pv->n_dec; i++) {
        kn_vol_dec *d = &pv->dec[i];
        if (c->vols != NULL && d->pv != NULL) {
            kn_pv *vol = vt_get(&c->vols->pvs, d->pv);
            if (vol && vol->assumed_claim && strcmp(vol->assumed_claim, d->claim) == 0) {
                free(vol->assumed_claim);
                free(vol->assumed_uid);
                vol->assumed_claim = vol->assumed_uid = NULL;
            }
        } else if (c->vols != NULL) {
            kn_pvc *pvc = vt_get(&c->vols->pvcs, d->claim);
            if (pvc && pvc->assumed_node) {
                free(pvc->assumed_node);
                pvc->assumed_node = NULL;
                pvc_maybe_drop(c, pvc);
            }
        }
        free(d->claim);
        free(d->pv);
    }
    free(pv->dec);
    pv->dec = NULL;
    pv->n_dec = 0;
}

void kn_vols_pod_drop(kn_cluster *c, int idx)
{
    if (c->pods[idx].vols == NULL)
        return;
    kn_vols_pod_uncount(c, idx);
    kn_vols_unassume(c, idx);
    pod_vols_free(c->pods[idx].vols);
    c->pods[idx].vols = NULL;
}
