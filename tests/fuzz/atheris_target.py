"""atheris (libFuzzer) target over the WSGI application, in process.

    python tests/fuzz/atheris_target.py -runs=1000000 -rss_limit_mb=2048

Each input picks a seed request and a port, and splices the fuzzer's bytes
into the seed at fuzzer-chosen offsets; libFuzzer's coverage feedback (from
the instrumented service modules) steers the mutations. Any violation of the
property in ``tests/fuzz/harness.py`` raises, which libFuzzer reports as a
crash with the input saved.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

with atheris.instrument_imports(include=["service"]):
    from tests.fuzz.harness import BASIC, MEDIA, SEEDS, Harness

HARNESS = Harness.create()
PATHS = sorted(MEDIA)


def test_one(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    path, content_type, seed = SEEDS[fdp.ConsumeIntInRange(0, len(SEEDS) - 1)]
    if fdp.ConsumeIntInRange(0, 15) == 0:
        path = PATHS[fdp.ConsumeIntInRange(0, 1)]
    start = fdp.ConsumeIntInRange(0, len(seed))
    end = fdp.ConsumeIntInRange(start, len(seed))
    headers = {"Authorization": BASIC} if fdp.ConsumeBool() else {}
    body = seed[:start] + fdp.ConsumeBytes(fdp.remaining_bytes()) + seed[end:]
    status, response_headers, response = HARNESS.call(path, body, content_type, headers)
    HARNESS.check(path, status, response_headers, response)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()
