"""WS-Addressing on both ports, as raw envelopes over HTTP (service.soap.addressing): the
headers WCF, JAX-WS and CXF send (mustUnderstand included), the reply's headers, and each
WS-Addressing fault in the request's SOAP version and WS-Addressing namespace. zeep's
``WsAddressingPlugin`` calls every operation in tests/interop/test_python_toolkits.py."""

from __future__ import annotations

import uuid

import pytest
import requests
from lxml import etree

from service import ns
from tests.conftest import TESTER, LiveServer
from tests.soap_faults import fault_code_of

WSA = ns.WSA
SUBMISSION = ns.WSA_SUBMISSION
PORTS = {"1.1": ("/soap", ns.SOAP11_ENV, "text/xml; charset=utf-8")}
PORTS["1.2"] = ("/soap12", ns.SOAP12_ENV, "application/soap+xml; charset=utf-8")
GREET = f'<t:Greet xmlns:t="{ns.TNS}"><t:name>Ada</t:name></t:Greet>'


def _headers(
    namespace: str = WSA,
    action: str | None = f"{ns.TNS}/Greet",
    message_id: str | None = "urn:uuid:11111111-2222-3333-4444-555555555555",
    extra: str = "",
    must_understand: str = "1",
) -> str:
    env_mu = f'soap:mustUnderstand="{must_understand}"'
    parts = [f"<wsa:To {env_mu}>http://127.0.0.1/soap</wsa:To>"]
    if action is not None:
        parts.append(f"<wsa:Action {env_mu}>{action}</wsa:Action>")
    if message_id is not None:
        parts.append(f"<wsa:MessageID>{message_id}</wsa:MessageID>")
    return f'<wsa:Headers xmlns:wsa="{namespace}">' + "".join(parts) + extra + "</wsa:Headers>"


def _call(
    server: LiveServer,
    version: str,
    headers: str,
    body: str = GREET,
    soap_action: str | None = None,
) -> tuple[requests.Response, etree._Element]:
    path, env, media = PORTS[version]
    # the blocks go straight into Header; the wrapper above only carries xmlns:wsa
    blocks = headers.replace("<wsa:Headers ", "<x ").replace("</wsa:Headers>", "</x>")
    wrapper = etree.fromstring(f'<w xmlns:soap="{env}">{blocks}</w>')
    inner = "".join(
        etree.tostring(child).decode()
        for child in wrapper.iter("{*}*")
        if child.getparent() is not None and child.getparent().getparent() is wrapper
    )
    envelope = (
        f'<soap:Envelope xmlns:soap="{env}"><soap:Header>{inner}</soap:Header>'
        f"<soap:Body>{body}</soap:Body></soap:Envelope>"
    )
    extra = {"SOAPAction": f'"{soap_action}"'} if soap_action is not None else {}
    if version == "1.2" and soap_action is not None:
        media += f'; action="{soap_action}"'
        extra = {}
    response = requests.post(
        server.url + path,
        data=envelope.encode(),
        headers={"Content-Type": media, **extra},
        auth=TESTER,
        timeout=30,
    )
    return response, etree.fromstring(response.content)


def _header(root: etree._Element, namespace: str, name: str) -> str | None:
    env = etree.QName(root).namespace
    return root.findtext(f"{{{env}}}Header/{{{namespace}}}{name}")


@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize("namespace", [WSA, SUBMISSION], ids=["wsa-1.0", "wsa-2004-08"])
def test_an_addressed_request_gets_an_addressed_reply(
    live_server: LiveServer, version: str, namespace: str
) -> None:
    message_id = f"urn:uuid:{uuid.uuid4()}"
    response, root = _call(live_server, version, _headers(namespace, message_id=message_id))
    assert response.status_code == 200, response.text
    assert root.findtext(f".//{{{ns.TNS}}}GreetResult") == "Hello, Ada!"
    assert _header(root, namespace, "Action") == f"{ns.TNS}/GreetResponse"
    assert _header(root, namespace, "RelatesTo") == message_id
    assert (_header(root, namespace, "MessageID") or "").startswith("urn:uuid:")
    assert _header(root, namespace, "MessageID") != message_id
    assert (_header(root, namespace, "To") or "").endswith("anonymous")


def test_a_request_without_addressing_gets_none_back(live_server: LiveServer) -> None:
    response, root = _call(live_server, "1.1", "", soap_action=f"{ns.TNS}/Greet")
    assert response.status_code == 200
    assert root.find(f".//{{{WSA}}}Action") is None


def test_an_anonymous_reply_to_and_its_reference_parameters(live_server: LiveServer) -> None:
    reply_to = (
        f"<wsa:ReplyTo><wsa:Address>{WSA}/anonymous</wsa:Address><wsa:ReferenceParameters>"
        '<c:Correlation xmlns:c="urn:client">42</c:Correlation></wsa:ReferenceParameters>'
        "</wsa:ReplyTo>"
    )
    response, root = _call(live_server, "1.2", _headers(extra=reply_to))
    assert response.status_code == 200, response.text
    (parameter,) = root.iterfind(".//{urn:client}Correlation")
    assert parameter.text == "42"
    assert parameter.get(f"{{{WSA}}}IsReferenceParameter") == "true"


