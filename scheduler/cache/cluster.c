/* cluster.c - resource vectors, accounting and the pod table (see cluster.h). */
#include "scheduler/cache/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/quantity.h"
#include "base/grow.h"
#include "base/siphash.h"

static const char *const fixed_res[KN_R_FIRST_EXT] = {"cpu", "memory", "ephemeral-storage", "pods"};

/* The policy and the names, not the whole 520 bytes (hashed once per pending
 * pod asking for a policy). Specs are zeroed past what they hold
 * (kn_numa_from_annotations), so equal specs compare equal as bytes. */
static uint64_t numa_spec_hash(const kn_numa_spec *s)
{
    int head[2] = {(int)s->policy, s->n_resources};
    char buf[sizeof(head) + sizeof(s->resources)];
    memcpy(buf, head, sizeof(head));
    size_t n = sizeof(head);
    for (int i = 0; i < s->n_resources && i < KN_NUMA_MAX_RESOURCES; i++) {
        size_t k = strnlen(s->resources[i], sizeof(s->resources[i]) - 1) + 1;
        memcpy(buf + n, s->resources[i], k);
        n += k;
    }
    return kn_keyhash(buf, n);
}

static uint64_t numa_hash(const void *e)
{
    return numa_spec_hash(&((const kn_numa_entry *)e)->spec);
}

int kn_cluster_init(kn_cluster *c, const char *scheduler_name, kn_err *err)
{
    memset(c, 0, sizeof(*c));
    for (int i = 0; i < KN_R_FIRST_EXT; i++)
        strcpy(c->res_names[i], fixed_res[i]);
    c->n_res = KN_R_FIRST_EXT;
    kn_strmap_init(&c->node_by_name);
    kn_strmap_init(&c->pod_by_uid);
    kn_strmap_init(&c->nrt_by_name);
    kn_strmap_init(&c->pg_by_key);
    kn_strmap_init(&c->cons_by_sig);
    kn_strmap_init(&c->pdb_by_uid);
    kn_phash_init(&c->numa_specs, numa_hash);
    c->scheduler_name = strdup(scheduler_name ? scheduler_name : "kubenexus-scheduler");
    if (c->scheduler_name == NULL || kn_labels_init(&c->lab) != 0 || kn_relstate_init(c) != 0) {
        kn_cluster_free(c);
        return kn_err_set(err, "out of memory");
    }
    c->gen = 1;
    c->min_priority = INT32_MAX;
    c->topo_gen = 1;
    c->ns_gen = 1;
    return 0;
}

static void node_clear(kn_cluster *c, kn_node *n)
{
    kn_lset_unref(&c->lab, n->lset);
    free(n->name);
    free(n->uid);
    kn_json_free(n->labels);
    free(n->topo_annotation);
    free(n->zones);
    kn_portset_free(&n->ports);
    for (int i = 0; i < n->n_taints; i++) {
        free(n->taints[i].key);
        free(n->taints[i].value);
        free(n->taints[i].effect);
    }
    free(n->taints);
}

static const char *s_or(const char *s)
{
    return s ? s : "";
}

char *kn_pod_sig(const kn_constraints *p)
{
    /* fields end in \x1f, tolerations in \x1e, sections in \x1d: bytes no
     * JSON text or label holds, so two different sets never read the same */
    kn_buf b = KN_BUF_INIT;
    if (p->node_selector)
        kn_json_write_value(&b, p->node_selector);
    kn_buf_putc(&b, '\x1d');
    if (p->required_affinity)
        kn_json_write_value(&b, p->required_affinity);
    kn_buf_putc(&b, '\x1d');
    for (int i = 0; i < p->n_tolerations; i++) {
        const kn_toleration *t = &p->tolerations[i];
        const char *f[4] = {t->key, t->op, t->value, t->effect};
        for (int k = 0; k < 4; k++) {
            kn_buf_puts(&b, s_or(f[k]));
            kn_buf_putc(&b, k < 3 ? '\x1f' : '\x1e');
        }
    }
    /* scoring preferences and host ports: a placement reads them too */
    kn_buf_putc(&b, '\x1d');
    if (p->preferred_affinity)
        kn_json_write_value(&b, p->preferred_affinity);
    kn_buf_putc(&b, '\x1d');
    for (int i = 0; i < p->n_host_ports; i++) {
        const kn_host_port *hp = &p->host_ports[i];
        kn_json_write_string(&b, hp->ip, strlen(hp->ip));
        kn_json_write_string(&b, hp->protocol, strlen(hp->protocol));
        kn_buf_printf(&b, "%d\x1e", (int)hp->port);
    }
    return kn_buf_finish(&b, NULL);
}

