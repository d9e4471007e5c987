"""WS-Addressing on both SOAP ports: a request's addressing headers read and checked, and
the reply's written.

WCF's ``wsHttpBinding`` and every binding with ``MessageVersion.Soap1xWSAddressing10``,
JAX-WS with ``AddressingFeature`` and CXF with ``@Addressing`` put these headers in every
request, most with ``mustUnderstand="1"``. Both namespaces are read: WS-Addressing 1.0
(W3C, :data:`service.ns.WSA`) and the 2004/08 member submission (:data:`ns.WSA_SUBMISSION`);
the reply uses the request's.

The rules (WS-Addressing 1.0 Core and SOAP Binding; the submission alike):

1. A request with no addressing header is routed as before, by its Body and SOAPAction.
2. Any addressing header makes the message addressed. ``wsa:Action`` is then required,
   and so is ``wsa:MessageID``, since every operation here replies
   (``MessageAddressingHeaderRequired``). Headers of both namespaces in one message are an
   ``InvalidAddressingHeader``.
3. ``To``, ``From``, ``Action``, ``MessageID``, ``ReplyTo`` and ``FaultTo`` come at most
   once each (``InvalidAddressingHeader``, subcode ``InvalidCardinality``).
4. Replies go back on the HTTP response: ``ReplyTo`` and ``FaultTo`` must be absent or
   anonymous (``FaultTo`` may also be 1.0's "none"); any other address asks for an
   asynchronous reply we do not make (``InvalidAddressingHeader``, subcode
   ``OnlyAnonymousAddressSupported``).
5. ``wsa:Action`` is an operation's SOAPAction (the contract's ``wsam:Action``), and the
   dispatcher holds the Body to it as to a SOAPAction; another action is
   ``ActionNotSupported``. An HTTP SOAPAction (or SOAP 1.2 ``action``
   parameter) that is neither empty nor the same as ``wsa:Action`` is
   ``InvalidAddressingHeader``, subcode ``ActionMismatch``.
6. The reply carries ``wsa:Action`` (the operation's output action, SOAPAction +
   "Response"; for a fault, the declared fault's action, or WS-Addressing's fault action),
   a fresh ``wsa:MessageID``, ``wsa:RelatesTo`` the request's MessageID, ``wsa:To``
   anonymous, and the ReplyTo's reference parameters, each marked as one.

``wsa:To`` is not checked: it is the address the client was given, which a proxy in
between may rewrite.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from lxml import etree

from service import ns
from service.faults import (
    ActionNotSupportedFault,
    InvalidAddressingHeaderFault,
    MessageAddressingHeaderRequiredFault,
    ServiceFault,
)
from service.soap.envelope import SoapVersion

#: Each namespace's anonymous address (and 1.0's "none", which discards a reply)
ANONYMOUS: Final = {
    ns.WSA: frozenset({f"{ns.WSA}/anonymous", f"{ns.WSA}/none"}),
    ns.WSA_SUBMISSION: frozenset({f"{ns.WSA_SUBMISSION}/role/anonymous"}),
}
#: The action of a fault WS-Addressing itself defines, and of any other SOAP fault
FAULT_ACTION: Final = {
    ns.WSA: f"{ns.WSA}/fault",
    ns.WSA_SUBMISSION: f"{ns.WSA_SUBMISSION}/fault",
}
SOAP_FAULT_ACTION: Final = {
    ns.WSA: f"{ns.WSA}/soap/fault",
    ns.WSA_SUBMISSION: f"{ns.WSA_SUBMISSION}/fault",
}
#: The headers that may come once each; RelatesTo and reference parameters may repeat
_SINGLE: Final = ("To", "From", "Action", "MessageID", "ReplyTo", "FaultTo")


@dataclass(frozen=True)
class Addressing:
    """What a request's addressing headers said."""

    namespace: str
    action: str
    message_id: str
    #: the ReplyTo's reference parameters, copied into the reply
    reference_parameters: tuple[etree._Element, ...] = ()


@dataclass(frozen=True)
class Partial:
    """What could be read of the headers of a request refused for them: the reply to it
    is still addressed, as far as it can be (``namespace``, ``message_id``)."""

    namespace: str
    message_id: str | None


def read(
    header: etree._Element | None, actions: frozenset[str], http_action: str | None
) -> Addressing | None:
    """The request's addressing, checked by rules 2 to 5, or None when it has none.

    ``actions``: the operations' actions (the dispatcher then holds the Body to the one
    wsa:Action names, as it holds it to a SOAPAction); ``http_action``: the SOAPAction (or
    action parameter) the HTTP request carried. Raises an AddressingFault whose ``partial``
    attribute tells how to address the fault's reply.
    """
    if header is None:
        return None
    found: dict[str, list[etree._Element]] = {}
    namespaces: set[str] = set()
    for block in header.iterchildren("{*}*"):
        qname = etree.QName(block)
        if qname.namespace in ANONYMOUS:
            namespaces.add(qname.namespace)
            found.setdefault(qname.localname, []).append(block)
    if not namespaces:
        return None
    namespace = ns.WSA if ns.WSA in namespaces else ns.WSA_SUBMISSION
    ids = found.get("MessageID", [])
    partial = Partial(namespace, _text(ids[0]) if len(ids) == 1 else None)
    try:
        return _check(found, namespaces, namespace, partial, actions, http_action)
    except (
        InvalidAddressingHeaderFault,
        MessageAddressingHeaderRequiredFault,
        ActionNotSupportedFault,
    ) as fault:
        fault.partial = partial  # type: ignore[attr-defined]
        raise


