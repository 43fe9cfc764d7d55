/* spark.c - the pod sizes Spark 3.5 asks Kubernetes for.
 *
 * Mirrors BasicDriverFeatureStep and BasicExecutorFeatureStep (with
 * ResourceProfile.getResourcesForClusterManager for executors):
 *   memory   = spark.<role>.memory (bytesConf MiB, default 1g)
 *   overhead = spark.<role>.memoryOverhead, else
 *              max((long)(factor * memory), 384) computed in double as Spark does
 *   factor   = spark.<role>.memoryOverheadFactor, else
 *              spark.kubernetes.memoryOverheadFactor, else 0.4 for Python and R
 *              apps (the driver hands its default to the executors), else 0.1
 *   executors also add spark.executor.pyspark.memory (Python apps) and
 *   spark.memory.offHeap.size when spark.memory.offHeap.enabled is true.
 * The Spark Operator turns spec.<role>.{cores,coreRequest,coreLimit,memory,
 * memoryOverhead} into --conf options after sparkConf, so they win over it;
 * spec.memoryOverheadFactor goes in as spark.kubernetes.memoryOverheadFactor
 * *before* sparkConf, so that sparkConf key wins over it. */
#include "spark/spark.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kube/quantity.h"
#include "base/quote.h"

#define MIN_OVERHEAD_MIB 384
/* Larger totals would not fit in int64 bytes. */
#define MAX_TOTAL_MIB (INT64_MAX >> 20)

static const char SIZE_HELP[] = "want a whole number with an optional unit k, m, g, t or p (e.g. 512m, 4g)";

/* ---- JVM memory strings (JavaUtils.byteStringAs) ---- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Binary shift of a unit letter (b k m g t p); -1 if not one. */
static int unit_shift(char c)
{
    static const char units[] = "bkmgtp";
    const char *p = c ? strchr(units, c | 0x20) : NULL;
    return p ? (int)(p - units) * 10 : -1;
}

/* "1.5g" -> "1536m": the fraction in the next smaller unit, exactly when it
 * is whole there, else rounded down. */
static void fraction_hint(const char *num, size_t nint, size_t nfrac, int shift, char *buf, size_t cap)
{
    if (shift == 0 || nint > 12 || nfrac > 9) {
        snprintf(buf, cap, shift == 0 ? "use a whole number of bytes" : "use a whole number of a smaller unit");
        return;
    }
    unsigned __int128 v = 0, pow10 = 1;
    for (size_t i = 0; i < nint; i++)
        v = v * 10 + (unsigned)(num[i] - '0');
    for (size_t i = 0; i < nfrac; i++) {
        v = v * 10 + (unsigned)(num[nint + 1 + i] - '0');
        pow10 *= 10;
    }
    v *= 1024;
    char unit = "bkmgtp"[shift / 10 - 1];
    snprintf(buf, cap, "%s%llu%c", v % pow10 == 0 ? "use " : "use a whole number, e.g. ",
             (unsigned long long)(v / pow10), unit);
}

/* s in bytes; a bare number is in units of 2^default_shift bytes. */
static int spark_bytes(const char *s, int default_shift, int64_t *bytes, kn_err *err)
{
    char q[96];
    kn_quote(s, q, sizeof(q));
    if (s == NULL)
        return kn_err_set(err, "size is missing: %s", SIZE_HELP);
    /* Spark trims the value (String.trim: every byte <= ' '). */
    while (*s != '\0' && (unsigned char)*s <= ' ')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (unsigned char)s[n - 1] <= ' ')
        n--;
    size_t nd = 0;
    while (nd < n && is_digit(s[nd]))
        nd++;
    size_t i = nd, nfrac = 0;
    if (nd > 0 && i < n && s[i] == '.')
        for (i++; i < n && is_digit(s[i]); i++)
            nfrac++;
    size_t letters = i;
    while (letters < n && is_alpha(s[letters]))
        letters++;
    if (nd == 0 || letters != n || (i > nd && nfrac == 0))
        return kn_err_set(err, "%s is not a Spark size: %s", q, SIZE_HELP);
    const char *sfx = s + i;
    size_t ns = n - i;
    int shift = ns == 0 ? default_shift : unit_shift(sfx[0]);
    bool spark_unit = ns == 0 || (shift >= 0 && (ns == 1 || (ns == 2 && shift > 0 && (sfx[1] | 0x20) == 'b')));
    bool k8s_unit = ns == 2 && shift > 0 && (sfx[1] | 0x20) == 'i';
    if (nfrac > 0) {
        char hint[128] = "";
        if (spark_unit || k8s_unit)
            fraction_hint(s, nd, nfrac, shift, hint, sizeof(hint));
        else
            snprintf(hint, sizeof(hint), "%s", SIZE_HELP);
        return kn_err_set(err, "%s is not a Spark size: Spark does not take fractions (%s)", q, hint);
    }
    if (k8s_unit)
        return kn_err_set(err, "%s is not a Spark size (Spark wants %.*s%c)", q, (int)nd, s,
                          (char)(sfx[0] | 0x20));
    if (!spark_unit)
        return kn_err_set(err, "%s is not a Spark size: %s", q, SIZE_HELP);
    unsigned __int128 v = 0;
    for (size_t k = 0; k < nd && v <= (unsigned __int128)INT64_MAX; k++)
        v = v * 10 + (unsigned)(s[k] - '0');
    if (v > (unsigned __int128)INT64_MAX || (v << shift) > (unsigned __int128)INT64_MAX)
        return kn_err_set(err, "%s is too large for a Spark size", q);
    *bytes = (int64_t)(v << shift);
    return 0;
}

