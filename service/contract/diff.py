"""Two WSDL documents compared, the two ways the project needs.

``drift(committed, published)``: any difference at all, addresses and formatting
aside (``soap-service wsdl check`` and the drift test: the committed contract
must be exactly what the models render).

``diff(old, new)`` (``soap-service wsdl diff OLD NEW``): is a contract change
safe for existing clients? Each difference between two WSDL documents is classified:

- **breaking**: a client generated from OLD may fail against NEW. A removed
  operation, binding, port, type or field; a namespace changed; a field's
  type changed; a request field made required (or a new required one); a
  response field made optional (the client may rely on it); a simple type
  narrowed where clients send it (shorter ``maxLength``, higher
  ``minInclusive``, an enumeration value gone, a new pattern, another base)
  or widened where the service sends it (the client's own validation may
  refuse what it now gets); a SOAPAction changed; a declared fault removed
  (the client's generated exception type disappears).
- **additive**: old clients go on working. A new operation, binding or type;
  a new optional field; a request field made optional; a type widened where
  only clients send it; a new declared fault.
- **info**: no effect on generated code (documentation, the endpoint address).

"Where clients send it" follows the messages: a type reachable from an
operation's input is *in*, from an output or a fault detail *out*; a type
used both ways gets the stricter verdict.

``narrowings``, ``judge`` and ``breaking_if`` are these rules for one simple type; the
OpenAPI description's diff (``service.contract.openapi``) applies them too.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final, Literal

from lxml import etree

from service import ns
from service.contract.wsdl import SOAP11_PATH, SOAP12_PATH

WSDL: Final = ns.WSDL
XS: Final = ns.XSD
SOAP11: Final = ns.WSDL_SOAP11
SOAP12: Final = ns.WSDL_SOAP12
NS: Final = {"wsdl": WSDL, "xs": XS, "soap": SOAP11, "soap12": SOAP12}
WSAM_ACTION: Final = "{http://www.w3.org/2007/05/addressing/metadata}Action"

Kind = Literal["breaking", "additive", "info"]
Direction = frozenset[str]  # {"in"}, {"out"} or both


@dataclass(frozen=True, order=True)
class Change:
    kind: Kind
    where: str
    what: str

    def __str__(self) -> str:
        label = {"breaking": "BREAKING", "additive": "additive", "info": "info"}[self.kind]
        return f"{label:9} {self.where}: {self.what}"


@dataclass(frozen=True)
class _Field:
    name: str
    type: str  # a QName's text, or "(anonymous)" for an inline type
    min_occurs: int
    max_occurs: str


class Contract:
    """The parts of a WSDL document a client's generated code depends on."""

    def __init__(self, document: bytes) -> None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        self.root = etree.fromstring(document, parser)
        if self.root.tag != f"{{{WSDL}}}definitions":
            raise ValueError("not a WSDL 1.1 document (no wsdl:definitions root)")
        self.namespace = self.root.get("targetNamespace", "")
        schemas = self.root.findall("wsdl:types/xs:schema", NS)
        self.schema_namespaces = sorted(s.get("targetNamespace", "") for s in schemas)
        self.simple: dict[str, etree._Element] = {}
        self.complex: dict[str, etree._Element] = {}  # "type X" or "element X" (anonymous)
        self.elements: dict[str, str] = {}  # element name -> the key of its type
        for schema in schemas:
            for simple in schema.findall("xs:simpleType", NS):
                self.simple[simple.get("name", "")] = simple
            for complex_type in schema.findall("xs:complexType", NS):
                self.complex[f"type {complex_type.get('name')}"] = complex_type
            for element in schema.findall("xs:element", NS):
                name = element.get("name", "")
                inline = element.find("xs:complexType", NS)
                if inline is not None:
                    self.complex[f"element {name}"] = inline
                    self.elements[name] = f"element {name}"
                else:
                    self.elements[name] = _type_key(self, element.get("type", ""))
        self.messages = {
            m.get("name", ""): [p.get("element", "") for p in m.findall("wsdl:part", NS)]
            for m in self.root.findall("wsdl:message", NS)
        }
        self.operations: dict[str, dict[str, list[str]]] = {}
        self.actions: dict[str, dict[str, str]] = {}
        for port_type in self.root.findall("wsdl:portType", NS):
            for op in port_type.findall("wsdl:operation", NS):
                self.operations[op.get("name", "")] = {
                    "input": [_local(i.get("message", "")) for i in op.findall("wsdl:input", NS)],
                    "output": [_local(o.get("message", "")) for o in op.findall("wsdl:output", NS)],
                    "fault": sorted(f.get("name", "") for f in op.findall("wsdl:fault", NS)),
                    "fault_messages": [
                        _local(f.get("message", "")) for f in op.findall("wsdl:fault", NS)
                    ],
                }
                # the WS-Addressing actions: what addressed requests and replies carry
                self.actions[op.get("name", "")] = {
                    (child.get("name") or etree.QName(child).localname): action
                    for child in op.findall("wsdl:*", NS)
                    if (action := child.get(WSAM_ACTION))
                }
        self.bindings: dict[str, dict[str, str]] = {}
        for binding in self.root.findall("wsdl:binding", NS):
            actions = {}
            for op in binding.findall("wsdl:operation", NS):
                action = op.find("soap:operation", NS)
                if action is None:
                    action = op.find("soap12:operation", NS)
                actions[op.get("name", "")] = "" if action is None else action.get("soapAction", "")
            self.bindings[binding.get("name", "")] = actions
        self.ports: dict[str, str] = {}
        for port in self.root.iterfind("wsdl:service/wsdl:port", NS):
            address = port.find("soap:address", NS)
            if address is None:
                address = port.find("soap12:address", NS)
            self.ports[port.get("name", "")] = (
                "" if address is None else address.get("location", "")
            )
        self.directions = self._directions()

    def fields(self, key: str) -> dict[str, _Field]:
        found = {}
        for element in self.complex[key].iter(f"{{{XS}}}element"):
            name = element.get("name") or _local(element.get("ref", ""))
            kind = element.get("type") or ("(anonymous)" if len(element) else "xs:anyType")
            found[name] = _Field(
                name,
                _local_type(kind),
                int(element.get("minOccurs", "1")),
                element.get("maxOccurs", "1"),
            )
        return found

    def _directions(self) -> dict[str, set[str]]:
        """For each complex type key and simple type name: in, out or both."""
        seen: dict[str, set[str]] = {}

        def visit(key: str, direction: str) -> None:
            if not key or direction in seen.setdefault(key, set()):
                return
            seen[key].add(direction)
            if key.startswith(("type ", "element ")) and key in self.complex:
                for element in self.complex[key].iter(f"{{{XS}}}element"):
                    visit(_type_key(self, element.get("type", "")), direction)
                    inline = element.find("xs:complexType", NS)
                    if inline is not None:
                        for sub in inline.iter(f"{{{XS}}}element"):
                            visit(_type_key(self, sub.get("type", "")), direction)
            elif key.startswith("simple "):
                simple = self.simple.get(key[len("simple ") :])
                restriction = None if simple is None else simple.find("xs:restriction", NS)
                if restriction is not None:
                    visit(_type_key(self, restriction.get("base", "")), direction)

        for op in self.operations.values():
            for direction, messages in (
                ("in", op["input"]),
                ("out", op["output"] + op["fault_messages"]),
            ):
                for message in messages:
                    for element in self.messages.get(message, []):
                        visit(self.elements.get(_local(element), ""), direction)
        return seen

    def direction(self, key: str) -> Direction:
        return frozenset(self.directions.get(key, {"in", "out"}))


