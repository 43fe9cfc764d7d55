/* volumes.c - the volumes Spark mounts from sparkConf (see volumes.h). */
#include "spark/volumes.h"

#include <stdio.h>
#include <string.h>

static const char *const types[] = {"hostPath", "emptyDir", "nfs", "persistentVolumeClaim"};

static const char *opt(const kn_json *conf, const char *prefix, const kn_spark_volume *v, const char *key)
{
    char full[300];
    snprintf(full, sizeof(full), "%s%s.%s.%s", prefix, v->type, v->name, key);
    return kn_json_get_str(conf, full);
}

int kn_spark_conf_volumes(const kn_json *app, kn_spark_role role, kn_spark_volume *out, int cap)
{
    const kn_json *conf = kn_json_dig(app, "spec", "sparkConf", NULL);
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "spark.kubernetes.%s.volumes.",
             role == KN_SPARK_DRIVER ? "driver" : "executor");
    size_t pl = strlen(prefix);
    int n = 0;
    for (size_t i = 0; i < kn_json_len(conf) && n < cap; i++) {
        const char *k = kn_json_key_at(conf, i);
        if (strncmp(k, prefix, pl) != 0)
            continue;
        const char *t = k + pl, *dot = strchr(t, '.'), *dot2 = dot ? strchr(dot + 1, '.') : NULL;
        if (dot2 == NULL || (size_t)(dot - t) >= sizeof(out->type) ||
            (size_t)(dot2 - dot - 1) >= sizeof(out->name))
            continue;
        kn_spark_volume v = {0};
        memcpy(v.type, t, (size_t)(dot - t));
        memcpy(v.name, dot + 1, (size_t)(dot2 - dot - 1));
        bool known = false, seen = false;
        for (size_t j = 0; j < sizeof(types) / sizeof(types[0]); j++)
            known |= strcmp(v.type, types[j]) == 0;
        for (int j = 0; j < n && !seen; j++)
            seen = strcmp(out[j].type, v.type) == 0 && strcmp(out[j].name, v.name) == 0;
        if (!known || seen || (v.mount_path = opt(conf, prefix, &v, "mount.path")) == NULL)
            continue;
        const char *ro = opt(conf, prefix, &v, "mount.readOnly");
        v.read_only = ro != NULL && strcmp(ro, "true") == 0;
        v.sub_path = opt(conf, prefix, &v, "mount.subPath");
        v.claim_name = opt(conf, prefix, &v, "options.claimName");
        v.storage_class = opt(conf, prefix, &v, "options.storageClass");
        v.size_limit = opt(conf, prefix, &v, "options.sizeLimit");
        v.path = opt(conf, prefix, &v, "options.path");
        v.host_type = opt(conf, prefix, &v, "options.type");
        v.server = opt(conf, prefix, &v, "options.server");
        v.medium = opt(conf, prefix, &v, "options.medium");
        if (strcmp(v.type, "persistentVolumeClaim") == 0 && v.claim_name == NULL)
            continue; /* Spark: options.claimName is required */
        out[n++] = v;
    }
    return n;
}

/* s with every `from` replaced by `to`, into buf (cut to cap). */
static void replace_all(const char *s, const char *from, const char *to, char *buf, size_t cap)
{
    size_t fl = strlen(from), off = 0;
    buf[0] = '\0';
    while (*s && off + 1 < cap) {
        if (strncmp(s, from, fl) == 0) {
            off += (size_t)snprintf(buf + off, cap - off, "%s", to);
            s += fl;
        } else {
            buf[off++] = *s++;
            buf[off] = '\0';
        }
        if (off >= cap)
            off = cap - 1;
    }
}

void kn_spark_volume_claim(const kn_spark_volume *v, int index, const char *pod, int exec_id, char *buf,
                           size_t cap)
{
    char generated[400], id[16], tmp[512];
    snprintf(generated, sizeof(generated), "%s-pvc-%d", pod ? pod : "", index);
    snprintf(id, sizeof(id), "%d", exec_id);
    replace_all(v->claim_name ? v->claim_name : "", "OnDemand", generated, tmp, sizeof(tmp));
    if (exec_id > 0)
        replace_all(tmp, "SPARK_EXECUTOR_ID", id, buf, cap);
    else
        snprintf(buf, cap, "%s", tmp);
}

bool kn_spark_volume_creates_claim(const kn_spark_volume *v)
{
    return strcmp(v->type, "persistentVolumeClaim") == 0 && v->storage_class != NULL && v->size_limit != NULL;
}

const char *kn_spark_claim_access_mode(const kn_json *app)
{
    const char *legacy = kn_json_str(
        kn_json_dig(app, "spec", "sparkConf", "spark.kubernetes.legacy.useReadWriteOnceAccessMode", NULL));
    return legacy && strcmp(legacy, "true") == 0 ? "ReadWriteOnce" : "ReadWriteOncePod";
}
