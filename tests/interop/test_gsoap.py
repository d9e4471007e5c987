"""gSOAP: wsdl2h + soapcpp2 with default flags, compiled with g++, on both ports."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import TESTER, LiveServer
from tests.interop.conftest import HERE, WSDL, require, run
from tests.interop.scenario import check_report, parse_report

IMPORT_DIR = Path("/usr/share/gsoap/import")  # stlvector.h and friends, for soapcpp2 -I


@pytest.fixture(scope="module")
def gsoap_driver(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require("wsdl2h", "soapcpp2", "g++", str(IMPORT_DIR))
    work = tmp_path_factory.mktemp("gsoap")
    shutil.copy(HERE / "gsoap" / "driver.cpp", work)
    run(["wsdl2h", "-o", "service.h", WSDL], cwd=work)
    run(["soapcpp2", "-I", IMPORT_DIR, "service.h"], cwd=work)
    stub = (work / "soapStub.h").read_text()
    # natural types: int for age, std::string for required strings, no pointers for them
    assert "int age;" in stub
    assert "std::string first_USCOREname;" in stub and "std::string name;" in stub
    run(
        ["g++", "-O1", "-o", "driver", "driver.cpp", "soapC.cpp", "soapClient.cpp", "-lgsoap++"],
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
