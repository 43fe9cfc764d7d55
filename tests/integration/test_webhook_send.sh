#!/usr/bin/env bash
# test_webhook_send.sh - `kubenexus-webhook send` against the real webhook over
# HTTPS: the deploy/examples applications go through /mutate as the API server
# sends them, then the driver and executor pods the operator and Spark would
# create; each misconfigured example is denied with its own message.
set -u
BIN="${KN_BIN_DIR:?}/kubenexus-webhook"
SRC="${KN_SOURCE_DIR:?}"
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

"$SRC/certs/gen-certs.sh" --out "$tmp/c" --ip 127.0.0.1 --dns localhost >/dev/null 2>&1 || { echo "gen-certs failed"; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" --tls-cert-file "$tmp/c/tls.crt" --tls-key-file "$tmp/c/tls.key" --bind-address 127.0.0.1 \
  --port "$port" 2>"$tmp/log" &
pid=$!
for _ in $(seq 100); do
  curl -sf --cacert "$tmp/c/ca.crt" "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
send() { "$BIN" send --server "https://127.0.0.1:$port" --cacert "$tmp/c/ca.crt" "$@" >"$tmp/out" 2>"$tmp/err"; }

# 1. spark-pi: patched (schedulerName on both roles, the executor reservation
#    on the driver), then 1 driver + 3 executor pods admitted; exit 0.
send "$SRC/deploy/examples/spark-pi.yaml"; rc=$?
[ $rc -eq 0 ] || fail "spark-pi: exit $rc"
grep -qxF "SparkApplication default/spark-pi: PATCHED" "$tmp/out" || fail "spark-pi not patched"
grep -qF '"path":"/spec/executor/schedulerName","value":"kubenexus-scheduler"' "$tmp/out" || fail "no executor schedulerName patch"
grep -qF 'scheduling.kubenexus.io/executor-reservation' "$tmp/out" || fail "no reservation"
grep -qF '\"count\":3' "$tmp/out" || fail "reservation count is not 3"
[ "$(grep -c '^Pod default/spark-pi-' "$tmp/out")" -eq 4 ] || fail "want 4 pods sent"
grep -qxF "Pod default/spark-pi-driver: ALLOWED" "$tmp/out" || fail "driver pod not allowed"

# 2. A hand-written pod with gang labels and the defaulted scheduler gets it
#    replaced (the API server has set default-scheduler before we are called).
cat >"$tmp/pod.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: worker-0
  namespace: ml
  labels:
    pod-group.scheduling.kubenexus.io/name: "mpi-job"
    pod-group.scheduling.kubenexus.io/min-available: "2"
spec:
  containers:
    - name: w
      image: busybox
YAML
send "$tmp/pod.yaml"; rc=$?
[ $rc -eq 0 ] || fail "pod: exit $rc"
grep -qF '{"op":"replace","path":"/spec/schedulerName","value":"kubenexus-scheduler"}' "$tmp/out" || { fail "pod: no replace"; cat "$tmp/out"; }

# 3. Every misconfigured example is denied, each with what to change.
declare -A want=(
  [batch-scheduler]='spec.batchSchedulerOptions.queue is "research"'
  [core-limit-below-cores]='coreLimit "500m" is below cores 1'
  [gang-name-mismatch]='gang name differs between roles'
  [gang-on-driver-only]='missing on the executor'
  [gpu-without-vendor]='set it to the device plugin'"'"'s domain, e.g. nvidia.com'
  [kubernetes-memory-unit]='Spark wants 4g'
  [min-available-differs]='is "5", want "4" (1 driver + 3 executors)'
  [min-available-not-a-number]='is "four", want "4" (1 driver + 3 executors)'
  [other-scheduler]='spec.executor.schedulerName is "default-scheduler", want "kubenexus-scheduler"'
  [unknown-numa-policy]='want one of best-effort, restricted, single-numa, isolated'
  [unknown-numa-resource]='"gpu" is not a resource'
  [wrong-min-available]='is "3", want "4" (1 driver + 3 executors)'
  [zero-cores]='spec.driver.cores is 0, want at least 1'
  [zero-instances]='spec.executor.instances is 0'
)
for f in "$SRC"/deploy/examples/misconfigured/*.yaml; do
  name=$(basename "$f" .yaml)
  send "$f"; rc=$?
  [ $rc -eq 1 ] || fail "$name: exit $rc, want 1"
  line=$(grep "^SparkApplication default/$name: DENIED: " "$tmp/out")
  [ -n "$line" ] || { fail "$name: not denied"; cat "$tmp/out"; continue; }
  [ -n "${want[$name]:-}" ] || { fail "$name: no expectation in this test"; continue; }
  case "$line" in *"${want[$name]}"*) ;; *) fail "$name: message lacks '${want[$name]}': $line" ;; esac
  grep -q '^Pod ' "$tmp/out" && fail "$name: pods sent for a denied application"
done

# 4. Gang-label fill-in: off by default; on for a webhook entry whose path
#    is /mutate/fill-gang-labels (namespaces labelled to opt in).
sed -e '/pod-group.scheduling.kubenexus.io/d' "$SRC/deploy/examples/spark-pi.yaml" >"$tmp/nolabels.yaml"
send "$tmp/nolabels.yaml"; rc=$?
[ $rc -eq 0 ] || fail "no labels: exit $rc"
grep -qF 'pod-group.scheduling.kubenexus.io' "$tmp/out" && fail "labels filled without opt-in"
"$BIN" send --server "https://127.0.0.1:$port" --cacert "$tmp/c/ca.crt" --path /mutate/fill-gang-labels \
  "$tmp/nolabels.yaml" >"$tmp/out" 2>&1; rc=$?
[ $rc -eq 0 ] || { fail "fill-in: exit $rc"; cat "$tmp/out"; }
grep -qF '"pod-group.scheduling.kubenexus.io/min-available":"4"' "$tmp/out" || { fail "fill-in: no min-available 4"; cat "$tmp/out"; }
grep -qF '"pod-group.scheduling.kubenexus.io/name":"spark-pi"' "$tmp/out" || fail "fill-in: no gang name"

# 5. Transport errors are exit 2, not a silent success.
"$BIN" send --server "https://127.0.0.1:1" --cacert "$tmp/c/ca.crt" "$SRC/deploy/examples/spark-pi.yaml" >/dev/null 2>&1
[ $? -eq 2 ] || fail "unreachable server: want exit 2"
"$BIN" send --server "https://127.0.0.1:$port" "$SRC/deploy/examples/spark-pi.yaml" >/dev/null 2>&1
[ $? -eq 2 ] || fail "unknown CA: want exit 2"

if [ $fails -ne 0 ]; then echo "$fails failure(s)"; exit 1; fi
echo "test_webhook_send: all passed"
