/* The storage the scheduler watches (scheduler/cache/volumes.c): what it
 * reads of claims, volumes, classes and CSINodes, deletions and relists,
 * a watch event older than our own write, bad objects refused with the
 * field named, and what pods counted on nodes take (users of a claim,
 * volumes attached per driver). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scheduler/cache/volumes.h"
#include "support/sched_fixtures.h"

typedef int (*apply_fn)(kn_cluster *, const kn_json *, bool, kn_err *);

static void apply(kn_cluster *c, apply_fn fn, bool deleted, const char *text)
{
    kn_json *o = fx_parse("%s", text);
    kn_err err = {{0}};
    if (fn(c, o, deleted, &err) != 0)
        fail_msg("refused: %s\n%s", err.msg, text);
    kn_json_free(o);
}

static void refused(kn_cluster *c, apply_fn fn, const char *text, const char *want)
{
    kn_json *o = fx_parse("%s", text);
    kn_err err = {{0}};
    assert_int_equal(fn(c, o, false, &err), -1);
    if (strstr(err.msg, want) == NULL)
        fail_msg("error \"%s\" does not say \"%s\"", err.msg, want);
    kn_json_free(o);
}

static int setup(void **state)
{
    kn_cluster *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    assert_int_equal(kn_cluster_init(c, NULL, NULL), 0);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    kn_cluster_free(*state);
    free(*state);
    return 0;
}

static void test_claim_fields(void **state)
{
    kn_cluster *c = *state;
    apply(c, kn_cluster_apply_pvc, false,
          "{\"metadata\":{\"name\":\"data\",\"namespace\":\"spark\",\"uid\":\"u1\",\"resourceVersion\":\"5\","
          "\"annotations\":{\"volume.beta.kubernetes.io/storage-class\":\"beta\","
          "\"volume.kubernetes.io/selected-node\":\"node-a\",\"pv.kubernetes.io/bind-completed\":\"yes\"},"
          "\"ownerReferences\":[{\"kind\":\"Pod\",\"name\":\"p\",\"uid\":\"pod-uid\",\"controller\":true}]},"
          "\"spec\":{\"storageClassName\":\"gp3\",\"accessModes\":[\"ReadWriteOncePod\",\"ReadOnlyMany\"],"
          "\"volumeMode\":\"Block\",\"volumeName\":\"pv-1\",\"resources\":{\"requests\":{\"storage\":\"1Gi\"}},"
          "\"selector\":{\"matchLabels\":{\"tier\":\"fast\"}}},\"status\":{\"phase\":\"Bound\"}}");
    const kn_pvc *p = kn_vols_pvc(c, "spark", "data");
    assert_non_null(p);
    assert_null(kn_vols_pvc(c, "default", "data"));
    assert_string_equal(p->class_name, "beta"); /* the beta annotation wins, as GetPersistentVolumeClaimClass */
    assert_string_equal(p->volume_name, "pv-1");
    assert_string_equal(kn_pvc_selected_node(p), "node-a");
    assert_string_equal(p->owner_uid, "pod-uid");
    assert_true(kn_pvc_bound(p));
    assert_true(p->block);
    assert_int_equal(p->modes, KN_AM_RWOP | KN_AM_ROX);
    assert_true(p->has_request);
    assert_int_equal(p->request, 1024LL * 1024 * 1024);
    assert_non_null(p->selector);
    /* an older event (our own write's answer came first) changes nothing */
    apply(c, kn_cluster_apply_pvc, false,
          "{\"metadata\":{\"name\":\"data\",\"namespace\":\"spark\",\"uid\":\"u1\",\"resourceVersion\":\"4\"},"
          "\"spec\":{}}");
    assert_string_equal(kn_vols_pvc(c, "spark", "data")->volume_name, "pv-1");
    /* deleted */
    apply(c, kn_cluster_apply_pvc, true, "{\"metadata\":{\"name\":\"data\",\"namespace\":\"spark\"}}");
    assert_null(kn_vols_pvc(c, "spark", "data"));
    refused(c, kn_cluster_apply_pvc, "{\"metadata\":{\"namespace\":\"x\"}}", "metadata.name is missing");
    refused(c, kn_cluster_apply_pvc,
            "{\"metadata\":{\"name\":\"q\"},\"spec\":{\"resources\":{\"requests\":{\"storage\":\"lots\"}}}}",
            "PersistentVolumeClaim /q: spec.resources.requests.storage");
}

