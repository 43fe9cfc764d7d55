/* test_watch_decoder.c - the watch event stream decoder, fed as the API server writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "kube/client/watch_decoder.h"

typedef struct seen {
    int n;
    kn_watch_type types[16];
    char names[16][64];
} seen;

static int collect(void *ctx, kn_watch_type t, const kn_json *obj)
{
    seen *s = ctx;
    if (s->n >= 16)
        return -1;
    s->types[s->n] = t;
    const char *name = kn_json_get_str(kn_json_get(obj, "metadata"), "name");
    const char *rv = kn_json_get_str(kn_json_get(obj, "metadata"), "resourceVersion");
    snprintf(s->names[s->n], 64, "%s", name ? name : rv ? rv : "");
    s->n++;
    return 0;
}

static const char *STREAM =
    "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"a\","
    "\"namespace\":\"spark\",\"resourceVersion\":\"101\"},\"spec\":{\"schedulerName\":\"kubenexus-scheduler\"}}}\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"a\","
    "\"resourceVersion\":\"102\"},\"spec\":{\"nodeName\":\"n1\"}}}\r\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":"
    "\"150\"}}}\n"
    "{\"type\":\"DELETED\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"b\"}}}\n";

/* Every split of the stream into two chunks decodes the same four events. */
static void events_across_any_chunking(void **state)
{
    (void)state;
    size_t len = strlen(STREAM);
    for (size_t cut = 0; cut <= len; cut++) {
        seen s = {0};
        kn_watch_decoder d;
        kn_watch_decoder_init(&d, 0, collect, &s);
        assert_int_equal(kn_watch_decoder_feed(&d, STREAM, cut), 0);
        assert_int_equal(kn_watch_decoder_feed(&d, STREAM + cut, len - cut), 0);
        assert_int_equal(s.n, 4);
        assert_int_equal(s.types[0], KN_WATCH_ADDED);
        assert_int_equal(s.types[1], KN_WATCH_MODIFIED);
        assert_int_equal(s.types[2], KN_WATCH_BOOKMARK);
        assert_int_equal(s.types[3], KN_WATCH_DELETED);
        assert_string_equal(s.names[0], "a");
        assert_string_equal(s.names[2], "150");
        assert_string_equal(s.names[3], "b");
        kn_watch_decoder_free(&d);
    }
}

static void error_event_with_410_status(void **state)
{
    (void)state;
    const char *ev =
        "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
        "\"status\":\"Failure\",\"message\":\"too old resource version: 5 (90)\",\"reason\":\"Expired\","
        "\"code\":410}}\n";
    seen s = {0};
    kn_watch_decoder d;
    kn_watch_decoder_init(&d, 0, collect, &s);
    assert_int_equal(kn_watch_decoder_feed(&d, ev, strlen(ev)), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.types[0], KN_WATCH_ERROR);
    kn_watch_decoder_free(&d);
}

static void bad_streams_fail_with_a_reason(void **state)
{
    (void)state;
    seen s = {0};
    kn_watch_decoder d;
    kn_watch_decoder_init(&d, 64, collect, &s);
    char big[200];
    memset(big, 'x', sizeof big);
    assert_int_equal(kn_watch_decoder_feed(&d, big, sizeof big), -1); /* no newline, over the bound */
    assert_non_null(strstr(d.err.msg, "longer than 64 bytes"));
    kn_watch_decoder_reset(&d);
    assert_int_equal(kn_watch_decoder_feed(&d, "{\"type\":\"RENAMED\",\"object\":{}}\n", 32), -1);
    assert_non_null(strstr(d.err.msg, "unknown type \"RENAMED\""));
    kn_watch_decoder_reset(&d);
    assert_int_equal(kn_watch_decoder_feed(&d, "{\"type\":\"ADDED\"\n", 16), -1);
    assert_non_null(strstr(d.err.msg, "watch event"));
    kn_watch_decoder_reset(&d);
    assert_int_equal(kn_watch_decoder_feed(&d, "{\"type\":\"ADDED\",\"object\":7}\n", 28), -1);
    assert_non_null(strstr(d.err.msg, "without an object"));
    assert_int_equal(s.n, 0);
    kn_watch_decoder_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(events_across_any_chunking),
        cmocka_unit_test(error_event_with_410_status),
        cmocka_unit_test(bad_streams_fail_with_a_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
