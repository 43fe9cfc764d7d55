/* volume_zone.c - VolumeZone: a pod mounting a bound PersistentVolume
 * (persistentVolumeClaim volumes; generic ephemeral ones are not looked at,
 * as in kube-scheduler) goes to a node in the volume's zone and region: each
 * of the volume's labels topology.kubernetes.io/zone and /region and the
 * legacy failure-domain.beta.kubernetes.io/zone and /region must hold the
 * node's value (the node's GA label answers for a legacy one); a value may
 * list zones joined by "__". A node with none of the four labels takes any
 * volume (a single-zone cluster). */
#include "scheduler/place/volumes.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *const topology_labels[] = {
    "failure-domain.beta.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region",
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
};

static const char *ga_label(const char *key)
{
    if (strcmp(key, topology_labels[0]) == 0)
        return topology_labels[2];
    if (strcmp(key, topology_labels[1]) == 0)
        return topology_labels[3];
    return key;
}

/* Whether value is among the zones of a label "a__b__c" (LabelZonesToSet:
 * parts trimmed of spaces); *valid false when a part is empty (then
 * kube-scheduler ignores the label). */
static bool in_zones(const char *zones, const char *value, bool *valid)
{
    size_t vl = value ? strlen(value) : 0;
    bool found = false;
    const char *p = zones;
    *valid = true;
    for (;;) {
        const char *end = strstr(p, "__");
        const char *b = p, *e = end ? end : p + strlen(p);
        while (b < e && isspace((unsigned char)*b))
            b++;
        while (e > b && isspace((unsigned char)e[-1]))
            e--;
        if (e == b)
            *valid = false;
        if (value && (size_t)(e - b) == vl && strncmp(b, value, vl) == 0)
            found = true;
        if (end == NULL)
            return found;
        p = end + 2;
    }
}

int kn_vz_prefilter(const kn_cluster *c, const kn_cpod *p, kn_vol_want *v, char *msg, size_t cap)
{
    (void)p;
    int n = 0;
    for (int i = 0; i < v->n; i++) {
        const kn_vclaim *cl = &v->cl[i];
        if (!cl->direct || cl->pvc->volume_name == NULL)
            continue; /* not bound: WaitForFirstConsumer (anything else failed VolumeBinding first) */
        const kn_pv *pv = kn_vols_pv(c, cl->pvc->volume_name);
        if (pv == NULL) {
            snprintf(msg, cap, "persistentvolume \"%s\" not found", cl->pvc->volume_name);
            return 1;
        }
        for (int k = 0; k < 4; k++) {
            const char *val = kn_json_get_str(pv->labels, topology_labels[k]);
            bool valid;
            in_zones(val ? val : "", NULL, &valid);
            if (val != NULL && valid && n < 4 * v->n)
                v->zone[n++] = (kn_vzone){topology_labels[k], val};
        }
    }
    v->n_zone = n;
    return 0;
}

bool kn_vz_fits(const kn_node *n, const kn_vol_want *v)
{
    if (v->n_zone == 0)
        return true;
    bool constrained = false;
    for (int k = 0; k < 4 && !constrained; k++)
        constrained = kn_json_get_str(n->labels, topology_labels[k]) != NULL;
    if (!constrained)
        return true;
    for (int i = 0; i < v->n_zone; i++) {
        const char *have = kn_json_get_str(n->labels, v->zone[i].key);
        if (have == NULL)
            have = kn_json_get_str(n->labels, ga_label(v->zone[i].key));
        bool valid;
        if (have == NULL || !in_zones(v->zone[i].values, have, &valid))
            return false;
    }
    return true;
}
