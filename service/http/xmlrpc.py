"""The same operations over XML-RPC: ``POST /xmlrpc``, as seed 000's Flask-XML-RPC served them.

    >>> import xmlrpc.client
    >>> proxy = xmlrpc.client.ServerProxy("http://user:pw@localhost:8000/xmlrpc")
    >>> proxy.Greet("Ada")
    'Hello, Ada!'

Every operation is a method of its own name. Its parameters come positionally, in
the operation's order (``UploadImage(filename, content, content_type)``), or as one
struct of named parameters (``UploadImage({"filename": ..., "content": ...})``); a
single struct whose members are not all parameter names is the first parameter
itself (``EchoPerson({"first_name": ..., ...})``). Values take the XML-RPC types the
contract's types map to:

==================================  ==========================================
contract (XML Schema)               XML-RPC
==================================  ==========================================
complex type                        ``<struct>`` (absent optional members left out)
``ArrayOf<X>`` wrapper              ``<array>``
``xs:base64Binary``                 ``<base64>``
``xs:dateTime``                     ``<dateTime.iso8601>``, the contract's string
                                    to the second (``2026-12-06T10:49:58+01:00``:
                                    the offset kept, the fraction not: XML-RPC's
                                    dateTime has whole seconds, and clients such
                                    as Ruby's refuse one with a fraction)
``xs:int``, ``xs:long``             ``<int>`` (``<i8>`` beyond 32 bits)
``xs:boolean``                      ``<boolean>``
anything else                       ``<string>``
==================================  ==========================================

Nothing here knows an operation: the parameters become the operation's request
element (``service.http.binding.build_element``) and the call takes the SOAP path
through the dispatcher, with the same schema validation, authentication (HTTP
Basic), throttling and operations. The request is read by the same hardened
parser as a SOAP envelope (``service.soap.hardening``: no DTD, entity or external
fetch, the same limits), so a value the WSDL forbids is refused here too.

Faults are XML-RPC faults: ``faultCode`` a stable integer per fault class
(:data:`FAULT_CODES`, the table in the README), ``faultString`` the SOAP fault code
and the message (``Client.Validation: Invalid value for 'name': ...``). They come
with HTTP 200, as the XML-RPC specification asks, unless the failure is HTTP's own:
no credentials (401 with the Basic challenge, which clients such as LWP wait for
before they send any), a method other than POST (405), a body over the limit (413)
or too slow (408), a Content-Type other than XML (415), a stopping service (503).

``system.listMethods``, ``system.methodHelp`` (the operation's documentation, as in
the WSDL) and ``system.methodSignature`` describe the methods, without credentials.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from lxml import etree
from spyne import ComplexModelBase
from spyne.model.binary import ByteArray
from spyne.model.primitive import Boolean, DateTime, Decimal, Double, Float, Integer

from service.answer import Answer
from service.contract import internals
from service.contract.exchange import HttpSeen
from service.contract.wsdl import Operation
from service.faults import (
    ActionNotSupportedFault,
    AuthenticationRequiredFault,
    ClientFault,
    FailedAuthenticationFault,
    FailedCheckFault,
    ForbiddenXmlFault,
    ImageRejectedFault,
    InternalFault,
    InvalidAddressingHeaderFault,
    InvalidSecurityFault,
    InvalidSecurityTokenFault,
    LimitExceededFault,
    MalformedMimeFault,
    MalformedRequestFault,
    MessageAddressingHeaderRequiredFault,
    MessageExpiredFault,
    MethodNotAllowedFault,
    MustUnderstandFault,
    NotFoundFault,
    RequestTimeoutFault,
    RequestTooLargeFault,
    SecurityTokenUnavailableFault,
    ServiceFault,
    ShuttingDownFault,
    SoapActionMismatchFault,
    TooManyAttemptsFault,
    UnknownOperationFault,
    UnsupportedAlgorithmFault,
    UnsupportedMediaFault,
    ValidationFault,
    VersionMismatchFault,
    xml_safe,
)
from service.http.binding import build_element
from service.soap.dispatch import Dispatcher
from service.soap.envelope import Request, SoapVersion
from service.soap.hardening import Limits, parse_request

log = logging.getLogger("soap_service.http.xmlrpc")

PATH: Final = "/xmlrpc"
CONTENT_TYPE: Final = "text/xml; charset=utf-8"
#: Media types an XML-RPC request may be sent as (the specification says text/xml)
ACCEPTED_MEDIA: Final = frozenset({"text/xml", "application/xml", ""})
#: The binding's name where an operation shows what carried it (DescribeRequest)
BINDING: Final = "XML-RPC"

#: ``faultCode`` of each fault class: stable, documented in the README. The four the
#: XML-RPC fault code interoperability convention (xmlrpc-epi) defines take its
#: numbers; the others count up from 1. A subclass not listed takes its nearest
#: listed base's code (tests/test_http_xmlrpc.py holds every class of service.faults to one).
FAULT_CODES: Final[Mapping[type[ServiceFault], int]] = {
    MalformedRequestFault: -32700,  # "parse error: not well formed"
    UnknownOperationFault: -32601,  # "server error: requested method not found"
    ValidationFault: -32602,  # "server error: invalid method parameters"
    InternalFault: -32603,  # "server error: internal xml-rpc error"
    ImageRejectedFault: 1,
    NotFoundFault: 2,
    FailedAuthenticationFault: 3,
    TooManyAttemptsFault: 4,
    LimitExceededFault: 5,
    RequestTooLargeFault: 6,
    ForbiddenXmlFault: 7,
    UnsupportedMediaFault: 8,
    MethodNotAllowedFault: 9,
    RequestTimeoutFault: 10,
    ShuttingDownFault: 11,
    InvalidSecurityFault: 12,
    MessageExpiredFault: 13,
    # SOAP's own, which an XML-RPC call cannot cause: listed so every class has a code
    MalformedMimeFault: 14,
    SoapActionMismatchFault: 15,
    VersionMismatchFault: 16,
    MustUnderstandFault: 17,
    InvalidAddressingHeaderFault: 18,
    MessageAddressingHeaderRequiredFault: 19,
    ActionNotSupportedFault: 20,
    # X.509 signatures (service.security.signature): SOAP-only as well
    FailedCheckFault: 21,
    UnsupportedAlgorithmFault: 22,
    SecurityTokenUnavailableFault: 23,
    InvalidSecurityTokenFault: 24,
    ClientFault: 100,
    ServiceFault: 200,
}

#: Faults that are HTTP's own failures, answered with their HTTP status (and headers)
_HTTP_LEVEL: Final = (
    AuthenticationRequiredFault,
    MethodNotAllowedFault,
    RequestTooLargeFault,
    RequestTimeoutFault,
    UnsupportedMediaFault,
    ShuttingDownFault,
)

_METHOD_NAME: Final = re.compile(r"[A-Za-z0-9_.:/]{1,128}")
_INT: Final = re.compile(r"[+-]?[0-9]{1,19}")
_DOUBLE: Final = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
#: dateTime.iso8601 as most XML-RPC clients write it (Python's xmlrpc.client among them)
_BASIC_DATETIME: Final = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2}:\d{2}:\d{2}.*)")
#: the fraction of a second in the contract's xs:dateTime (``...T10:55:28.855219+01:00``)
_FRACTION: Final = re.compile(r"(?<=T\d\d:\d\d:\d\d)\.\d+")
_INT32: Final = range(-(2**31), 2**31)
_INT64: Final = range(-(2**63), 2**63)
_SYSTEM: Final = ("system.listMethods", "system.methodHelp", "system.methodSignature")


def fault_code(fault: ServiceFault) -> int:
    """The ``faultCode`` of ``fault``: its class's, or its nearest listed base's."""
    for cls in type(fault).__mro__:
        code = FAULT_CODES.get(cls)
        if code is not None:
            return code
    return FAULT_CODES[ServiceFault]


class Base64(bytes):
    """A ``<base64>`` value, kept as the text it came as (the schema checks it)."""


class DateTimeText(str):
    """A ``<dateTime.iso8601>`` value, in the contract's extended form."""


