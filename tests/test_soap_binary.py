"""The dispatcher's own base64Binary decoding against spyne's, in process.

The dispatcher decodes base64Binary fields itself (spyne's decoder joins the
text one character at a time) and gives MTOM parts to the operation as bytes;
these properties hold it to the value spyne's own path produces.
"""

from __future__ import annotations

import base64

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from service import ns
from service.contract.internals import Engine
from service.contract.operations import build_application
from service.soap.binary import take_binary
from service.soap.mtom import resolve_includes

APP = build_application()
UPLOAD = APP.interface.service_method_map[f"{{{ns.TNS}}}UploadImage"][0].in_message


def spyne_value(xml: bytes) -> object:
    ctx = Engine(APP).context()
    return APP.in_protocol.from_element(ctx, UPLOAD, etree.fromstring(xml)).content


def ours(xml: bytes, raw: bool = False, part: bytes = b"") -> object:
    wrapper = etree.fromstring(xml)
    taken = {}
    if raw:
        taken = resolve_includes(
            wrapper, {"p@t": memoryview(part)}, 1 << 30, lambda e: e.getparent() is wrapper
        )
    decoded = take_binary(wrapper, frozenset({"content"}), taken)
    ctx = Engine(APP).context()
    value = APP.in_protocol.from_element(ctx, UPLOAD, wrapper)
    for name, content in decoded.items():
        setattr(value, name, content)
    return value.content


def upload(content: str) -> bytes:
    return (
        f'<t:UploadImage xmlns:t="{ns.TNS}" xmlns:xop="{ns.XOP}"><t:filename>a.png</t:filename>'
        f"<t:content>{content}</t:content></t:UploadImage>"
    ).encode()


@settings(max_examples=300, deadline=None)
@given(
    data=st.binary(max_size=4096),
    wrap=st.sampled_from([0, 4, 64, 76]),
    separator=st.sampled_from(["\n", "\r\n", " ", "\t"]),
)
def test_inline_base64_decodes_to_spynes_value(data: bytes, wrap: int, separator: str) -> None:
    text = base64.b64encode(data).decode()
    if wrap:
        text = separator.join(text[i : i + wrap] for i in range(0, len(text), wrap))
    xml = upload(text)
    expected = spyne_value(xml)
    assert ours(xml) == expected
    assert expected == ((data,) if data else None)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=4096))
def test_an_mtom_part_is_the_value_inline_base64_gives(data: bytes) -> None:
    inline = upload(base64.b64encode(data).decode())
    via_xop = upload('<xop:Include href="cid:p@t"/>')
    assert ours(via_xop, raw=True, part=data) == spyne_value(inline)


def test_an_empty_element_is_left_to_spyne() -> None:
    xml = upload("")
    assert ours(xml) == spyne_value(xml)
