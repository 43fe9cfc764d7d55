#!/usr/bin/env bash
# gen-certs.sh - a CA and a serving certificate for kubenexus-webhook.
#
#   certs/gen-certs.sh [--out DIR] [--service NAME] [--namespace NS] [--days N]
#                      [--key-type ecdsa|rsa] [--dns NAME]... [--ip ADDR]...
#                      [--ca-cert FILE --ca-key FILE] [--force] [--kustomize DIR]
#
# Writes DIR/ca.crt, DIR/ca.key (unless --ca-cert/--ca-key name an existing
# CA to sign with), DIR/tls.crt and DIR/tls.key (the names of a
# kubernetes.io/tls Secret). The serving certificate's SANs are NAME,
# NAME.NS, NAME.NS.svc and NAME.NS.svc.cluster.local plus every --dns/--ip
# (add `--dns localhost --ip 127.0.0.1` to run the webhook locally). Keys are
# mode 0600. Existing files are never overwritten without --force.
# --kustomize DIR also writes what `kubectl apply -k deploy/` needs: DIR/secret.yaml
# (the kubenexus-webhook-tls Secret) and DIR/cabundle-{mutating,validating}.yaml
# (the CA bundle for every webhook of deploy/base/webhook-configurations.yaml).
# With --kustomize, certificates already in --out (default DIR) are reused, so
# running it again changes nothing (pass --force for new ones); one made for
# another Service or namespace is refused, not reused.
# The namespace is kube-system, where deploy/ installs; for
# deploy/overlays/dedicated-namespace/ pass --namespace kubenexus-system.
set -euo pipefail

out=./kubenexus-certs
service=kubenexus-webhook
namespace=kube-system
days=365
key_type=ecdsa
force=0
ca_cert=""
ca_key=""
kustomize=""
dns_extra=()
ip_extra=()

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "gen-certs.sh: $*" >&2; exit 2; }
need() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"; }

while [ $# -gt 0 ]; do
  arg=$1
  case $arg in --*=*) set -- "${arg%%=*}" "${arg#*=}" "${@:2}"; arg=$1 ;; esac
  case $arg in
    --out) need "$@"; out=$2; shift 2 ;;
    --service) need "$@"; service=$2; shift 2 ;;
    --namespace) need "$@"; namespace=$2; shift 2 ;;
    --days) need "$@"; days=$2; shift 2 ;;
    --key-type) need "$@"; key_type=$2; shift 2 ;;
    --dns) need "$@"; dns_extra+=("$2"); shift 2 ;;
    --ip) need "$@"; ip_extra+=("$2"); shift 2 ;;
    --ca-cert) need "$@"; ca_cert=$2; shift 2 ;;
    --ca-key) need "$@"; ca_key=$2; shift 2 ;;
    --force) force=1; shift ;;
    --kustomize) need "$@"; kustomize=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $arg" ;;
  esac
done

