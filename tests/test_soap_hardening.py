"""service.soap.hardening alone: the parser and the shape limits, no server."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from service.faults import (
    ForbiddenXmlFault,
    LimitExceededFault,
    MalformedRequestFault,
    ServiceFault,
)
from service.soap.hardening import (
    Limits,
    _describe,
    _over,
    _parser,
    check_headers,
    check_shape,
    parse_request,
)

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


@pytest.mark.parametrize("codec", ["utf-16", "utf-32", "utf-16-le", "utf-8"])
def test_a_named_file_is_never_read_and_its_existence_never_told(
    codec: str, tmp_path: Path
) -> None:
    """Issue 16, finding 3: in UTF-16 a DOCTYPE got past the byte scan and libxml2 loaded
    the external subset it named (lxml's collect_ids=False sets loadsubset), so a file
    that exists gave another fault than one that does not. The FIFO variant, live:
    tests/test_soap_hardening_live.py."""
    existing = tmp_path / "there.dtd"
    existing.write_text("not a DTD\n")
    declaration = f"<?xml version='1.0' encoding='{codec.upper()}'?>"
    faults = set()
    for path in (existing, tmp_path / "missing.dtd", "/etc/passwd", "http://127.0.0.1:9/x"):
        for doctype in (
            f"<!DOCTYPE a SYSTEM '{path}'>",
            f"<!DOCTYPE a [<!ENTITY % p SYSTEM '{path}'> %p;]>",
        ):
            with pytest.raises(ServiceFault) as caught:
                parse_request((declaration + doctype + "<a/>").encode(codec))
            faults.add((type(caught.value), str(caught.value)))
    assert faults == {
        (ForbiddenXmlFault, "Client.ForbiddenXml: DTDs and entity declarations are not accepted.")
    }


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


def test_utf7_cannot_hide_markup_from_the_byte_counts() -> None:
    """UTF-7 spells "<" and "=" as "+ADw-" and "+AD0-": no byte count bounds its shape."""
    deep = "<a>" + "<b>" * 6 + "</b>" * 6 + "</a>"
    spelled = deep.replace("<", "+ADw-").replace(">", "+AD4-").encode()
    data = b'<?xml version="1.0" encoding="UTF-7"?>' + spelled
    with pytest.raises(LimitExceededFault, match="nesting depth"):
        parse_request(data, SMALL)
    attributes = " ".join(f"a{i}+AD0-'1'" for i in range(3))
    data = b'<?xml version="1.0" encoding="UTF-7"?><a ' + attributes.encode() + b"/>"
    with pytest.raises(LimitExceededFault, match="attributes"):
        parse_request(data, SMALL)


@pytest.mark.parametrize("kind", ["attributes", "namespace declarations"])
def test_attributes_in_all_are_counted_before_anything_is_built(kind: str) -> None:
    """Issue 16, finding 1's property: 480,000 attributes on one element made a worker
    126 MiB bigger before any check could count them (libxml2 builds them all); their
    number in the whole document is bounded by its "=" first, in every encoding."""
    limits = Limits(max_elements=100)
    name = "a{}" if kind == "attributes" else "xmlns:p{}"
    many = " ".join(f"{name.format(i)}='urn:{i}'" for i in range(101))
    text = f"<r {many}/>"
    utf7 = base64.b64encode(text.encode("utf-16-be")).decode().rstrip("=")
    for data in (
        text.encode(),
        text.encode("utf-16"),
        f"<?xml version='1.0' encoding='UTF-32'?>{text}".encode("utf-32"),
        b'<?xml version="1.0" encoding="UTF-7"?>+' + utf7.encode() + b"-",
    ):
        with pytest.raises(LimitExceededFault, match="namespace declarations in all"):
            parse_request(data, limits)
    spread = "".join("<e " + " ".join(f"a{i}='{j}'" for i in range(25)) + "/>" for j in range(4))
    parse_request(f"<r>{spread}</r>".encode(), limits)  # 100 in all, 25 on each: fine


# --- parse_request against the plain way it was first written ---

_ROOT_START = re.compile(rb"<[A-Za-z_]")
_PROLOG_DTD = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)


def _parsed_the_plain_way(data: bytes, limits: Limits) -> etree._Element:
    """parse_request before its byte counts: the prolog cut out and searched, every
    small document's elements walked for their attribute counts."""
    if not data.strip():
        raise MalformedRequestFault("The request body is empty; send a SOAP envelope.")
    root_start = _ROOT_START.search(data)
    prolog = data[: root_start.start()] if root_start else data
    if _PROLOG_DTD.search(prolog):
        raise ForbiddenXmlFault("DTDs and entity declarations are not accepted.")
    tags = data.count(b"<")
    if tags > 2 * limits.max_elements + 8:
        raise _over("elements", limits.max_elements)
    if data.count(b"=") > limits.max_elements:  # no encoding here is UTF-7
        raise _over("attributes and namespace declarations in all", limits.max_elements)
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as error:
        if "Excessive depth" in str(error):
            raise _over("nesting depth", limits.max_depth) from None
        raise MalformedRequestFault(
            f"The request is not well-formed XML: {_describe(error)}"
        ) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise ForbiddenXmlFault("DTDs and entity declarations are not accepted.")
    if tags <= limits.max_depth and len(data) <= min(
        limits.max_attribute_length, limits.max_text_length
    ):
        for element in root.iter():
            if len(element.attrib) > limits.max_attributes:
                raise _over("attributes on one element", limits.max_attributes)
    else:
        check_shape(root, limits, texts=len(data) > limits.max_text_length)
    return root


LIMITS = st.builds(
    Limits,
    max_depth=st.integers(1, 12),
    max_elements=st.integers(1, 40),
    max_attributes=st.integers(0, 6),
    max_attribute_length=st.integers(1, 2000),
    max_text_length=st.integers(1, 2000),
)
NAMES = st.sampled_from(["a", "b", "t:c", "d"])


@st.composite
def _elements(draw: st.DrawFn, depth: int = 0) -> str:
    name = draw(NAMES) if depth else "r"
    attributes = "".join(
        f' {key}="{value}"'
        for key, value in draw(
            st.dictionaries(
                st.sampled_from(["x", "y", "z", "w", "v", "t:u"]),
                st.text(st.sampled_from("a=é<&"), max_size=12).map(
                    lambda v: v.replace("&", "&amp;").replace("<", "&lt;")
                ),
                max_size=6,
            )
        ).items()
    )
    text = draw(st.text(st.sampled_from("ab =é\n"), max_size=30))
    wide = 2 if depth < 3 else 1 if depth < 8 else 0
    children = draw(st.lists(_elements(depth + 1), max_size=wide))
    if not depth:
        attributes += ' xmlns:t="urn:t"'
    return f"<{name}{attributes}>{text}{''.join(children)}</{name}>"


PROLOGS = st.sampled_from(
    [
        "",
        "<?xml version='1.0'?>",
        "<?xml version='1.0' encoding='utf-8'?>\n",
        "<!-- c --><?pi x?>",
        "<!DOCTYPE a>",
        "<!doctype a [<!ENTITY e 'x'>]>",
        "<?xml version='1.0'?><!-- <!ENTITY in a comment -->",
    ]
)


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    body = draw(_elements())
    text = draw(PROLOGS) + body
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "iso-8859-1", "utf-8-sig"]))
    if encoding in ("utf-16", "iso-8859-1") and not text.startswith("<?xml"):
        text = f"<?xml version='1.0' encoding='{encoding}'?>" + text
    data = text.encode(encoding, errors="replace")
    damage = draw(st.sampled_from(["none"] * 6 + ["cut", "junk"]))
    if damage == "cut":
        data = data[: draw(st.integers(0, len(data)))]
    elif damage == "junk":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b"<", b"=", b"&", b"\xff", b" "])) + data[at:]
    return data


def _outcome(parse: Callable[[bytes, Limits], etree._Element], data: bytes, limits: Limits) -> Any:
    try:
        return etree.tostring(parse(data, limits))
    except ServiceFault as fault:
        return type(fault), str(fault)


@settings(max_examples=1000, deadline=None)
@given(data=documents(), limits=LIMITS)
def test_parse_request_refuses_what_the_plain_way_refuses(data: bytes, limits: Limits) -> None:
    assert _outcome(parse_request, data, limits) == _outcome(_parsed_the_plain_way, data, limits)
