/* VolumeRestrictions: a ReadWriteOncePod claim is mounted by one pod at a
 * time (cases from kube-scheduler's volume_restrictions_test.go). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/sched_fixtures.h"
#include "support/volume_fixtures.h"

#define VOL(claim) "{\"name\":\"v\",\"persistentVolumeClaim\":{\"claimName\":\"" claim "\"}}"
#define RWOP ",\"accessModes\":[\"ReadWriteOncePod\"]"
#define RWO ",\"accessModes\":[\"ReadWriteOnce\"]"

static void setup_claims(kn_scheduler *s)
{
    fx_sclass(s, "sc", "WaitForFirstConsumer", "", "");
    fx_node(s, "node-a", "8", "32Gi");
    fx_node(s, "node-b", "8", "32Gi");
    fx_pv(s, "pv-1", "sc", "10Gi", "", NULL, "");
    fx_pv(s, "pv-2", "sc", "10Gi", "", NULL, "");
    fx_pvc(s, "claim-rwop", "sc", "10Gi", RWOP ",\"volumeName\":\"pv-1\"",
           ",\"annotations\":{\"pv.kubernetes.io/bind-completed\":\"yes\"}", "Bound");
    fx_pvc(s, "claim-rwo", "sc", "10Gi", RWO ",\"volumeName\":\"pv-2\"",
           ",\"annotations\":{\"pv.kubernetes.io/bind-completed\":\"yes\"}", "Bound");
}

static void test_rwop_claim_in_use(void **state)
{
    fx_sched *f = *state;
    setup_claims(f->s);
    fx_pod_volumes_on(f->s, "running", VOL("claim-rwop"), "node-a");
    fx_pod_volumes(f->s, "second", VOL("claim-rwop"), "");
    fx_cycle(f->s, 1, &f->out);
    fx_expect_failed(&f->out, "second",
                     "0/2 nodes are available: 2 node has pod using PersistentVolumeClaim with "
                     "the same name and ReadWriteOncePod access mode.");
    /* the first pod gone: the claim is free */
    fx_delete_pod(f->s, "running");
    fx_cycle(f->s, 2, &f->out);
    assert_non_null(fx_node_of(&f->out, "second"));
}

static void test_rwo_claim_shared(void **state)
{
    fx_sched *f = *state;
    setup_claims(f->s);
    fx_pod_volumes_on(f->s, "running", VOL("claim-rwo"), "node-a");
    fx_pod_volumes(f->s, "second", VOL("claim-rwo"), "");
    fx_cycle(f->s, 1, &f->out);
    assert_non_null(fx_node_of(&f->out, "second"));
}

/* Two pods of ours wanting one ReadWriteOncePod claim: the first placed
 * holds it, in the same cycle. */
static void test_rwop_between_pending_pods(void **state)
{
    fx_sched *f = *state;
    setup_claims(f->s);
    fx_pod_volumes(f->s, "first", VOL("claim-rwop"), "");
    fx_pod_volumes(f->s, "second", VOL("claim-rwop"), "");
    fx_cycle(f->s, 1, &f->out);
    assert_non_null(fx_node_of(&f->out, "first"));
    fx_expect_failed(&f->out, "second",
                     "0/2 nodes are available: 2 node has pod using PersistentVolumeClaim with "
                     "the same name and ReadWriteOncePod access mode.");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        fx_sched_test(test_rwop_claim_in_use),
        fx_sched_test(test_rwo_claim_shared),
        fx_sched_test(test_rwop_between_pending_pods),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
