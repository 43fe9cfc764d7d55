#include "base/metrics.h"
#include "base/grow.h"
#include "base/hash.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM } metric_kind;

/* One label-value combination of a metric. */
typedef struct series {
    char **values; /* nlabels strings, as given (escaped only when rendered) */
    uint64_t hash;
    double value;     /* counter/gauge value; histogram sum */
    uint64_t count;   /* histogram observations */
    uint64_t *bucket; /* histogram: per-bucket (non-cumulative) counts */
} series;

struct kn_metric {
    kn_metrics *reg;
    metric_kind kind;
    char *name, *help;
    int nlabels;
    char **labels;
    int nbuckets;
    double *buckets;
    series **series; /* creation order */
    size_t n_series, cap_series;
    size_t *index;    /* open-addressing table of series indexes + 1 (0 = empty) */
    size_t index_cap; /* power of two, >= 2 * n_series */
    uint64_t dropped; /* updates lost because KN_METRICS_MAX_SERIES was reached */
};

struct kn_metrics {
    pthread_mutex_t mu;
    kn_metric **metrics; /* registration order */
    size_t n, cap;
};

kn_metrics *kn_metrics_new(void)
{
    kn_metrics *reg = calloc(1, sizeof(*reg));
    if (reg != NULL && pthread_mutex_init(&reg->mu, NULL) != 0) {
        free(reg);
        return NULL;
    }
    return reg;
}

static void free_series(series *s, int nlabels)
{
    for (int i = 0; i < nlabels; i++)
        free(s->values[i]);
    free(s->values);
    free(s->bucket);
    free(s);
}

static void free_metric(kn_metric *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n_series; i++)
        free_series(m->series[i], m->nlabels);
    for (int i = 0; i < m->nlabels; i++)
        free(m->labels[i]);
    free(m->labels);
    free(m->series);
    free(m->index);
    free(m->buckets);
    free(m->name);
    free(m->help);
    free(m);
}

void kn_metrics_free(kn_metrics *reg)
{
    if (reg == NULL)
        return;
    for (size_t i = 0; i < reg->n; i++)
        free_metric(reg->metrics[i]);
    free(reg->metrics);
    pthread_mutex_destroy(&reg->mu);
    free(reg);
}

/* ---- names ---- */

static bool name_ok(const char *s, bool colon)
{
    if (s == NULL || *s == '\0' || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              (colon && c == ':')))
            return false;
    }
    return true;
}

static bool labels_ok(metric_kind kind, int nlabels, const char *const *labels)
{
    if (nlabels < 0 || (nlabels > 0 && labels == NULL))
        return false;
    for (int i = 0; i < nlabels; i++) {
        if (!name_ok(labels[i], false) || strncmp(labels[i], "__", 2) == 0 ||
            (kind == KIND_HISTOGRAM && strcmp(labels[i], "le") == 0))
            return false;
        for (int j = 0; j < i; j++) {
            if (strcmp(labels[i], labels[j]) == 0)
                return false;
        }
    }
    return true;
}

static bool same_shape(const kn_metric *m, metric_kind kind, int nlabels, const char *const *labels)
{
    if (m->kind != kind || m->nlabels != nlabels)
        return false;
    for (int i = 0; i < nlabels; i++) {
        if (strcmp(m->labels[i], labels[i]) != 0)
            return false;
    }
    return true;
}

/* ---- series lookup ---- */

/* The i-th label value; NULL values (or a NULL array) read as "". */
static const char *value_at(const char *const *values, int i)
{
    return values != NULL && values[i] != NULL ? values[i] : "";
}

static uint64_t hash_values(int n, const char *const *values)
{
    uint64_t h = KN_FNV1A_BASIS; /* label values come from fixed lists: no flooding */
    for (int i = 0; i < n; i++)
        h = kn_fnv1a_step(kn_fnv1a(value_at(values, i), h), 0xff); /* 0xff: no value holds it */
    return h;
}

static bool series_matches(const kn_metric *m, const series *s, uint64_t h, const char *const *values)
{
    if (s->hash != h)
        return false;
    for (int i = 0; i < m->nlabels; i++) {
        if (strcmp(s->values[i], value_at(values, i)) != 0)
            return false;
    }
    return true;
}

