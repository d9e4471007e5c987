"""``make bench-engine``: µs per SOAP call through the whole WSGI application, in process.

No network and no server: each call is ``app(environ, start_response)`` with an
environ built here (the request's bytes in ``wsgi.input``) and the answer's body
consumed, so what is measured is the engine alone: the HTTP rules, the parser,
the dispatcher, the operation and the serializer, the access log's bookkeeping.

Three operations on the SOAP 1.1 port, each as a toolkit sends it (zeep's
envelope, ``Content-Type: text/xml; charset=utf-8``, a quoted SOAPAction):
Greet, EchoPerson and GetTime. Every answer must be 200 and hold the expected
result; a wrong answer fails the run (the first one of each operation is also
parsed and its envelope checked).

Per operation: the median, over ``--rounds`` rounds, of the time of ``--calls``
calls, after ``--warmup`` calls. Beside it, a calibration measured in the same
rounds: a pure-Python loop of 1M multiply-adds (its seconds are printed), and
each operation's time in iterations of that loop (µs/call ÷ calibration s), so
figures from different machines or loads can be compared.

``--ref REV`` (repeatable) measures the application as it is at git revision
REV in the same run: a temporary ``git worktree`` of REV, the same measurement
code in a subprocess whose ``cwd`` and ``PYTHONPATH`` are that worktree (this
venv's python). The current tree runs in a subprocess too, the same way. The
revisions are interleaved finely: in each round, each operation's batch of calls
runs in every revision one right after the other (who goes first rotates), so
background load hits every revision alike; the ratio current/REV is the median
of the ratios of those adjacent batches. Many short rounds (default 25 of 300
calls) rather than a few long ones: on a shared machine the load changes within
a second.

Only ``service.app`` and ``service.config`` are imported from the service, the
two modules every revision has (the rest was reorganised into subpackages), and
the envelopes are written out here as the wire carries them. The service's own
log is set to WARNING (``Settings(log_level="WARNING")`` through ``create_app``,
as a deployment would), so the access line is never written, in any revision:
each worker reports that ``soap_service.access`` is off, and the run checks that
nothing reached a worker's stderr during the timed rounds.

Prints a Markdown table; ``--json PATH`` writes every figure, round by round.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

ROOT: Final = Path(__file__).resolve().parent.parent
SOAP11: Final = "http://schemas.xmlsoap.org/soap/envelope/"
#: The contract's namespace, as the recorded requests below carry it on the wire.
TNS: Final = "urn:soap-service:v1"
CURRENT: Final = "current"


class WrongAnswer(AssertionError):
    """The application answered a call with something other than the expected result."""


@dataclass(frozen=True)
class Operation:
    name: str
    envelope: bytes
    #: What the answer's body must contain (searched in every answer).
    expected: re.Pattern[bytes]
    #: The SOAPAction header, as sent (quoted); default: the contract's action.
    action: str = ""

    @property
    def soap_action(self) -> str:
        return self.action or f'"{TNS}/{self.name}"'


def zeep_envelope(operation_xml: str) -> bytes:
    """A SOAP 1.1 request as zeep writes it (the declaration, ``soap-env``, ``ns0``)."""
    return (
        "<?xml version='1.0' encoding='utf-8'?>\n"
        f'<soap-env:Envelope xmlns:soap-env="{SOAP11}"><soap-env:Body>{operation_xml}'
        "</soap-env:Body></soap-env:Envelope>"
    ).encode()


OPERATIONS: Final = (
    Operation(
        "Greet",
        zeep_envelope(f'<ns0:Greet xmlns:ns0="{TNS}"><ns0:name>Ada</ns0:name></ns0:Greet>'),
        re.compile(rb"<(?:\w+:)?GreetResult>Hello, Ada!</"),
    ),
    Operation(
        "EchoPerson",
        zeep_envelope(
            f'<ns0:EchoPerson xmlns:ns0="{TNS}"><ns0:person><ns0:first_name>Ada</ns0:first_name>'
            "<ns0:last_name>Lovelace</ns0:last_name><ns0:age>36</ns0:age></ns0:person>"
            "</ns0:EchoPerson>"
        ),
        re.compile(
            rb"<(?:\w+:)?first_name>Ada</(?:\w+:)?first_name>"
            rb"<(?:\w+:)?last_name>Lovelace</(?:\w+:)?last_name><(?:\w+:)?age>36</"
        ),
    ),
    Operation(
        "GetTime",
        zeep_envelope(
            f'<ns0:GetTime xmlns:ns0="{TNS}"><ns0:timezone>Europe/Paris</ns0:timezone>'
            "</ns0:GetTime>"
        ),
        re.compile(
            rb"<(?:\w+:)?utc>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z</(?:\w+:)?utc>"
            rb"<(?:\w+:)?local>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?[+-]\d\d:\d\d</"
            rb"(?:\w+:)?local><(?:\w+:)?timezone>Europe/Paris</"
        ),
    ),
)

#: What granian puts in a request's environ besides the request itself (a zeep client).
_ENVIRON: Final = {
    "REQUEST_METHOD": "POST",
    "SCRIPT_NAME": "",
    "PATH_INFO": "/soap",
    "QUERY_STRING": "",
    "SERVER_NAME": "127.0.0.1",
    "SERVER_PORT": "8000",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "REMOTE_ADDR": "127.0.0.1",
    "REMOTE_PORT": "50000",
    "CONTENT_TYPE": "text/xml; charset=utf-8",
    "HTTP_HOST": "127.0.0.1:8000",
    "HTTP_USER_AGENT": "Zeep/4.3.1 (www.python-zeep.org)",
    "HTTP_ACCEPT_ENCODING": "gzip, deflate",
    "HTTP_ACCEPT": "*/*",
    "HTTP_CONNECTION": "keep-alive",
    "wsgi.url_scheme": "http",
    "wsgi.version": (1, 0),
    "wsgi.multithread": False,
    "wsgi.multiprocess": True,
    "wsgi.run_once": False,
}


class Engine:
    """Calls one WSGI application the way a server would, and checks each answer."""

    def __init__(self, app: Callable[..., Iterable[bytes]], operations: Sequence[Operation]):
        self.app = app
        self.operations = {op.name: op for op in operations}
        self._environs = {
            op.name: {
                **_ENVIRON,
                "CONTENT_LENGTH": str(len(op.envelope)),
                "HTTP_SOAPACTION": op.soap_action,
                "wsgi.errors": sys.stderr,
            }
            for op in operations
        }

    def call(self, name: str) -> bytes:
        """One call of operation ``name``; its body, or WrongAnswer."""
        op = self.operations[name]
        environ = dict(self._environs[name])
        environ["wsgi.input"] = io.BytesIO(op.envelope)
        statuses: list[str] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            statuses.append(status)

        answer = self.app(environ, start_response)
        body = b"".join(answer)
        close = getattr(answer, "close", None)
        if close is not None:
            close()
        if statuses != ["200 OK"] or op.expected.search(body) is None:
            raise WrongAnswer(f"{name}: {statuses} {body[:600]!r}")
        return body

    def check(self, name: str) -> None:
        """One call, and its answer parsed: an envelope whose Body holds ``<name>Response``."""
        from lxml import etree

        root = etree.fromstring(self.call(name))
        body = root.find(f"{{{SOAP11}}}Body")
        if (
            root.tag != f"{{{SOAP11}}}Envelope"
            or body is None
            or len(body) != 1
            or body[0].tag != f"{{{TNS}}}{name}Response"
        ):
            raise WrongAnswer(f"{name}: {etree.tostring(root)[:600]!r}")

    def warm_up(self, calls: int) -> None:
        for name in self.operations:
            self.check(name)
            for _ in range(calls):
                self.call(name)

    def time(self, name: str, calls: int) -> float:
        """Seconds for ``calls`` calls of ``name`` (a collection first, none forced during)."""
        call = self.call
        gc.collect()
        started = time.perf_counter()
        for _ in range(calls):
            call(name)
        return time.perf_counter() - started

    def round(self, calls: int) -> dict[str, float]:
        return {name: self.time(name, calls) for name in self.operations}


@contextmanager
def engine(
    operations: Sequence[Operation] = OPERATIONS, *, configure_logging: bool = True
) -> Iterator[Engine]:
    """The application of the tree ``service`` is imported from, on a fresh data directory.

    ``configure_logging``: through ``create_app`` (the service's log at WARNING on its own
    handler, as ``serve`` sets it up); False leaves the process's logging as it is (tests)."""
    from service.app import SoapApplication, create_app
    from service.config import Settings

    with tempfile.TemporaryDirectory(prefix="soap-engine-") as folder:
        settings = Settings(data_dir=Path(folder), log_level="WARNING")
        app = create_app(settings) if configure_logging else SoapApplication(settings)
        try:
            yield Engine(app, operations)
        finally:
            app.close()


