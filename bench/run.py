"""``make bench``: the service against the SOAP servers users would pick instead.

Four servers run side by side on 127.0.0.1, each serving the same contract:

- ``soap-service``: ours, started as ``make run`` starts it (``soap-service
  serve``, production settings, a fresh data directory);
- ``node-soap``: node's ``soap`` package, 2 worker processes (``bench/refs/node``);
- ``gsoap``: a C++ server generated from ``wsdl/service.wsdl`` by wsdl2h and
  soapcpp2, built with ``-O2`` (``bench/refs/gsoap``);
- ``fixed``: a WSGI app answering a recorded response on our HTTP server
  (granian, same workers and threads): the floor of our HTTP stack.

Each scenario is run against every server in turn, round after round (A B C D
A B C D ...), with the same load tool: wrk, driven by ``bench/post.lua``, which
checks every response. Uploads send a different image every time (so no
server can answer from a cache or a deduplicated store). Reported, as medians
of the rounds: req/s, p50 and p99 latency, MiB/s of image for uploads, peak RSS
of the busiest server process and its growth during the run, and the ratios of
ours to node-soap and to gSOAP measured in the same round.

Writes ``bench/output/results.json`` and ``results.md``; ``--readme`` also puts
the table in the README. Exits non-zero if any response was wrong.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Final

from service.config import Settings
from service.ns import TNS

ROOT: Final = Path(__file__).resolve().parent.parent
BENCH: Final = ROOT / "bench"
OUTPUT: Final = BENCH / "output"
WSDL: Final = ROOT / "wsdl" / "service.wsdl"
SOAP11: Final = "http://schemas.xmlsoap.org/soap/envelope/"
MIB: Final = 1024 * 1024
USER, PASSWORD = "bench", "bench-password-1"
GSOAP_IMPORT: Final = Path("/usr/share/gsoap/import")
WORKERS: Final = 2
THREADS: Final = Settings().threads  # the fixed app runs as ours does
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


def envelope(operation_xml: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP11}"'
        f' xmlns:t="{TNS}"><soap:Body>{operation_xml}</soap:Body></soap:Envelope>'
    ).encode()


# --- the load ---


@dataclass(frozen=True)
class Scenario:
    name: str
    operation: str
    connections: int
    expect: str
    body: bytes = b""
    #: uploads: the body before and after the image's unique chunk (see post.lua)
    parts: tuple[bytes, bytes] | None = None
    image_bytes: int = 0

    def sample_body(self) -> bytes:
        """The body as sent (for uploads: with the chunk as it was generated)."""
        if self.parts is None:
            return self.body
        return self.parts[0] + base64.b64encode(TEXT_CHUNK) + self.parts[1]

    @property
    def soap_action(self) -> str:
        return f"{TNS}/{self.operation}"


def noise_png_parts(size: int) -> tuple[bytes, bytes]:
    """A ``size``-byte PNG of noise, as the bytes before and after a 27-byte tEXt chunk
    at offset 33 (``TEXT_CHUNK`` here; post.lua makes a new one per request).

    The chunk starts and ends on a multiple of 3 bytes, so its base64 can be
    swapped without touching the rest.
    """
    ihdr = struct.pack(">IIBBBBB", 1024, max(1, size // 3072), 8, 2, 0, 0, 0)
    head = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
    data_len = size - len(head) - len(TEXT_CHUNK) - 12 - 12
    tail = _chunk(b"IDAT", os.urandom(data_len)) + _chunk(b"IEND", b"")
    assert len(head) == 33 and len(TEXT_CHUNK) == 27
    assert len(head) + len(TEXT_CHUNK) + len(tail) == size
    return head, tail


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


#: the tEXt chunk in the sample upload (post.lua writes a counter in its place)
TEXT_CHUNK: Final = _chunk(b"tEXt", b"b\x00" + b"0" * 13)


def upload_scenario(size: int) -> Scenario:
    head, tail = noise_png_parts(size)
    before, after = envelope("@@").split(b"@@")
    prefix = (
        before
        + b"<t:UploadImage><t:filename>bench.png</t:filename><t:content>"
        + base64.b64encode(head)
    )
    suffix = (
        base64.b64encode(tail)
        + b"</t:content><t:content_type>image/png</t:content_type></t:UploadImage>"
        + after
    )
    label = f"{size // MIB} MiB"
    return Scenario(
        f"UploadImage {label}",
        "UploadImage",
        4,
        f">{size}<",
        parts=(prefix, suffix),
        image_bytes=size,
    )


def scenarios(quick: bool) -> list[Scenario]:
    small = [
        ("Greet", "<t:Greet><t:name>World</t:name></t:Greet>", "Hello, World!"),
        (
            "EchoPerson",
            "<t:EchoPerson><t:person><t:first_name>Ada</t:first_name>"
            "<t:last_name>Lovelace</t:last_name><t:age>36</t:age></t:person></t:EchoPerson>",
            ">Lovelace<",
        ),
        ("GetTime", "<t:GetTime/>", ">UTC<"),
    ]
    found = [
        Scenario(f"{op} c={c}", op, c, expect, body=envelope(xml))
        for c in (16, 64)
        for op, xml, expect in small
    ]
    found += [upload_scenario(MIB), upload_scenario(10 * MIB)]
    return found[:1] + found[-1:] if quick else found


# --- the servers ---


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/soap"

    def pids(self) -> list[int]:
        """The processes that serve requests: the workers if there are any."""
        children = _descendants(self.process.pid)
        return children or [self.process.pid]


def _descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        kids = [child for child, parent in parents.items() if parent == current]
        found += kids
        frontier += kids
    return found


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(
    name: str, argv: list[str], work: Path, env: dict[str, str], port: int | None = None
) -> Server:
    log = work / f"{name}.log"
    handle = log.open("wb")
    process = subprocess.Popen(
        argv, stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, **env}, cwd=ROOT
    )
    deadline = time.monotonic() + 60
    while port is None:
        found = re.search(rb"listening on (?:http://127\.0\.0\.1:)?(\d+)", log.read_bytes())
        if found:
            port = int(found.group(1))
        elif process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"bench: {name} did not start:\n{log.read_text()[-2000:]}")
        else:
            time.sleep(0.05)
    server = Server(name, process, port, log)
    while True:  # ready when it answers a request
        try:
            urllib.request.urlopen(
                urllib.request.Request(
                    server.url,
                    data=envelope("<t:Greet><t:name>ready</t:name></t:Greet>"),
                    headers={"Content-Type": "text/xml", "SOAPAction": f'"{TNS}/Greet"'},
                ),
                timeout=5,
            ).read()
            return server
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(
                    f"bench: {name} never answered:\n{log.read_text()[-2000:]}"
                ) from None
            time.sleep(0.05)


def _stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGINT)
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def build_gsoap(work: Path) -> Path:
    """The gSOAP server, generated from the committed WSDL with default flags, at -O2."""
    for tool in ("wsdl2h", "soapcpp2", "g++"):
        if shutil.which(tool) is None:
            raise SystemExit(f"bench: {tool} is missing; run `make bench` (it installs it)")
    build = work / "gsoap"
    build.mkdir()
    shutil.copy(BENCH / "refs" / "gsoap" / "server.cpp", build)
    quiet = {"cwd": build, "check": True, "capture_output": True}
    subprocess.run(["wsdl2h", "-o", "service.h", str(WSDL)], **quiet)  # type: ignore[call-overload]
    subprocess.run(["soapcpp2", "-S", "-I", str(GSOAP_IMPORT), "service.h"], **quiet)  # type: ignore[call-overload]
    subprocess.run(
        [
            "g++",
            "-O2",
            "-o",
            "server",
            "server.cpp",
            "soapC.cpp",
            "soapServer.cpp",
            "-lgsoap++",
            "-lcrypto",
            "-lpthread",
        ],
        **quiet,  # type: ignore[call-overload]
    )
    return build / "server"


def recorded_responses(server: Server, found: list[Scenario], work: Path) -> Path:
    """Our service's answer to each operation, for the fixed-response app."""
    responses: dict[str, str] = {}
    for scenario in found:
        body = scenario.sample_body()
        request = urllib.request.Request(
            server.url, data=body, headers=_headers(scenario), method="POST"
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            text = answer.read().decode()
        assert scenario.expect in text, (scenario.name, text)
        responses[scenario.name] = text
    path = work / "fixed-responses.json"
    path.write_text(json.dumps(responses))
    return path


def _headers(scenario: Scenario) -> dict[str, str]:
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    return {
        "Content-Type": "text/xml; charset=utf-8",
        "SOAPAction": f'"{scenario.soap_action}"',
        "Authorization": f"Basic {token}",
    }


@contextmanager
def servers(work: Path, found: list[Scenario]) -> Iterator[list[Server]]:
    python = sys.executable
    data = work / "data"
    subprocess.run(
        [python, "-m", "service", "users", "--data-dir", str(data), "add", USER],
        input=PASSWORD.encode(),
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=ROOT,
    )
    gsoap = build_gsoap(work)
    node_dir = BENCH / "refs" / "node"
    with ExitStack() as stack:
        started: list[Server] = []
        stack.callback(lambda: [_stop(s) for s in started])
        ours = _start(
            "soap-service",
            [python, "-m", "service", "serve", "--port", "0"],
            work,
            {"SOAP_SERVICE_DATA_DIR": str(data), "SOAP_SERVICE_WORKERS": str(WORKERS)},
        )
        started.append(ours)
        fixed_port = _free_port()
        responses = recorded_responses(ours, found, work)
        started.append(
            _start(
                "fixed",
                [
                    python,
                    "-m",
                    "granian",
                    "--interface",
                    "wsgi",
                    "--workers",
                    str(WORKERS),
                    "--blocking-threads",
                    str(THREADS),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(fixed_port),
                    "--no-log",
                    "bench.fixed_app:app",
                ],
                work,
                {"BENCH_FIXED_RESPONSES": str(responses)},
                port=fixed_port,
            )
        )
        started.append(
            _start(
                "node-soap",
                ["node", str(node_dir / "server.js"), str(WSDL), "0", str(WORKERS)],
                work,
                {},
            )
        )
        started.append(_start("gsoap", [str(gsoap), "0"], work, {}))
        yield started


# --- measuring ---


@dataclass
class Run:
    scenario: str
    server: str
    round: int
    requests: int
    seconds: float
    req_per_s: float
    p50_ms: float
    p99_ms: float
    mib_per_s: float
    peak_rss_mib: float
    rss_growth_mib: float
    errors: int
    detail: dict[str, int] = field(default_factory=dict)


def _wrk(
    server: Server, scenario: Scenario, seconds: float, run_id: int, work: Path
) -> dict[str, float]:
    env = {
        **os.environ,
        "BENCH_EXPECT": scenario.expect,
        "BENCH_CONTENT_TYPE": "text/xml; charset=utf-8",
        "BENCH_AUTHORIZATION": _headers(scenario)["Authorization"],
        "BENCH_RUN": str(run_id),
    }
    if scenario.parts:
        prefix, suffix = work / "prefix.bin", work / "suffix.bin"
        prefix.write_bytes(scenario.parts[0])
        suffix.write_bytes(scenario.parts[1])
        env.update(BENCH_PREFIX=str(prefix), BENCH_SUFFIX=str(suffix))
    else:
        body = work / "body.xml"
        body.write_bytes(scenario.body)
        env["BENCH_BODY"] = str(body)
    threads = min(2, scenario.connections)
    done = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{scenario.connections}",
            f"-d{round(seconds)}s",
            "--timeout",
            "30s",
            "-H",
            f'SOAPAction: "{scenario.soap_action}"',
            "-H",
            f"X-Bench-Scenario: {scenario.name}",
            "-s",
            str(BENCH / "post.lua"),
            server.url,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + 120,
    )
    if done.returncode != 0:
        raise SystemExit(f"bench: wrk failed:\n{done.stdout}\n{done.stderr}")
    out = done.stdout
    found = re.search(r"BENCH-RESULT (\{.*\})", out)
    if not found:
        raise SystemExit(f"bench: wrk printed no result:\n{out}")
    return dict(json.loads(found.group(1)))


