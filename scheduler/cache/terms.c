/* terms.c - a pod's inter-pod affinity and topology spread constraints
 * compiled into an interned termset, and the watches they read (see
 * relations.h).
 *
 * As kube-scheduler (v1.33) reads them:
 *  - a PodAffinityTerm's namespaces: the listed ones, and those its
 *    namespaceSelector selects; neither given: the pod's own namespace.
 *    matchLabelKeys / mismatchLabelKeys are not read here: kube-apiserver
 *    merges them into labelSelector when it creates the pod.
 *  - required affinity counts pods that match every required affinity term
 *    (each term's watch is the AND of all of them), anti-affinity and
 *    preferred terms count per term.
 *  - a topology spread constraint counts pods of the pod's own namespace
 *    that its labelSelector selects, with matchLabelKeys merged in
 *    (`key In (the pod's value)` for each key the pod has; a nil selector
 *    stays nil); minDomains defaults to 1, nodeAffinityPolicy to Honor,
 *    nodeTaintsPolicy to Ignore.
 *  - a pod with no constraints of its own gets the system defaults (hostname
 *    maxSkew 3, zone maxSkew 5, ScheduleAnyway) when kube-scheduler would find
 *    a selector for it: kube-scheduler takes the selectors of the Services,
 *    ReplicaSets, StatefulSets and ReplicationControllers that select it;
 *    without watching those, the pods counted are those of the pod's
 *    controller (a ReplicaSet, StatefulSet or ReplicationController owner
 *    reference, by uid) in its namespace, which is what that controller's
 *    selector selects; a pod selected only by a Service gets none. */
#include "scheduler/cache/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"

#define PATH_MAX_LEN 200
#define HOSTNAME_KEY "kubernetes.io/hostname"
#define ZONE_KEY "topology.kubernetes.io/zone"

/* path + suffix into buf (cut to PATH_MAX_LEN): a field's path for errors. */
__attribute__((noinline)) static const char *subpath(char *buf, const char *path, const char *suffix)
{
    snprintf(buf, PATH_MAX_LEN, "%s%s", path, suffix);
    return buf;
}

/* ---- watches ---- */

static void watch_sig(const kn_clause *cl, uint32_t n_cl, bool sym, bool spread, uint32_t owner, kn_buf *b)
{
    bool reads_ns = false;
    for (uint32_t i = 0; i < n_cl; i++) {
        kn_buf_puts(b, "[s");
        kn_lsel_sig(&cl[i].sel, b);
        kn_buf_puts(b, "n");
        for (uint32_t j = 0; j < cl[i].n_ns; j++)
            kn_buf_printf(b, "%u,", cl[i].ns[j]);
        if (cl[i].has_nssel) {
            kn_buf_puts(b, "x");
            kn_lsel_sig(&cl[i].nssel, b);
            reads_ns = true;
        }
        kn_buf_puts(b, "]");
    }
    /* sym only changes how a namespaceSelector reads: without one, both share a watch */
    kn_buf_printf(b, "%c%c%u", sym && reads_ns ? 'y' : '-', spread ? 't' : '-', owner);
}

kn_watch *kn_watch_get(kn_cluster *c, kn_clause *cl, uint32_t n_cl, bool sym, bool spread, uint32_t owner)
{
    kn_buf b = KN_BUF_INIT;
    watch_sig(cl, n_cl, sym, spread, owner, &b);
    char *sig = kn_buf_finish(&b, NULL);
    int i = sig ? kn_strmap_get(&c->rs.watch_by_sig, sig) : -1;
    kn_watch *w = NULL;
    if (i >= 0) {
        w = c->rs.objs.p[i];
        w->refs++;
    } else if (sig != NULL && (w = kn_watch_new(c, sig, cl, n_cl, sym, spread, owner)) != NULL) {
        return w; /* sig and the clauses are the watch's now */
    }
    free(sig);
    for (uint32_t k = 0; k < n_cl; k++)
        kn_clause_free(c, &cl[k]);
    return w;
}