def calibrate() -> float:
    """Seconds for a pure-Python loop of 1M multiply-adds."""
    started = time.perf_counter()
    x = 0.0
    for i in range(1_000_000):
        x = x * 1.0000001 + i
    return time.perf_counter() - started


# --- a worker: one revision's application, driven over a pipe ---


def _worker(warmup: int) -> int:
    """Serve the parent on stdin/stdout (one JSON object a line) until stdin closes."""
    import logging

    import service.app

    # the replies go on a private copy of stdout; anything else printed goes to stderr
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    try:
        with engine() as bench:
            bench.warm_up(warmup)
            access = logging.getLogger("soap_service.access").isEnabledFor(logging.INFO)
            names = list(bench.operations)
            _reply(replies, service=service.app.__file__, access_log=access, operations=names)
            for line in sys.stdin:
                asked = json.loads(line)
                _reply(replies, seconds=bench.time(asked["operation"], asked["calls"]))
    except WrongAnswer as wrong:
        _reply(replies, error=str(wrong))
        return 1
    return 0


def _reply(stream: IO[str], **fields: Any) -> None:
    stream.write(json.dumps(fields) + "\n")


#: Runs this file in a worker: from the revision's tree (cwd), so ``service`` is its own.
_BOOT: Final = (
    "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


@dataclass
class Worker:
    label: str
    commit: str
    tree: Path
    process: subprocess.Popen[str]
    stderr: IO[bytes]
    info: dict[str, Any] = field(default_factory=dict)
    rounds: list[dict[str, float]] = field(default_factory=list)
    quiet_from: int = 0

    @classmethod
    def start(cls, label: str, commit: str, tree: Path, warmup: int) -> Worker:
        env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
        stderr = tempfile.TemporaryFile()
        process = subprocess.Popen(
            [sys.executable, "-c", _BOOT, str(Path(__file__).resolve()), "--worker"]
            + ["--warmup", str(warmup)],
            cwd=tree,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        return cls(label, commit, tree, process, stderr)

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait()
            self.stderr.seek(0)
            tail = self.stderr.read().decode(errors="replace")[-3000:]
            raise SystemExit(f"bench.engine: the {self.label} worker died:\n{tail}")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise SystemExit(f"bench.engine: wrong answer from {self.label}: {reply['error']}")
        return reply

    def ready(self) -> None:
        self.info = self._read()
        service = Path(self.info["service"]).resolve()
        if not service.is_relative_to(self.tree.resolve()):
            raise SystemExit(f"bench.engine: {self.label} imported {service}, not {self.tree}")
        if self.info["access_log"]:
            raise SystemExit(f"bench.engine: {self.label} has its access log on")
        self.quiet_from = self.stderr.tell()

    def time(self, operation: str, calls: int) -> float:
        """Seconds for ``calls`` calls of ``operation`` in this worker."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"operation": operation, "calls": calls}) + "\n")
        self.process.stdin.flush()
        seconds: float = self._read()["seconds"]
        return seconds

    def stop(self) -> bytes:
        """Ends the worker; returns what it wrote on stderr during the timed rounds."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.stderr.seek(self.quiet_from)
        written = self.stderr.read()
        self.stderr.close()
        return written


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()


@contextmanager
def worktree(rev: str) -> Iterator[tuple[str, Path]]:
    """A detached worktree of ``rev`` in a temporary directory (removed afterwards)."""
    try:
        commit = _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except subprocess.CalledProcessError:
        raise SystemExit(f"bench.engine: --ref {rev}: no such commit here") from None
    parent = Path(tempfile.mkdtemp(prefix="soap-engine-ref-"))
    tree = parent / commit[:12]
    _git("worktree", "add", "--detach", "--quiet", str(tree), commit)
    try:
        yield commit, tree
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True
        )
        shutil.rmtree(parent, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True)


# --- the report ---


def _median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def summarize(
    workers: Sequence[Worker], calibrations: Sequence[float], calls: int
) -> dict[str, Any]:
    current = workers[0]
    names = list(current.rounds[0])
    revisions: dict[str, Any] = {}
    for worker in workers:
        per_call = {
            name: [r[name] / calls * 1e6 for r in worker.rounds] for name in names
        }  # µs, round by round
        revisions[worker.label] = {
            "commit": worker.commit,
            "tree": str(worker.tree),
            "service": worker.info["service"],
            "us_per_call": {name: _median(values) for name, values in per_call.items()},
            # µs/call ÷ calibration s: the call's cost in iterations of the calibration loop
            "calibration_iterations": {
                name: _median(us / cal for us, cal in zip(values, calibrations, strict=True))
                for name, values in per_call.items()
            },
            "rounds_us_per_call": per_call,
        }
    ratios: dict[str, Any] = {}
    for worker in workers[1:]:
        ratios[worker.label] = {
            name: sorted(
                mine[name] / theirs[name]
                for mine, theirs in zip(current.rounds, worker.rounds, strict=True)
            )
            for name in names
        }
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": {
            "nproc": os.cpu_count(),
            "loadavg": os.getloadavg(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
        },
        "calls": calls,
        "rounds": len(calibrations),
        "operations": names,
        "calibration_seconds": _median(calibrations),
        "rounds_calibration_seconds": list(calibrations),
        "revisions": revisions,
        "ratios_current_over": {
            label: {name: _median(values) for name, values in per.items()}
            for label, per in ratios.items()
        },
        "rounds_ratios_current_over": ratios,
    }


