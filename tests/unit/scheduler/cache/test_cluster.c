/* test_cluster.c - the cluster cache (scheduler/cache/cluster.h): timestamps
 * (creationTimestamp and PodScheduled times read as strptime and timegm read
 * them, whatever the shape) and the shared NUMA specs of pending pods. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "scheduler/cache/cluster.h"

/* The whole date and time through strptime and timegm (what every
 * timestamp went through before the API server's own shape was read
 * directly), then the fraction and offset as kn_parse_rfc3339 reads them. */
static double by_strptime(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (end == NULL)
        return 0;
    double frac = 0;
    if (*end == '.') {
        double scale = 0.1;
        for (end++; *end >= '0' && *end <= '9'; end++, scale /= 10)
            frac += (*end - '0') * scale;
    }
    time_t t = timegm(&tm);
    int hh = 0, mm = 0;
    if ((*end == '+' || *end == '-') && sscanf(end + 1, "%2d:%2d", &hh, &mm) == 2)
        t -= (*end == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
    return (double)t + frac;
}

static void test_timestamps_read_as_strptime_reads_them(void **state)
{
    (void)state;
    char s[64];
    int n = 0;
    for (int y = 1600; y <= 2500; y += 7)
        for (int m = 1; m <= 12; m++)
            for (int d = 1; d <= 31; d += 3) {
                int h = (y + m + d) % 24, mi = (y * 7 + d) % 60, sec = (m * 13 + d) % 60;
                snprintf(s, sizeof(s), "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, h, mi, sec);
                assert_true(kn_parse_rfc3339(s) == by_strptime(s));
                n++;
            }
    assert_true(n > 10000);
    const char *odd[] = {
        "2026-11-24T10:00:00Z",
        "2026-11-24T10:00:00.25Z",
        "2026-11-24T10:00:00+02:00",
        "2026-11-24T10:00:00.5-05:30",
        "2024-02-29T23:59:59Z",
        "2023-02-29T00:00:00Z",
        "2023-04-31T12:00:00Z",
        "0000-01-01T00:00:00Z",
        "0001-03-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "1969-12-31T23:59:59Z",
        "2026-11-24T10:00:60Z",
        "2026-11-24T24:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-11-00T00:00:00Z",
        "2026-1-2T3:4:5Z",
        "2026-11-24 10:00:00Z",
        "2026-11-24T10:00",
        "2026-11-24",
        "not a time",
        "20",
        "+2026-11-24T10:00:00Z",
        " 2026-11-24T10:00:00Z",
        "2026-11-24T10:00:00",
    };
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
        if (kn_parse_rfc3339(odd[i]) != by_strptime(odd[i]))
            fail_msg("%s: %f, strptime %f", odd[i], kn_parse_rfc3339(odd[i]), by_strptime(odd[i]));
    assert_true(kn_parse_rfc3339("2026-01-01T00:00:00Z") == 1767225600.0);
    assert_true(kn_parse_rfc3339(NULL) == 0 && kn_parse_rfc3339("") == 0);
}

static void spec_of(kn_numa_spec *s, const char *policy, const char *resources)
{
    kn_json *a = kn_json_new_object();
    kn_err err;
    assert_int_equal(kn_json_set_str(a, KN_NUMA_POLICY_ANNOTATION, policy), 0);
    if (resources != NULL)
        assert_int_equal(kn_json_set_str(a, KN_NUMA_RESOURCES_ANNOTATION, resources), 0);
    assert_int_equal(kn_numa_from_annotations(a, s, &err), 0);
    kn_json_free(a);
}

/* Pods asking for the same spec share one entry, with the resources'
 * indices; it goes with the last of them. */
static void test_numa_specs_are_shared(void **state)
{
    (void)state;
    kn_cluster c;
    kn_err err;
    assert_int_equal(kn_cluster_init(&c, NULL, &err), 0);
    kn_numa_spec a, b, other;
    spec_of(&a, "single-numa", NULL);
    spec_of(&b, "single-numa", "cpu,memory");
    spec_of(&other, "single-numa", "cpu,nvidia.com/gpu");
    kn_numa_entry *ea = kn_numa_intern(&c, &a), *eb = kn_numa_intern(&c, &b), *eo = kn_numa_intern(&c, &other);
    assert_non_null(ea);
    assert_ptr_equal(ea, eb);
    assert_ptr_not_equal(ea, eo);
    assert_int_equal(ea->refs, 2);
    assert_int_equal(ea->idx[0], kn_res_index(&c, "cpu", false));
    assert_int_equal(ea->idx[1], kn_res_index(&c, "memory", false));
    assert_int_equal(eo->idx[1], kn_res_index(&c, "nvidia.com/gpu", false));
    assert_true(eo->idx[1] >= KN_R_FIRST_EXT);
    assert_int_equal(c.numa_specs.used, 2);
    kn_numa_release(&c, ea);
    kn_numa_release(&c, eo);
    assert_int_equal(c.numa_specs.used, 1);
    kn_numa_release(&c, eb);
    assert_int_equal(c.numa_specs.used, 0);
    kn_cluster_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timestamps_read_as_strptime_reads_them),
        cmocka_unit_test(test_numa_specs_are_shared),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
