/* volume_binding.c - VolumeBinding: a pod's claims exist and are usable,
 * and on a node each is bound to a volume the node may mount, or can be:
 * kube-scheduler's volume binder (binder.go) and its helpers
 * (component-helpers/storage/volume), read for their decisions.
 *
 * PreFilter, per claim in spec.volumes order: missing ("persistentvolumeclaim
 * "x" not found", or for a generic ephemeral volume "waiting for ephemeral
 * volume controller to create the persistentvolumeclaim "x""), lost, being
 * deleted, or an ephemeral claim another owner controls fail the pod. A
 * claim is bound when it has spec.volumeName and the bind-completed
 * annotation; one not bound whose class is WaitForFirstConsumer (and that
 * names no volume) is the scheduler's to bind; any other ("Immediate", or
 * pre-bound and not yet completed) fails the pod with "pod has unbound
 * immediate PersistentVolumeClaims" until the PV controller binds it.
 *
 * Filter, on a node: a bound claim's volume must exist and its node affinity
 * admit the node. A claim to bind whose selected-node annotation names
 * another node does not fit; one with none takes the smallest available
 * volume of its class that is big enough, of its volume mode, access modes
 * and selector, admitting the node and not taken by another claim (a volume
 * pre-bound to the claim first); without one it is provisioned there if its
 * class has a provisioner and its allowedTopologies admit the node.
 * CSIStorageCapacity and CSI migration of in-tree volumes are not read. */
#include "scheduler/place/volumes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool owned_by(const kn_pvc *pvc, const kn_cpod *p)
{
    return pvc->owner_uid != NULL && strcmp(pvc->owner_uid, p->uid) == 0 && strcmp(pvc->ns, p->ns) == 0;
}

/* The node-independent part of FindMatchingVolume for one volume. */
static bool candidate(const kn_pv *pv, const kn_pvc *pvc)
{
    if (!pv->live || pv->deleting || strcmp(pv->class_name, pvc->class_name) != 0)
        return false;
    if (kn_pv_claimed_by_other(pv, pvc->ns, pvc->name, pvc->uid))
        return false;
    if (pvc->has_request && pv->capacity < pvc->request)
        return false;
    if (pv->block != pvc->block)
        return false;
    if (kn_pv_bound_to(pv, pvc->ns, pvc->name, pvc->uid))
        return true; /* pre-bound to the claim: phase, selector and modes are not asked */
    if (!pv->available || (pvc->selector != NULL && !kn_labels_match_selector(pv->labels, pvc->selector)))
        return false;
    return (pv->modes & pvc->modes) == pvc->modes;
}

static int candidates(const kn_cluster *c, kn_vclaim *cl)
{
    int n_pv;
    kn_pv *const *pvs = kn_vols_pv_list(c, &n_pv);
    int n = 0;
    for (int i = 0; i < n_pv; i++)
        n += pvs[i] != NULL && candidate(pvs[i], cl->pvc);
    if (n == 0)
        return 0;
    if ((cl->cand = malloc(sizeof(*cl->cand) * (size_t)n)) == NULL)
        return -1;
    for (int i = 0; i < n_pv; i++)
        if (pvs[i] != NULL && candidate(pvs[i], cl->pvc))
            cl->cand[cl->n_cand++] = pvs[i];
    return 0;
}

int kn_vb_prefilter(const kn_cluster *c, const kn_cpod *p, kn_vol_want *v, char *msg, size_t cap)
{
    const kn_pod_vols *pv = p->vols;
    for (int i = 0; i < v->n; i++) {
        kn_vclaim *cl = &v->cl[i];
        const kn_pod_claim *pc = &pv->claims[i];
        cl->direct = !pc->ephemeral;
        cl->driver = -1;
        cl->pvc = kn_vols_pvc(c, p->ns, pc->claim);
        if (cl->pvc == NULL) {
            if (pc->ephemeral)
                snprintf(msg, cap,
                         "waiting for ephemeral volume controller to create the persistentvolumeclaim \"%s\"",
                         pc->claim);
            else
                snprintf(msg, cap, "persistentvolumeclaim \"%s\" not found", pc->claim);
            return 1;
        }
        if (cl->pvc->lost) {
            snprintf(msg, cap, "persistentvolumeclaim \"%s\" bound to non-existent persistentvolume \"%s\"",
                     pc->claim, cl->pvc->volume_name ? cl->pvc->volume_name : "");
            return 1;
        }
        if (cl->pvc->deleting) {
            snprintf(msg, cap, "persistentvolumeclaim \"%s\" is being deleted", pc->claim);
            return 1;
        }
        if (pc->ephemeral && !owned_by(cl->pvc, p)) {
            snprintf(msg, cap, "PVC %s/%s was not created for pod %s/%s (pod is not owner)", p->ns, pc->claim,
                     p->ns, p->name);
            return 1;
        }
    }
    for (int i = 0; i < v->n; i++) {
        kn_vclaim *cl = &v->cl[i];
        if (kn_pvc_bound(cl->pvc)) {
            cl->bound = true;
            cl->pv = kn_vols_pv(c, cl->pvc->volume_name);
            continue;
        }
        const char *cls = cl->pvc->class_name;
        const kn_sclass *sc = cls && *cls ? kn_vols_class(c, cls) : NULL;
        if (sc == NULL || !sc->wffc || cl->pvc->volume_name != NULL) {
            snprintf(msg, cap, "%s", KN_VB_UNBOUND_IMMEDIATE);
            return 1;
        }
        cl->sc = sc;
        cl->selected = kn_pvc_selected_node(cl->pvc);
        if (cl->selected == NULL) {
            if (candidates(c, cl) != 0)
                return -1;
            v->matching |= cl->n_cand > 0;
        }
    }
    return 0;
}

