"""``soap-service wsdl diff``: each kind of contract change, classified."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from service.contract.diff import NS, Change, diff
from tests.conftest import ROOT

COMMITTED = (ROOT / "wsdl" / "service.wsdl").read_bytes()
Edit = Callable[[etree._Element], None]


def _changed(edit: Edit) -> bytes:
    root = etree.fromstring(COMMITTED)
    edit(root)
    return etree.tostring(root)


def _one(xpath: str) -> Callable[[etree._Element], etree._Element]:
    def find(root: etree._Element) -> etree._Element:
        found = root.xpath(xpath, namespaces=NS)
        assert len(found) == 1, (xpath, found)
        return found[0]

    return find


PERSON = _one("//xs:complexType[@name='Person']/xs:sequence")
LAST_NAME = _one("//xs:complexType[@name='Person']/xs:sequence/xs:element[@name='last_name']")
TIMEZONE_FIELD = _one("//xs:element[@name='GetTime']//xs:element[@name='timezone']")
GREET_SEQUENCE = _one("//xs:element[@name='Greet']/xs:complexType/xs:sequence")
TIME_INFO = _one("//xs:complexType[@name='TimeInfo']/xs:sequence")


def _facet(type_name: str, facet: str) -> Callable[[etree._Element], etree._Element]:
    return _one(f"//xs:simpleType[@name='{type_name}']/xs:restriction/xs:{facet}")


def _add_field(sequence: Callable[[etree._Element], etree._Element], min_occurs: str) -> Edit:
    def edit(root: etree._Element) -> None:
        element = etree.SubElement(sequence(root), f"{{{NS['xs']}}}element")
        element.set("name", "nickname")
        element.set("type", "xs:string")
        element.set("minOccurs", min_occurs)

    return edit


def _set(find: Callable[[etree._Element], etree._Element], name: str, value: str) -> Edit:
    return lambda root: find(root).set(name, value)


def _remove(find: Callable[[etree._Element], etree._Element]) -> Edit:
    def edit(root: etree._Element) -> None:
        element = find(root)
        element.getparent().remove(element)

    return edit


def _remove_operation(root: etree._Element) -> None:
    for xpath in (
        "//wsdl:portType/wsdl:operation[@name='DeleteImage']",
        "//wsdl:binding/wsdl:operation[@name='DeleteImage']",
    ):
        for element in root.xpath(xpath, namespaces=NS):
            element.getparent().remove(element)


def _add_operation(root: etree._Element) -> None:
    port_type = root.find("wsdl:portType", NS)
    clone = copy.deepcopy(port_type.find("wsdl:operation[@name='Greet']", NS))
    clone.set("name", "GreetAgain")
    port_type.append(clone)


def _verdicts(edit: Edit) -> set[tuple[str, str]]:
    return {(c.kind, c.what) for c in diff(COMMITTED, _changed(edit))}


def _kinds(edit: Edit) -> set[str]:
    return {c.kind for c in diff(COMMITTED, _changed(edit))}


def test_the_same_contract_has_no_changes() -> None:
    assert diff(COMMITTED, COMMITTED) == []


def test_removed_field_is_breaking() -> None:
    assert _verdicts(_remove(LAST_NAME)) == {("breaking", "field last_name removed")}


def test_new_optional_field_is_additive() -> None:
    assert _verdicts(_add_field(PERSON, "0")) == {("additive", "new optional field nickname")}


def test_new_required_field_breaks_requests_but_not_responses() -> None:
    assert _kinds(_add_field(GREET_SEQUENCE, "1")) == {"breaking"}
    assert _kinds(_add_field(TIME_INFO, "1")) == {"additive"}  # only the service sends it


def test_optional_made_required_is_breaking() -> None:
    assert _verdicts(_set(TIMEZONE_FIELD, "minOccurs", "1")) == {
        ("breaking", "field timezone was optional, now required")
    }


def test_required_made_optional_breaks_what_clients_receive() -> None:
    # Person is both sent (EchoPerson's request) and received (its response)
    assert _kinds(_set(LAST_NAME, "minOccurs", "0")) == {"breaking"}


def test_narrowed_type_is_breaking() -> None:
    changes = _verdicts(_set(_facet("PersonName", "maxLength"), "value", "50"))
    assert [kind for kind, _ in changes] == ["breaking"]
    assert "maxLength 100 became 50" in next(iter(changes))[1]


def test_widening_depends_on_who_sends_the_type() -> None:
    # PageSize is only ever sent by clients: accepting more is safe
    assert _kinds(_set(_facet("PageSize", "maxInclusive"), "value", "500")) == {"additive"}
    # PersonName comes back in EchoPerson's response: a longer name may fail the client's checks
    assert _kinds(_set(_facet("PersonName", "maxLength"), "value", "500")) == {"breaking"}
    # the service sends fewer rejection reasons: nothing a client sends is refused
    assert _kinds(_remove(_one("//xs:enumeration[@value='corrupt']"))) == {"additive"}


def test_changed_field_type_is_breaking() -> None:
    assert _kinds(_set(LAST_NAME, "type", "xs:int")) == {"breaking"}


def test_namespace_change_is_breaking() -> None:
    edit = _set(_one("/wsdl:definitions"), "targetNamespace", "urn:soap-service:v2")
    assert ("breaking", "targetNamespace 'urn:soap-service:v1' became 'urn:soap-service:v2'") in (
        _verdicts(edit)
    )


def test_removed_operation_is_breaking_and_a_new_one_additive() -> None:
    assert ("breaking", "removed") in _verdicts(_remove_operation)
    assert _verdicts(_add_operation) == {("additive", "added")}


def test_soap_action_change_is_breaking() -> None:
    action = _one(
        "//wsdl:binding[@name='SoapServiceSoap11Binding']/wsdl:operation[@name='Greet']/soap:operation"
    )
    assert _kinds(_set(action, "soapAction", "urn:other/Greet")) == {"breaking"}


def test_wsam_action_change_is_breaking_and_a_new_one_additive() -> None:
    action = "{http://www.w3.org/2007/05/addressing/metadata}Action"
    output = _one("//wsdl:portType/wsdl:operation[@name='Greet']/wsdl:output")
    changed = _verdicts(_set(output, action, "urn:other/GreetResponse"))
    assert changed == {
        (
            "breaking",
            "output's wsam:Action 'urn:soap-service:v1/GreetResponse' became"
            " 'urn:other/GreetResponse'",
        )
    }

    def strip(root: etree._Element) -> None:
        for element in root.iter():
            element.attrib.pop(action, None)

    assert {c.kind for c in diff(_changed(strip), COMMITTED)} == {"additive"}
    assert _kinds(strip) == {"breaking"}


def test_a_new_address_is_only_information() -> None:
    address = _one("//wsdl:port[@name='SoapServiceSoap11']/soap:address")
    assert _kinds(_set(address, "location", "https://soap.example.com/soap")) == {"info"}


def test_change_lines_read_well() -> None:
    line = str(Change("breaking", "type Person", "field last_name removed"))
    assert line == "BREAKING  type Person: field last_name removed"


@pytest.mark.parametrize(
    ("edit", "code", "words"),
    [
        (_remove(LAST_NAME), 1, "BREAKING  type Person: field last_name removed"),
        (_add_field(PERSON, "0"), 0, "additive  type Person: new optional field nickname"),
        (lambda root: None, 0, "0 breaking, 0 additive, 0 info (the contracts are equivalent)"),
    ],
)
def test_the_command_exits_non_zero_on_breaking_changes(
    tmp_path: Path, edit: Edit, code: int, words: str
) -> None:
    new = tmp_path / "new.wsdl"
    new.write_bytes(_changed(edit))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "service",
            "wsdl",
            "diff",
            str(ROOT / "wsdl" / "service.wsdl"),
            str(new),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == code, done.stdout + done.stderr
    assert words in done.stdout


def test_the_command_refuses_what_is_not_a_wsdl(tmp_path: Path) -> None:
    junk = tmp_path / "junk.wsdl"
    junk.write_text("<not-a-wsdl/>")
    done = subprocess.run(
        [sys.executable, "-m", "service", "wsdl", "diff", str(junk), str(junk)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2 and "not a WSDL" in done.stderr
