/* labels.c - interned strings, label sets and compiled selectors (see labels.h). */
#include "scheduler/cache/labels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"
#include "base/siphash.h"

/* ---- strings ---- */

void kn_dict_init(kn_dict *d)
{
    memset(d, 0, sizeof(*d));
    kn_strmap_init(&d->map);
}

void kn_dict_free(kn_dict *d)
{
    for (size_t i = 1; i < d->n; i++)
        free(d->e[i].str);
    free(d->e);
    free(d->free_ids);
    kn_strmap_free(&d->map);
    memset(d, 0, sizeof(*d));
}

uint32_t kn_dict_find(const kn_dict *d, const char *s)
{
    int i = kn_strmap_get(&d->map, s);
    return i > 0 ? (uint32_t)i : 0;
}

uint32_t kn_dict_ref(kn_dict *d, const char *s)
{
    uint32_t id = kn_dict_find(d, s);
    if (id != 0) {
        d->e[id].refs++;
        return id;
    }
    char *copy = strdup(s);
    if (copy == NULL)
        return 0;
    if (d->n_free > 0) {
        id = d->free_ids[--d->n_free];
    } else {
        size_t need = d->n == 0 ? 2 : d->n + 1; /* id 0 stays unused */
        if (need > (size_t)INT32_MAX || kn_grow((void **)&d->e, &d->cap, need, sizeof(*d->e)) != 0) {
            free(copy);
            return 0;
        }
        if (d->n == 0)
            d->n = 1;
        id = (uint32_t)d->n++;
    }
    d->e[id] = (kn_dict_ent){copy, 1};
    if (kn_strmap_put(&d->map, copy, (int)id) != 0) {
        free(copy);
        d->e[id] = (kn_dict_ent){NULL, 0};
        if (kn_grow((void **)&d->free_ids, &d->cap_free, d->n_free + 1, sizeof(*d->free_ids)) == 0)
            d->free_ids[d->n_free++] = id;
        return 0;
    }
    return id;
}

void kn_dict_hold(kn_dict *d, uint32_t id)
{
    if (id != 0)
        d->e[id].refs++;
}

void kn_dict_unref(kn_dict *d, uint32_t id)
{
    if (id == 0 || --d->e[id].refs > 0)
        return;
    kn_strmap_del(&d->map, d->e[id].str);
    free(d->e[id].str);
    d->e[id].str = NULL;
    /* an id that cannot be listed for reuse is simply not reused */
    if (kn_grow((void **)&d->free_ids, &d->cap_free, d->n_free + 1, sizeof(*d->free_ids)) == 0)
        d->free_ids[d->n_free++] = id;
}

const char *kn_dict_str(const kn_dict *d, uint32_t id)
{
    return id != 0 && id < d->n ? d->e[id].str : NULL;
}

/* ---- label sets ---- */

static uint64_t pairs_hash(const kn_lpair *p, uint32_t n)
{
    return kn_keyhash(p, sizeof(*p) * n);
}

/* Recomputed (rehashing and deletion only): a set per pod does not keep it. */
static uint64_t set_hash(const void *s)
{
    return pairs_hash(((const kn_lset *)s)->p, ((const kn_lset *)s)->n);
}

int kn_labels_init(kn_labels *L)
{
    memset(L, 0, sizeof(*L));
    kn_dict_init(&L->dict);
    kn_phash_init(&L->sets, set_hash);
    L->empty = kn_lset_from_pairs(L, NULL, 0);
    return L->empty != NULL ? 0 : -1;
}

void kn_labels_free(kn_labels *L)
{
    for (size_t i = 0; i < L->sets.cap; i++)
        free(L->sets.slots[i]);
    kn_phash_free(&L->sets);
    kn_dict_free(&L->dict);
    memset(L, 0, sizeof(*L));
}

static int cmp_pair(const void *a, const void *b)
{
    const kn_lpair *x = a, *y = b;
    return x->k < y->k ? -1 : x->k > y->k;
}

typedef struct pairs_key {
    const kn_lpair *p;
    uint32_t n;
} pairs_key;

static bool same_pairs(const void *item, const void *key)
{
    const kn_lset *s = item;
    const pairs_key *k = key;
    return s->n == k->n && (k->n == 0 || memcmp(s->p, k->p, sizeof(*k->p) * k->n) == 0);
}

static void unref_pairs(kn_labels *L, const kn_lpair *pairs, uint32_t n)
{
    for (uint32_t k = 0; k < n; k++) {
        kn_dict_unref(&L->dict, pairs[k].k);
        kn_dict_unref(&L->dict, pairs[k].v);
    }
}