/* ---- clauses ---- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int clause_copy(kn_cluster *c, const kn_clause *src, kn_clause *out)
{
    kn_dict *d = &c->lab.dict;
    memset(out, 0, sizeof(*out));
    const kn_lsel *from[2] = {&src->sel, &src->nssel};
    kn_lsel *to[2] = {&out->sel, &out->nssel};
    for (int s = 0; s < 2; s++) {
        to[s]->nothing = from[s]->nothing;
        if (from[s]->n == 0)
            continue;
        to[s]->r = calloc(from[s]->n, sizeof(kn_lreq));
        if (to[s]->r == NULL)
            goto oom;
        for (uint32_t i = 0; i < from[s]->n; i++) {
            kn_lreq q = from[s]->r[i];
            q.vals = q.n ? malloc(sizeof(uint32_t) * q.n) : NULL;
            if (q.n && q.vals == NULL)
                goto oom;
            if (q.n)
                memcpy(q.vals, from[s]->r[i].vals, sizeof(uint32_t) * q.n);
            kn_dict_hold(d, q.key);
            for (uint32_t j = 0; j < q.n; j++)
                kn_dict_hold(d, q.vals[j]);
            to[s]->r[to[s]->n++] = q;
        }
    }
    out->has_nssel = src->has_nssel;
    if (src->n_ns > 0) {
        if ((out->ns = malloc(sizeof(uint32_t) * src->n_ns)) == NULL)
            goto oom;
        memcpy(out->ns, src->ns, sizeof(uint32_t) * src->n_ns);
        out->n_ns = src->n_ns;
        for (uint32_t i = 0; i < src->n_ns; i++)
            kn_dict_hold(d, src->ns[i]);
    }
    return 0;
oom:
    kn_clause_free(c, out);
    return -1;
}

/* A PodAffinityTerm into a clause and its topology key (held). */
static int parse_term(kn_cluster *c, const kn_json *term, const char *path, uint32_t own_ns, kn_clause *out,
                      uint32_t *key, kn_err *err)
{
    kn_dict *d = &c->lab.dict;
    char p[PATH_MAX_LEN];
    memset(out, 0, sizeof(*out));
    *key = 0;
    if (!kn_json_is(term, KN_JSON_OBJECT))
        return kn_err_set(err, "%s: want an object", path);
    const char *tk = kn_json_get_str(term, "topologyKey");
    if (tk == NULL || *tk == '\0')
        return kn_err_set(err, "%s.topologyKey: can not be empty", path);
    if (kn_lsel_parse(d, kn_json_get(term, "labelSelector"), subpath(p, path, ".labelSelector"), &out->sel, err) !=
        0)
        return -1;
    const kn_json *nss = kn_json_get(term, "namespaceSelector");
    if (nss != NULL && !kn_json_is(nss, KN_JSON_NULL)) {
        out->has_nssel = true;
        if (kn_lsel_parse(d, nss, subpath(p, path, ".namespaceSelector"), &out->nssel, err) != 0)
            goto fail;
    }
    const kn_json *nsl = kn_json_get(term, "namespaces");
    size_t n = kn_json_len(nsl);
    if (nsl != NULL && !kn_json_is(nsl, KN_JSON_ARRAY) && !kn_json_is(nsl, KN_JSON_NULL)) {
        kn_err_set(err, "%s.namespaces: want an array of names", path);
        goto fail;
    }
    if (n > KN_LSEL_MAX_VALUES) {
        kn_err_set(err, "%s.namespaces: more than %d", path, KN_LSEL_MAX_VALUES);
        goto fail;
    }
    if (n == 0 && !out->has_nssel)
        n = 1; /* neither: the pod's own namespace */
    if ((out->ns = calloc(n, sizeof(uint32_t))) == NULL)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        uint32_t id;
        if (kn_json_len(nsl) == 0) {
            id = own_ns;
            kn_dict_hold(d, id);
        } else {
            const char *name = kn_json_str(kn_json_at(nsl, i));
            if (name == NULL) {
                kn_err_set(err, "%s.namespaces[%zu]: want a string", path, i);
                goto fail;
            }
            if ((id = kn_dict_ref(d, name)) == 0)
                goto oom;
        }
        bool dup = false;
        for (uint32_t j = 0; j < out->n_ns && !dup; j++)
            dup = out->ns[j] == id;
        if (dup)
            kn_dict_unref(d, id);
        else
            out->ns[out->n_ns++] = id;
    }
    qsort(out->ns, out->n_ns, sizeof(uint32_t), cmp_u32);
    if ((*key = kn_dict_ref(d, tk)) == 0)
        goto oom;
    return 0;
