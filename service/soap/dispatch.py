"""From a parsed envelope to a response envelope, through spyne.

The dispatch rule (documented in the README): the element in the Body names
the operation. A SOAPAction (the SOAP 1.1 header, or the SOAP 1.2
``action`` media-type parameter), when present and not empty, must name the
same operation (its URI from the WSDL, or the bare operation name); ``*``
(WCF's wildcard action, which Mono's generated proxies send) names none. A
mismatch is a fault, so a SOAPAction can never steer a request to a
different operation than the one its Body asks for.

Before any operation code runs, the operation element is validated against
the contract's own schema (rendered from the same models as the published
WSDL), and each failure becomes a ValidationFault naming the field.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

import pybase64
from lxml import etree
from spyne import ByteArray, ComplexModelBase, MethodContext
from spyne.application import Application

from service import ns
from service.contract.codec import UNSUPPORTED, MessageCodec
from service.contract.operations import NEEDS_EXCHANGE, Scope
from service.contract.wsdl import Operation, operations, render_wsdl, schema_element
from service.faults import (
    InternalFault,
    ServiceFault,
    SoapActionMismatchFault,
    UnknownOperationFault,
    ValidationFault,
)
from service.http.forwarding import Exchange
from service.security.identity import Policy, identify
from service.security.users import UserStore
from service.soap.envelope import Request, SoapVersion, fault_envelope, new_envelope, serialize
from service.soap.hardening import Limits
from service.soap.mtom import resolve_includes

log = logging.getLogger("soap_service.dispatch")

_XSI_NIL: Final = f"{{{ns.XSI}}}nil"
_EXPECTED: Final = re.compile(r"Expected is (?:one of )?\( ([^ )]+)")
_CLARK: Final = re.compile(r"\{[^}]*\}")
_QUOTED_LONG: Final = re.compile(r"(?:^|(?<=value ))'[^']{40,}'")


class _Transport:
    """What spyne's MethodContext wants to know about the transport."""

    type = "soap-service"

    def __init__(self, app: Application) -> None:
        self.app = app


class _Context:
    """What the operations use of spyne's MethodContext (``ctx.udc``), on the codec's path."""

    __slots__ = ("udc",)

    def __init__(self, udc: Scope) -> None:
        self.udc = udc


@dataclass(frozen=True)
class Outcome:
    """What the dispatcher made of a request: the response envelope and what to log.

    ``document`` is the envelope as a tree, or already serialised when the
    operation's codec wrote it (``service.contract.codec``). ``binary`` lists the
    response's base64Binary elements, which an MTOM response sends as parts of
    their own (``service.soap.mtom.pack``); a serialised document has none.
    """

    document: etree._Element | bytes
    operation: str | None
    fault: ServiceFault | None
    binary: tuple[etree._Element, ...] = ()

    @property
    def body(self) -> bytes:
        if isinstance(self.document, bytes):
            return self.document
        return serialize(self.document)

    @property
    def envelope(self) -> etree._Element:
        if isinstance(self.document, bytes):
            return etree.fromstring(self.document)
        return self.document


