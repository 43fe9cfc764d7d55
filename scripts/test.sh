#!/usr/bin/env bash
# The README's test command: installs dependencies, builds, runs every test
# suite (ctest), then the same unit suites in an ASan+UBSan build, and the unit
# binaries under valgrind with zero leaks allowed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh nginx-light clang-format-14  # nginx: the HTTP/2 front in test_scheduler_http2
jobs=${KN_JOBS:-2}
# promtool runs the alert tests of deploy/monitoring/ (skipped without it).
KN_PROMTOOL=${KN_PROMTOOL:-$(scripts/promtool.sh build/tools || true)}
export KN_PROMTOOL

echo "== build (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
echo "== ctest"
(cd build && ctest --output-on-failure -j"$jobs")

if [ "${KN_QUICK:-0}" != "1" ]; then
  echo "== sanitizer build (ASan+UBSan)"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DKN_SANITIZE=ON >/dev/null
  cmake --build build-asan -j"$jobs"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j"$jobs")

  echo "== valgrind (unit binaries, zero leaks)"
  fail=0
  for t in build/tests/test_*; do
    [ -x "$t" ] || continue
    if ! valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible \
         --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 "$t" >/tmp/kn-vg.log 2>&1; then
      echo "valgrind: $t failed"; tail -50 /tmp/kn-vg.log; fail=1
    else
      echo "valgrind: $t clean"
    fi
  done
  [ $fail -eq 0 ] || exit 1
fi
echo "== all tests passed"
