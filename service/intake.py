"""A request's body taken in off the network, before the engine sees any of it.

The engine (``SoapApplication.handle``) gets a request only when it is whole:
the serving core reads the body here, chunk by chunk as the server hands them
over, and holds the client to three rules while it does:

- **size**: a declared ``Content-Length`` over the body limit is refused before a
  byte is read; a chunked body is counted as it arrives and refused the moment
  it passes the limit (``Client.RequestTooLarge``, HTTP 413);
- **pace**: the body must keep coming. It may take ``body_timeout`` seconds to
  start, and after that it must arrive at ``body_min_rate`` bytes a second on
  average (Apache's ``mod_reqtimeout`` rule: each byte received extends the
  deadline by ``1/body_min_rate`` s). A client that falls behind is answered
  ``Client.RequestTimeout`` (HTTP 408). A slow or stalled client costs a socket
  and a coroutine, never a worker's thread;
- **memory**: the body is spooled, in memory up to ``spool_threshold`` bytes
  and in an unnamed temporary file above it.

When the worker stops (``Drain``), a body still arriving has until the drain's
deadline to finish; one that does not is answered ``Server.ShuttingDown`` (503):
nothing of it is stored, and the client may send it again.

A body that did not arrive whole is handed to the engine as a ``Refused`` input
whose ``read`` raises the fault: the engine then answers it the way its route
answers every fault (a SOAP fault in the port's version, JSON on ``/http``),
with one access-log line, and the core closes the connection.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
from collections.abc import AsyncIterable, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Final

from service.config import Settings
from service.faults import (
    RequestTimeoutFault,
    RequestTooLargeFault,
    ServiceFault,
    ShuttingDownFault,
)

#: Bodies up to this size are gathered as one bytes object (no file object at all).
_SMALL: Final = 64 * 1024


class Drain:
    """The worker's stop, as the body reads in progress see it."""

    def __init__(self) -> None:
        self.deadline: float | None = None
        self._paces: set[asyncio.Timeout] = set()

    def begin(self, deadline: float) -> None:
        """From now on no body read lasts past ``deadline`` (loop time)."""
        self.deadline = deadline
        for pace in self._paces:
            when = pace.when()
            if when is None or when > deadline:
                pace.reschedule(deadline)

    @contextmanager
    def watching(self, pace: asyncio.Timeout) -> Iterator[None]:
        """``pace`` is cut short by ``begin`` while the block runs."""
        self._paces.add(pace)
        try:
            yield
        finally:
            self._paces.discard(pace)

    def bound(self, when: float) -> float:
        return when if self.deadline is None else min(when, self.deadline)

    def stopped(self, now: float) -> bool:
        return self.deadline is not None and now >= self.deadline


@dataclass(frozen=True)
class IntakeRules:
    body_limit: int
    body_timeout: float
    body_min_rate: int
    spool_threshold: int

    @classmethod
    def from_settings(cls, settings: Settings) -> IntakeRules:
        return cls(
            body_limit=settings.body_limit,
            body_timeout=float(settings.body_timeout),
            body_min_rate=max(1, settings.body_min_rate),
            spool_threshold=settings.spool_threshold,
        )


class Refused(io.RawIOBase):
    """The ``wsgi.input`` of a body that did not arrive whole: reading it raises why."""

    def __init__(self, fault: ServiceFault) -> None:
        super().__init__()
        self.fault = fault

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        raise self.fault

    def readinto(self, buffer: object) -> int:
        raise self.fault


@dataclass
class Body:
    """What was taken in: the input the engine reads, and how many bytes it holds."""

    stream: IO[bytes]
    length: int
    #: False when the body was refused (the connection must not be reused)
    whole: bool = True

    def close(self) -> None:
        self.stream.close()


def declared_length(header: str | None) -> int | None:
    """``Content-Length`` as a number; None when absent; -1 when it is not a number."""
    if header is None or header == "":
        return None
    text = header.strip()
    return int(text) if text.isdigit() and len(text) < 19 else -1


async def take_in(
    chunks: AsyncIterable[bytes],
    declared: int | None,
    rules: IntakeRules,
    loop: asyncio.AbstractEventLoop,
    drain: Drain | None = None,
    read_whole: Callable[[], Awaitable[bytes]] | None = None,
) -> Body:
    """The body, read from ``chunks`` under the size, pace and memory rules above.

    ``read_whole``, when the server has one, reads a whole body in one call: a small
    body of declared length is read with it, under the deadline its length earns at
    ``body_min_rate`` (one await instead of one per chunk and one for the end).
    """
    limit = rules.body_limit
    if declared is not None and declared > limit:
        return _refused(
            RequestTooLargeFault(f"The request body has {declared} bytes; the limit is {limit}.")
        )
    if declared == -1:
        return _refused(RequestTooLargeFault("The Content-Length header is not a number."))
    started = loop.time()
    drain = drain or Drain()
    if declared is not None and declared <= _SMALL and read_whole is not None:
        return await _take_small(read_whole, declared, rules, loop, drain, started)
    received = 0
    parts: list[bytes] = []
    spool: IO[bytes] | None = None
    try:
        async with asyncio.timeout_at(drain.bound(started + rules.body_timeout)) as pace:
            with drain.watching(pace):
                async for chunk in chunks:
                    if not chunk:
                        continue
                    received += len(chunk)
                    if received > limit:
                        return _refused(
                            RequestTooLargeFault(
                                f"The request body is over the limit of {limit} bytes."
                            ),
                            spool,
                        )
                    if spool is not None:
                        spool.write(chunk)
                    elif received > _SMALL:
                        spool = tempfile.SpooledTemporaryFile(max_size=rules.spool_threshold)
                        spool.writelines(parts)
                        spool.write(chunk)
                        parts.clear()
                    else:
                        parts.append(chunk)
                    deadline = started + rules.body_timeout + received / rules.body_min_rate
                    pace.reschedule(drain.bound(deadline))
    except TimeoutError:
        if drain.stopped(loop.time()):
            return _refused(ShuttingDownFault(), spool)
        return _refused(
            RequestTimeoutFault(
                f"The request body came too slowly: {received} bytes in"
                f" {loop.time() - started:.1f} s; send it within {rules.body_timeout:g} s"
                f" and at least {rules.body_min_rate} bytes a second after that."
            ),
            spool,
        )
    if spool is not None:
        spool.seek(0)
        return Body(spool, received)
    return Body(io.BytesIO(b"".join(parts) if len(parts) != 1 else parts[0]), received)


async def _take_small(
    read_whole: Callable[[], Awaitable[bytes]],
    declared: int,
    rules: IntakeRules,
    loop: asyncio.AbstractEventLoop,
    drain: Drain,
    started: float,
) -> Body:
    deadline = started + rules.body_timeout + declared / rules.body_min_rate
    try:
        async with asyncio.timeout_at(drain.bound(deadline)) as pace:
            with drain.watching(pace):
                data = await read_whole()
    except TimeoutError:
        if drain.stopped(loop.time()):
            return _refused(ShuttingDownFault())
        return _refused(
            RequestTimeoutFault(
                f"The request body ({declared} bytes) did not arrive within"
                f" {deadline - started:.1f} s."
            )
        )
    return Body(io.BytesIO(data), len(data))


def _refused(fault: ServiceFault, spool: IO[bytes] | None = None) -> Body:
    if spool is not None:
        spool.close()
    return Body(Refused(fault), 0, whole=False)  # type: ignore[arg-type]
