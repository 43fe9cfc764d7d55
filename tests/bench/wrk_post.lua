-- wrk script for tests/bench/webhook.sh: POSTs the file named by $KN_BODY
-- (an AdmissionReview) and prints one JSON line with the results (latencies
-- in microseconds), which webhook.sh collects.
local f = assert(io.open(os.getenv("KN_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'KNRESULT {"requests":%d,"duration_us":%d,"errors":%d,"non2xx":%d,"p50":%d,"p99":%d,"p999":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