oom:
    kn_err_set(err, "out of memory");
fail:
    kn_clause_free(c, out);
    return -1;
}

/* ---- the termset being built ---- */

typedef struct tlist {
    kn_pterm *t;
    uint32_t n;
    kn_watch **sym; /* the same terms as an existing pod's (for carried terms) */
} tlist;

typedef struct builder {
    kn_cluster *c;
    uint32_t ns;
    tlist aff, anti, paff, panti;
    kn_spreadc *sp;
    uint32_t n_sp;
    bool sp_default;
} builder;

static void tlist_free(kn_cluster *c, tlist *l)
{
    for (uint32_t i = 0; i < l->n; i++) {
        kn_watch_unref(c, l->t[i].w);
        kn_dict_unref(&c->lab.dict, l->t[i].key);
        if (l->sym)
            kn_watch_unref(c, l->sym[i]);
    }
    free(l->t);
    free(l->sym);
    memset(l, 0, sizeof(*l));
}

static void builder_free(builder *b)
{
    tlist_free(b->c, &b->aff);
    tlist_free(b->c, &b->anti);
    tlist_free(b->c, &b->paff);
    tlist_free(b->c, &b->panti);
    for (uint32_t i = 0; i < b->n_sp; i++) {
        kn_watch_unref(b->c, b->sp[i].w);
        kn_dict_unref(&b->c->lab.dict, b->sp[i].key);
    }
    free(b->sp);
    b->sp = NULL;
    b->n_sp = 0;
}

/* The terms of one list (required: PodAffinityTerms; preferred: weighted). */
static int add_terms(builder *b, const kn_json *arr, const char *path, bool weighted, tlist *out, kn_err *err)
{
    kn_cluster *c = b->c;
    if (arr == NULL || kn_json_is(arr, KN_JSON_NULL))
        return 0;
    if (!kn_json_is(arr, KN_JSON_ARRAY))
        return kn_err_set(err, "%s: want an array", path);
    size_t n = kn_json_len(arr);
    if (n == 0)
        return 0;
    if (n > KN_MAX_TERMS)
        return kn_err_set(err, "%s: more than %d terms", path, KN_MAX_TERMS);
    out->t = calloc(n, sizeof(*out->t));
    out->sym = calloc(n, sizeof(*out->sym));
    if (out->t == NULL || out->sym == NULL)
        return kn_err_set(err, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char p[PATH_MAX_LEN];
        const kn_json *term = kn_json_at(arr, i);
        int64_t weight = 0;
        snprintf(p, sizeof(p), "%s[%zu]", path, i);
        if (weighted) {
            if (kn_json_int(kn_json_get(term, "weight"), &weight) != 0 || weight < 1 || weight > 100)
                return kn_err_set(err, "%s.weight: want an integer from 1 to 100", p);
            term = kn_json_get(term, "podAffinityTerm");
            snprintf(p, sizeof(p), "%s[%zu].podAffinityTerm", path, i);
        }
        kn_clause cl, sym;
        uint32_t key;
        if (parse_term(c, term, p, b->ns, &cl, &key, err) != 0)
            return -1;
        if (clause_copy(c, &cl, &sym) != 0) {
            kn_clause_free(c, &cl);
            kn_dict_unref(&c->lab.dict, key);
            return kn_err_set(err, "out of memory");
        }
        kn_watch *w = kn_watch_get(c, &cl, 1, false, false, 0);
        kn_watch *ws = kn_watch_get(c, &sym, 1, true, false, 0);
        if (w == NULL || ws == NULL) {
            kn_watch_unref(c, w);
            kn_watch_unref(c, ws);
            kn_dict_unref(&c->lab.dict, key);
            return kn_err_set(err, "out of memory");
        }
        out->t[out->n] = (kn_pterm){w, key, (int32_t)weight};
        out->sym[out->n++] = ws;
    }
    return 0;
}

