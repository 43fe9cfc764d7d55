#!/usr/bin/env bash
# check-format.sh: fails when a C file of the tree is not as .clang-format
# writes it. To fix: clang-format -i --style=file <file> (clang-format 14, as
# on Debian 12). Run by ctest as the case `format`.
set -euo pipefail
cd "$(dirname "$0")/.."
cf=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$cf" ]; then
  echo "check-format: clang-format is not installed (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.c' '*.h' | grep -v '^webhook/shim/')
else
  mapfile -t files < <(find . -name '*.c' -o -name '*.h' | grep -v -e '^./build' -e '/shim/')
fi
bad=0
for f in "${files[@]}"; do
  if ! "$cf" --style=file --dry-run -Werror "$f" >/dev/null 2>&1; then
    echo "check-format: $f is not formatted (clang-format -i --style=file $f)"
    bad=1
  fi
done
[ $bad -eq 0 ] && echo "check-format: ${#files[@]} files formatted"
exit $bad
