/* VolumeBinding as a user sees it: which node a pod with claims lands on,
 * the FailedScheduling text when none fits (kube-scheduler's PreFilter and
 * Filter messages, cases from its volume_binding_test.go), and what the
 * binder is handed to write before the Binding. */
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

#define PVC(claim) "{\"name\":\"data\",\"persistentVolumeClaim\":{\"claimName\":\"" claim "\"}}"
#define PVC2(claim) "{\"name\":\"data2\",\"persistentVolumeClaim\":{\"claimName\":\"" claim "\"}}"

static void classes(kn_scheduler *s)
{
    fx_sclass(s, "wait-sc", "WaitForFirstConsumer", "", "");
    fx_sclass(s, "immediate-sc", "Immediate", "", "");
    fx_sclass(s, "gp3", "WaitForFirstConsumer", "ebs.csi.aws.com", "");
}

static void test_all_bound(void **state)
{
    fx_sched *f = *state;
    classes(f->s);
    fx_node(f->s, "node-a", "4", "16Gi");
    fx_pv(f->s, "pv-a", "wait-sc", "10Gi", "", NULL, "");
    fx_pvc_bound(f->s, "pvc-a", "wait-sc", "pv-a");
    fx_pod_volumes(f->s, "pod-a", PVC("pvc-a"), "");
    fx_cycle(f->s, 1, &f->out);
    const kn_sched_binding *b = fx_binding(&f->out, "pod-a");
    assert_non_null(b);
    assert_string_equal(b->node, "node-a");
    assert_int_equal(b->n_vsteps, 0); /* nothing to write or wait for */
    assert_false(b->wait_volumes);
}

static void test_missing_claims(void **state)
{
    fx_sched *f = *state;
    classes(f->s);
    fx_node(f->s, "node-a", "4", "16Gi");
    fx_node(f->s, "node-b", "4", "16Gi");
    fx_pod_volumes(f->s, "pod-a", PVC("pvc-a"), "");
    fx_cycle(f->s, 1, &f->out);
    fx_expect_failed(&f->out, "pod-a", "0/2 nodes are available: persistentvolumeclaim \"pvc-a\" not found.");
    /* part of them: the first missing one is named */
    fx_pv(f->s, "pv-a", "wait-sc", "10Gi", "", NULL, "");
    fx_pvc_bound(f->s, "pvc-a", "wait-sc", "pv-a");
    fx_pod_volumes(f->s, "pod-b", PVC("pvc-a") "," PVC2("pvc-b"), "");
    fx_cycle(f->s, 2, &f->out);
    fx_expect_failed(&f->out, "pod-b", "0/2 nodes are available: persistentvolumeclaim \"pvc-b\" not found.");
    /* the claim arrives: the pod is tried again and bound */
    fx_pvc_bound(f->s, "pvc-b", "wait-sc", "pv-a");
    fx_cycle(f->s, 3, &f->out);
    assert_non_null(fx_node_of(&f->out, "pod-b"));
}

static void test_claims_that_cannot_be_used(void **state)
{
    fx_sched *f = *state;
    classes(f->s);
    fx_node(f->s, "node-a", "4", "16Gi");
    fx_pvc(f->s, "imm", "immediate-sc", "10Gi", "", "", "Pending");
    fx_pvc(f->s, "gone", "gp3", "10Gi", "",
           ",\"deletionTimestamp\":\"2026-11-24T10:00:00Z\","
           "\"finalizers\":[\"kubernetes.io/pvc-protection\"]",
           "Pending");
    fx_pvc(f->s, "lost", "wait-sc", "10Gi", ",\"volumeName\":\"pv-x\"", "", "Lost");
    fx_pvc(f->s, "noclass", NULL, "10Gi", "", "", "Pending");
    fx_pod_volumes(f->s, "imm-pod", PVC("imm"), "");
    fx_pod_volumes(f->s, "gone-pod", PVC("gone"), "");
    fx_pod_volumes(f->s, "lost-pod", PVC("lost"), "");
    fx_pod_volumes(f->s, "noclass-pod", PVC("noclass"), "");
    fx_cycle(f->s, 1, &f->out);
    fx_expect_failed(&f->out, "imm-pod",
                     "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims.");
    fx_expect_failed(&f->out, "gone-pod",
                     "0/1 nodes are available: persistentvolumeclaim \"gone\" is being deleted.");
    fx_expect_failed(&f->out, "lost-pod",
                     "0/1 nodes are available: persistentvolumeclaim \"lost\" bound to "
                     "non-existent persistentvolume \"pv-x\".");
    fx_expect_failed(&f->out, "noclass-pod",
                     "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims.");
}

