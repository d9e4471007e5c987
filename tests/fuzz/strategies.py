"""Hypothesis strategies: valid requests, then structural, byte-level and header damage.

Envelopes: structural mutations work on the parsed tree: drop, duplicate, reorder,
retype (new text), rename, re-namespace, add attributes, splice hostile fragments;
byte mutations then truncate, flip, insert, prepend a DOCTYPE, or re-encode the
document; MTOM packages get their MIME parts damaged.

The other routes (``/http/<Op>``, ``/images/{id}``, the pages): query strings, form
and JSON bodies are mutated (values, names, duplicates, nesting, types, bytes), and
the method, the path and any header may change. Every request may carry hostile
headers: ranges, conditionals, Accept, forwarding, credentials, SOAPAction.
"""

from __future__ import annotations

import json
import random
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st
from lxml import etree

from service import ns
from tests.fuzz.harness import BASIC, HTTP_SEEDS, MEDIA, SEEDS


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


_XMLRPC_TAGS = st.sampled_from(
    "methodCall methodName params param value int i4 i8 string base64 boolean double"
    " dateTime.iso8601 struct member name array data nil".split()
)


def _mutate_xmlrpc(draw: Any, body: bytes) -> bytes:
    try:
        root = etree.fromstring(body)
    except etree.XMLSyntaxError:  # an earlier mutation broke it already
        return _mutate_bytes(draw, body)
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    for _ in range(draw(st.integers(0, 2))):  # XML-RPC's own names in the wrong places
        draw(st.sampled_from(elements)).tag = draw(_XMLRPC_TAGS)
    if draw(st.booleans()):
        _mutate_tree(draw, root)
    data = etree.tostring(root)
    return _mutate_bytes(draw, data) if draw(st.booleans()) else data


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
        headers.update(draw(HEADERS))
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


HEADER_VALUES = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "bytes=0-0",
            "bytes=-1",
            "bytes=5-",
            "bytes=5-1",
            "bytes=0-1,2-3",
            "bytes=" + "9" * 5000 + "-",
            "bytes=-" + "9" * 40,
            "items=0-1",
            "bytes=--1",
            '"x"',
            "*",
            'W/"x", "y"',
            "application/xop+xml",
            "multipart/related;q=1, text/xml;q=0.1",
            "*/*;q=abc",
            "application/json;q=2",
            "text/html",
            "192.0.2.1, 10.0.0.1",
            "for=unknown;proto=gopher",
            "for=[::1]:x",
            "::ffff:999.1.1.1",
            BASIC,
            "Basic " + "A" * 3000,
            "Digest username=x",
            '"urn:soap-service:v1/UploadImage"',
            "1" * 100,
            "\t",
            "ÿ" * 10,
        ]
    ),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=80),
)
HEADER_NAMES = st.sampled_from(
    [
        "Range",
        "If-Range",
        "If-None-Match",
        "If-Modified-Since",
        "Accept",
        "Accept-Encoding",
        "Accept-Charset",
        "X-Forwarded-For",
        "X-Forwarded-Proto",
        "X-Forwarded-Host",
        "Forwarded",
        "X-Request-Id",
        "Authorization",
        "SOAPAction",
        "Cookie",
        "Transfer-Encoding",
        "Expect",
        "Host",
        "User-Agent",
        "X-Api-Auth",
        "MIME-Version",
    ]
)
HEADERS = st.dictionaries(HEADER_NAMES, HEADER_VALUES, min_size=1, max_size=4)
JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        TEXT,
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(NAMES, children, max_size=4)
    ),
    max_leaves=12,
)
QUERY_NAMES = st.one_of(
    NAMES,
    st.sampled_from(["format", "page_size", "page_token", "image_id", "person.age", "wsdl", ""]),
)


