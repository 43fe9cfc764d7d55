/* quantity.c - Kubernetes quantities, parsed and converted exactly.
 *
 * The grammar is apimachinery's (resource/quantity.go parseQuantityString and
 * the suffixer), with one deliberate difference: apimachinery reads a string
 * with no digits at all ("-", ".", "Mi") as zero; here that is an error,
 * because nobody means zero by it.
 *
 * A quantity is held as an exact rational: its significant decimal digits D,
 * a power of ten and a power of two (binary suffixes), so that "0.1" is exactly
 * one tenth and conversion never touches floating point. Rounding follows
 * Quantity.ScaledValue for the int64 representation every ordinary quantity
 * gets: the magnitude is rounded up (away from zero) and the sign applied, so
 * "0.1m" -> 1 milli and "-0.5" -> -1. Magnitudes above INT64_MAX are an error
 * (apimachinery silently caps them at INT64_MAX). */
#include "kube/quantity.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/quote.h"

typedef unsigned __int128 u128;

/* A parsed quantity: value = sign * digits * 10^exp10 * 2^exp2. */
typedef struct {
    bool neg;
    const char *digits; /* significant digits, no leading zeros (may span a '.') */
    size_t ndigits;     /* characters from digits, including one '.' if spanned */
    long exp10;
    int exp2;
} kn_qparts;

static const char SUFFIX_HELP[] =
    "want a number with an optional suffix (Ki, Mi, Gi, Ti, Pi, Ei, n, u, m, k, M, G, T, P, E) "
    "or exponent (e3)";

/* Exponents are saturated here (far beyond any input size, so no value
 * changes): any non-zero number overflows above it and rounds up to one unit
 * below its negative. */
#define KN_EXP_CAP 1000000000000L

static int bad(const char *s, kn_err *err)
{
    char q[96];
    return kn_err_set(err, "quantity %s is not valid: %s", kn_quote(s, q, sizeof(q)), SUFFIX_HELP);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Decimal and binary suffixes; an exponent suffix is handled separately. */
static int parse_suffix(const char *s, long *exp10, int *exp2)
{
    static const struct {
        const char *name;
        int exp10, exp2;
    } tab[] = {
        {"", 0, 0},    {"n", -9, 0},  {"u", -6, 0},  {"m", -3, 0},  {"k", 3, 0},   {"M", 6, 0},
        {"G", 9, 0},   {"T", 12, 0},  {"P", 15, 0},  {"E", 18, 0},  {"Ki", 0, 10}, {"Mi", 0, 20},
        {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50}, {"Ei", 0, 60},
    };
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
        if (strcmp(s, tab[i].name) == 0) {
            *exp10 += tab[i].exp10;
            *exp2 = tab[i].exp2;
            return 0;
        }
    }
    /* e3, E-3, e+03: as strconv.ParseInt reads what follows the 'e'. */
    if (s[0] != 'e' && s[0] != 'E')
        return -1;
    const char *p = s + 1;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (!is_digit(*p))
        return -1;
    long e = 0;
    for (; is_digit(*p); p++)
        if (e < KN_EXP_CAP)
            e = e * 10 + (*p - '0');
    if (*p != '\0')
        return -1;
    *exp10 += neg ? -e : e;
    return 0;
}

static int parse(const char *s, kn_qparts *q)
{
    memset(q, 0, sizeof(*q));
    const char *p = s;
    if (*p == '+' || *p == '-')
        q->neg = *p++ == '-';
    const char *start = p;
    while (is_digit(*p))
        p++;
    const char *int_end = p, *frac = NULL;
    if (*p == '.') {
        frac = ++p;
        while (is_digit(*p))
            p++;
    }
    size_t nint = (size_t)(int_end - start), nfrac = frac ? (size_t)(p - frac) : 0;
    if (nint + nfrac == 0)
        return -1;
    if (parse_suffix(p, &q->exp10, &q->exp2) != 0)
        return -1;
    /* Fraction digits scale the digit string down. */
    q->exp10 -= (long)nfrac;
    /* Significant digits: skip leading zeros (and the '.') and drop trailing
     * zeros into the exponent. */
    const char *d = start, *end = frac ? p : int_end;
    while (d < end && (*d == '0' || *d == '.'))
        d++;
    while (end > d && (end[-1] == '0' || end[-1] == '.')) {
        if (end[-1] == '0')
            q->exp10++; /* D/10 * 10^(exp10+1) is the same value */
        end--;
    }
    q->digits = d;
    q->ndigits = (size_t)(end - d);
    return 0;
}

/* Rounds |q| * 10^extra10 up to an integer; -1 if it exceeds what int64
 * holds for q's sign (INT64_MAX, or 2^63 for a negative quantity, so that
 * every int64 the formatters write reads back). */
