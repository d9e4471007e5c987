"""SIGTERM answers everyone (service/server.py's drain, service/rsgi.py's begin_drain).

Uploads in flight when the stop comes are answered and stored; one that cannot
finish before the drain ends is answered 503 Server.ShuttingDown and nothing of it
is stored; requests that arrive while the worker drains are refused at once. No
connection is ever closed without an answer, and nothing stored goes
unacknowledged.
"""

from __future__ import annotations

import base64
import http.client
import re
import signal
import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from lxml import etree

from service import ns
from tests.images import make_noise_png
from tests.live_server import TESTER, LiveServer, start_server
from tests.soap_faults import fault_code_of

AUTH = "Basic " + base64.b64encode(f"{TESTER[0]}:{TESTER[1]}".encode()).decode()
#: every client gives up after this long: a hang fails the test, it never stalls it
CLIENT_TIMEOUT = 60


def upload_envelope(png: bytes) -> bytes:
    return (
        f'<s:Envelope xmlns:s="{ns.SOAP11_ENV}"><s:Body><t:UploadImage xmlns:t="{ns.TNS}">'
        f"<t:filename>x.png</t:filename><t:content>{base64.b64encode(png).decode()}"
        "</t:content></t:UploadImage></s:Body></s:Envelope>"
    ).encode()


@pytest.fixture(scope="module")
def bodies() -> list[bytes]:
    return [upload_envelope(make_noise_png(10 * 1024 * 1024)) for _ in range(8)]


def exit_code(server: LiveServer, timeout: float = 60) -> int:
    """The server's exit code, once it has stopped by itself; its pipes closed."""
    code = server.process.wait(timeout)
    if server.process.stdout is not None:
        server.process.stdout.close()
    server.log.close()
    return code


def address(server: LiveServer) -> tuple[str, int]:
    parts = urlsplit(server.url)
    assert parts.hostname and parts.port
    return parts.hostname, parts.port


def stored(server: LiveServer) -> set[str]:
    with sqlite3.connect(server.data_dir / "images.sqlite3") as db:
        found = {row[0] for row in db.execute("SELECT sha256 FROM images")}
    db.close()
    return found


def post_in_pieces(
    server: LiveServer, body: bytes, halfway: threading.Semaphore, stop_at: int | None = None
) -> tuple[int | str, str | None, str | None, bytes]:
    """Sends ``body`` in 256 KiB pieces (the first half, a signal, the rest)."""
    host, port = address(server)
    conn = http.client.HTTPConnection(host, port, timeout=CLIENT_TIMEOUT)
    try:
        conn.putrequest("POST", "/soap")
        conn.putheader("Content-Type", "text/xml; charset=utf-8")
        conn.putheader("Authorization", AUTH)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        step = 256 * 1024
        for at in range(0, len(body), step):
            if stop_at is not None and at >= stop_at:
                halfway.release()
                break  # and never send the rest
            conn.send(body[at : at + step])
            if at <= len(body) // 2 < at + step:
                halfway.release()
        response = conn.getresponse()
        data = response.read()
        found = re.search(rb"<tns:sha256>([0-9a-f]{64})<", data)
        return (
            response.status,
            found.group(1).decode() if found else None,
            response.getheader("connection"),
            data,
        )
    except (OSError, http.client.HTTPException) as error:
        return (f"{type(error).__name__}: {error}", None, None, b"")
    finally:
        conn.close()


@pytest.mark.parametrize("run", range(5))
def test_sigterm_during_eight_uploads_answers_and_keeps_each(
    tmp_path: Path, bodies: list[bytes], run: int
) -> None:
    server = start_server(tmp_path)
    halfway = threading.Semaphore(0)
    results: list[tuple[int | str, str | None, str | None, bytes] | None] = [None] * len(bodies)

    def upload(index: int) -> None:
        results[index] = post_in_pieces(server, bodies[index], halfway)

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for _ in bodies:  # every upload is under way
        assert halfway.acquire(timeout=CLIENT_TIMEOUT)
    server.process.send_signal(signal.SIGTERM)
    for thread in threads:
        thread.join(CLIENT_TIMEOUT * 2)
    assert exit_code(server) == 0
    assert all(r is not None and r[0] == 200 for r in results), [r and r[:3] for r in results]
    assert all(r is not None and (r[2] or "").lower() == "close" for r in results)
    acknowledged = {r[1] for r in results if r is not None and r[1]}
    assert len(acknowledged) == len(bodies)
    assert stored(server) == acknowledged  # nothing lost, nothing stored unacknowledged
    log = server.log_text()
    assert "killing worker" not in log and "Traceback" not in log


def test_an_upload_that_cannot_finish_is_refused_and_new_requests_are_turned_away(
    tmp_path: Path, bodies: list[bytes]
) -> None:
    env = {"SOAP_SERVICE_SHUTDOWN_TIMEOUT": "6", "SOAP_SERVICE_WORKERS": "1"}
    server = start_server(tmp_path, "--workers", "1", env=env)
    halfway = threading.Semaphore(0)
    result: list[tuple[int | str, str | None, str | None, bytes]] = []
    stalled = threading.Thread(
        target=lambda: result.append(
            post_in_pieces(server, bodies[0], halfway, stop_at=len(bodies[0]) // 2)
        )
    )
    stalled.start()
    assert halfway.acquire(timeout=CLIENT_TIMEOUT)
    server.process.send_signal(signal.SIGTERM)

    # while the worker drains it is not ready; a new request is served in the first
    # moment after the stop (it may have crossed the stop on the wire), then refused
    host, port = address(server)
    for _ in range(200):  # the supervisor passes the stop on: bounded, 10 s at the most
        probe = http.client.HTTPConnection(host, port, timeout=CLIENT_TIMEOUT)
        probe.request("GET", "/readyz")
        ready = probe.getresponse().status
        probe.close()
        if ready != 200:
            break
        time.sleep(0.05)
    assert ready == 503
    greet = (
        f'<s:Envelope xmlns:s="{ns.SOAP11_ENV}"><s:Body><t:Greet xmlns:t="{ns.TNS}">'
        "<t:name>Ada</t:name></t:Greet></s:Body></s:Envelope>"
    ).encode()
    for _ in range(200):  # LATE_GRACE is 1 s: bounded, 10 s at the most
        late = http.client.HTTPConnection(host, port, timeout=CLIENT_TIMEOUT)
        late.request("POST", "/soap", greet, {"Content-Type": "text/xml; charset=utf-8"})
        response = late.getresponse()
        body = response.read()
        late.close()
        assert response.getheader("connection", "").lower() == "close"
        if response.status != 200:
            break
        time.sleep(0.05)
    assert response.status == 503 and response.getheader("retry-after") == "1"
    assert fault_code_of(etree.fromstring(body)) == "Server.ShuttingDown"

    stalled.join(CLIENT_TIMEOUT)
    assert exit_code(server, 30) == 0
    status, sha, connection, data = result[0]
    assert status == 503 and (connection or "").lower() == "close"
    assert fault_code_of(etree.fromstring(data)) == "Server.ShuttingDown"
    assert sha is None and stored(server) == set()
    log = server.log_text()
    assert "killing worker" not in log and "Traceback" not in log
