"""MTOM/XOP: SOAP messages whose binary content travels as raw MIME parts.

A request is ``multipart/related; type="application/xop+xml"``: a root part
holding the envelope, in which each binary value is an ``xop:Include``
pointing by ``cid:`` URL to another part that holds the raw bytes (W3C XOP
1.0, SOAP MTOM). :func:`unpack` splits the body into parts, checks the MIME
rules, and :func:`resolve_includes` gives the parsed envelope back the exact
infoset of the inline form, each ``xop:Include`` replaced by the base64 text
of its part, so everything after it (the schema, spyne, the operation) sees
what an inline base64 request would have given it.

What is refused, with a MalformedMime fault (code ``Client.MalformedMime``)
that says what was wrong: no boundary or no closing delimiter, text after a
delimiter (boundary tricks), a part without its header block, no root part
or a ``start`` naming none, two parts with one Content-ID, an ``xop:Include``
naming no part or not alone in its element, a part included twice, a transfer encoding other than
binary/8bit/7bit, and a root part that is neither SOAP version's media type (or
whose ``type`` and the ``start-info`` name different ones). More
than :data:`MAX_PARTS` parts, an attachment whose base64 form would be a
longer text node than the plain path accepts, or parts included as text whose
base64 forms together would be, is a LimitExceeded fault (all counted before
any text is made); the body limit is checked on the whole message before any of
this.

Responses: :func:`pack` answers in kind, base64 fields of the response as
binary parts (``GetImage``, whose bytes come straight from the store while the
answer is sent), everything else in the root part. A client asks
for MTOM by sending MTOM, or by clearly asking for XOP in its Accept header
(:func:`accepts_mtom`): naming ``application/xop+xml``, which is how gSOAP
with ``SOAP_ENC_MTOM`` asks when its request has no binary to send, or
preferring ``multipart/related`` by q-value to every SOAP or wildcard type it
names. Naming ``multipart/related`` among equals is not asking: Apache Axis 1.4
sends ``application/soap+xml, application/dime, multipart/related, text/*`` on
every call and cannot read XOP.

The body is read once (it is bounded by the body limit); parts are
``memoryview`` slices of it, never copies.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Final
from urllib.parse import unquote

from lxml import etree

from service.faults import LimitExceededFault, MalformedMimeFault, UnsupportedMediaFault
from service.ns import XOP
from service.storage import Content, LoadedContent

XOP_MEDIA: Final = "application/xop+xml"
MULTIPART: Final = "multipart/related"
#: the root part's media types: SOAP 1.1's, SOAP 1.2's
SOAP_MEDIA: Final = ("text/xml", "application/soap+xml")
MAX_PARTS: Final = 16
MAX_PART_HEADERS: Final = 8 * 1024
_INCLUDE: Final = f"{{{XOP}}}Include"
_TOKEN: Final = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_PARAM: Final = re.compile(rf';\s*({_TOKEN})\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)\s*')
_BOUNDARY: Final = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
_ENCODINGS: Final = frozenset({"binary", "8bit", "7bit"})


def parse_media_type(header: str) -> tuple[str, dict[str, str]]:
    """``type/subtype`` (lower case) and its parameters (names lower case, quotes undone)."""
    kind, _, rest = header.partition(";")
    params: dict[str, str] = {}
    for match in _PARAM.finditer(";" + rest):
        value = match.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[match.group(1).lower()] = value
    return kind.strip().lower(), params


@dataclass(frozen=True)
class Part:
    headers: dict[str, str]
    body: memoryview

    @property
    def content_id(self) -> str | None:
        value = self.headers.get("content-id")
        return value.strip().removeprefix("<").removesuffix(">") if value is not None else None


@dataclass(frozen=True)
class Package:
    """An MTOM message taken apart: the envelope's bytes and the parts it may include."""

    root: bytes
    #: the root part's SOAP media type (its ``type``, or ``start-info``), which decides
    #: the SOAP version; the port's own when neither says
    soap_media: str
    #: the SOAP 1.2 action, from the multipart, start-info or root part parameters
    action: str | None
    #: a part's bytes; a large one left in the spooled body (``service.soap.spooled``)
    attachments: dict[str, memoryview | Content]


def valid_boundary(boundary: str) -> bool:
    return _BOUNDARY.fullmatch(boundary) is not None