kn_lset *kn_lset_from_pairs(kn_labels *L, kn_lpair *pairs, uint32_t n)
{
    if (n > 16) {
        qsort(pairs, n, sizeof(*pairs), cmp_pair);
    } else { /* a pod's few labels: an insertion sort, no allocation */
        for (uint32_t i = 1; i < n; i++) {
            kn_lpair x = pairs[i];
            uint32_t j = i;
            for (; j > 0 && pairs[j - 1].k > x.k; j--)
                pairs[j] = pairs[j - 1];
            pairs[j] = x;
        }
    }
    uint64_t h = pairs_hash(pairs, n);
    pairs_key key = {pairs, n};
    kn_lset *s = kn_phash_find(&L->sets, h, same_pairs, &key);
    if (s != NULL) {
        unref_pairs(L, pairs, n);
        s->refs++;
        return s;
    }
    s = malloc(sizeof(*s) + sizeof(kn_lpair) * n);
    if (s != NULL) {
        s->refs = 1;
        s->n = n;
        if (n > 0)
            memcpy(s->p, pairs, sizeof(*pairs) * n);
    }
    if (s == NULL || kn_phash_add(&L->sets, s) != 0) {
        free(s);
        unref_pairs(L, pairs, n);
        return NULL;
    }
    return s;
}

kn_lset *kn_lset_from_json(kn_labels *L, const kn_json *labels, kn_err *err)
{
    size_t n = kn_json_is(labels, KN_JSON_OBJECT) ? kn_json_len(labels) : 0;
    if (n == 0) {
        L->empty->refs++;
        return L->empty;
    }
    if (n > KN_LSET_MAX) {
        kn_err_set(err, "metadata.labels: more than %d labels", KN_LSET_MAX);
        return NULL;
    }
    kn_lpair *p = malloc(sizeof(*p) * n);
    if (p == NULL) {
        kn_err_set(err, "out of memory");
        return NULL;
    }
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *v = kn_json_str(kn_json_value_at(labels, i));
        if (v == NULL)
            continue;
        p[k].k = kn_dict_ref(&L->dict, kn_json_key_at(labels, i));
        p[k].v = kn_dict_ref(&L->dict, v);
        if (p[k].k == 0 || p[k].v == 0) {
            unref_pairs(L, p, k + 1); /* an id of 0 is no reference */
            free(p);
            kn_err_set(err, "out of memory");
            return NULL;
        }
        k++;
    }
    kn_lset *s = kn_lset_from_pairs(L, p, k);
    free(p);
    if (s == NULL)
        kn_err_set(err, "out of memory");
    return s;
}

void kn_lset_hold(kn_lset *s)
{
    if (s)
        s->refs++;
}

void kn_lset_unref(kn_labels *L, kn_lset *s)
{
    if (s == NULL || --s->refs > 0)
        return;
    kn_phash_del(&L->sets, s);
    unref_pairs(L, s->p, s->n);
    free(s);
}

