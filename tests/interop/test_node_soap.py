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

import os
from pathlib import Path

import pytest

from tests.conftest import TESTER, LiveServer
from tests.interop.conftest import HERE, require, run
from tests.interop.scenario import check_report, parse_report
from tests.wssec import make_identity, trust

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


@pytest.mark.parametrize(
    ("usage", "path"), [("top-level", "/soap12"), ("SoapServiceSoap11", "/soap")]
)
def test_node_soap_signs_with_wssecuritycert(
    live_server: LiveServer, payloads: dict[str, Path], usage: str, path: str, tmp_path: Path
) -> None:
    """The same scenario signed by ``new soap.WSSecurityCert(privateKey, publicKey, "")``,
    node-soap's README usage with its defaults (RSA-SHA256, SHA-256, a Timestamp; the Body
    and the Timestamp signed, transforms enveloped-signature and exc-c14n), and no HTTP
    Basic: the upload succeeds only because the certificate names the user."""
    require("node", str(NODE_DIR / "node_modules" / "soap"))
    signer = make_identity(tmp_path, "node-soap")
    trust(live_server, signer)
    before = live_server.log_text()
    out = run(
        [
            "node",
            "driver.js",
            live_server.url + "/soap?wsdl",
            usage,
            payloads["png"],
            payloads["text"],
            "nobody",
            "no-password",
        ],
        cwd=NODE_DIR,
        env={**os.environ, "SIGN_KEY": str(signer.key_path), "SIGN_CERT": str(signer.cert_path)},
    )
    check_report(parse_report(out), payloads["png"], keeps_offsets=False, images=True)
    marker = f"method=POST path={path} operation=UploadImage outcome=ok"
    assert live_server.log_text().count(marker) > before.count(marker), f"not called on {path}"
