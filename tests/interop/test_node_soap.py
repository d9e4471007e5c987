"""node-soap (npm ``soap``): a dynamic client from the committed WSDL, on both ports."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import TESTER, LiveServer
from tests.interop.conftest import HERE, WSDL, require, run
from tests.interop.scenario import check_report, parse_report

NODE_DIR = HERE / "node"


@pytest.mark.parametrize(("version", "path"), [("1.1", "/soap"), ("1.2", "/soap12")])
def test_node_soap(
    live_server: LiveServer, payloads: dict[str, Path], version: str, path: str
) -> None:
    require("node", str(NODE_DIR / "node_modules" / "soap"))
    out = run(
        [
            "node",
            "driver.js",
            WSDL,
            live_server.url + path,
            version,
            payloads["png"],
            payloads["text"],
            *TESTER,
        ],
        cwd=NODE_DIR,
    )
    check_report(parse_report(out), payloads["png"])
