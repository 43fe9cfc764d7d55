#!/usr/bin/env bash
# Prints the path of a promtool for tests/integration/test_monitoring.c (the
# alert tests of deploy/monitoring/): the one on PATH, else promtool alone
# from Debian's prometheus package, unpacked into DIR (default build/tools)
# with `apt-get download`: nothing installed, no server started. Prints
# nothing and exits 1 when neither can be had (the test then skips promtool).
#   export KN_PROMTOOL=$(scripts/promtool.sh build/tools || true)
set -euo pipefail
if command -v promtool >/dev/null 2>&1; then
  command -v promtool
  exit 0
fi
dir=${1:-build/tools}
if [ ! -x "$dir/promtool" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get download prometheus >/dev/null 2>&1) || exit 1
  dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x" || exit 1
  mkdir -p "$dir"
  cp "$tmp/x/usr/bin/promtool" "$dir/promtool"
fi
"$dir/promtool" --version >/dev/null 2>&1 || exit 1
echo "$(cd "$dir" && pwd)/promtool"
