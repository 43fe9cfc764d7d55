/* VolumeZone: a pod mounting a bound volume goes to a node in the volume's
 * zone and region (cases from kube-scheduler's volume_zone_test.go). */
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

#define BETA_ZONE "failure-domain.beta.kubernetes.io/zone"
#define BETA_REGION "failure-domain.beta.kubernetes.io/region"
#define ZONE "topology.kubernetes.io/zone"
#define REGION "topology.kubernetes.io/region"

/* Does a pod mounting a claim bound to a volume labelled pv_labels fit a
 * single node labelled node_labels? */
static bool fits(const char *pv_labels, const char *node_labels)
{
    fx_sched *f = fx_sched_new(NULL);
    fx_sclass(f->s, "sc", "WaitForFirstConsumer", "", "");
    fx_node_full(f->s, "host1", "4", "16Gi", node_labels, "", "", "", "True");
    fx_pv(f->s, "vol", "sc", "10Gi", pv_labels, NULL, "");
    fx_pvc_bound(f->s, "pvc", "sc", "vol");
    fx_pod_volumes(f->s, "pod", "{\"name\":\"v\",\"persistentVolumeClaim\":{\"claimName\":\"pvc\"}}", "");
    fx_cycle(f->s, 1, &f->out);
    bool ok = fx_node_of(&f->out, "pod") != NULL;
    if (!ok)
        fx_expect_failed(&f->out, "pod", "0/1 nodes are available: 1 node(s) had no available volume zone.");
    fx_sched_free(f);
    return ok;
}

static void test_single_zone(void **state)
{
    (void)state;
    assert_true(fits("\"" BETA_ZONE "\":\"us-west1-a\"", "")); /* node without labels */
    assert_true(
        fits("\"" BETA_ZONE "\":\"us-west1-a\"", "\"" BETA_ZONE "\":\"us-west1-a\",\"uselessLabel\":\"none\""));
    assert_true(
        fits("\"" BETA_REGION "\":\"us-west1\",\"uselessLabel\":\"none\"", "\"" BETA_REGION "\":\"us-west1\""));
    assert_false(fits("\"" BETA_REGION "\":\"us-west1\"", "\"" BETA_REGION "\":\"no_us-west1\""));
    assert_false(fits("\"" BETA_ZONE "\":\"us-west1-a\"", "\"" BETA_ZONE "\":\"no_us-west1-a\""));
    assert_true(fits("\"" ZONE "\":\"us-west1-a\"", "\"" ZONE "\":\"us-west1-a\",\"uselessLabel\":\"none\""));
    assert_true(fits("\"" REGION "\":\"us-west1\"", "\"" REGION "\":\"us-west1\""));
    assert_false(fits("\"" REGION "\":\"us-west1\"", "\"" REGION "\":\"no_us-west1\""));
    assert_false(fits("\"" ZONE "\":\"us-west1-a\"", "\"" ZONE "\":\"no_us-west1-a\""));
    /* volume with zone and region, node with only the zone */
    assert_false(fits("\"" ZONE "\":\"us-west1-a\",\"" REGION "\":\"us-west1-a\"", "\"" ZONE "\":\"us-west1-a\""));
    /* a GA label on the volume is not answered by a node's beta label */
    assert_false(fits("\"" ZONE "\":\"us-west1-a\"", "\"" BETA_ZONE "\":\"us-west1-a\""));
    /* a beta label on the volume is answered by the node's GA label */
    assert_true(fits("\"" BETA_ZONE "\":\"us-west1-a\"", "\"" ZONE "\":\"us-west1-a\""));
    assert_false(fits("\"" BETA_ZONE "\":\"us-west1-a\"", "\"" ZONE "\":\"us-west1-b\""));
}

static void test_multi_zone(void **state)
{
    (void)state;
    assert_true(fits("\"" BETA_ZONE "\":\"us-west1-c__us-west1-a\"", ""));
    assert_true(fits("\"" BETA_ZONE "\":\"us-west1-c__us-west1-a\"", "\"" BETA_ZONE "\":\"us-west1-a\""));
    assert_false(fits("\"" BETA_ZONE "\":\"us-west1-a\"", "\"" BETA_ZONE "\":\"us-west1-b\""));
    assert_true(fits("\"" ZONE "\":\"us-west1-c__us-west1-a\"", "\"" ZONE "\":\"us-west1-a\""));
    assert_false(fits("\"" ZONE "\":\"us-west1-a\"", "\"" ZONE "\":\"us-west1-b\""));
    /* a value with an empty zone is no label at all */
    assert_true(fits("\"" ZONE "\":\"us-west1-c____us-west1-a\"", "\"" ZONE "\":\"us-west1-b\""));
}

/* Claims not bound (WaitForFirstConsumer) are not VolumeZone's: the node
 * is free to choose; the volume provisioned later gets its zone. */
static void test_unbound_claims_skip(void **state)
{
    fx_sched *f = *state;
    fx_sclass(f->s, "wait", "WaitForFirstConsumer", "ebs.csi.aws.com", "");
    fx_node_full(f->s, "host1", "4", "16Gi", "\"" ZONE "\":\"us-west1-a\"", "", "", "", "True");
    fx_pvc(f->s, "pvc", "wait", "10Gi", "", "", "Pending");
    fx_pod_volumes(f->s, "pod", "{\"name\":\"v\",\"persistentVolumeClaim\":{\"claimName\":\"pvc\"}}", "");
    fx_cycle(f->s, 1, &f->out);
    assert_string_equal(fx_node_of(&f->out, "pod"), "host1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_zone),
        cmocka_unit_test(test_multi_zone),
        fx_sched_test(test_unbound_claims_skip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
