/* resources.h - a list of resource amounts, as kube-scheduler's framework.Resource.
 *
 * cpu is held in milli-units, everything else in units (bytes for memory and
 * storage). Extended resources (nvidia.com/gpu, hugepages-2Mi, ...) go in a
 * small fixed array so the struct can be copied and compared without
 * allocation; more than KN_MAX_SCALAR distinct names is an error. */
#ifndef KN_RESOURCES_H
#define KN_RESOURCES_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "json.h"

#define KN_MAX_SCALAR 6
#define KN_RESOURCE_NAME_MAX 64

typedef struct kn_scalar {
    char name[KN_RESOURCE_NAME_MAX];
    int64_t value;
} kn_scalar;

typedef struct kn_resources {
    int64_t cpu_milli;
    int64_t memory;
    int64_t ephemeral_storage;
    int64_t pods;
    int n_scalar;
    kn_scalar scalar[KN_MAX_SCALAR];
} kn_resources;

void kn_res_zero(kn_resources *r);
/* Value of a named resource ("cpu" in milli, others in units); 0 if absent. */
int64_t kn_res_get(const kn_resources *r, const char *name);
int kn_res_set(kn_resources *r, const char *name, int64_t v, kn_err *err);
int kn_res_add(kn_resources *acc, const kn_resources *b, kn_err *err);      /* acc += b */
void kn_res_sub(kn_resources *acc, const kn_resources *b);                  /* acc -= b (names of b) */
int kn_res_max(kn_resources *acc, const kn_resources *b, kn_err *err);      /* per-name max */
/* true when every amount in req is <= the same amount in avail. When it is
 * not, *first (if non-NULL) names the first resource that does not fit. */
bool kn_res_fits(const kn_resources *req, const kn_resources *avail, const char **first);
/* Parses a ResourceList object ({"cpu":"500m","memory":"1Gi"}). Values may be
 * strings or JSON numbers. Errors name the resource: "memory: ...". */
int kn_res_from_json(const kn_json *list, kn_resources *out, kn_err *err);
/* Builds a ResourceList object with canonical quantities (for annotations). */
kn_json *kn_res_to_json(const kn_resources *r);

#endif
