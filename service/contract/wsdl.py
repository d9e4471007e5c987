"""The contract: the WSDL document rendered from spyne's interface.

spyne defines the operations and types (``service.contract.operations``,
``service.contract.models``, ``service.faults``); this module writes them as a WSDL 1.1
document that enterprise toolkits read without hand edits, which spyne's own
generator does not produce (see the README, "Why we render the WSDL"):

- document/literal wrapped; each message has one part named ``parameters``
  whose element is the operation's wrapper, an element with an *anonymous*
  complex type;
- required fields are ``minOccurs="1"``; nothing is nillable (rendering fails
  if a model declares a nillable field or forgets to say required/optional);
- constrained simple types are named and rendered once; sized XSD types only;
- each declared fault has a message with one element part of a typed detail,
  the element named like its type (WCF clients match a detail by that name);
- one portType, a SOAP 1.1 and a SOAP 1.2 binding, one service with two ports;
  ``soap12=False`` renders the SOAP 1.1 view (``wsdl/service-soap11.wsdl``, served
  at ``GET /soap?wsdl=soap11``): the same document without the SOAP 1.2 binding, its
  port and the soap12 namespace, for toolkits that read SOAP 1.1 only (Axis 1.4's
  WSDL2Java aborts on a SOAP 1.2 binding);
- both bindings reference one WS-Policy saying MTOM is understood and optional
  (``wsoma:OptimizedMimeSerialization wsp:Optional="true"``), which WCF's and
  CXF/Metro's importers read; toolkits without WS-Policy ignore it;
- only namespaces that are used are declared; docstrings become
  ``wsdl:documentation``.

The output is deterministic: the same models always give the same bytes.
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from lxml import etree
from spyne import (
    Boolean,
    ByteArray,
    ComplexModelBase,
    Date,
    DateTime,
    Double,
    Integer16,
    Integer32,
    Integer64,
    Unicode,
)
from spyne.application import Application

from service import ns
from service.contract import internals
from service.faults import ServiceFault

NSMAP: Final = {
    "wsdl": ns.WSDL,
    "soap": ns.WSDL_SOAP11,
    "soap12": ns.WSDL_SOAP12,
    "xs": ns.XSD,
    "tns": ns.TNS,
    "wsp": ns.WSP,
    "wsu": ns.WSU,
    "wsoma": ns.WSOMA,
    "wsam": ns.WSAM,
    "wsaw": ns.WSAW,
}

SOAP11_PATH: Final = "/soap"
SOAP12_PATH: Final = "/soap12"
#: ``GET /soap?wsdl=soap11`` (either port): the SOAP 1.1 view of the contract
SOAP11_VIEW: Final = "soap11"

# Most derived first: the first class a type is a subclass of names its XSD base.
_XSD_BASES: Final[tuple[tuple[type, str], ...]] = (
    (ByteArray, "base64Binary"),
    (Boolean, "boolean"),
    (DateTime, "dateTime"),
    (Date, "date"),
    (Integer64, "long"),
    (Integer32, "int"),
    (Integer16, "short"),
    (Double, "double"),
    (Unicode, "string"),
)


class ContractError(Exception):
    """The models break a rule of the contract; the message says which."""


def _w(tag: str) -> str:
    return f"{{{ns.WSDL}}}{tag}"


def _xs(tag: str) -> str:
    return f"{{{ns.XSD}}}{tag}"


def _finite(value: Any) -> bool:
    return value is not None and not (
        isinstance(value, (float, Decimal)) and (value != value or abs(value) == float("inf"))
    )


def _doc(obj: Any) -> str | None:
    text = inspect.getdoc(obj) if obj is not None else None
    return text.strip() if text else None


@dataclass
class _Schema:
    """Collects the named types the operations reach, in first-use order."""

    simple: dict[str, etree._Element] = field(default_factory=dict)
    complex: dict[str, etree._Element] = field(default_factory=dict)
    complex_classes: dict[str, Any] = field(default_factory=dict)

    def type_ref(self, cls: Any, where: str) -> str:
        if issubclass(cls, ComplexModelBase):
            return self._complex_ref(cls, where)
        return self._simple_ref(cls, where)

    def _simple_ref(self, cls: Any, where: str) -> str:
        base = next((name for klass, name in _XSD_BASES if issubclass(cls, klass)), None)
        if base is None:
            raise ContractError(f"{where}: no XSD type for {cls.__name__}")
        facets = _facets(cls, base)
        if not facets:
            return f"xs:{base}"
        name = cls.get_type_name()
        if not isinstance(name, str) or name == base:
            raise ContractError(f"{where}: a constrained type needs a type_name in models.py")
        restriction = etree.Element(_xs("restriction"), base=f"xs:{base}")
        for facet, value in facets:
            etree.SubElement(restriction, _xs(facet), value=value)
        element = etree.Element(_xs("simpleType"), name=name)
        element.append(restriction)
        known = self.simple.get(name)
        if known is not None and etree.tostring(known) != etree.tostring(element):
            raise ContractError(f"{where}: two different simple types are named {name}")
        self.simple.setdefault(name, element)
        return f"tns:{name}"

    def _complex_ref(self, cls: Any, where: str) -> str:
        name = cls.get_type_name()
        if cls.get_namespace() != ns.TNS:
            raise ContractError(f"{where}: {name} is not in the namespace {ns.TNS}")
        known = self.complex_classes.get(name)
        if known is not None and (known.__orig__ or known) is not (cls.__orig__ or cls):
            raise ContractError(f"{where}: two different complex types are named {name}")
        if name not in self.complex:
            self.complex[name] = etree.Element(_xs("complexType"), name=name)  # reserve order
            self.complex_classes[name] = cls
            element = self.complex[name]
            doc = _doc(cls.__orig__ or cls)
            if doc:
                annotation = etree.SubElement(element, _xs("annotation"))
                etree.SubElement(annotation, _xs("documentation")).text = doc
            element.append(self.sequence(cls, name))
        return f"tns:{name}"

    def sequence(self, cls: Any, where: str) -> etree._Element:
        sequence = etree.Element(_xs("sequence"))
        for child_name, child in internals.fields(cls).items():
            child_where = f"{where}.{child_name}"
            attrs = child.Attributes
            if attrs.nillable:
                raise ContractError(
                    f"{child_where}: nillable fields are not allowed; declare it with"
                    " REQUIRED or OPTIONAL from service.contract.models"
                )
            repeated = attrs.max_occurs != 1
            if attrs.min_occurs not in (0, 1) or (repeated and _finite(attrs.max_occurs)):
                raise ContractError(f"{child_where}: fields are single, or repeated without bound")
            element = etree.SubElement(
                sequence,
                _xs("element"),
                name=child_name,
                type=self.type_ref(child, child_where),
                minOccurs=str(attrs.min_occurs),
            )
            if repeated:
                element.set("maxOccurs", "unbounded")
        return sequence


def _facets(cls: Any, base: str) -> list[tuple[str, str]]:
    attrs = cls.Attributes
    facets: list[tuple[str, str]] = []
    if base == "string":
        values = getattr(attrs, "values", None) or ()
        facets += [("enumeration", str(v)) for v in values]
        if attrs.min_len and attrs.min_len > 0:
            facets.append(("minLength", str(attrs.min_len)))
        if _finite(attrs.max_len):
            facets.append(("maxLength", str(attrs.max_len)))
        if attrs.pattern is not None:
            facets.append(("pattern", str(attrs.pattern)))
    elif base in ("int", "long", "short"):
        for attr, facet in (("ge", "minInclusive"), ("gt", "minExclusive")):
            if _finite(getattr(attrs, attr)):
                facets.append((facet, str(int(getattr(attrs, attr)))))
        for attr, facet in (("le", "maxInclusive"), ("lt", "maxExclusive")):
            if _finite(getattr(attrs, attr)):
                facets.append((facet, str(int(getattr(attrs, attr)))))
    return facets


@dataclass(frozen=True)
class Operation:
    """One operation as the contract names it."""

    name: str
    doc: str | None
    in_message: Any
    out_message: Any
    faults: tuple[type[ServiceFault], ...]

    @property
    def request_element(self) -> str:
        return self.name

    @property
    def response_element(self) -> str:
        return f"{self.name}Response"


def operations(app: Application) -> list[Operation]:
    """The application's operations in the order the service classes define them."""
    result: list[Operation] = []
    for service in app.services:
        for name in service.public_methods:
            descriptor = internals.method_descriptor(app, ns.TNS, name)
            faults = tuple(descriptor.faults or ())
            for fault in faults:
                if not (isinstance(fault, type) and issubclass(fault, ServiceFault)):
                    raise ContractError(f"{name}: _throws must name ServiceFault classes")
                if fault.detail_type is None:
                    raise ContractError(f"{name}: {fault.__name__} has no detail type to declare")
            result.append(
                Operation(
                    name=name,
                    doc=_doc(internals.implementation(descriptor)),
                    in_message=descriptor.in_message,
                    out_message=descriptor.out_message,
                    faults=faults,
                )
            )
    return result


