"""base64Binary fields: decoded once, by us, not by spyne.

spyne's ``ByteArray.from_base64`` joins the text character by character
(``''.join(text)``), a list of one-character strings over 100 MiB for a
10 MiB image. So the dispatcher takes each base64Binary field of the request
out of the tree before spyne reads it, as the value spyne would have made
(a one-chunk tuple); an MTOM part's bytes need no decoding at all.
``tests/test_soap_binary.py`` holds both to spyne's own value.

The shortcut for large fields: libxml2 takes ~60 ms to check the base64 of a
10 MiB image, longer than decoding it. Text that is exactly the canonical
base64 of its bytes (what every toolkit sends unless it folds lines) is in
base64Binary's lexical space, so the schema would accept it; and with no
facets on these fields, an empty element stands for it in the schema's eyes.
Anything else (folded lines, padding oddities, other characters) is left for
the schema to judge.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, Final

import pybase64
from lxml import etree
from spyne import ByteArray, ComplexModelBase

from service.contract import internals
from service.storage import Content

#: Below this, a base64Binary field is left to the schema as it is.
PREDECODE_MIN: Final = 4096
#: What xs:base64Binary's lexical space is made of: the alphabet, padding, and XML
#: whitespace (its whiteSpace facet is "collapse"). libxml2 checks the structure
#: (length, padding and the bits it leaves over) but skips any other character, and
#: base64.b64decode drops them: "QU!!!JD" was stored as "ABC", "!!!!" as nothing.
_LEXICAL: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= \t\r\n"


def lexical_problem(text: str) -> str | None:
    """Why ``text`` (which the schema accepted) is not in xs:base64Binary's lexical
    space after all, or None when it is."""
    if not text.isascii():
        return "is not valid base64 (it has non-ASCII characters)"
    if text.encode("ascii").translate(None, _LEXICAL):
        return (
            "is not valid base64 (it has characters outside the base64 alphabet;"
            " only whitespace may come between them)"
        )
    return None


def base64_fields(message: Any) -> frozenset[str]:
    """The names of a message's own base64Binary fields."""
    return frozenset(
        name for name, kind in internals.fields(message).items() if issubclass(kind, ByteArray)
    )


def binary_paths(cls: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths (field names) from a message type down to each of its base64Binary fields."""
    paths: list[tuple[str, ...]] = []
    for name, kind in internals.fields(cls).items():
        if issubclass(kind, ByteArray):
            paths.append((*prefix, name))
        elif issubclass(kind, ComplexModelBase) and len(prefix) < 8:
            paths += binary_paths(kind, (*prefix, name))
    return paths


def take_canonical_base64(
    wrapper: etree._Element, fields: frozenset[str]
) -> dict[etree._Element, bytes]:
    """Large base64Binary fields written in canonical base64, decoded and emptied."""
    decoded: dict[etree._Element, bytes] = {}
    for child in wrapper if fields else ():
        tag = child.tag
        if not isinstance(tag, str) or tag.rpartition("}")[2] not in fields or len(child):
            continue
        text = child.text
        if text is None or len(text) < PREDECODE_MIN or not text.isascii():
            continue
        try:  # pybase64: SIMD, ~50 times binascii's speed; the round trip is the check
            data = pybase64.b64decode(text, validate=True)
        except ValueError:  # binascii.Error included
            continue
        if not is_canonical(text, data):
            continue
        decoded[child] = data
        child.text = None
    return decoded


def restore(decoded: Mapping[etree._Element, bytes | Content]) -> None:
    """Puts back the text ``take_canonical_base64`` (or ``service.soap.spooled``) took,
    so a fault reads as it would have."""
    for child, data in decoded.items():
        if isinstance(data, bytes):
            child.text = base64.b64encode(data).decode("ascii")
        else:
            child.text = data.text()  # type: ignore[attr-defined]


def is_canonical(text: str, data: bytes, step: int = 3 << 20) -> bool:
    """Whether ``text`` is exactly the base64 of ``data`` (compared 4 MiB at a time)."""
    if len(text) != (len(data) + 2) // 3 * 4:
        return False
    view = memoryview(data)
    for start in range(0, len(data), step):
        chunk = pybase64.b64encode(view[start : start + step])
        at = start // 3 * 4
        if text[at : at + len(chunk)].encode("ascii") != chunk:
            return False
    return True


def take_binary(
    wrapper: etree._Element,
    fields: frozenset[str],
    raw: Mapping[etree._Element, memoryview | bytes | Content],
) -> dict[str, tuple[bytes] | Content]:
    """The values of ``wrapper``'s base64Binary ``fields``, as spyne's ByteArray gives them
    (a one-chunk tuple), each element emptied so spyne does not decode it again; a value
    left in the spool (``service.soap.spooled``) as that ``Content``."""
    decoded: dict[str, tuple[bytes] | Content] = {}
    for child in wrapper:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        if child in raw:
            value = raw[child]
            if isinstance(value, Content):
                decoded[name] = value
            elif len(value):  # an empty part is an empty element, as inline
                decoded[name] = (value if isinstance(value, bytes) else bytes(value),)
        elif name in fields and child.text:
            decoded[name] = (base64.b64decode(child.text),)
            child.text = None
    return decoded