def measure(
    server: Server, scenario: Scenario, seconds: float, round_: int, run_id: int, work: Path
) -> Run:
    _wrk(server, scenario, min(1.0, seconds), run_id * 2, work)  # warm up
    pids = server.pids()
    before = {pid: _status_kib(pid, "VmRSS") for pid in pids}
    for pid in pids:  # reset the peak (VmHWM) to the current RSS
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    got = _wrk(server, scenario, seconds, run_id * 2 + 1, work)
    peaks = {pid: _status_kib(pid, "VmHWM") for pid in pids}
    requests, elapsed = int(got["requests"]), float(got["seconds"])
    errors = {k: int(got[k]) for k in ("transport_errors", "bad_status", "bad_body")}
    return Run(
        scenario=scenario.name,
        server=server.name,
        round=round_,
        requests=requests,
        seconds=elapsed,
        req_per_s=requests / elapsed,
        p50_ms=got["p50_us"] / 1000,
        p99_ms=got["p99_us"] / 1000,
        mib_per_s=requests * scenario.image_bytes / MIB / elapsed,
        peak_rss_mib=max(peaks.values()) / 1024,
        rss_growth_mib=max(peaks[p] - before[p] for p in pids) / 1024,
        errors=sum(errors.values()),
        detail=errors,
    )