/* Required affinity counts pods that match every term: each term's own watch
 * becomes the AND of all of them. */
static int and_affinity(builder *b, kn_err *err)
{
    kn_cluster *c = b->c;
    if (b->aff.n < 2)
        return 0;
    for (uint32_t i = 0; i < b->aff.n; i++) {
        kn_clause *all = calloc(b->aff.n, sizeof(*all));
        uint32_t k = 0;
        for (; all != NULL && k < b->aff.n; k++)
            if (clause_copy(c, &b->aff.sym[k]->cl[0], &all[k]) != 0)
                break;
        kn_watch *w = all != NULL && k == b->aff.n ? kn_watch_get(c, all, k, false, false, 0) : NULL;
        if (w == NULL) {
            for (uint32_t j = 0; all != NULL && j < k; j++)
                kn_clause_free(c, &all[j]);
        }
        free(all);
        if (w == NULL)
            return kn_err_set(err, "out of memory");
        /* the single-term watches stay held as sym's twins until the end */
        kn_watch *single = b->aff.t[i].w;
        b->aff.t[i].w = w;
        kn_watch_unref(c, single);
    }
    return 0;
}

static int parse_policy(const kn_json *v, const char *path, bool *honor, bool dflt, kn_err *err)
{
    const char *s = kn_json_str(v);
    *honor = dflt;
    if (v == NULL || kn_json_is(v, KN_JSON_NULL))
        return 0;
    if (s != NULL && strcmp(s, "Honor") == 0)
        *honor = true;
    else if (s != NULL && strcmp(s, "Ignore") == 0)
        *honor = false;
    else
        return kn_err_set(err, "%s: want Honor or Ignore", path);
    return 0;
}

static int push_spread(builder *b, kn_spreadc sc)
{
    kn_spreadc *n = realloc(b->sp, sizeof(*n) * (b->n_sp + 1));
    if (n == NULL)
        return -1;
    b->sp = n;
    b->sp[b->n_sp++] = sc;
    return 0;
}

