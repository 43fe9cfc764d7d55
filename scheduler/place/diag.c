/* diag.c - why nodes failed a pod, counted per reason, and kube-scheduler's
 * FitError message made of them (see place.h). */
#include "scheduler/place/place.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kn_diag_init(kn_diag *d)
{
    d->n_nodes = 0;
    d->n = 0;
    memset(d->insufficient, 0, sizeof(d->insufficient));
}

int kn_diag_add(kn_diag *d, const char *reason)
{
    for (int i = 0; i < d->n; i++)
        if (strcmp(d->r[i].reason, reason) == 0) {
            d->r[i].count++;
            return i;
        }
    if (d->n == KN_DIAG_MAX)
        return -1;
    snprintf(d->r[d->n].reason, KN_REASON_MAX, "%s", reason);
    d->r[d->n].count = 1;
    return d->n++;
}

void kn_diag_add_insufficient(kn_diag *d, const kn_cluster *c, int r)
{
    int at = d->insufficient[r] - 1;
    if (at >= 0) {
        d->r[at].count++;
        return;
    }
    char reason[KN_REASON_MAX];
    snprintf(reason, sizeof(reason), "Insufficient %s", c->res_names[r]);
    if ((at = kn_diag_add(d, reason)) >= 0)
        d->insufficient[r] = (int8_t)(at + 1);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void kn_diag_message(const kn_diag *d, char *buf, size_t cap)
{
    if (d->n_nodes == 0) {
        snprintf(buf, cap, "no nodes available to schedule pods");
        return;
    }
    char items[KN_DIAG_MAX][KN_REASON_MAX + 16];
    char *sorted[KN_DIAG_MAX];
    for (int i = 0; i < d->n; i++) {
        snprintf(items[i], sizeof(items[i]), "%d %s", d->r[i].count, d->r[i].reason);
        sorted[i] = items[i];
    }
    qsort(sorted, (size_t)d->n, sizeof(char *), cmp_str); /* as kube-scheduler: sort.Strings */
    size_t off = (size_t)snprintf(buf, cap, "0/%d nodes are available:", d->n_nodes);
    for (int i = 0; i < d->n && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%s", i ? ", " : " ", sorted[i]);
    if (off < cap)
        snprintf(buf + off, cap - off, ".");
}