def _mutate_pairs(draw: Any, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    kind = draw(st.sampled_from(["value", "add", "drop", "duplicate", "rename"]))
    if kind == "add" or not pairs:
        return [*pairs, (draw(QUERY_NAMES), draw(TEXT))]
    i = draw(st.integers(0, len(pairs) - 1))
    name, value = pairs[i]
    if kind == "value":
        pairs[i] = (name, draw(TEXT))
    elif kind == "drop":
        del pairs[i]
    elif kind == "duplicate":
        pairs.insert(i, (name, draw(TEXT)))
    else:
        pairs[i] = (draw(QUERY_NAMES), value)
    return pairs


def _encode_pairs(draw: Any, pairs: list[tuple[str, str]]) -> str:
    if draw(st.integers(0, 4)) == 0:  # raw, as a hostile client would send it
        return "&".join(f"{n}={v}" for n, v in pairs) + draw(
            st.sampled_from(["", "%", "%zz", "%00", "&&", "=", "%ff%fe"])
        )
    return "&".join(f"{quote(n)}={quote(v)}" for n, v in pairs)


def _split(text: str) -> list[tuple[str, str]]:
    return [tuple(p.split("=", 1)) if "=" in p else (p, "") for p in text.split("&") if p]  # type: ignore[misc]


def _mutate_json(draw: Any, body: bytes) -> bytes:
    kind = draw(st.sampled_from(["value", "replace", "nest", "bytes"]))
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # damaged or deepened by an earlier mutation
        return _mutate_bytes(draw, body)
    if kind == "value" and isinstance(document, dict) and document:
        key = draw(st.sampled_from(sorted(document)))
        document[key] = draw(JSON_VALUES)
    elif kind == "replace":
        document = draw(JSON_VALUES)
    elif kind == "nest":
        depth = draw(st.sampled_from([10, 200, 5000]))
        return (b'{"person": ' + b"[" * depth + b"1" + b"]" * depth + b"}")[
            : draw(st.sampled_from([None, 50]))
        ]
    else:
        return _mutate_bytes(draw, body)
    return json.dumps(document).encode()


PATHS = st.sampled_from(
    [
        "/http/Greet",
        "/http/Nope",
        "/xmlrpc",
        "/xmlrpc/",
        "/XMLRPC",
        "/http/",
        "/http/greet",
        "/http/Greet/extra",
        "/images/",
        "/images/../../etc/passwd",
        "/images/" + "a" * 65,
        "/images/%2e%2e",
        "/images/ÿ",
        "/soap/",
        "/soap12?x",
        "/",
        "/readyz",
        "/metrics/",
        "/soapui-project.xml",
        "//http//Greet",
    ]
)
METHODS = st.sampled_from(["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"])


@st.composite
def fuzzed_http_requests(
    draw: Any, image_id: str
) -> tuple[str, str, str, str, bytes, dict[str, str]]:
    """(method, path, query, content type, body, headers) derived from a valid request to
    /http, /images or a page."""
    seed = draw(st.sampled_from(HTTP_SEEDS))
    method, path, query, content_type, body, headers = seed.request(image_id)
    for _ in range(draw(st.integers(0, 3))):
        target = draw(st.sampled_from(["query", "body", "headers", "method", "path", "type"]))
        if target == "query":
            query = _encode_pairs(draw, _mutate_pairs(draw, _split(query)))
        elif target == "body" and content_type == "application/json" and body:
            body = _mutate_json(draw, body)
        elif target == "body" and content_type == "text/xml" and body:  # an XML-RPC call
            body = _mutate_xmlrpc(draw, body)
        elif target == "body" and body:
            text = body.decode("latin-1")
            body = _encode_pairs(draw, _mutate_pairs(draw, _split(text))).encode(
                "latin-1", "replace"
            )
        elif target == "body":
            body = draw(st.binary(max_size=64))
        elif target == "headers":
            headers.update(draw(HEADERS))
        elif target == "method":
            method = draw(METHODS)
        elif target == "path":
            path = draw(PATHS)
        else:
            content_type = draw(
                st.sampled_from(
                    [
                        "",
                        "application/json",
                        "application/json; charset=latin-1",
                        "application/x-www-form-urlencoded",
                        "multipart/form-data; boundary=x",
                        "text/xml",
                        "application/xml",
                        "text/plain",
                        ";;;",
                    ]
                )
            )
    return method, path, query, content_type, body, headers
