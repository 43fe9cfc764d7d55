/* The cached node choice (kn_place_best) is exactly the choice of a full scan
 * of every node, through thousands of placements, releases and node changes
 * on a mixed cluster (taints, labels, NUMA zones, several pod kinds, scoring
 * preferences normalized over the feasible nodes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scheduler/place/place.h"

#define N_NODES 200
#define STEPS 4000
#define MAX_ALLOCS STEPS

static uint32_t rng = 12345;
static uint32_t rnd(uint32_t n)
{
    rng = rng * 1103515245u + 12345u;
    return (rng >> 8) % n;
}

static void apply(kn_cluster *c, const char *text, bool nrt)
{
    kn_err err = {{0}};
    kn_json *j = kn_json_parse(text, strlen(text), NULL, &err);
    if (j == NULL)
        fail_msg("%s: %s", err.msg, text);
    int rc = nrt ? kn_cluster_apply_nrt(c, j, false, &err) : kn_cluster_apply_node(c, j, false, &err);
    if (rc != 0)
        fail_msg("%s", err.msg);
    kn_json_free(j);
}

static const char *const taints[] = {
    "",
    "{\"key\":\"t\",\"value\":\"a\",\"effect\":\"NoSchedule\"}",
    "{\"key\":\"t\",\"value\":\"b\",\"effect\":\"NoExecute\"}",
    "{\"key\":\"spot\",\"value\":\"y\",\"effect\":\"PreferNoSchedule\"}",
    "{\"key\":\"spot\",\"value\":\"y\",\"effect\":\"PreferNoSchedule\"},"
    "{\"key\":\"old\",\"value\":\"y\",\"effect\":\"PreferNoSchedule\"}",
};

static void node(kn_cluster *c, int i, int taint)
{
    char buf[4096], bits[256] = "";
    for (int b = 0; b < 7; b++) /* b0..b6: which of kind 10's terms the node matches */
        if (rnd(2))
            snprintf(bits + strlen(bits), sizeof(bits) - strlen(bits), ",\"b%d\":\"1\"", b);
    snprintf(buf, sizeof(buf),
             "{\"metadata\":{\"name\":\"n%03d\",\"labels\":{\"zone\":\"z%d\",\"disk\":\"%s\",\"rack\":\"r%d\"%s}},"
             "\"spec\":{\"taints\":[%s]},"
             "\"status\":{\"allocatable\":{\"cpu\":\"%u\",\"memory\":\"%uGi\",\"pods\":\"%u\"}}}",
             i, i % 3, rnd(2) ? "ssd" : "hdd", (int)rnd(5), bits, taints[taint], 4 + rnd(29), 8 + rnd(120),
             20 + rnd(100));
    apply(c, buf, false);
    if (i % 2 == 0) { /* two or four zones */
        int nz = i % 4 == 0 ? 4 : 2;
        char zones[2048] = "";
        for (int z = 0; z < nz; z++) {
            char one[256];
            snprintf(one, sizeof(one),
                     "%s{\"name\":\"node-%d\",\"type\":\"Node\",\"resources\":[{\"name\":\"cpu\",\"allocatable\":"
                     "\"%d\","
                     "\"available\":\"%d\"},{\"name\":\"memory\",\"allocatable\":\"16Gi\"}]}",
                     z ? "," : "", z, 16 / nz * 2, 16 / nz * 2 - (int)rnd(2));
            strcat(zones, one);
        }
        snprintf(buf, sizeof(buf), "{\"metadata\":{\"name\":\"n%03d\"},\"zones\":[%s]}", i, zones);
        apply(c, buf, true);
    }
}

typedef struct kind {
    kn_rvec req;
    kn_numa_spec numa;
    int numa_idx[KN_NUMA_MAX_RESOURCES];
    bool has_numa, binpack;
    kn_constraints cons;
    char *sig;
} kind;

