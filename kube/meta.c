#include "kube/meta.h"

#include <string.h>

#include "base/quote.h"

int kn_meta_str(const kn_json *map, const char *what, const char *key, const char **out, kn_err *err)
{
    const kn_json *v = kn_json_get(map, key);
    *out = NULL;
    if (v == NULL)
        return 0;
    if (!kn_json_is(v, KN_JSON_STRING)) {
        const char *t = kn_json_type_name(kn_json_typeof(v));
        return kn_err_set(err, "%s %s is %s %s, want a string", what, key, kn_article(t), t);
    }
    if (strlen(kn_json_str(v)) != kn_json_strlen(v))
        return kn_err_set(err, "%s %s contains a NUL byte", what, key);
    *out = kn_json_str(v);
    return 0;
}

int kn_meta_check_map(const kn_json *map, const char *field, kn_err *err)
{
    if (map == NULL || kn_json_is(map, KN_JSON_OBJECT))
        return 0;
    const char *t = kn_json_type_name(kn_json_typeof(map));
    return kn_err_set(err, "%s is %s %s, want an object", field, kn_article(t), t);
}

/* One label of a subdomain. */
static bool dns_label_ok(const char *s, size_t n)
{
    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

bool kn_dns_subdomain_valid(const char *s, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    for (const char *p = s, *end = s + n; p <= end;) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        const char *stop = dot ? dot : end;
        if (!dns_label_ok(p, (size_t)(stop - p)))
            return false;
        if (dot == NULL)
            break;
        p = dot + 1;
    }
    return true;
}
