/* `kubenexus-scheduler simulate`: the JSON Lines a user reads, on the built-in
 * sample and on fixture manifests (Spark Operator SparkApplications, pods,
 * a kind: List of nodes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "json/json.h"
#include "sim/simulate.h"

#define MAX_LINES 256

typedef struct sim_result {
    int rc;
    char *text;
    kn_json *lines[MAX_LINES];
    int n;
} sim_result;

/* Runs kn_simulate_main with stdout captured; parses JSON lines when json. */
static void run(sim_result *r, bool json, int argc, const char **argv)
{
    memset(r, 0, sizeof(*r));
    fflush(stdout);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(1);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), 1) >= 0);
    r->rc = kn_simulate_main(argc, (char **)argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    long len = ftell(tmp);
    assert_true(len >= 0);
    r->text = calloc((size_t)len + 1, 1);
    rewind(tmp);
    assert_int_equal(fread(r->text, 1, (size_t)len, tmp), (size_t)len);
    fclose(tmp);
    for (char *line = r->text, *nl; json && line && *line && r->n < MAX_LINES; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        kn_err err = {{0}};
        kn_json *v = kn_json_parse(line, nl ? (size_t)(nl - line) : strlen(line), NULL, &err);
        if (v == NULL)
            fail_msg("not a JSON line (%s): %.*s", err.msg, nl ? (int)(nl - line) : (int)strlen(line), line);
        r->lines[r->n++] = v;
    }
}

static void done(sim_result *r)
{
    for (int i = 0; i < r->n; i++)
        kn_json_free(r->lines[i]);
    free(r->text);
}

static int find(const sim_result *r, const char *pod)
{
    for (int i = 0; i < r->n; i++) {
        const char *p = kn_json_get_str(r->lines[i], "pod");
        if (p && strcmp(p, pod) == 0)
            return i;
    }
    fail_msg("no line for %s", pod);
    return -1;
}

static int64_t summary_int(const sim_result *r, const char *a, const char *b)
{
    const kn_json *s = kn_json_get(r->lines[r->n - 1], "summary");
    assert_non_null(s);
    int64_t v = -1;
    assert_int_equal(kn_json_int(b ? kn_json_dig(s, a, b, NULL) : kn_json_get(s, a), &v), 0);
    return v;
}

static void test_builtin_sample(void **state)
{
    (void)state;
    sim_result r;
    const char *argv[] = {"simulate", NULL};
    run(&r, true, 1, argv);
    assert_int_equal(r.rc, 0);
    /* 21 + 9 + 6 pods bound, then the summary */
    assert_int_equal(r.n, 37);
    assert_int_equal(summary_int(&r, "pods", "boundBySimulation"), 36);
    assert_int_equal(summary_int(&r, "pods", "pending"), 0);
    assert_int_equal(summary_int(&r, "gangs", "placed"), 3);
    assert_int_equal(summary_int(&r, "nodes", NULL), 6);
    /* executors exist only once their driver is bound */
    assert_true(find(&r, "spark-jobs/data-processing-driver") < find(&r, "spark-jobs/data-processing-exec-1"));
    /* single-numa GPU pods: one zone each, on GPU nodes, never on the cordoned node */
    for (int i = 0; i < r.n - 1; i++) {
        const char *pod = kn_json_get_str(r.lines[i], "pod");
        const char *node = kn_json_get_str(r.lines[i], "node");
        assert_string_not_equal(node, "cpu-node-4");
        if (strstr(pod, "spark-ml-gpu") != NULL) {
            assert_int_equal(kn_json_len(kn_json_get(r.lines[i], "numaZones")), 1);
            assert_int_equal(strncmp(node, "gpu-node-", 9), 0);
        }
    }
    done(&r);
}

static void test_sample_file_is_the_builtin(void **state)
{
    (void)state;
    sim_result r;
    const char *argv[] = {"simulate", "--print-sample", NULL};
    run(&r, false, 2, argv);
    assert_int_equal(r.rc, 0);
    FILE *f = fopen(KN_FIXTURES "/../../deploy/examples/sim-cluster.yaml", "rb");
    assert_non_null(f);
    static char buf[64 * 1024];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_string_equal(r.text, buf);
    done(&r);
}

