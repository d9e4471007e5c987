"""The server's log says what happened to each request and never what was in it."""

from __future__ import annotations

import pytest
import requests

from client import Person, SoapClientError, SoapServiceClient
from tests.conftest import TESTER, USERS, LiveServer
from tests.images import make_image

MARKER = "Zq7SecretMarker"


def test_log_has_no_request_content(live_server: LiveServer) -> None:
    api = SoapServiceClient(live_server.url, username=TESTER[0], password=TESTER[1])
    api.greet(MARKER)
    for bad in (" ", MARKER * 10):
        with pytest.raises(SoapClientError):
            api.greet(bad)
    with pytest.raises(SoapClientError):
        api.echo_person(Person(MARKER, MARKER, 999))
    with pytest.raises(SoapClientError):
        api.upload_image(MARKER, MARKER.encode() * 100)
    api.upload_image(MARKER + ".png", make_image("PNG"))
    for junk in (f"<{MARKER}>", f"<x>{MARKER}", f"<!DOCTYPE {MARKER}><x/>"):
        requests.post(
            live_server.url + "/soap",
            data=junk.encode(),
            headers={"Content-Type": "text/xml", "X-Request-ID": "log-test"},
            timeout=30,
        )
    requests.post(
        live_server.url + "/soap",
        data=b"<x/>",
        timeout=30,
        headers={"Content-Type": "text/xml", "Authorization": f"Basic {MARKER}"},
    )
    for auth in ("wsse-text", "wsse-digest", "basic"):
        wrong = SoapServiceClient(
            live_server.url, username=MARKER, password=MARKER + "pw", auth=auth
        )
        with pytest.raises(SoapClientError):
            wrong.upload_image("a.png", make_image("PNG"))
        right = SoapServiceClient(
            live_server.url, username=TESTER[0], password=TESTER[1], auth=auth
        )
        right.upload_image("a.png", make_image("PNG"))
    assert api.greet("flush") == "Hello, flush!"

    log = live_server.log_text()
    assert "request_id=log-test" in log
    assert "operation=Greet outcome=fault fault=Client.Validation" in log
    assert MARKER not in log
    assert "Traceback" not in log
    # Nothing secret from this test or any test before it on this server (the auth
    # tests run first): passwords, tokens, Authorization headers.
    for password, _role, _digest in USERS.values():
        assert password not in log
    for secret in ("Authorization", "Basic ", "UsernameToken", "PasswordDigest", "Nonce"):
        assert secret not in log
