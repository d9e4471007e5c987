"""Java JAX-WS RI: wsimport from the served WSDL, javac, and the generated service as JAX-WS
documents it: ``new SoapService().getSoapServiceSoap11()``, calls on the returned port.

wsimport reads ``GET /soap?wsdl`` unedited, so the generated ``SoapService`` holds the live
WSDL's URL and the port its address: no endpoint override. HTTP Basic is
``BindingProvider.USERNAME_PROPERTY`` / ``PASSWORD_PROPERTY`` on the port's request context.
The WSDL's optional MTOM policy (``wsoma:OptimizedMimeSerialization``) is honoured by the RI,
which sends every call as XOP and reads GetImage's ``content`` as ``byte[]`` either way.

With default options wsimport leaves the SOAP 1.2 port out (JAX-WS's own limitation, proven
by a test below: "Ignoring SOAP port ... You must specify the "-extension" option"), so the
default row is SOAP 1.1 on ``/soap``. The SOAP 1.2 row adds the one flag the tool's own warning
asks for, ``-extension``, and then uses the getter it generates, ``getSoapServiceSoap12()``.

Every row also calls the two operations the shared scenario leaves out: DescribeRequest (which
SOAP header blocks the server saw) and DeleteImage of its upload, then GetImage of it again,
read as the generated ``NotFoundFault``.

**WS-Addressing** (issue 19). The client settings, as the JAX-WS documentation shows them:
the generated getter with the feature, enabled and required::

    SoapServicePortType port = new SoapService().getSoapServiceSoap11(new AddressingFeature(true, true));
    // SOAP 1.2 (wsimport -extension): new SoapService().getSoapServiceSoap12(new AddressingFeature(true, true))

Every request then carries ``wsa:To``, ``wsa:Action`` (``mustUnderstand``), ``wsa:ReplyTo`` and
``wsa:FaultTo`` (anonymous) and ``wsa:MessageID``, and the RI refuses a reply without
``wsa:Action`` or ``wsa:RelatesTo`` (``MissingAddressingHeaderException``).
``test_jaxws_addressing`` runs the whole scenario so on both ports with the RI's own wire dump
on (``-Dcom.sun.xml.ws.transport.http.client.HttpTransportPipe.dump=true``: it prints, it
changes nothing sent) and checks every exchange in it: the request's headers, the reply's
``wsa:Action`` (the output action, or the declared fault's) and ``wsa:RelatesTo`` (the
request's MessageID).

Without the feature the RI addresses every call all the same: the WSDL's optional
``wsam:Addressing`` policy turns WS-Addressing on (the same five headers, ``wsa:Action`` without
``mustUnderstand``), and the RI then requires ``wsa:RelatesTo`` in every reply (not
``wsa:Action``, which only the required feature asks for). ``AddressingProbe.java`` shows both
through a stub that takes either header out of the service's reply.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
from lxml import etree

from tests.conftest import TESTER, LiveServer
from tests.interop.conftest import (
    HERE,
    Forwarded,
    check_mtom_report,
    forwarding_stub,
    require,
    run,
)
from tests.interop.scenario import check_report, parse_report

JARS = Path("/usr/share/java")
RUNTIME = [
    "jaxws-rt",
    "jaxws-api",
    "jaxb-api",
    "jaxb-runtime",
    "jaxb-core",
    "jaxb-impl",
    "javax.activation",
    "saaj-impl",
    "stax-ex",
    "streambuffer",
    "mimepull",
    "istack-commons-runtime",
    "gmbal",
    "glassfish-management-api",
    "metro-policy",
    "jws-api",
    "FastInfoset",
]


def _build(work: Path, live_server: LiveServer, *flags: str, port: str) -> tuple[Path, str]:
    """wsimport from the served WSDL, then javac the drivers with ``<port>Port.java``."""
    require("wsimport", "javac", "java", *(str(JARS / f"{jar}.jar") for jar in RUNTIME))
    (work / "src").mkdir()
    (work / "classes").mkdir()
    wsdl = live_server.url + "/soap?wsdl"
    out = run(
        ["wsimport", *flags, "-keep", "-d", work / "classes", "-s", work / "src", wsdl], cwd=work
    )
    (work / "wsimport.out").write_text(out)
    classpath = ":".join([*(str(JARS / f"{jar}.jar") for jar in RUNTIME), str(work / "classes")])
    sources = ["Driver.java", "MtomDriver.java", "AddressingProbe.java", f"{port}Port.java"]
    for source in sources:
        shutil.copy(HERE / "java" / source, work)
    run(["javac", "-cp", classpath, "-d", work / "classes", *sources], cwd=work)
    return work, classpath


@pytest.fixture(scope="module")
def java_build(
    live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str]:
    """wsimport's default options: the SOAP 1.1 port's getter only."""
    return _build(tmp_path_factory.mktemp("java"), live_server, port="Soap11")


@pytest.fixture(scope="module")
def java_build_extension(
    live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str]:
    """wsimport -extension, as its own warning asks for the SOAP 1.2 port."""
    return _build(tmp_path_factory.mktemp("java12"), live_server, "-extension", port="Soap12")


def test_wsimport_defaults_leave_out_the_soap12_port(java_build: tuple[Path, str]) -> None:
    """JAX-WS's own limitation: its default options read only SOAP 1.1 ports of a WSDL.

    The JAX-WS 2.x specification maps SOAP 1.1/HTTP bindings only; the RI takes a
    ``soap12:binding`` as a vendor extension and says so (if this starts passing, the
    SOAP 1.2 row can drop ``-extension``).
    """
    work, _ = java_build
    said = (work / "wsimport.out").read_text()
    assert 'Ignoring SOAP port "SoapServiceSoap12": it uses non-standard SOAP 1.2 binding.' in said
    assert 'You must specify the "-extension" option to use this binding.' in said
    service = (work / "src" / "service" / "soap" / "v1" / "SoapService.java").read_text()
    assert "getSoapServiceSoap11()" in service
    assert "getSoapServiceSoap12" not in service


def test_generated_code_is_natural(java_build: tuple[Path, str]) -> None:
    work, _ = java_build
    package = work / "src" / "service" / "soap" / "v1"
    port = (package / "SoapServicePortType.java").read_text()
    signatures = " ".join(port.split())
    assert re.search(r"public String greet\( @WebParam\([^)]*\) String name\)", signatures)
    assert re.search(r"public TimeInfo getTime\( @WebParam\([^)]*\) String timezone\)", signatures)
    assert re.search(r"public Person echoPerson\( @WebParam\([^)]*\) Person person\)", signatures)
    assert re.search(r"public ImageReceipt uploadImage\( .*byte\[\] content", signatures)
    assert re.search(r"public ImageData getImage\( @WebParam\([^)]*\) String imageId\)", signatures)
    assert re.search(
        r"public ImagePage listImages\( @WebParam\([^)]*\) Integer pageSize, "
        r"@WebParam\([^)]*\) String pageToken\)",
        signatures,
    )
    assert re.search(
        r"public ImageReceipt deleteImage\( @WebParam\([^)]*\) String imageId\)"
        r" throws NotFoundFault, ValidationFault",
        signatures,
    )
    assert (
        "protected List<ImageReceipt> imageReceipt;"
        in (package / "ArrayOfImageReceipt.java").read_text()
    )
    person = (package / "Person.java").read_text()
    assert "protected int age;" in person and "protected String firstName;" in person
    for source in package.glob("*.java"):
        text = source.read_text()
        # ObjectFactory's create<Element>() helpers return JAXBElement by JAXB's design;
        # what users touch is the beans' fields and the port's signatures.
        assert "protected JAXBElement<" not in text, source.name
        assert "JAXBElement<" not in text or source.name == "ObjectFactory.java", source.name
        assert "BigInteger" not in text, source.name
        assert "Holder<" not in text, source.name


WSA = "http://www.w3.org/2005/08/addressing"
#: the WS-Addressing headers the RI puts in every request, in its order
WSA_HEADERS = [f"{{{WSA}}}{name}" for name in ("To", "Action", "ReplyTo", "FaultTo", "MessageID")]
ENVELOPES = {
    "/soap": "http://schemas.xmlsoap.org/soap/envelope/",
    "/soap12": "http://www.w3.org/2003/05/soap-envelope",
}
#: the RI's debugging switch: every HTTP exchange printed on stdout (it changes nothing sent)
DUMP = "-Dcom.sun.xml.ws.transport.http.client.HttpTransportPipe.dump=true"
BUILDS = [("java_build", "/soap"), ("java_build_extension", "/soap12")]


def _driver(
    live_server: LiveServer,
    payloads: dict[str, Path],
    build: tuple[Path, str],
    *extra: str,
    java_options: tuple[str, ...] = (),
) -> str:
    work, classpath = build
    return run(
        [
            "java",
            *java_options,
            "-cp",
            classpath,
            "Driver",
            payloads["png"],
            payloads["text"],
            *TESTER,
            *extra,
        ],
        cwd=work,
    )


def _check_rest(report: dict[str, Any], path: str) -> None:
    """DescribeRequest, DeleteImage and the NotFoundFault after it (the module docstring)."""
    describe = report["describe"]
    assert describe["soap_version"] == ("1.1" if path == "/soap" else "1.2"), describe
    assert describe["soap_action"] == "urn:soap-service:v1/DescribeRequest", describe
    assert describe["soap_headers"] == WSA_HEADERS, describe
    assert report["delete"]["image_id"] == report["upload"]["image_id"]
    assert report["fault_gone"] == {
        "code": "NotFoundFault",
        "image_id": report["delete"]["image_id"],
    }


def test_jaxws(
    live_server: LiveServer, payloads: dict[str, Path], java_build: tuple[Path, str]
) -> None:
    """wsimport's defaults, ``new SoapService().getSoapServiceSoap11()``: SOAP 1.1 on /soap.

    Addressed by the RI without being asked: DescribeRequest saw the five wsa headers."""
    before = live_server.log_text()
    report = parse_report(_driver(live_server, payloads, java_build))
    check_report(report, payloads["png"], images=True)
    _check_rest(report, "/soap")
    marker = "path=/soap operation=GetImage outcome=ok"
    assert live_server.log_text().count(marker) > before.count(marker)


def test_jaxws_soap12(
    live_server: LiveServer, payloads: dict[str, Path], java_build_extension: tuple[Path, str]
) -> None:
    """wsimport -extension, ``new SoapService().getSoapServiceSoap12()``: SOAP 1.2 on /soap12."""
    before = live_server.log_text()
    report = parse_report(_driver(live_server, payloads, java_build_extension))
    check_report(report, payloads["png"], images=True)
    _check_rest(report, "/soap12")
    marker = "path=/soap12 operation=GetImage outcome=ok"
    assert live_server.log_text().count(marker) > before.count(marker)


def _envelopes(dump: str, kind: str) -> list[etree._Element]:
    """The SOAP envelopes of the RI's dump of each HTTP ``kind`` ("request" or "response")."""
    found = []
    for block in re.split(r"^---\[HTTP ", dump, flags=re.MULTILINE)[1:]:
        if not block.startswith(kind):
            continue
        match = re.search(r"<(\w+):Envelope\b.*?</\1:Envelope>", block, re.DOTALL)
        assert match, f"no envelope in the dumped {kind}:\n{block[:3000]}"
        found.append(etree.fromstring(match.group(0).encode()))
    return found