def unpack(
    data: bytes,
    params: dict[str, str],
    soap_media: str,
    accepted: Collection[str] = SOAP_MEDIA,
) -> Package:
    """The parts of a ``multipart/related`` body; ``soap_media`` is the port's SOAP media type
    (the root's when neither its ``type`` nor ``start-info`` names one), ``accepted`` the SOAP
    media types a root part may be."""
    if params.get("type", "").lower() != XOP_MEDIA:
        raise UnsupportedMediaFault(
            f'multipart/related is accepted as MTOM only (type="{XOP_MEDIA}");'
            f" send the envelope alone as {soap_media}."
        )
    offset = 0
    if "boundary" not in params:
        params, offset = headers_in_body(data, params)
    boundary = params.get("boundary", "")
    if not _BOUNDARY.fullmatch(boundary):
        raise MalformedMimeFault(
            "The multipart Content-Type has no valid boundary parameter (1 to 70 characters)."
        )
    parts = split(data, boundary.encode("ascii"), offset)
    start = params.get("start")
    by_id: dict[str, Part] = {}
    for part in parts:
        cid = part.content_id
        if cid is not None:
            if cid in by_id:
                raise MalformedMimeFault(f"Two parts have the Content-ID <{cid}>.")
            by_id[cid] = part
    if start is not None:
        wanted = start.strip().removeprefix("<").removesuffix(">")
        root = by_id.get(wanted)
        if root is None:
            raise MalformedMimeFault(f"No part has the Content-ID <{wanted}> that start names.")
    else:
        root = parts[0]
    kind, root_params = parse_media_type(root.headers.get("content-type", ""))
    if kind != XOP_MEDIA:
        raise MalformedMimeFault(
            f"The root part is {kind or '(no Content-Type)'}; MTOM needs {XOP_MEDIA}."
        )
    declared = root_params.get("type", "").lower()
    info_kind, info_params = parse_media_type(params.get("start-info", ""))
    said = {kind for kind in (parse_media_type(declared)[0], info_kind) if kind}
    if len(said) > 1:
        raise UnsupportedMediaFault(
            f"The root part is {parse_media_type(declared)[0]} and start-info says {info_kind};"
            " they must name one SOAP media type."
        )
    if said:
        soap_media = said.pop()
        if soap_media not in accepted:
            raise UnsupportedMediaFault(
                f"The root part is {soap_media}; MTOM carries {' or '.join(accepted)}."
            )
    action = (
        params.get("action")
        or info_params.get("action")
        or parse_media_type(declared)[1].get("action")
    )
    attachments: dict[str, memoryview | Content] = {
        cid: part.body for cid, part in by_id.items() if part is not root
    }
    return Package(bytes(root.body), soap_media, action, attachments)


def headers_in_body(data: bytes, params: dict[str, str]) -> tuple[dict[str, str], int]:
    """Mono's WCF writes the multipart's own headers at the start of the body.

    Its HTTP Content-Type says only ``multipart/related; type=application/xop+xml``;
    the boundary is in a ``MIME-Version``/``Content-Type`` block before the first
    delimiter. Read only when the HTTP header has no boundary, bounded like any
    part's header block, and it must say multipart/related with the same type.
    """
    if not data[:64].lower().startswith((b"mime-version:", b"content-type:")):
        return params, 0
    end = data.find(b"\r\n\r\n", 0, MAX_PART_HEADERS)
    if end < 0:
        raise MalformedMimeFault(
            f"The MIME header block at the start of the body has no end within"
            f" {MAX_PART_HEADERS} bytes."
        )
    kind, inner = parse_media_type(_headers(data[:end]).get("content-type", ""))
    if kind != MULTIPART or inner.get("type", "").lower() != XOP_MEDIA:
        raise MalformedMimeFault(
            "The MIME header block at the start of the body is not multipart/related MTOM."
        )
    return {**params, **inner}, end + 4


