#!/usr/bin/env bash
# Webhook benchmark: kubenexus-webhook against a baseline nginx that answers a
# fixed AdmissionReview without parsing the request (`return 200`), both on
# loopback with the same certificate and TLS settings (TLS 1.2+, ECDHE-ECDSA
# with AES128-GCM; TLS 1.3 pinned to TLS_AES_128_GCM_SHA256 by h2load).
#
#   bash tests/bench/webhook.sh             # ~100 s; prints Markdown tables
#   BENCH_SECONDS=2 bash tests/bench/webhook.sh   # quicker, noisier
#
# Load: h2load over HTTP/2 (as kube-apiserver calls webhooks: few connections,
# many concurrent streams) and wrk over HTTP/1.1 (keep-alive, a Lua script
# POSTs the body), with the AdmissionReviews in tests/bench/bodies/ (Spark
# driver pod, executor pod, SparkApplication). Reports requests/s, p50/p99/p99.9
# latency, server CPU per request (utime+stime from /proc/<pid>/stat) and the
# webhook/baseline ratio; then a second pass paced at half the webhook's peak
# HTTP/2 rate (h2load --rps) for latency at a steady load. Not a test: it never
# fails on numbers. Both servers and the clients share this machine's cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
secs=${BENCH_SECONDS:-4}
build=${KN_BUILD_DIR:-build}
h2_clients=${BENCH_H2_CLIENTS:-4} h2_streams=${BENCH_H2_STREAMS:-32}
h1_conns=${BENCH_H1_CONNS:-32}
threads=${BENCH_THREADS:-2}
# Two free loopback ports (or BENCH_PORT and the next one).
read -r port_hook port_base < <(python3 -c '
import os, socket
if os.environ.get("BENCH_PORT"):
    p = int(os.environ["BENCH_PORT"]); print(p, p + 1)
else:
    s = [socket.socket() for _ in range(2)]
    for x in s: x.bind(("127.0.0.1", 0))
    print(*[x.getsockname()[1] for x in s])')

scripts/install-deps.sh nghttp2-client wrk nginx-light
if [ ! -x "$build/bin/kubenexus-webhook" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j"${KN_JOBS:-2}" --target kubenexus-webhook >/dev/null
fi
for p in "$port_hook" "$port_base"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "webhook.sh: port $p is in use" >&2; exit 2; fi
done

tmp=$(mktemp -d /tmp/kn-bench-webhook.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
certs/gen-certs.sh --out "$tmp/certs" --dns localhost --ip 127.0.0.1 >/dev/null 2>&1

# ---- the servers ----
"$build/bin/kubenexus-webhook" --tls-cert-file "$tmp/certs/tls.crt" --tls-key-file "$tmp/certs/tls.key" \
  --bind-address 127.0.0.1 --port "$port_hook" --threads "$threads" --log-level error \
  >"$tmp/webhook.log" 2>&1 &
hook_pid=$!
pids+=("$hook_pid")

mkdir -p "$tmp/nginx/logs" "$tmp/nginx/www"
touch "$tmp/nginx/www/mutate"
chmod a+rx "$tmp" "$tmp/nginx" "$tmp/nginx/www"  # nginx's workers run as nobody when started by root
uid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["request"]["uid"])' tests/bench/bodies/driver-pod.json)
fixed="{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"response\":{\"uid\":\"$uid\",\"allowed\":true}}"
cat >"$tmp/nginx/nginx.conf" <<CONF
worker_processes $threads;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log error;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port_base ssl http2;
    ssl_certificate $tmp/certs/tls.crt;
    ssl_certificate_key $tmp/certs/tls.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
    # nginx would discard an unread HTTP/2 body and then close the connection
    # as a flood, so the body is read (a no-op mirror subrequest) and the
    # fixed answer sent from the content phase (POST to a static location is
    # 405, turned into 200 + the fixed AdmissionReview).
    location = /mutate {
      mirror /_read_body;
      mirror_request_body on;
      root $tmp/nginx/www;
      error_page 405 =200 @fixed;
    }
    location @fixed {
      default_type application/json;
      return 200 '$fixed';
    }
    location = /_read_body { internal; return 204; }
  }
}
CONF
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' &
base_pid=$!
pids+=("$base_pid")

for i in $(seq 1 100); do
  if curl -sk -o /dev/null "https://127.0.0.1:$port_hook/readyz" && curl -sk -o /dev/null "https://127.0.0.1:$port_base/mutate"; then break; fi
  [ "$i" -lt 100 ] || { echo "webhook.sh: servers did not start" >&2; cat "$tmp/webhook.log" "$tmp/nginx/logs/error.log" >&2; exit 1; }
  sleep 0.1
