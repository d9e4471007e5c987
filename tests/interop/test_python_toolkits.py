"""zeep and suds-community, each on the served WSDL (``GET /soap?wsdl``) as its docs show it.

zeep: ``zeep.Client(wsdl, transport=Transport(session=session))`` with the ``requests``
session's ``auth`` for HTTP Basic (zeep's "Transports > HTTP Authentication" page), then
``client.service.Greet(...)``: zeep's default service binds the WSDL's first port,
``SoapServiceSoap11`` (``/soap``, SOAP 1.1). The SOAP 1.2 row is zeep's documented
``client.bind("SoapService", "SoapServiceSoap12")`` (``/soap12``). No settings, no address:
xs:base64Binary is ``bytes`` both ways, xs:dateTime an aware ``datetime``, faults
``zeep.exceptions.Fault`` with ``detail`` and (SOAP 1.2) ``subcodes``.

suds: ``Client(url, username=..., password=...)``, suds's documented Basic (its default
``HttpAuthenticated`` transport answers the server's 401 challenge), then
``client.service.Greet(...)``; suds speaks SOAP 1.1 only and takes the SOAP 1.1 port,
``/soap``. suds's own limitation, not the service's: it has no codec for xs:base64Binary, so
``content`` is base64 text both ways, which the user encodes for UploadImage and decodes
from GetImage (the wire is plain XML, ``reply=xml``; the test checks the text it was handed
is exactly the base64 of the uploaded bytes).
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep
import zeep.exceptions
import zeep.plugins
from lxml import etree
from zeep.wsa import WsAddressingPlugin

from tests.conftest import TESTER, LiveServer
from tests.interop.scenario import PEOPLE, check_report


def _zeep_fault(call: Any) -> dict[str, str]:
    try:
        call()
    except zeep.exceptions.Fault as fault:
        detail = fault.detail[0]
        code = str(fault.code) + "".join(
            f".{etree.QName(s).localname}" for s in fault.subcodes or []
        )
        return {"code": code, **{etree.QName(c).localname: c.text for c in detail}}
    raise AssertionError("no fault")


def _listed(list_images: Any, image_id: str) -> dict[str, Any]:
    """ListImages(page_size=100), following next_page_token until ``image_id`` shows."""
    token = None
    while True:
        page = list_images(token)
        for receipt in page.images.ImageReceipt if page.images else []:
            if str(receipt.image_id) == image_id:
                return {k: receipt[k] for k in ("image_id", "sha256", "size_bytes")}
        token = page.next_page_token
        assert token, f"ListImages never showed {image_id}"


@pytest.mark.parametrize(
    ("usage", "path"), [("service", "/soap"), ("SoapServiceSoap12", "/soap12")]
)
def test_zeep(live_server: LiveServer, payloads: dict[str, Path], usage: str, path: str) -> None:
    """zeep turns WS-Addressing on by itself for operations whose contract declares
    ``wsam:Action`` (it applies its own ``WsAddressingPlugin``): every call of the row is
    addressed, and every reply relates to its request (checked through zeep's
    ``HistoryPlugin``)."""
    session = requests.Session()
    session.auth = requests.auth.HTTPBasicAuth(*TESTER)
    history = zeep.plugins.HistoryPlugin()
    client = zeep.Client(
        live_server.url + "/soap?wsdl", transport=zeep.Transport(session=session), plugins=[history]
    )
    service = client.service if usage == "service" else client.bind("SoapService", usage)
    before = live_server.log_text()
    no_zone = service.GetTime()
    zone = service.GetTime(timezone="Asia/Kolkata")
    receipt = service.UploadImage(filename="picture.png", content=payloads["png"].read_bytes())
    image = service.GetImage(image_id=receipt.image_id)
    assert isinstance(image.content, bytes)
    report = {
        "greet": service.Greet(name="Ada"),
        "time_default": {"timezone": no_zone.timezone, "utc": no_zone.utc.isoformat()},
        "time_zone": {"timezone": zone.timezone, "local": zone.local.isoformat()},
        "echo": [
            [p.first_name, p.last_name, p.age]
            for p in (
                service.EchoPerson(person={"first_name": f, "last_name": last, "age": a})
                for f, last, a in PEOPLE
            )
        ],
        "upload": {
            k: receipt[k] for k in ("image_id", "sha256", "size_bytes", "format", "width", "height")
        },
        "listed": _listed(
            lambda token: service.ListImages(page_size=100, page_token=token), receipt.image_id
        ),
        "image": {
            "image_id": image.image_id,
            "filename": image.filename,
            "sha256": hashlib.sha256(image.content).hexdigest(),
            "size_bytes": len(image.content),
        },
        "fault_validation": _zeep_fault(lambda: service.Greet(name=" ")),
        "fault_age": _zeep_fault(
            lambda: service.EchoPerson(person={"first_name": "A", "last_name": "B", "age": 200})
        ),
        "fault_zone": _zeep_fault(lambda: service.GetTime(timezone="Mars/Olympus_Mons")),
        "fault_image": _zeep_fault(
            lambda: service.UploadImage(filename="n.png", content=payloads["text"].read_bytes())
        ),
    }
    check_report(report, payloads["png"], images=True)
    marker = f"method=POST path={path} operation=GetImage outcome=ok"
    assert live_server.log_text().count(marker) > before.count(marker), f"not called on {path}"
    service.Greet(name="Ada")
    sent, received = history.last_sent["envelope"], history.last_received["envelope"]
    wsa = "{http://www.w3.org/2005/08/addressing}"
    assert sent.findtext(f".//{wsa}Action") == "urn:soap-service:v1/Greet"
    assert received.findtext(f".//{wsa}RelatesTo") == sent.findtext(f".//{wsa}MessageID")
    assert received.findtext(f".//{wsa}Action") == "urn:soap-service:v1/GreetResponse"


def test_zeep_with_its_addressing_plugin_too(live_server: LiveServer) -> None:
    """zeep's documented ``plugins=[WsAddressingPlugin()]`` on top of the addressing zeep
    already does from ``wsam:Action`` sends each header twice: a typed fault that says so."""
    client = zeep.Client(live_server.url + "/soap?wsdl", plugins=[WsAddressingPlugin()])
    with pytest.raises(zeep.exceptions.Fault) as caught:
        client.service.Greet(name="Ada")
    assert caught.value.code.endswith("InvalidAddressingHeader")
    assert "as zeep does" in caught.value.message


def test_zeep_from_the_live_wsdl_with_defaults(live_server: LiveServer) -> None:
    client = zeep.Client(live_server.url + "/soap?wsdl")
    assert client.service.Greet(name="Ada") == "Hello, Ada!"


def test_suds(live_server: LiveServer, payloads: dict[str, Path]) -> None:
    from suds import WebFault
    from suds.client import Client

    client = Client(live_server.url + "/soap?wsdl", username=TESTER[0], password=TESTER[1])
    service = client.service
    before = live_server.log_text()

    def fault(call: Any) -> dict[str, str]:
        try:
            call()
        except WebFault as error:
            detail = error.fault.detail
            typed = (
                detail.ValidationFaultDetail
                if hasattr(detail, "ValidationFaultDetail")
                else detail.ImageRejectedFaultDetail
            )
            return {
                "code": str(error.fault.faultcode),
                **{k: str(v) for k, v in dict(typed).items()},
            }
        raise AssertionError("no fault")

    no_zone = service.GetTime()
    zone = service.GetTime(timezone="Asia/Kolkata")
    png = payloads["png"].read_bytes()
    receipt = service.UploadImage(filename="picture.png", content=base64.b64encode(png).decode())
    image = service.GetImage(image_id=receipt.image_id)
    # suds's limitation: base64Binary arrives as the base64 text, exactly the upload's
    assert str(image.content) == base64.b64encode(png).decode()
    content = base64.b64decode(str(image.content))
    people = []
    for f, last, a in PEOPLE:
        person = client.factory.create("{urn:soap-service:v1}Person")
        person.first_name, person.last_name, person.age = f, last, a
        echoed = service.EchoPerson(person=person)
        people.append([str(echoed.first_name), str(echoed.last_name), int(echoed.age)])
    bad = client.factory.create("{urn:soap-service:v1}Person")
    bad.first_name, bad.last_name, bad.age = "A", "B", 200
    report = {
        "greet": str(service.Greet(name="Ada")),
        "time_default": {"timezone": str(no_zone.timezone), "utc": no_zone.utc.isoformat()},
        "time_zone": {"timezone": str(zone.timezone), "local": zone.local.isoformat()},
        "echo": people,
        "upload": {
            k: str(getattr(receipt, k))
            for k in ("image_id", "sha256", "size_bytes", "format", "width", "height")
        },
        "listed": {
            k: str(v)
            for k, v in _listed(
                lambda token: service.ListImages(page_size=100, page_token=token),
                str(receipt.image_id),
            ).items()
        },
        "image": {
            "image_id": str(image.image_id),
            "filename": str(image.filename),
            "sha256": hashlib.sha256(content).hexdigest(),
            "size_bytes": len(content),
        },
        "fault_validation": fault(lambda: service.Greet(name=" ")),
        "fault_age": fault(lambda: service.EchoPerson(person=bad)),
        "fault_zone": fault(lambda: service.GetTime(timezone="Mars/Olympus_Mons")),
        "fault_image": fault(
            lambda: service.UploadImage(
                filename="n.png", content=base64.b64encode(payloads["text"].read_bytes()).decode()
            )
        ),
    }
    check_report(report, payloads["png"], images=True)
    marker = "method=POST path=/soap operation=GetImage outcome=ok fault=- status=200 encoding=xml reply=xml"
    assert live_server.log_text().count(marker) > before.count(marker)
