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

#include "base/err.h"
#include "json/json.h"

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
/* Errors: a name that is not a resource name ([A-Za-z0-9._/-], at most 63
 * characters) or one extended resource more than KN_MAX_SCALAR. */
int kn_res_set(kn_resources *r, const char *name, int64_t v, kn_err *err);
/* On error (int64 overflow, too many names) acc is left unchanged. sub
 * saturates instead of failing, and drops a name acc has no room for. */
int kn_res_add(kn_resources *acc, const kn_resources *b, kn_err *err); /* acc += b */
void kn_res_sub(kn_resources *acc, const kn_resources *b);             /* acc -= b (names of b) */
int kn_res_max(kn_resources *acc, const kn_resources *b, kn_err *err); /* per-name max */
/* true when every amount in req is <= the same amount in avail (a request of
 * 0 always fits, as in kube-scheduler). When it is not, *first (if non-NULL)
 * names the first resource that does not fit (cpu, memory, ephemeral-storage,
 * pods, then extended resources), else is set to NULL. */
bool kn_res_fits(const kn_resources *req, const kn_resources *avail, const char **first);
/* Parses a ResourceList object ({"cpu":"500m","memory":"1Gi"}); NULL or null
 * is an empty list. Values may be strings or JSON numbers (read through their
 * text, as Quantity.UnmarshalJSON does). Negative amounts are kept (callers
 * that need >= 0 check). Errors name the resource: "memory: ..."; out is
 * zeroed on error. */
int kn_res_from_json(const kn_json *list, kn_resources *out, kn_err *err);
/* Builds a ResourceList object with canonical quantities (for annotations):
 * {"cpu":"1500m","memory":"896Mi"}. Zero amounts are left out. NULL on OOM. */
kn_json *kn_res_to_json(const kn_resources *r);
/* The same object written straight to w (what kn_json_dump of it gives). */
void kn_res_write_json(const kn_resources *r, kn_json_writer *w);

#endif