static int magnitude(const kn_qparts *q, long extra10, uint64_t *out)
{
    size_t nsig = 0;
    for (size_t i = 0; i < q->ndigits; i++)
        nsig += q->digits[i] != '.';
    if (nsig == 0) {
        *out = 0;
        return 0;
    }
    long t = q->exp10 + extra10;
    if (t > KN_EXP_CAP)
        return -1;
    if (t < -KN_EXP_CAP)
        t = -KN_EXP_CAP;
    /* Split the digits into an integer part I and a fraction F of -t digits. */
    long nint = (long)nsig + t; /* digits of I (after appending t zeros if t > 0) */
    if (nint > 19)
        return -1; /* I >= 10^19 > INT64_MAX */
    u128 ipart = 0;
    size_t i = 0, seen = 0;
    for (; i < q->ndigits && (long)seen < nint; i++) {
        if (q->digits[i] == '.')
            continue;
        ipart = ipart * 10 + (u128)(q->digits[i] - '0');
        seen++;
    }
    for (long k = (long)nsig; k < nint; k++)
        ipart *= 10;
    /* F * 2^exp2 / 10^len(F): long multiplication from the right; the carry
     * out is the whole part, any non-zero digit left means round up. */
    u128 carry = 0;
    bool rest = false;
    uint64_t mult = (uint64_t)1 << q->exp2;
    for (size_t j = q->ndigits; j > i; j--) {
        if (q->digits[j - 1] == '.')
            continue;
        u128 x = (u128)(q->digits[j - 1] - '0') * mult + carry;
        rest |= x % 10 != 0;
        carry = x / 10;
    }
    /* Leading zeros of F (when -t exceeds the digits): keep dividing. */
    for (long k = (long)nsig; k < -t && carry != 0; k++) {
        rest |= carry % 10 != 0;
        carry /= 10;
    }
    u128 v = (ipart << q->exp2) + carry + (rest ? 1 : 0);
    if (v > (u128)INT64_MAX + (q->neg ? 1 : 0))
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static int convert(const char *s, long extra10, int64_t *out, kn_err *err)
{
    if (s == NULL)
        return kn_err_set(err, "quantity is missing: %s", SUFFIX_HELP);
    kn_qparts q;
    if (parse(s, &q) != 0)
        return bad(s, err);
    uint64_t m;
    if (magnitude(&q, extra10, &m) != 0) {
        char qs[96];
        kn_quote(s, qs, sizeof(qs));
        if (extra10 == 3)
            return kn_err_set(err,
                              "quantity %s is too large: at most 9223372036854775.807 "
                              "(9223372036854775807m) fits",
                              qs);
        return kn_err_set(err, "quantity %s is too large: at most 9223372036854775807 fits", qs);
    }
    /* -(int64_t)m would overflow for m == 2^63: negate in unsigned. */
    *out = q.neg ? (int64_t)(~m + 1) : (int64_t)m;
    return 0;
}

int kn_quantity_milli(const char *s, int64_t *out, kn_err *err)
{
    return convert(s, 3, out, err);
}

int kn_quantity_value(const char *s, int64_t *out, kn_err *err)
{
    return convert(s, 0, out, err);
}

/* v and its suffix ("1500m", "2Ki"), as snprintf returns: -1 (and the text
 * cut) when it does not fit. */
static int emit(char *buf, size_t cap, long long v, const char *suffix)
{
    int n = snprintf(buf, cap, "%lld%s", v, suffix);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* Decimal canonical form as Quantity.String prints DecimalSI: the mantissa
 * without trailing "000" groups and the matching suffix ("2k", "1500"). */
static int format_decimal(int64_t v, char *buf, size_t cap)
{
    static const char *const sfx[] = {"", "k", "M", "G", "T", "P", "E"};
    int i = 0;
    while (v != 0 && v % 1000 == 0 && i < 6) {
        v /= 1000;
        i++;
    }
    return emit(buf, cap, (long long)v, sfx[i]);
}

int kn_quantity_format_milli(int64_t milli, char *buf, size_t cap)
{
    if (milli % 1000 != 0)
        return emit(buf, cap, (long long)milli, "m");
    return format_decimal(milli / 1000, buf, cap);
}

int kn_quantity_format_value(int64_t v, char *buf, size_t cap)
{
    static const char *const sfx[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    /* The API server prints small BinarySI amounts in decimal form. */
    if (v > -1024 && v < 1024)
        return format_decimal(v, buf, cap);
    int i = 0;
    while (v % 1024 == 0 && i < 6) {
        v /= 1024;
        i++;
    }
    return emit(buf, cap, (long long)v, sfx[i]);
}
