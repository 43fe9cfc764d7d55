#!/usr/bin/env python3
"""Helpers for tests/bench/webhook.sh (Python 3 standard library only).

  bench_report.py h2log LOG OUTPUT      h2load's --log-file and output -> one JSON result line
  bench_report.py table RESULTS.jsonl   result lines -> Markdown tables
"""
import json
import math
import re
import sys


def percentile(sorted_vals, p):
    if not sorted_vals:
        return 0
    k = min(len(sorted_vals) - 1, max(0, math.ceil(p / 100.0 * len(sorted_vals)) - 1))  # nearest rank
    return sorted_vals[k]


def h2log(path, output):
    """Counts and duration from h2load's summary ("finished in 4.00s, ...",
    "status codes: N 2xx, ..."); latencies from its log (start time, status,
    time for request in us, tab-separated), which may also hold requests
    that finished after the measured period."""
    text = open(output).read()
    m = re.search(r"finished in ([0-9.]+)(ms|s),", text)
    dur = float(m.group(1)) / (1000.0 if m.group(2) == "ms" else 1.0) if m else 1.0
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
    codes = [int(x) for x in m.groups()] if m else [0, 0, 0, 0]
    m = re.search(r"requests: \d+ total, \d+ started, \d+ done, \d+ succeeded, \d+ failed, (\d+) errored", text)
    lat = []
    with open(path) as f:
        for line in f:
            parts = line.split("\t")
            if len(parts) >= 3 and int(parts[1]) > 0:
                lat.append(int(parts[2]))
    lat.sort()
    print(json.dumps({"requests": sum(codes), "duration_us": int(dur * 1e6),
                      "errors": int(m.group(1)) if m else 0, "non2xx": sum(codes) - codes[0],
                      "p50": percentile(lat, 50), "p99": percentile(lat, 99), "p999": percentile(lat, 99.9)}))


def ms(us):
    return "%.2f" % (us / 1000.0)


def table(path):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    full = [r for r in rows if r["pass"] == "peak"]
    half = [r for r in rows if r["pass"] == "half"]
    peak = {(r["server"], r["proto"], r["body"]): r for r in full}
    print("Full load (requests as fast as the clients go):\n")
    print("| body | protocol | server | req/s | p50 ms | p99 ms | p99.9 ms | CPU µs/req | errors | webhook/baseline |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in full:
        base = peak.get(("nginx", r["proto"], r["body"]))
        ratio = ""
        if r["server"] == "webhook" and base and base["rps"] > 0:
            ratio = "%.2f" % (r["rps"] / base["rps"])
        print("| %s | %s | %s | %.0f | %s | %s | %s | %.0f | %d | %s |" % (
            r["body"], r["proto"], r["server"], r["rps"], ms(r["p50"]), ms(r["p99"]), ms(r["p999"]),
            r["cpu_us"], r["errors"], ratio))
    if half:
        print("\nPaced at half the webhook's peak rate (same rate for both servers):\n")
        print("| body | protocol | server | target req/s | req/s | p50 ms | p99 ms | p99.9 ms | CPU µs/req | errors |")
        print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in half:
            print("| %s | %s | %s | %.0f | %.0f | %s | %s | %s | %.0f | %d |" % (
                r["body"], r["proto"], r["server"], r["target"], r["rps"], ms(r["p50"]), ms(r["p99"]),
                ms(r["p999"]), r["cpu_us"], r["errors"]))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "h2log":
        h2log(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "table":
        table(sys.argv[2])
    else:
        sys.exit(__doc__)
