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
 * A result that does not fit in int64 is an overflow error, never a wrap.
 * Negative quantities parse (the API allows them in some places); callers
 * that need non-negative values check. */
#ifndef KN_QUANTITY_H
#define KN_QUANTITY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

int kn_quantity_milli(const char *s, int64_t *out, kn_err *err);
int kn_quantity_value(const char *s, int64_t *out, kn_err *err);

/* Canonical text for a milli value: "1500m", "2", "0". */
int kn_quantity_format_milli(int64_t milli, char *buf, size_t cap);
/* Canonical text for a byte/unit count: the largest binary suffix that divides
 * it exactly ("896Mi", "1Gi", "1536"), as the API server would print it. */
int kn_quantity_format_value(int64_t v, char *buf, size_t cap);

#endif
