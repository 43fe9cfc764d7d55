"""admission_chain.py - the admission chain of the kube-apiserver TEST DOUBLE.

Part of tests/apiserver/kube_apiserver_double.py (NOT A PRODUCT). It gives the
double what kube-apiserver does between decoding a request and storing it:

  * admissionregistration.k8s.io/v1 MutatingWebhookConfigurations and
    ValidatingWebhookConfigurations (cluster-scoped, CRUD like other kinds),
    validated as kube-apiserver does what a manifest can get wrong (422:
    a service path whose segments are not DNS-1123 subdomains - so no
    query string -, url with a query, sideEffects, timeoutSeconds, names),
    and sparkoperator.k8s.io/v1beta2 SparkApplications (namespaced CRUD,
    list, watch, /status);
  * on CREATE and UPDATE: pod defaults (as the API server's defaulting and
    its ServiceAccount / Priority / DefaultTolerationSeconds plugins set them),
    then the mutating webhooks (configurations sorted by name, webhooks in
    order; a webhook with reinvocationPolicy IfNeeded runs once more when a
    later webhook changed the object), then the validating webhooks;
  * matching as kube-apiserver: rules (apiGroups, apiVersions, resources with
    "*", "*/*", "pods/*", operations, scope), namespaceSelector on the
    namespace's labels (kubernetes.io/metadata.name always set),
    objectSelector on the object's or the old object's labels (matchLabels,
    matchExpressions In/NotIn/Exists/DoesNotExist);
  * the AdmissionReview v1 request (uid, kind, resource, requestKind,
    requestResource, name, namespace, operation, userInfo, object, oldObject,
    dryRun, options) POSTed over TLS to clientConfig.url, or to
    https://<svc>.<ns>.svc:<port><path>, with ?timeout=<timeoutSeconds>s,
    the certificate verified against clientConfig.caBundle for that host
    name; a Service is mapped to a local address with --webhook-service or
    POST /_test/admission;
  * the answer as kube-apiserver reads it: response.uid must match, a
    JSONPatch is applied by RFC 6902 (one that does not apply is a 500
    InternalError, whatever the failurePolicy), a denial becomes
    `admission webhook "<name>" denied the request: <message>` with the
    webhook's status code (at least 400); a call that fails or times out is
    a 500 `Internal error occurred: failed calling webhook "<name>": ...`
    under failurePolicy Fail and is skipped under Ignore; response.warnings
    come back as `Warning: 299 - "..."` headers (each text once).

Test endpoints (token as usual):
  POST /_test/admission {"services": {"<svc>.<ns>:<port>": "127.0.0.1:8443"},
                         "namespaces": {"<ns>": {"labels": {...}}}}
  GET  /_test/admission  every webhook call: webhook, operation, resource,
                         namespace, name, outcome, message, warnings, patch.
Python 3 standard library only.
"""

import base64
import copy
import http.client
import json
import re
import socket
import ssl
import time
import urllib.parse
import uuid

SPARK_GROUP = "sparkoperator.k8s.io"
ADMISSION_GROUP = "admissionregistration.k8s.io"

# Extra kinds for the double's tables: resource -> (apiVersion, kind, namespaced).
RESOURCES = {
    "sparkapplications": (SPARK_GROUP + "/v1beta2", "SparkApplication", True),
    "mutatingwebhookconfigurations": (ADMISSION_GROUP + "/v1", "MutatingWebhookConfiguration", False),
    "validatingwebhookconfigurations": (ADMISSION_GROUP + "/v1", "ValidatingWebhookConfiguration", False),
}
QUALIFIED = {
    "sparkapplications": "sparkapplications." + SPARK_GROUP,
    "mutatingwebhookconfigurations": "mutatingwebhookconfigurations." + ADMISSION_GROUP,
    "validatingwebhookconfigurations": "validatingwebhookconfigurations." + ADMISSION_GROUP,
}
# URL prefix -> (route group, resources served under it)
GROUPS = {
    ("apis", SPARK_GROUP, "v1beta2"): ("sparkoperator", ("sparkapplications",)),
    ("apis", ADMISSION_GROUP, "v1"): ("admissionregistration",
                                      ("mutatingwebhookconfigurations", "validatingwebhookconfigurations")),
}
MAX_RESPONSE = 4 * 1024 * 1024
MAX_CALL_LOG = 2000


