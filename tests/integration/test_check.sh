#!/usr/bin/env bash
# test_check.sh - `kubenexus-webhook check` as a user runs it in CI: the real
# binary on YAML/JSON files and stdin; output lines and exit codes 0/1/2.
set -u
BIN="${KN_BIN_DIR:?}/kubenexus-webhook"
FIX="${KN_SOURCE_DIR:?}/tests/fixtures"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

# run NAME WANT_RC ARGS... : runs check, keeps stdout in $tmp/out, stderr in $tmp/err
run() {
  local name=$1 want=$2
  shift 2
  "$BIN" check "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "FAIL $name: exit $rc, want $want"; cat "$tmp/out" "$tmp/err"; fails=$((fails + 1))
  fi
}
has_line() { # NAME EXACT_LINE
  if ! grep -qxF -- "$2" "$tmp/out"; then
    echo "FAIL $1: no line: $2"; echo "--- got:"; cat "$tmp/out"; fails=$((fails + 1))
  fi
}
has_text() { # NAME FILE SUBSTRING
  if ! grep -qF -- "$3" "$2"; then
    echo "FAIL $1: $2 lacks: $3"; echo "--- got:"; cat "$2"; fails=$((fails + 1))
  fi
}

# 1. The seed guide's example passes; the patch adds the executor reservation.
run guide 0 "$FIX/check/spark-pi.yaml"
has_line guide "SparkApplication default/spark-pi: OK"
has_line guide '  patch: [{"op":"add","path":"/spec/driver/annotations","value":{"scheduling.kubenexus.io/executor-reservation":"{\"count\":3,\"requests\":{\"cpu\":\"1\",\"memory\":\"896Mi\"}}"}}]'

# 2. Several documents, one denied: exit 1, every object reported in order.
run mixed 1 "$FIX/check/mixed.yaml"
has_line mixed "ConfigMap spark-jobs/spark-defaults: skipped (not checked)"
has_line mixed "SparkApplication spark-jobs/kafka-stream-processor: OK"
has_line mixed 'SparkApplication spark-jobs/data-processing: DENIED: driver label pod-group.scheduling.kubenexus.io/min-available is "21", want "25" (1 driver + 24 executors)'
has_line mixed "Pod default/spark-pi-exec-1: OK"
has_line mixed '  patch: [{"op":"add","path":"/spec/schedulerName","value":"kubenexus-scheduler"}]'
if [ "$(grep -c '' "$tmp/out")" -ne 6 ]; then echo "FAIL mixed: want 6 lines"; cat "$tmp/out"; fails=$((fails + 1)); fi

# 3. --scheduler-name is the name injected.
run sched 1 --scheduler-name gang-scheduler "$FIX/check/mixed.yaml"
has_text sched "$tmp/out" '{"op":"add","path":"/spec/driver/schedulerName","value":"gang-scheduler"}'

# 4. stdin ("-"), JSON: the object of an AdmissionReview fixture.
python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["request"]["object"]))' \
  "$FIX/admission/sparkapp-spark-pi-update.json" >"$tmp/app.json"
"$BIN" check - <"$tmp/app.json" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] || { echo "FAIL stdin: exit $rc, want 1"; fails=$((fails + 1)); }
has_line stdin 'SparkApplication default/spark-pi: DENIED: driver label pod-group.scheduling.kubenexus.io/min-available is "4", want "6" (1 driver + 5 executors)'

# 4b. --fill-gang-labels derives the gang of an app that has none.
python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["request"]["object"]))' \
  "$FIX/admission/sparkapp-migration-before.json" >"$tmp/before.json"
run nofill 0 "$tmp/before.json"
has_line nofill "SparkApplication default/my-job: OK"
if grep -q patch "$tmp/out"; then echo "FAIL nofill: patched without --fill-gang-labels"; fails=$((fails + 1)); fi
run fill 0 --fill-gang-labels "$tmp/before.json"
has_text fill "$tmp/out" '{"op":"add","path":"/spec/driver/labels","value":{"pod-group.scheduling.kubenexus.io/name":"my-job","pod-group.scheduling.kubenexus.io/min-available":"6"}}'

# 5. A warning is printed for dynamic allocation.
sed 's/^  sparkVersion: "3.5.0"$/  sparkVersion: "3.5.0"\n  dynamicAllocation:\n    enabled: true\n    initialExecutors: 3/' \
  "$FIX/check/spark-pi.yaml" >"$tmp/da.yaml"
run warning 0 "$tmp/da.yaml"
has_line warning "  warning: dynamic allocation: the gang holds 1 driver + 3 executors; executors beyond 3 are scheduled outside the gang"

# 6. Unreadable input: exit 2 with the file and position named; it wins over a denial.
run broken 2 "$FIX/check/broken.yaml"
has_text broken "$tmp/err" "broken.yaml: line 6"
run missing 2 "$tmp/does-not-exist.yaml"
has_text missing "$tmp/err" "does-not-exist.yaml"
run mixed-and-broken 2 "$FIX/check/mixed.yaml" "$FIX/check/broken.yaml"
has_line mixed-and-broken "SparkApplication spark-jobs/kafka-stream-processor: OK"
run usage 2

if [ "$fails" -ne 0 ]; then echo "$fails failure(s)"; exit 1; fi
echo "test_check: all passed"