static int add_spread(builder *b, const kn_pod_terms *in, kn_err *err)
{
    kn_cluster *c = b->c;
    kn_dict *d = &c->lab.dict;
    const kn_json *arr = in->spread;
    size_t n = kn_json_len(arr);
    if (n > KN_MAX_TERMS)
        return kn_err_set(err, "spec.topologySpreadConstraints: more than %d constraints", KN_MAX_TERMS);
    for (size_t i = 0; i < n; i++) {
        char p[PATH_MAX_LEN], sp[PATH_MAX_LEN];
        const kn_json *t = kn_json_at(arr, i);
        snprintf(p, sizeof(p), "spec.topologySpreadConstraints[%zu]", i);
        int64_t skew = 0, mind = 1;
        const char *tk = kn_json_get_str(t, "topologyKey"), *wu = kn_json_get_str(t, "whenUnsatisfiable");
        const kn_json *md = kn_json_get(t, "minDomains");
        if (!kn_json_is(t, KN_JSON_OBJECT))
            return kn_err_set(err, "%s: want an object", p);
        if (kn_json_int(kn_json_get(t, "maxSkew"), &skew) != 0 || skew < 1 || skew > INT32_MAX)
            return kn_err_set(err, "%s.maxSkew: want an integer greater than zero", p);
        if (tk == NULL || *tk == '\0')
            return kn_err_set(err, "%s.topologyKey: can not be empty", p);
        if (wu == NULL || (strcmp(wu, "DoNotSchedule") != 0 && strcmp(wu, "ScheduleAnyway") != 0))
            return kn_err_set(err, "%s.whenUnsatisfiable: want DoNotSchedule or ScheduleAnyway", p);
        if (md != NULL && !kn_json_is(md, KN_JSON_NULL) &&
            (kn_json_int(md, &mind) != 0 || mind < 1 || mind > INT32_MAX))
            return kn_err_set(err, "%s.minDomains: want an integer greater than zero", p);
        kn_spreadc sc = {
            .max_skew = (int32_t)skew, .min_domains = (int32_t)mind, .hard = strcmp(wu, "DoNotSchedule") == 0};
        if (parse_policy(kn_json_get(t, "nodeAffinityPolicy"), subpath(sp, p, ".nodeAffinityPolicy"),
                         &sc.honor_affinity, true, err) != 0 ||
            parse_policy(kn_json_get(t, "nodeTaintsPolicy"), subpath(sp, p, ".nodeTaintsPolicy"), &sc.honor_taints,
                         false, err) != 0)
            return -1;
        kn_clause cl;
        memset(&cl, 0, sizeof(cl));
        if (kn_lsel_parse(d, kn_json_get(t, "labelSelector"), subpath(sp, p, ".labelSelector"), &cl.sel, err) != 0)
            return -1;
        const kn_json *mlk = kn_json_get(t, "matchLabelKeys");
        for (size_t k = 0; k < kn_json_len(mlk) && k < KN_LSEL_MAX_REQS; k++) {
            const char *key = kn_json_str(kn_json_at(mlk, k));
            uint32_t kid = key ? kn_dict_find(d, key) : 0;
            uint32_t vid = kid ? kn_lset_get(in->labels, kid) : 0;
            if (vid != 0 && kn_lsel_add(d, &cl.sel, key, KN_SEL_IN, kn_dict_str(d, vid)) != 0) {
                kn_clause_free(c, &cl);
                return kn_err_set(err, "out of memory");
            }
        }
        sc.everything = kn_lsel_everything(&cl.sel);
        cl.ns = malloc(sizeof(uint32_t));
        if (cl.ns == NULL) {
            kn_clause_free(c, &cl);
            return kn_err_set(err, "out of memory");
        }
        cl.ns[0] = b->ns;
        cl.n_ns = 1;
        kn_dict_hold(d, b->ns);
        sc.w = kn_watch_get(c, &cl, 1, false, true, 0);
        sc.key = kn_dict_ref(d, tk);
        if (sc.w == NULL || sc.key == 0 || push_spread(b, sc) != 0) {
            kn_watch_unref(c, sc.w);
            kn_dict_unref(d, sc.key);
            return kn_err_set(err, "out of memory");
        }
    }
    return 0;
}

uint32_t kn_default_spread_owner(kn_cluster *c, const kn_pod_terms *in)
{
    static const char *const kinds[] = {"ReplicaSet", "StatefulSet", "ReplicationController"};
    if (in->owner_kind == NULL || in->owner_uid == NULL || *in->owner_uid == '\0')
        return 0;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(in->owner_kind, kinds[i]) == 0)
            return kn_dict_ref(&c->lab.dict, in->owner_uid);
    return 0;
}

/* kube-scheduler's system defaults: hostname maxSkew 3, zone maxSkew 5,
 * ScheduleAnyway, counting the pods of the same controller. */
