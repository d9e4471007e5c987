"""Reading untrusted XML: the one parser every request goes through.

Refused before spyne sees anything: DTDs and entity declarations (XXE to
files or the network, billion laughs, quadratic blow-up), bytes that are not
well-formed XML, and documents over the shape limits (:class:`Limits`:
nesting depth, element count, attributes per element and their length, text
node length, SOAP header blocks). Entities are never resolved and nothing is
ever fetched; processing instructions and comments are dropped. A small document
in UTF-8 is judged by counting bytes (``<`` bounds its depth, ``=`` the
attributes of any one element) before its tree is walked; any other is walked.

Nothing a request names is ever opened. The byte scan sees a DOCTYPE only in
an encoding that spells ``<!`` as those bytes; in UTF-16, UTF-32, UCS-2/4 or
UTF-7 the parser is the first to see it, and libxml2 then asks for its
external subset and for external parameter entities: lxml's
``collect_ids=False`` sets ``loadsubset`` (``XML_SKIP_IDS``), which libxml2
reads as "load the external subset" whatever ``load_dtd`` says, so a SYSTEM
identifier was opened (a FIFO, ``/dev/zero``), and the fault then differed
for a file that exists (issue 16, finding 3). Every parser here carries a
resolver that refuses every URL and path before anything is opened, and the
parse ends in the same ForbiddenXml fault, whatever the name and whether it
exists; a DOCTYPE that needs no loading is refused after the parse, from the
internal subset.

``huge_tree`` is on because a 10 MiB image is a 13.4 MB base64 text node;
the body size limit, checked before any of this, bounds the input, and a
cheap count of ``<`` bounds the element count before the tree is built.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Final

from lxml import etree

from service.config import Settings
from service.faults import ForbiddenXmlFault, LimitExceededFault, MalformedRequestFault

_local = threading.local()

# The first of: a DTD or entity declaration, or the root element's start tag. A
# declaration found first is in the prolog (the XML declaration, comments,
# processing instructions and a DOCTYPE come before the root): refused.
_PROLOG_SCAN: Final = re.compile(rb"<(?:[A-Za-z_]|!(?i:DOCTYPE|ENTITY))")
_BANG: Final = ord("!")
#: Encodings in which every ``<`` and ``=`` of the markup is that very byte in the
#: input (else counting bytes says nothing about elements or attributes: UTF-7
#: spells ``<`` as ``+ADw-``).
_BYTE_TRANSPARENT: Final = frozenset({"UTF-8", "UTF8", "US-ASCII", "ASCII"})
#: An XML declaration naming UTF-7, the one encoding libxml2 reads in which markup
#: need not be its ASCII bytes (``<`` may be ``+ADw-``, ``=`` ``+AD0-``); in every other
#: it reads (UTF-8/16/32, UCS-2/4, Latin-1 and the other ASCII supersets) a ``<`` or
#: ``=`` of the markup contains that byte.
_UTF7_DECLARED: Final = re.compile(rb"""\s*<\?xml[^>]*encoding\s*=\s*["']utf-?7""", re.I)


@dataclass(frozen=True)
class Limits:
    max_depth: int = 32
    max_elements: int = 10_000
    max_attributes: int = 32
    max_attribute_length: int = 4096
    max_text_length: int = 16 * 1024 * 1024
    max_headers: int = 16

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_depth=settings.max_depth,
            max_elements=settings.max_elements,
            max_attributes=settings.max_attributes,
            max_attribute_length=settings.max_attribute_length,
            max_text_length=settings.max_text_length or settings.body_limit,
            max_headers=settings.max_headers,
        )


_FORBIDDEN: Final = "DTDs and entity declarations are not accepted."


class _ExternalRefused(Exception):
    """The parser asked for an external resource (a DTD subset, an entity)."""


class _RefuseEverything(etree.Resolver):  # type: ignore[misc]
    """Answers every request for an external resource with a refusal: lxml's
    loader asks the parser's resolvers first and only falls back to libxml2's
    own (which opens files) when none answers; an exception ends the parse."""

    def resolve(self, url: str | None, public_id: str | None, context: object) -> None:
        raise _ExternalRefused


def _parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=True,
            remove_comments=True,
            remove_pis=True,
            collect_ids=False,
        )
        parser.resolvers.add(_RefuseEverything())
        _local.parser = parser
    return parser


