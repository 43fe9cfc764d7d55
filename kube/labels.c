/* labels.c - label keys, values, selectors and label sets (see labels.h). */
#include "kube/labels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/siphash.h"

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool kn_label_value_valid(const char *s)
{
    if (s == NULL)
        return false;
    size_t n = strlen(s);
    if (n == 0)
        return true;
    if (n > KN_LABEL_VALUE_MAX || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++) {
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    }
    return true;
}

/* A DNS-1123 subdomain: lowercase labels of [a-z0-9-], alphanumeric at both
 * ends, joined by dots, 253 bytes at most. */
static bool dns_subdomain(const char *s, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.')
            continue;
        if (i == start)
            return false;
        for (size_t j = start; j < i; j++) {
            char c = s[j];
            bool lower = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
            if (!lower && !(c == '-' && j != start && j + 1 != i))
                return false;
        }
        start = i + 1;
    }
    return true;
}

bool kn_label_key_valid(const char *s)
{
    if (s == NULL)
        return false;
    const char *slash = strchr(s, '/');
    const char *name = s;
    if (slash != NULL) {
        if (strchr(slash + 1, '/') != NULL || !dns_subdomain(s, (size_t)(slash - s)))
            return false;
        name = slash + 1;
    }
    /* the name part is a non-empty label value */
    return name[0] != '\0' && kn_label_value_valid(name);
}

static void req_free(kn_label_req *r)
{
    free(r->key);
    for (int i = 0; i < r->n_values; i++)
        free(r->values[i]);
    free(r->values);
    free(r->value_hash);
}

void kn_label_selector_free(kn_label_selector *s)
{
    for (int i = 0; i < s->n; i++)
        req_free(&s->reqs[i]);
    free(s->reqs);
    s->reqs = NULL;
    s->n = 0;
}

/* One requirement into out->reqs[out->n]; values: an array of strings or NULL. */
static int add_req(kn_label_selector *out, const char *key, kn_sel_op op, const kn_json *values,
                   const char *single, const char *path, kn_err *err)
{
    if (out->n >= KN_LABEL_SELECTOR_MAX_REQS)
        return kn_err_set(err, "more than %d requirements", KN_LABEL_SELECTOR_MAX_REQS);
    if (!kn_label_key_valid(key))
        return kn_err_set(err, "%s: key \"%.80s\" is not a qualified name", path, key);
    size_t nv = single ? 1 : kn_json_len(values);
    if (nv > KN_LABEL_SELECTOR_MAX_VALUES)
        return kn_err_set(err, "%s: more than %d values", path, KN_LABEL_SELECTOR_MAX_VALUES);
    if ((op == KN_SEL_IN || op == KN_SEL_NOT_IN) && nv == 0)
        return kn_err_set(err, "%s: values: must be non-empty for In and NotIn", path);
    if ((op == KN_SEL_EXISTS || op == KN_SEL_NOT_EXISTS) && nv != 0)
        return kn_err_set(err, "%s: values: must be empty for Exists and DoesNotExist", path);
    kn_label_req *r = &out->reqs[out->n];
    memset(r, 0, sizeof(*r));
    r->op = op;
    r->key = strdup(key);
    r->values = nv ? calloc(nv, sizeof(char *)) : NULL;
    r->value_hash = nv ? calloc(nv, sizeof(uint64_t)) : NULL;
    if (r->key == NULL || (nv && (r->values == NULL || r->value_hash == NULL))) {
        req_free(r);
        return kn_err_set(err, "out of memory");
    }
    r->key_hash = kn_keyhash_str(key);
    for (size_t i = 0; i < nv; i++) {
        const char *v = single ? single : kn_json_str(kn_json_at(values, i));
        if (v == NULL || !kn_label_value_valid(v)) {
            req_free(r);
            return kn_err_set(err, "%s: values[%zu]: not a label value", path, i);
        }
        if ((r->values[r->n_values] = strdup(v)) == NULL) {
            req_free(r);
            return kn_err_set(err, "out of memory");
        }
        r->value_hash[r->n_values++] = kn_keyhash_str(v);
    }
    out->n++;
    return 0;
}

static int parse_expr(kn_label_selector *out, const kn_json *e, size_t i, kn_err *err)
{
    char path[64];
    snprintf(path, sizeof(path), "matchExpressions[%zu]", i);
    const char *key = kn_json_get_str(e, "key"), *op = kn_json_get_str(e, "operator");
    const kn_json *values = kn_json_get(e, "values");
    if (!kn_json_is(e, KN_JSON_OBJECT) || key == NULL || op == NULL)
        return kn_err_set(err, "%s: want an object with key and operator", path);
    if (values != NULL && !kn_json_is(values, KN_JSON_NULL) && !kn_json_is(values, KN_JSON_ARRAY))
        return kn_err_set(err, "%s: values: want an array", path);
    kn_sel_op o;
    if (strcmp(op, "In") == 0)
        o = KN_SEL_IN;
    else if (strcmp(op, "NotIn") == 0)
        o = KN_SEL_NOT_IN;
    else if (strcmp(op, "Exists") == 0)
        o = KN_SEL_EXISTS;
    else if (strcmp(op, "DoesNotExist") == 0)
        o = KN_SEL_NOT_EXISTS;
    else
        return kn_err_set(err, "%s: operator \"%.40s\" is not In, NotIn, Exists or DoesNotExist", path, op);
    return add_req(out, key, o, kn_json_is(values, KN_JSON_ARRAY) ? values : NULL, NULL, path, err);
}

