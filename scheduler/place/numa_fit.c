/* numa_fit.c - which NUMA zones a pod gets on a node, per its policy.
 *
 *  single-numa  every listed resource from one zone, else the node is filtered out;
 *  restricted   from k zones, k = the fewest zones whose allocatable could ever
 *               hold the request on this node; needing more filters the node;
 *  isolated     one zone nobody else uses (no placement of ours, nothing used
 *               per its NodeResourceTopology), kept exclusive to the pod;
 *  best-effort  the fewest zones that fit now if any, else the node without zones.
 * Only the resources listed in numa.scheduling.kubenexus.io/resources (and
 * requested) are counted in zones. Zone sets are enumerated as bitmasks
 * (at most 2^8 per node); among sets of the same size the tightest wins
 * (least room left over), then the lowest zone numbers. */
#include "scheduler/place/place.h"

#include <stdio.h>
#include <string.h>

typedef kn_numa_req numa_req;

static bool zone_usable(const kn_zone *z, int owner)
{
    return z->exclusive < 0 || z->exclusive == owner;
}

/* Nobody uses it: no placement of ours, and the report shows it untouched. */
static bool zone_idle(const kn_zone *z, const numa_req *q)
{
    if (z->users > 0 || z->exclusive >= 0)
        return false;
    for (int i = 0; z->has_avail && i < q->n; i++)
        if (z->avail.v[q->idx[i]] < z->alloc.v[q->idx[i]])
            return false;
    return true;
}

/* Sum of free (now=true) or allocatable room over the mask; true if it holds q.
 * *slack gets the leftover fraction summed over resources (tightness). */
static bool mask_holds(const kn_node *n, unsigned mask, const numa_req *q, bool now, int owner, double *slack)
{
    double s = 0;
    for (int i = 0; i < q->n; i++) {
        int r = q->idx[i];
        int64_t sum = 0, alloc = 0;
        for (unsigned left = mask; left; left &= left - 1) {
            const kn_zone *zz = &n->zones[__builtin_ctz(left)];
            if (now && !zone_usable(zz, owner))
                return false;
            int64_t f = now ? kn_zone_free(zz, r) : zz->alloc.v[r];
            sum += f > 0 ? f : 0;
            alloc += zz->alloc.v[r];
        }
        if (sum < q->amt[i])
            return false;
        if (alloc > 0)
            s += (double)(sum - q->amt[i]) / (double)alloc;
    }
    if (slack)
        *slack = s;
    return true;
}

/* Next mask after m with the same number of bits (Gosper's hack); masks of
 * k bits are visited in increasing order. */
static unsigned next_same_bits(unsigned m)
{
    unsigned c = m & -m, r = m + c;
    return (((r ^ m) >> 2) / c) | r;
}

/* mask_holds for one zone, now (the single-zone policies ask it of every
 * zone of every node they rank): the same sums in the same order, without
 * the walk over mask bits. */
static bool zone_holds(const kn_zone *z, const numa_req *q, int owner, double *slack)
{
    if (!zone_usable(z, owner))
        return false;
    double s = 0;
    for (int i = 0; i < q->n; i++) {
        int r = q->idx[i];
        int64_t f = kn_zone_free(z, r), alloc = z->alloc.v[r];
        int64_t sum = f > 0 ? f : 0;
        if (sum < q->amt[i])
            return false;
        if (alloc > 0)
            s += (double)(sum - q->amt[i]) / (double)alloc;
    }
    *slack = s;
    return true;
}

/* best_mask for one zone: the zones in order, the first of the tightest
 * wins (as over the one-bit masks, without Gosper's division per step). */
static unsigned best_zone(const kn_node *n, const numa_req *q, int owner, bool isolated, double *slack_out)
{
    int best = -1;
    double best_slack = 0;
    for (int z = 0; z < n->n_zones; z++) {
        const kn_zone *zz = &n->zones[z];
        double slack;
        if ((isolated && !zone_idle(zz, q)) || !zone_holds(zz, q, owner, &slack))
            continue;
        bool better = best < 0 || slack < best_slack;
        best = better ? z : best;
        best_slack = better ? slack : best_slack;
    }
    if (slack_out)
        *slack_out = best_slack;
    return best < 0 ? 0 : 1u << best;
}

/* Best mask of exactly k zones that holds q now; 0 if none. */
static unsigned best_mask(const kn_node *n, int k, const numa_req *q, int owner, bool isolated, double *slack_out)
{
    if (k == 1)
        return best_zone(n, q, owner, isolated, slack_out);
    unsigned best = 0;
    double best_slack = 0;
    for (unsigned m = (1u << k) - 1; m < (1u << n->n_zones); m = next_same_bits(m)) {
        double slack;
        if (!mask_holds(n, m, q, true, owner, &slack))
            continue;
        if (best == 0 || slack < best_slack) {
            best = m;
            best_slack = slack;
        }
    }
    if (slack_out)
        *slack_out = best_slack;
    return best;
}

