/* resources.c - resource lists: named amounts, arithmetic and fit checks.
 *
 * Arithmetic that would overflow int64 is an error (add, max) or saturates
 * (sub, which cannot fail): a wrapped amount would make a full node look
 * empty. */
#include "kube/resources.h"

#include <stdio.h>
#include <string.h>

#include "kube/quantity.h"

/* The fixed members, in the order messages and ResourceLists list them. */
static const char *const FIXED[] = {"cpu", "memory", "ephemeral-storage", "pods"};
#define N_FIXED 4

static int64_t *fixed_slot(kn_resources *r, int i)
{
    switch (i) {
    case 0: return &r->cpu_milli;
    case 1: return &r->memory;
    case 2: return &r->ephemeral_storage;
    default: return &r->pods;
    }
}

static int fixed_index(const char *name)
{
    for (int i = 0; i < N_FIXED; i++)
        if (strcmp(name, FIXED[i]) == 0)
            return i;
    return -1;
}

static kn_scalar *find_scalar(const kn_resources *r, const char *name)
{
    for (int i = 0; i < r->n_scalar && i < KN_MAX_SCALAR; i++)
        if (strcmp(r->scalar[i].name, name) == 0)
            return (kn_scalar *)&r->scalar[i];
    return NULL;
}

/* Resource names are qualified names (nvidia.com/gpu, hugepages-2Mi), so the
 * API server never accepts other characters; checking keeps messages and
 * annotations clean of whatever an untrusted body holds. */
static int check_name(const char *name, kn_err *err)
{
    if (name == NULL || name[0] == '\0')
        return kn_err_set(err, "resource name is empty");
    size_t n = strlen(name);
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '-' || c == '_' || c == '/';
        if (!ok)
            return kn_err_set(err,
                              "resource name \"%.*s\" has character 0x%02x: want letters, digits "
                              "and . - _ / (e.g. nvidia.com/gpu)",
                              (int)(i < 63 ? i : 63), name, (unsigned char)c);
    }
    if (n >= KN_RESOURCE_NAME_MAX)
        return kn_err_set(err, "resource name \"%.40s...\" is %zu characters long, at most %d are supported", name,
                          n, KN_RESOURCE_NAME_MAX - 1);
    return 0;
}

/* The slot for name in r, added (zero) if it is a new extended resource. */
static int64_t *slot(kn_resources *r, const char *name, kn_err *err)
{
    if (name == NULL) {
        kn_err_set(err, "resource name is missing");
        return NULL;
    }
    int f = fixed_index(name);
    if (f >= 0)
        return fixed_slot(r, f);
    kn_scalar *s = find_scalar(r, name);
    if (s != NULL)
        return &s->value;
    if (check_name(name, err) != 0)
        return NULL;
    if (r->n_scalar >= KN_MAX_SCALAR) {
        kn_err_set(err, "resource \"%s\" is one extended resource too many: at most %d are supported", name,
                   KN_MAX_SCALAR);
        return NULL;
    }
    s = &r->scalar[r->n_scalar++];
    memset(s, 0, sizeof(*s));
    strcpy(s->name, name); /* length checked above */
    return &s->value;
}

void kn_res_zero(kn_resources *r)
{
    memset(r, 0, sizeof(*r));
}

int64_t kn_res_get(const kn_resources *r, const char *name)
{
    if (r == NULL || name == NULL)
        return 0;
    int f = fixed_index(name);
    if (f >= 0)
        return *fixed_slot((kn_resources *)r, f);
    const kn_scalar *s = find_scalar(r, name);
    return s ? s->value : 0;
}

int kn_res_set(kn_resources *r, const char *name, int64_t v, kn_err *err)
{
    int64_t *p = slot(r, name, err);
    if (p == NULL)
        return -1;
    *p = v;
    return 0;
}

/* Calls fn(name, amount) for every amount in r: the fixed ones, then the
 * extended ones; stops at the first non-zero return. */
typedef int (*res_visit)(void *ctx, const char *name, int64_t v);

static int each(const kn_resources *r, res_visit fn, void *ctx)
{
    for (int i = 0; i < N_FIXED; i++) {
        int rc = fn(ctx, FIXED[i], *fixed_slot((kn_resources *)r, i));
        if (rc != 0)
            return rc;
    }
    for (int i = 0; i < r->n_scalar && i < KN_MAX_SCALAR; i++) {
        int rc = fn(ctx, r->scalar[i].name, r->scalar[i].value);
        if (rc != 0)
            return rc;
    }
    return 0;
}

typedef struct {
    kn_resources *acc;
    kn_err *err;
} combine_ctx;

static int add_one(void *vctx, const char *name, int64_t v)
{
    combine_ctx *c = vctx;
    if (v == 0 && fixed_index(name) < 0 && find_scalar(c->acc, name) == NULL)
        return 0; /* nothing to add: keep the slot free */
    int64_t *p = slot(c->acc, name, c->err);
    if (p == NULL)
        return -1;
    if (__builtin_add_overflow(*p, v, p))
        return kn_err_set(c->err, "%s: the sum of the amounts does not fit in 64 bits", name);
    return 0;
}

static int max_one(void *vctx, const char *name, int64_t v)
{
    combine_ctx *c = vctx;
    if (v <= 0 && fixed_index(name) < 0 && find_scalar(c->acc, name) == NULL)
        return 0; /* absent counts as 0, which is already the max */
    int64_t *p = slot(c->acc, name, c->err);
    if (p == NULL)
        return -1;
    if (v > *p)
        *p = v;
    return 0;
}

