""".NET WCF through Mono: svcutil with default options, mcs, mono; both ports.

Mono's svcutil reads metadata from a URL (it refuses a .wsdl path), so it reads
the live ``?wsdl``, which the contract tests prove is the committed document.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import TESTER, LiveServer
from tests.interop.conftest import HERE, check_mtom_report, require, run
from tests.interop.scenario import check_report, parse_report


@pytest.fixture(scope="module")
def mono_build(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    require("svcutil", "mcs", "mono")
    work = tmp_path_factory.mktemp("dotnet")
    run(["svcutil", "--noLogo", live_server.url + "/soap?wsdl"], cwd=work)
    for name, source in (("driver", "Driver.cs"), ("mtom", "MtomDriver.cs")):
        shutil.copy(HERE / "dotnet" / source, work)
        run(
            [
                "mcs",
                "-nologo",
                f"-out:{name}.exe",
                "-r:System.ServiceModel.dll",
                "-r:System.Runtime.Serialization.dll",
                source,
                "output.cs",
            ],
            cwd=work,
        )
    return work


def test_generated_proxy_is_natural(mono_build: Path) -> None:
    proxy = " ".join((mono_build / "output.cs").read_text().split())
    assert "string Greet(string name);" in proxy
    assert "soapservice.v1.TimeInfo GetTime(string timezone);" in proxy
    assert "soapservice.v1.Person EchoPerson(soapservice.v1.Person person);" in proxy
    assert re.search(
        r"soapservice\.v1\.ImageReceipt UploadImage\(string filename, byte\[\] "
        r"content, string content_type\);",
        proxy,
    )
    assert "soapservice.v1.ImageData GetImage(string image_id);" in proxy
    assert "soapservice.v1.ImagePage ListImages(int page_size, string page_token);" in proxy
    assert "soapservice.v1.ImageReceipt DeleteImage(string image_id);" in proxy
    assert "public soapservice.v1.ImageReceipt[] images {" in proxy
    assert "public int age {" in proxy and "public string first_name {" in proxy
    assert "public long size_bytes {" in proxy


@pytest.mark.parametrize(("version", "path"), [("1.1", "/soap"), ("1.2", "/soap12")])
def test_mono_wcf(
    live_server: LiveServer, payloads: dict[str, Path], mono_build: Path, version: str, path: str
) -> None:
    out = run(
        [
            "mono",
            "driver.exe",
            live_server.url + path,
            version,
            payloads["png"],
            payloads["text"],
            *TESTER,
        ],
        cwd=mono_build,
    )
    # DataContract maps xs:dateTime to DateTime, which keeps no UTC offset.
    check_report(parse_report(out), payloads["png"], keeps_offsets=False)


@pytest.mark.parametrize(("version", "path"), [("1.1", "/soap"), ("1.2", "/soap12")])
def test_mono_wcf_mtom_10_mib(
    live_server: LiveServer, big_image: Path, mono_build: Path, version: str, path: str
) -> None:
    before = live_server.log_text()
    out = run(
        ["mono", "mtom.exe", live_server.url + path, version, big_image, *TESTER], cwd=mono_build
    )
    check_mtom_report(parse_report(out), big_image, before, live_server.log_text())
