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
  - a pod that fits nowhere stays pending: nothing is ever freed in this
    simulation, so kube-scheduler's retries would fail the same way.
Output: JSON Lines as `simulate` prints them ({"pod","node","numaZones":[]} per
binding in binding order, {"pod","node":null,"reason"} per pending pod).
Python 3 standard library only. Also imported by quality_report.py.
"""
import argparse
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
    __slots__ = ("ref", "req", "policy", "numa_res", "gang", "gang_min", "selector", "tolerations", "app")

    def __init__(self, ref, req, annotations, labels, selector=None, tolerations=None, app=None):
        self.ref, self.req = ref, req  # req: {"cpu": milli, "memory": bytes, <ext>: n, "pods": 1}
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
    """Nodes (allocatable, labels, taints), NUMA zones, and pods in creation order."""

    def __init__(self, files):
        self.nodes, self.zones, self.queue, self.apps = [], {}, [], {}
        for f in files:
            with open(f) as fh:
                doc = json.load(fh)
            for o in doc.get("items", [doc]) if doc.get("kind") == "List" else [doc]:
                self._add(o)

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
        elif kind == "Pod":
            ref = "%s/%s" % (md.get("namespace", "default"), md["name"])
            sp = o["spec"]
            self.queue.append(Pod(ref, pod_requests(sp), md.get("annotations"), md.get("labels"),
                                  sp.get("nodeSelector"), sp.get("tolerations")))
        elif kind == "SparkApplication":
            ns, name = md.get("namespace", "default"), md["name"]
            drv = spark_role_pod(o, "driver", "%s/%s-driver" % (ns, name))
            drv.app = o
            self.queue.append(drv)

    def executors(self, app):
        ns, name = app["metadata"].get("namespace", "default"), app["metadata"]["name"]
        n = int(app["spec"].get("executor", {}).get("instances", 2))
        return [spark_role_pod(app, "executor", "%s/%s-exec-%d" % (ns, name, i)) for i in range(1, n + 1)]


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


def schedule(wl, seed=1):
    """Returns (bindings [(pod, node_index)], pending [pod]) in kube-scheduler's order."""
    rng = random.Random(seed)
    nodes = wl.nodes
    used = [dict() for _ in nodes]
    bindings, pending, start = [], [], 0
    queue, qi = list(wl.queue), 0
    want = num_to_score(len(nodes))
    while qi < len(queue):
        pod = queue[qi]
        qi += 1
        best, best_score, ties, feasible, i = -1, -1, 0, 0, 0
        n = len(nodes)
        while i < n and feasible < want:
            ni = (start + i) % n
            i += 1
            nd, u = nodes[ni], used[ni]
            if not nd["ok"] or any(nd["labels"].get(k) != v for k, v in pod.selector.items()):
                continue
            if not all(tolerated(t, pod.tolerations) for t in nd["taints"]):
                continue
            alloc = nd["alloc"]
            if any(u.get(k, 0) + v > alloc.get(k, 0) for k, v in pod.req.items() if v):
                continue
            feasible += 1
            fr = []
            least = 0
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
        if best < 0:
            pending.append(pod)
            continue
        u = used[best]
        for k, v in pod.req.items():
            u[k] = u.get(k, 0) + v
        bindings.append((pod, best))
        if pod.app is not None:
            queue.extend(wl.executors(pod.app))
    return bindings, pending


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=1, help="tie-break seed")
    p.add_argument("files", nargs="+")
    a = p.parse_args(argv)
    wl = Workload(a.files)
    bindings, pending = schedule(wl, a.seed)
    out = sys.stdout
    for pod, ni in bindings:
        out.write(json.dumps({"pod": pod.ref, "node": wl.nodes[ni]["name"], "numaZones": []}) + "\n")
    for pod in pending:
        out.write(json.dumps({"pod": pod.ref, "node": None, "reason": "fits no node"}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
