"""The help page in a real headless Chromium: every operation's form filled,
submitted to the live service, and its answer shown (an upload through the
file picker). A screenshot of the page is kept in tests/output/."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from lxml import etree

from service.ns import SOAP11_ENV, SOAP12_ENV, TNS
from tests.conftest import ROOT, TESTER, LiveServer
from tests.images import make_image

CHROMIUM = os.environ.get("SOAP_TEST_CHROMIUM", "/usr/bin/chromium")
OUTPUT = ROOT / "tests" / "output"
#: As the machine's own probe starts it: no network beyond 127.0.0.1 is reachable here.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _require_chromium() -> None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.fail(f"no Chromium at {CHROMIUM} (make test-deps installs Debian's chromium)")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser, live_server: LiveServer):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    console: list[str] = []
    page.on(
        "console",
        lambda message: (
            console.append(f"{message.text} ({message.location.get('url')})")
            if message.type == "error"
            else None
        ),
    )
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_server.url + "/")
    page.wait_for_load_state("networkidle")  # a favicon is asked for after the load event
    yield page
    context.close()
    assert errors == [], errors
    outside = [url for url in requested if not url.startswith((live_server.url, "data:"))]
    assert outside == [], f"the page fetched something from elsewhere: {outside}"
    # Playwright may not report the favicon's request itself; its 404 is in the console
    assert not [url for url in requested if url.endswith("/favicon.ico")], requested
    # a SOAP fault is an HTTP error status, which Chromium logs; nothing else may be
    unexpected = [
        line
        for line in console
        if not (line.startswith("Failed to load resource") and _soap_port(live_server, line))
    ]
    assert unexpected == [], unexpected


def _soap_port(live_server: LiveServer, line: str) -> bool:
    return line.endswith((f"({live_server.url}/soap)", f"({live_server.url}/soap12)"))


def _invoke(page, operation: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    page.click(f"#invoke-{operation}")
    status = page.locator(f"#status-{operation}")
    status.filter(has_text="HTTP").wait_for(timeout=30_000)
    return status.inner_text(), page.locator(f"#result-{operation}").inner_text()


def test_every_operation_is_documented(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    from client import SoapServiceClient

    names = [
        op.name
        for op in SoapServiceClient(live_server.url)
        ._zeep.wsdl.bindings["{urn:soap-service:v1}SoapServiceSoap11Binding"]
        ._operations.values()
    ]
    envelopes = {"1.1": SOAP11_ENV, "1.2": SOAP12_ENV}
    for name in names:
        section = page.locator(f"section#{name}")
        assert section.count() == 1, name
        for version, envelope_ns in envelopes.items():
            sample = section.locator("details", has_text=f"Sample SOAP {version} request")
            # the text as shown, copied and pasted: complete XML, every prefix declared
            root = etree.fromstring(sample.locator("pre").text_content().encode())
            assert root.tag == f"{{{envelope_ns}}}Envelope", (name, version)
            body = root.find(f"{{{envelope_ns}}}Body")
            assert body is not None and len(body) == 1, (name, version)
            assert body[0].tag == f"{{{TNS}}}{name}", (name, version)
            assert all(e.tag.startswith(f"{{{TNS}}}") for e in body[0].iter()), (name, version)
        # the rules column says what the model declares, not spyne's defaults
        rules = section.locator("td:nth-child(4)").all_inner_texts()
        assert not [r for r in rules if "0001-01-01" in r or "9999" in r], (name, rules)
    received_at = page.locator("section#UploadImage tr", has_text="received_at")
    assert received_at.locator("td:nth-child(4)").inner_text() == ""

    # docstrings flow with the card: a long paragraph takes the card's width, not ~70 characters
    paragraph = page.locator("section#UploadImage .doc p", has_text="PNG, JPEG or GIF")
    lines = paragraph.evaluate(
        "p => Math.round(p.getBoundingClientRect().height"
        " / parseFloat(getComputedStyle(p).lineHeight))"
    )
    assert paragraph.inner_text().count("\n") == 0 and 1 <= lines <= 5, lines  # 7 as written
    wsdl = page.get_attribute("a[href='/soap?wsdl']", "href")
    assert requests.get(live_server.url + wsdl, timeout=30).text.startswith("<?xml")
    project = requests.get(live_server.url + "/soapui-project.xml", timeout=30)
    assert project.status_code == 200 and b"soapui-project" in project.content


def test_try_it_forms_call_the_service(page, live_server: LiveServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    form = "form[data-operation='{}'] "
    page.fill(form.format("Greet") + "[data-path='name']", "Ada")
    status, result = _invoke(page, "Greet")
    assert "200" in status and "OK" in status and "Hello, Ada!" in result

    page.fill(form.format("EchoPerson") + "[data-path='person/first_name']", "Ada")
    page.fill(form.format("EchoPerson") + "[data-path='person/last_name']", "Lovelace")
    page.fill(form.format("EchoPerson") + "[data-path='person/age']", "200")
    status, result = _invoke(page, "EchoPerson")
    assert "SOAP fault" in status and "person/age" in result

    page.select_option(form.format("GetTime") + "select[name='__version']", "1.2")
    page.fill(form.format("GetTime") + "[data-path='timezone']", "Europe/Paris")
    status, result = _invoke(page, "GetTime")
    assert "200" in status and "Europe/Paris" in result

    status, result = _invoke(page, "DescribeRequest")
    assert "200" in status and "127.0.0.1" in result

    image = tmp_path / "photo.png"
    image.write_bytes(make_image("PNG"))
    upload = form.format("UploadImage")
    # choosing the file fills the labels left empty, and nothing the user typed
    page.fill(upload + "[data-path='content_type']", "image/x-mine")
    page.set_input_files(upload + "[data-path='content']", str(image))
    assert page.input_value(upload + "[data-path='filename']") == "photo.png"
    assert page.input_value(upload + "[data-path='content_type']") == "image/x-mine"
    page.fill(upload + "[data-path='filename']", "")
    page.fill(upload + "[data-path='content_type']", "")
    page.set_input_files(upload + "[data-path='content']", [])
    page.set_input_files(upload + "[data-path='content']", str(image))
    assert page.input_value(upload + "[data-path='filename']") == "photo.png"
    assert page.input_value(upload + "[data-path='content_type']") == "image/png"
    page.fill(upload + "[name='__user']", TESTER[0])
    page.fill(upload + "[name='__password']", TESTER[1])
    status, result = _invoke(page, "UploadImage")
    assert "200" in status and "png" in result, result
    # the answer is shown whole: as wide as the card, long tokens wrapped, not clipped
    sha256 = hashlib.sha256(image.read_bytes()).hexdigest()
    assert sha256 in result
    pane = page.locator("#result-UploadImage")
    for width in (480, 1200):  # on a phone the sha256 is wider than the card: it wraps
        page.set_viewport_size({"width": width, "height": 900})
        overflow = pane.evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert overflow[0] <= overflow[1], (width, overflow)
        card = page.locator("section#UploadImage").evaluate(
            "s => s.clientWidth - parseFloat(getComputedStyle(s).paddingLeft)"
            " - parseFloat(getComputedStyle(s).paddingRight)"
        )
        box = pane.bounding_box()
        assert box is not None and box["width"] >= card - 1, (width, box, card)
        assert sha256 in pane.inner_text()
    # and it is the answer as sent: XML with its namespaces declared
    answer = etree.fromstring(result.encode())
    receipt = answer.find(f".//{{{TNS}}}sha256")
    assert receipt is not None and receipt.text == sha256

    listing = form.format("ListImages")
    page.fill(listing + "[name='__user']", TESTER[0])
    page.fill(listing + "[name='__password']", TESTER[1])
    status, result = _invoke(page, "ListImages")
    assert "200" in status and "ImageReceipt" in result

    OUTPUT.mkdir(parents=True, exist_ok=True)
    shot = OUTPUT / f"help-page-{live_server.data_dir.parent.name}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_soap_port_from_a_browser_is_the_help_page(live_server: LiveServer) -> None:
    browser_get = requests.get(
        live_server.url + "/soap", headers={"Accept": "text/html,*/*"}, timeout=30
    )
    assert browser_get.status_code == 200 and "<form class=try" in browser_get.text
    tool_get = requests.get(live_server.url + "/soap", timeout=30)  # a SOAP tool, not a browser
    assert tool_get.status_code == 405


def test_the_plain_upload_form_works_without_javascript(  # type: ignore[no-untyped-def]
    browser, live_server: LiveServer, tmp_path: Path
) -> None:
    """Issue 18: the seed's users uploaded from a plain HTML form. With JavaScript off,
    the help page's form posts multipart/form-data to /http/UploadImage, the browser
    answers the 401 with the user's credentials (HTTP Basic) and shows the receipt."""
    png = make_image("PNG", (33, 22))
    photo = tmp_path / "from-the-form.png"
    photo.write_bytes(png)
    context = browser.new_context(
        java_script_enabled=False,
        http_credentials={"username": TESTER[0], "password": TESTER[1]},
    )
    page = context.new_page()
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.headers.get("content-type", "")))
    page.goto(live_server.url + "/")
    page.set_input_files("form.plain input[name=content]", str(photo))
    with page.expect_navigation() as navigation:
        page.click("#plain-UploadImage")
    answer = navigation.value
    assert answer is not None and answer.status == 200, (answer and answer.status, page.content())
    # a browser's Accept prefers XML to JSON: the receipt comes as the response element
    assert answer.headers["content-type"].startswith("application/xml"), answer.headers
    result = etree.fromstring(answer.body()).find(f"{{{TNS}}}UploadImageResult")
    assert result is not None
    receipt = {child.tag.split("}")[1]: child.text for child in result}
    context.close()
    assert receipt["sha256"] == hashlib.sha256(png).hexdigest()
    assert (receipt["width"], receipt["height"]) == ("33", "22")
    assert any(kind.startswith("multipart/form-data") for kind in sent), sent
    image = requests.get(
        f"{live_server.url}/http/GetImage",
        params={"image_id": receipt["image_id"]},
        auth=TESTER,
        timeout=30,
    ).json()["GetImageResult"]
    assert image["filename"] == "from-the-form.png"