def _header(envelope: etree._Element, name: str) -> etree._Element:
    found = envelope.findall(f"{{*}}Header/{{{WSA}}}{name}")
    assert len(found) == 1, (name, etree.tostring(envelope)[:3000])
    return found[0]


@pytest.mark.parametrize(("build", "path"), BUILDS, ids=["soap11", "soap12"])
def test_jaxws_addressing(
    live_server: LiveServer,
    payloads: dict[str, Path],
    build: str,
    path: str,
    request: pytest.FixtureRequest,
) -> None:
    """``getSoapServiceSoap1x(new AddressingFeature(true, true))``: the whole scenario,
    every request addressed and every reply addressed back, as the RI's dump shows them."""
    out = _driver(
        live_server, payloads, request.getfixturevalue(build), "addressing", java_options=(DUMP,)
    )
    report = parse_report(out)
    check_report(report, payloads["png"], images=True)
    _check_rest(report, path)
    requests, replies = _envelopes(out, "request"), _envelopes(out, "response")
    # Greet, GetTime x2, EchoPerson x2, UploadImage, ListImages (1+), GetImage, four faults,
    # DescribeRequest, DeleteImage, GetImage of the deleted image
    assert len(requests) == len(replies) >= 15, (len(requests), len(replies))
    must_understand = f"{{{ENVELOPES[path]}}}mustUnderstand"
    actions = set()
    for sent, got in zip(requests, replies, strict=True):
        assert etree.QName(sent).namespace == ENVELOPES[path]
        assert [etree.QName(h).text for h in sent.find("{*}Header")] == WSA_HEADERS
        action = _header(sent, "Action")
        assert action.get(must_understand) in ("1", "true"), etree.tostring(action)
        assert _header(sent, "To").text == live_server.url + path
        for name in ("ReplyTo", "FaultTo"):
            assert _header(sent, name).findtext(f"{{{WSA}}}Address") == f"{WSA}/anonymous"
        assert _header(got, "RelatesTo").text == _header(sent, "MessageID").text
        assert _header(got, "MessageID").text != _header(sent, "MessageID").text
        assert _header(got, "To").text == f"{WSA}/anonymous"
        fault = got.find("{*}Body/{*}Fault")
        if fault is None:
            assert _header(got, "Action").text == action.text + "Response"
        else:
            detail = fault.find("{*}Detail/*") if path == "/soap12" else fault.find("detail/*")
            assert detail is not None, etree.tostring(fault)
            name = etree.QName(detail).localname.removesuffix("Detail")
            assert _header(got, "Action").text == f"{action.text}/Fault/{name}"
        actions.add(action.text.rsplit("/", 1)[1])
    assert actions == {
        "Greet",
        "GetTime",
        "EchoPerson",
        "UploadImage",
        "ListImages",
        "GetImage",
        "DeleteImage",
        "DescribeRequest",
    }


