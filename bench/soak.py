"""Soak: 64 connections mixing every operation, for a set time, against the real server.

    python -m bench.soak --seconds 1800 --connections 64     (make soak SOAK_SECONDS=1800)

Each connection is a keep-alive HTTP/1.1 connection in its own thread, sending
a random mix of valid calls and calls that must fault (validation, image
rejection, missing credentials, DTDs, malformed XML), on both ports. Every
response is checked against what that call must get: status, a well-formed
envelope, the exact result or fault code. The server's worker processes are
sampled for RSS every few seconds. Exit status 1 if any response was wrong or
unexpected, any request failed, or worker RSS grew more than the bound.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree

from service.imaging import TINY_PNG
from service.ns import TNS
from tests.live_server import TESTER, start_server, stop_server

ENV = {
    "/soap": "http://schemas.xmlsoap.org/soap/envelope/",
    "/soap12": "http://www.w3.org/2003/05/soap-envelope",
}
MEDIA = {"/soap": "text/xml; charset=utf-8", "/soap12": "application/soap+xml; charset=utf-8"}
PIXEL = base64.b64encode(TINY_PNG).decode()
BASIC = "Basic " + base64.b64encode(f"{TESTER[0]}:{TESTER[1]}".encode()).decode()


@dataclass(frozen=True)
class Call:
    name: str
    body: str
    expect: str  # text the result must contain, or "fault:<code words>"
    auth: bool = False
    raw: bool = False  # body is the whole document, not the Body's content


CALLS = [
    Call("greet", "<t:Greet><t:name>Ada</t:name></t:Greet>", "Hello, Ada!"),
    Call("greet-blank", "<t:Greet><t:name> </t:name></t:Greet>", "fault:Validation"),
    Call("time", "<t:GetTime><t:timezone>Europe/Paris</t:timezone></t:GetTime>", "Europe/Paris"),
    Call(
        "time-unknown", "<t:GetTime><t:timezone>Mars/X</t:timezone></t:GetTime>", "fault:Validation"
    ),
    Call(
        "echo",
        "<t:EchoPerson><t:person><t:first_name>Zoë</t:first_name><t:last_name>L"
        "</t:last_name><t:age>36</t:age></t:person></t:EchoPerson>",
        "<tns:age>36</tns:age>",
    ),
    Call(
        "echo-age",
        "<t:EchoPerson><t:person><t:first_name>A</t:first_name><t:last_name>L"
        "</t:last_name><t:age>200</t:age></t:person></t:EchoPerson>",
        "fault:Validation",
    ),
    Call(
        "upload",
        f"<t:UploadImage><t:filename>p.png</t:filename><t:content>{PIXEL}"
        "</t:content></t:UploadImage>",
        "<tns:format>png</tns:format>",
        auth=True,
    ),
    Call(
        "upload-text",
        "<t:UploadImage><t:filename>p.png</t:filename><t:content>aGVsbG8="
        "</t:content></t:UploadImage>",
        "fault:ImageRejected",
        auth=True,
    ),
    Call(
        "upload-anonymous",
        f"<t:UploadImage><t:filename>p.png</t:filename><t:content>{PIXEL}"
        "</t:content></t:UploadImage>",
        "fault:FailedAuthentication",
    ),
    Call(
        "dtd",
        '<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>',
        "fault:ForbiddenXml",
        raw=True,
    ),
    Call("malformed", "<a><b></a>", "fault:MalformedRequest", raw=True),
]


def envelope(path: str, call: Call) -> bytes:
    if call.raw:
        return call.body.encode()
    return (
        f'<s:Envelope xmlns:s="{ENV[path]}" xmlns:t="{TNS}"><s:Body>{call.body}'
        "</s:Body></s:Envelope>"
    ).encode()


def check(path: str, call: Call, status: int, data: bytes) -> str | None:
    """None when the response is exactly what ``call`` must get, else what is wrong."""
    try:
        root = etree.fromstring(data)
    except etree.XMLSyntaxError:
        return "not XML"
    if root.tag != f"{{{ENV[path]}}}Envelope":
        return f"root {root.tag}"
    fault = root.find(f"{{{ENV[path]}}}Body/{{{ENV[path]}}}Fault")
    if call.expect.startswith("fault:"):
        if fault is None:
            return "a result where a fault was due"
        if status not in (401, 500):
            return f"fault with HTTP {status}"
        if call.expect[6:] not in etree.tostring(fault).decode():
            return "another fault code"
        return None
    if fault is not None or status != 200:
        return f"fault {etree.tostring(fault)[:200]!r}" if fault is not None else f"HTTP {status}"
    return None if call.expect in data.decode() else "wrong result"


@dataclass
class Tally:
    ok: Counter[str]
    wrong: Counter[str]
    errors: Counter[str]
    lock: threading.Lock


def connection(host: str, port: int, deadline: float, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    conn = http.client.HTTPConnection(host, port, timeout=60)
    while time.monotonic() < deadline:
        path = rng.choice(["/soap", "/soap12"])
        call = rng.choice(CALLS)
        headers = {"Content-Type": MEDIA[path]}
        if call.auth:
            headers["Authorization"] = BASIC
        try:
            conn.request("POST", path, body=envelope(path, call), headers=headers)
            response = conn.getresponse()
            data = response.read()
            problem = check(path, call, response.status, data)
        except (OSError, http.client.HTTPException) as error:
            with tally.lock:
                tally.errors[type(error).__name__] += 1
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=60)
            continue
        with tally.lock:
            if problem is None:
                tally.ok[call.name] += 1
            else:
                tally.wrong[f"{call.name}: {problem}"] += 1
    conn.close()


def workers_rss(server_pid: int) -> dict[int, int]:
    """RSS in KiB of each child process of the server (the granian workers)."""
    rss: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) != server_pid:
                continue
            pid = int(stat.parent.name)
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss[pid] = int(line.split()[1])
    return rss


def run(seconds: float, connections: int, max_growth: float) -> dict[str, object]:
    server = start_server(Path(tempfile.mkdtemp(prefix="soap-soak-")))
    try:
        parts = urlsplit(server.url)
        assert parts.hostname and parts.port
        tally = Tally(Counter(), Counter(), Counter(), threading.Lock())
        started = time.monotonic()
        deadline = started + seconds
        threads = [
            threading.Thread(
                target=connection, args=(parts.hostname, parts.port, deadline, tally, i)
            )
            for i in range(connections)
        ]
        for thread in threads:
            thread.start()
        samples: list[tuple[float, int]] = []
        while any(thread.is_alive() for thread in threads):
            rss = workers_rss(server.process.pid)
            samples.append((time.monotonic() - started, sum(rss.values())))
            threads[0].join(timeout=max(1.0, seconds / 60))
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    finally:
        stop_server(server)
    warm = [kib for t, kib in samples if t >= seconds * 0.1] or [kib for _, kib in samples]
    start_kib, end_kib, peak_kib = warm[0], warm[-1], max(warm)
    flat = end_kib <= start_kib * (1 + max_growth) + 32 * 1024
    total = sum(tally.ok.values())
    return {
        "seconds": round(elapsed, 1),
        "connections": connections,
        "requests": total + sum(tally.wrong.values()) + sum(tally.errors.values()),
        "requests_per_second": round(total / elapsed, 1),
        "ok": dict(tally.ok),
        "wrong": dict(tally.wrong),
        "errors": dict(tally.errors),
        "workers_rss_mib": {
            "start": round(start_kib / 1024, 1),
            "end": round(end_kib / 1024, 1),
            "peak": round(peak_kib / 1024, 1),
        },
        "rss_flat": flat,
        "passed": flat and not tally.wrong and not tally.errors and total > 0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--max-growth",
        type=float,
        default=0.25,
        help="allowed worker RSS growth after warm-up (fraction, plus 32 MiB)",
    )
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    result = run(args.seconds, args.connections, args.max_growth)
    text = json.dumps(result, indent=2, sort_keys=True)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