static void index_put(size_t *index, size_t cap, uint64_t h, size_t slot_value)
{
    size_t i = (size_t)h & (cap - 1);
    while (index[i] != 0)
        i = (i + 1) & (cap - 1);
    index[i] = slot_value;
}

static int index_grow(kn_metric *m)
{
    size_t cap = m->index_cap ? m->index_cap * 2 : 16;
    size_t *index = calloc(cap, sizeof(*index));
    if (index == NULL)
        return -1;
    for (size_t i = 0; i < m->n_series; i++)
        index_put(index, cap, m->series[i]->hash, i + 1);
    free(m->index);
    m->index = index;
    m->index_cap = cap;
    return 0;
}

static series *new_series(const kn_metric *m, uint64_t h, const char *const *values)
{
    series *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->hash = h;
    s->values = calloc((size_t)m->nlabels + 1, sizeof(char *));
    s->bucket = m->kind == KIND_HISTOGRAM ? calloc((size_t)m->nbuckets + 1, sizeof(uint64_t)) : NULL;
    bool ok = s->values != NULL && (m->kind != KIND_HISTOGRAM || s->bucket != NULL);
    for (int i = 0; ok && i < m->nlabels; i++)
        ok = (s->values[i] = strdup(value_at(values, i))) != NULL;
    if (!ok) {
        free_series(s, m->nlabels);
        return NULL;
    }
    return s;
}

/* The series for values, created on first use; NULL (and counted as dropped)
 * when the metric already has KN_METRICS_MAX_SERIES series. Caller holds mu. */
static series *find_series(kn_metric *m, const char *const *values)
{
    uint64_t h = hash_values(m->nlabels, values);
    for (size_t i = m->index_cap ? (size_t)h & (m->index_cap - 1) : 0; m->index_cap && m->index[i] != 0;
         i = (i + 1) & (m->index_cap - 1)) {
        series *s = m->series[m->index[i] - 1];
        if (series_matches(m, s, h, values))
            return s;
    }
    if (m->n_series >= KN_METRICS_MAX_SERIES) {
        m->dropped++;
        return NULL;
    }
    if (2 * (m->n_series + 1) > m->index_cap && index_grow(m) < 0)
        return NULL;
    if (kn_grow((void **)&m->series, &m->cap_series, m->n_series + 1, sizeof(*m->series)) != 0)
        return NULL;
    series *s = new_series(m, h, values);
    if (s == NULL)
        return NULL;
    m->series[m->n_series++] = s;
    index_put(m->index, m->index_cap, h, m->n_series);
    return s;
}

/* ---- registration ---- */

static char **copy_strings(int n, const char *const *src)
{
    char **dst = calloc((size_t)n + 1, sizeof(char *));
    for (int i = 0; dst != NULL && i < n; i++) {
        if ((dst[i] = strdup(src[i])) == NULL) {
            for (int j = 0; j < i; j++)
                free(dst[j]);
            free(dst);
            return NULL;
        }
    }
    return dst;
}

static kn_metric *build_metric(kn_metrics *reg, metric_kind kind, const char *name, const char *help, int nlabels,
                               const char *const *labels, int nbuckets, const double *buckets)
{
    kn_metric *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->reg = reg;
    m->kind = kind;
    m->nlabels = nlabels;
    m->nbuckets = nbuckets;
    m->name = strdup(name);
    m->help = strdup(help ? help : "");
    m->labels = copy_strings(nlabels, labels);
    m->buckets = calloc((size_t)nbuckets + 1, sizeof(double));
    if (m->name == NULL || m->help == NULL || m->labels == NULL || m->buckets == NULL) {
        free_metric(m);
        return NULL;
    }
    if (nbuckets > 0)
        memcpy(m->buckets, buckets, (size_t)nbuckets * sizeof(double));
    /* A metric without labels has exactly one series: show it (as 0) from the start. */
    if (nlabels == 0 && find_series(m, NULL) == NULL) {
        free_metric(m);
        return NULL;
    }
    return m;
}

