/* NodeVolumeLimits (CSI): a node's CSI volumes per driver within its
 * CSINode's allocatable count (cases from kube-scheduler's csi_test.go). */
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

#define VOL(n, claim) "{\"name\":\"" n "\",\"persistentVolumeClaim\":{\"claimName\":\"" claim "\"}}"
#define EBS "ebs.csi.aws.com"

/* A claim bound to a CSI volume of driver with handle. */
static void csi_claim(kn_scheduler *s, const char *claim, const char *driver, const char *handle)
{
    char spec[400], pv[100];
    snprintf(pv, sizeof(pv), "pv-%s", claim);
    snprintf(spec, sizeof(spec), ",\"csi\":{\"driver\":\"%s\",\"volumeHandle\":\"%s\"}", driver, handle);
    fx_pv(s, pv, "sc", "10Gi", "", NULL, spec);
    fx_pvc_bound(s, claim, "sc", pv);
}

static void setup_node(kn_scheduler *s, const char *limit)
{
    char drivers[300];
    fx_sclass(s, "sc", "WaitForFirstConsumer", EBS, "");
    fx_node(s, "node-a", "8", "32Gi");
    snprintf(drivers, sizeof(drivers), "[{\"name\":\"%s\",\"nodeID\":\"i-1\",\"allocatable\":{\"count\":%s}}]",
             EBS, limit);
    fx_csinode(s, "node-a", drivers);
}

/* node-a allows limit volumes and has two attached; "new" asks a third. */
static void two_attached_one_asked(fx_sched *f, const char *limit)
{
    setup_node(f->s, limit);
    csi_claim(f->s, "a", EBS, "vol-a");
    csi_claim(f->s, "b", EBS, "vol-b");
    csi_claim(f->s, "c", EBS, "vol-c");
    fx_pod_volumes_on(f->s, "old", VOL("v1", "a") "," VOL("v2", "b"), "node-a");
    fx_pod_volumes(f->s, "new", VOL("v", "c"), "");
    fx_cycle(f->s, 1, &f->out);
}

static void test_limit_exceeded(void **state)
{
    fx_sched *f = *state;
    two_attached_one_asked(f, "2");
    fx_expect_failed(&f->out, "new", "0/1 nodes are available: 1 node(s) exceed max volume count.");
    /* a volume the node has attached already does not count again */
    fx_pod_volumes(f->s, "shares", VOL("v", "a"), "");
    fx_cycle(f->s, 2, &f->out);
    assert_string_equal(fx_node_of(&f->out, "shares"), "node-a");
}

static void test_limit_not_reached(void **state)
{
    fx_sched *f = *state;
    two_attached_one_asked(f, "3");
    assert_string_equal(fx_node_of(&f->out, "new"), "node-a");
}

/* Claims not yet provisioned count as volumes of their class's
 * provisioner; another driver's limit is not this one's. */
static void test_unbound_claims_and_other_drivers(void **state)
{
    fx_sched *f = *state;
    setup_node(f->s, "1");
    csi_claim(f->s, "other", "pd.csi.storage.gke.io", "vol-x");
    fx_pod_volumes_on(f->s, "old", VOL("v", "other"), "node-a");
    fx_pvc(f->s, "p1", "sc", "10Gi", "", "", "Pending");
    fx_pvc(f->s, "p2", "sc", "10Gi", "", "", "Pending");
    fx_pod_volumes(f->s, "new", VOL("v1", "p1"), "");
    fx_cycle(f->s, 1, &f->out);
    assert_string_equal(fx_node_of(&f->out, "new"), "node-a");
    /* new holds the one volume allowed */
    fx_pod_volumes(f->s, "next", VOL("v1", "p2"), "");
    fx_cycle(f->s, 2, &f->out);
    fx_expect_failed(&f->out, "next", "0/1 nodes are available: 1 node(s) exceed max volume count.");
}

/* Without a CSINode (or a count), no limit. */
static void test_no_csinode(void **state)
{
    fx_sched *f = *state;
    fx_sclass(f->s, "sc", "WaitForFirstConsumer", EBS, "");
    fx_node(f->s, "node-a", "8", "32Gi");
    csi_claim(f->s, "a", EBS, "vol-a");
    csi_claim(f->s, "b", EBS, "vol-b");
    fx_pod_volumes_on(f->s, "old", VOL("v", "a"), "node-a");
    fx_pod_volumes(f->s, "new", VOL("v", "b"), "");
    fx_csinode(f->s, "node-a", "[{\"name\":\"" EBS "\",\"nodeID\":\"i-1\"}]");
    fx_cycle(f->s, 1, &f->out);
    assert_string_equal(fx_node_of(&f->out, "new"), "node-a");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        fx_sched_test(test_limit_exceeded),
        fx_sched_test(test_limit_not_reached),
        fx_sched_test(test_unbound_claims_and_other_drivers),
        fx_sched_test(test_no_csinode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
