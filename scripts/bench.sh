#!/usr/bin/env bash
# Runs the benchmarks and prints their Markdown tables (for the README's
# "## Benchmarks" section): tests/bench/webhook.sh, tests/bench/scheduler.sh, then
# tests/bench/quality.sh.
# Builds build/ (RelWithDebInfo) first. Each takes about two minutes; their
# environment knobs (BENCH_SECONDS, BENCH_NODES, ...) pass through.
#
#   bash scripts/bench.sh            # all three
#   bash scripts/bench.sh scheduler  # one of: webhook scheduler quality
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"${KN_JOBS:-2}" --target kubenexus-webhook kubenexus-scheduler >/dev/null
which=("$@")
[ ${#which[@]} -gt 0 ] || which=(webhook scheduler quality)
for b in "${which[@]}"; do
  case $b in
    webhook|scheduler|quality) bash "tests/bench/$b.sh"; echo ;;
    *) echo "bench.sh: unknown benchmark $b (webhook, scheduler, quality)" >&2; exit 2 ;;
  esac
done
