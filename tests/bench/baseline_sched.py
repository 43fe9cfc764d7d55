#!/usr/bin/env python3
"""Baseline placement for the quality benchmark: what kube-scheduler does.

Reads the same files as `kubenexus-scheduler simulate` (gen_workload.py output:
kind: List of Nodes, NodeResourceTopologies, SparkApplications and Pods) and
places one pod at a time, with no gang and no NUMA awareness, as
kube-scheduler's default profile would:
  - queue: pods in creation order (all of one priority); a Spark driver is
    created from its SparkApplication (sized by Spark 3.5's rules, as
    spark/spark.h states them) and its executors only once the driver is
    bound, at the back of the queue - as `simulate` does;
  - Filter: node Ready and schedulable, NoSchedule/NoExecute taints tolerated,
    nodeSelector, requests (cpu, memory, extended resources, pod count);
  - Score: NodeResourcesFit LeastAllocated (cpu, memory, weight 1 each) +
    NodeResourcesBalancedAllocation, both plugin weight 1; ties broken at
    random (seeded); percentageOfNodesToScore adaptive as kube-scheduler's
    (50% - nodes/125, at least 5%, at least 100 nodes), rotating start index;
  - priorities (PriorityClasses, spec.priority): the queue is ordered by
    priority, then creation order (kube-scheduler's activeQ); pods given with
    spec.nodeName run there already;
  - a pod that fits nowhere preempts as DefaultPreemption does, pod by pod:
    on up to max(10% of the nodes, 100) candidate nodes (from a random
    offset) that pass its static filters, every pod of lower priority is
    taken off, the pod must then fit, and victims are reprieved highest
    priority first (older first); the node is chosen by
    pickOneNodeForPreemption's order (lowest highest-victim priority,
    smallest sum of priorities, fewest victims, latest start of the
    highest-priority victims, then the first found). The victims are deleted
    at once (as `simulate` does) and the pod bound there. A Spark executor
    lost so is asked for again by its driver (a new pending pod of the same
    priority); a driver lost takes its executors with it (they are owned by
    it) and its application ends. Gangs mean nothing here: a gang may be
    left with fewer than min-available running;
  - otherwise a pod that fits nowhere stays pending: nothing else is ever
    freed in this simulation, so kube-scheduler's retries would fail the same way.
Output: JSON Lines as `simulate` prints them ({"pod","node","numaZones":[]} per
binding in binding order, {"preempted":{"pod","node","by"}} per victim when
it is chosen, {"pod","node":null,"reason"} per pending pod).
Python 3 standard library only. Also imported by quality_report.py.
"""
import argparse
import heapq
import json
import random
import re
import sys

GANG_NAME = "pod-group.scheduling.kubenexus.io/name"
GANG_MIN = "pod-group.scheduling.kubenexus.io/min-available"
NUMA_POLICY = "numa.scheduling.kubenexus.io/policy"
NUMA_RESOURCES = "numa.scheduling.kubenexus.io/resources"
MIB = 1024 ** 2
_SUFFIX = {"": 1, "k": 1000, "M": 1000 ** 2, "G": 1000 ** 3, "T": 1000 ** 4,
           "Ki": 1024, "Mi": MIB, "Gi": 1024 ** 3, "Ti": 1024 ** 4}


def qty(s, milli=False):
    """Kubernetes quantity -> int (milli-units when milli)."""
    s = str(s).strip()
    m = re.fullmatch(r"([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?", s)
    if not m:
        raise ValueError("not a quantity: %r" % s)
    v, suf = float(m.group(1)), m.group(2) or ""
    v = v / 1000 if suf == "m" else v * _SUFFIX[suf]
    return int(round(v * 1000)) if milli else int(v)


def spark_mem_mib(s):
    m = re.fullmatch(r"\s*([0-9]+)\s*([kmgtp]?)b?\s*", str(s).lower())
    if not m:
        raise ValueError("not a Spark size: %r" % s)
    n, u = int(m.group(1)), m.group(2)
    return {"k": n / 1024, "": n, "m": n, "g": n * 1024, "t": n * 1024 ** 2, "p": n * 1024 ** 3}[u]