def test_a_declared_fault_carries_its_action(live_server: LiveServer) -> None:
    body = f'<t:Greet xmlns:t="{ns.TNS}"><t:name> </t:name></t:Greet>'
    response, root = _call(live_server, "1.1", _headers(), body)
    assert fault_code_of(root) == "Client.Validation"
    assert _header(root, WSA, "Action") == f"{ns.TNS}/Greet/Fault/ValidationFault"
    assert _header(root, WSA, "RelatesTo") == "urn:uuid:11111111-2222-3333-4444-555555555555"


FAULTS = [
    # (headers, SOAP 1.1 code, SOAP 1.2 code)
    (
        _headers(message_id=None),
        "MessageAddressingHeaderRequired",
        "Client.MessageAddressingHeaderRequired",
    ),
    (
        _headers(action=None),
        "MessageAddressingHeaderRequired",
        "Client.MessageAddressingHeaderRequired",
    ),
    (
        _headers(action=f"{ns.TNS}/Nope"),
        "ActionNotSupported",
        "Client.ActionNotSupported",
    ),
    (
        _headers(extra="<wsa:To>http://127.0.0.1/again</wsa:To>"),
        "InvalidAddressingHeader",
        "Client.InvalidAddressingHeader.InvalidCardinality",
    ),
    (
        _headers(
            extra="<wsa:ReplyTo><wsa:Address>http://client.example/callback</wsa:Address>"
            "</wsa:ReplyTo>"
        ),
        "InvalidAddressingHeader",
        "Client.InvalidAddressingHeader.OnlyAnonymousAddressSupported",
    ),
    (
        _headers(
            extra=f"<wsa:FaultTo><wsa:Address>{SUBMISSION}/role/anonymous</wsa:Address>"
            "</wsa:FaultTo>"
        ),
        "InvalidAddressingHeader",
        "Client.InvalidAddressingHeader.OnlyAnonymousAddressSupported",
    ),
    (
        _headers(extra=f'<w2:Action xmlns:w2="{SUBMISSION}">{ns.TNS}/Greet</w2:Action>'),
        "InvalidAddressingHeader",
        "Client.InvalidAddressingHeader",
    ),
]


@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize(
    ("headers", "code11", "code12"),
    FAULTS,
    ids=[
        "no-message-id",
        "no-action",
        "unknown-action",
        "two-to",
        "async-reply-to",
        "wrong-anonymous",
        "two-versions",
    ],
)
def test_addressing_faults(
    live_server: LiveServer, version: str, headers: str, code11: str, code12: str
) -> None:
    response, root = _call(live_server, version, headers)
    assert response.status_code == 500, response.text
    code = fault_code_of(root)
    assert code == (code11 if version == "1.1" else code12)
    fault = root.find(f".//{{{etree.QName(root).namespace}}}Fault")
    # the code's prefix is declared where it is used, on the Fault (Mono reads it alone)
    assert fault.nsmap.get("wsa") == WSA
    assert _header(root, WSA, "Action") == f"{WSA}/fault"


def test_the_soap_action_must_agree_with_wsa_action(live_server: LiveServer) -> None:
    response, root = _call(live_server, "1.1", _headers(), soap_action=f"{ns.TNS}/GetTime")
    assert fault_code_of(root) == "InvalidAddressingHeader"
    assert "differ" in root.findtext(".//faultstring")
    # empty, or the same: accepted
    for action in ("", f"{ns.TNS}/Greet"):
        response, root = _call(live_server, "1.1", _headers(), soap_action=action)
        assert response.status_code == 200, response.text


def test_an_action_naming_another_operation_than_the_body(live_server: LiveServer) -> None:
    response, root = _call(live_server, "1.2", _headers(action=f"{ns.TNS}/GetTime"))
    assert fault_code_of(root) == "Client.SoapActionMismatch"
    assert _header(root, WSA, "Action") == f"{WSA}/soap/fault"
    assert _header(root, WSA, "RelatesTo") == "urn:uuid:11111111-2222-3333-4444-555555555555"


def test_mtom_replies_are_addressed_too(live_server: LiveServer) -> None:
    path, env, media = PORTS["1.1"]
    envelope = (
        f'<soap:Envelope xmlns:soap="{env}"><soap:Header>'
        f'<wsa:Action xmlns:wsa="{WSA}">{ns.TNS}/ListImages</wsa:Action>'
        f'<wsa:MessageID xmlns:wsa="{WSA}">urn:uuid:1</wsa:MessageID></soap:Header>'
        f'<soap:Body><t:ListImages xmlns:t="{ns.TNS}"/></soap:Body></soap:Envelope>'
    )
    response = requests.post(
        live_server.url + path,
        data=envelope.encode(),
        headers={"Content-Type": media, "Accept": "multipart/related"},
        auth=TESTER,
        timeout=30,
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("multipart/related")
    assert f">{ns.TNS}/ListImagesResponse</wsa:Action>".encode() in response.content
    assert b">urn:uuid:1</wsa:RelatesTo>" in response.content