# --- reporting ---


@dataclass
class Summary:
    scenario: str
    server: str
    req_per_s: float
    p50_ms: float
    p99_ms: float
    mib_per_s: float
    peak_rss_mib: float
    rss_growth_mib: float
    errors: int
    vs_node: float | None
    vs_gsoap: float | None


def summarize(runs: list[Run]) -> list[Summary]:
    summaries: list[Summary] = []
    keys = list(dict.fromkeys((r.scenario, r.server) for r in runs))
    for scenario, server in keys:
        mine = [r for r in runs if (r.scenario, r.server) == (scenario, server)]

        def ratio(reference: str, mine: list[Run] = mine, scenario: str = scenario) -> float | None:
            ratios = []
            for run in mine:
                ref = [
                    r
                    for r in runs
                    if (r.scenario, r.server, r.round) == (scenario, reference, run.round)
                ]
                if ref and ref[0].req_per_s:
                    ratios.append(run.req_per_s / ref[0].req_per_s)
            return statistics.median(ratios) if ratios else None

        def median(name: str, mine: list[Run] = mine) -> float:
            return float(statistics.median(getattr(r, name) for r in mine))

        summaries.append(
            Summary(
                scenario,
                server,
                median("req_per_s"),
                median("p50_ms"),
                median("p99_ms"),
                median("mib_per_s"),
                median("peak_rss_mib"),
                median("rss_growth_mib"),
                sum(r.errors for r in mine),
                ratio("node-soap"),
                ratio("gsoap"),
            )
        )
    return summaries


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = _memory_gib()
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem} GiB RAM, {platform.system()} {platform.release()},"
        f" Python {platform.python_version()}"
    )


