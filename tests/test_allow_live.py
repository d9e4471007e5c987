"""Issue 16, finding 12 (part): every 405 carries an Allow header naming what the target
takes (RFC 9110, 15.5.6), on every route of the real server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.conftest import LiveServer, start_server, stop_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("allow-live"))
    yield live
    stop_server(live)


CASES = [
    # method, target, the methods Allow must name
    *(
        (method, port, {"POST"})
        for port in ("/soap", "/soap12")
        for method in ("GET", "PUT", "DELETE", "PATCH")
    ),
    ("PUT", "/soap?wsdl", {"GET", "HEAD", "POST"}),
    ("DELETE", "/soap12?wsdl=soap11", {"GET", "HEAD", "POST"}),
    *((method, "/http/Greet", {"GET", "HEAD", "POST"}) for method in ("PUT", "DELETE", "PATCH")),
    *((method, "/images/abc123", {"GET", "HEAD"}) for method in ("POST", "PUT", "DELETE")),
    *(
        ("POST", path, {"GET", "HEAD"})
        for path in ("/", "/index.html", "/healthz", "/readyz", "/metrics", "/soapui-project.xml")
    ),
]


@pytest.mark.parametrize(("method", "target", "allowed"), CASES)
def test_a_405_names_the_methods_its_target_takes(
    server: LiveServer, method: str, target: str, allowed: set[str]
) -> None:
    response = requests.request(
        method,
        server.url + target,
        headers={"Content-Type": "text/xml", "Accept": "application/json"},
        data=b"",
        timeout=30,
    )
    assert response.status_code == 405, (response.status_code, response.text[:200])
    assert "Allow" in response.headers, dict(response.headers)
    named = {part.strip() for part in response.headers["Allow"].split(",")}
    assert named == allowed and method not in named
