/* promql.h - what a PromQL expression reads, for tests of dashboards and alerts.
 *
 * kn_pq_parse() does not evaluate PromQL; it finds, in an expression such as
 *   histogram_quantile(0.99, sum by (le, path) (rate(x_bucket{path="/mutate"}[5m])))
 * every series selector (metric name, label matchers), the function or
 * aggregation directly around it (rate), whether it is a range ([5m]), and
 * every aggregation's by (...) / without (...) labels with the selectors it
 * aggregates. Grafana's variables ($__rate_interval, $datasource) are
 * skipped. Vector matching (on, ignoring, group_left, group_right), a
 * selector without a metric name ({__name__=...}) and anything it cannot
 * read are errors, so a test never passes an expression it did not read. */
#ifndef KN_IT_PROMQL_H
#define KN_IT_PROMQL_H

#include <stdbool.h>

#include "base/err.h"

#define KN_PQ_MAX_REFS 32
#define KN_PQ_MAX_MATCHERS 8
#define KN_PQ_MAX_GROUPS 16
#define KN_PQ_MAX_LABELS 8

typedef struct kn_pq_matcher {
    char label[64];
    char op[3]; /* "=", "!=", "=~", "!~" */
    char value[256];
} kn_pq_matcher;

typedef struct kn_pq_ref {
    char metric[128];
    kn_pq_matcher m[KN_PQ_MAX_MATCHERS];
    int n_m;
    char func[128]; /* the function or aggregation whose argument it is; "" at the top */
    bool range;     /* a range selector: x[5m] */
} kn_pq_ref;

typedef struct kn_pq_group {
    char op[128]; /* sum, max, ... */
    char labels[KN_PQ_MAX_LABELS][64];
    int n_labels;
    bool without;
    int first, end; /* refs[first..end) are aggregated */
} kn_pq_group;

typedef struct kn_pq {
    kn_pq_ref refs[KN_PQ_MAX_REFS];
    int n_refs;
    kn_pq_group groups[KN_PQ_MAX_GROUPS];
    int n_groups;
} kn_pq;

/* 0, or -1 with err saying where and what it could not read. */
int kn_pq_parse(const char *expr, kn_pq *out, kn_err *err);

#endif
