/* place_probe.c - a pending pod's filter verdicts and inter-pod scores (see place_probe.h). */
#include "support/place_probe.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "scheduler/cycle/core.h"
#include "scheduler/place/relplan.h"

static kn_cpod *pod_of(kn_scheduler *s, const char *name)
{
    char uid[128];
    snprintf(uid, sizeof(uid), "uid-%s", name);
    int i = kn_strmap_get(&s->c.pod_by_uid, uid);
    if (i < 0)
        fail_msg("no pod %s", name);
    return &s->c.pods[i];
}

static int node_index(kn_scheduler *s, const char *name)
{
    int i = kn_strmap_get(&s->c.node_by_name, name);
    if (i < 0)
        fail_msg("no node %s", name);
    return i;
}

const char *fx_verdict(kn_scheduler *s, const char *pod, const char *node)
{
    static char why[KN_REASON_MAX];
    kn_want w;
    kn_want_for_pod(s, pod_of(s, pod), &w);
    kn_diag d;
    kn_diag_init(&d);
    kn_choice ch;
    if (kn_place_on_node(&s->c, node_index(s, node), &w, &ch, &d))
        return "";
    assert_int_equal(d.n, 1);
    snprintf(why, sizeof(why), "%s", d.r[0].reason);
    return why;
}

void fx_expect_scores(kn_scheduler *s, const char *pod, const char *const *nodes, int n, bool spread,
                      const int64_t *want)
{
    assert_true(n <= 16);
    kn_want w;
    kn_want_for_pod(s, pod_of(s, pod), &w);
    kn_relplan p;
    bool active = kn_relplan_init(&s->c, &w, &p);
    assert_false(p.oom);
    kn_relcand cand[16];
    for (int i = 0; i < n; i++)
        cand[i] = (kn_relcand){.node = node_index(s, nodes[i])};
    if (active)
        kn_rel_normalized(&p, cand, n);
    kn_relplan_free(&p);
    for (int i = 0; i < n; i++) {
        int64_t got = !active ? 0 : spread ? cand[i].pts : cand[i].ipa;
        if (got != want[i])
            fail_msg("%s on %s: score %lld, want %lld", pod, nodes[i], (long long)got, (long long)want[i]);
    }
}