int kn_spark_memory_bytes(const char *s, int64_t *bytes, kn_err *err)
{
    return spark_bytes(s, 20, bytes, err);
}

/* ---- where a setting comes from ---- */

typedef struct {
    const kn_json *spec, *pod, *conf;
    const char *role; /* "driver" or "executor" */
    bool executor;
    bool python, non_jvm;
} sctx;

/* A sparkConf key of the role, as a literal: pre + "driver" or "executor" +
 * post. */
#define ROLE_KEY(c, pre, post) ((c)->executor ? pre "executor" post : pre "driver" post)

/* One setting's text and the name of the field it came from. */
typedef struct {
    const char *text; /* NULL when unset */
    const kn_json *json;
    char field[128]; /* spec.driver.memory or spec.sparkConf["spark.driver.memory"] */
    /* memory or spark.driver.memory, for "raise X" hints: the key looked up
     * itself (a literal, or a caller's buffer that outlives the setting) */
    const char *name;
} setting;

/* buf = the concatenation of the NULL-terminated strings, cut to cap - 1
 * bytes as snprintf would cut it. Field names are joined for every setting of
 * every review; this stays a plain copy because a format is several times
 * its cost there (measured: +6% instructions per SparkApplication review). */
static void join(char *buf, size_t cap, ...)
{
    va_list ap;
    va_start(ap, cap);
    size_t n = 0;
    for (const char *s; (s = va_arg(ap, const char *)) != NULL;) {
        size_t k = strlen(s);
        if (k > cap - 1 - n)
            k = cap - 1 - n;
        memcpy(buf + n, s, k);
        n += k;
    }
    va_end(ap);
    buf[n] = '\0';
}

/* Text of a scalar JSON value (strings, and numbers through their text). */
static int scalar_text(const kn_json *v, const char *field, const char **out, kn_err *err)
{
    if (kn_json_is(v, KN_JSON_STRING) && strlen(kn_json_str(v)) == kn_json_strlen(v))
        *out = kn_json_str(v);
    else if (kn_json_is(v, KN_JSON_NUMBER))
        *out = kn_json_number_text(v);
    else
        return kn_err_set(err, "%s: want a string, got %s", field,
                          kn_json_is(v, KN_JSON_STRING) ? "a string with a NUL byte"
                                                        : kn_json_type_name(kn_json_typeof(v)));
    return 0;
}

static int from_obj(const kn_json *obj, const char *key, const char *field, setting *st, kn_err *err)
{
    const kn_json *v = kn_json_get(obj, key);
    if (v == NULL || kn_json_is(v, KN_JSON_NULL))
        return 0;
    join(st->field, sizeof(st->field), field, (char *)NULL);
    st->json = v;
    return scalar_text(v, field, &st->text, err);
}

/* spec.<role>.<spec_key> (if spec_key), else sparkConf[conf_key]. Field
 * names are built only for settings that are there (most are not). */
