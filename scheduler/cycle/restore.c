/* restore.c - executor reservations re-created after a scheduler restart.
 *
 * Reservations live in memory only. A Spark driver of ours that we first see
 * already bound (the initial list after a restart, or a new leader taking
 * over) still needs room for the executors of its gang not yet placed, or
 * another application's driver could take it and this one would never get
 * its executors. So the next cycle (not the watch: nodes and pods of the
 * initial list come in any order) re-reserves count - (members other than
 * the driver bound or assumed) slots with the same placement as a new
 * reservation, all or none, timed from the driver's binding. Pending
 * executors then take the slots as usual; bound pods are counted on their
 * nodes already. */
#include "scheduler/cycle/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Members of the gang other than the driver that hold room already. */
static int placed_executors(const kn_scheduler *s, const kn_gangrec *g, int driver)
{
    int n = 0;
    for (int m = 0; m < g->n; m++)
        n += g->members[m] != driver && s->c.pods[g->members[m]].state != KN_POD_PENDING;
    return n;
}

static bool has_live_resv(const kn_scheduler *s, const kn_cpod *p)
{
    return (p->gang >= 0 && s->gangs[p->gang].resv >= 0) || kn_resv_of_driver(s, p->uid) >= 0;
}

/* The reservation's start on our clock: the binding when the wall clock is known. */
static double resv_start(const kn_cycle *cy, const kn_cpod *p)
{
    if (cy->s->cfg.wall_at_zero > 0 && p->bound_at > 0) {
        double t = p->bound_at - cy->s->cfg.wall_at_zero;
        return t < cy->now ? t : cy->now;
    }
    return cy->now;
}

/* missing < 0: not known (the annotation is bad). */
static void warn(const kn_cycle *cy, const kn_cpod *p, int missing, const char *why)
{
    char n[32] = "the";
    if (missing >= 0)
        snprintf(n, sizeof(n), "%d", missing);
    kn_out_event(cy->out, p->ns, p->name, p->uid, "Warning", "FailedScheduling",
                 "could not re-reserve %s executor slot(s) after a scheduler restart: %s", n, why);
}

/* Places the missing slots and holds them for the driver's gang. */
static void reserve_missing(const kn_cycle *cy, int pi, const kn_resv_spec *rs, int missing, double start,
                            double timeout)
{
    kn_scheduler *s = cy->s;
    kn_cpod *p = &s->c.pods[pi];
    kn_gangrec *g = &s->gangs[p->gang];
    char msg[1024];
    kn_alloc *slots;
    if (kn_place_slots(s, p->restore, rs, missing, &slots, msg, sizeof(msg)) != 0) {
        warn(cy, p, missing, msg);
        return;
    }
    int ri = kn_resv_create(s, p->gang, p, slots, missing, rs->rel, start);
    if (ri < 0) {
        for (int i = 0; i < missing; i++) {
            kn_alloc_release(&s->c, &slots[i]);
            kn_alloc_clear(&slots[i]);
        }
        free(slots);
        warn(cy, p, missing, "out of memory");
        return;
    }
    s->resvs[ri].timeout_s = timeout;
    s->resvs[ri].restored = true;
    g->tried_gen = s->c.gen + 1; /* its pending executors may take the slots now */
    kn_out_event(cy->out, p->ns, p->name, p->uid, "Normal", "GangReserved",
                 "Re-reserved %d executor slot(s) for gang %s after a scheduler restart; held until the executors "
                 "arrive or %.0fs after the driver was bound",
                 missing, g->key, timeout);
}

/* Decides once for one bound driver: re-reserve, time out, or give up. */
static void restore_one(const kn_cycle *cy, int pi)
{
    kn_scheduler *s = cy->s;
    kn_cpod *p = &s->c.pods[pi];
    kn_resv_spec rs;
    kn_err e;
    if (p->gang < 0 || has_live_resv(s, p))
        return;
    if (p->restore->bad) {
        warn(cy, p, -1, p->restore->bad);
        return;
    }
    if (kn_resv_spec_parse(&s->c, p, p->restore, &rs, &e) != 0) {
        char why[600];
        snprintf(why, sizeof(why), "annotation %s: %s", KN_EXECUTOR_RESERVATION_ANNOTATION, e.msg);
        warn(cy, p, -1, why);
        return;
    }
    const kn_gangrec *g = &s->gangs[p->gang];
    int missing = rs.count - placed_executors(s, g, pi);
    double timeout = kn_gang_timeout(s, p, p->restore);
    double start = resv_start(cy, p);
    if (missing > 0 && cy->now >= start + timeout) {
        kn_out_event(cy->out, p->ns, p->name, p->uid, "Warning", "GangTimeout",
                     "Did not re-reserve %d executor slot(s) of gang %s after a scheduler restart: %.0fs have "
                     "passed since the driver was bound",
                     missing, g->key, timeout);
        s->resv_timeouts++;
    } else if (missing > 0)
        reserve_missing(cy, pi, &rs, missing, start, timeout);
    kn_resv_spec_free(&s->c, &rs);
}

void kn_resv_restore(const kn_cycle *cy)
{
    kn_scheduler *s = cy->s;
    for (int i = 0; i < s->c.n_pods && s->c.n_restore > 0; i++) {
        kn_cpod *p = &s->c.pods[i];
        if (!p->live || p->restore == NULL)
            continue;
        restore_one(cy, i);
        kn_cpod_restore_done(&s->c, p);
    }
}
