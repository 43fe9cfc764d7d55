/* fuzz_quantity.c - Kubernetes quantities (kn_quantity_milli, kn_quantity_value)
 * and their canonical text (kn_quantity_format_*).
 *
 * Invariants: parsing never crashes and a failure says why; a value parsed
 * formats to text that parses back to the same value (cpu in milli, memory in
 * units); for non-negative quantities the unit value is the milli value
 * rounded up (ceil(ceil(1000x)/1000) == ceil(x)); formatting any int64 works
 * and reparses (the extremes included). */
#include <inttypes.h>

#include "fuzz.h"
#include "kube/quantity.h"

typedef int (*parse_fn)(const char *, int64_t *, kn_err *);
typedef int (*format_fn)(int64_t, char *, size_t);

/* format(v) parses back to v (cpu in milli with the milli pair, units with the value pair). */
static void round_trip(int64_t v, format_fn format, parse_fn parse, const char *what)
{
    char buf[64];
    KN_FUZZ_CHECK(format(v, buf, sizeof(buf)) > 0);
    int64_t back = 0;
    kn_err err = {{0}};
    int rc = parse(buf, &back, &err);
    if (rc != 0 || back != v)
        fprintf(stderr, "%s %" PRId64 " -> \"%s\" -> %" PRId64 " (%s)\n", what, v, buf, back, err.msg);
    KN_FUZZ_CHECK(rc == 0 && back == v);
}

static void round_trip_milli(int64_t m)
{
    round_trip(m, kn_quantity_format_milli, kn_quantity_milli, "milli");
}

static void round_trip_value(int64_t v)
{
    round_trip(v, kn_quantity_format_value, kn_quantity_value, "value");
}

int kn_fuzz_quantity(const uint8_t *data, size_t size)
{
    char *s = kn_fuzz_cstr(data, size, 256);
    int64_t milli = 0, value = 0;
    kn_err e1 = {{0}}, e2 = {{0}};
    int mok = kn_quantity_milli(s, &milli, &e1) == 0;
    int vok = kn_quantity_value(s, &value, &e2) == 0;
    KN_FUZZ_CHECK(mok || e1.msg[0] != '\0');
    KN_FUZZ_CHECK(vok || e2.msg[0] != '\0');
    if (mok)
        round_trip_milli(milli);
    if (vok)
        round_trip_value(value);
    if (mok && vok && milli >= 0) {
        int64_t up = milli / 1000 + (milli % 1000 != 0);
        if (up != value)
            fprintf(stderr, "\"%s\": milli %" PRId64 " but value %" PRId64 "\n", s, milli, value);
        KN_FUZZ_CHECK(up == value);
    }
    /* The raw bytes as numbers: formatting every int64 must round-trip. */
    if (size >= 8) {
        int64_t raw;
        memcpy(&raw, data, sizeof(raw));
        round_trip_milli(raw);
        round_trip_value(raw);
    }
    free(s);
    return 0;
}

KN_FUZZ_TARGET(kn_fuzz_quantity)
