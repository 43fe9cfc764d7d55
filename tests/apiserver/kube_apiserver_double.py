#!/usr/bin/env python3
"""kube_apiserver_double.py - a TEST DOUBLE of kube-apiserver. NOT A PRODUCT.

It exists only so kubenexus's integration tests can run the real
kubenexus-scheduler binary without a cluster. It imitates, over TLS, the part
of kube-apiserver that the scheduler uses, as the real server behaves:

  * bearer-token auth (401 Status JSON otherwise);
  * objects get metadata.uid, metadata.resourceVersion (one global counter,
    as strings), metadata.creationTimestamp;
  * GET list (kind NodeList, PodList, ... with metadata.resourceVersion),
    limit/continue paging (a continue token older than the kept history gets
    410 Expired and a token to go on inconsistently, as kube-apiserver
    answers once etcd compacted the list's snapshot), fieldSelector (=, ==,
    != on spec.nodeName, spec.schedulerName, metadata.name,
    metadata.namespace, status.phase) and labelSelector (=, ==, !=, in,
    notin, exists, !exists);
  * watch=true with resourceVersion (events strictly after it; "" or "0"
    starts with ADDED for every current object), allowWatchBookmarks (BOOKMARK
    events every --bookmark-seconds), timeoutSeconds, chunked streaming; a
    resourceVersion older than the kept history gets an ERROR event carrying a
    410 "Expired" Status ("too old resource version: X (Y)"), as the real one;
  * pods: POST (created Pending, ports defaulted as SetDefaults_Pod does:
    protocol TCP, hostPort = containerPort under hostNetwork; a pod with
    schedulingGates gets PodScheduled False "SchedulingGated"; the Priority
    admission plugin gives spec.priority and spec.preemptionPolicy from
    spec.priorityClassName or the globalDefault PriorityClass, 403 for an
    unknown class), GET, PUT, PATCH (JSON merge patch; strategic merge patch
    on built-in kinds: lists with a merge key, such as status.conditions by
    type, are merged item by item; 415 otherwise), PUT/PATCH .../status (only
    status changes);
    DELETE as kube-apiserver's graceful deletion: DeleteOptions (body or
    query) gracePeriodSeconds (default the pod's
    spec.terminationGracePeriodSeconds, 30 when unset) and preconditions (uid,
    resourceVersion: 409 when they do not match); a pod bound to a node with a
    grace period gets metadata.deletionTimestamp and
    deletionGracePeriodSeconds (MODIFIED, 200 with the object) and is removed
    (DELETED) once its kubelet would have stopped it: after
    min(grace, fault pod_stop_s, default 0.5 s); an unbound or finished pod,
    or grace 0, is removed at once;
    the binding subresource: 201 + Status Success,
    409 when spec.nodeName is already set or spec.schedulingGates is not
    empty, 404 for a missing pod, UID
    precondition checked; a successful binding sets spec.nodeName and a
    PodScheduled condition, clears status.nominatedNodeName (kube-apiserver
    1.35's ClearingNominatedNodeNameAfterBinding) and emits MODIFIED;
  * pods are stored as kube-apiserver's pod strategy stores them: pod affinity
    terms' matchLabelKeys / mismatchLabelKeys merged into their labelSelector
    (`key In/NotIn (value)` for each key the pod has; MatchLabelKeysInPodAffinity,
    on by default since v1.31);
  * namespaces (cluster-scoped, labelled kubernetes.io/metadata.name=<name>
    on every write, spec.finalizers ["kubernetes"], status.phase Active;
    default, kube-system, kube-public and kube-node-lease exist from the
    start; DELETE answers the object Terminating, then it goes at once, as if
    the namespace controller had emptied it);
  * nodes, core/v1 and events.k8s.io/v1 events, coordination.k8s.io/v1 leases
    (optimistic concurrency: 409 on a stale metadata.resourceVersion),
    policy/v1 PodDisruptionBudgets, scheduling.k8s.io/v1 PriorityClasses, and
    the custom resources topology.node.k8s.io/v1alpha2 NodeResourceTopology,
    scheduling.x-k8s.io/v1alpha1 PodGroup (coscheduling) and
    scheduling.volcano.sh/v1beta1 PodGroup ("podgroups.volcano" below). A CRD
    can be absent (--no-nrt, --absent RESOURCE, the nrt_absent and absent
    faults): its paths answer 404, and removing it deletes its objects (DELETED
    events) and ends its watches, as deleting a CRD does;
  * every request that is not a GET is logged (method, path) in /_test/state's
    "writes", so a test can tell a client wrote nothing;
  * storage: persistentvolumeclaims, persistentvolumes (status subresources:
    a write to the object keeps its status), storage.k8s.io/v1 storageclasses
    and csinodes, defaulted as the API server does (a claim's and a volume's
    volumeMode Filesystem and phase Pending, a volume's reclaim policy Retain,
    a class's volumeBindingMode Immediate and reclaimPolicy Delete), a claim
    without storageClassName given the default class
    (storageclass.kubernetes.io/is-default-class), and the
    kubernetes.io/pvc-protection and pv-protection finalizers added on create
    (StorageObjectInUseProtection);
  * finalizers: DELETE of an object other than a pod with
    metadata.finalizers sets deletionTimestamp (MODIFIED) and leaves it until
    an update empties them.

With --provisioner NAME the double also runs a stand-in for what
kube-controller-manager and an external provisioner do with storage (it is
not kube-apiserver's, but tests need someone to do it): a claim of a class
whose provisioner is NAME and that carries volume.kubernetes.io/selected-node
gets a PersistentVolume (pvc-<claim uid>, spec.csi driver NAME, node affinity
kubernetes.io/hostname In [node], capacity the request) and is bound to it
(spec.volumeName, pv.kubernetes.io/bind-completed and bound-by-controller,
phase Bound), as external-provisioner and the PV controller do; a volume
given a claimRef binds its claim (static binding); an unbound volume is made
Available; a claim being deleted that no pod mounts loses its
pvc-protection finalizer. Faults: provision_hold (do nothing while set),
provision_fail_next: N (the next N claims are given up: the selected-node
annotation removed, as external-provisioner does to ask for another node).

Test-only endpoints (same token):
  POST /_test/faults  {"drop_watches":true, "expire_watches":true,
                       "fail_next":N, "status":500, "fail_path":"/binding",
                       "delay_ms":M, "delay_path":"/events" (only paths containing it; "" all),
                       "nrt_absent":bool, "absent":{"podgroups":bool,...},
                       "watch_410_http":bool,
                       "compact":true,
                       "expire_continue_next":N  (the next N list requests with a
                           continue token find its snapshot compacted: 410 Expired,
                           as a continue token older than the kept history does),
                       "expire_continue_resource":"pods"  (only lists of that
                           resource count for expire_continue_next; "" all),
                       "page_max":N  (list pages hold at most N items whatever the
                           limit, as kube-apiserver may return fewer; 0: off),
                       "hold_path":"/api/v1/pods"  (requests whose path contains it
                           wait until it is cleared, 60 s at most: an answer slow
                           for as long as a test needs; "" off),
                       "bind_conflict_next":N, "conflict_node":"other"  (someone else
                           binds the pod to conflict_node just before us: 409),
                       "bind_then_fail_next":N  (binds, then answers 500 as if
                           the response were lost),
                       "pod_stop_s":S  (how long a terminating pod takes to stop),
                       "provision_hold":bool, "provision_fail_next":N (--provisioner),
                       "patch_then_fail_next":N, "patch_then_fail_path":"/x" (a PATCH
                           on a path containing it is applied, then answered 500)}
  GET  /_test/state   objects, binding attempts per pod, bindings, events.
  /_test/admission    the admission chain (admission_chain.py): webhook
                      configurations, SparkApplications, webhook calls.

Start: python3 kube_apiserver_double.py --port 0 --cert C --key K --token T
       [--client-ca CA] [--port-file F] [--no-nrt] [--absent RESOURCE]... [--history N]
       [--bookmark-seconds S]
       [--restore-uids] [--provisioner NAME]
It prints "listening on PORT" and writes PORT to --port-file.
Python 3 standard library only.
"""

