""".NET WCF through Mono (6.8): svcutil with default options, mcs, mono; both ports.

Mono's svcutil reads metadata from a URL (it refuses a .wsdl path), so it reads the live
``?wsdl`` unedited, which the contract tests prove is the committed document. The drivers
use the client class it generates, ``SoapServicePortTypeClient``, and catch what it throws.

What the drivers add to that generated code, and why each is still needed (each proven
below, against the Mono that is installed):

* **The binding, in code.** Mono's svcutil writes no configuration file, whatever it is
  asked (``--config=NAME`` included): its ``Driver.Run`` ends in ``//FIXME: Generate
  .config`` (mono/mono ``mcs/tools/svcutil/Driver.cs``). So the generated default
  constructor finds no endpoint ("Client endpoint configuration '*' was not found in 0
  endpoints") and the driver calls the generated ``(Binding, EndpointAddress)``
  constructor with the binding the WSDL's port describes, what the .NET svcutil would
  have written into output.config: WCF's stock ``BasicHttpBinding`` for the SOAP 1.1 port,
  and for the SOAP 1.2 port a ``CustomBinding`` of SOAP 1.2 text encoding over HTTP (WCF
  has no stock binding for SOAP 1.2 without WS-Addressing). HTTP Basic is WCF's documented
  ``TransportCredentialOnly``/``AuthenticationSchemes.Basic`` plus ``ClientCredentials``.
  Each port now accepts both SOAP versions, but speaking 1.1 to ``/soap12`` would no longer
  test SOAP 1.2, so no binding here is a workaround for the other port's version.
* **MTOM quotas** (MtomDriver.cs): Mono's ``BasicHttpBinding`` builds its MTOM encoder
  without copying ``ReaderQuotas`` (only the Text branch of
  ``BasicHttpBinding.BuildMessageEncodingBindingElement`` calls ``ReaderQuotas.CopyTo``),
  so a 10 MiB image needs the ``CustomBinding`` with the quotas on the MTOM element:
  the stock binding with ``ReaderQuotas = XmlDictionaryReaderQuotas.Max`` uploads it and
  fails reading it back, "The maximum array length quota (16384) has been exceeded".
* **Fault contracts** (Driver.cs). Mono's svcutil writes neither ``[FaultContract]`` nor
  the detail types (``test_generated_proxy_has_no_fault_contracts``), and with none Mono's
  runtime turns every fault that has a detail into a ``SerializationException``, never a
  ``FaultException``. So the driver declares the WSDL's faults on the operation
  descriptions at run time (what ``[FaultContract]`` does) with the two detail data
  contracts, and gets ``FaultException<ValidationFaultDetail>`` and friends.

Issue 15 item 8, the fault: Mono's limitation, not the service's. In Mono 6.8
``System.ServiceModel.MonoInternal.ClientRuntimeChannel.Request`` (mono/mono
``mcs/class/System.ServiceModel/System.ServiceModel/ClientRuntimeChannel.cs``, the
``if (res.IsFault)`` block), once the default ``FaultConverter`` declines (it only knows
WS-Addressing's ActionNotSupported and DestinationUnreachable)::

    if (fault.HasDetail) {
        Type detailType = typeof (ExceptionDetail);
        var freader = fault.GetReaderAtDetailContents ();
        DataContractSerializer ds = null;
        foreach (var fci in op.FaultContractInfos)
            if (res.Headers.Action == fci.Action || fci.Serializer.IsStartObject (freader)) { ... }
        if (ds == null)
            ds = new DataContractSerializer (detailType);
        var detail = ds.ReadObject (freader);
        ex = ... FaultException<detailType> (detail, fault.Reason, fault.Code, action);
    }
    if (ex == null)
        ex = new FaultException (fault);

``HasDetail`` is true as soon as ``detail``/``Detail`` has any child (``MessageFault.cs``,
``XmlReaderDetailMessageFault``: ``has_detail = reader.NodeType != EndElement`` after the
wrapper), and ``ReadObject`` reads the *first* child, which must then be WCF's
``{http://schemas.datacontract.org/2004/07/System.ServiceModel}ExceptionDetail``. The test
checks the installed System.ServiceModel.dll's IL has exactly that sequence, and that the
plain generated client (FaultProbe.cs: no fault declared) ends there on both ports with
``System.Runtime.Serialization.SerializationException``: "Expecting element
'ExceptionDetail' from namespace '...System.ServiceModel'.. Encountered 'Element' with name
'ValidationFaultDetail', namespace 'urn:soap-service:v1'", raised from
``ClientRuntimeChannel.Request``; no code, no reason.

On the wire (a stub forwarding to the service and altering only its fault's detail) the
only faults Mono turns into a ``FaultException`` with the code and reason
(``Client.Validation``; ``Sender`` + ``Validation`` on SOAP 1.2) are one with no detail
entry, and one whose *first* entry is a ``{...System.ServiceModel}ExceptionDetail`` (then
``FaultException<ExceptionDetail>``). SOAP 1.1 and 1.2 behave the same, and the typed
detail first with an ``ExceptionDetail`` after it (WS-I BP R2742 allows extra entries)
still fails. Both working shapes cost the typed detail where other toolkits read it (the
first drops it, the second moves it off the first entry): this repository's client (``client/client.py``: ``detail[0]``) then raises a bare
``SoapFault`` instead of ``ValidationError``, and JAX-WS picks the wsdl:fault by the first
detail entry's name too (metro's ``FaultMessage.getFirstDetailEntryName``). So the
service keeps its fault as it is, and the Mono row declares the faults itself.

Every row also calls the two operations the shared scenario leaves out: DescribeRequest and
DeleteImage of its upload, then GetImage of it again, a ``FaultException<NotFoundFaultDetail>``
(NotFoundFault declared at run time like the others). The plain rows send no SOAP header and
the operation's SOAPAction, which svcutil reads from the contract's ``wsaw:Action`` (below).

**WS-Addressing** (issue 19). The client settings a WCF user writes: a ``CustomBinding`` of the
addressed message version over HTTP, passed to the generated constructor like the rows above::

    var binding = new CustomBinding(
        new TextMessageEncodingBindingElement(MessageVersion.Soap12WSAddressing10, Encoding.UTF8),
        new HttpTransportBindingElement { AuthenticationScheme = AuthenticationSchemes.Basic });
    var api = new SoapServicePortTypeClient(binding, new EndpointAddress("http://HOST:8000/soap12"));

(``MessageVersion.Soap11WSAddressing10`` with ``/soap``.) Two Mono 6.8 behaviours bear on it,
each proven below:

* **svcutil reads no ``wsam:Action``.** Mono's ``WsdlImporter`` (``ImportContract`` in
  mono/mono ``mcs/class/System.ServiceModel/System.ServiceModel.Description/WsdlImporter.cs``,
  ``DoImportContract`` in the installed 6.8) takes a message's action only from the 2006/05 WSDL
  binding namespace's ``Action`` attribute (``http://www.w3.org/2006/05/addressing/wsdl``, the
  ``wsaw:Action`` WCF itself publishes), not from the final
  ``http://www.w3.org/2007/05/addressing/metadata``; with none, an input's action is ``*``,
  which the service answers ``wsa:ActionNotSupported``. So the contract carries both
  attributes with the same value (``service/contract/wsdl.py``), and svcutil generates
  ``[OperationContract(Action="urn:soap-service:v1/<Operation>", ReplyAction=".../<Operation>
  Response")]``: the SOAP 1.2 addressed row runs the whole scenario.
* **Mono's HTTP channel takes ``wsa:Action`` out of every SOAP 1.1 message**, Mono's own
  limitation. ``HttpRequestChannel.BeginProcessRequest`` (mono/mono
  ``mcs/class/System.ServiceModel/System.ServiceModel.Channels/HttpRequestChannel.cs``) does,
  for SOAP 1.1 whatever the addressing version: ``web_request.Headers ["SOAPAction"] = "\"" +
  action + "\""; message.Headers.RemoveAll ("Action", ...)``. The addressed SOAP 1.1 request has
  ``wsa:MessageID``, ``wsa:ReplyTo`` and ``wsa:To`` but no ``wsa:Action``, which WS-Addressing
  requires (Core 1.0, 3.1: the action is a required property of every addressed message):
  ``wsa:MessageAddressingHeaderRequired``. The service keeps the rule (WCF and CXF services
  answer the same); the Soap11WSAddressing10 row asserts that fault and what Mono sent.

With the action put back into each SOAP 1.1 request (a stub that adds the operation's
``wsa:Action``, and nothing else), Mono runs the whole scenario on that port too and reads
our replies: every reply WCF accepted carries the operation's output action and relates to
its request. Mono's WCF does not check either header itself (the same run with both
scrambled in every reply passes), so the driver reports what WCF read (an
``IClientMessageInspector``, which only reads) and the test checks it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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

SERVICE_MODEL_DLL = Path("/usr/lib/mono/4.5/System.ServiceModel.dll")
WCF_NS = "http://schemas.datacontract.org/2004/07/System.ServiceModel"
ENVELOPES = {
    "1.1": "http://schemas.xmlsoap.org/soap/envelope/",
    "1.2": "http://www.w3.org/2003/05/soap-envelope",
}
PORTS = [("1.1", "/soap"), ("1.2", "/soap12")]
ADDRESSED = [("Soap11WSAddressing10", "/soap"), ("Soap12WSAddressing10", "/soap12")]
WSA = "http://www.w3.org/2005/08/addressing"
TNS = "urn:soap-service:v1"
OPERATIONS = [
    "Greet",
    "GetTime",
    "EchoPerson",
    "UploadImage",
    "GetImage",
    "ListImages",
    "DeleteImage",
    "DescribeRequest",
]
NOT_EXCEPTION_DETAIL = (
    "Expecting element 'ExceptionDetail' from namespace "
    "'http://schemas.datacontract.org/2004/07/System.ServiceModel'.. "
    "Encountered 'Element'  with name 'ValidationFaultDetail', namespace 'urn:soap-service:v1'."
)


@pytest.fixture(scope="module")
def mono_build(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    require("svcutil", "mcs", "mono")
    work = tmp_path_factory.mktemp("dotnet")
    run(["svcutil", "--noLogo", live_server.url + "/soap?wsdl"], cwd=work)
    for name, source in (
        ("driver", "Driver.cs"),
        ("mtom", "MtomDriver.cs"),
        ("mtomquota", "MtomQuotaProbe.cs"),
        ("faultprobe", "FaultProbe.cs"),
    ):
        shutil.copy(HERE / "dotnet" / source, work)
        run(
            [
                "mcs",
                "-nologo",
                f"-out:{name}.exe",
                "-r:System.ServiceModel.dll",
                "-r:System.Runtime.Serialization.dll",
                source,
                "output.cs",
            ],
            cwd=work,
        )
    return work


def test_generated_proxy_is_natural(mono_build: Path) -> None:
    proxy = " ".join((mono_build / "output.cs").read_text().split())
    assert "string Greet(string name);" in proxy
    assert "soapservice.v1.TimeInfo GetTime(string timezone);" in proxy
    assert "soapservice.v1.Person EchoPerson(soapservice.v1.Person person);" in proxy
    assert re.search(
        r"soapservice\.v1\.ImageReceipt UploadImage\(string filename, byte\[\] "
        r"content, string content_type\);",
        proxy,
    )
    assert "soapservice.v1.ImageData GetImage(string image_id);" in proxy
    assert "soapservice.v1.ImagePage ListImages(int page_size, string page_token);" in proxy
    assert "soapservice.v1.ImageReceipt DeleteImage(string image_id);" in proxy
    assert "public soapservice.v1.ImageReceipt[] images {" in proxy
    assert "public byte[] content {" in proxy
    assert "public int age {" in proxy and "public string first_name {" in proxy
    assert "public long size_bytes {" in proxy


def test_generated_proxy_has_no_fault_contracts(mono_build: Path) -> None:
    """Why Driver.cs declares the faults itself: Mono's svcutil drops every wsdl:fault."""
    proxy = (mono_build / "output.cs").read_text()
    assert "FaultContract" not in proxy
    assert "class ValidationFaultDetail" not in proxy
    assert "class ImageRejectedFaultDetail" not in proxy