/* A deep copy of src into out: 0, or -1 out of memory (out left empty). */
static int constraints_copy(kn_constraints *out, const kn_constraints *src)
{
    memset(out, 0, sizeof(*out));
    size_t ports = sizeof(*src->host_ports) * (size_t)src->n_host_ports;
    if ((src->node_selector && (out->node_selector = kn_json_clone(src->node_selector)) == NULL) ||
        (src->required_affinity && (out->required_affinity = kn_json_clone(src->required_affinity)) == NULL) ||
        (src->preferred_affinity && (out->preferred_affinity = kn_json_clone(src->preferred_affinity)) == NULL) ||
        (ports > 0 && (out->host_ports = malloc(ports)) == NULL) ||
        kn_tolerations_copy(src->tolerations, src->n_tolerations, &out->tolerations) != 0) {
        kn_constraints_free(out);
        return -1;
    }
    if (ports > 0)
        memcpy(out->host_ports, src->host_ports, ports);
    out->n_host_ports = src->n_host_ports;
    out->n_tolerations = src->n_tolerations;
    return 0;
}

kn_cons_entry *kn_cons_intern(kn_cluster *c, const kn_constraints *cons)
{
    char *sig = kn_pod_sig(cons);
    if (sig == NULL)
        return NULL;
    int i = kn_strmap_get(&c->cons_by_sig, sig);
    if (i >= 0) {
        free(sig);
        c->cons[i]->refs++;
        return c->cons[i];
    }
    for (i = 0; i < c->n_cons && c->cons[i] != NULL; i++)
        ;
    if (kn_grow((void **)&c->cons, &c->cap_cons, (size_t)i + 1, sizeof(*c->cons)) != 0) {
        free(sig);
        return NULL;
    }
    kn_cons_entry *e = calloc(1, sizeof(*e));
    if (e == NULL || constraints_copy(&e->cons, cons) != 0) {
        free(e);
        free(sig);
        return NULL;
    }
    if (kn_strmap_put(&c->cons_by_sig, sig, i) != 0) {
        kn_constraints_free(&e->cons);
        free(e);
        free(sig);
        return NULL;
    }
    e->sig = sig;
    e->refs = 1;
    e->idx = i;
    c->cons[i] = e;
    if (i == c->n_cons)
        c->n_cons++;
    return e;
}

void kn_cons_release(kn_cluster *c, kn_cons_entry *e)
{
    if (e == NULL || --e->refs > 0)
        return;
    kn_strmap_del(&c->cons_by_sig, e->sig);
    c->cons[e->idx] = NULL;
    kn_constraints_free(&e->cons);
    free(e->sig);
    free(e);
}

static bool same_numa(const void *item, const void *key)
{
    return memcmp(&((const kn_numa_entry *)item)->spec, key, sizeof(kn_numa_spec)) == 0;
}

kn_numa_entry *kn_numa_intern(kn_cluster *c, const kn_numa_spec *spec)
{
    kn_numa_entry *e = kn_phash_find(&c->numa_specs, numa_spec_hash(spec), same_numa, spec);
    if (e != NULL) {
        e->refs++;
        return e;
    }
    if ((e = malloc(sizeof(*e))) == NULL)
        return NULL;
    e->spec = *spec;
    e->refs = 1;
    for (int i = 0; i < KN_NUMA_MAX_RESOURCES; i++)
        e->idx[i] = i < spec->n_resources ? kn_res_index(c, spec->resources[i], true) : -1;
    if (kn_phash_add(&c->numa_specs, e) != 0) {
        free(e);
        return NULL;
    }
    return e;
}