import argparse
import base64
import bisect
import copy
import datetime
import json
import re
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import admission_chain

MAX_BODY = 4 * 1024 * 1024

# resource -> (group/version, kind, namespaced)
RESOURCES = {
    "nodes": ("v1", "Node", False),
    "namespaces": ("v1", "Namespace", False),
    "pods": ("v1", "Pod", True),
    "events": ("v1", "Event", True),
    "events.k8s.io": ("events.k8s.io/v1", "Event", True),
    "leases": ("coordination.k8s.io/v1", "Lease", True),
    "noderesourcetopologies": ("topology.node.k8s.io/v1alpha2", "NodeResourceTopology", False),
    "podgroups": ("scheduling.x-k8s.io/v1alpha1", "PodGroup", True),
    "podgroups.volcano": ("scheduling.volcano.sh/v1beta1", "PodGroup", True),
    "poddisruptionbudgets": ("policy/v1", "PodDisruptionBudget", True),
    "priorityclasses": ("scheduling.k8s.io/v1", "PriorityClass", False),
    "persistentvolumeclaims": ("v1", "PersistentVolumeClaim", True),
    "persistentvolumes": ("v1", "PersistentVolume", False),
    "storageclasses": ("storage.k8s.io/v1", "StorageClass", False),
    "csinodes": ("storage.k8s.io/v1", "CSINode", False),
}
# Custom resources: their CRD may be absent.
CRDS = ("noderesourcetopologies", "podgroups", "podgroups.volcano")
QUALIFIED = {
    "pods": "pods", "nodes": "nodes", "namespaces": "namespaces", "events": "events",
    "events.k8s.io": "events.events.k8s.io",
    "leases": "leases.coordination.k8s.io",
    "noderesourcetopologies": "noderesourcetopologies.topology.node.k8s.io",
    "podgroups": "podgroups.scheduling.x-k8s.io", "podgroups.volcano": "podgroups.scheduling.volcano.sh",
    "poddisruptionbudgets": "poddisruptionbudgets.policy",
    "priorityclasses": "priorityclasses.scheduling.k8s.io",
    "persistentvolumeclaims": "persistentvolumeclaims",
    "persistentvolumes": "persistentvolumes", "storageclasses": "storageclasses.storage.k8s.io",
    "csinodes": "csinodes.storage.k8s.io",
}
# Built-in groups/versions (typed lists, strategic merge patch).
BUILTIN = ("v1", "coordination.k8s.io/v1", "events.k8s.io/v1", "policy/v1", "scheduling.k8s.io/v1",
           "storage.k8s.io/v1")
# Kinds whose status is a subresource: a write to the object keeps its status.
STATUS_SUBRESOURCE = ("pods", "persistentvolumeclaims", "persistentvolumes")
ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node"
ANN_DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
# The Priority admission plugin's built-in classes.
SYSTEM_PRIORITY_CLASSES = {"system-cluster-critical": 2000000000, "system-node-critical": 2000001000}
# Strategic merge patch: lists merged item by item on this key (the patchMergeKey
# of the built-in types this double serves), by their path from the object.
MERGE_KEYS = {("status", "conditions"): "type", ("spec", "containers"): "name",
              ("spec", "initContainers"): "name", ("spec", "tolerations"): "key",
              ("metadata", "ownerReferences"): "uid", ("spec", "ephemeralContainers"): "name"}
admission_chain.register(RESOURCES, QUALIFIED)


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_obj(code, reason, message, details=None, status="Failure"):
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": status,
         "message": message, "reason": reason, "code": code}
    if status == "Success":
        s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": code}
    if details:
        s["details"] = details
    return s


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.status = status_obj(code, reason, message, details)
        self.code = code


# ---------------------------------------------------------------- selectors

def field_value(obj, path):
    cur = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    return "" if cur is None else str(cur)


def parse_field_selector(sel):
    terms = []
    if not sel:
        return terms
    for t in sel.split(","):
        t = t.strip()
        if not t:
            continue
        m = re.match(r"^([A-Za-z.]+)\s*(!=|==|=)\s*(.*)$", t)
        if not m:
            raise ApiError(400, "BadRequest", "invalid field selector term %r" % t)
        terms.append((m.group(1), m.group(2), m.group(3)))
    return terms


def split_label_terms(sel):
    out, depth, cur = [], 0, ""
    for ch in sel:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return [t.strip() for t in out if t.strip()]


def parse_label_selector(sel):
    terms = []
    if not sel:
        return terms
    for t in split_label_terms(sel):
        m = re.match(r"^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$", t)
        if m:
            vals = {v.strip() for v in m.group(3).split(",") if v.strip()}
            terms.append((m.group(1), m.group(2), vals))
            continue
        m = re.match(r"^([^\s!=]+)\s*(!=|==|=)\s*(\S*)$", t)
        if m:
            terms.append((m.group(1), m.group(2), m.group(3)))
            continue
        m = re.match(r"^(!?)([^\s!=(),]+)$", t)
        if m:
            terms.append((m.group(2), "!exists" if m.group(1) else "exists", None))
            continue
        raise ApiError(400, "BadRequest", "unable to parse requirement: %r" % t)
    return terms


def matches(obj, fsel, lsel):
    for path, op, val in fsel:
        have = field_value(obj, path)
        if (op == "!=") == (have == val):
            return False
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for key, op, val in lsel:
        present = key in labels
        have = labels.get(key)
        ok = {
            "=": present and have == val, "==": present and have == val,
            "!=": (not present) or have != val,
            "in": present and have in (val or ()), "notin": (not present) or have not in (val or ()),
            "exists": present, "!exists": not present,
        }[op]
        if not ok:
            return False
    return True


# ---------------------------------------------------------------- the store

class Store:
    def __init__(self, history, absent):
        mutex = threading.RLock()
        self.lock = threading.Condition(mutex)
        # Watchers of one resource wait on its own condition (same mutex), so a
        # write wakes only the watches it concerns, as kube-apiserver's watch
        # cache dispatches per resource.
        self.changed = {r: threading.Condition(mutex) for r in RESOURCES}
        self.rv = 100
        self.objects = {r: {} for r in RESOURCES}
        self.history = []          # (rv, resource, type, obj, prev), rv ascending
        self.history_rvs = []      # the rvs alone, to find a watch's start by bisection
        self.max_history = history
        self.oldest_rv = self.rv   # watches from before this are "too old"
        self.absent = set(absent)  # CRDS not installed
        self.faults = {"fail_next": 0, "status": 500, "fail_path": "", "delay_ms": 0, "delay_path": "",
                       "watch_410_http": False, "bind_conflict_next": 0, "conflict_node": "other-node",
                       "bind_then_fail_next": 0, "expire_continue_next": 0, "expire_continue_resource": "",
                       "page_max": 0, "hold_path": "", "pod_stop_s": 0.5, "provision_hold": False,
                       "provision_fail_next": 0, "patch_then_fail_next": 0, "patch_then_fail_path": ""}
        self.calls = {}            # "list pods", "watch pods", ... -> count
        self.watch_generation = 0  # bump to drop every open watch
        self.expire_generation = 0  # bump to send 410 to every open watch
        self.binding_attempts = {}
        self.bindings = []
        self.requests = 0
        self.connections = 0       # accepted (TLS handshakes), for benchmarks
        self.writes = []           # every request but a GET: {"method", "path"}

    def set_absent(self, resource, absent):
        """Caller holds the lock. Removing a CRD deletes its objects first."""
        if absent and resource not in self.absent:
            for key in sorted(self.objects[resource]):
                obj = self.objects[resource].pop(key)
                obj["metadata"]["resourceVersion"] = self.next_rv()
                self.record(resource, "DELETED", obj, obj)
            self.absent.add(resource)
        elif not absent:
            self.absent.discard(resource)

    def next_rv(self):
        self.rv += 1
        return str(self.rv)

    def record(self, resource, etype, obj, prev):
        rv = int(obj["metadata"]["resourceVersion"])
        self.history.append((rv, resource, etype, copy.deepcopy(obj), copy.deepcopy(prev)))
        self.history_rvs.append(rv)
        if len(self.history) > self.max_history:
            n = len(self.history) - self.max_history
            self.oldest_rv = self.history[n - 1][0]
            del self.history[:n]
            del self.history_rvs[:n]
        self.lock.notify_all()
        self.changed[resource].notify_all()

    def wake_watches(self):
        """Caller holds the lock: every watch re-checks (drops, expiry)."""
        self.lock.notify_all()
        for c in self.changed.values():
            c.notify_all()

    def events_since(self, since_n, resource):
        """Caller holds the lock: kept events of resource after since_n, in order."""
        i = bisect.bisect_right(self.history_rvs, since_n)
        return [h for h in self.history[i:] if h[1] == resource]

    def compact(self):
        """Every resourceVersion handed out so far becomes too old (as after
        writes elsewhere and an etcd compaction), whatever a client last saw
        (an event or a bookmark)."""
        self.history = []
        self.history_rvs = []
        self.next_rv()
        self.oldest_rv = self.rv


