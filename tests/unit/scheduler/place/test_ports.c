/* Host ports (NodePorts) as a user sees them: which node a pod asking for a
 * hostPort lands on, and the FailedScheduling text when every node has it
 * in use. The table is kube-scheduler's own plugin test
 * (plugins/nodeports/node_ports_test.go: TestNodePorts, TestFits) played
 * through the scheduler: the node's pod bound there by another scheduler,
 * ours pending. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/sched_fixtures.h"

#define NO_PORTS "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports."

/* "PROTO/IP/PORT ..." (kube-scheduler's test notation) as ports array members. */
static const char *ports_of(const char *spec, char *buf, size_t cap)
{
    char copy[512];
    snprintf(copy, sizeof(copy), "%s", spec);
    size_t off = 0;
    buf[0] = '\0';
    for (char *save = NULL, *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        char proto[8], ip[48];
        int port;
        assert_int_equal(sscanf(t, "%7[^/]/%47[^/]/%d", proto, ip, &port), 3);
        off += (size_t)snprintf(buf + off, cap - off,
                                "%s{\"containerPort\":%d,\"hostPort\":%d,\"protocol\":\"%s\",\"hostIP\":\"%s\"}",
                                off ? "," : "", port, port, proto, ip);
    }
    return buf;
}

typedef struct port_case {
    const char *name;
    const char *existing; /* the pod already on m1 */
    const char *pod;      /* ours */
    bool fits;
} port_case;

static const port_case node_ports_test[] = {
    {"other port", "UDP/127.0.0.1/9090", "UDP/127.0.0.1/8080", true},
    {"same udp port", "UDP/127.0.0.1/8080", "UDP/127.0.0.1/8080", false},
    {"same tcp port", "TCP/127.0.0.1/8080", "TCP/127.0.0.1/8080", false},
    {"different host ip", "TCP/127.0.0.2/8080", "TCP/127.0.0.1/8080", true},
    {"different protocol", "TCP/127.0.0.1/8080", "UDP/127.0.0.1/8080", true},
    {"second udp port conflict", "UDP/127.0.0.1/8080", "UDP/127.0.0.1/8000 UDP/127.0.0.1/8080", false},
    {"first tcp port conflict", "TCP/127.0.0.1/8001 UDP/127.0.0.1/8081", "TCP/127.0.0.1/8001 UDP/127.0.0.1/8080",
     false},
    {"first tcp port conflict due to 0.0.0.0 hostIP", "TCP/127.0.0.1/8001", "TCP/0.0.0.0/8001", false},
    {"TCP hostPort conflict due to 0.0.0.0 hostIP", "TCP/127.0.0.1/8001", "TCP/10.0.10.10/8001 TCP/0.0.0.0/8001",
     false},
    {"second tcp port conflict to 0.0.0.0 hostIP", "TCP/0.0.0.0/8001", "TCP/127.0.0.1/8001", false},
    {"second different protocol", "TCP/0.0.0.0/8001", "UDP/127.0.0.1/8001", true},
    {"UDP hostPort conflict due to 0.0.0.0 hostIP", "TCP/0.0.0.0/8001 UDP/0.0.0.0/8001", "UDP/127.0.0.1/8001",
     false},
    /* TestFits */
    {"non-conflicting ports", "TCP/127.0.0.1/9090", "TCP/127.0.0.1/80", true},
    {"multiple non-conflicting ports", "TCP/127.0.0.1/9090 TCP/127.0.0.1/9191 TCP/127.0.1.1/8080",
     "TCP/127.0.0.1/80 TCP/127.0.1.1/80 TCP/127.0.1.1/90 TCP/127.0.1.1/100", true},
    {"same ports on different protocols", "UDP/127.0.0.1/80", "TCP/127.0.0.1/80", true},
    {"conflicting ports", "TCP/127.0.0.1/80", "TCP/127.0.0.1/80", false},
    {"multiple ports, some conflicting", "TCP/127.0.0.1/9090 TCP/127.0.1.1/90 TCP/127.0.1.1/8080",
     "TCP/127.0.0.1/80 TCP/127.0.1.1/80 TCP/127.0.1.1/90 TCP/127.0.1.1/100", false},
    /* addresses are compared as written: "::" is not every address */
    {"an IPv6 any address is one address", "TCP/::/8080", "TCP/10.0.0.1/8080", true},
};

