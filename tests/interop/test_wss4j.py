"""Apache WSS4J (Debian ``libwss4j-java``) signs every operation on both ports, and verifies
every signed answer with the service's published certificate (``java/Wss4jClient.java``).

WSS4J is the WS-Security engine of Apache CXF: its ``WSSecSignature`` with
``BST_DIRECT_REFERENCE``, RSA-SHA256 and SHA-256 over the Body and a ``WSSecTimestamp``,
in a Security header marked mustUnderstand, is what a CXF client sends with a signature
policy. The key is a PKCS#12 keystore made here with ``cryptography``; the certificate is
trusted for ``tester`` through ``soap-service certs add``. No HTTP Basic: the upload is
authorised by the certificate alone.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree

from tests.conftest import LiveServer
from tests.interop.conftest import HERE, require, run
from tests.wssec import make_identity, trust

JARS = Path("/usr/share/java")
RUNTIME = ["wss4j", "xmlsec", "commons-logging", "commons-codec", "slf4j-api"]
TNS = "urn:soap-service:v1"
ENVELOPES = {
    "/soap": "http://schemas.xmlsoap.org/soap/envelope/",
    "/soap12": "http://www.w3.org/2003/05/soap-envelope",
}
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(scope="module")
def wss4j(
    live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str, list[str]]:
    """The compiled client, its classpath, and its first arguments (keystore, password,
    alias, the service's certificate)."""
    require("javac", "java", *(str(JARS / f"{jar}.jar") for jar in RUNTIME))
    work = tmp_path_factory.mktemp("wss4j")
    shutil.copy(HERE / "java" / "Wss4jClient.java", work)
    classpath = ":".join([*(str(JARS / f"{jar}.jar") for jar in RUNTIME), str(work)])
    run(["javac", "-cp", classpath, "-d", work, "Wss4jClient.java"], cwd=work)
    signer = make_identity(work, "wss4j")
    trust(live_server, signer)
    key = serialization.load_pem_private_key(signer.key_pem, None)
    keystore = work / "client.p12"
    keystore.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"client",
            key,  # type: ignore[arg-type]
            signer.certificate,
            None,
            serialization.BestAvailableEncryption(b"keystore-password"),
        )
    )
    service_cert = work / "service.pem"
    service_cert.write_bytes(requests.get(live_server.url + "/certificate.pem", timeout=30).content)
    return work, classpath, [str(keystore), "keystore-password", "client", str(service_cert)]


def _call(
    wss4j: tuple[Path, str, list[str]], url: str, path: str, bodies: dict[str, str]
) -> dict[str, etree._Element]:
    """Each body sent signed by WSS4J; the operation's result element of each answer,
    after checking the answer was 200 and its signature verified by WSS4J."""
    work, classpath, first = wss4j
    soap = ENVELOPES[path]
    files = []
    for name, inner in bodies.items():
        request = work / f"{path.strip('/')}-{name}.xml"
        request.write_text(
            f'<s:Envelope xmlns:s="{soap}"><s:Body><t:{name} xmlns:t="{TNS}">{inner}'
            f"</t:{name}></s:Body></s:Envelope>"
        )
        files.append(str(request))
    out = run(["java", "-cp", classpath, "Wss4jClient", *first, url + path, *files], cwd=work)
    reports: list[dict[str, Any]] = [
        json.loads(line) for line in out.splitlines() if line.startswith("{")
    ]
    assert len(reports) == len(bodies), out
    results = {}
    for name, report in zip(bodies, reports, strict=True):
        answer = base64.b64decode(report["body"])
        assert report["status"] == 200, answer[:2000]
        assert report["verified"], report["signed"]
        root = etree.fromstring(answer)
        result = root.find(f"{{{soap}}}Body/{{{TNS}}}{name}Response/{{{TNS}}}{name}Result")
        assert result is not None, answer[:2000]
        results[name] = result
    return results


@pytest.mark.parametrize("path", ["/soap", "/soap12"])
def test_wss4j_signs_every_operation_and_verifies_every_answer(
    live_server: LiveServer, wss4j: tuple[Path, str, list[str]], path: str
) -> None:
    png = base64.b64encode(PNG).decode()
    first = _call(
        wss4j,
        live_server.url,
        path,
        {
            "Greet": "<t:name>Ada</t:name>",
            "GetTime": "<t:timezone>Europe/Paris</t:timezone>",
            "EchoPerson": "<t:person><t:first_name>Ada</t:first_name>"
            "<t:last_name>Lovelace</t:last_name><t:age>36</t:age></t:person>",
            "DescribeRequest": "",
            "UploadImage": f"<t:filename>wss4j.png</t:filename><t:content>{png}</t:content>",
        },
    )
    assert first["Greet"].text == "Hello, Ada!"
    assert first["GetTime"].findtext(f"{{{TNS}}}timezone") == "Europe/Paris"
    assert first["EchoPerson"].findtext(f"{{{TNS}}}age") == "36"
    assert first["DescribeRequest"].findtext(f"{{{TNS}}}user") == "tester"
    image_id = first["UploadImage"].findtext(f"{{{TNS}}}image_id")
    assert image_id
    second = _call(
        wss4j,
        live_server.url,
        path,
        {
            "GetImage": f"<t:image_id>{image_id}</t:image_id>",
            "ListImages": "<t:page_size>100</t:page_size>",
            "DeleteImage": f"<t:image_id>{image_id}</t:image_id>",
        },
    )
    assert base64.b64decode(second["GetImage"].findtext(f"{{{TNS}}}content") or "") == PNG
    listed = {e.text for e in second["ListImages"].iter(f"{{{TNS}}}image_id")}
    assert image_id in listed
    assert second["DeleteImage"].findtext(f"{{{TNS}}}image_id") == image_id