def continue_expired(start):
    """kube-apiserver's answer to a continue token whose snapshot etcd has
    compacted (handleCompactedErrorForPaging): 410 Expired, and a token that
    goes on at the latest resourceVersion (-1), for a client that accepts a
    list that is no longer consistent."""
    e = ApiError(410, "Expired",
                 "The provided continue parameter is too old to display a consistent list result. You can start a "
                 "new list without the continue parameter, or use the continue token in this response to retrieve "
                 "the remainder of the results. Continuing with the provided token results in an inconsistent list "
                 "- objects that were created, modified, or deleted between the time the first chunk was returned "
                 "and now may show up in the list.")
    e.status["metadata"]["continue"] = base64.b64encode(json.dumps({"start": start, "rv": "-1"}).encode()).decode()
    return e


def obj_key(ns, name):
    return (ns or "") + "/" + name


# ---------------------------------------------------------------- handler

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kube-apiserver-double/1"

    def setup(self):
        super().setup()
        with self.server.store.lock:
            self.server.store.connections += 1

    def log_message(self, fmt, *args):  # quiet unless asked
        if self.server.verbose:
            sys.stderr.write("apiserver-double: " + (fmt % args) + "\n")

    @property
    def store(self):
        return self.server.store

    # -- plumbing
    def send_json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        admission_chain.send_warnings(self)
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise ApiError(413, "RequestEntityTooLarge", "request body too large")
        raw = self.rfile.read(n) if n else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError as e:
            raise ApiError(400, "BadRequest", "invalid JSON body: %s" % e)

    def authorized(self):
        if self.headers.get("Authorization", "") == "Bearer " + self.server.token:
            return True
        # x509 client-certificate auth: a certificate the TLS layer verified
        # against --client-ca, as kube-apiserver's --client-ca-file.
        try:
            return bool(self.connection.getpeercert())
        except (AttributeError, ValueError):
            return False

    def dispatch(self, method):
        try:
            if not self.authorized():
                self.send_json(401, status_obj(401, "Unauthorized", "Unauthorized"))
                return
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            if url.path.startswith("/_test/"):
                self.test_endpoint(method, url.path)
                return
            if method != "GET":
                with self.store.lock:
                    self.store.writes.append({"method": method, "path": url.path})
            self.apply_faults(url.path)
            route = self.route(url.path)
            if route is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            resource, ns, name, sub = route
            verb = {"GET": "get" if name else ("watch" if query.get("watch") in ("true", "1") else "list"),
                    "POST": "bind" if sub == "binding" else "create", "PUT": "update", "PATCH": "patch",
                    "DELETE": "delete"}.get(method, method)
            with self.store.lock:
                ck = "%s %s" % (verb, resource)
                self.store.calls[ck] = self.store.calls.get(ck, 0) + 1
            if method == "GET":
                if name is None:
                    if query.get("watch") in ("true", "1"):
                        self.watch(resource, ns, query)
                    else:
                        self.list(resource, ns, query)
                else:
                    self.send_json(200, self.get(resource, ns, name))
            elif method == "POST":
                if sub == "binding":
                    self.bind(ns, name)
                elif name is None:
                    self.create(resource, ns)
                else:
                    raise ApiError(405, "MethodNotAllowed", "POST on a named object")
            elif method == "PUT" and name is not None:
                self.update(resource, ns, name, sub, self.read_body(), merge=False)
            elif method == "PATCH" and name is not None:
                self.check_patch_type(resource)
                self.update(resource, ns, name, sub, self.read_body(), merge=True)
            elif method == "DELETE" and name is not None:
                self.delete(resource, ns, name)
            else:
                raise ApiError(405, "MethodNotAllowed", "method not allowed")
        except ApiError as e:
            self.send_json(e.code, e.status)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            self.close_connection = True

    do_GET = lambda self: self.dispatch("GET")
    do_POST = lambda self: self.dispatch("POST")
    do_PUT = lambda self: self.dispatch("PUT")
    do_PATCH = lambda self: self.dispatch("PATCH")
    do_DELETE = lambda self: self.dispatch("DELETE")

    def apply_faults(self, path):
        st = self.store
        with st.lock:
            st.requests += 1
            held_until = time.monotonic() + 60
            while st.faults["hold_path"] and st.faults["hold_path"] in path and time.monotonic() < held_until:
                st.lock.wait(0.2)
            delay = st.faults["delay_ms"] if st.faults["delay_path"] in path else 0
            fail = st.faults["fail_next"] > 0 and st.faults["fail_path"] in path
            if fail:
                st.faults["fail_next"] -= 1
            code = st.faults["status"]
        if delay:
            time.sleep(delay / 1000.0)
        if fail:
            # Drain the body so the connection stays usable.
            n = int(self.headers.get("Content-Length") or 0)
            if 0 < n <= MAX_BODY:
                self.rfile.read(n)
            raise ApiError(code, "InternalError" if code >= 500 else "BadRequest",
                           "injected fault (test double)")

    def check_patch_type(self, resource):
        """415 for a patch type kube-apiserver would refuse (strategic merge
        only on built-in kinds). A strategic merge patch is applied as a JSON
        merge patch: the same for scalar fields (an Event's count and
        lastTimestamp); lists with a merge key (MERGE_KEYS) are merged item by item."""
        ct = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        builtin = RESOURCES[resource][0] in BUILTIN
        accepted = ["application/merge-patch+json"] + (["application/strategic-merge-patch+json"] if builtin else [])
        if ct not in accepted:
            # drain the body so the connection stays usable
            n = int(self.headers.get("Content-Length") or 0)
            if 0 < n <= MAX_BODY:
                self.rfile.read(n)
            raise ApiError(415, "UnsupportedMediaType",
                           "the body of the request was in an unknown format - accepted media types include: "
                           + ", ".join(accepted))

    def route(self, path):
        parts = [p for p in path.split("/") if p]
        if parts[:2] == ["api", "v1"]:
            rest = parts[2:]
            group = "core"
        elif parts[:3] == ["apis", "coordination.k8s.io", "v1"]:
            rest, group = parts[3:], "coordination"
        elif parts[:3] == ["apis", "events.k8s.io", "v1"]:
            rest, group = parts[3:], "events.k8s.io"
        elif parts[:3] == ["apis", "policy", "v1"]:
            rest, group = parts[3:], "policy"
        elif parts[:3] == ["apis", "scheduling.k8s.io", "v1"]:
            rest, group = parts[3:], "scheduling"
        elif parts[:3] == ["apis", "storage.k8s.io", "v1"]:
            rest, group = parts[3:], "storage"
        elif parts[:3] == ["apis", "topology.node.k8s.io", "v1alpha2"]:
            rest, group = parts[3:], "topology"
        elif parts[:3] == ["apis", "scheduling.x-k8s.io", "v1alpha1"]:
            rest, group = parts[3:], "coscheduling"
        elif parts[:3] == ["apis", "scheduling.volcano.sh", "v1beta1"]:
            rest, group = parts[3:], "volcano"
        elif admission_chain.route_group(parts):
            rest, group = admission_chain.route_group(parts)
        else:
            return None
        ns = None
        if group == "core" and rest[:1] == ["namespaces"] and (len(rest) <= 2 or rest[2:] in (["status"], ["finalize"])):
            # a Namespace itself, not a namespaced collection under it
            name = rest[1] if len(rest) > 1 else None
            return "namespaces", None, name, ("status" if rest[2:] else None)
        if len(rest) >= 2 and rest[0] == "namespaces":
            ns, rest = rest[1], rest[2:]
        if not rest:
            return None
        resource = rest[0]
        if group == "events.k8s.io" and resource == "events":
            resource = "events.k8s.io"
        if group == "volcano" and resource == "podgroups":
            resource = "podgroups.volcano"
        allowed = {"core": ("nodes", "pods", "events", "namespaces", "persistentvolumeclaims", "persistentvolumes"),
                   "storage": ("storageclasses", "csinodes"), "coordination": ("leases",),
                   "policy": ("poddisruptionbudgets",), "scheduling": ("priorityclasses",),
                   "events.k8s.io": ("events.k8s.io",), "topology": ("noderesourcetopologies",),
                   "coscheduling": ("podgroups",), "volcano": ("podgroups.volcano",),
                   **admission_chain.allowed_resources()}
        if resource not in allowed[group]:
            return None
        with self.store.lock:
            if resource in self.store.absent:
                return None
        namespaced = RESOURCES[resource][2]
        if namespaced and ns is None and len(rest) > 1:
            return None
        if not namespaced and ns is not None:
            return None
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if len(rest) > 3 or sub not in (None, "status", "binding"):
            return None
        if sub == "binding" and resource != "pods":
            return None
        return resource, ns, name, sub

    # -- CRUD
    def not_found(self, resource, name):
        return ApiError(404, "NotFound", '%s "%s" not found' % (QUALIFIED[resource], name),
                        {"name": name, "kind": resource.split(".")[0]})

    def get(self, resource, ns, name):
        with self.store.lock:
            obj = self.store.objects[resource].get(obj_key(ns, name))
            if obj is None:
                raise self.not_found(resource, name)
            return copy.deepcopy(obj)

    def list(self, resource, ns, query):
        fsel = parse_field_selector(query.get("fieldSelector"))
        lsel = parse_label_selector(query.get("labelSelector"))
        limit = int(query.get("limit") or 0)
        start = ""
        st = self.store
        with st.lock:
            if st.faults["page_max"] > 0 and (limit == 0 or limit > st.faults["page_max"]):
                limit = st.faults["page_max"]
            list_rv = str(st.rv)
            if query.get("continue"):
                try:
                    tok = json.loads(base64.b64decode(query["continue"]))
                    start, list_rv = str(tok["start"]), str(tok["rv"])
                    int(list_rv)
                except (ValueError, KeyError, TypeError):
                    raise ApiError(400, "BadRequest", "invalid continue token")
                if list_rv == "-1":   # the inconsistent go-on token: the latest state
                    list_rv = str(st.rv)
                elif int(list_rv) < st.oldest_rv:
                    raise continue_expired(start)
                elif st.faults["expire_continue_next"] > 0 and \
                        st.faults["expire_continue_resource"] in ("", resource):
                    st.faults["expire_continue_next"] -= 1
                    raise continue_expired(start)
            keys = sorted(k for k in st.objects[resource] if k > start)
            items, cont = [], None
            for k in keys:
                obj = st.objects[resource][k]
                if ns is not None and obj["metadata"].get("namespace") != ns:
                    continue
                if not matches(obj, fsel, lsel):
                    continue
                if limit and len(items) == limit:
                    cont = base64.b64encode(json.dumps({"start": prev, "rv": list_rv}).encode()).decode()
                    break
                item = copy.deepcopy(obj)
                if RESOURCES[resource][0] in BUILTIN + (admission_chain.ADMISSION_GROUP + "/v1",):
                    item.pop("kind", None)   # typed lists omit per-item kind/apiVersion
                    item.pop("apiVersion", None)
                items.append(item)
                prev = k
        api_version, kind, _ = RESOURCES[resource]
        meta = {"resourceVersion": list_rv}
        if cont:
            meta["continue"] = cont
        self.send_json(200, {"kind": kind + "List", "apiVersion": api_version,
                             "metadata": meta, "items": items})

    def create(self, resource, ns):
        obj = self.read_body()
        if not isinstance(obj, dict):
            raise ApiError(400, "BadRequest", "body must be a JSON object")
        api_version, kind, namespaced = RESOURCES[resource]
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise ApiError(400, "BadRequest", "metadata must be an object")
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        name = meta.get("name")
        if not name:
            raise ApiError(422, "Invalid", "%s is invalid: metadata.name: Required value" % kind)
        if namespaced:
            if meta.get("namespace") not in (None, ns):
                raise ApiError(400, "BadRequest",
                               "the namespace of the provided object does not match the namespace sent on the request")
            meta["namespace"] = ns
        obj["kind"], obj["apiVersion"] = kind, api_version
        if resource == "pods":
            spec = obj.setdefault("spec", {})
            spec.setdefault("schedulerName", "default-scheduler")
            default_pod_ports(spec)
            status = obj.setdefault("status", {})
            status.setdefault("phase", "Pending")
            if spec.get("schedulingGates"):
                # as the pod strategy's PrepareForCreate: a gated pod says so
                status["conditions"] = [c for c in (status.get("conditions") or [])
                                        if c.get("type") != "PodScheduled"] + [
                    {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated",
                     "message": "Scheduling is blocked due to non-empty scheduling gates",
                     "lastProbeTime": None, "lastTransitionTime": now_rfc3339()}]
            self.priority_plugin(obj, name)
        if resource == "poddisruptionbudgets":
            obj["status"] = {}  # the disruption controller writes it (PrepareForCreate drops a given one)
        self.default_storage(resource, obj)
        obj = self.server.admission.admit(self, resource, ns if namespaced else None, None, "CREATE", obj, None)
        meta = obj.setdefault("metadata", {})
        if resource == "pods":
            merge_label_keys(obj)
        elif resource == "namespaces":
            namespace_defaults(obj)
        st = self.store
        with st.lock:
            key = obj_key(ns if namespaced else None, name)
            if key in st.objects[resource]:
                raise ApiError(409, "AlreadyExists", '%s "%s" already exists' % (QUALIFIED[resource], name),
                               {"name": name, "kind": resource})
            if not (self.server.restore_uids and meta.get("uid")):
                meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
            meta["resourceVersion"] = st.next_rv()
            st.objects[resource][key] = obj
            st.record(resource, "ADDED", obj, None)
            out = copy.deepcopy(obj)
        self.send_json(201, out)

    def default_storage(self, resource, obj):
        """Defaulting and admission of the storage kinds, as kube-apiserver's."""
        if resource not in ("storageclasses", "persistentvolumeclaims", "persistentvolumes"):
            return
        meta, spec = obj["metadata"], obj.setdefault("spec", {}) if resource != "storageclasses" else None
        if resource == "storageclasses":
            obj.setdefault("volumeBindingMode", "Immediate")
            obj.setdefault("reclaimPolicy", "Delete")
        elif resource in ("persistentvolumeclaims", "persistentvolumes"):
            spec.setdefault("volumeMode", "Filesystem")
            obj["status"] = {"phase": "Pending"}  # status is the controllers' to write
            if resource == "persistentvolumes":
                spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
            elif "storageClassName" not in spec and "volume.beta.kubernetes.io/storage-class" not in (
                    meta.get("annotations") or {}):
                with self.store.lock:  # DefaultStorageClass admission
                    default = [c["metadata"]["name"] for c in self.store.objects["storageclasses"].values()
                               if (c["metadata"].get("annotations") or {}).get(ANN_DEFAULT_CLASS) == "true"]
                if default:
                    spec["storageClassName"] = sorted(default)[0]
            fin = "kubernetes.io/pvc-protection" if resource == "persistentvolumeclaims" else "kubernetes.io/pv-protection"
            if fin not in (meta.get("finalizers") or []):
                meta.setdefault("finalizers", []).append(fin)

    def priority_plugin(self, pod, name):
        """kube-apiserver's Priority admission plugin on a pod being created."""
        spec = pod["spec"]
        cname = spec.get("priorityClassName") or ""
        with self.store.lock:
            classes = dict((o["metadata"]["name"], o) for o in self.store.objects["priorityclasses"].values())
        if cname:
            if cname in SYSTEM_PRIORITY_CLASSES:
                pc = {"value": SYSTEM_PRIORITY_CLASSES[cname]}
            elif cname in classes:
                pc = classes[cname]
            else:
                raise ApiError(403, "Forbidden", 'pods "%s" is forbidden: no PriorityClass with name %s was found'
                               % (name, cname), {"name": name, "kind": "pods"})
        else:
            defaults = sorted((o for o in classes.values() if o.get("globalDefault")), key=lambda o: o.get("value", 0))
            if not defaults:
                return
            pc = defaults[0]
            spec["priorityClassName"] = pc["metadata"]["name"]
        value = pc.get("value", 0)
        if "priority" in spec and spec["priority"] != value:
            raise ApiError(403, "Forbidden", 'pods "%s" is forbidden: the integer value of priority (%s) must not be '
                           "provided in pod spec; priority admission controller computed %d from the given "
                           "PriorityClass name" % (name, spec["priority"], value), {"name": name, "kind": "pods"})
        policy = pc.get("preemptionPolicy") or "PreemptLowerPriority"
        if spec.get("preemptionPolicy") not in (None, policy):
            raise ApiError(403, "Forbidden", 'pods "%s" is forbidden: the string value of PreemptionPolicy (%s) must '
                           "not be provided in pod spec; priority admission controller computed %s from the given "
                           "PriorityClass name" % (name, spec["preemptionPolicy"], policy),
                           {"name": name, "kind": "pods"})
        spec["priority"] = value
        spec["preemptionPolicy"] = policy

    def update(self, resource, ns, name, sub, body, merge):
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "body must be a JSON object")
        st = self.store
        with st.lock:
            key = obj_key(ns, name)
            cur = st.objects[resource].get(key)
            if cur is None:
                raise self.not_found(resource, name)
            want_rv = (body.get("metadata") or {}).get("resourceVersion")
            if want_rv and want_rv != cur["metadata"]["resourceVersion"]:
                raise ApiError(409, "Conflict",
                               'Operation cannot be fulfilled on %s "%s": the object has been modified; '
                               "please apply your changes to the latest version and try again"
                               % (QUALIFIED[resource], name), {"name": name, "kind": resource})
            prev = copy.deepcopy(cur)
            if merge:
                new = merge_patch(copy.deepcopy(cur), body, () if self.strategic() else None)
                if sub == "status":  # the status subresource writes status only
                    kept = copy.deepcopy(cur)
                    kept["status"] = new.get("status", {})
                    new = kept
            elif sub == "status":
                new = copy.deepcopy(cur)
                new["status"] = body.get("status", {})
            else:
                new = copy.deepcopy(body)
                if sub is None and resource in STATUS_SUBRESOURCE:
                    new["status"] = cur.get("status", {})
            if merge and sub is None and resource in STATUS_SUBRESOURCE and resource != "pods":
                new["status"] = copy.deepcopy(cur.get("status", {}))
            meta = new.setdefault("metadata", {})
            for k in ("uid", "creationTimestamp", "namespace", "name"):
                if k in cur["metadata"]:
                    meta[k] = cur["metadata"][k]
            new["kind"], new["apiVersion"] = cur["kind"], cur["apiVersion"]
            # Under the lock, as kube-apiserver admits inside GuaranteedUpdate.
            new = self.server.admission.admit(self, resource, ns, sub, "UPDATE", new, prev)
            meta = new.setdefault("metadata", {})
            if resource == "namespaces":
                namespace_defaults(new)
            meta["resourceVersion"] = st.next_rv()
            if cur["metadata"].get("deletionTimestamp"):
                meta["deletionTimestamp"] = cur["metadata"]["deletionTimestamp"]
            if meta.get("deletionTimestamp") and not meta.get("finalizers") and resource != "pods":
                del st.objects[resource][key]  # the last finalizer gone: deleted
                st.record(resource, "DELETED", new, prev)
            else:
                st.objects[resource][key] = new
                st.record(resource, "MODIFIED", new, prev)
            out = copy.deepcopy(new)
            lose = (merge and st.faults["patch_then_fail_next"] > 0
                    and st.faults["patch_then_fail_path"] in self.path)
            if lose:
                st.faults["patch_then_fail_next"] -= 1
        if lose:
            raise ApiError(500, "InternalError", "injected fault after the write (test double)")
        self.send_json(200, out)

    def strategic(self):
        ct = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        return ct == "application/strategic-merge-patch+json"

    def delete_options(self):
        """DeleteOptions from the body and the query (the query wins, as in kube-apiserver)."""
        opts = self.read_body() or {}
        if not isinstance(opts, dict):
            raise ApiError(400, "BadRequest", "DeleteOptions must be a JSON object")
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        if "gracePeriodSeconds" in query:
            try:
                opts["gracePeriodSeconds"] = int(query["gracePeriodSeconds"])
            except ValueError:
                raise ApiError(400, "BadRequest", "invalid gracePeriodSeconds %r" % query["gracePeriodSeconds"])
        return opts

    def delete(self, resource, ns, name):
        opts = self.delete_options()
        st = self.store
        with st.lock:
            key = obj_key(ns, name)
            cur = st.objects[resource].get(key)
            if cur is None:
                raise self.not_found(resource, name)
            pre = opts.get("preconditions") or {}
            meta = cur["metadata"]
            for field, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
                if pre.get(field) and pre[field] != meta.get(field):
                    raise ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": Precondition '
                                   "failed: %s in precondition: %s, %s in object meta: %s"
                                   % (QUALIFIED[resource], name, label, pre[field], label, meta.get(field)),
                                   {"name": name, "kind": resource})
            grace = self.grace_period(resource, cur, opts)
            if grace > 0:
                out = self.start_graceful_delete(resource, key, cur, grace)
            elif resource == "namespaces":
                # kube-apiserver answers a Namespace Terminating; the namespace
                # controller empties it and it goes: here at once
                prev = copy.deepcopy(cur)
                meta["deletionTimestamp"] = now_rfc3339()
                cur.setdefault("status", {})["phase"] = "Terminating"
                meta["resourceVersion"] = st.next_rv()
                st.record(resource, "MODIFIED", cur, prev)
                out = copy.deepcopy(cur)
                del st.objects[resource][key]
                gone = copy.deepcopy(cur)
                gone["spec"]["finalizers"] = []
                gone["metadata"]["resourceVersion"] = st.next_rv()
                st.record(resource, "DELETED", gone, gone)
            elif meta.get("finalizers") and resource != "pods":
                # marked, kept until an update removes the last finalizer
                if not meta.get("deletionTimestamp"):
                    prev = copy.deepcopy(cur)
                    meta["deletionTimestamp"] = now_rfc3339()
                    meta["deletionGracePeriodSeconds"] = 0
                    meta["resourceVersion"] = st.next_rv()
                    st.record(resource, "MODIFIED", cur, prev)
                out = copy.deepcopy(cur)
            else:
                del st.objects[resource][key]
                meta["resourceVersion"] = st.next_rv()
                st.record(resource, "DELETED", cur, cur)
                out = copy.deepcopy(cur)
        self.send_json(200, out)

    @staticmethod
    def grace_period(resource, pod, opts):
        """Seconds a deletion waits, as the pod strategy's CheckGracefulDelete decides."""
        if resource != "pods":
            return 0
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        if not spec.get("nodeName") or status.get("phase") in ("Succeeded", "Failed"):
            return 0   # never ran, or finished: nothing for a kubelet to stop
        g = opts.get("gracePeriodSeconds")
        if g is None:
            g = spec.get("terminationGracePeriodSeconds", 30)
        g = int(g)
        return 1 if g < 0 else g

    def start_graceful_delete(self, resource, key, cur, grace):
        """Caller holds the lock: deletionTimestamp set (never later than an
        earlier one), the object removed once its kubelet has stopped it."""
        st = self.store
        meta = cur["metadata"]
        prev = copy.deepcopy(cur)
        deadline = time.time() + grace
        if meta.get("deletionTimestamp"):
            old = datetime.datetime.strptime(meta["deletionTimestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=datetime.timezone.utc).timestamp()
            deadline = min(deadline, old)
            grace = min(grace, meta.get("deletionGracePeriodSeconds", grace))
        meta["deletionTimestamp"] = datetime.datetime.fromtimestamp(
            deadline, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        meta["deletionGracePeriodSeconds"] = grace
        meta["resourceVersion"] = st.next_rv()
        st.record(resource, "MODIFIED", cur, prev)
        uid = meta.get("uid")

        def stopped():
            with st.lock:
                obj = st.objects[resource].get(key)
                if obj is None or obj["metadata"].get("uid") != uid:
                    return
                del st.objects[resource][key]
                obj["metadata"]["resourceVersion"] = st.next_rv()
                st.record(resource, "DELETED", obj, obj)
        t = threading.Timer(min(float(grace), float(st.faults["pod_stop_s"])), stopped)
        t.daemon = True
        t.start()
        return copy.deepcopy(cur)

    def bind(self, ns, name):
        body = self.read_body()
        if not isinstance(body, dict) or body.get("kind", "Binding") != "Binding":
            raise ApiError(400, "BadRequest", "body must be a Binding")
        target = (body.get("target") or {}).get("name")
        if not target:
            raise ApiError(422, "Invalid", 'Binding.core "%s" is invalid: target.name: Required value' % name)
        bmeta = body.get("metadata") or {}
        if bmeta.get("name") not in (None, name):
            raise ApiError(400, "BadRequest", "metadata.name does not match the URL")
        st = self.store
        with st.lock:
            pkey = obj_key(ns, name)
            st.binding_attempts[pkey] = st.binding_attempts.get(pkey, 0) + 1
            pod = st.objects["pods"].get(pkey)
            if pod is None:
                raise self.not_found("pods", name)
            if bmeta.get("uid") and bmeta["uid"] != pod["metadata"]["uid"]:
                raise ApiError(409, "Conflict",
                               'Operation cannot be fulfilled on pods/binding "%s": Precondition failed: '
                               "UID in precondition: %s, UID in object meta: %s"
                               % (name, bmeta["uid"], pod["metadata"]["uid"]))
            if st.faults["bind_conflict_next"] > 0 and not (pod.get("spec") or {}).get("nodeName"):
                st.faults["bind_conflict_next"] -= 1
                self.set_bound(pod, st.faults["conflict_node"], by_us=False)
            have = (pod.get("spec") or {}).get("nodeName")
            if have:
                raise ApiError(409, "Conflict",
                               'Operation cannot be fulfilled on pods/binding "%s": pod %s is already '
                               'assigned to node "%s"' % (name, name, have),
                               {"name": name, "kind": "pods/binding"})
            if (pod.get("spec") or {}).get("schedulingGates"):
                raise ApiError(409, "Conflict",
                               'Operation cannot be fulfilled on pods/binding "%s": pod %s has non-empty '
                               '.spec.schedulingGates' % (name, name), {"name": name, "kind": "pods/binding"})
            ann = bmeta.get("annotations") or {}
            if ann:
                pod["metadata"].setdefault("annotations", {}).update(ann)
            self.set_bound(pod, target, by_us=True)
            lose_response = st.faults["bind_then_fail_next"] > 0
            if lose_response:
                st.faults["bind_then_fail_next"] -= 1
        if lose_response:
            raise ApiError(500, "InternalError", "injected fault after binding (test double)")
        self.send_json(201, status_obj(201, "", "", status="Success"))

    def set_bound(self, pod, node, by_us):
        """Caller holds the lock."""
        st = self.store
        prev = copy.deepcopy(pod)
        pod.setdefault("spec", {})["nodeName"] = node
        conds = [c for c in (pod.setdefault("status", {}).get("conditions") or [])
                 if c.get("type") != "PodScheduled"]
        conds.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                      "lastTransitionTime": now_rfc3339()})
        pod["status"]["conditions"] = conds
        pod["status"].pop("nominatedNodeName", None)
        pod["metadata"]["resourceVersion"] = st.next_rv()
        st.bindings.append({"pod": obj_key(pod["metadata"].get("namespace"), pod["metadata"]["name"]),
                            "node": node, "by_binding": by_us,
                            "resourceVersion": pod["metadata"]["resourceVersion"]})
        st.record("pods", "MODIFIED", pod, prev)

    # -- watch
    def watch(self, resource, ns, query):
        fsel = parse_field_selector(query.get("fieldSelector"))
        lsel = parse_label_selector(query.get("labelSelector"))
        bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
        timeout = float(query.get("timeoutSeconds") or 1800)
        deadline = time.monotonic() + timeout
        since = query.get("resourceVersion") or "0"
        try:
            since_n = int(since)
        except ValueError:
            raise ApiError(400, "BadRequest", "invalid resourceVersion %r" % since)
        st = self.store
        api_version, kind, _ = RESOURCES[resource]
        with st.lock:
            gen, egen = st.watch_generation, st.expire_generation
            initial = []
            if since_n == 0:
                since_n = st.rv
                for obj in sorted(st.objects[resource].values(), key=lambda o: int(o["metadata"]["resourceVersion"])):
                    if (ns is None or obj["metadata"].get("namespace") == ns) and matches(obj, fsel, lsel):
                        initial.append({"type": "ADDED", "object": copy.deepcopy(obj)})
            too_old = since_n < st.oldest_rv
            if too_old and st.faults["watch_410_http"]:
                raise ApiError(410, "Expired", "too old resource version: %d (%d)" % (since_n, st.oldest_rv))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.close_connection = True
        if too_old:
            self.chunk(self.expired_event(since_n))
            self.chunk(None)
            return
        self.chunks(initial)
        last_bookmark = time.monotonic()
        while True:
            with st.lock:
                if st.watch_generation != gen:
                    return  # drop the connection without a final chunk, like a broken proxy
                crd_gone = resource in st.absent
                if st.expire_generation != egen or since_n < st.oldest_rv:
                    ev = self.expired_event(since_n)
                    pending = None
                else:
                    ev = None
                    pending = st.events_since(since_n, resource)
                    if not pending and not crd_gone:
                        st.changed[resource].wait(0.2)
                        pending = st.events_since(since_n, resource)
                    cur_rv = st.rv
            if ev is not None:
                self.chunk(ev)
                self.chunk(None)
                return
            batch = []
            for rv, _, etype, obj, prev in pending:
                since_n = rv
                out = self.filter_event(etype, obj, prev, ns, fsel, lsel)
                if out:
                    batch.append({"type": out, "object": obj})
            # one write and flush for what is ready, as kube-apiserver flushes a
            # watch only once its queue is empty
            self.chunks(batch)
            since_n = max(since_n, cur_rv)  # every event up to cur_rv was in `pending`
            now = time.monotonic()
            if bookmarks and now - last_bookmark >= self.server.bookmark_seconds:
                last_bookmark = now
                self.chunk({"type": "BOOKMARK", "object": {
                    "kind": kind, "apiVersion": api_version,
                    "metadata": {"resourceVersion": str(max(since_n, cur_rv))}}})
                since_n = max(since_n, cur_rv)
            if now >= deadline or crd_gone:
                self.chunk(None)
                return

    @staticmethod
    def expired_event(since_n):
        return {"type": "ERROR", "object": status_obj(
            410, "Expired", "too old resource version: %d (%d)" % (since_n, since_n + 1))}

    @staticmethod
    def filter_event(etype, obj, prev, ns, fsel, lsel):
        """Selector-aware event type, as the real watch cache does it."""
        if ns is not None and obj["metadata"].get("namespace") != ns:
            return None
        now_m = matches(obj, fsel, lsel)
        if etype == "ADDED":
            return "ADDED" if now_m else None
        if etype == "DELETED":
            return "DELETED" if now_m else None
        was_m = prev is not None and matches(prev, fsel, lsel)
        if now_m and was_m:
            return "MODIFIED"
        if now_m:
            return "ADDED"
        if was_m:
            return "DELETED"
        return None

    def chunk(self, obj):
        if obj is None:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        else:
            self.chunks([obj])

    def chunks(self, objs):
        if not objs:
            return
        out = []
        for obj in objs:
            data = json.dumps(obj).encode() + b"\n"
            out.append(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.write(b"".join(out))
        self.wfile.flush()

    # -- test endpoints
    def test_endpoint(self, method, path):
        st = self.store
        if path == "/_test/faults" and method == "POST":
            body = self.read_body() or {}
            with st.lock:
                for k in ("fail_next", "status", "delay_ms", "delay_path", "fail_path", "watch_410_http",
                          "bind_conflict_next", "conflict_node", "bind_then_fail_next", "expire_continue_next",
                          "expire_continue_resource", "page_max", "hold_path", "pod_stop_s", "provision_hold",
                          "provision_fail_next", "patch_then_fail_next", "patch_then_fail_path"):
                    if k in body:
                        st.faults[k] = body[k]
                if "nrt_absent" in body:
                    st.set_absent("noderesourcetopologies", bool(body["nrt_absent"]))
                for r, gone in (body.get("absent") or {}).items():
                    if r not in CRDS:
                        raise ApiError(400, "BadRequest", "not a custom resource: %r" % r)
                    st.set_absent(r, bool(gone))
                if body.get("drop_watches"):
                    st.watch_generation += 1
                if body.get("expire_watches"):
                    st.expire_generation += 1
                    st.compact()
                if body.get("compact"):
                    st.compact()
                st.wake_watches()
                out = dict(st.faults, nrt_present="noderesourcetopologies" not in st.absent,
                           absent=sorted(st.absent))
            self.send_json(200, out)
        elif path == "/_test/state" and method == "GET":
            with st.lock:
                out = {"resourceVersion": str(st.rv),
                       "objects": {r: list(v.values()) for r, v in st.objects.items()},
                       "binding_attempts": st.binding_attempts, "bindings": st.bindings,
                       "requests": st.requests, "connections": st.connections, "calls": st.calls, "faults": st.faults,
                       "writes": st.writes}
                body = json.dumps(out)
            self.send_json(200, json.loads(body))
        elif path == "/_test/admission":
            self.server.admission.test_endpoint(self, method)
        else:
            raise ApiError(404, "NotFound", "unknown test endpoint")


def default_pod_ports(spec):
    """SetDefaults_PodSpec / SetDefaults_ContainerPort: a port's protocol is
    TCP unless given; under hostNetwork a missing hostPort is the
    containerPort (containers and init containers)."""
    for key in ("initContainers", "containers"):
        for c in spec.get(key) or []:
            for port in (c.get("ports") or []) if isinstance(c, dict) else []:
                if not isinstance(port, dict):
                    continue
                port.setdefault("protocol", "TCP")
                if spec.get("hostNetwork") and not port.get("hostPort"):
                    port["hostPort"] = port.get("containerPort", 0)


def merge_label_keys(pod):
    """kube-apiserver's pod strategy on create: each pod affinity term's
    matchLabelKeys / mismatchLabelKeys become `key In/NotIn (value)` in its
    labelSelector for the keys the pod has (a term without labelSelector is
    left alone)."""
    labels = (pod.get("metadata") or {}).get("labels") or {}
    affinity = (pod.get("spec") or {}).get("affinity") or {}
    for kind in ("podAffinity", "podAntiAffinity"):
        a = affinity.get(kind) or {}
        terms = list(a.get("requiredDuringSchedulingIgnoredDuringExecution") or [])
        terms += [w.get("podAffinityTerm") or {} for w in a.get("preferredDuringSchedulingIgnoredDuringExecution") or []]
        for t in terms:
            sel = t.get("labelSelector")
            if not isinstance(sel, dict):
                continue
            for field, op in (("matchLabelKeys", "In"), ("mismatchLabelKeys", "NotIn")):
                for key in t.get(field) or []:
                    if key in labels:
                        sel.setdefault("matchExpressions", []).append(
                            {"key": key, "operator": op, "values": [labels[key]]})


def namespace_defaults(ns):
    """What kube-apiserver gives every Namespace: the immutable
    kubernetes.io/metadata.name label, the kubernetes finalizer, phase Active."""
    meta = ns.setdefault("metadata", {})
    labels = meta.get("labels")
    if not isinstance(labels, dict):
        labels = meta["labels"] = {}
    labels["kubernetes.io/metadata.name"] = meta.get("name", "")
    spec = ns.setdefault("spec", {})
    spec.setdefault("finalizers", ["kubernetes"])
    ns.setdefault("status", {}).setdefault("phase", "Active")


def merge_patch(target, patch, path=None):
    """RFC 7386 JSON merge patch; with path (a tuple: the location in the
    object) a strategic merge patch of the built-in types: a list with a merge
    key (MERGE_KEYS) is merged item by item ({"$patch": "delete"} removes
    one), directives ($setElementOrder/..., $retainKeys) are dropped."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for k, v in patch.items():
        if path is not None and k.startswith("$"):
            continue
        if v is None:
            target.pop(k, None)
        elif path is not None and path + (k,) in MERGE_KEYS and isinstance(v, list):
            target[k] = merge_list(target.get(k), v, MERGE_KEYS[path + (k,)], path + (k,))
        else:
            target[k] = merge_patch(target.get(k), v, None if path is None else path + (k,))
    return target


def merge_list(have, items, key, path):
    out = copy.deepcopy(have) if isinstance(have, list) else []
    for item in items:
        if not isinstance(item, dict) or key not in item:
            raise ApiError(422, "Invalid", "%s: an item of a strategic merge list must name its %s"
                           % (".".join(path), key))
        at = next((i for i, o in enumerate(out) if isinstance(o, dict) and o.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if at is not None:
                del out[at]
        elif at is None:
            out.append(merge_patch({}, item, path))
        else:
            out[at] = merge_patch(out[at], item, path)
    return out


# ---------------------------------------------------------------- storage controllers stand-in

class VolumeControllers:
    """What kube-controller-manager's PV controller and pvc-protection
    controller and an external provisioner for `name` do, as store writes
    (each a MODIFIED/ADDED event like any other write). Runs every 0.1 s."""

    def __init__(self, store, name):
        self.store, self.name = store, name

    def run(self):
        while True:
            time.sleep(0.1)
            with self.store.lock:
                if not self.store.faults["provision_hold"]:
                    self.step()

    def write(self, resource, obj, prev, etype="MODIFIED"):
        st = self.store
        meta = obj["metadata"]
        meta["resourceVersion"] = st.next_rv()
        key = obj_key(meta.get("namespace"), meta["name"])
        if etype == "DELETED":
            st.objects[resource].pop(key, None)
        else:
            st.objects[resource][key] = obj
        st.record(resource, etype, obj, prev)

    def step(self):
        st = self.store
        classes = st.objects["storageclasses"]
        for pvc in list(st.objects["persistentvolumeclaims"].values()):
            meta, spec = pvc["metadata"], pvc.get("spec") or {}
            ann = meta.get("annotations") or {}
            if meta.get("deletionTimestamp"):
                self.unprotect(pvc)
                continue
            if spec.get("volumeName"):
                continue
            sc = classes.get(obj_key(None, spec.get("storageClassName") or ""))
            if sc is None or sc.get("provisioner") != self.name or ANN_SELECTED_NODE not in ann:
                continue
            if st.faults["provision_fail_next"] > 0:  # external-provisioner gives the node back
                st.faults["provision_fail_next"] -= 1
                prev, new = copy.deepcopy(pvc), copy.deepcopy(pvc)
                del new["metadata"]["annotations"][ANN_SELECTED_NODE]
                self.write("persistentvolumeclaims", new, prev)
                continue
            self.provision(pvc, sc, ann[ANN_SELECTED_NODE])
        for pv in list(st.objects["persistentvolumes"].values()):
            self.bind_static(pv)

    def provision(self, pvc, sc, node):
        meta, spec = pvc["metadata"], pvc["spec"]
        size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
        name = "pvc-" + meta["uid"]
        pv = {"apiVersion": "v1", "kind": "PersistentVolume",
              "metadata": {"name": name, "uid": str(uuid.uuid4()), "creationTimestamp": now_rfc3339(),
                           "annotations": {"pv.kubernetes.io/provisioned-by": self.name},
                           "finalizers": ["kubernetes.io/pv-protection"]},
              "spec": {"capacity": {"storage": size}, "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                       "storageClassName": spec.get("storageClassName"), "volumeMode": spec.get("volumeMode", "Filesystem"),
                       "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
                       "claimRef": {"kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": meta["namespace"],
                                    "name": meta["name"], "uid": meta["uid"],
                                    "resourceVersion": meta["resourceVersion"]},
                       "csi": {"driver": self.name, "volumeHandle": "vol-" + meta["uid"]},
                       "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                           {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}},
              "status": {"phase": "Bound"}}
        if obj_key(None, name) not in self.store.objects["persistentvolumes"]:
            self.write("persistentvolumes", pv, None, "ADDED")
        self.bind_claim(pvc, name, size)

    def bind_claim(self, pvc, volume, size):
        prev, new = copy.deepcopy(pvc), copy.deepcopy(pvc)
        ann = new["metadata"].setdefault("annotations", {})
        ann["pv.kubernetes.io/bind-completed"] = "yes"
        ann["pv.kubernetes.io/bound-by-controller"] = "yes"
        new["spec"]["volumeName"] = volume
        new["status"] = {"phase": "Bound", "accessModes": new["spec"].get("accessModes") or ["ReadWriteOnce"],
                         "capacity": {"storage": size}}
        self.write("persistentvolumeclaims", new, prev)

    def bind_static(self, pv):
        """The PV controller: an unbound volume is Available; one with a
        claimRef binds its claim."""
        spec, phase = pv.get("spec") or {}, (pv.get("status") or {}).get("phase")
        ref = spec.get("claimRef")
        if ref is None:
            if phase != "Available" and not pv["metadata"].get("deletionTimestamp"):
                prev, new = copy.deepcopy(pv), copy.deepcopy(pv)
                new["status"] = {"phase": "Available"}
                self.write("persistentvolumes", new, prev)
            return
        pvc = self.store.objects["persistentvolumeclaims"].get(obj_key(ref.get("namespace"), ref.get("name", "")))
        if pvc is None or (ref.get("uid") and ref["uid"] != pvc["metadata"].get("uid")):
            return
        if not (pvc.get("spec") or {}).get("volumeName"):
            self.bind_claim(pvc, pv["metadata"]["name"], (spec.get("capacity") or {}).get("storage", "1Gi"))
        if phase != "Bound":
            prev, new = copy.deepcopy(pv), copy.deepcopy(pv)
            new["status"] = {"phase": "Bound"}
            self.write("persistentvolumes", new, prev)

    def unprotect(self, pvc):
        """The pvc-protection controller: a claim being deleted that no pod mounts goes."""
        ns, name = pvc["metadata"].get("namespace"), pvc["metadata"]["name"]
        for pod in self.store.objects["pods"].values():
            if pod["metadata"].get("namespace") != ns or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            for v in (pod.get("spec") or {}).get("volumes") or []:
                claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
                if v.get("ephemeral") is not None:
                    claim = pod["metadata"]["name"] + "-" + v.get("name", "")
                if claim == name:
                    return
        fins = pvc["metadata"].get("finalizers") or []
        if "kubernetes.io/pvc-protection" in fins:
            prev, new = copy.deepcopy(pvc), copy.deepcopy(pvc)
            new["metadata"]["finalizers"] = [f for f in fins if f != "kubernetes.io/pvc-protection"]
            self.write("persistentvolumeclaims", new, prev, "MODIFIED" if new["metadata"]["finalizers"] else "DELETED")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default listen backlog is 5: a client opening tens of
    # connections at once would see SYNs dropped and retried a second later.
    # kube-apiserver (Go) listens with the kernel's somaxconn.
    request_queue_size = socket.SOMAXCONN


def main():
    ap = argparse.ArgumentParser(description="kube-apiserver TEST DOUBLE (not a product)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--port-file")
    ap.add_argument("--client-ca", help="accept client certificates signed by this CA")
    ap.add_argument("--no-nrt", action="store_true", help="NodeResourceTopology CRD absent (404)")
    ap.add_argument("--absent", action="append", default=[], choices=CRDS,
                    help="this custom resource's CRD absent (404); repeatable")
    ap.add_argument("--history", type=int, default=10000, help="watch events kept (older RVs get 410)")
    ap.add_argument("--bookmark-seconds", type=float, default=2.0)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--restore-uids", action="store_true",
                    help="a create that carries metadata.uid keeps it: to re-create the state of a "
                         "previous run after a simulated restart (etcd keeps uids)")
    ap.add_argument("--provisioner", metavar="NAME",
                    help="run the storage controllers' stand-in for provisioner NAME (see the module doc)")
    admission_chain.add_args(ap)
    args = ap.parse_args()

    srv = Server((args.host, args.port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    ctx.set_alpn_protocols(["http/1.1"])
    if args.client_ca:
        ctx.load_verify_locations(args.client_ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL
    # Handshake in the handler thread, so one slow client cannot stall accept().
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    srv.store = Store(args.history, args.absent + (["noderesourcetopologies"] if args.no_nrt else []))
    for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
        ns = {"apiVersion": "v1", "kind": "Namespace",
              "metadata": {"name": name, "uid": str(uuid.uuid4()), "creationTimestamp": now_rfc3339(),
                           "resourceVersion": srv.store.next_rv()}}
        namespace_defaults(ns)
        srv.store.objects["namespaces"][obj_key(None, name)] = ns
    srv.admission = admission_chain.Chain(srv.store, ApiError, args)
    srv.token = args.token
    srv.verbose = args.verbose
    srv.restore_uids = args.restore_uids
    srv.bookmark_seconds = args.bookmark_seconds
    if args.provisioner:
        threading.Thread(target=VolumeControllers(srv.store, args.provisioner).run, daemon=True).start()
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        import os
        os.replace(tmp, args.port_file)
    print("listening on %d" % port, flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
