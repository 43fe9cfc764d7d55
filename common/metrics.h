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
 */
#ifndef KN_METRICS_H
#define KN_METRICS_H

#include <stddef.h>

typedef struct kn_metrics kn_metrics;
typedef struct kn_metric kn_metric;

kn_metrics *kn_metrics_new(void);
void kn_metrics_free(kn_metrics *reg);

kn_metric *kn_metrics_counter(kn_metrics *reg, const char *name, const char *help,
                              int nlabels, const char *const *labels);
kn_metric *kn_metrics_gauge(kn_metrics *reg, const char *name, const char *help,
                            int nlabels, const char *const *labels);
/* buckets: ascending upper bounds (seconds for latencies); +Inf is implicit. */
kn_metric *kn_metrics_histogram(kn_metrics *reg, const char *name, const char *help,
                                int nlabels, const char *const *labels,
                                int nbuckets, const double *buckets);

/* values: one per label name (NULL when nlabels == 0). Label values are escaped. */
void kn_metric_inc(kn_metric *m, const char *const *values, double by);
void kn_metric_set(kn_metric *m, const char *const *values, double v);
void kn_metric_observe(kn_metric *m, const char *const *values, double v);

char *kn_metrics_render(kn_metrics *reg, size_t *len);

#endif
