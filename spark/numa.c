#include "spark/numa.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "kube/quantity.h"
#include "kube/meta.h"
#include "base/quote.h"

static const char *const policy_names[] = {
    [KN_NUMA_NONE] = "none",          [KN_NUMA_BEST_EFFORT] = "best-effort", [KN_NUMA_RESTRICTED] = "restricted",
    [KN_NUMA_SINGLE] = "single-numa", [KN_NUMA_ISOLATED] = "isolated",
};
#define POLICY_LIST "best-effort, restricted, single-numa, isolated"
#define RESOURCE_LIST "cpu, memory, hugepages-<size>, or a vendor resource such as nvidia.com/gpu"

const char *kn_numa_policy_name(kn_numa_policy p)
{
    if ((int)p < KN_NUMA_NONE || p > KN_NUMA_ISOLATED)
        return "none";
    return policy_names[p];
}

int kn_numa_parse_policy(const char *s, kn_numa_policy *out, kn_err *err)
{
    char q[96];
    for (int p = KN_NUMA_BEST_EFFORT; p <= KN_NUMA_ISOLATED; p++) {
        if (s != NULL && strcmp(s, policy_names[p]) == 0) {
            *out = (kn_numa_policy)p;
            return 0;
        }
    }
    for (int p = KN_NUMA_BEST_EFFORT; p <= KN_NUMA_ISOLATED; p++) {
        if (s != NULL && strcasecmp(s, policy_names[p]) == 0)
            return kn_err_set(err,
                              "%s is not a NUMA policy (names are lower-case: %s); want one "
                              "of " POLICY_LIST,
                              kn_quote(s, q, sizeof(q)), policy_names[p]);
    }
    return kn_err_set(err, "%s is not a NUMA policy; want one of " POLICY_LIST, kn_quote(s, q, sizeof(q)));
}

/* "nvidia.com/gpu": a DNS subdomain with at least one dot, '/', and a
 * qualified-name part ([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, <= 63). */
static bool extended_name_ok(const char *s)
{
    const char *slash = strchr(s, '/');
    if (slash == NULL || strchr(slash + 1, '/') != NULL)
        return false;
    /* kubernetes.io/ names are native resources, never extended ones (IsNativeResource). */
    if (strstr(s, "kubernetes.io/") != NULL)
        return false;
    size_t plen = (size_t)(slash - s);
    if (memchr(s, '.', plen) == NULL || !kn_dns_subdomain_valid(s, plen))
        return false;
    const char *name = slash + 1;
    size_t n = strlen(name);
    if (n == 0 || n > 63 || !isalnum((unsigned char)name[0]) || !isalnum((unsigned char)name[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!isalnum((unsigned char)c) && c != '-' && c != '_' && c != '.')
            return false;
    }
    return true;
}

static bool resource_name_ok(const char *s)
{
    if (strcmp(s, "cpu") == 0 || strcmp(s, "memory") == 0)
        return true;
    if (strncmp(s, "hugepages-", 10) == 0) {
        int64_t size;
        return kn_quantity_value(s + 10, &size, NULL) == 0 && size > 0;
    }
    return extended_name_ok(s);
}

/* Adds one trimmed, non-empty entry (s, n) to out, or explains why not. */
static int add_resource(kn_numa_spec *out, const char *s, size_t n, kn_err *err)
{
    char name[KN_RESOURCE_NAME_MAX], q[96];
    if (n >= sizeof(name)) {
        char longname[KN_RESOURCE_NAME_MAX * 2];
        snprintf(longname, sizeof(longname), "%.*s", (int)n, s);
        return kn_err_set(err, "%s is too long for a resource name (at most %d characters)",
                          kn_quote(longname, q, sizeof(q)), KN_RESOURCE_NAME_MAX - 1);
    }
    memcpy(name, s, n);
    name[n] = '\0';
    if (!resource_name_ok(name)) {
        const char *hint = (strcasecmp(name, "cpu") == 0 || strcasecmp(name, "memory") == 0)
                               ? " (resource names are lower-case)"
                               : "";
        return kn_err_set(err, "%s is not a resource kubenexus can align on a NUMA zone%s; want " RESOURCE_LIST,
                          kn_quote(name, q, sizeof(q)), hint);
    }
    for (int i = 0; i < out->n_resources; i++) {
        if (strcmp(out->resources[i], name) == 0)
            return kn_err_set(err, "%s is listed twice", kn_quote(name, q, sizeof(q)));
    }
    if (out->n_resources == KN_NUMA_MAX_RESOURCES)
        return kn_err_set(err, "more than %d resources are listed", KN_NUMA_MAX_RESOURCES);
    memcpy(out->resources[out->n_resources++], name, n + 1);
    return 0;
}

static int parse_resources(const char *list, kn_numa_spec *out, kn_err *err)
{
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *b = p, *e = end;
        while (b < e && isspace((unsigned char)*b))
            b++;
        while (e > b && isspace((unsigned char)e[-1]))
            e--;
        if (b == e) {
            char q[96];
            return kn_err_set(err,
                              "%s has an empty entry; want a comma-separated list such as "
                              "\"cpu,memory,nvidia.com/gpu\"",
                              kn_quote(list, q, sizeof(q)));
        }
        if (add_resource(out, b, (size_t)(e - b), err) < 0)
            return -1;
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
}

int kn_numa_from_annotations(const kn_json *annotations, kn_numa_spec *out, kn_err *err)
{
    memset(out, 0, sizeof(*out));
    if (kn_meta_check_map(annotations, "metadata.annotations", err) < 0)
        return -1;
    const char *policy, *resources;
    if (kn_meta_str(annotations, "annotation", KN_NUMA_POLICY_ANNOTATION, &policy, err) < 0 ||
        kn_meta_str(annotations, "annotation", KN_NUMA_RESOURCES_ANNOTATION, &resources, err) < 0)
        return -1;
    if (policy == NULL) {
        if (resources != NULL)
            return kn_err_set(err,
                              "annotation %s is set but %s is missing, so it would do "
                              "nothing; add %s (one of " POLICY_LIST ")",
                              KN_NUMA_RESOURCES_ANNOTATION, KN_NUMA_POLICY_ANNOTATION, KN_NUMA_POLICY_ANNOTATION);
        return 0;
    }
    kn_numa_policy p;
    if (kn_numa_parse_policy(policy, &p, err) < 0)
        return kn_err_prefix(err, "annotation %s", KN_NUMA_POLICY_ANNOTATION);
    if (resources == NULL)
        resources = "cpu,memory";
    if (parse_resources(resources, out, err) < 0) {
        memset(out, 0, sizeof(*out));
        return kn_err_prefix(err, "annotation %s", KN_NUMA_RESOURCES_ANNOTATION);
    }
    out->policy = p;
    return 0;
}

void kn_numa_resources_str(const kn_numa_spec *s, char *buf, size_t cap)
{
    if (cap == 0)
        return;
    /* The whole list cut to cap - 1 bytes, as snprintf would (memcpy: this
     * is written into every executor reservation). */
    size_t n = 0;
    for (int i = 0; i < s->n_resources && n < cap - 1; i++) {
        if (i > 0)
            buf[n++] = ',';
        size_t k = strnlen(s->resources[i], sizeof(s->resources[i]));
        if (k > cap - 1 - n)
            k = cap - 1 - n;
        memcpy(buf + n, s->resources[i], k);
        n += k;
    }
    buf[n] = '\0';
}