bool kn_vb_provisionable(const kn_node *n, const kn_sclass *sc)
{
    if (sc == NULL || !*sc->provisioner || strcmp(sc->provisioner, KN_NO_PROVISIONER) == 0)
        return false;
    const kn_json *terms = sc->topologies;
    if (kn_json_len(terms) == 0)
        return true;
    for (size_t i = 0; i < kn_json_len(terms); i++) {
        const kn_json *exprs = kn_json_get(kn_json_at(terms, i), "matchLabelExpressions");
        if (kn_json_len(exprs) == 0)
            continue; /* an empty term selects nothing */
        bool all = true;
        for (size_t j = 0; j < kn_json_len(exprs) && all; j++) {
            const kn_json *e = kn_json_at(exprs, j), *vals = kn_json_get(e, "values");
            const char *key = kn_json_get_str(e, "key");
            const char *have = key ? kn_json_get_str(n->labels, key) : NULL;
            bool in = false;
            for (size_t k = 0; have && k < kn_json_len(vals) && !in; k++) {
                const char *s = kn_json_str(kn_json_at(vals, k));
                in = s != NULL && strcmp(s, have) == 0;
            }
            all = in;
        }
        if (all)
            return true;
    }
    return false;
}

enum { VB_NODE_CONFLICT = 1, VB_PV_NOT_EXIST = 2, VB_BIND_CONFLICT = 4 };

int kn_vb_static(const kn_node *n, const kn_vol_want *v)
{
    int r = 0;
    for (int i = 0; i < v->n; i++) { /* checkBoundClaims: the first failure says it */
        const kn_vclaim *cl = &v->cl[i];
        if (!cl->bound)
            continue;
        if (cl->pv == NULL) {
            r |= VB_PV_NOT_EXIST;
            break;
        }
        if (cl->pv->affinity != NULL && !kn_node_selector_matches(n, cl->pv->affinity)) {
            r |= VB_NODE_CONFLICT;
            break;
        }
    }
    for (int i = 0; i < v->n; i++) {
        const kn_vclaim *cl = &v->cl[i];
        if (cl->bound || (cl->selected == NULL && cl->n_cand > 0))
            continue;
        if ((cl->selected != NULL && strcmp(cl->selected, n->name) != 0) || !kn_vb_provisionable(n, cl->sc))
            return r | VB_BIND_CONFLICT;
    }
    return r;
}

/* The claims to match, smallest request first (stable: equal ones in pod order). */
static int match_order(const kn_vol_want *v, int *order)
{
    int k = 0;
    for (int i = 0; i < v->n; i++) {
        const kn_vclaim *cl = &v->cl[i];
        if (cl->bound || cl->selected != NULL || cl->n_cand == 0)
            continue;
        int64_t q = cl->pvc->has_request ? cl->pvc->request : 0;
        int j = k++;
        while (j > 0) {
            const kn_pvc *o = v->cl[order[j - 1]].pvc;
            if ((o->has_request ? o->request : 0) <= q)
                break;
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    return k;
}

static bool taken(const kn_pv **chosen, int n, const kn_pv *pv)
{
    for (int i = 0; i < n; i++)
        if (chosen[i] == pv)
            return true;
    return false;
}

/* FindMatchingVolume on node n among the claim's candidates. */
static const kn_pv *match(const kn_node *n, const kn_vclaim *cl, const kn_pv **chosen, int n_chosen)
{
    const kn_pv *best = NULL;
    const kn_pvc *pvc = cl->pvc;
    for (int i = 0; i < cl->n_cand; i++) {
        const kn_pv *pv = cl->cand[i];
        if (taken(chosen, n_chosen, pv) || kn_pv_claimed_by_other(pv, pvc->ns, pvc->name, pvc->uid))
            continue;
        bool fits = pv->affinity == NULL || kn_node_selector_matches(n, pv->affinity);
        if (kn_pv_bound_to(pv, pvc->ns, pvc->name, pvc->uid))
            return fits ? pv : NULL;
        if (fits && (best == NULL || pv->capacity < best->capacity))
            best = pv;
    }
    return best;
}

int kn_vb_dynamic(const kn_node *n, const kn_vol_want *v, const kn_pv **chosen)
{
    int order[KN_VOL_MAX_CLAIMS];
    int k = match_order(v, order), n_chosen = 0;
    const kn_pv *picked[KN_VOL_MAX_CLAIMS];
    for (int i = 0; i < v->n; i++)
        if (chosen)
            chosen[i] = NULL;
    bool ok = true;
    for (int j = 0; j < k; j++) {
        const kn_vclaim *cl = &v->cl[order[j]];
        const kn_pv *pv = match(n, cl, picked, n_chosen);
        if (pv != NULL) {
            picked[n_chosen++] = pv;
            if (chosen)
                chosen[order[j]] = pv;
        } else if (!kn_vb_provisionable(n, cl->sc)) {
            ok = false;
        }
    }
    return ok ? 0 : VB_BIND_CONFLICT;
}
