/* pdbs.c - PodDisruptionBudgets as preemption counts them (see cluster.h).
 *
 * kube-scheduler's preemption (filterPodsWithPDBViolation) reads a budget's
 * namespace, its selector (invalid or empty: it matches no pod),
 * status.disruptionsAllowed, and status.disruptedPods, the pods the API
 * server has already counted against it. */
#include "scheduler/cache/cluster.h"

#include <stdlib.h>
#include <string.h>

#include "base/grow.h"

static void pdb_clear(kn_pdb *b)
{
    free(b->uid);
    free(b->ns);
    free(b->name);
    kn_label_selector_free(&b->sel);
    for (int i = 0; i < b->n_disrupted; i++)
        free(b->disrupted[i]);
    free(b->disrupted);
    memset(b, 0, sizeof(*b));
}

void kn_pdbs_free(kn_cluster *c)
{
    for (int i = 0; i < c->n_pdbs; i++)
        pdb_clear(&c->pdbs[i]);
    free(c->pdbs);
    kn_strmap_free(&c->pdb_by_uid);
    c->pdbs = NULL;
    c->n_pdbs = 0;
    c->cap_pdbs = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* status.disruptedPods: an object of pod name -> time; the names, sorted. */
static int read_disrupted(const kn_json *dp, kn_pdb *b)
{
    size_t n = kn_json_is(dp, KN_JSON_OBJECT) ? kn_json_len(dp) : 0;
    if (n > KN_PDB_MAX_DISRUPTED)
        n = KN_PDB_MAX_DISRUPTED;
    if (n == 0)
        return 0;
    if ((b->disrupted = calloc(n, sizeof(char *))) == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if ((b->disrupted[i] = strdup(kn_json_key_at(dp, i))) == NULL)
            return -1;
        b->n_disrupted++;
    }
    qsort(b->disrupted, n, sizeof(char *), cmp_str);
    return 0;
}

/* A budget read from obj into b (empty); -1 out of memory. */
static int read_pdb(const kn_json *obj, const char *uid, kn_pdb *b)
{
    const kn_json *meta = kn_json_get(obj, "metadata"), *status = kn_json_get(obj, "status");
    const char *ns = kn_json_get_str(meta, "namespace"), *name = kn_json_get_str(meta, "name");
    b->uid = strdup(uid);
    b->ns = strdup(ns ? ns : "");
    b->name = strdup(name ? name : "");
    if (!b->uid || !b->ns || !b->name)
        return -1;
    kn_err err;
    b->selects = kn_label_selector_parse(kn_json_dig(obj, "spec", "selector", NULL), &b->sel, &err) == 0 &&
                 !kn_label_selector_empty(&b->sel);
    int64_t allowed = 0;
    if (kn_json_int(kn_json_get(status, "disruptionsAllowed"), &allowed) != 0 || allowed < 0)
        allowed = 0; /* absent (not yet computed by the disruption controller): nothing is allowed */
    b->allowed = allowed > INT32_MAX ? INT32_MAX : (int32_t)allowed;
    if (read_disrupted(kn_json_get(status, "disruptedPods"), b) != 0)
        return -1;
    b->live = true;
    b->seen = true;
    return 0;
}

void kn_cluster_drop_pdb(kn_cluster *c, int i)
{
    if (c->pdbs[i].uid == NULL)
        return;
    kn_strmap_del(&c->pdb_by_uid, c->pdbs[i].uid);
    pdb_clear(&c->pdbs[i]);
}

int kn_cluster_apply_pdb(kn_cluster *c, const kn_json *obj, bool deleted, kn_err *err)
{
    const char *uid = KN_DIG_STR(obj, "metadata", "uid");
    if (uid == NULL || *uid == '\0')
        return kn_err_set(err, "PodDisruptionBudget %s/%s: metadata.uid is missing",
                          KN_DIG_STR(obj, "metadata", "namespace") ? KN_DIG_STR(obj, "metadata", "namespace") : "",
                          KN_DIG_STR(obj, "metadata", "name") ? KN_DIG_STR(obj, "metadata", "name") : "");
    int i = kn_strmap_get(&c->pdb_by_uid, uid);
    if (i >= 0)
        kn_cluster_drop_pdb(c, i);
    if (deleted)
        return 0;
    if (i < 0) {
        for (i = 0; i < c->n_pdbs && c->pdbs[i].uid != NULL; i++)
            ;
        if (i == c->n_pdbs) {
            if (kn_grow((void **)&c->pdbs, &c->cap_pdbs, (size_t)c->n_pdbs + 1, sizeof(*c->pdbs)) != 0)
                return kn_err_set(err, "out of memory");
            memset(&c->pdbs[c->n_pdbs++], 0, sizeof(kn_pdb));
        }
    }
    kn_pdb *b = &c->pdbs[i];
    if (read_pdb(obj, uid, b) != 0 || kn_strmap_put(&c->pdb_by_uid, b->uid, i) != 0) {
        pdb_clear(b);
        return kn_err_set(err, "out of memory");
    }
    c->keep_labels = true;
    return 0;
}

bool kn_pdb_covers(const kn_pdb *b, const kn_cpod *p)
{
    if (!b->live || !b->selects || p->labels.n == 0 || strcmp(b->ns, p->ns) != 0 ||
        !kn_label_selector_matches(&b->sel, &p->labels))
        return false;
    const char *name = p->name;
    return b->n_disrupted == 0 ||
           bsearch(&name, b->disrupted, (size_t)b->n_disrupted, sizeof(char *), cmp_str) == NULL;
}
