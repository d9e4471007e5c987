"""service.soap.hardening alone: the parser and the shape limits, no server."""

from __future__ import annotations

import pytest

from service.faults import ForbiddenXmlFault, LimitExceededFault, MalformedRequestFault
from service.soap.hardening import Limits, check_headers, parse_request

SMALL = Limits(
    max_depth=5,
    max_elements=20,
    max_attributes=2,
    max_attribute_length=10,
    max_text_length=50,
    max_headers=2,
)


def test_a_plain_document_passes() -> None:
    root = parse_request(b"<a x='1'><b>text</b><!-- gone --><?pi gone?></a>", SMALL)
    assert [child.tag for child in root] == ["b"]


@pytest.mark.parametrize(
    ("data", "limit"),
    [
        (b"<a>" * 6 + b"</a>" * 6, "nesting depth"),
        (b"<a>" + b"<b/>" * 25 + b"</a>", "elements"),
        (b"<a>" + b"<b></b>" * 21 + b"</a>", "elements"),
        (b"<a x='1' y='2' z='3'/>", "attributes"),
        (b"<a x='" + b"v" * 11 + b"'/>", "characters in an attribute"),
        (b"<a>" + b"t" * 51 + b"</a>", "characters in a text node"),
        (b"<a><b/>" + b"t" * 51 + b"</a>", "characters in a text node"),
    ],
)
def test_limits(data: bytes, limit: str) -> None:
    with pytest.raises(LimitExceededFault, match=limit):
        parse_request(data, SMALL)


def test_depth_beyond_what_libxml2_parses_is_a_limit_fault() -> None:
    with pytest.raises(LimitExceededFault, match="nesting depth"):
        parse_request(b"<a>" * 3000 + b"</a>" * 3000, Limits(max_elements=10_000))


def test_header_count() -> None:
    root = parse_request(b"<h><a/><b/><c/></h>", SMALL)
    with pytest.raises(LimitExceededFault, match="header"):
        check_headers(root, SMALL)
    check_headers(None, SMALL)


@pytest.mark.parametrize(
    "data",
    [
        b'<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>',
        b'<?xml version="1.0"?>\n<!DOCTYPE a SYSTEM "http://127.0.0.1:9/x.dtd"><a/>',
        b"<!doctype a><a/>",
        "<?xml version='1.0' encoding='UTF-16'?><!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>".encode(
            "utf-16"
        ),
    ],
)
def test_dtds_are_refused(data: bytes) -> None:
    with pytest.raises((ForbiddenXmlFault, MalformedRequestFault)):
        parse_request(data)


def test_utf16_dtd_is_forbidden_not_just_malformed() -> None:
    data = "<?xml version='1.0' encoding='UTF-16'?><!DOCTYPE a><a/>".encode("utf-16")
    with pytest.raises(ForbiddenXmlFault):
        parse_request(data)


def test_xinclude_is_never_processed() -> None:
    root = parse_request(
        b'<a xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="/etc/passwd" '
        b'parse="text"/></a>'
    )
    assert "root:" not in (root.xpath("string()") or "")


@pytest.mark.parametrize("data", [b"", b"   ", b"not xml", b"<a>", b"<a></b>", b"\xff\xfe<a/>"])
def test_malformed(data: bytes) -> None:
    with pytest.raises(MalformedRequestFault):
        parse_request(data)
