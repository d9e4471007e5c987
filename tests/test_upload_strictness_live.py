"""Issue 16 through the real server: what an upload may carry, and what its receipt may say."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
import requests
from lxml import etree

from service import ns
from service.imaging import TINY_PNG
from tests.conftest import TESTER, LiveServer, start_server, stop_server
from tests.soap_faults import fault_code_of
from tests.test_imaging import png_declaring


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("upload-strictness"))
    yield live
    stop_server(live)


def upload(server: LiveServer, content: str) -> requests.Response:
    body = (
        f'<soap:Envelope xmlns:soap="{ns.SOAP11_ENV}"><soap:Body>'
        f'<t:UploadImage xmlns:t="{ns.TNS}"><t:filename>a.png</t:filename>'
        f"<t:content>{content}</t:content></t:UploadImage></soap:Body></soap:Envelope>"
    )
    return requests.post(
        server.url + "/soap",
        data=body.encode(),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
        auth=TESTER,
        timeout=60,
    )


def fault(response: requests.Response) -> tuple[str, str]:
    root = etree.fromstring(response.content)
    return fault_code_of(root), root.findtext(".//faultstring") or ""


PNG = base64.b64encode(TINY_PNG).decode()
LARGE_PNG = base64.b64encode(TINY_PNG + bytes(8192)).decode()


@pytest.mark.parametrize(
    "content",
    [PNG[:8] + "!!!" + PNG[8:], LARGE_PNG[:8] + "!!!" + LARGE_PNG[8:], "!!!!", PNG + "*"],
    ids=["inline", "large", "only-junk", "trailing"],
)
def test_base64_with_characters_outside_its_alphabet_is_refused(
    server: LiveServer, content: str
) -> None:
    """Finding 10: the junk was dropped and the image stored ("!!!!": "content is empty")."""
    response = upload(server, content)
    assert response.status_code == 500
    code, text = fault(response)
    assert code == "Client.Validation" and "'content'" in text and "base64" in text, text


@pytest.mark.parametrize(("width", "height"), [(2**32 - 1, 1), (1, 2**31)])
def test_a_png_declaring_a_size_no_receipt_can_carry_is_refused(
    server: LiveServer, width: int, height: int
) -> None:
    """Finding 8: it was stored, and its receipt's width=4294967295 is no xs:int, so
    strict clients could not read ListImages afterwards."""
    data = png_declaring(width, height)
    response = upload(server, base64.b64encode(data).decode())
    assert response.status_code == 500
    code, text = fault(response)
    assert code == "Client.Validation" and "'content'" in text, text
    assert "declared dimensions" in text and "out of range" in text, text
