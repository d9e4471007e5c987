"""The help page's HTML, without a browser: the sample envelopes, the rules
column, the docstrings' paragraphs, the favicon and the try-it forms."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest
from lxml import etree
from lxml import html as lxml_html
from spyne import Date, DateTime, Double, Integer32, Unicode

from service import ns
from service.contract.models import Age, UtcDateTime
from service.contract.operations import build_application
from service.contract.wsdl import Operation, operations
from service.http import helppage

OPERATIONS = operations(build_application())
PAGE = helppage.render(OPERATIONS, frozenset({"Greet"}), "http://localhost:8000").decode()
TREE = lxml_html.fromstring(PAGE)


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_sample_envelopes_are_complete_xml(op: Operation, version: str) -> None:
    envelope_ns = ns.SOAP11_ENV if version == "1.1" else ns.SOAP12_ENV
    shown = TREE.xpath(
        f"//section[@id='{op.name}']//details[contains(summary, 'SOAP {version}')]/pre"
    )
    assert len(shown) == 1
    text = shown[0].text_content()  # as the reader sees it, and copies it
    assert text == helppage.sample_envelope(op, version)
    root = etree.fromstring(text.encode())  # every prefix declared, or this raises
    assert root.tag == f"{{{envelope_ns}}}Envelope"
    (body,) = root
    assert body.tag == f"{{{envelope_ns}}}Body"
    (request,) = body
    assert request.tag == f"{{{ns.TNS}}}{op.name}"
    assert all(element.tag.startswith(f"{{{ns.TNS}}}") for element in request.iter())


def test_sample_envelope_nests_structures() -> None:
    (echo,) = [op for op in OPERATIONS if op.name == "EchoPerson"]
    root = etree.fromstring(helppage.sample_envelope(echo, "1.1").encode())
    names = [etree.QName(e).localname for e in root.iter(f"{{{ns.TNS}}}*")]
    assert names == ["EchoPerson", "person", "first_name", "last_name", "age"]


@pytest.mark.parametrize(
    ("kind", "rules"),
    [
        # spyne's own bounds and lengths are no rule of the contract
        (DateTime(), ""),
        (UtcDateTime(min_occurs=1), ""),
        (Date(), ""),
        (Unicode(), ""),
        (Unicode(min_occurs=1, max_occurs="unbounded"), ""),
        (Integer32(), ""),
        (Double(), ""),
        # what a model declares
        (Unicode(min_len=1, max_len=100), "1 to 100 characters"),
        (Unicode(max_len=10), "at most 10 characters"),
        (Unicode(min_len=3), "at least 3 characters"),
        (Unicode(pattern="[a-z]+"), "matches [a-z]+"),
        (Unicode(values=["b", "a"]), "one of a, b"),
        (Age(), "0 to 150"),
        (Age().customize(le=120), "0 to 120"),
        (Integer32(gt=0), "more than 0"),
        (Double(lt=1.5), "less than 1.5"),
        (
            DateTime(ge=datetime(2020, 1, 1, tzinfo=timezone.utc)),
            "at least 2020-01-01T00:00:00+00:00",
        ),
        (Date(le=date(2030, 12, 31)), "at most 2030-12-31"),
        (Date(ge=date(2000, 1, 1), le=date(2030, 12, 31)), "2000-01-01 to 2030-12-31"),
    ],
)
def test_rules_are_what_the_model_declares(kind: type, rules: str) -> None:
    assert helppage._rules(kind) == rules


def test_no_datetime_shows_spyne_default_range() -> None:
    assert "0001-01-01" not in PAGE and "9999-12-31" not in PAGE
    received_at = TREE.xpath("//section[@id='UploadImage']//tr[td/code='received_at']/td[4]")
    assert [cell.text_content() for cell in received_at] == [""]


def test_docstrings_are_reflowed() -> None:
    doc = (
        "Stores an image and returns its receipt.\n"
        "\n"
        "content: the image's bytes; PNG, JPEG or GIF, at\n"
        "most the size limit. Refused with an\n"
        "ImageRejectedFault whose reason is:\n"
        "\n"
        "- too_large, when the bytes are\n"
        "  over the limit;\n"
        "- corrupt.\n"
        "\n"
        "1. one\n"
        "2. two & <three>\n"
        "\n"
        "    example = call(\n"
        "        1)\n"
    )
    assert helppage.doc_html(doc) == (
        "<p>Stores an image and returns its receipt.</p>"
        "<p>content: the image's bytes; PNG, JPEG or GIF, at most the size limit."
        " Refused with an ImageRejectedFault whose reason is:</p>"
        "<ul><li>too_large, when the bytes are over the limit;</li><li>corrupt.</li></ul>"
        "<ol><li>one</li><li>two &amp; &lt;three&gt;</li></ol>"
        "<pre>example = call(\n    1)</pre>"
    )
    assert helppage.doc_html("") == ""


def test_page_docstrings_have_no_hard_wraps() -> None:
    for op in OPERATIONS:
        (doc,) = TREE.xpath(f"//section[@id='{op.name}']/div[@class='doc']")
        paragraphs = [p.text_content() for p in doc.iter("p")]
        assert paragraphs and all("\n" not in p for p in paragraphs), op.name
        words = " ".join(paragraphs).split()
        assert words == (op.doc or "").split(), op.name


def test_no_favicon_request() -> None:
    (icon,) = TREE.xpath("/html/head/link[@rel='icon']")
    assert icon.get("href").startswith("data:")


def test_result_pane_is_outside_the_form_and_wraps() -> None:
    for op in OPERATIONS:
        (result,) = TREE.xpath(f"//pre[@id='result-{op.name}']")
        assert result.getparent().tag == "section", op.name  # the card's width, not the form's
        assert TREE.xpath(f"//form[@data-operation='{op.name}']//*[@id='status-{op.name}']") == []
    style = TREE.xpath("//style")[0].text_content()
    (rule,) = re.findall(r"pre\.result\{[^}]*\}", style)
    assert "white-space:pre-wrap" in rule and "overflow-wrap:anywhere" in rule


def test_upload_form_names_the_file_it_takes() -> None:
    (form,) = TREE.xpath("//form[@data-operation='UploadImage']")
    paths = [i.get("data-path") for i in form.iter("input") if i.get("data-path")]
    assert paths == ["filename", "content", "content_type"]
    script = TREE.xpath("//script[not(@type)]")[0].text_content()
    assert "fillFromFile" in script and "file.name" in script and "file.type" in script


def test_the_page_links_the_other_faces() -> None:
    links = {a.get("href") for a in TREE.iter("a")}
    assert {"/openapi.json", "#xmlrpc", "#plain-UploadImage"} <= links
    for target in ("xmlrpc", "plain-UploadImage"):
        assert TREE.xpath(f"//*[@id='{target}']"), target


def test_the_xmlrpc_section_shows_every_fault_code() -> None:
    from service.http.xmlrpc import FAULT_CODES

    (section,) = TREE.xpath("//section[@id='xmlrpc']")
    rows = {
        int(row[0].text_content()): row[1].text_content()
        for row in section.iter("tr")
        if row[0].tag == "td"
    }
    assert rows == {code: cls.code for cls, code in FAULT_CODES.items()}
    assert "ServerProxy(" in section.text_content()
