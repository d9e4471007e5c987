"""Java JAX-WS RI: wsimport with default options, javac and java on the JDK, both ports."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import TESTER, LiveServer
from tests.interop.conftest import HERE, WSDL, check_mtom_report, require, run
from tests.interop.scenario import check_report, parse_report

JARS = Path("/usr/share/java")
RUNTIME = [
    "jaxws-rt",
    "jaxws-api",
    "jaxb-api",
    "jaxb-runtime",
    "jaxb-core",
    "jaxb-impl",
    "javax.activation",
    "saaj-impl",
    "stax-ex",
    "streambuffer",
    "mimepull",
    "istack-commons-runtime",
    "gmbal",
    "glassfish-management-api",
    "metro-policy",
    "jws-api",
    "FastInfoset",
]


@pytest.fixture(scope="module")
def java_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    require("wsimport", "javac", "java", *(str(JARS / f"{jar}.jar") for jar in RUNTIME))
    work = tmp_path_factory.mktemp("java")
    (work / "src").mkdir()
    (work / "classes").mkdir()
    run(["wsimport", "-keep", "-d", work / "classes", "-s", work / "src", WSDL], cwd=work)
    classpath = ":".join([*(str(JARS / f"{jar}.jar") for jar in RUNTIME), str(work / "classes")])
    for driver in ("Driver.java", "MtomDriver.java"):
        shutil.copy(HERE / "java" / driver, work)
    run(
        ["javac", "-cp", classpath, "-d", work / "classes", "Driver.java", "MtomDriver.java"],
        cwd=work,
    )
    return work, classpath


def test_generated_code_is_natural(java_build: tuple[Path, str]) -> None:
    work, _ = java_build
    package = work / "src" / "service" / "soap" / "v1"
    port = (package / "SoapServicePortType.java").read_text()
    signatures = " ".join(port.split())
    assert re.search(r"public String greet\( @WebParam\([^)]*\) String name\)", signatures)
    assert re.search(r"public TimeInfo getTime\( @WebParam\([^)]*\) String timezone\)", signatures)
    assert re.search(r"public Person echoPerson\( @WebParam\([^)]*\) Person person\)", signatures)
    assert re.search(r"public ImageReceipt uploadImage\( .*byte\[\] content", signatures)
    assert re.search(r"public ImageData getImage\( @WebParam\([^)]*\) String imageId\)", signatures)
    assert re.search(
        r"public ImagePage listImages\( @WebParam\([^)]*\) Integer pageSize, "
        r"@WebParam\([^)]*\) String pageToken\)",
        signatures,
    )
    assert re.search(
        r"public ImageReceipt deleteImage\( @WebParam\([^)]*\) String imageId\)"
        r" throws NotFoundFault, ValidationFault",
        signatures,
    )
    assert (
        "protected List<ImageReceipt> imageReceipt;"
        in (package / "ArrayOfImageReceipt.java").read_text()
    )
    person = (package / "Person.java").read_text()
    assert "protected int age;" in person and "protected String firstName;" in person
    for source in package.glob("*.java"):
        text = source.read_text()
        # ObjectFactory's create<Element>() helpers return JAXBElement by JAXB's design;
        # what users touch is the beans' fields and the port's signatures.
        assert "protected JAXBElement<" not in text, source.name
        assert "JAXBElement<" not in text or source.name == "ObjectFactory.java", source.name
        assert "BigInteger" not in text, source.name
        assert "Holder<" not in text, source.name


@pytest.mark.parametrize(("version", "path"), [("1.1", "/soap"), ("1.2", "/soap12")])
def test_jaxws(
    live_server: LiveServer,
    payloads: dict[str, Path],
    java_build: tuple[Path, str],
    version: str,
    path: str,
) -> None:
    work, classpath = java_build
    out = run(
        [
            "java",
            "-cp",
            classpath,
            "Driver",
            WSDL,
            live_server.url + path,
            version,
            payloads["png"],
            payloads["text"],
            *TESTER,
        ],
        cwd=work,
    )
    check_report(parse_report(out), payloads["png"])


@pytest.mark.parametrize(("version", "path"), [("1.1", "/soap"), ("1.2", "/soap12")])
def test_jaxws_mtom_10_mib(
    live_server: LiveServer,
    big_image: Path,
    java_build: tuple[Path, str],
    version: str,
    path: str,
) -> None:
    work, classpath = java_build
    before = live_server.log_text()
    out = run(
        [
            "java",
            "-cp",
            classpath,
            "MtomDriver",
            WSDL,
            live_server.url + path,
            version,
            big_image,
            *TESTER,
        ],
        cwd=work,
    )
    check_mtom_report(parse_report(out), big_image, before, live_server.log_text())