static void fill_choice(const kn_node *n, unsigned mask, const numa_req *q, kn_choice *ch)
{
    ch->n_zones = 0;
    memset(ch->ztake, 0, sizeof(ch->ztake));
    for (int z = 0; z < n->n_zones; z++)
        if (mask & (1u << z))
            ch->zone[ch->n_zones++] = (uint8_t)z;
    for (int i = 0; i < q->n; i++) {
        int64_t left = q->amt[i];
        for (int j = 0; j < ch->n_zones && left > 0; j++) {
            int64_t f = kn_zone_free(&n->zones[ch->zone[j]], q->idx[i]);
            int64_t t = f <= 0 ? 0 : (f < left ? f : left);
            ch->ztake[j].v[q->idx[i]] = t;
            left -= t;
        }
    }
}

/* d NULL: the caller only ranks, the reason is not wanted (snprintf per node). */
static void fail(kn_diag *d, const char *what, kn_numa_policy p)
{
    if (d == NULL)
        return;
    char r[KN_REASON_MAX];
    snprintf(r, sizeof(r), "node(s) %s (%s)", what, kn_numa_policy_name(p));
    kn_diag_add(d, r);
}

void kn_numa_req_of(const kn_want *w, kn_numa_req *q)
{
    q->n = 0;
    for (int i = 0; w->numa && i < w->numa->n_resources; i++) {
        int r = w->numa_idx[i];
        if (r >= 0 && w->req->v[r] > 0) {
            q->idx[q->n] = r;
            q->amt[q->n++] = w->req->v[r];
        }
    }
}

/* The zones a pod's policy picks on n (*mask, 0: none) and the NUMA quality
 * of the pick (*score, 0..100); false when the policy filters the node out.
 * q: kn_numa_req_of(w). */
static bool decide(const kn_node *n, const kn_want *w, const numa_req *q, unsigned *mask, double *score,
                   kn_diag *d)
{
    *mask = 0;
    *score = 0;
    kn_numa_policy p = w->numa ? w->numa->policy : KN_NUMA_NONE;
    if (p == KN_NUMA_NONE)
        return true;
    if (q->n == 0) { /* nothing to align */
        *score = 100;
        return true;
    }
    if (n->n_zones == 0) {
        if (p == KN_NUMA_BEST_EFFORT)
            return true;
        fail(d, "didn't report NUMA topology", p);
        return false;
    }
    unsigned m = 0;
    double slack = 0;
    int k = 1;
    switch (p) {
    case KN_NUMA_SINGLE:
        m = best_mask(n, 1, q, w->owner, false, &slack);
        if (!m)
            fail(d, "didn't have a NUMA zone that fits", p);
        break;
    case KN_NUMA_ISOLATED:
        m = best_mask(n, 1, q, w->owner, true, &slack);
        if (!m)
            fail(d, "didn't have a free NUMA zone to isolate the pod", p);
        break;
    case KN_NUMA_RESTRICTED:
        for (k = 1; k <= n->n_zones; k++) { /* the fewest zones that could ever hold it */
            bool ever = false;
            for (unsigned mm = (1u << k) - 1; mm < (1u << n->n_zones) && !ever; mm = next_same_bits(mm))
                ever = mask_holds(n, mm, q, false, w->owner, NULL);
            if (ever)
                break;
        }
        if (k <= n->n_zones)
            m = best_mask(n, k, q, w->owner, false, &slack);
        if (!m)
            fail(d, "couldn't fit the request in the fewest NUMA zones that can hold it", p);
        break;
    default: /* best-effort */
        for (k = 1; k <= n->n_zones && !m; k++)
            m = best_mask(n, k, q, w->owner, false, &slack);
        if (!m)
            return true; /* fits the node, just not aligned */
        break;
    }
    if (!m)
        return false;
    *mask = m;
    /* quality: fewer zones first, then a tighter fit (see score.c) */
    int used = __builtin_popcount(m);
    double align = n->n_zones > 1 ? 100.0 * (n->n_zones - used) / (n->n_zones - 1) : 100.0;
    double tight = 100.0 * (1.0 - slack / q->n);
    if (tight < 0)
        tight = 0;
    *score = (2 * align + tight) / 3;
    return true;
}

bool kn_numa_fit(const kn_node *n, const kn_want *w, kn_choice *ch, kn_diag *d)
{
    ch->n_zones = 0;
    ch->exclusive = false;
    numa_req q;
    unsigned mask;
    kn_numa_req_of(w, &q);
    if (!decide(n, w, &q, &mask, &ch->numa_score, d))
        return false;
    if (mask) {
        fill_choice(n, mask, &q, ch);
        ch->exclusive = w->numa->policy == KN_NUMA_ISOLATED;
    }
    return true;
}

bool kn_numa_score(const kn_node *n, const kn_want *w, const kn_numa_req *q, double *score)
{
    unsigned mask;
    return decide(n, w, q, &mask, score, NULL);
}