static void test_bound_and_unbound_unsatisfied(void **state)
{
    fx_sched *f = *state;
    char aff[300];
    classes(f->s);
    fx_node_full(f->s, "node-a", "4", "16Gi", "\"foo\":\"barbar\"", "", "", "", "True");
    fx_pv(f->s, "pv-a", "wait-sc", "10Gi", "", fx_affinity(aff, sizeof(aff), "foo", "bar"), "");
    fx_pvc_bound(f->s, "pvc-a", "wait-sc", "pv-a");
    fx_pvc(f->s, "pvc-b", "wait-sc", "10Gi", "", "", "Pending");
    fx_pod_volumes(f->s, "pod-a", PVC("pvc-a") "," PVC2("pvc-b"), "");
    fx_cycle(f->s, 1, &f->out);
    fx_expect_failed(&f->out, "pod-a",
                     "0/1 nodes are available: 1 node(s) didn't find available persistent volumes "
                     "to bind, 1 node(s) had volume node affinity conflict.");
}

static void test_bound_volume_missing(void **state)
{
    fx_sched *f = *state;
    classes(f->s);
    fx_node(f->s, "node-a", "4", "16Gi");
    fx_pvc_bound(f->s, "pvc-a", "wait-sc", "pv-a");
    /* mounted as persistentVolumeClaim, VolumeZone's PreFilter looks the volume up first */
    fx_pod_volumes(f->s, "pod-a", PVC("pvc-a"), "");
    fx_cycle(f->s, 1, &f->out);
    fx_expect_failed(&f->out, "pod-a", "0/1 nodes are available: persistentvolume \"pv-a\" not found.");
    /* a generic ephemeral volume's claim: VolumeBinding's Filter says it */
    fx_pvc(f->s, "pod-e-scratch", "wait-sc", "10Gi", ",\"volumeName\":\"pv-e\"",
           ",\"annotations\":{\"pv.kubernetes.io/"
           "bind-completed\":\"yes\"},\"ownerReferences\":[{\"apiVersion\":\"v1\","
           "\"kind\":\"Pod\",\"name\":\"pod-e\",\"uid\":\"uid-pod-e\",\"controller\":true}]",
           "Bound");
    fx_pod_volumes(f->s, "pod-e", "{\"name\":\"scratch\",\"ephemeral\":{\"volumeClaimTemplate\":{\"spec\":{}}}}",
                   "");
    fx_cycle(f->s, 2, &f->out);
    fx_expect_failed(&f->out, "pod-e",
                     "0/1 nodes are available: 1 node(s) unavailable due to one or more pvc(s) "
                     "bound to non-existent pv(s).");
}

static void test_ephemeral_claims(void **state)
{
    fx_sched *f = *state;
    classes(f->s);
    fx_node(f->s, "node-a", "4", "16Gi");
    const char *vol = "{\"name\":\"scratch\",\"ephemeral\":{\"volumeClaimTemplate\":{\"spec\":{}}}}";
    fx_pod_volumes(f->s, "pod-a", vol, "");
    fx_cycle(f->s, 1, &f->out);
    fx_expect_failed(&f->out, "pod-a",
                     "0/1 nodes are available: waiting for ephemeral volume controller to create "
                     "the persistentvolumeclaim \"pod-a-scratch\".");
    /* a claim of that name someone else owns */
    fx_pvc(f->s, "pod-a-scratch", "gp3", "10Gi", "", "", "Pending");
    fx_cycle(f->s, 2, &f->out);
    fx_expect_failed(&f->out, "pod-a",
                     "0/1 nodes are available: PVC default/pod-a-scratch was not created for pod "
                     "default/pod-a (pod is not owner).");
    /* the controller's: provisioned where the pod goes */
    fx_pvc(
        f->s, "pod-a-scratch", "gp3", "10Gi", "",
        ",\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"name\":\"pod-a\",\"uid\":\"uid-pod-a\","
        "\"controller\":true,\"blockOwnerDeletion\":true}]",
        "Pending");
    fx_cycle(f->s, 3, &f->out);
    const kn_sched_binding *b = fx_binding(&f->out, "pod-a");
    assert_non_null(b);
    assert_true(b->wait_volumes);
    assert_non_null(fx_vstep(b, "/persistentvolumeclaims/pod-a-scratch"));
}

