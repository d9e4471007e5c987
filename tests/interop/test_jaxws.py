"""Java JAX-WS RI: wsimport from the served WSDL, javac, and the generated service as JAX-WS
documents it: ``new SoapService().getSoapServiceSoap11()``, calls on the returned port.

wsimport reads ``GET /soap?wsdl`` unedited, so the generated ``SoapService`` holds the live
WSDL's URL and the port its address: no endpoint override. HTTP Basic is
``BindingProvider.USERNAME_PROPERTY`` / ``PASSWORD_PROPERTY`` on the port's request context.
The WSDL's optional MTOM policy (``wsoma:OptimizedMimeSerialization``) is honoured by the RI,
which sends every call as XOP and reads GetImage's ``content`` as ``byte[]`` either way.

With default options wsimport leaves the SOAP 1.2 port out (JAX-WS's own limitation, proven
by a test below: "Ignoring SOAP port ... You must specify the "-extension" option"), so the
default row is SOAP 1.1 on ``/soap``. The SOAP 1.2 row adds the one flag the tool's own warning
asks for, ``-extension``, and then uses the getter it generates, ``getSoapServiceSoap12()``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import TESTER, LiveServer
from tests.interop.conftest import HERE, check_mtom_report, require, run
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


def _build(work: Path, live_server: LiveServer, *flags: str, port: str) -> tuple[Path, str]:
    """wsimport from the served WSDL, then javac the drivers with ``<port>Port.java``."""
    require("wsimport", "javac", "java", *(str(JARS / f"{jar}.jar") for jar in RUNTIME))
    (work / "src").mkdir()
    (work / "classes").mkdir()
    wsdl = live_server.url + "/soap?wsdl"
    out = run(
        ["wsimport", *flags, "-keep", "-d", work / "classes", "-s", work / "src", wsdl], cwd=work
    )
    (work / "wsimport.out").write_text(out)
    classpath = ":".join([*(str(JARS / f"{jar}.jar") for jar in RUNTIME), str(work / "classes")])
    sources = ["Driver.java", "MtomDriver.java", f"{port}Port.java"]
    for source in sources:
        shutil.copy(HERE / "java" / source, work)
    run(["javac", "-cp", classpath, "-d", work / "classes", *sources], cwd=work)
    return work, classpath


@pytest.fixture(scope="module")
def java_build(
    live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str]:
    """wsimport's default options: the SOAP 1.1 port's getter only."""
    return _build(tmp_path_factory.mktemp("java"), live_server, port="Soap11")


@pytest.fixture(scope="module")
def java_build_extension(
    live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str]:
    """wsimport -extension, as its own warning asks for the SOAP 1.2 port."""
    return _build(tmp_path_factory.mktemp("java12"), live_server, "-extension", port="Soap12")


def test_wsimport_defaults_leave_out_the_soap12_port(java_build: tuple[Path, str]) -> None:
    """JAX-WS's own limitation: its default options read only SOAP 1.1 ports of a WSDL.

    The JAX-WS 2.x specification maps SOAP 1.1/HTTP bindings only; the RI takes a
    ``soap12:binding`` as a vendor extension and says so (if this starts passing, the
    SOAP 1.2 row can drop ``-extension``).
    """
    work, _ = java_build
    said = (work / "wsimport.out").read_text()
    assert 'Ignoring SOAP port "SoapServiceSoap12": it uses non-standard SOAP 1.2 binding.' in said
    assert 'You must specify the "-extension" option to use this binding.' in said
    service = (work / "src" / "service" / "soap" / "v1" / "SoapService.java").read_text()
    assert "getSoapServiceSoap11()" in service
    assert "getSoapServiceSoap12" not in service


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


def _driver(live_server: LiveServer, payloads: dict[str, Path], build: tuple[Path, str]) -> str:
    work, classpath = build
    return run(
        ["java", "-cp", classpath, "Driver", payloads["png"], payloads["text"], *TESTER], cwd=work
    )


def test_jaxws(
    live_server: LiveServer, payloads: dict[str, Path], java_build: tuple[Path, str]
) -> None:
    """wsimport's defaults, ``new SoapService().getSoapServiceSoap11()``: SOAP 1.1 on /soap."""
    before = live_server.log_text()
    check_report(
        parse_report(_driver(live_server, payloads, java_build)), payloads["png"], images=True
    )
    marker = "path=/soap operation=GetImage outcome=ok"
    assert live_server.log_text().count(marker) > before.count(marker)


def test_jaxws_soap12(
    live_server: LiveServer, payloads: dict[str, Path], java_build_extension: tuple[Path, str]
) -> None:
    """wsimport -extension, ``new SoapService().getSoapServiceSoap12()``: SOAP 1.2 on /soap12."""
    before = live_server.log_text()
    out = _driver(live_server, payloads, java_build_extension)
    check_report(parse_report(out), payloads["png"], images=True)
    marker = "path=/soap12 operation=GetImage outcome=ok"
    assert live_server.log_text().count(marker) > before.count(marker)


@pytest.mark.parametrize("build", ["java_build", "java_build_extension"])
def test_jaxws_mtom_10_mib(
    live_server: LiveServer, big_image: Path, build: str, request: pytest.FixtureRequest
) -> None:
    work, classpath = request.getfixturevalue(build)
    before = live_server.log_text()
    out = run(["java", "-cp", classpath, "MtomDriver", big_image, *TESTER], cwd=work)
    check_mtom_report(parse_report(out), big_image, before, live_server.log_text())
