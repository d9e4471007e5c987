"""Interop: third-party toolkits generate clients from wsdl/service.wsdl and call the live server.

Every driver, whatever its language, runs the same scenario and prints one
JSON object (see ``scenario.py``); :func:`scenario.check_report` holds every
toolkit to the same expectations. Generated code goes to a temporary
directory, never into git, and nothing is cached between runs, so a contract
change always reaches every toolkit.

A missing toolchain fails its tests (never a skip): ``make test`` installs them all
(``make test-deps``; ``make interop-deps`` for these alone).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.images import make_image, make_noise_png

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
WSDL = ROOT / "wsdl" / "service.wsdl"


def require(*tools: str) -> None:
    """Fail unless every tool is on PATH or is an existing path."""
    missing = [t for t in tools if not (shutil.which(t) or Path(t).exists())]
    if missing:
        pytest.fail(f"toolchain missing: {', '.join(missing)} (run 'make test-deps')")


def run(command: Sequence[str | Path], cwd: Path, timeout: float = 600, **kwargs: object) -> str:
    """Run a build or driver step; fail the test with its output if it fails."""
    result = subprocess.run(
        [str(c) for c in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,  # type: ignore[call-overload]
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, command))} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}"
        )
    return result.stdout


@dataclass(frozen=True)
class Forwarded:
    """A request a forwarding stub took: the words of its path before the port (what the
    test asked of the stub), its headers as sent, and its body."""

    words: tuple[str, ...]
    headers: dict[str, str]
    body: bytes


#: Changes a request's body (and, in place, its forwarded headers): (words, body, headers)
RequestChange = Callable[[tuple[str, ...], bytes, dict[str, str]], bytes]
#: Changes a reply's body: (words, status, body)
ReplyChange = Callable[[tuple[str, ...], int, bytes], bytes]


@contextmanager
def forwarding_stub(
    target: str,
    forward: Sequence[str] = ("content-type", "soapaction"),
    request: RequestChange | None = None,
    reply: ReplyChange | None = None,
) -> Iterator[tuple[str, list[Forwarded]]]:
    """An HTTP server in front of the service at ``target``: ``POST /<word>/.../<port>`` is
    recorded, sent on to ``target/<port>`` with the ``forward`` headers (changed by
    ``request``), and the service's status, Content-Type, WWW-Authenticate and body (changed
    by ``reply``) go back. Yields its URL and the requests it took. For the tests that show
    what a toolkit does with a reply the service would never send, or sends a request."""
    seen: list[Forwarded] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            *words, port = self.path.strip("/").split("/")
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(Forwarded(tuple(words), dict(self.headers.items()), body))
            headers = {k.lower(): v for k, v in self.headers.items() if k.lower() in forward}
            if request is not None:
                body = request(tuple(words), body, headers)
            sent = urllib.request.Request(f"{target}/{port}", body, headers)
            try:
                with urllib.request.urlopen(sent, timeout=60) as answer:
                    status, data, got = answer.status, answer.read(), answer.headers
            except urllib.error.HTTPError as error:
                status, data, got = error.code, error.read(), error.headers
            if reply is not None:
                data = reply(tuple(words), status, data)
            self.send_response(status)
            for name in ("Content-Type", "WWW-Authenticate"):
                if got[name]:
                    self.send_header(name, got[name])
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def payloads(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("payloads")
    png = folder / "picture.png"
    png.write_bytes(make_image("PNG", (64, 48)))
    text = folder / "notes.txt"
    text.write_bytes(b"I am plain text, not an image.\n")
    return {"png": png, "text": text}


@pytest.fixture(scope="session")
def big_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 10 MiB (at most) PNG of noise, for MTOM uploads."""
    path = tmp_path_factory.mktemp("mtom") / "big.png"
    path.write_bytes(make_noise_png(10 * 1024 * 1024))
    return path


def check_mtom_report(
    report: dict[str, object], image: Path, log_before: str, log_after: str
) -> None:
    """The toolkit sent the image as MTOM and got the same bytes back."""
    data = image.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert report["sha256"] == digest
    assert int(str(report["size_bytes"])) == len(data)
    assert report["back_sha256"] == digest
    marker = "operation=UploadImage outcome=ok fault=- status=200 encoding=mtom reply=mtom"
    assert log_after.count(marker) > log_before.count(marker), "the upload was not sent as MTOM"
    # GetImage asks for MTOM by being MTOM (JAX-WS, WCF) or by its Accept header (gSOAP)
    marker = re.compile(r"operation=GetImage outcome=ok fault=- status=200 encoding=\w+ reply=mtom")
    got = len(marker.findall(log_after)) > len(marker.findall(log_before))
    assert got, "GetImage was not answered as MTOM"