def _local(qname: str) -> str:
    return qname.split(":", 1)[-1]


def _local_type(qname: str) -> str:
    prefix, _, local = qname.rpartition(":")
    return f"xs:{local}" if prefix in ("xs", "xsd") else local


def _type_key(contract: Contract, qname: str) -> str:
    local = _local_type(qname)
    if local.startswith("xs:") or not local:
        return ""
    if local in contract.simple:
        return f"simple {local}"
    return f"type {local}"


def breaking_if(condition: bool) -> Kind:
    return "breaking" if condition else "additive"


def diff(old_document: bytes, new_document: bytes) -> list[Change]:
    old, new = Contract(old_document), Contract(new_document)
    changes = list(_namespaces(old, new))
    changes += _operations(old, new)
    changes += _bindings(old, new)
    changes += _complex_types(old, new)
    changes += _simple_types(old, new)
    return sorted(set(changes), key=lambda c: (c.kind != "breaking", c.kind, c.where, c.what))


def _namespaces(old: Contract, new: Contract) -> Iterator[Change]:
    if old.namespace != new.namespace:
        yield Change(
            "breaking",
            "definitions",
            f"targetNamespace {old.namespace!r} became {new.namespace!r}",
        )
    if old.schema_namespaces != new.schema_namespaces:
        yield Change(
            "breaking",
            "types",
            f"schema namespaces {old.schema_namespaces} became {new.schema_namespaces}",
        )