class Pod:
    __slots__ = ("ref", "req", "policy", "numa_res", "gang", "gang_min", "selector", "tolerations", "app", "prio",
                 "node", "start", "driver", "role")

    def __init__(self, ref, req, annotations, labels, selector=None, tolerations=None, app=None):
        self.ref, self.req = ref, req  # req: {"cpu": milli, "memory": bytes, <ext>: n, "pods": 1}
        self.prio, self.node, self.start, self.driver = 0, None, 0, None
        self.role = (labels or {}).get("spark-role")
        self.policy = (annotations or {}).get(NUMA_POLICY)
        self.numa_res = [r.strip() for r in (annotations or {}).get(NUMA_RESOURCES, "cpu,memory").split(",")]
        ns = ref.split("/")[0]
        g = (labels or {}).get(GANG_NAME)
        self.gang = "%s/%s" % (ns, g) if g else None
        self.gang_min = int((labels or {}).get(GANG_MIN, "0") or 0)
        self.selector, self.tolerations, self.app = selector or {}, tolerations or [], app


def pod_requests(spec):
    req = {"pods": 1}
    for c in spec.get("containers", []):
        for k, v in c.get("resources", {}).get("requests", {}).items():
            req[k] = req.get(k, 0) + qty(v, milli=(k == "cpu"))
        for k, v in c.get("resources", {}).get("limits", {}).items():
            if "/" in k and k not in c.get("resources", {}).get("requests", {}):
                req[k] = req.get(k, 0) + qty(v)  # extended resources: limit implies request
    return req


def spark_role_pod(app, role, ref):
    spec = app["spec"]
    r = spec.get(role, {})
    factor = 0.4 if spec.get("type") in ("Python", "R") else 0.1
    mib = spark_mem_mib(r.get("memory", "1g"))
    overhead = max(int(factor * mib), 384)
    cpu = qty(r["coreRequest"], milli=True) if "coreRequest" in r else int(r.get("cores", 1)) * 1000
    req = {"cpu": cpu, "memory": int(mib + overhead) * MIB, "pods": 1}
    if r.get("gpu"):
        req[r["gpu"]["name"]] = int(r["gpu"].get("quantity", 1))
    labels = dict(app["metadata"].get("labels", {}), **r.get("labels", {}))
    return Pod(ref, req, r.get("annotations"), labels, r.get("nodeSelector"), r.get("tolerations"))


class Workload:
    """Nodes (allocatable, labels, taints), NUMA zones, PriorityClasses, pods
    already running and pods in creation order."""

    def __init__(self, files):
        self.nodes, self.zones, self.queue, self.apps, self.classes, self.running = [], {}, [], {}, {}, []
        for f in files:
            with open(f) as fh:
                doc = json.load(fh)
            for o in doc.get("items", [doc]) if doc.get("kind") == "List" else [doc]:
                self._add(o)

    def priority(self, spec):
        if "priority" in spec:
            return int(spec["priority"])
        return int(self.classes.get(spec.get("priorityClassName"), 0))

    def _add(self, o):
        kind, md = o.get("kind"), o.get("metadata", {})
        if kind == "Node":
            st, sp = o.get("status", {}), o.get("spec", {})
            alloc = {k: qty(v, milli=(k == "cpu")) for k, v in st.get("allocatable", {}).items()}
            ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in st.get("conditions", []))
            self.nodes.append({"name": md["name"], "alloc": alloc, "labels": md.get("labels", {}),
                               "taints": sp.get("taints", []), "ok": ready and not sp.get("unschedulable")})
        elif kind == "NodeResourceTopology":
            zs = []
            for z in o.get("zones", []):
                if z.get("type") == "Node":
                    zs.append((z["name"], {r["name"]: qty(r.get("available", r["allocatable"]), milli=(r["name"] == "cpu"))
                                           for r in z.get("resources", [])}))
            self.zones[md["name"]] = zs
        elif kind == "PriorityClass":
            self.classes[md["name"]] = int(o.get("value", 0))
        elif kind == "Pod":
            ref = "%s/%s" % (md.get("namespace", "default"), md["name"])
            sp = o["spec"]
            pod = Pod(ref, pod_requests(sp), md.get("annotations"), md.get("labels"), sp.get("nodeSelector"),
                      sp.get("tolerations"))
            pod.prio = self.priority(sp)
            owner = next((r for r in md.get("ownerReferences", []) if r.get("kind") == "Pod"), None)
            pod.driver = "%s/%s" % (md.get("namespace", "default"), owner["name"]) if owner else None
            if sp.get("nodeName"):
                pod.node = sp["nodeName"]
                self.running.append(pod)
            else:
                self.queue.append(pod)
        elif kind == "SparkApplication":
            ns, name = md.get("namespace", "default"), md["name"]
            drv = spark_role_pod(o, "driver", "%s/%s-driver" % (ns, name))
            drv.app = o
            drv.prio = self.priority(o["spec"].get("driver", {}))
            drv.role = "driver"
            self.queue.append(drv)

    def executors(self, app, first=1, n=None):
        ns, name = app["metadata"].get("namespace", "default"), app["metadata"]["name"]
        if n is None:
            n = int(app["spec"].get("executor", {}).get("instances", 2))
        out = []
        for i in range(first, first + n):
            e = spark_role_pod(app, "executor", "%s/%s-exec-%d" % (ns, name, i))
            e.prio, e.role, e.driver = self.priority(app["spec"].get("executor", {})), "executor", "%s/%s-driver" % (ns, name)
            out.append(e)
        return out