static int lookup(const sctx *c, const char *spec_key, const char *conf_key, setting *st, kn_err *err)
{
    st->text = NULL;
    st->json = NULL;
    st->field[0] = '\0';
    const kn_json *v = spec_key != NULL ? kn_json_get(c->pod, spec_key) : NULL;
    if (v != NULL && !kn_json_is(v, KN_JSON_NULL)) {
        st->name = spec_key;
        join(st->field, sizeof(st->field), "spec.", c->role, ".", spec_key, (char *)NULL);
        st->json = v;
        return scalar_text(v, st->field, &st->text, err);
    }
    st->name = conf_key;
    if ((v = kn_json_get(c->conf, conf_key)) == NULL)
        return 0;
    char field[sizeof(st->field)];
    join(field, sizeof(field), "spec.sparkConf[\"", conf_key, "\"]", (char *)NULL);
    if (!kn_json_is(v, KN_JSON_STRING))
        return kn_err_set(err, "%s: want a string, got %s", field, kn_json_type_name(kn_json_typeof(v)));
    memcpy(st->field, field, sizeof(field));
    st->json = v;
    return scalar_text(v, field, &st->text, err);
}

/* A Spark size setting in MiB, truncated as ByteUnit.convertTo does. */
static int size_mib(const sctx *c, const char *spec_key, const char *conf_key, int default_shift, setting *st,
                    int64_t *mib, kn_err *err)
{
    if (lookup(c, spec_key, conf_key, st, err) != 0)
        return -1;
    if (st->text == NULL)
        return 0;
    int64_t bytes;
    if (spark_bytes(st->text, default_shift, &bytes, err) != 0)
        return kn_err_prefix(err, "%s", st->field);
    *mib = bytes >> 20;
    return 0;
}

/* ---- memory ---- */

/* A memoryOverheadFactor: a plain decimal number (Double.parseDouble also
 * takes hex and "NaN", nobody means those). */
