"""Perl SOAP::WSDL (Debian ``libsoap-wsdl-perl`` 3.004), its generated client, from the full WSDL.

As SOAP::WSDL documents it (its POD, ``examples/hello.pl``): ``wsdl2perl -b <dir> <wsdl url>``
(Debian names ``wsdl2perl.pl`` ``wsdl2perl``) with default options, from ``GET /soap?wsdl``
unedited, then the generated ``MyInterfaces::SoapService::SoapServiceSoap11->new()``, methods
called with hashrefs, results read with the generated ``get_<element>`` accessors. SOAP::WSDL
knows no SOAP 1.2 binding (``SOAP::WSDL::TypeLookup`` has no ``wsdl/soap12/`` namespace), so
the SOAP 1.2 port is skipped and the one interface is the SOAP 1.1 port ``/soap``. HTTP Basic
is SOAP::WSDL::Manual::Cookbook's recipe: a ``get_basic_credentials`` method on the transport
class, ``SOAP::Transport::HTTP::Client`` because SOAP::Lite is installed (SOAP::WSDL then uses
SOAP::Lite's transport; ``SOAP::WSDL::Transport::HTTP`` only without it). LWP answers the
server's 401 challenge with it (the log shows the 401, then the 200).

SOAP::WSDL's bug, not the contract's (issue 15: "Cannot resolve class for
Fault/detail/ValidationFaultDetail"): the typemap wsdl2perl generates cannot place a declared
fault detail. The parser (``SOAP/WSDL/Expat/MessageParser.pm`` 139-148) looks every element up
by its path of local names, ``Fault/detail/ValidationFaultDetail``; the generator hard-codes
``'Fault/detail' => 'SOAP::WSDL::XSD::Typelib::Builtin::string'`` (``Generator/Template/XSD.pm``
154-158) and visits each wsdl:fault's part from the schema's top (``Generator/Iterator/WSDL11.pm``
47, ``Generator/Visitor/Typemap.pm`` 19-42), so it writes ``ValidationFaultDetail`` and
``ValidationFaultDetail/field``, never under ``Fault/detail/``. The parser is strict by default,
so the unknown path throws and ``Deserializer/XSD.pm`` 39-46 replaces the whole fault by one of
its own: ``SOAP-ENV:Server``, "Error deserializing message: Cannot resolve class for ...", the
server's fault (``soap:Client.Validation``, its detail) only as text inside that message.
SOAP::WSDL's own manual says so (``Manual/WS_I.pod``, R1002: "Partially confirmed: This only
works when the fault detail elements are added to the deserializer's typemap", R2742: "adding
custom maps to the type maps"). No contract form fixes it short of declaring a schema element
named ``Fault`` holding a ``detail`` holding the detail elements, as an extra wsdl:fault of every
operation: that does map the details, but replaces ``Fault11`` by a generated class that is true
in boolean context, so SOAP::WSDL's ``die $result if not $result`` idiom takes faults for results.
Parts by ``type=`` instead stop wsdl2perl ("Looks like a rpc/literal WSDL, which is not
supported by SOAP::WSDL").

So the driver reads each fault three ways, and this test checks all three: as generated (the
limitation, with the server's real code found in the message text), with the deserializer's
documented ``strict => 0`` (code and string right, detail dropped: ``Fault/detail`` is a string),
and, for the report, through the same generated class given ``class_resolver`` = the generated
typemap plus ``Fault/detail`` as a complex type holding the three detail elements and their
generated entries under ``Fault/detail/`` (WS_I.pod's remedy): the fault is then SOAP::WSDL's
``SOAP::WSDL::SOAP::Typelib::Fault11`` with the real faultcode and faultstring, and its
``get_detail`` holds the generated ``MyElements::ValidationFaultDetail`` /
``MyElements::ImageRejectedFaultDetail``.

SOAP::WSDL's limitation on bytes: its ``xs:base64Binary`` class is a bare ``anySimpleType``
(``XSD/Typelib/Builtin/base64Binary.pm``), neither encoding nor decoding: raw bytes handed to it
go into the envelope as they are (the driver proves it with ``no_dispatch``), so the driver
uploads ``MIME::Base64::encode_base64`` text and decodes GetImage's ``content``, which arrives
as the element's base64 text (checked here to be exactly the base64 of the uploaded bytes).
"""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.request
from pathlib import Path