[[ $days =~ ^[1-9][0-9]{0,4}$ ]] || die "--days: \"$days\" is not a number of days (1-99999)"
[[ $key_type == ecdsa || $key_type == rsa ]] || die "--key-type: \"$key_type\" is not ecdsa or rsa"
[[ $service =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || die "--service: \"$service\" is not a DNS label"
[[ $namespace =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || die "--namespace: \"$namespace\" is not a DNS label"
for d in "${dns_extra[@]}"; do
  [[ $d =~ ^[A-Za-z0-9*]([-A-Za-z0-9.]*[A-Za-z0-9])?$ ]] || die "--dns: \"$d\" is not a DNS name"
done
for a in "${ip_extra[@]}"; do
  [[ $a =~ ^[0-9a-fA-F:.]+$ ]] || die "--ip: \"$a\" is not an IP address"
done
if [ -n "$ca_cert$ca_key" ]; then
  [ -r "$ca_cert" ] && [ -r "$ca_key" ] || die "--ca-cert and --ca-key must both name readable files"
fi
command -v openssl >/dev/null || die "openssl is not installed"

# Writes the Secret and the caBundle patches for deploy/kustomization.yaml.
write_kustomize() {
  local dir=$1 cfg
  cfg="$(cd "$(dirname "$0")/.." && pwd)/deploy/base/webhook-configurations.yaml"
  [ -r "$cfg" ] || die "cannot read $cfg"
  mkdir -p "$dir"
  b64() { base64 -w0 < "$1"; }
  {
    echo "# Written by certs/gen-certs.sh: the webhook's serving certificate. Do not commit."
    echo "apiVersion: v1"
    echo "kind: Secret"
    echo "metadata:"
    echo "  name: ${service}-tls"
    echo "  namespace: ${namespace}"
    echo "type: kubernetes.io/tls"
    echo "data:"
    echo "  tls.crt: $(b64 "$out/tls.crt")"
    echo "  tls.key: $(b64 "$out/tls.key")"
    echo "  ca.crt: $(b64 "$out/ca.crt")"
  } > "$dir/secret.yaml"
  chmod 0600 "$dir/secret.yaml"
  local kind file n i
  for kind in Mutating Validating; do
    file="$dir/cabundle-$(echo "$kind" | tr A-Z a-z).yaml"
    # Webhooks of that configuration: "  - name:" entries of its document.
    n=$(awk -v k="kind: ${kind}WebhookConfiguration" '
      /^---/ { inside = 0 } $0 == k { inside = 1 } inside && /^  - name:/ { n++ } END { print n + 0 }' "$cfg")
    [ "$n" -gt 0 ] || die "no ${kind}WebhookConfiguration webhooks in $cfg"
    {
      echo "# Written by certs/gen-certs.sh: the CA bundle for each webhook."
      for ((i = 0; i < n; i++)); do
        echo "- op: add"
        echo "  path: /webhooks/$i/clientConfig/caBundle"
        echo "  value: $(b64 "$out/ca.crt")"
      done
    } > "$file"
  done
  echo "gen-certs.sh: wrote $dir/secret.yaml $dir/cabundle-mutating.yaml $dir/cabundle-validating.yaml" >&2
}

if [ -n "$kustomize" ] && [ "$out" = ./kubenexus-certs ]; then
  out=$kustomize
fi
if [ -n "$kustomize" ] && [ $force -eq 0 ] && [ -z "$ca_cert" ] && [ -s "$out/tls.crt" ] &&
   [ -s "$out/tls.key" ] && [ -s "$out/ca.crt" ]; then
  # A certificate for another Service name would fail every admission call
  # (the API server checks <service>.<namespace>.svc): never reuse one.
  want="DNS:${service}.${namespace}.svc"
  if ! openssl x509 -in "$out/tls.crt" -noout -text | grep -qE "${want//./\\.}(,|\$)"; then
    die "$out/tls.crt is not a certificate for ${service}.${namespace}.svc; pass --force to replace it"
  fi
  echo "gen-certs.sh: keeping the certificate in $out (pass --force to replace it)" >&2
  write_kustomize "$kustomize"
  exit 0
fi

mkdir -p "$out"
own_ca=0
[ -z "$ca_cert" ] && own_ca=1
targets=("$out/tls.crt" "$out/tls.key")
[ $own_ca -eq 1 ] && targets+=("$out/ca.crt" "$out/ca.key")
if [ $force -eq 0 ]; then
  for f in "${targets[@]}"; do
    [ -e "$f" ] && die "$f exists; pass --force to replace it"
  done
fi

umask 077
tmp=$(mktemp -d "$out/.gen-certs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

new_key() {
  if [ "$key_type" = rsa ]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null
  else
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
  fi
}

if [ $own_ca -eq 1 ]; then
  new_key "$tmp/ca.key"
  openssl req -x509 -new -key "$tmp/ca.key" -sha256 -days "$days" \
    -subj "/CN=${service}-ca" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$tmp/ca.crt" 2>/dev/null
  ca_cert=$tmp/ca.crt
  ca_key=$tmp/ca.key
fi

sans="DNS:${service},DNS:${service}.${namespace},DNS:${service}.${namespace}.svc"
sans+=",DNS:${service}.${namespace}.svc.cluster.local"
for d in "${dns_extra[@]}"; do sans+=",DNS:$d"; done
for a in "${ip_extra[@]}"; do sans+=",IP:$a"; done
usage_ext="digitalSignature"
[ "$key_type" = rsa ] && usage_ext="digitalSignature,keyEncipherment"
cat > "$tmp/ext.cnf" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,$usage_ext
extendedKeyUsage=serverAuth
subjectAltName=$sans
EOF

new_key "$tmp/tls.key"
openssl req -new -key "$tmp/tls.key" -subj "/CN=${service}.${namespace}.svc" \
  -out "$tmp/tls.csr" 2>/dev/null
# A random 128-bit serial, so a re-issued certificate is always distinguishable.
openssl x509 -req -in "$tmp/tls.csr" -CA "$ca_cert" -CAkey "$ca_key" \
  -set_serial "0x$(openssl rand -hex 16)" -days "$days" -sha256 \
  -extfile "$tmp/ext.cnf" -out "$tmp/tls.crt" 2>/dev/null
openssl verify -CAfile "$ca_cert" "$tmp/tls.crt" >/dev/null

chmod 0600 "$tmp/tls.key"
chmod 0644 "$tmp/tls.crt"
if [ $own_ca -eq 1 ]; then
  chmod 0600 "$tmp/ca.key"
  chmod 0644 "$tmp/ca.crt"
  mv -f "$tmp/ca.crt" "$tmp/ca.key" "$out/"
fi
# Key before certificate: a watcher that sees the new certificate finds its key.
mv -f "$tmp/tls.key" "$out/tls.key"
mv -f "$tmp/tls.crt" "$out/tls.crt"
echo "gen-certs.sh: wrote ${targets[*]} (SANs: $sans)" >&2
if [ -n "$kustomize" ]; then
  [ -s "$out/ca.crt" ] || cp "$ca_cert" "$out/ca.crt"
  write_kustomize "$kustomize"
fi
