#!/usr/bin/env bash
# tests/bench/gen_workload.py against the real `kubenexus-scheduler simulate`:
# the generated objects are read as the benchmark assumes (every pod of a roomy
# cluster bound, every gang placed, single-numa pods given one zone), the same
# seed gives the same bytes, a split into several files gives the same result,
# and --no-cluster leaves every pod pending (the benchmark's read-only run).
set -euo pipefail
BIN="${KN_BIN_DIR:?}/kubenexus-scheduler"
GEN="${KN_SOURCE_DIR:?}/tests/bench/gen_workload.py"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=(--seed 7 --nodes 40 --zones-min 2 --zones-max 8 --gpu-fraction 0.5 --spark-apps 4
      --executors-min 2 --executors-max 12 --plain-pods 120)

python3 "$GEN" "${args[@]}" >"$tmp/one.json" 2>"$tmp/gen.err"
python3 "$GEN" "${args[@]}" 2>/dev/null | cmp - "$tmp/one.json"
python3 "$GEN" "${args[@]}" --out-prefix "$tmp/split" --max-file-mib 0.02 2>/dev/null
[ "$(ls "$tmp"/split-*.json | wc -l)" -ge 3 ] || { echo "expected several files"; exit 1; }
python3 "$GEN" "${args[@]}" --no-cluster --out-prefix "$tmp/ro" 2>/dev/null

"$BIN" simulate "$tmp/one.json" >"$tmp/one.out"
"$BIN" simulate "$tmp"/split-*.json >"$tmp/split.out"
"$BIN" simulate "$tmp"/ro-*.json >"$tmp/ro.out"
python3 - "$tmp" <<'PY'
import json, re, sys
tmp = sys.argv[1]
gen = open(tmp + "/gen.err").read()
m = re.search(r"(\d+) SparkApplications \((\d+) driver \+ (\d+) executor pods\), (\d+) plain pods", gen)
assert m, gen
apps, drivers, executors, plain = map(int, m.groups())
total = drivers + executors + plain
doc = json.load(open(tmp + "/one.json"))
kinds = [i["kind"] for i in doc["items"]]
assert kinds.count("Node") == 40 and kinds.count("NodeResourceTopology") == 40, kinds
numa_pods = {"default/" + i["metadata"]["name"] for i in doc["items"]
             if i["kind"] == "Pod" and i["metadata"].get("annotations")}

def read(name):
    lines = [json.loads(l) for l in open("%s/%s.out" % (tmp, name))]
    return lines[:-1], lines[-1]["summary"]

lines, s = read("one")
assert s["nodes"] == 40, s
assert s["pods"] == {"bound": total, "boundBySimulation": total, "pending": 0}, (s, total)
assert s["gangs"] == {"placed": apps, "waiting": 0}, s
gpu_apps = [i for i in doc["items"] if i["kind"] == "SparkApplication" and "gpu" in i["spec"]["executor"]]
assert 0 < s["utilisation"]["cpu"] < 100 and (s["utilisation"]["gpu"] > 0) == bool(gpu_apps), s
zones = {l["pod"]: l["numaZones"] for l in lines}
assert numa_pods and all(len(zones[p]) == 1 for p in numa_pods), [(p, zones.get(p)) for p in numa_pods]
assert read("split") == (lines, s)
_, ro = read("ro")
assert ro["nodes"] == 0 and ro["pods"]["bound"] == 0 and ro["gangs"]["waiting"] == apps, ro
print("gen_workload + simulate: %d pods bound, %d gangs, %d single-numa plain pods in one zone" % (total, apps, len(numa_pods)))
PY
