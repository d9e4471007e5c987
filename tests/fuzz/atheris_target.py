"""atheris (libFuzzer) target over the WSGI application, in process.

    python tests/fuzz/atheris_target.py -runs=1000000 -rss_limit_mb=2048

Each input picks a seed request (an envelope for a SOAP port, or a request to
``/http``, ``/images`` or a page) and splices the fuzzer's bytes into it at
fuzzer-chosen offsets: into the envelope or MTOM package, or into the query
string, the body, a header's value or the method of the other routes; a header
chosen from the hostile set may be added. libFuzzer's coverage feedback (from the
instrumented service modules) steers the mutations. Any violation of the property
in ``tests/fuzz/harness.py`` raises, which libFuzzer reports as a crash with the
input saved.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

with atheris.instrument_imports(include=["service"]):
    from tests.fuzz.harness import BASIC, HTTP_SEEDS, MEDIA, SEEDS, Harness

HARNESS = Harness.create()
PATHS = sorted(MEDIA)
HEADERS = ["Range", "If-None-Match", "Accept", "X-Forwarded-For", "Forwarded", "Authorization"]
METHODS = ["GET", "POST", "HEAD", "PUT", "DELETE"]


def _splice(fdp: atheris.FuzzedDataProvider, seed: str) -> str:
    start = fdp.ConsumeIntInRange(0, len(seed))
    end = fdp.ConsumeIntInRange(start, len(seed))
    return (
        seed[:start]
        + fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 256)).decode("latin-1")
        + seed[end:]
    )


def test_route(fdp: atheris.FuzzedDataProvider) -> None:
    seed = HTTP_SEEDS[fdp.ConsumeIntInRange(0, len(HTTP_SEEDS) - 1)]
    method, path, query, content_type, body, headers = seed.request(HARNESS.image_id)
    target = fdp.ConsumeIntInRange(0, 4)
    if target == 0:
        query = _splice(fdp, query)
    elif target == 1:
        body = _splice(fdp, body.decode("latin-1")).encode("latin-1")
    elif target == 2:
        name = HEADERS[fdp.ConsumeIntInRange(0, len(HEADERS) - 1)]
        headers[name] = _splice(fdp, headers.get(name, ""))
    elif target == 3:
        method = METHODS[fdp.ConsumeIntInRange(0, len(METHODS) - 1)]
    else:
        path = _splice(fdp, path)
    status, response_headers, response = HARNESS.request(
        method, path, body, content_type, headers, query
    )
    if path.rstrip("/") in MEDIA and method == "POST":
        HARNESS.sent = content_type
        HARNESS.check(path.rstrip("/"), status, response_headers, response)
    else:
        HARNESS.check_route(method, path, status, response_headers, response)


def test_one(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    if fdp.ConsumeIntInRange(0, 2) == 0:
        test_route(fdp)
        return
    path, content_type, seed = SEEDS[fdp.ConsumeIntInRange(0, len(SEEDS) - 1)]
    if fdp.ConsumeIntInRange(0, 15) == 0:
        path = PATHS[fdp.ConsumeIntInRange(0, 1)]
    start = fdp.ConsumeIntInRange(0, len(seed))
    end = fdp.ConsumeIntInRange(start, len(seed))
    headers = {"Authorization": BASIC} if fdp.ConsumeBool() else {}
    if fdp.ConsumeIntInRange(0, 7) == 0:
        name = HEADERS[fdp.ConsumeIntInRange(0, len(HEADERS) - 1)]
        headers[name] = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 64)).decode("latin-1")
    body = seed[:start] + fdp.ConsumeBytes(fdp.remaining_bytes()) + seed[end:]
    status, response_headers, response = HARNESS.call(path, body, content_type, headers)
    HARNESS.check(path, status, response_headers, response)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()
