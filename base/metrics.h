/* metrics.h - Prometheus text exposition (format 0.0.4).
 *
 * A kn_metrics registry holds counters, gauges and histograms, each with a
 * fixed set of label names. Updates are thread-safe (one mutex per registry;
 * updates are rare compared to the work they count). A program creates one
 * registry in main() and passes it to the modules that record into it.
 *
 *   kn_metric *m = kn_metrics_counter(reg, "kubenexus_webhook_requests_total",
 *                                     "Admission requests.", 3, (const char*[]){"path","kind","verdict"});
 *   kn_metric_inc(m, (const char*[]){"/mutate","Pod","allowed"}, 1);
 *   char *text = kn_metrics_render(reg, &len);   // malloc'd
 *
 * Series are created on first use of a label-value combination and rendered in
 * registration order, then series-creation order. A metric without labels
 * shows its one series (0) from registration. Each metric holds at most
 * KN_METRICS_MAX_SERIES series (a guard against unbounded label values): an
 * update that would create one more is dropped and counted, and render then
 * adds KN_METRICS_DROPPED_NAME{metric="<name>"} <count>.
 * Invalid names, a label named "le" on a histogram, buckets that are not
 * finite and strictly ascending, or re-registering a name with another type or
 * other labels return NULL; registering the same metric again returns it.
 * Updates on a NULL metric, of the wrong kind (set on a counter), negative
 * counter increments and NaN values are ignored. */
#ifndef KN_METRICS_H
#define KN_METRICS_H

#include <stddef.h>

#define KN_METRICS_MAX_SERIES 10000
#define KN_METRICS_DROPPED_NAME "kubenexus_metrics_dropped_updates_total"

typedef struct kn_metrics kn_metrics;
typedef struct kn_metric kn_metric;

kn_metrics *kn_metrics_new(void);
void kn_metrics_free(kn_metrics *reg);

kn_metric *kn_metrics_counter(kn_metrics *reg, const char *name, const char *help, int nlabels,
                              const char *const *labels);
kn_metric *kn_metrics_gauge(kn_metrics *reg, const char *name, const char *help, int nlabels,
                            const char *const *labels);
/* buckets: ascending upper bounds (seconds for latencies); +Inf is implicit. */
kn_metric *kn_metrics_histogram(kn_metrics *reg, const char *name, const char *help, int nlabels,
                                const char *const *labels, int nbuckets, const double *buckets);

/* values: one per label name (NULL when nlabels == 0; a NULL value, or a NULL
 * array, reads as ""). Label values are escaped when rendered. */
void kn_metric_inc(kn_metric *m, const char *const *values, double by);
void kn_metric_set(kn_metric *m, const char *const *values, double v);
void kn_metric_observe(kn_metric *m, const char *const *values, double v);

char *kn_metrics_render(kn_metrics *reg, size_t *len);

#endif
