/* nodes.c - Nodes and their NUMA zones (NodeResourceTopology, annotation, labels). */
#include "scheduler/cache/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "kube/quantity.h"
#include "base/grow.h"

typedef struct zone_set {
    int n;
    kn_zone z[KN_NUMA_MAX_ZONES];
} zone_set;

static void zone_init(kn_zone *z, const char *name)
{
    memset(z, 0, sizeof(*z));
    snprintf(z->name, sizeof(z->name), "%s", name);
    z->exclusive = -1;
}

/* ---- NodeResourceTopology ---- */

static int nrt_zones(kn_cluster *c, const kn_json *obj, zone_set *out, kn_err *err)
{
    const kn_json *zones = kn_json_get(obj, "zones");
    out->n = 0;
    if (zones != NULL && !kn_json_is(zones, KN_JSON_ARRAY))
        return kn_err_set(err, "zones: is %s, want an array", kn_json_type_name(kn_json_typeof(zones)));
    for (size_t i = 0; i < kn_json_len(zones); i++) {
        const kn_json *zj = kn_json_at(zones, i);
        const char *type = kn_json_get_str(zj, "type");
        const char *name = kn_json_get_str(zj, "name");
        if (type == NULL || strcmp(type, "Node") != 0)
            continue;
        if (name == NULL)
            return kn_err_set(err, "zones[%zu].name: missing", i);
        if (out->n == KN_NUMA_MAX_ZONES)
            return kn_err_set(err, "zones: more than %d NUMA zones", KN_NUMA_MAX_ZONES);
        kn_zone *z = &out->z[out->n++];
        zone_init(z, name);
        z->has_avail = true;
        const kn_json *res = kn_json_get(zj, "resources");
        for (size_t j = 0; j < kn_json_len(res); j++) {
            const kn_json *rj = kn_json_at(res, j);
            const char *rn = kn_json_get_str(rj, "name");
            const char *al = kn_json_get_str(rj, "allocatable");
            const char *av = kn_json_get_str(rj, "available");
            if (rn == NULL || al == NULL) {
                return kn_err_set(err, "zones[%zu].resources[%zu]: want name and allocatable", i, j);
            }
            if (kn_rvec_set_quantity(c, &z->alloc, rn, al, err) != 0 ||
                kn_rvec_set_quantity(c, &z->avail, rn, av ? av : al, err) != 0)
                return kn_err_prefix(err, "zones[%zu].resources[%zu]", i, j);
        }
    }
    return 0;
}

/* ---- node annotation and labels ---- */

static int annotation_zones(kn_cluster *c, const char *text, zone_set *out, kn_err *err)
{
    out->n = 0;
    kn_json *root = kn_json_parse(text, strlen(text), NULL, err);
    if (root == NULL)
        return -1;
    int rc = 0;
    const kn_json *zones = kn_json_get(root, "zones");
    if (!kn_json_is(zones, KN_JSON_ARRAY))
        rc = kn_err_set(err, "want {\"zones\":[{\"name\":\"node-0\",\"cpu\":\"16\",...}]}");
    for (size_t i = 0; rc == 0 && i < kn_json_len(zones); i++) {
        const kn_json *zj = kn_json_at(zones, i);
        const char *name = kn_json_get_str(zj, "name");
        if (name == NULL) {
            rc = kn_err_set(err, "zones[%zu].name: missing", i);
            break;
        }
        if (out->n == KN_NUMA_MAX_ZONES) {
            rc = kn_err_set(err, "more than %d NUMA zones", KN_NUMA_MAX_ZONES);
            break;
        }
        kn_zone *z = &out->z[out->n++];
        zone_init(z, name);
        for (size_t j = 0; rc == 0 && j < kn_json_len(zj); j++) {
            const char *k = kn_json_key_at(zj, j);
            const kn_json *v = kn_json_value_at(zj, j);
            if (strcmp(k, "name") == 0)
                continue;
            const char *q = kn_json_is(v, KN_JSON_NUMBER) ? kn_json_number_text(v) : kn_json_str(v);
            if (q == NULL)
                rc = kn_err_set(err, "zones[%zu].%s: want a quantity", i, k);
            else if (kn_rvec_set_quantity(c, &z->alloc, k, q, err) != 0)
                rc = kn_err_prefix(err, "zones[%zu]", i);
        }
    }
    kn_json_free(root);
    return rc;
}

