"""zeep and suds-community, each reading the committed WSDL as any user would."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep
import zeep.exceptions
from lxml import etree

from service.ns import TNS
from tests.conftest import TESTER, LiveServer
from tests.interop.conftest import WSDL
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


@pytest.mark.parametrize("port", ["Soap11", "Soap12"])
def test_zeep(live_server: LiveServer, payloads: dict[str, Path], port: str) -> None:
    session = requests.Session()
    session.auth = TESTER  # HTTP Basic; WS-Security through zeep is in tests/test_security_live.py
    transport = zeep.Transport(session=session)
    client = zeep.Client(str(WSDL), settings=zeep.Settings(strict=True), transport=transport)
    path = "/soap" if port == "Soap11" else "/soap12"
    service = client.create_service(f"{{{TNS}}}SoapService{port}Binding", live_server.url + path)
    no_zone = service.GetTime()
    zone = service.GetTime(timezone="Asia/Kolkata")
    receipt = service.UploadImage(filename="picture.png", content=payloads["png"].read_bytes())
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
        "upload": {k: receipt[k] for k in ("sha256", "size_bytes", "format", "width", "height")},
        "fault_validation": _zeep_fault(lambda: service.Greet(name=" ")),
        "fault_age": _zeep_fault(
            lambda: service.EchoPerson(person={"first_name": "A", "last_name": "B", "age": 200})
        ),
        "fault_zone": _zeep_fault(lambda: service.GetTime(timezone="Mars/Olympus_Mons")),
        "fault_image": _zeep_fault(
            lambda: service.UploadImage(filename="n.png", content=payloads["text"].read_bytes())
        ),
    }
    check_report(report, payloads["png"])


def test_zeep_from_the_live_wsdl_with_defaults(live_server: LiveServer) -> None:
    client = zeep.Client(live_server.url + "/soap?wsdl")
    assert client.service.Greet(name="Ada") == "Hello, Ada!"


def test_suds(live_server: LiveServer, payloads: dict[str, Path]) -> None:
    from suds import WebFault
    from suds.client import Client
    from suds.transport.http import HttpAuthenticated

    transport = HttpAuthenticated(username=TESTER[0], password=TESTER[1])  # Basic, on 401
    client = Client(
        WSDL.as_uri(), location=live_server.url + "/soap", cache=None, transport=transport
    )
    service = client.service

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
    png_b64 = base64.b64encode(payloads["png"].read_bytes()).decode()  # suds takes base64 text
    receipt = service.UploadImage(filename="picture.png", content=png_b64)
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
            for k in ("sha256", "size_bytes", "format", "width", "height")
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
    check_report(report, payloads["png"])
