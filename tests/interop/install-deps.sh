#!/usr/bin/env bash
# Installs every toolchain the interop suite drives: Debian packages (as root; otherwise
# it prints the apt-get command to run and fails), the node-soap package (npm ci, again
# only when package-lock.json changed), and the Python toolkits (via the project's test
# extras). Quick when everything is there.
#   --missing   only print the Debian packages still missing, one a line (tests/install-deps.sh)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

debs=(php-cli php-soap gsoap libgsoap-dev jaxws libjaxws-java
      mono-devel libmono-system-web-services4.0-cil libmono-system-servicemodel4.0a-cil
      libaxis-java chromium
      ruby-soap4r ruby-httpclient ruby-logger-application ruby-xmlrpc
      libsoap-lite-perl libsoap-wsdl-perl libxmlrpc-lite-perl
      libwss4j-java)
# libwss4j-java: Apache WSS4J 1.6 (with libxml-security-java), the X.509 signer of
# test_wss4j.py; ruby-httpclient: soap4r's HTTP client for HTTP Basic; ruby-logger-application: the
# Logger::Application that soap4r's wsdl2ruby.rb needs (test_ruby_soap4r shows why the row
# still cannot use wsdl2ruby)
missing=()
for deb in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$deb" 2>/dev/null | grep -q "install ok installed" || missing+=("$deb")
done
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ "${1:-}" = --missing ]; then
  [ ${#missing[@]} -eq 0 ] || printf '%s\n' "${missing[@]}"
  exit 0
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "interop-deps: missing Debian packages; run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "interop-deps: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stamp="$here/node/node_modules/.npm-ci-done"
if [ ! -f "$stamp" ] || [ "$here/node/package-lock.json" -nt "$stamp" ] || [ "$here/node/package.json" -nt "$stamp" ]; then
  echo "interop-deps: npm ci (node-soap)"
  (cd "$here/node" && npm ci --no-audit --no-fund --silent)
  touch "$stamp"
fi
