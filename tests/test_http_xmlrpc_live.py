"""``POST /xmlrpc`` called with Python's ``xmlrpc.client``, the seed's own client, as
its documentation shows it: ``ServerProxy(url)`` and a method call per operation."""

from __future__ import annotations

import http.client
import random
import re
import urllib.parse
import uuid
import xmlrpc.client
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import TESTER, LiveServer
from tests.images import make_image


@pytest.fixture
def proxies(live_server: LiveServer) -> Iterator[Callable[..., xmlrpc.client.ServerProxy]]:
    """``ServerProxy(url)`` for ``live_server``, closed after the test (its documentation
    shows it in a ``with`` block)."""
    made: list[xmlrpc.client.ServerProxy] = []

    def proxy(
        credentials: tuple[str, str] | None = TESTER, **options: Any
    ) -> xmlrpc.client.ServerProxy:
        parts = urllib.parse.urlsplit(live_server.url)
        auth = f"{credentials[0]}:{credentials[1]}@" if credentials else ""
        made.append(xmlrpc.client.ServerProxy(f"http://{auth}{parts.netloc}/xmlrpc", **options))
        return made[-1]

    yield proxy
    for each in made:
        each("close")()


def _fault(call: object, *args: object) -> xmlrpc.client.Fault:
    with pytest.raises(xmlrpc.client.Fault) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value


