#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, -DKN_FUZZ=ON, ASan+UBSan) in build-fuzz
# and runs each for a bounded time; fails if any target crashes (exit 3: the
# targets do not build).
#
#   bash scripts/fuzz.sh                  # every target, FUZZ_SECONDS (20) each
#   FUZZ_SECONDS=300 bash scripts/fuzz.sh json quantity
#
# Seeds come from tests/fuzz/corpus/<target>/ and tests/fuzz/regressions/<target>/;
# inputs libFuzzer finds are kept in build-fuzz/corpus/<target>/ (not in git).
# A crash is copied to tests/fuzz/regressions/<target>/crash-<sha1>: fix the
# bug, keep the file, and the unit test test_fuzz_regressions replays it in
# every normal, sanitizer and valgrind run (or move it to pending/ and report
# the bug when it is someone else's to fix; see tests/fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-fuzz-deps.sh
secs=${FUZZ_SECONDS:-20}
build=${KN_FUZZ_BUILD:-build-fuzz}
cc=$(command -v clang-14 || command -v clang)

cmake -S . -B "$build" -DKN_FUZZ=ON -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# Exit 3 (not 1) when the code does not build with clang: that is a defect
# in the tree, not a finding, and CI fails on it.
if ! cmake --build "$build" -j"${KN_JOBS:-2}" --target fuzz; then
  echo "fuzz: the fuzz targets do not build with $cc (see above)" >&2
  exit 3
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for t in "$build"/fuzz/fuzz_*; do targets+=("$(basename "$t" | sed 's/^fuzz_//')"); done
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for t in "${targets[@]}"; do
  bin="$build/fuzz/fuzz_$t"
  [ -x "$bin" ] || { echo "fuzz: no target $t" >&2; failed+=("$t"); continue; }
  work="$build/corpus/$t" artifacts="$build/artifacts/$t"
  rm -rf "$artifacts"  # only this run's findings are copied to regressions/
  mkdir -p "$work" "$artifacts" "tests/fuzz/corpus/$t"
  seeds=("tests/fuzz/corpus/$t")
  [ -d "tests/fuzz/regressions/$t" ] && seeds+=("tests/fuzz/regressions/$t")
  echo "== fuzz $t (${secs}s)"
  if "$bin" "$work" "${seeds[@]}" </dev/null -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 \
       -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/" >"$build/fuzz-$t.log" 2>&1; then
    grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" "$build/fuzz-$t.log" | tail -2 || true
  else
    echo "fuzz: $t FAILED; log: $build/fuzz-$t.log" >&2
    grep -E "ERROR|invariant broken|SUMMARY|^    #[0-9]" "$build/fuzz-$t.log" | head -30 >&2 || true
    mkdir -p "tests/fuzz/regressions/$t"
    for a in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
      [ -f "$a" ] || continue
      cp "$a" "tests/fuzz/regressions/$t/$(basename "$a")"
      echo "fuzz: saved tests/fuzz/regressions/$t/$(basename "$a")" >&2
    done
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failures in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${secs}s each, no crash"
