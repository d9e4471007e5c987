"""Crash safety: SIGKILL the server mid-upload; every acknowledged upload survives.

On each backend: uploader threads send distinct images as fast as they can; the
server and its workers are SIGKILLed while uploads are in flight; a new server
starts on the same data. Every upload that got a receipt must read back with
the same sha256, and the store must hold no orphaned or partial record (every blob
hashes to its name: a blob reserved with zeroblob and killed half written would not).
Twice: 40 KB images parsed whole, and 1.2 MiB images read from the spool a piece at a
time, inline and as MTOM parts (issue 17: over the default stream threshold, written by
incremental blob I/O or a binary COPY), so the kill lands in the middle of streamed writes.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from lxml import etree

from client import SoapServiceClient
from service.ns import TNS
from service.storage import open_store
from tests.conftest import TESTER
from tests.images import make_noise_png
from tests.live_server import kill_server, start_server, stop_server
from tests.mtom_messages import message, read_reply, upload_envelope
from tests.pg import fresh_database

BASIC = "Basic " + base64.b64encode(f"{TESTER[0]}:{TESTER[1]}".encode()).decode()
UPLOADERS = 6


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    if request.param == "sqlite":
        yield {}
    else:
        with fresh_database() as dsn:
            yield {"SOAP_SERVICE_DATABASE_URL": dsn}


#: image sizes (and MTOM or not): parsed whole, and read from the spool (over the default
#: stream threshold), inline and as an MTOM part
SIZES = {"whole": 40_000, "streamed": 1_200_000, "streamed-mtom": 1_200_000}


def uploader(
    url: str,
    stop: threading.Event,
    acked: list[tuple[str, str]],
    cut: list[int],
    seed: int,
    size: int = SIZES["whole"],
    mtom: bool = False,
) -> None:
    parts = urlsplit(url)
    count = 0
    while not stop.is_set():
        data = make_noise_png(size + seed * 1000 + count)
        count += 1
        content_type = "text/xml"
        if mtom:
            made = message(
                "1.1",
                upload_envelope("1.1", filename=f"{seed}-{count}.png"),
                [("image-1@tests", data)],
            )
            body, content_type = made.body, made.content_type
        else:
            body = (
                '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
                f'xmlns:t="{TNS}"><s:Body><t:UploadImage>'
                f"<t:filename>{seed}-{count}.png</t:filename>"
                f"<t:content>{base64.b64encode(data).decode()}</t:content></t:UploadImage>"
                "</s:Body></s:Envelope>"
            ).encode()
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            conn.request(
                "POST", "/soap", body, {"Content-Type": content_type, "Authorization": BASIC}
            )
            response = conn.getresponse()
            reply = response.read()
        except (OSError, http.client.HTTPException):
            cut.append(seed)  # this upload was in flight when the server died
            return
        finally:
            conn.close()  # also when the server died mid-request: no socket left to the GC
        if response.status != 200:  # never expected: stop, and let the test say so
            cut.append(-response.status)
            return
        if mtom:  # answered in kind
            tree = read_reply(response.getheader("Content-Type", ""), reply).root
        else:
            tree = etree.fromstring(reply)
        receipt = tree.find(f".//{{{TNS}}}UploadImageResult")
        image_id = receipt.findtext(f"{{{TNS}}}image_id")
        assert receipt.findtext(f"{{{TNS}}}sha256") == hashlib.sha256(data).hexdigest()
        acked.append((image_id, hashlib.sha256(data).hexdigest()))


@pytest.mark.parametrize("path", sorted(SIZES))
def test_acknowledged_uploads_survive_sigkill(
    tmp_path: Path, backend: dict[str, str], path: str
) -> None:
    server = start_server(tmp_path / "first", env=backend)
    stop = threading.Event()
    acked: list[tuple[str, str]] = []
    cut: list[int] = []
    threads = [
        threading.Thread(
            target=uploader,
            args=(server.url, stop, acked, cut, i, SIZES[path], path.endswith("mtom")),
        )
        for i in range(UPLOADERS)
    ]
    for thread in threads:
        thread.start()
    # Kill once enough uploads were acknowledged, with the uploaders still sending.
    while len(acked) < 25 and all(t.is_alive() for t in threads):
        threads[0].join(timeout=0.05)
    kill_server(server)
    stop.set()
    for thread in threads:
        thread.join()
    assert all(seed >= 0 for seed in cut), f"the server refused uploads: HTTP {-min(cut)}"
    assert len(acked) >= 25
    assert cut, "no upload was in flight when the server was killed"

    data_dir = tmp_path / "first" / "data"
    restarted = start_server(tmp_path / "second", env=backend, data_dir=data_dir)
    try:
        api = SoapServiceClient(restarted.url, username=TESTER[0], password=TESTER[1])
        for image_id, sha in acked:
            got = api.get_image(image_id)
            assert got.receipt.sha256 == sha
            assert hashlib.sha256(got.content).hexdigest() == sha
        listed = {r.image_id for r in api.list_images(page_size=100).images}
        assert {image_id for image_id, _ in acked} <= listed or len(listed) == 100
    finally:
        stop_server(restarted)
    with open_store(backend.get("SOAP_SERVICE_DATABASE_URL", ""), str(data_dir)) as store:
        assert store.integrity_problems() == []
