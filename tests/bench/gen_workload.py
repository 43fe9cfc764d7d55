#!/usr/bin/env python3
"""Seeded generator of a simulated cluster and workload for `kubenexus-scheduler simulate`.

Writes one JSON document (kind: List) with, in this order:
  - Nodes (status.allocatable, Ready), some with nvidia.com/gpu;
  - NodeResourceTopology objects (topology.node.k8s.io/v1alpha2), one per node,
    with 2..8 NUMA zones of type Node splitting the node's cpu, memory and gpus;
  - SparkApplications (sparkoperator.k8s.io/v1beta2): gangs of 1 driver + N
    executors with the kubenexus gang labels, some single-numa, some with GPUs
    (`simulate` admits them with the webhook's rules and creates the pods);
  - plain Pods for kubenexus-scheduler (no gang), some single-numa.
With --running-low-apps N and --high-apps M (the two-priority scenario of
quality.sh), also: PriorityClasses spark-low-priority (100) and
spark-high-priority (1000000, as the Spark Operator guide's); before the
workload, N low-priority Spark applications already running, as bound Pods
(driver and executors, gang labels, executors owned by their driver, sized by
Spark 3.5's rules), packed first-fit onto the nodes (an application that does
not fit whole is left out); after it, M high-priority SparkApplications.
Optionally inter-pod terms (the scheduler's affinity bench): every Spark
application's executors preferring hostname anti-affinity to each other
(--executor-anti-affinity), a share of plain pods spread over zones
(--spread-fraction: DoNotSchedule, maxSkew 1, over their service's pods) and a
share with required hostname anti-affinity to their service's pods
(--anti-affinity-fraction).
The same flags and seed always give the same bytes. Python 3 standard library only.
`simulate` reads files of at most 16 MiB, so with --out-prefix P the List is
cut into files P-000.json, P-001.json, ... of at most --max-file-mib each
(cluster objects first), to be passed to `simulate` in that order.

  gen_workload.py --seed 1 --nodes 1000 --spark-apps 100 --plain-pods 20000 > cluster.json
  gen_workload.py --seed 1 --nodes 5000 --spark-apps 500 --plain-pods 100000 --out-prefix /tmp/c5k
  gen_workload.py --seed 1 --nodes 5000 --zones-min 4 --zones-max 4 --spark-pods 150000 --plain-pods 0 \
      --numa-fraction 0.333 --out-prefix /tmp/gang    # every pod in a gang
"""
import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import baseline_sched as bs  # noqa: E402  (Spark's pod sizing)

GANG_NAME = "pod-group.scheduling.kubenexus.io/name"
GANG_MIN = "pod-group.scheduling.kubenexus.io/min-available"
NUMA_POLICY = "numa.scheduling.kubenexus.io/policy"
NUMA_RESOURCES = "numa.scheduling.kubenexus.io/resources"
GIB = 1024 ** 3


