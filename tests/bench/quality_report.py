#!/usr/bin/env python3
"""Quality of placement, side by side: kubenexus (`simulate` JSON Lines) vs the
kube-scheduler-like baseline (baseline_sched.py) on the same workload files.

  quality_report.py --ours OURS.jsonl [--label L] [--seed S] FILE...

Prints one Markdown table row per metric (or, with --rows-only, rows for a
multi-scenario table) - see print_table. Definitions:
  - a gang is started when at least min-available of its members are bound;
    pods bound in gangs that are not started hold resources that do nothing
    ("stranded"); we also count executor slots our drivers still reserve
    (from simulate's summary);
  - time to start: the binding-order index (0-based, over all bindings) at
    which a gang's min-available-th member was bound; median and p90 over the
    started gangs;
  - utilisation: requested cpu / memory of bound pods over the cluster's
    allocatable; "useful" counts only pods that are not stranded;
  - single-numa aligned: for kubenexus, a pod with exactly one zone in
    numaZones, counted against that zone's room (NRT available) in binding
    order - a zone overrun counts as not aligned; for the baseline (which does
    not look at zones), a post-hoc check in binding order: the pod is aligned
    if its request (its numa resources) fits in one zone's remaining room on
    its node, and then takes the best-fitting such zone. Pods without a NUMA
    policy do not use zone room in either (as in the scheduler's accounting).
Python 3 standard library only.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import baseline_sched as bs  # noqa: E402


def all_pods(wl):
    pods = {}
    for p in wl.queue:
        pods[p.ref] = p
        if p.app is not None:
            for e in wl.executors(p.app):
                pods[e.ref] = e
    return pods


def zone_req(pod, res):
    return pod.req.get(res, 0)


def metrics(wl, pods, bindings, summary):
    """bindings: [(ref, node_name, [zones])] in order."""
    node_by_name = {n["name"]: n for n in wl.nodes}
    tot = {k: sum(n["alloc"].get(k, 0) for n in wl.nodes) for k in ("cpu", "memory")}
    gangs, gang_size = {}, {}
    for p in pods.values():
        if p.gang:
            gang_size[p.gang] = p.gang_min
    start_idx, bound_in = {}, {}
    room = {}  # (node, zone) -> remaining {res: n}
    numa_bound = numa_aligned = 0
    for idx, (ref, node, zones) in enumerate(bindings):
        p = pods.get(ref)
        if p is None:
            continue
        if p.gang:
            bound_in.setdefault(p.gang, []).append(p)
            if len(bound_in[p.gang]) == gang_size[p.gang]:
                start_idx[p.gang] = idx
        if p.policy != "single-numa":
            continue
        numa_bound += 1
        nz = wl.zones.get(node, [])
        for zname, zres in nz:
            room.setdefault((node, zname), dict(zres))
        if zones is None:  # baseline: post-hoc best fit
            fits = [(sum(room[(node, z)].get(r, 0) - zone_req(p, r) for r in ("cpu",)), z) for z, _ in nz
                    if all(room[(node, z)].get(r, 0) >= zone_req(p, r) for r in p.numa_res)]
            chosen = min(fits)[1] if fits else None
        else:
            chosen = zones[0] if len(zones) == 1 and (node, zones[0]) in room else None
            if chosen and not all(room[(node, chosen)].get(r, 0) >= zone_req(p, r) for r in p.numa_res):
                chosen = None  # zone overrun: the kubelet would not align it
        if chosen:
            numa_aligned += 1
            for r in p.numa_res:
                room[(node, chosen)][r] = room[(node, chosen)].get(r, 0) - zone_req(p, r)
    stranded = [p for g, ms in bound_in.items() if g not in start_idx for p in ms]
    used = {k: sum(pods[r].req.get(k, 0) for r, _, _ in bindings if r in pods) for k in tot}
    strand = {k: sum(p.req.get(k, 0) for p in stranded) for k in tot}
    starts = sorted(start_idx.values())
    del node_by_name
    m = {
        "bound": len(bindings), "asked": len(pods),
        "gangs": len(gang_size), "started": len(start_idx),
        "partial": sum(1 for g in bound_in if g not in start_idx),
        "stranded_pods": len(stranded), "stranded_cpu": strand["cpu"] / 1000,
        "stranded_mem": strand["memory"] / 1024 ** 3,
        "start_p50": starts[len(starts) // 2] if starts else None,
        "start_p90": starts[min(len(starts) - 1, len(starts) * 9 // 10)] if starts else None,
        "util_cpu": 100 * used["cpu"] / tot["cpu"], "util_mem": 100 * used["memory"] / tot["memory"],
        "useful_cpu": 100 * (used["cpu"] - strand["cpu"]) / tot["cpu"],
        "useful_mem": 100 * (used["memory"] - strand["memory"]) / tot["memory"],
        "numa_bound": numa_bound, "numa_aligned": numa_aligned,
        "reserved_slots": (summary or {}).get("reservations", {}).get("slots", 0),
    }
    return m


def read_ours(path):
    bindings, summary = [], None
    with open(path) as f:
        for line in f:
            o = json.loads(line)
            if "summary" in o:
                summary = o["summary"]
            elif o.get("node"):
                bindings.append((o["pod"], o["node"], o.get("numaZones", [])))
    return bindings, summary


def fmt(v, nd=1):
    return "-" if v is None else ("%.*f" % (nd, v) if isinstance(v, float) else str(v))


def rows(ours, base):
    def pct(m):
        return "%d / %d (%.1f%%)" % (m["numa_aligned"], m["numa_bound"],
                                      100 * m["numa_aligned"] / m["numa_bound"] if m["numa_bound"] else 100)
    ratio = ours["useful_cpu"] / base["useful_cpu"] if base["useful_cpu"] else 1
    ratio_m = ours["useful_mem"] / base["useful_mem"] if base["useful_mem"] else 1
    return [
        ("pods bound / asked", "%d / %d" % (ours["bound"], ours["asked"]), "%d / %d" % (base["bound"], base["asked"]), ""),
        ("gangs started (all min-available bound) / gangs", "%d / %d" % (ours["started"], ours["gangs"]),
         "%d / %d" % (base["started"], base["gangs"]), ""),
        ("gangs partly bound, cannot start", fmt(ours["partial"]), fmt(base["partial"]), "0"),
        ("pods held by gangs that cannot start", fmt(ours["stranded_pods"]), fmt(base["stranded_pods"]), "0"),
        ("cpu cores / memory GiB they hold", "%.1f / %.1f" % (ours["stranded_cpu"], ours["stranded_mem"]),
         "%.1f / %.1f" % (base["stranded_cpu"], base["stranded_mem"]), "0 / 0"),
        ("executor slots still reserved at the end", fmt(ours["reserved_slots"]), "-", ""),
        ("time to start, binding index p50 / p90", "%s / %s" % (fmt(ours["start_p50"]), fmt(ours["start_p90"])),
         "%s / %s" % (fmt(base["start_p50"]), fmt(base["start_p90"])), ""),
        ("utilisation cpu / memory, all bound pods", "%.1f%% / %.1f%%" % (ours["util_cpu"], ours["util_mem"]),
         "%.1f%% / %.1f%%" % (base["util_cpu"], base["util_mem"]), ""),
        ("utilisation cpu / memory, useful (not held by unstartable gangs)",
         "%.1f%% / %.1f%%" % (ours["useful_cpu"], ours["useful_mem"]),
         "%.1f%% / %.1f%%" % (base["useful_cpu"], base["useful_mem"]), ">= 0.95 x baseline"),
        ("useful utilisation, kubenexus / baseline (cpu, memory)", "%.2f, %.2f" % (ratio, ratio_m), "", ">= 0.95"),
        ("single-numa pods aligned / bound", pct(ours), pct(base), "100%"),
    ]


def verdicts(ours, base):
    out = []
    ok = ours["stranded_pods"] == 0 and ours["reserved_slots"] == 0
    out.append("zero resources held by unstartable gangs: %s" % ("met" if ok else "MISSED"))
    ok = ours["numa_aligned"] == ours["numa_bound"]
    out.append("every single-numa pod aligned: %s" % ("met" if ok else "MISSED"))
    for k in ("cpu", "mem"):
        b, o = base["useful_" + k], ours["useful_" + k]
        out.append("useful %s utilisation within 5%% of baseline or better: %s" %
                   (k if k == "cpu" else "memory", "met" if o >= 0.95 * b else "MISSED"))
    return out


def read_victims(path):
    with open(path) as f:
        return [json.loads(l)["preempted"]["pod"] for l in f if l.startswith('{"preempted"')]


def two_priority_metrics(wl, gangs, high, bindings, deleted):
    """bindings: [ref] in order; deleted: set of refs evicted."""
    running = {p.ref: p for p in wl.running}
    start_idx, count = {}, {}
    for idx, (ref, pod) in enumerate(bindings):
        running[ref] = pod
        if pod.gang:
            count[pod.gang] = count.get(pod.gang, 0) + 1
            if count[pod.gang] == gangs[pod.gang] and pod.gang not in start_idx:
                start_idx[pod.gang] = idx
    alive = {}
    for ref, pod in running.items():
        if ref not in deleted and pod.gang:
            alive.setdefault(pod.gang, []).append(pod)
    partial = [g for g in gangs if 0 < len(alive.get(g, [])) < gangs[g]]
    low = [g for g in gangs if g not in high]
    starts = sorted(start_idx[g] for g in high if g in start_idx)
    return {
        "high_started": len(starts), "high": len(high),
        "start_p50": starts[len(starts) // 2] if starts else None,
        "start_p90": starts[min(len(starts) - 1, len(starts) * 9 // 10)] if starts else None,
        "evicted": len(deleted),
        "partial": len(partial), "partial_pods": sum(len(alive[g]) for g in partial),
        "partial_cpu": sum(p.req.get("cpu", 0) for g in partial for p in alive[g]) / 1000,
        "low_gone": sum(1 for g in low if not alive.get(g)), "low_whole": sum(1 for g in low if len(alive.get(g, [])) >= gangs[g]),
        "low": len(low),
    }


def two_priorities(wl, ours_path, seed):
    pods = all_pods(wl)
    gangs = {}
    for p in list(pods.values()) + wl.running:
        if p.gang:
            gangs[p.gang] = p.gang_min
    top = max(wl.classes.values())
    high = {p.gang for p in pods.values() if p.gang and p.prio == top}
    ob, _ = read_ours(ours_path)
    ours = two_priority_metrics(wl, gangs, high, [(r, pods[r]) for r, _, _ in ob if r in pods],
                                set(read_victims(ours_path)))
    bb, _ = bs.schedule(wl, seed)
    base = two_priority_metrics(wl, gangs, high, [(pd.ref, pd) for pd, _ in bb], {p.ref for p, _ in wl.deleted})
    print("| metric | kubenexus | kube-scheduler baseline (per-pod preemption) | target |")
    print("| --- | ---: | ---: | ---: |")
    rows = [
        ("high-priority applications started / arrived", "%d / %d" % (ours["high_started"], ours["high"]),
         "%d / %d" % (base["high_started"], base["high"]), "all"),
        ("their time to start, binding index p50 / p90", "%s / %s" % (fmt(ours["start_p50"]), fmt(ours["start_p90"])),
         "%s / %s" % (fmt(base["start_p50"]), fmt(base["start_p90"])), ""),
        ("pods evicted", fmt(ours["evicted"]), fmt(base["evicted"]), ""),
        ("gangs left partial at the end (some, not min-available, running)", fmt(ours["partial"]),
         fmt(base["partial"]), "0"),
        ("pods / cpu cores they hold for nothing", "%d / %.1f" % (ours["partial_pods"], ours["partial_cpu"]),
         "%d / %.1f" % (base["partial_pods"], base["partial_cpu"]), "0 / 0"),
        ("low-priority applications evicted whole / running whole / all",
         "%d / %d / %d" % (ours["low_gone"], ours["low_whole"], ours["low"]),
         "%d / %d / %d" % (base["low_gone"], base["low_whole"], base["low"]), ""),
    ]
    for r in rows:
        print("| %s | %s | %s | %s |" % r)
    print()
    print("- no gang left partial: %s" % ("met" if ours["partial"] == 0 else "MISSED"))
    print("- every high-priority application started: %s" % ("met" if ours["high_started"] == ours["high"] else "MISSED"))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ours", required=True, help="simulate's JSON Lines on FILE...")
    p.add_argument("--seed", type=int, default=1, help="baseline tie-break seed")
    p.add_argument("--title", default="")
    p.add_argument("files", nargs="+")
    a = p.parse_args(argv)
    wl = bs.Workload(a.files)
    if wl.classes and wl.running:
        if a.title:
            print("%s\n" % a.title)
        two_priorities(wl, a.ours, a.seed)
        return
    pods = all_pods(wl)
    ob, summary = read_ours(a.ours)
    bb, _ = bs.schedule(wl, a.seed)
    base_bindings = [(pd.ref, wl.nodes[ni]["name"], None) for pd, ni in bb]
    ours = metrics(wl, pods, ob, summary)
    base = metrics(wl, pods, base_bindings, None)
    if summary:  # our sizing of Spark pods must match simulate's, or every number is off
        cu = summary.get("utilisation", {}).get("cpu")
        if cu is not None and abs(cu - ours["util_cpu"]) > 0.2:
            print("quality_report: warning: cpu utilisation %.1f%% here vs %.1f%% in simulate's summary"
                  % (ours["util_cpu"], cu), file=sys.stderr)
    if a.title:
        print("%s\n" % a.title)
    print("| metric | kubenexus | kube-scheduler baseline | target |")
    print("| --- | ---: | ---: | ---: |")
    for r in rows(ours, base):
        print("| %s | %s | %s | %s |" % r)
    print()
    for v in verdicts(ours, base):
        print("- " + v)


if __name__ == "__main__":
    main(sys.argv[1:])