int kn_label_selector_parse(const kn_json *sel, kn_label_selector *out, kn_err *err)
{
    memset(out, 0, sizeof(*out));
    if (sel == NULL || kn_json_is(sel, KN_JSON_NULL))
        return 0;
    if (!kn_json_is(sel, KN_JSON_OBJECT))
        return kn_err_set(err, "want an object");
    const kn_json *ml = kn_json_get(sel, "matchLabels"), *me = kn_json_get(sel, "matchExpressions");
    if (ml != NULL && !kn_json_is(ml, KN_JSON_NULL) && !kn_json_is(ml, KN_JSON_OBJECT))
        return kn_err_set(err, "matchLabels: want an object");
    if (me != NULL && !kn_json_is(me, KN_JSON_NULL) && !kn_json_is(me, KN_JSON_ARRAY))
        return kn_err_set(err, "matchExpressions: want an array");
    size_t total = kn_json_len(ml) + kn_json_len(me);
    if (total > KN_LABEL_SELECTOR_MAX_REQS)
        return kn_err_set(err, "more than %d requirements", KN_LABEL_SELECTOR_MAX_REQS);
    if (total > 0 && (out->reqs = calloc(total, sizeof(kn_label_req))) == NULL)
        return kn_err_set(err, "out of memory");
    int rc = 0;
    for (size_t i = 0; rc == 0 && kn_json_is(ml, KN_JSON_OBJECT) && i < kn_json_len(ml); i++) {
        const char *v = kn_json_str(kn_json_value_at(ml, i));
        rc = v == NULL ? kn_err_set(err, "matchLabels.%.80s: want a string", kn_json_key_at(ml, i))
                       : add_req(out, kn_json_key_at(ml, i), KN_SEL_IN, NULL, v, "matchLabels", err);
    }
    for (size_t i = 0; rc == 0 && kn_json_is(me, KN_JSON_ARRAY) && i < kn_json_len(me); i++)
        rc = parse_expr(out, kn_json_at(me, i), i, err);
    if (rc != 0)
        kn_label_selector_free(out);
    return rc;
}

static int cmp_pair(const void *a, const void *b)
{
    const kn_label_pair *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->value < y->value ? -1 : x->value > y->value;
}

int kn_labelset_from_json(const kn_json *labels, kn_labelset *out)
{
    memset(out, 0, sizeof(*out));
    size_t n = kn_json_is(labels, KN_JSON_OBJECT) ? kn_json_len(labels) : 0;
    if (n == 0)
        return 0;
    if ((out->pairs = malloc(n * sizeof(kn_label_pair))) == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *v = kn_json_str(kn_json_value_at(labels, i));
        if (v == NULL)
            continue;
        out->pairs[out->n++] = (kn_label_pair){kn_keyhash_str(kn_json_key_at(labels, i)), kn_keyhash_str(v)};
    }
    qsort(out->pairs, (size_t)out->n, sizeof(kn_label_pair), cmp_pair);
    return 0;
}

void kn_labelset_free(kn_labelset *ls)
{
    free(ls->pairs);
    ls->pairs = NULL;
    ls->n = 0;
}

/* The value hash of key, or false when the set has no such key. */
static bool find_key(const kn_labelset *ls, uint64_t key, uint64_t *value)
{
    int lo = 0, hi = ls->n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (ls->pairs[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < ls->n && ls->pairs[lo].key == key) {
        *value = ls->pairs[lo].value;
        return true;
    }
    return false;
}

static bool req_matches(const kn_label_req *r, const kn_labelset *ls)
{
    uint64_t v = 0;
    bool has = find_key(ls, r->key_hash, &v);
    bool in = false;
    for (int i = 0; has && !in && i < r->n_values; i++)
        in = r->value_hash[i] == v;
    switch (r->op) {
    case KN_SEL_IN: return in;
    case KN_SEL_NOT_IN: return !in;
    case KN_SEL_EXISTS: return has;
    case KN_SEL_NOT_EXISTS: return !has;
    }
    return false;
}

bool kn_label_selector_matches(const kn_label_selector *s, const kn_labelset *ls)
{
    for (int i = 0; i < s->n; i++)
        if (!req_matches(&s->reqs[i], ls))
            return false;
    return true;
}