def register(resources, qualified):
    """Adds this module's kinds to the double's tables."""
    resources.update(RESOURCES)
    qualified.update(QUALIFIED)


def route_group(parts):
    """(rest, group) for a URL under one of our API groups, else None."""
    hit = GROUPS.get(tuple(parts[:3]))
    return (parts[3:], hit[0]) if hit else None


def allowed_resources():
    return {g: r for g, r in GROUPS.values()}


def add_args(ap):
    ap.add_argument("--webhook-service", action="append", default=[], metavar="SVC.NS:PORT=HOST:PORT",
                    help="where a webhook Service is reached (the certificate is still checked "
                         "for SVC.NS.svc)")


def group_version(api_version):
    return api_version.split("/", 1) if "/" in api_version else ("", api_version)


def send_warnings(handler):
    """Webhook warnings go back as kube-apiserver sends them: one
    `Warning: 299 - "<text>"` header each (kubectl prints them)."""
    for w in getattr(handler, "kn_warnings", None) or []:
        handler.send_header("Warning", '299 - "%s"' % w.replace("\\", "\\\\").replace('"', '\\"'))
    handler.kn_warnings = []


# ---------------------------------------------------------------- selectors

class SelectorError(Exception):
    pass


def selector_matches(sel, labels):
    """metav1.LabelSelector semantics; None or {} match everything."""
    if sel is None:
        return True
    if not isinstance(sel, dict):
        raise SelectorError("selector is not an object")
    labels = labels or {}
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        key, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        if op in ("In", "NotIn") and not vals:
            raise SelectorError("values: Required value: must be specified when `operator` is 'In' or 'NotIn'")
        if op in ("Exists", "DoesNotExist") and vals:
            raise SelectorError("values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
        present = key in labels
        ok = {"In": present and labels.get(key) in vals,
              "NotIn": not present or labels.get(key) not in vals,
              "Exists": present, "DoesNotExist": not present}.get(op)
        if ok is None:
            raise SelectorError("%r is not a valid label selector operator" % op)
        if not ok:
            return False
    return True


def rule_matches(rule, group, version, resource, sub, op, namespaced):
    def has(lst, v):
        lst = lst or []
        return "*" in lst or v in lst
    if not has(rule.get("operations"), op) or not has(rule.get("apiGroups"), group) \
            or not has(rule.get("apiVersions"), version):
        return False
    scope = rule.get("scope") or "*"
    if scope == "Cluster" and namespaced or scope == "Namespaced" and not namespaced:
        return False
    full = resource + ("/" + sub if sub else "")
    for r in rule.get("resources") or []:
        if r in ("*/*", full) or (r == "*" and not sub):
            return True
        if "/" in r:
            rr, rs = r.split("/", 1)
            if sub and rr in ("*", resource) and rs in ("*", sub):
                return True
    return False


# ---------------------------------------------------------------- validation

DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
               "'-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
               "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")


def _invalid(field, value, detail):
    return "%s: Invalid value: %s: %s" % (field, json.dumps(value), detail)


def _unsupported(field, value, allowed):
    return "%s: Unsupported value: %s: supported values: %s" % (
        field, json.dumps(value), ", ".join(json.dumps(a) for a in allowed))


def _validate_service_path(field, path):
    """k8s.io/apiserver/pkg/util/webhook ValidateWebhookService, the path part."""
    if path in (None, "", "/"):
        return []
    if path == "//":
        return [_invalid(field, path, "segment[0] may not be empty")]
    errs = [] if path.startswith("/") else [_invalid(field, path, "must start with a '/'")]
    rest = path[1:]
    if rest.endswith("/"):
        rest = rest[:-1]
    for i, step in enumerate(rest.split("/")):
        if not step:
            errs.append(_invalid(field, path, "segment[%d] may not be empty" % i))
        elif len(step) > 253 or not DNS1123_SUBDOMAIN.match(step):
            errs.append(_invalid(field, path, "segment[%d]: %s" % (i, DNS1123_MSG)))
    return errs


