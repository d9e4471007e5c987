"""The shipped SoapUI project: up to date, structurally valid, and its suite passes live.

SoapUI itself cannot be installed here, so this test does what its runner
would: each request, sent as it is to the live server, must satisfy the
assertions the project declares (SOAP Response, SOAP Fault / Not SOAP Fault,
Schema Compliance, XPath Match).
"""

from __future__ import annotations

import re

import pytest
import requests
from lxml import etree

from client.soapui_project import CON, PROJECT_PATH, WSDL_PATH, render
from service import ns
from service.contract.wsdl import schema_element
from tests.conftest import LiveServer

C = {"con": CON}
W = {"wsdl": ns.WSDL, "soap": ns.WSDL_SOAP11, "soap12": ns.WSDL_SOAP12}
ENVELOPES = {"1_1": ns.SOAP11_ENV, "1_2": ns.SOAP12_ENV}
KNOWN_ELEMENTS = {
    "soapui-project",
    "settings",
    "interface",
    "definitionCache",
    "part",
    "url",
    "content",
    "type",
    "endpoints",
    "endpoint",
    "operation",
    "call",
    "encoding",
    "request",
    "wsaConfig",
    "testSuite",
    "runType",
    "testCase",
    "testStep",
    "config",
    "assertion",
    "configuration",
    "credentials",
    "authType",
    "jmsConfig",
    "jmsPropertyConfig",
    "wsrmConfig",
    "properties",
    "property",
    "name",
    "value",
    "wssContainer",
    "oAuth2ProfileContainer",
    "oAuth1ProfileContainer",
    "username",
    "password",
    "selectedAuthProfile",
    "addedBasicAuthenticationTypes",
    "preemptive",
    "transfers",
    "sourceType",
    "sourceStep",
    "sourcePath",
    "targetType",
    "targetStep",
}
KNOWN_ASSERTIONS = {
    "SOAP Response",
    "SOAP Fault Assertion",
    "Not SOAP Fault Assertion",
    "Schema Compliance",
    "XPath Match",
}


@pytest.fixture(scope="module")
def project() -> etree._Element:
    return etree.parse(str(PROJECT_PATH)).getroot()


@pytest.fixture(scope="module")
def wsdl() -> etree._Element:
    return etree.parse(str(WSDL_PATH)).getroot()


def test_project_is_up_to_date() -> None:
    assert PROJECT_PATH.read_text(encoding="utf-8") == render(
        WSDL_PATH.read_text(encoding="utf-8")
    ), "run 'make soapui' and commit the result"


def test_project_is_soapui_xml(project: etree._Element) -> None:
    assert project.tag == f"{{{CON}}}soapui-project"
    assert project.get("name") and project.get("soapui-version")
    ids = project.xpath("//@id")
    assert len(ids) == len(set(ids))
    for element in project.iter(etree.Element):
        qname = etree.QName(element)
        if qname.namespace == CON:
            assert qname.localname in KNOWN_ELEMENTS, qname.localname
    for assertion in project.iterfind(".//con:assertion", C):
        assert assertion.get("type") in KNOWN_ASSERTIONS


def test_interfaces_match_the_contract(project: etree._Element, wsdl: etree._Element) -> None:
    bindings = {b.get("name"): b for b in wsdl.iterfind("wsdl:binding", W)}
    interfaces = project.findall("con:interface", C)
    assert {i.get("name") for i in interfaces} == set(bindings)
    port_ops = [o.get("name") for o in wsdl.iterfind("wsdl:portType/wsdl:operation", W)]
    for interface in interfaces:
        binding = bindings[interface.get("name")]
        assert interface.get("bindingName") == f"{{{ns.TNS}}}{binding.get('name')}"
        is12 = binding.find("soap12:binding", W) is not None
        assert interface.get("soapVersion") == ("1_2" if is12 else "1_1")
        operations = interface.findall("con:operation", C)
        assert [o.get("name") for o in operations] == port_ops
        for operation in operations:
            assert operation.get("action") == ns.soap_action(operation.get("name"))
        cached = interface.findtext("con:definitionCache/con:part/con:content", namespaces=C)
        assert cached == WSDL_PATH.read_text(encoding="utf-8")


def test_suite_covers_every_operation_and_declared_fault(
    project: etree._Element, wsdl: etree._Element
) -> None:
    covered: set[tuple[str, str | None]] = set()
    for step in project.iterfind(".//con:testStep[@type='request']", C):
        operation = step.findtext("con:config/con:operation", namespaces=C)
        request = step.find("con:config/con:request", C)
        types = {a.get("type") for a in request.iterfind("con:assertion", C)}
        paths = " ".join(request.xpath(".//con:assertion//path/text()", namespaces=C))
        if "SOAP Fault Assertion" in types:
            fault = re.search(r"//tns:(\w+)Detail/", paths)
            covered.add((operation, fault.group(1) if fault else "?"))
        else:
            assert "Not SOAP Fault Assertion" in types and "Schema Compliance" in types
            covered.add((operation, None))
        assert "XPath Match" in types
    for operation in wsdl.iterfind("wsdl:portType/wsdl:operation", W):
        name = operation.get("name")
        assert (name, None) in covered
        for fault in operation.iterfind("wsdl:fault", W):
            assert (name, fault.get("name")) in covered, (name, fault.get("name"))


