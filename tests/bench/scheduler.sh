#!/usr/bin/env bash
# Scheduler algorithm benchmark: `kubenexus-scheduler simulate` on generated
# clusters (tests/bench/gen_workload.py: 2..8 NUMA zones, 10% GPU nodes, Spark
# gangs of 1 + 2..200 executors mixed with plain pods), reporting placements
# per second, peak RSS and how both grow with nodes and with pods.
#
#   bash tests/bench/scheduler.sh          # nodes 1000/5000/15000 x 10,000 pods, pods growth, the
#                                          # inter-pod mix, the issue's target shape (5,000 nodes x 4
#                                          # zones, 150,000 pods) and the gang shape
#   BENCH_NODES="200 1000" BENCH_PODS=5000 BENCH_AFF_NODES="" BENCH_TARGET=0 BENCH_GANG=0 \
#     bash tests/bench/scheduler.sh        # quick
#   bash tests/bench/scheduler.sh --target # the target shape only
#   bash tests/bench/scheduler.sh --gang   # the gang shape only: the target's cluster and pod count with
#                                          # every pod in a Spark gang (each driver carrying its executor
#                                          # reservation, so gangs are placed driver first), a third of
#                                          # the applications single-numa, no plain pods
#   bash tests/bench/scheduler.sh --affinity  # the inter-pod mix only: 1,000/5,000/15,000 nodes
#                                          # (BENCH_AFF_NODES) x BENCH_AFF_PODS (30,000) pods shaped as
#                                          # the growth series, every Spark app's executors preferring
#                                          # hostname anti-affinity to each other, a fifth of the plain
#                                          # pods spread over zones (DoNotSchedule, maxSkew 1), 2% with
#                                          # required hostname anti-affinity to their service
#
# Each size runs twice: the full simulation, and the same workload without
# Nodes (only reading, admitting and failing fast), so that
#   placements/s = pods bound / (full wall time - read-only wall time)
# is the placement rate net of parsing the input; "end to end" divides by the
# full wall time. Peak RSS is the full run's (GNU time). A run longer than
# BENCH_TIMEOUT (90 s) is stopped and reported as such. Seeded: BENCH_SEED.
# Not a test: it never fails on numbers.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${KN_BUILD_DIR:-build}
seed=${BENCH_SEED:-1}
limit=${BENCH_TIMEOUT:-90}
nodes_series=${BENCH_NODES:-"1000 5000 15000"}
pods=${BENCH_PODS:-10000}
pods_series=${BENCH_PODS_SERIES:-"10000 30000 60000"}
pods_nodes=${BENCH_PODS_NODES:-1000}
target=${BENCH_TARGET:-1}
gang=${BENCH_GANG:-1}
aff_series=${BENCH_AFF_NODES:-"1000 5000 15000"}
aff_pods=${BENCH_AFF_PODS:-30000}
zmin=2 zmax=8 shape=mixed
case "${1:-}" in
  --target) nodes_series="" pods_series="" aff_series="" target=1 gang=0 ;;
  --gang) nodes_series="" pods_series="" aff_series="" target=0 gang=1 ;;
  --affinity) nodes_series="" pods_series="" target=0 gang=0 ;;
esac