static int parse_factor(const setting *st, bool zero_ok, double *out, kn_err *err)
{
    const char *s = st->text;
    while (*s == ' ' || *s == '\t')
        s++;
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    size_t digits = 0;
    for (; is_digit(*p); p++)
        digits++;
    if (*p == '.')
        for (p++; is_digit(*p); p++)
            digits++;
    if (digits > 0 && (*p == 'e' || *p == 'E')) {
        const char *e = p + 1 + (p[1] == '+' || p[1] == '-');
        if (is_digit(*e))
            for (p = e; is_digit(*p); p++)
                ;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    char q[96];
    kn_quote(st->text, q, sizeof(q));
    if (digits == 0 || *p != '\0')
        return kn_err_set(err, "%s is %s, want a decimal number such as 0.1", st->field, q);
    *out = strtod(s, NULL);
    if (!(*out >= 0.0) || (*out == 0.0 && !zero_ok))
        return kn_err_set(err, "%s is %s, want a number %s 0 such as 0.1", st->field, q,
                          zero_ok ? "of at least" : "above");
    if (*out > 1e6)
        return kn_err_set(err, "%s is %s, far too large: want a fraction of the memory such as 0.1", st->field, q);
    return 0;
}

static int overhead_factor(const sctx *c, double *factor, kn_err *err)
{
    setting st;
    if (lookup(c, NULL, ROLE_KEY(c, "spark.", ".memoryOverheadFactor"), &st, err) != 0)
        return -1;
    if (st.text != NULL)
        return parse_factor(&st, false, factor, err);
    if (lookup(c, NULL, "spark.kubernetes.memoryOverheadFactor", &st, err) != 0)
        return -1;
    if (st.text == NULL && from_obj(c->spec, "memoryOverheadFactor", "spec.memoryOverheadFactor", &st, err) != 0)
        return -1;
    if (st.text != NULL)
        return parse_factor(&st, true, factor, err);
    *factor = c->non_jvm ? 0.4 : 0.1;
    return 0;
}

/* Executor memory Spark adds on top of heap and overhead. */
static int executor_extra_mib(const sctx *c, int64_t *extra, kn_err *err)
{
    setting st;
    int64_t mib = 0;
    *extra = 0;
    if (c->python) {
        if (size_mib(c, NULL, "spark.executor.pyspark.memory", 20, &st, &mib, err) != 0)
            return -1;
        *extra += mib;
    }
    if (lookup(c, NULL, "spark.memory.offHeap.enabled", &st, err) != 0)
        return -1;
    if (st.text != NULL && strcasecmp(st.text, "true") == 0) {
        mib = 0;
        /* spark.memory.offHeap.size is bytesConf(BYTE): a bare number is bytes. */
        if (size_mib(c, NULL, "spark.memory.offHeap.size", 0, &st, &mib, err) != 0)
            return -1;
        if (mib <= 0)
            return kn_err_set(err, "spec.sparkConf[\"spark.memory.offHeap.size\"] must be at least 1m when "
                                   "spark.memory.offHeap.enabled is true (Spark refuses to start otherwise)");
        *extra += mib;
    }
    return 0;
}

static int size_memory(const sctx *c, kn_spark_pod_size *out, int64_t *total_mib, kn_err *err)
{
    setting st;
    int64_t mib = 1024; /* spark.<role>.memory defaults to 1g */
    if (size_mib(c, "memory", ROLE_KEY(c, "spark.", ".memory"), 20, &st, &mib, err) != 0)
        return -1;
    if (mib < 1) {
        char q[96];
        return kn_err_set(err, "%s is %s, less than 1 MiB: want at least 1m (e.g. 512m, 4g)", st.field,
                          kn_quote(st.text, q, sizeof(q)));
    }
    out->memory_mib = mib;
    int64_t overhead = -1;
    if (size_mib(c, "memoryOverhead", ROLE_KEY(c, "spark.", ".memoryOverhead"), 20, &st, &overhead, err) != 0)
        return -1;
    if (overhead < 0) {
        double factor;
        if (overhead_factor(c, &factor, err) != 0)
            return -1;
        double prod = factor * (double)mib; /* as Spark: (factor * memoryMiB).toLong */
        if (!(prod < (double)MAX_TOTAL_MIB))
            return kn_err_set(err, "spec.%s: memory overhead of %.0f MiB is too large", c->role, prod);
        overhead = (int64_t)prod;
        if (overhead < MIN_OVERHEAD_MIB)
            overhead = MIN_OVERHEAD_MIB;
    }
    out->overhead_mib = overhead;
    int64_t extra = 0;
    if (c->executor && executor_extra_mib(c, &extra, err) != 0)
        return -1;
    if (mib > MAX_TOTAL_MIB - overhead || mib + overhead > MAX_TOTAL_MIB - extra)
        return kn_err_set(err, "spec.%s: memory plus overhead is too large", c->role);
    out->extra_mib = extra;
    *total_mib = mib + overhead + extra;
    return 0;
}

/* ---- cpu ---- */

/* How a setting's value is shown in a message: numbers bare, strings quoted. */
static const char *shown(const setting *st, char *q, size_t cap)
{
    return kn_json_is(st->json, KN_JSON_NUMBER) ? st->text : kn_quote(st->text, q, cap);
}

#define MAX_CORES 100000

/* spec.<role>.cores or spark.<role>.cores, a whole number >= 1, default 1
 * (Spark's intConf: blanks around it are trimmed). */
static int cores(const sctx *c, setting *st, int64_t *out, kn_err *err)
{
    if (lookup(c, "cores", ROLE_KEY(c, "spark.", ".cores"), st, err) != 0)
        return -1;
    *out = 1;
    if (st->text == NULL)
        return 0;
    const char *s = st->text;
    while (*s == ' ')
        s++;
    char *end = (char *)s;
    long long v = 0;
    if (is_digit(*s) || ((*s == '-' || *s == '+') && is_digit(s[1])))
        v = strtoll(s, &end, 10);
    while (*end == ' ')
        end++;
    char q[96];
    bool from_conf = strncmp(st->field, "spec.sparkConf", 14) == 0;
    if (end == s || *end != '\0')
        return kn_err_set(err,
                          "%s is %s, want a whole number of cores (for a fraction of a core set %s%s%s, "
                          "e.g. \"500m\")",
                          st->field, shown(st, q, sizeof(q)), from_conf ? "spark.kubernetes." : "coreRequest",
                          from_conf ? c->role : "", from_conf ? ".request.cores" : "");
    if (v < 1)
        return kn_err_set(err, "%s is %s, want at least 1", st->field, shown(st, q, sizeof(q)));
    if (v > MAX_CORES)
        return kn_err_set(err, "%s is %s, want at most %d", st->field, shown(st, q, sizeof(q)), MAX_CORES);
    *out = v;
    return 0;
}

/* A cpu quantity setting (coreRequest, coreLimit) in milli-cores, > 0. */
static int cpu_setting(const setting *st, int64_t *milli, kn_err *err)
{
    if (kn_quantity_milli(st->text, milli, err) != 0)
        return kn_err_prefix(err, "%s", st->field);
    if (*milli <= 0) {
        char q[96];
        return kn_err_set(err, "%s is %s, want more than 0 cores (e.g. \"500m\" or \"2\")", st->field,
                          kn_quote(st->text, q, sizeof(q)));
    }
    return 0;
}

/* "coreRequest \"2\" (2000m)" or "spark.executor.cores 2 (2000m)": the
 * request a too-low limit is measured against, for the message. */
static void describe_request(const setting *req, const setting *cs, int64_t ncores, int64_t req_milli, char *buf,
                             size_t cap)
{
    char q[96];
    if (req->text != NULL)
        snprintf(buf, cap, "%s %s (%lldm)", req->name, kn_quote(req->text, q, sizeof(q)), (long long)req_milli);
    else
        snprintf(buf, cap, "%s %lld (%lldm)", cs->text ? cs->name : "the default cores", (long long)ncores,
                 (long long)req_milli);
}

static int size_cpu(const sctx *c, kn_spark_pod_size *out, kn_err *err)
{
    setting req, lim, cs = {0};
    int64_t ncores = 0, req_milli;
    if (lookup(c, "coreRequest", ROLE_KEY(c, "spark.kubernetes.", ".request.cores"), &req, err) != 0)
        return -1;
    if (req.text != NULL) {
        if (cpu_setting(&req, &req_milli, err) != 0)
            return -1;
    } else {
        if (cores(c, &cs, &ncores, err) != 0)
            return -1;
        req_milli = ncores * 1000;
    }
    out->requests.cpu_milli = req_milli;
    if (lookup(c, "coreLimit", ROLE_KEY(c, "spark.kubernetes.", ".limit.cores"), &lim, err) != 0)
        return -1;
    if (lim.text == NULL)
        return 0;
    int64_t lim_milli;
    if (cpu_setting(&lim, &lim_milli, err) != 0)
        return -1;
    if (lim_milli < req_milli) {
        char req_desc[160], q[96];
        describe_request(&req, &cs, ncores, req_milli, req_desc, sizeof(req_desc));
        return kn_err_set(err, "%s %s is below %s: raise %s to at least %lldm or remove it", lim.field,
                          kn_quote(lim.text, q, sizeof(q)), req_desc, lim.name, (long long)req_milli);
    }
    out->limits.cpu_milli = lim_milli;
    return 0;
}

/* ---- gpu ---- */

static int size_gpu(const sctx *c, kn_spark_pod_size *out, kn_err *err)
{
    const kn_json *gpu = kn_json_get(c->pod, "gpu");
    if (gpu == NULL || kn_json_is(gpu, KN_JSON_NULL))
        return 0;
    if (!kn_json_is(gpu, KN_JSON_OBJECT))
        return kn_err_set(err, "spec.%s.gpu: want an object such as {name: nvidia.com/gpu, quantity: 1}, got %s",
                          c->role, kn_json_type_name(kn_json_typeof(gpu)));
    const char *name = kn_json_get_str(gpu, "name");
    if (name == NULL || name[0] == '\0')
        return kn_err_set(err, "spec.%s.gpu.name is missing: want the GPU's resource name, e.g. nvidia.com/gpu",
                          c->role);
    char q[96];
    if (strcmp(name, "cpu") == 0 || strcmp(name, "memory") == 0 || strcmp(name, "pods") == 0 ||
        strcmp(name, "ephemeral-storage") == 0 || strchr(name, '/') == NULL)
        return kn_err_set(err,
                          "spec.%s.gpu.name is %s: want an extended resource with a domain, e.g. "
                          "nvidia.com/gpu or amd.com/gpu",
                          c->role, kn_quote(name, q, sizeof(q)));
    const kn_json *qv = kn_json_get(gpu, "quantity");
    int64_t n = 0;
    if (qv == NULL || kn_json_int(qv, &n) != 0 || n <= 0) {
        const char *shown = qv == NULL                       ? "missing"
                            : kn_json_is(qv, KN_JSON_NUMBER) ? kn_json_number_text(qv)
                                                             : NULL;
        if (shown == NULL)
            shown = kn_json_is(qv, KN_JSON_STRING) ? kn_quote(kn_json_str(qv), q, sizeof(q))
                                                   : kn_json_type_name(kn_json_typeof(qv));
        return kn_err_set(err, "spec.%s.gpu.quantity is %s, want a whole number of at least 1", c->role, shown);
    }
    if (kn_res_set(&out->requests, name, n, err) != 0 || kn_res_set(&out->limits, name, n, err) != 0)
        return kn_err_prefix(err, "spec.%s.gpu.name", c->role);
    return 0;
}

/* ---- custom resources from sparkConf (KubernetesUtils.buildResourcesQuantities) ----
 *
 * spark.<role>.resource.<id>.amount with .vendor <domain> becomes the limit
 * <domain>/<id> = amount on the pod Spark builds (the device-plugin name, e.g.
 * spark.executor.resource.gpu.vendor=nvidia.com -> nvidia.com/gpu). Spark
 * fails the driver when an id has no amount or no vendor, so the webhook
 * refuses those up front; a missing vendor is accepted only when
 * spec.<role>.gpu names the same resource (the seed guide writes
 * spark.executor.resource.gpu.amount next to gpu: {name: nvidia.com/gpu}). Runs before size_gpu: spec.<role>.gpu for the same
 * name wins, as the operator applies it after sparkConf. */

#define MAX_CONF_RESOURCES 8

/* Integer.parseInt: an optional sign, then digits only. */
static bool java_int(const char *s, int64_t *out)
{
    const char *p = s + (*s == '+' || *s == '-');
    if (!is_digit(*p))
        return false;
    int64_t v = 0;
    for (; is_digit(*p); p++) {
        v = v * 10 + (*p - '0');
        if (v > INT32_MAX)
            return false;
    }
    if (*p != '\0')
        return false;
    *out = *s == '-' ? -v : v;
    return true;
}

/* The settings of one resource id: setting "spark.<role>.resource.<id>.<suffix>". */
static int conf_resource_setting(const sctx *c, const char *id, const char *suffix, setting *st, kn_err *err)
{
    char key[160];
    join(key, sizeof(key), "spark.", c->role, ".resource.", id, ".", suffix, (char *)NULL);
    return lookup(c, NULL, key, st, err);
}

/* spec.<role>.gpu.name is "<domain>/<id>". */
static bool spec_gpu_is(const sctx *c, const char *id)
{
    const char *name = kn_json_get_str(kn_json_get(c->pod, "gpu"), "name");
    const char *slash = name ? strrchr(name, '/') : NULL;
    return slash != NULL && strcmp(slash + 1, id) == 0;
}

static int size_conf_resource(const sctx *c, const char *id, kn_spark_pod_size *out, kn_err *err)
{
    setting amount, vendor;
    if (conf_resource_setting(c, id, "amount", &amount, err) != 0 ||
        conf_resource_setting(c, id, "vendor", &vendor, err) != 0)
        return -1;
    char q[96];
    if (amount.text == NULL)
        return kn_err_set(err,
                          "spec.sparkConf: spark.%s.resource.%s.* is set but spark.%s.resource.%s.amount is "
                          "missing (Spark fails the driver with \"You must specify an amount for %s\"): set it, "
                          "e.g. \"1\"",
                          c->role, id, c->role, id, id);
    int64_t n;
    if (!java_int(amount.text, &n) || n < 0)
        return kn_err_set(err, "%s is %s, want a whole number of at least 0", amount.field,
                          kn_quote(amount.text, q, sizeof(q)));
    if ((vendor.text == NULL || vendor.text[0] == '\0') && spec_gpu_is(c, id))
        return 0; /* the seed guide's form: spec.<role>.gpu says which device plugin */
    if (vendor.text == NULL || vendor.text[0] == '\0')
        return kn_err_set(err,
                          "spec.sparkConf: spark.%s.resource.%s.amount is set but spark.%s.resource.%s.vendor "
                          "is missing (Spark fails the driver with \"Resource: %s was requested, but vendor was "
                          "not specified.\"): set it to the device plugin's domain, e.g. nvidia.com",
                          c->role, id, c->role, id, id);
    char name[KN_RESOURCE_NAME_MAX + 2];
    int len = snprintf(name, sizeof(name), "%s/%s", vendor.text, id);
    if (len < 0 || (size_t)len >= sizeof(name))
        return kn_err_set(err, "%s: resource name %s/%s is longer than %d characters", vendor.field, vendor.text,
                          id, KN_RESOURCE_NAME_MAX - 1);
    if (n == 0)
        return 0;
    if (kn_res_set(&out->requests, name, n, err) != 0 || kn_res_set(&out->limits, name, n, err) != 0)
        return kn_err_prefix(err, "%s", vendor.field);
    return 0;
}

static int size_conf_resources(const sctx *c, kn_spark_pod_size *out, kn_err *err)
{
    const char *prefix = ROLE_KEY(c, "spark.", ".resource.");
    size_t plen = strlen(prefix);
    char ids[MAX_CONF_RESOURCES][KN_RESOURCE_NAME_MAX];
    size_t n_ids = 0;
    for (size_t i = 0; i < kn_json_len(c->conf); i++) {
        const char *key = kn_json_key_at(c->conf, i);
        if (key == NULL || strncmp(key, prefix, plen) != 0)
            continue;
        const char *rest = key + plen, *dot = strchr(rest, '.');
        if (dot == NULL || dot == rest)
            return kn_err_set(err, "spec.sparkConf[\"%s\"]: want %s<name>.amount (and .vendor), e.g. %sgpu.amount",
                              key, prefix, prefix);
        size_t idlen = (size_t)(dot - rest);
        if (idlen >= KN_RESOURCE_NAME_MAX)
            return kn_err_set(err, "spec.sparkConf[\"%s\"]: the resource name is longer than %d characters", key,
                              KN_RESOURCE_NAME_MAX - 1);
        size_t k = 0;
        while (k < n_ids && !(strncmp(ids[k], rest, idlen) == 0 && ids[k][idlen] == '\0'))
            k++;
        if (k < n_ids)
            continue;
        if (n_ids == MAX_CONF_RESOURCES)
            return kn_err_set(err, "spec.sparkConf: more than %d spark.%s.resource.* resources",
                              MAX_CONF_RESOURCES, c->role);
        memcpy(ids[n_ids], rest, idlen);
        ids[n_ids++][idlen] = '\0';
    }
    for (size_t k = 0; k < n_ids; k++)
        if (size_conf_resource(c, ids[k], out, err) != 0)
            return -1;
    return 0;
}

/* ---- the whole pod ---- */

static int context(const kn_json *app, kn_spark_role role, sctx *c, kn_err *err)
{
    memset(c, 0, sizeof(*c));
    c->executor = role != KN_SPARK_DRIVER;
    c->role = c->executor ? "executor" : "driver";
    c->spec = kn_json_get(app, "spec");
    if (!kn_json_is(c->spec, KN_JSON_OBJECT))
        return kn_err_set(err, "spec: want an object, got %s", kn_json_type_name(kn_json_typeof(c->spec)));
    c->pod = kn_json_get(c->spec, c->role);
    if (c->pod != NULL && !kn_json_is(c->pod, KN_JSON_OBJECT) && !kn_json_is(c->pod, KN_JSON_NULL))
        return kn_err_set(err, "spec.%s: want an object, got %s", c->role,
                          kn_json_type_name(kn_json_typeof(c->pod)));
    c->conf = kn_json_get(c->spec, "sparkConf");
    if (c->conf != NULL && !kn_json_is(c->conf, KN_JSON_OBJECT) && !kn_json_is(c->conf, KN_JSON_NULL))
        return kn_err_set(err, "spec.sparkConf: want an object of strings, got %s",
                          kn_json_type_name(kn_json_typeof(c->conf)));
    const char *type = kn_json_get_str(c->spec, "type");
    /* The CRD's enum is Java|Python|Scala|R; "PySpark" shows up in manifests too. */
    c->python = type != NULL && (strcasecmp(type, "Python") == 0 || strcasecmp(type, "PySpark") == 0);
    c->non_jvm = c->python || (type != NULL && strcasecmp(type, "R") == 0);
    return 0;
}

int kn_spark_size_pod(const kn_json *app, kn_spark_role role, kn_spark_pod_size *out, kn_err *err)
{
    kn_spark_pod_size tmp;
    memset(&tmp, 0, sizeof(tmp));
    kn_res_zero(&tmp.requests);
    kn_res_zero(&tmp.limits);
    sctx c;
    int64_t total_mib = 0;
    if (context(app, role, &c, err) != 0 || size_memory(&c, &tmp, &total_mib, err) != 0 ||
        size_cpu(&c, &tmp, err) != 0 || size_conf_resources(&c, &tmp, err) != 0 || size_gpu(&c, &tmp, err) != 0)
        return -1;
    tmp.requests.memory = total_mib << 20;
    tmp.limits.memory = total_mib << 20;
    tmp.requests.pods = 1;
    *out = tmp;
    return 0;
}
