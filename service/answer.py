"""One HTTP answer, whatever route made it: what to send, and what to log of it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from service.faults import ServiceFault


@dataclass(frozen=True)
class Answer:
    status: int
    #: every header but Content-Length and X-Request-ID, which the application adds
    headers: list[tuple[str, str]]
    #: the body's chunks: an iterator (with ``close``) for a body read from the store
    #: while it is sent (a download, GetImage's answer)
    body: Iterable[bytes] = ()
    #: Content-Length; None when the answer has no body to measure (304)
    length: int | None = 0
    #: for the access log and the metrics
    operation: str | None = None
    fault: ServiceFault | None = None
    #: how the request's body came (xml, mtom, mime: MTOM without XOP parts) and how
    #: the reply goes (xml, mtom); "-" off the SOAP ports
    encoding: str = field(default="-")
    reply: str = field(default="-")

    @classmethod
    def whole(
        cls,
        status: int,
        content_type: str,
        body: bytes,
        *headers: tuple[str, str],
        operation: str | None = None,
        fault: ServiceFault | None = None,
    ) -> Answer:
        """An answer whose body is one piece of bytes."""
        return cls(
            status,
            [("Content-Type", content_type), *headers],
            (body,),
            len(body),
            operation,
            fault,
        )

    def read(self) -> bytes:
        """The whole body (for tests and small answers; a download's iterator is consumed)."""
        return b"".join(self.body)
