/* podgroups.c - the PodGroups gangs name, as watched (see cluster.h). */
#include "scheduler/cache/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"
#include "spark/podgroup.h"

/* kind digit, namespace (a DNS label), '/', name (a DNS subdomain) */
#define PG_KEY_MAX (2 + KN_LABEL_VALUE_MAX + KN_OBJECT_NAME_MAX + 1)

static void make_key(char *buf, kn_gang_kind kind, const char *ns, const char *name)
{
    snprintf(buf, PG_KEY_MAX, "%c%s/%s", '0' + (int)kind, ns, name);
}

const kn_pgrec *kn_cluster_podgroup(const kn_cluster *c, kn_gang_kind kind, const char *ns, const char *name)
{
    char key[PG_KEY_MAX];
    make_key(key, kind, ns, name);
    int i = kn_strmap_get(&c->pg_by_key, key);
    return i < 0 ? NULL : &c->pgs[i];
}

/* Removes record i; the last one takes its slot. */
static void drop(kn_cluster *c, int i)
{
    kn_strmap_del(&c->pg_by_key, c->pgs[i].key);
    free(c->pgs[i].key);
    free(c->pgs[i].bad);
    int last = --c->n_pgs;
    if (i != last) {
        c->pgs[i] = c->pgs[last];
        kn_strmap_put(&c->pg_by_key, c->pgs[i].key, i); /* replaces: cannot fail */
    }
    c->gen++;
}

/* The spec into r (its key set); a bad field leaves r->bad. -1: out of memory. */
static int fill(kn_cluster *c, kn_pgrec *r, const kn_json *obj, kn_gang_kind kind)
{
    kn_podgroup pg;
    kn_rvec min_res;
    kn_err e;
    bool ok = kn_podgroup_parse(obj, kind, &pg, &e) == 0;
    if (ok && pg.min_resources != NULL && kn_rvec_from_list(c, pg.min_resources, &min_res, &e) != 0) {
        kn_err_prefix(&e, "PodGroup %s (%s): spec.minResources", kn_pgrec_ref(r), kn_gang_kind_api(kind));
        ok = false;
    }
    char *bad = ok ? NULL : strdup(e.msg);
    if (!ok && bad == NULL)
        return -1;
    free(r->bad);
    r->bad = bad;
    r->min_member = ok ? pg.min_member : 1;
    r->timeout_s = ok ? pg.timeout_s : 0;
    r->has_min_res = ok && pg.min_resources != NULL;
    if (r->has_min_res) {
        r->min_res = min_res;
        r->min_res.v[KN_R_PODS] = pg.min_member;
    }
    return 0;
}

int kn_cluster_apply_podgroup(kn_cluster *c, kn_gang_kind kind, const kn_json *obj, bool deleted, kn_err *err)
{
    kn_podgroup id;
    if (kn_podgroup_ident(obj, kind, &id, err) != 0)
        return -1;
    char key[PG_KEY_MAX];
    make_key(key, kind, id.ns, id.name);
    int i = kn_strmap_get(&c->pg_by_key, key);
    if (deleted) {
        if (i >= 0)
            drop(c, i);
        return 0;
    }
    if (i < 0) {
        char *k = strdup(key);
        if (k == NULL || kn_grow((void **)&c->pgs, &c->cap_pgs, (size_t)c->n_pgs + 1, sizeof(*c->pgs)) != 0 ||
            kn_strmap_put(&c->pg_by_key, k, c->n_pgs) != 0) {
            free(k);
            return kn_err_set(err, "out of memory");
        }
        i = c->n_pgs++;
        memset(&c->pgs[i], 0, sizeof(c->pgs[i]));
        c->pgs[i].key = k;
        c->pgs[i].kind = kind;
        c->pgs[i].min_member = 1;
    }
    if (fill(c, &c->pgs[i], obj, kind) != 0)
        return kn_err_set(err, "out of memory");
    c->pgs[i].seen = true;
    c->gen++;
    return 0;
}

void kn_cluster_podgroups_unmark(kn_cluster *c, kn_gang_kind kind)
{
    for (int i = 0; i < c->n_pgs; i++)
        if (c->pgs[i].kind == kind)
            c->pgs[i].seen = false;
}

void kn_cluster_podgroups_sweep(kn_cluster *c, kn_gang_kind kind)
{
    for (int i = c->n_pgs - 1; i >= 0; i--)
        if (c->pgs[i].kind == kind && !c->pgs[i].seen)
            drop(c, i);
}
