#!/usr/bin/env bash
# What `make bench` needs besides the project's venv: wrk (the load tool), gSOAP and
# OpenSSL headers (the C reference server), and node's `soap` package (the node reference).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

debs=(wrk gsoap libgsoap-dev libssl-dev g++)
missing=()
for deb in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$deb" 2>/dev/null | grep -q "install ok installed" || missing+=("$deb")
done
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (node 20 is expected here)" >&2; exit 1; }
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "bench: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "bench: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -d "$here/refs/node/node_modules/soap" ]; then
  echo "bench: npm ci (node-soap reference server)"
  (cd "$here/refs/node" && npm ci --no-audit --no-fund --silent)
fi
