/* namespaces.c - Namespaces as watched: their labels, which namespaceSelector
 * reads (see relations.h). A change of a namespace's labels, a new one or
 * one gone re-matches the watches that read namespace labels. */
#include "scheduler/cache/cluster.h"

#include <stdlib.h>
#include <string.h>

#include "base/grow.h"

static void ns_changed(kn_cluster *c)
{
    c->ns_gen++;
    c->gen++; /* a pending pod's namespaceSelector may match now */
    kn_rel_rematch_nssel(c);
}

static void ns_drop(kn_cluster *c, int32_t i)
{
    kn_relstate *rs = &c->rs;
    kn_nsrec gone = rs->ns[i];
    kn_imap_del(&rs->ns_by_name, gone.name);
    size_t last = rs->n_ns - 1;
    if ((size_t)i != last) {
        rs->ns[i] = rs->ns[last];
        kn_imap_put(&rs->ns_by_name, rs->ns[i].name, i); /* replaces: no growth */
    }
    rs->n_ns--;
    kn_lset_unref(&c->lab, gone.labels);
    kn_dict_unref(&c->lab.dict, gone.name);
}

int kn_cluster_apply_namespace(kn_cluster *c, const kn_json *obj, bool deleted, kn_err *err)
{
    kn_relstate *rs = &c->rs;
    const char *name = KN_DIG_STR(obj, "metadata", "name");
    if (name == NULL || *name == '\0')
        return kn_err_set(err, "Namespace: metadata.name is missing");
    uint32_t id = kn_dict_find(&c->lab.dict, name);
    int32_t i = id ? kn_imap_get(&rs->ns_by_name, id, -1) : -1;
    if (deleted) {
        if (i >= 0) {
            ns_drop(c, i);
            ns_changed(c);
        }
        return 0;
    }
    kn_lset *labels = kn_lset_from_json(&c->lab, kn_json_dig(obj, "metadata", "labels", NULL), err);
    if (labels == NULL)
        return kn_err_prefix(err, "Namespace %s", name);
    if (i >= 0) {
        rs->ns[i].seen = true;
        if (rs->ns[i].labels == labels) { /* interned: the same set is the same labels */
            kn_lset_unref(&c->lab, labels);
            return 0;
        }
        kn_lset_unref(&c->lab, rs->ns[i].labels);
        rs->ns[i].labels = labels;
        ns_changed(c);
        return 0;
    }
    id = kn_dict_ref(&c->lab.dict, name);
    if (id == 0 || kn_grow((void **)&rs->ns, &rs->cap_ns, rs->n_ns + 1, sizeof(*rs->ns)) != 0 ||
        kn_imap_put(&rs->ns_by_name, id, (int32_t)rs->n_ns) != 0) {
        kn_dict_unref(&c->lab.dict, id);
        kn_lset_unref(&c->lab, labels);
        return kn_err_set(err, "out of memory");
    }
    rs->ns[rs->n_ns++] = (kn_nsrec){.name = id, .labels = labels, .seen = true};
    ns_changed(c);
    return 0;
}

void kn_cluster_ns_resync_begin(kn_cluster *c)
{
    for (size_t i = 0; i < c->rs.n_ns; i++)
        c->rs.ns[i].seen = false;
}

void kn_cluster_ns_resync_end(kn_cluster *c)
{
    bool changed = false;
    for (size_t i = c->rs.n_ns; i-- > 0;)
        if (!c->rs.ns[i].seen) {
            ns_drop(c, (int32_t)i);
            changed = true;
        }
    if (changed)
        ns_changed(c);
}
