"""``service.server``: the supervisor's listening sockets, on the real server.

One ``SO_REUSEPORT`` listener per worker, made before the workers start: the
kernel spreads connections over the workers (on one shared listener, the first
worker to wake took every waiting connection), and a port another socket
listens on is refused at startup instead of being shared with it.
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from service.ns import TNS
from tests.live_server import ROOT, LiveServer, start_server, stop_server

GREET = (
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"'
    f' xmlns:t="{TNS}"><soap:Body><t:Greet><t:name>Ada</t:name></t:Greet>'
    "</soap:Body></soap:Envelope>"
).encode()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = start_server(tmp_path)
    try:
        yield live
    finally:
        stop_server(live)


def test_connections_opened_together_are_spread_over_the_workers(server: LiveServer) -> None:
    """16 connections opened at once, as a load tester or a client pool opens them:
    each worker answers some (a request id starts with its worker's own prefix)."""
    address = urlsplit(server.url)
    connections = [http.client.HTTPConnection(address.hostname, address.port, timeout=30)]
    connections += [
        http.client.HTTPConnection(address.hostname, address.port, timeout=30) for _ in range(15)
    ]
    for connection in connections:
        connection.connect()
    workers: set[str] = set()
    try:
        for connection in connections:
            connection.request(
                "POST",
                "/soap",
                GREET,
                {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{TNS}/Greet"'},
            )
        for connection in connections:
            response = connection.getresponse()
            assert response.status == 200 and b"Hello, Ada!" in response.read()
            workers.add(response.headers["X-Request-ID"][:16])
    finally:
        for connection in connections:
            connection.close()
    assert len(workers) == 2, "one worker took every connection"


def test_a_port_something_listens_on_is_refused(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "service", "serve", "--host", "127.0.0.1", "--port", str(port)]
            + ["--data-dir", str(tmp_path / "data")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
    assert "listening on" not in done.stdout
