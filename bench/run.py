"""``make bench``: the service against the SOAP servers users would pick instead.

Six servers run side by side on 127.0.0.1, each serving the same contract. Three
are ours, the same engine (``SoapApplication.handle``) behind three serving
architectures, each with 2 worker processes and a fresh data directory:

- ``soap-service``: as ``make run`` starts it (``soap-service serve``, production
  settings): the serving core, granian's RSGI interface (``service/rsgi.py``);
- ``soap-service-wsgi``: the same with ``SOAP_SERVICE_INTERFACE=wsgi``: granian's
  thread-per-request WSGI bridge;
- ``soap-service-asgi``: uvicorn (uvloop, httptools) running the serving core
  through an ASGI face (``bench/asgi_face.py``);

and three are references:

- ``node-soap``: node's ``soap`` package, 2 worker processes (``bench/refs/node``);
- ``gsoap``: a C++ server generated from ``wsdl/service.wsdl`` by wsdl2h and
  soapcpp2, built with ``-O2`` (``bench/refs/gsoap``);
- ``fixed``: a WSGI app answering a recorded response on our HTTP server
  (granian, same workers and threads): the floor of our HTTP stack.

Each scenario is run against every server in turn, round after round (A B C D
E F A B C D E F ...), with the same load tool: wrk, driven by ``bench/post.lua``,
which checks every response. Uploads send a different image every time (so no
server can answer from a cache or a deduplicated store). "greet-under-attack" is
Greet at 64 connections while ``bench/attack.py`` holds 50 slow-body and 200
slow-header connections open against the same server; "Greet c=16 beside uploads"
is Greet while another wrk uploads 10 MiB images on 4 connections to the same
server (can a large parse stall the small requests?). Reported, as medians of the
rounds: req/s, p50 and p99 latency, MiB/s of image for uploads, the server's CPU
time per request (user + system of its whole process tree, from /proc), peak RSS
of the busiest server process and its growth during the run, and the ratios of
ours to node-soap and to gSOAP measured in the same round (under attack: also to
the same server's unattacked Greet).

Writes ``bench/output/results.json`` and ``results.md``; ``--readme`` also puts
the table in the README. ``--scenario`` and ``--server`` measure a part (for
instance ``--scenario "UploadImage 10 MiB" --server soap-service --server
node-soap``); a part never goes into the README. Exits non-zero if any response was wrong or any call
failed, except under attack, where only ``soap-service`` (what ``serve`` runs) must
answer every call: there the other servers' failures are the measurement.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import importlib.util
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
from collections.abc import Collection, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Final

from bench.attack import Attack, Attacker
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
OURS: Final = ("soap-service", "soap-service-wsgi", "soap-service-asgi")
REFERENCES: Final = ("node-soap", "gsoap")
CLOCK_TICK: Final = os.sysconf("SC_CLK_TCK")
#: seconds the attack may take to open its connections before wrk starts
ATTACK_RAMP: Final = 5.0
#: under attack, a call not answered within this many seconds counts as failed (wrk's
#: --timeout: each connection waiting longer is counted again every 2 s)
ATTACK_CALL_TIMEOUT: Final = 2
#: servers that must answer every call even under attack (the others' failures there
#: are their result): what `soap-service serve` runs
MUST_SURVIVE: Final = ("soap-service",)
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
    #: slow connections held open against the server while it is measured
    attack: Attack | None = None
    #: the unattacked scenario this one is compared with (same server, same round)
    baseline: str | None = None
    #: load run beside this one on the same server (another wrk, started before the
    #: warm-up and ended after the measured run): its answers must be right too
    beside: Scenario | None = None

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
    uploads = [upload_scenario(MIB), upload_scenario(10 * MIB)]
    if quick:  # the smoke test: one of each kind, the attack a few sockets strong
        greet = found[0]
        return [
            greet,
            attacked(greet, Attack(slow_bodies=3, slow_headers=5)),
            uploads[-1],
            beside_uploads(greet, uploads[-1]),
        ]
    greet = next(s for s in found if s.name == "Greet c=64")
    return [*found, attacked(greet, Attack()), *uploads, beside_uploads(found[0], uploads[-1])]


def beside_uploads(small: Scenario, upload: Scenario) -> Scenario:
    """``small`` measured while ``upload`` runs on the same server (4 connections each
    sending a 10 MiB image): does a large parse stall the small requests?"""
    return dataclasses.replace(
        small, name=f"{small.name} beside uploads", baseline=small.name, beside=upload
    )


def attacked(scenario: Scenario, attack: Attack) -> Scenario:
    """``scenario`` measured while ``attack`` holds its slow connections open."""
    return dataclasses.replace(
        scenario, name="greet-under-attack", attack=attack, baseline=scenario.name
    )


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

    def tree(self) -> list[int]:
        """The main process and every descendant."""
        return [self.process.pid, *_descendants(self.process.pid)]


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


def _cpu_ticks(pids: list[int]) -> dict[int, int]:
    """utime + stime of each process (all its threads), in clock ticks."""
    ticks = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone
        ticks[pid] = int(fields[11]) + int(fields[12])  # stat's 14th and 15th fields
    return ticks


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
    while port is None:  # uvicorn says "running on"
        found = re.search(
            rb"(?:listening|running) on (?:http://127\.0\.0\.1:)?(\d+)", log.read_bytes()
        )
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
        workers = {pid: _started_at(pid) for pid in _descendants(server.process.pid)}
        server.process.send_signal(signal.SIGINT)
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
        for pid, started in workers.items():  # any the main process left behind
            if started is not None and _started_at(pid) == started:
                os.kill(pid, signal.SIGKILL)


def _started_at(pid: int) -> int | None:
    """When the process started (stat's 22nd field): tells it from a later one with its pid."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


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


def _data_dir(work: Path, name: str) -> Path:
    """A fresh data directory with the benchmark's user, for one of our servers."""
    data = work / f"data-{name}"
    subprocess.run(
        [sys.executable, "-m", "service", "users", "--data-dir", str(data), "add", USER],
        input=PASSWORD.encode(),
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=ROOT,
    )
    return data


#: every server `make bench` runs, in the order it measures them
SERVERS: Final = (
    "soap-service",
    "soap-service-wsgi",
    "soap-service-asgi",
    "fixed",
    "node-soap",
    "gsoap",
)


@contextmanager
def servers(
    work: Path, found: list[Scenario], wanted: Collection[str] = SERVERS
) -> Iterator[list[Server]]:
    """The servers named in ``wanted``, started (``fixed`` replays answers recorded from
    ``soap-service``, which is then started for it)."""
    python = sys.executable
    node_dir = BENCH / "refs" / "node"
    serve = [python, "-m", "service", "serve", "--port", "0"]

    def ours(name: str, interface: str) -> Server:
        return _start(
            name,
            serve,
            work,
            {
                "SOAP_SERVICE_DATA_DIR": str(_data_dir(work, interface)),
                "SOAP_SERVICE_WORKERS": str(WORKERS),
                "SOAP_SERVICE_INTERFACE": interface,
            },
        )

    with ExitStack() as stack:
        started: list[Server] = []
        stack.callback(lambda: [_stop(s) for s in started])
        if "soap-service" in wanted or "fixed" in wanted:
            started.append(ours("soap-service", "rsgi"))
        if "soap-service-wsgi" in wanted:
            started.append(ours("soap-service-wsgi", "wsgi"))
        if "soap-service-asgi" in wanted:
            started.append(
                _start(
                    "soap-service-asgi",
                    [
                        python,
                        "-m",
                        "uvicorn",
                        "--factory",
                        "bench.asgi_face:create",
                        "--workers",
                        str(WORKERS),
                        "--loop",
                        "uvloop",
                        "--http",
                        "httptools",
                        "--no-access-log",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        "0",
                    ],
                    work,
                    {"SOAP_SERVICE_DATA_DIR": str(_data_dir(work, "asgi"))},
                )
            )
        if "fixed" in wanted:
            fixed_port = _free_port()
            responses = recorded_responses(started[0], found, work)
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
        if "node-soap" in wanted:
            started.append(
                _start(
                    "node-soap",
                    ["node", str(node_dir / "server.js"), str(WSDL), "0", str(WORKERS)],
                    work,
                    {},
                )
            )
        if "gsoap" in wanted:
            started.append(_start("gsoap", [str(build_gsoap(work)), "0"], work, {}))
        yield [server for server in started if server.name in wanted]


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
    #: user + system time of the server's whole process tree during the run
    cpu_seconds: float
    #: that ÷ the requests answered (0 when none was)
    cpu_us_per_req: float
    peak_rss_mib: float
    rss_growth_mib: float
    errors: int
    detail: dict[str, int] = field(default_factory=dict)
    #: under attack: what the attacker did (bench/attack.py's AttackStats)
    attack: dict[str, int] = field(default_factory=dict)


def _wrk_command(
    server: Server, scenario: Scenario, seconds: float, run_id: int, work: Path
) -> tuple[list[str], dict[str, str]]:
    """wrk's argv and environment for ``scenario`` (its files written in ``work``)."""
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
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{scenario.connections}",
        f"-d{round(seconds)}s",
        "--timeout",
        f"{ATTACK_CALL_TIMEOUT if scenario.attack else 30}s",
        "-H",
        f'SOAPAction: "{scenario.soap_action}"',
        "-H",
        f"X-Bench-Scenario: {scenario.name}",
        "-s",
        str(BENCH / "post.lua"),
        server.url,
    ]
    return argv, env


