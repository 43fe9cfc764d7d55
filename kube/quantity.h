/* quantity.h - Kubernetes resource quantities, as k8s.io/apimachinery parses them.
 *
 * Grammar: <sign><digits>[.<digits>][<suffix>] where suffix is a binary SI
 * suffix (Ki Mi Gi Ti Pi Ei), a decimal SI suffix (n u m "" k M G T P E) or a
 * decimal exponent (e3, E-3). Anything else ("1.5.3", "10 Mi", "4GB", "",
 * "1e", "Mi") is rejected with a message that quotes the input.
 *
 * Values are converted the way the API server and kube-scheduler use them:
 *  - kn_quantity_milli(): milli-units rounded UP (Quantity.MilliValue): cpu.
 *    "0.1" -> 100, "100m" -> 100, "1e-4" -> 1, "1" -> 1000.
 *  - kn_quantity_value(): units rounded UP (Quantity.Value): memory, storage,
 *    extended resources, pods. "512m" -> 1 (!), "100Mi" -> 104857600,
 *    "100M" -> 100000000, "1e3" -> 1000.
 * Conversion is exact (no floating point): "0.30000000000000004" -> 301m.
 * A result that does not fit in int64 is an overflow error, never a wrap
 * (apimachinery would cap it at INT64_MAX silently):
 *   quantity "99999Ei" is too large: at most 9223372036854775807 fits
 * Negative quantities parse (the API allows them in some places); callers
 * that need non-negative values check. Rounding is of the magnitude, away
 * from zero, as Quantity.Value does for them: "-1.5" -> -2, "-0.5m" -> -1.
 * Unlike apimachinery, a string without any digit ("-", ".", "Mi") is an
 * error rather than zero. On error *out is left unchanged. */
#ifndef KN_QUANTITY_H
#define KN_QUANTITY_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

int kn_quantity_milli(const char *s, int64_t *out, kn_err *err);
int kn_quantity_value(const char *s, int64_t *out, kn_err *err);

/* Both formatters return the length written, or -1 if cap is too small.
 * Canonical text for a milli value as Quantity.String prints DecimalSI:
 * "1500m", "2", "0", "2k" (2000 cores). */
int kn_quantity_format_milli(int64_t milli, char *buf, size_t cap);
/* Canonical text for a byte/unit count: the largest binary suffix that divides
 * it exactly ("896Mi", "1Gi", "1536"), as the API server prints BinarySI;
 * below 1024 it prints decimal form, so 1000 is "1k". */
int kn_quantity_format_value(int64_t v, char *buf, size_t cap);

#endif
