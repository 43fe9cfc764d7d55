#!/usr/bin/env bash
# Scheduler end-to-end benchmark: the real kubenexus-scheduler against the
# kube-apiserver test double (tests/apiserver/kube_apiserver_double.py, TLS,
# token auth), pods bound per second next to the raw rate at which the same
# double accepts Bindings from a plain client (BENCH_CONCURRENCY threads, one
# keep-alive connection each). Driver: tests/bench/scheduler_e2e.py.
#
#   bash tests/bench/scheduler_e2e.sh     # 50 nodes, 2,000 pods (a third in gangs of 10); < 1 min
#   BENCH_NODES=100 BENCH_PODS=5000 BENCH_GANG=20 BENCH_CONCURRENCY=32 bash tests/bench/scheduler_e2e.sh
#
# Each phase is bounded by BENCH_TIMEOUT (60 s). Both clients share the
# machine with the double, so on few cores the ratio also says how much CPU
# each client takes away from the server. The scheduler also records one
# Scheduled Event per pod, which the raw client does not; its events go in a
# low-priority lane (one request at a time while bindings are in flight, a
# bounded queue that drops when full), so the report also says how many were
# created, aggregated and dropped, with the scheduler's CPU, its connections,
# and the double's CPU per bound pod in each phase. Not a test: it never
# fails on numbers (it exits 1 only if the double cannot start).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/build_scheduler.sh
tmp=$(mktemp -d /tmp/kn-bench-e2e.XXXXXX)
dbl=
cleanup() { [ -z "$dbl" ] || { kill "$dbl" 2>/dev/null; wait "$dbl" 2>/dev/null || true; }; rm -rf "$tmp"; }
trap cleanup EXIT
(
  cd "$tmp"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt \
    -days 1 -subj /CN=kn-bench-ca
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >srv.ext
  openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 1 -extfile srv.ext
) >/dev/null 2>&1
token=kn-bench-$RANDOM$RANDOM
python3 tests/apiserver/kube_apiserver_double.py --port 0 --cert "$tmp/srv.crt" --key "$tmp/srv.key" \
  --token "$token" --port-file "$tmp/port" --history 100000 >"$tmp/double.log" 2>&1 &
dbl=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || { echo "scheduler_e2e: the test double did not start:" >&2; cat "$tmp/double.log" >&2; exit 1; }
port=$(cat "$tmp/port")
cat >"$tmp/kubeconfig.yaml" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: double
  cluster:
    server: https://127.0.0.1:$port
    certificate-authority: ca.crt
users:
- name: bench
  user:
    token: $token
contexts:
- name: bench
  context: {cluster: double, user: bench}
current-context: bench
EOF
echo "**Scheduler end to end** ($(nproc) cores; nodes ${BENCH_NODES:-50}, pods ${BENCH_PODS:-2000})"
echo
python3 tests/bench/scheduler_e2e.py --port "$port" --ca "$tmp/ca.crt" --token "$token" \
  --scheduler "$build/bin/kubenexus-scheduler" --kubeconfig "$tmp/kubeconfig.yaml" \
  --nodes "${BENCH_NODES:-50}" --pods "${BENCH_PODS:-2000}" --gang-size "${BENCH_GANG:-10}" \
  --concurrency "${BENCH_CONCURRENCY:-64}" --timeout "${BENCH_TIMEOUT:-60}" --double-pid "$dbl"
