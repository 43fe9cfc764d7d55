#!/usr/bin/env bash
# Runs the benchmarks and prints their Markdown tables (for the README's
# "## Benchmarks" section): tests/bench/webhook.sh, tests/bench/scheduler.sh,
# tests/bench/scheduler_e2e.sh, then tests/bench/quality.sh.
# Builds build/ (RelWithDebInfo) first. Each takes about two minutes; their
# environment knobs (BENCH_SECONDS, BENCH_NODES, ...) pass through.
#
#   bash scripts/bench.sh            # all
#   bash scripts/bench.sh scheduler  # one of: webhook scheduler scheduler_e2e quality
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"${KN_JOBS:-2}" --target kubenexus-webhook kubenexus-scheduler >/dev/null
which=("$@")
[ ${#which[@]} -gt 0 ] || which=(webhook scheduler scheduler_e2e quality)
for b in "${which[@]}"; do
  case $b in
    webhook|scheduler|scheduler_e2e|quality) bash "tests/bench/$b.sh"; echo ;;
    *) echo "bench.sh: unknown benchmark $b (webhook, scheduler, scheduler_e2e, quality)" >&2; exit 2 ;;
  esac
done
