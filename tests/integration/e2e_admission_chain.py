#!/usr/bin/env python3
"""e2e_admission_chain.py - tests of the kube-apiserver test double's admission
chain (tests/apiserver/admission_chain.py) against a scripted TLS webhook.

The double runs as its own process; the webhook here is a real HTTPS server
whose answers each case scripts, so every kube-apiserver behaviour the
end-to-end tests rely on is checked on its own: the AdmissionReview sent, the
?timeout= query, CA verification, patches, denials, failurePolicy, timeouts,
reinvocation, selectors, validating after mutating, SparkApplication CRUD.
Python 3 standard library only; run by test_e2e_admission_chain.sh.
"""

import base64
import http.client
import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
DOUBLE = os.path.join(HERE, "..", "apiserver", "kube_apiserver_double.py")
sys.path.insert(0, os.path.join(HERE, "..", "apiserver"))
import admission_chain  # noqa: E402

TOKEN = "e2e-chain-token"


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/CN=" + name, "-keyout", os.path.join(d, name + ".key"), "-out", os.path.join(d, name + ".crt"))


def make_leaf(d, ca, name, sans):
    key, csr, crt = (os.path.join(d, name + s) for s in (".key", ".csr", ".crt"))
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=" + ",".join(sans) + "\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=" + name,
            "-keyout", key, "-out", csr)
    openssl("x509", "-req", "-in", csr, "-CA", os.path.join(d, ca + ".crt"), "-CAkey", os.path.join(d, ca + ".key"),
            "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", crt)
    return crt, key