/* Applies fn to a copy so that acc is unchanged when an error is returned. */
static int combine(kn_resources *acc, const kn_resources *b, res_visit fn, kn_err *err)
{
    kn_resources tmp = *acc;
    combine_ctx c = {&tmp, err};
    if (each(b, fn, &c) != 0)
        return -1;
    *acc = tmp;
    return 0;
}

int kn_res_add(kn_resources *acc, const kn_resources *b, kn_err *err)
{
    return combine(acc, b, add_one, err);
}

int kn_res_max(kn_resources *acc, const kn_resources *b, kn_err *err)
{
    return combine(acc, b, max_one, err);
}

static int sub_one(void *vctx, const char *name, int64_t v)
{
    kn_resources *acc = vctx;
    if (v == 0)
        return 0;
    /* No room for a new name: it cannot be recorded, and sub cannot fail. */
    int64_t *p = slot(acc, name, NULL);
    if (p != NULL && __builtin_sub_overflow(*p, v, p))
        *p = v > 0 ? INT64_MIN : INT64_MAX;
    return 0;
}

void kn_res_sub(kn_resources *acc, const kn_resources *b)
{
    each(b, sub_one, acc);
}

typedef struct {
    const kn_resources *avail;
    const char *first;
} fits_ctx;

/* As kube-scheduler's NodeResourcesFit: a zero request always fits. */
static int fits_one(void *vctx, const char *name, int64_t v)
{
    fits_ctx *c = vctx;
    if (v > 0 && v > kn_res_get(c->avail, name)) {
        c->first = name;
        return 1;
    }
    return 0;
}

bool kn_res_fits(const kn_resources *req, const kn_resources *avail, const char **first)
{
    fits_ctx c = {avail, NULL};
    bool ok = each(req, fits_one, &c) == 0;
    if (first != NULL)
        *first = c.first;
    return ok;
}

/* One ResourceList member into out. */
static int from_json_one(const char *name, const kn_json *v, kn_resources *out, kn_err *err)
{
    const char *text;
    if (kn_json_is(v, KN_JSON_STRING))
        text = kn_json_str(v);
    else if (kn_json_is(v, KN_JSON_NUMBER))
        text = kn_json_number_text(v); /* as Quantity.UnmarshalJSON reads a bare number */
    else
        return kn_err_set(err, "want a quantity string such as \"500m\" or \"1Gi\", got %s",
                          kn_json_type_name(kn_json_typeof(v)));
    if (kn_json_is(v, KN_JSON_STRING) && kn_json_strlen(v) != strlen(text))
        return kn_err_set(err, "quantity contains a NUL byte");
    int64_t amount;
    int rc =
        strcmp(name, "cpu") == 0 ? kn_quantity_milli(text, &amount, err) : kn_quantity_value(text, &amount, err);
    if (rc != 0)
        return -1;
    return kn_res_set(out, name, amount, err);
}

int kn_res_from_json(const kn_json *list, kn_resources *out, kn_err *err)
{
    kn_res_zero(out);
    if (list == NULL || kn_json_is(list, KN_JSON_NULL))
        return 0;
    if (!kn_json_is(list, KN_JSON_OBJECT))
        return kn_err_set(err, "want an object of resource amounts such as {\"cpu\":\"500m\"}, got %s",
                          kn_json_type_name(kn_json_typeof(list)));
    size_t n = kn_json_len(list);
    for (size_t i = 0; i < n; i++) {
        const char *name = kn_json_key_at(list, i);
        if (check_name(name, err) != 0) { /* the message shows the name safely */
            kn_res_zero(out);
            return -1;
        }
        if (from_json_one(name, kn_json_value_at(list, i), out, err) != 0) {
            kn_res_zero(out);
            return kn_err_prefix(err, "%s", name);
        }
    }
    return 0;
}

/* A quantity as the API server writes it: cpu in millis, the rest in units. */
static void format_one(const char *name, int64_t v, char *buf, size_t cap)
{
    if (strcmp(name, "cpu") == 0)
        kn_quantity_format_milli(v, buf, cap);
    else
        kn_quantity_format_value(v, buf, cap);
}

static int to_json_one(void *vctx, const char *name, int64_t v)
{
    kn_json *obj = vctx;
    if (v == 0)
        return 0;
    char buf[32];
    format_one(name, v, buf, sizeof(buf));
    return kn_json_set_str(obj, name, buf) == 0 ? 0 : -1;
}

typedef struct {
    kn_json_writer *w;
    bool first;
} write_ctx;

/* Names are unique within a kn_resources, so members need no merging. */
static int write_one(void *vctx, const char *name, int64_t v)
{
    write_ctx *c = vctx;
    if (v == 0)
        return 0;
    char buf[32];
    format_one(name, v, buf, sizeof(buf));
    if (!c->first)
        kn_json_write_raw(c->w, ",", 1);
    c->first = false;
    kn_json_write_string(c->w, name, strlen(name));
    kn_json_write_raw(c->w, ":", 1);
    kn_json_write_string(c->w, buf, strlen(buf));
    return 0;
}

void kn_res_write_json(const kn_resources *r, kn_json_writer *w)
{
    write_ctx c = {.w = w, .first = true};
    kn_json_write_raw(w, "{", 1);
    each(r, write_one, &c);
    kn_json_write_raw(w, "}", 1);
}

kn_json *kn_res_to_json(const kn_resources *r)
{
    kn_json *obj = kn_json_new_object();
    if (obj == NULL)
        return NULL;
    if (each(r, to_json_one, obj) != 0) {
        kn_json_free(obj);
        return NULL;
    }
    return obj;
}