def _cases(project: etree._Element) -> list[tuple[str, etree._Element]]:
    return [(c.get("name"), c) for c in project.iterfind(".//con:testCase", C)]


CASES = _cases(etree.parse(str(PROJECT_PATH)).getroot())


def _xpath(text: str, document: etree._Element) -> list[object]:
    declared = dict(re.findall(r"declare namespace (\w+)='([^']+)';", text))
    path = re.sub(r"declare namespace \w+='[^']+';\s*", "", text).strip()
    found = document.xpath(path, namespaces=declared)
    return found if isinstance(found, list) else [found]


def _text(node: object) -> str:
    return node.text or "" if isinstance(node, etree._Element) else str(node)


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[n for n, _ in CASES])
def test_every_test_case_passes_live(
    live_server: LiveServer, project: etree._Element, case: etree._Element
) -> None:
    """Runs a test case as SoapUI's runner would: steps in order, transfers applied."""
    project_props = {
        p.findtext("con:name", namespaces=C): p.findtext("con:value", namespaces=C)
        for p in project.iterfind("con:properties/con:property", C)
    }
    project_props["endpoint"] = live_server.url
    case_props: dict[str, str] = {}

    def expand(text: str) -> str:
        text = re.sub(r"\$\{#Project#(\w+)\}", lambda m: project_props[m.group(1)], text)
        return re.sub(r"\$\{#TestCase#(\w+)\}", lambda m: case_props[m.group(1)], text)

    responses: dict[str, etree._Element] = {}
    for step in case.iterfind("con:testStep", C):
        if step.get("type") == "transfer":
            transfer = step.find("con:config/con:transfers", C)
            source = responses[transfer.findtext("con:sourceStep", namespaces=C)]
            found = _xpath(transfer.findtext("con:sourcePath", namespaces=C), source)
            assert found, "the transfer's source path found nothing"
            case_props[transfer.findtext("con:targetType", namespaces=C)] = _text(found[0])
            continue
        responses[step.get("name")] = _run_request(project, step, expand)


def _run_request(project: etree._Element, step: etree._Element, expand: object) -> etree._Element:
    interface_name = step.findtext("con:config/con:interface", namespaces=C)
    interface = project.find(f"con:interface[@name='{interface_name}']", C)
    version = interface.get("soapVersion")
    operation = step.findtext("con:config/con:operation", namespaces=C)
    action = interface.find(f"con:operation[@name='{operation}']", C).get("action")
    request = step.find("con:config/con:request", C)
    endpoint = expand(request.findtext("con:endpoint", namespaces=C))  # type: ignore[operator]
    body = expand(request.findtext("con:request", namespaces=C)).encode()  # type: ignore[operator]
    if version == "1_1":
        headers = {"Content-Type": "text/xml;charset=UTF-8", "SOAPAction": f'"{action}"'}
    else:
        headers = {"Content-Type": f'application/soap+xml;charset=UTF-8;action="{action}"'}
    auth = None
    if request.findtext("con:credentials/con:authType", namespaces=C) == "Preemptive":
        user = expand(request.findtext("con:credentials/con:username", namespaces=C))  # type: ignore[operator]
        password = expand(request.findtext("con:credentials/con:password", namespaces=C))  # type: ignore[operator]
        auth = (user, password)
    response = requests.post(endpoint, data=body, headers=headers, auth=auth, timeout=30)
    envelope = etree.fromstring(response.content)
    env = ENVELOPES[version]
    schema = etree.XMLSchema(
        schema_element(interface.findtext(".//con:content", namespaces=C).encode())
    )
    fault = envelope.find(f"{{{env}}}Body/{{{env}}}Fault")
    for assertion in request.iterfind("con:assertion", C):
        kind = assertion.get("type")
        if kind == "SOAP Response":
            assert envelope.tag == f"{{{env}}}Envelope"
            assert envelope.find(f"{{{env}}}Body") is not None
        elif kind == "SOAP Fault Assertion":
            assert fault is not None, response.text
        elif kind == "Not SOAP Fault Assertion":
            assert fault is None, response.text
        elif kind == "Schema Compliance":
            for child in envelope.find(f"{{{env}}}Body"):
                schema.assertValid(child)
        elif kind == "XPath Match":
            found = _xpath(assertion.findtext("con:configuration/path", namespaces=C), envelope)
            expected = expand(assertion.findtext("con:configuration/content", namespaces=C))  # type: ignore[operator]
            assert [_text(v) for v in found][:1] == [expected], (step.get("name"), found)
    return envelope
