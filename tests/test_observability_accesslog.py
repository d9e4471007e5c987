"""The access log's batching on the serving core's event loop (``AccessLog.batch_on``).

The live tests (``test_observability_live.py``) read every access line from the
real server; here, in process: how many write(2) calls the lines take.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator

import pytest

from service.observability import accesslog
from service.observability.accesslog import AccessLog


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bytes]]:
    """Every write(2) of an access line, in order (the bytes are kept, not written)."""
    written: list[bytes] = []

    def write(fd: int, data: bytes) -> int:
        written.append(bytes(data))
        return len(data)

    logger = accesslog.logger
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "disabled", False)
    level = logger.level
    logger.setLevel(logging.INFO)
    monkeypatch.setattr(accesslog.os, "write", write)
    try:
        yield written
    finally:
        logger.setLevel(level)


def _line(n: int) -> tuple[tuple[str, str | int], ...]:
    return (("request_id", f"r{n}"), ("status", 200))


def test_without_a_loop_each_line_is_written_at_once(writes: list[bytes]) -> None:
    log = AccessLog()
    log.write(_line(1))
    log.write(_line(2))
    assert len(writes) == 2
    assert writes[0].endswith(b" INFO soap_service.access request_id=r1 status=200\n")


def test_lines_of_one_turn_of_the_loop_are_written_together(writes: list[bytes]) -> None:
    log = AccessLog()

    async def serve() -> None:
        log.batch_on(asyncio.get_running_loop())
        for n in range(3):
            log.write(_line(n))
        assert writes == []  # not yet: the turn is not over
        await asyncio.sleep(0)
        assert len(writes) == 1
        assert [line.split(b" request_id=")[1] for line in writes[0].splitlines()] == [
            b"r0 status=200",
            b"r1 status=200",
            b"r2 status=200",
        ]
        # a line written on another thread (a large body's engine call) goes at once
        other = threading.Thread(target=log.write, args=(_line(9),))
        other.start()
        other.join()
        assert len(writes) == 2 and b"request_id=r9 " in writes[1]
        log.write(_line(10))
        log.flush()  # what the worker does when it stops
        assert len(writes) == 3 and b"request_id=r10 " in writes[2]

    asyncio.run(serve())
    assert len(writes) == 3


def test_a_short_write_is_finished(monkeypatch: pytest.MonkeyPatch, writes: list[bytes]) -> None:
    def short(fd: int, data: bytes) -> int:  # a pipe that takes 5 bytes at a time
        writes.append(bytes(data[:5]))
        return min(5, len(data))

    monkeypatch.setattr(accesslog.os, "write", short)
    AccessLog().write(_line(1))
    assert b"".join(writes).endswith(b"request_id=r1 status=200\n")
