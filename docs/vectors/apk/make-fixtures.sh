#!/usr/bin/env bash
# Rebuilds the APK fixtures in this folder (checked in; the tests only read them). Needs Node 20+,
# openssl and Debian's apksigner (`apt-get install apksigner`; aapt, optional, cross-checks the manifests).
# The signing keys are generated here and thrown away: only their certificates stay, inside the APKs.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# signer A: RSA 2048; signer B: ECDSA P-256
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/a.pem" -out "$tmp/a.crt" -days 36500 -subj /CN=fleet-mdm-test-a 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$tmp/b.pem" -out "$tmp/b.crt" -days 36500 -subj /CN=fleet-mdm-test-b 2>/dev/null
for k in a b; do
  openssl pkcs8 -topk8 -nocrypt -in "$tmp/$k.pem" -outform DER -out "$tmp/$k.pk8"
  openssl x509 -in "$tmp/$k.crt" -outform DER -out "$tmp/$k.der"
done

# name package versionCode versionName signer schemes
build() {
  node build-apk.mjs "$tmp/$1.unsigned.apk" "$2" "$3" "$4"
  if command -v aapt >/dev/null; then aapt dump badging "$tmp/$1.unsigned.apk" | head -n 1; fi
  case "$6" in
    v2v3) flags=(--v1-signing-enabled false --v2-signing-enabled true --v3-signing-enabled true) ;;
    v2) flags=(--v1-signing-enabled false --v2-signing-enabled true --v3-signing-enabled false) ;;
    v1) flags=(--v1-signing-enabled true --v2-signing-enabled false --v3-signing-enabled false) ;;
  esac
  apksigner sign --key "$tmp/$5.pk8" --cert "$tmp/$5.der" "${flags[@]}" --in "$tmp/$1.unsigned.apk" --out "$1.apk"
  rm -f "$1.apk.idsig"
}

build agent-1 dev.fleetmdm.agent 1 1.0.0 a v2v3
build agent-2 dev.fleetmdm.agent 2 1.1.0 a v2v3
build agent-2-other-signer dev.fleetmdm.agent 2 1.1.0 b v2v3
build kiosk-10 com.example.kiosk 10 2.0.0 b v2
build agent-3-other-signer dev.fleetmdm.agent 3 1.2.0 b v2v3
build agent-3-v1-only dev.fleetmdm.agent 3 1.2.0 a v1

# what apksigner itself reads from each (the tests compare the server's parser with this)
{
  echo '{'
  first=1
  for f in agent-1 agent-2 agent-2-other-signer agent-3-other-signer kiosk-10; do
    digest=$(apksigner verify --print-certs "$f.apk" | sed -n 's/^Signer #1 certificate SHA-256 digest: //p')
    sha=$(sha256sum "$f.apk" | cut -d' ' -f1)
    [ $first = 1 ] || echo ','
    first=0
    printf '  "%s": { "sha256": "%s", "signerSha256": "%s" }' "$f" "$sha" "$digest"
  done
  echo
  echo '}'
} > expected.json
cat expected.json