done

# CPU ticks (utime+stime) of a server: the process and, for nginx, its workers.
ticks() {
  local total=0 p
  for p in "$1" $(pgrep -P "$1" || true); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$total"
}
hz=$(getconf CLK_TCK)

results="$tmp/results.jsonl"
# run PASS SERVER PROTO BODY [RPS_TOTAL]: one measurement, appended to results.
run() {
  local pass=$1 server=$2 proto=$3 body=$4 rps=${5:-0}
  local port=$port_hook pid=$hook_pid
  [ "$server" = nginx ] && port=$port_base pid=$base_pid
  local url="https://127.0.0.1:$port/mutate?timeout=10s" file="tests/bench/bodies/$body.json"
  local t0 out
  if [ "$proto" = h2 ] || [ "$rps" != 0 ]; then
    local clients=$h2_clients extra=(-m "$h2_streams")
    [ "$proto" = h1 ] && clients=$h1_conns extra=(--h1 -m 1)
    [ "$rps" != 0 ] && extra+=(--rps "$(( (rps + clients - 1) / clients ))")
    local args=(-c "$clients" "${extra[@]}" -d "$file" -H 'content-type: application/json'
                --tls13-ciphers=TLS_AES_128_GCM_SHA256 --ciphers=ECDHE-ECDSA-AES128-GCM-SHA256)
    # A separate warm-up run: h2load's --warm-up-time stalls against nginx.
    h2load "${args[@]}" -D 1 "$url" >/dev/null 2>&1 || true
    t0=$(ticks "$pid")
    rm -f "$tmp/h2.log"
    h2load "${args[@]}" -D "$secs" --log-file="$tmp/h2.log" "$url" >"$tmp/h2load.out" 2>&1 || true
    out=$(python3 tests/bench/bench_report.py h2log "$tmp/h2.log" "$tmp/h2load.out")
  else
    KN_BODY="$file" wrk -t 2 -c "$h1_conns" -d 1s -s tests/bench/wrk_post.lua "$url" >/dev/null 2>&1 || true
    t0=$(ticks "$pid")
    out=$(KN_BODY="$file" wrk -t 2 -c "$h1_conns" -d "${secs}s" -s tests/bench/wrk_post.lua "$url" 2>&1 |
          sed -n 's/^KNRESULT //p')
  fi
  local t1
  t1=$(ticks "$pid")
  python3 - "$out" "$pass" "$server" "$proto" "$body" "$rps" "$((t1 - t0))" "$hz" >>"$results" <<'PY'
import json, sys
r = json.loads(sys.argv[1] or '{"requests":0,"duration_us":1,"errors":1,"non2xx":0,"p50":0,"p99":0,"p999":0}')
ticks, hz = int(sys.argv[7]), int(sys.argv[8])
n = max(r["requests"], 1)
r.update(server=sys.argv[3], proto=sys.argv[4], body=sys.argv[5], target=float(sys.argv[6]),
         rps=r["requests"] / (r["duration_us"] / 1e6), cpu_us=ticks * 1e6 / hz / n, errors=r["errors"] + r["non2xx"])
r["pass"] = sys.argv[2]
print(json.dumps(r))
PY
  tail -1 "$results" | python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); print("  %-5s %-7s %-2s %-16s %8.0f req/s  p99 %6.2f ms" % (r["pass"], r["server"], r["proto"], r["body"], r["rps"], r["p99"]/1000), file=sys.stderr)'
}

bodies=(driver-pod executor-pod sparkapplication)
echo "webhook.sh: ${secs}s per run, HTTP/2 ${h2_clients} connections x ${h2_streams} streams, HTTP/1.1 ${h1_conns} connections, ${threads} server threads" >&2
for body in "${bodies[@]}"; do
  for proto in h2 h1; do
    for server in webhook nginx; do run peak "$server" "$proto" "$body"; done
  done
done
for body in "${bodies[@]}"; do
  peak=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["pass"] == "peak" and r["server"] == "webhook" and r["proto"] == "h2" and r["body"] == sys.argv[2]:
        print(int(r["rps"] / 2))' "$results" "$body")
  for server in webhook nginx; do run half "$server" h2 "$body" "$peak"; done
done

echo "### Webhook ($(nproc) cores shared by servers and clients; $(date -u +%Y-%m-%d))"
echo
python3 tests/bench/bench_report.py table "$results"
if ! kill -0 "$hook_pid" 2>/dev/null; then echo "webhook.sh: kubenexus-webhook died during the run" >&2; cat "$tmp/webhook.log" >&2; exit 1; fi