static kn_metric *add_metric(kn_metrics *reg, metric_kind kind, const char *name, const char *help, int nlabels,
                             const char *const *labels, int nbuckets, const double *buckets)
{
    if (reg == NULL || !name_ok(name, true) || !labels_ok(kind, nlabels, labels))
        return NULL;
    kn_metric *m = NULL;
    pthread_mutex_lock(&reg->mu);
    for (size_t i = 0; i < reg->n; i++) {
        if (strcmp(reg->metrics[i]->name, name) == 0) {
            /* Registering the same metric twice returns it; a clash is refused. */
            m = same_shape(reg->metrics[i], kind, nlabels, labels) ? reg->metrics[i] : NULL;
            goto out;
        }
    }
    if (kn_grow((void **)&reg->metrics, &reg->cap, reg->n + 1, sizeof(*reg->metrics)) != 0)
        goto out;
    m = build_metric(reg, kind, name, help, nlabels, labels, nbuckets, buckets);
    if (m != NULL)
        reg->metrics[reg->n++] = m;
out:
    pthread_mutex_unlock(&reg->mu);
    return m;
}

kn_metric *kn_metrics_counter(kn_metrics *reg, const char *name, const char *help, int nlabels,
                              const char *const *labels)
{
    return add_metric(reg, KIND_COUNTER, name, help, nlabels, labels, 0, NULL);
}

kn_metric *kn_metrics_gauge(kn_metrics *reg, const char *name, const char *help, int nlabels,
                            const char *const *labels)
{
    return add_metric(reg, KIND_GAUGE, name, help, nlabels, labels, 0, NULL);
}

kn_metric *kn_metrics_histogram(kn_metrics *reg, const char *name, const char *help, int nlabels,
                                const char *const *labels, int nbuckets, const double *buckets)
{
    if (nbuckets < 0 || (nbuckets > 0 && buckets == NULL))
        return NULL;
    for (int i = 0; i < nbuckets; i++) {
        if (!isfinite(buckets[i]) || (i > 0 && !(buckets[i] > buckets[i - 1])))
            return NULL; /* must be finite and strictly ascending; +Inf is implicit */
    }
    return add_metric(reg, KIND_HISTOGRAM, name, help, nlabels, labels, nbuckets, buckets);
}

/* ---- updates ---- */

static void update(kn_metric *m, const char *const *values, metric_kind kind, double v)
{
    if (m == NULL || m->kind != kind || isnan(v))
        return;
    pthread_mutex_lock(&m->reg->mu);
    series *s = find_series(m, values);
    if (s != NULL && kind == KIND_HISTOGRAM) {
        int b = 0;
        while (b < m->nbuckets && v > m->buckets[b])
            b++;
        s->bucket[b]++; /* b == nbuckets is the +Inf bucket */
        s->count++;
        s->value += v;
    } else if (s != NULL) {
        s->value = v;
    }
    pthread_mutex_unlock(&m->reg->mu);
}

void kn_metric_inc(kn_metric *m, const char *const *values, double by)
{
    if (m == NULL || m->kind == KIND_HISTOGRAM || isnan(by) || (m->kind == KIND_COUNTER && by < 0))
        return; /* counters only go up */
    pthread_mutex_lock(&m->reg->mu);
    series *s = find_series(m, values);
    if (s != NULL)
        s->value += by;
    pthread_mutex_unlock(&m->reg->mu);
}

void kn_metric_set(kn_metric *m, const char *const *values, double v)
{
    update(m, values, KIND_GAUGE, v);
}

void kn_metric_observe(kn_metric *m, const char *const *values, double v)
{
    update(m, values, KIND_HISTOGRAM, v);
}

/* ---- rendering ---- */

