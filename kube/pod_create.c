/* pod_create.c - kube-apiserver's changes to a pod it creates (see pod_create.h). */
#include "kube/pod_create.h"

#include <string.h>

/* key op (value) for each listed key the pod has. */
static int merge_keys(kn_json *sel, const kn_json *keys, const char *op, const kn_json *labels)
{
    for (size_t i = 0; i < kn_json_len(keys); i++) {
        const char *key = kn_json_str(kn_json_at(keys, i));
        const char *value = key ? kn_json_get_str(labels, key) : NULL;
        if (value == NULL)
            continue;
        kn_json *exprs = kn_json_get(sel, "matchExpressions");
        if (!kn_json_is(exprs, KN_JSON_ARRAY)) {
            if (kn_json_set(sel, "matchExpressions", kn_json_new_array()) != 0)
                return -1;
            exprs = kn_json_get(sel, "matchExpressions");
        }
        kn_json *req = kn_json_new_object(), *vals = kn_json_new_array();
        if (req == NULL || vals == NULL || kn_json_set_str(req, "key", key) != 0 ||
            kn_json_set_str(req, "operator", op) != 0 || kn_json_append(vals, kn_json_new_string(value)) != 0 ||
            kn_json_set(req, "values", vals) != 0) {
            kn_json_free(req);
            return -1;
        }
        if (kn_json_append(exprs, req) != 0)
            return -1;
    }
    return 0;
}

static int merge_term(kn_json *term, const kn_json *labels)
{
    kn_json *sel = kn_json_get(term, "labelSelector");
    if (!kn_json_is(sel, KN_JSON_OBJECT))
        return 0;
    return merge_keys(sel, kn_json_get(term, "matchLabelKeys"), "In", labels) != 0 ||
                   merge_keys(sel, kn_json_get(term, "mismatchLabelKeys"), "NotIn", labels) != 0
               ? -1
               : 0;
}

int kn_pod_merge_label_keys(kn_json *pod, kn_err *err)
{
    const kn_json *labels = kn_json_dig(pod, "metadata", "labels", NULL);
    static const char *const kinds[] = {"podAffinity", "podAntiAffinity"};
    for (int k = 0; k < 2; k++) {
        kn_json *aff = kn_json_dig(pod, "spec", "affinity", kinds[k], NULL);
        kn_json *req = kn_json_get(aff, "requiredDuringSchedulingIgnoredDuringExecution");
        kn_json *pref = kn_json_get(aff, "preferredDuringSchedulingIgnoredDuringExecution");
        for (size_t i = 0; i < kn_json_len(req); i++)
            if (merge_term(kn_json_at(req, i), labels) != 0)
                return kn_err_set(err, "out of memory");
        for (size_t i = 0; i < kn_json_len(pref); i++)
            if (merge_term(kn_json_get(kn_json_at(pref, i), "podAffinityTerm"), labels) != 0)
                return kn_err_set(err, "out of memory");
    }
    return 0;
}
