"""Which client a request came from, and its headers as they may be shown
(``DescribeRequest``: the seed's CGI environment script, made safe).

The client's address is the connection's peer. When that peer is a trusted
proxy (``trusted_proxies``), the ``X-Forwarded-For`` (or RFC 7239
``Forwarded``) chain is walked from the right, skipping trusted hops, and the
first address that is not a trusted proxy is the client: a client cannot
forge its way past a proxy that appends what it saw. Without a trusted proxy,
forwarding headers are shown as headers and believed for nothing.

Header values are shown only for an allow-list of headers that carry no
credential (``SHOWN``: content negotiation, caching, connection, forwarding and
the like); every other header is listed by name with ``[redacted]``, since a
credential can hide under any name (``X-Amzn-Oidc-Data``,
``Cf-Access-Jwt-Assertion``, ``X-Original-Authorization``, ``X-Client-Cert``).
``Authorization`` and ``Proxy-Authorization`` keep their scheme, so "Basic" vs
"Digest" can be debugged. ``Referer`` is not shown either: URLs carry tokens.
SOAP header blocks are listed by name only; their content (a WS-Security
password among them) is never echoed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Final

from service.contract.exchange import HttpSeen
from service.faults import xml_safe

REDACTED: Final = "[redacted]"
_KEEP_SCHEME: Final = frozenset({"authorization", "proxy-authorization"})
#: Headers whose values are shown (lower case): none of them carries a credential.
SHOWN: Final = frozenset(
    {
        "accept",
        "accept-charset",
        "accept-encoding",
        "accept-language",
        "cache-control",
        "connection",
        "content-encoding",
        "content-length",
        "content-type",
        "date",
        "expect",
        "forwarded",
        "host",
        "if-match",
        "if-modified-since",
        "if-none-match",
        "if-unmodified-since",
        "keep-alive",
        "max-forwards",
        "mime-version",
        "origin",
        "pragma",
        "range",
        "soapaction",
        "te",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "via",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-port",
        "x-forwarded-proto",
        "x-real-ip",
        "x-request-id",
    }
)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


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
    """``value`` if header ``name`` is one of ``SHOWN``, else ``[redacted]`` (after
    the scheme, for the two Authorization headers)."""
    lowered = name.lower()
    if lowered in SHOWN:
        return value
    if lowered in _KEEP_SCHEME:
        scheme, _, _ = value.strip().partition(" ")
        return f"{scheme[:32]} {REDACTED}" if scheme and scheme.isalnum() else REDACTED
    return REDACTED


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


def seen(environ: Mapping[str, Any], trusted: str, request_id: str) -> HttpSeen:
    """What ``DescribeRequest`` may show of this request."""
    peer, forwarded = client_addresses(environ, trusted)
    tls = environ.get("wsgi.url_scheme") == "https"
    if forwarded is not None:
        tls = tls or environ.get("HTTP_X_FORWARDED_PROTO", "").lower() == "https"
    return HttpSeen(
        client_address=peer,
        forwarded_for=forwarded,
        method=str(environ.get("REQUEST_METHOD", "")),
        path=str(environ.get("PATH_INFO", "")),
        tls=tls,
        request_id=request_id,
        headers=tuple(headers(environ)),
    )
