/* ports.c - the host ports in use on a node, counted (see kn_portset in
 * cluster.h).
 *
 * Linear probing with backward-shift deletion, so a node whose pods come and
 * go with ever new ports keeps a table as large as what is in use now, not
 * as all it ever held. Every (hostIP, protocol, port) taken also counts
 * under (every address, protocol, port): a pod asking for 0.0.0.0 conflicts
 * with any address's use, and that is one lookup. */
#include "scheduler/cache/cluster.h"

#include <stdlib.h>
#include <string.h>

#include "base/siphash.h"

static uint64_t hash_of(const char *ip, const char *protocol, int32_t port)
{
    /* port, protocol and address as one byte string; the NULs keep it unambiguous */
    char buf[sizeof(int32_t) + sizeof(((kn_host_port *)0)->protocol) + sizeof(((kn_host_port *)0)->ip)];
    size_t lp = strlen(protocol), li = strlen(ip);
    memcpy(buf, &port, sizeof(port));
    memcpy(buf + sizeof(port), protocol, lp + 1);
    memcpy(buf + sizeof(port) + lp + 1, ip, li + 1);
    return kn_keyhash(buf, sizeof(port) + lp + li + 2);
}

static bool same(const kn_host_port *k, const char *ip, const char *protocol, int32_t port)
{
    return k->port == port && strcmp(k->protocol, protocol) == 0 && strcmp(k->ip, ip) == 0;
}

/* The slot holding the key, or the empty slot where it would go. */
static size_t find(const kn_portset *s, const char *ip, const char *protocol, int32_t port)
{
    size_t mask = s->cap - 1, i = (size_t)hash_of(ip, protocol, port) & mask;
    while (s->slots[i].count != 0 && !same(&s->slots[i].key, ip, protocol, port))
        i = (i + 1) & mask;
    return i;
}

static int rehash(kn_portset *s, size_t cap)
{
    kn_port_use *old = s->slots;
    size_t old_cap = s->cap;
    kn_port_use *slots = calloc(cap, sizeof(*slots));
    if (slots == NULL)
        return -1;
    s->slots = slots;
    s->cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].count != 0)
            s->slots[find(s, old[i].key.ip, old[i].key.protocol, old[i].key.port)] = old[i];
    free(old);
    return 0;
}

/* Removes slot i and moves later members of its run back into the hole. */
static void delete_at(kn_portset *s, size_t i)
{
    size_t mask = s->cap - 1, j = i;
    s->used--;
    for (;;) {
        s->slots[i].count = 0;
        for (;;) {
            j = (j + 1) & mask;
            if (s->slots[j].count == 0)
                return;
            const kn_host_port *k = &s->slots[j].key;
            size_t home = (size_t)hash_of(k->ip, k->protocol, k->port) & mask;
            /* j may move to i unless its home lies cyclically in (i, j] */
            if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
                break;
        }
        s->slots[i] = s->slots[j];
        i = j;
    }
}

static void add_one(kn_portset *s, const char *ip, const char *protocol, int32_t port, int delta)
{
    if (delta > 0 && (s->used + 1) * 4 > s->cap * 3 && rehash(s, s->cap ? s->cap * 2 : 8) != 0 &&
        s->used + 1 >= s->cap)
        return; /* out of memory and full: the use goes uncounted rather than crash */
    if (s->cap == 0)
        return;
    size_t i = find(s, ip, protocol, port);
    if (s->slots[i].count == 0) {
        if (delta <= 0)
            return; /* never counted (see above) */
        kn_port_use *u = &s->slots[i];
        u->key.port = port;
        strcpy(u->key.protocol, protocol);
        strcpy(u->key.ip, ip);
        s->used++;
    }
    s->slots[i].count += delta;
    if (s->slots[i].count <= 0)
        delete_at(s, i);
}

void kn_portset_add(kn_portset *s, const kn_host_port *p, int delta)
{
    add_one(s, p->ip, p->protocol, p->port, delta);
    add_one(s, "", p->protocol, p->port, delta);
}

int32_t kn_portset_count(const kn_portset *s, const char *ip, const char *protocol, int32_t port)
{
    if (s->used == 0)
        return 0;
    return s->slots[find(s, ip, protocol, port)].count;
}

void kn_portset_free(kn_portset *s)
{
    free(s->slots);
    memset(s, 0, sizeof(*s));
}