def _validate_client_config(field, cc):
    cc = cc if isinstance(cc, dict) else {}
    url, svc = cc.get("url"), cc.get("service")
    if (url is None) == (svc is None):
        return ["%s: Required value: exactly one of url or service is required" % field]
    if url is not None:
        u = urllib.parse.urlsplit(url)
        form = "; desired format: https://host[/path]"
        errs = []
        if u.scheme != "https":
            errs.append(_invalid(field + ".url", u.scheme, "'https' is the only allowed URL scheme" + form))
        if not u.netloc:
            errs.append(_invalid(field + ".url", u.netloc, "host must be specified" + form))
        if u.query:
            errs.append(_invalid(field + ".url", u.query, "query parameters are not permitted in the URL"))
        if u.fragment:
            errs.append(_invalid(field + ".url", u.fragment, "fragments are not permitted in the URL"))
        return errs
    errs = ["%s.service.%s: Required value" % (field, k) for k in ("name", "namespace") if not svc.get(k)]
    port = svc.get("port", 443)
    if not isinstance(port, int) or not 1 <= port <= 65535:
        errs.append(_invalid(field + ".service.port", port, "port is not valid: must be between 1 and 65535, inclusive"))
    return errs + _validate_service_path(field + ".service.path", svc.get("path"))


def validate_configuration(cfg, mutating):
    """The checks of admissionregistration/validation that a hand-written
    manifest can trip over (v1 rules: sideEffects and admissionReviewVersions
    required). Returns field error strings as kube-apiserver words them."""
    errs, names = [], set()
    for i, h in enumerate(cfg.get("webhooks") or []):
        f = "webhooks[%d]" % i
        h = h if isinstance(h, dict) else {}
        name = h.get("name") or ""
        if not name:
            errs.append("%s.name: Required value" % f)
        elif name.count(".") < 2 or not DNS1123_SUBDOMAIN.match(name):
            errs.append(_invalid(f + ".name", name, "should be a domain with at least three segments separated by dots"))
        elif name in names:
            errs.append("%s.name: Duplicate value: %s" % (f, json.dumps(name)))
        names.add(name)
        if not h.get("sideEffects"):
            errs.append("%s.sideEffects: Required value" % f)
        elif h["sideEffects"] not in ("None", "NoneOnDryRun"):
            errs.append(_unsupported(f + ".sideEffects", h["sideEffects"], ["None", "NoneOnDryRun"]))
        if not h.get("admissionReviewVersions"):
            errs.append("%s.admissionReviewVersions: Required value: must specify one of v1, v1beta1" % f)
        if h.get("failurePolicy", "Fail") not in ("Fail", "Ignore"):
            errs.append(_unsupported(f + ".failurePolicy", h["failurePolicy"], ["Fail", "Ignore"]))
        if h.get("matchPolicy", "Equivalent") not in ("Exact", "Equivalent"):
            errs.append(_unsupported(f + ".matchPolicy", h["matchPolicy"], ["Equivalent", "Exact"]))
        if mutating and h.get("reinvocationPolicy", "Never") not in ("Never", "IfNeeded"):
            errs.append(_unsupported(f + ".reinvocationPolicy", h["reinvocationPolicy"], ["IfNeeded", "Never"]))
        t = h.get("timeoutSeconds", 10)
        if not isinstance(t, int) or not 1 <= t <= 30:
            errs.append(_invalid(f + ".timeoutSeconds", t, "the timeout value must be between 1 and 30 seconds"))
        errs += _validate_client_config(f + ".clientConfig", h.get("clientConfig"))
    return errs


# ---------------------------------------------------------------- JSON patch

class PatchError(Exception):
    pass