static void make_kind(kn_cluster *c, kind *k, int cpu, int gib, kn_numa_policy pol, bool binpack, int cons)
{
    memset(k, 0, sizeof(*k));
    k->req.v[KN_R_CPU] = cpu * 1000;
    k->req.v[KN_R_MEMORY] = (int64_t)gib << 30;
    k->req.v[KN_R_PODS] = 1;
    k->binpack = binpack;
    if (pol != KN_NUMA_NONE) {
        k->has_numa = true;
        k->numa.policy = pol;
        k->numa.n_resources = 2;
        strcpy(k->numa.resources[0], "cpu");
        strcpy(k->numa.resources[1], "memory");
        k->numa_idx[0] = kn_res_index(c, "cpu", true);
        k->numa_idx[1] = kn_res_index(c, "memory", true);
    }
    if (cons == 1) {
        k->cons.tolerations = calloc(1, sizeof(kn_toleration));
        k->cons.tolerations[0].key = strdup("t");
        k->cons.tolerations[0].op = strdup("Exists");
        k->cons.n_tolerations = 1;
    } else if (cons == 2) {
        k->cons.node_selector = kn_json_parse("{\"zone\":\"z1\"}", 13, NULL, NULL);
    } else if (cons == 3 || cons == 4) { /* a few buckets of raw preference values */
        const char *terms = "[{\"weight\":3,\"preference\":{\"matchExpressions\":[{\"key\":\"disk\","
                            "\"operator\":\"In\",\"values\":[\"ssd\"]}]}},"
                            "{\"weight\":5,\"preference\":{\"matchExpressions\":[{\"key\":\"rack\","
                            "\"operator\":\"In\",\"values\":[\"r1\",\"r2\"]}]}},"
                            "{\"weight\":7,\"preference\":{\"matchExpressions\":[{\"key\":\"zone\","
                            "\"operator\":\"NotIn\",\"values\":[\"z2\"]}]}}]";
        k->cons.preferred_affinity = kn_json_parse(terms, strlen(terms), NULL, NULL);
        if (cons == 4) { /* tolerates one of the PreferNoSchedule taints */
            k->cons.tolerations = calloc(1, sizeof(kn_toleration));
            k->cons.tolerations[0].key = strdup("spot");
            k->cons.tolerations[0].op = strdup("Exists");
            k->cons.n_tolerations = 1;
        }
    } else if (cons == 5) { /* up to 128 raw values: more buckets than the index keeps */
        char terms[2048] = "[";
        for (int b = 0; b < 7; b++)
            snprintf(terms + strlen(terms), sizeof(terms) - strlen(terms),
                     "%s{\"weight\":%d,\"preference\":{\"matchExpressions\":[{\"key\":\"b%d\","
                     "\"operator\":\"Exists\"}]}}",
                     b ? "," : "", 1 << b, b);
        strcat(terms, "]");
        k->cons.preferred_affinity = kn_json_parse(terms, strlen(terms), NULL, NULL);
    }
    k->sig = kn_pod_sig(&k->cons);
}

static void want_of(const kind *k, int owner, kn_want *w)
{
    memset(w, 0, sizeof(*w));
    w->pod = &k->cons;
    w->req = &k->req;
    w->numa = k->has_numa ? &k->numa : NULL;
    w->numa_idx = k->numa_idx;
    w->owner = owner;
    w->binpack = k->binpack;
    w->sig = k->sig;
}

/* The reference: every node through every filter, then the preferences
 * normalized over the nodes that passed; best by score then name; d gets why
 * nodes were filtered. */
static int full_scan(kn_cluster *c, const kn_want *w, double *score, kn_diag *d)
{
    int best = -1, n = c->n_nodes;
    double *base = calloc((size_t)n + 1, sizeof(double));
    kn_prefs *pr = calloc((size_t)n + 1, sizeof(kn_prefs)), max = {0, 0};
    bool *ok = calloc((size_t)n + 1, sizeof(bool));
    assert_true(base && pr && ok);
    for (int i = 0; i < n; i++) {
        kn_choice ch;
        if (!(ok[i] = kn_place_on_node(c, i, w, &ch, d)))
            continue;
        base[i] = ch.score;
        kn_prefs_of_node(&c->nodes[i], w->pod, &pr[i]);
        max.affinity = pr[i].affinity > max.affinity ? pr[i].affinity : max.affinity;
        max.taints = pr[i].taints > max.taints ? pr[i].taints : max.taints;
    }
    for (int i = 0; i < n; i++) {
        if (!ok[i])
            continue;
        double s = kn_want_prefers(c, w) ? base[i] + kn_prefs_score(&pr[i], &max) : base[i];
        if (best < 0 || s > *score || (s == *score && strcmp(c->nodes[i].name, c->nodes[best].name) < 0)) {
            best = i;
            *score = s;
        }
    }
    free(base);
    free(pr);
    free(ok);
    return best;
}