scripts/install-deps.sh time
if [ ! -x "$build/bin/kubenexus-scheduler" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j"${KN_JOBS:-2}" --target kubenexus-scheduler >/dev/null
fi
tmp=$(mktemp -d /tmp/kn-bench-sched.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
results="$tmp/results.jsonl"

# gen NODES PODS PREFIX [--no-cluster]: zones $zmin..$zmax; for the mixed
# shape a third of the pods in Spark gangs (about 101 pods each on average),
# the rest plain; the affinity shape is the mixed one with inter-pod terms;
# for the gang shape PODS pods all in Spark gangs, a third of the
# applications single-numa.
gen() {
  local nodes=$1 total=$2 prefix=$3
  shift 3
  local work
  if [ "$shape" = gang ]; then
    work=(--spark-pods "$total" --plain-pods 0 --numa-fraction 0.333)
  else
    local apps=$(( total / 3 / 101 )); [ "$apps" -ge 1 ] || apps=1
    work=(--spark-apps "$apps" --plain-pods $(( total - total / 3 )))
    [ "$shape" = affinity ] &&
      work+=(--executor-anti-affinity --spread-fraction 0.2 --anti-affinity-fraction 0.02)
  fi
  python3 tests/bench/gen_workload.py --seed "$seed" --nodes "$nodes" --zones-min "$zmin" --zones-max "$zmax" \
    "${work[@]}" --out-prefix "$prefix" "$@" 2>/dev/null
}

# sim PREFIX: prints "wall_s rss_kb status" and leaves the summary in PREFIX.out.
sim() {
  local status=0
  /usr/bin/time -f "%e %M" -o "$1.time" timeout "$limit" "$build/bin/kubenexus-scheduler" simulate "$1"-*.json \
    >"$1.out" 2>"$1.err" || status=$?
  echo "$(cat "$1.time" | tail -1) $status"
}

# measure SERIES NODES PODS (zones $zmin..$zmax, workload $shape)
measure() {
  local series=$1 nodes=$2 total=$3 p="$tmp/c-$shape-$2-$3-$zmin-$zmax" ro="$tmp/ro-$shape-$2-$3-$zmin-$zmax"
  if [ -f "$p.done" ]; then  # already measured in another series
    grep "\"nodes\": $nodes, \"asked\": $total, \"zones\": \"$zmin-$zmax\", \"shape\": \"$shape\"" "$results" | head -1 |
      sed "s/\"series\": \"[a-z]*\"/\"series\": \"$series\"/" >>"$results"
    return
  fi
  gen "$nodes" "$total" "$p"
  gen "$nodes" "$total" "$ro" --no-cluster
  read -r wall rss status < <(sim "$p")
  read -r wall_ro _ _ < <(sim "$ro")
  rm -f "$p"-[0-9]*.json "$ro"-[0-9]*.json
  python3 - "$series" "$nodes" "$total" "$wall" "$rss" "$status" "$wall_ro" "$p.out" "$zmin-$zmax" "$shape" >>"$results" <<'PY'
import json, sys
series, nodes, asked, wall, rss, status, wall_ro, out, zones, shape = sys.argv[1:]
summary = {}
try:
    for line in open(out):
        if line.startswith('{"summary"'):
            summary = json.loads(line)["summary"]
except OSError:
    pass
print(json.dumps({"series": series, "nodes": int(nodes), "asked": int(asked), "zones": zones, "shape": shape,
                  "wall": float(wall),
                  "rss_kb": int(rss), "status": int(status), "wall_ro": float(wall_ro),
                  "bound": summary.get("pods", {}).get("bound", 0),
                  "pending": summary.get("pods", {}).get("pending", 0),
                  "gangs": summary.get("gangs", {}), "util": summary.get("utilisation", {})}))
PY
  touch "$p.done"
  tail -1 "$results" | python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); print("  %6d nodes %7d pods: %d bound in %.1f s (read-only %.1f s), peak RSS %d MiB%s" % (r["nodes"], r["asked"], r["bound"], r["wall"], r["wall_ro"], r["rss_kb"] // 1024, "" if r["status"] == 0 else " [exit %d]" % r["status"]), file=sys.stderr)'
}

echo "scheduler.sh: seed $seed, zones $zmin..$zmax, timeout ${limit}s per run" >&2
for n in $nodes_series; do measure nodes "$n" "$pods"; done
for p in $pods_series; do measure pods "$pods_nodes" "$p"; done
shape=affinity
for n in $aff_series; do measure affinity "$n" "$aff_pods"; done
shape=mixed
if [ "$target" = 1 ]; then zmin=4 zmax=4; measure target 5000 150000; fi
if [ "$gang" = 1 ]; then zmin=4 zmax=4 shape=gang; measure gang 5000 150000; fi

python3 - "$results" "$limit" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
limit = sys.argv[2]

def rate(r):
    if r["status"] != 0:
        return "timeout (%s s)" % limit if r["status"] == 124 else "exit %d" % r["status"]
    net = r["wall"] - r["wall_ro"]
    return "%.0f" % (r["bound"] / net) if net > 0.005 else "n/a"

def zones_text(z):
    lo, hi = z.split("-")
    return lo if lo == hi else "%s..%s" % (lo, hi)

def table(series, title):
    sel = [r for r in rows if r["series"] == series]
    if not sel:
        return
    first = sel[0]
    print("%s\n" % title)
    print("| nodes | zones | pods asked | pods bound | gangs placed / waiting | wall s | read-only s | placements/s | end to end pods/s | peak RSS MiB | growth: nodes, pods, time, RSS | cpu util |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
    for r in sel:
        growth = "x%.0f, x%.1f, x%.1f, x%.1f" % (r["nodes"] / first["nodes"], r["asked"] / first["asked"],
                                                 r["wall"] / max(first["wall"], 0.01), r["rss_kb"] / max(first["rss_kb"], 1))
        g = r["gangs"]
        print("| %d | %s | %d | %d | %s / %s | %.1f | %.1f | %s | %.0f | %d | %s | %s%% |" % (
            r["nodes"], zones_text(r["zones"]), r["asked"], r["bound"], g.get("placed", "-"), g.get("waiting", "-"), r["wall"], r["wall_ro"],
            rate(r), r["bound"] / r["wall"] if r["wall"] > 0 else 0, r["rss_kb"] // 1024, growth,
            r["util"].get("cpu", "-")))
    print()

print("### Scheduler (`simulate`, one core)\n")
table("nodes", "Growth with nodes (same workload):")
table("pods", "Growth with pods (same cluster):")
table("affinity", "Inter-pod mix (executors preferring hostname anti-affinity to each other, a fifth of plain pods "
                  "spread over zones, 2% with required hostname anti-affinity; >= 30,000 placements/s at 5,000 nodes):")
table("target", "The issue's target shape (>= 100,000 placements/s; peak RSS <= 256 MiB):")
table("gang", "The gang shape: every pod in a Spark gang placed driver first, a third single-numa "
              "(>= 100,000 end to end pods/s; peak RSS <= 256 MiB):")
PY
