"""PHP's SoapClient (ext-soap) in WSDL mode, on both ports."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import TESTER, LiveServer
from tests.interop.conftest import HERE, WSDL, require, run
from tests.interop.scenario import check_report, parse_report


@pytest.mark.parametrize(("version", "path"), [("1.1", "/soap"), ("1.2", "/soap12")])
def test_php_soapclient(
    live_server: LiveServer, payloads: dict[str, Path], version: str, path: str
) -> None:
    require("php")
    out = run(
        [
            "php",
            "driver.php",
            WSDL,
            live_server.url + path,
            version,
            payloads["png"],
            payloads["text"],
            *TESTER,
        ],
        cwd=HERE / "php",
    )
    # ext-soap's SoapFault keeps only the SOAP 1.2 Code/Value (Sender), not its subcodes.
    check_report(parse_report(out), payloads["png"], subcodes_visible=version == "1.1")
