/* filter.c - the node filters that do not change with placements: readiness,
 * NodeUnschedulable, TaintToleration, NodeAffinity; and NodeResourcesFit
 * (see place.h). */
#include "scheduler/place/place.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- taints and tolerations ---- */

static const char *s_or(const char *s)
{
    return s ? s : "";
}

static bool tolerates(const kn_toleration *t, const char *key, const char *value, const char *effect)
{
    if (t->effect && *t->effect && strcmp(t->effect, effect) != 0)
        return false;
    const char *op = t->op && *t->op ? t->op : "Equal";
    if (!t->key || !*t->key)
        return strcmp(op, "Exists") == 0; /* empty key + Exists tolerates everything */
    if (strcmp(t->key, key) != 0)
        return false;
    if (strcmp(op, "Exists") == 0)
        return true;
    return strcmp(op, "Equal") == 0 && strcmp(s_or(t->value), value) == 0;
}

bool kn_pod_tolerates(const kn_constraints *pod, const char *key, const char *value, const char *effect)
{
    for (int i = 0; pod && i < pod->n_tolerations; i++)
        if (tolerates(&pod->tolerations[i], key, value, effect))
            return true;
    return false;
}

bool kn_tolerates_taints(const kn_node *n, const kn_constraints *pod, const kn_taint **first)
{
    for (int i = 0; i < n->n_taints; i++) {
        const kn_taint *t = &n->taints[i];
        /* PreferNoSchedule only steers scoring (prefer.c) */
        if (strcmp(t->effect, "NoSchedule") != 0 && strcmp(t->effect, "NoExecute") != 0)
            continue;
        if (!kn_pod_tolerates(pod, t->key, t->value, t->effect)) {
            if (first)
                *first = t;
            return false;
        }
    }
    return true;
}

/* ---- node affinity ---- */

static bool in_values(const kn_json *values, const char *v)
{
    for (size_t i = 0; i < kn_json_len(values); i++) {
        const char *s = kn_json_str(kn_json_at(values, i));
        if (s && strcmp(s, v) == 0)
            return true;
    }
    return false;
}

static bool parse_i64(const char *s, long long *out)
{
    if (s == NULL || *s == '\0')
        return false;
    char *end;
    errno = 0;
    *out = strtoll(s, &end, 10);
    return errno == 0 && *end == '\0';
}

/* One requirement against a value (NULL = label absent). */
static bool requirement(const char *op, const kn_json *values, const char *v)
{
    if (op == NULL)
        return false;
    if (strcmp(op, "In") == 0)
        return v != NULL && in_values(values, v);
    if (strcmp(op, "NotIn") == 0)
        return v == NULL || !in_values(values, v);
    if (strcmp(op, "Exists") == 0)
        return v != NULL;
    if (strcmp(op, "DoesNotExist") == 0)
        return v == NULL;
    if (strcmp(op, "Gt") == 0 || strcmp(op, "Lt") == 0) {
        long long have, want;
        if (v == NULL || kn_json_len(values) != 1 || !parse_i64(v, &have) ||
            !parse_i64(kn_json_str(kn_json_at(values, 0)), &want))
            return false;
        return op[0] == 'G' ? have > want : have < want;
    }
    return false; /* unknown operator: the API server would have rejected it */
}

bool kn_node_matches_term(const kn_node *n, const kn_json *term)
{
    const kn_json *exprs = kn_json_get(term, "matchExpressions");
    const kn_json *fields = kn_json_get(term, "matchFields");
    if (kn_json_len(exprs) == 0 && kn_json_len(fields) == 0)
        return false; /* an empty term matches no objects */
    for (size_t i = 0; i < kn_json_len(exprs); i++) {
        const kn_json *e = kn_json_at(exprs, i);
        const char *key = kn_json_get_str(e, "key");
        const char *v = key ? kn_json_get_str(n->labels, key) : NULL;
        if (key == NULL || !requirement(kn_json_get_str(e, "operator"), kn_json_get(e, "values"), v))
            return false;
    }
    for (size_t i = 0; i < kn_json_len(fields); i++) {
        const kn_json *e = kn_json_at(fields, i);
        const char *key = kn_json_get_str(e, "key");
        const char *op = kn_json_get_str(e, "operator");
        /* a node field selector takes one value: kube-apiserver rejects a
         * pod with more, and kube-scheduler's selector fails to parse it */
        if (key == NULL || strcmp(key, "metadata.name") != 0 || op == NULL ||
            (strcmp(op, "In") != 0 && strcmp(op, "NotIn") != 0) || kn_json_len(kn_json_get(e, "values")) != 1)
            return false;
        if (!requirement(op, kn_json_get(e, "values"), n->name))
            return false;
    }
    return true;
}