static void test_volume_class_csinode_fields(void **state)
{
    kn_cluster *c = *state;
    apply(c, kn_cluster_apply_pv, false,
          "{\"metadata\":{\"name\":\"pv-1\",\"uid\":\"v1\",\"resourceVersion\":\"9\",\"labels\":{\"zone\":\"a\"}},"
          "\"spec\":{\"storageClassName\":\"gp3\",\"capacity\":{\"storage\":\"100Gi\"},\"accessModes\":["
          "\"ReadWriteOnce\"],"
          "\"claimRef\":{\"namespace\":\"spark\",\"name\":\"data\",\"uid\":\"u1\"},"
          "\"csi\":{\"driver\":\"ebs.csi.aws.com\",\"volumeHandle\":\"vol-1\"},"
          "\"nodeAffinity\":{\"required\":{\"nodeSelectorTerms\":[]}}},\"status\":{\"phase\":\"Bound\"}}");
    const kn_pv *v = kn_vols_pv(c, "pv-1");
    assert_non_null(v);
    assert_string_equal(v->class_name, "gp3");
    assert_int_equal(v->capacity, 100LL << 30);
    assert_string_equal(v->csi_driver, "ebs.csi.aws.com");
    assert_string_equal(v->csi_handle, "vol-1");
    assert_non_null(v->affinity);
    assert_false(v->available);
    assert_true(kn_pv_bound_to(v, "spark", "data", "u1"));
    assert_false(kn_pv_bound_to(v, "spark", "data", "u2")); /* same name, a new claim */
    assert_true(kn_pv_claimed_by_other(v, "spark", "other", "u3"));
    apply(c, kn_cluster_apply_sclass, false,
          "{\"metadata\":{\"name\":\"gp3\"},\"provisioner\":\"ebs.csi.aws.com\",\"volumeBindingMode\":"
          "\"WaitForFirstConsumer\","
          "\"allowedTopologies\":[{\"matchLabelExpressions\":[{\"key\":\"zone\",\"values\":[\"a\"]}]}]}");
    apply(c, kn_cluster_apply_sclass, false, "{\"metadata\":{\"name\":\"std\"},\"provisioner\":\"x\"}");
    assert_true(kn_vols_class(c, "gp3")->wffc);
    assert_non_null(kn_vols_class(c, "gp3")->topologies);
    assert_false(kn_vols_class(c, "std")->wffc); /* defaulted Immediate */
    apply(c, kn_cluster_apply_csinode, false,
          "{\"metadata\":{\"name\":\"node-a\"},\"spec\":{\"drivers\":[{\"name\":\"ebs.csi.aws.com\",\"nodeID\":"
          "\"i\","
          "\"allocatable\":{\"count\":25}},{\"name\":\"efs.csi.aws.com\",\"nodeID\":\"i\"}]}}");
    const kn_csinode *cn = kn_vols_csinode(c, "node-a");
    assert_int_equal(cn->n, 1); /* a driver without a count has no limit */
    assert_string_equal(kn_vols_driver_name(c, cn->limits[0].driver), "ebs.csi.aws.com");
    assert_int_equal(cn->limits[0].count, 25);
    assert_true(kn_vols_driver_limited(c, cn->limits[0].driver));
    refused(c, kn_cluster_apply_csinode,
            "{\"metadata\":{\"name\":\"node-b\"},\"spec\":{\"drivers\":[{\"name\":\"d\",\"allocatable\":{"
            "\"count\":-1}}]}}",
            "CSINode node-b: spec.drivers[0].allocatable.count");
    refused(c, kn_cluster_apply_pv, "{\"metadata\":{\"name\":\"pv-2\"},\"spec\":{\"capacity\":{\"storage\":[]}}}",
            "PersistentVolume pv-2: spec.capacity.storage");
    /* a relist that no longer holds them removes them, and the driver's limit with its CSINode */
    kn_vols_resync_begin(c, 1);
    kn_vols_resync_end(c, 1);
    assert_null(kn_vols_pv(c, "pv-1"));
    int d = cn->limits[0].driver;
    kn_vols_resync_begin(c, 3);
    kn_vols_resync_end(c, 3);
    assert_null(kn_vols_csinode(c, "node-a"));
    assert_false(kn_vols_driver_limited(c, d));
    assert_non_null(kn_vols_class(c, "std"));
}