def _wrk_result(returncode: int, out: str, err: str) -> dict[str, float]:
    if returncode != 0:
        raise SystemExit(f"bench: wrk failed:\n{out}\n{err}")
    found = re.search(r"BENCH-RESULT (\{.*\})", out)
    if not found:
        raise SystemExit(f"bench: wrk printed no result:\n{out}")
    return dict(json.loads(found.group(1)))


def _wrk(
    server: Server, scenario: Scenario, seconds: float, run_id: int, work: Path
) -> dict[str, float]:
    argv, env = _wrk_command(server, scenario, seconds, run_id, work)
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=seconds + 120)
    return _wrk_result(done.returncode, done.stdout, done.stderr)


class Beside:
    """Another wrk running ``scenario`` on the server for ``seconds``, in the background."""

    def __init__(
        self, server: Server, scenario: Scenario, seconds: float, run_id: int, work: Path
    ) -> None:
        self.seconds = seconds
        argv, env = _wrk_command(server, scenario, seconds, run_id, work)
        self.process = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def result(self) -> dict[str, float]:
        out, err = self.process.communicate(timeout=self.seconds + 120)
        return _wrk_result(self.process.returncode, out, err)


def measure(
    server: Server, scenario: Scenario, seconds: float, round_: int, run_id: int, work: Path
) -> Run:
    attacker = None
    if scenario.attack is not None:  # every slow connection open before the warm-up
        attacker = Attacker(
            server.port, scenario.attack, scenario.soap_action, limit=ATTACK_RAMP + seconds + 60
        )
        attacker.start(ramp=ATTACK_RAMP)
    beside = None
    if scenario.beside is not None:  # running through the warm-up and past the run's end
        beside = Beside(server, scenario.beside, seconds + 3, 5000 + run_id, work)
    try:
        _wrk(server, scenario, min(1.0, seconds), run_id * 2, work)  # warm up
        pids = server.pids()
        before = {pid: _status_kib(pid, "VmRSS") for pid in pids}
        for pid in pids:  # reset the peak (VmHWM) to the current RSS
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        cpu_before = _cpu_ticks(server.tree())
        if attacker is not None:
            attacker.mark()
        got = _wrk(server, scenario, seconds, run_id * 2 + 1, work)
        cpu_after = _cpu_ticks(server.tree())
        peaks = {pid: _status_kib(pid, "VmHWM") for pid in pids}
    finally:
        attack = {}
        if attacker is not None:
            attack = {**attacker.stop().as_dict(), "attack_connects_total": attacker.connects}
        beside_got = beside.result() if beside is not None else None
    requests, elapsed = int(got["requests"]), float(got["seconds"])
    errors = {k: int(got[k]) for k in ("transport_errors", "bad_status", "bad_body")}
    if beside_got is not None and scenario.beside is not None:
        for k in ("transport_errors", "bad_status", "bad_body"):
            errors[f"beside_{k}"] = int(beside_got[k])
        attack["beside_requests"] = int(beside_got["requests"])
        attack["beside_mib_per_s"] = round(
            int(beside_got["requests"])
            * scenario.beside.image_bytes
            / MIB
            / float(beside_got["seconds"])
        )
    # nothing answered in the whole run: every connection's call failed (shorter than
    # wrk's timeout, a stalled call is counted nowhere else)
    errors["unanswered"] = scenario.connections if requests == 0 else 0
    # a process that ended during the run takes its ticks with it; one born in it counts whole
    ticks = sum(t - cpu_before.get(pid, 0) for pid, t in cpu_after.items())
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
        cpu_seconds=ticks / CLOCK_TICK,
        cpu_us_per_req=ticks / CLOCK_TICK * 1e6 / requests if requests else 0.0,
        peak_rss_mib=max(peaks.values()) / 1024,
        rss_growth_mib=max(peaks[p] - before[p] for p in pids) / 1024,
        errors=sum(errors.values()),
        detail=errors,
        attack=attack,
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
    cpu_us_per_req: float
    peak_rss_mib: float
    rss_growth_mib: float
    errors: int
    vs_node: float | None
    vs_gsoap: float | None
    #: under attack: ÷ the same server's unattacked baseline scenario, same round
    vs_unattacked: float | None = None
    baseline: str | None = None
    #: under attack: medians of the attack's counts (bench/attack.py's AttackStats)
    attack: dict[str, float] = field(default_factory=dict)


