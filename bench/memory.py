"""Peak memory of a worker for one 10 MiB image: uploads (inline and MTOM), reads, downloads.

    python -m bench.memory [--database-url DSN] [--mib 10]     (make bench-memory)

Each phase runs in a fresh single-worker server, warmed up with a small
image, so memory a previous phase freed but the allocator kept cannot hide a
phase's own peak. Before the phase the worker's peak RSS is reset
(``/proc/PID/clear_refs``); ``VmHWM`` after it, less the warm worker's RSS, is
the reported growth. Phases:

- ``client_upload``: UploadImage through the zeep client (inline base64);
- ``inline_upload`` / ``mtom_upload``: the same image as a prebuilt inline
  envelope and as an MTOM message, POSTed with ``requests`` (no client-side
  encoding is timed);
- ``inline_getimage`` / ``mtom_getimage``: GetImage answered inline, and as MTOM
  (``Accept: multipart/related``);
- ``download``: the HTTP download (``GET /images/{id}``), streamed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

from bench.soak import workers_rss
from client import SoapServiceClient
from tests.images import make_noise_png
from tests.live_server import TESTER, start_server, stop_server
from tests.mtom_messages import envelope, message, upload_envelope

PLAIN = "text/xml; charset=utf-8"


def _status(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def _post(url: str, body: bytes, content_type: str, **headers: str) -> bytes:
    response = requests.post(
        url + "/soap",
        data=body,
        headers={"Content-Type": content_type, **headers},
        auth=TESTER,
        timeout=120,
    )
    assert response.status_code == 200, response.content[:500]
    return response.content


def phase(
    database_url: str, data: bytes, prepare: bool, run: Callable[[str, str | None], None]
) -> tuple[float, float]:
    """Peak RSS growth (MiB) and seconds of ``run(url, image_id)`` in a fresh worker.

    With ``prepare`` the image is stored first (through the client) and its id passed.
    """
    env = {"SOAP_SERVICE_DATABASE_URL": database_url} if database_url else {}
    server = start_server(Path(tempfile.mkdtemp(prefix="soap-mem-")), "--workers", "1", env=env)
    try:
        api = SoapServiceClient(server.url, username=TESTER[0], password=TESTER[1])
        for record in api.list_images(page_size=100).images:
            api.delete_image(record.image_id)  # a shared database starts empty
        warm = make_noise_png(256 * 1024)
        warm_id = api.upload_image("warm.png", warm).image_id
        api.get_image(warm_id)
        b"".join(api.download(warm_id))
        image_id = api.upload_image("big.png", data).image_id if prepare else None
        (pid,) = workers_rss(server.process.pid)
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        base = _status(pid, "VmRSS")
        started = time.perf_counter()
        run(server.url, image_id)
        seconds = time.perf_counter() - started
        growth = (_status(pid, "VmHWM") - base) / 1024
        for record in api.list_images(page_size=100).images:
            api.delete_image(record.image_id)
        return round(growth, 1), round(seconds, 3)
    finally:
        stop_server(server)


def measure(database_url: str, mib: int) -> dict[str, float]:
    data = make_noise_png(mib * 1024 * 1024)
    sha = hashlib.sha256(data).hexdigest()
    inline = envelope(
        "1.1",
        "UploadImage",
        f"<t:filename>big.png</t:filename><t:content>{base64.b64encode(data).decode()}</t:content>",
    )
    mtom = message("1.1", upload_envelope("1.1"), [("image-1@tests", data)])

    def client_upload(url: str, _: str | None) -> None:
        api = SoapServiceClient(url, username=TESTER[0], password=TESTER[1])
        assert api.upload_image("big.png", data).sha256 == sha

    def inline_upload(url: str, _: str | None) -> None:
        assert sha.encode() in _post(url, inline, PLAIN)

    def mtom_upload(url: str, _: str | None) -> None:
        assert sha.encode() in _post(url, mtom.body, mtom.content_type)

    def get(image_id: str | None) -> bytes:
        return envelope("1.1", "GetImage", f"<t:image_id>{image_id}</t:image_id>")

    def inline_getimage(url: str, image_id: str | None) -> None:
        assert len(_post(url, get(image_id), PLAIN)) > len(data)

    def mtom_getimage(url: str, image_id: str | None) -> None:
        reply = _post(url, get(image_id), PLAIN, Accept="multipart/related")
        assert data in reply

    def download(url: str, image_id: str | None) -> None:
        digest = hashlib.sha256()
        with requests.get(f"{url}/images/{image_id}", auth=TESTER, stream=True, timeout=60) as got:
            for chunk in got.iter_content(256 * 1024):
                digest.update(chunk)
        assert digest.hexdigest() == sha

    result: dict[str, float] = {"payload_mib": round(len(data) / 2**20, 2)}
    phases: list[tuple[str, bool, Callable[[str, str | None], None]]] = [
        ("client_upload", False, client_upload),
        ("inline_upload", False, inline_upload),
        ("mtom_upload", False, mtom_upload),
        ("inline_getimage", True, inline_getimage),
        ("mtom_getimage", True, mtom_getimage),
        ("download", True, download),
    ]
    for name, prepare, run in phases:
        growth, seconds = phase(database_url, data, prepare, run)
        result[f"{name}_peak_growth_mib"] = growth
        result[f"{name}_seconds"] = seconds
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--mib", type=int, default=10)
    args = parser.parse_args(argv)
    result: dict[str, object] = {"backend": "postgres" if args.database_url else "sqlite"}
    result.update(measure(args.database_url, args.mib))
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
