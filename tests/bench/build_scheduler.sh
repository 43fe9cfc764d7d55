# Sourced by the scheduler benchmarks (from the repository root): sets $build
# (KN_BUILD_DIR, else build/) and builds kubenexus-scheduler there if absent.
build=${KN_BUILD_DIR:-build}
if [ ! -x "$build/bin/kubenexus-scheduler" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j"${KN_JOBS:-2}" --target kubenexus-scheduler >/dev/null
fi
