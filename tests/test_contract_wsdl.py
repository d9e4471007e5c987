"""The committed WSDL is the contract: no drift, and the rules toolkits need hold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests
from lxml import etree

from service import ns
from service.contract.diff import drift
from service.contract.operations import build_application
from service.contract.wsdl import ContractError, render_wsdl, schema_element
from tests.conftest import ROOT, LiveServer

COMMITTED = ROOT / "wsdl" / "service.wsdl"
SOAP11_VIEW = ROOT / "wsdl" / "service-soap11.wsdl"
W = {"wsdl": ns.WSDL, "xs": ns.XSD, "soap": ns.WSDL_SOAP11, "soap12": ns.WSDL_SOAP12}


@pytest.fixture(scope="module")
def wsdl() -> etree._Element:
    return etree.fromstring(COMMITTED.read_bytes())


def test_committed_wsdl_matches_the_models() -> None:
    assert drift(COMMITTED.read_bytes(), render_wsdl(build_application())) == []


def test_rendering_is_deterministic() -> None:
    assert render_wsdl(build_application()) == render_wsdl(build_application())
    assert render_wsdl(build_application()) == COMMITTED.read_bytes(), (
        "run 'make wsdl' (soap-service wsdl export) and review the change"
    )


@pytest.mark.parametrize("path", ["/soap?wsdl", "/soap12?wsdl", "/soap?WSDL"])
def test_published_wsdl_is_the_committed_one(live_server: LiveServer, path: str) -> None:
    response = requests.get(live_server.url + path, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    assert drift(COMMITTED.read_bytes(), response.content) == []


# --- the SOAP 1.1 view (GET /soap?wsdl=soap11), for toolkits that read SOAP 1.1 only ---


def _without_soap12(full: bytes) -> etree._Element:
    """The full contract with its SOAP 1.2 binding and that binding's port taken out."""
    root = etree.fromstring(full)
    (binding,) = root.xpath("wsdl:binding[soap12:binding]", namespaces=W)
    (port,) = root.xpath(
        "wsdl:service/wsdl:port[@binding=$name]", namespaces=W, name=f"tns:{binding.get('name')}"
    )
    for node in (binding, port):
        node.getparent().remove(node)
    return root


def _shape(node: etree._Element) -> tuple[object, ...]:
    """Tag, attributes, text and children: the document without its formatting."""
    return (
        node.tag,
        sorted(node.attrib.items()),
        (node.text or "").strip(),
        [_shape(child) for child in node],
    )


def test_soap11_view_is_the_full_contract_without_soap12() -> None:
    full, view = COMMITTED.read_bytes(), SOAP11_VIEW.read_bytes()
    expected, root = _without_soap12(full), etree.fromstring(view)
    assert _shape(root) == _shape(expected)
    assert root.nsmap == {k: v for k, v in expected.nsmap.items() if v != ns.WSDL_SOAP12}
    assert ns.WSDL_SOAP12.encode() not in view
    assert [p.get("name") for p in root.iterfind("wsdl:service/wsdl:port", W)] == [
        "SoapServiceSoap11"
    ]


def test_committed_soap11_view_matches_the_models() -> None:
    rendered = render_wsdl(build_application(), soap12=False)
    assert drift(SOAP11_VIEW.read_bytes(), rendered) == []
    assert rendered == SOAP11_VIEW.read_bytes(), (
        "run 'make wsdl' (soap-service wsdl export) and review the change"
    )