void kn_numa_release(kn_cluster *c, kn_numa_entry *e)
{
    if (e == NULL || --e->refs > 0)
        return;
    kn_phash_del(&c->numa_specs, e);
    free(e);
}

void kn_pod_detail_free(kn_cluster *c, kn_pod_detail *d)
{
    if (d == NULL)
        return;
    kn_cons_release(c, d->cons);
    kn_numa_release(c, d->numa);
    kn_json_free(d->reservation);
    kn_json_free(d->rel_spec);
    free(d->reason);
    free(d->bad);
    free(d);
}

void kn_cpod_restore_done(kn_cluster *c, kn_cpod *p)
{
    if (p->restore == NULL)
        return;
    kn_pod_detail_free(c, p->restore);
    p->restore = NULL;
    c->n_restore--;
}

static void pod_clear(kn_cluster *c, kn_cpod *p)
{
    free(p->uid); /* and ns and name */
    free(p->node_name);
    free(p->unfit_name);
    kn_labelset_free(&p->labels);
    kn_alloc_clear(&p->alloc);
    free(p->alloc.ports);
    kn_pod_detail_free(c, p->d);
    kn_cpod_restore_done(c, p);
    kn_rel_unref(c, p->alloc.rel);
    memset(p, 0, sizeof(*p));
    p->gang = -1;
    p->alloc.node = -1;
}

void kn_cluster_free(kn_cluster *c)
{
    if (c->vols_free != NULL)
        c->vols_free(c);
    c->rs.closing = true;
    for (int i = 0; i < c->n_pods; i++)
        if (c->pods[i].live)
            pod_clear(c, &c->pods[i]);
    free(c->pods);
    if (c->lab.empty != NULL)
        kn_relstate_free(c);
    for (int i = 0; i < c->n_nodes; i++)
        node_clear(c, &c->nodes[i]);
    free(c->nodes);
    free(c->free_pods);
    for (int i = 0; i < c->n_nrts; i++) {
        free(c->nrts[i].name);
        free(c->nrts[i].zones);
    }
    free(c->nrts);
    for (int i = 0; i < c->n_pgs; i++) {
        free(c->pgs[i].key);
        free(c->pgs[i].bad);
    }
    free(c->pgs);
    kn_strmap_free(&c->pg_by_key);
    kn_pdbs_free(c);
    kn_strmap_free(&c->node_by_name);
    kn_strmap_free(&c->pod_by_uid);
    kn_strmap_free(&c->nrt_by_name);
    free(c->cons);
    kn_strmap_free(&c->cons_by_sig);
    kn_phash_free(&c->numa_specs);
    free(c->scheduler_name);
    if (c->pc != NULL)
        c->pc_free(c->pc);
    free(c->chlog);
    kn_labels_free(&c->lab);
    memset(c, 0, sizeof(*c));
}

void kn_constraints_view(kn_constraints *out, const kn_pod *p)
{
    out->node_selector = p->node_selector;
    out->required_affinity = p->required_affinity;
    out->preferred_affinity = p->preferred_affinity;
    out->tolerations = p->tolerations;
    out->n_tolerations = p->n_tolerations;
    out->host_ports = p->host_ports;
    out->n_host_ports = p->n_host_ports;
}

void kn_constraints_take(kn_constraints *out, kn_pod *p)
{
    kn_constraints_view(out, p);
    p->node_selector = NULL;
    p->required_affinity = NULL;
    p->preferred_affinity = NULL;
    p->tolerations = NULL;
    p->n_tolerations = 0;
    p->host_ports = NULL;
    p->n_host_ports = 0;
}

