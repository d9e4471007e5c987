"""gSOAP: wsdl2h + soapcpp2 with default flags, compiled with g++, on both ports."""

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
    for driver in ("driver.cpp", "mtom.cpp", "soap11_table.h"):
        shutil.copy(HERE / "gsoap" / driver, work)
    run(["wsdl2h", "-o", "service.h", WSDL], cwd=work)
    run(["soapcpp2", "-I", IMPORT_DIR, "service.h"], cwd=work)
    stub = (work / "soapStub.h").read_text()
    # natural types: int for age, std::string for required strings, no pointers for them
    assert "int age;" in stub
    assert "std::string first_USCOREname;" in stub and "std::string name;" in stub
    run(["g++", "-O1", "-c", "soapC.cpp", "soapClient.cpp"], cwd=work)
    run(
        ["g++", "-O1", "-o", "driver", "driver.cpp", "soapC.o", "soapClient.o", "-lgsoap++"],
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


@pytest.mark.parametrize(("version", "path"), [("1.1", "/soap"), ("1.2", "/soap12")])
def test_gsoap(
    live_server: LiveServer, payloads: dict[str, Path], gsoap_driver: Path, version: str, path: str
) -> None:
    out = run(
        [gsoap_driver, live_server.url + path, version, payloads["png"], payloads["text"], *TESTER],
        cwd=gsoap_driver.parent,
    )
    check_report(parse_report(out), payloads["png"], keeps_offsets=False)


@pytest.mark.parametrize(("version", "path"), [("1.1", "/soap"), ("1.2", "/soap12")])
def test_gsoap_mtom_10_mib(
    live_server: LiveServer, big_image: Path, gsoap_driver: Path, version: str, path: str
) -> None:
    before = live_server.log_text()
    out = run(
        [gsoap_driver.parent / "mtom", live_server.url + path, version, big_image, *TESTER],
        cwd=gsoap_driver.parent,
    )
    report = parse_report(out)
    check_mtom_report(report, big_image, before, live_server.log_text())
    assert report["back_was_attachment"] is True
