"""Perl SOAP::Lite (Debian ``libsoap-lite-perl`` 1.27), as its documentation calls us.

SOAP::Lite documents two client usages (``perldoc SOAP::Lite``, "Example implementations"):

- ``SOAP::Lite->service($wsdl)``, a stub generated from a WSDL, shown for an **rpc/encoded**
  service only;
- for a **document/literal** service, the style of our contract, a client without the WSDL:
  ``SOAP::Lite->new(proxy => ...)``, ``on_action``, ``autotype(0)``, ``default_ns`` and
  ``call($operation, SOAP::Data->name(...)->value(...), ...)``.

The row uses the second, its documented document/literal usage, on both ports
(``perl/soap_lite_driver.pl``); HTTP Basic is ``perldoc SOAP::Transport``'s way, an override
of ``SOAP::Transport::HTTP::Client::get_basic_credentials``. Every operation passes.

Two limitations of SOAP::Lite's own, not the service's:

- **The WSDL stub cannot call a document/literal contract with constrained fields** (issue 15,
  item 6; :func:`test_wsdl_stubs_cannot_send_a_constrained_field`). ``SOAP::Schema::WSDL``
  flattens the wrapper element's sequence into positional templates (``parse_schema_element``,
  commented "TODO - This is woefully incomplete!"), and the stub serializes each argument with
  ``$serializer->as_<local name of its type>``: for a named simple type (``tns:PersonName``)
  that method does not exist, SOAP::Lite's AUTOLOAD returns nothing, and the value goes out as
  ``xsi:nil="true"``. The candidate forms do no better: an anonymous simple type on the field
  is sent as nil too, and only a built-in type (``xs:string``) carries the value, which drops
  the field's constraint (1 to 100 characters) from the contract, and even then the stub
  writes the field unqualified (``<name>``, no namespace) while our schema, like every WCF and
  JAX-WS contract, is ``elementFormDefault="qualified"``: accepting it would take
  ``elementFormDefault="unqualified"``, a change to the wire of every other toolkit. No contract
  form makes the stub work without losing a constraint, so the contract stays; the test proves
  all three forms on the wire, each answered with a typed ``Client.Validation`` fault that
  names the field.
- **``$client->soapversion('1.2')`` on a client already made sends an envelope in no
  namespace** (``<Envelope>``: SOAP::Lite 1.27's serializer keeps its SOAP 1.1 prefixes and
  loses the envelope's), which the service answers with a VersionMismatch fault carrying the
  SOAP 1.2 Upgrade header. The SOAP 1.2 row therefore calls the same documented method on
  the class before making the client, ``SOAP::Lite->soapversion('1.2')`` (it sets SOAP::Lite's
  global constants, which new serializers read), as ``use SOAP::Lite soapversion => '1.2'``
  would. SOAP 1.1 is SOAP::Lite's default and needs nothing.

SOAP::Lite deserializes by ``xsi:type``, not by the schema, and our responses carry none (as
WCF's and JAX-WS's do not): numbers arrive as text and GetImage's xs:base64Binary ``content``
as its base64 text, which the driver decodes with ``MIME::Base64``, the module SOAP::Lite uses
itself. The reply is plain XML: SOAP::Lite's ``Accept: text/xml, multipart/*,
application/soap`` does not prefer multipart/related over text/xml.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import requests
from lxml import etree

from service import ns
from tests.conftest import TESTER, LiveServer
from tests.interop.conftest import HERE, require, run
from tests.interop.scenario import check_report, parse_report

XS = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ENVELOPE = re.compile(r"<(?:\w+:)?Envelope\b.*?</(?:\w+:)?Envelope>", re.S)


@pytest.mark.parametrize(("version", "path"), [("1.1", "/soap"), ("1.2", "/soap12")])
def test_perl_soap_lite(
    live_server: LiveServer, payloads: dict[str, Path], version: str, path: str
) -> None:
    require("perl", "/usr/share/perl5/SOAP/Lite.pm")
    before = live_server.log_text()
    out = run(
        [
            "perl",
            "soap_lite_driver.pl",
            live_server.url + path,
            version,
            payloads["png"],
            payloads["text"],
            *TESTER,
        ],
        cwd=HERE / "perl",
    )
    check_report(parse_report(out), payloads["png"], images=True)
    after = live_server.log_text()[len(before) :]
    assert f"path={path} operation=GetImage outcome=ok" in after
    assert "operation=GetImage outcome=ok fault=- status=200 encoding=xml reply=xml" in after


def _contract_forms(live_server: LiveServer, folder: Path) -> dict[str, str]:
    """The served WSDL, and the two candidate forms of Greet's ``name`` field, as file URLs."""
    served = requests.get(live_server.url + "/soap?wsdl", timeout=30).content
    forms = {"served": live_server.url + "/soap?wsdl"}
    tree = etree.fromstring(served)
    field = f".//{{{XS}}}element[@name='Greet']//{{{XS}}}element[@name='name']"
    named = tree.find(f".//{{{XS}}}simpleType[@name='PersonName']")
    assert tree.find(field).get("type") == "tns:PersonName" and named is not None

    anonymous = copy.deepcopy(tree)
    element = anonymous.find(field)
    del element.attrib["type"]
    inline = copy.deepcopy(named)
    del inline.attrib["name"]
    element.append(inline)

    builtin = copy.deepcopy(tree)
    builtin.find(field).set("type", "xs:string")

    for name, document in (("anonymous", anonymous), ("builtin", builtin)):
        path = folder / f"{name}.wsdl"
        path.write_bytes(etree.tostring(document))
        forms[name] = path.as_uri()
    return forms


def test_wsdl_stubs_cannot_send_a_constrained_field(
    live_server: LiveServer, tmp_path: Path
) -> None:
    """Issue 15, item 6: what ``SOAP::Lite->service($wsdl)->Greet('Ada')`` puts on the wire."""
    require("perl", "/usr/share/perl5/SOAP/Lite.pm")
    sent: dict[str, etree._Element] = {}
    for form, url in _contract_forms(live_server, tmp_path).items():
        trace = run(["perl", "soap_lite_stub.pl", url], cwd=HERE / "perl")
        request, response = ENVELOPE.findall(trace)
        name = etree.fromstring(request).find(f".//{{{ns.TNS}}}Greet/name")
        assert name is not None, f"{form}: no unqualified <name> in {request}"
        sent[form] = name
        answer = etree.fromstring(response.encode())
        assert answer.findtext(".//faultcode") == "soap:Client.Validation", (form, response)
        assert answer.findtext(f".//{{{ns.TNS}}}field") == "name", (form, response)

    # the served contract and the anonymous simple type: the value is lost, sent as nil
    for form in ("served", "anonymous"):
        assert sent[form].get(f"{{{XSI}}}nil") == "true", form
        assert not sent[form].text, form
    assert sent["served"].get(f"{{{XSI}}}type") == "tns:PersonName"
    # a built-in type carries the value, but unqualified, and without the constraint
    assert sent["builtin"].text == "Ada"
    assert sent["builtin"].get(f"{{{XSI}}}nil") is None
