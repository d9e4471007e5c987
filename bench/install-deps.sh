#!/usr/bin/env bash
# What `make bench` needs besides the project's venv: wrk (the load tool), gSOAP and
# OpenSSL headers (the C reference server), node's `soap` package (the node reference), and
# the project's `bench` extra in the venv (uvicorn, uvloop, httptools: the ASGI architecture).
# Debian packages as root (otherwise it prints the apt-get command to run and fails); npm ci
# only when package-lock.json changed; pip only when the extra's modules are missing or
# pyproject.toml changed since. Quick when everything is there.
#   --missing   only print the Debian packages still missing, one a line (tests/install-deps.sh)
# BENCH_PYTHON: the venv's python to install the extra into (default: the checkout's .venv)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
checkout="$(dirname "$here")"

debs=(wrk gsoap libgsoap-dev libssl-dev g++)
missing=()
for deb in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$deb" 2>/dev/null | grep -q "install ok installed" || missing+=("$deb")
done
command -v node >/dev/null || missing+=(nodejs) # node 20 is what the README's numbers ran on
command -v npm >/dev/null || missing+=(npm)
if [ "${1:-}" = --missing ]; then
  [ ${#missing[@]} -eq 0 ] || printf '%s\n' "${missing[@]}"
  exit 0
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "bench: missing Debian packages; run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "bench: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
stamp="$here/refs/node/node_modules/.npm-ci-done"
if [ ! -f "$stamp" ] || [ "$here/refs/node/package-lock.json" -nt "$stamp" ] || [ "$here/refs/node/package.json" -nt "$stamp" ]; then
  echo "bench: npm ci (node-soap reference server)"
  (cd "$here/refs/node" && npm ci --no-audit --no-fund --silent)
  touch "$stamp"
fi
python="${BENCH_PYTHON:-$checkout/.venv/bin/python}"
extra_stamp="$(dirname "$(dirname "$python")")/.bench-extra-installed"
if [ ! -f "$extra_stamp" ] || [ "$checkout/pyproject.toml" -nt "$extra_stamp" ] ||
  ! "$python" -c 'import uvicorn, uvloop, httptools' 2>/dev/null; then
  echo "bench: pip install -e '.[bench]' (the ASGI architecture's server)"
  (cd "$checkout" && "$python" -m pip install --quiet -e '.[bench]')
  touch "$extra_stamp"
fi