def table(summary: dict[str, Any]) -> str:
    labels = list(summary["revisions"])
    refs = labels[1:]
    head = ["operation"]
    for label in labels:
        head += [f"{label} µs/call", f"{label} cal-iters"]
    head += [f"current/{label}" for label in refs]
    rows = [head, ["---"] + ["---:"] * (len(head) - 1)]
    for name in summary["operations"]:
        row = [name]
        for label in labels:
            rev = summary["revisions"][label]
            row += [f"{rev['us_per_call'][name]:.1f}", f"{rev['calibration_iterations'][name]:.0f}"]
        for label in refs:
            within = summary["rounds_ratios_current_over"][label][name]
            median = summary["ratios_current_over"][label][name]
            if len(within) > 1:
                low, _, high = statistics.quantiles(within, n=4, method="inclusive")
                row.append(f"{median:.3f} ({low:.3f}–{high:.3f})")
            else:
                row.append(f"{median:.3f}")
        rows.append(row)
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    machine = summary["machine"]
    revisions = ", ".join(
        f"{label} = {rev['commit'][:10]}" for label, rev in summary["revisions"].items()
    )
    lines += [
        "",
        f"calibration: 1M multiply-adds in {summary['calibration_seconds']:.4f} s (median of"
        f" {summary['rounds']} rounds); cal-iters = µs/call ÷ calibration s, the call's cost in"
        " iterations of that loop.",
        f"{summary['rounds']} rounds of {summary['calls']} calls per operation, median;"
        " current/ref: median of the ratios within each round (their quartiles).",
        f"{revisions}; {summary['date']}, nproc {machine['nproc']}, load"
        f" {machine['loadavg'][0]:.2f}, Python {machine['python']}.",
    ]
    return "\n".join(lines)


