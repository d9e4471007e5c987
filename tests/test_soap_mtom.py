"""service.soap.mtom in process: media types, the MIME splitter, packing and reading back."""

from __future__ import annotations

import base64

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from lxml import etree

from service.faults import MalformedMimeFault
from service.soap.envelope import SoapVersion, new_envelope
from service.soap.mtom import accepts_mtom, pack, parse_media_type, split, unpack
from tests.mtom_messages import message, read_reply, upload_envelope


def test_media_type_parameters_with_quotes_and_semicolons() -> None:
    kind, params = parse_media_type(
        'Multipart/Related; type="application/xop+xml"; boundary="uuid:1;2";'
        ' start-info="application/soap+xml; action=\\"urn:a\\""; START="<r@x>"'
    )
    assert kind == "multipart/related"
    assert params == {
        "type": "application/xop+xml",
        "boundary": "uuid:1;2",
        "start-info": 'application/soap+xml; action="urn:a"',
        "start": "<r@x>",
    }


@pytest.mark.parametrize(
    ("accept", "wanted"),
    [
        ("multipart/related,application/xop+xml,*/*;q=0.8", True),
        ("Multipart/Related", True),
        ("multipart/related;q=0", False),
        ("multipart/related;q=x", False),
        ("*/*", False),
        ("", False),
        ("text/xml, multipart/*", False),
        # issue 15: only a clear ask for XOP gets MTOM
        ("application/soap+xml, application/dime, multipart/related, text/*", False),  # Axis 1.4
        ("text/xml, multipart/related", False),
        ("multipart/related, */*", False),
        ("application/soap+xml;q=0.9, multipart/related;q=0.9", False),
        ("text/xml;q=0.5, multipart/related", True),
        ("multipart/related;q=0.8, text/*;q=0.7, */*;q=0.1", True),
        ("multipart/related, text/plain", True),
        ("application/xop+xml", True),
        ("text/xml, application/xop+xml;q=0.1", True),
        ("application/xop+xml;q=0, text/xml", False),
        ("multipart/related;q=2, text/xml;q=0.5", False),
    ],
)
def test_accept_names_multipart_related(accept: str, wanted: bool) -> None:
    assert accepts_mtom(accept) is wanted


boundaries = st.text(
    alphabet="0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=?",
    min_size=1,
    max_size=70,
)


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(st.binary(max_size=2000), min_size=1, max_size=5), boundary=boundaries)
def test_split_returns_each_part_exactly(parts: list[bytes], boundary: str) -> None:
    assume(all(f"--{boundary}".encode() not in p for p in parts))
    body = b"preamble\r\n"
    for number, part in enumerate(parts):
        body += f"--{boundary}\r\nContent-ID: <{number}@t>\r\n\r\n".encode() + part + b"\r\n"
    body += f"--{boundary}--\r\nepilogue".encode()
    got = split(body, boundary.encode())
    assert [bytes(p.body) for p in got] == parts
    assert [p.content_id for p in got] == [f"{n}@t" for n in range(len(parts))]


@settings(max_examples=100, deadline=None)
@given(data=st.binary(min_size=1, max_size=5000))
def test_pack_is_read_back_by_the_standard_library(data: bytes) -> None:
    envelope, body = new_envelope(SoapVersion.SOAP12)
    content = etree.SubElement(etree.SubElement(body, "{urn:x}R"), "{urn:x}content")
    content.text = base64.b64encode(data).decode()
    packed = pack(envelope, [content], "application/soap+xml")
    reply = read_reply(packed.content_type, b"".join(packed.chunks))
    found = reply.root.find(".//{urn:x}content")
    assert found is not None and reply.content(found) == data


def test_unpack_finds_the_root_and_the_action() -> None:
    sent = message(
        "1.2", upload_envelope("1.2"), [("image-1@tests", b"\x00\r\n--")], action="urn:a"
    )
    kind, params = parse_media_type(sent.content_type)
    package = unpack(sent.body, params, "application/soap+xml")
    assert package.root == upload_envelope("1.2") and package.action == "urn:a"
    assert bytes(package.attachments["image-1@tests"]) == b"\x00\r\n--"


def test_a_lone_delimiter_is_not_a_message() -> None:
    with pytest.raises(MalformedMimeFault):
        split(b"--b\r\n", b"b")