static void test_kube_scheduler_node_ports_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(node_ports_test) / sizeof(node_ports_test[0]); i++) {
        const port_case *t = &node_ports_test[i];
        fx_sched *f = fx_sched_new(NULL);
        char a[1024], b[1024];
        fx_node(f->s, "m1", "8", "32Gi");
        fx_pod_ports(f->s, "existing", ports_of(t->existing, a, sizeof(a)), "", "", "m1", "default-scheduler");
        fx_pod_ports(f->s, "pod", ports_of(t->pod, b, sizeof(b)), "", "", NULL, NULL);
        fx_cycle(f->s, 1, &f->out);
        const char *node = fx_node_of(&f->out, "pod");
        if (t->fits && (node == NULL || strcmp(node, "m1") != 0))
            fail_msg("%s: not bound to m1", t->name);
        if (!t->fits) {
            if (node != NULL)
                fail_msg("%s: bound to %s", t->name, node);
            fx_expect_failed(&f->out, "pod", NO_PORTS);
        }
        fx_sched_free(f);
    }
}

/* Only hostPort > 0 counts; an empty hostIP is every address and an empty
 * protocol TCP; the sidecar's ports count and a regular init container's
 * do not (kube-scheduler's GetHostPorts). */
static void test_what_counts_as_a_host_port(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "m1", "8", "32Gi");
    fx_pod_ports(f->s, "existing", "{\"containerPort\":8080},{\"containerPort\":9000,\"hostPort\":9000}", "", "",
                 "m1", "default-scheduler");
    fx_pod_ports(f->s, "no-host-port", "{\"containerPort\":8080}", "", "", NULL, NULL);
    fx_pod_ports(f->s, "defaults", "{\"containerPort\":9000,\"hostPort\":9000,\"hostIP\":\"10.1.2.3\"}", "", "",
                 NULL, NULL);
    fx_cycle(f->s, 1, &f->out);
    assert_string_equal(fx_node_of(&f->out, "no-host-port"), "m1");
    fx_expect_failed(&f->out, "defaults", NO_PORTS);

    fx_pod_full(
        f->s, "init-only", "100m", "64Mi", "", "",
        ",\"initContainers\":[{\"name\":\"setup\",\"ports\":[{\"containerPort\":7000,\"hostPort\":7000}]}]", "",
        "m1", "default-scheduler");
    fx_pod_full(
        f->s, "sidecar", "100m", "64Mi", "", "",
        ",\"initContainers\":[{\"name\":\"proxy\",\"restartPolicy\":\"Always\",\"ports\":[{\"containerPort\":"
        "7001,\"hostPort\":7001}]}]",
        "", "m1", "default-scheduler");
    fx_pod_ports(f->s, "wants-7000", "{\"containerPort\":7000,\"hostPort\":7000}", "", "", NULL, NULL);
    fx_pod_ports(f->s, "wants-7001", "{\"containerPort\":7001,\"hostPort\":7001,\"protocol\":\"TCP\"}", "", "",
                 NULL, NULL);
    fx_cycle(f->s, 2, &f->out);
    assert_string_equal(fx_node_of(&f->out, "wants-7000"), "m1");
    fx_expect_failed(&f->out, "wants-7001", NO_PORTS);
}

/* A port is taken by a pod we bound (assumed until the watch says so) and
 * given back when that pod goes; under hostNetwork every containerPort is
 * a host port. */
static void test_ports_come_and_go_with_pods(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "m1", "8", "32Gi");
    fx_pod_ports(f->s, "first", "{\"containerPort\":9100}", "", ",\"hostNetwork\":true", NULL, NULL);
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 1);
    fx_pod_ports(f->s, "second", "{\"containerPort\":9100,\"hostPort\":9100}", "", "", NULL, NULL);
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 0);
    fx_expect_failed(&f->out, "second", NO_PORTS);
    fx_delete_pod(f->s, "first");
    assert_int_equal(fx_cycle(f->s, 3, &f->out), 1);
    assert_string_equal(fx_node_of(&f->out, "second"), "m1");
}

/* The filter runs after TaintToleration and NodeAffinity and before
 * NodeResourcesFit, and a node fails on the first: counted once, for its first
 * reason, as kube-scheduler counts it. */