from tests.conftest import TESTER, LiveServer
from tests.interop.conftest import HERE, require, run
from tests.interop.scenario import check_report, parse_report

DETAILS = ("ValidationFaultDetail", "ImageRejectedFaultDetail", "NotFoundFaultDetail")
FAULT11 = "SOAP::WSDL::SOAP::Typelib::Fault11"


def wsdl2perl(live_server: LiveServer, tmp_path: Path) -> Path:
    """``wsdl2perl -b <dir> <url>``, default options, from the served full WSDL."""
    require("perl", "wsdl2perl")
    generated = tmp_path / "generated"
    run(["wsdl2perl", "-b", generated, live_server.url + "/soap?wsdl"], cwd=tmp_path)
    return generated


def test_wsdl2perl_typemap_cannot_place_fault_details(
    live_server: LiveServer, tmp_path: Path
) -> None:
    """Why faults need the typemap entries (if wsdl2perl starts writing them, say so)."""
    generated = wsdl2perl(live_server, tmp_path)
    interfaces = sorted(p.name for p in (generated / "MyInterfaces" / "SoapService").iterdir())
    assert interfaces == ["SoapServiceSoap11.pm"]  # no SOAP 1.2 port
    paths = ["Fault", "Fault/detail"]
    paths += [f"Fault/detail/{name}" for name in DETAILS] + list(DETAILS)
    paths += ["Fault/detail/ValidationFaultDetail/field", "ValidationFaultDetail/field"]
    script = (
        "use MyTypemaps::SoapService; for (@ARGV) { my $c = "
        'MyTypemaps::SoapService->get_class([split m{/}]); print "$_=", $c // \'-\', "\\n" }'
    )
    out = run(["perl", "-I", generated, "-e", script, *paths], cwd=tmp_path)
    got = dict(line.split("=", 1) for line in out.splitlines())
    assert got["Fault"] == FAULT11
    assert got["Fault/detail"] == "SOAP::WSDL::XSD::Typelib::Builtin::string"
    for name in DETAILS:
        assert got[name] == f"MyElements::{name}"  # generated, at the schema's top
        assert got[f"Fault/detail/{name}"] == "-", got  # where the parser looks: nothing
    assert got["ValidationFaultDetail/field"] == "SOAP::WSDL::XSD::Typelib::Builtin::string"
    assert got["Fault/detail/ValidationFaultDetail/field"] == "-"


def test_perl_soap_wsdl(live_server: LiveServer, payloads: dict[str, Path], tmp_path: Path) -> None:
    generated = wsdl2perl(live_server, tmp_path)
    before = live_server.log_text()
    driver = HERE / "perl" / "soap_wsdl_driver.pl"
    out = run(
        ["perl", driver, generated, payloads["png"], payloads["text"], *TESTER],
        cwd=tmp_path,
    )
    report = parse_report(out)
    check_report(report, payloads["png"], images=True)
    data = payloads["png"].read_bytes()
    assert report["endpoint"] == live_server.url + "/soap"
    assert report["soap_version"] == "1.1"
    assert report["soap_action"] == "urn:soap-service:v1/DescribeRequest"
    assert report["transport"] == "SOAP::Transport::HTTP::Client"  # SOAP::Lite's, over LWP

    # bytes: SOAP::WSDL's base64Binary takes and gives the base64 text, nothing else
    assert report["raw_bytes_sent_verbatim"] is True
    image = report["image"]
    assert image["content_class"] == "SOAP::WSDL::XSD::Typelib::Builtin::base64Binary"
    encoded = base64.b64encode(data)
    assert image["content_as_given_sha256"] == hashlib.sha256(encoded).hexdigest(), image

    expected = {
        "fault_validation": ("soap:Client.Validation", "ValidationFaultDetail"),
        "fault_age": ("soap:Client.Validation", "ValidationFaultDetail"),
        "fault_zone": ("soap:Client.Validation", "ValidationFaultDetail"),
        "fault_image": ("soap:Client.ImageRejected", "ImageRejectedFaultDetail"),
    }
    for name, (code, element) in expected.items():
        # as wsdl2perl generated it: SOAP::WSDL's own fault, the server's lost
        generated_fault = report["faults_as_generated"][name]
        assert generated_fault["class"] == FAULT11
        assert generated_fault["code"] == "SOAP-ENV:Server", generated_fault
        assert generated_fault["string"].startswith(
            f"Error deserializing message: Cannot resolve class for Fault/detail/{element} "
            "via MyTypemaps::SoapService"
        ), generated_fault
        assert generated_fault["wire_code"] == code  # what the server sent, inside that text
        assert generated_fault["detail"] is None
        # strict => 0: the server's code and string, the detail dropped
        lenient = report["faults_lenient"][name]
        assert (lenient["class"], lenient["code"]) == (FAULT11, code), lenient
        assert lenient["detail_class"] == "SOAP::WSDL::XSD::Typelib::Builtin::string"
        assert lenient["detail"] == ""
        # with the detail entries added to the typemap: Fault11 with the declared detail
        fault = report[name]
        assert (fault["class"], fault["code"]) == (FAULT11, code), fault
        assert fault["detail_element"] == element
        assert fault["detail_object"] == f"MyElements::{element}"
        assert fault["string"]
    assert report["fault_image"]["message"]

    after = live_server.log_text()
    # HTTP Basic as LWP does it: the challenge first, then the credentials
    challenged = "operation=UploadImage outcome=fault fault=wsse:FailedAuthentication status=401"
    assert after.count(challenged) > before.count(challenged)
    signed = "method=POST path=/soap operation=UploadImage outcome=ok fault=- status=200"
    assert after.count(signed) > before.count(signed)
    marker = "path=/soap operation=GetImage outcome=ok fault=- status=200 encoding=xml reply=xml"
    assert after.count(marker) > before.count(marker), "GetImage was not answered on /soap as XML"


