#!/usr/bin/env bash
# Stops this checkout's test PostgreSQL (see tests/pg-start.sh); --remove also deletes its folder.
set -euo pipefail
if [ "${1:-}" = --remove ]; then
  exec "$(dirname "$0")/pg-start.sh" --remove
fi
exec "$(dirname "$0")/pg-start.sh" --stop