def split(total, parts):
    """total split into parts integers that differ by at most one, larger first."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def node_objects(rng, i, args):
    name = "node-%05d" % i
    zones = rng.randint(args.zones_min, args.zones_max)
    gpus = 8 if rng.random() < args.gpu_fraction else 0
    cpu_per_zone, mem_per_zone = 16, 64 * GIB
    alloc = {"cpu": str(cpu_per_zone * zones), "memory": "%dGi" % (64 * zones),
             "ephemeral-storage": "500Gi", "pods": "110"}
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
              "topology.kubernetes.io/zone": "zone-%d" % (i % 3)}
    if gpus:
        alloc["nvidia.com/gpu"] = str(gpus)
        labels["nvidia.com/gpu.present"] = "true"
    node = {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "uid": "n-%05d" % i, "labels": labels},
            "status": {"capacity": dict(alloc), "allocatable": alloc,
                       "conditions": [{"type": "Ready", "status": "True"}]}}
    gpu_split = split(gpus, zones)
    nrt_zones = []
    for z in range(zones):
        res = [{"name": "cpu", "capacity": str(cpu_per_zone), "allocatable": str(cpu_per_zone),
                "available": str(cpu_per_zone)},
               {"name": "memory", "capacity": str(mem_per_zone), "allocatable": str(mem_per_zone),
                "available": str(mem_per_zone)}]
        if gpus:
            g = str(gpu_split[z])
            res.append({"name": "nvidia.com/gpu", "capacity": g, "allocatable": g, "available": g})
        costs = [{"name": "node-%d" % o, "value": 10 if o == z else 21} for o in range(zones)]
        nrt_zones.append({"name": "node-%d" % z, "type": "Node", "costs": costs, "resources": res})
    nrt = {"apiVersion": "topology.node.k8s.io/v1alpha2", "kind": "NodeResourceTopology",
           "metadata": {"name": name},
           "attributes": [{"name": "topologyManagerPolicy", "value": "single-numa-node"},
                          {"name": "topologyManagerScope", "value": "container"}],
           "zones": nrt_zones}
    return node, nrt


def spark_app(rng, i, args, max_executors=None):
    name = "app-%05d" % i
    executors = rng.randint(args.executors_min, args.executors_max)
    gpu = rng.random() < args.gpu_fraction
    if gpu:
        executors = min(executors, 16)  # GPU jobs are smaller: a GPU node holds 8
    if max_executors is not None:
        executors = min(executors, max_executors)
    numa = rng.random() < args.numa_fraction
    gang = {GANG_NAME: name, GANG_MIN: str(executors + 1)}

    def role(cores, mem_g):
        r = {"cores": cores, "memory": "%dg" % mem_g, "labels": dict(gang)}
        if numa:
            res = "cpu,memory,nvidia.com/gpu" if gpu else "cpu,memory"
            r["annotations"] = {NUMA_POLICY: "single-numa", NUMA_RESOURCES: res}
        if gpu:
            r["gpu"] = {"name": "nvidia.com/gpu", "quantity": 1}
        return r

    driver = role(1, rng.choice([1, 2, 4]))
    driver["serviceAccount"] = "spark"
    executor = role(rng.choice([1, 2, 4]), rng.choice([2, 4, 8]))
    executor["instances"] = executors
    if args.executor_anti_affinity:
        executor["affinity"] = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
            "weight": 100, "podAffinityTerm": {
                "labelSelector": {"matchLabels": {"spark-role": "executor", "sparkoperator.k8s.io/app-name": name}},
                "topologyKey": "kubernetes.io/hostname"}}]}}
    return {"apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication",
            "metadata": {"name": name, "namespace": "spark-jobs"},
            "spec": {"type": rng.choice(["Scala", "Python"]), "mode": "cluster", "image": "apache/spark:3.5.0",
                     "mainApplicationFile": "local:///opt/spark/jars/job-%d.jar" % i, "sparkVersion": "3.5.0",
                     "restartPolicy": {"type": "Never"}, "driver": driver, "executor": executor}}


def plain_pod(rng, i, args):
    cpu = rng.choice(["100m", "250m", "500m", "1", "2"])
    mem = rng.choice(["128Mi", "512Mi", "1Gi", "2Gi", "4Gi"])
    app = "svc-%d" % (i % 97)
    md = {"name": "pod-%06d" % i, "namespace": "default", "labels": {"app": app}}
    if rng.random() < args.numa_fraction / 2:
        md["annotations"] = {NUMA_POLICY: "single-numa"}
    spec = {"schedulerName": "kubenexus-scheduler",
            "containers": [{"name": "main", "image": "registry.example.com/svc:1.0",
                            "resources": {"requests": {"cpu": cpu, "memory": mem}, "limits": {"memory": mem}}}]}
    # from a stream of their own: with or without them, the rest of the workload is the same
    spread, anti = args.aff_rng.random() < args.spread_fraction, args.aff_rng.random() < args.anti_affinity_fraction
    if spread:
        spec["topologySpreadConstraints"] = [{
            "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app": app}}}]
    if anti:
        spec["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
            "labelSelector": {"matchLabels": {"app": app}}, "topologyKey": "kubernetes.io/hostname"}]}}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec}


LOW_CLASS, HIGH_CLASS = "spark-low-priority", "spark-high-priority"
PRIORITIES = {LOW_CLASS: 100, HIGH_CLASS: 1000000}


def priority_classes():
    return [{"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": n}, "value": v,
             "description": "two-priority quality scenario"} for n, v in sorted(PRIORITIES.items())]


def with_class(app, cls):
    for role in ("driver", "executor"):
        app["spec"][role]["priorityClassName"] = cls
    return app


def bound_pod(app, role, name, node, req, owner=None):
    """A pod of a running application, as the API server holds it."""
    ns = app["metadata"]["namespace"]
    r = app["spec"][role]
    md = {"name": name, "namespace": ns, "uid": "%s-%s" % (ns, name),
          "labels": dict(r.get("labels", {}), **{"spark-role": role, "sparkoperator.k8s.io/app-name":
                                                  app["metadata"]["name"]})}
    if owner:
        md["ownerReferences"] = [{"apiVersion": "v1", "kind": "Pod", "name": owner, "uid": "%s-%s" % (ns, owner),
                                  "controller": True}]
    requests = {"cpu": "%dm" % req["cpu"], "memory": str(req["memory"])}
    requests.update({k: str(v) for k, v in req.items() if k not in ("cpu", "memory", "pods")})
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md,
            "spec": {"nodeName": node, "schedulerName": "kubenexus-scheduler", "priorityClassName": LOW_CLASS,
                     "priority": PRIORITIES[LOW_CLASS], "preemptionPolicy": "PreemptLowerPriority",
                     "terminationGracePeriodSeconds": 30,
                     "containers": [{"name": "spark-kubernetes-" + role, "image": "apache/spark:3.5.0",
                                     "resources": {"requests": requests}}]},
            "status": {"phase": "Running", "startTime": "2026-01-01T00:00:00Z"}}


def running_apps(rng, args, nodes):
    """Low-priority applications packed first-fit onto the nodes, as bound pods."""
    free = [{k: bs.qty(v, milli=(k == "cpu")) for k, v in n["status"]["allocatable"].items()} for n in nodes]
    out = []
    for i in range(args.running_low_apps):
        app = with_class(spark_app(rng, i, args), LOW_CLASS)
        app["metadata"]["name"] = "low-%05d" % i
        for role in ("driver", "executor"):
            app["spec"][role]["labels"][GANG_NAME] = app["metadata"]["name"]
            app["spec"][role].pop("annotations", None)  # running pods: no NUMA zones to account
        name = app["metadata"]["name"]
        pods = [("driver", name + "-driver", None)]
        pods += [("executor", "%s-exec-%d" % (name, e), name + "-driver")
                 for e in range(1, app["spec"]["executor"]["instances"] + 1)]
        placed, taken = [], [dict(f) for f in free]
        for role, pname, owner in pods:
            req = bs.spark_role_pod(app, role, "x/" + pname).req
            at = next((k for k, f in enumerate(taken) if all(f.get(r, 0) >= v for r, v in req.items())), None)
            if at is None:
                break
            for r, v in req.items():
                taken[at][r] -= v
            placed.append(bound_pod(app, role, pname, nodes[at]["metadata"]["name"], req, owner))
        if len(placed) == len(pods):
            free = taken
            out.extend(placed)
    return out


def write(items, prefix, limit):
    """One List on stdout, or Lists of at most limit bytes in PREFIX-NNN.json."""
    head, tail = '{"apiVersion":"v1","kind":"List","items":[', "]}\n"
    texts = [json.dumps(i, separators=(",", ":")) for i in items]
    if prefix is None:
        sys.stdout.write(head + ",".join(texts) + tail)
        return
    files, cur, size = [], [], len(head) + len(tail)
    for t in texts:
        if cur and size + len(t) + 1 > limit:
            files.append(cur)
            cur, size = [], len(head) + len(tail)
        cur.append(t)
        size += len(t) + 1
    files.append(cur)
    for n, chunk in enumerate(files):
        with open("%s-%03d.json" % (prefix, n), "w") as f:
            f.write(head + ",".join(chunk) + tail)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--nodes", type=int, default=1000)
    p.add_argument("--zones-min", type=int, default=2)
    p.add_argument("--zones-max", type=int, default=8)
    p.add_argument("--gpu-fraction", type=float, default=0.1, help="share of nodes with 8 GPUs, and of Spark apps using GPUs")
    p.add_argument("--numa-fraction", type=float, default=0.3, help="share of Spark apps asking single-numa (half that for plain pods)")
    p.add_argument("--spark-apps", type=int, default=100)
    p.add_argument("--spark-pods", type=int,
                   help="instead of --spark-apps: apps until their drivers and executors make this many pods "
                        "(the last one's executors cut to fit; up to --executors-min short)")
    p.add_argument("--executors-min", type=int, default=2)
    p.add_argument("--executors-max", type=int, default=200)
    p.add_argument("--plain-pods", type=int, default=10000)
    p.add_argument("--running-low-apps", type=int, default=0,
                   help="low-priority Spark applications already running (bound pods), packed first-fit")
    p.add_argument("--high-apps", type=int, default=0,
                   help="high-priority SparkApplications arriving after the workload")
    p.add_argument("--executor-anti-affinity", action="store_true",
                   help="every Spark app's executors prefer hostname anti-affinity to each other")
    p.add_argument("--spread-fraction", type=float, default=0.0,
                   help="share of plain pods spread over zones (DoNotSchedule, maxSkew 1)")
    p.add_argument("--anti-affinity-fraction", type=float, default=0.0,
                   help="share of plain pods with required hostname anti-affinity to their service")
    p.add_argument("--no-cluster", action="store_true",
                   help="leave out the Nodes and topologies (same workload): to time reading and admitting alone")
    p.add_argument("--out-prefix", help="write PREFIX-NNN.json files instead of stdout")
    p.add_argument("--max-file-mib", type=float, default=15.0)
    args = p.parse_args(argv)
    if not 1 <= args.zones_min <= args.zones_max <= 8:
        p.error("want 1 <= --zones-min <= --zones-max <= 8")
    if not 1 <= args.executors_min <= args.executors_max:
        p.error("want 1 <= --executors-min <= --executors-max")
    # Separate streams, so the workload is the same whatever the cluster's size.
    rng = random.Random("%d-cluster" % args.seed)
    nodes, nrts = [], []
    for i in range(args.nodes):
        n, t = node_objects(rng, i, args)
        nodes.append(n)
        nrts.append(t)
    rng = random.Random("%d-workload" % args.seed)
    args.aff_rng = random.Random("%d-affinity" % args.seed)
    if args.spark_pods is None:
        apps = [spark_app(rng, i, args) for i in range(args.spark_apps)]
    else:
        apps, left = [], args.spark_pods
        while left >= 1 + args.executors_min:
            apps.append(spark_app(rng, len(apps), args, left - 1))
            left -= 1 + apps[-1]["spec"]["executor"]["instances"]
    pods = [plain_pod(rng, i, args) for i in range(args.plain_pods)]
    # Interleave Spark apps among the plain pods, as they would arrive.
    work, step = [], max(1, len(pods) // max(1, len(apps)))
    for i, a in enumerate(apps):
        work.extend(pods[i * step:(i + 1) * step])
        work.append(a)
    work.extend(pods[len(apps) * step:])
    two = args.running_low_apps > 0 or args.high_apps > 0
    running = running_apps(random.Random("%d-running" % args.seed), args, nodes) if args.running_low_apps else []
    rng = random.Random("%d-high" % args.seed)
    high = [with_class(spark_app(rng, args.spark_apps + i, args), HIGH_CLASS) for i in range(args.high_apps)]
    for a in high:
        a["metadata"]["name"] = "high-%05d" % int(a["metadata"]["name"].split("-")[1])
        for role in ("driver", "executor"):
            a["spec"][role]["labels"][GANG_NAME] = a["metadata"]["name"]
    cluster = [] if args.no_cluster else nodes + nrts
    write(cluster + (priority_classes() if two else []) + running + work + high, args.out_prefix,
          int(args.max_file_mib * 1024 * 1024))
    executors = sum(a["spec"]["executor"]["instances"] for a in apps)
    print("gen_workload: %d nodes, %d SparkApplications (%d driver + %d executor pods), %d plain pods%s"
          % (args.nodes, len(apps), len(apps), executors, len(pods),
             "; %d low-priority applications running (%d pods), %d high-priority SparkApplications"
             % (sum(1 for p in running if p["metadata"]["labels"]["spark-role"] == "driver"), len(running),
                len(high)) if two else ""), file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
