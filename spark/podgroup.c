/* podgroup.c - a PodGroup object read and checked (see podgroup.h). */
#include "spark/podgroup.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/quote.h"
#include "kube/meta.h"

static int name_field(const kn_json *md, const char *field, size_t max, const char **out, kn_err *err)
{
    const kn_json *v = kn_json_get(md, field);
    const char *s = kn_json_str(v);
    char q[96];
    if (s == NULL || *s == '\0')
        return kn_err_set(err, "metadata.%s is missing", field);
    if (strlen(s) != kn_json_strlen(v) || strlen(s) > max || !kn_dns_subdomain_valid(s, strlen(s)))
        return kn_err_set(err, "metadata.%s is %s, not a legal name", field, kn_quote(s, q, sizeof(q)));
    *out = s;
    return 0;
}

int kn_podgroup_ident(const kn_json *obj, kn_gang_kind kind, kn_podgroup *out, kn_err *err)
{
    memset(out, 0, sizeof(*out));
    out->kind = kind;
    const kn_json *md = kn_json_get(obj, "metadata");
    const char *ns, *name;
    /* a namespace is one DNS label */
    if (name_field(md, "namespace", KN_LABEL_VALUE_MAX, &ns, err) != 0 ||
        name_field(md, "name", KN_OBJECT_NAME_MAX, &name, err) != 0)
        return kn_err_prefix(err, "PodGroup (%s)", kn_gang_kind_api(kind));
    out->ns = ns;
    out->name = name;
    return 0;
}

/* An optional integer member of spec in [lo, hi]; *out untouched when absent. */
static int spec_int(const kn_json *spec, const char *field, int64_t lo, int64_t hi, int *out, kn_err *err)
{
    const kn_json *v = kn_json_get(spec, field);
    int64_t i;
    if (v == NULL || kn_json_is(v, KN_JSON_NULL))
        return 0;
    if (kn_json_int(v, &i) != 0 || i < lo || i > hi) {
        char *text = kn_json_dump(v, NULL);
        char q[64];
        snprintf(q, sizeof(q), "%.48s%s", text ? text : "?", text && strlen(text) > 48 ? "..." : "");
        free(text);
        return kn_err_set(err, "spec.%s is %s, want an integer from %lld to %lld", field, q, (long long)lo,
                          (long long)hi);
    }
    *out = (int)i;
    return 0;
}

int kn_podgroup_parse(const kn_json *obj, kn_gang_kind kind, kn_podgroup *out, kn_err *err)
{
    if (kn_podgroup_ident(obj, kind, out, err) != 0)
        return -1;
    const kn_json *spec = kn_json_get(obj, "spec");
    int rc = 0;
    out->min_member = 1;
    if (spec != NULL && !kn_json_is(spec, KN_JSON_OBJECT))
        rc = kn_err_set(err, "spec is not an object");
    /* 0 (the Go zero value when unset) is no quorum: each member alone */
    if (rc == 0 && spec_int(spec, "minMember", 0, KN_GANG_MAX_MEMBERS, &out->min_member, err) != 0)
        rc = -1;
    if (out->min_member == 0)
        out->min_member = 1;
    const kn_json *mr = kn_json_get(spec, "minResources");
    if (rc == 0 && mr != NULL && !kn_json_is(mr, KN_JSON_NULL)) {
        if (kn_meta_check_map(mr, "spec.minResources", err) != 0)
            rc = -1;
        else
            out->min_resources = mr;
    }
    /* coscheduling's wait: 0 or less is its default, as unset */
    if (rc == 0 && kind == KN_GANG_COSCHEDULING &&
        spec_int(spec, "scheduleTimeoutSeconds", INT32_MIN, KN_PODGROUP_MAX_TIMEOUT_S, &out->timeout_s, err) != 0)
        rc = -1;
    if (out->timeout_s < 0)
        out->timeout_s = 0;
    if (rc != 0)
        return kn_err_prefix(err, "PodGroup %s/%s (%s)", out->ns, out->name, kn_gang_kind_api(kind));
    return 0;
}