/* A WaitForFirstConsumer claim goes where its class's allowedTopologies
 * allow; the binder is told to annotate it with the node, guarded by its
 * resourceVersion, and to wait for it to be bound. */
static void test_wait_for_first_consumer_topology(void **state)
{
    fx_sched *f = *state;
    fx_sclass(f->s, "zonal", "WaitForFirstConsumer", "ebs.csi.aws.com",
              ",\"allowedTopologies\":[{\"matchLabelExpressions\":[{\"key\":\"topology.kubernetes.io/zone\","
              "\"values\":[\"zone-b\"]}]}]");
    fx_node_full(f->s, "node-a", "8", "32Gi", "\"topology.kubernetes.io/zone\":\"zone-a\"", "", "", "", "True");
    fx_node_full(f->s, "node-b", "4", "16Gi", "\"topology.kubernetes.io/zone\":\"zone-b\"", "", "", "", "True");
    fx_pvc(f->s, "scratch", "zonal", "100Gi", "", "", "Pending");
    fx_pod_volumes(f->s, "exec-1", PVC("scratch"), "");
    fx_cycle(f->s, 1, &f->out);
    const kn_sched_binding *b = fx_binding(&f->out, "exec-1");
    assert_non_null(b);
    assert_string_equal(b->node, "node-b"); /* node-a has more room, outside the class's zone */
    assert_true(b->wait_volumes);
    assert_int_equal(b->n_vsteps, 1);
    const kn_sched_vstep *v = fx_vstep(b, "/api/v1/namespaces/default/persistentvolumeclaims/scratch");
    assert_non_null(v);
    assert_false(v->pv);
    kn_json *body = fx_parse("%s", v->body);
    assert_string_equal(
        kn_json_str(kn_json_dig(body, "metadata", "annotations", "volume.kubernetes.io/selected-node", NULL)),
        "node-b");
    assert_non_null(kn_json_str(kn_json_dig(body, "metadata", "resourceVersion", NULL)));
    kn_json_free(body);
    assert_string_equal(v->check_ptr, "/metadata/annotations/volume.kubernetes.io~1selected-node");
    assert_string_equal(v->check_val, "node-b");
    /* no node in the zone */
    fx_pvc(f->s, "scratch-2", "zonal", "100Gi", "", "", "Pending");
    fx_pod_full(f->s, "exec-2", "8", "1Gi", "", "", ",\"volumes\":[" PVC("scratch-2") "]", "", NULL, NULL);
    fx_cycle(f->s, 2, &f->out);
    fx_expect_failed(&f->out, "exec-2",
                     "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't find "
                     "available persistent volumes to bind.");
}

/* A claim already annotated with a node (a retry, or another scheduler)
 * goes only there, and needs no write. */
static void test_selected_node_kept(void **state)
{
    fx_sched *f = *state;
    classes(f->s);
    fx_node(f->s, "node-a", "8", "32Gi");
    fx_node(f->s, "node-b", "4", "16Gi");
    fx_pvc(f->s, "scratch", "gp3", "10Gi", "",
           ",\"annotations\":{\"volume.kubernetes.io/selected-node\":\"node-b\"}", "Pending");
    fx_pod_volumes(f->s, "exec-1", PVC("scratch"), "");
    fx_cycle(f->s, 1, &f->out);
    const kn_sched_binding *b = fx_binding(&f->out, "exec-1");
    assert_string_equal(b->node, "node-b");
    assert_int_equal(b->n_vsteps, 0);
    assert_true(b->wait_volumes);
}

