#include "spark/gang.h"

#include <string.h>

#include "kube/meta.h"
#include "base/quote.h"

int kn_parse_positive_int(const char *s, int max, int *out)
{
    if (s == NULL || s[0] < '1' || s[0] > '9')
        return -1; /* empty, sign, space or leading zero */
    long long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
        if (v > max)
            return -1; /* also stops before any overflow */
    }
    *out = (int)v;
    return 0;
}

static int parse_name(const char *label, const char *value, kn_gang_spec *out, kn_err *err)
{
    char q[96];
    if (value[0] == '\0')
        return kn_err_set(err,
                          "label %s is empty, want the gang's name (the same on the driver "
                          "and every executor)",
                          label);
    if (!kn_label_value_valid(value))
        return kn_err_set(err,
                          "label %s is %s, want a legal label value (at most %d characters, "
                          "a letter or digit at both ends, only letters, digits, '-', '_' or '.')",
                          label, kn_quote(value, q, sizeof(q)), KN_LABEL_VALUE_MAX);
    memcpy(out->name, value, strlen(value) + 1);
    out->name_label = label;
    return 0;
}

/* executors >= 0: the application's, so the value that is right is named
 * instead of "a positive integer" (the user then knows what to write). */
static int parse_min(const char *label, const char *value, int executors, bool initial, kn_gang_spec *out,
                     kn_err *err)
{
    char q[96];
    if (kn_parse_positive_int(value, KN_GANG_MAX_MEMBERS, &out->min_available) == 0) {
        out->min_label = label;
        return 0;
    }
    if (executors >= 0)
        return kn_err_set(err, "label %s is %s, want \"%d\" (1 driver + %d %s%s)", label,
                          kn_quote(value, q, sizeof(q)), 1 + executors, executors, initial ? "initial " : "",
                          executors == 1 ? "executor" : "executors");
    /* A well-formed number that is only too large gets the bound in the message. */
    int big;
    if (kn_parse_positive_int(value, 1000000000, &big) == 0)
        return kn_err_set(err, "label %s is %s, want a positive integer of at most %d", label,
                          kn_quote(value, q, sizeof(q)), KN_GANG_MAX_MEMBERS);
    return kn_err_set(err, "label %s is %s, want a positive integer", label, kn_quote(value, q, sizeof(q)));
}

int kn_gang_from_labels(const kn_json *labels, kn_gang_spec *out, kn_err *err)
{
    return kn_gang_from_labels_for(labels, -1, false, out, err);
}

int kn_gang_from_labels_for(const kn_json *labels, int executors, bool initial, kn_gang_spec *out, kn_err *err)
{
    memset(out, 0, sizeof(*out));
    if (kn_meta_check_map(labels, "metadata.labels", err) < 0)
        return -1;
    const char *name_label = KN_GANG_NAME_LABEL, *min_label = KN_GANG_MIN_LABEL;
    if (kn_json_get(labels, name_label) == NULL && kn_json_get(labels, min_label) == NULL) {
        name_label = KN_GANG_SIGS_NAME_LABEL; /* coscheduling plugin users */
        min_label = KN_GANG_SIGS_MIN_LABEL;
    }
    const char *name, *min;
    if (kn_meta_str(labels, "label", name_label, &name, err) < 0 ||
        kn_meta_str(labels, "label", min_label, &min, err) < 0)
        return -1;
    if (name == NULL && min == NULL)
        return 0;
    /* Both labels are judged, so one message lists every problem. */
    kn_err bad_name = {{0}}, bad_min = {{0}};
    int rc = 0;
    if (name == NULL) {
        char q[96];
        rc = kn_err_set(&bad_name,
                        "label %s is %s but label %s is missing; set %s to the gang's name on the "
                        "driver and every executor",
                        min_label, kn_quote(min, q, sizeof(q)), name_label, name_label);
    } else {
        rc = parse_name(name_label, name, out, &bad_name);
    }
    out->min_available = 1;
    if (min != NULL && parse_min(min_label, min, executors, initial, out, &bad_min) < 0)
        rc = -1;
    if (rc < 0) {
        if (bad_name.msg[0] && bad_min.msg[0])
            return kn_err_set(err, "%s; %s", bad_name.msg, bad_min.msg);
        return kn_err_set(err, "%s", bad_name.msg[0] ? bad_name.msg : bad_min.msg);
    }
    out->present = true;
    return 0;
}

const char *kn_gang_kind_api(kn_gang_kind kind)
{
    return kind == KN_GANG_COSCHEDULING ? "scheduling.x-k8s.io/v1alpha1"
           : kind == KN_GANG_VOLCANO    ? "scheduling.volcano.sh/v1beta1"
                                        : "";
}

const char *kn_gang_key_what(const kn_gang_spec *g)
{
    return g->kind == KN_GANG_VOLCANO ? "annotation" : "label";
}

/* The name of a PodGroup in the pod's namespace, from a label or annotation. */
static int podgroup_name(const kn_json *map, const char *what, const char *key, kn_gang_kind kind,
                         kn_gang_spec *out, kn_err *err)
{
    const char *v;
    char q[96];
    if (kn_meta_str(map, what, key, &v, err) < 0)
        return -1;
    if (v == NULL)
        return 0;
    /* a label value is at most 63 characters; an annotation's is not bounded */
    size_t max = kind == KN_GANG_COSCHEDULING ? KN_LABEL_VALUE_MAX : KN_OBJECT_NAME_MAX;
    size_t n = strlen(v);
    if (n > max || !kn_dns_subdomain_valid(v, n))
        return kn_err_set(err,
                          "%s %s is %s, want the name of a %s PodGroup in the pod's namespace "
                          "(at most %zu characters: lower-case letters, digits, '-' and '.')",
                          what, key, kn_quote(v, q, sizeof(q)), kn_gang_kind_api(kind), max);
    memcpy(out->name, v, n + 1);
    out->kind = kind;
    out->name_label = key;
    out->present = true;
    return 0;
}

int kn_gang_from_pod(const kn_json *labels, const kn_json *annotations, kn_gang_spec *out, kn_err *err)
{
    return kn_gang_from_pod_for(labels, annotations, -1, false, out, err);
}

int kn_gang_from_pod_for(const kn_json *labels, const kn_json *annotations, int executors, bool initial,
                         kn_gang_spec *out, kn_err *err)
{
    int rc = kn_gang_from_labels_for(labels, executors, initial, out, err);
    if (rc < 0 || out->present)
        return rc;
    rc = podgroup_name(labels, "label", KN_PODGROUP_LABEL, KN_GANG_COSCHEDULING, out, err);
    if (rc < 0 || out->present)
        return rc;
    if (kn_meta_check_map(annotations, "metadata.annotations", err) < 0)
        return -1;
    return podgroup_name(annotations, "annotation", KN_VOLCANO_GROUP_ANNOTATION, KN_GANG_VOLCANO, out, err);
}
