#!/usr/bin/env bash
# README command 1: install, build, and run the whole chain on a laptop, no
# cluster needed:
#   1. a local CA and serving certificate (certs/gen-certs.sh),
#   2. kubenexus-webhook on 127.0.0.1 over TLS,
#   3. the example SparkApplications (good and deliberately misconfigured) sent
#      through it over HTTPS as the API server would send them, followed by the
#      driver and executor pods the Spark Operator and Spark would create,
#   4. the scheduler's simulation of the good applications on a sample cluster
#      with NUMA zones and GPUs, printed as a table.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"${KN_JOBS:-2}" >/dev/null

work=$(mktemp -d)
webhook_pid=""
cleanup() {
  if [ -n "$webhook_pid" ] && kill -0 "$webhook_pid" 2>/dev/null; then
    kill -TERM "$webhook_pid"; wait "$webhook_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== 1. certificate for 127.0.0.1 (certs/gen-certs.sh)"
certs/gen-certs.sh --out "$work/certs" --ip 127.0.0.1 --dns localhost 2>/dev/null

# A free loopback port unless one is given.
port=${KN_DEMO_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
echo "== 2. kubenexus-webhook on https://127.0.0.1:$port"
build/bin/kubenexus-webhook --tls-cert-file "$work/certs/tls.crt" --tls-key-file "$work/certs/tls.key" \
  --bind-address 127.0.0.1 --port "$port" 2>"$work/webhook.log" &
webhook_pid=$!
for _ in $(seq 100); do
  curl -sf --cacert "$work/certs/ca.crt" "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 "$webhook_pid" 2>/dev/null || { cat "$work/webhook.log"; exit 1; }
  sleep 0.1
done

echo
echo "== 3. SparkApplications and their pods through the webhook (as the API server sends them)"
send() { build/bin/kubenexus-webhook send --server "https://127.0.0.1:$port" --cacert "$work/certs/ca.crt" "$@"; }
echo "-- the seed guide's examples, written for kubenexus:"
send deploy/examples/spark-pi.yaml deploy/examples/data-processing.yaml \
     deploy/examples/spark-ml-gpu.yaml deploy/examples/kafka-stream.yaml | sed 's/^/   /'
echo
echo "-- deliberately misconfigured applications (each is rejected at apply time):"
rc=0
send deploy/examples/misconfigured/*.yaml | grep -v '^  ' | sed 's/^/   /' || rc=$?
[ "$rc" -le 1 ] || { echo "demo: send failed ($rc)"; exit 1; }

echo
echo "== 4. the scheduler's simulation on a sample cluster (NUMA zones, GPUs)"
build/bin/kubenexus-scheduler simulate --format table deploy/examples/demo-cluster.yaml \
  deploy/examples/spark-pi.yaml deploy/examples/data-processing.yaml \
  deploy/examples/spark-ml-gpu.yaml deploy/examples/kafka-stream.yaml \
  deploy/examples/too-big.yaml

echo
echo "== webhook metrics (excerpt)"
curl -s --cacert "$work/certs/ca.crt" "https://127.0.0.1:$port/metrics" | grep '^kubenexus_webhook_requests_total' || true
echo
echo "demo: done"
