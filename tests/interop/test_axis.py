"""Apache Axis 1.4: WSDL2Java with default options, javac, and the generated stub as the
Axis User's Guide shows it (``new <Service>Locator()``, its port getter, calls).

Axis 1.4 reads SOAP 1.1 only: its WSDL2Java aborts on the full contract's SOAP 1.2 binding
("Missing <soap:fault> element in Fault "ValidationFault""), so its users take the SOAP 1.1
view, ``GET /soap?wsdl=soap11`` (the same contract without the SOAP 1.2 binding and port).
WSDL2Java reads it from the live service's URL, as users do, so the generated locator's
address is the live ``/soap``. HTTP Basic is the stub's setUsername/setPassword.

Axis 1.4 sends ``Accept: application/soap+xml, application/dime, multipart/related, text/*``
on every call and cannot read XOP: GetImage must come back as plain XML (base64), which the
service's log says (``reply=xml``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import TESTER, LiveServer
from tests.interop.conftest import HERE, require, run
from tests.interop.scenario import check_report, parse_report

JARS = Path("/usr/share/java")
# libaxis-java's jars and the dependencies the Axis User's Guide lists for its classpath
RUNTIME = [
    "axis",
    "axis-jaxrpc",
    "axis-saaj",
    "commons-discovery",
    "commons-logging",
    "wsdl4j",
    "javax.activation",
    "javax.mail",
]
PACKAGE = Path("v1") / "soap_service"  # WSDL2Java's package for urn:soap-service:v1


@pytest.fixture(scope="module")
def axis_build(
    live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str]:
    jars = [str(JARS / f"{jar}.jar") for jar in RUNTIME]
    require("javac", "java", *jars)
    work = tmp_path_factory.mktemp("axis")
    classpath = ":".join([*jars, str(work / "classes")])
    (work / "classes").mkdir()
    run(
        [
            "java",
            "-cp",
            classpath,
            "org.apache.axis.wsdl.WSDL2Java",
            "-o",
            work / "src",
            live_server.url + "/soap?wsdl=soap11",
        ],
        cwd=work,
    )
    shutil.copy(HERE / "axis" / "AxisDriver.java", work)
    sources = [str(p) for p in sorted((work / "src" / PACKAGE).glob("*.java"))]
    run(["javac", "-nowarn", "-cp", classpath, "-d", work / "classes", *sources], cwd=work)
    run(["javac", "-cp", classpath, "-d", work / "classes", "AxisDriver.java"], cwd=work)
    return work, classpath


def test_the_full_contract_is_what_axis_cannot_read(
    live_server: LiveServer, axis_build: tuple[Path, str]
) -> None:
    """Why the view exists: WSDL2Java on ?wsdl still fails (if it stops failing, say so)."""
    work, classpath = axis_build
    result = subprocess.run(
        [
            "java",
            "-cp",
            classpath,
            "org.apache.axis.wsdl.WSDL2Java",
            "-o",
            str(work / "full"),
            live_server.url + "/soap?wsdl",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    # Axis's own words: 'Missing <soap:fault> element inFault "ValidationFault" ...'
    said = result.stdout + result.stderr
    assert re.search(r'Missing <soap:fault> element in ?Fault "ValidationFault"', said), said


def test_generated_code_is_natural(axis_build: tuple[Path, str]) -> None:
    work, _ = axis_build
    package = work / "src" / PACKAGE
    port = " ".join((package / "SoapServicePortType.java").read_text().split())
    assert "public java.lang.String greet(java.lang.String name)" in port
    assert re.search(
        r"public v1\.soap_service\.ImageReceipt uploadImage\([^)]*byte\[\] content", port
    )
    assert "public v1.soap_service.ImageData getImage(java.lang.String image_id)" in port
    assert "throws java.rmi.RemoteException, v1.soap_service.ValidationFaultDetail" in port
    assert "private byte[] content;" in (package / "ImageData.java").read_text()
    assert (
        "private v1.soap_service.ImageReceipt[] images;" in (package / "ImagePage.java").read_text()
    )
    assert (
        "extends org.apache.axis.AxisFault" in (package / "ValidationFaultDetail.java").read_text()
    )
    locator = (package / "SoapServiceLocator.java").read_text()
    assert "getSoapServiceSoap11()" in locator and "Soap12" not in locator


def test_axis(
    live_server: LiveServer, payloads: dict[str, Path], axis_build: tuple[Path, str]
) -> None:
    work, classpath = axis_build
    before = live_server.log_text()
    out = run(
        ["java", "-cp", classpath, "AxisDriver", payloads["png"], payloads["text"], *TESTER],
        cwd=work,
    )
    report = parse_report(out)
    # Axis reads xs:dateTime into a Calendar in GMT: the instant is kept, the +05:30 is not
    check_report(report, payloads["png"], keeps_offsets=False, images=True)
    assert "multipart/related" in report["accept"], report["accept"]
    after = live_server.log_text()
    # Axis's Accept names multipart/related; it still gets (and reads) plain XML, not MTOM
    marker = "operation=GetImage outcome=ok fault=- status=200 encoding=xml reply=xml"
    assert after.count(marker) > before.count(marker), "GetImage was not answered as plain XML"
