"""Raw envelopes from tests/xml/, sent as they are: each gets its exact fault (or answer)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from lxml import etree

from service import ns
from tests.conftest import TESTER, LiveServer
from tests.soap_faults import fault_code_of

XML = Path(__file__).parent / "xml"
SOAP11_TYPE = "text/xml; charset=utf-8"
SOAP12_TYPE = "application/soap+xml; charset=utf-8"


def post(
    server: LiveServer,
    body: bytes,
    path: str = "/soap",
    content_type: str = SOAP11_TYPE,
    **headers: str,
) -> requests.Response:
    """Posts ``body`` as it is, signed with HTTP Basic (UploadImage needs a user)."""
    return requests.post(
        server.url + path,
        data=body,
        headers={"Content-Type": content_type, **headers},
        auth=TESTER,
        timeout=60,
    )


def fault_code(response: requests.Response) -> str:
    """The dotted fault code of a SOAP 1.1 or 1.2 fault response (asserting it is one)."""
    root = etree.fromstring(response.content)
    media = "text/xml" if etree.QName(root).namespace == ns.SOAP11_ENV else "application/soap+xml"
    assert response.headers["Content-Type"].startswith(media)
    return fault_code_of(root)


CASES = [
    # file, port, expected fault code, HTTP status
    ("xxe_file.xml", "/soap", "Client.ForbiddenXml", 500),
    ("xxe_network.xml", "/soap", "Client.ForbiddenXml", 500),
    ("xxe_parameter_entity.xml", "/soap", "Client.ForbiddenXml", 500),
    ("billion_laughs.xml", "/soap", "Client.ForbiddenXml", 500),
    ("not_xml.xml", "/soap", "Client.MalformedRequest", 500),
    ("invalid_utf8.xml", "/soap", "Client.MalformedRequest", 500),
    ("unclosed.xml", "/soap", "Client.MalformedRequest", 500),
    ("not_an_envelope.xml", "/soap", "Client.MalformedRequest", 500),
    ("missing_body.xml", "/soap", "Client.MalformedRequest", 500),
    ("two_bodies.xml", "/soap", "Client.MalformedRequest", 500),
    ("empty_body.xml", "/soap", "Client.MalformedRequest", 500),
    ("two_operations.xml", "/soap", "Client.MalformedRequest", 500),
    ("unknown_operation.xml", "/soap", "Client.UnknownOperation", 500),
    ("operation_in_wrong_namespace.xml", "/soap", "Client.UnknownOperation", 500),
    ("wrong_type_age.xml", "/soap", "Client.Validation", 500),
    ("age_overflow.xml", "/soap", "Client.Validation", 500),
    ("missing_field.xml", "/soap", "Client.Validation", 500),
    ("extra_field.xml", "/soap", "Client.Validation", 500),
    ("bad_base64.xml", "/soap", "Client.Validation", 500),
    ("non_ascii_base64.xml", "/soap", "Client.Validation", 500),  # found by atheris
    ("must_understand.xml", "/soap", "MustUnderstand", 500),
    ("soap12_envelope.xml", "/soap", "VersionMismatch", 500),
]


@pytest.mark.parametrize(("name", "path", "code", "status"), CASES, ids=[c[0] for c in CASES])
def test_hostile_and_malformed(
    live_server: LiveServer, name: str, path: str, code: str, status: int
) -> None:
    response = post(live_server, (XML / name).read_bytes(), path)
    assert response.status_code == status
    assert fault_code(response) == code
    assert "Traceback" not in response.text


def test_xxe_content_never_comes_back(live_server: LiveServer) -> None:
    response = post(live_server, (XML / "xxe_file.xml").read_bytes())
    assert "root:" not in response.text


def test_soap11_envelope_on_the_soap12_port_is_a_version_mismatch(live_server: LiveServer) -> None:
    response = post(live_server, (XML / "soap11_envelope.xml").read_bytes(), "/soap12", SOAP12_TYPE)
    assert response.status_code == 500
    assert fault_code(response) == "VersionMismatch"
    # SOAP 1.2 part 1, 5.4.7: each SupportedEnvelope's qname resolves in its own scope
    reply = etree.fromstring(response.content)
    supported = reply.findall(f".//{{{ns.SOAP12_ENV}}}SupportedEnvelope")
    named = []
    for item in supported:
        prefix, _, local = item.get("qname").partition(":")
        named.append((item.nsmap.get(prefix), local))
    assert named == [(ns.SOAP12_ENV, "Envelope"), (ns.SOAP11_ENV, "Envelope")]


@pytest.mark.parametrize(
    ("path", "content_type", "body_file"),
    [
        ("/soap", "application/json", "soap11_envelope.xml"),
        ("/soap12", "application/json", "soap12_envelope.xml"),
        ("/soap", "multipart/related; boundary=x", "soap11_envelope.xml"),
    ],
)
def test_wrong_media_type_is_415(
    live_server: LiveServer, path: str, content_type: str, body_file: str
) -> None:
    response = post(live_server, (XML / body_file).read_bytes(), path, content_type)
    assert response.status_code == 415
    assert fault_code(response) == "Client.UnsupportedMedia"


def test_soap12_validation_fault_is_sender_500(live_server: LiveServer) -> None:
    body = (
        (XML / "wrong_type_age.xml")
        .read_bytes()
        .replace(ns.SOAP11_ENV.encode(), ns.SOAP12_ENV.encode())
    )
    response = post(live_server, body, "/soap12", SOAP12_TYPE)
    assert response.status_code == 500
    assert fault_code(response) == "Client.Validation"
    detail = etree.fromstring(response.content).find(f".//{{{ns.TNS}}}ValidationFaultDetail")
    assert detail.findtext(f"{{{ns.TNS}}}field") == "person/age"


def test_must_understand_for_another_actor_is_ignored(live_server: LiveServer) -> None:
    response = post(live_server, (XML / "must_understand_other_actor.xml").read_bytes())
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["nil_wrapper.xml", "nil_optional_argument.xml"])
def test_nil_means_not_given(live_server: LiveServer, name: str) -> None:
    response = post(live_server, (XML / name).read_bytes())
    assert response.status_code == 200, response.text
    assert b"<tns:timezone>UTC</tns:timezone>" in response.content


def test_nil_required_argument_is_a_validation_fault(live_server: LiveServer) -> None:
    response = post(live_server, (XML / "nil_required_argument.xml").read_bytes())
    assert fault_code(response) == "Client.Validation"
    detail = etree.fromstring(response.content).find(f".//{{{ns.TNS}}}ValidationFaultDetail")
    assert detail.findtext(f"{{{ns.TNS}}}field") == "name"


def test_comments_are_ignored(live_server: LiveServer) -> None:
    response = post(live_server, (XML / "comment_and_pi.xml").read_bytes())
    assert response.status_code == 200, response.text


def test_xml_injection_comes_back_as_text(live_server: LiveServer) -> None:
    response = post(live_server, (XML / "xml_injection.xml").read_bytes())
    assert response.status_code == 200, response.text
    person = etree.fromstring(response.content).find(f".//{{{ns.TNS}}}EchoPersonResult")
    assert person.findtext(f"{{{ns.TNS}}}first_name") == "</t:first_name><t:age>1</t:age>"
    assert person.findtext(f"{{{ns.TNS}}}last_name") == "<script>&amp;</script>"
    assert person.findtext(f"{{{ns.TNS}}}age") == "30"


@pytest.mark.parametrize(
    ("action", "status", "code"),
    [
        ('"urn:soap-service:v1/Greet"', 200, None),
        ('"Greet"', 200, None),
        ('""', 200, None),
        ('"*"', 200, None),
        ('"urn:soap-service:v1/UploadImage"', 500, "Client.SoapActionMismatch"),
        ("EchoPerson", 500, "Client.SoapActionMismatch"),
    ],
)
def test_soap_action_must_agree_with_the_body(
    live_server: LiveServer, action: str, status: int, code: str | None
) -> None:
    response = post(live_server, (XML / "soap11_envelope.xml").read_bytes(), SOAPAction=action)
    assert response.status_code == status
    if code:
        assert fault_code(response) == code


def test_soap12_action_parameter_must_agree(live_server: LiveServer) -> None:
    body = (XML / "soap12_envelope.xml").read_bytes()
    good = post(live_server, body, "/soap12", f'{SOAP12_TYPE}; action="urn:soap-service:v1/Greet"')
    assert good.status_code == 200
    bad = post(live_server, body, "/soap12", f'{SOAP12_TYPE}; action="urn:soap-service:v1/GetTime"')
    assert bad.status_code == 500
    assert fault_code(bad) == "Client.SoapActionMismatch"


def test_body_over_the_limit_is_413(live_server: LiveServer) -> None:
    filler = b" " * (16 * 1024 * 1024)
    body = (
        (XML / "soap11_envelope.xml").read_bytes().replace(b"<soap:Body>", b"<soap:Body>" + filler)
    )
    response = post(live_server, body)
    assert response.status_code == 413
    assert fault_code(response) == "Client.RequestTooLarge"


def test_get_on_the_port_without_wsdl_is_405(live_server: LiveServer) -> None:
    response = requests.get(live_server.url + "/soap", timeout=30)
    assert response.status_code == 405
    assert fault_code(response) == "Client.MethodNotAllowed"


def test_unsupported_content_encoding(live_server: LiveServer) -> None:
    response = post(
        live_server, (XML / "soap11_envelope.xml").read_bytes(), **{"Content-Encoding": "gzip"}
    )
    assert response.status_code == 415
    assert fault_code(response) == "Client.UnsupportedMedia"


def test_request_id_is_echoed_or_made(live_server: LiveServer) -> None:
    body = (XML / "soap11_envelope.xml").read_bytes()
    assert (
        post(live_server, body, **{"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    )
    made = post(live_server, body, **{"X-Request-ID": "bad id\twith spaces"}).headers[
        "X-Request-ID"
    ]
    assert made and " " not in made


def test_made_request_ids_are_unique_across_workers(live_server: LiveServer) -> None:
    body = (XML / "soap11_envelope.xml").read_bytes()
    # at once from 8 clients, so that both workers take connections (one at a time, an
    # idle worker may be left asleep while the other takes every connection)
    with ThreadPoolExecutor(8) as clients:
        made = list(
            clients.map(lambda _: post(live_server, body).headers["X-Request-ID"], range(96))
        )
    assert len({m[:16] for m in made}) > 1, "one worker served every request"
    assert len(set(made)) == len(made)


def test_unknown_path_is_404(live_server: LiveServer) -> None:
    assert requests.get(live_server.url + "/nope", timeout=30).status_code == 404
    assert requests.get(live_server.url + "/healthz", timeout=30).text == "ok\n"


@pytest.mark.parametrize("name", ["default_namespace_bad_age.xml", "wrong_type_age.xml"])
def test_validation_field_does_not_depend_on_prefixes(live_server: LiveServer, name: str) -> None:
    response = post(live_server, (XML / name).read_bytes())
    detail = etree.fromstring(response.content).find(f".//{{{ns.TNS}}}ValidationFaultDetail")
    assert detail.findtext(f"{{{ns.TNS}}}field") == "person/age"


def _envelope(body: str, header: str = "") -> bytes:
    return (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:t="urn:soap-service:v1"><soap:Header>{header}</soap:Header>'
        f"<soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()


@pytest.mark.parametrize(
    "body",
    [
        _envelope("<t:Greet><t:name>" + "<x>" * 100 + "</x>" * 100 + "</t:name></t:Greet>"),
        _envelope("<t:Greet><t:name>" + "<x>" * 5000 + "</x>" * 5000 + "</t:name></t:Greet>"),
        _envelope("<t:Greet><t:name>A</t:name>" + "<x/>" * 20_000 + "</t:Greet>"),
        _envelope('<t:Greet a0="1" ' + " ".join(f'a{i}="1"' for i in range(1, 40)) + "/>"),
        _envelope(f'<t:Greet a="{"v" * 5000}"/>'),
        _envelope("<t:Greet><t:name>A</t:name></t:Greet>", "<h/>" * 17),
    ],
    ids=["depth", "depth-beyond-libxml2", "elements", "attributes", "attribute-length", "headers"],
)
def test_shape_limits(live_server: LiveServer, body: bytes) -> None:
    response = post(live_server, body)
    assert response.status_code == 500
    assert fault_code(response) == "Client.LimitExceeded"


SOAP11 = ("1.1", ns.SOAP11_ENV, SOAP11_TYPE)
SOAP12 = ("1.2", ns.SOAP12_ENV, SOAP12_TYPE)


@pytest.mark.parametrize(
    ("path", "sent"),
    [("/soap12", SOAP11), ("/soap", SOAP12), ("/soap", SOAP11), ("/soap12", SOAP12)],
    ids=["soap11-to-soap12", "soap12-to-soap", "soap11-to-soap", "soap12-to-soap12"],
)
@pytest.mark.parametrize("name", ["Ada", " "], ids=["greet", "blank-name-fault"])
def test_each_port_answers_in_the_version_of_the_request(
    live_server: LiveServer, path: str, sent: tuple[str, str, str], name: str
) -> None:
    """Issue 15: either port takes either version (node soap's top-level methods send 1.1
    to /soap12, gSOAP's default proxy 1.2 to /soap); the answer, a fault's status
    included, is in the request's version; the access line names the port it came to."""
    version, envelope_ns, content_type = sent
    action = f"{ns.TNS}/Greet"
    headers = {"SOAPAction": f'"{action}"'} if version == "1.1" else {}
    if version == "1.2":
        content_type = f'{content_type}; action="{action}"'
    body = (
        (XML / "soap11_envelope.xml")
        .read_bytes()
        .replace(ns.SOAP11_ENV.encode(), envelope_ns.encode())
        .replace(b">Ada<", f">{name}<".encode())
    )
    request_id = f"cross-{version}-{path[1:]}-{len(name.strip())}-{uuid.uuid4().hex[:8]}"
    response = post(
        live_server, body, path, content_type, **headers, **{"X-Request-ID": request_id}
    )
    root = etree.fromstring(response.content)
    assert etree.QName(root).namespace == envelope_ns
    assert response.headers["Content-Type"] == content_type.split(";")[0] + "; charset=utf-8"
    if name.strip():
        assert response.status_code == 200, response.text
        assert root.findtext(f".//{{{ns.TNS}}}GreetResult") == "Hello, Ada!"
    else:
        assert response.status_code == 500
        assert fault_code(response) == "Client.Validation"
        detail = root.find(f".//{{{ns.TNS}}}ValidationFaultDetail")
        assert detail is not None and detail.findtext(f"{{{ns.TNS}}}field") == "name"
    line = live_server.access_line(request_id)
    assert f" path={path} " in line and " operation=Greet " in line, line


@pytest.mark.parametrize(
    ("path", "content_type", "body_file", "answer_ns"),
    [
        ("/soap12", SOAP11_TYPE, "soap12_envelope.xml", ns.SOAP11_ENV),
        ("/soap", SOAP12_TYPE, "soap11_envelope.xml", ns.SOAP12_ENV),
    ],
)
def test_a_content_type_and_envelope_of_two_versions_is_a_version_mismatch(
    live_server: LiveServer, path: str, content_type: str, body_file: str, answer_ns: str
) -> None:
    """On either port: the fault in the Content-Type's version (the same as on the port of
    that version, test_soap11_envelope_on_the_soap12_port_is_a_version_mismatch)."""
    response = post(live_server, (XML / body_file).read_bytes(), path, content_type)
    assert response.status_code == 500
    assert etree.QName(etree.fromstring(response.content)).namespace == answer_ns
    assert fault_code(response) == "VersionMismatch"


@pytest.mark.parametrize(
    ("path", "content_type"), [("/soap", SOAP11_TYPE), ("/soap12", SOAP12_TYPE)]
)
def test_an_envelope_in_neither_namespace_is_a_version_mismatch(
    live_server: LiveServer, path: str, content_type: str
) -> None:
    body = (
        (XML / "soap11_envelope.xml")
        .read_bytes()
        .replace(ns.SOAP11_ENV.encode(), b"urn:soap-service:not-an-envelope")
    )
    response = post(live_server, body, path, content_type)
    assert response.status_code == 500
    assert fault_code(response) == "VersionMismatch"
    assert "neither SOAP 1.1" in response.text