static int label_zones(kn_cluster *c, const kn_json *labels, zone_set *out, kn_err *err)
{
    out->n = 0;
    const char *cnt = kn_json_get_str(labels, KN_NUMA_COUNT_LABEL);
    if (cnt == NULL)
        return 0;
    int n;
    if (kn_parse_positive_int(cnt, KN_NUMA_MAX_ZONES, &n) != 0)
        return kn_err_set(err, "label %s is \"%s\", want 1..%d", KN_NUMA_COUNT_LABEL, cnt, KN_NUMA_MAX_ZONES);
    for (int i = 0; i < n; i++) {
        char key[96], name[16];
        snprintf(name, sizeof(name), "node-%d", i);
        kn_zone *z = &out->z[out->n++];
        zone_init(z, name);
        snprintf(key, sizeof(key), "numa.kubenexus.io/node-%d-cpus", i);
        const char *cpus = kn_json_get_str(labels, key);
        unsigned lo, hi;
        char tail;
        if (cpus == NULL || sscanf(cpus, "%u-%u%c", &lo, &hi, &tail) != 2 || hi < lo || hi > 65535)
            return kn_err_set(err, "label %s is \"%s\", want a range such as \"0-15\"", key,
                              cpus ? cpus : "(missing)");
        z->alloc.v[KN_R_CPU] = (int64_t)(hi - lo + 1) * 1000;
        snprintf(key, sizeof(key), "numa.kubenexus.io/node-%d-memory", i);
        const char *mem = kn_json_get_str(labels, key);
        if (mem == NULL || kn_quantity_value(mem, &z->alloc.v[KN_R_MEMORY], err) != 0)
            return kn_err_set(err, "label %s is \"%s\", want bytes", key, mem ? mem : "(missing)");
    }
    (void)c;
    return 0;
}

/* ---- installing a zone layout on a node ---- */

static void set_zones(kn_node *n, const zone_set *zs, kn_topo_source src, bool fresh_report)
{
    bool same = zs->n == n->n_zones;
    for (int i = 0; same && i < zs->n; i++)
        same = strcmp(zs->z[i].name, n->zones[i].name) == 0;
    if (same) {
        for (int i = 0; i < zs->n; i++) {
            kn_zone *z = &n->zones[i];
            z->alloc = zs->z[i].alloc;
            z->avail = zs->z[i].avail;
            z->has_avail = zs->z[i].has_avail;
            if (fresh_report)
                memset(&z->since, 0, sizeof(z->since));
            kn_zone_sync_room(z);
        }
    } else {
        /* A new layout: placements made on the old one no longer map onto it. */
        n->zone_epoch++;
        n->n_exclusive = 0;
        kn_zone *z = zs->n > 0 ? malloc(sizeof(kn_zone) * (size_t)zs->n) : NULL;
        if (zs->n > 0 && z == NULL)
            kn_log(KN_LOG_WARN, "out of memory: ignoring the node's NUMA zones", "node=%s", n->name);
        free(n->zones);
        n->zones = z;
        n->n_zones = z ? zs->n : 0;
        for (int i = 0; i < n->n_zones; i++) {
            n->zones[i] = zs->z[i];
            kn_zone_sync_room(&n->zones[i]);
        }
    }
    n->topo = zs->n ? src : KN_TOPO_NONE;
}

static void refresh_zones(kn_cluster *c, kn_node *n, bool fresh_report)
{
    zone_set zs;
    kn_err err;
    int ni = kn_strmap_get(&c->nrt_by_name, n->name);
    if (ni >= 0 && c->nrts[ni].n_zones > 0) {
        zs.n = c->nrts[ni].n_zones;
        memcpy(zs.z, c->nrts[ni].zones, sizeof(kn_zone) * (size_t)zs.n);
        set_zones(n, &zs, KN_TOPO_NRT, fresh_report);
        return;
    }
    if (n->topo_annotation != NULL) {
        if (annotation_zones(c, n->topo_annotation, &zs, &err) == 0) {
            set_zones(n, &zs, KN_TOPO_ANNOTATION, false);
            return;
        }
        kn_log(KN_LOG_WARN, "ignoring NUMA topology annotation", "node=%s annotation=%s error=%s", n->name,
               KN_TOPOLOGY_ANNOTATION, err.msg);
    }
    if (label_zones(c, n->labels, &zs, &err) != 0) {
        kn_log(KN_LOG_WARN, "ignoring NUMA topology labels", "node=%s error=%s", n->name, err.msg);
        zs.n = 0;
    }
    set_zones(n, &zs, KN_TOPO_LABELS, false);
}

/* ---- nodes ---- */

int kn_cluster_node_ref(kn_cluster *c, const char *name)
{
    int i = kn_strmap_get(&c->node_by_name, name);
    if (i >= 0)
        return i;
    if (kn_grow((void **)&c->nodes, &c->cap_nodes, (size_t)c->n_nodes + 1, sizeof(*c->nodes)) != 0)
        return -1;
    kn_node *n = &c->nodes[c->n_nodes];
    memset(n, 0, sizeof(*n));
    n->name = strdup(name);
    if (n->name == NULL || kn_strmap_put(&c->node_by_name, n->name, c->n_nodes) != 0) {
        free(n->name);
        return -1;
    }
    return c->n_nodes++;
}

