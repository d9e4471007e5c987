"""node-soap (npm ``soap``): a client from the served WSDL, used as node-soap's README shows.

``soap.createClientAsync(url)`` with no options, ``BasicAuthSecurity`` for HTTP Basic, then:

- ``top-level``: ``client.GreetAsync(args)``, the README's first usage. node-soap binds the
  top-level methods to the WSDL's last port, ``/soap12``, and sends SOAP 1.1 (``text/xml``),
  as it always does unless told ``forceSoap12Headers``: the port answers in SOAP 1.1.
- ``SoapServiceSoap11``: ``client.SoapService.SoapServiceSoap11.Greet(args, callback)``, the
  README's ``service.port.method`` usage, on ``/soap``.

No ``endpoint``, no ``forceSoap12Headers``, no deserializer: xs:dateTime comes back as a
JavaScript ``Date`` (an instant, the offset not kept), base64Binary as base64 text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import TESTER, LiveServer
from tests.interop.conftest import HERE, require, run
from tests.interop.scenario import check_report, parse_report

NODE_DIR = HERE / "node"


@pytest.mark.parametrize(
    ("usage", "path"), [("top-level", "/soap12"), ("SoapServiceSoap11", "/soap")]
)
def test_node_soap(
    live_server: LiveServer, payloads: dict[str, Path], usage: str, path: str
) -> None:
    require("node", str(NODE_DIR / "node_modules" / "soap"))
    before = live_server.log_text()
    out = run(
        [
            "node",
            "driver.js",
            live_server.url + "/soap?wsdl",
            usage,
            payloads["png"],
            payloads["text"],
            *TESTER,
        ],
        cwd=NODE_DIR,
    )
    check_report(parse_report(out), payloads["png"], keeps_offsets=False, images=True)
    marker = f"method=POST path={path} operation=GetImage outcome=ok"
    assert live_server.log_text().count(marker) > before.count(marker), f"not called on {path}"
