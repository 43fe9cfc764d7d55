/* topology.c - each node's domain for a topology key (see kn_keymap in relations.h).
 *
 * Domain indices are dense (0..n_dom) and given in node order, so the same
 * nodes always map the same way; a keymap is rebuilt when node labels or
 * liveness changed (c->topo_gen), and the least recently used one gives its
 * arrays up when more than KN_MAX_KEYMAPS keys are in use (its struct stays:
 * counters keep pointing at it, and it is rebuilt the same on next use). */
#include "scheduler/cache/cluster.h"

#include <stdlib.h>
#include <string.h>

static void keymap_drop(kn_keymap *km)
{
    free(km->dom);
    free(km->dom_val);
    free(km->dom_node);
    km->dom = NULL;
    km->dom_val = NULL;
    km->dom_node = NULL;
    km->topo = 0;
    km->n_dom = 0;
}

static int keymap_build(kn_cluster *c, kn_keymap *km)
{
    int n = c->n_nodes;
    keymap_drop(km);
    km->dom = malloc(sizeof(int32_t) * (size_t)(n + 1));
    km->dom_val = malloc(sizeof(uint32_t) * (size_t)(n + 1));
    km->dom_node = malloc(sizeof(int32_t) * (size_t)(n + 1));
    kn_imap by_val;
    kn_imap_init(&by_val);
    if (km->dom == NULL || km->dom_val == NULL || km->dom_node == NULL) {
        keymap_drop(km);
        return -1;
    }
    km->n_nodes = n;
    km->unique = true;
    km->n_with = km->n_live = 0;
    for (int i = 0; i < n; i++) {
        const kn_node *nd = &c->nodes[i];
        km->dom[i] = -1;
        if (!nd->live)
            continue;
        km->n_live++;
        /* key 0: the node itself (a count per node, whatever its labels) */
        uint32_t v = km->key == 0 ? (uint32_t)i + 1 : nd->lset ? kn_lset_get(nd->lset, km->key) : 0;
        if (v == 0)
            continue;
        km->n_with++;
        int32_t d = kn_imap_get(&by_val, v, -1);
        if (d < 0) {
            d = km->n_dom++;
            if (kn_imap_put(&by_val, v, d) != 0) {
                kn_imap_free(&by_val);
                keymap_drop(km);
                return -1;
            }
            km->dom_val[d] = v;
            km->dom_node[d] = i;
        } else {
            km->dom_node[d] = -1;
            km->unique = false;
        }
        km->dom[i] = d;
    }
    kn_imap_free(&by_val);
    km->topo = c->topo_gen;
    km->serial = ++c->rs.tick;
    return 0;
}

kn_keymap *kn_keymap_get(kn_cluster *c, uint32_t key)
{
    kn_relstate *rs = &c->rs;
    kn_keymap *km = NULL;
    for (int i = 0; i < rs->n_keymaps && km == NULL; i++)
        if (rs->keymaps[i]->key == key)
            km = rs->keymaps[i];
    if (km == NULL && rs->n_keymaps < KN_MAX_KEYMAPS) {
        km = calloc(1, sizeof(*km));
        if (km == NULL)
            return NULL;
        km->key = key;
        kn_dict_hold(&c->lab.dict, key);
        rs->keymaps[rs->n_keymaps++] = km;
    } else if (km == NULL) {
        /* the least recently used gives its place: its key changes, so whatever
         * was built on it is stale (topo 0 never matches) */
        km = rs->keymaps[0];
        for (int i = 1; i < rs->n_keymaps; i++)
            if (rs->keymaps[i]->last_use < km->last_use)
                km = rs->keymaps[i];
        keymap_drop(km);
        kn_dict_unref(&c->lab.dict, km->key);
        km->key = key;
        kn_dict_hold(&c->lab.dict, key);
        for (size_t i = 0; i < rs->n_counters; i++)
            if (rs->counters[i]->km == km)
                rs->counters[i]->topo = 0;
        for (size_t i = 0; i < rs->n_carried; i++)
            if (rs->carried[i]->km == km)
                rs->carried[i]->topo = 0;
    }
    km->last_use = ++rs->tick;
    if ((km->topo != c->topo_gen || km->dom == NULL || km->n_nodes != c->n_nodes) && keymap_build(c, km) != 0)
        return NULL;
    return km;
}

void kn_keymaps_free(kn_cluster *c)
{
    for (int i = 0; i < c->rs.n_keymaps; i++) {
        keymap_drop(c->rs.keymaps[i]);
        kn_dict_unref(&c->lab.dict, c->rs.keymaps[i]->key);
        free(c->rs.keymaps[i]);
    }
    c->rs.n_keymaps = 0;
}