def test_svcutil_writes_no_config(live_server: LiveServer, tmp_path: Path) -> None:
    """Why the drivers pass a binding: there is no svcutil config to read, even when asked."""
    require("svcutil")
    said = run(
        ["svcutil", "--noLogo", "--config=output.config", live_server.url + "/soap?wsdl"],
        cwd=tmp_path,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["output.cs"], said


def test_generated_default_constructor_finds_no_endpoint(mono_build: Path) -> None:
    """What the generated client's default constructor does without svcutil's config."""
    assert not list(mono_build.glob("*.config"))
    out = run(["mono", "faultprobe.exe", "--default-constructor"], cwd=mono_build)
    raised = json.loads(out.strip().splitlines()[-1])
    assert raised["type"] == "System.InvalidOperationException", raised
    assert raised["message"] == "Client endpoint configuration '*' was not found in 0 endpoints."


@pytest.mark.parametrize(("version", "path"), PORTS)
def test_mono_wcf(
    live_server: LiveServer, payloads: dict[str, Path], mono_build: Path, version: str, path: str
) -> None:
    out = run(
        [
            "mono",
            "driver.exe",
            live_server.url + path,
            version,
            payloads["png"],
            payloads["text"],
            *TESTER,
        ],
        cwd=mono_build,
    )
    # DataContract maps xs:dateTime to DateTime, which keeps no UTC offset.
    report = parse_report(out)
    check_report(report, payloads["png"], keeps_offsets=False, images=True)
    _check_rest(report, path)
    # no SOAP header; the action is the contract's (svcutil reads wsaw:Action), sent as a
    # SOAPAction HTTP header on both versions, which SOAP 1.2 does not read (its action is a
    # media-type parameter, which Mono leaves out)
    assert report["describe"]["soap_headers"] == [], report["describe"]
    action = f"{TNS}/DescribeRequest" if path == "/soap" else None
    assert report["describe"]["soap_action"] == action, report


def _check_rest(report: dict[str, Any], path: str) -> None:
    """DescribeRequest, DeleteImage and the NotFoundFault after it."""
    assert report["describe"]["soap_version"] == ("1.1" if path == "/soap" else "1.2")
    assert report["delete"]["image_id"] == report["upload"]["image_id"]
    code = "Client.NotFound" if path == "/soap" else "Sender.NotFound"
    assert report["fault_gone"] == {"code": code, "image_id": report["delete"]["image_id"]}


def _addressed(
    mono_build: Path, endpoint: str, version: str, payloads: dict[str, Path]
) -> tuple[int, dict[str, Any]]:
    """The driver with an addressed binding: its exit status and its report."""
    done = subprocess.run(
        [
            "mono",
            "driver.exe",
            endpoint,
            version,
            payloads["png"],
            payloads["text"],
            *TESTER,
        ],
        cwd=mono_build,
        capture_output=True,
        text=True,
        timeout=600,
    )
    try:
        return done.returncode, parse_report(done.stdout)
    except AssertionError:
        pytest.fail(
            f"driver exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )


def _check_addressed(report: dict[str, Any], payloads: dict[str, Path], path: str) -> None:
    """The whole scenario, and WS-Addressing as WCF sent and read it."""
    check_report(report, payloads["png"], keeps_offsets=False, images=True)
    _check_rest(report, path)
    assert report["describe"]["soap_headers"][0].startswith(f"{{{WSA}}}"), report["describe"]
    exchanges = report["exchanges"]
    assert len(exchanges) >= 15, exchanges
    replies = set()
    for exchange in exchanges:
        assert "Addressing10" in exchange["version"], exchange
        assert exchange["message_id"], exchange
        if "reply_action" in exchange:  # a reply WCF accepted (faults never reach inspectors)
            assert exchange["relates_to"] == exchange["message_id"], exchange
            replies.add(exchange["reply_action"])
    assert replies == {f"{TNS}/{op}Response" for op in OPERATIONS}, replies


def test_mono_wcf_addressing(
    live_server: LiveServer, payloads: dict[str, Path], mono_build: Path
) -> None:
    """``CustomBinding(TextMessageEncodingBindingElement(MessageVersion.Soap12WSAddressing10),
    HTTP)`` with the generated client: the whole scenario, addressed, on ``/soap12``."""
    status, report = _addressed(
        mono_build, live_server.url + "/soap12", "Soap12WSAddressing10", payloads
    )
    assert status == 0, report
    _check_addressed(report, payloads, "/soap12")


def test_mono_soap11_addressing_loses_its_action(
    live_server: LiveServer, payloads: dict[str, Path], mono_build: Path
) -> None:
    """Soap11WSAddressing10: WCF's contract puts the action in, Mono's HTTP channel takes it
    out (module docstring), and the service answers the WS-Addressing fault that says so."""
    status, report = _addressed(
        mono_build, live_server.url + "/soap", "Soap11WSAddressing10", payloads
    )
    assert status != 0
    assert "no wsa:Action" in report["error"], report
    (first,) = report["exchanges"][:1]
    assert first["action"] == f"{TNS}/Greet" and "Addressing10" in first["version"], first


@pytest.mark.parametrize(("version", "path"), PORTS)
def test_mono_wcf_mtom_10_mib(
    live_server: LiveServer, big_image: Path, mono_build: Path, version: str, path: str
) -> None:
    before = live_server.log_text()
    out = run(
        ["mono", "mtom.exe", live_server.url + path, version, big_image, *TESTER], cwd=mono_build
    )
    check_mtom_report(parse_report(out), big_image, before, live_server.log_text())


def test_stock_basic_http_binding_loses_mtom_quotas(
    live_server: LiveServer, big_image: Path, mono_build: Path
) -> None:
    """Why MtomDriver.cs builds a CustomBinding even for SOAP 1.1 (MtomQuotaProbe.cs)."""
    out = run(
        ["mono", "mtomquota.exe", live_server.url + "/soap", big_image, *TESTER], cwd=mono_build
    )
    report = parse_report(out)
    assert int(report["uploaded"]) == big_image.stat().st_size
    # ReaderQuotas = XmlDictionaryReaderQuotas.Max was set; the default 16384 was used
    assert report["error"].startswith(
        "System.Xml.XmlException: The maximum array length quota (16384) has been exceeded"
    ), report


# --- issue 19: why the addressed rows fail, and that Mono reads our addressed replies ------


def test_svcutil_reads_the_wsaw_actions(live_server: LiveServer, mono_build: Path) -> None:
    """Mono's svcutil reads ``wsaw:Action``, not ``wsam:Action`` (module docstring): the
    contract carries both, and every generated operation has the contract's actions."""
    wsdl = urllib.request.urlopen(live_server.url + "/soap?wsdl", timeout=60).read().decode()
    proxy = (mono_build / "output.cs").read_text()
    for op in OPERATIONS:
        for prefix in ("wsam", "wsaw"):
            assert f'{prefix}:Action="{TNS}/{op}"' in wsdl
            assert f'{prefix}:Action="{TNS}/{op}Response"' in wsdl
        contract = (
            f'OperationContractAttribute(Action="{TNS}/{op}", ReplyAction="{TNS}/{op}Response")'
        )
        assert contract in proxy, op


def test_installed_runtime_explains_the_addressed_rows() -> None:
    """The installed System.ServiceModel.dll is the source the module docstring quotes."""
    require("ikdasm", str(SERVICE_MODEL_DLL))
    il = subprocess.run(
        ["ikdasm", str(SERVICE_MODEL_DLL)], capture_output=True, text=True, timeout=300
    ).stdout

    def method(start: str, end: str) -> str:
        match = re.search(re.escape(start) + ".*?" + re.escape(end), il, re.DOTALL)
        assert match, start
        return match.group(0)

    def in_order(body: str, steps: list[str]) -> None:
        at = 0
        for step in steps:
            found = body.find(step, at)
            assert found >= 0, f"{step!r} not found after offset {at}"
            at = found

    importer = method(
        "DoImportContract([System.Web.Services]System.Web.Services.Description.PortType",
        "end of method WsdlImporter::DoImportContract",
    )
    in_order(
        importer,
        [
            'ldstr      "Action"',
            'ldstr      "http://www.w3.org/2006/05/addressing/wsdl"',
            'ldstr      "*"',
        ],
    )
    assert "2007/05/addressing" not in importer
    channel = method(
        "BeginProcessRequest(class System.ServiceModel.Channels.HttpRequestChannel/",
        "end of method HttpRequestChannel::BeginProcessRequest",
    )
    in_order(
        channel,
        [
            "EnvelopeVersion::get_Soap11()",
            "brtrue",
            "AddressingVersion::get_None()",
            "MessageHeaders::get_Action()",
            'ldstr      "SOAPAction"',
            'ldstr      "Action"',
            "MessageHeaders::RemoveAll(string,",
        ],
    )


def _act(body: bytes, headers: dict[str, str]) -> bytes:
    """The request with the operation's wsa:Action (the Body's element), SOAPAction to match."""
    root = etree.fromstring(body.removeprefix(b"\xef\xbb\xbf"))
    env = etree.QName(root).namespace
    header = root.find(f"{{{env}}}Header")
    body_element = root.find(f"{{{env}}}Body")
    assert header is not None and body_element is not None, body
    action = header.find(f"{{{WSA}}}Action")
    if action is None:  # SOAP 1.1: Mono's HTTP channel took it out
        action = etree.Element(f"{{{WSA}}}Action")
        header.insert(0, action)
    action.text = f"{TNS}/{etree.QName(body_element[0]).localname}"
    if "soapaction" in headers:
        headers["soapaction"] = f'"{action.text}"'
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def _scramble(reply: bytes) -> bytes:
    reply = re.sub(rb"(<wsa:Action\b[^>]*>)[^<]*", rb"\1urn:scrambled", reply)
    return re.sub(rb"(<wsa:RelatesTo\b[^>]*>)[^<]*", rb"\1urn:uuid:0-0-0-0-0", reply)


def _acted(words: tuple[str, ...], body: bytes, headers: dict[str, str]) -> bytes:
    return body if words[0] == "record" else _act(body, headers)


def _scrambled(words: tuple[str, ...], status: int, reply: bytes) -> bytes:
    return _scramble(reply) if words[0] == "act_scrambled" else reply


@pytest.fixture
def addressing_stub(live_server: LiveServer) -> Iterator[tuple[str, list[Forwarded]]]:
    """``/<shape>/soap[12]`` in front of the service, recording each request as it came:
    ``record`` forwards it unchanged; ``act`` with the operation's wsa:Action put in
    (``_act``); ``act_scrambled`` that, and every reply's wsa:Action and wsa:RelatesTo
    scrambled. HTTP Basic passes through (the 401 challenge back, Authorization on)."""
    forward = ("content-type", "soapaction", "authorization")
    with forwarding_stub(live_server.url, forward, _acted, _scrambled) as stub:
        yield stub


@pytest.mark.parametrize(("version", "path"), ADDRESSED)
def test_mono_addressed_request_on_the_wire(
    addressing_stub: tuple[str, list[Forwarded]],
    payloads: dict[str, Path],
    mono_build: Path,
    version: str,
    path: str,
) -> None:
    """What Mono sends for the row's first call, Greet: wsa:Action the operation's (SOAP
    1.2), or no wsa:Action at all and the action as ``SOAPAction`` (SOAP 1.1)."""
    stub, seen = addressing_stub
    _addressed(mono_build, f"{stub}/record{path}", version, payloads)
    first = seen[0]
    envelope = etree.fromstring(first.body.removeprefix(b"\xef\xbb\xbf"))
    env = etree.QName(envelope).namespace
    header = envelope.find(f"{{{env}}}Header")
    assert header is not None, first.body
    names = [etree.QName(h).localname for h in header if etree.QName(h).namespace == WSA]
    assert envelope.findtext(f"{{{env}}}Body/{{{TNS}}}Greet/{{{TNS}}}name") == "Ada"
    assert header.findtext(f"{{{WSA}}}MessageID").startswith("urn:uuid:")
    assert header.findtext(f"{{{WSA}}}ReplyTo/{{{WSA}}}Address") == f"{WSA}/anonymous"
    to = header.find(f"{{{WSA}}}To")
    assert to.text == f"{stub}/record{path}" and to.get(f"{{{env}}}mustUnderstand") == "1"
    if path == "/soap":
        assert names == ["MessageID", "ReplyTo", "To"], first.body
        assert first.headers["SOAPAction"] == f'"{TNS}/Greet"', first.headers
    else:
        assert names == ["Action", "MessageID", "ReplyTo", "To"], first.body
        action = header.find(f"{{{WSA}}}Action")
        assert action.text == f"{TNS}/Greet" and action.get(f"{{{env}}}mustUnderstand") == "1"
        assert "SOAPAction" not in first.headers
        assert "action=" not in first.headers["Content-Type"], first.headers


@pytest.mark.parametrize(("version", "path"), ADDRESSED)
def test_mono_reads_our_addressed_replies(
    addressing_stub: tuple[str, list[Forwarded]],
    payloads: dict[str, Path],
    mono_build: Path,
    version: str,
    path: str,
) -> None:
    """With the operation's wsa:Action in each request (the stub's only change), the addressed
    row passes: our replies are what WCF reads, each relating to its request. Mono's WCF
    checks neither header itself: with both scrambled in every reply it passes too."""
    stub, _ = addressing_stub
    status, report = _addressed(mono_build, f"{stub}/act{path}", version, payloads)
    assert status == 0, report
    _check_addressed(report, payloads, path)
    names = ("Action", "MessageID", "ReplyTo", "To")
    assert report["describe"]["soap_headers"] == [f"{{{WSA}}}{n}" for n in names], report
    status, report = _addressed(mono_build, f"{stub}/act_scrambled{path}", version, payloads)
    assert status == 0, report
    check_report(report, payloads["png"], keeps_offsets=False, images=True)
    read = {(e.get("reply_action"), e.get("relates_to")) for e in report["exchanges"]}
    assert read == {("urn:scrambled", "urn:uuid:0-0-0-0-0"), (None, None)}, read


# --- issue 15, item 8: what Mono raises for a declared fault, and why ---------------------


def probe(mono_build: Path, endpoint: str, version: str) -> dict[str, Any]:
    """What the svcutil client, with no fault declared, raises for Greet(" ")."""
    out = run(["mono", "faultprobe.exe", endpoint, version], cwd=mono_build)
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize(("version", "path"), PORTS)
def test_mono_reads_the_typed_detail_as_exception_detail(
    live_server: LiveServer, mono_build: Path, version: str, path: str
) -> None:
    """Mono's limitation, as the plain generated client meets the service's fault."""
    raised = probe(mono_build, live_server.url + path, version)
    assert raised["type"] == "System.Runtime.Serialization.SerializationException", raised
    assert raised["message"].endswith(NOT_EXCEPTION_DETAIL), raised
    assert "code" not in raised  # not a FaultException: no code, no reason
    frames = [line.strip() for line in raised["stack"].splitlines()]
    reader = next(i for i, f in enumerate(frames) if "XmlObjectSerializer.ReadObject (" in f)
    assert "MonoInternal.ClientRuntimeChannel.Request" in frames[reader + 1], frames


def test_installed_client_runtime_reads_any_detail_as_exception_detail() -> None:
    """The installed System.ServiceModel.dll is the source quoted in the module docstring."""
    require("ikdasm", str(SERVICE_MODEL_DLL))
    il = subprocess.run(
        ["ikdasm", str(SERVICE_MODEL_DLL)], capture_output=True, text=True, timeout=300
    ).stdout
    match = re.search(
        r"Request\(class System\.ServiceModel\.Description\.OperationDescription od,"
        r".*?end of method ClientRuntimeChannel::Request",
        il,
        re.DOTALL,
    )
    assert match, "ClientRuntimeChannel.Request(OperationDescription, ...) not found"
    body = match.group(0)
    steps = [
        "Message::get_IsFault()",
        "FaultConverter::TryCreateException(",
        "MessageFault::get_HasDetail()",
        "ldtoken    System.ServiceModel.ExceptionDetail",
        "MessageFault::GetReaderAtDetailContents()",
        "ClientOperation::get_FaultContractInfos()",
        "XmlObjectSerializer::IsStartObject(",
        "DataContractSerializer::.ctor([mscorlib]System.Type)",
        "XmlObjectSerializer::ReadObject(",
        "FaultException`1",
        "FaultException::.ctor(class System.ServiceModel.Channels.MessageFault)",
    ]
    at = 0
    for step in steps:
        found = body.find(step, at)
        assert found >= 0, f"{step!r} not found after offset {at}"
        at = found


EXCEPTION_DETAIL = (
    f'<ExceptionDetail xmlns="{WCF_NS}"><Message>must not be blank</Message>'
    "<Type>ValidationFault</Type></ExceptionDetail>"
)

#: The service's fault, altered: name -> what to do with the detail's entries
SHAPES = ["as_served", "typed_then_exception_detail", "exception_detail_then_typed", "no_detail"]


def reshape(body: bytes, version: str, shape: str) -> bytes:
    """The service's fault ``body`` with its detail altered to ``shape``."""
    root = etree.fromstring(body)
    env = ENVELOPES[version]
    tag = "detail" if version == "1.1" else f"{{{env}}}Detail"
    fault = root.find(f"{{{env}}}Body/{{{env}}}Fault")
    assert fault is not None, body
    detail = fault.find(tag)
    assert detail is not None and len(detail) == 1, body
    if shape == "typed_then_exception_detail":
        detail.append(etree.fromstring(EXCEPTION_DETAIL))
    elif shape == "exception_detail_then_typed":
        detail.insert(0, etree.fromstring(EXCEPTION_DETAIL))
    elif shape == "no_detail":
        fault.remove(detail)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


@pytest.fixture(scope="module")
def reshaping_stub(live_server: LiveServer) -> Iterator[str]:
    """``http://127.0.0.1:PORT/<shape>/soap[12]`` forwards to the service, reshapes its fault."""

    def reshaped(words: tuple[str, ...], status: int, reply: bytes) -> bytes:
        if status != 500:
            return reply
        envelope = etree.QName(etree.fromstring(reply)).namespace
        return reshape(reply, "1.2" if envelope == ENVELOPES["1.2"] else "1.1", words[0])

    with forwarding_stub(live_server.url, reply=reshaped) as (url, _):
        yield url


@pytest.mark.parametrize(("version", "path"), PORTS)
def test_only_a_fault_without_the_typed_detail_first_reaches_mono_as_fault_exception(
    reshaping_stub: str, mono_build: Path, version: str, path: str
) -> None:
    """Every legal shape of the detail, against Mono and against this repository's client.

    Mono gives a FaultException with code and reason only when the detail has no entry or
    an ExceptionDetail first; exactly then the client that reads the first entry loses the
    typed detail. No shape serves both, on either SOAP version.
    """
    from client import SoapFault, SoapServiceClient, ValidationError

    code = "Client.Validation" if version == "1.1" else "Sender.Validation"
    seen: dict[str, tuple[str, str]] = {}
    for shape in SHAPES:
        raised = probe(mono_build, f"{reshaping_stub}/{shape}{path}", version)
        if "code" in raised:
            assert (raised["code"], raised["reason"]) == (
                code,
                "Invalid value for 'name': must not be blank",
            ), raised
        else:
            assert raised["message"].endswith(NOT_EXCEPTION_DETAIL), raised
        ours = SoapServiceClient(f"{reshaping_stub}/{shape}", soap_version=version)  # type: ignore[arg-type]
        with pytest.raises(SoapFault) as fault:
            ours.greet(" ")
        seen[shape] = (raised["type"], type(fault.value).__name__)
        if isinstance(fault.value, ValidationError):
            assert fault.value.field == "name"
    serialization = "System.Runtime.Serialization.SerializationException"
    assert seen == {
        "as_served": (serialization, "ValidationError"),
        "typed_then_exception_detail": (serialization, "ValidationError"),
        "exception_detail_then_typed": (
            "System.ServiceModel.FaultException`1[[System.ServiceModel.ExceptionDetail, "
            "System.ServiceModel, Version=4.0.0.0, Culture=neutral, "
            "PublicKeyToken=b77a5c561934e089]]",
            "SoapFault",
        ),
        "no_detail": ("System.ServiceModel.FaultException", "SoapFault"),
    }, seen
