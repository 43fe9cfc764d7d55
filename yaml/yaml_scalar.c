/* yaml_scalar.c - plain scalars resolved with go-yaml v2's YAML 1.1 table, so
 * a manifest means here what it means to kubectl: `on` is true, `0755` is
 * 493, `"4"` is a string. */
#include "yaml/yaml_scalar.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG_PREFIX "tag:yaml.org,2002:"

static bool in_list(const char *s, size_t n, const char *const *list)
{
    for (; *list != NULL; list++)
        if (strlen(*list) == n && memcmp(*list, s, n) == 0)
            return true;
    return false;
}

static const char *const k_true[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                     "True", "TRUE", "on",  "On",  "ON",  NULL};
static const char *const k_false[] = {"n",     "N",     "no",  "No",  "NO",  "false",
                                      "False", "FALSE", "off", "Off", "OFF", NULL};
static const char *const k_null[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const k_nonfinite[] = {".nan",  ".NaN",  ".NAN",  ".inf",  ".Inf",  ".INF", "+.inf",
                                          "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", NULL};

/* Digits of s in base; false on an empty run, a bad digit or overflow. */
static bool parse_digits(const char *s, int base, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        int d;
        if (*s >= '0' && *s <= '9')
            d = *s - '0';
        else if (*s >= 'a' && *s <= 'f')
            d = *s - 'a' + 10;
        else if (*s >= 'A' && *s <= 'F')
            d = *s - 'A' + 10;
        else
            return false;
        if (d >= base || v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return false;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    *out = v;
    return true;
}

/* Go's strconv.ParseInt(s, 0, 64), falling back to ParseUint for large
 * positive values. Writes the decimal text of the value to dec. */
static bool parse_go_int(const char *s, char *dec, size_t cap)
{
    bool neg = false;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        base = 16, s += 2;
    else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
        base = 8, s += 2;
    else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
        base = 2, s += 2;
    else if (s[0] == '0' && s[1] != '\0')
        base = 8, s += 1;
    uint64_t v;
    if (!parse_digits(s, base, &v))
        return false;
    if (neg && v > (uint64_t)INT64_MAX + 1)
        return false;
    if (neg && v != 0)
        snprintf(dec, cap, "-%llu", (unsigned long long)v);
    else
        snprintf(dec, cap, "%llu", (unsigned long long)v);
    return true;
}

/* go-yaml v2's float pattern: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool yaml_float_syntax(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    size_t ip = strspn(s, "0123456789");
    s += ip;
    if (*s == '.') {
        size_t fp = strspn(s + 1, "0123456789");
        if (ip == 0 && fp == 0)
            return false;
        s += 1 + fp;
    } else if (ip == 0) {
        return false;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        size_t ep = strspn(s, "0123456789");
        if (ep == 0)
            return false;
        s += ep;
    }
    return *s == '\0';
}

/* A number node for a plain scalar, or NULL (not a number; *oom on failure). */
static kn_json *plain_number(const char *val, size_t len, bool *oom)
{
    *oom = false;
    if (len == 0 || len > 400 || strchr("0123456789+-.", val[0]) == NULL)
        return NULL;
    char s[401], dec[32];
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (val[i] != '_') /* go-yaml drops separators before parsing */
            s[n++] = val[i];
    s[n] = '\0';
    if (memchr(s, '\0', n) != NULL)
        return NULL;
    bool exact = n == len && kn_json_number_text_valid(val, len);
    kn_json *v = NULL;
    if (parse_go_int(s, dec, sizeof(dec)))
        v = exact ? kn_json_new_number(val, len) : kn_json_new_number(dec, strlen(dec));
    else if (yaml_float_syntax(s) && isfinite(strtod(s, NULL))) /* go-yaml: out of range stays a string */
        v = exact ? kn_json_new_number(val, len) : kn_json_new_double(strtod(s, NULL));
    else
        return NULL;
    *oom = v == NULL;
    return v;
}

bool kn_yaml_is_merge_key(const char *tag, const char *val, size_t len, bool plain)
{
    if (tag != NULL && strcmp(tag, TAG_PREFIX "merge") == 0)
        return true;
    return tag == NULL && plain && len == 2 && memcmp(val, "<<", 2) == 0;
}

static kn_json *or_oom(kn_json *v, kn_err *err)
{
    if (v == NULL)
        kn_err_set(err, "out of memory");
    return v;
}

static kn_json *implicit(const char *val, size_t len, kn_err *err)
{
    if (in_list(val, len, k_true))
        return or_oom(kn_json_new_bool(true), err);
    if (in_list(val, len, k_false))
        return or_oom(kn_json_new_bool(false), err);
    if (in_list(val, len, k_null))
        return or_oom(kn_json_new_null(), err);
    if (in_list(val, len, k_nonfinite)) {
        kn_err_set(err, "%.*s is not a number JSON can hold (quote it to make it a string)", (int)len, val);
        return NULL;
    }
    bool no_mem;
    kn_json *num = plain_number(val, len, &no_mem);
    if (num != NULL)
        return num;
    if (no_mem)
        return or_oom(NULL, err);
    return or_oom(kn_json_new_stringn(val, len), err);
}

kn_json *kn_yaml_scalar(const char *tag, const char *val, size_t len, bool plain, kn_err *err)
{
    if (tag == NULL || strcmp(tag, "!") == 0)
        return plain && tag == NULL ? implicit(val, len, err) : (or_oom(kn_json_new_stringn(val, len), err));
    if (strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) != 0)
        return or_oom(kn_json_new_stringn(val, len), err); /* unknown local tag */
    const char *t = tag + strlen(TAG_PREFIX);
    if (strcmp(t, "null") == 0)
        return or_oom(kn_json_new_null(), err);
    if (strcmp(t, "bool") != 0 && strcmp(t, "int") != 0 && strcmp(t, "float") != 0)
        return or_oom(kn_json_new_stringn(val, len), err); /* !!str, !!binary, ... */
    kn_json *v = implicit(val, len, err);
    if (v == NULL)
        return NULL;
    bool ok = strcmp(t, "bool") == 0 ? kn_json_is(v, KN_JSON_BOOL) : kn_json_is(v, KN_JSON_NUMBER);
    if (ok && strcmp(t, "int") == 0)
        ok = kn_json_int(v, NULL) == 0 || strpbrk(kn_json_number_text(v), ".eE") == NULL;
    if (!ok) {
        kn_json_free(v);
        kn_err_set(err, "\"%.*s\" is not a valid !!%s", (int)(len > 64 ? 64 : len), val, t);
        return NULL;
    }
    return v;
}