static void test_ports_in_the_fit_message(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "m1", "8", "32Gi");
    fx_node(f->s, "m2", "1", "32Gi");
    fx_node_full(f->s, "m3", "8", "32Gi", "", "",
                 ",\"taints\":[{\"key\":\"dedicated\",\"value\":\"db\",\"effect\":\"NoSchedule\"}]", "", "True");
    fx_pod_ports(f->s, "on-m1", "{\"containerPort\":80,\"hostPort\":80}", "", "", "m1", "default-scheduler");
    fx_pod_ports(f->s, "on-m2", "{\"containerPort\":80,\"hostPort\":80}", "", "", "m2", "default-scheduler");
    fx_pod_full(f->s, "web", "2", "1Gi", "", "", "", "", NULL, NULL);
    /* the same pod with a host port: m2 lacks cpu too, but ports come first */
    fx_sched *g = fx_sched_new(NULL);
    fx_node(g->s, "m1", "8", "32Gi");
    fx_node(g->s, "m2", "1", "32Gi");
    fx_node_full(g->s, "m3", "8", "32Gi", "", "",
                 ",\"taints\":[{\"key\":\"dedicated\",\"value\":\"db\",\"effect\":\"NoSchedule\"}]", "", "True");
    fx_pod_ports(g->s, "on-m1", "{\"containerPort\":80,\"hostPort\":80}", "", "", "m1", "default-scheduler");
    fx_pod_ports(g->s, "on-m2", "{\"containerPort\":80,\"hostPort\":80}", "", "", "m2", "default-scheduler");
    kn_json *p = fx_parse("{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"uid-web\"},"
                          "\"spec\":{\"schedulerName\":\"kubenexus-scheduler\",\"containers\":[{\"name\":\"a\","
                          "\"resources\":{\"requests\":{\"cpu\":\"2\"}},\"ports\":[{\"containerPort\":80,"
                          "\"hostPort\":80}]}]},\"status\":{\"phase\":\"Pending\"}}");
    assert_int_equal(kn_sched_apply_pod(g->s, p, false, NULL), 0);
    kn_json_free(p);
    fx_cycle(f->s, 1, &f->out);
    fx_cycle(g->s, 1, &g->out);
    assert_string_equal(fx_node_of(&f->out, "web"), "m1");
    fx_expect_failed(&g->out, "web",
                     "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, "
                     "2 node(s) didn't have free ports for the requested pod ports.");
    fx_sched_free(g);
}

/* Members of a gang placed together count for one another: two members
 * asking for the same host port go to different nodes, and with one node
 * the gang waits whole. */
static void test_gang_members_count_for_one_another(void **state)
{
    fx_sched *f = *state;
    const char *gang = "\"pod-group.scheduling.kubenexus.io/name\":\"ps\","
                       "\"pod-group.scheduling.kubenexus.io/min-available\":\"2\"";
    fx_node(f->s, "m1", "8", "32Gi");
    fx_pod_ports(f->s, "ps-0", "{\"containerPort\":2222,\"hostPort\":2222}", gang, "", NULL, NULL);
    fx_pod_ports(f->s, "ps-1", "{\"containerPort\":2222,\"hostPort\":2222}", gang, "", NULL, NULL);
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 0);
    const kn_sched_event *e = fx_event(&f->out, "ps-1", "FailedScheduling");
    assert_non_null(e);
    assert_non_null(strstr(e->message, "node(s) didn't have free ports for the requested pod ports"));
    assert_non_null(strstr(e->message, "Gang default/ps: only 1 of 2 pods fit at once; none bound."));

    fx_node(f->s, "m2", "8", "32Gi");
    assert_int_equal(fx_cycle(f->s, 2, &f->out), 2);
    const char *a = fx_node_of(&f->out, "ps-0"), *b = fx_node_of(&f->out, "ps-1");
    assert_non_null(a);
    assert_non_null(b);
    assert_string_not_equal(a, b);
}

/* A driver's executor slots hold room, not the driver's host ports: they may
 * share its node. */
static void test_slots_do_not_take_the_drivers_ports(void **state)
{
    fx_sched *f = *state;
    fx_node(f->s, "m1", "8", "32Gi");
    const char *labels = "\"pod-group.scheduling.kubenexus.io/name\":\"pi\","
                         "\"pod-group.scheduling.kubenexus.io/min-available\":\"3\",\"spark-role\":\"driver\"";
    kn_json *p =
        fx_parse("{\"metadata\":{\"name\":\"pi-driver\",\"namespace\":\"default\",\"uid\":\"uid-d\","
                 "\"labels\":{%s},\"annotations\":{\"scheduling.kubenexus.io/executor-reservation\":"
                 "\"{\\\"count\\\":2,\\\"requests\\\":{\\\"cpu\\\":\\\"1\\\",\\\"memory\\\":\\\"1Gi\\\"}}\"}},"
                 "\"spec\":{\"schedulerName\":\"kubenexus-scheduler\",\"containers\":[{\"name\":\"d\","
                 "\"resources\":{\"requests\":{\"cpu\":\"1\"}},\"ports\":[{\"containerPort\":4040,"
                 "\"hostPort\":4040}]}]},\"status\":{\"phase\":\"Pending\"}}",
                 labels);
    assert_int_equal(kn_sched_apply_pod(f->s, p, false, NULL), 0);
    kn_json_free(p);
    assert_int_equal(fx_cycle(f->s, 1, &f->out), 1);
    assert_string_equal(fx_node_of(&f->out, "pi-driver"), "m1");
    assert_non_null(fx_event(&f->out, "pi-driver", "GangReserved"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kube_scheduler_node_ports_cases),
        fx_sched_test(test_what_counts_as_a_host_port),
        fx_sched_test(test_ports_come_and_go_with_pods),
        fx_sched_test(test_ports_in_the_fit_message),
        fx_sched_test(test_gang_members_count_for_one_another),
        fx_sched_test(test_slots_do_not_take_the_drivers_ports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