static int add_default_spread(builder *b, uint32_t owner, kn_err *err)
{
    kn_cluster *c = b->c;
    const uint32_t keys[2] = {c->rs.hostname, c->rs.zone};
    const int32_t skews[2] = {3, 5};
    for (int i = 0; i < 2; i++) {
        kn_clause cl;
        memset(&cl, 0, sizeof(cl));
        cl.ns = malloc(sizeof(uint32_t));
        if (cl.ns == NULL)
            return kn_err_set(err, "out of memory");
        cl.ns[0] = b->ns;
        cl.n_ns = 1;
        kn_dict_hold(&c->lab.dict, b->ns);
        kn_spreadc sc = {.max_skew = skews[i], .min_domains = 1, .honor_affinity = true, .key = keys[i]};
        sc.w = kn_watch_get(c, &cl, 1, false, true, owner);
        if (sc.w == NULL || push_spread(b, sc) != 0) {
            kn_watch_unref(c, sc.w);
            return kn_err_set(err, "out of memory");
        }
        kn_dict_hold(&c->lab.dict, keys[i]);
    }
    b->sp_default = true;
    return 0;
}

/* ---- termsets ---- */

static void sig_terms(kn_buf *s, char tag, const tlist *l)
{
    kn_buf_putc(s, tag);
    for (uint32_t i = 0; i < l->n; i++)
        kn_buf_printf(s, "%p:%u:%d,", (void *)l->t[i].w, l->t[i].key, l->t[i].weight);
}

static char *termset_sig(const builder *b)
{
    kn_buf s = KN_BUF_INIT;
    sig_terms(&s, 'a', &b->aff);
    sig_terms(&s, 'n', &b->anti);
    sig_terms(&s, 'p', &b->paff);
    sig_terms(&s, 'q', &b->panti);
    kn_buf_printf(&s, "s%d", b->sp_default);
    for (uint32_t i = 0; i < b->n_sp; i++) {
        const kn_spreadc *x = &b->sp[i];
        kn_buf_printf(&s, "%p:%u:%d:%d:%d%d%d%d,", (void *)x->w, x->key, x->max_skew, x->min_domains, x->hard,
                      x->honor_affinity, x->honor_taints, x->everything);
    }
    return kn_buf_finish(&s, NULL);
}

/* What an existing pod holding these terms holds against incoming pods. */
static int carry(kn_cluster *c, kn_termset *ts, const tlist *l, int type)
{
    for (uint32_t i = 0; i < l->n; i++) {
        int32_t weight = type == KN_CARRY_REQ_AFF ? 1 : l->t[i].weight; /* hardPodAffinityWeight: 1 */
        kn_carried *t = kn_carried_get(c, l->sym[i], l->t[i].key, type, weight);
        if (t == NULL)
            return -1;
        ts->car[ts->n_car++] = t;
    }
    return 0;
}

/* Moves a builder's list into the termset (its sym twins are carried by now). */
static void take_list(kn_cluster *c, tlist *l, kn_pterm **out, uint32_t *n)
{
    for (uint32_t i = 0; l->sym != NULL && i < l->n; i++)
        kn_watch_unref(c, l->sym[i]);
    free(l->sym);
    l->sym = NULL;
    *out = l->t;
    *n = l->n;
    l->t = NULL;
    l->n = 0;
}

