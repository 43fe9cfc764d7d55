/* fuzz_sched.c - the scheduler's placement core fed untrusted watch objects
 * (kn_sched_apply_node / _pod / _nrt / _podgroup, kn_sched_cycle, bind outcomes).
 *
 * Input: a JSON List (or array) of Nodes, Pods and NodeResourceTopologies.
 * Each is applied as a watch event; then cycles run (simulated clock), each
 * binding answered 201, 409, 404 or 500 in turn; then every object is deleted
 * again and a last cycle runs. Invariants: never a crash or leak; a rejected
 * object comes with a message; every binding names a pod uid and a node that
 * were applied, and its zones fit KN_NUMA_MAX_ZONES; a pod acknowledged as
 * bound (201) is never bound again; events carry a reason and a message. */
#include "fuzz.h"
#include "json/json.h"
#include "scheduler/cycle/scheduler.h"

#define MAX_OBJECTS 256
#define MAX_CYCLES 8

typedef struct seen {
    const kn_json *objs[MAX_OBJECTS];
    int n;
} seen;

static int apply(kn_scheduler *s, const kn_json *o, bool deleted)
{
    const char *kind = kn_json_get_str(o, "kind");
    kn_err err = {{0}};
    int rc = 0;
    if (kn_fuzz_streq(kind, "Node"))
        rc = kn_sched_apply_node(s, o, deleted, &err);
    else if (kn_fuzz_streq(kind, "Pod"))
        rc = kn_sched_apply_pod(s, o, deleted, &err);
    else if (kn_fuzz_streq(kind, "NodeResourceTopology"))
        rc = kn_sched_apply_nrt(s, o, deleted, &err);
    else if (kn_fuzz_streq(kind, "PodGroup"))
        rc = kn_sched_apply_podgroup(
            s,
            kn_fuzz_streq(kn_json_get_str(o, "apiVersion"), "scheduling.volcano.sh/v1beta1")
                ? KN_GANG_VOLCANO
                : KN_GANG_COSCHEDULING,
            o, deleted, &err);
    else
        return 0;
    KN_FUZZ_CHECK(rc == 0 || err.msg[0] != '\0');
    return rc;
}

/* A node (kind Node, metadata.name) or pod (kind Pod, metadata.uid) was applied. */
static bool was_applied(const seen *sn, const char *kind, const char *key, const char *value)
{
    for (int i = 0; i < sn->n; i++)
        if (kn_fuzz_streq(kn_json_get_str(sn->objs[i], "kind"), kind) &&
            kn_fuzz_streq(kn_json_get_str(kn_json_get(sn->objs[i], "metadata"), key), value))
            return true;
    return false;
}

static void check_out(const kn_sched_out *out, const seen *sn, char **bound, int *n_bound)
{
    for (size_t i = 0; i < out->n_bindings; i++) {
        const kn_sched_binding *b = &out->bindings[i];
        KN_FUZZ_CHECK(b->uid != NULL && b->node != NULL && b->ns != NULL && b->name != NULL);
        KN_FUZZ_CHECK(was_applied(sn, "Pod", "uid", b->uid));
        KN_FUZZ_CHECK(was_applied(sn, "Node", "name", b->node));
        KN_FUZZ_CHECK(b->n_zones >= 0 && b->n_zones <= KN_NUMA_MAX_ZONES);
        KN_FUZZ_CHECK((b->n_zones == 0) == (b->zones_annotation == NULL));
        for (int k = 0; k < *n_bound; k++)
            KN_FUZZ_CHECK(strcmp(bound[k], b->uid) != 0);
    }
    for (size_t i = 0; i < out->n_events; i++)
        KN_FUZZ_CHECK(out->events[i].reason != NULL && out->events[i].message != NULL &&
                      out->events[i].type != NULL);
}

static void run_cycles(kn_scheduler *s, const seen *sn, double *now, char **bound, int *n_bound)
{
    static const int outcomes[] = {201, 409, 201, 404, 201, 500};
    kn_sched_out out;
    kn_sched_out_init(&out);
    for (int c = 0; c < MAX_CYCLES; c++, *now += 1) {
        kn_err err = {{0}};
        int n = kn_sched_cycle(s, *now, &out, &err);
        KN_FUZZ_CHECK(n >= 0);
        check_out(&out, sn, bound, n_bound);
        size_t nb = out.n_bindings;
        for (size_t i = 0; i < nb; i++) {
            int status = outcomes[(i + (size_t)c) % 6];
            if (status == 201) {
                kn_sched_bind_ok(s, out.bindings[i].uid, *now, &out);
                if (*n_bound < MAX_OBJECTS)
                    bound[(*n_bound)++] = strdup(out.bindings[i].uid);
            } else {
                kn_sched_bind_failed(s, out.bindings[i].uid, status, "fuzz", *now, &out);
            }
        }
        kn_sched_out_reset(&out);
        if (n == 0)
            break;
    }
    kn_sched_out_free(&out);
}

int kn_fuzz_sched(const uint8_t *data, size_t size)
{
    char *buf = kn_fuzz_exact(data, size);
    kn_json *doc = kn_json_parse(buf, size, NULL, NULL);
    free(buf);
    const kn_json *items = kn_json_is(doc, KN_JSON_ARRAY) ? doc : kn_json_get(doc, "items");
    kn_scheduler *s = kn_sched_new(NULL, NULL);
    KN_FUZZ_CHECK(s != NULL);
    seen sn = {.n = 0};
    for (size_t i = 0; i < kn_json_len(items) && sn.n < MAX_OBJECTS; i++)
        if (apply(s, kn_json_at(items, i), false) == 0)
            sn.objs[sn.n++] = kn_json_at(items, i);
    char *bound[MAX_OBJECTS];
    int n_bound = 0;
    double now = 1000;
    run_cycles(s, &sn, &now, bound, &n_bound);
    kn_sched_stats st;
    kn_sched_get_stats(s, &st);
    KN_FUZZ_CHECK(st.nodes <= (size_t)sn.n);
    if (getenv("KN_FUZZ_VERBOSE") != NULL) /* for checking that seeds reach the placement code */
        fprintf(stderr, "sched: %d objects applied, %zu nodes, %d pods bound, %zu pending\n", sn.n, st.nodes,
                n_bound, st.pods_pending);
    for (int i = sn.n - 1; i >= 0; i--)
        apply(s, sn.objs[i], true);
    run_cycles(s, &sn, &now, bound, &n_bound);
    kn_sched_get_stats(s, &st);
    KN_FUZZ_CHECK(st.nodes == 0);
    for (int i = 0; i < n_bound; i++)
        free(bound[i]);
    kn_sched_free(s);
    kn_json_free(doc);
    return 0;
}

KN_FUZZ_TARGET(kn_fuzz_sched)