static void test_fixture_cluster(void **state)
{
    (void)state;
    sim_result r;
    const char *argv[] = {"simulate", KN_FIXTURES "/sim/small-cluster.yaml", NULL};
    run(&r, true, 2, argv);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.n, 10);
    int d = find(&r, "default/spark-pi-driver");
    assert_string_equal(kn_json_get_str(r.lines[d], "node"), "node-a");
    for (int i = 1; i <= 3; i++) { /* the executors take the slots held next to the driver */
        char pod[64];
        snprintf(pod, sizeof(pod), "default/spark-pi-exec-%d", i);
        int e = find(&r, pod);
        assert_true(e > d);
        assert_string_equal(kn_json_get_str(r.lines[e], "node"), "node-a");
    }
    int w = find(&r, "shop/web");
    assert_true(kn_json_is(kn_json_get(r.lines[w], "node"), KN_JSON_NULL));
    assert_string_equal(kn_json_get_str(r.lines[w], "reason"),
                        "spec.schedulerName is \"default-scheduler\": not scheduled by kubenexus-scheduler");
    for (int i = 0; i < 3; i++) {
        char pod[32];
        snprintf(pod, sizeof(pod), "default/big-%d", i);
        int b = find(&r, pod);
        assert_true(b > find(&r, "default/spark-pi-exec-3")); /* pending lines after the bindings */
        assert_string_equal(kn_json_get_str(r.lines[b], "reason"),
                            "0/2 nodes are available: 2 Insufficient cpu. Gang default/big: only 1 of 3 pods "
                            "fit at once; none bound.");
    }
    assert_string_equal(kn_json_get_str(r.lines[find(&r, "default/json-pod")], "node"), "node-b");
    assert_int_equal(summary_int(&r, "pods", "bound"), 5);
    assert_int_equal(summary_int(&r, "pods", "pending"), 4);
    assert_int_equal(summary_int(&r, "gangs", "waiting"), 1);
    done(&r);
}

/* Files in any order: the nodes of a later file are there for the pods of an earlier one. */
static void test_several_files(void **state)
{
    (void)state;
    sim_result r;
    const char *argv[] = {"simulate", KN_FIXTURES "/sim/pods-only.yaml", KN_FIXTURES "/sim/small-cluster.yaml",
                          NULL};
    run(&r, true, 3, argv);
    assert_int_equal(r.rc, 0);
    assert_non_null(kn_json_get_str(r.lines[find(&r, "default/first-file")], "node"));
    assert_int_equal(summary_int(&r, "pods", "bound"), 6);
    assert_int_equal(summary_int(&r, "nodes", NULL), 2);
    done(&r);
}

static void test_webhook_denial_is_the_reason(void **state)
{
    (void)state;
    sim_result r;
    const char *argv[] = {"simulate", KN_FIXTURES "/sim/bad-gang.yaml", NULL};
    run(&r, true, 2, argv);
    assert_int_equal(r.rc, 0);
    int d = find(&r, "default/wrong-min-driver");
    assert_string_equal(
        kn_json_get_str(r.lines[d], "reason"),
        "denied by the kubenexus webhook: SparkApplication default/wrong-min: driver label "
        "pod-group.scheduling.kubenexus.io/min-available is \"3\", want \"4\" (1 driver + 3 executors)");
    done(&r);
}

/* PodGroups in the files size and hold back the gangs that name them. */
static void test_podgroups_in_files(void **state)
{
    (void)state;
    sim_result r;
    const char *argv[] = {"simulate", KN_FIXTURES "/sim/podgroups.yaml", NULL};
    run(&r, true, 2, argv);
    assert_int_equal(r.rc, 0);
    for (int i = 0; i < 3; i++) {
        char pod[32];
        snprintf(pod, sizeof(pod), "hpc/mpi-%d", i);
        assert_string_equal(kn_json_get_str(r.lines[find(&r, pod)], "node"), "node-a");
    }
    assert_string_equal(
        kn_json_get_str(r.lines[find(&r, "default/etl-driver")], "reason"),
        "PodGroup default/spark-etl-pg (scheduling.volcano.sh/v1beta1): the cluster's free room is "
        "short of cpu 10 for spec.minResources and minMember 1; the gang is not attempted until room "
        "frees up");
    assert_string_equal(kn_json_get_str(r.lines[find(&r, "default/orphan")], "reason"),
                        "PodGroup default/nowhere (scheduling.x-k8s.io/v1alpha1) not found; the gang's pods wait "
                        "until it is created");
    assert_int_equal(summary_int(&r, "gangs", "placed"), 1);
    done(&r);
    /* a PodGroup of another API is refused, naming the two it could be */
    char path[] = "/tmp/kn-sim-pg-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *doc = "apiVersion: scheduling.sigs.k8s.io/v1alpha1\nkind: PodGroup\nmetadata: {name: old}\n";
    assert_int_equal(write(fd, doc, strlen(doc)), (ssize_t)strlen(doc));
    close(fd);
    const char *bad[] = {"simulate", path, NULL};
    fflush(stderr);
    run(&r, false, 2, bad);
    assert_int_equal(r.rc, 1);
    done(&r);
    unlink(path);
}

