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
from collections.abc import Sequence
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
