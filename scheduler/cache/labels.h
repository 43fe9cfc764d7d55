/* labels.h - labels as the scheduler keeps them for every pod and node:
 * interned strings, interned label sets, and compiled label selectors.
 *
 * Every pod in the cluster keeps its labels (inter-pod affinity and topology
 * spreading count pods by them), so they are kept small: each distinct key or
 * value is one string with an id (kn_dict, reference-counted: a string goes
 * when the last set or selector holding it goes), and a label set is an
 * interned, reference-counted array of (key id, value id) pairs sorted by key
 * id. Pods with the same labels (the replicas of one Deployment, plain pods
 * of one service) share one set; Spark executors differ in spark-exec-id, so
 * each has its own set, but their pairs' strings are shared.
 *
 * A kn_lsel is a metav1.LabelSelector compiled as metav1.LabelSelectorAsSelector
 * does: a nil selector selects nothing; {} selects everything; matchLabels
 * k: v is `k In (v)`; matchExpressions In, NotIn, Exists, DoesNotExist
 * (In and NotIn need values, Exists and DoesNotExist none; anything else is
 * an error naming the field). NotIn and DoesNotExist hold for a missing key,
 * as labels.Selector does. */
#ifndef KN_CACHE_LABELS_H
#define KN_CACHE_LABELS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/phash.h"
#include "base/strmap.h"
#include "json/json.h"
#include "kube/labels.h"

/* ---- strings ---- */

typedef struct kn_dict_ent {
    char *str;
    uint32_t refs;
} kn_dict_ent;

typedef struct kn_dict {
    kn_strmap map;  /* string -> id; keys point into e[].str */
    kn_dict_ent *e; /* by id (0 unused) */
    size_t n, cap;  /* ids handed out (0..n) */
    uint32_t *free_ids;
    size_t n_free, cap_free;
} kn_dict;

void kn_dict_init(kn_dict *d);
void kn_dict_free(kn_dict *d);
/* The id of s with one more reference (interned if new); 0 out of memory. */
uint32_t kn_dict_ref(kn_dict *d, const char *s);
/* One more reference to an id already held. */
void kn_dict_hold(kn_dict *d, uint32_t id);
void kn_dict_unref(kn_dict *d, uint32_t id);
/* The id of s without taking a reference; 0 if s was never interned. */
uint32_t kn_dict_find(const kn_dict *d, const char *s);
const char *kn_dict_str(const kn_dict *d, uint32_t id);

/* ---- label sets ---- */

typedef struct kn_lpair {
    uint32_t k, v;
} kn_lpair;

typedef struct kn_lset {
    uint32_t refs;
    uint32_t n;
    kn_lpair p[]; /* n pairs, sorted by k */
} kn_lset;

typedef struct kn_labels {
    kn_dict dict;
    kn_phash sets;  /* the interning table */
    kn_lset *empty; /* the set without labels, always there */
} kn_labels;

int kn_labels_init(kn_labels *L);
void kn_labels_free(kn_labels *L);

/* An object of string values (metadata.labels) as an interned set with one
 * more reference; NULL or a non-object gives the empty set. NULL only out of
 * memory or past KN_LSET_MAX labels (err says which). */
#define KN_LSET_MAX 4096
kn_lset *kn_lset_from_json(kn_labels *L, const kn_json *labels, kn_err *err);
/* The same from pairs the caller holds references to (taken over: on
 * success and failure alike they are the set's or released). */
kn_lset *kn_lset_from_pairs(kn_labels *L, kn_lpair *pairs, uint32_t n);
void kn_lset_hold(kn_lset *s);
void kn_lset_unref(kn_labels *L, kn_lset *s);
/* The value id of key in s, or 0. */
uint32_t kn_lset_get(const kn_lset *s, uint32_t key);

/* Whether v is in a[0..n), sorted ascending (selector values, namespace ids). */
static inline bool kn_ids_have(const uint32_t *a, uint32_t n, uint32_t v)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (a[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && a[lo] == v;
}

/* ---- selectors ---- */

/* Operators: kn_sel_op of kube/labels.h. */
typedef struct kn_lreq {
    uint32_t key;
    uint8_t op;
    uint32_t n;     /* values (In, NotIn) */
    uint32_t *vals; /* sorted ids */
} kn_lreq;

typedef struct kn_lsel {
    bool nothing; /* a nil selector */
    uint32_t n;   /* requirements, sorted; none (and !nothing): everything */
    kn_lreq *r;
} kn_lsel;

#define KN_LSEL_MAX_REQS 256
#define KN_LSEL_MAX_VALUES 1024

/* sel: a LabelSelector object, or NULL (nothing). path names the field in
 * errors ("spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector"). */
int kn_lsel_parse(kn_dict *d, const kn_json *sel, const char *path, kn_lsel *out, kn_err *err);
void kn_lsel_free(kn_dict *d, kn_lsel *s);
/* Adds `key op (value)` (matchLabelKeys merged into a selector); a nothing
 * selector stays nothing. 0, or -1 out of memory. */
int kn_lsel_add(kn_dict *d, kn_lsel *s, const char *key, int op, const char *value);
bool kn_lsel_match(const kn_lsel *s, const kn_lset *l);
/* Everything ({} without requirements). */
static inline bool kn_lsel_everything(const kn_lsel *s)
{
    return !s->nothing && s->n == 0;
}
/* A canonical text of s (ids, not strings: for interning within this process). */
void kn_lsel_sig(const kn_lsel *s, kn_buf *b);

#endif
