/* labels.h - label keys and values, label selectors (metav1.LabelSelector),
 * and the label set a scheduler keeps of every pod to match them.
 *
 * A selector is read as apimachinery's LabelSelectorAsSelector reads it:
 * matchLabels k: v is "k in (v)"; matchExpressions take In and NotIn (at
 * least one value), Exists and DoesNotExist (no values); every key must be a
 * qualified name ([prefix/]name) and every value a label value. Anything else
 * makes the selector invalid (kn_label_selector_parse returns -1 with why):
 * callers that follow kube-scheduler treat an invalid selector as matching
 * nothing. A selector with no requirement is "empty": what it matches is the
 * caller's rule (a PodDisruptionBudget's empty selector matches no pod in
 * kube-scheduler's preemption).
 *
 * A kn_labelset is what matching needs of a pod's labels, without keeping
 * the strings: one (key hash, value hash) pair per label, sorted, hashed with
 * kn_keyhash (this process's secret key, so a sender cannot make two labels
 * share a hash). 16 bytes a label. */
#ifndef KN_LABELS_H
#define KN_LABELS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "json/json.h"

#define KN_LABEL_VALUE_MAX 63
#define KN_LABEL_SELECTOR_MAX_REQS 256   /* requirements in one selector */
#define KN_LABEL_SELECTOR_MAX_VALUES 256 /* values in one In / NotIn */

/* true if s is a legal Kubernetes label value (empty is legal). */
bool kn_label_value_valid(const char *s);
/* true if s is a legal label key: a qualified name, [DNS-subdomain prefix "/"] name. */
bool kn_label_key_valid(const char *s);

typedef enum { KN_SEL_IN, KN_SEL_NOT_IN, KN_SEL_EXISTS, KN_SEL_NOT_EXISTS } kn_sel_op;

typedef struct kn_label_req {
    char *key;
    uint64_t key_hash;
    kn_sel_op op;
    int n_values;
    char **values;
    uint64_t *value_hash;
} kn_label_req;

typedef struct kn_label_selector {
    int n;
    kn_label_req *reqs;
} kn_label_selector;

/* sel: a LabelSelector object, or NULL / JSON null (then: empty). 0, or -1
 * with a message naming the field ("matchExpressions[0].operator: ..."); the
 * selector is then empty and must be freed all the same. */
int kn_label_selector_parse(const kn_json *sel, kn_label_selector *out, kn_err *err);
void kn_label_selector_free(kn_label_selector *s);
static inline bool kn_label_selector_empty(const kn_label_selector *s)
{
    return s->n == 0;
}

typedef struct kn_label_pair {
    uint64_t key, value;
} kn_label_pair;

typedef struct kn_labelset {
    kn_label_pair *pairs; /* sorted by key hash */
    int n;
} kn_labelset;

/* labels: an object of string values (others are skipped) or NULL. 0, or -1
 * out of memory (out empty). */
int kn_labelset_from_json(const kn_json *labels, kn_labelset *out);
void kn_labelset_free(kn_labelset *ls);

/* Every requirement holds (an empty selector matches everything: see above). */
bool kn_label_selector_matches(const kn_label_selector *s, const kn_labelset *ls);

#endif
