/* timestamp.h - metav1.Time as the API server writes it (RFC 3339, UTC
 * "2026-11-24T10:00:00Z", fractions and offsets read too). */
#ifndef KN_TIMESTAMP_H
#define KN_TIMESTAMP_H

#include <stddef.h>

/* Seconds since the epoch; 0 if absent (NULL, "") or malformed. */
double kn_parse_rfc3339(const char *s);
/* unix_s (whole seconds) as "2026-11-24T10:00:00Z" into buf (cap >= 21). */
void kn_format_rfc3339(double unix_s, char *buf, size_t cap);

#endif