@pytest.mark.parametrize("path", ["/soap?wsdl=soap11", "/soap12?wsdl=soap11", "/soap?WSDL=SOAP11"])
def test_published_soap11_view_is_the_committed_one(live_server: LiveServer, path: str) -> None:
    response = requests.get(live_server.url + path, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    assert drift(SOAP11_VIEW.read_bytes(), response.content) == []
    root = etree.fromstring(response.content)
    assert root.xpath("//soap:address/@location", namespaces=W) == [live_server.url + "/soap"]
    assert not root.xpath("//soap12:*", namespaces=W)


@pytest.mark.parametrize("query", ["wsdl", "wsdl=", "wsdl=other"])
def test_any_other_wsdl_query_is_the_full_contract(live_server: LiveServer, query: str) -> None:
    response = requests.get(f"{live_server.url}/soap?{query}", timeout=30)
    assert response.status_code == 200
    assert drift(COMMITTED.read_bytes(), response.content) == []


def test_soap11_view_commands(live_server: LiveServer, tmp_path: Path) -> None:
    cli = [sys.executable, "-m", "service", "wsdl"]
    exported = subprocess.run(
        [*cli, "export", "--soap11", "--output", "-"], cwd=ROOT, capture_output=True, check=True
    )
    assert exported.stdout == SOAP11_VIEW.read_bytes()
    url = live_server.url + "/soap?wsdl=soap11"
    for extra in (["--url", url], ["--wsdl", str(SOAP11_VIEW)], []):
        checked = subprocess.run(
            [*cli, "check", "--soap11", *extra], cwd=ROOT, capture_output=True, text=True
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
    full_is_not_the_view = subprocess.run(
        [*cli, "check", "--soap11", "--wsdl", str(COMMITTED)], cwd=ROOT, capture_output=True
    )
    assert full_is_not_the_view.returncode == 1


def test_published_address_comes_from_configuration_not_the_request(
    live_server: LiveServer,
) -> None:
    response = requests.get(
        live_server.url + "/soap?wsdl", headers={"Host": "attacker.example:666"}, timeout=30
    )
    root = etree.fromstring(response.content)
    locations = root.xpath("//soap:address/@location|//soap12:address/@location", namespaces=W)
    assert locations == [live_server.url + "/soap", live_server.url + "/soap12"]


def test_public_url_setting_is_written_into_the_addresses() -> None:
    from service.config import Settings

    settings = Settings(public_url="https://soap.example.com/api/")
    root = etree.fromstring(render_wsdl(build_application(), settings.base_url))
    locations = root.xpath("//soap:address/@location|//soap12:address/@location", namespaces=W)
    assert locations == ["https://soap.example.com/api/soap", "https://soap.example.com/api/soap12"]


def test_wsdl_check_command_passes_and_fails(tmp_path: Path) -> None:
    check = [sys.executable, "-m", "service", "wsdl", "check", "--wsdl"]
    ok = subprocess.run([*check, str(COMMITTED)], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    drifted = tmp_path / "drifted.wsdl"
    drifted.write_bytes(COMMITTED.read_bytes().replace(b'name="age"', b'name="years"'))
    bad = subprocess.run([*check, str(drifted)], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 1
    assert "years" in bad.stdout


def test_wsdl_check_against_the_live_service(live_server: LiveServer) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service", "wsdl", "check", "--url", live_server.url + "/soap?wsdl"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_reordering_a_sequence_is_drift() -> None:
    text = COMMITTED.read_text()
    first = '<xs:element name="first_name" type="tns:PersonName" minOccurs="1"/>'
    last = '<xs:element name="last_name" type="tns:PersonName" minOccurs="1"/>'
    swapped = text.replace(first, "@@").replace(last, first).replace("@@", last)
    assert swapped != text
    assert drift(COMMITTED.read_bytes(), swapped.encode()) != []


def test_whitespace_and_address_are_not_drift() -> None:
    compact = etree.tostring(
        etree.fromstring(COMMITTED.read_bytes(), etree.XMLParser(remove_blank_text=True))
    )
    moved = compact.replace(b"http://localhost:8000", b"https://elsewhere:9443/x")
    assert drift(COMMITTED.read_bytes(), moved) == []


# --- the rules enterprise toolkits need (WS-I Basic Profile 1.1 and the findings) ---


def test_operation_messages_have_a_parameters_part(wsdl: etree._Element) -> None:
    # svcutil writes an empty proxy when part names equal element names
    for message in wsdl.iterfind("wsdl:message", W):
        part = message.find("wsdl:part", W)
        expected = "detail" if message.get("name").endswith("Fault") else "parameters"
        assert part.get("name") == expected


def test_nothing_is_nillable_and_required_fields_say_so(wsdl: etree._Element) -> None:
    elements = wsdl.xpath("//xs:element[@name]", namespaces=W)
    assert elements
    for element in elements:
        assert element.get("nillable") is None, element.get("name")
    optional = {e.get("name") for e in wsdl.xpath("//xs:element[@minOccurs='0']", namespaces=W)}
    # exactly the fields the contract means to be optional (and the repeated receipt)
    assert optional == {
        "timezone",
        "content_type",
        "page_size",
        "page_token",
        "next_page_token",
        "ImageReceipt",
        # DescribeRequest: absent when there is no proxy, no SOAPAction, no user
        "forwarded_for",
        "soap_action",
        "user",
        "HttpHeader",
        "string",
    }


def test_no_unbounded_integers(wsdl: etree._Element) -> None:
    types = wsdl.xpath("//@type|//@base", namespaces=W)
    assert "xs:integer" not in types
    age = wsdl.xpath("//xs:simpleType[@name='Age']/xs:restriction/@base", namespaces=W)
    assert age == ["xs:int"]


def test_wrapper_elements_have_anonymous_types(wsdl: etree._Element) -> None:
    wrappers = {
        p.get("element").split(":")[1]
        for p in wsdl.iterfind("wsdl:message/wsdl:part[@name='parameters']", W)
    }
    schema = wsdl.find("wsdl:types/xs:schema", W)
    for name in wrappers:
        element = schema.find(f"xs:element[@name='{name}']", W)
        assert element.get("type") is None and element.find("xs:complexType", W) is not None


def test_only_used_namespaces_are_declared(wsdl: etree._Element) -> None:
    """Each declared namespace names an element, an attribute or a QName value."""
    text = COMMITTED.read_text()
    used: set[str] = set()
    for node in wsdl.iter():
        used.add(etree.QName(node).namespace or "")
        for name, value in node.attrib.items():
            used.add(etree.QName(name).namespace or "")
            prefix, colon, _ = value.partition(":")
            if colon and prefix in node.nsmap:
                used.add(node.nsmap[prefix])
    for prefix, uri in wsdl.nsmap.items():
        assert uri in used, f"xmlns:{prefix} is declared but unused"
    assert "wsdlsoap12" not in text and "noconn" not in text


def test_operations_are_documented(wsdl: etree._Element) -> None:
    for op in wsdl.iterfind("wsdl:portType/wsdl:operation", W):
        assert (op.findtext("wsdl:documentation", namespaces=W) or "").strip()


def test_schema_compiles_standalone() -> None:
    etree.XMLSchema(schema_element(COMMITTED.read_bytes()))


def test_a_nillable_field_breaks_the_render() -> None:
    from spyne import Application, ComplexModel, ServiceBase, Unicode, rpc
    from spyne.protocol.xml import XmlDocument

    class Sloppy(ComplexModel):
        __namespace__ = ns.TNS
        _type_info = [("x", Unicode)]

    class Bad(ServiceBase):
        @rpc(
            Sloppy.customize(min_occurs=1, nillable=False),
            _returns=Unicode(min_occurs=1, nillable=False),
        )
        def Op(ctx, s):  # type: ignore[no-untyped-def]
            return ""

    app = Application([Bad], ns.TNS, in_protocol=XmlDocument(), out_protocol=XmlDocument())
    with pytest.raises(ContractError, match="nillable"):
        render_wsdl(app)


def test_mtom_is_declared_optional_on_both_bindings(wsdl: etree._Element) -> None:
    """WCF and CXF/Metro read the policy; toolkits without WS-Policy ignore it."""
    names = {"wsp": ns.WSP, "wsu": ns.WSU, "wsoma": ns.WSOMA, **W}
    policy = wsdl.find("wsp:Policy", names)
    assert policy is not None and policy.get(f"{{{ns.WSU}}}Id") == ns.MTOM_POLICY_ID
    assertion = policy.find("wsoma:OptimizedMimeSerialization", names)
    assert assertion is not None and assertion.get(f"{{{ns.WSP}}}Optional") == "true"
    bindings = wsdl.findall("wsdl:binding", W)
    assert len(bindings) == 2
    for binding in bindings:
        reference = binding.find("wsp:PolicyReference", names)
        assert reference is not None and reference.get("URI") == f"#{ns.MTOM_POLICY_ID}"
