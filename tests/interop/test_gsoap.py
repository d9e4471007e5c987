"""gSOAP: wsdl2h + soapcpp2 with default flags, compiled with g++, used as generated.

The generated namespace table is SOAP 1.2 (the contract has a SOAP 1.2 port) and the
generated stubs' default endpoint is the WSDL's first address, ``/soap``: that is where
gSOAP's default client sends SOAP 1.2, and the port answers in SOAP 1.2. The other row
passes ``/soap12`` as the stubs' endpoint argument, the way gSOAP's documentation calls
another endpoint. No namespace-table swap on either.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import TESTER, LiveServer
from tests.interop.conftest import HERE, WSDL, check_mtom_report, require, run
from tests.interop.scenario import check_report, parse_report

IMPORT_DIR = Path("/usr/share/gsoap/import")  # stlvector.h and friends, for soapcpp2 -I


@pytest.fixture(scope="module")
def gsoap_driver(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require("wsdl2h", "soapcpp2", "g++", str(IMPORT_DIR))
    work = tmp_path_factory.mktemp("gsoap")
    for driver in ("driver.cpp", "mtom.cpp"):
        shutil.copy(HERE / "gsoap" / driver, work)
    run(["wsdl2h", "-o", "service.h", WSDL], cwd=work)
    run(["soapcpp2", "-I", IMPORT_DIR, "service.h"], cwd=work)
    stub = (work / "soapStub.h").read_text()
    # natural types: int for age, std::string for required strings, no pointers for them
    assert "int age;" in stub
    assert "std::string first_USCOREname;" in stub and "std::string name;" in stub
    # the defaults the drivers keep: SOAP 1.2 first in the table, /soap first of the endpoints
    nsmap = (work / "SoapServiceSoap11Binding.nsmap").read_text()
    assert '{ "SOAP-ENV", "http://www.w3.org/2003/05/soap-envelope"' in nsmap
    client = (work / "soapClient.cpp").read_text()
    assert 'soap_endpoint = "http://localhost:8000/soap http://localhost:8000/soap12";' in client
    run(["g++", "-O1", "-c", "soapC.cpp", "soapClient.cpp"], cwd=work)
    run(
        [
            "g++",
            "-O1",
            "-o",
            "driver",
            "driver.cpp",
            "soapC.o",
            "soapClient.o",
            "-lgsoap++",
            "-lcrypto",
        ],
        cwd=work,
    )
    run(
        [
            "g++",
            "-O1",
            "-o",
            "mtom",
            "mtom.cpp",
            "soapC.o",
            "soapClient.o",
            "-lgsoap++",
            "-lcrypto",
        ],
        cwd=work,
    )
    return work / "driver"


# "/soap" is the generated default endpoint (on the live server's host and port)
PATHS = pytest.mark.parametrize("path", ["/soap", "/soap12"], ids=["default", "endpoint-soap12"])


@PATHS
def test_gsoap(
    live_server: LiveServer, payloads: dict[str, Path], gsoap_driver: Path, path: str
) -> None:
    before = live_server.log_text()
    out = run(
        [gsoap_driver, live_server.url + path, payloads["png"], payloads["text"], *TESTER],
        cwd=gsoap_driver.parent,
    )
    check_report(parse_report(out), payloads["png"], keeps_offsets=False, images=True)
    marker = f"method=POST path={path} operation=GetImage outcome=ok"
    assert live_server.log_text().count(marker) > before.count(marker), f"not called on {path}"


@PATHS
def test_gsoap_mtom_10_mib(
    live_server: LiveServer, big_image: Path, gsoap_driver: Path, path: str
) -> None:
    before = live_server.log_text()
    out = run(
        [gsoap_driver.parent / "mtom", live_server.url + path, big_image, *TESTER],
        cwd=gsoap_driver.parent,
    )
    report = parse_report(out)
    check_mtom_report(report, big_image, before, live_server.log_text())
    assert report["back_was_attachment"] is True
