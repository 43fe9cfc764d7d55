/* node_ports.c - kube-scheduler's NodePorts filter: a node is out when a
 * host port the pod asks for is in use there (kn_node.ports: every pod
 * bound, assumed or placed tentatively on it, so gang members placed
 * together count for one another).
 *
 * As HostPortInfo.CheckConflict: same protocol and port, and addresses that
 * overlap, 0.0.0.0 overlapping every address; other addresses are compared
 * as written ("::" is one address like any other). */
#include "scheduler/place/place.h"

#include <string.h>

#define ANY_ADDRESS "0.0.0.0"

bool kn_ports_fit(const kn_node *n, const kn_constraints *pod)
{
    if (pod == NULL || pod->n_host_ports == 0 || n->ports.used == 0)
        return true;
    for (int i = 0; i < pod->n_host_ports; i++) {
        const kn_host_port *p = &pod->host_ports[i];
        if (strcmp(p->ip, ANY_ADDRESS) == 0) {
            if (kn_portset_count(&n->ports, "", p->protocol, p->port) > 0)
                return false;
        } else if (kn_portset_count(&n->ports, ANY_ADDRESS, p->protocol, p->port) > 0 ||
                   kn_portset_count(&n->ports, p->ip, p->protocol, p->port) > 0) {
            return false;
        }
    }
    return true;
}
