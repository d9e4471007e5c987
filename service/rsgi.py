"""The serving core's face to granian: RSGI, the engine fed whole requests.

granian (Rust) owns the sockets: it parses each request's headers, within
``header_timeout``, and hands this module the request and its body as a stream
of chunks on the worker's asyncio event loop. Here the body is taken in under
the rules of ``service.intake`` (size, pace, spooling), so a slow or stalled
client costs a socket and a coroutine, never a thread. Only then does the
engine run (``SoapApplication.handle``, the same code the WSGI face calls):

- on the event loop itself, for a request whose body is up to ``inline_limit``
  bytes: no hand-off to another thread, none of the GIL ping-pong that a
  thread per request costs;
- on one of the worker's ``threads`` for a larger body and for downloads, so a
  10 MiB upload's parse and fsync never stall the small requests behind it.

The answer goes back in one piece (``response_bytes``) or chunk by chunk: a streamed
body (a download, GetImage's answer) over ``PIPED_MIN`` through a pipe granian reads
at the client's pace (``response_file``), each chunk read from the store on the
worker's thread only once the pipe has taken the last; a smaller one through
``response_stream``. A request whose body was
refused is answered by the engine like any other fault, with
``Connection: close``. A request the credential throttle refused
(``Client.TooManyAttempts``) is answered after ``auth_tarpit`` seconds (the tarpit).
"""

from __future__ import annotations

import asyncio
import io
import itertools
import logging
import os
import shutil
import signal
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from service.answer import Answer
from service.app import IMAGES_PREFIX, SoapApplication, create_app
from service.config import Settings
from service.faults import ShuttingDownFault, TooManyAttemptsFault
from service.intake import Body, Drain, IntakeRules, Refused, declared_length, take_in
from service.observability.accesslog import access_log

log = logging.getLogger("soap_service.rsgi")

Headers = list[tuple[str, str]]
#: What the supervisor sends a worker to stop it (``begin_drain``).
DRAIN_SIGNAL: Final = signal.SIGUSR2
#: Seconds after the stop in which new requests are still served (``begin_drain``).
LATE_GRACE: Final = 1.0
_NO_BODY: Final = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "TRACE"})
_DONE: Final = object()
#: Streamed bodies larger than this go through a pipe, at the client's pace
#: (``ServingCore._send_piped``); smaller ones are handed to granian as they are read.
PIPED_MIN: Final = 1024 * 1024
#: How much the pipe's transport holds before the next chunk waits
_PIPE_HIGH: Final = 256 * 1024
#: Seconds granian has to open a body's FIFO once it is given it (it does at once)
_FIFO_OPEN_TIMEOUT: Final = 30.0


class _PipeFlow(asyncio.Protocol):
    """asyncio's flow control on a pipe's write transport, as an awaitable."""

    def __init__(self) -> None:
        self._writable = asyncio.Event()
        self._writable.set()
        self._closed = asyncio.Event()
        self.lost = False

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._writable.set()
        self._closed.set()

    async def writable(self) -> None:
        await self._writable.wait()

    async def closed(self) -> None:
        """Once the transport has handed everything to the pipe and closed it."""
        await self._closed.wait()