/* Pods counted on a node: the claims they mount have users, their CSI
 * volumes are attached there (once however many pods mount them). */
static void test_pods_count(void **state)
{
    kn_cluster *c = *state;
    apply(c, kn_cluster_apply_sclass, false,
          "{\"metadata\":{\"name\":\"gp3\"},\"provisioner\":\"ebs.csi.aws.com\",\"volumeBindingMode\":"
          "\"WaitForFirstConsumer\"}");
    apply(c, kn_cluster_apply_pv, false,
          "{\"metadata\":{\"name\":\"pv-1\",\"resourceVersion\":\"1\"},\"spec\":{\"storageClassName\":\"gp3\","
          "\"csi\":{\"driver\":\"ebs.csi.aws.com\",\"volumeHandle\":\"vol-1\"}}}");
    apply(c, kn_cluster_apply_pvc, false,
          "{\"metadata\":{\"name\":\"bound\",\"namespace\":\"ns\",\"resourceVersion\":\"2\","
          "\"annotations\":{\"pv.kubernetes.io/bind-completed\":\"yes\"}},\"spec\":{\"storageClassName\":\"gp3\","
          "\"volumeName\":\"pv-1\"}}");
    apply(c, kn_cluster_apply_pvc, false,
          "{\"metadata\":{\"name\":\"unbound\",\"namespace\":\"ns\",\"resourceVersion\":\"3\"},\"spec\":{"
          "\"storageClassName\":\"gp3\"}}");
    const char *pod =
        "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns\",\"uid\":\"%s\"},\"spec\":{\"nodeName\":\"n1\","
        "\"containers\":[],\"volumes\":[{\"name\":\"a\",\"persistentVolumeClaim\":{\"claimName\":\"bound\"}},"
        "{\"name\":\"b\",\"persistentVolumeClaim\":{\"claimName\":\"%s\"}}]},\"status\":{\"phase\":\"Running\"}}";
    char text[1024];
    kn_pod_change chg;
    kn_err err;
    snprintf(text, sizeof(text), pod, "p1", "u-p1", "unbound");
    kn_json *o = fx_parse("%s", text);
    assert_int_equal(kn_cluster_apply_pod(c, o, false, &chg, &err), 0);
    kn_json_free(o);
    int p1 = chg.idx;
    snprintf(text, sizeof(text), pod, "p2", "u-p2", "missing");
    o = fx_parse("%s", text);
    assert_int_equal(kn_cluster_apply_pod(c, o, false, &chg, &err), 0);
    kn_json_free(o);
    int p2 = chg.idx;
    int node = kn_strmap_get(&c->node_by_name, "n1");
    assert_true(node >= 0);
    const kn_node_attach *na = kn_vols_node_attach(c, node);
    assert_non_null(na);
    assert_int_equal(na->n, 2); /* vol-1 (twice: one volume), the unbound claim's own */
    int refs = 0;
    for (int i = 0; i < na->n; i++)
        refs += na->a[i].refs;
    assert_int_equal(refs, 3);
    assert_int_equal(kn_vols_pvc(c, "ns", "bound")->users, 2);
    assert_int_equal(kn_vols_pvc(c, "ns", "unbound")->users, 1);
    /* a claim pods mount that does not exist yet has users when it comes */
    apply(c, kn_cluster_apply_pvc, false,
          "{\"metadata\":{\"name\":\"missing\",\"namespace\":\"ns\"},\"spec\":{}}");
    assert_int_equal(kn_vols_pvc(c, "ns", "missing")->users, 1);
    kn_cluster_drop_pod(c, p1);
    assert_int_equal(kn_vols_pvc(c, "ns", "bound")->users, 1);
    assert_int_equal(kn_vols_pvc(c, "ns", "unbound")->users, 0);
    assert_int_equal(kn_vols_node_attach(c, node)->n, 1);
    kn_cluster_drop_pod(c, p2);
    assert_null(kn_vols_node_attach(c, node));
    assert_int_equal(kn_vols_pvc(c, "ns", "bound")->users, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_claim_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_volume_class_csinode_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pods_count, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
