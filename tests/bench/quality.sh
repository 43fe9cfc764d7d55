#!/usr/bin/env bash
# Quality benchmark: kubenexus placement (`kubenexus-scheduler simulate`) vs a
# kube-scheduler-like baseline (tests/bench/baseline_sched.py: one pod at a
# time, no gang, no NUMA; LeastAllocated + BalancedAllocation; priorities and
# DefaultPreemption's per-pod preemption) on the same seeded workloads from
# tests/bench/gen_workload.py. Prints a Markdown table per scenario
# (tests/bench/quality_report.py states every metric).
#
#   bash tests/bench/quality.sh          # the four default scenarios, < 1 min
#   bash tests/bench/quality.sh --seed 7 --nodes 300 --spark-apps 150 --plain-pods 8000 \
#        [--executors-max 200] [--numa-fraction 0.3] [--zones-min 2] [--zones-max 8]
#                                        # one scenario of your own (gen_workload.py's flags)
# Not a test: it never fails on numbers.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/build_scheduler.sh
tmp=$(mktemp -d /tmp/kn-bench-quality.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

scenario() { # title, then gen_workload.py flags
  local title=$1 seed=1
  shift
  local a=("$@")
  for ((i = 0; i < ${#a[@]}; i++)); do [ "${a[i]}" = "--seed" ] && seed=${a[i + 1]}; done
  python3 tests/bench/gen_workload.py "$@" --out-prefix "$tmp/w" 2>"$tmp/gen.txt"
  "$build/bin/kubenexus-scheduler" simulate "$tmp"/w-*.json >"$tmp/ours.jsonl"
  echo "**$title** ($(sed 's/^gen_workload: //' "$tmp/gen.txt"); gen_workload.py $*)"
  echo
  python3 tests/bench/quality_report.py --seed "$seed" --ours "$tmp/ours.jsonl" "$tmp"/w-*.json
  echo
  rm -f "$tmp"/w-*.json
}

if [ $# -gt 0 ]; then
  scenario "Custom" "$@"
else
  # More asked than fits, so gangs compete with each other and with plain pods.
  scenario "Contended cluster" --seed 1 --nodes 100 --spark-apps 60 --plain-pods 3000
  # Most pods single-numa, smaller gangs, on nodes of 2 zones.
  scenario "NUMA-heavy" --seed 2 --nodes 200 --zones-min 2 --zones-max 2 --numa-fraction 0.9 \
    --spark-apps 80 --executors-max 60 --plain-pods 4000
  # Room for everything: what both do when nothing competes.
  scenario "Roomy cluster" --seed 3 --nodes 1000 --spark-apps 30 --plain-pods 5000
  # Two priorities: high-priority Spark applications arriving on a cluster full
  # of running low-priority ones (preemption: whole gangs, or pod by pod).
  scenario "Two priorities" --seed 4 --nodes 100 --spark-apps 0 --plain-pods 0 --running-low-apps 300 \
    --high-apps 10 --executors-max 40
fi