/* A high-priority application on a full cluster: a whole low-priority gang
 * goes (not the pod a PodDisruptionBudget protects), the application binds
 * in its room; PriorityClasses give pods their priority (an unknown one is
 * refused as kube-apiserver's Priority plugin refuses it), and a class with
 * preemptionPolicy Never does not preempt. */
static void test_preemption(void **state)
{
    (void)state;
    sim_result r;
    const char *argv[] = {"simulate", KN_FIXTURES "/sim/preemption.yaml", NULL};
    run(&r, true, 2, argv);
    assert_int_equal(r.rc, 0);
    int victims = 0, first_binding = -1;
    for (int i = 0; i < r.n; i++) {
        const kn_json *v = kn_json_get(r.lines[i], "preempted");
        if (v == NULL) {
            if (first_binding < 0 && kn_json_get_str(r.lines[i], "node"))
                first_binding = i;
            continue;
        }
        victims++;
        assert_true(first_binding < 0); /* chosen before the preemptor binds */
        assert_non_null(strstr(kn_json_get_str(v, "pod"), "batch/low-2-"));
        assert_string_equal(kn_json_get_str(v, "node"), "node-b");
        assert_string_equal(kn_json_get_str(v, "by"), "spark/urgent-driver");
        assert_string_equal(kn_json_get_str(v, "gang"), "batch/low-2");
    }
    assert_int_equal(victims, 6);
    for (int i = 1; i <= 3; i++) {
        char pod[64];
        snprintf(pod, sizeof(pod), "spark/urgent-exec-%d", i);
        assert_string_equal(kn_json_get_str(r.lines[find(&r, pod)], "node"), "node-b");
    }
    assert_string_equal(kn_json_get_str(r.lines[find(&r, "spark/urgent-driver")], "node"), "node-b");
    assert_string_equal(kn_json_get_str(r.lines[find(&r, "shop/unknown-class")], "reason"),
                        "pods \"unknown-class\" is forbidden: no PriorityClass with name gold was found");
    assert_string_equal(kn_json_get_str(r.lines[find(&r, "shop/polite")], "reason"),
                        "0/2 nodes are available: 2 Insufficient cpu. preemption: not eligible due to "
                        "preemptionPolicy=Never.");
    assert_int_equal(summary_int(&r, "preemptions", "victims"), 6);
    assert_int_equal(summary_int(&r, "preemptions", "gangsEvicted"), 1);
    assert_int_equal(summary_int(&r, "preemptions", "preemptors"), 1);
    assert_int_equal(summary_int(&r, "pods", "bound"), 13); /* 8 + 1 running still, 4 placed */
    done(&r);
    const char *table[] = {"simulate", "--format", "table", KN_FIXTURES "/sim/preemption.yaml", NULL};
    run(&r, false, 4, table);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.text, "PREEMPTED POD"));
    assert_non_null(strstr(r.text, "batch/low-2-exec-5                               node-b           "
                                   "spark/urgent-driver (with batch/low-2)\n"));
    assert_non_null(strstr(r.text, "preempted: 6 pod(s), 1 gang(s) whole, for 1 preemptor(s)\n"));
    done(&r);
}

static void test_table_and_errors(void **state)
{
    (void)state;
    sim_result r;
    const char *argv[] = {"simulate", "--format", "table", KN_FIXTURES "/sim/small-cluster.yaml", NULL};
    run(&r, false, 4, argv);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.text, "default/spark-pi-driver"));
    assert_non_null(strstr(r.text, "PENDING POD"));
    assert_non_null(strstr(r.text, "2 node(s); 5 pod(s) bound (5 by this simulation), 4 pending"));
    done(&r);
    const char *missing[] = {"simulate", KN_FIXTURES "/sim/does-not-exist.yaml", NULL};
    run(&r, false, 2, missing);
    assert_int_equal(r.rc, 1);
    assert_string_equal(r.text, "");
    done(&r);
    const char *bad[] = {"simulate", "--format", "xml", NULL};
    run(&r, false, 3, bad);
    assert_int_equal(r.rc, 2);
    done(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_sample),
        cmocka_unit_test(test_sample_file_is_the_builtin),
        cmocka_unit_test(test_fixture_cluster),
        cmocka_unit_test(test_several_files),
        cmocka_unit_test(test_webhook_denial_is_the_reason),
        cmocka_unit_test(test_podgroups_in_files),
        cmocka_unit_test(test_preemption),
        cmocka_unit_test(test_table_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
