#!/usr/bin/env python3
"""Driver of tests/bench/scheduler_e2e.sh (see there). Python 3 standard library only.

  scheduler_e2e.py --port P --ca CA --token T --scheduler BIN --kubeconfig K
                   --nodes N --pods M [--gang-size G] [--concurrency C] [--timeout S]

1. raw: M pods for scheduler "nobody"; C threads, each with one keep-alive TLS
   connection, POST their Bindings (as kube-scheduler sends them: Binding with
   the pod's uid as precondition); raw rate = M / wall time. Then the same
   for M more pods with a Scheduled Event POSTed after each Binding, as the
   scheduler does (second row, for reference; the ratio uses the first).
2. scheduler: N nodes and M pending pods for kubenexus-scheduler (a third in
   gangs of G with min-available G, the rest plain); kubenexus-scheduler is
   started; its progress is read from its own /metrics
   (kubenexus_scheduler_bindings_total{result="ok"}, polled every 50 ms, so the
   double's CPU goes to the bindings), its rate is bound pods over the time
   from the first to the last binding (and, second row, from process start).
   The double's /_test/state then tells bound pods and binding attempts.
   Then up to 10 s more for the events the lane held back (created, patched,
   dropped, from /metrics).
Prints a Markdown table, and checks that every pod was bound exactly once;
with --double-pid, also the double's CPU per bound pod in each phase (from
/proc: steadier than rates on a shared machine).
"""
import argparse
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

NS = "bench"
DOUBLE_CPU = {}  # phase -> CPU seconds the double spent in it


