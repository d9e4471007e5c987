#!/usr/bin/env bash
# This checkout's throwaway PostgreSQL cluster on 127.0.0.1: starts it and prints its
# maintenance DSN. The test session runs it by itself (tests/pg.py); by hand:
#   tests/pg-start.sh            start it (if it is not running), print its DSN; it keeps
#                                running until tests/pg-stop.sh (make pg-start / make pg-stop)
#   tests/pg-start.sh --stop     stop it (tests/pg-stop.sh); --remove also deletes its folder
#   tests/pg-start.sh --status   print its DSN if it is running, else exit 1
#   tests/pg-start.sh --home     print its folder
#   tests/pg-start.sh --suite    (tests/pg.py) start it, remembering the suite started it
#   tests/pg-start.sh --suite-done  (tests/pg.py) stop it if the suite started it and no
#                                other session holds a shared lock on HOME/users.lock
# Its folder is .pg/ in the checkout (data/, port, locks), or, when the checkout is out of
# reach of the postgres user (root running in a private folder such as mktemp -d's), a
# folder named after the checkout's path in /tmp. The port is a free one, picked once and
# kept in the folder (picked again if something else took it). No Unix socket: TCP only.
# Installs Debian's postgresql when it is missing (as root; otherwise says what to run).
set -euo pipefail
mode="${1:-start}"
checkout="$(cd "$(dirname "$0")/.." && pwd -P)"
root=false
[ "$(id -u)" = 0 ] && root=true

as_owner() { # without the lock descriptors (the server must not hold them); as postgres from /
  if $root; then (cd / && su postgres -s /bin/sh -c "$*" 8>&- 9>&-); else sh -c "$*" 8>&- 9>&-; fi
}

find_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true
}

bin="$(find_bin)"
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  case "$mode" in --stop | --remove | --status | --suite-done) [ "$mode" = --status ] && exit 1; exit 0 ;; esac
  if ! $root; then
    echo "pg-start: PostgreSQL is not installed; run: sudo apt-get update && sudo apt-get install -y --no-install-recommends postgresql" >&2
    exit 1
  fi
  echo "pg-start: apt-get install postgresql" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
  bin="$(find_bin)"
fi

# The folder: the one already holding this checkout's cluster, else .pg/ when the postgres
# user can reach it, else the one in /tmp.
inside="$checkout/.pg"
outside="/tmp/soap-service-pg-$(printf %s "$checkout" | sha1sum | cut -c1-12)"
if [ -f "$inside/data/PG_VERSION" ]; then
  home="$inside"
elif [ -f "$outside/data/PG_VERSION" ]; then
  home="$outside"
elif ! $root || su postgres -s /bin/sh -c "test -x '$checkout'" 2>/dev/null; then
  home="$inside"
else
  home="$outside"
fi
data="$home/data"

case "$mode" in
  start | --suite | --home) ;;
  --remove) [ -d "$home" ] || exit 0 ;;
  --stop | --status | --suite-done)
    [ -f "$data/PG_VERSION" ] || { [ "$mode" = --status ] && exit 1; exit 0; } ;;
  *) echo "usage: tests/pg-start.sh [--stop|--remove|--status|--home|--suite|--suite-done]" >&2; exit 2 ;;
esac
if [ ! -d "$home" ]; then
  mkdir -p "$home"
  if $root; then chown postgres "$home"; fi
  chmod 700 "$home"
fi
[ "$mode" = --home ] && echo "$home" && exit 0

running() {
  [ -f "$data/PG_VERSION" ] && as_owner "'$bin/pg_ctl' -D '$data' status >/dev/null 2>&1"
}

dsn() {
  echo "postgresql://postgres@127.0.0.1:$(cat "$home/port")/postgres"
}

stop() {
  if running; then
    as_owner "'$bin/pg_ctl' -D '$data' -m fast -w stop >/dev/null"
  fi
  rm -f "$home/started-by-suite"
}

# One start or stop at a time, whoever runs it (make pg-start, test sessions, make bench-memory).
exec 9>>"$home/start.lock"
flock 9

case "$mode" in
  --status)
    running && dsn && exit 0
    exit 1
    ;;
  --stop)
    stop
    exit 0
    ;;
  --remove)
    stop
    rm -rf "$home"
    exit 0
    ;;
  --suite-done)
    [ -f "$home/started-by-suite" ] || exit 0
    exec 8>>"$home/users.lock"
    flock -n -x 8 || exit 0 # another session still uses it: the last one stops it
    stop
    exit 0
    ;;
esac

if [ ! -f "$data/PG_VERSION" ]; then
  as_owner "'$bin/initdb' -D '$data' -A trust -U postgres -E UTF8 >/dev/null"
fi
if running; then
  [ "$mode" = start ] && rm -f "$home/started-by-suite" # started by hand now: kept until pg-stop
  dsn
  exit 0
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port_free() { # as the server binds it (SO_REUSEADDR: connections of a previous run may linger)
  python3 -c 'import socket, sys; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}
port="$(cat "$home/port" 2>/dev/null || true)"
if [ -z "$port" ] || ! port_free "$port"; then
  port="$(free_port)"
  echo "$port" >"$home/port"
fi
if ! as_owner "'$bin/pg_ctl' -D '$data' -l '$data/server.log' -w -t 60 \
    -o \"-c listen_addresses=127.0.0.1 -p $port -k ''\" start >/dev/null"; then
  echo "pg-start: PostgreSQL did not start; the end of $data/server.log:" >&2
  tail -20 "$data/server.log" >&2 || true
  exit 1
fi
if [ "$mode" = --suite ]; then touch "$home/started-by-suite"; else rm -f "$home/started-by-suite"; fi
dsn