# --- reading a methodCall ---


def read_call(root: etree._Element) -> tuple[str, list[Any]]:
    """The method name and the parameters of a ``<methodCall>``."""
    if root.tag != "methodCall":
        raise MalformedRequestFault(
            f"The request is not an XML-RPC methodCall (its root is {_name(root)})."
        )
    children = _elements(root)
    if not children or children[0].tag != "methodName":
        raise MalformedRequestFault("The methodCall has no methodName first.")
    name = (children[0].text or "").strip()
    if not _METHOD_NAME.fullmatch(name):
        raise MalformedRequestFault(
            "The methodName must be 1 to 128 letters, digits, '_', '.', ':' or '/'."
        )
    params: list[Any] = []
    if len(children) > 2 or (len(children) == 2 and children[1].tag != "params"):
        raise MalformedRequestFault("A methodCall holds a methodName and then params, no more.")
    if len(children) == 2:
        for param in _elements(children[1]):
            values = _elements(param)
            if param.tag != "param" or len(values) != 1 or values[0].tag != "value":
                raise MalformedRequestFault("Each param of params holds exactly one value.")
            params.append(read_value(values[0]))
    return name, params


def read_value(value: etree._Element) -> Any:
    """A ``<value>`` as Python: str, int, bool, float, Base64, DateTimeText, dict, list or None."""
    inner = _elements(value)
    if not inner:  # no type element: a string
        return value.text or ""
    if len(inner) > 1 or (value.text or "").strip() or (inner[0].tail or "").strip():
        raise MalformedRequestFault("A value holds one typed element or text, not both.")
    typed = inner[0]
    kind = typed.tag
    text = typed.text or ""
    if kind != "struct" and kind != "array" and _elements(typed):
        raise MalformedRequestFault(f"An XML-RPC <{kind}> holds text, not elements.")
    if kind == "string":
        return text
    if kind in ("int", "i4", "i8"):
        stripped = text.strip()
        number = int(stripped) if _INT.fullmatch(stripped) else None
        if number is None or number not in (_INT64 if kind == "i8" else _INT32):
            raise MalformedRequestFault(f"<{kind}>{xml_safe(text[:40])}</{kind}> is not an {kind}.")
        return number
    if kind == "boolean":
        if text.strip() not in ("0", "1"):
            raise MalformedRequestFault("An XML-RPC <boolean> is 0 or 1.")
        return text.strip() == "1"
    if kind == "double":
        if not _DOUBLE.fullmatch(text.strip()):
            raise MalformedRequestFault(f"<double>{xml_safe(text[:40])}</double> is not a number.")
        return float(text)
    if kind == "base64":
        return Base64("".join(text.split()).encode("ascii", "replace"))
    if kind == "dateTime.iso8601":
        basic = _BASIC_DATETIME.fullmatch(text.strip())
        return DateTimeText(
            f"{basic[1]}-{basic[2]}-{basic[3]}T{basic[4]}" if basic else text.strip()
        )
    if kind == "nil":
        return None
    if kind == "struct":
        return _read_struct(typed)
    if kind == "array":
        data = _elements(typed)
        if len(data) != 1 or data[0].tag != "data":
            raise MalformedRequestFault("An XML-RPC <array> holds one <data>.")
        values = _elements(data[0])
        if any(v.tag != "value" for v in values):
            raise MalformedRequestFault("An array's <data> holds only <value> elements.")
        return [read_value(v) for v in values]
    raise MalformedRequestFault(f"XML-RPC has no <{xml_safe(_name(typed))}> value.")