def _memory_gib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024)
    return 0


def markdown(summaries: list[Summary], meta: dict[str, object]) -> str:
    def fmt(value: float | None, spec: str = ".2f", suffix: str = "×") -> str:
        return "–" if value is None else f"{value:{spec}}{suffix}"

    lines = [
        f"Measured {meta['date']} on {meta['machine']}; {meta['rounds']} rounds of"
        f" {meta['seconds']} s per scenario and server, medians; ratios are ours ÷ the"
        " reference in the same round. `make bench` to reproduce.",
        "",
        "| scenario | server | req/s | p50 ms | p99 ms | MiB/s | peak RSS MiB | RSS growth MiB"
        " | errors | vs node-soap | vs gSOAP |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for s in summaries:
        ours = s.server == "soap-service"
        lines.append(
            f"| {s.scenario} | {'**' + s.server + '**' if ours else s.server}"
            f" | {s.req_per_s:,.0f} | {s.p50_ms:.2f} | {s.p99_ms:.2f}"
            f" | {fmt(s.mib_per_s, '.0f', '') if s.mib_per_s else '–'}"
            f" | {s.peak_rss_mib:.0f} | {s.rss_growth_mib:.0f} | {s.errors}"
            f" | {fmt(s.vs_node) if ours else ''} | {fmt(s.vs_gsoap) if ours else ''} |"
        )
    lines += ["", "Targets:", ""]
    lines += [f"- {line}" for line in targets(summaries)]
    return "\n".join(lines) + "\n"


def targets(summaries: list[Summary]) -> list[str]:
    ours = {s.scenario: s for s in summaries if s.server == "soap-service"}
    out: list[str] = []

    def check(ok: bool, text: str) -> None:
        out.append(f"{'met' if ok else '**missed**'}: {text}")

    for name, s in ours.items():
        if s.scenario.startswith(("Greet", "EchoPerson")):
            node, gsoap = s.vs_node or 0, s.vs_gsoap or 0
            check(node >= 1.0, f"{name}: {node:.2f}× node-soap req/s (≥ 1.0×)")
            check(gsoap >= 0.5, f"{name}: {gsoap:.2f}× gSOAP req/s (≥ 0.5×)")
            if name.endswith("c=64"):
                check(s.p99_ms < 10, f"{name}: p99 {s.p99_ms:.2f} ms (< 10 ms)")
        if name == "UploadImage 10 MiB":
            node = s.vs_node or 0
            check(node >= 1.0, f"{name}: {node:.2f}× node-soap MiB/s (≥ 1.0×)")
            growth = s.rss_growth_mib / 10
            check(growth <= 4, f"{name}: worker RSS growth {growth:.1f}× the payload (≤ 4×)")
    return out


def update_readme(table: str) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    start, end = text.index(README_START), text.index(README_END)
    readme.write_text(text[: start + len(README_START)] + "\n" + table + text[end:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0, help="per run (uploads: double)")
    parser.add_argument("--quick", action="store_true", help="one small and one upload scenario")
    parser.add_argument("--readme", action="store_true", help="put the table in README.md")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where results go")
    args = parser.parse_args(argv)
    output: Path = args.output
    if shutil.which("wrk") is None:
        raise SystemExit("bench: wrk is missing; run `make bench` (it installs it)")
    found = scenarios(args.quick)
    runs: list[Run] = []
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="soap-bench-") as tmp:
        work = Path(tmp)
        with servers(work, found) as started:
            run_id = 0
            for scenario in found:
                seconds = args.seconds * (2 if scenario.parts else 1)
                for round_ in range(1, args.rounds + 1):
                    for server in started:
                        run_id += 1
                        run = measure(server, scenario, seconds, round_, run_id, work)
                        runs.append(run)
                        print(
                            f"{scenario.name:<20} {server.name:<13} round {round_}:"
                            f" {run.req_per_s:9,.0f} req/s  p99 {run.p99_ms:6.2f} ms"
                            f"  peak {run.peak_rss_mib:5.0f} MiB (+{run.rss_growth_mib:.0f})"
                            f"  errors {run.errors}",
                            flush=True,
                        )
    summaries = summarize(runs)
    meta = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "rounds": args.rounds,
        "seconds": args.seconds,
        "workers": WORKERS,
        "threads": THREADS,
    }
    table = markdown(summaries, meta)
    (output / "results.md").write_text(table)
    (output / "results.json").write_text(
        json.dumps(
            {
                "meta": meta,
                "summary": [asdict(s) for s in summaries],
                "runs": [asdict(r) for r in runs],
            },
            indent=2,
        )
    )
    print()
    print(table)
    print(f"bench: wrote {output / 'results.md'} and {output / 'results.json'}")
    if args.readme:
        update_readme(table)
    errors = sum(r.errors for r in runs)
    if errors:
        print(f"bench: {errors} wrong or failed responses", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