def render_wsdl(
    app: Application, base_url: str = ns.PLACEHOLDER_BASE_URL, *, soap12: bool = True
) -> bytes:
    """The WSDL document of ``app``, with its ports at ``base_url``.

    ``soap12=False``: the SOAP 1.1 view, the same document without the SOAP 1.2
    binding, its port and the soap12 namespace declaration."""
    ops = operations(app)
    base_url = base_url.rstrip("/")
    nsmap = NSMAP if soap12 else {k: v for k, v in NSMAP.items() if v != ns.WSDL_SOAP12}
    root = etree.Element(
        _w("definitions"), nsmap=nsmap, name=ns.SERVICE_NAME, targetNamespace=ns.TNS
    )
    service_doc = _doc(app.services[0]) if app.services else None
    if service_doc:
        etree.SubElement(root, _w("documentation")).text = service_doc

    # policy: MTOM/XOP is accepted on both bindings (service.soap.mtom), optionally
    policy = etree.SubElement(root, f"{{{ns.WSP}}}Policy", {f"{{{ns.WSU}}}Id": ns.MTOM_POLICY_ID})
    etree.SubElement(
        policy, f"{{{ns.WSOMA}}}OptimizedMimeSerialization", {f"{{{ns.WSP}}}Optional": "true"}
    )
    # and WS-Addressing (service.soap.addressing), optionally, replies on the HTTP response
    # only: toolkits that read WS-Policy may turn it on, the others ignore it
    policy = etree.SubElement(
        root, f"{{{ns.WSP}}}Policy", {f"{{{ns.WSU}}}Id": ns.ADDRESSING_POLICY_ID}
    )
    addressing = etree.SubElement(
        policy, f"{{{ns.WSAM}}}Addressing", {f"{{{ns.WSP}}}Optional": "true"}
    )
    nested = etree.SubElement(addressing, f"{{{ns.WSP}}}Policy")
    etree.SubElement(nested, f"{{{ns.WSAM}}}AnonymousResponses")

    # types
    schema_holder = etree.SubElement(root, _w("types"))
    schema = _Schema()
    elements: list[etree._Element] = []
    faults: dict[str, type[ServiceFault]] = {}
    for op in ops:
        for element_name, message in (
            (op.request_element, op.in_message),
            (op.response_element, op.out_message),
        ):
            element = etree.Element(_xs("element"), name=element_name)
            complex_type = etree.SubElement(element, _xs("complexType"))
            complex_type.append(schema.sequence(message, element_name))
            elements.append(element)
        for fault in op.faults:
            faults.setdefault(fault.__name__, fault)
    for fault_name, fault in faults.items():
        assert fault.detail_type is not None
        elements.append(
            etree.Element(
                _xs("element"),
                name=fault.detail_element(),
                type=schema.type_ref(fault.detail_type, fault_name),
            )
        )
    xs_schema = etree.SubElement(
        schema_holder, _xs("schema"), targetNamespace=ns.TNS, elementFormDefault="qualified"
    )
    for node in [*schema.simple.values(), *schema.complex.values(), *elements]:
        xs_schema.append(node)

    # messages
    tns = "tns:"
    for op in ops:
        for message_name, element_name in (
            (f"{op.name}Request", op.request_element),
            (f"{op.name}Response", op.response_element),
        ):
            message = etree.SubElement(root, _w("message"), name=message_name)
            etree.SubElement(message, _w("part"), name="parameters", element=tns + element_name)
    for fault_name, fault in faults.items():
        message = etree.SubElement(root, _w("message"), name=fault_name)
        etree.SubElement(message, _w("part"), name="detail", element=tns + fault.detail_element())

    # portType
    port_type = etree.SubElement(root, _w("portType"), name=ns.PORT_TYPE)
    for op in ops:
        operation = etree.SubElement(port_type, _w("operation"), name=op.name)
        if op.doc:
            etree.SubElement(operation, _w("documentation")).text = op.doc
        etree.SubElement(
            operation,
            _w("input"),
            _actions(ns.soap_action(op.name)),
            message=f"{tns}{op.name}Request",
        )
        etree.SubElement(
            operation,
            _w("output"),
            _actions(ns.output_action(op.name)),
            message=f"{tns}{op.name}Response",
        )
        for fault in op.faults:
            etree.SubElement(
                operation,
                _w("fault"),
                _actions(ns.fault_action(op.name, fault.__name__)),
                name=fault.__name__,
                message=tns + fault.__name__,
            )

    # bindings and ports
    service = etree.Element(_w("service"), name=ns.SERVICE_NAME)
    versions = [("11", ns.WSDL_SOAP11, SOAP11_PATH), ("12", ns.WSDL_SOAP12, SOAP12_PATH)]
    for version, soap_ns, path in versions if soap12 else versions[:1]:
        binding_name = f"{ns.SERVICE_NAME}Soap{version}Binding"
        binding = etree.SubElement(
            root, _w("binding"), name=binding_name, type=f"{tns}{ns.PORT_TYPE}"
        )
        etree.SubElement(binding, f"{{{ns.WSP}}}PolicyReference", URI=f"#{ns.MTOM_POLICY_ID}")
        etree.SubElement(binding, f"{{{ns.WSP}}}PolicyReference", URI=f"#{ns.ADDRESSING_POLICY_ID}")
        etree.SubElement(
            binding, f"{{{soap_ns}}}binding", style="document", transport=ns.HTTP_TRANSPORT
        )
        for op in ops:
            operation = etree.SubElement(binding, _w("operation"), name=op.name)
            etree.SubElement(
                operation,
                f"{{{soap_ns}}}operation",
                soapAction=ns.soap_action(op.name),
                style="document",
            )
            for direction in ("input", "output"):
                holder = etree.SubElement(operation, _w(direction))
                etree.SubElement(holder, f"{{{soap_ns}}}body", use="literal")
            for fault in op.faults:
                holder = etree.SubElement(operation, _w("fault"), name=fault.__name__)
                etree.SubElement(holder, f"{{{soap_ns}}}fault", name=fault.__name__, use="literal")
        port = etree.SubElement(
            service,
            _w("port"),
            name=f"{ns.SERVICE_NAME}Soap{version}",
            binding=f"{tns}{binding_name}",
        )
        etree.SubElement(port, f"{{{soap_ns}}}address", location=base_url + path)
    root.append(service)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _actions(action: str) -> dict[str, str]:
    """A message's WS-Addressing action, in the metadata namespace (wsam:Action, which
    JAX-WS, CXF and zeep read) and the WSDL Binding draft's (wsaw:Action, which WCF
    publishes and Mono's svcutil reads): the same value, so no toolkit sees two."""
    return {f"{{{ns.WSAM}}}Action": action, f"{{{ns.WSAW}}}Action": action}


def schema_element(wsdl: bytes) -> etree._Element:
    """The ``xs:schema`` of a rendered WSDL, standalone (namespaces copied in)."""
    root = etree.fromstring(wsdl, parser=etree.XMLParser(resolve_entities=False))
    found = root.find(f"{_w('types')}/{_xs('schema')}")
    if found is None:
        raise ContractError("the WSDL has no schema")
    # QName-valued attributes (type="tns:Person") need their prefixes declared
    # on the standalone copy, not only on the WSDL root above it.
    schema = etree.Element(found.tag, dict(found.attrib), nsmap={"xs": ns.XSD, "tns": ns.TNS})
    schema.extend(copy.deepcopy(child) for child in found)
    return schema