def _send(
    live_server: LiveServer, method: str, body: bytes | str | None, **headers: str
) -> tuple[int, http.client.HTTPMessage, bytes]:
    parts = urllib.parse.urlsplit(live_server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request(method, "/xmlrpc", body, {"Content-Type": "text/xml", **headers})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def _post(
    live_server: LiveServer, body: bytes | str, **headers: str
) -> tuple[int, http.client.HTTPMessage, bytes]:
    return _send(live_server, "POST", body, **headers)


def test_the_seeds_hello_and_its_fault(
    live_server: LiveServer, proxies: Callable[..., xmlrpc.client.ServerProxy]
) -> None:
    proxy = proxies(None)
    assert proxy.Greet("Ada") == "Hello, Ada!"
    fault = _fault(proxy.Greet, " ")
    assert fault.faultCode == -32602
    assert fault.faultString.startswith("Client.Validation: ")
    assert "'name'" in fault.faultString


def test_times_keep_the_contracts_string_and_offset(
    live_server: LiveServer, proxies: Callable[..., xmlrpc.client.ServerProxy]
) -> None:
    result = proxies(None).GetTime("Asia/Kolkata")
    assert result["timezone"] == "Asia/Kolkata"
    assert isinstance(result["utc"], xmlrpc.client.DateTime)
    assert result["utc"].value.endswith("Z")
    assert result["local"].value.endswith("+05:30")
    # to the second: XML-RPC's dateTime has no fraction (and Ruby's client refuses one)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", result["utc"].value)
    assert proxies(None).GetTime()["timezone"] == "UTC"


def test_structs_positional_or_named(
    live_server: LiveServer, proxies: Callable[..., xmlrpc.client.ServerProxy]
) -> None:
    proxy = proxies(None)
    ada = {"first_name": "Ada", "last_name": "Lovelace", "age": 36}
    assert proxy.EchoPerson(ada) == ada
    assert proxy.EchoPerson({"person": ada}) == ada
    fault = _fault(proxy.EchoPerson, {**ada, "age": 151})  # the WSDL's 0..150
    assert fault.faultCode == -32602 and "age" in fault.faultString
    fault = _fault(proxy.EchoPerson, {**ada, "nickname": "A"})
    assert fault.faultCode == -32602 and "nickname" in fault.faultString
    fault = _fault(proxy.Greet, "Ada", "Byron")
    assert fault.faultCode == -32602 and "at most 1" in fault.faultString


def test_images_upload_read_page_and_delete(
    live_server: LiveServer, proxies: Callable[..., xmlrpc.client.ServerProxy]
) -> None:
    proxy = proxies()
    png = make_image("PNG", (random.randint(1, 4000), 3))  # new bytes: a new, newest image
    receipt = proxy.UploadImage("photo.png", xmlrpc.client.Binary(png), "image/png")
    assert receipt["format"] == "png" and receipt["size_bytes"] == len(png)
    image = proxy.GetImage(receipt["image_id"])
    assert image["content"].data == png and image["filename"] == "photo.png"
    assert image["received_at"].value == receipt["received_at"].value
    named = proxy.ListImages({"page_size": 1})
    assert [r["image_id"] for r in named["images"]] == [receipt["image_id"]]
    assert isinstance(named.get("next_page_token", ""), str)
    assert proxy.DeleteImage(receipt["image_id"])["image_id"] == receipt["image_id"]
    fault = _fault(proxy.GetImage, receipt["image_id"])
    assert fault.faultCode == 2 and fault.faultString.startswith("Client.NotFound: ")
    fault = _fault(proxy.UploadImage, "notes.txt", xmlrpc.client.Binary(b"not an image"))
    assert fault.faultCode == 1 and fault.faultString.startswith("Client.ImageRejected: ")
    fault = _fault(proxy.Greet, xmlrpc.client.Binary(b"Ada"))
    assert fault.faultCode == -32602 and "not binary" in fault.faultString


def test_credentials_by_http_basic(
    live_server: LiveServer, proxies: Callable[..., xmlrpc.client.ServerProxy]
) -> None:
    with pytest.raises(xmlrpc.client.ProtocolError) as caught:
        proxies(None).ListImages()
    assert caught.value.errcode == 401
    headers = {name.lower(): value for name, value in caught.value.headers.items()}
    assert headers["www-authenticate"].startswith("Basic ")
    # wrong credentials are HTTP's failure too: the challenge again, the fault in the body
    status, headers, body = _post(
        live_server, xmlrpc.client.dumps((), "ListImages"), Authorization="Basic dGVzdGVyOndyb25n"
    )
    assert status == 401 and headers["WWW-Authenticate"]
    fault = _fault(xmlrpc.client.loads, body)
    assert fault.faultCode == 3
    assert fault.faultString.startswith("wsse:FailedAuthentication: ")


def test_system_methods_describe_the_operations(
    live_server: LiveServer, proxies: Callable[..., xmlrpc.client.ServerProxy]
) -> None:
    proxy = proxies(None)
    methods = proxy.system.listMethods()
    assert {"Greet", "UploadImage", "DescribeRequest", "system.methodHelp"} <= set(methods)
    assert proxy.system.methodHelp("Greet").startswith("Greets someone by name.")
    assert proxy.system.methodSignature("GetTime") == [["struct"], ["struct", "string"]]
    assert proxy.system.methodSignature("UploadImage") == [
        ["struct", "string", "base64"],
        ["struct", "string", "base64", "string"],
    ]
    fault = _fault(proxy.system.methodHelp, "Nope")
    assert fault.faultCode == -32601


def test_the_exchange_says_xml_rpc(
    live_server: LiveServer, proxies: Callable[..., xmlrpc.client.ServerProxy]
) -> None:
    request_id = uuid.uuid4().hex[:16]
    proxy = proxies(headers=[("X-Request-ID", request_id)])
    seen = proxy.DescribeRequest()
    assert seen["soap_version"] == "XML-RPC" and seen["path"] == "/xmlrpc"
    assert seen["user"] == TESTER[0]
    line = live_server.access_line(request_id)
    assert "path=/xmlrpc " in line and "operation=DescribeRequest " in line
    assert TESTER[1] not in live_server.log_text()


def test_unknown_method(
    live_server: LiveServer, proxies: Callable[..., xmlrpc.client.ServerProxy]
) -> None:
    fault = _fault(proxies(None).hello, "Ada")
    assert fault.faultCode == -32601
    assert fault.faultString.startswith("Client.UnknownOperation: ")


@pytest.mark.parametrize(
    ("body", "code", "soap_code"),
    [
        (b"<methodCall><methodName>Greet", -32700, "Client.MalformedRequest"),
        (b"<soap><methodName>Greet</methodName></soap>", -32700, "Client.MalformedRequest"),
        (
            b"<methodCall><methodName>Greet</methodName><params><param><value><int>x</int>"
            b"</value></param></params></methodCall>",
            -32700,
            "Client.MalformedRequest",
        ),
        (
            b"<methodCall><methodName>Greet</methodName><params><param><value><ex:i8 "
            b'xmlns:ex="urn:x">1</ex:i8></value></param></params></methodCall>',
            -32700,
            "Client.MalformedRequest",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b"<methodCall><methodName>Greet</methodName><params><param><value>&e;</value>"
            b"</param></params></methodCall>",
            7,
            "Client.ForbiddenXml",
        ),
        (
            b"<methodCall><methodName>Greet</methodName><params>"
            + b"<param><value><array><data>" * 40
            + b"</data></array></value></param>" * 40
            + b"</params></methodCall>",
            5,
            "Client.LimitExceeded",
        ),
    ],
    ids=["not-well-formed", "not-a-methodCall", "bad-int", "unknown-type", "entity", "deep"],
)
def test_bad_calls_are_typed_faults(
    live_server: LiveServer, body: bytes, code: int, soap_code: str
) -> None:
    request_id = uuid.uuid4().hex[:16]
    status, _, answer = _post(live_server, body, **{"X-Request-ID": request_id})
    assert status == 200
    fault = _fault(xmlrpc.client.loads, answer)
    assert fault.faultCode == code
    assert fault.faultString.startswith(f"{soap_code}: ")
    assert f"fault={soap_code} " in live_server.access_line(request_id)
    assert "Traceback" not in live_server.log_text()


def test_http_level_failures_keep_their_status(live_server: LiveServer) -> None:
    status, headers, body = _send(live_server, "GET", None)
    assert status == 405 and headers["Allow"] == "POST"
    assert _fault(xmlrpc.client.loads, body).faultCode == 9
    status, _, body = _post(live_server, b"{}", **{"Content-Type": "application/json"})
    assert status == 415
    assert _fault(xmlrpc.client.loads, body).faultCode == 8
    # declared over the body limit: refused before it is read, the fault in the body
    status, _, body = _post(live_server, b"<methodCall/>", **{"Content-Length": str(2**40)})
    assert status == 413
    assert _fault(xmlrpc.client.loads, body).faultCode == 6