#: what reply_stub takes out of a reply, by its shape
_CUTS: Final = {
    "as_served": None,
    "no_relates_to": rb"<wsa:RelatesTo\b[^>]*>[^<]*</wsa:RelatesTo>",
    "no_action": rb"<wsa:Action\b[^>]*>[^<]*</wsa:Action>",
}


def _cut(words: tuple[str, ...], status: int, reply: bytes) -> bytes:
    pattern = _CUTS[words[1]]
    if pattern is None:
        return reply
    reply, cuts = re.subn(pattern, b"", reply)
    assert cuts == 1, reply
    return reply


@pytest.fixture
def reply_stub(live_server: LiveServer) -> Iterator[tuple[str, list[Forwarded]]]:
    """A stub in front of the service: ``/<mode>/<shape>/<port path>`` records the request
    under ``<mode>`` and hands back the service's reply as served (``as_served``), without
    ``wsa:RelatesTo`` (``no_relates_to``) or without ``wsa:Action`` (``no_action``)."""
    forward = ("content-type", "soapaction", "accept")
    with forwarding_stub(live_server.url, forward, reply=_cut) as stub:
        yield stub


@pytest.mark.parametrize(("build", "path"), BUILDS, ids=["soap11", "soap12"])
def test_jaxws_addresses_by_default_and_checks_replies(
    reply_stub: tuple[str, list[Forwarded]],
    build: str,
    path: str,
    request: pytest.FixtureRequest,
) -> None:
    """What the RI sends without the feature (the optional policy turns addressing on), what
    the required feature adds (``mustUnderstand`` on ``wsa:Action``), and what each refuses
    in a reply: so the rows above passing means the RI checked our replies' headers."""
    stub, seen = reply_stub
    work, classpath = request.getfixturevalue(build)
    probe = subprocess.run(
        ["java", "-cp", classpath, "AddressingProbe", stub],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert probe.returncode == 0, probe.stderr[-6000:]
    report = json.loads(probe.stdout.strip().splitlines()[-1])
    # the RI's refusal of a reply, worded as if the service had sent it a fault
    refused = (
        "com.sun.xml.ws.fault.ServerSOAPFaultException: Client received SOAP Fault from server:"
        " A required header representing a Message Addressing Property is not present"
        " Please see the server log to find more detail regarding exact cause of the failure."
    )
    assert report == {
        "default": {
            "as_served": "Hello, Ada!",
            "no_relates_to": refused,
            "no_action": "Hello, Ada!",
        },
        "addressing": {"as_served": "Hello, Ada!", "no_relates_to": refused, "no_action": refused},
    }, report
    # the RI's log names the missing header of each refused reply, in order
    problems = re.findall(r"Problem header:\{([^}]*)\}(\w+)", probe.stderr)
    assert problems == [(WSA, "RelatesTo"), (WSA, "RelatesTo"), (WSA, "Action")], probe.stderr
    must_understand = f"{{{ENVELOPES[path]}}}mustUnderstand"
    assert [request.words[0] for request in seen] == ["default"] * 3 + ["addressing"] * 3
    for mode, body in ((request.words[0], request.body) for request in seen):
        match = re.search(rb"<(\w+):Envelope\b.*?</\1:Envelope>", body, re.DOTALL)
        assert match, body
        envelope = etree.fromstring(match.group(0))
        assert [etree.QName(h).text for h in envelope.find("{*}Header")] == WSA_HEADERS
        action = _header(envelope, "Action")
        assert action.text == "urn:soap-service:v1/Greet"
        if mode == "default":
            assert action.get(must_understand) is None, etree.tostring(action)
        else:
            assert action.get(must_understand) in ("1", "true"), etree.tostring(action)


@pytest.mark.parametrize("build", ["java_build", "java_build_extension"])
def test_jaxws_mtom_10_mib(
    live_server: LiveServer, big_image: Path, build: str, request: pytest.FixtureRequest
) -> None:
    work, classpath = request.getfixturevalue(build)
    before = live_server.log_text()
    out = run(["java", "-cp", classpath, "MtomDriver", big_image, *TESTER], cwd=work)
    check_mtom_report(parse_report(out), big_image, before, live_server.log_text())
