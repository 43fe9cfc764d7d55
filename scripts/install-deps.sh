#!/usr/bin/env bash
# Installs the build and test dependencies from Debian's packages, only when missing.
# Used by both README commands and by CI, so a fresh Debian 12 machine needs nothing else.
# Extra package names given as arguments are installed too (scripts/install-fuzz-deps.sh,
# tests/bench/*.sh).
set -euo pipefail
pkgs=(build-essential cmake pkg-config libssl-dev libh2o-evloop-dev libyajl-dev
      libcurl4-openssl-dev libyaml-dev libcmocka-dev openssl curl python3 valgrind "$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
