/* kind.c - the kind of a pod, the one key of every placement cache (see place.h). */
#include "scheduler/place/place.h"

#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/siphash.h"

bool kn_pod_kind_of(const kn_want *w, kn_pod_kind *k)
{
    memset(k, 0, sizeof(*k));
    if (w->sig == NULL)
        return false;
    k->sig = w->sig;
    k->req = *w->req;
    if (w->numa != NULL) { /* only what the policy uses: equal specs compare equal */
        k->numa.policy = w->numa->policy;
        k->numa.n_resources = w->numa->n_resources;
        for (int i = 0; i < w->numa->n_resources && i < KN_NUMA_MAX_RESOURCES; i++)
            strcpy(k->numa.resources[i], w->numa->resources[i]);
    }
    k->binpack = w->binpack;
    k->unfit = w->unfit_name != NULL;
    /* The signature, a pod's own text, goes through the keyed hash: pods
     * cannot be made to share a hash and send every lookup through every
     * kind's signature. */
    uint64_t h = kn_keyhash_str(k->sig);
    for (int r = 0; r < KN_RDIM; r++)
        h = kn_fnv1a_step(h, (uint64_t)k->req.v[r]);
    h = kn_fnv1a_step(h, (uint64_t)k->numa.policy);
    h = kn_fnv1a_step(h, (uint64_t)k->numa.n_resources);
    h = kn_fnv1a_step(h, (uint64_t)k->binpack);
    k->hash = kn_fnv1a_step(h, (uint64_t)k->unfit);
    return true;
}

bool kn_pod_kind_eq(const kn_pod_kind *a, const kn_pod_kind *b)
{
    return a->hash == b->hash && a->binpack == b->binpack && a->unfit == b->unfit &&
           memcmp(&a->req, &b->req, sizeof(a->req)) == 0 && memcmp(&a->numa, &b->numa, sizeof(a->numa)) == 0 &&
           a->sig != NULL && b->sig != NULL && strcmp(a->sig, b->sig) == 0;
}

int kn_pod_kind_keep(kn_pod_kind *dst, const kn_pod_kind *src)
{
    *dst = *src;
    if (src->sig != NULL && (dst->sig = strdup(src->sig)) == NULL) {
        memset(dst, 0, sizeof(*dst));
        return -1;
    }
    return 0;
}

void kn_pod_kind_drop(kn_pod_kind *k)
{
    free((char *)k->sig); /* kept: the copy is this kind's own */
    memset(k, 0, sizeof(*k));
}