def _check(
    found: dict[str, list[etree._Element]],
    namespaces: set[str],
    namespace: str,
    partial: Partial,
    actions: frozenset[str],
    http_action: str | None,
) -> Addressing:
    if len(namespaces) > 1:
        raise InvalidAddressingHeaderFault(
            "The message has WS-Addressing headers of two versions (1.0 and the 2004/08"
            " submission); send one version's.",
            namespace,
        )
    for name in _SINGLE:
        if len(found.get(name, ())) > 1:
            raise InvalidAddressingHeaderFault(
                f"The header wsa:{name} comes more than once; it may come once (a toolkit"
                " that adds WS-Addressing headers from the contract's wsam:Action by itself,"
                " as zeep does, needs no addressing plugin on top).",
                namespace,
                "InvalidCardinality",
            )
    for name in ("Action", "MessageID"):
        if not found.get(name) or not _text(found[name][0]):
            raise MessageAddressingHeaderRequiredFault(
                f"The message has WS-Addressing headers but no wsa:{name}; every operation"
                " of this service replies, so its request needs wsa:Action and wsa:MessageID.",
                namespace,
            )
    references: tuple[etree._Element, ...] = ()
    for name in ("ReplyTo", "FaultTo"):
        endpoint = found.get(name)
        if not endpoint:
            continue
        address = endpoint[0].find(f"{{{namespace}}}Address")
        text = _text(address) if address is not None else ""
        if text not in ANONYMOUS[namespace] or (name == "ReplyTo" and text.endswith("/none")):
            raise InvalidAddressingHeaderFault(
                f"wsa:{name} is {text or 'an endpoint with no address'}; this service replies"
                f" on the HTTP response only: leave wsa:{name} out, or make it anonymous"
                f" ({sorted(ANONYMOUS[namespace])[0]}).",
                namespace,
                "OnlyAnonymousAddressSupported",
            )
        if name == "ReplyTo":
            parameters = endpoint[0].find(f"{{{namespace}}}ReferenceParameters")
            if parameters is not None:
                references = tuple(parameters.iterchildren("{*}*"))
    action = _text(found["Action"][0])
    if action not in actions:
        raise ActionNotSupportedFault(
            f"The wsa:Action {action!r} is not supported here; the operations' actions are"
            f" {ns.soap_action('<Operation>')!r} ({', '.join(sorted(actions))}).",
            namespace,
        )
    if http_action and http_action != action:
        raise InvalidAddressingHeaderFault(
            f"The SOAPAction {http_action!r} and the wsa:Action {action!r} differ; send the"
            " same action in both, or an empty SOAPAction.",
            namespace,
            "ActionMismatch",
        )
    return Addressing(namespace, action, partial.message_id or "", references)


def _text(element: etree._Element) -> str:
    return (element.text or "").strip()


def write_reply(
    envelope: etree._Element,
    version: SoapVersion,
    namespace: str,
    action: str,
    relates_to: str | None,
    reference_parameters: Iterable[etree._Element] = (),
) -> None:
    """Adds the reply's addressing headers (rule 6) to ``envelope``, before its Body."""
    env = version.envelope_ns
    header = envelope.find(f"{{{env}}}Header")
    if header is None:
        header = etree.Element(f"{{{env}}}Header")
        envelope.find(f"{{{env}}}Body").addprevious(header)
    wsa = f"{{{namespace}}}"
    nsmap = {"wsa": namespace}
    etree.SubElement(header, f"{wsa}Action", nsmap=nsmap).text = action
    etree.SubElement(header, f"{wsa}MessageID", nsmap=nsmap).text = f"urn:uuid:{uuid.uuid4()}"
    if relates_to:
        etree.SubElement(header, f"{wsa}RelatesTo", nsmap=nsmap).text = relates_to
    anonymous = f"{ns.WSA}/anonymous" if namespace == ns.WSA else f"{namespace}/role/anonymous"
    etree.SubElement(header, f"{wsa}To", nsmap=nsmap).text = anonymous
    for parameter in reference_parameters:
        copied = etree.fromstring(etree.tostring(parameter))
        if namespace == ns.WSA:
            copied.set(f"{wsa}IsReferenceParameter", "true")
        header.append(copied)


def reply_action(operation: str | None, fault: ServiceFault | None, namespace: str) -> str:
    """The wsa:Action of the reply to ``operation`` (rule 6)."""
    if fault is None and operation is not None:
        return ns.output_action(operation)
    if fault is not None and operation is not None and fault.detail_type is not None:
        return ns.fault_action(operation, type(fault).__name__)
    if fault is not None and fault.code.startswith("wsa:"):
        return FAULT_ACTION[namespace]
    return SOAP_FAULT_ACTION[namespace]