/* Static volumes: the smallest that fits on the node, taken once. */
static void test_static_volumes(void **state)
{
    fx_sched *f = *state;
    char aff[300];
    classes(f->s);
    fx_node(f->s, "node-a", "8", "32Gi");
    fx_node(f->s, "node-b", "8", "32Gi");
    fx_node(f->s, "node-c", "8", "32Gi");
    fx_pv(f->s, "pv-a-0", "wait-sc", "200Gi", "",
          fx_affinity(aff, sizeof(aff), "kubernetes.io/hostname", "node-a"), "");
    fx_pv(f->s, "pv-a-1", "wait-sc", "100Gi", "",
          fx_affinity(aff, sizeof(aff), "kubernetes.io/hostname", "node-a"), "");
    fx_pv(f->s, "pv-b-0", "wait-sc", "20Gi", "", fx_affinity(aff, sizeof(aff), "kubernetes.io/hostname", "node-b"),
          "");
    fx_pvc(f->s, "pvc-0", "wait-sc", "50Gi", "", "", "Pending");
    fx_pvc(f->s, "pvc-1", "wait-sc", "50Gi", "", "", "Pending");
    fx_pvc(f->s, "pvc-2", "wait-sc", "50Gi", "", "", "Pending");
    fx_pod_volumes(f->s, "pod-0", PVC("pvc-0"), "");
    fx_cycle_provisioned(f->s, 1, &f->out, "wait-sc", "local.csi.io");
    const kn_sched_binding *b = fx_binding(&f->out, "pod-0");
    assert_string_equal(b->node, "node-a"); /* node-b's volume is too small, node-c has none */
    const kn_sched_vstep *v = fx_vstep(b, "/api/v1/persistentvolumes/pv-a-1");
    assert_non_null(v);
    assert_true(v->pv);
    kn_json *body = fx_parse("%s", v->body);
    assert_string_equal(kn_json_str(kn_json_dig(body, "spec", "claimRef", "name", NULL)), "pvc-0");
    assert_string_equal(kn_json_str(kn_json_dig(body, "spec", "claimRef", "uid", NULL)), "pvc-uid-pvc-0");
    assert_string_equal(
        kn_json_str(kn_json_dig(body, "metadata", "annotations", "pv.kubernetes.io/bound-by-controller", NULL)),
        "yes");
    kn_json_free(body);
    assert_string_equal(v->check_ptr, "/spec/claimRef/uid");
    /* the next claim takes the other volume: the first is assumed taken */
    fx_pod_volumes(f->s, "pod-1", PVC("pvc-1"), "");
    fx_cycle_provisioned(f->s, 2, &f->out, "wait-sc", "local.csi.io");
    assert_non_null(fx_vstep(fx_binding(&f->out, "pod-1"), "/api/v1/persistentvolumes/pv-a-0"));
    /* none left; the class has no provisioner */
    fx_pod_volumes(f->s, "pod-2", PVC("pvc-2"), "");
    fx_cycle(f->s, 3, &f->out);
    fx_expect_failed(&f->out, "pod-2",
                     "0/3 nodes are available: 3 node(s) didn't find available persistent volumes to bind.");
}

/* A gang whose members' claims cannot all be satisfied binds nothing, and
 * assumes nothing: the volume one member would have taken is still free. */
static void test_gang_all_or_nothing(void **state)
{
    fx_sched *f = *state;
    char aff[300], lab[200];
    classes(f->s);
    fx_node(f->s, "node-a", "8", "32Gi");
    fx_pv(f->s, "pv-only", "wait-sc", "100Gi", "",
          fx_affinity(aff, sizeof(aff), "kubernetes.io/hostname", "node-a"), "");
    fx_pvc(f->s, "g-0", "wait-sc", "10Gi", "", "", "Pending");
    fx_pvc(f->s, "g-1", "wait-sc", "10Gi", "", "", "Pending");
    snprintf(lab, sizeof(lab),
             "\"pod-group.scheduling.kubenexus.io/name\":\"g\","
             "\"pod-group.scheduling.kubenexus.io/min-available\":\"2\"");
    fx_pod_volumes(f->s, "member-0", PVC("g-0"), lab);
    fx_pod_volumes(f->s, "member-1", PVC("g-1"), lab);
    fx_cycle(f->s, 1, &f->out);
    assert_null(fx_node_of(&f->out, "member-0"));
    assert_null(fx_node_of(&f->out, "member-1"));
    const kn_sched_event *e = fx_event(&f->out, "member-0", "FailedScheduling");
    assert_non_null(e);
    assert_non_null(strstr(e->message, "didn't find available persistent volumes to bind"));
    assert_non_null(strstr(e->message, "only 1 of 2 pods fit at once"));
    /* a pod alone takes the volume the gang did not keep */
    fx_pvc(f->s, "solo", "wait-sc", "10Gi", "", "", "Pending");
    fx_pod_volumes(f->s, "solo-pod", PVC("solo"), "");
    fx_cycle(f->s, 2, &f->out);
    assert_non_null(fx_vstep(fx_binding(&f->out, "solo-pod"), "/api/v1/persistentvolumes/pv-only"));
}

