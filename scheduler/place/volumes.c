/* volumes.c - a pod's volumes as the placer sees them: the PreFilter chain
 * of the volume plugins, the want's signature, and the Filter chain in
 * plugin order (see volumes.h). */
#include "scheduler/place/volumes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

void kn_vol_want_free(kn_vol_want *v)
{
    if (v == NULL)
        return;
    for (int i = 0; i < v->n; i++) {
        free(v->cl[i].cand);
        free(v->cl[i].handle);
    }
    free(v->cl);
    free(v->zone);
    free(v->sig);
    free(v);
}

static kn_vol_want *want_new(int n)
{
    kn_vol_want *v = calloc(1, sizeof(*v));
    if (v == NULL)
        return NULL;
    v->n = n;
    v->cl = calloc((size_t)n + 1, sizeof(*v->cl));
    v->zone = calloc((size_t)n * 4 + 1, sizeof(*v->zone));
    if (v->cl == NULL || v->zone == NULL) {
        kn_vol_want_free(v);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        v->cl[i].driver = -1;
    return v;
}

static void put_json(kn_buf *b, const kn_json *j)
{
    if (j != NULL)
        kn_json_write_value(b, j);
    kn_buf_putc(b, '\x1f');
}

/* The pod's constraint signature followed by what the static checks read
 * (volumes' node affinity, selected nodes, classes' provisioners and
 * topologies, zone labels): pods that read the same share node caches.
 * Sections end in \x1c, fields in \x1f: bytes no name or JSON text holds. */
static char *signature(const char *cons_sig, const kn_vol_want *v)
{
    kn_buf b = KN_BUF_INIT;
    kn_buf_puts(&b, cons_sig);
    kn_buf_putc(&b, '\x1c');
    for (int i = 0; i < v->n; i++) {
        const kn_vclaim *cl = &v->cl[i];
        if (cl->bound) {
            kn_buf_puts(&b, cl->pv == NULL ? "P" : "A");
            if (cl->pv != NULL)
                put_json(&b, cl->pv->affinity);
        } else {
            kn_buf_puts(&b, cl->selected ? "S" : "C");
            kn_buf_puts(&b, cl->selected ? cl->selected : "");
            kn_buf_putc(&b, '\x1f');
            kn_buf_puts(&b, cl->sc && *cl->sc->provisioner && strcmp(cl->sc->provisioner, KN_NO_PROVISIONER) != 0
                                ? "p"
                                : "-");
            put_json(&b, cl->sc ? cl->sc->topologies : NULL);
        }
        kn_buf_putc(&b, '\x1c');
    }
    for (int i = 0; i < v->n_zone; i++) {
        kn_buf_puts(&b, "Z");
        kn_buf_puts(&b, v->zone[i].key);
        kn_buf_putc(&b, '\x1f');
        kn_buf_puts(&b, v->zone[i].values);
        kn_buf_putc(&b, '\x1c');
    }
    return kn_buf_finish(&b, NULL);
}

int kn_vol_prefilter(const kn_cluster *c, const kn_cpod *p, const char *cons_sig, kn_vol_want **out, char *msg,
                     size_t cap)
{
    *out = NULL;
    const kn_pod_vols *pv = p->vols;
    if (pv == NULL || pv->n == 0)
        return 0;
    if (pv->n > KN_VOL_MAX_CLAIMS) {
        snprintf(
            msg, cap,
            "pod has %d volumes backed by PersistentVolumeClaims; kubenexus-scheduler places pods with at most %d",
            pv->n, KN_VOL_MAX_CLAIMS);
        return 1;
    }
    for (int i = 0; i < pv->n; i++) /* VolumeRestrictions' PreFilter reads the direct claims first */
        if (!pv->claims[i].ephemeral && kn_vols_pvc(c, p->ns, pv->claims[i].claim) == NULL) {
            snprintf(msg, cap, "persistentvolumeclaim \"%s\" not found", pv->claims[i].claim);
            return 1;
        }
    kn_vol_want *v = want_new(pv->n);
    if (v == NULL)
        return -1;
    int rc = kn_vb_prefilter(c, p, v, msg, cap);
    if (rc == 0)
        rc = kn_vz_prefilter(c, p, v, msg, cap);
    if (rc == 0 && kn_vl_prefilter(c, v) != 0)
        rc = -1;
    if (rc != 0) {
        kn_vol_want_free(v);
        return rc;
    }
    v->rwop_conflict = kn_vr_conflict(c, v);
    if (cons_sig != NULL && !v->matching && !v->limited && !v->rwop_conflict &&
        (v->sig = signature(cons_sig, v)) == NULL) {
        kn_vol_want_free(v);
        return -1;
    }
    *out = v;
    return 0;
}

kn_vol_want *kn_vol_classes_want(const kn_cluster *c, const char *const *classes, int n, const char *cons_sig)
{
    int k = 0;
    const kn_sclass *sc[KN_VOL_MAX_CLAIMS];
    for (int i = 0; i < n && k < KN_VOL_MAX_CLAIMS; i++) {
        const kn_sclass *s = kn_vols_class(c, classes[i]);
        if (s != NULL && s->wffc) /* an Immediate claim is bound wherever its provisioner chose */
            sc[k++] = s;
    }
    kn_vol_want *v = k ? want_new(k) : NULL;
    if (v == NULL)
        return NULL;
    for (int i = 0; i < k; i++)
        v->cl[i].sc = sc[i];
    if (cons_sig != NULL && (v->sig = signature(cons_sig, v)) == NULL) {
        kn_vol_want_free(v);
        return NULL;
    }
    return v;
}

bool kn_vol_static_ok(const kn_cluster *c, const kn_node *n, const kn_vol_want *v)
{
    (void)c;
    return kn_vb_static(n, v) == 0 && kn_vz_fits(n, v);
}

bool kn_vol_dynamic_ok(const kn_cluster *c, int node, const kn_vol_want *v)
{
    return !v->rwop_conflict && kn_vl_fits(c, node, v) &&
           (!v->matching || kn_vb_dynamic(&c->nodes[node], v, NULL) == 0);
}

bool kn_vol_filter(const kn_cluster *c, int node, const kn_vol_want *v, kn_diag *d)
{
    const kn_node *n = &c->nodes[node];
    if (v->rwop_conflict) {
        kn_diag_add(d, KN_VR_RWOP);
        return false;
    }
    if (!kn_vl_fits(c, node, v)) {
        kn_diag_add(d, KN_VL_EXCEEDED);
        return false;
    }
    int r = kn_vb_static(n, v) | (v->matching ? kn_vb_dynamic(n, v, NULL) : 0);
    if (r & 1) /* binder.go appends its reasons in this order */
        kn_diag_add(d, KN_VB_NODE_CONFLICT);
    if (r & 4)
        kn_diag_add(d, KN_VB_BIND_CONFLICT);
    if (r & 2)
        kn_diag_add(d, KN_VB_PV_NOT_EXIST);
    if (r != 0)
        return false;
    if (!kn_vz_fits(n, v)) {
        kn_diag_add(d, KN_VZ_CONFLICT);
        return false;
    }
    return true;
}

int kn_vol_decide(const kn_cluster *c, int node, const kn_vol_want *v,
                  int (*fn)(void *ctx, const kn_pvc *claim, const kn_pv *pv), void *ctx)
{
    const kn_node *n = &c->nodes[node];
    const kn_pv *chosen[KN_VOL_MAX_CLAIMS];
    if (kn_vb_static(n, v) != 0 || kn_vb_dynamic(n, v, chosen) != 0)
        return -1;
    /* binder.go writes the volumes' claimRefs, then the claims to provision */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < v->n; i++) {
            const kn_vclaim *cl = &v->cl[i];
            if (cl->bound || cl->pvc == NULL || (pass == 0) != (chosen[i] != NULL))
                continue;
            if (fn(ctx, cl->pvc, chosen[i]) != 0)
                return -1;
        }
    return 0;
}