def _tokens(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError("JSON Pointer %r does not start with /" % path)
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def _container(doc, path, opname):
    toks = _tokens(path)
    if not toks:
        raise PatchError("%s operation does not apply: the whole document is not a target" % opname)
    cur = doc
    for t in toks[:-1]:
        if isinstance(cur, dict) and t in cur:
            cur = cur[t]
        elif isinstance(cur, list) and t.isdigit() and int(t) < len(cur):
            cur = cur[int(t)]
        else:
            raise PatchError('%s operation does not apply: doc is missing path: "%s": missing value'
                             % (opname, path))
    return cur, toks[-1]


def _index(cont, key, path, opname, insert):
    if key == "-" and insert:
        return len(cont)
    if not key.isdigit() or (len(key) > 1 and key[0] == "0"):
        raise PatchError('%s operation does not apply: invalid array index "%s" in "%s"' % (opname, key, path))
    i = int(key)
    if i > len(cont) or (i == len(cont) and not insert):
        raise PatchError('%s operation does not apply: index out of range: "%s"' % (opname, path))
    return i


def _get(doc, path, opname):
    cont, key = _container(doc, path, opname)
    if isinstance(cont, dict) and key in cont:
        return cont[key]
    if isinstance(cont, list):
        return cont[_index(cont, key, path, opname, False)]
    raise PatchError('%s operation does not apply: doc is missing key: %s: missing value' % (opname, path))


def _remove(doc, path, opname):
    cont, key = _container(doc, path, opname)
    if isinstance(cont, dict):
        if key not in cont:
            raise PatchError('%s operation does not apply: doc is missing key: %s: missing value'
                             % (opname, path))
        return cont.pop(key)
    if isinstance(cont, list):
        return cont.pop(_index(cont, key, path, opname, False))
    raise PatchError('%s operation does not apply: doc is missing path: "%s": missing value' % (opname, path))


def _add(doc, path, value, opname):
    cont, key = _container(doc, path, opname)
    if isinstance(cont, dict):
        cont[key] = value
    elif isinstance(cont, list):
        cont.insert(_index(cont, key, path, opname, True), value)
    else:
        raise PatchError('%s operation does not apply: doc is missing path: "%s": missing value'
                         % (opname, path))


def apply_json_patch(doc, patch):
    """RFC 6902 on a copy of doc; raises PatchError with the library's wording."""
    if not isinstance(patch, list):
        raise PatchError("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(doc)
    for op in patch:
        if not isinstance(op, dict) or not isinstance(op.get("op"), str):
            raise PatchError("invalid operation %s" % json.dumps(op))
        kind, path = op["op"], op.get("path")
        if not isinstance(path, str):
            raise PatchError("operation missing path field")
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError("%s operation does not apply: missing value" % kind)
        if kind == "add":
            if path == "":
                doc = copy.deepcopy(op["value"])
            else:
                _add(doc, path, copy.deepcopy(op["value"]), "add")
        elif kind == "remove":
            _remove(doc, path, "remove")
        elif kind == "replace":
            if path == "":
                doc = copy.deepcopy(op["value"])
                continue
            _get(doc, path, "replace")
            cont, key = _container(doc, path, "replace")
            if isinstance(cont, dict):
                cont[key] = copy.deepcopy(op["value"])
            else:
                cont[int(key)] = copy.deepcopy(op["value"])
        elif kind in ("move", "copy"):
            frm = op.get("from")
            if not isinstance(frm, str):
                raise PatchError("%s operation missing from field" % kind)
            if kind == "move" and (path + "/").startswith(frm + "/") and path != frm:
                raise PatchError("Unable to move %s to %s: path is a child of from" % (frm, path))
            val = _remove(doc, frm, kind) if kind == "move" else copy.deepcopy(_get(doc, frm, kind))
            _add(doc, path, val, kind)
        elif kind == "test":
            have = doc if path == "" else _get(doc, path, "test")
            if have != op["value"]:
                raise PatchError("testing value %s failed: test failed" % path)
        else:
            raise PatchError("Unexpected kind: %s" % kind)
    return doc


# ---------------------------------------------------------------- defaults

def default_pod(pod):
    """What kube-apiserver's defaulting and default admission plugins set on a
    new pod before any mutating webhook sees it."""
    spec = pod.setdefault("spec", {})
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    tol = spec.setdefault("tolerations", [])
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if not any(t.get("key") == key for t in tol if isinstance(t, dict)):
            tol.append({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300})
    for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        if not isinstance(c, dict):
            continue
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        image = c.get("image") or ""
        tagged = ":" in image.rsplit("/", 1)[-1] or "@" in image
        c.setdefault("imagePullPolicy",
                     "IfNotPresent" if tagged and not image.endswith(":latest") else "Always")
        res = c.setdefault("resources", {})
        lim = res.get("limits") or {}
        if lim:  # requests default to limits, per resource
            req = res.setdefault("requests", {})
            for k, v in lim.items():
                req.setdefault(k, v)
        for p in c.get("ports") or []:
            if isinstance(p, dict):
                p.setdefault("protocol", "TCP")
    return pod


# ---------------------------------------------------------------- the chain

class WebhookCallError(Exception):
    """A failed call (failurePolicy decides)."""


class Chain:
    def __init__(self, store, api_error, args):
        self.store = store
        self.ApiError = api_error
        self.services = {}
        self.namespaces = {}
        self.calls = []
        for spec in getattr(args, "webhook_service", None) or []:
            svc, _, addr = spec.partition("=")
            if not addr:
                raise SystemExit("--webhook-service %r: want SVC.NS:PORT=HOST:PORT" % spec)
            self.services[svc] = addr

    # -- test endpoint
    def test_endpoint(self, handler, method):
        if method == "POST":
            body = handler.read_body() or {}
            with self.store.lock:
                self.services.update(body.get("services") or {})
                for ns, v in (body.get("namespaces") or {}).items():
                    self.namespaces[ns] = copy.deepcopy(v or {})
        with self.store.lock:
            out = {"services": self.services, "namespaces": self.namespaces, "calls": self.calls}
            text = json.dumps(out)
        handler.send_json(200, json.loads(text))

    # -- entry point from the double's create/update
    def admit(self, handler, resource, ns, sub, op, obj, old):
        """Returns the object to store, or raises the double's ApiError."""
        if sub is not None:
            return obj   # pods/status etc.: no configured rule here names a subresource
        if resource == "pods" and op == "CREATE":
            default_pod(obj)
        if resource in ("mutatingwebhookconfigurations", "validatingwebhookconfigurations"):
            errs = validate_configuration(obj, mutating=resource.startswith("m"))
            if errs:  # kube-apiserver never sends these to webhooks, but validates them
                name = (obj.get("metadata") or {}).get("name", "")
                msg = "%s.%s \"%s\" is invalid: %s" % (
                    RESOURCES[resource][1], ADMISSION_GROUP, name, errs[0] if len(errs) == 1 else
                    "[" + ", ".join(errs) + "]")
                raise self.ApiError(422, "Invalid", msg, {"name": name, "group": ADMISSION_GROUP,
                                                          "kind": RESOURCES[resource][1]})
            return obj
        api_version, kind, namespaced = self.kinds(resource)
        group, version = group_version(api_version)
        attrs = {"resource": resource, "group": group, "version": version, "kind": kind,
                 "namespaced": namespaced, "ns": ns, "op": op, "old": old,
                 "user": self.user_info(handler), "handler": handler}
        handler.kn_warnings = []
        reinvoke_set, should_reinvoke = set(), False
        invoked_reinvocable = set()
        for round_no in (1, 2):
            if round_no == 2 and not should_reinvoke:
                break
            for uid, hook in self.hooks("mutatingwebhookconfigurations"):
                if round_no == 2 and uid not in reinvoke_set:
                    continue
                if not self.should_call(hook, attrs, obj):
                    continue
                new = self.call_hook(hook, attrs, obj, mutating=True)
                if new != obj:
                    obj = new
                    reinvoke_set |= invoked_reinvocable
                    invoked_reinvocable = set()
                    should_reinvoke = True
                if hook.get("reinvocationPolicy") == "IfNeeded":
                    invoked_reinvocable.add(uid)
        for _, hook in self.hooks("validatingwebhookconfigurations"):
            if self.should_call(hook, attrs, obj):
                self.call_hook(hook, attrs, obj, mutating=False)
        return obj

    def kinds(self, resource):
        if resource in RESOURCES:
            return RESOURCES[resource]
        return {"pods": ("v1", "Pod", True), "nodes": ("v1", "Node", False)}.get(
            resource, ("v1", resource, True))

    @staticmethod
    def user_info(handler):
        user = handler.headers.get("Impersonate-User") or "kubernetes-admin"
        groups = handler.headers.get_all("Impersonate-Group") or ["system:masters"]
        return {"username": user, "groups": list(groups) + ["system:authenticated"]}

    def hooks(self, resource):
        with self.store.lock:
            cfgs = sorted(self.store.objects[resource].values(), key=lambda c: c["metadata"]["name"])
            out = []
            for c in cfgs:
                for i, h in enumerate(c.get("webhooks") or []):
                    if isinstance(h, dict):
                        out.append(("%s/%d" % (c["metadata"]["name"], i), copy.deepcopy(h)))
            return out

    def namespace_labels(self, ns):
        with self.store.lock:
            stored = self.store.objects.get("namespaces", {}).get("/" + ns)
            labels = dict(((stored or {}).get("metadata") or self.namespaces.get(ns) or {}).get("labels") or {})
        labels["kubernetes.io/metadata.name"] = ns
        return labels

    def should_call(self, hook, a, obj):
        if not any(rule_matches(r, a["group"], a["version"], a["resource"], None, a["op"], a["namespaced"])
                   for r in hook.get("rules") or [] if isinstance(r, dict)):
            return False
        try:
            if a["namespaced"] and not selector_matches(hook.get("namespaceSelector"),
                                                        self.namespace_labels(a["ns"])):
                return False
            sel = hook.get("objectSelector")
            labels = lambda o: ((o or {}).get("metadata") or {}).get("labels") or {}
            return selector_matches(sel, labels(obj)) or (
                a["old"] is not None and selector_matches(sel, labels(a["old"])))
        except SelectorError as e:
            raise self.internal("failed to call webhook %s: invalid selector: %s" % (hook.get("name"), e))

    def internal(self, msg):
        return self.ApiError(500, "InternalError", "Internal error occurred: " + msg,
                             {"causes": [{"message": msg}]})

    def review(self, hook, a, obj):
        meta = obj.get("metadata") or {}
        gvk = {"group": a["group"], "version": a["version"], "kind": a["kind"]}
        gvr = {"group": a["group"], "version": a["version"], "resource": a["resource"]}
        opts = "CreateOptions" if a["op"] == "CREATE" else "UpdateOptions"
        req = {"uid": str(uuid.uuid4()), "kind": gvk, "resource": gvr, "requestKind": gvk,
               "requestResource": gvr, "name": meta.get("name", ""), "operation": a["op"],
               "userInfo": a["user"], "object": obj, "oldObject": a["old"], "dryRun": False,
               "options": {"kind": opts, "apiVersion": "meta.k8s.io/v1"}}
        if a["namespaced"]:
            req["namespace"] = a["ns"]
        return {"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", "request": req}

    def target(self, hook):
        """(url, connect host, connect port, TLS server name)."""
        cc = hook.get("clientConfig") or {}
        timeout = hook.get("timeoutSeconds") or 10
        if cc.get("url"):
            u = urllib.parse.urlsplit(cc["url"])
            url = cc["url"] + ("&" if u.query else "?") + "timeout=%ds" % timeout
            return url, u.hostname, u.port or 443, u.hostname, (u.path or "/")
        svc = cc.get("service") or {}
        port = svc.get("port") or 443
        dns = "%s.%s.svc" % (svc.get("name"), svc.get("namespace"))
        path = svc.get("path") or "/"
        with self.store.lock:
            addr = self.services.get("%s.%s:%d" % (svc.get("name"), svc.get("namespace"), port))
        url = "https://%s:%d%s?timeout=%ds" % (dns, port, path, timeout)
        if not addr:
            raise WebhookCallError('failed to call webhook: Post "%s": service "%s/%s" not found'
                                   % (url, svc.get("namespace"), svc.get("name")))
        host, _, p = addr.rpartition(":")
        return url, host, int(p), dns, path

    def post(self, hook, review):
        url, host, port, server_name, path = self.target(hook)
        timeout = hook.get("timeoutSeconds") or 10
        query = url[url.index("?"):] if "?" in url else ""
        ca = (hook.get("clientConfig") or {}).get("caBundle")
        fail = lambda why: WebhookCallError('failed to call webhook: Post "%s": %s' % (url, why))
        try:
            ctx = ssl.create_default_context(cadata=base64.b64decode(ca).decode()) if ca \
                else ssl.create_default_context()
        except (ValueError, ssl.SSLError) as e:
            raise fail("x509: bad caBundle: %s" % e)
        body = json.dumps(review).encode()
        deadline = time.monotonic() + timeout
        conn = None
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
            sock = ctx.wrap_socket(sock, server_hostname=server_name)
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
            conn.sock = sock
            conn.request("POST", path.split("?")[0] + query, body=body,
                         headers={"Content-Type": "application/json",
                                  "Accept": "application/json, */*",
                                  "User-Agent": "kube-apiserver-admission"})
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            resp = conn.getresponse()
            data = resp.read(MAX_RESPONSE + 1)
            status = resp.status
        except ConnectionRefusedError:
            raise fail("dial tcp %s:%d: connect: connection refused" % (host, port))
        except ssl.SSLCertVerificationError as e:
            raise fail("tls: failed to verify certificate: x509: %s" % e.verify_message)
        except (socket.timeout, TimeoutError):
            raise fail("context deadline exceeded")
        except (OSError, http.client.HTTPException) as e:
            raise fail(str(e) or type(e).__name__)
        finally:
            if conn:
                conn.close()
        if len(data) > MAX_RESPONSE:
            raise fail("response body too large")
        try:
            out = json.loads(data)
        except ValueError as e:
            raise fail("invalid JSON in the response: %s" % e)
        if status != 200:
            msg = out.get("message") if isinstance(out, dict) else None
            raise WebhookCallError("failed to call webhook: %s" % (msg or "an error on the server (\"%s\") "
                                   "has prevented the request from succeeding" % data[:200].decode("utf-8", "replace")))
        return out

    def call_hook(self, hook, a, obj, mutating):
        name = hook.get("name", "")
        record = {"webhook": name, "operation": a["op"], "resource": a["resource"],
                  "namespace": a["ns"], "name": (obj.get("metadata") or {}).get("name", "")}
        try:
            try:
                if "v1" not in (hook.get("admissionReviewVersions") or []):
                    raise WebhookCallError("webhook does not accept known AdmissionReview versions")
                review = self.review(hook, a, obj)
                out = self.post(hook, review)
                resp = self.verify(out, review["request"]["uid"])
            except WebhookCallError as e:
                if hook.get("failurePolicy", "Fail") == "Ignore":
                    record.update(outcome="ignored", message=str(e))
                    return obj
                msg = 'failed calling webhook "%s": %s' % (name, e)
                record.update(outcome="error", message=msg)
                raise self.internal(msg)
            record["warnings"] = [w for w in resp.get("warnings") or [] if isinstance(w, str)]
            handler_warnings = getattr(a["handler"], "kn_warnings", None) or []
            # Identical warnings are sent once, as kube-apiserver's recorder does.
            a["handler"].kn_warnings = handler_warnings + [w for w in record["warnings"] if w not in handler_warnings]
            if not resp.get("allowed"):
                raise self.denied(name, resp.get("status"), record)
            patch = resp.get("patch")
            if not mutating or not patch:
                record["outcome"] = "allowed"
                return obj
            return self.patched(name, resp, obj, record)
        finally:
            with self.store.lock:
                self.calls.append(record)
                del self.calls[:-MAX_CALL_LOG]

    def verify(self, out, uid):
        if not isinstance(out, dict) or out.get("apiVersion") != "admission.k8s.io/v1" \
                or out.get("kind") != "AdmissionReview":
            got = "%s, Kind=%s" % (out.get("apiVersion"), out.get("kind")) if isinstance(out, dict) else "?"
            raise WebhookCallError("expected webhook response of admission.k8s.io/v1, "
                                   "Kind=AdmissionReview, got %s" % got)
        resp = out.get("response")
        if not isinstance(resp, dict):
            raise WebhookCallError("webhook response was absent")
        if resp.get("uid") != uid:
            raise WebhookCallError("expected response.uid=%s, got %s" % (json.dumps(uid), json.dumps(resp.get("uid", ""))))
        if resp.get("patch") and resp.get("patchType") != "JSONPatch":
            raise WebhookCallError("expected patchType JSONPatch, got %s" % json.dumps(resp.get("patchType", "")))
        return resp

    def denied(self, name, st, record):
        st = copy.deepcopy(st) if isinstance(st, dict) else {}
        denied_by = 'admission webhook "%s" denied the request' % name
        code = st.get("code") if isinstance(st.get("code"), int) else 0
        if st.get("message"):
            msg = "%s: %s" % (denied_by, st["message"])
        elif st.get("reason"):
            msg = "%s: %s" % (denied_by, st["reason"])
        else:
            msg = denied_by + " without explanation"
        err = self.ApiError(max(code, 400), st.get("reason", ""), msg, st.get("details"))
        err.status["code"] = max(code, 400)
        if not st.get("reason"):
            err.status.pop("reason", None)
        record.update(outcome="denied", message=msg)
        return err

    def patched(self, name, resp, obj, record):
        try:
            ops = json.loads(base64.b64decode(resp["patch"], validate=True))
            new = apply_json_patch(obj, ops)
        except (ValueError, TypeError) as e:
            record.update(outcome="error", message="bad patch: %s" % e)
            raise self.internal("JSON patch from webhook %s is not valid JSON: %s" % (json.dumps(name), e))
        except PatchError as e:
            record.update(outcome="error", message="JSON patch: %s" % e)
            raise self.internal("JSON patch from webhook %s failed to apply: %s" % (json.dumps(name), e))
        if not isinstance(new, dict):
            record.update(outcome="error", message="patch replaced the object")
            raise self.internal("JSON patch from webhook %s did not leave an object" % json.dumps(name))
        record.update(outcome="patched" if new != obj else "allowed", patch=ops)
        return new
