"""GetImage of a large image costs a worker almost nothing (issue 17's target).

The image is stored by this process through the store itself, before the server
starts, so the worker never held it. Each call resets the worker's peak RSS
(``worker_peaks``), reads GetImage's answer as a stream (inline base64 on each SOAP
version, and MTOM), checks every byte against the image, and holds the growth of the
worker's peak to ``BOUND_MIB``, for a 10 MiB and a 100 MiB image, on SQLite and on
PostgreSQL. A client that reads slowly gets the same bound: the body goes at its
pace (``service.rsgi.ServingCore._send_piped``), not queued in the worker.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from service import ns
from service.imaging import inspect_image
from service.storage import NewImage, open_store
from tests.conftest import TESTER, LiveServer
from tests.images import make_noise_png
from tests.live_server import add_users, peak_growth_mib, start_server, stop_server, worker_peaks
from tests.mtom_messages import SOAP_PORTS, envelope, read_reply
from tests.pg import fresh_database

BOUND_MIB = 4
MIB = 1024 * 1024


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def stored(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, dict[int, tuple[str, bytes]]]]:
    """A one-worker server, warmed up, and images of 2, 10 and 100 MiB stored before it
    started."""
    tmp = tmp_path_factory.mktemp(f"getimage-memory-{request.param}")
    if request.param == "sqlite":
        yield from _serve(tmp, "")
        return
    with fresh_database() as dsn:
        yield from _serve(tmp, dsn)


def _serve(tmp: Path, dsn: str) -> Iterator[tuple[LiveServer, dict[int, tuple[str, bytes]]]]:
    env = {"SOAP_SERVICE_DATABASE_URL": dsn} if dsn else {}
    data_dir = tmp / "data"
    add_users(data_dir, env)
    images: dict[int, tuple[str, bytes]] = {}
    with open_store(dsn, str(data_dir)) as store:
        for mib in (2, 10, 100):
            data = make_noise_png(mib * MIB)
            info = inspect_image(data)
            sha = hashlib.sha256(data).hexdigest()
            image = NewImage("big.png", data, None, sha, info.format, info.width, info.height)
            images[mib] = (store.add(image, owner=TESTER[0])[0].image_id, data)
    server = start_server(tmp, "--workers", "1", env=env, data_dir=data_dir)
    try:
        for accept in ("", "multipart/related,application/xop+xml"):  # the worker warmed up
            with _get(server, "1.1", images[2][0], accept) as response:
                assert len(b"".join(response.iter_content(MIB))) > 2 * MIB
        yield server, images
    finally:
        stop_server(server)


def _get(
    server: LiveServer, version: str, image_id: str, accept: str, addressed: bool = False
) -> requests.Response:
    path, media = SOAP_PORTS[version]
    data = envelope(version, "GetImage", f"<t:image_id>{image_id}</t:image_id>")
    if addressed:  # WS-Addressing headers, as WCF and JAX-WS send them
        wsa = f'xmlns:wsa="{ns.WSA}"'
        data = data.replace(
            b"<soap:Body>",
            f"<soap:Header><wsa:Action {wsa}>{ns.TNS}/GetImage</wsa:Action>"
            f"<wsa:MessageID {wsa}>urn:uuid:big</wsa:MessageID></soap:Header><soap:Body>".encode(),
        )
    response = requests.post(
        server.url + path,
        data=data,
        headers={"Content-Type": f"{media}; charset=utf-8", "Accept": accept},
        auth=TESTER,
        timeout=300,
        stream=True,
    )
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("mib", [10, 100])
@pytest.mark.parametrize(
    ("version", "mtom"), [("1.1", False), ("1.2", False), ("1.1", True), ("1.2", True)]
)
def test_getimage_grows_a_worker_by_at_most_4_mib(
    stored: tuple[LiveServer, dict[int, tuple[str, bytes]]], mib: int, version: str, mtom: bool
) -> None:
    server, images = stored
    image_id, data = images[mib]
    before = worker_peaks(server)
    accept = "multipart/related,application/xop+xml" if mtom else ""
    with _get(server, version, image_id, accept) as response:
        body = b"".join(response.iter_content(MIB))
        kind = response.headers["Content-Type"]
    growth = peak_growth_mib(before)
    assert int(response.headers["Content-Length"]) == len(body)
    if mtom:
        reply = read_reply(kind, body)
        content = reply.root.find(".//{urn:soap-service:v1}content")
        assert content is not None and reply.content(content) == data
    else:
        start = body.index(b"<tns:content>") + len(b"<tns:content>")
        encoded = base64.b64encode(data)
        assert body[start : start + len(encoded) + 14] == encoded + b"</tns:content>"
    assert growth <= BOUND_MIB, f"GetImage of {mib} MiB grew the worker by {growth:.1f} MiB"


@pytest.mark.parametrize(("version", "mtom"), [("1.2", False), ("1.1", True)])
def test_an_addressed_getimage_streams_too(
    stored: tuple[LiveServer, dict[int, tuple[str, bytes]]], version: str, mtom: bool
) -> None:
    """The reply's WS-Addressing headers go into the envelope's head; the image is still
    read from the store while it is sent."""
    server, images = stored
    image_id, data = images[100]
    before = worker_peaks(server)
    accept = "multipart/related,application/xop+xml" if mtom else ""
    with _get(server, version, image_id, accept, addressed=True) as response:
        body = b"".join(response.iter_content(MIB))
    growth = peak_growth_mib(before)
    assert b">urn:uuid:big</wsa:RelatesTo>" in body[:4096]
    assert hashlib.sha256(data).hexdigest().encode() in body[:8192]
    assert growth <= BOUND_MIB, f"an addressed GetImage grew the worker by {growth:.1f} MiB"


def test_a_slow_reader_does_not_make_the_worker_hold_the_image(
    stored: tuple[LiveServer, dict[int, tuple[str, bytes]]],
) -> None:
    """The client reads 10 MiB of the answer, then waits for a second large read of the
    same image to be answered whole on another connection, then reads the rest: what
    the first answer has not sent yet stays in the store, not in the worker."""
    server, images = stored
    image_id, data = images[100]
    before = worker_peaks(server)
    with _get(server, "1.1", image_id, "") as slow:
        first = slow.raw.read(10 * MIB)
        with _get(server, "1.2", images[10][0], "") as other:
            assert len(b"".join(other.iter_content(MIB))) > 10 * MIB
        growth = peak_growth_mib(before)
        rest = b"".join(slow.iter_content(MIB))
    assert base64.b64encode(data) in first + rest
    assert growth <= BOUND_MIB, f"a slow reader grew the worker by {growth:.1f} MiB"


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@pytest.mark.parametrize("read_first", [0, 2 * MIB])
@pytest.mark.parametrize("mtom", [False, True])
def test_a_client_that_goes_away_releases_the_snapshot(
    stored: tuple[LiveServer, dict[int, tuple[str, bytes]]], read_first: int, mtom: bool
) -> None:
    """A client that closes its connection after the answer's headers (or 2 MiB of it):
    the worker stops reading, closes the pipe and the store's snapshot (its connection),
    and goes on serving. Watched through the worker's open files, which come back to
    what they were (the snapshot's connection, the pipe, the client's socket)."""
    server, images = stored
    (pid,) = worker_peaks(server)
    baseline = _open_fds(pid)
    accept = "multipart/related,application/xop+xml" if mtom else ""
    response = _get(server, "1.1", images[100][0], accept)
    if read_first:
        assert len(response.raw.read(read_first)) == read_first
    assert _open_fds(pid) > baseline  # the snapshot's connection and the pipe are open
    response.close()
    deadline = time.monotonic() + 30
    while _open_fds(pid) > baseline:
        assert time.monotonic() < deadline, f"the worker still has {_open_fds(pid)} files open"
        os.sched_yield()
    with _get(server, "1.2", images[10][0], "") as again:  # and it goes on serving
        assert base64.b64encode(images[10][1]) in b"".join(again.iter_content(MIB))
