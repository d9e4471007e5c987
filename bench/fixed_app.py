"""The floor of our HTTP stack: a WSGI app that reads the body and answers with a
response recorded from the real service, chosen by the request's SOAPAction.

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
    action: body.encode()
    for action, body in json.loads(Path(os.environ["BENCH_FIXED_RESPONSES"]).read_text()).items()
}


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    stream = environ["wsgi.input"]
    while stream.read(1024 * 1024):
        pass
    body = _RESPONSES[environ.get("HTTP_SOAPACTION", "").strip('"')]
    start_response(
        "200 OK",
        [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]