void kn_cluster_node_gone(kn_cluster *c, int i)
{
    kn_node *n = &c->nodes[i];
    if (n->live && n->prefer_no_schedule)
        c->n_prefer_no_schedule--;
    n->live = false; /* the record (and the room its pods take) stays for a re-add */
    c->node_gen++;
    c->topo_gen++; /* its domains leave the topology's counts */
}

static void taints_free(kn_node *n)
{
    for (int i = 0; i < n->n_taints; i++) {
        free(n->taints[i].key);
        free(n->taints[i].value);
        free(n->taints[i].effect);
    }
    free(n->taints);
    n->taints = NULL;
    n->n_taints = 0;
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

static int parse_taints(const kn_json *arr, kn_taint **out, int *n_out, kn_err *err)
{
    *out = NULL;
    *n_out = 0;
    if (arr == NULL)
        return 0;
    if (!kn_json_is(arr, KN_JSON_ARRAY))
        return kn_err_set(err, "spec.taints: want an array");
    size_t n = kn_json_len(arr);
    if (n == 0)
        return 0;
    kn_taint *t = calloc(n, sizeof(*t));
    if (t == NULL)
        return kn_err_set(err, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const kn_json *tj = kn_json_at(arr, i);
        t[i].key = dup_or_empty(kn_json_get_str(tj, "key"));
        t[i].value = dup_or_empty(kn_json_get_str(tj, "value"));
        t[i].effect = dup_or_empty(kn_json_get_str(tj, "effect"));
    }
    *out = t;
    *n_out = (int)n;
    return 0;
}

static bool node_ready(const kn_json *node)
{
    const kn_json *conds = kn_json_dig(node, "status", "conditions", NULL);
    for (size_t i = 0; i < kn_json_len(conds); i++) {
        const kn_json *cj = kn_json_at(conds, i);
        const char *type = kn_json_get_str(cj, "type");
        if (type != NULL && strcmp(type, "Ready") == 0) {
            const char *st = kn_json_get_str(cj, "status");
            return st != NULL && strcmp(st, "True") == 0;
        }
    }
    return true; /* no Ready condition reported (yet): kube-scheduler does not filter either */
}

static bool same_node(const kn_node *n, const kn_rvec *alloc, const kn_taint *taints, int n_taints,
                      const kn_json *labels, const char *topo, bool unsched, bool ready)
{
    if (memcmp(&n->alloc, alloc, sizeof(*alloc)) != 0 || n->unschedulable != unsched || n->ready != ready ||
        n->n_taints != n_taints || !kn_json_equal(n->labels, labels))
        return false;
    if ((topo == NULL) != (n->topo_annotation == NULL) || (topo && strcmp(topo, n->topo_annotation) != 0))
        return false;
    for (int i = 0; i < n_taints; i++)
        if (strcmp(n->taints[i].key, taints[i].key) != 0 || strcmp(n->taints[i].value, taints[i].value) != 0 ||
            strcmp(n->taints[i].effect, taints[i].effect) != 0)
            return false;
    return true;
}

/* What apply_node read and did not install. */
static void parts_free(kn_json *labels, char *topo_dup, char *uid_dup, kn_taint *taints, int n_taints)
{
    kn_json_free(labels);
    free(topo_dup);
    free(uid_dup);
    kn_node tmp = {.taints = taints, .n_taints = n_taints};
    taints_free(&tmp);
}

int kn_cluster_apply_node(kn_cluster *c, const kn_json *obj, bool deleted, kn_err *err)
{
    const char *name = KN_DIG_STR(obj, "metadata", "name");
    if (name == NULL || *name == '\0')
        return kn_err_set(err, "Node: metadata.name is missing");
    if (deleted) {
        int i = kn_strmap_get(&c->node_by_name, name);
        if (i >= 0)
            kn_cluster_node_gone(c, i);
        else
            c->node_gen++;
        return 0;
    }
    kn_rvec alloc;
    if (kn_rvec_from_list(c, kn_json_dig(obj, "status", "allocatable", NULL), &alloc, err) != 0)
        return kn_err_prefix(err, "Node %s: status.allocatable", name);
    kn_taint *taints;
    int n_taints;
    if (parse_taints(kn_json_dig(obj, "spec", "taints", NULL), &taints, &n_taints, err) != 0)
        return kn_err_prefix(err, "Node %s", name);
    const kn_json *lj = kn_json_dig(obj, "metadata", "labels", NULL);
    kn_json *labels = kn_json_is(lj, KN_JSON_OBJECT) ? kn_json_clone(lj) : kn_json_new_object();
    const char *topo = kn_json_get_str(kn_json_dig(obj, "metadata", "annotations", NULL), KN_TOPOLOGY_ANNOTATION);
    char *topo_dup = topo ? strdup(topo) : NULL;
    const char *uid = KN_DIG_STR(obj, "metadata", "uid");
    char *uid_dup = strdup(uid ? uid : "");
    int i = kn_cluster_node_ref(c, name);
    if (i < 0 || labels == NULL || uid_dup == NULL || (topo && !topo_dup)) {
        parts_free(labels, topo_dup, uid_dup, taints, n_taints);
        return kn_err_set(err, "out of memory");
    }
    kn_node *n = &c->nodes[i];
    bool unsched = kn_json_bool(kn_json_dig(obj, "spec", "unschedulable", NULL), false);
    bool ready = node_ready(obj);
    if (n->live && same_node(n, &alloc, taints, n_taints, labels, topo, unsched, ready)) {
        /* a status heartbeat: nothing the scheduler reads changed, so no
         * retries and no cache invalidation */
        kn_json_free(labels);
        free(topo_dup);
        free(n->uid);
        n->uid = uid_dup;
        kn_node tmp = {.taints = taints, .n_taints = n_taints};
        taints_free(&tmp);
        n->seen = true;
        return 0;
    }
    kn_lset *lset = kn_lset_from_json(&c->lab, labels, err);
    if (lset == NULL) {
        parts_free(labels, topo_dup, uid_dup, taints, n_taints);
        return kn_err_prefix(err, "Node %s", name);
    }
    kn_lset_unref(&c->lab, n->lset);
    n->lset = lset;
    if (n->live && n->prefer_no_schedule)
        c->n_prefer_no_schedule--;
    taints_free(n);
    kn_json_free(n->labels);
    free(n->topo_annotation);
    free(n->uid);
    n->taints = taints;
    n->n_taints = n_taints;
    n->labels = labels;
    n->topo_annotation = topo_dup;
    n->uid = uid_dup;
    n->alloc = alloc;
    n->unschedulable = unsched;
    n->ready = ready;
    n->live = true;
    n->seen = true;
    n->prefer_no_schedule = false;
    for (int t = 0; t < n_taints; t++)
        n->prefer_no_schedule |= strcmp(taints[t].effect, "PreferNoSchedule") == 0;
    c->n_prefer_no_schedule += n->prefer_no_schedule;
    refresh_zones(c, n, false);
    c->gen++;
    c->node_gen++;
    c->topo_gen++;
    return 0;
}

/* ---- NodeResourceTopology objects ---- */

int kn_cluster_apply_nrt(kn_cluster *c, const kn_json *obj, bool deleted, kn_err *err)
{
    const char *name = KN_DIG_STR(obj, "metadata", "name");
    if (name == NULL || *name == '\0')
        return kn_err_set(err, "NodeResourceTopology: metadata.name is missing");
    int i = kn_strmap_get(&c->nrt_by_name, name);
    zone_set zs = {0};
    if (!deleted && nrt_zones(c, obj, &zs, err) != 0)
        return kn_err_prefix(err, "NodeResourceTopology %s", name);
    if (i < 0 && deleted)
        return 0;
    if (i < 0) {
        if (kn_grow((void **)&c->nrts, &c->cap_nrts, (size_t)c->n_nrts + 1, sizeof(*c->nrts)) != 0)
            return kn_err_set(err, "out of memory");
        kn_nrt *t = &c->nrts[c->n_nrts];
        memset(t, 0, sizeof(*t));
        t->name = strdup(name);
        if (t->name == NULL || kn_strmap_put(&c->nrt_by_name, t->name, c->n_nrts) != 0) {
            free(t->name);
            return kn_err_set(err, "out of memory");
        }
        i = c->n_nrts++;
    }
    kn_nrt *t = &c->nrts[i];
    int nz = deleted ? 0 : zs.n;
    kn_zone *zones = NULL;
    if (nz > 0 && (zones = malloc(sizeof(kn_zone) * (size_t)nz)) == NULL)
        return kn_err_set(err, "out of memory");
    if (nz > 0)
        memcpy(zones, zs.z, sizeof(kn_zone) * (size_t)nz);
    free(t->zones);
    t->zones = zones;
    t->n_zones = nz;
    t->seen = true;
    int ni = kn_strmap_get(&c->node_by_name, name);
    if (ni >= 0 && c->nodes[ni].labels != NULL)
        refresh_zones(c, &c->nodes[ni], true);
    c->gen++;
    c->node_gen++;
    return 0;
}