class ServingCore:
    """An RSGI application around the engine."""

    def __init__(self, app: SoapApplication) -> None:
        self.app = app
        settings = app.settings
        self.rules = IntakeRules.from_settings(settings)
        self.inline_limit = settings.inline_limit
        #: seconds a throttled refusal is held back (``_serve``)
        self.tarpit = float(settings.auth_tarpit)
        self._pool: ThreadPoolExecutor | None = None
        self._threads = max(1, settings.threads)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.drain = Drain()
        #: seconds requests in flight get when the worker stops (service.intake.Drain)
        self.drain_seconds = max(1.0, settings.shutdown_timeout * 2 / 3)
        self._in_flight = 0
        #: the private folder of the FIFOs large bodies go through (``_send_piped``)
        self._fifos: str | None = None
        self._fifo_numbers = itertools.count()
        self._released = False
        self._refuse_after = 0.0

    # --- RSGI's hooks ---

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="soap-service")
        loop.add_signal_handler(DRAIN_SIGNAL, self.begin_drain)
        access_log.batch_on(loop)

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        access_log.flush()
        self.app.close()
        if self._fifos is not None:
            shutil.rmtree(self._fifos, ignore_errors=True)

    # --- stopping: drain first, then let granian stop an idle worker ---

    def begin_drain(self) -> None:
        """The supervisor asks this worker to stop (``DRAIN_SIGNAL``; ``service.server``).

        Requests in flight go on to their answers: a body still arriving has
        ``drain_seconds`` to arrive (else Server.ShuttingDown, 503, nothing stored),
        work already running finishes. Requests that arrive in the next
        ``LATE_GRACE`` seconds are served too (a request whose headers crossed the
        stop on the wire is no less in flight); later ones are answered at once (503
        Server.ShuttingDown with Retry-After; ``/readyz`` is 503 from the start).
        Every answer says ``Connection: close``. When nothing is in flight, the worker sends
        itself SIGTERM, granian's own stop, which then finds it idle.

        Why not SIGTERM at once: granian 2.8 stops a worker by a signal handler that
        blocks the event loop until the server's connections are done, so a request
        in flight that still needs the loop (its body, or its answer from a thread)
        waits for a loop that waits for it, until the worker is killed.
        """
        if self.drain.deadline is not None:
            return
        loop = self._loop or asyncio.get_running_loop()
        log.info("stopping: answering %d requests in flight, refusing new ones", self._in_flight)
        self.app.draining = True
        deadline = loop.time() + self.drain_seconds
        self.drain.begin(deadline)
        self._refuse_after = loop.time() + min(LATE_GRACE, self.drain_seconds / 4)
        if not self._in_flight:
            self._release()
        else:  # if the work in flight outlasts the drain, stop anyway
            loop.call_at(deadline + 1, self._release)

    def _release(self) -> None:
        if not self._released:
            self._released = True
            os.kill(os.getpid(), signal.SIGTERM)

    async def __call__(self, scope: Any, proto: Any) -> None:
        if scope.proto != "http":
            return  # websockets are not served (granian is started with websockets=False)
        self._in_flight += 1
        try:
            await self._serve(scope, proto)
        finally:
            self._in_flight -= 1
            if not self._in_flight and self.drain.deadline is not None:
                self._release()

    async def _serve(self, scope: Any, proto: Any) -> None:
        loop = self._loop or asyncio.get_running_loop()
        environ = _environ(scope)
        method = environ["REQUEST_METHOD"]
        declared = declared_length(environ.get("CONTENT_LENGTH"))
        if self.drain.deadline is not None and loop.time() > self._refuse_after:
            body = Body(Refused(ShuttingDownFault()), 0, whole=False)  # type: ignore[arg-type]
        elif method in _NO_BODY and not declared and "HTTP_TRANSFER_ENCODING" not in environ:
            body = Body(io.BytesIO(), 0)
        else:
            body = await take_in(proto, declared, self.rules, loop, self.drain, proto)
        environ["wsgi.input"] = body.stream
        if body.whole:
            environ["CONTENT_LENGTH"] = str(body.length)
        try:
            download = environ["PATH_INFO"].startswith(IMAGES_PREFIX) and not self.app.draining
            if body.length <= self.inline_limit and not download:
                answer, headers = self.app.handle(environ)
            else:
                answer, headers = await loop.run_in_executor(self._pool, self.app.handle, environ)
        finally:
            body.close()
        if not body.whole or self.drain.deadline is not None:
            headers.append(("Connection", "close"))
        elif isinstance(answer.fault, TooManyAttemptsFault) and self.tarpit > 0:
            # The tarpit: a refused guess is answered only after a while (at most its
            # Retry-After), on a timer that costs no CPU, so a brute force's connections
            # wait instead of spinning, and the other requests keep the cores
            await asyncio.sleep(min(self.tarpit, answer.fault.retry_after))
        await self._send(proto, method, answer, headers, loop)

    async def _send(
        self,
        proto: Any,
        method: str,
        answer: Answer,
        headers: Headers,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        if method == "HEAD":
            proto.response_empty(answer.status, headers)
            _close(answer.body)
            return
        body = answer.body
        if isinstance(body, tuple | list) and len(body) == 1:
            proto.response_bytes(answer.status, headers, body[0])
            return
        if not isinstance(body, tuple | list) and (answer.length or 0) > PIPED_MIN:
            await self._send_piped(proto, answer, headers, loop)
            return
        transport = proto.response_stream(answer.status, headers)
        if isinstance(body, tuple | list):
            for chunk in body:
                await transport.send_bytes(chunk)
            return
        chunks = iter(body)  # a download: each chunk is a read from the store
        try:
            while (
                chunk := await loop.run_in_executor(self._pool, next, chunks, _DONE)
            ) is not _DONE:
                await transport.send_bytes(chunk)  # type: ignore[arg-type]
        finally:
            _close(chunks)

    async def _send_piped(
        self,
        proto: Any,
        answer: Answer,
        headers: Headers,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        """A large streamed body, as fast as the client reads it and no faster.

        granian's ``response_stream`` queues what it is given without limit (its
        ``send_bytes`` never waits), so a body read from the store faster than the
        client takes it would pile up in the worker. Here the body goes through a
        FIFO that granian reads as the response's file (``response_file``; it reads
        only as the connection drains): each chunk is read from the store on the
        worker's thread, written to the FIFO by the event loop, and the next is read
        only once the FIFO has taken it (flow control on the pipe's transport). A slow
        client costs a coroutine and about ``_PIPE_HIGH`` plus the pipe's capacity,
        never the rest of the image. Only granian holds the reading end (opening the
        writing end waits for it, then the name is removed), so a client that goes
        away closes it: the next write fails, the store's snapshot is released.
        """
        chunks = iter(answer.body)
        try:
            path = self._fifo_path()
            proto.response_file(answer.status, headers, path)
            write_fd = await self._open_fifo(path, loop)
        except BaseException:
            _close(chunks)
            raise
        transport: asyncio.WriteTransport | None = None
        try:
            os.set_blocking(write_fd, False)
            pipe = os.fdopen(write_fd, "wb", buffering=0)  # owns write_fd from here
        except BaseException:
            os.close(write_fd)
            _close(chunks)
            raise
        try:
            flow = _PipeFlow()
            transport, _ = await loop.connect_write_pipe(lambda: flow, pipe)
            transport.set_write_buffer_limits(high=_PIPE_HIGH, low=_PIPE_HIGH // 2)
            while (
                chunk := await loop.run_in_executor(self._pool, next, chunks, _DONE)
            ) is not _DONE:
                if flow.lost:
                    return  # the client went away: granian closed its end
                assert isinstance(chunk, bytes)
                transport.write(chunk)
                await flow.writable()
            transport.close()  # the body's end, once the pipe has taken the rest
            await flow.closed()  # a worker that stops after this loses none of it
        except BaseException:
            if transport is not None:
                transport.abort()  # a short body: the client sees it cut, never complete
                transport = None
            raise
        finally:
            if transport is not None:
                transport.close()  # the body's end, once the pipe has taken the rest
            else:
                pipe.close()
            _close(chunks)

    def _fifo_path(self) -> str:
        """A new FIFO's path in this worker's private folder (made at the first use)."""
        if self._fifos is None:
            self._fifos = tempfile.mkdtemp(prefix="soap-service-bodies-")  # mode 0700
        path = os.path.join(self._fifos, f"{next(self._fifo_numbers)}")
        os.mkfifo(path, 0o600)
        return path

    async def _open_fifo(self, path: str, loop: asyncio.AbstractEventLoop) -> int:
        """The FIFO's writing end, once granian has opened its reading end; the name is
        then removed. If granian never opens it (``_FIFO_OPEN_TIMEOUT``), the wait is
        ended by opening the reading end here, and the answer is abandoned."""
        opening = loop.run_in_executor(None, os.open, path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            return await asyncio.wait_for(asyncio.shield(opening), _FIFO_OPEN_TIMEOUT)
        except BaseException:
            reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # lets the open return
            try:
                os.close(await opening)
            finally:
                os.close(reader)
            raise
        finally:
            os.unlink(path)


def _close(body: Iterable[bytes] | Iterator[bytes]) -> None:
    close = getattr(body, "close", None)
    if close is not None:
        close()


def _environ(scope: Any) -> dict[str, Any]:
    """The request as a WSGI environ (PEP 3333's names: what the engine reads)."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope.method,
        "PATH_INFO": scope.path,
        "QUERY_STRING": scope.query_string,
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        "wsgi.url_scheme": scope.scheme,
        "REMOTE_ADDR": _host(scope.client),
    }
    for name, value in scope.headers.items():
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        if key in environ:  # a repeated header: joined as RFC 9110 allows
            environ[key] += ("; " if key == "HTTP_COOKIE" else ",") + value
        else:
            environ[key] = value
    return environ


def _host(address: str) -> str:
    """``1.2.3.4:5678`` or ``[::1]:5678`` without the port."""
    if address.startswith("["):
        return address[1 : address.find("]")]
    host, _, port = address.rpartition(":")
    return host if host and port.isdigit() else address


def create_core(settings: Settings | None = None) -> ServingCore:
    """The RSGI application for ``settings`` (default: from the environment)."""
    return ServingCore(create_app(settings))
