"""service.soap.validation: base64Binary fields hold base64 and nothing else (issue 16,
finding 10), on the large-base64 shortcut, on spyne's own path, and never for MTOM parts.

libxml2's xs:base64Binary check skips characters outside the alphabet, and
``base64.b64decode`` drops them: ``QUJD!!!`` was stored as ``ABC``, ``!!!!`` as nothing
("content is empty"). The lexical space allows whitespace and nothing else besides the
alphabet and padding.
"""

from __future__ import annotations

import base64

import pytest
from lxml import etree

from service import ns
from service.contract.operations import build_application
from service.contract.wsdl import render_wsdl, schema_element
from service.faults import ValidationFault
from service.imaging import TINY_PNG
from service.soap.binary import PREDECODE_MIN, take_binary
from service.soap.mtom import resolve_includes
from service.soap.validation import Validator

SCHEMA = schema_element(render_wsdl(build_application()))
FIELDS = frozenset({"content"})
LARGE = base64.b64encode(TINY_PNG + bytes(PREDECODE_MIN)).decode()
SMALL = base64.b64encode(TINY_PNG).decode()


def upload(content: str) -> etree._Element:
    return etree.fromstring(
        f'<t:UploadImage xmlns:t="{ns.TNS}" xmlns:xop="{ns.XOP}"><t:filename>a.png</t:filename>'
        f"<t:content>{content}</t:content></t:UploadImage>".encode()
    )


def validate(element: etree._Element, predecode: bool) -> dict[etree._Element, bytes]:
    return Validator(SCHEMA, predecode=predecode).validate(
        "UploadImage", element, FIELDS, frozenset({"content_type"})
    )


def _inserted(text: str, junk: str, at: int) -> str:
    return text[:at] + junk + text[at:]


FOREIGN = [
    _inserted(SMALL, "!!!", 8),
    _inserted(LARGE, "!!!", 8),
    _inserted(LARGE, "!!!", len(LARGE) - 4),
    "!!!!",
    "!!!!" * 2000,
    _inserted(SMALL, "-_", 4),  # the URL-safe alphabet is another alphabet
    _inserted(SMALL, ".", 12),
    _inserted(SMALL, "*%", 12),
    SMALL + "&#160;",  # no-break space: not XML whitespace either
    _inserted(LARGE, "é", 40),
]


@pytest.mark.parametrize("predecode", [True, False], ids=["shortcut", "spyne"])
@pytest.mark.parametrize("content", FOREIGN, ids=range(len(FOREIGN)))
def test_characters_outside_the_alphabet_are_a_validation_fault(
    content: str, predecode: bool
) -> None:
    with pytest.raises(ValidationFault) as caught:
        validate(upload(content), predecode)
    assert caught.value.field == "content"
    assert "not valid base64" in caught.value.reason


FOLDED = [
    SMALL,
    LARGE,
    "\n".join(LARGE[i : i + 76] for i in range(0, len(LARGE), 76)),
    "\r\n".join(SMALL[i : i + 4] for i in range(0, len(SMALL), 4)),
    " \t" + " ".join(SMALL) + "\n",
    "",
]


@pytest.mark.parametrize("predecode", [True, False], ids=["shortcut", "spyne"])
@pytest.mark.parametrize("content", FOLDED, ids=range(len(FOLDED)))
def test_base64_with_whitespace_anywhere_is_taken(content: str, predecode: bool) -> None:
    element = upload(content)
    decoded = validate(element, predecode)
    value = decoded.get(element[1]) or take_binary(element, FIELDS, {}).get("content", (b"",))[0]
    assert value == base64.b64decode("".join(content.split()))


def test_an_mtom_part_is_bytes_and_never_read_as_base64() -> None:
    part = b"!!!!" + TINY_PNG + "é".encode()
    element = upload('<xop:Include href="cid:p@t"/>')
    raw = resolve_includes(
        element, {"p@t": memoryview(part)}, 1 << 30, lambda e: e.getparent() is element
    )
    validate(element, True)
    assert take_binary(element, FIELDS, raw) == {"content": (part,)}
