"""Hypothesis strategies: valid envelopes, then structural and byte-level damage.

Structural mutations work on the parsed tree: drop, duplicate, reorder,
retype (new text), rename, re-namespace, add attributes, splice hostile
fragments. Byte mutations then truncate, flip, insert, prepend a DOCTYPE,
or re-encode the document.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import strategies as st
from lxml import etree

from service import ns
from tests.fuzz.harness import BASIC, MEDIA, SEEDS


def _xml_char(c: str) -> bool:
    o = ord(c)
    return o in (0x9, 0xA, 0xD) or 0x20 <= o <= 0xD7FF or 0xE000 <= o <= 0xFFFD or o >= 0x10000


TEXT = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)).filter(_xml_char), max_size=120),
    st.sampled_from(
        [
            "",
            " ",
            "-1",
            "151",
            "2147483648",
            "1e3",
            "NaN",
            "true",
            "@@@",
            "Zm9v",
            "0" * 300,
            "<a/>",
            "&amp;",
            "Mars/X",
            "UTC",
            "../../etc/passwd",
        ]
    ),
    st.integers(-(2**70), 2**70).map(str),
)
NAMES = st.sampled_from(
    [
        "name",
        "person",
        "age",
        "first_name",
        "Greet",
        "GetTime",
        "UploadImage",
        "content",
        "x",
        "Envelope",
        "Body",
        "Header",
        "Fault",
    ]
)
NAMESPACES = st.sampled_from([ns.TNS, ns.SOAP11_ENV, ns.SOAP12_ENV, "", "urn:other", ns.XSI])
ATTRIBUTES = st.sampled_from(
    [
        (f"{{{ns.XSI}}}nil", "true"),
        (f"{{{ns.XSI}}}type", "xs:string"),
        (f"{{{ns.SOAP11_ENV}}}mustUnderstand", "1"),
        (f"{{{ns.SOAP12_ENV}}}mustUnderstand", "true"),
        ("id", "x"),
        ("{urn:other}a", "b"),
    ]
)
FRAGMENTS = st.sampled_from(
    [
        "<d>" * 40 + "</d>" * 40,
        "<x/>" * 50,
        '<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-'
        'wssecurity-secext-1.0.xsd"><wsse:UsernameToken><wsse:Username>fuzzer</wsse:Username>'
        "<wsse:Password>nope</wsse:Password></wsse:UsernameToken></wsse:Security>",
        '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd"/>',
        "<t:Greet xmlns:t='urn:soap-service:v1'><t:name>B</t:name></t:Greet>",
        "<![CDATA[<not-markup>]]>",
    ]
)
DOCTYPES = [
    b'<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    b'<!DOCTYPE a [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>',
]


def _mutate_tree(draw: Any, root: etree._Element) -> None:
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    target = draw(st.sampled_from(elements))
    parent = target.getparent()
    kind = draw(
        st.sampled_from(
            ["drop", "duplicate", "reorder", "retype", "rename", "attribute", "splice", "clear"]
        )
    )
    if kind == "drop" and parent is not None:
        parent.remove(target)
    elif kind == "duplicate" and parent is not None:
        target.addnext(etree.fromstring(etree.tostring(target)))
    elif kind == "reorder" and len(target) > 1:
        children = list(target)
        random.Random(draw(st.integers(0, 2**16))).shuffle(children)
        for child in children:
            target.append(child)
    elif kind == "retype":
        target.text = draw(TEXT)
    elif kind == "rename":
        namespace = draw(NAMESPACES)
        local = draw(NAMES)
        target.tag = f"{{{namespace}}}{local}" if namespace else local
    elif kind == "attribute":
        key, value = draw(ATTRIBUTES)
        target.set(key, value)
    elif kind == "splice":
        fragment = draw(FRAGMENTS)
        if fragment.startswith("<![CDATA["):
            target.text = etree.CDATA(fragment[9:-3])
        else:
            wrapper = etree.fromstring(f"<w xmlns:t='{ns.TNS}'>{fragment}</w>")
            for child in list(wrapper):
                target.append(child)
    elif kind == "clear":
        target.clear()


def _mutate_bytes(draw: Any, data: bytes) -> bytes:
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "doctype", "utf16", "latin1"]))
    if kind == "truncate":
        return data[: draw(st.integers(0, len(data)))]
    if kind == "flip" and data:
        i = draw(st.integers(0, len(data) - 1))
        return data[:i] + bytes([data[i] ^ draw(st.integers(1, 255))]) + data[i + 1 :]
    if kind == "insert":
        i = draw(st.integers(0, len(data)))
        return data[:i] + draw(st.binary(max_size=16)) + data[i:]
    if kind == "doctype":
        return draw(st.sampled_from(DOCTYPES)) + data
    if kind == "utf16":
        return (
            b'<?xml version="1.0" encoding="UTF-16"?>'.decode().encode("utf-16")
            + data.decode("utf-8", "replace").encode("utf-16")[2:]
        )
    return b'<?xml version="1.0" encoding="ISO-8859-1"?>' + data


def _mime_split(body: bytes) -> tuple[bytes, bytes, bytes]:
    """An MTOM seed as (everything before the root XML, the root XML, everything after)."""
    start = body.index(b"\r\n\r\n") + 4
    end = body.index(b"\r\n--", start)
    return body[:start], body[start:end], body[end:]


MIME_DAMAGE = [
    (b"Content-ID: <image-1@tests>", b"Content-ID: <other@tests>"),
    (b"Content-ID: <image-1@tests>", b"Content-ID: <root.message@cxf.apache.org>"),
    (b"Content-Transfer-Encoding: binary", b"Content-Transfer-Encoding: base64"),
    (b"Content-Transfer-Encoding: binary", b"Content-Transfer-Encoding binary"),
    (b"application/xop+xml", b"text/plain"),
    (b"\r\n\r\n", b"\r\n"),
    (b"--\r\n", b"\r\n"),
    (b"cid:image-1@tests", b"cid:%69mage-1@tests"),
    (b"cid:image-1@tests", b"http://127.0.0.1/x"),
]


def _mutate_mime(draw: Any, data: bytes, content_type: str) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(["replace", "boundary", "start", "duplicate", "type"]))
    if kind == "replace":
        old, new = draw(st.sampled_from(MIME_DAMAGE))
        return data.replace(old, new, 1), content_type
    if kind == "boundary":
        return data, content_type.replace("boundary=", draw(st.sampled_from(["x=", "boundary=x"])))
    if kind == "start":
        return data, content_type.replace("start=", "start=<nobody> x=")
    if kind == "duplicate":
        first = data.index(b"--", 0)
        second = data.find(b"\r\n--", first + 2)
        return data[:second] + data[first - 2 if first >= 2 else 0 : second] + data[second:], (
            content_type
        )
    return data, content_type.replace("application/xop+xml", "text/xml", 1)


@st.composite
def fuzzed_requests(draw: Any) -> tuple[str, bytes, str, dict[str, str]]:
    """(path, body, content type, headers) derived from a valid request."""
    path, content_type, body = draw(st.sampled_from(SEEDS))
    mime = content_type.startswith("multipart/")
    head, xml, tail = _mime_split(body) if mime else (b"", body, b"")
    root = etree.fromstring(xml)
    for _ in range(draw(st.integers(0, 4))):
        _mutate_tree(draw, root)
    data = head + etree.tostring(root) + tail
    if mime and draw(st.booleans()):
        data, content_type = _mutate_mime(draw, data, content_type)
    if draw(st.booleans()) and draw(st.booleans()):
        data = _mutate_bytes(draw, data)
    if draw(st.integers(0, 9)) == 0:
        path = draw(st.sampled_from(sorted(MEDIA)))  # maybe the other port
    if draw(st.integers(0, 9)) == 0:
        content_type = draw(
            st.sampled_from(
                ["text/xml", "application/soap+xml", "application/json", "multipart/related", ""]
            )
        )
    headers: dict[str, str] = {}
    if draw(st.booleans()):
        headers["Authorization"] = draw(st.sampled_from([BASIC, "Basic !!", "Bearer x", "Basic "]))
    if draw(st.integers(0, 3)) == 0:
        headers["SOAPAction"] = draw(
            st.sampled_from(
                [
                    '"urn:soap-service:v1/Greet"',
                    '""',
                    '"*"',
                    "Nope",
                    '"urn:soap-service:v1/UploadImage"',
                ]
            )
        )
    return path, data, content_type, headers