def _operations(old: Contract, new: Contract) -> Iterator[Change]:
    for name in old.operations.keys() - new.operations.keys():
        yield Change("breaking", f"operation {name}", "removed")
    for name in new.operations.keys() - old.operations.keys():
        yield Change("additive", f"operation {name}", "added")
    for name in old.operations.keys() & new.operations.keys():
        before, after = old.operations[name], new.operations[name]
        for fault in set(before["fault"]) - set(after["fault"]):
            yield Change("breaking", f"operation {name}", f"declared fault {fault} removed")
        for fault in set(after["fault"]) - set(before["fault"]):
            yield Change("additive", f"operation {name}", f"declares a new fault {fault}")
        for part in ("input", "output"):
            was = [e for m in before[part] for e in old.messages.get(m, [])]
            now = [e for m in after[part] for e in new.messages.get(m, [])]
            if [_local(e) for e in was] != [_local(e) for e in now]:
                yield Change("breaking", f"operation {name}", f"{part} element {was} became {now}")
        was_actions, now_actions = old.actions.get(name, {}), new.actions.get(name, {})
        for message in sorted(was_actions.keys() | now_actions.keys()):
            before_action, after_action = was_actions.get(message), now_actions.get(message)
            if before_action == after_action:
                continue
            yield Change(
                "additive" if before_action is None else "breaking",
                f"operation {name}",
                f"{message}'s wsam:Action {before_action!r} became {after_action!r}",
            )


def _bindings(old: Contract, new: Contract) -> Iterator[Change]:
    for name in old.bindings.keys() - new.bindings.keys():
        yield Change("breaking", f"binding {name}", "removed")
    for name in new.bindings.keys() - old.bindings.keys():
        yield Change("additive", f"binding {name}", "added")
    for name in old.bindings.keys() & new.bindings.keys():
        before, after = old.bindings[name], new.bindings[name]
        for op in before.keys() & after.keys():
            if before[op] != after[op]:
                yield Change(
                    "breaking",
                    f"binding {name}",
                    f"{op}'s SOAPAction {before[op]!r} became {after[op]!r}",
                )
    for port in old.ports.keys() - new.ports.keys():
        yield Change("breaking", f"port {port}", "removed")
    for port in new.ports.keys() - old.ports.keys():
        yield Change("additive", f"port {port}", "added")
    for port in old.ports.keys() & new.ports.keys():
        if old.ports[port] != new.ports[port]:
            yield Change(
                "info", f"port {port}", f"address {old.ports[port]} became {new.ports[port]}"
            )


def _complex_types(old: Contract, new: Contract) -> Iterator[Change]:
    for key in old.complex.keys() - new.complex.keys():
        yield Change("breaking", key, "removed")
    for key in new.complex.keys() - old.complex.keys():
        yield Change("additive", key, "added")
    for key in sorted(old.complex.keys() & new.complex.keys()):
        direction = old.direction(key) | new.direction(key)
        sent_by_client, sent_to_client = "in" in direction, "out" in direction
        before, after = old.fields(key), new.fields(key)
        for name in before.keys() - after.keys():
            yield Change("breaking", key, f"field {name} removed")
        for name in after.keys() - before.keys():
            field = after[name]
            if field.min_occurs == 0:
                yield Change("additive", key, f"new optional field {name}")
            else:
                yield Change(
                    breaking_if(sent_by_client),
                    key,
                    f"new required field {name}"
                    + (" (clients must now send it)" if sent_by_client else ""),
                )
        for name in before.keys() & after.keys():
            was, now = before[name], after[name]
            if was.type != now.type:
                yield Change("breaking", key, f"field {name}'s type {was.type} became {now.type}")
            if was.min_occurs == 0 and now.min_occurs > 0:
                yield Change(
                    breaking_if(sent_by_client), key, f"field {name} was optional, now required"
                )
            if was.min_occurs > 0 and now.min_occurs == 0:
                yield Change(
                    breaking_if(sent_to_client),
                    key,
                    f"field {name} was required, now optional"
                    + (" (clients may rely on it)" if sent_to_client else ""),
                )
            if was.max_occurs != now.max_occurs:
                yield Change(
                    "breaking",
                    key,
                    f"field {name}'s maxOccurs {was.max_occurs} became {now.max_occurs}",
                )
        if [n for n in before if n in after] != [n for n in after if n in before]:
            yield Change("breaking", key, "fields reordered (a sequence's order is the contract)")


def _facets(simple: etree._Element) -> tuple[str, dict[str, list[str]]]:
    restriction = simple.find("xs:restriction", NS)
    if restriction is None:
        return "(not a restriction)", {}
    facets: dict[str, list[str]] = {}
    for facet in restriction:
        if isinstance(facet.tag, str):
            facets.setdefault(etree.QName(facet).localname, []).append(facet.get("value", ""))
    return _local_type(restriction.get("base", "")), facets