class Hook(BaseHTTPRequestHandler):
    """The scripted webhook: server.script[path] -> callable(review) -> (code, body)."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        review = json.loads(self.rfile.read(n))
        path, _, query = self.path.partition("?")
        self.server.seen.append({"path": path, "query": query, "review": review,
                                 "content_type": self.headers.get("Content-Type")})
        fn = self.server.script.get(path)
        code, body = fn(review) if fn else (404, {"message": "no script for " + path})
        data = json.dumps(body).encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass


def answer(review, allowed=True, patch=None, status=None, warnings=None, uid=None):
    resp = {"uid": uid if uid is not None else review["request"]["uid"], "allowed": allowed}
    if patch is not None:
        resp["patchType"] = "JSONPatch"
        resp["patch"] = base64.b64encode(json.dumps(patch).encode()).decode()
    if status is not None:
        resp["status"] = status
    if warnings:
        resp["warnings"] = warnings
    return 200, {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": resp}


def pod(name, labels=None, ns="team-a"):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
            "spec": {"containers": [{"name": "main", "image": "spark:3.5.0",
                                     "resources": {"limits": {"nvidia.com/gpu": "1"},
                                                   "requests": {"cpu": "1"}}}]}}


def sparkapp(name, ns="team-a"):
    return {"apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication",
            "metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
            "spec": {"type": "Scala", "driver": {"cores": 1}, "executor": {"instances": 2}}}


class ChainTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="kn-e2e-chain-")
        d = cls.tmp.name
        make_ca(d, "ca")
        make_ca(d, "otherca")
        cls.api_crt, cls.api_key = make_leaf(d, "ca", "api", ["IP:127.0.0.1"])
        hook_crt, hook_key = make_leaf(d, "ca", "hook", ["DNS:hook.test.svc", "DNS:localhost"])
        with open(os.path.join(d, "ca.crt"), "rb") as f:
            cls.ca_bundle = base64.b64encode(f.read()).decode()
        with open(os.path.join(d, "otherca.crt"), "rb") as f:
            cls.other_bundle = base64.b64encode(f.read()).decode()
        cls.hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        cls.hook.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(hook_crt, hook_key)
        cls.hook.socket = ctx.wrap_socket(cls.hook.socket, server_side=True)
        cls.hook.script, cls.hook.seen = {}, []
        cls.hook_port = cls.hook.server_address[1]
        threading.Thread(target=cls.hook.serve_forever, daemon=True).start()
        port_file = os.path.join(d, "port")
        cls.log = open(os.path.join(d, "double.log"), "w")
        cls.proc = subprocess.Popen([sys.executable, DOUBLE, "--port", "0", "--cert", cls.api_crt, "--key",
                                     cls.api_key, "--token", TOKEN, "--port-file", port_file,
                                     "--webhook-service", "hook.test:443=127.0.0.1:%d" % cls.hook_port],
                                    stdout=cls.log, stderr=cls.log)
        for _ in range(100):
            if os.path.exists(port_file):
                break
            time.sleep(0.1)
        with open(port_file) as f:
            cls.port = int(f.read())
        cls.ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.crt"))

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(10)
        cls.hook.shutdown()
        cls.log.close()
        cls.tmp.cleanup()

    def setUp(self):
        self.hook.script.clear()
        del self.hook.seen[:]
        for kind in ("mutatingwebhookconfigurations", "validatingwebhookconfigurations"):
            _, lst = self.call("GET", "/apis/admissionregistration.k8s.io/v1/" + kind)
            for item in lst["items"]:
                self.call("DELETE", "/apis/admissionregistration.k8s.io/v1/%s/%s" % (kind, item["metadata"]["name"]))

    # -- helpers
    def call(self, method, path, body=None, headers=None):
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=30)
        h = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}
        h.update(headers or {})
        c.request(method, path, body=None if body is None else json.dumps(body), headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, json.loads(data) if data else None

    def configure(self, kind, name, webhooks):
        code, out = self.call("POST", "/apis/admissionregistration.k8s.io/v1/%s" % kind,
                              {"apiVersion": "admissionregistration.k8s.io/v1",
                               "kind": "MutatingWebhookConfiguration" if kind.startswith("m") else
                               "ValidatingWebhookConfiguration",
                               "metadata": {"name": name}, "webhooks": webhooks})
        self.assertEqual(code, 201, out)

    def webhook(self, name, path, resources=("pods",), groups=("",), versions=("v1",), ops=("CREATE",),
                policy="Fail", timeout=5, ca=None, service="hook", **extra):
        h = {"name": name, "failurePolicy": policy, "sideEffects": "None", "admissionReviewVersions": ["v1"],
             "timeoutSeconds": timeout,
             "rules": [{"apiGroups": list(groups), "apiVersions": list(versions), "resources": list(resources),
                        "operations": list(ops), "scope": "Namespaced"}],
             "clientConfig": {"service": {"name": service, "namespace": "test", "path": path, "port": 443},
                              "caBundle": ca or self.ca_bundle}}
        h.update(extra)
        return h

    def create_pod(self, p):
        return self.call("POST", "/api/v1/namespaces/%s/pods" % p["metadata"]["namespace"], p)

    # -- cases
    def test_review_sent_and_patch_applied(self):
        self.hook.script["/mutate"] = lambda rv: answer(rv, patch=[
            {"op": "add", "path": "/metadata/labels/patched", "value": "yes"},
            {"op": "replace", "path": "/spec/schedulerName", "value": "kubenexus-scheduler"}],
            warnings=["a warning"])
        self.configure("mutatingwebhookconfigurations", "m1", [self.webhook("m.kn.test", "/mutate")])
        code, out = self.create_pod(pod("p1"))
        self.assertEqual(code, 201, out)
        self.assertEqual(out["metadata"]["labels"]["patched"], "yes")
        self.assertEqual(out["spec"]["schedulerName"], "kubenexus-scheduler")
        seen = self.hook.seen[0]
        self.assertEqual((seen["path"], seen["query"], seen["content_type"]), ("/mutate", "timeout=5s", "application/json"))
        rv = seen["review"]
        self.assertEqual((rv["apiVersion"], rv["kind"]), ("admission.k8s.io/v1", "AdmissionReview"))
        req = rv["request"]
        self.assertEqual(req["kind"], {"group": "", "version": "v1", "kind": "Pod"})
        self.assertEqual(req["resource"], {"group": "", "version": "v1", "resource": "pods"})
        self.assertEqual(req["requestKind"], req["kind"])
        self.assertEqual(req["requestResource"], req["resource"])
        self.assertEqual((req["name"], req["namespace"], req["operation"]), ("p1", "team-a", "CREATE"))
        self.assertIsNone(req["oldObject"])
        self.assertIs(req["dryRun"], False)
        self.assertEqual(req["options"], {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"})
        self.assertIn("system:authenticated", req["userInfo"]["groups"])
        self.assertEqual(len(req["uid"]), 36)
        # Defaults were applied before the webhook saw the pod.
        spec = req["object"]["spec"]
        self.assertEqual(spec["schedulerName"], "default-scheduler")
        self.assertEqual(spec["restartPolicy"], "Always")
        self.assertEqual(spec["serviceAccountName"], "default")
        self.assertEqual(spec["containers"][0]["resources"]["requests"], {"cpu": "1", "nvidia.com/gpu": "1"})
        self.assertEqual(spec["containers"][0]["imagePullPolicy"], "IfNotPresent")
        code, state = self.call("GET", "/_test/admission")
        last = state["calls"][-1]
        self.assertEqual((last["webhook"], last["outcome"], last["warnings"]), ("m.kn.test", "patched", ["a warning"]))

    def test_impersonated_user_in_review(self):
        self.hook.script["/v"] = lambda rv: answer(rv)
        self.configure("validatingwebhookconfigurations", "v1", [self.webhook("v.kn.test", "/v")])
        code, _ = self.call("POST", "/api/v1/namespaces/team-a/pods", pod("imp"),
                            {"Impersonate-User": "system:serviceaccount:spark-operator:spark-operator"})
        self.assertEqual(code, 201)
        self.assertEqual(self.hook.seen[0]["review"]["request"]["userInfo"]["username"],
                         "system:serviceaccount:spark-operator:spark-operator")

    def test_selectors(self):
        self.hook.script["/m"] = lambda rv: answer(rv)
        self.call("POST", "/_test/admission", {"namespaces": {"team-b": {"labels": {"kubenexus": "enabled"}}}})
        self.configure("mutatingwebhookconfigurations", "sel", [self.webhook(
            "sel.kn.test", "/m",
            namespaceSelector={"matchLabels": {"kubenexus": "enabled"},
                               "matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                                                     "values": ["kube-system"]}]},
            objectSelector={"matchExpressions": [{"key": "gang", "operator": "Exists"},
                                                 {"key": "skip", "operator": "DoesNotExist"}]})])
        self.assertEqual(self.create_pod(pod("s1", {"gang": "g"}, ns="team-b"))[0], 201)
        self.assertEqual(len(self.hook.seen), 1)
        self.assertEqual(self.create_pod(pod("s2", {"gang": "g"}, ns="team-a"))[0], 201)   # namespace label missing
        self.assertEqual(self.create_pod(pod("s3", {"other": "x"}, ns="team-b"))[0], 201)   # no gang label
        self.assertEqual(self.create_pod(pod("s4", {"gang": "g", "skip": "1"}, ns="team-b"))[0], 201)
        self.assertEqual(len(self.hook.seen), 1)

    def test_rules_operations_and_resources(self):
        self.hook.script["/m"] = lambda rv: answer(rv)
        self.configure("mutatingwebhookconfigurations", "rules", [
            self.webhook("sub.kn.test", "/m", resources=("pods/status",)),
            self.webhook("upd.kn.test", "/m", ops=("UPDATE",)),
            self.webhook("apps.kn.test", "/m", groups=("apps",))])
        self.assertEqual(self.create_pod(pod("r1"))[0], 201)
        self.assertEqual(self.hook.seen, [])
        code, cur = self.call("GET", "/api/v1/namespaces/team-a/pods/r1")
        cur["metadata"]["labels"]["x"] = "y"
        self.assertEqual(self.call("PUT", "/api/v1/namespaces/team-a/pods/r1", cur)[0], 200)
        self.assertEqual(len(self.hook.seen), 1)
        req = self.hook.seen[0]["review"]["request"]
        self.assertEqual(req["operation"], "UPDATE")
        self.assertEqual(req["options"]["kind"], "UpdateOptions")
        self.assertNotIn("x", req["oldObject"]["metadata"]["labels"])
        self.assertEqual(req["object"]["metadata"]["labels"]["x"], "y")

    def test_denial_shape(self):
        self.hook.script["/deny"] = lambda rv: answer(rv, allowed=False, status={
            "code": 403, "message": "spec.executor.instances is 0", "reason": "Forbidden"})
        self.hook.script["/deny-bare"] = lambda rv: answer(rv, allowed=False)
        self.configure("validatingwebhookconfigurations", "deny", [self.webhook("deny.kn.test", "/deny")])
        code, out = self.create_pod(pod("d1"))
        self.assertEqual(code, 403)
        self.assertEqual(out["message"], 'admission webhook "deny.kn.test" denied the request: spec.executor.instances is 0')
        self.assertEqual((out["kind"], out["status"], out["code"], out["reason"]), ("Status", "Failure", 403, "Forbidden"))
        self.assertEqual(self.call("GET", "/api/v1/namespaces/team-a/pods/d1")[0], 404)
        self.setUp()
        self.hook.script["/deny-bare"] = lambda rv: answer(rv, allowed=False)
        self.configure("mutatingwebhookconfigurations", "bare", [self.webhook("bare.kn.test", "/deny-bare")])
        code, out = self.create_pod(pod("d2"))
        self.assertEqual(code, 400)
        self.assertEqual(out["message"], 'admission webhook "bare.kn.test" denied the request without explanation')

    def test_failure_policy(self):
        down = self.webhook("down.kn.test", "/m", service="down", timeout=2)
        self.call("POST", "/_test/admission", {"services": {"down.test:443": "127.0.0.1:1"}})
        self.configure("mutatingwebhookconfigurations", "down", [down])
        code, out = self.create_pod(pod("f1"))
        self.assertEqual(code, 500)
        self.assertEqual(out["reason"], "InternalError")
        self.assertTrue(out["message"].startswith(
            'Internal error occurred: failed calling webhook "down.kn.test": failed to call webhook: '
            'Post "https://down.test.svc:443/m?timeout=2s": dial tcp 127.0.0.1:1: connect: connection refused'),
            out["message"])
        self.setUp()
        down["failurePolicy"] = "Ignore"
        self.configure("mutatingwebhookconfigurations", "down", [down])
        code, out = self.create_pod(pod("f2", {"keep": "me"}))
        self.assertEqual(code, 201, out)
        self.assertEqual(out["metadata"]["labels"], {"keep": "me"})

    def test_timeout(self):
        def slow(rv):
            time.sleep(2.5)
            return answer(rv, patch=[{"op": "add", "path": "/metadata/labels/late", "value": "1"}])
        self.hook.script["/slow"] = slow
        self.configure("mutatingwebhookconfigurations", "slow", [self.webhook("slow.kn.test", "/slow", timeout=1)])
        code, out = self.create_pod(pod("t1"))
        self.assertEqual(code, 500)
        self.assertIn('failed calling webhook "slow.kn.test"', out["message"])
        self.assertIn("context deadline exceeded", out["message"])
        self.assertEqual(self.hook.seen[0]["query"], "timeout=1s")
        self.setUp()
        self.hook.script["/slow"] = slow
        self.configure("mutatingwebhookconfigurations", "slow",
                       [self.webhook("slow.kn.test", "/slow", timeout=1, policy="Ignore")])
        code, out = self.create_pod(pod("t2"))
        self.assertEqual(code, 201)
        self.assertNotIn("late", out["metadata"]["labels"])

    def test_ca_bundle_verified(self):
        self.hook.script["/m"] = lambda rv: answer(rv)
        self.configure("mutatingwebhookconfigurations", "ca", [self.webhook("ca.kn.test", "/m", ca=self.other_bundle)])
        code, out = self.create_pod(pod("c1"))
        self.assertEqual(code, 500)
        self.assertIn("x509", out["message"])
        self.assertEqual(self.hook.seen, [])

    def test_bad_response(self):
        self.hook.script["/uid"] = lambda rv: answer(rv, uid="not-the-uid")
        self.configure("mutatingwebhookconfigurations", "uid", [self.webhook("uid.kn.test", "/uid")])
        code, out = self.create_pod(pod("u1"))
        self.assertEqual(code, 500)
        self.assertIn('expected response.uid=', out["message"])

    def test_bad_patch_is_500_even_with_ignore(self):
        self.hook.script["/bad"] = lambda rv: answer(rv, patch=[
            {"op": "replace", "path": "/metadata/annotations/missing", "value": "x"}])
        self.configure("mutatingwebhookconfigurations", "bad", [self.webhook("bad.kn.test", "/bad", policy="Ignore")])
        code, out = self.create_pod(pod("b1"))
        self.assertEqual(code, 500)
        self.assertEqual(out["reason"], "InternalError")
        self.assertIn("JSON patch", out["message"])
        self.assertEqual(self.call("GET", "/api/v1/namespaces/team-a/pods/b1")[0], 404)

    def test_reinvocation_and_validation_after_mutation(self):
        def first(rv):
            labels = rv["request"]["object"]["metadata"].get("labels") or {}
            return answer(rv, patch=[] if "first" in labels else
                          [{"op": "add", "path": "/metadata/labels/first", "value": "1"}])
        self.hook.script["/first"] = first
        self.hook.script["/never"] = lambda rv: answer(rv)
        self.hook.script["/second"] = lambda rv: answer(rv, patch=[
            {"op": "add", "path": "/metadata/labels/second", "value": "2"}])
        self.hook.script["/validate"] = lambda rv: answer(rv, allowed=False, status={
            "message": "saw " + ",".join(sorted(rv["request"]["object"]["metadata"]["labels"]))})
        # Configurations run in name order: a-first, b-second.
        self.configure("mutatingwebhookconfigurations", "b-second", [self.webhook("second.kn.test", "/second")])
        self.configure("mutatingwebhookconfigurations", "a-first", [
            self.webhook("first.kn.test", "/first", reinvocationPolicy="IfNeeded"),
            self.webhook("never.kn.test", "/never")])
        self.configure("validatingwebhookconfigurations", "v", [self.webhook("v.kn.test", "/validate")])
        code, out = self.create_pod(pod("ri"))
        self.assertEqual(code, 400)
        self.assertEqual(out["message"], 'admission webhook "v.kn.test" denied the request: saw first,second')
        self.assertEqual([s["path"] for s in self.hook.seen], ["/first", "/never", "/second", "/first", "/validate"])

    def test_configuration_validated(self):
        # kube-apiserver refuses a query string in service.path (each segment
        # must be a DNS-1123 subdomain) and in url.
        h = self.webhook("q.kn.test", "/mutate?fill-gang-labels=true")
        code, out = self.call("POST", "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
                              {"metadata": {"name": "q"}, "webhooks": [h]})
        self.assertEqual((code, out["reason"]), (422, "Invalid"))
        self.assertEqual(out["message"],
                         'MutatingWebhookConfiguration.admissionregistration.k8s.io "q" is invalid: '
                         'webhooks[0].clientConfig.service.path: Invalid value: "/mutate?fill-gang-labels=true": '
                         "segment[0]: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                         "characters, '-' or '.', and must start and end with an alphanumeric character (e.g. "
                         "'example.com', regex used for validation is "
                         "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
        h = self.webhook("u.kn.test", "/m", timeout=31, sideEffects="Some")
        h["clientConfig"] = {"url": "https://127.0.0.1:1/m?x=1"}
        code, out = self.call("POST", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
                              {"metadata": {"name": "u"}, "webhooks": [h, self.webhook("u.kn.test", "/m/fill-in")]})
        self.assertEqual(code, 422)
        for want in ('webhooks[0].sideEffects: Unsupported value: "Some"',
                     "webhooks[0].timeoutSeconds: Invalid value: 31",
                     'webhooks[0].clientConfig.url: Invalid value: "x=1": query parameters are not permitted',
                     'webhooks[1].name: Duplicate value: "u.kn.test"'):
            self.assertIn(want, out["message"])
        self.assertTrue(out["message"].startswith(
            'ValidatingWebhookConfiguration.admissionregistration.k8s.io "u" is invalid: ['))

    def test_sparkapplications(self):
        base = "/apis/sparkoperator.k8s.io/v1beta2/namespaces/team-a/sparkapplications"
        self.hook.script["/sa"] = lambda rv: answer(rv, patch=[
            {"op": "add", "path": "/metadata/annotations", "value": {"op": rv["request"]["operation"]}}])
        self.configure("mutatingwebhookconfigurations", "sa", [self.webhook(
            "sa.kn.test", "/sa", resources=("sparkapplications",), groups=("sparkoperator.k8s.io",),
            versions=("v1beta2",), ops=("CREATE", "UPDATE"))])
        code, out = self.call("POST", base, sparkapp("pi"))
        self.assertEqual(code, 201, out)
        self.assertEqual(out["metadata"]["annotations"], {"op": "CREATE"})
        req = self.hook.seen[0]["review"]["request"]
        self.assertEqual(req["kind"], {"group": "sparkoperator.k8s.io", "version": "v1beta2", "kind": "SparkApplication"})
        self.assertEqual(req["resource"]["resource"], "sparkapplications")
        out["spec"]["executor"]["instances"] = 3
        code, upd = self.call("PUT", base + "/pi", out)
        self.assertEqual(code, 200, upd)
        self.assertEqual(upd["metadata"]["annotations"], {"op": "UPDATE"})
        self.assertEqual(self.hook.seen[1]["review"]["request"]["oldObject"]["spec"]["executor"]["instances"], 2)
        code, lst = self.call("GET", base)
        self.assertEqual((code, lst["kind"], [i["metadata"]["name"] for i in lst["items"]]),
                         (200, "SparkApplicationList", ["pi"]))
        code, st = self.call("PUT", base + "/pi/status", {"status": {"applicationState": {"state": "SUBMITTED"}}})
        self.assertEqual(code, 200, st)
        self.assertEqual(len(self.hook.seen), 2)   # /status is a subresource: not sent
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=30)
        c.request("GET", base + "?watch=true&resourceVersion=0&timeoutSeconds=1",
                  headers={"Authorization": "Bearer " + TOKEN})
        events = [json.loads(line) for line in c.getresponse().read().splitlines() if line.strip()]
        c.close()
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in events], [("ADDED", "pi")])
        self.assertEqual(self.call("DELETE", base + "/pi")[0], 200)
        self.assertEqual(self.call("GET", base + "/pi")[1]["message"],
                         'sparkapplications.sparkoperator.k8s.io "pi" not found')


class PatchTest(unittest.TestCase):
    def test_rfc6902(self):
        doc = {"a": {"b": [1, 2]}, "c~d": 1, "e/f": 2}
        out = admission_chain.apply_json_patch(doc, [
            {"op": "add", "path": "/a/b/-", "value": 3},
            {"op": "add", "path": "/a/b/0", "value": 0},
            {"op": "remove", "path": "/c~0d"},
            {"op": "replace", "path": "/e~1f", "value": 5},
            {"op": "copy", "from": "/a/b", "path": "/g"},
            {"op": "move", "from": "/g", "path": "/h"},
            {"op": "test", "path": "/h/3", "value": 3}])
        self.assertEqual(out, {"a": {"b": [0, 1, 2, 3]}, "e/f": 5, "h": [0, 1, 2, 3]})
        self.assertEqual(doc["a"]["b"], [1, 2])   # input untouched
        for bad in ([{"op": "add", "path": "/x/y", "value": 1}], [{"op": "remove", "path": "/zz"}],
                    [{"op": "replace", "path": "/zz", "value": 1}], [{"op": "add", "path": "/a/b/5", "value": 1}],
                    [{"op": "test", "path": "/c~0d", "value": 2}], [{"op": "bogus", "path": "/a"}],
                    [{"op": "add", "path": "/a/b/01", "value": 1}], {"op": "add"}):
            with self.assertRaises(admission_chain.PatchError, msg=json.dumps(bad)):
                admission_chain.apply_json_patch(doc, bad)


if __name__ == "__main__":
    unittest.main(verbosity=2)