class Dispatcher:
    def __init__(
        self,
        app: Application,
        scope: Scope,
        users: UserStore,
        policy: Policy,
        max_text_length: int = Limits().max_text_length,
        codecs: bool = True,
    ) -> None:
        """``codecs=False`` runs every call through spyne's own path (for the
        differential tests that prove the codecs equal to it)."""
        self.app = app
        self.max_text_length = max_text_length
        self.scope = scope
        self.users = users
        self.policy = policy
        self._transport = _Transport(app)
        self._operations: dict[str, Operation] = {op.name: op for op in operations(app)}
        self._functions = {
            name: app.interface.service_method_map[f"{{{ns.TNS}}}{name}"][0]
            for name in self._operations
        }
        self._schema_doc = schema_element(render_wsdl(app))
        self._base64_fields = {
            name: frozenset(
                field
                for field, kind in op.in_message._type_info.items()
                if issubclass(kind, ByteArray)
            )
            for name, op in self._operations.items()
        }
        self._optional = {
            name: frozenset(
                field
                for field, kind in op.in_message._type_info.items()
                if kind.Attributes.min_occurs == 0
            )
            for name, op in self._operations.items()
        }
        self._binary_paths = {
            name: tuple(
                "/".join(f"{{{ns.TNS}}}{step}" for step in path)
                for path in _binary_paths(op.out_message)
            )
            for name, op in self._operations.items()
        }
        self._codecs = {
            name: MessageCodec(app.in_protocol, app.out_protocol, op.in_message, op.out_message)
            for name, op in self._operations.items()
            if codecs
        }
        self._local = threading.local()

    @property
    def operation_names(self) -> list[str]:
        return list(self._operations)

    @property
    def operations(self) -> Mapping[str, Operation]:
        return self._operations

    def _schema(self) -> etree.XMLSchema:
        schema: etree.XMLSchema | None = getattr(self._local, "schema", None)
        if schema is None:
            schema = etree.XMLSchema(self._schema_doc)
            self._local.schema = schema
        return schema

    def resolve(self, request: Request, soap_action: str | None) -> Operation:
        element = request.operation
        qname = etree.QName(element)
        op = self._operations.get(qname.localname) if qname.namespace == ns.TNS else None
        if op is None:
            hint = ""
            if qname.localname in self._operations:
                hint = f" (operations are in the namespace {ns.TNS})"
            raise UnknownOperationFault(
                f"No operation {qname.localname!r}{hint}; this service has"
                f" {', '.join(self._operations)}."
            )
        if soap_action and soap_action not in (ns.soap_action(op.name), op.name, "*"):
            raise SoapActionMismatchFault(
                f"The SOAPAction {soap_action!r} does not name the operation in the Body"
                f" ({op.name}, whose SOAPAction is {ns.soap_action(op.name)!r})."
            )
        return op

    def validate(self, op: Operation, element: etree._Element) -> dict[etree._Element, bytes]:
        """Checks the operation element against the schema; returns the base64Binary
        fields already decoded on the way (see ``_take_canonical_base64``)."""
        _drop_nil_placeholders(element, self._optional[op.name])
        schema = self._schema()
        base64_fields = self._base64_fields[op.name]
        decoded = _take_canonical_base64(element, base64_fields) if self._codecs else {}
        if not schema.validate(element):
            for child, data in decoded.items():  # the fault must read as it would have
                child.text = base64.b64encode(data).decode("ascii")
            schema.validate(element)
            raise _validation_fault(schema.error_log.last_error, op, element)
        # libxml2's base64Binary check skips characters outside ASCII, which
        # base64 decoding then chokes on: refuse them here, naming the field.
        for child in element if base64_fields else ():
            field = etree.QName(child).localname
            if field in base64_fields and not (child.text or "").isascii():
                raise ValidationFault(field, "is not valid base64 (it has non-ASCII characters)")
        return decoded

    def _resolve_xop(self, op: Operation, request: Request) -> dict[etree._Element, memoryview]:
        """An MTOM request's xop:Includes: the operation's own base64Binary fields keep
        their bytes as they came; any other Include becomes base64 text (the XOP infoset)."""
        if request.attachments is None:
            return {}
        wrapper = request.operation
        fields = self._base64_fields[op.name]

        def raw(element: etree._Element) -> bool:
            name = etree.QName(element)
            return (
                element.getparent() is wrapper
                and name.namespace == ns.TNS
                and name.localname in fields
            )

        return resolve_includes(
            wrapper.getroottree().getroot(), request.attachments, self.max_text_length, raw
        )

    def call(
        self,
        op: Operation,
        element: etree._Element,
        version: SoapVersion,
        scope: Scope,
        raw: dict[etree._Element, memoryview | bytes] | None = None,
    ) -> etree._Element | bytes:
        """Runs the operation: its codec's path, or spyne's deserialiser and serialiser.

        base64Binary fields of the operation are decoded here, not by spyne:
        spyne's ``ByteArray.from_base64`` joins the text character by character
        (``''.join(text)``), a list of one-character strings over 100 MiB for a
        10 MiB image. ``(b64decode(text),)`` is the value it would produce (the
        schema has already checked the text), and an MTOM part's bytes need no
        decoding at all. ``tests/test_soap_dispatch.py`` checks both against spyne's own.

        The operation's codec (``service.contract.codec``) reads the request and writes the
        response when it can; else spyne does. Either way the result is the same
        (``tests/test_contract_codec.py``).
        """
        decoded = take_binary(element, self._base64_fields[op.name], raw or {})
        codec = self._codecs.get(op.name)
        in_object = codec.decode(element) if codec else UNSUPPORTED
        ctx: MethodContext | _Context
        if in_object is UNSUPPORTED:
            ctx = self._spyne_context(scope)
            in_object = self.app.in_protocol.from_element(ctx, op.in_message, element)
        else:
            ctx = _Context(scope)
        for name, value in decoded.items():
            setattr(in_object, name, value)
        args = [getattr(in_object, name) for name in op.in_message._type_info]
        descriptor = self._functions[op.name]
        result = descriptor.function(ctx, *args)
        names = list(op.out_message._type_info)
        values = result if len(names) > 1 else (result,)
        if codec and not self._binary_paths[op.name]:
            encoded = codec.encode(version, values)
            if encoded is not UNSUPPORTED:
                return encoded
        out = op.out_message()
        for name, value in zip(names, values, strict=True):
            setattr(out, name, value)
        envelope, body = new_envelope(version)
        self.app.out_protocol.to_parent(
            self._spyne_context(scope), op.out_message, out, body, ns.TNS
        )
        return envelope

    def _spyne_context(self, scope: Scope) -> MethodContext:
        ctx = MethodContext(self._transport, MethodContext.SERVER)
        ctx.udc = scope
        return ctx

    def respond(
        self,
        request: Request,
        soap_action: str | None,
        authorization: str | None = None,
        environ: Mapping[str, Any] | None = None,
        binding: str | None = None,
    ) -> Outcome:
        """The response to an envelope already opened by ``service.soap.envelope``.

        Order: the operation, then the caller (so an unauthenticated request learns
        nothing of validation), then the schema, then the operation's code.
        """
        op: Operation | None = None
        try:
            op = self.resolve(request, soap_action)
            xop = self._resolve_xop(op, request)
            user = identify(op.name, request.header, authorization, self.users, self.policy)
            raw: dict[etree._Element, memoryview | bytes] = {
                **xop,
                **self.validate(op, request.operation),
            }
            scope = self.scope if user is None else replace(self.scope, user=user)
            if op.name in NEEDS_EXCHANGE:
                exchange = Exchange(
                    environ or {},
                    binding or request.version.value,
                    soap_action,
                    request.header,
                )
                scope = replace(scope, exchange=exchange)
            envelope = self.call(op, request.operation, request.version, scope, raw)
        except ServiceFault as fault:
            return Outcome(self.fault_tree(request.version, fault), op.name if op else None, fault)
        except Exception as error:  # our bug: say nothing of it to the client
            log.error(
                "internal error in %s: %s",
                op.name if op else "dispatch",
                type(error).__name__,
                exc_info=True,
            )
            internal = InternalFault()
            return Outcome(
                self.fault_tree(request.version, internal), op.name if op else None, internal
            )
        if isinstance(envelope, bytes):
            return Outcome(envelope, op.name, None)
        wrapper = envelope[0][0]
        binary = tuple(
            element for path in self._binary_paths[op.name] for element in wrapper.iterfind(path)
        )
        return Outcome(envelope, op.name, None, binary)

    def fault(self, version: SoapVersion, fault: ServiceFault) -> bytes:
        return serialize(self.fault_tree(version, fault))

    def fault_tree(self, version: SoapVersion, fault: ServiceFault) -> etree._Element:
        envelope, detail = fault_envelope(version, fault)
        typed = fault.typed_detail()
        if typed is None:
            detail.getparent().remove(detail)
        else:
            ctx = MethodContext(self._transport, MethodContext.SERVER)
            self.app.out_protocol.to_parent(
                ctx, type(typed), typed, detail, ns.TNS, fault.detail_element()
            )
        return envelope


