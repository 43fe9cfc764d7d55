#!/usr/bin/env bash
# The kube-apiserver double's admission chain against a scripted TLS webhook
# (tests/integration/e2e_admission_chain.py).
set -euo pipefail
exec python3 "$(dirname "$0")/e2e_admission_chain.py"
