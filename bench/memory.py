"""Peak memory of a worker for one image: uploads (inline and MTOM), reads, downloads.

    python -m bench.memory [--database-url DSN] [--mib 10 --mib 100] [--phase NAME ...]
                                                                  (make bench-memory)

Each phase runs in a fresh single-worker server, warmed up with a small image, so
memory a previous phase freed but the allocator kept cannot hide a phase's own peak.
The image a read phase reads is stored before the server starts, by this process
through the store itself (``service.storage``), so the worker never held it. Before
the phase the worker's peak RSS is reset (``/proc/PID/clear_refs``); ``VmHWM`` after
it, less the warm worker's RSS, is the reported growth. Each size is measured with the
image limit (``SOAP_SERVICE_MAX_IMAGE_BYTES``) raised to hold it. Phases:

- ``client_upload``: UploadImage through the zeep client (inline base64);
- ``inline_upload`` / ``mtom_upload``: the same image as a prebuilt inline
  envelope and as an MTOM message, POSTed with ``requests`` (no client-side
  encoding is timed);
- ``inline_getimage`` / ``mtom_getimage``: GetImage answered inline, and as MTOM
  (``Accept: multipart/related``), read by the client as a stream and checked;
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
from service.imaging import inspect_image
from service.storage import NewImage, open_store
from tests.images import make_noise_png
from tests.live_server import TESTER, add_users, start_server, stop_server
from tests.mtom_messages import envelope, message, upload_envelope

PLAIN = "text/xml; charset=utf-8"
MIB = 1024 * 1024
PHASES = (
    "client_upload",
    "inline_upload",
    "mtom_upload",
    "inline_getimage",
    "mtom_getimage",
    "download",
)
#: the phases that read an image stored before the server starts
READS = frozenset({"inline_getimage", "mtom_getimage", "download"})


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
        timeout=600,
    )
    assert response.status_code == 200, response.content[:500]
    return response.content


def _clear(database_url: str, data_dir: Path) -> None:
    """A shared database starts each phase empty."""
    with open_store(database_url, str(data_dir)) as store:
        for record in store.list_images(None, 10_000, None):
            store.delete(record.image_id)


def _store(database_url: str, data_dir: Path, data: bytes) -> str:
    """``data`` stored for the tester by this process, as an upload would store it."""
    info = inspect_image(data)
    with open_store(database_url, str(data_dir)) as store:
        record, _ = store.add(
            NewImage(
                "big.png",
                data,
                None,
                hashlib.sha256(data).hexdigest(),
                info.format,
                info.width,
                info.height,
            ),
            owner=TESTER[0],
        )
    return record.image_id


def phase(
    database_url: str, data: bytes, prepare: bool, run: Callable[[str, str | None], None]
) -> tuple[float, float]:
    """Peak RSS growth (MiB) and seconds of ``run(url, image_id)`` in a fresh worker.

    With ``prepare`` the image is stored first (by this process) and its id passed.
    """
    env = {"SOAP_SERVICE_MAX_IMAGE_BYTES": str(max(10 * MIB, len(data) + MIB))}
    if database_url:
        env["SOAP_SERVICE_DATABASE_URL"] = database_url
    tmp = Path(tempfile.mkdtemp(prefix="soap-mem-"))
    data_dir = tmp / "data"
    add_users(data_dir, env)
    _clear(database_url, data_dir)
    image_id = _store(database_url, data_dir, data) if prepare else None
    server = start_server(tmp, "--workers", "1", env=env)
    try:
        api = SoapServiceClient(server.url, username=TESTER[0], password=TESTER[1])
        warm = make_noise_png(256 * 1024)
        warm_id = api.upload_image("warm.png", warm).image_id
        api.get_image(warm_id)
        b"".join(api.download(warm_id))
        (pid,) = workers_rss(server.process.pid)
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        base = _status(pid, "VmRSS")
        started = time.perf_counter()
        run(server.url, image_id)
        seconds = time.perf_counter() - started
        growth = (_status(pid, "VmHWM") - base) / 1024
        return round(growth, 1), round(seconds, 3)
    finally:
        stop_server(server)
        _clear(database_url, data_dir)


def _streamed_post(url: str, body: bytes, **headers: str) -> requests.Response:
    response = requests.post(
        url + "/soap",
        data=body,
        headers={"Content-Type": PLAIN, **headers},
        auth=TESTER,
        timeout=600,
        stream=True,
    )
    assert response.status_code == 200, response.content[:500]
    return response


def measure(database_url: str, mib: int, phases: list[str]) -> dict[str, float]:
    data = make_noise_png(mib * MIB)
    sha = hashlib.sha256(data).hexdigest()
    encoded = base64.b64encode(data)

    def client_upload(url: str, _: str | None) -> None:
        api = SoapServiceClient(url, username=TESTER[0], password=TESTER[1])
        assert api.upload_image("big.png", data).sha256 == sha

    def inline_upload(url: str, _: str | None) -> None:
        inline = envelope(
            "1.1",
            "UploadImage",
            f"<t:filename>big.png</t:filename><t:content>{encoded.decode()}</t:content>",
        )
        assert sha.encode() in _post(url, inline, PLAIN)

    def mtom_upload(url: str, _: str | None) -> None:
        mtom = message("1.1", upload_envelope("1.1"), [("image-1@tests", data)])
        assert sha.encode() in _post(url, mtom.body, mtom.content_type)

    def get(image_id: str | None) -> bytes:
        return envelope("1.1", "GetImage", f"<t:image_id>{image_id}</t:image_id>")

    def inline_getimage(url: str, image_id: str | None) -> None:
        with _streamed_post(url, get(image_id)) as reply:
            body = b"".join(reply.iter_content(MIB))
        start = body.index(b"<tns:content>") + len(b"<tns:content>")
        assert body[start : start + len(encoded)] == encoded

    def mtom_getimage(url: str, image_id: str | None) -> None:
        with _streamed_post(url, get(image_id), Accept="multipart/related") as reply:
            assert reply.headers["Content-Type"].startswith("multipart/related")
            body = b"".join(reply.iter_content(MIB))
        assert data in body

    def download(url: str, image_id: str | None) -> None:
        digest = hashlib.sha256()
        with requests.get(f"{url}/images/{image_id}", auth=TESTER, stream=True, timeout=600) as got:
            for chunk in got.iter_content(256 * 1024):
                digest.update(chunk)
        assert digest.hexdigest() == sha

    runs: dict[str, Callable[[str, str | None], None]] = {
        "client_upload": client_upload,
        "inline_upload": inline_upload,
        "mtom_upload": mtom_upload,
        "inline_getimage": inline_getimage,
        "mtom_getimage": mtom_getimage,
        "download": download,
    }
    result: dict[str, float] = {"payload_mib": round(len(data) / MIB, 2)}
    for name in phases:
        growth, seconds = phase(database_url, data, name in READS, runs[name])
        result[f"{name}_peak_growth_mib"] = growth
        result[f"{name}_seconds"] = seconds
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--mib", type=int, action="append", help="image size in MiB (repeatable; 10 and 100)"
    )
    parser.add_argument(
        "--phase", choices=PHASES, action="append", help="a phase to run (repeatable; all)"
    )
    args = parser.parse_args(argv)
    for mib in args.mib or [10, 100]:
        result: dict[str, object] = {"backend": "postgres" if args.database_url else "sqlite"}
        result.update(measure(args.database_url, mib, args.phase or list(PHASES)))
        print(json.dumps(result, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