/* The binder's wait: ready once the claims are bound as decided; a
 * provisioner that gives up (the annotation taken away) fails it. */
static void test_volumes_ready_and_failed(void **state)
{
    fx_sched *f = *state;
    classes(f->s);
    fx_node(f->s, "node-a", "8", "32Gi");
    fx_pvc(f->s, "c-1", "gp3", "10Gi", "", "", "Pending");
    fx_pvc(f->s, "c-2", "gp3", "10Gi", "", "", "Pending");
    fx_pod_volumes(f->s, "p-1", PVC("c-1"), "");
    fx_pod_volumes(f->s, "p-2", PVC("c-2"), "");
    kn_sched_out out;
    kn_sched_out_init(&out);
    kn_err err;
    assert_int_equal(kn_sched_cycle(f->s, 1, &out, &err), 2);
    char msg[512];
    /* the binder wrote the annotation; then the provisioner binds c-1 */
    fx_pvc(f->s, "c-1", "gp3", "10Gi", "", ",\"annotations\":{\"volume.kubernetes.io/selected-node\":\"node-a\"}",
           "Pending");
    assert_int_equal(kn_sched_volumes_ready(f->s, "uid-p-1", msg, sizeof(msg)), 0);
    char aff[300];
    fx_pv(f->s, "pv-c-1", "gp3", "10Gi", "", fx_affinity(aff, sizeof(aff), "kubernetes.io/hostname", "node-a"),
          ",\"claimRef\":{\"namespace\":\"default\",\"name\":\"c-1\",\"uid\":\"pvc-uid-c-1\"}");
    assert_int_equal(kn_sched_volumes_ready(f->s, "uid-p-1", msg, sizeof(msg)), 0);
    fx_pvc(f->s, "c-1", "gp3", "10Gi", ",\"volumeName\":\"pv-c-1\"",
           ",\"annotations\":{\"volume.kubernetes.io/selected-node\":\"node-a\",\"pv.kubernetes.io/"
           "bind-completed\":\"yes\"}",
           "Bound");
    assert_int_equal(kn_sched_volumes_ready(f->s, "uid-p-1", msg, sizeof(msg)), 1);
    /* c-2: the provisioner took the annotation away */
    fx_pvc(f->s, "c-2", "gp3", "10Gi", "", "", "Pending");
    assert_int_equal(kn_sched_volumes_ready(f->s, "uid-p-2", msg, sizeof(msg)), -1);
    assert_string_equal(msg, "binding volumes: provisioning failed for PVC \"c-2\"");
    kn_sched_volumes_failed(f->s, "uid-p-2",
                            "running PreBind plugin \"VolumeBinding\": binding volumes: "
                            "provisioning failed for PVC \"c-2\"",
                            2, &f->out);
    fx_expect_failed(&f->out, "p-2",
                     "running PreBind plugin \"VolumeBinding\": binding volumes: provisioning failed "
                     "for PVC \"c-2\"");
    kn_sched_bind_ok(f->s, "uid-p-1", 2, &f->out);
    kn_sched_out_free(&out);
    /* requeued: placed again, the claim to be annotated anew */
    fx_cycle(f->s, 3, &f->out);
    assert_non_null(fx_vstep(fx_binding(&f->out, "p-2"), "/persistentvolumeclaims/c-2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        fx_sched_test(test_all_bound),
        fx_sched_test(test_missing_claims),
        fx_sched_test(test_claims_that_cannot_be_used),
        fx_sched_test(test_bound_and_unbound_unsatisfied),
        fx_sched_test(test_bound_volume_missing),
        fx_sched_test(test_ephemeral_claims),
        fx_sched_test(test_wait_for_first_consumer_topology),
        fx_sched_test(test_selected_node_kept),
        fx_sched_test(test_static_volumes),
        fx_sched_test(test_gang_all_or_nothing),
        fx_sched_test(test_volumes_ready_and_failed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
