"""SOAP 1.1 and 1.2 framing: taking envelopes apart and putting them together.

Knows nothing of the operations; ``service.soap.dispatch`` does. The rules:

1. The request's Content-Type decides the SOAP version (text/xml: 1.1,
   application/soap+xml: 1.2), whichever port it came to; the answer is in that
   version. An envelope of the other version (the Content-Type and the envelope
   disagree) gets a VersionMismatch fault in the Content-Type's version, and so
   does an Envelope in neither namespace; any other root element is malformed.
2. An envelope holds an optional Header, then exactly one Body, and nothing
   else (WS-I BP R1011); the Body holds exactly one element, the operation.
3. A header block marked ``mustUnderstand`` and aimed at us is a
   MustUnderstand fault, unless it is one we understand (``wsse:Security``, and
   WS-Addressing's, see ``service.soap.addressing``).
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping
from typing import Final, NamedTuple

from lxml import etree

from service import ns
from service.faults import (
    MalformedRequestFault,
    MustUnderstandFault,
    ServiceFault,
    VersionMismatchFault,
)
from service.storage import Content


class SoapVersion(enum.Enum):
    SOAP11 = "1.1"
    SOAP12 = "1.2"

    #: A member is its only instance: hashed by identity, in C (Enum's own ``__hash__``
    #: hashes the name in Python, on every lookup in a dict keyed by version).
    __hash__ = object.__hash__

    # Each of these is worked out once per member, then read as a plain attribute.

    @functools.cached_property
    def envelope_ns(self) -> str:
        return ns.SOAP11_ENV if self is SoapVersion.SOAP11 else ns.SOAP12_ENV

    @functools.cached_property
    def content_type(self) -> str:
        if self is SoapVersion.SOAP11:
            return "text/xml; charset=utf-8"
        return "application/soap+xml; charset=utf-8"

    @functools.cached_property
    def other(self) -> SoapVersion:
        return SoapVersion.SOAP12 if self is SoapVersion.SOAP11 else SoapVersion.SOAP11


_ULTIMATE_RECEIVER: Final = {
    SoapVersion.SOAP11: ("actor", {"", "http://schemas.xmlsoap.org/soap/actor/next"}),
    SoapVersion.SOAP12: (
        "role",
        {
            "",
            "http://www.w3.org/2003/05/soap-envelope/role/next",
            "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver",
        },
    ),
}


class Request(NamedTuple):
    """An opened envelope (immutable; a tuple, cheap to make)."""

    version: SoapVersion
    header: etree._Element | None
    operation: etree._Element
    #: the parts an MTOM request's ``xop:Include`` elements name; None when it was plain XML
    attachments: Mapping[str, memoryview | Content] | None = None


#: ``Request(...)`` made in C (a NamedTuple's own ``__new__`` is Python code)
_new_request: Final = tuple.__new__

#: Header blocks this service processes (so mustUnderstand="1" on them is honoured): the
#: WS-Security header, and WS-Addressing's of both versions (service.soap.addressing)
UNDERSTOOD: Final = frozenset(
    {f"{{{ns.WSSE}}}Security"}
    | {
        f"{{{namespace}}}{name}"
        for namespace in (ns.WSA, ns.WSA_SUBMISSION)
        for name in ("To", "From", "Action", "MessageID", "ReplyTo", "FaultTo", "RelatesTo")
    }
)


class _Frame(NamedTuple):
    """A version's names, in Clark notation, worked out once."""

    envelope: str
    other_envelope: str
    header: str
    body: str
    must_understand: str
    #: the attribute that aims a header block (actor, role), and the values that mean us
    target: str
    ours: frozenset[str]


_FRAMES: Final = {
    version: _Frame(
        f"{{{version.envelope_ns}}}Envelope",
        f"{{{version.other.envelope_ns}}}Envelope",
        f"{{{version.envelope_ns}}}Header",
        f"{{{version.envelope_ns}}}Body",
        f"{{{version.envelope_ns}}}mustUnderstand",
        f"{{{version.envelope_ns}}}{_ULTIMATE_RECEIVER[version][0]}",
        frozenset(_ULTIMATE_RECEIVER[version][1]),
    )
    for version in SoapVersion
}


def open_envelope(
    root: etree._Element,
    version: SoapVersion,
    attachments: Mapping[str, memoryview | Content] | None = None,
) -> Request:
    """The operation element of an envelope, after checking rules 1 to 3; ``attachments``:
    an MTOM request's parts, carried along."""
    frame = _FRAMES[version]
    tag = root.tag
    if tag != frame.envelope:
        if tag == frame.other_envelope:
            other = version.other
            raise VersionMismatchFault(
                f"The Content-Type is SOAP {version.value}'s"
                f" ({version.content_type.partition(';')[0]}); the envelope is SOAP"
                f" {other.value}. Send a SOAP {other.value} envelope as"
                f" {other.content_type.partition(';')[0]}."
            )
        name = etree.QName(root)
        if name.localname == "Envelope":
            raise VersionMismatchFault(
                f"The envelope's namespace {name.namespace or '(none)'}"
                " is neither SOAP 1.1's nor SOAP 1.2's."
            )
        raise MalformedRequestFault(
            f"The document is not a SOAP {version.value} envelope"
            f" (expected {frame.envelope} as the root element)."
        )
    # element[:] is one call into lxml (iterating makes an iterator object first), and
    # an element proxy keeps its tag once read, while it lives (the Request keeps the
    # operation's). The usual shapes are recognised first, then the rules are applied
    # to whatever else came: the same outcome, faults included.
    children = root[:]
    header: etree._Element | None
    if len(children) == 1 and children[0].tag == frame.body:
        header, body = None, children[0]
    elif len(children) == 2 and children[0].tag == frame.header and children[1].tag == frame.body:
        header, body = children
    else:
        header, body = _header_and_body(children, frame)
    operations = body[:]
    if len(operations) != 1 or not isinstance(operations[0].tag, str):
        operations = [child for child in operations if isinstance(child.tag, str)]
        if len(operations) != 1:
            raise MalformedRequestFault(
                f"The Body must hold exactly one operation element; it holds {len(operations)}."
            )
    if header is not None:
        _check_must_understand(header, frame)
    return _new_request(Request, (version, header, operations[0], attachments))