def tolerated(taint, tols):
    if taint.get("effect") not in ("NoSchedule", "NoExecute"):
        return True
    for t in tols:
        if t.get("effect") and t["effect"] != taint["effect"]:
            continue
        if t.get("operator") == "Exists" and (not t.get("key") or t["key"] == taint.get("key")):
            return True
        if t.get("key") == taint.get("key") and t.get("value", "") == taint.get("value", ""):
            return True
    return False


def num_to_score(n):
    if n < 100:
        return n
    pct = max(5, 50 - n // 125)
    return max(100, n * pct // 100)


def static_ok(nd, pod):
    if not nd["ok"] or any(nd["labels"].get(k) != v for k, v in pod.selector.items()):
        return False
    return all(tolerated(t, pod.tolerations) for t in nd["taints"])


def fits(nd, u, req):
    return not any(u.get(k, 0) + v > nd["alloc"].get(k, 0) for k, v in req.items() if v)


def add(u, req, sign=1):
    for k, v in req.items():
        u[k] = u.get(k, 0) + sign * v


def select_victims(nd, u, on_node, pod):
    """SelectVictimsOnNode: the victims (most important first), or None."""
    potential = [v for v in on_node if v.prio < pod.prio]
    if not potential:
        return None
    free = dict(u)
    for v in potential:
        add(free, v.req, -1)
    if not fits(nd, free, pod.req):
        return None
    potential.sort(key=lambda v: (-v.prio, v.start))
    victims = []
    for v in potential:  # reprieve, most important first
        add(free, v.req)
        if not fits(nd, free, pod.req):
            add(free, v.req, -1)
            victims.append(v)
    return victims


def preempt(wl, pod, used, running, rng):
    """The node and victims DefaultPreemption picks for pod, or None."""
    nodes = wl.nodes
    n = len(nodes)
    if n == 0:
        return None
    want = min(n, max(100, n * 10 // 100))
    offset, cands = rng.randrange(n), []
    for i in range(n):
        ni = (offset + i) % n
        if not static_ok(nodes[ni], pod):
            continue
        victims = select_victims(nodes[ni], used[ni], running[ni], pod)
        if victims:
            hi = victims[0].prio
            latest = min(v.start for v in victims if v.prio == hi)
            key = (hi, sum(v.prio + 2 ** 31 for v in victims), len(victims), -latest)
            cands.append((key, len(cands), ni, victims))
            if len(cands) >= want:
                break
    if not cands:
        return None
    _, _, ni, victims = min(cands)
    return ni, victims


def schedule(wl, seed=1, out=None):
    """Returns (bindings [(pod, node_index)], pending [pod]) in kube-scheduler's order;
    the pods preempted go to wl.deleted [(pod, binding index)], and to out as
    JSON lines when given."""
    rng = random.Random(seed)
    nodes = wl.nodes
    index = {nd["name"]: i for i, nd in enumerate(nodes)}
    used = [dict() for _ in nodes]
    running = [[] for _ in nodes]
    for p in wl.running:
        ni = index.get(p.node)
        if ni is not None:
            add(used[ni], p.req)
            running[ni].append(p)
    wl.deleted = []
    gone = set()  # refs of pods deleted (and of drivers whose application ended)
    bindings, pending, start = [], [], 0
    seq = 0
    queue = []
    for p in wl.queue:
        heapq.heappush(queue, (-p.prio, seq, p))
        seq += 1
    replacements = {}
    want = num_to_score(len(nodes))
    while queue:
        _, _, pod = heapq.heappop(queue)
        if pod.ref in gone or (pod.driver and pod.driver in gone):
            continue
        best, best_score, ties, feasible, i = -1, -1, 0, 0, 0
        n = len(nodes)
        while i < n and feasible < want:
            ni = (start + i) % n
            i += 1
            nd, u = nodes[ni], used[ni]
            if not static_ok(nd, pod) or not fits(nd, u, pod.req):
                continue
            feasible += 1
            fr = []
            least = 0
            alloc = nd["alloc"]
            for k in ("cpu", "memory"):
                a = alloc.get(k, 0)
                r = u.get(k, 0) + pod.req.get(k, 0)
                least += (a - r) * 100 // a if a else 0
                fr.append(min(1.0, r / a) if a else 0.0)
            score = least // 2 + int((1 - abs(fr[0] - fr[1]) / 2) * 100)
            if score > best_score:
                best, best_score, ties = ni, score, 1
            elif score == best_score:
                ties += 1
                if rng.randrange(ties) == 0:
                    best = ni
        start = (start + i) % n if n else 0
        if best < 0 and wl.classes:
            got = preempt(wl, pod, used, running, rng)
            if got:
                best, victims = got
                for v in victims:
                    for e in evict(wl, v, index, used, running, gone, replacements, len(bindings), pod, out):
                        heapq.heappush(queue, (-e.prio, seq, e))
                        seq += 1
        if best < 0:
            pending.append(pod)
            continue
        u = used[best]
        add(u, pod.req)
        pod.node, pod.start = nodes[best]["name"], len(bindings) + 1
        running[best].append(pod)
        bindings.append((pod, best))
        if out is not None:
            out.write(json.dumps({"pod": pod.ref, "node": nodes[best]["name"], "numaZones": []}) + "\n")
        if pod.app is not None:
            for e in wl.executors(pod.app):
                heapq.heappush(queue, (-e.prio, seq, e))
                seq += 1
    return bindings, pending


def evict(wl, v, index, used, running, gone, replacements, at, by, out):
    """v deleted; what Spark does about it: a lost executor is asked for again
    (returned: the new pod), a lost driver ends its application (its executors
    are deleted with it)."""
    doomed = [v]
    if v.role == "driver":
        gone.add(v.ref)
        doomed += [p for r in running for p in r if p.driver == v.ref and p is not v]
    for p in doomed:
        ni = index.get(p.node)
        if ni is None or p not in running[ni]:
            continue
        running[ni].remove(p)
        add(used[ni], p.req, -1)
        wl.deleted.append((p, at))
        if out is not None and p is v:
            out.write(json.dumps({"preempted": {"pod": p.ref, "node": p.node, "by": by.ref}}) + "\n")
    if v.role == "executor" and v.driver and v.driver not in gone:
        ns, name = v.ref.split("/", 1)
        k = replacements.get(v.driver, 0) + 1
        replacements[v.driver] = k
        e = Pod("%s/%s-r%d" % (ns, name, k), dict(v.req), None, None, v.selector, v.tolerations)
        e.prio, e.role, e.driver, e.gang, e.gang_min = v.prio, "executor", v.driver, v.gang, v.gang_min
        return [e]
    return []


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=1, help="tie-break seed")
    p.add_argument("files", nargs="+")
    a = p.parse_args(argv)
    wl = Workload(a.files)
    out = sys.stdout
    bindings, pending = schedule(wl, a.seed, out)
    for pod in pending:
        out.write(json.dumps({"pod": pod.ref, "node": None, "reason": "fits no node"}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