bool kn_node_matches_affinity(const kn_node *n, const kn_constraints *pod)
{
    if (pod == NULL)
        return true;
    const kn_json *sel = pod->node_selector;
    for (size_t i = 0; i < kn_json_len(sel); i++) {
        const char *want = kn_json_str(kn_json_value_at(sel, i));
        const char *have = kn_json_get_str(n->labels, kn_json_key_at(sel, i));
        if (want == NULL || have == NULL || strcmp(want, have) != 0)
            return false;
    }
    return pod->required_affinity == NULL || kn_node_selector_matches(n, pod->required_affinity);
}

bool kn_node_selector_matches(const kn_node *n, const kn_json *selector)
{
    const kn_json *terms = kn_json_get(selector, "nodeSelectorTerms");
    for (size_t i = 0; i < kn_json_len(terms); i++)
        if (kn_node_matches_term(n, kn_json_at(terms, i)))
            return true;
    return false; /* no term (or none matching): nothing satisfies the requirement */
}

bool kn_labels_match_selector(const kn_json *labels, const kn_json *selector)
{
    const kn_json *ml = kn_json_get(selector, "matchLabels");
    for (size_t i = 0; i < kn_json_len(ml); i++) {
        const char *want = kn_json_str(kn_json_value_at(ml, i));
        const char *have = kn_json_get_str(labels, kn_json_key_at(ml, i));
        if (want == NULL || have == NULL || strcmp(want, have) != 0)
            return false;
    }
    const kn_json *exprs = kn_json_get(selector, "matchExpressions");
    for (size_t i = 0; i < kn_json_len(exprs); i++) {
        const kn_json *e = kn_json_at(exprs, i);
        const char *key = kn_json_get_str(e, "key"), *op = kn_json_get_str(e, "operator");
        /* a label selector has no Gt or Lt (LabelSelectorAsSelector refuses them) */
        if (key == NULL || op == NULL || strcmp(op, "Gt") == 0 || strcmp(op, "Lt") == 0 ||
            !requirement(op, kn_json_get(e, "values"), kn_json_get_str(labels, key)))
            return false;
    }
    return true;
}

/* ---- the filters ---- */

bool kn_filter_static(const kn_node *n, const kn_constraints *pod, kn_diag *d)
{
    if (!n->ready) {
        kn_diag_add(d, "node(s) were not ready");
        return false;
    }
    if (n->unschedulable && !kn_pod_tolerates(pod, "node.kubernetes.io/unschedulable", "", "NoSchedule")) {
        kn_diag_add(d, "node(s) were unschedulable");
        return false;
    }
    const kn_taint *t = NULL;
    if (!kn_tolerates_taints(n, pod, &t)) {
        char r[KN_REASON_MAX];
        snprintf(r, sizeof(r), "node(s) had untolerated taint {%s: %s}", t->key, t->value);
        kn_diag_add(d, r);
        return false;
    }
    if (!kn_node_matches_affinity(n, pod)) {
        kn_diag_add(d, "node(s) didn't match Pod's node affinity/selector");
        return false;
    }
    return true;
}

bool kn_filter_resources(const kn_cluster *c, const kn_node *n, const kn_want *w, kn_diag *d)
{
    const kn_rvec *req = w->req;
    if (req->v[KN_R_PODS] > 0 && req->v[KN_R_PODS] > kn_node_free_dim(n, w->owner, KN_R_PODS)) {
        kn_diag_add(d, "Too many pods");
        return false;
    }
    bool ok = true;
    for (int i = 0; i < c->n_res; i++) {
        if (i == KN_R_PODS || req->v[i] <= 0 || req->v[i] <= kn_node_free_dim(n, w->owner, i))
            continue;
        kn_diag_add_insufficient(d, c, i);
        ok = false;
    }
    if (w->unfit_name != NULL) {
        char r[KN_REASON_MAX];
        snprintf(r, sizeof(r), "Insufficient %s", w->unfit_name);
        kn_diag_add(d, r);
        ok = false;
    }
    return ok;
}
