#!/usr/bin/env bash
# Everything `make test` drives besides the venv (`make test-deps`): PostgreSQL, Chromium
# and the interop toolchains (tests/interop/install-deps.sh), the benchmark's tools that
# tests/test_bench.py runs (bench/install-deps.sh). Every missing Debian package in one
# apt-get as root; otherwise it prints the apt-get command to run and fails. Quick when
# everything is there: a dpkg-query per package, and npm ci only when a lock file changed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
checkout="$(dirname "$here")"

missing=()
dpkg-query -W -f='${Status}' postgresql 2>/dev/null | grep -q "install ok installed" || missing+=(postgresql)
while read -r deb; do
  [ -n "$deb" ] && missing+=("$deb")
done < <({ "$here/interop/install-deps.sh" --missing; "$checkout/bench/install-deps.sh" --missing; } | sort -u)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "test-deps: the suite needs Debian packages that are missing; run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    echo "then make test again." >&2
    exit 1
  fi
  echo "test-deps: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# the npm packages (each script's own Debian check now finds nothing missing)
"$here/interop/install-deps.sh"
"$checkout/bench/install-deps.sh"
