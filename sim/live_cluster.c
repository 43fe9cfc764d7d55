/* live_cluster.c - the live cluster read into a scheduler (see live_cluster.h). */
#include "sim/live_cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"
#include "kube/client/apiclient.h"
#include "kube/client/kubeconfig.h"
#include "kube/client/lister.h"
#include "sim/storage.h"

typedef struct reader {
    kn_scheduler *s;
    kn_sim_storage *st;
    kn_sched_kind kind;
    kn_live_cluster *lc;
} reader;

static int remember_pod(kn_live_cluster *lc, const kn_json *pod)
{
    const kn_json *md = kn_json_get(pod, "metadata");
    const char *ns = kn_json_get_str(md, "namespace"), *name = kn_json_get_str(md, "name");
    if (ns == NULL || name == NULL)
        return 0;
    size_t n = strlen(ns) + strlen(name) + 2;
    char *ref = malloc(n);
    if (ref == NULL || kn_grow((void **)&lc->refs, &lc->cap_refs, lc->n_refs + 1, sizeof(*lc->refs)) != 0) {
        free(ref);
        return -1;
    }
    snprintf(ref, n, "%s/%s", ns, name);
    lc->refs[lc->n_refs++] = ref;
    return kn_strmap_put(&lc->pods, ref, 0);
}

#define PRIORITY_CLASSES_PATH "/apis/scheduling.k8s.io/v1/priorityclasses"

typedef struct class_reader {
    kn_sim_priorities *prio;
    kn_live_cluster *lc;
} class_reader;

static int add_class(void *ctx, const kn_json *item, kn_err *err)
{
    (void)err;
    class_reader *r = ctx;
    const char *name = kn_json_str(kn_json_dig(item, "metadata", "name", NULL));
    if (name != NULL && strncmp(name, "system-", 7) == 0)
        return 0; /* the API server's own, built in */
    kn_err e = {{0}};
    if (kn_sim_priority_add(r->prio, item, &e) != 0) {
        fprintf(stderr, "kubenexus-scheduler simulate: %s: object ignored: %s\n", PRIORITY_CLASSES_PATH, e.msg);
        r->lc->ignored++;
        return 0;
    }
    r->lc->classes++;
    return 0;
}

/* A storage object as simulate's files give it (a list's items carry no
 * kind), so that what the cluster holds and what the simulated controllers
 * write share one resourceVersion sequence. */
static int load_storage(const reader *r, const kn_json *item, kn_err *e)
{
    const char *kind = r->kind == KN_SCHED_STORAGECLASSES ? "StorageClass"
                       : r->kind == KN_SCHED_CSINODES     ? "CSINode"
                       : r->kind == KN_SCHED_PVS          ? "PersistentVolume"
                                                          : "PersistentVolumeClaim";
    kn_json *doc = kn_json_clone(item);
    int rc = doc == NULL || kn_json_set_str(doc, "kind", kind) != 0 ? kn_err_set(e, "out of memory")
                                                                    : kn_sim_storage_load(r->st, r->s, doc, e);
    kn_json_free(doc);
    return rc;
}

static int apply_item(void *ctx, const kn_json *item, kn_err *err)
{
    reader *r = ctx;
    kn_err e = {{0}};
    bool storage = r->kind == KN_SCHED_STORAGECLASSES || r->kind == KN_SCHED_CSINODES || r->kind == KN_SCHED_PVS ||
                   r->kind == KN_SCHED_PVCS;
    if ((storage ? load_storage(r, item, &e) : kn_sched_apply(r->s, r->kind, item, false, &e)) != 0) {
        fprintf(stderr, "kubenexus-scheduler simulate: %s: object ignored: %s\n", kn_sched_kind_path(r->kind),
                e.msg);
        r->lc->ignored++;
        return 0;
    }
    r->lc->read[r->kind]++;
    if (r->kind == KN_SCHED_PODS && remember_pod(r->lc, item) != 0)
        return kn_err_set(err, "out of memory");
    return 0;
}

int kn_live_cluster_read(kn_scheduler *s, kn_sim_storage *st, const char *kubeconfig, kn_sim_priorities *prio,
                         kn_live_cluster *out, kn_err *err)
{
    memset(out, 0, sizeof(*out));
    kn_strmap_init(&out->pods);
    kn_kubeconfig kc;
    if (kn_kubeconfig_load(kubeconfig, &kc, err) != 0)
        return -1;
    kn_api *api = kn_api_new(&kc, NULL, err);
    kn_kubeconfig_free(&kc);
    if (api == NULL)
        return -1;
    /* nodes and topologies before the pods bound to them, PodGroups and
     * storage before the pods naming them (volumes before their claims),
     * PodDisruptionBudgets before the pods they select (so their labels are
     * kept), namespaces (their labels) before the pods whose terms select
     * them */
    static const kn_sched_kind order[KN_SCHED_KINDS] = {
        KN_SCHED_NODES,          KN_SCHED_NRTS,       KN_SCHED_PODGROUPS, KN_SCHED_VOLCANO_PODGROUPS,
        KN_SCHED_STORAGECLASSES, KN_SCHED_CSINODES,   KN_SCHED_PVS,       KN_SCHED_PVCS,
        KN_SCHED_PDBS,           KN_SCHED_NAMESPACES, KN_SCHED_PODS};
    int rc = 0;
    for (int i = 0; i < KN_SCHED_KINDS && rc == 0; i++) {
        reader r = {.s = s, .st = st, .kind = order[i], .lc = out};
        int got = kn_list_all(api, kn_sched_kind_path(order[i]), KN_LIST_PAGE, apply_item, &r, err);
        if (got == 1 && (order[i] == KN_SCHED_NODES || order[i] == KN_SCHED_PODS))
            rc = kn_err_set(err, "list %s: 404: not a Kubernetes API server?", kn_sched_kind_path(order[i]));
        else if (got == 1)
            out->absent[order[i]] = true;
        else
            rc = got;
    }
    class_reader cr = {prio, out};
    if (rc == 0 && prio != NULL) {
        int got = kn_list_all(api, PRIORITY_CLASSES_PATH, KN_LIST_PAGE, add_class, &cr, err);
        rc = got == 1 ? 0 : got; /* not served: no class but the system ones */
    }
    kn_api_free(api);
    return rc;
}

bool kn_live_cluster_has_pod(const kn_live_cluster *lc, const char *ref)
{
    return kn_strmap_get(&lc->pods, ref) >= 0;
}

void kn_live_cluster_free(kn_live_cluster *lc)
{
    kn_strmap_free(&lc->pods);
    for (size_t i = 0; i < lc->n_refs; i++)
        free(lc->refs[i]);
    free(lc->refs);
    memset(lc, 0, sizeof(*lc));
}
