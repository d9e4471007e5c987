"""Reading untrusted XML: the one parser every request goes through.

Refused before spyne sees anything: DTDs and entity declarations (XXE to
files or the network, billion laughs, quadratic blow-up), bytes that are not
well-formed XML. Entities are never resolved and nothing is ever fetched.
``huge_tree`` is on because a 10 MiB image is a 13.4 MB base64 text node;
the body size limit, checked before parsing, is what bounds the input.
"""

from __future__ import annotations

import re
import threading
from typing import Final

from lxml import etree

from service.faults import ForbiddenXmlFault, MalformedRequestFault

_local = threading.local()

# Anything before the root element's start tag: the XML declaration,
# comments, processing instructions and (refused) a DOCTYPE.
_PROLOG_DTD: Final = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_ROOT_START: Final = re.compile(rb"<[A-Za-z_]")


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
        _local.parser = parser
    return parser


def parse_request(data: bytes) -> etree._Element:
    """The root element of ``data``, or a fault that says what is wrong with it."""
    if not data.strip():
        raise MalformedRequestFault("The request body is empty; send a SOAP envelope.")
    root_start = _ROOT_START.search(data)
    prolog = data[: root_start.start()] if root_start else data
    if _PROLOG_DTD.search(prolog):
        raise ForbiddenXmlFault("DTDs and entity declarations are not accepted.")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as error:
        raise MalformedRequestFault(
            f"The request is not well-formed XML: {_describe(error)}"
        ) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise ForbiddenXmlFault("DTDs and entity declarations are not accepted.")
    return root


def _describe(error: etree.XMLSyntaxError) -> str:
    entry = error.error_log.last_error if error.error_log else None
    message = (entry.message if entry is not None else str(error)).strip()
    line = entry.line if entry is not None else None
    # libxml2 messages name tags and offsets, never content; keep them short.
    message = message[:200]
    return f"{message} (line {line})" if line else message
