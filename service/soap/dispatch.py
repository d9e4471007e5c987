"""From an opened envelope to a response envelope: the order of a call's jobs.

1. **Resolution** (here): the element in the Body names the operation. A
   SOAPAction (the SOAP 1.1 header, or the SOAP 1.2 ``action`` media-type
   parameter), when present and not empty, must name the same operation (its
   URI from the WSDL, or the bare operation name); ``*`` (WCF's wildcard
   action, which Mono's generated proxies send) names none. A mismatch is a
   fault, so a SOAPAction can never steer a request to a different operation
   than the one its Body asks for.
2. **The caller** (``service.security.identity``), before the schema, so an
   unauthenticated request learns nothing of validation.
3. **The schema** (``service.soap.validation``), and the base64Binary fields
   taken out of the tree on the way (``service.soap.binary``).
4. **The call** (here): the operation's compiled codec (``service.contract.codec``)
   when it can, else spyne's own reader and writer
   (``service.contract.internals.Engine``); either way the same result. A
   base64Binary result the operation gives as a ``service.storage.Content``
   (GetImage's bytes, not yet read) is left out of the tree and kept beside it
   (``Outcome.streams``), to be read while the answer is sent
   (``service.soap.streamed``).

Every failure is a ServiceFault, answered as a fault envelope in the request's
SOAP version; anything else is our bug, logged, and answered as Server.Internal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final, NamedTuple

from lxml import etree
from spyne.application import Application

from service import ns
from service.contract import internals
from service.contract.codec import UNSUPPORTED, MessageCodec
from service.contract.exchange import Exchange, HttpSeen
from service.contract.operations import NEEDS_EXCHANGE, Scope
from service.contract.wsdl import Operation, operations, render_wsdl, schema_element
from service.faults import (
    InternalFault,
    ServiceFault,
    SoapActionMismatchFault,
    UnknownOperationFault,
)
from service.security.identity import Policy, identify
from service.security.users import UserStore
from service.soap import binary, streamed
from service.soap.envelope import Request, SoapVersion, fault_envelope, new_envelope, serialize
from service.soap.hardening import Limits
from service.soap.mtom import pack, resolve_includes
from service.soap.validation import Validator
from service.storage import Content

log = logging.getLogger("soap_service.dispatch")


class Outcome(NamedTuple):
    """What the dispatcher made of a request: the response envelope and what to log.

    ``document`` is the envelope as a tree, or already serialised when the
    operation's codec wrote it (``service.contract.codec``). ``binary`` lists the
    response's base64Binary elements, which an MTOM response sends as parts of
    their own (``service.soap.mtom.pack``); a serialised document has none.
    ``streams`` pairs the empty elements among them with the store's bytes that
    belong there, not yet read (``service.soap.streamed``): ``xml`` and
    ``service.soap.mtom.pack`` read them while the answer is sent; ``body`` and
    ``envelope`` read them whole into the tree first (the whole-document path).
    """

    document: etree._Element | bytes
    operation: str | None
    fault: ServiceFault | None
    binary: tuple[etree._Element, ...] = ()
    streams: tuple[tuple[etree._Element, Content], ...] = ()

    @property
    def body(self) -> bytes:
        if isinstance(self.document, bytes):
            return self.document
        streamed.materialize(self.streams)
        return serialize(self.document)

    @property
    def envelope(self) -> etree._Element:
        if isinstance(self.document, bytes):
            return etree.fromstring(self.document)
        streamed.materialize(self.streams)
        return self.document

    def xml(self) -> tuple[Iterable[bytes], int]:
        """The envelope as plain XML and its length, streamed values read as it is sent."""
        if isinstance(self.document, bytes):
            return (self.document,), len(self.document)
        if not self.streams:
            body = serialize(self.document)
            return (body,), len(body)
        return streamed.inline(self.document, self.streams, serialize)

    def mtom(self, soap_media: str) -> tuple[str, Iterable[bytes], int]:
        """The envelope as an MTOM message (its Content-Type, body and length), its
        base64Binary values as parts; streamed values read as it is sent."""
        # a document with streamed values is a tree; any other is made one
        envelope = self.document if self.streams else self.envelope
        assert isinstance(envelope, etree._Element)
        packed = pack(envelope, self.binary, soap_media, dict(self.streams))
        body, length = streamed.body_of(packed.chunks, encode=False)
        return packed.content_type, body, length


_new_outcome: Final = tuple.__new__


@dataclass(frozen=True)
class _Route:
    """What the dispatcher keeps of one operation, worked out once at startup."""

    op: Operation
    function: Callable[..., Any]
    field_names: tuple[str, ...]
    result_names: tuple[str, ...]
    base64_fields: frozenset[str]
    optional_fields: frozenset[str]
    #: Clark-notation paths, below the response wrapper, of its base64Binary elements
    binary_paths: tuple[str, ...]
    #: the same paths as field names, from a result's name down
    binary_fields: tuple[tuple[str, ...], ...]
    codec: MessageCodec | None
    #: the SOAPActions that name this operation (its URI, its bare name, WCF's ``*``)
    actions: frozenset[str]
    #: its operation function reads ``Scope.exchange`` (NEEDS_EXCHANGE)
    needs_exchange: bool
    #: the operation returns several values (else one, the result itself)
    several_results: bool


class Dispatcher:
    def __init__(
        self,
        app: Application,
        scope: Scope,
        users: UserStore,
        policy: Policy,
        max_text_length: int = Limits().max_text_length,
        codecs: bool = True,
        stream: bool = True,
    ) -> None:
        """``codecs=False`` runs every call through spyne's own path (for the
        differential tests that prove the codecs equal to it); ``stream=False`` reads
        every streamed result whole into the tree before it is written, the
        whole-document path (for the tests that prove streaming equal to it)."""
        self.engine = internals.Engine(app)
        self.stream = stream
        self.max_text_length = max_text_length
        self.scope = scope
        #: what the operations see of a call with no caller (they only read ``ctx.udc``)
        self._shared_context = internals.LightContext(scope)
        self.users = users
        self.policy = policy
        self.validator = Validator(schema_element(render_wsdl(app)), predecode=codecs)
        self._routes = {op.name: self._route(op, codecs) for op in operations(app)}
        self._operations: dict[str, Operation] = {name: r.op for name, r in self._routes.items()}
        #: each route by its element's Clark name: what ``resolve`` finds by its parts
        self._by_tag = {f"{{{ns.TNS}}}{name}": route for name, route in self._routes.items()}

    def _route(self, op: Operation, codecs: bool) -> _Route:
        in_fields = internals.fields(op.in_message)
        result_names = tuple(internals.fields(op.out_message))
        out_binary = binary.binary_paths(op.out_message)
        return _Route(
            op=op,
            function=self.engine.function(ns.TNS, op.name),
            field_names=tuple(in_fields),
            result_names=result_names,
            base64_fields=binary.base64_fields(op.in_message),
            optional_fields=frozenset(
                name for name, kind in in_fields.items() if kind.Attributes.min_occurs == 0
            ),
            binary_paths=tuple(
                "/".join(f"{{{ns.TNS}}}{step}" for step in path) for path in out_binary
            ),
            binary_fields=tuple(out_binary),
            codec=(
                MessageCodec(
                    self.engine.app.in_protocol,
                    self.engine.app.out_protocol,
                    op.in_message,
                    op.out_message,
                )
                if codecs
                else None
            ),
            actions=frozenset({ns.soap_action(op.name), op.name, "*"}),
            needs_exchange=op.name in NEEDS_EXCHANGE,
            several_results=len(result_names) > 1,
        )

    @property
    def base64_tags(self) -> dict[str, frozenset[str]]:
        """Each operation element's Clark name, with its base64Binary fields (those that
        have some)."""
        return {tag: r.base64_fields for tag, r in self._by_tag.items() if r.base64_fields}

    @property
    def compiled(self) -> bool:
        """Whether calls take the compiled codecs where they can (else spyne's path)."""
        return any(route.codec is not None for route in self._routes.values())

    @property
    def operation_names(self) -> list[str]:
        return list(self._operations)

    @property
    def operations(self) -> Mapping[str, Operation]:
        return self._operations

    def resolve(self, request: Request, soap_action: str | None) -> _Route:
        """The operation the Body names, if the SOAPAction agrees (module docstring, 1)."""
        qname = etree.QName(request.operation)
        route = self._routes.get(qname.localname) if qname.namespace == ns.TNS else None
        if route is None:
            hint = ""
            if qname.localname in self._routes:
                hint = f" (operations are in the namespace {ns.TNS})"
            raise UnknownOperationFault(
                f"No operation {qname.localname!r}{hint}; this service has"
                f" {', '.join(self._routes)}."
            )
        name = route.op.name
        if soap_action and soap_action not in (ns.soap_action(name), name, "*"):
            raise SoapActionMismatchFault(
                f"The SOAPAction {soap_action!r} does not name the operation in the Body"
                f" ({name}, whose SOAPAction is {ns.soap_action(name)!r})."
            )
        return route

    def _resolve_xop(
        self, route: _Route, request: Request
    ) -> dict[etree._Element, memoryview | Content]:
        """An MTOM request's xop:Includes: the operation's own base64Binary fields keep
        their bytes as they came; any other Include becomes base64 text (the XOP infoset)."""
        if request.attachments is None:
            return {}
        wrapper = request.operation
        fields = route.base64_fields

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
        route: _Route,
        element: etree._Element,
        version: SoapVersion,
        scope: Scope,
        raw: Mapping[etree._Element, memoryview | bytes | Content],
    ) -> tuple[etree._Element | bytes, tuple[tuple[etree._Element, Content], ...]]:
        """Runs the operation: its codec's path, or spyne's reader and writer; with the
        result's streamed values (``Outcome.streams``)."""
        if route.base64_fields or raw:
            decoded = binary.take_binary(element, route.base64_fields, raw)
        else:  # nothing it could take
            decoded = {}
        codec = route.codec
        args = codec.decode(element) if codec else UNSUPPORTED
        ctx: Any
        if args is UNSUPPORTED:
            ctx = self.engine.context(scope)
            in_object = self.engine.read(ctx, route.op.in_message, element)
            args = [getattr(in_object, name) for name in route.field_names]
        else:  # no caller, no exchange: the context made at startup serves
            ctx = self._shared_context
            if ctx.udc is not scope:
                ctx = internals.LightContext(scope)
        if decoded:
            for name, value in decoded.items():
                if name in route.field_names:
                    args[route.field_names.index(name)] = value
        result = route.function(ctx, *args)
        values = result if route.several_results else (result,)
        if codec and not route.binary_paths:
            encoded = codec.encode(version.envelope_ns, values)
            if encoded is not UNSUPPORTED:
                return encoded, ()
        out = route.op.out_message()
        for name, value in zip(route.result_names, values, strict=True):
            setattr(out, name, value)
        taken = self._take_contents(route, out) if route.binary_paths else []
        try:
            envelope, body = new_envelope(version)
            self.engine.write(self.engine.context(scope), route.op.out_message, out, body, ns.TNS)
            wrapper = envelope[0][0]
            streams = []
            for index, content in taken:
                element = wrapper.find(route.binary_paths[index])
                assert element is not None, "spyne writes every field it is given"
                element.text = None
                streams.append((element, content))
        except BaseException:
            for _, content in taken:
                content.close()
            raise
        return envelope, tuple(streams)

    def _take_contents(self, route: _Route, out: Any) -> list[tuple[int, Content]]:
        """The result's base64Binary values given as store ``Content`` (not yet read),
        each replaced by empty bytes for spyne to write; read whole at once instead when
        the dispatcher does not stream (``stream=False``)."""
        taken: list[tuple[int, Content]] = []
        for index, steps in enumerate(route.binary_fields):
            owner = out
            for step in steps[:-1]:
                owner = getattr(owner, step, None)
                if owner is None or isinstance(owner, list):
                    break  # absent, or inside an array: never a streamed value
            else:
                content = getattr(owner, steps[-1], None)
                if not isinstance(content, Content):
                    continue
                if self.stream:
                    setattr(owner, steps[-1], b"")
                    taken.append((index, content))
                else:
                    try:
                        setattr(owner, steps[-1], b"".join(content.pieces()))
                    finally:
                        content.close()
        return taken

    def respond(
        self,
        request: Request,
        soap_action: str | None,
        authorization: str | None = None,
        seen: Callable[[], HttpSeen] | None = None,
        binding: str | None = None,
        spooled: Mapping[etree._Element, Content] | None = None,
    ) -> Outcome:
        """The response to an envelope already opened by ``service.soap.envelope``.

        ``spooled``: base64Binary values left in the spooled body (``service.soap.spooled``).

        ``seen`` tells what the HTTP layer saw, for the operations that show it
        (``NEEDS_EXCHANGE``); the others never call it.
        """
        route: _Route | None = None
        try:
            element = request.operation
            route = self._by_tag.get(element.tag)
            if route is None or (soap_action and soap_action not in route.actions):
                route = self.resolve(request, soap_action)  # the fault that says why
            name = route.op.name
            # who is calling is settled before an MTOM request's parts are put in place
            user = identify(
                name, request.header, authorization, self.users, self.policy, element.getparent()
            )
            xop = self._resolve_xop(route, request) if request.attachments is not None else None
            validated = self.validator.validate(
                name, element, route.base64_fields, route.optional_fields, spooled
            )
            raw: Mapping[etree._Element, memoryview | bytes | Content] = (
                {**xop, **validated} if xop else validated
            )
            scope = self.scope if user is None else replace(self.scope, user=user)
            if route.needs_exchange:
                scope = replace(scope, exchange=_exchange(request, soap_action, seen, binding))
            envelope, streams = self.call(route, element, request.version, scope, raw)
        except ServiceFault as fault:
            return self.fault_outcome(request.version, fault, route)
        except Exception as error:  # our bug: say nothing of it to the client
            where = route.op.name if route else "dispatch"
            log.error("internal error in %s: %s", where, type(error).__name__, exc_info=True)
            return self.fault_outcome(request.version, InternalFault(), route)
        if isinstance(envelope, bytes):  # the codec's: Outcome(envelope, name, None), made in C
            return _new_outcome(Outcome, (envelope, name, None, (), ()))
        wrapper = envelope[0][0]
        found = tuple(element for path in route.binary_paths for element in wrapper.iterfind(path))
        return Outcome(envelope, name, None, found, streams)

    def fault_outcome(
        self, version: SoapVersion, fault: ServiceFault, route: _Route | None = None
    ) -> Outcome:
        return Outcome(self.fault_tree(version, fault), route.op.name if route else None, fault)

    def fault(self, version: SoapVersion, fault: ServiceFault) -> bytes:
        return serialize(self.fault_tree(version, fault))

    def fault_tree(self, version: SoapVersion, fault: ServiceFault) -> etree._Element:
        envelope, detail = fault_envelope(version, fault)
        typed = fault.typed_detail()
        if typed is None:
            detail.getparent().remove(detail)
        else:
            self.engine.write(
                self.engine.context(), type(typed), typed, detail, ns.TNS, fault.detail_element()
            )
        return envelope


def _exchange(
    request: Request,
    soap_action: str | None,
    seen: Callable[[], HttpSeen] | None,
    binding: str | None,
) -> Exchange:
    blocks = () if request.header is None else request.header
    return Exchange(
        http=seen() if seen is not None else HttpSeen.UNKNOWN,
        binding=binding or request.version.value,
        soap_action=soap_action,
        soap_headers=tuple(etree.QName(b).text for b in blocks if isinstance(b.tag, str)),
    )
