"""WS-I Basic Profile 1.1: the assertions toolkits trip on, over the committed WSDL and the wire.

Each test names the BP 1.1 requirement(s) it checks.
"""

from __future__ import annotations

import pytest
import requests
import zeep
from lxml import etree

from service import ns
from tests.conftest import ROOT, LiveServer

COMMITTED = ROOT / "wsdl" / "service.wsdl"
W = {"wsdl": ns.WSDL, "xs": ns.XSD, "soap": ns.WSDL_SOAP11, "soap12": ns.WSDL_SOAP12}


@pytest.fixture(scope="module")
def wsdl() -> etree._Element:
    return etree.fromstring(COMMITTED.read_bytes())


def local(qname: str) -> str:
    return qname.split(":", 1)[-1]


def test_r4003_utf8_and_r2028_wsdl_namespaces(wsdl: etree._Element) -> None:
    assert COMMITTED.read_bytes().startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert wsdl.tag == f"{{{ns.WSDL}}}definitions"
    assert wsdl.find("wsdl:types/xs:schema", W).get("targetNamespace") == ns.TNS


def test_r2201_r2204_one_element_part_per_message(wsdl: etree._Element) -> None:
    elements = {e.get("name") for e in wsdl.iterfind("wsdl:types/xs:schema/xs:element", W)}
    for message in wsdl.iterfind("wsdl:message", W):
        parts = message.findall("wsdl:part", W)
        assert len(parts) == 1, message.get("name")
        assert parts[0].get("type") is None
        assert local(parts[0].get("element")) in elements


def test_r2705_consistent_document_style_and_r2706_literal(wsdl: etree._Element) -> None:
    for prefix in ("soap", "soap12"):
        styles = wsdl.xpath(f"//{prefix}:binding/@style|//{prefix}:operation/@style", namespaces=W)
        assert styles and set(styles) == {"document"}
        uses = wsdl.xpath(f"//{prefix}:body/@use|//{prefix}:fault/@use", namespaces=W)
        assert uses and set(uses) == {"literal"}
        assert not wsdl.xpath(f"//{prefix}:body/@encodingStyle", namespaces=W)


def test_r2716_document_literal_body_has_no_namespace(wsdl: etree._Element) -> None:
    assert not wsdl.xpath("//soap:body/@namespace|//soap12:body/@namespace", namespaces=W)


def test_r2701_r2702_http_transport(wsdl: etree._Element) -> None:
    transports = wsdl.xpath("//soap:binding/@transport|//soap12:binding/@transport", namespaces=W)
    assert transports == [ns.HTTP_TRANSPORT, ns.HTTP_TRANSPORT]


def test_r2304_unique_operations_and_r2718_bindings_cover_the_port_type(
    wsdl: etree._Element,
) -> None:
    port_ops = [o.get("name") for o in wsdl.iterfind("wsdl:portType/wsdl:operation", W)]
    assert len(port_ops) == len(set(port_ops))
    for binding in wsdl.iterfind("wsdl:binding", W):
        assert [o.get("name") for o in binding.iterfind("wsdl:operation", W)] == port_ops


def test_r2710_distinct_wire_signatures(wsdl: etree._Element) -> None:
    inputs = [
        wsdl.find(f"wsdl:message[@name='{local(i.get('message'))}']/wsdl:part", W).get("element")
        for i in wsdl.iterfind("wsdl:portType/wsdl:operation/wsdl:input", W)
    ]
    assert len(inputs) == len(set(inputs))


def test_r2205_r2721_r2754_faults(wsdl: etree._Element) -> None:
    for operation in wsdl.iterfind("wsdl:portType/wsdl:operation", W):
        declared = [f.get("name") for f in operation.iterfind("wsdl:fault", W)]
        for binding in wsdl.iterfind("wsdl:binding", W):
            bound = binding.find(f"wsdl:operation[@name='{operation.get('name')}']", W)
            names = [f.get("name") for f in bound.iterfind("wsdl:fault", W)]
            assert names == declared
            soap_names = bound.xpath("wsdl:fault/*/@name", namespaces=W)
            assert soap_names == declared
        for fault in operation.iterfind("wsdl:fault", W):
            message = wsdl.find(f"wsdl:message[@name='{local(fault.get('message'))}']", W)
            assert message.find("wsdl:part", W).get("element")


def test_soap_action_declared_for_every_operation(wsdl: etree._Element) -> None:
    for prefix in ("soap", "soap12"):
        for operation in wsdl.xpath(
            f"wsdl:binding/wsdl:operation/{prefix}:operation", namespaces=W
        ):
            name = operation.getparent().get("name")
            assert operation.get("soapAction") == ns.soap_action(name)


def test_r2711_every_port_has_an_address(wsdl: etree._Element) -> None:
    for port in wsdl.iterfind("wsdl:service/wsdl:port", W):
        addresses = port.xpath("soap:address/@location|soap12:address/@location", namespaces=W)
        assert len(addresses) == 1 and addresses[0].startswith("http")


def test_r1109_r2744_soap_action_is_quoted_on_the_wire(live_server: LiveServer) -> None:
    seen: list[str] = []
    session = requests.Session()
    session.hooks["response"].append(
        lambda r, *a, **k: seen.append(r.request.headers["SOAPAction"])
    )
    client = zeep.Client(str(COMMITTED), transport=zeep.Transport(session=session))
    service = client.create_service(
        f"{{{ns.TNS}}}SoapServiceSoap11Binding", live_server.url + "/soap"
    )
    assert service.Greet(name="Ada") == "Hello, Ada!"
    assert seen == [f'"{ns.soap_action("Greet")}"']


def test_r1014_r1126_response_children_qualified_and_faults_are_500(
    live_server: LiveServer,
) -> None:
    envelope = (
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
        '<s:Body><Greet xmlns="urn:soap-service:v1"><name>{}</name></Greet></s:Body></s:Envelope>'
    )
    headers = {
        "Content-Type": "text/xml; charset=utf-8",
        "SOAPAction": '"urn:soap-service:v1/Greet"',
    }
    ok = requests.post(
        live_server.url + "/soap", data=envelope.format("Ada"), headers=headers, timeout=30
    )
    body = etree.fromstring(ok.content).find(f"{{{ns.SOAP11_ENV}}}Body")
    assert all(etree.QName(child).namespace == ns.TNS for child in body)
    fault = requests.post(
        live_server.url + "/soap", data=envelope.format(" "), headers=headers, timeout=30
    )
    assert fault.status_code == 500
    assert fault.headers["Content-Type"].startswith("text/xml")