def _binary_paths(cls: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths (field names) from a message type down to each of its base64Binary fields."""
    paths: list[tuple[str, ...]] = []
    for name, kind in cls._type_info.items():
        if issubclass(kind, ByteArray):
            paths.append((*prefix, name))
        elif issubclass(kind, ComplexModelBase) and len(prefix) < 8:
            paths += _binary_paths(kind, (*prefix, name))
    return paths


#: Below this, a base64Binary field is left to the schema as it is.
_PREDECODE_MIN: Final = 4096


def _take_canonical_base64(
    wrapper: etree._Element, fields: frozenset[str]
) -> dict[etree._Element, bytes]:
    """Large base64Binary fields written in canonical base64, decoded and emptied.

    libxml2 takes ~60 ms to check the base64 of a 10 MiB image, longer than
    decoding it. Text that is exactly the canonical base64 of its bytes (what
    every toolkit sends unless it folds lines) is in base64Binary's lexical
    space, so the schema would accept it; and with no facets on these fields,
    an empty element stands for it in the schema's eyes. Anything else (folded
    lines, padding oddities, other characters) is left for the schema to judge.
    """
    decoded: dict[etree._Element, bytes] = {}
    for child in wrapper if fields else ():
        tag = child.tag
        if not isinstance(tag, str) or tag.rpartition("}")[2] not in fields or len(child):
            continue
        text = child.text
        if text is None or len(text) < _PREDECODE_MIN or not text.isascii():
            continue
        try:  # pybase64: SIMD, ~50 times binascii's speed; the round trip is the check
            data = pybase64.b64decode(text, validate=True)
        except ValueError:  # binascii.Error included
            continue
        if not _is_canonical(text, data):
            continue
        decoded[child] = data
        child.text = None
    return decoded


def _is_canonical(text: str, data: bytes, step: int = 3 << 20) -> bool:
    """Whether ``text`` is exactly the base64 of ``data`` (compared 4 MiB at a time)."""
    if len(text) != (len(data) + 2) // 3 * 4:
        return False
    view = memoryview(data)
    for start in range(0, len(data), step):
        chunk = pybase64.b64encode(view[start : start + step])
        at = start // 3 * 4
        if text[at : at + len(chunk)].encode("ascii") != chunk:
            return False
    return True


def take_binary(
    wrapper: etree._Element,
    fields: frozenset[str],
    raw: dict[etree._Element, memoryview | bytes],
) -> dict[str, tuple[bytes]]:
    """The values of ``wrapper``'s base64Binary ``fields``, as spyne's ByteArray gives them
    (a one-chunk tuple), each element emptied so spyne does not decode it again."""
    decoded: dict[str, tuple[bytes]] = {}
    for child in wrapper:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        if child in raw:
            value = raw[child]
            if len(value):  # an empty part is an empty element, as inline
                decoded[name] = (value if isinstance(value, bytes) else bytes(value),)
        elif name in fields and child.text:
            decoded[name] = (base64.b64decode(child.text),)
            child.text = None
    return decoded


def _is_nil(element: etree._Element) -> bool:
    return element.get(_XSI_NIL, "").strip() in ("true", "1") and len(element) == 0


def _drop_nil_placeholders(wrapper: etree._Element, optional: frozenset[str]) -> None:
    """Reads ``xsi:nil`` where toolkits use it to mean "not given".

    Some clients send an empty request wrapper as ``<GetTime xsi:nil="true"/>``,
    and WCF (and Mono) send a null optional argument as ``<timezone
    xsi:nil="true"/>``. Nothing in the contract is nillable, so these can only
    mean "absent": the wrapper's flag is dropped, and so is a nil element of an
    optional argument. A nil *required* field is left for the schema to refuse.
    """
    if _is_nil(wrapper):
        del wrapper.attrib[_XSI_NIL]
    for child in list(wrapper):
        if isinstance(child.tag, str) and _is_nil(child):
            if etree.QName(child).localname in optional and not (child.text or "").strip():
                wrapper.remove(child)


_SEGMENT: Final = re.compile(r"^(?:(?P<prefix>[^:\[]*):)?(?P<name>[^\[]+)(?:\[(?P<index>\d+)\])?$")


def _field_names(root: etree._Element, path: str) -> list[str]:
    """Local names along libxml2's error path, below ``root``.

    The path's spelling depends on the client's prefixes (``/tns:A/tns:b``,
    or ``/*/*[2]`` for a default namespace), so it is walked on the tree
    itself and the names are read from the elements.
    """
    names: list[str] = []
    node = root
    for segment in [s for s in path.split("/") if s][1:]:
        match = _SEGMENT.match(segment)
        if match is None:
            break
        wanted = match.group("name")
        index = int(match.group("index") or 1) - 1
        children = [
            child
            for child in node
            if isinstance(child.tag, str)
            and (wanted == "*" or etree.QName(child).localname == wanted)
        ]
        if index >= len(children):
            break
        node = children[index]
        names.append(etree.QName(node).localname)
    return names


def _validation_fault(error: Any, op: Operation, root: etree._Element) -> ValidationFault:
    """A ValidationFault naming the field libxml2 complained about, in plain words."""
    message: str = error.message if error is not None else "does not match the schema"
    segments = _field_names(root, (error.path or "") if error is not None else "")
    expected = _EXPECTED.search(message)
    expected_name = _CLARK.sub("", expected.group(1)) if expected else None
    if "Missing child element" in message and expected_name:
        segments.append(expected_name)
        reason = "is required and missing"
    elif "This element is not expected" in message and expected_name:
        found = segments[-1] if segments else "?"
        segments[-1:] = [expected_name]
        reason = f"is required and missing (found '{found}' in its place)"
    elif "This element is not expected" in message:
        reason = "is not part of the contract here"
    else:
        reason = re.sub(r"^Element '[^']*'(?:, attribute '[^']*')?: ", "", message)
        reason = re.sub(r"^\[facet '[^']*'\] ", "", reason)
        reason = _CLARK.sub("", reason).replace("atomic type ", "type ")
    reason = _QUOTED_LONG.sub(lambda m: m.group(0)[:41] + "...'", reason).strip().rstrip(".")
    return ValidationFault("/".join(segments) or op.name, reason[:300])