/* release_every / relabel_every: one in that many steps. prefs: 0 none, 1
 * kinds with preferred node affinity, 2 also PreferNoSchedule taints (then
 * every kind's scores have the preferences). */
static void run(uint32_t release_every, uint32_t relabel_every, int prefs)
{
    kn_cluster c;
    assert_int_equal(kn_cluster_init(&c, NULL, NULL), 0);
    c.pct_nodes = 100; /* the exact best, as the full scan */
    for (int i = 0; i < N_NODES; i++)
        node(&c, i, i % 7 == 0 ? 1 : i % 11 == 0 ? 2 : prefs == 2 && i % 3 == 0 ? 3 + i % 2 : 0);
    int n_kinds = prefs ? 12 : 8;
    kind kinds[12];
    make_kind(&c, &kinds[0], 1, 2, KN_NUMA_NONE, true, 0);
    make_kind(&c, &kinds[1], 2, 4, KN_NUMA_NONE, false, 0);
    make_kind(&c, &kinds[2], 2, 2, KN_NUMA_SINGLE, true, 0);
    make_kind(&c, &kinds[3], 3, 6, KN_NUMA_BEST_EFFORT, false, 1);
    make_kind(&c, &kinds[4], 1, 1, KN_NUMA_ISOLATED, true, 0);
    make_kind(&c, &kinds[5], 5, 8, KN_NUMA_RESTRICTED, true, 2);
    make_kind(&c, &kinds[6], 1, 1, KN_NUMA_NONE, false, 1);
    make_kind(&c, &kinds[7], 40, 8, KN_NUMA_NONE, true, 0); /* fits nowhere */
    make_kind(&c, &kinds[8], 1, 2, KN_NUMA_NONE, true, 3);
    make_kind(&c, &kinds[9], 2, 2, KN_NUMA_SINGLE, false, 4);
    make_kind(&c, &kinds[10], 1, 1, KN_NUMA_NONE, true, 5);
    make_kind(&c, &kinds[11], 1, 3, KN_NUMA_NONE, false, 3); /* spreading: lazily re-ranked */
    kn_alloc *allocs = calloc(MAX_ALLOCS, sizeof(kn_alloc));
    int n_allocs = 0, placed = 0, cur = 0, failures = 0;
    for (int step = 0; step < STEPS; step++) {
        if (rnd(100) == 0)
            cur = (int)rnd((uint32_t)n_kinds); /* mostly runs of one kind, as gang members come */
        kn_want w;
        want_of(&kinds[cur], step, &w);
        double ref_score = 0;
        kn_diag d, ref_d;
        kn_diag_init(&ref_d);
        int ref = full_scan(&c, &w, &ref_score, &ref_d);
        kn_diag_init(&d);
        kn_choice ch;
        bool found = kn_place_best(&c, &w, &ch, &d);
        if (!found && ref < 0) { /* the same FailedScheduling text */
            char a[2048], b[2048];
            kn_diag_message(&d, a, sizeof(a));
            kn_diag_message(&ref_d, b, sizeof(b));
            assert_string_equal(a, b);
            failures++;
        }
        if (found != (ref >= 0) || (found && ch.node != ref))
            fail_msg("step %d kind %d: cached %s, full scan %s", step, cur, found ? c.nodes[ch.node].name : "none",
                     ref >= 0 ? c.nodes[ref].name : "none");
        if (found) {
            assert_true(ch.score == ref_score);
            kn_alloc *a = &allocs[n_allocs++];
            a->node = -1;
            assert_int_equal(kn_choice_to_alloc(&ch, a), 0);
            a->req = *w.req;
            a->owner = step;
            kn_alloc_take(&c, a);
            placed++;
        }
        if (rnd(release_every) == 0 && n_allocs > 0) { /* a pod ends */
            kn_alloc *a = &allocs[rnd((uint32_t)n_allocs)];
            kn_alloc_release(&c, a);
            kn_alloc_clear(a);
        }
        if (rnd(relabel_every) == 0) /* a node is relabelled / retainted */
            node(&c, (int)rnd(N_NODES), (int)rnd(prefs == 2 ? 5 : 3));
    }
    assert_true(placed > 300);
    for (int i = 0; i < n_allocs; i++)
        kn_alloc_clear(&allocs[i]);
    free(allocs);
    assert_true(failures > 10);
    for (int k = 0; k < 12; k++) {
        kn_constraints_free(&kinds[k].cons);
        free(kinds[k].sig);
    }
    kn_cluster_free(&c);
}