def _read_struct(struct: etree._Element) -> dict[str, Any]:
    members: dict[str, Any] = {}
    for member in _elements(struct):
        parts = _elements(member)
        if (
            member.tag != "member"
            or len(parts) != 2
            or parts[0].tag != "name"
            or parts[1].tag != "value"
        ):
            raise MalformedRequestFault("Each member of a struct holds a name and then a value.")
        name = parts[0].text or ""
        if name in members:
            raise ValidationFault(xml_safe(name), "is given more than once")
        members[name] = read_value(parts[1])
    return members


def _elements(element: etree._Element) -> list[etree._Element]:
    return [child for child in element if isinstance(child.tag, str)]


def _name(element: etree._Element) -> str:
    return xml_safe(str(element.tag))


# --- parameters to the operation's request ---


def arguments(op: Operation, params: Sequence[Any]) -> dict[str, Any]:
    """The operation's parameters by name, from positional ones or one struct of them,
    in the shape ``build_element`` fills a request from."""
    fields = internals.fields(op.in_message)
    names = list(fields)
    if len(params) == 1 and isinstance(params[0], dict) and set(params[0]) <= set(names):
        given = dict(params[0])
    else:
        if len(params) > len(names):
            takes = ", ".join(names) or "no parameters"
            raise ValidationFault(
                "params",
                f"{op.name} takes at most {len(names)} parameters ({takes}); {len(params)} came",
            )
        given = dict(zip(names, params, strict=False))
    return {name: _fit(value, fields[name], name) for name, value in given.items()}


def _fit(value: Any, cls: Any, path: str) -> Any:
    """``value`` as ``build_element`` takes it for a field of type ``cls``."""
    if value is None:
        return None
    if issubclass(cls, ComplexModelBase):
        if not isinstance(value, dict):
            raise ValidationFault(path, "must be a struct")
        fields = internals.fields(cls)
        for name in value:
            if name not in fields:
                raise ValidationFault(
                    xml_safe(f"{path}.{name}"),
                    f"is not a member of {path} (it has {', '.join(fields)})",
                )
        return {name: _fit(item, fields[name], f"{path}.{name}") for name, item in value.items()}
    if isinstance(value, list | dict):
        raise ValidationFault(path, "must be a single value, not an array or a struct")
    if isinstance(value, Base64):
        if not issubclass(cls, ByteArray):
            raise ValidationFault(path, "is <base64> but the parameter is not binary")
        return value.decode("ascii")
    return value


