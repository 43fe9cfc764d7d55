/* volume_limits.c - NodeVolumeLimits (CSI): the CSI volumes a node has
 * attached, per driver, stay within its CSINode's
 * spec.drivers[].allocatable.count. A claim counts as its bound volume's
 * driver and handle (spec.csi), or, not yet bound, as its class's
 * provisioner with a handle of its own (kn_vols_claim_attach); a volume
 * already attached to the node for another pod does not count twice. A node
 * without a CSINode, or a driver without a count, has no limit. In-tree
 * volumes are not translated to their CSI drivers (CSI migration), and a
 * Node's attachable-volumes-csi-* allocatable is not read. */
#include "scheduler/place/volumes.h"

#include <stdlib.h>
#include <string.h>

int kn_vl_prefilter(const kn_cluster *c, kn_vol_want *v)
{
    for (int i = 0; i < v->n; i++) {
        kn_vclaim *cl = &v->cl[i];
        char handle[700];
        const char *driver = kn_vols_claim_attach(c, cl->pvc, handle, sizeof(handle));
        cl->driver = driver ? kn_vols_driver((kn_cluster *)c, driver, false) : -1;
        if (cl->driver < 0)
            continue; /* a driver no CSINode names has no limit */
        if ((cl->handle = strdup(handle)) == NULL)
            return -1;
        v->limited |= kn_vols_driver_limited(c, cl->driver);
    }
    return 0;
}

static bool attached(const kn_node_attach *na, int driver, const char *handle)
{
    for (int i = 0; na && i < na->n; i++)
        if (na->a[i].driver == driver && strcmp(na->a[i].handle, handle) == 0)
            return true;
    return false;
}

bool kn_vl_fits(const kn_cluster *c, int node, const kn_vol_want *v)
{
    if (!v->limited)
        return true;
    const kn_csinode *cn = kn_vols_csinode(c, c->nodes[node].name);
    if (cn == NULL || cn->n == 0)
        return true;
    const kn_node_attach *na = kn_vols_node_attach(c, node);
    for (int l = 0; l < cn->n; l++) {
        int d = cn->limits[l].driver;
        int64_t count = 0, added = 0;
        for (int i = 0; i < v->n; i++) {
            const kn_vclaim *cl = &v->cl[i];
            if (cl->driver != d || attached(na, d, cl->handle))
                continue;
            bool dup = false; /* two volumes of the pod with one handle: one volume */
            for (int j = 0; j < i && !dup; j++)
                dup = v->cl[j].driver == d && strcmp(v->cl[j].handle, cl->handle) == 0;
            added += !dup;
        }
        if (added == 0)
            continue; /* only volumes the pod adds are checked */
        for (int i = 0; na && i < na->n; i++)
            count += na->a[i].driver == d;
        if (count + added > cn->limits[l].count)
            return false;
    }
    return true;
}
