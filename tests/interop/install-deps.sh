#!/usr/bin/env bash
# Installs every toolchain the interop suite drives: Debian packages (as root),
# the node-soap package, and the Python toolkits (via the project's test extras).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

debs=(php-cli php-soap gsoap libgsoap-dev jaxws libjaxws-java
      mono-devel libmono-system-web-services4.0-cil libmono-system-servicemodel4.0a-cil
      chromium)
missing=()
for deb in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$deb" 2>/dev/null | grep -q "install ok installed" || missing+=("$deb")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "interop-deps: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "interop-deps: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "interop-deps: npm ci (node-soap)"
(cd "$here/node" && npm ci --no-audit --no-fund --silent)
