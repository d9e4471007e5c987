"""The help page in a real headless Chromium: every operation's form filled,
submitted to the live service, and its answer shown (an upload through the
file picker). A screenshot of the page is kept in tests/output/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

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
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return
    message = f"no Chromium at {CHROMIUM} (make interop-deps installs Debian's chromium)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


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
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(live_server.url) else outside.append(request.url)
        ),
    )
    page.goto(live_server.url + "/")
    yield page
    context.close()
    assert errors == [], errors
    assert outside == [], f"the page fetched something from elsewhere: {outside}"


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
    for name in names:
        section = page.locator(f"section#{name}")
        assert section.count() == 1, name
        assert "Sample SOAP 1.1 request" in section.inner_text()
        assert "Sample SOAP 1.2 request" in section.inner_text()
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
    page.fill(upload + "[data-path='filename']", "photo.png")
    page.set_input_files(upload + "[data-path='content']", str(image))
    page.fill(upload + "[name='__user']", TESTER[0])
    page.fill(upload + "[name='__password']", TESTER[1])
    status, result = _invoke(page, "UploadImage")
    assert "200" in status and "png" in result, result

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
