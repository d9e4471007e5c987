"""The serving core against slow and oversized clients (service/rsgi.py, service/intake.py).

A server with short deadlines (body_timeout 1 s, header_timeout 2 s) is held by
slow clients while other clients call it: the others are answered, and each slow
client gets its typed answer (or, for headers never finished, a closed
connection) when its deadline passes. Every loop and wait here is bounded.
"""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from lxml import etree

from service import ns
from tests.live_server import LiveServer, start_server, stop_server
from tests.soap_faults import fault_code_of

GREET = (
    f'<s:Envelope xmlns:s="{ns.SOAP11_ENV}"><s:Body><t:Greet xmlns:t="{ns.TNS}">'
    "<t:name>Ada</t:name></t:Greet></s:Body></s:Envelope>"
).encode()
#: every client socket gives up after this long: a hang fails the test, it never stalls it
CLIENT_TIMEOUT = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {
        "SOAP_SERVICE_BODY_TIMEOUT": "1",
        "SOAP_SERVICE_BODY_MIN_RATE": "1024",
        "SOAP_SERVICE_HEADER_TIMEOUT": "2",
        "SOAP_SERVICE_MAX_IMAGE_BYTES": str(64 * 1024),
    }
    started = start_server(tmp_path_factory.mktemp("serving"), env=env)
    yield started
    stop_server(started)


def address(server: LiveServer) -> tuple[str, int]:
    parts = urlsplit(server.url)
    assert parts.hostname and parts.port
    return parts.hostname, parts.port


def connect(server: LiveServer) -> socket.socket:
    sock = socket.create_connection(address(server), timeout=CLIENT_TIMEOUT)
    return sock


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP response off a raw socket (status, lower-cased headers, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response: {data[:200]!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def greet(server: LiveServer) -> int:
    host, port = address(server)
    conn = http.client.HTTPConnection(host, port, timeout=CLIENT_TIMEOUT)
    try:
        conn.request("POST", "/soap", GREET, {"Content-Type": "text/xml; charset=utf-8"})
        response = conn.getresponse()
        assert b"Hello, Ada!" in response.read()
        return response.status
    finally:
        conn.close()


def hold(server: LiveServer, count: int, start: bytes) -> list[socket.socket]:
    """``count`` connections that have sent ``start`` and then nothing more."""
    held = []
    for _ in range(count):
        sock = connect(server)
        sock.sendall(start)
        held.append(sock)
    return held


def test_slow_bodies_and_slow_headers_do_not_stop_the_service(server: LiveServer) -> None:
    # a declared length and one byte of it; chunked, and the chunks stop; half a head
    slow_bodies = hold(
        server,
        24,
        b"POST /soap HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml; charset=utf-8\r\n"
        b"Content-Length: 100000\r\n\r\n<",
    )
    endless = hold(
        server,
        8,
        b"POST /soap12 HTTP/1.1\r\nHost: x\r\nContent-Type: application/soap+xml\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n1\r\n<\r\n",
    )
    silent = hold(  # a small declared body, not one byte of it
        server,
        8,
        b"POST /soap HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml; charset=utf-8\r\n"
        b"Content-Length: 300\r\n\r\n",
    )
    slow_headers = hold(server, 24, b"POST /soap HTTP/1.1\r\nHost: x\r\n")

    # while all of them are held, everyone else is answered
    assert [greet(server) for _ in range(40)] == [200] * 40

    for sock in slow_bodies + endless + silent:
        status, headers, body = read_response(sock)
        assert status == 408
        assert headers.get("connection", "").lower() == "close"
        assert fault_code_of(etree.fromstring(body)) == "Client.RequestTimeout"
        sock.close()
    for sock in slow_headers:  # granian closes them at header_timeout, saying nothing
        assert sock.recv(1024) == b""
        sock.close()
    assert greet(server) == 200
    log = server.log_text()
    assert log.count("fault=Client.RequestTimeout status=408") >= len(
        slow_bodies + endless + silent
    )
    assert "Traceback" not in log


def test_a_body_keeping_the_minimum_pace_is_taken_in(server: LiveServer) -> None:
    """Over body_timeout in all, but never behind body_min_rate: answered normally."""
    sock = connect(server)
    body = GREET.replace(b"Ada", b"A" + b"d" * 2000 + b"a")  # over PersonName's 100: a fault
    sock.sendall(
        b"POST /soap HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml; charset=utf-8\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
    )
    started = time.monotonic()
    for start in range(0, len(body), 512):  # 512 bytes every 0.25 s: 2 KiB/s, over 1 KiB/s
        sock.sendall(body[start : start + 512])
        time.sleep(0.25)
    assert time.monotonic() - started > 1  # longer than body_timeout
    status, _, answer = read_response(sock)
    assert status == 500
    assert fault_code_of(etree.fromstring(answer)) == "Client.Validation"
    sock.close()


@pytest.mark.parametrize(
    "head",
    [
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
        + b"".join(b"X-H%d: v\r\n" % i for i in range(200))
        + b"\r\n",
    ],
    ids=["100-KB-header", "200-headers"],
)
def test_an_oversized_head_is_431(server: LiveServer, head: bytes) -> None:
    sock = connect(server)
    sock.sendall(head)
    status, headers, _ = read_response(sock)
    assert status == 431 and headers.get("connection", "").lower() == "close"
    sock.close()
    assert greet(server) == 200


def test_a_declared_body_over_the_limit_is_refused_before_it_is_sent(
    server: LiveServer,
) -> None:
    sock = connect(server)
    sock.sendall(
        b"POST /soap HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml; charset=utf-8\r\n"
        b"Content-Length: 1000000000\r\n\r\n"
    )
    status, headers, body = read_response(sock)
    assert status == 413 and headers.get("connection", "").lower() == "close"
    assert fault_code_of(etree.fromstring(body)) == "Client.RequestTooLarge"
    sock.close()


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(server: LiveServer) -> None:
    sock = connect(server)
    sock.sendall(
        b"POST /http/Greet HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"x" * 65536
    refused = None
    for _ in range(64):  # the limit is ~1.1 MiB here; 4 MiB is far past it
        try:
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):
            break
    refused = read_response(sock)
    status, headers, body = refused
    assert status == 413
    assert b"Client.RequestTooLarge" in body
    sock.close()