typedef struct buf {
    char *p;
    size_t len, cap;
    bool failed;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* Escapes \ and newline (HELP) and also " (label values), as format 0.0.4 wants. */
static void put_escaped(buf *b, const char *s, bool quote)
{
    for (const char *p = s; *p; p++) {
        if (*p == '\\')
            puts_(b, "\\\\");
        else if (*p == '\n')
            puts_(b, "\\n");
        else if (quote && *p == '"')
            puts_(b, "\\\"");
        else
            put(b, p, 1);
    }
}

/* The text Prometheus' Go client writes (strconv.FormatFloat(v, 'g', -1, 64)):
 * the shortest digits that read back as v, in exponent form when the decimal
 * exponent is < -4 or >= 6 ("4000", "0.1", "1.234567e+06"). */
static void format_double(double v, char *out, size_t cap)
{
    if (isnan(v) || isinf(v) || v == 0) {
        snprintf(out, cap, "%s", isnan(v) ? "NaN" : isinf(v) ? (v > 0 ? "+Inf" : "-Inf") : "0");
        return;
    }
    int digits = 1;
    for (; digits < 17; digits++) {
        snprintf(out, cap, "%.*e", digits - 1, v);
        if (strtod(out, NULL) == v)
            break;
    }
    snprintf(out, cap, "%.*e", digits - 1, v);
    const char *e = strchr(out, 'e');
    int exp = e ? atoi(e + 1) : 0;
    if (exp >= -4 && exp < 6)
        snprintf(out, cap, "%.*f", digits - 1 - exp > 0 ? digits - 1 - exp : 0, v);
}

/* {l1="v1",...[,le="x"]} or nothing when there are no labels at all. */
static void put_labels(buf *b, const kn_metric *m, const series *s, const char *le)
{
    if (m->nlabels == 0 && le == NULL)
        return;
    puts_(b, "{");
    for (int i = 0; i < m->nlabels; i++) {
        puts_(b, i ? "," : "");
        puts_(b, m->labels[i]);
        puts_(b, "=\"");
        put_escaped(b, s->values[i], true);
        puts_(b, "\"");
    }
    if (le != NULL) {
        puts_(b, m->nlabels ? ",le=\"" : "le=\"");
        puts_(b, le);
        puts_(b, "\"");
    }
    puts_(b, "}");
}

static void put_sample(buf *b, const kn_metric *m, const series *s, const char *suffix, const char *le, double v)
{
    char num[64];
    format_double(v, num, sizeof(num));
    puts_(b, m->name);
    puts_(b, suffix);
    put_labels(b, m, s, le);
    puts_(b, " ");
    puts_(b, num);
    puts_(b, "\n");
}

static void render_histogram(buf *b, const kn_metric *m, const series *s)
{
    uint64_t cum = 0;
    char le[64];
    for (int i = 0; i <= m->nbuckets; i++) {
        cum += s->bucket[i];
        if (i < m->nbuckets)
            format_double(m->buckets[i], le, sizeof(le));
        else
            snprintf(le, sizeof(le), "+Inf");
        put_sample(b, m, s, "_bucket", le, (double)cum);
    }
    put_sample(b, m, s, "_sum", NULL, s->value);
    put_sample(b, m, s, "_count", NULL, (double)s->count);
}

static void render_metric(buf *b, const kn_metric *m)
{
    static const char *const kinds[] = {"counter", "gauge", "histogram"};
    puts_(b, "# HELP ");
    puts_(b, m->name);
    puts_(b, " ");
    put_escaped(b, m->help, false);
    puts_(b, "\n# TYPE ");
    puts_(b, m->name);
    puts_(b, " ");
    puts_(b, kinds[m->kind]);
    puts_(b, "\n");
    for (size_t i = 0; i < m->n_series; i++) {
        if (m->kind == KIND_HISTOGRAM)
            render_histogram(b, m, m->series[i]);
        else
            put_sample(b, m, m->series[i], "", NULL, m->series[i]->value);
    }
}

/* Updates lost to the series bound, per metric, so the loss is visible. */
static void render_dropped(buf *b, const kn_metrics *reg)
{
    bool header = false;
    for (size_t i = 0; i < reg->n; i++) {
        const kn_metric *m = reg->metrics[i];
        if (m->dropped == 0)
            continue;
        if (!header) {
            puts_(b, "# HELP " KN_METRICS_DROPPED_NAME " Updates dropped because the metric "
                     "reached its series limit.\n# TYPE " KN_METRICS_DROPPED_NAME " counter\n");
            header = true;
        }
        puts_(b, KN_METRICS_DROPPED_NAME "{metric=\"");
        puts_(b, m->name);
        char num[32];
        snprintf(num, sizeof(num), "\"} %llu\n", (unsigned long long)m->dropped);
        puts_(b, num);
    }
}

char *kn_metrics_render(kn_metrics *reg, size_t *len)
{
    buf b = {0};
    if (reg == NULL)
        return NULL;
    puts_(&b, ""); /* an empty registry renders as "" */
    pthread_mutex_lock(&reg->mu);
    for (size_t i = 0; i < reg->n; i++)
        render_metric(&b, reg->metrics[i]);
    render_dropped(&b, reg);
    pthread_mutex_unlock(&reg->mu);
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    if (len != NULL)
        *len = b.len;
    return b.p;
}