/* One placement of w checked against the full scan; placed when it fits. */
static void place_checked(kn_cluster *c, const kn_want *w, kn_alloc *a)
{
    double ref_score = 0;
    kn_diag d, ref_d;
    kn_diag_init(&d);
    kn_diag_init(&ref_d);
    int ref = full_scan(c, w, &ref_score, &ref_d);
    kn_choice ch;
    bool found = kn_place_best(c, w, &ch, &d);
    if (found != (ref >= 0) || (found && (ch.node != ref || ch.score != ref_score)))
        fail_msg("cached %s, full scan %s", found ? c->nodes[ch.node].name : "none",
                 ref >= 0 ? c->nodes[ref].name : "none");
    a->node = -1;
    if (found) {
        assert_int_equal(kn_choice_to_alloc(&ch, a), 0);
        a->req = *w->req;
        a->owner = -1;
        kn_alloc_take(c, a);
    }
}

/* More kinds than the index keeps (the least recently used is dropped and
 * rebuilt when it comes back), and more takes and releases between two pods
 * of a kind than the change log holds (the kind is rebuilt from every node). */
static void test_index_evicts_and_outlives_its_log(void **state)
{
    (void)state;
    kn_cluster c;
    assert_int_equal(kn_cluster_init(&c, NULL, NULL), 0);
    for (int i = 0; i < N_NODES; i++)
        node(&c, i, i % 7 == 0 ? 1 : 0);
    enum { KINDS = 150, ROUNDS = 6 };
    kind *kinds = calloc(KINDS, sizeof(kind));
    kn_alloc *allocs = calloc(2 * KINDS * ROUNDS, sizeof(kn_alloc));
    assert_non_null(kinds);
    assert_non_null(allocs);
    for (int k = 0; k < KINDS; k++) { /* distinct requests: distinct kinds */
        make_kind(&c, &kinds[k], 1, 1, k % 3 == 0 ? KN_NUMA_SINGLE : KN_NUMA_NONE, k % 2 == 0, k % 5 == 0);
        kinds[k].req.v[KN_R_CPU] = 100 + 7 * k;
    }
    int n = 0;
    for (int r = 0; r < ROUNDS; r++) {
        for (int k = 0; k < KINDS; k++) {
            kn_want w;
            want_of(&kinds[k], -1, &w);
            place_checked(&c, &w, &allocs[n++]);
            want_of(&kinds[k % 12], -1, &w); /* a few kinds stay in the index throughout */
            place_checked(&c, &w, &allocs[n++]);
        }
        if (r == ROUNDS / 2) /* a long burst of changes somewhere else */
            for (int i = 0; i < KN_CHLOG_SIZE + 10; i++) {
                kn_alloc *a = &allocs[rnd((uint32_t)n)];
                if (a->node >= 0) {
                    kn_alloc_release(&c, a);
                    kn_alloc_take(&c, a);
                }
            }
        for (int i = 0; i < 40; i++) { /* some pods end: room comes back */
            kn_alloc *a = &allocs[rnd((uint32_t)n)];
            kn_alloc_release(&c, a);
            kn_alloc_clear(a);
        }
    }
    for (int i = 0; i < n; i++)
        kn_alloc_clear(&allocs[i]);
    free(allocs);
    for (int k = 0; k < KINDS; k++) {
        kn_constraints_free(&kinds[k].cons);
        free(kinds[k].sig);
    }
    free(kinds);
    kn_cluster_free(&c);
}

/* A kind's catch-up rounds (the mark that a node was re-evaluated in this
 * round) wrap after 65535: a node marked in round 1 that gains in the first
 * round after the wrap is re-evaluated, not taken as already done (its stale,
 * lower rank would hand the pod to a worse node). */
