"""What the server saw of a request (``DescribeRequest``): the seed's CGI
environment script, made safe.

The client's address is the connection's peer. When that peer is a trusted
proxy (``trusted_proxies``), the ``X-Forwarded-For`` (or RFC 7239
``Forwarded``) chain is walked from the right, skipping trusted hops, and the
first address that is not a trusted proxy is the client: a client cannot
forge its way past a proxy that appends what it saw. Without a trusted proxy,
forwarding headers are shown as headers and believed for nothing.

Secrets are redacted: the credentials of ``Authorization`` and
``Proxy-Authorization`` (the scheme stays, so "Basic" vs "Digest" can be
debugged), ``Cookie`` and any header whose name says token, secret, password
or key. SOAP header blocks are listed by name only; their content (a
WS-Security password among them) is never echoed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from lxml import etree

from service.contract.models import ArrayOfHttpHeader, ArrayOfString, HttpHeader, RequestDescription
from service.faults import xml_safe

REDACTED: Final = "[redacted]"
#: WSGI environ keys the service sets for the operations it runs
REQUEST_ID_KEY: Final = "soap_service.request_id"
_KEEP_SCHEME: Final = frozenset({"authorization", "proxy-authorization"})
_SECRET_WORDS: Final = ("cookie", "token", "secret", "password", "passwd", "key", "session")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Exchange:
    """The HTTP request around an operation call."""

    environ: Mapping[str, Any]
    binding: str  # "SOAP 1.1", "SOAP 1.2" or "HTTP"
    soap_action: str | None
    soap_header: etree._Element | None


@lru_cache(maxsize=8)
def trusted_networks(setting: str) -> tuple[Network, ...]:
    """``"127.0.0.1, 10.0.0.0/8"`` as networks; a wrong entry is a startup error."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False)
        for part in setting.split(",")
        if part.strip()
    )


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip().strip('"')
    if text.startswith("["):  # [v6]:port
        text = text[1 : text.find("]")] if "]" in text else text
    elif text.count(":") == 1:  # v4:port
        text = text.split(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(text: str, networks: tuple[Network, ...]) -> bool:
    address = _address(text)
    return address is not None and any(address in net for net in networks)


def _forwarded_chain(environ: Mapping[str, Any]) -> list[str]:
    """The addresses proxies recorded, oldest first (X-Forwarded-For, else Forwarded)."""
    xff = environ.get("HTTP_X_FORWARDED_FOR", "")
    if xff:
        return [part.strip() for part in xff.split(",") if part.strip()]
    chain = []
    for element in environ.get("HTTP_FORWARDED", "").split(","):
        for pair in element.split(";"):
            name, _, value = pair.strip().partition("=")
            if name.lower() == "for" and value:
                chain.append(value.strip().strip('"'))
    return chain


def client_addresses(environ: Mapping[str, Any], trusted: str) -> tuple[str, str | None]:
    """The peer's address, and the client's behind trusted proxies (else None)."""
    peer = str(environ.get("REMOTE_ADDR", "") or "unknown")
    networks = trusted_networks(trusted)
    if not networks or not _trusted(peer, networks):
        return peer, None
    chain = _forwarded_chain(environ)
    for hop in reversed(chain):
        if not _trusted(hop, networks):
            address = _address(hop)
            return peer, str(address) if address is not None else hop
    return peer, (chain[0] if chain else None)


def _header_name(key: str) -> str:
    return "-".join(word.capitalize() for word in key.split("_"))


def redact(name: str, value: str) -> str:
    lowered = name.lower()
    if lowered in _KEEP_SCHEME:
        scheme, _, _ = value.strip().partition(" ")
        return f"{scheme} {REDACTED}" if scheme else REDACTED
    if any(word in lowered for word in _SECRET_WORDS):
        return REDACTED
    return value


def headers(environ: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The request's headers, as sent (names in their usual spelling), redacted."""
    seen = []
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            seen.append((_header_name(key), str(environ[key])))
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            seen.append((_header_name(key[5:]), str(value)))
    return sorted((xml_safe(name), xml_safe(redact(name, value))) for name, value in seen)


def describe(exchange: Exchange, user: str | None, trusted: str) -> RequestDescription:
    environ = exchange.environ
    peer, forwarded = client_addresses(environ, trusted)
    tls = environ.get("wsgi.url_scheme") == "https"
    if forwarded is not None:
        tls = tls or environ.get("HTTP_X_FORWARDED_PROTO", "").lower() == "https"
    soap_headers = [] if exchange.soap_header is None else list(exchange.soap_header)
    return RequestDescription(
        client_address=xml_safe(peer),
        forwarded_for=None if forwarded is None else xml_safe(forwarded),
        method=str(environ.get("REQUEST_METHOD", "")),
        path=str(environ.get("PATH_INFO", "")),
        soap_version=exchange.binding,
        soap_action=None if exchange.soap_action is None else xml_safe(exchange.soap_action),
        tls=tls,
        user=user,
        request_id=str(environ.get(REQUEST_ID_KEY, "")),
        headers=ArrayOfHttpHeader(
            HttpHeader=[HttpHeader(name=n, value=v) for n, v in headers(environ)]
        ),
        soap_headers=ArrayOfString(
            string=[etree.QName(h).text for h in soap_headers if isinstance(h.tag, str)]
        ),
    )