def _revision_of_tree() -> str:
    head = _git("rev-parse", "HEAD")
    dirty = _git("status", "--porcelain", "--", "service")
    return head + (" + uncommitted service/ changes" if dirty else "")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engine", description=__doc__)
    parser.add_argument("--ref", action="append", default=[], metavar="GITREV")
    parser.add_argument("--calls", type=int, default=300, help="calls per operation per round")
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--warmup", type=int, default=200, help="calls per operation first")
    parser.add_argument("--json", type=Path, metavar="PATH")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(args.warmup)

    with ExitStack() as stack:
        trees = [(CURRENT, _revision_of_tree(), ROOT)]
        for rev in args.ref:
            commit, tree = stack.enter_context(worktree(rev))
            label = rev if rev not in [CURRENT, *(t[0] for t in trees)] else commit[:12]
            trees.append((label, commit, tree))
        workers = [Worker.start(*tree, warmup=args.warmup) for tree in trees]
        stopped: dict[str, bytes] = {}
        try:
            for worker in workers:
                worker.ready()
            calibrations = []
            for number in range(args.rounds):
                calibrations.append(calibrate())
                turn = number % len(workers)  # who goes first rotates
                for worker in workers:
                    worker.rounds.append({})
                for name in workers[0].info["operations"]:  # each operation's revisions in a row
                    for worker in workers[turn:] + workers[:turn]:
                        worker.rounds[-1][name] = worker.time(name, args.calls)
                print(f"round {number + 1}/{args.rounds} done", file=sys.stderr)
        finally:
            for worker in workers:
                stopped[worker.label] = worker.stop()
        for label, written in stopped.items():
            if written:
                raise SystemExit(
                    f"bench.engine: the {label} worker wrote to stderr while timed:\n"
                    + written.decode(errors="replace")[:2000]
                )
        summary = summarize(workers, calibrations, args.calls)
    print(table(summary))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