def _number(values: list[str] | None) -> Decimal | None:
    try:
        return Decimal(values[0]) if values else None
    except InvalidOperation:
        return None


def _simple_types(old: Contract, new: Contract) -> Iterator[Change]:
    for name in old.simple.keys() - new.simple.keys():
        yield Change("breaking", f"simpleType {name}", "removed")
    for name in new.simple.keys() - old.simple.keys():
        yield Change("additive", f"simpleType {name}", "added")
    for name in sorted(old.simple.keys() & new.simple.keys()):
        where = f"simpleType {name}"
        direction = old.direction(f"simple {name}") | new.direction(f"simple {name}")
        old_base, before = _facets(old.simple[name])
        new_base, after = _facets(new.simple[name])
        if old_base != new_base:
            yield Change("breaking", where, f"base type {old_base} became {new_base}")
            continue
        yield from judge(where, direction, narrowings(before, after))


def narrowings(
    before: dict[str, list[str]], after: dict[str, list[str]]
) -> Iterable[tuple[bool, str]]:
    """(narrowed?, what) for each facet that changed: narrowed accepts less than before."""
    upper = ("maxLength", "maxInclusive", "maxExclusive", "length", "totalDigits", "fractionDigits")
    lower = ("minLength", "minInclusive", "minExclusive")
    for facet in upper + lower:
        was, now = _number(before.get(facet)), _number(after.get(facet))
        if was == now:
            continue
        if was is None:
            yield True, f"{facet} {now} added"
        elif now is None:
            yield False, f"{facet} {was} removed"
        else:
            narrowed = now < was if facet in upper else now > was
            yield narrowed, f"{facet} {was} became {now}"
    gone = set(before.get("enumeration", [])) - set(after.get("enumeration", []))
    added = set(after.get("enumeration", [])) - set(before.get("enumeration", []))
    if before.get("enumeration") and not after.get("enumeration"):
        yield False, "enumeration removed (any value now)"
    else:
        for value in sorted(gone):
            yield True, f"enumeration value {value!r} removed"
        for value in sorted(added):
            yield False, f"enumeration value {value!r} added"
    if before.get("pattern") != after.get("pattern"):
        yield True, f"pattern {before.get('pattern')} became {after.get('pattern')}"


def judge(
    where: str, direction: frozenset[str], changes: Iterable[tuple[bool, str]]
) -> Iterator[Change]:
    for narrowed, what in changes:
        if narrowed:
            breaking = "in" in direction  # clients send values the service now refuses
            note = " (narrowed: clients may send values now refused)" if breaking else " (narrowed)"
        else:
            breaking = "out" in direction  # the service sends values clients may refuse
            note = (
                " (widened: clients may receive values they refuse)" if breaking else " (widened)"
            )
        yield Change(breaking_if(breaking), where, what + note)


def report(changes: list[Change]) -> str:
    breaking = sum(1 for c in changes if c.kind == "breaking")
    additive = sum(1 for c in changes if c.kind == "additive")
    lines = [str(c) for c in changes]
    lines.append(
        f"{breaking} breaking, {additive} additive, {len(changes) - breaking - additive} info"
        + ("" if changes else " (the contracts are equivalent)")
    )
    return "\n".join(lines)


# --- drift: any difference at all ---


def _canonical(wsdl: bytes) -> bytes:
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
    root = etree.fromstring(wsdl, parser=parser)
    for address in root.iter(f"{{{ns.WSDL_SOAP11}}}address", f"{{{ns.WSDL_SOAP12}}}address"):
        location = address.get("location", "")
        path = SOAP12_PATH if location.endswith(SOAP12_PATH) else SOAP11_PATH
        address.set("location", ns.PLACEHOLDER_BASE_URL + path)
    return etree.tostring(root, method="c14n2", strip_text=True)


def drift(committed: bytes, published: bytes) -> list[str]:
    """Differences between two WSDL documents, addresses and formatting aside.

    Empty when they are the same contract. Element order is kept as it is
    (``xs:sequence`` order is part of the contract).
    """
    left, right = _canonical(committed), _canonical(published)
    if left == right:
        return []

    def lines(canonical: bytes) -> list[str]:
        parser = etree.XMLParser(remove_blank_text=True)
        pretty = etree.tostring(etree.fromstring(canonical, parser), pretty_print=True)
        return pretty.decode().splitlines()

    return list(
        difflib.unified_diff(lines(left), lines(right), "committed", "published", lineterm="", n=2)
    )