def _header_and_body(
    children: list[etree._Element], frame: _Frame
) -> tuple[etree._Element | None, etree._Element]:
    """Rule 2 on an envelope's children, comments and the like aside."""
    elements = [child for child in children if isinstance(child.tag, str)]
    header: etree._Element | None = None
    if elements and elements[0].tag == frame.header:
        header = elements.pop(0)
    if len(elements) != 1 or elements[0].tag != frame.body:
        raise MalformedRequestFault(
            "The envelope must hold an optional Header and then exactly one Body."
        )
    return header, elements[0]


def _check_must_understand(header: etree._Element, frame: _Frame) -> None:
    for block in header[:]:
        if not isinstance(block.tag, str) or block.tag in UNDERSTOOD:
            continue
        flag = block.get(frame.must_understand, "0").strip()
        if flag not in ("1", "true"):
            continue
        if block.get(frame.target, "").strip() in frame.ours:
            raise MustUnderstandFault(
                f"The header block {block.tag} is marked mustUnderstand, and this service"
                " does not understand it."
            )


def new_envelope(
    version: SoapVersion, declare_tns: bool = True
) -> tuple[etree._Element, etree._Element]:
    """An empty envelope and its Body."""
    env = version.envelope_ns
    nsmap = {"soap": env, "tns": ns.TNS} if declare_tns else {"soap": env}
    envelope = etree.Element(f"{{{env}}}Envelope", nsmap=nsmap)
    body = etree.SubElement(envelope, f"{{{env}}}Body")
    return envelope, body


def serialize(envelope: etree._Element) -> bytes:
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def fault_envelope(
    version: SoapVersion, fault: ServiceFault
) -> tuple[etree._Element, etree._Element]:
    """A fault envelope, and the element the typed detail goes into (if any).

    The prefixes used inside QName-valued text (``soap:Sender``, ``tns:Validation``)
    are declared on the Fault element itself: some toolkits (Mono's WCF) read the
    Fault without the Envelope's declarations in scope.
    """
    envelope, body = new_envelope(version, declare_tns=False)
    env = version.envelope_ns
    fault_nsmap = {"soap": env, "tns": ns.TNS}
    first, *subcodes = fault.code.split(".")
    if fault.wire_qname is not None:
        namespace, local = fault.wire_qname
        prefix = "wsse" if namespace == ns.WSSE else "wsa"
        fault_nsmap[prefix] = namespace
        first, subcodes = "Client", [f"{prefix}:{local}"]
        if fault.wire_subcode and version is SoapVersion.SOAP12:
            subcodes.append(f"{prefix}:{fault.wire_subcode}")
    else:
        subcodes = [f"tns:{subcode}" for subcode in subcodes]
    if version is SoapVersion.SOAP11:
        element = etree.SubElement(body, f"{{{env}}}Fault", nsmap=fault_nsmap)
        code_text = subcodes[0] if fault.wire_qname else f"soap:{fault.code}"
        etree.SubElement(element, "faultcode").text = code_text
        etree.SubElement(element, "faultstring").text = fault.message
        return envelope, etree.SubElement(element, "detail")
    if isinstance(fault, VersionMismatchFault):
        _add_upgrade_header(envelope, body)
    element = etree.SubElement(body, f"{{{env}}}Fault", nsmap=fault_nsmap)
    code = etree.SubElement(element, f"{{{env}}}Code")
    value = {"Client": "Sender", "Server": "Receiver"}.get(first, first)
    etree.SubElement(code, f"{{{env}}}Value").text = f"soap:{value}"
    parent = code
    for subcode in subcodes:
        parent = etree.SubElement(parent, f"{{{env}}}Subcode")
        etree.SubElement(parent, f"{{{env}}}Value").text = subcode
    reason = etree.SubElement(element, f"{{{env}}}Reason")
    text = etree.SubElement(reason, f"{{{env}}}Text")
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    text.text = fault.message
    return envelope, etree.SubElement(element, f"{{{env}}}Detail")


def _add_upgrade_header(envelope: etree._Element, body: etree._Element) -> None:
    env = ns.SOAP12_ENV
    header = etree.Element(f"{{{env}}}Header")
    # the header goes into the envelope first: moving a built subtree into it would let
    # lxml drop the xmlns:v that only the qname attribute's text uses
    body.addprevious(header)
    upgrade = etree.SubElement(header, f"{{{env}}}Upgrade")
    for supported in (ns.SOAP12_ENV, ns.SOAP11_ENV):
        item = etree.SubElement(upgrade, f"{{{env}}}SupportedEnvelope", nsmap={"v": supported})
        item.set("qname", "v:Envelope")


def http_status(version: SoapVersion, fault: ServiceFault) -> int:
    if version is SoapVersion.SOAP11:
        return fault.http_status_soap11
    return fault.http_status_soap12
