"""Peak memory of a worker for one 10 MiB image: upload, GetImage, HTTP download.

    python -m bench.memory [--database-url DSN] [--mib 10]     (make bench-memory)

Starts the server with one worker, warms it up, then for each phase resets the
worker's peak RSS (``/proc/PID/clear_refs``) and reads ``VmHWM`` after it:
the reported growth is the phase's peak over the warm worker's resident set.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import requests

from bench.soak import workers_rss
from client import SoapServiceClient
from tests.images import make_noise_png
from tests.live_server import TESTER, start_server, stop_server


def _status(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def measure(database_url: str, mib: int) -> dict[str, float]:
    env = {"SOAP_SERVICE_DATABASE_URL": database_url} if database_url else {}
    server = start_server(Path(tempfile.mkdtemp(prefix="soap-mem-")), "--workers", "1", env=env)
    try:
        api = SoapServiceClient(server.url, username=TESTER[0], password=TESTER[1])
        warm = make_noise_png(256 * 1024)
        warm_id = api.upload_image("warm.png", warm).image_id
        api.get_image(warm_id)
        b"".join(api.download(warm_id))
        (pid,) = workers_rss(server.process.pid)
        data = make_noise_png(mib * 1024 * 1024)

        def phase(run: object) -> float:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
            base = _status(pid, "VmRSS")
            run()  # type: ignore[operator]
            return (_status(pid, "VmHWM") - base) / 1024

        receipt = api.upload_image("big.png", data)  # once, so the store's files exist
        api.delete_image(receipt.image_id)
        result = {"payload_mib": round(len(data) / 2**20, 2)}
        result["upload_peak_growth_mib"] = round(
            phase(lambda: api.upload_image("big.png", data)), 1
        )
        image_id = api.list_images(page_size=1).images[0].image_id
        result["getimage_peak_growth_mib"] = round(phase(lambda: api.get_image(image_id)), 1)

        def download() -> None:
            digest = hashlib.sha256()
            url = f"{server.url}/images/{image_id}"
            with requests.get(url, auth=TESTER, stream=True, timeout=60) as response:
                for chunk in response.iter_content(256 * 1024):
                    digest.update(chunk)
            assert digest.hexdigest() == hashlib.sha256(data).hexdigest()

        result["download_peak_growth_mib"] = round(phase(download), 1)
        result["worker_rss_mib"] = round(_status(pid, "VmRSS") / 1024, 1)
        return result
    finally:
        stop_server(server)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--mib", type=int, default=10)
    args = parser.parse_args(argv)
    result = {"backend": "postgres" if args.database_url else "sqlite"}
    result.update(measure(args.database_url, args.mib))
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
