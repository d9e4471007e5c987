"""Request metrics in the Prometheus text format, summed over every worker process.

granian runs several worker processes, and a scrape of ``/metrics`` reaches
one of them. So each worker counts into a small file of its own (a fixed
array of float64 slots, ``mmap``'d: an update is a store into memory, no
syscall), and the worker that answers a scrape adds up every worker's file.
A worker that dies leaves its file, so totals never go backwards while the
server runs. ``serve`` gives the workers a fresh directory; an application
built without one (in-process, in tests) counts in memory.

Series, per port (``/soap``, ``/soap12``, ``/http``, ``/images``, ``-``)
and operation:

- ``soap_service_requests_total``
- ``soap_service_request_duration_seconds`` (a histogram)
- ``soap_service_faults_total``, also by fault code (``Client.Validation``,
  ``wsse:FailedAuthentication``, ...; ``HTTP.<status>`` for an error answer
  that is not a SOAP fault, such as a 404 from ``/images``).

The slot layout is computed from the operations and codes, identically in
every worker; its fingerprint is in the file names, so files of another
layout (an older release in a reused directory) are never mixed in.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import threading
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

from service.faults import ServiceFault

BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PORTS: Final = ("/soap", "/soap12", "/http", "/images", "-")
#: Error answers that are not SOAP faults (downloads, unknown paths, readiness).
HTTP_CODES: Final = tuple(f"HTTP.{s}" for s in (400, 401, 404, 405, 413, 415, 416, 500, 503))
OTHER: Final = "-"
CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
_SUFFIX: Final = ".metrics"

# A series' slots: requests, sum of seconds, then one count per bucket and +Inf
_REQUESTS: Final = 0
_SUM: Final = 1
_FIRST_BUCKET: Final = 2
_SERIES_SLOTS: Final = _FIRST_BUCKET + len(BUCKETS) + 1


def fault_codes() -> tuple[str, ...]:
    """Every code of the fault tree, in a stable order."""
    codes: set[str] = set()
    pending: list[type[ServiceFault]] = [ServiceFault]
    while pending:
        cls = pending.pop()
        codes.add(cls.code)
        pending.extend(cls.__subclasses__())
    return (*sorted(codes), *HTTP_CODES)


class Layout:
    """Where each counter lives in a worker's array."""

    def __init__(self, operations: Sequence[str], codes: Sequence[str]) -> None:
        self.operations = (*operations, OTHER)
        self.known_operations = frozenset(self.operations)
        self.codes = (*codes, OTHER)
        pairs = [(port, op) for port in PORTS for op in self.operations]
        self.series = {pair: i * _SERIES_SLOTS for i, pair in enumerate(pairs)}
        base = len(pairs) * _SERIES_SLOTS
        self.faults = {
            (port, op, code): base + i
            for i, (port, op, code) in enumerate(
                (port, op, code) for port, op in pairs for code in self.codes
            )
        }
        self.size = base + len(self.faults)
        shape = repr((BUCKETS, PORTS, self.operations, self.codes)).encode()
        self.fingerprint = hashlib.sha256(shape).hexdigest()[:12]


class Metrics:
    def __init__(
        self, operations: Sequence[str], directory: Path | None = None, pid: int | None = None
    ) -> None:
        self.layout = Layout(operations, fault_codes())
        self.directory = directory
        self._lock = threading.Lock()
        nbytes = self.layout.size * 8
        if directory is None:
            self._buffer: bytearray | mmap.mmap = bytearray(nbytes)
        else:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / f"{self.layout.fingerprint}-{pid or os.getpid()}{_SUFFIX}"
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.ftruncate(fd, nbytes)
                self._buffer = mmap.mmap(fd, nbytes)
            finally:
                os.close(fd)
        self._slots = memoryview(self._buffer).cast("d")
        #: (port, operation) as the application names them, operation None included:
        #: the series' first slot, and its fault slots by code
        self._series = {
            (port, operation): self._slots_of(port, operation)
            for port in PORTS
            for operation in (*self.layout.operations, None)
        }

    def _slots_of(self, port: str, operation: str | None) -> tuple[int, dict[str, int]]:
        layout = self.layout
        op = operation if operation in layout.known_operations else OTHER
        port = port if port in PORTS else OTHER
        faults = {code: layout.faults[(port, op, code)] for code in layout.codes}
        return layout.series[(port, op)], faults

    def observe(self, port: str, operation: str | None, code: str | None, seconds: float) -> None:
        series = self._series.get((port, operation))
        base, faults = series if series is not None else self._slots_of(port, operation)
        bucket = base + _FIRST_BUCKET + bisect_left(BUCKETS, seconds)
        slots = self._slots
        with self._lock:
            slots[base + _REQUESTS] += 1
            slots[base + _SUM] += seconds
            slots[bucket] += 1
            if code is not None:
                index = faults.get(code)
                slots[faults[OTHER] if index is None else index] += 1

    def totals(self) -> list[float]:
        """Every worker's counters added up (just this one's without a directory)."""
        if self.directory is None:
            return list(self._slots)
        summed = [0.0] * self.layout.size
        for path in self.directory.glob(f"{self.layout.fingerprint}-*{_SUFFIX}"):
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            if len(data) != self.layout.size * 8:
                continue
            for i, value in enumerate(memoryview(data).cast("d")):
                summed[i] += value
        return summed

    def render(self) -> bytes:
        return "".join(_lines(self.layout, self.totals())).encode()

    def close(self) -> None:
        self._slots.release()
        if isinstance(self._buffer, mmap.mmap):
            self._buffer.close()


def _labels(**pairs: str) -> str:
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in pairs.items())
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _lines(layout: Layout, slots: Sequence[float]) -> Iterable[str]:
    used = [(pair, base) for pair, base in layout.series.items() if slots[base + _REQUESTS]]
    yield "# HELP soap_service_requests_total Requests answered, by port and operation.\n"
    yield "# TYPE soap_service_requests_total counter\n"
    for (port, op), base in used:
        yield f"soap_service_requests_total{_labels(port=port, operation=op)} "
        yield f"{_number(slots[base + _REQUESTS])}\n"
    yield "# HELP soap_service_faults_total Faults and error answers, by port, operation and code.\n"
    yield "# TYPE soap_service_faults_total counter\n"
    for (port, op, code), index in layout.faults.items():
        if slots[index]:
            yield f"soap_service_faults_total{_labels(port=port, operation=op, code=code)} "
            yield f"{_number(slots[index])}\n"
    name = "soap_service_request_duration_seconds"
    yield f"# HELP {name} Time from the request's arrival to its answer.\n"
    yield f"# TYPE {name} histogram\n"
    for (port, op), base in used:
        cumulative = 0.0
        for i, bound in enumerate((*BUCKETS, float("inf"))):
            cumulative += slots[base + _FIRST_BUCKET + i]
            le = "+Inf" if bound == float("inf") else repr(bound)
            yield f"{name}_bucket{_labels(port=port, operation=op, le=le)} {_number(cumulative)}\n"
        yield f"{name}_sum{_labels(port=port, operation=op)} {slots[base + _SUM]!r}\n"
        yield f"{name}_count{_labels(port=port, operation=op)} "
        yield f"{_number(slots[base + _REQUESTS])}\n"


def clear(directory: Path) -> None:
    """Forget the counts of an earlier run in ``directory`` (before workers start)."""
    for path in directory.glob(f"*{_SUFFIX}"):
        path.unlink(missing_ok=True)
