"""The floor of our HTTP stack: a WSGI app that reads the body and answers with a
response recorded from the real service, chosen by the benchmark's scenario
(its ``X-Bench-Scenario`` header).

``bench.run`` serves it on granian with the service's own worker and thread
counts; nothing the service does per request is done here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

_RESPONSES: dict[str, bytes] = {
    scenario: body.encode()
    for scenario, body in json.loads(Path(os.environ["BENCH_FIXED_RESPONSES"]).read_text()).items()
}
_FIRST: bytes = next(iter(_RESPONSES.values()))


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    stream = environ["wsgi.input"]
    while stream.read(1024 * 1024):
        pass
    # no header: bench.run's readiness probe, which only needs an answer
    body = _RESPONSES.get(environ.get("HTTP_X_BENCH_SCENARIO", ""), _FIRST)
    start_response(
        "200 OK",
        [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]