def test_fault_detail_contract_form_is_no_fix(live_server: LiveServer, tmp_path: Path) -> None:
    """The one WSDL form wsdl2perl maps details from breaks SOAP::WSDL's fault (not committed).

    A schema element named ``Fault`` with a ``detail`` holding the detail elements, as an extra
    wsdl:fault of Greet: the parser ignores namespaces, so its paths are the ones it looks up,
    but the generated class replaces ``Fault11`` and is true in boolean context.
    """
    require("perl", "wsdl2perl")
    with urllib.request.urlopen(live_server.url + "/soap?wsdl", timeout=60) as answer:
        served = answer.read().decode("utf-8")
    fault = (
        '<xs:element name="Fault"><xs:complexType><xs:sequence>'
        '<xs:element name="faultcode" type="xs:QName"/>'
        '<xs:element name="faultstring" type="xs:string"/>'
        '<xs:element name="faultactor" type="xs:anyURI" minOccurs="0"/>'
        '<xs:element name="detail" minOccurs="0"><xs:complexType><xs:sequence>'
        + "".join(f'<xs:element ref="tns:{name}" minOccurs="0"/>' for name in DETAILS)
        + "</xs:sequence></xs:complexType></xs:element>"
        "</xs:sequence></xs:complexType></xs:element></xs:schema>"
    )
    edited = served.replace("</xs:schema>", fault, 1)
    edited = edited.replace(
        '<wsdl:message name="ValidationFault">',
        '<wsdl:message name="SoapFault"><wsdl:part name="detail" element="tns:Fault"/>'
        '</wsdl:message><wsdl:message name="ValidationFault">',
        1,
    )
    declared = re.search(r'<wsdl:fault [^>]*message="tns:ValidationFault"[^>]*/>', edited)
    assert declared is not None
    edited = edited.replace(
        declared[0], declared[0] + '<wsdl:fault name="SoapFault" message="tns:SoapFault"/>', 1
    )
    assert '<wsdl:message name="SoapFault">' in edited
    assert 'message="tns:SoapFault"' in edited
    wsdl = tmp_path / "edited.wsdl"
    wsdl.write_text(edited, encoding="utf-8")
    generated = tmp_path / "generated"
    run(["wsdl2perl", "-b", generated, wsdl.as_uri()], cwd=tmp_path)
    script = (
        "use MyInterfaces::SoapService::SoapServiceSoap11; "
        "my $f = MyInterfaces::SoapService::SoapServiceSoap11->new->Greet({ name => ' ' }); "
        "my $v = $f->get_detail->get_ValidationFaultDetail; "
        "print join('|', ref $f, ($f ? 'true' : 'false'), $f->get_faultcode, $v->get_field), "
        "qq{\\n}"
    )
    out = run(["perl", "-I", generated, "-e", script], cwd=tmp_path)
    assert out.strip() == "MyElements::Fault|true|soap:Client.Validation|name", out
