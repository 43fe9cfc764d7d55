/* test_leader.c - the Lease record's time format and the holder identity. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "kube/client/leader.h"

/* metav1.MicroTime as the API server writes it: RFC 3339, 6 fraction digits, Z. */
static void micro_time(void **state)
{
    (void)state;
    char buf[40];
    kn_micro_time(1795514400.25, buf, sizeof buf);
    assert_string_equal(buf, "2026-11-24T10:00:00.250000Z");
    kn_micro_time(0.0000005, buf, sizeof buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.000000Z");
    kn_micro_time(1795514400.75, buf, sizeof buf);
    assert_string_equal(buf, "2026-11-24T10:00:00.750000Z");
}

static void identity_is_hostname_and_random(void **state)
{
    (void)state;
    char host[64] = "", a[128], b[128];
    gethostname(host, sizeof host - 1);
    kn_leader_identity(a, sizeof a);
    kn_leader_identity(b, sizeof b);
    assert_int_equal(strncmp(a, host, strlen(host)), 0);
    assert_int_equal(a[strlen(host)], '_');
    assert_int_equal(strlen(a), strlen(host) + 9);
    assert_string_not_equal(a, b); /* two replicas on one host differ */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(micro_time),
        cmocka_unit_test(identity_is_hostname_and_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
