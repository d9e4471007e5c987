"""PostgreSQL for tests: a fresh database on the server ``SOAP_TEST_DATABASE_URL`` names.

``.ci/run`` starts a cluster and sets the variable; on a developer's machine
without it the PostgreSQL tests skip, and under ``CI=true`` they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

ENV = "SOAP_TEST_DATABASE_URL"


def maintenance_dsn() -> str:
    dsn = os.environ.get(ENV, "")
    if not dsn:
        message = f"no PostgreSQL: set {ENV} (.ci/run starts one)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return dsn


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
