"""Fixtures: the real server on 127.0.0.1, port 0, started once per session.

The server prints "listening on http://127.0.0.1:PORT" once its socket is
listening; connections made from then on wait in the backlog until a worker
takes them, so nothing here sleeps or polls.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live_server import (  # noqa: F401  (re-exported for the tests)
    ROOT,
    TESTER,
    USERS,
    LiveServer,
    add_users,
    start_server,
    stop_server,
)
from tests.pg import fresh_database, release


@pytest.hookimpl(trylast=True)  # after pytest's own, which tears the session's fixtures down
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stops this checkout's test PostgreSQL if the session started it (tests/pg.py)."""
    release()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The real server, once on each storage backend: every live test runs on both."""
    if request.param == "sqlite":
        server = start_server(tmp_path_factory.mktemp("live-sqlite"))
        yield server
        stop_server(server)
        return
    with fresh_database() as dsn:
        server = start_server(
            tmp_path_factory.mktemp("live-postgres"), env={"SOAP_SERVICE_DATABASE_URL": dsn}
        )
        yield server
        stop_server(server)


@pytest.fixture(params=["1.1", "1.2"], ids=["soap11", "soap12"])
def soap_version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def api(live_server: LiveServer, soap_version: str):  # type: ignore[no-untyped-def]
    from client import SoapServiceClient

    return SoapServiceClient(
        live_server.url,
        soap_version=soap_version,  # type: ignore[arg-type]
        username=TESTER[0],
        password=TESTER[1],
    )