# --- writing a methodResponse ---


def response(result: etree._Element, cls: Any) -> bytes:
    """The ``<methodResponse>`` whose one parameter is the operation's result element."""
    root = etree.Element("methodResponse")
    params = etree.SubElement(root, "params")
    param = etree.SubElement(params, "param")
    param.append(to_value(result, cls))
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def to_value(element: etree._Element, cls: Any) -> etree._Element:
    """An element of the response as an XML-RPC ``<value>``, typed by its spyne type."""
    value = etree.Element("value")
    if issubclass(cls, ComplexModelBase):
        fields = internals.fields(cls)
        repeated = _repeated_field(cls)
        if repeated is not None:  # an ArrayOf<X> wrapper: an array
            data = etree.SubElement(etree.SubElement(value, "array"), "data")
            for child in _elements(element):
                data.append(to_value(child, fields[repeated]))
            return value
        struct = etree.SubElement(value, "struct")
        for child in _elements(element):
            name = etree.QName(child).localname
            kind = fields.get(name)
            if kind is None:
                continue
            member = etree.SubElement(struct, "member")
            etree.SubElement(member, "name").text = name
            member.append(to_value(child, kind))
        return value
    text = element.text or ""
    if issubclass(cls, Boolean):
        etree.SubElement(value, "boolean").text = "1" if text.strip() in ("true", "1") else "0"
    elif issubclass(cls, Integer):
        etree.SubElement(value, "int" if int(text) in _INT32 else "i8").text = text.strip()
    elif issubclass(cls, Double | Float | Decimal):
        etree.SubElement(value, "double").text = repr(float(text))
    elif issubclass(cls, ByteArray):
        etree.SubElement(value, "base64").text = text
    elif issubclass(cls, DateTime):  # whole seconds, as XML-RPC's dateTime has them
        etree.SubElement(value, "dateTime.iso8601").text = _FRACTION.sub("", text, count=1)
    else:
        etree.SubElement(value, "string").text = text
    return value


def _repeated_field(cls: Any) -> str | None:
    """The one field of an ``ArrayOf<X>`` wrapper type (a single repeated field)."""
    fields = internals.fields(cls)
    if len(fields) == 1:
        name, kind = next(iter(fields.items()))
        if kind.Attributes.max_occurs > 1:
            return name
    return None


def fault_response(fault: ServiceFault) -> bytes:
    root = etree.Element("methodResponse")
    struct = etree.SubElement(etree.SubElement(etree.SubElement(root, "fault"), "value"), "struct")
    for name, kind, text in (
        ("faultCode", "int", str(fault_code(fault))),
        ("faultString", "string", f"{fault.code}: {xml_safe(fault.message)}"),
    ):
        member = etree.SubElement(struct, "member")
        etree.SubElement(member, "name").text = name
        etree.SubElement(etree.SubElement(member, "value"), kind).text = text
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def _values(*items: Any) -> bytes:
    """A methodResponse of plain Python values (for the system.* methods)."""
    root = etree.Element("methodResponse")
    param = etree.SubElement(etree.SubElement(root, "params"), "param")
    param.append(_plain(items[0]))
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def _plain(item: Any) -> etree._Element:
    value = etree.Element("value")
    if isinstance(item, list):
        data = etree.SubElement(etree.SubElement(value, "array"), "data")
        for entry in item:
            data.append(_plain(entry))
    else:
        etree.SubElement(value, "string").text = str(item)
    return value


def _kind(cls: Any) -> str:
    """The XML-RPC type name of a contract type, for system.methodSignature."""
    if issubclass(cls, ComplexModelBase):
        return "array" if _repeated_field(cls) is not None else "struct"
    for spyne_type, name in (
        (Boolean, "boolean"),
        (Integer, "int"),
        (Double, "double"),
        (Float, "double"),
        (Decimal, "double"),
        (ByteArray, "base64"),
        (DateTime, "dateTime.iso8601"),
    ):
        if issubclass(cls, spyne_type):
            return name
    return "string"