class Api:
    def __init__(self, a):
        self.a = a
        self.ctx = ssl.create_default_context(cafile=a.ca)

    def conn(self):
        return http.client.HTTPSConnection("127.0.0.1", self.a.port, context=self.ctx, timeout=60)

    def call(self, c, method, path, body=None):
        h = {"Authorization": "Bearer " + self.a.token, "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        out = r.read()
        return r.status, (json.loads(out) if out else None)


def pod(name, sched, labels=None):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NS, "labels": labels or {}},
            "spec": {"schedulerName": sched, "restartPolicy": "Never",
                     "containers": [{"name": "main", "image": "apache/spark:3.5.1",
                                     "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                                                   "limits": {"memory": "128Mi"}}}]}}


def parallel(n_threads, items, work):
    """Runs work(conn, item) over items in n_threads threads, one connection each."""
    errors, lock, it = [], threading.Lock(), iter(items)

    def run():
        c = API.conn()
        while True:
            with lock:
                item = next(it, None)
            if item is None:
                break
            try:
                work(c, item)
            except Exception as e:  # noqa: BLE001 - reported, the bench carries on
                with lock:
                    errors.append(repr(e))
                c.close()
                c = API.conn()
        c.close()
    ts = [threading.Thread(target=run) for _ in range(n_threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return errors


def create_all(objs, path):
    def work(c, o):
        s, _ = API.call(c, "POST", path, o)
        if s != 201:
            raise RuntimeError("create %s: HTTP %d" % (o["metadata"]["name"], s))
    return parallel(8, objs, work)


def free_port():
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


def metric(port, series):
    """The value of one series on the scheduler's /metrics (0 until it answers)."""
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
        c.close()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(series + " "):
            return int(float(line.split()[-1]))
    return 0


def bindings_ok(port):
    return metric(port, 'kubenexus_scheduler_bindings_total{result="ok"}')


def cpu_seconds(pid):
    """utime + stime of a live process (Linux /proc), 0 if unknown."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def state():
    c = API.conn()
    try:
        return API.call(c, "GET", "/_test/state")[1]
    finally:
        c.close()


def raw(a, prefix, with_event):
    """Bindings (and, with_event, a Scheduled Event each, as a scheduler posts) for M fresh pods."""
    names = ["%s%05d" % (prefix, i) for i in range(a.pods)]
    create_all([pod(n, "nobody") for n in names], "/api/v1/namespaces/%s/pods" % NS)
    uids = {p["metadata"]["name"]: p["metadata"]["uid"] for p in state()["objects"]["pods"]
            if p["metadata"]["name"].startswith(prefix)}
    nodes = ["node-%04d" % (i % a.nodes) for i in range(a.pods)]

    def work(c, i):
        n = names[i]
        b = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": n, "namespace": NS, "uid": uids[n]},
             "target": {"apiVersion": "v1", "kind": "Node", "name": nodes[i]}}
        s, _ = API.call(c, "POST", "/api/v1/namespaces/%s/pods/%s/binding" % (NS, n), b)
        if s != 201:
            raise RuntimeError("bind %s: HTTP %d" % (n, s))
        if with_event:
            e = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": n + ".sched", "namespace": NS},
                 "involvedObject": {"kind": "Pod", "namespace": NS, "name": n, "uid": uids[n]},
                 "reason": "Scheduled", "type": "Normal",
                 "message": "Successfully assigned %s/%s to %s" % (NS, n, nodes[i]),
                 "source": {"component": "bench"}}
            s, _ = API.call(c, "POST", "/api/v1/namespaces/%s/events" % NS, e)
            if s != 201:
                raise RuntimeError("event %s: HTTP %d" % (n, s))
    t0, c0 = time.monotonic(), cpu_seconds(a.double_pid)
    errs = parallel(a.concurrency, range(a.pods), work)
    wall = time.monotonic() - t0
    DOUBLE_CPU[prefix] = cpu_seconds(a.double_pid) - c0
    return a.pods - len(errs), wall, errs


def ours(a):
    gang_pods = (a.pods // 3) // a.gang_size * a.gang_size
    objs = []
    for g in range(gang_pods // a.gang_size):
        lab = {"pod-group.scheduling.kubenexus.io/name": "g%04d" % g,
               "pod-group.scheduling.kubenexus.io/min-available": str(a.gang_size)}
        objs += [pod("g%04d-%03d" % (g, i), "kubenexus-scheduler", lab) for i in range(a.gang_size)]
    objs += [pod("p-%05d" % i, "kubenexus-scheduler") for i in range(a.pods - gang_pods)]
    create_all(objs, "/api/v1/namespaces/%s/pods" % NS)
    want = {o["metadata"]["name"] for o in objs}
    conns0 = state().get("connections", 0)
    dcpu0 = cpu_seconds(a.double_pid)
    log = open(os.path.join(os.path.dirname(a.kubeconfig), "scheduler.log"), "w")
    mport = free_port()
    t0 = time.monotonic()
    proc = subprocess.Popen([a.scheduler, "--kubeconfig", a.kubeconfig, "--metrics-bind-address",
                             "127.0.0.1:%d" % mport], stdout=log, stderr=subprocess.STDOUT)
    # Progress from the scheduler's own counter (cheap), not from the double's
    # state dump, which would take the double's CPU away from the bindings.
    bound, first, last, last_n = 0, None, t0, 0
    ev, cpu = {}, 0.0
    first_n, dcpu_first, dcpu_last = 0, 0.0, 0.0
    try:
        while time.monotonic() - t0 < a.timeout and proc.poll() is None:
            time.sleep(0.05)
            bound = bindings_ok(mport)
            now = time.monotonic()
            if bound and first is None:
                first, first_n, dcpu_first = now, bound, cpu_seconds(a.double_pid)
            if bound != last_n:
                last_n, last, dcpu_last = bound, now, cpu_seconds(a.double_pid)
            if bound >= len(want):
                break
        # the events the lane held back go out once the bindings are done
        ev_deadline = time.monotonic() + 10
        while time.monotonic() < ev_deadline and proc.poll() is None:
            ev = {r: metric(mport, 'kubenexus_scheduler_events_total{result="%s"}' % r)
                  for r in ("created", "patched", "error")}
            ev["dropped"] = metric(mport, "kubenexus_scheduler_events_dropped_total")
            if sum(ev.values()) >= len(want):
                break
            time.sleep(0.1)
        cpu = cpu_seconds(proc.pid)
        DOUBLE_CPU["ours"] = cpu_seconds(a.double_pid) - dcpu0
    finally:
        st = state()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    bound = sum(1 for b in st["bindings"] if b["by_binding"] and b["pod"].split("/", 1)[1] in want)
    attempts = st["binding_attempts"] if st else {}
    twice = [k for k, v in attempts.items() if v > 1 and k.split("/", 1)[1] in want]
    DOUBLE_CPU["window"] = (dcpu_last - dcpu_first) / max(last_n - first_n, 1) * a.pods
    extra = {"events": ev, "cpu": cpu, "connections": (st or {}).get("connections", 0) - conns0}
    return bound, len(want), last - t0, (last - first) if first else 0, twice, gang_pods, extra


def main(argv):
    p = argparse.ArgumentParser()
    for f in ("--ca", "--token", "--scheduler", "--kubeconfig"):
        p.add_argument(f, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--nodes", type=int, default=50)
    p.add_argument("--pods", type=int, default=2000)
    p.add_argument("--gang-size", type=int, default=10)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--double-pid", type=int, default=0, help="the double's pid, for its CPU per binding")
    a = p.parse_args(argv)
    global API
    API = Api(a)
    nodes = [{"apiVersion": "v1", "kind": "Node",
              "metadata": {"name": "node-%04d" % i, "labels": {"kubernetes.io/hostname": "node-%04d" % i}},
              "status": {"capacity": {"cpu": "64", "memory": "256Gi", "pods": "1000"},
                         "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "1000"},
                         "conditions": [{"type": "Ready", "status": "True"}]}}
             for i in range(a.nodes)]
    errs = create_all(nodes, "/api/v1/nodes")
    if errs:
        sys.exit("scheduler_e2e: creating nodes: %s" % errs[0])
    r_ok, r_wall, r_errs = raw(a, "raw-", False)
    e_ok, e_wall, e_errs = raw(a, "rawev-", True)
    r_errs += e_errs
    s_bound, s_want, s_wall, s_steady, twice, gang_pods, extra = ours(a)
    r_rate = r_ok / r_wall if r_wall > 0 else 0
    s_rate = s_bound / s_wall if s_wall > 0 else 0
    st_rate = (s_bound - 1) / s_steady if s_steady > 0 else 0
    print("| client | pods | bound | wall s | bindings/s | vs raw |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    print("| plain client, %d in flight (keep-alive) | %d | %d | %.2f | %.0f | 1.00 |"
          % (a.concurrency, a.pods, r_ok, r_wall, r_rate))
    e_rate = e_ok / e_wall if e_wall > 0 else 0
    print("| plain client, Binding + Scheduled Event per pod (the scheduler's requests) | %d | %d | %.2f | %.0f | %.2f |"
          % (a.pods, e_ok, e_wall, e_rate, e_rate / r_rate if r_rate else 0))
    what = "kubenexus-scheduler (%d plain + %d in gangs of %d)" % (s_want - gang_pods, gang_pods, a.gang_size)
    print("| %s, first to last binding | %d | %d | %.2f | %.0f | %.2f |"
          % (what, s_want, s_bound, s_steady, st_rate, st_rate / r_rate if r_rate else 0))
    print("| %s, from process start (connect, list, watch) | %d | %d | %.2f | %.0f | %.2f |"
          % (what, s_want, s_bound, s_wall, s_rate, s_rate / r_rate if r_rate else 0))
    s_rate = st_rate
    print()
    print("- target: kubenexus / raw >= 0.9: %s" % ("met" if r_rate and s_rate / r_rate >= 0.9 else "MISSED"))
    if a.double_pid:
        print("- the double's CPU per bound pod: plain client %.0f µs, with events %.0f µs, "
              "kubenexus-scheduler %.0f µs from first to last binding, %.0f µs in all (list, watch, "
              "events until all are sent)"
              % tuple(1e6 * DOUBLE_CPU.get(k, 0) / max(a.pods, 1) for k in ("raw-", "rawev-", "window", "ours")))
    ev = extra["events"]
    print("- kubenexus-scheduler: %.2f s CPU, %d connections to the API server; events created %d, "
          "aggregated (PATCH) %d, failed %d, dropped (queue full) %d"
          % (extra["cpu"], extra["connections"], ev.get("created", 0), ev.get("patched", 0), ev.get("error", 0),
             ev.get("dropped", 0)))
    print("- every pod bound: %s; bound twice: %d; raw client errors: %d%s"
          % ("yes" if s_bound == s_want else "NO (%d of %d)" % (s_bound, s_want), len(twice), len(r_errs),
             (" (first: %s)" % r_errs[0]) if r_errs else ""))


if __name__ == "__main__":
    main(sys.argv[1:])