uint32_t kn_lset_get(const kn_lset *s, uint32_t key)
{
    uint32_t lo = 0, hi = s->n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (s->p[mid].k < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n && s->p[lo].k == key ? s->p[lo].v : 0;
}

/* ---- selectors ---- */

void kn_lsel_free(kn_dict *d, kn_lsel *s)
{
    for (uint32_t i = 0; i < s->n; i++) {
        kn_dict_unref(d, s->r[i].key);
        for (uint32_t j = 0; j < s->r[i].n; j++)
            kn_dict_unref(d, s->r[i].vals[j]);
        free(s->r[i].vals);
    }
    free(s->r);
    memset(s, 0, sizeof(*s));
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_req(const void *a, const void *b)
{
    const kn_lreq *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->op != y->op)
        return x->op < y->op ? -1 : 1;
    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    return memcmp(x->vals, y->vals, sizeof(uint32_t) * x->n);
}

/* One more requirement (values already interned and held); takes vals. */
static int push_req(kn_lsel *s, size_t *cap, uint32_t key, int op, uint32_t *vals, uint32_t n)
{
    if (kn_grow((void **)&s->r, cap, s->n + 1, sizeof(*s->r)) != 0)
        return -1;
    if (n > 1)
        qsort(vals, n, sizeof(*vals), cmp_u32);
    s->r[s->n++] = (kn_lreq){.key = key, .op = (uint8_t)op, .n = n, .vals = vals};
    return 0;
}

/* ---- label syntax, as labels.NewRequirement checks a selector's ---- */

static bool alnum(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* (([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])? of at most 63: a label value, or a key's name part. */
static bool label_name(const char *s, size_t n, bool may_be_empty)
{
    if (n == 0)
        return may_be_empty;
    if (n > 63 || !alnum(s[0]) || !alnum(s[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++)
        if (!alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    return true;
}

/* A DNS-1123 subdomain: a key's prefix. */
static bool subdomain(const char *s, size_t n)
{
    if (n == 0 || n > 253 || !alnum(s[0]) || !alnum(s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(alnum(s[i]) && !(s[i] >= 'A' && s[i] <= 'Z')) && s[i] != '-' && s[i] != '.')
            return false;
    return true;
}

static int check_key(const char *key, const char *path, kn_err *err)
{
    const char *slash = strchr(key, '/');
    bool ok = slash == NULL
                  ? label_name(key, strlen(key), false)
                  : subdomain(key, (size_t)(slash - key)) && label_name(slash + 1, strlen(slash + 1), false);
    if (ok)
        return 0;
    return kn_err_set(err,
                      "%s: Invalid value: \"%s\": name part must consist of alphanumeric characters, '-', '_' "
                      "or '.', and must start and end with an alphanumeric character, with an optional DNS "
                      "subdomain prefix and '/'",
                      path, key);
}

static int check_value(const char *v, const char *path, kn_err *err)
{
    if (label_name(v, strlen(v), true))
        return 0;
    return kn_err_set(err,
                      "%s: Invalid value: \"%s\": a valid label must be an empty string or consist of "
                      "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
                      "character",
                      path, v);
}

/* `key op (value)` interned and pushed: 0, or -1 out of memory (nothing held). */
static int push_one(kn_dict *d, kn_lsel *s, size_t *cap, const char *key, int op, const char *value)
{
    uint32_t k = kn_dict_ref(d, key);
    uint32_t *vals = malloc(sizeof(*vals));
    if (vals != NULL)
        vals[0] = kn_dict_ref(d, value);
    if (k == 0 || vals == NULL || vals[0] == 0 || push_req(s, cap, k, op, vals, 1) != 0) {
        kn_dict_unref(d, k);
        if (vals)
            kn_dict_unref(d, vals[0]);
        free(vals);
        return -1;
    }
    return 0;
}

static int op_of(const char *op)
{
    static const char *const names[] = {"In", "NotIn", "Exists", "DoesNotExist"};
    for (int i = 0; op && i < 4; i++)
        if (strcmp(op, names[i]) == 0)
            return i;
    return -1;
}

static int parse_exprs(kn_dict *d, const kn_json *exprs, const char *path, kn_lsel *out, size_t *cap, kn_err *err)
{
    if (exprs != NULL && !kn_json_is(exprs, KN_JSON_ARRAY) && !kn_json_is(exprs, KN_JSON_NULL))
        return kn_err_set(err, "%s.matchExpressions: want an array", path);
    for (size_t i = 0; i < kn_json_len(exprs); i++) {
        const kn_json *e = kn_json_at(exprs, i);
        const char *key = kn_json_get_str(e, "key"), *ops = kn_json_get_str(e, "operator");
        const kn_json *values = kn_json_get(e, "values");
        int op = op_of(ops);
        size_t nv = kn_json_len(values);
        char p[KN_ERR_MAX / 2];
        snprintf(p, sizeof(p), "%s.matchExpressions[%zu].key", path, i);
        if (key == NULL)
            return kn_err_set(err, "%s: missing", p);
        if (check_key(key, p, err) != 0)
            return -1;
        if (op < 0)
            return kn_err_set(err,
                              "%s.matchExpressions[%zu].operator: \"%s\" is not a valid label selector operator",
                              path, i, ops ? ops : "");
        if ((op == KN_SEL_IN || op == KN_SEL_NOT_IN) && nv == 0)
            return kn_err_set(
                err, "%s.matchExpressions[%zu].values: for 'in', 'notin' operators, values set can't be empty",
                path, i);
        if ((op == KN_SEL_EXISTS || op == KN_SEL_NOT_EXISTS) && nv != 0)
            return kn_err_set(
                err, "%s.matchExpressions[%zu].values: values set must be empty for exists and does not exist",
                path, i);
        if (nv > KN_LSEL_MAX_VALUES)
            return kn_err_set(err, "%s.matchExpressions[%zu].values: more than %d values", path, i,
                              KN_LSEL_MAX_VALUES);
        uint32_t *vals = nv ? calloc(nv, sizeof(*vals)) : NULL;
        if (nv && vals == NULL)
            return kn_err_set(err, "out of memory");
        uint32_t k = kn_dict_ref(d, key), n = 0;
        bool bad = k == 0;
        for (size_t j = 0; j < nv && !bad; j++) {
            const char *v = kn_json_str(kn_json_at(values, j));
            snprintf(p, sizeof(p), "%s.matchExpressions[%zu].values[%zu]", path, i, j);
            if (v == NULL || check_value(v, p, err) != 0) {
                for (uint32_t x = 0; x < n; x++)
                    kn_dict_unref(d, vals[x]);
                kn_dict_unref(d, k);
                free(vals);
                return v == NULL ? kn_err_set(err, "%s: want a string", p) : -1;
            }
            bool dup = false;
            uint32_t id = kn_dict_ref(d, v);
            for (uint32_t x = 0; x < n && !dup; x++)
                dup = vals[x] == id;
            if (dup)
                kn_dict_unref(d, id);
            else if (id != 0)
                vals[n++] = id;
            else
                bad = true;
        }
        if (bad || push_req(out, cap, k, op, vals, n) != 0) {
            for (uint32_t x = 0; x < n; x++)
                kn_dict_unref(d, vals[x]);
            kn_dict_unref(d, k);
            free(vals);
            return kn_err_set(err, "out of memory");
        }
        if (out->n > KN_LSEL_MAX_REQS)
            return kn_err_set(err, "%s: more than %d requirements", path, KN_LSEL_MAX_REQS);
    }
    return 0;
}

int kn_lsel_parse(kn_dict *d, const kn_json *sel, const char *path, kn_lsel *out, kn_err *err)
{
    memset(out, 0, sizeof(*out));
    if (sel == NULL || kn_json_is(sel, KN_JSON_NULL)) {
        out->nothing = true;
        return 0;
    }
    if (!kn_json_is(sel, KN_JSON_OBJECT))
        return kn_err_set(err, "%s: want a label selector object", path);
    size_t cap = 0;
    const kn_json *ml = kn_json_get(sel, "matchLabels");
    if (ml != NULL && !kn_json_is(ml, KN_JSON_OBJECT) && !kn_json_is(ml, KN_JSON_NULL))
        return kn_err_set(err, "%s.matchLabels: want an object", path);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < kn_json_len(ml); i++) {
        const char *v = kn_json_str(kn_json_value_at(ml, i));
        char p[KN_ERR_MAX / 2];
        snprintf(p, sizeof(p), "%s.matchLabels.%s", path, kn_json_key_at(ml, i));
        if (v == NULL) {
            rc = kn_err_set(err, "%s: want a string", p);
            break;
        }
        if (check_key(kn_json_key_at(ml, i), p, err) != 0 || check_value(v, p, err) != 0) {
            rc = -1;
            break;
        }
        if (push_one(d, out, &cap, kn_json_key_at(ml, i), KN_SEL_IN, v) != 0)
            rc = kn_err_set(err, "out of memory");
    }
    if (rc == 0)
        rc = parse_exprs(d, kn_json_get(sel, "matchExpressions"), path, out, &cap, err);
    if (rc == 0 && out->n > KN_LSEL_MAX_REQS)
        rc = kn_err_set(err, "%s: more than %d requirements", path, KN_LSEL_MAX_REQS);
    if (rc != 0) {
        kn_lsel_free(d, out);
        return -1;
    }
    if (out->n > 1)
        qsort(out->r, out->n, sizeof(*out->r), cmp_req);
    return 0;
}

int kn_lsel_add(kn_dict *d, kn_lsel *s, const char *key, int op, const char *value)
{
    if (s->nothing)
        return 0;
    size_t cap = s->n;
    if (push_one(d, s, &cap, key, op, value) != 0)
        return -1;
    qsort(s->r, s->n, sizeof(*s->r), cmp_req);
    return 0;
}

bool kn_lsel_match(const kn_lsel *s, const kn_lset *l)
{
    if (s->nothing)
        return false;
    for (uint32_t i = 0; i < s->n; i++) {
        const kn_lreq *r = &s->r[i];
        uint32_t v = kn_lset_get(l, r->key);
        switch (r->op) {
        case KN_SEL_IN:
            if (v == 0 || !kn_ids_have(r->vals, r->n, v))
                return false;
            break;
        case KN_SEL_NOT_IN:
            if (v != 0 && kn_ids_have(r->vals, r->n, v))
                return false;
            break;
        case KN_SEL_EXISTS:
            if (v == 0)
                return false;
            break;
        default:
            if (v != 0)
                return false;
        }
    }
    return true;
}

void kn_lsel_sig(const kn_lsel *s, kn_buf *b)
{
    if (s->nothing) {
        kn_buf_puts(b, "!");
        return;
    }
    for (uint32_t i = 0; i < s->n; i++) {
        kn_buf_printf(b, "%u%c", s->r[i].key, "inxd"[s->r[i].op]);
        for (uint32_t j = 0; j < s->r[i].n; j++)
            kn_buf_printf(b, "%s%u", j ? "," : "", s->r[i].vals[j]);
        kn_buf_putc(b, ';');
    }
}
