"""The access log: one line per request, formatted here and written with write(2).

In the serving core (``service.rsgi``) the lines of the requests answered in one
turn of the event loop are written together (``AccessLog.batch_on``).

The logging module's record machinery (a LogRecord, a Formatter, the handler's
lock and flush) cost more per line than the rest of a small SOAP call, measured
under load (``make bench``). Access lines keep the format of every other line
(``%(asctime)s %(levelname)s %(name)s %(message)s``) and go where the service's
own handler goes (stderr), only while ``soap_service.access`` is enabled for
INFO. A handler added to that logger (by an embedding application, or a test)
gets the lines as ordinary records instead.

With ``log_format=json`` every line, access lines and the service's other
records alike, is one JSON object: ``time``, ``level``, ``logger``, then the
access fields or ``message``; records logged while a request is being handled
carry its ``request_id`` (:data:`request_id`).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime

logger = logging.getLogger("soap_service.access")

#: The id of the request being handled by this thread, for log records.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

Fields = Sequence[tuple[str, str | int | float]]


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, request_id, message."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, object] = {
            "time": _iso(record.created),
            "level": record.levelname,
            "logger": record.name,
        }
        current = request_id.get()
        if current is not None:
            document["request_id"] = current
        document["message"] = record.getMessage()
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=False)


class AccessLog:
    def __init__(self) -> None:
        self._second = -1
        self._stamp = ""
        self.json = False
        #: lines written on the event loop's thread wait here for the loop's next turn
        self._pending: list[bytes] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = -1

    def batch_on(self, loop: asyncio.AbstractEventLoop) -> None:
        """Lines written on ``loop``'s thread (by the caller, which must be that thread)
        are gathered and written together once the loop has run what is ready: one
        write(2) for all the requests answered in one turn of the loop, instead of one
        each (each write lets granian's own thread take the GIL; measured in
        ``make bench``). A line waits at most for the rest of that turn. Lines
        written on any other thread are written at once, as before."""
        self._loop = loop
        self._loop_thread = threading.get_ident()

    def flush(self) -> None:
        """Writes every gathered line now."""
        if self._pending:
            lines, self._pending = b"".join(self._pending), []
            _write_all(lines)

    def _asctime(self, now: float) -> str:
        second = int(now)
        if second != self._second:  # one strftime a second
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
            self._second = second
        return f"{self._stamp},{int(now * 1000) % 1000:03d}"

    def write(self, fields: Fields) -> None:
        """``key=value`` pairs in order (a JSON object with ``log_format=json``)."""
        if not logger.isEnabledFor(logging.INFO):
            return
        if logger.handlers:
            logger.info("%s", " ".join(f"{k}={v}" for k, v in fields))
            return
        now = time.time()
        if self.json:
            document = {"time": _iso(now), "level": "INFO", "logger": logger.name, **dict(fields)}
            line = (json.dumps(document, ensure_ascii=False) + "\n").encode()
        else:
            message = " ".join([f"{k}={v}" for k, v in fields])
            line = f"{self._asctime(now)} INFO {logger.name} {message}\n".encode()
        if self._loop is not None and threading.get_ident() == self._loop_thread:
            if not self._pending:
                self._loop.call_soon(self.flush)
            self._pending.append(line)
            return
        _write_all(line)


def _write_all(data: bytes) -> None:
    fd = sys.stderr.fileno()
    while data:
        data = data[os.write(fd, data) :]


access_log = AccessLog()