static kn_termset *termset_make(builder *b, char *sig)
{
    kn_cluster *c = b->c;
    kn_termset *ts = calloc(1, sizeof(*ts));
    uint32_t n_car = b->aff.n + b->anti.n + b->paff.n + b->panti.n;
    if (ts == NULL || (n_car > 0 && (ts->car = calloc(n_car, sizeof(*ts->car))) == NULL)) {
        free(ts);
        return NULL;
    }
    ts->sig = sig;
    ts->refs = 1;
    if (carry(c, ts, &b->anti, KN_CARRY_REQ_ANTI) != 0 || carry(c, ts, &b->aff, KN_CARRY_REQ_AFF) != 0 ||
        carry(c, ts, &b->paff, KN_CARRY_PREF_AFF) != 0 || carry(c, ts, &b->panti, KN_CARRY_PREF_ANTI) != 0) {
        ts->sig = NULL;
        kn_termset_destroy(c, ts);
        return NULL;
    }
    int obj = kn_ptrtab_put(&c->rs.objs, ts);
    if (obj < 0 || kn_strmap_put(&c->rs.ts_by_sig, ts->sig, obj) != 0) {
        if (obj >= 0)
            kn_ptrtab_del(&c->rs.objs, obj);
        ts->sig = NULL;
        kn_termset_destroy(c, ts);
        return NULL;
    }
    take_list(c, &b->aff, &ts->aff, &ts->n_aff);
    take_list(c, &b->anti, &ts->anti, &ts->n_anti);
    take_list(c, &b->paff, &ts->paff, &ts->n_paff);
    take_list(c, &b->panti, &ts->panti, &ts->n_panti);
    ts->sp = b->sp;
    ts->n_sp = b->n_sp;
    ts->sp_default = b->sp_default;
    b->sp = NULL;
    b->n_sp = 0;
    return ts;
}

int kn_termset_compile(kn_cluster *c, const kn_pod_terms *in, kn_termset **out, kn_err *err)
{
    *out = NULL;
    const kn_json *pa = in->pod_affinity, *paa = in->pod_anti_affinity;
    bool none = kn_json_len(pa) == 0 && kn_json_len(paa) == 0 && (!in->own || kn_json_len(in->spread) == 0);
    uint32_t owner = in->own && kn_json_len(in->spread) == 0 ? kn_default_spread_owner(c, in) : 0;
    if (none && owner == 0)
        return 0;
    builder b = {.c = c};
    b.ns = kn_dict_ref(&c->lab.dict, in->ns ? in->ns : "");
    int rc = b.ns != 0 ? 0 : kn_err_set(err, "out of memory");
#define REQ "requiredDuringSchedulingIgnoredDuringExecution"
#define PREF "preferredDuringSchedulingIgnoredDuringExecution"
    if (rc == 0)
        rc = add_terms(&b, kn_json_get(pa, REQ), "spec.affinity.podAffinity." REQ, false, &b.aff, err);
    if (rc == 0)
        rc = add_terms(&b, kn_json_get(paa, REQ), "spec.affinity.podAntiAffinity." REQ, false, &b.anti, err);
    if (rc == 0)
        rc = add_terms(&b, kn_json_get(pa, PREF), "spec.affinity.podAffinity." PREF, true, &b.paff, err);
    if (rc == 0)
        rc = add_terms(&b, kn_json_get(paa, PREF), "spec.affinity.podAntiAffinity." PREF, true, &b.panti, err);
#undef REQ
#undef PREF
    if (rc == 0)
        rc = and_affinity(&b, err);
    if (rc == 0)
        rc = owner != 0 ? add_default_spread(&b, owner, err) : in->own ? add_spread(&b, in, err) : 0;
    kn_dict_unref(&c->lab.dict, owner);
    if (rc == 0 && b.aff.n + b.anti.n + b.paff.n + b.panti.n + b.n_sp == 0) { /* only empty lists */
        builder_free(&b);
        kn_dict_unref(&c->lab.dict, b.ns);
        return 0;
    }
    char *sig = rc == 0 ? termset_sig(&b) : NULL;
    if (rc == 0 && sig == NULL)
        rc = kn_err_set(err, "out of memory");
    if (rc == 0) {
        int i = kn_strmap_get(&c->rs.ts_by_sig, sig);
        if (i >= 0) {
            *out = c->rs.objs.p[i];
            (*out)->refs++;
            free(sig);
        } else if ((*out = termset_make(&b, sig)) == NULL) {
            free(sig);
            rc = kn_err_set(err, "out of memory");
        }
    }
    builder_free(&b);
    kn_dict_unref(&c->lab.dict, b.ns);
    return rc;
}