def parse_request(data: bytes, limits: Limits = Limits()) -> etree._Element:
    """The root element of ``data``, or a fault that says what is wrong with it."""
    if not data or data.isspace():
        raise MalformedRequestFault("The request body is empty; send a SOAP envelope.")
    first = _PROLOG_SCAN.search(data)
    if first is not None and data[first.start() + 1] == _BANG:
        raise ForbiddenXmlFault(_FORBIDDEN)
    tags, equals = _markup_counts(data)
    if tags > 2 * limits.max_elements + 8:
        raise _over("elements", limits.max_elements)
    # Each attribute and namespace declaration has an "=": libxml2 builds them all
    # before any check can count them (~260 bytes each: 480,000 on one element made a
    # worker 126 MiB bigger), so their number in the whole document is bounded first.
    if equals > limits.max_elements:
        raise _over("attributes and namespace declarations in all", limits.max_elements)
    try:
        root = etree.fromstring(data, getattr(_local, "parser", None) or _parser())
    except _ExternalRefused:  # a DOCTYPE or entity naming a file or URL: none opened
        raise ForbiddenXmlFault(_FORBIDDEN) from None
    except etree.XMLSyntaxError as error:
        if "Excessive depth" in str(error):
            raise _over("nesting depth", limits.max_depth) from None
        raise MalformedRequestFault(
            f"The request is not well-formed XML: {_describe(error)}"
        ) from None
    # A DOCTYPE is parsed into the internal subset, whatever the encoding hid from the
    # byte scan (UTF-16, UTF-7); an external subset is never loaded (the resolver
    # refuses it), so docinfo.doctype could say nothing more.
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None:
        raise ForbiddenXmlFault(_FORBIDDEN)
    if (
        tags <= limits.max_depth
        and len(data) <= limits.max_attribute_length
        and len(data) <= limits.max_text_length
        and (docinfo.encoding or "").upper() in _BYTE_TRANSPARENT
    ):
        # Small enough that only the attribute count can break a limit: no more
        # elements (each has a "<") than the depth limit, no text or attribute
        # value longer than the whole document. And no element has more
        # attributes than the document has "=" (namespace declarations count too).
        if data.count(b"=") > limits.max_attributes:
            for element in root.iter():
                if len(element.attrib) > limits.max_attributes:
                    raise _over("attributes on one element", limits.max_attributes)
    else:
        check_shape(root, limits, texts=len(data) > limits.max_text_length)
    return root


def _markup_counts(data: bytes) -> tuple[int, int]:
    """At least the number of tags and of attributes (with namespace declarations) in
    ``data``: its ``<`` and ``=`` (in UTF-7, counted in the decoded text)."""
    if _UTF7_DECLARED.match(data):
        text = data.decode("utf-7", "replace")
        return text.count("<"), text.count("=")
    return data.count(b"<"), data.count(b"=")


def _over(what: str, limit: int) -> LimitExceededFault:
    return LimitExceededFault(f"The request has more {what} than this service accepts ({limit}).")


def check_shape(root: etree._Element, limits: Limits, texts: bool = True) -> None:
    """Walks the tree once, refusing it at the first limit it breaks.

    ``texts=False`` skips text lengths, for a document no longer than the text
    limit (reading a 13 MB text node's length from lxml copies it)."""
    count = 0
    stack: list[tuple[etree._Element, int]] = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        count += 1
        if count > limits.max_elements:
            raise _over("elements", limits.max_elements)
        if depth > limits.max_depth:
            raise _over("nesting depth", limits.max_depth)
        attributes = element.attrib
        if len(attributes) > limits.max_attributes:
            raise _over("attributes on one element", limits.max_attributes)
        for value in attributes.values():
            if len(value) > limits.max_attribute_length:
                raise _over("characters in an attribute", limits.max_attribute_length)
        for text in (element.text, element.tail) if texts else ():
            if text is not None and len(text) > limits.max_text_length:
                raise _over("characters in a text node", limits.max_text_length)
        stack.extend((child, depth + 1) for child in element)


def check_headers(header: etree._Element | None, limits: Limits) -> None:
    if header is not None and len(header) > limits.max_headers:
        raise _over("SOAP header blocks", limits.max_headers)


def _describe(error: etree.XMLSyntaxError) -> str:
    entry = error.error_log.last_error if error.error_log else None
    message = (entry.message if entry is not None else str(error)).strip()
    line = entry.line if entry is not None else None
    # libxml2 messages name tags and offsets, never content; keep them short.
    message = message[:200]
    return f"{message} (line {line})" if line else message
