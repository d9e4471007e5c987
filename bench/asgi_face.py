"""The engine behind an ASGI server: the third architecture ``make bench`` measures.

``soap-service-asgi`` in the benchmark is uvicorn (uvloop, httptools, 2 worker
processes) running this module's ``create()``. It is the serving core of
``service.rsgi`` unchanged, only spoken to in ASGI instead of RSGI: each HTTP
request's scope and its ``receive``/``send`` are wrapped as the RSGI scope and
protocol objects that ``ServingCore`` reads, so the body is taken in by
``service.intake.take_in`` under the same size, pace and spooling rules (from an
async iterator over the ``http.request`` messages), the environ is the one
``service.rsgi._environ`` builds, and ``SoapApplication.handle`` runs on the
event loop for bodies up to ``inline_limit`` and on a thread for larger ones.
What differs from ``soap-service`` is the HTTP server alone (and that uvicorn
has no header timeout: granian's ``header_timeout`` has no counterpart here).

    python -m uvicorn --factory bench.asgi_face:create --workers 2 --loop uvloop \\
        --http httptools --no-access-log --port 0

Settings come from the environment (``SOAP_SERVICE_*``), as for ``serve``'s workers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

from service.config import Settings
from service.rsgi import ServingCore, create_core

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class ClientGone(ConnectionError):
    """The client disconnected before its body was whole."""


class _Headers:
    """An ASGI header list seen as RSGI's headers (lower-case names, repeats kept)."""

    __slots__ = ("_raw",)

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._raw = raw

    def items(self) -> list[tuple[str, str]]:
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self._raw]

    def get(self, name: str, default: str | None = None) -> str | None:
        key = name.lower().encode("latin-1")
        for k, v in self._raw:
            if k == key:
                return v.decode("latin-1")
        return default


class _Scope:
    """An ASGI HTTP scope with the attributes of an RSGI scope."""

    __slots__ = (
        "proto",
        "http_version",
        "scheme",
        "method",
        "path",
        "query_string",
        "client",
        "server",
        "authority",
        "headers",
    )

    def __init__(self, scope: Message) -> None:
        self.proto = scope["type"]
        self.http_version = scope.get("http_version", "1.1")
        self.scheme = scope.get("scheme", "http")
        self.method = scope["method"]
        self.path = scope["path"]  # percent-decoded, as RSGI's is
        self.query_string = scope.get("query_string", b"").decode("latin-1")
        self.client = _address(scope.get("client"))
        self.server = _address(scope.get("server"))
        self.authority = None
        self.headers = _Headers(scope["headers"])


def _address(pair: Any) -> str:
    """ASGI's ``(host, port)`` as RSGI's ``host:port`` (``[::1]:port`` for IPv6)."""
    if not pair:
        return ""
    host, port = pair[0], pair[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class _Stream:
    """RSGI's streamed-response transport over ASGI's ``send``."""

    def __init__(self, protocol: _Protocol) -> None:
        self._protocol = protocol

    async def send_bytes(self, data: bytes) -> None:
        await self._protocol._start()
        await self._protocol.send({"type": "http.response.body", "body": data, "more_body": True})

    async def send_str(self, data: str) -> None:
        await self.send_bytes(data.encode())


class _Protocol:
    """ASGI's ``receive`` and ``send`` as RSGI's HTTP protocol object.

    RSGI answers with synchronous calls (``response_bytes`` and the like): the
    answer is kept here and sent by ``finish`` once the core has returned; a
    streamed answer is started with its first chunk.
    """

    def __init__(self, receive: Receive, send: Send) -> None:
        self.receive = receive
        self.send = send
        self._more = True
        self._gone = False
        self._start_message: Message | None = None
        self._started = False
        self._body: bytes | None = None
        self._streaming = False

    # --- the request's body ---

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self._more:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                self._gone = True
                raise ClientGone("the client went away before the body was whole")
            self._more = bool(message.get("more_body", False))
            yield message.get("body", b"")

    async def __call__(self) -> bytes:
        return b"".join([chunk async for chunk in self])

    async def client_disconnect(self) -> None:
        while not self._gone:
            if (await self.receive())["type"] == "http.disconnect":
                self._gone = True

    # --- the answer ---

    def _respond(self, status: int, headers: list[tuple[str, str]]) -> None:
        self._start_message = {
            "type": "http.response.start",
            "status": status,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        }

    def response_empty(self, status: int, headers: list[tuple[str, str]]) -> None:
        self._respond(status, headers)
        self._body = b""

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self._respond(status, headers)
        self._body = body

    def response_str(self, status: int, headers: list[tuple[str, str]], body: str) -> None:
        self.response_bytes(status, headers, body.encode())

    def response_file(self, status: int, headers: list[tuple[str, str]], path: str) -> None:
        with open(path, "rb") as file:  # not used by the core; for completeness
            self.response_bytes(status, headers, file.read())

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> _Stream:
        self._respond(status, headers)
        self._streaming = True
        return _Stream(self)

    async def _start(self) -> None:
        if not self._started:
            self._started = True
            await self.send(self._start_message)  # type: ignore[arg-type]

    async def finish(self) -> None:
        if self._start_message is None:  # the core gave no answer: never expected
            self.response_bytes(500, [("Content-Type", "text/plain")], b"no answer\n")
        await self._start()
        if self._streaming:
            await self.send({"type": "http.response.body", "body": b"", "more_body": False})
        else:
            await self.send({"type": "http.response.body", "body": self._body or b""})


class AsgiFace:
    """An ASGI application around the serving core (``service.rsgi.ServingCore``)."""

    def __init__(self, core: ServingCore) -> None:
        self.core = core
        self._ready = False

    def _startup(self) -> None:
        if not self._ready:
            self.core.__rsgi_init__(asyncio.get_running_loop())
            self._ready = True

    def _shutdown(self) -> None:
        if self._ready:
            self._ready = False
            self.core.__rsgi_del__(asyncio.get_running_loop())

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            self._startup()  # a server that sends no lifespan events starts it here
            protocol = _Protocol(receive, send)
            try:
                await self.core(_Scope(scope), protocol)
            except ClientGone:
                return  # nobody to answer
            await protocol.finish()
        elif kind == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self._startup()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    self._shutdown()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        # websockets are not served


def create(settings: Settings | None = None) -> AsgiFace:
    """The ASGI application (uvicorn's ``--factory``), settings from the environment."""
    return AsgiFace(create_core(settings))
