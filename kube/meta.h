/* meta.h - reading kubenexus' own labels and annotations off an object.
 *
 * Labels and annotations are string maps, but the webhook sees them before the
 * API server validates them, so a value may be a number, an object or hold a
 * NUL byte. These helpers turn that into a message naming the key:
 *   "label pod-group.scheduling.kubenexus.io/min-available is a number, want a string". */
#ifndef KN_META_H
#define KN_META_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "json/json.h"

/* map: an object or NULL. what: "label" or "annotation". *out is the value,
 * NULL when absent; -1 with a message when it is not a plain string. */
int kn_meta_str(const kn_json *map, const char *what, const char *key, const char **out, kn_err *err);
/* 0 if map is NULL or an object; else -1 with "<field> is a string, want an object". */
int kn_meta_check_map(const kn_json *map, const char *field, kn_err *err);
/* s[0..n) is a DNS subdomain (RFC 1123, as most object names are): at most
 * 253 characters, dot-separated labels of [a-z0-9]([-a-z0-9]*[a-z0-9])?, each
 * at most 63. */
bool kn_dns_subdomain_valid(const char *s, size_t n);

#endif
