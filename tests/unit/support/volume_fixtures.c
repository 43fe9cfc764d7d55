/* volume_fixtures.c - storage objects and pods with claims for the
 * scheduler's tests (contracts in volume_fixtures.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/sched_fixtures.h"
#include "support/volume_fixtures.h"

static int fx_vol_rv = 1000;

static void apply(kn_scheduler *s, kn_sched_kind kind, kn_json *o, const char *what)
{
    kn_err err = {{0}};
    if (kn_sched_apply(s, kind, o, false, &err) != 0)
        fail_msg("apply %s: %s", what, err.msg);
    kn_json_free(o);
}

void fx_sclass(kn_scheduler *s, const char *name, const char *mode, const char *provisioner, const char *extra)
{
    apply(s, KN_SCHED_STORAGECLASSES,
          fx_parse("{\"apiVersion\":\"storage.k8s.io/v1\",\"kind\":\"StorageClass\",\"metadata\":{\"name\":\"%s\","
                   "\"resourceVersion\":\"%d\"},\"provisioner\":\"%s\",\"reclaimPolicy\":\"Delete\","
                   "\"volumeBindingMode\":\"%s\"%s}",
                   name, fx_vol_rv++, provisioner, mode, extra),
          name);
}

void fx_pvc(kn_scheduler *s, const char *name, const char *cls, const char *size, const char *spec,
            const char *meta, const char *phase)
{
    char clsf[300] = "", sizef[300] = "";
    if (cls)
        snprintf(clsf, sizeof(clsf), ",\"storageClassName\":\"%s\"", cls);
    if (size)
        snprintf(sizef, sizeof(sizef), ",\"resources\":{\"requests\":{\"storage\":\"%s\"}}", size);
    apply(s, KN_SCHED_PVCS,
          fx_parse("{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"%s\","
                   "\"namespace\":\"default\",\"uid\":\"pvc-uid-%s\",\"resourceVersion\":\"%d\"%s},"
                   "\"spec\":{\"volumeMode\":\"Filesystem\"%s%s%s%s},\"status\":{\"phase\":\"%s\"}}",
                   name, name, fx_vol_rv++, meta,
                   strstr(spec, "accessModes") ? "" : ",\"accessModes\":[\"ReadWriteOnce\"]", clsf, sizef, spec,
                   phase),
          name);
}

void fx_pvc_bound(kn_scheduler *s, const char *name, const char *cls, const char *pv)
{
    char spec[300];
    snprintf(spec, sizeof(spec), ",\"volumeName\":\"%s\"", pv);
    fx_pvc(s, name, cls, "10Gi", spec, ",\"annotations\":{\"pv.kubernetes.io/bind-completed\":\"yes\"}", "Bound");
}

void fx_pv(kn_scheduler *s, const char *name, const char *cls, const char *size, const char *labels,
           const char *affinity, const char *spec)
{
    char aff[1200] = "";
    if (affinity)
        snprintf(aff, sizeof(aff), ",\"nodeAffinity\":{\"required\":%s}", affinity);
    apply(s, KN_SCHED_PVS,
          fx_parse("{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolume\",\"metadata\":{\"name\":\"%s\","
                   "\"uid\":\"pv-uid-%s\",\"resourceVersion\":\"%d\",\"labels\":{%s}},"
                   "\"spec\":{\"storageClassName\":\"%s\",\"capacity\":{\"storage\":\"%s\"},"
                   "\"accessModes\":[\"ReadWriteOnce\"],\"persistentVolumeReclaimPolicy\":\"Delete\"%s%s},"
                   "\"status\":{\"phase\":\"%s\"}}",
                   name, name, fx_vol_rv++, labels, cls, size, aff, spec,
                   strstr(spec, "claimRef") ? "Bound" : "Available"),
          name);
}

const char *fx_affinity(char *buf, size_t cap, const char *key, const char *value)
{
    snprintf(buf, cap,
             "{\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":\"%s\",\"operator\":\"In\","
             "\"values\":[\"%s\"]}]}]}",
             key, value);
    return buf;
}

void fx_csinode(kn_scheduler *s, const char *node, const char *drivers)
{
    apply(s, KN_SCHED_CSINODES,
          fx_parse("{\"apiVersion\":\"storage.k8s.io/v1\",\"kind\":\"CSINode\",\"metadata\":{\"name\":\"%s\","
                   "\"resourceVersion\":\"%d\"},\"spec\":{\"drivers\":%s}}",
                   node, fx_vol_rv++, drivers),
          node);
}

void fx_pod_volumes(kn_scheduler *s, const char *name, const char *volumes, const char *labels)
{
    char spec[4000];
    snprintf(spec, sizeof(spec), ",\"volumes\":[%s]", volumes);
    fx_pod_full(s, name, "1", "1Gi", labels, "", spec, "", NULL, NULL);
}

void fx_pod_volumes_on(kn_scheduler *s, const char *name, const char *volumes, const char *node)
{
    char spec[4000];
    snprintf(spec, sizeof(spec), ",\"volumes\":[%s]", volumes);
    fx_pod_full(s, name, "1", "1Gi", "", "", spec, "", node, "default-scheduler");
}

const kn_sched_vstep *fx_vstep(const kn_sched_binding *b, const char *suffix)
{
    size_t sl = strlen(suffix);
    for (int i = 0; b != NULL && i < b->n_vsteps; i++) {
        size_t pl = strlen(b->vsteps[i].path);
        if (pl >= sl && strcmp(b->vsteps[i].path + pl - sl, suffix) == 0)
            return &b->vsteps[i];
    }
    return NULL;
}

static void provision_from(kn_scheduler *s, const kn_sched_out *out, size_t from, const char *cls,
                           const char *provisioner)
{
    for (size_t i = from; i < out->n_bindings; i++) {
        const kn_sched_binding *b = &out->bindings[i];
        for (int k = 0; k < b->n_vsteps; k++) {
            const kn_sched_vstep *v = &b->vsteps[k];
            kn_json *body = kn_json_parse(v->body, strlen(v->body), NULL, NULL);
            assert_non_null(body);
            const char *slash = strrchr(v->path, '/');
            char claim[300], pv[320], aff[600], spec[1400], meta[600];
            if (v->pv) {
                snprintf(claim, sizeof(claim), "%s",
                         kn_json_str(kn_json_dig(body, "spec", "claimRef", "name", NULL)));
                snprintf(pv, sizeof(pv), "%s", slash + 1);
            } else {
                snprintf(claim, sizeof(claim), "%s", slash + 1);
                snprintf(pv, sizeof(pv), "pv-%s", claim);
            }
            snprintf(spec, sizeof(spec),
                     ",\"csi\":{\"driver\":\"%s\",\"volumeHandle\":\"vol-%s\"},"
                     "\"claimRef\":{\"kind\":\"PersistentVolumeClaim\",\"namespace\":\"default\","
                     "\"name\":\"%s\",\"uid\":\"pvc-uid-%s\"}",
                     provisioner, claim, claim, claim);
            fx_pv(s, pv, cls, "10Gi", "", fx_affinity(aff, sizeof(aff), "kubernetes.io/hostname", b->node), spec);
            snprintf(spec, sizeof(spec), ",\"volumeName\":\"%s\"", pv);
            snprintf(meta, sizeof(meta), ",\"annotations\":{\"pv.kubernetes.io/bind-completed\":\"yes\"%s%s%s}",
                     v->pv ? "" : ",\"volume.kubernetes.io/selected-node\":\"", v->pv ? "" : b->node,
                     v->pv ? "" : "\"");
            fx_pvc(s, claim, cls, "10Gi", spec, meta, "Bound");
            kn_json_free(body);
        }
    }
}

int fx_cycle_provisioned(kn_scheduler *s, double now, kn_sched_out *out, const char *cls, const char *provisioner)
{
    kn_err err = {{0}};
    size_t before = out->n_bindings;
    int n = kn_sched_cycle(s, now, out, &err);
    assert_true(n >= 0);
    provision_from(s, out, before, cls, provisioner);
    for (size_t i = before; i < out->n_bindings; i++) {
        char msg[512] = "";
        if (out->bindings[i].wait_volumes &&
            kn_sched_volumes_ready(s, out->bindings[i].uid, msg, sizeof(msg)) != 1)
            fail_msg("%s: volumes not ready after provisioning: %s", out->bindings[i].name, msg);
    }
    for (size_t i = before; i < out->n_bindings; i++)
        kn_sched_bind_ok(s, out->bindings[i].uid, now, out);
    return n;
}

void fx_provision(kn_scheduler *s, const kn_sched_out *out, const char *cls, const char *provisioner)
{
    provision_from(s, out, 0, cls, provisioner);
}