void kn_constraints_free(kn_constraints *c)
{
    kn_json_free(c->node_selector);
    kn_json_free(c->required_affinity);
    kn_json_free(c->preferred_affinity);
    free(c->host_ports);
    kn_tolerations_free(c->tolerations, c->n_tolerations);
    memset(c, 0, sizeof(*c));
}

/* ---- resources ---- */

int kn_res_index(kn_cluster *c, const char *name, bool create)
{
    for (int i = 0; i < c->n_res; i++)
        if (strcmp(c->res_names[i], name) == 0)
            return i;
    if (!create || c->n_res >= KN_RDIM || strlen(name) >= KN_RESOURCE_NAME_MAX)
        return -1;
    strcpy(c->res_names[c->n_res], name);
    if (kn_res_is_extended(name)) /* scoring checks this per node: keep it a bit test */
        c->ext_mask |= 1u << c->n_res;
    return c->n_res++;
}

bool kn_res_is_extended(const char *name)
{
    /* v1helper.IsExtendedResourceName: not native (no '/', or in kubernetes.io)
     * and not a quota name (requests.*) */
    return strchr(name, '/') != NULL && strstr(name, "kubernetes.io/") == NULL &&
           strncmp(name, "requests.", 9) != 0;
}

const char *kn_res_name(const kn_cluster *c, int idx)
{
    return idx >= 0 && idx < c->n_res ? c->res_names[idx] : "?";
}

int kn_rvec_set_quantity(kn_cluster *c, kn_rvec *v, const char *name, const char *qty, kn_err *err)
{
    int64_t x;
    int r = strcmp(name, "cpu") == 0 ? kn_quantity_milli(qty, &x, err) : kn_quantity_value(qty, &x, err);
    if (r != 0)
        return kn_err_prefix(err, "%s", name);
    if (x < 0)
        return kn_err_set(err, "%s: \"%s\" is negative", name, qty);
    int idx = kn_res_index(c, name, true);
    if (idx >= 0)
        v->v[idx] = x;
    return 0;
}

int kn_rvec_from_list(kn_cluster *c, const kn_json *list, kn_rvec *v, kn_err *err)
{
    memset(v, 0, sizeof(*v));
    if (list == NULL)
        return 0;
    if (!kn_json_is(list, KN_JSON_OBJECT))
        return kn_err_set(err, "is %s, want an object of quantities", kn_json_type_name(kn_json_typeof(list)));
    for (size_t i = 0; i < kn_json_len(list); i++) {
        const char *name = kn_json_key_at(list, i);
        const kn_json *val = kn_json_value_at(list, i);
        const char *q = kn_json_is(val, KN_JSON_NUMBER) ? kn_json_number_text(val) : kn_json_str(val);
        if (q == NULL)
            return kn_err_set(err, "%s: is %s, want a quantity", name, kn_json_type_name(kn_json_typeof(val)));
        if (kn_rvec_set_quantity(c, v, name, q, err) != 0)
            return -1;
    }
    return 0;
}

/* ---- accounting ---- */

/* An isolated zone stays exclusive: what is left in it is not room for others. */
int64_t kn_node_free_dim(const kn_node *n, int pod, int r)
{
    int64_t f = n->alloc.v[r] - n->used.v[r];
    for (int i = 0; n->n_exclusive > 0 && i < n->n_zones; i++) {
        const kn_zone *z = &n->zones[i];
        if (z->exclusive < 0 || z->exclusive == pod)
            continue;
        int64_t zf = kn_zone_free(z, r);
        if (zf > 0)
            f -= zf;
    }
    return f;
}

/* Which node the take or release changed, for the placement index. */
static void log_change(kn_cluster *c, int node, bool release)
{
    if (c->chlog)
        c->chlog[c->mutations & (KN_CHLOG_SIZE - 1)] = node * 2 + release;
    c->mutations++;
}