def summarize(runs: list[Run], baselines: dict[str, str] | None = None) -> list[Summary]:
    """Medians per scenario and server; ``baselines``: attacked scenario -> unattacked one."""
    baselines = baselines or {}
    summaries: list[Summary] = []
    keys = list(dict.fromkeys((r.scenario, r.server) for r in runs))
    for scenario, server in keys:
        mine = [r for r in runs if (r.scenario, r.server) == (scenario, server)]

        def ratio(scenario_: str, server_: str, mine: list[Run] = mine) -> float | None:
            ratios = []
            for run in mine:
                ref = [
                    r
                    for r in runs
                    if (r.scenario, r.server, r.round) == (scenario_, server_, run.round)
                ]
                if ref and ref[0].req_per_s:
                    ratios.append(run.req_per_s / ref[0].req_per_s)
            return statistics.median(ratios) if ratios else None

        def median(name: str, mine: list[Run] = mine) -> float:
            return float(statistics.median(getattr(r, name) for r in mine))

        baseline = baselines.get(scenario)
        attack_keys = list(dict.fromkeys(k for r in mine for k in r.attack))
        summaries.append(
            Summary(
                scenario,
                server,
                median("req_per_s"),
                median("p50_ms"),
                median("p99_ms"),
                median("mib_per_s"),
                median("cpu_us_per_req"),
                median("peak_rss_mib"),
                median("rss_growth_mib"),
                sum(r.errors for r in mine),
                ratio(scenario, "node-soap"),
                ratio(scenario, "gsoap"),
                ratio(baseline, server) if baseline else None,
                baseline,
                {
                    k: float(statistics.median(r.attack.get(k, 0) for r in mine))
                    for k in attack_keys
                },
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


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def markdown(summaries: list[Summary], meta: dict[str, object]) -> str:
    lines = [
        f"Measured {meta['date']} on {meta['machine']}; {meta['rounds']} rounds of"
        f" {meta['seconds']} s per scenario and server (uploads and the attack: twice that),"
        " medians; ratios are ours ÷ the reference in the same round. Server CPU: user +"
        " system time of the server's whole process tree during the run ÷ its requests."
        " greet-under-attack: Greet while slow clients are held open against the same"
        f" server ({_attack_text(meta)}); there a call waiting over {ATTACK_CALL_TIMEOUT} s"
        f" is an error (counted again every 2 s it waits), and a run that answered nothing"
        " counts each connection's call. `make bench` to reproduce.",
        "",
        "| scenario | server | req/s | p50 ms | p99 ms | MiB/s | server CPU µs/req"
        " | peak RSS MiB | RSS growth MiB | errors | vs node-soap | vs gSOAP"
        " | vs own unloaded |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for s in summaries:
        ours = s.server in OURS
        lines.append(
            f"| {s.scenario} | {'**' + s.server + '**' if ours else s.server}"
            f" | {s.req_per_s:,.0f}"
            f" | {f'{s.p50_ms:.2f} | {s.p99_ms:.2f}' if s.req_per_s else '– | –'}"
            f" | {f'{s.mib_per_s:.0f}' if s.mib_per_s else '–'}"
            f" | {f'{s.cpu_us_per_req:,.0f}' if s.req_per_s else '–'}"
            f" | {s.peak_rss_mib:.0f} | {s.rss_growth_mib:.0f} | {s.errors}"
            f" | {_ratio(s.vs_node) if ours else ''} | {_ratio(s.vs_gsoap) if ours else ''}"
            f" | {_ratio(s.vs_unattacked) if s.baseline else ''} |"
        )
    lines += ["", *architectures(summaries)]
    lines += under_attack(summaries)
    lines += ["Targets:", ""]
    lines += [f"- {line}" for line in targets(summaries)]
    return "\n".join(lines) + "\n"


def _attack_text(meta: dict[str, object]) -> str:
    attacks = meta.get("attack") or {}
    assert isinstance(attacks, dict)
    return "; ".join(
        f"{a['slow_bodies']} slow bodies of {a['declared_length']:,} bytes at one byte and"
        f" {a['slow_headers']} slow headers at one line every {a['interval']:g} s"
        for a in attacks.values()
    )


def architectures(summaries: list[Summary]) -> list[str]:
    """Our three architectures side by side: req/s and server CPU µs/req per small scenario
    (the best of each in bold)."""
    by_key = {(s.scenario, s.server): s for s in summaries}
    small = [
        name
        for name in dict.fromkeys(s.scenario for s in summaries)
        if not name.startswith("UploadImage")
        and not any("beside_requests" in s.attack for s in summaries if s.scenario == name)
    ]
    present = [server for server in OURS if any(s.server == server for s in summaries)]
    if not small or not present:
        return []
    lines = [
        "Architectures (the same engine): req/s · server CPU µs/req",
        "",
        "| scenario | " + " | ".join(present) + " |",
        "|---|" + "--:|" * len(present),
    ]
    for name in small:
        row = [by_key[(name, server)] for server in present if (name, server) in by_key]
        if len(row) != len(present):
            continue
        fastest = max(s.req_per_s for s in row)
        cheapest = min((s.cpu_us_per_req for s in row if s.req_per_s), default=None)
        cells = []
        for s in row:
            rate = f"{s.req_per_s:,.0f}"
            cpu = f"{s.cpu_us_per_req:,.0f} µs" if s.req_per_s else "– µs"
            cells.append(
                f"{'**' + rate + '**' if s.req_per_s == fastest else rate}"
                f" · {'**' + cpu + '**' if s.req_per_s and s.cpu_us_per_req == cheapest else cpu}"
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def under_attack(summaries: list[Summary]) -> list[str]:
    """What the attacker saw of each server: how many slow connections it held open, and
    how many the server ended (closed, or answered with an error)."""
    attacked = [s for s in summaries if "attack_open_mean" in s.attack]
    lines = beside_load(summaries)
    if not attacked:
        return lines
    lines += [
        "Under attack (per run, medians): slow connections held open by the attacker"
        " (mean, min) and ended by the server during the measured run:",
        "",
    ]
    for s in attacked:
        a = s.attack
        lines.append(
            f"- {s.scenario}, {s.server}: held {a.get('attack_open_mean', 0):.0f}"
            f" (min {a.get('attack_open_min', 0):.0f}), ended by the server"
            f" {a.get('attack_ended_by_server', 0):.0f}"
            f" ({a.get('attack_answered', 0):.0f} with an answer);"
            f" p99 {f'{s.p99_ms:.2f} ms' if s.req_per_s else '–'}, {s.errors} errors,"
            f" {_ratio(s.vs_unattacked)} its {s.baseline} req/s"
        )
    return [*lines, ""]


def beside_load(summaries: list[Summary]) -> list[str]:
    """Small requests while large uploads run on the same server: their latency, and
    what the uploads got done meanwhile."""
    loaded = [s for s in summaries if "beside_requests" in s.attack]
    if not loaded:
        return []
    lines = [
        "Beside uploads (per run, medians): small requests while 4 connections upload"
        " 10 MiB images to the same server (server CPU there counts the uploads too):",
        "",
    ]
    for s in loaded:
        lines.append(
            f"- {s.scenario}, {s.server}: p50 {s.p50_ms:.2f} ms, p99 {s.p99_ms:.2f} ms,"
            f" {_ratio(s.vs_unattacked)} its {s.baseline} req/s, {s.errors} errors;"
            f" uploads meanwhile {s.attack.get('beside_mib_per_s', 0):.0f} MiB/s"
        )
    return [*lines, ""]


def targets(summaries: list[Summary]) -> list[str]:
    ours = {s.scenario: s for s in summaries if s.server == "soap-service"}
    out: list[str] = []

    def check(ok: bool, text: str) -> None:
        out.append(f"{'met' if ok else '**missed**'}: {text}")

    for name, s in ours.items():
        beside = "beside_requests" in s.attack
        if s.scenario.startswith(("Greet", "EchoPerson", "GetTime")) and not beside:
            node, gsoap = s.vs_node or 0, s.vs_gsoap or 0
            check(node >= 1.0, f"{name}: {node:.2f}× node-soap req/s (≥ 1.0×)")
            check(gsoap >= 0.5, f"{name}: {gsoap:.2f}× gSOAP req/s (≥ 0.5×)")
            if name.endswith("c=64"):
                check(s.p99_ms < 10, f"{name}: p99 {s.p99_ms:.2f} ms (< 10 ms)")
        if s.baseline and beside:
            out.append(f"reported: {name}: p99 {s.p99_ms:.2f} ms, {s.errors} failed calls")
        elif s.baseline:
            unattacked = s.vs_unattacked or 0
            check(s.errors == 0, f"{name}: {s.errors} failed calls (none)")
            check(
                unattacked >= 0.8,
                f"{name}: {unattacked:.2f}× its own unattacked {s.baseline} req/s (≥ 0.8×)",
            )
        if name == "UploadImage 10 MiB":
            node = s.vs_node or 0
            check(node >= 1.0, f"{name}: {node:.2f}× node-soap MiB/s (≥ 1.0×)")
            growth = s.rss_growth_mib / 10
            check(growth <= 4, f"{name}: worker RSS growth {growth:.1f}× the payload (≤ 4×)")
    return out


def failures(runs: list[Run], found: list[Scenario]) -> int:
    """The calls that make the benchmark fail: every error outside an attack, and under
    attack every error of what ``serve`` runs (``MUST_SURVIVE``); the other servers'
    failures under attack are what the scenario measures."""
    attacked = {s.name for s in found if s.attack is not None}
    return sum(r.errors for r in runs if r.server in MUST_SURVIVE or r.scenario not in attacked)


def keep_log(source: Path, kept: Path) -> None:
    """A server's log without its access lines (millions of them), which are counted by
    status and fault code at the end instead."""
    statuses: dict[str, int] = {}
    with source.open("rb") as lines, kept.open("wb") as out:
        for line in lines:
            if b" soap_service.access " in line:
                status = re.search(rb" status=(\d+)", line)
                fault = re.search(rb" fault=(\S+)", line)
                key = (status.group(1).decode() if status else "?") + (
                    f" {fault.group(1).decode()}" if fault and fault.group(1) != b"-" else ""
                )
                statuses[key] = statuses.get(key, 0) + 1
            else:
                out.write(line)
        if statuses:
            counts = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))
            out.write(f"bench: access lines by status (and fault): {counts}\n".encode())


def rewrite(output: Path, readme: bool) -> int:
    """The report of a run already made (``results.json``), written again: after a change
    to how it is written, or to the targets."""
    results = json.loads((output / "results.json").read_text())
    summaries = [Summary(**row) for row in results["summary"]]
    table = markdown(summaries, results["meta"])
    (output / "results.md").write_text(table)
    print(table)
    if readme:
        update_readme(table)
    return 0


def update_readme(table: str) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    start, end = text.index(README_START), text.index(README_END)
    readme.write_text(text[: start + len(README_START)] + "\n" + table + text[end:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="per run (uploads and the attack: double)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one small scenario, a small attack on it, one upload scenario, and the small"
        " one beside uploads",
    )
    parser.add_argument("--readme", action="store_true", help="put the table in README.md")
    parser.add_argument(
        "--rewrite",
        action="store_true",
        help="measure nothing: write the report again from OUTPUT/results.json",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where results go")
    parser.add_argument(
        "--scenario",
        action="append",
        metavar="NAME",
        help="measure only this scenario (repeatable), e.g. 'UploadImage 10 MiB'",
    )
    parser.add_argument(
        "--server",
        action="append",
        choices=SERVERS,
        help="run only this server (repeatable); ratios need node-soap or gsoap beside ours",
    )
    args = parser.parse_args(argv)
    if args.readme and (args.scenario or args.server):
        parser.error("--readme takes the whole benchmark: no --scenario or --server")
    output: Path = args.output
    if shutil.which("wrk") is None:
        raise SystemExit("bench: wrk is missing; run `make bench` (it installs it)")
    missing = [m for m in ("uvicorn", "uvloop", "httptools") if importlib.util.find_spec(m) is None]
    if missing:
        raise SystemExit(
            f"bench: {', '.join(missing)} missing; run `make bench` (bench/install-deps.sh"
            " installs the project's bench extra)"
        )
    if args.rewrite:
        return rewrite(output, args.readme)
    found = scenarios(args.quick)
    if args.scenario:
        unknown = set(args.scenario) - {s.name for s in found}
        if unknown:
            parser.error(
                f"no scenario {', '.join(sorted(unknown))}; there are: "
                + ", ".join(s.name for s in found)
            )
        found = [s for s in found if s.name in args.scenario]
    runs: list[Run] = []
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="soap-bench-") as tmp:
        work = Path(tmp)
        with servers(work, found, args.server or SERVERS) as started:
            run_id = 0
            for scenario in found:
                long = scenario.parts or scenario.attack or scenario.beside
                seconds = args.seconds * (2 if long else 1)
                for round_ in range(1, args.rounds + 1):
                    for server in started:
                        run_id += 1
                        run = measure(server, scenario, seconds, round_, run_id, work)
                        runs.append(run)
                        held = (
                            f"  held {run.attack['attack_open_mean']}"
                            f" ended {run.attack['attack_ended_by_server']}"
                            if "attack_open_mean" in run.attack
                            else f"  beside {run.attack['beside_mib_per_s']} MiB/s"
                            if "beside_requests" in run.attack
                            else ""
                        )
                        print(
                            f"{scenario.name:<20} {server.name:<17} round {round_}:"
                            f" {run.req_per_s:9,.0f} req/s  p99 {run.p99_ms:6.2f} ms"
                            f"  cpu {run.cpu_us_per_req:5.0f} µs/req"
                            f"  peak {run.peak_rss_mib:5.0f} MiB (+{run.rss_growth_mib:.0f})"
                            f"  errors {run.errors}{held}",
                            flush=True,
                        )
        logs = output / "logs"  # the servers' own output, kept for reading afterwards
        shutil.rmtree(logs, ignore_errors=True)
        logs.mkdir()
        for log in work.glob("*.log"):
            keep_log(log, logs / log.name)
    summaries = summarize(runs, {s.name: s.baseline for s in found if s.baseline})
    meta = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "rounds": args.rounds,
        "seconds": args.seconds,
        "workers": WORKERS,
        "threads": THREADS,
        "attack": {s.name: asdict(s.attack) for s in found if s.attack is not None},
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
    for log in sorted((output / "logs").glob("*.log")):
        if "Traceback" in log.read_text(errors="replace"):
            print(f"bench: a traceback in {log}", file=sys.stderr)
    errors = failures(runs, found)
    if errors:
        print(f"bench: {errors} wrong or failed responses", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
