#!/usr/bin/env bash
# The real kubenexus-scheduler binary's `simulate` on fixture manifests and on
# its built-in sample: JSON Lines as documented, checked line by line.
set -euo pipefail
BIN="${KN_BIN_DIR:?}/kubenexus-scheduler"
FIX="${KN_SOURCE_DIR:?}/tests/fixtures/sim"
out=$(mktemp)
trap 'rm -f "$out"' EXIT

"$BIN" simulate "$FIX/small-cluster.yaml" >"$out"
python3 - "$out" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
bound = [l for l in lines if l.get("node")]
pending = {l["pod"]: l["reason"] for l in lines if "reason" in l}
pods = [l["pod"] for l in bound]
assert pods[0] == "default/spark-pi-driver", pods
assert all(l["node"] == "node-a" for l in bound if l["pod"].startswith("default/spark-pi")), bound
assert sorted(p for p in pods if "exec" in p) == ["default/spark-pi-exec-%d" % i for i in (1, 2, 3)], pods
assert all(l["numaZones"] == [] for l in bound)
assert pending["default/big-0"] == ("0/2 nodes are available: 2 Insufficient cpu. "
                                    "Gang default/big: only 1 of 3 pods fit at once; none bound."), pending
assert "not scheduled by kubenexus-scheduler" in pending["shop/web"]
s = lines[-1]["summary"]
assert s["pods"] == {"bound": 5, "boundBySimulation": 5, "pending": 4}, s
assert s["gangs"] == {"placed": 1, "waiting": 1}, s
assert 0 < s["utilisation"]["cpu"] <= 100, s
EOF

# No file: the built-in sample, the guide's three production SparkApplications.
"$BIN" simulate >"$out"
python3 - "$out" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
s = lines[-1]["summary"]
assert s["gangs"]["placed"] == 3 and s["pods"]["pending"] == 0, s
gpu = [l for l in lines[:-1] if "spark-ml-gpu" in l["pod"]]
assert len(gpu) == 9 and all(len(l["numaZones"]) == 1 for l in gpu), gpu
# no NUMA zone over-committed: at most 4 single-GPU pods per zone (4 GPUs each)
per_zone = {}
for l in gpu:
    k = (l["node"], l["numaZones"][0])
    per_zone[k] = per_zone.get(k, 0) + 1
assert max(per_zone.values()) <= 4, per_zone
EOF

"$BIN" simulate --format table "$FIX/small-cluster.yaml" | grep -q "^default/spark-pi-driver .*node-a"

# Executors that never come: the clock runs on to the reservation's timeout,
# the slots are released (GangTimeout) and the pod waiting for them is placed.
"$BIN" simulate "$FIX/orphan-driver.yaml" >"$out"
python3 - "$out" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
order = [l.get("pod") or l.get("event", {}).get("reason") for l in lines[:-1]]
assert order == ["spark-jobs/orphan-driver", "GangTimeout", "default/waits-for-room"], lines
ev = lines[1]["event"]
assert ev["pod"] == "spark-jobs/orphan-driver", ev
assert ev["message"] == ("Released 2 unused executor slot(s) of gang spark-jobs/orphan after 30s: "
                         "executors did not arrive in time"), ev
assert lines[2]["node"] == "node-a", lines
s = lines[-1]["summary"]
assert s["reservations"] == {"held": 0, "slots": 0, "timedOut": 1}, s
assert s["pods"]["pending"] == 0, s
EOF
"$BIN" simulate --format table "$FIX/orphan-driver.yaml" >"$out"
grep -q "^spark-jobs/orphan-driver  *GangTimeout  *Released 2 unused executor slot" "$out"
grep -q "reservations held: 0 (0 slots), 1 timed out" "$out"
# When executors do come (every SparkApplication here and in the sample), nothing times out.
for f in "$FIX/small-cluster.yaml" ""; do
    "$BIN" simulate $f >"$out"
    if grep -q '"event"' "$out" || ! tail -1 "$out" | grep -q '"timedOut":0'; then
        echo "unexpected timeout in ${f:-the sample}" >&2
        exit 1
    fi
done
# Storage: executors' OnDemand claims provisioned only in zone-b, a missing
# claim and an Immediate claim nothing binds left pending with
# kube-scheduler's words, a static local volume taken where it is.
"$BIN" simulate "$FIX/volumes.yaml" >"$out"
python3 - "$out" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
node = {l["pod"]: l["node"] for l in lines[:-1]}
pending = {l["pod"]: l["reason"] for l in lines[:-1] if "reason" in l}
assert node["default/shuffle-heavy-driver"] == "node-a", node
assert node["default/shuffle-heavy-exec-1"] in ("node-b", "node-c"), node
assert node["default/shuffle-heavy-exec-2"] in ("node-b", "node-c"), node
assert node["default/local-user"] == "node-c", node
assert pending["default/no-claim"] == '0/3 nodes are available: persistentvolumeclaim "missing" not found.', pending
assert pending["default/nfs-user"] == "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.", pending
assert lines[-1]["summary"]["pods"]["pending"] == 2, lines[-1]
EOF

if "$BIN" simulate "$FIX/no-such-file.yaml" 2>"$out"; then
    echo "simulate accepted a missing file" >&2
    exit 1
fi
grep -q "no-such-file.yaml" "$out"
echo "ok"

# The issue's repro: three app=web pods anti-affine on hostname, two nodes.
"$BIN" simulate "$FIX/web-anti-affinity.yaml" >"$out"
python3 - "$out" <<'EOF2'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
bound = {l["pod"]: l["node"] for l in lines if l.get("node")}
pending = {l["pod"]: l["reason"] for l in lines if "reason" in l}
assert sorted(bound) == ["default/web-1", "default/web-2"] and len(set(bound.values())) == 2, bound
assert pending == {"default/web-3": "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules."}, pending
EOF2

# namespaceSelector read from a Namespace document; Spark executors anti-affine
# on hostname get one node each, their slots held apart first.
"$BIN" simulate "$FIX/spark-affinity.yaml" >"$out"
python3 - "$out" <<'EOF2'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
bound = {l["pod"]: l["node"] for l in lines if l.get("node")}
assert bound["default/cache"] == "node-c", bound
execs = [bound["default/etl-exec-%d" % i] for i in (1, 2, 3)]
assert len(set(execs)) == 3, execs
assert lines[-1]["summary"]["pods"]["pending"] == 0, lines[-1]
EOF2

# Topology spread, host ports and preferences (each placement differs without
# its constraint: the four spread pods all on node-a, likes-zone-b on node-a).
"$BIN" simulate "$FIX/spread-ports-prefs.yaml" >"$out"
python3 - "$out" <<'EOF2'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
bound = {l["pod"]: l["node"] for l in lines if l.get("node")}
pending = {l["pod"]: l["reason"] for l in lines if "reason" in l}
assert [bound["default/spread-%d" % i] for i in range(4)] == ["node-a", "node-b", "node-a", "node-b"], bound
assert bound["default/port-1"] == "node-c" and bound["default/likes-zone-b"] == "node-b", bound
assert pending == {
    "default/three-zones": "0/3 nodes are available: 1 node(s) didn't match pod topology spread constraints "
    "(missing required label), 2 node(s) didn't match pod topology spread constraints.",
    "default/port-2": "0/3 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, "
    "2 node(s) didn't match Pod's node affinity/selector.",
}, pending
EOF2
