/* test_relplace.c - the placer's choice for pods with inter-pod terms
 * (scheduler/place/relplace.c, placer.c) is exactly what ranking every
 * feasible node would choose: random clusters (zones, racks, hostnames, a
 * few hostnames shared so hostname stops being node-local), random placed
 * pods and random pending pods with every kind of term (required and
 * preferred affinity and anti-affinity on hostname, zone and rack, spreading
 * on zone, rack and hostname, placed pods' terms), in some clusters
 * PreferNoSchedule taints on some nodes (the preferences then score every
 * pod, normalized over the same feasible nodes), placed one after the other
 * so the counts, the per-kind index, its per-zone counts and the narrowed
 * candidates are checked across many changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scheduler/cycle/core.h"
#include "scheduler/place/relplan.h"
#include "support/sched_fixtures.h"

static uint64_t seed;

static unsigned rnd(unsigned n)
{
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)(seed >> 33) % n;
}

static const char *const keys[] = {"kubernetes.io/hostname", "topology.kubernetes.io/zone", "rack"};
static const char *const apps[] = {"a", "b", "c", "d"};
/* Keys the terms use: all three, or (every other cluster) hostname and
 * zone only, the shape whose candidates are narrowed. */
static unsigned n_keys;

/* A random term selecting app=X pods, on a random key. */
static void random_term(char *b, size_t cap)
{
    snprintf(b, cap, "{\"labelSelector\":{\"matchLabels\":{\"app\":\"%s\"}},\"topologyKey\":\"%s\"}", apps[rnd(4)],
             keys[rnd(n_keys)]);
}

