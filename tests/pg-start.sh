#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on 127.0.0.1 and prints its maintenance DSN.
# Installs Debian's postgresql when it is missing (as root). Idempotent.
#   export SOAP_TEST_DATABASE_URL=$(tests/pg-start.sh)
set -euo pipefail
PGDATA="${PGDATA:-/tmp/soap-service-pg}"
PGPORT="${PGPORT:-54329}"

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  if [ "$(id -u)" != 0 ]; then echo "pg-start: PostgreSQL is not installed" >&2; exit 1; fi
  echo "pg-start: apt-get install postgresql" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi

as_owner() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}

if [ ! -f "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  [ "$(id -u)" = 0 ] && chown postgres "$PGDATA"
  as_owner "'$bin/initdb' -D '$PGDATA' -A trust -U postgres -E UTF8 >/dev/null"
fi
if ! as_owner "'$bin/pg_ctl' -D '$PGDATA' status >/dev/null 2>&1"; then
  as_owner "'$bin/pg_ctl' -D '$PGDATA' -l '$PGDATA/server.log' -w -t 60 \
    -o \"-c listen_addresses=127.0.0.1 -p $PGPORT -k '$PGDATA'\" start >/dev/null"
fi
echo "postgresql://postgres@127.0.0.1:$PGPORT/postgres"
