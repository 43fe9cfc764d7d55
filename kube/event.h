/* event.h - a core/v1 Event about a pod, as the scheduler decides it and the
 * event recorder (kube/client/events.h) sends it. Only the parts a decision
 * fills: the recorder adds names, timestamps, source and counts. */
#ifndef KN_KUBE_EVENT_H
#define KN_KUBE_EVENT_H

typedef struct kn_pod_event {
    char *ns, *name, *uid; /* involvedObject: the Pod */
    const char *type;      /* static: "Normal" | "Warning" */
    const char *reason;    /* static: "Scheduled" | "FailedScheduling" | "GangWaiting" |
                               "GangReserved" | "GangTimeout" | "Preempted" */
    char *message;         /* e.g. "Successfully assigned ns/pod to node-a",
                               "0/5 nodes are available: 2 node(s) didn't have a NUMA zone that
                                fits (single-numa), 3 Insufficient cpu." */
    /* The Event's related object, a Pod (a Preempted event's preemptor, as
     * kube-scheduler names it), and its action: NULL when there is none. */
    const char *related_ns, *related_name, *related_uid;
    const char *action; /* static: "Preempting", or NULL */
} kn_pod_event;

#endif