/* spec members with random terms (or none). */
static void random_spec(char *b, size_t cap)
{
    char t1[256], t2[256], t3[256], t4[256];
    random_term(t1, sizeof t1);
    random_term(t2, sizeof t2);
    random_term(t3, sizeof t3);
    random_term(t4, sizeof t4);
    const char *spread_key = keys[rnd(n_keys)];
    unsigned what = rnd(8);
    switch (what) {
    case 0: b[0] = '\0'; break;
    case 1:
        snprintf(b, cap,
                 ",\"affinity\":{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[%s]}}",
                 t1);
        break;
    case 2:
        snprintf(b, cap,
                 ",\"affinity\":{\"podAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[%s]}}", t1);
        break;
    case 3:
        snprintf(
            b, cap,
            ",\"affinity\":{\"podAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":[{\"weight\":%u,"
            "\"podAffinityTerm\":%s}]},\"podAntiAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":"
            "[{\"weight\":%u,\"podAffinityTerm\":%s}]}}",
            1 + rnd(100), t2, 1 + rnd(100), t3);
        break;
    case 4:
    case 5:
        snprintf(
            b, cap,
            ",\"topologySpreadConstraints\":[{\"maxSkew\":%u,\"topologyKey\":\"%s\",\"whenUnsatisfiable\":\"%s\","
            "\"labelSelector\":{\"matchLabels\":{\"app\":\"%s\"}}}]",
            1 + rnd(2), spread_key, what == 4 ? "DoNotSchedule" : "ScheduleAnyway", apps[rnd(4)]);
        break;
    case 6:
        snprintf(
            b, cap,
            ",\"affinity\":{\"podAntiAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":[{\"weight\":"
            "100,\"podAffinityTerm\":%s}]}},\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":"
            "\"topology.kubernetes.io/zone\",\"whenUnsatisfiable\":\"ScheduleAnyway\",\"labelSelector\":"
            "{\"matchLabels\":{\"app\":\"%s\"}}}]",
            t4, apps[rnd(4)]);
        break;
    default:
        snprintf(b, cap,
                 ",\"affinity\":{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[%s]},"
                 "\"podAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":[{\"weight\":5,"
                 "\"podAffinityTerm\":%s}]}}",
                 t1, t2);
    }
}

/* The reference: every node that passes the static filters and fits, ranked. */
static int reference(kn_cluster *c, const kn_want *w, double *total)
{
    kn_relplan p;
    bool active = kn_relplan_init(c, w, &p);
    assert_false(p.oom);
    kn_relcand *cand = calloc((size_t)c->n_nodes + 1, sizeof(*cand));
    int n = 0;
    for (int i = 0; i < c->n_nodes; i++) {
        kn_diag d;
        kn_diag_init(&d);
        kn_choice ch;
        if (c->nodes[i].live && kn_filter_static(&c->nodes[i], w->pod, &d) && kn_fit_and_score(c, i, w, &ch))
            cand[n++] = (kn_relcand){.node = i, .rank = -1, .base = ch.score};
    }
    int node = -1;
    if (active) {
        int b = kn_rel_rank(&p, cand, n, total);
        node = b >= 0 ? cand[b].node : -1;
    } else {
        kn_prefs max = {0, 0};
        bool prefer = kn_want_prefers(c, w);
        for (int i = 0; prefer && i < n; i++) {
            kn_prefs_of_node(&c->nodes[cand[i].node], w->pod, &cand[i].prefs);
            max.affinity = cand[i].prefs.affinity > max.affinity ? cand[i].prefs.affinity : max.affinity;
            max.taints = cand[i].prefs.taints > max.taints ? cand[i].prefs.taints : max.taints;
        }
        for (int i = 0; i < n; i++) {
            double t = cand[i].base + (prefer ? kn_prefs_score(&cand[i].prefs, &max) : 0);
            if (node < 0 || t > *total ||
                (t == *total && strcmp(c->nodes[cand[i].node].name, c->nodes[node].name) < 0)) {
                node = cand[i].node;
                *total = t;
            }
        }
    }
    free(cand);
    kn_relplan_free(&p);
    return node;
}

static void one_cluster(unsigned s, int n_nodes, int n_placed, int n_pending)
{
    seed = s;
    n_keys = s % 2 == 0 ? 2 : 3;
    fx_sched *f = fx_sched_new(NULL);
    kn_scheduler *sc = f->s;
    for (int i = 0; i < n_nodes; i++) {
        char name[32], labels[256];
        snprintf(name, sizeof name, "n%03d", i);
        /* most hostnames unique; in some clusters two nodes share one */
        int host = (s % 3 == 0 && i == 1) ? 0 : i;
        snprintf(labels, sizeof labels, "\"topology.kubernetes.io/zone\":\"z%u\",\"rack\":\"r%u\",\"h\":\"%d\"",
                 rnd(3), rnd(7), host);
        const char *taint = s % 4 >= 2 && rnd(3) == 0
                                ? ",\"taints\":[{\"key\":\"k\",\"value\":\"v\",\"effect\":\"PreferNoSchedule\"}]"
                                : "";
        fx_node_full(sc, name, rnd(2) ? "16" : "8", "64Gi", labels, "", taint, "", "True");
        if (host != i) { /* the fixture set kubernetes.io/hostname to the name: share one */
            kn_json *n =
                fx_parse("{\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\",\"labels\":"
                         "{\"kubernetes.io/hostname\":\"n000\",\"topology.kubernetes.io/zone\":\"z0\","
                         "\"rack\":\"r0\"}},\"status\":{\"allocatable\":{\"cpu\":\"8\",\"memory\":\"64Gi\","
                         "\"pods\":\"110\"}}}",
                         name);
            assert_int_equal(kn_sched_apply_node(sc, n, false, NULL), 0);
            kn_json_free(n);
        }
    }
    for (int i = 0; i < n_placed; i++) {
        char name[32], labels[64], spec[2048];
        snprintf(name, sizeof name, "placed-%d", i);
        snprintf(labels, sizeof labels, "\"app\":\"%s\"", apps[rnd(4)]);
        random_spec(spec, sizeof spec);
        char node[32];
        snprintf(node, sizeof node, "n%03u", rnd((unsigned)n_nodes));
        fx_pod_in(sc, "default", name, labels, spec, node);
    }
    int placed = 0, checked = 0;
    for (int i = 0; i < n_pending; i++) {
        char name[32], labels[64], spec[2048];
        snprintf(name, sizeof name, "pend-%d", i);
        snprintf(labels, sizeof labels, "\"app\":\"%s\"", apps[rnd(4)]);
        random_spec(spec, sizeof spec);
        fx_pod_in(sc, "default", name, labels, spec, NULL);
        char uid[64];
        snprintf(uid, sizeof uid, "uid-%s", name);
        int pi = kn_strmap_get(&sc->c.pod_by_uid, uid);
        kn_cpod *p = &sc->c.pods[pi];
        if (p->d == NULL || p->d->bad)
            continue;
        kn_want w;
        kn_want_for_pod(sc, p, &w);
        double want_total = 0;
        int want = reference(&sc->c, &w, &want_total);
        kn_diag d;
        kn_diag_init(&d);
        kn_choice ch;
        bool got = kn_place_best(&sc->c, &w, &ch, &d);
        checked++;
        if (want < 0) {
            if (got)
                fail_msg("seed %u pod %d: placed on %s, the reference finds no node", s, i,
                         sc->c.nodes[ch.node].name);
            continue;
        }
        if (!got || ch.node != want || ch.score != want_total)
            fail_msg("seed %u pod %d: %s %.17g, the reference %s %.17g", s, i,
                     got ? sc->c.nodes[ch.node].name : "(none)", got ? ch.score : 0.0, sc->c.nodes[want].name,
                     want_total);
        kn_cycle cy = {.s = sc, .now = 1, .out = &f->out};
        assert_int_equal(kn_commit_pod(&cy, pi, &ch, NULL), 0);
        placed++;
    }
    assert_true(checked > n_pending / 2);
    assert_true(placed > 0);
    fx_sched_free(f);
}

static void test_choices_are_the_full_ranking(void **state)
{
    (void)state;
    for (unsigned s = 1; s <= 40; s++)
        one_cluster(s, 10 + (int)(s % 5) * 12, 30 + (int)s, 120);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_choices_are_the_full_ranking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
