#!/usr/bin/env bash
# Installs what the fuzzing build (scripts/fuzz.sh, -DKN_FUZZ=ON) needs on top of
# the normal dependencies: clang 14 with its runtime libraries (libFuzzer, ASan,
# UBSan) and llvm-symbolizer for readable stacks. Only when missing; the normal
# build and tests never need clang.
set -euo pipefail
exec "$(dirname "$0")/install-deps.sh" clang-14 libclang-rt-14-dev llvm-14