def split(data: bytes, boundary: bytes, offset: int = 0) -> list[Part]:
    """The body parts between the delimiters (from ``offset``), preamble and epilogue dropped."""
    delimiter = b"--" + boundary
    view = memoryview(data)
    if data.startswith(delimiter, offset):
        position = offset
    else:
        found = data.find(b"\r\n" + delimiter, offset)
        if found < 0:
            raise MalformedMimeFault("The body has no delimiter line with the declared boundary.")
        position = found + 2
    parts: list[Part] = []
    while True:
        position += len(delimiter)
        if data.startswith(b"--", position):
            break  # the close delimiter; what follows is the epilogue
        line_end = data.find(b"\r\n", position)
        if line_end < 0 or data[position:line_end].strip(b" \t"):
            raise MalformedMimeFault(
                "A delimiter line has text after the boundary (or no line end)."
            )
        if len(parts) == MAX_PARTS:
            raise LimitExceededFault(
                f"The request has more MIME parts than this service accepts ({MAX_PARTS})."
            )
        head_start = line_end + 2
        if data.startswith(b"\r\n", head_start):
            head, body_start = b"", head_start + 2
        else:
            head_end = data.find(b"\r\n\r\n", head_start, head_start + MAX_PART_HEADERS)
            if head_end < 0:
                raise MalformedMimeFault(
                    f"A part's header block has no end within {MAX_PART_HEADERS} bytes."
                )
            head, body_start = data[head_start:head_end], head_end + 4
        body_end = data.find(b"\r\n" + delimiter, body_start)
        if body_end < 0:
            raise MalformedMimeFault(
                "The body ends inside a part: the closing delimiter"
                f" --{boundary.decode()}-- is missing."
            )
        parts.append(Part(_headers(head), view[body_start:body_end]))
        position = body_end + 2
    if not parts:
        raise MalformedMimeFault("The multipart body has no parts.")
    return parts


def _headers(head: bytes) -> dict[str, str]:
    try:
        text = head.decode("ascii")
    except UnicodeDecodeError:
        raise MalformedMimeFault("A part's headers are not ASCII.") from None
    headers: dict[str, str] = {}
    name = ""
    for line in text.split("\r\n"):
        if line[:1] in (" ", "\t") and name:
            headers[name] += " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep or not re.fullmatch(_TOKEN, key.strip()):
            raise MalformedMimeFault(
                f"A part has a header line that is not 'Name: value': {line[:60]!r}."
            )
        name = key.strip().lower()
        if name in headers:
            raise MalformedMimeFault(f"A part has two {key.strip()} headers.")
        headers[name] = value.strip()
    encoding = headers.get("content-transfer-encoding", "binary").lower()
    if encoding not in _ENCODINGS:
        raise MalformedMimeFault(
            f"Content-Transfer-Encoding {encoding} is not accepted; MTOM parts are binary."
        )
    return headers


#: what a client that names them accepts instead of an MTOM package (a plain SOAP answer)
_PLAIN_ANSWERS: Final = frozenset({*SOAP_MEDIA, "text/*", "*/*"})


@lru_cache(maxsize=64)
def accepts_mtom(accept: str) -> bool:
    """Whether an Accept header clearly asks for XOP: it names ``application/xop+xml`` with
    q > 0, or ``multipart/related`` with a q strictly higher than that of every SOAP media
    type, ``text/*`` or ``*/*`` it names (wildcards never name multipart/related itself). A
    q that is not a number counts as 0. Remembered: clients send the same few headers."""
    lowered = accept.lower()
    if "multipart" not in lowered and "xop" not in lowered:
        return False
    multipart = 0.0
    plain = 0.0
    for item in lowered.split(","):
        kind, params = parse_media_type(item)
        if kind == XOP_MEDIA or kind == MULTIPART or kind in _PLAIN_ANSWERS:
            try:
                q = float(params.get("q", "1"))
            except ValueError:
                q = 0.0
            q = q if 0.0 < q <= 1.0 else 0.0
            if kind == XOP_MEDIA and q > 0:
                return True
            if kind == MULTIPART:
                multipart = max(multipart, q)
            elif kind in _PLAIN_ANSWERS:
                plain = max(plain, q)
    return multipart > plain


def count_includes(root: etree._Element) -> int:
    return sum(1 for _ in root.iter(_INCLUDE))


