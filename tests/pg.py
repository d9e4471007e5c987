"""PostgreSQL for tests: a fresh database on the test server, dropped afterwards.

The server is ``SOAP_TEST_DATABASE_URL`` when it is set (an external server: nothing is
started). Otherwise it is this checkout's own cluster (``tests/pg-start.sh``): the first
test that needs it starts it, and the end of the session (``pytest_sessionfinish`` in
``tests/conftest.py``) stops it, unless it was already running (``make pg-start``) or
another session of this checkout still uses it (each holds a shared lock on
``users.lock`` in the cluster's folder). Nothing skips: a PostgreSQL that cannot be had
fails the tests that need it, saying why.

``python -m tests.pg COMMAND...`` runs a command the same way, with
``SOAP_TEST_DATABASE_URL`` set (``make bench-memory``).
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest

ENV = "SOAP_TEST_DATABASE_URL"
SCRIPT = Path(__file__).resolve().parent / "pg-start.sh"

_dsn: str | None = None
_users: IO[bytes] | None = None


def _script(*args: str) -> str:
    result = subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{SCRIPT.name} {' '.join(args)} exited {result.returncode}: {result.stderr.strip()}"
        )
    return result.stdout.strip()


def start() -> str:
    """This checkout's cluster, started if need be; the caller is one of its users until
    :func:`release`."""
    global _dsn, _users
    if _dsn is None:
        home = Path(_script("--home"))  # made by the script: owned by postgres under root
        users = (home / "users.lock").open("ab")
        fcntl.flock(users, fcntl.LOCK_SH)  # before starting: a session ending now keeps it
        try:
            _dsn = _script("--suite")
        except BaseException:
            users.close()
            raise
        _users = users
    return _dsn


def release() -> None:
    """Stops the cluster if this process started it and no other session uses it."""
    global _dsn, _users
    if _users is None:
        return
    _users.close()
    _users = None
    _dsn = None
    _script("--suite-done")


def maintenance_dsn() -> str:
    dsn = os.environ.get(ENV, "")
    if dsn:
        return dsn
    try:
        return start()
    except RuntimeError as error:
        pytest.fail(f"no PostgreSQL for the tests (or set {ENV} to a server's DSN): {error}")


@contextmanager
def fresh_database() -> Iterator[str]:
    """The DSN of a new, empty database, dropped afterwards."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    admin = maintenance_dsn()
    name = f"soap_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    try:
        yield make_conninfo(admin, dbname=name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


def main(command: list[str]) -> int:
    if not command:
        print("usage: python -m tests.pg COMMAND...", file=sys.stderr)
        return 2
    env = dict(os.environ)
    if not env.get(ENV):
        env[ENV] = start()
    try:
        return subprocess.run(command, env=env).returncode
    finally:
        release()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
