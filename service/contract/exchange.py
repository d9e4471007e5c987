"""What the server saw of a request: the record ``DescribeRequest`` answers from.

The serving layers fill it in; the operation only reads it. Everything in it is
already what may be shown: the client's address with trusted proxies resolved
and the headers redacted (``service.http.forwarding``), the SOAP header blocks
by name only (their content, a WS-Security password among it, never).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from service.contract.models import ArrayOfHttpHeader, ArrayOfString, HttpHeader, RequestDescription
from service.faults import xml_safe


@dataclass(frozen=True)
class HttpSeen:
    """The HTTP request, as the HTTP layer saw it and may show it."""

    client_address: str
    #: the client behind trusted proxies, or None
    forwarded_for: str | None
    method: str
    path: str
    tls: bool
    request_id: str
    #: (name, value) in the usual spelling, sorted, secrets redacted
    headers: tuple[tuple[str, str], ...]

    #: for a call made in-process, with no HTTP request around it
    UNKNOWN: ClassVar[HttpSeen]


HttpSeen.UNKNOWN = HttpSeen("unknown", None, "", "", False, "", ())


@dataclass(frozen=True)
class Exchange:
    """The HTTP request and the SOAP envelope around an operation call."""

    http: HttpSeen
    binding: str  # "1.1", "1.2", "HTTP" or "XML-RPC"
    soap_action: str | None
    #: the QNames of the SOAP header blocks, in Clark notation
    soap_headers: tuple[str, ...]


def describe(exchange: Exchange, user: str | None) -> RequestDescription:
    seen = exchange.http
    return RequestDescription(
        client_address=xml_safe(seen.client_address),
        forwarded_for=None if seen.forwarded_for is None else xml_safe(seen.forwarded_for),
        method=xml_safe(seen.method),
        path=xml_safe(seen.path),
        soap_version=exchange.binding,
        soap_action=None if exchange.soap_action is None else xml_safe(exchange.soap_action),
        tls=seen.tls,
        user=user,
        request_id=seen.request_id,
        headers=ArrayOfHttpHeader(
            HttpHeader=[
                HttpHeader(name=xml_safe(name), value=xml_safe(value))
                for name, value in seen.headers
            ]
        ),
        soap_headers=ArrayOfString(string=list(exchange.soap_headers)),
    )