void kn_alloc_take(kn_cluster *c, kn_alloc *a)
{
    kn_node *n = &c->nodes[a->node];
    log_change(c, a->node, false);
    if (a->rel != NULL)
        kn_rel_occupy(c, a->rel, a->node, 1);
    for (int r = 0; r < KN_RDIM; r++)
        n->used.v[r] += a->req.v[r];
    a->zone_epoch = n->zone_epoch;
    for (int i = 0; i < a->n_ports; i++)
        kn_portset_add(&n->ports, &a->ports[i], +1);
    for (int i = 0; i < a->n_zones; i++) {
        kn_zone *z = &n->zones[a->zone[i]];
        for (int r = 0; r < KN_RDIM; r++) {
            z->ours.v[r] += a->ztake[i].v[r];
            z->since.v[r] += a->ztake[i].v[r];
        }
        kn_zone_sync_room(z);
        z->users++;
        if (a->exclusive) {
            n->n_exclusive += z->exclusive < 0;
            z->exclusive = a->owner;
        }
    }
}

void kn_alloc_release(kn_cluster *c, kn_alloc *a)
{
    if (a->node < 0)
        return;
    kn_node *n = &c->nodes[a->node];
    log_change(c, a->node, true);
    if (a->rel != NULL)
        kn_rel_occupy(c, a->rel, a->node, -1);
    for (int r = 0; r < KN_RDIM; r++)
        n->used.v[r] -= a->req.v[r];
    for (int i = 0; i < a->n_ports; i++)
        kn_portset_add(&n->ports, &a->ports[i], -1);
    if (a->zone_epoch == n->zone_epoch) {
        for (int i = 0; i < a->n_zones; i++) {
            kn_zone *z = &n->zones[a->zone[i]];
            for (int r = 0; r < KN_RDIM; r++) {
                z->ours.v[r] -= a->ztake[i].v[r];
                /* a newer report may already have reset `since` */
                z->since.v[r] = z->since.v[r] > a->ztake[i].v[r] ? z->since.v[r] - a->ztake[i].v[r] : 0;
            }
            kn_zone_sync_room(z);
            z->users--;
            if (a->exclusive && z->exclusive == a->owner) {
                z->exclusive = -1;
                n->n_exclusive--;
            }
        }
    }
}

void kn_alloc_clear(kn_alloc *a)
{
    free(a->ztake);
    a->ztake = NULL;
    a->n_zones = 0;
    a->node = -1;
    a->exclusive = false;
}

void kn_alloc_zones_from_csv(kn_cluster *c, kn_alloc *a, const char *csv)
{
    if (csv == NULL || a->node < 0)
        return;
    const kn_node *n = &c->nodes[a->node];
    int idx[KN_NUMA_MAX_ZONES], k = 0;
    const char *p = csv;
    while (*p && k < KN_NUMA_MAX_ZONES) {
        size_t len = strcspn(p, ",");
        for (int i = 0; i < n->n_zones; i++)
            if (strlen(n->zones[i].name) == len && strncmp(n->zones[i].name, p, len) == 0)
                idx[k++] = i;
        p += len;
        if (*p == ',')
            p++;
    }
    if (k == 0 || (a->ztake = calloc((size_t)k, sizeof(kn_rvec))) == NULL)
        return;
    a->n_zones = k;
    for (int i = 0; i < k; i++)
        a->zone[i] = (uint8_t)idx[i];
    for (int r = 0; r < KN_RDIM; r++) {
        int64_t left = a->req.v[r];
        int last = -1;
        for (int i = 0; i < k; i++) {
            const kn_zone *z = &n->zones[idx[i]];
            if (z->alloc.v[r] == 0)
                continue; /* the zone does not hold this resource */
            int64_t f = kn_zone_free(z, r);
            int64_t t = f <= 0 ? 0 : (f < left ? f : left);
            a->ztake[i].v[r] = t;
            left -= t;
            last = i;
        }
        if (left > 0 && last >= 0) /* keep the accounting whole rather than lose it */
            a->ztake[last].v[r] += left;
    }
}
