#!/usr/bin/env bash
# certs/gen-certs.sh as a user runs it: what it writes, what it refuses.
set -euo pipefail
src=${KN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
gen="$src/certs/gen-certs.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
serial() { openssl x509 -in "$1" -noout -serial; }

# Default: ECDSA P-256, the service's four names plus the extras, keys 0600.
bash "$gen" --out "$tmp/a" --service hook --namespace ns --dns localhost --ip 127.0.0.1 2>/dev/null
for f in ca.crt ca.key tls.crt tls.key; do [ -s "$tmp/a/$f" ] || fail "missing $f"; done
[ "$(stat -c %a "$tmp/a/tls.key")" = 600 ] || fail "tls.key is not 0600"
[ "$(stat -c %a "$tmp/a/ca.key")" = 600 ] || fail "ca.key is not 0600"
text=$(openssl x509 -in "$tmp/a/tls.crt" -noout -text)
for san in "DNS:hook," "DNS:hook.ns," "DNS:hook.ns.svc," "DNS:hook.ns.svc.cluster.local" \
           "DNS:localhost" "IP Address:127.0.0.1"; do
  grep -q "$san" <<<"$text" || fail "SAN $san missing"
done
grep -q "ASN1 OID: prime256v1" <<<"$text" || fail "not a P-256 key"
grep -q "TLS Web Server Authentication" <<<"$text" || fail "no serverAuth usage"
openssl verify -CAfile "$tmp/a/ca.crt" "$tmp/a/tls.crt" >/dev/null || fail "does not verify"
grep -q "CA:TRUE" < <(openssl x509 -in "$tmp/a/ca.crt" -noout -text) || fail "CA is not a CA"

# Existing files are kept unless --force.
before=$(serial "$tmp/a/tls.crt")
if bash "$gen" --out "$tmp/a" 2>"$tmp/err"; then fail "overwrote without --force"; fi
grep -q "pass --force" "$tmp/err" || fail "refusal does not mention --force"
[ "$(serial "$tmp/a/tls.crt")" = "$before" ] || fail "refusal changed tls.crt"
bash "$gen" --out "$tmp/a" --force 2>/dev/null
[ "$(serial "$tmp/a/tls.crt")" != "$before" ] || fail "--force kept the old certificate"

# RSA on request; signing with an existing CA writes no new CA.
bash "$gen" --out "$tmp/b" --key-type rsa --ca-cert "$tmp/a/ca.crt" --ca-key "$tmp/a/ca.key" \
  --days 30 2>/dev/null
[ ! -e "$tmp/b/ca.crt" ] || fail "wrote a CA although one was given"
openssl x509 -in "$tmp/b/tls.crt" -noout -text | grep -q "Public-Key: (2048 bit)" || fail "not RSA 2048"
openssl x509 -in "$tmp/b/tls.crt" -noout -text | grep -q "rsaEncryption" || fail "not RSA"
openssl verify -CAfile "$tmp/a/ca.crt" "$tmp/b/tls.crt" >/dev/null || fail "not signed by the given CA"
openssl x509 -in "$tmp/b/tls.crt" -noout -checkend $((31 * 86400)) >/dev/null && fail "--days 30 ignored"

# Defaults: the Service deploy/ installs, kubenexus-webhook in kube-system.
bash "$gen" --out "$tmp/d" 2>/dev/null
text=$(openssl x509 -in "$tmp/d/tls.crt" -noout -text)
for san in "DNS:kubenexus-webhook," "DNS:kubenexus-webhook.kube-system," \
           "DNS:kubenexus-webhook.kube-system.svc," "DNS:kubenexus-webhook.kube-system.svc.cluster.local"; do
  grep -q "$san" <<<"$text" || fail "default SAN $san missing"
done

# --kustomize reuses a certificate only for the same Service and namespace:
# one made for kube-system is refused for kubenexus-system (the overlay's),
# and --force replaces it.
bash "$gen" --kustomize "$tmp/k" 2>/dev/null
grep -q "namespace: kube-system" "$tmp/k/secret.yaml" || fail "Secret not in kube-system"
before=$(serial "$tmp/k/tls.crt")
bash "$gen" --kustomize "$tmp/k" 2>/dev/null || fail "a second --kustomize run failed"
[ "$(serial "$tmp/k/tls.crt")" = "$before" ] || fail "a second --kustomize run replaced the certificate"
rc=0; bash "$gen" --namespace kubenexus-system --kustomize "$tmp/k" 2>"$tmp/err" || rc=$?
[ $rc -eq 2 ] || fail "reused a kube-system certificate for kubenexus-system (exit $rc)"
grep -q "kubenexus-webhook.kubenexus-system.svc" "$tmp/err" || fail "refusal does not name the wanted name"
grep -q "namespace: kube-system" "$tmp/k/secret.yaml" || fail "refusal rewrote the Secret"
bash "$gen" --namespace kubenexus-system --kustomize "$tmp/k" --force 2>/dev/null
grep -q "DNS:kubenexus-webhook.kubenexus-system.svc," < <(openssl x509 -in "$tmp/k/tls.crt" -noout -text) ||
  fail "--force did not make a kubenexus-system certificate"
grep -q "namespace: kubenexus-system" "$tmp/k/secret.yaml" || fail "Secret not in kubenexus-system"

# Bad arguments: exit 2 with a message.
for args in "--key-type dsa" "--days 0" "--ip not-an-ip" "--bogus" "--service Bad_Name" "--out"; do
  rc=0; bash "$gen" --out "$tmp/c" $args 2>"$tmp/err" || rc=$?
  [ $rc -eq 2 ] || fail "'$args' exited $rc, want 2"
  [ -s "$tmp/err" ] || fail "'$args' printed no message"
done
bash "$gen" --help | grep -q -- "--key-type" || fail "--help does not describe the flags"
echo "gen-certs.sh: all checks passed"