def resolve_includes(
    root: etree._Element,
    attachments: Mapping[str, memoryview | Content],
    max_text_length: int,
    raw: Callable[[etree._Element], bool] = lambda element: False,
) -> dict[etree._Element, memoryview | Content]:
    """Replaces each ``xop:Include`` under ``root`` with its part's content.

    The XOP infoset is the part's base64 text in place of the Include. Where
    ``raw(element)`` says the reader takes the bytes themselves (a base64Binary
    field the dispatcher decodes), the element is left empty and its bytes are
    returned instead, so a 10 MiB part is never turned into 13 MiB of text and
    back; the schema then checks an empty base64Binary, which is what the
    contract's unconstrained base64Binary fields accept for any bytes.
    """
    # First every Include is checked and what it would cost counted, then the text
    # is made: a request cannot make a worker allocate more than it sent, give or take
    # base64's third (issue 16: one part included 150 times grew a worker by 1.6 GiB).
    found: list[tuple[etree._Element, etree._Element, memoryview | Content]] = []
    used: set[str] = set()
    text_bytes = 0
    for include in root.iter(_INCLUDE):
        parent = include.getparent()
        if parent is None:
            raise MalformedMimeFault("The root element itself is an xop:Include.")
        if len(parent) != 1 or (parent.text or "").strip() or (include.tail or "").strip():
            raise MalformedMimeFault(
                f"An xop:Include must be the only content of its element"
                f" ({etree.QName(parent).localname})."
            )
        href = include.get("href", "")
        if not href.lower().startswith("cid:"):
            raise MalformedMimeFault(f"xop:Include href {href[:80]!r} is not a cid: URL.")
        cid = unquote(href[4:])
        content = attachments.get(cid)
        if content is None:
            raise MalformedMimeFault(
                f"No part has the Content-ID <{cid[:80]}> an xop:Include names."
            )
        if cid in used:  # XOP: each part stands for one element's content
            raise MalformedMimeFault(
                f"The part <{cid[:80]}> is included more than once; include each part once."
            )
        used.add(cid)
        length = len(content) if isinstance(content, memoryview) else content.size
        size = (length + 2) // 3 * 4
        if size > max_text_length:
            raise LimitExceededFault(
                f"The part <{cid[:80]}> is larger than this service accepts"
                f" ({max_text_length // 4 * 3} bytes)."
            )
        if not raw(parent):
            text_bytes += size
            if text_bytes > max_text_length:
                raise LimitExceededFault(
                    "The parts included as text are larger together than this service"
                    f" accepts ({max_text_length // 4 * 3} bytes)."
                )
        found.append((include, parent, content))
    taken: dict[etree._Element, memoryview | Content] = {}
    for include, parent, content in found:
        parent.remove(include)
        parent.text = None
        if raw(parent):
            taken[parent] = content
        else:
            whole = content if isinstance(content, memoryview) else b"".join(content.pieces())
            parent.text = base64.b64encode(whole).decode("ascii")
    return taken


@dataclass(frozen=True)
class Packed:
    content_type: str
    #: the message's pieces; a streamed value (``Content``) is its part's raw bytes
    chunks: list[bytes | Content]

    @property
    def length(self) -> int:
        return sum(len(c) if isinstance(c, bytes) else c.size for c in self.chunks)


def pack(
    envelope: etree._Element,
    binary: Iterable[etree._Element],
    soap_media: str,
    streams: Mapping[etree._Element, Content] | None = None,
) -> Packed:
    """The envelope as an MTOM message; each element of ``binary`` (base64 text) as a part.
    An element of ``streams`` (left empty) gets its store bytes as its part, read while the
    message is sent (``service.soap.streamed``)."""
    boundary = f"uuid:{uuid.uuid4()}"
    root_id = "root.message@soap-service"
    parts: list[tuple[str, bytes | Content]] = []
    for number, element in enumerate(binary, 1):
        cid = f"{number}.part@soap-service"
        stored = streams.get(element) if streams else None
        if stored is None:
            parts.append((cid, base64.b64decode(element.text or "")))
        else:
            parts.append((cid, stored.data if isinstance(stored, LoadedContent) else stored))
        element.text = None
        etree.SubElement(element, _INCLUDE, href=f"cid:{cid}", nsmap={"xop": XOP})
    xml = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
    chunks: list[bytes | Content] = [
        f"--{boundary}\r\nContent-ID: <{root_id}>\r\n"
        f'Content-Type: {XOP_MEDIA}; charset=utf-8; type="{soap_media}"\r\n'
        "Content-Transfer-Encoding: binary\r\n\r\n".encode(),
        xml,
    ]
    for cid, content in parts:
        chunks.append(
            f"\r\n--{boundary}\r\nContent-ID: <{cid}>\r\n"
            "Content-Type: application/octet-stream\r\n"
            "Content-Transfer-Encoding: binary\r\n\r\n".encode()
        )
        chunks.append(content)
    chunks.append(f"\r\n--{boundary}--\r\n".encode())
    content_type = (
        f'{MULTIPART}; type="{XOP_MEDIA}"; start="<{root_id}>";'
        f' start-info="{soap_media}"; boundary="{boundary}"'
    )
    return Packed(content_type, chunks)
