"""DescribeRequest: what the server saw, with every secret redacted."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from lxml import etree

from client import SoapServiceClient
from service import ns
from service.ns import TNS
from tests.conftest import TESTER, LiveServer, start_server, stop_server

ENVELOPE = (
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"'
    f' xmlns:tns="{TNS}"><soap:Body><tns:DescribeRequest/></soap:Body></soap:Envelope>'
)


@pytest.mark.parametrize("auth", ["wsse-text", "wsse-digest", "basic"])
def test_the_user_and_protocol_are_described(
    live_server: LiveServer, soap_version: str, auth: str
) -> None:
    api = SoapServiceClient(
        live_server.url,
        soap_version=soap_version,  # type: ignore[arg-type]
        username=TESTER[0],
        password=TESTER[1],
        auth=auth,  # type: ignore[arg-type]
    )
    seen = api.describe_request()
    assert seen.user == TESTER[0]
    assert seen.client_address == "127.0.0.1"
    assert seen.forwarded_for is None
    assert (seen.method, seen.soap_version, seen.tls) == ("POST", soap_version, False)
    assert seen.path == ("/soap" if soap_version == "1.1" else "/soap12")
    assert seen.soap_action == f"{TNS}/DescribeRequest"
    assert seen.request_id
    headers = dict(seen.headers)
    assert "Host" in headers and "Content-Type" in headers
    # the client (zeep) addresses every call, from the contract's wsam:Action
    addressing = [h for h in seen.soap_headers if h.startswith(f"{{{ns.WSA}}}")]
    assert addressing == [f"{{{ns.WSA}}}{name}" for name in ("Action", "MessageID", "To")]
    others = [h for h in seen.soap_headers if h not in addressing]
    if auth == "basic":
        assert headers["Authorization"] == "Basic [redacted]"
        assert others == []
    else:
        assert others == [
            "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd}Security"
        ]


def test_secrets_never_come_back(live_server: LiveServer) -> None:
    secret = "Sup3r-Secret-Cookie-Value"
    password = TESTER[1]
    response = requests.post(
        live_server.url + "/soap",
        data=ENVELOPE.encode(),
        headers={
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f'"{TNS}/DescribeRequest"',
            "Authorization": "Basic "
            + base64.b64encode(f"{TESTER[0]}:{password}".encode()).decode(),
            "Cookie": f"session={secret}",
            "X-Api-Key": secret,
            "X-Request-ID": "describe-secrets",
            "X-Custom": "plain value",
            # credentials under names no word list catches (issue 16, finding 11)
            "X-Amzn-Oidc-Data": f"eyJ.{secret}.oidc",
            "Cf-Access-Jwt-Assertion": f"eyJ.{secret}.cf",
            "X-Original-Authorization": f"Bearer {secret}",
            "X-Api-Auth": secret,
            "X-Client-Cert": f"-----BEGIN CERTIFICATE-----{secret}",
            "Referer": f"https://app.example/cb?token={secret}",
            "User-Agent": "describe-test/1.0",
        },
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert secret not in response.text and password not in response.text
    root = etree.fromstring(response.content)
    pairs = {
        h.findtext(f"{{{TNS}}}name"): h.findtext(f"{{{TNS}}}value")
        for h in root.iter(f"{{{TNS}}}HttpHeader")
    }
    assert pairs["Cookie"] == "[redacted]"
    assert pairs["X-Api-Key"] == "[redacted]"
    # only an allow-list of harmless headers shows its value: others by name only
    for name in (
        "X-Custom",
        "X-Amzn-Oidc-Data",
        "Cf-Access-Jwt-Assertion",
        "X-Original-Authorization",
        "X-Api-Auth",
        "X-Client-Cert",
        "Referer",
    ):
        assert pairs[name] == "[redacted]", name
    assert pairs["User-Agent"] == "describe-test/1.0"
    assert pairs["Authorization"] == "Basic [redacted]"
    assert root.findtext(f".//{{{TNS}}}request_id") == "describe-secrets"
    assert root.findtext(f".//{{{TNS}}}user") == TESTER[0]
    assert secret not in live_server.log_text()


def test_anonymous_callers_have_no_user(live_server: LiveServer) -> None:
    seen = SoapServiceClient(live_server.url).describe_request()
    assert seen.user is None


def test_forwarding_headers_are_not_believed_without_a_trusted_proxy(
    live_server: LiveServer,
) -> None:
    response = requests.get(
        live_server.url + "/http/DescribeRequest",
        headers={"X-Forwarded-For": "203.0.113.7"},
        timeout=30,
    )
    seen = response.json()["DescribeRequestResult"]
    assert seen["client_address"] == "127.0.0.1"
    assert "forwarded_for" not in seen
    assert seen["soap_version"] == "HTTP"
    assert {"name": "X-Forwarded-For", "value": "203.0.113.7"} in seen["headers"]["HttpHeader"]


@pytest.fixture(scope="module")
def behind_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(
        Path(tmp_path_factory.mktemp("proxied")),
        env={"SOAP_SERVICE_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"},
    )
    yield server
    stop_server(server)


@pytest.mark.parametrize(
    ("headers", "client", "tls"),
    [
        ({"X-Forwarded-For": "203.0.113.7"}, "203.0.113.7", False),
        # a client's own forged entry comes first; the trusted hops are skipped from the right
        ({"X-Forwarded-For": "6.6.6.6, 203.0.113.7, 10.1.2.3"}, "203.0.113.7", False),
        ({"Forwarded": 'for="[2001:db8::1]:4711";proto=https'}, "2001:db8::1", False),
        ({"X-Forwarded-For": "198.51.100.2", "X-Forwarded-Proto": "https"}, "198.51.100.2", True),
    ],
)
def test_a_trusted_proxy_names_the_client(
    behind_proxy: LiveServer, headers: dict[str, str], client: str, tls: bool
) -> None:
    response = requests.get(behind_proxy.url + "/http/DescribeRequest", headers=headers, timeout=30)
    seen = response.json()["DescribeRequestResult"]
    assert seen["client_address"] == "127.0.0.1"
    assert seen["forwarded_for"] == client
    assert seen["tls"] is tls