def signatures(op: Operation) -> list[list[str]]:
    """``[result type, parameter types...]`` for each number of parameters the
    operation takes positionally (its optional trailing ones may be left out)."""
    fields = list(internals.fields(op.in_message).values())
    result = _kind(next(iter(internals.fields(op.out_message).values())))
    required = max(
        (i + 1 for i, kind in enumerate(fields) if kind.Attributes.min_occurs > 0), default=0
    )
    return [[result, *map(_kind, fields[:count])] for count in range(required, len(fields) + 1)]


class XmlRpcBinding:
    """``POST /xmlrpc``: a methodCall in, a methodResponse out, faults included."""

    def __init__(self, dispatcher: Dispatcher, limits: Limits) -> None:
        self.dispatcher = dispatcher
        self.limits = limits
        self._ops = dispatcher.operations

    def answer(
        self,
        method: str,
        environ: Mapping[str, Any],
        read_body: Callable[[], bytes],
        seen: Callable[[], HttpSeen] | None = None,
    ) -> Answer:
        name: str | None = None
        try:
            if method != "POST":
                raise MethodNotAllowedFault(
                    f"Send XML-RPC calls with POST to {PATH}, not {xml_safe(method)}."
                )
            media_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
            if media_type not in ACCEPTED_MEDIA:
                raise UnsupportedMediaFault(
                    f"Content-Type {xml_safe(media_type)} is not accepted here; send text/xml."
                )
            name, params = read_call(parse_request(read_body(), self.limits))
            if name in _SYSTEM:
                return self._system(name, params)
            op = self._ops.get(name)
            if op is None:
                raise UnknownOperationFault(
                    f"No method {name!r}; this service has {', '.join(self._ops)}"
                    f" and {', '.join(_SYSTEM)}."
                )
            element = build_element(op.name, op.in_message, arguments(op, params))
        except ServiceFault as fault:
            return self._fault(fault, name if name in self._ops or name in _SYSTEM else None)
        except Exception as error:  # our bug: a typed fault, said nothing of to the client
            log.error(
                "internal error reading an XML-RPC call: %s", type(error).__name__, exc_info=True
            )
            return self._fault(InternalFault(), None)
        outcome = self.dispatcher.respond(
            Request(SoapVersion.SOAP11, None, element),
            None,
            environ.get("HTTP_AUTHORIZATION"),
            seen,
            BINDING,
        )
        if outcome.fault is not None:
            return self._fault(outcome.fault, op.name)
        result = outcome.envelope[-1][0][0]  # Envelope/Body/<Op>Response/<Op>Result
        out_type = next(iter(internals.fields(op.out_message).values()))
        return Answer.whole(200, CONTENT_TYPE, response(result, out_type), operation=op.name)

    def _system(self, name: str, params: Sequence[Any]) -> Answer:
        if name == "system.listMethods":
            if params:
                raise ValidationFault("params", f"{name} takes no parameters")
            return self._ok(name, _values([*self._ops, *_SYSTEM]))
        if len(params) != 1 or not isinstance(params[0], str):
            raise ValidationFault("params", f"{name} takes one parameter: a method's name")
        op = self._ops.get(params[0])
        if op is None and params[0] not in _SYSTEM:
            raise UnknownOperationFault(f"No method {xml_safe(params[0])!r} to describe.")
        if name == "system.methodHelp":
            help_text = (op.doc or "") if op else _SYSTEM_HELP[params[0]]
            return self._ok(name, _values(help_text))
        if op is None:
            return self._ok(name, _values(_SYSTEM_SIGNATURES[params[0]]))
        return self._ok(name, _values(signatures(op)))

    @staticmethod
    def _ok(name: str, body: bytes) -> Answer:
        return Answer.whole(200, CONTENT_TYPE, body, operation=name)

    @staticmethod
    def _fault(fault: ServiceFault, name: str | None) -> Answer:
        if isinstance(fault, _HTTP_LEVEL):
            status = fault.http_status_plain
            headers = fault.http_headers
            if isinstance(fault, MethodNotAllowedFault):
                headers = (*headers, ("Allow", "POST"))
        else:
            status, headers = 200, fault.http_headers  # Retry-After of a throttled call
        return Answer.whole(
            status, CONTENT_TYPE, fault_response(fault), *headers, operation=name, fault=fault
        )


_SYSTEM_HELP: Final = {
    "system.listMethods": "The names of the methods this server has.",
    "system.methodHelp": "The documentation of a method, given its name.",
    "system.methodSignature": "The [result type, parameter types...] lists a method takes.",
}
_SYSTEM_SIGNATURES: Final = {
    "system.listMethods": [["array"]],
    "system.methodHelp": [["string", "string"]],
    "system.methodSignature": [["array", "string"]],
}