static void test_index_rounds_wrap(void **state)
{
    (void)state;
    kn_cluster c;
    assert_int_equal(kn_cluster_init(&c, NULL, NULL), 0);
    for (int i = 0; i < 8; i++) {
        char buf[256];
        snprintf(buf, sizeof(buf),
                 "{\"metadata\":{\"name\":\"w%d\"},\"status\":{\"allocatable\":{\"cpu\":\"32\","
                 "\"memory\":\"128Gi\",\"pods\":\"110\"}}}",
                 i);
        apply(&c, buf, false);
    }
    kind packed;
    make_kind(&c, &packed, 1, 1, KN_NUMA_NONE, true, 0); /* bin-packed: the fullest node wins */
    kn_want w;
    want_of(&packed, -1, &w);
    kn_alloc held[4] = {{.node = 5}, {.node = 3}, {.node = 5}, {.node = 6}}; /* big, mid, more, churn */
    int64_t cpu[4] = {16000, 20000, 8000, 1000};
    for (int i = 0; i < 4; i++) {
        held[i].owner = -1;
        held[i].req.v[KN_R_CPU] = cpu[i];
    }
    kn_choice ch;
    kn_diag d;
    kn_diag_init(&d);
    assert_true(kn_place_best(&c, &w, &ch, &d)); /* the kind is built: every node marked 0 */
    kn_alloc_take(&c, &held[0]);                 /* round 1 re-evaluates w5: marked 1 */
    assert_true(kn_place_best(&c, &w, &ch, &d));
    assert_int_equal(ch.node, 5);
    for (int r = 2; r <= 65535; r++) { /* rounds 2..65535, each after a change on w6 */
        kn_alloc_take(&c, &held[3]);
        kn_alloc_release(&c, &held[3]);
        assert_true(kn_place_best(&c, &w, &ch, &d));
    }
    kn_alloc_take(&c, &held[1]); /* w3: 20 cores used */
    kn_alloc_take(&c, &held[2]); /* w5: 24 */
    kn_alloc scratch = {0};
    place_checked(&c, &w, &scratch);
    assert_int_equal(scratch.node, 5);
    kn_alloc_clear(&scratch);
    kn_constraints_free(&packed.cons);
    free(packed.sig);
    kn_cluster_free(&c);
}

static void test_cached_choice_is_the_full_scan(void **state)
{
    (void)state;
    run(150, 400, 0); /* long runs of one kind: the candidate lists run dry */
    run(3, 50, 0);    /* frequent releases and node changes between placements */
}

static void test_cached_choice_with_preferences_is_the_full_scan(void **state)
{
    (void)state;
    run(150, 400, 1);
    run(3, 50, 1);
    run(150, 400, 2);
    run(3, 50, 2);
}

/* "Insufficient <resource>" added by resource counts with the same reason
 * added as text, whichever comes first, and keeps its place among the others. */
static void test_diag_insufficient_by_resource_is_the_text(void **state)
{
    (void)state;
    kn_cluster c;
    kn_err err = {{0}};
    assert_int_equal(kn_cluster_init(&c, NULL, &err), 0);
    kn_diag d;
    kn_diag_init(&d);
    kn_diag_add(&d, "Insufficient cpu");
    kn_diag_add_insufficient(&d, &c, KN_R_CPU);
    kn_diag_add_insufficient(&d, &c, KN_R_MEMORY);
    kn_diag_add(&d, "node(s) were not ready");
    kn_diag_add_insufficient(&d, &c, KN_R_MEMORY);
    kn_diag_add(&d, "Insufficient memory");
    kn_diag_add_insufficient(&d, &c, KN_R_CPU);
    assert_int_equal(d.n, 3);
    assert_string_equal(d.r[1].reason, "Insufficient memory");
    d.n_nodes = 7;
    char msg[512];
    kn_diag_message(&d, msg, sizeof(msg));
    assert_string_equal(msg, "0/7 nodes are available: 1 node(s) were not ready, 3 Insufficient cpu, "
                             "3 Insufficient memory.");
    kn_cluster_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cached_choice_is_the_full_scan),
        cmocka_unit_test(test_cached_choice_with_preferences_is_the_full_scan),
        cmocka_unit_test(test_index_evicts_and_outlives_its_log),
        cmocka_unit_test(test_index_rounds_wrap),
        cmocka_unit_test(test_diag_insufficient_by_resource_is_the_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
