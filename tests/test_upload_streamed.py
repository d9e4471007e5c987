"""UploadImage read from the spool (issue 17) gives the whole-document path's answers.

Two applications in process, each on a store of its own: one leaves a large base64
text in the spooled body and decodes it a piece at a time (``service.soap.spooled``,
``stream_threshold`` low enough for every body here), the other parses every body
whole (``stream_threshold=0``), as every request was read before. Generated uploads,
valid and invalid (damaged, folded or non-canonical base64, fields out of order, extra
or repeated fields, a field in another namespace, oversize, not an image, a corrupt
image, each SOAP version), get the same status, headers and body from both (the
receipt's id and time, which no two uploads share, compared as placeholders). On
SQLite and on PostgreSQL. And the path is really taken: a canonical upload in place
is decoded from the spool, never put in the tree.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from service import ns
from service.app import SoapApplication
from service.config import Settings
from service.soap import spooled
from tests.images import make_image, make_noise_png
from tests.mtom_messages import message
from tests.pg import fresh_database
from tests.wssec import make_identity, sign

PASSWORD = "a long password for tests"
PATHS = {"1.1": ("/soap", "text/xml; charset=utf-8"), "1.2": ("/soap12", "application/soap+xml")}
LIMIT = 150_000
_BOUNDARY = re.compile(rb"uuid:[0-9a-f-]{36}")
_RANDOM = re.compile(rb"[0-9a-f]{32}|\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d)")

PNG = make_noise_png(9_000)
IMAGES = {
    "png": PNG,
    "large_png": make_noise_png(LIMIT + 5_000),
    "jpeg": make_image("JPEG", (120, 90)) + bytes(4000),
    "gif": make_image("GIF", (60, 40)) + bytes(6000),
    "bmp": make_image("BMP", (40, 40)),
    "random": bytes(range(256)) * 30,
    "corrupt_png": PNG[:5000] + bytes([PNG[5000] ^ 1]) + PNG[5001:],
    "truncated_png": PNG[:-20],
}


def _apps(settings: Settings) -> Iterator[SoapApplication]:
    with SoapApplication(settings) as app:
        app.users.add("tester", PASSWORD)
        yield app


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def apps(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SoapApplication, SoapApplication]]:
    """(spooled, whole) applications, each on its own store."""
    made: list[SoapApplication] = []
    contexts = []
    for threshold in (1, 0):
        data_dir: Path = tmp_path_factory.mktemp(f"upload-{request.param}-{threshold}")
        dsn = ""
        if request.param == "postgres":
            context = fresh_database()
            dsn = context.__enter__()
            contexts.append(context)
        settings = Settings(
            data_dir=data_dir, database_url=dsn, stream_threshold=threshold, max_image_bytes=LIMIT
        )
        generator = _apps(settings)
        made.append(next(generator))
        contexts.append(generator)  # type: ignore[arg-type]
    yield made[0], made[1]
    for context in reversed(contexts):
        if hasattr(context, "__exit__"):
            context.__exit__(None, None, None)
        else:
            next(context, None)  # type: ignore[call-overload]


def _call(
    app: SoapApplication, version: str, body: bytes, content_type: str = ""
) -> tuple[int, list[tuple[str, str]], bytes]:
    path, plain = PATHS[version]
    content_type = content_type or plain
    credentials = base64.b64encode(f"tester:{PASSWORD}".encode()).decode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "HTTP_AUTHORIZATION": f"Basic {credentials}",
        "HTTP_X_REQUEST_ID": "same-id",
    }
    answer, headers = app.handle(environ)
    data = _BOUNDARY.sub(b"B", b"".join(answer.body))
    headers = [(k, _BOUNDARY.sub(b"B", v.encode()).decode()) for k, v in headers]
    headers = [(k, v) for k, v in headers if k != "Content-Length"]
    return answer.status, headers, _RANDOM.sub(b"R", data)


def _base64(data: bytes, spelling: str) -> str:
    text = base64.b64encode(data).decode()
    if spelling == "folded":
        return "\n".join(text[i : i + 76] for i in range(0, len(text), 76))
    if spelling == "spaced":
        return f"  {text}\n"
    if spelling == "damaged":
        middle = len(text) // 2
        return text[:middle] + "!" + text[middle + 1 :]
    if spelling == "unpadded":
        return text.rstrip("=") or text
    if spelling == "inner_padding":
        return text[:100] + "====" + text[100:]
    if spelling == "noncanonical":  # the leftover bits of the last group not zero
        if text.endswith("=="):
            return text[:-3] + ("B" if text[-3] == "A" else "A") + "=="
        if text.endswith("="):
            return text[:-2] + ("B" if text[-2] == "A" else "A") + "="
        return text[:-1] + "!"
    if spelling == "cdata":
        return f"<![CDATA[{text}]]>"
    return text


def _envelope(version: str, fields: str) -> bytes:
    env = ns.SOAP11_ENV if version == "1.1" else ns.SOAP12_ENV
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{env}"'
        f' xmlns:t="{ns.TNS}"><soap:Body><t:UploadImage>{fields}</t:UploadImage>'
        "</soap:Body></soap:Envelope>"
    ).encode()


SHAPES = {
    "plain": "<t:filename>a.png</t:filename><t:content>{c}</t:content>",
    "typed": "<t:filename>a.png</t:filename><t:content>{c}</t:content>"
    "<t:content_type>image/png</t:content_type>",
    "order": "<t:content>{c}</t:content><t:filename>a.png</t:filename>",
    "extra": "<t:filename>a.png</t:filename><t:content>{c}</t:content><t:extra>x</t:extra>",
    "twice": "<t:filename>a.png</t:filename><t:content>{c}</t:content><t:content>{c}</t:content>",
    "other_ns": '<t:filename>a.png</t:filename><o:content xmlns:o="urn:other">{c}</o:content>',
    "blank_name": "<t:filename> </t:filename><t:content>{c}</t:content>",
    "no_name": "<t:content>{c}</t:content>",
    "child": "<t:filename>a.png</t:filename><t:content>{c}<t:x/></t:content>",
    "in_filename": "<t:filename>{c}</t:filename><t:content>QUJD</t:content>",
    "comment": "<t:filename>a.png</t:filename><t:content><!--{c}--></t:content>",
}


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.sampled_from(sorted(IMAGES)),
    st.sampled_from(
        ["canonical"] * 4
        + ["folded", "spaced", "damaged", "unpadded", "inner_padding", "noncanonical", "cdata"]
    ),
    st.sampled_from(sorted(SHAPES)),
    st.sampled_from(["1.1", "1.2"]),
)
def test_spooled_and_whole_give_the_same_answer(
    apps: tuple[SoapApplication, SoapApplication],
    image: str,
    spelling: str,
    shape: str,
    version: str,
) -> None:
    streaming, whole = apps
    body = _envelope(version, SHAPES[shape].format(c=_base64(IMAGES[image], spelling)))
    assert _call(streaming, version, body) == _call(whole, version, body)


def _count_reads(
    monkeypatch: pytest.MonkeyPatch, kind: type[spooled.SpooledBase64 | spooled.SpooledPart]
) -> list[int]:
    """The sizes of the ``kind`` contents read a piece at a time, as they are read."""
    taken: list[int] = []
    pieces = kind.pieces

    def counted(self: Any, size: int = spooled.SCAN) -> Iterator[bytes]:
        taken.append(self.size)
        return pieces(self, size)

    monkeypatch.setattr(kind, "pieces", counted)
    return taken


def test_a_canonical_upload_is_decoded_from_the_spool(
    apps: tuple[SoapApplication, SoapApplication], monkeypatch: pytest.MonkeyPatch
) -> None:
    streaming, whole = apps
    taken = _count_reads(monkeypatch, spooled.SpooledBase64)
    data = make_noise_png(30_000)
    for version in PATHS:
        body = _envelope(version, SHAPES["typed"].format(c=_base64(data, "canonical")))
        assert _call(streaming, version, body) == _call(whole, version, body)
    # inspected and stored, per version (the second upload is deduplicated after its check)
    assert taken and set(taken) == {len(data)}
    taken.clear()
    body = _envelope("1.1", SHAPES["plain"].format(c=_base64(data, "folded")))
    _call(streaming, "1.1", body)
    assert taken == []  # folded base64 is the schema's: parsed whole


# --- MTOM: the largest part left in the spool ---

MTOM_IMAGES = {
    "png": make_noise_png(100_000),
    "large_png": make_noise_png(LIMIT + 5_000),
    "bmp": make_image("BMP", (200, 200)),
    "random": bytes(range(256)) * 400,
    "corrupt_png": (lambda d: d[:50_000] + bytes([d[50_000] ^ 1]) + d[50_001:])(
        make_noise_png(100_000)
    ),
    "truncated_png": make_noise_png(100_000)[:-20],
}
INCLUDE = '<xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:{cid}"/>'
MTOM_SHAPES = {
    "raw": "<t:filename>a.png</t:filename><t:content>{inc}</t:content>",
    "typed": "<t:filename>a.png</t:filename><t:content>{inc}</t:content>"
    "<t:content_type>image/png</t:content_type>",
    "order": "<t:content>{inc}</t:content><t:filename>a.png</t:filename>",
    "extra": "<t:filename>a.png</t:filename><t:content>{inc}</t:content><t:extra>x</t:extra>",
    "as_text": "<t:filename>{inc}</t:filename><t:content>QUJD</t:content>",
    "unreferenced": "<t:filename>a.png</t:filename><t:content>QUJD</t:content>",
    "twice": "<t:filename>a.png</t:filename><t:content>{inc}</t:content><t:content>{inc}</t:content>",
    "missing": "<t:filename>a.png</t:filename><t:content>{missing}</t:content>",
    "not_alone": "<t:filename>a.png</t:filename><t:content>x{inc}</t:content>",
}
DAMAGE = ["none"] * 4 + ["base64_encoding", "no_close", "text_after", "duplicate_id", "two_large"]


def _mtom(version: str, shape: str, data: bytes, damage: str) -> tuple[bytes, str]:
    fields = MTOM_SHAPES[shape].format(
        inc=INCLUDE.format(cid="img@tests"), missing=INCLUDE.format(cid="nope@tests")
    )
    env = ns.SOAP11_ENV if version == "1.1" else ns.SOAP12_ENV
    root = (
        f'<soap:Envelope xmlns:soap="{env}" xmlns:t="{ns.TNS}"><soap:Body>'
        f"<t:UploadImage>{fields}</t:UploadImage></soap:Body></soap:Envelope>"
    ).encode()
    parts = [("img@tests", data)]
    if damage == "duplicate_id":
        parts.append(("img@tests", b"other"))
    if damage == "two_large":
        parts.append(("more@tests", data[::-1]))
    made = message(version, root, parts)
    body = made.body
    if damage == "base64_encoding":
        head = b"Content-Transfer-Encoding: binary\r\nContent-ID: <img@tests>"
        body = body.replace(head, head.replace(b"binary", b"base64"))
    elif damage == "no_close":
        body = body[: body.rindex(b"\r\n--")]
    elif damage == "text_after":
        at = body.rindex(b"\r\n--")
        body = body[:at] + b"\r\n--" + body[at + 4 :].replace(b"--\r\n", b" junk\r\n", 1)
    return body, made.content_type


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.sampled_from(sorted(MTOM_IMAGES)),
    st.sampled_from(sorted(MTOM_SHAPES)),
    st.sampled_from(DAMAGE),
    st.sampled_from(["1.1", "1.2"]),
)
def test_mtom_spooled_and_whole_give_the_same_answer(
    apps: tuple[SoapApplication, SoapApplication],
    image: str,
    shape: str,
    damage: str,
    version: str,
) -> None:
    streaming, whole = apps
    body, content_type = _mtom(version, shape, MTOM_IMAGES[image], damage)
    assert _call(streaming, version, body, content_type) == _call(
        whole, version, body, content_type
    )


def test_an_mtom_part_is_read_from_the_spool(
    apps: tuple[SoapApplication, SoapApplication], monkeypatch: pytest.MonkeyPatch
) -> None:
    streaming, whole = apps
    taken = _count_reads(monkeypatch, spooled.SpooledPart)
    data = make_noise_png(120_000)
    for version in PATHS:
        body, content_type = _mtom(version, "typed", data, "none")
        assert _call(streaming, version, body, content_type) == _call(
            whole, version, body, content_type
        )
    assert taken and set(taken) == {len(data)}


def test_a_signed_upload_is_verified_over_its_whole_text(
    apps: tuple[SoapApplication, SoapApplication], tmp_path: Path
) -> None:
    """A signature covers the Body's text: a signed request's base64 is put back in the
    tree before the signature is checked (without that, the digest fails)."""
    identity = make_identity(tmp_path, "uploader")
    data = make_noise_png(60_000)
    answers = []
    for app in apps:
        app.users.trust.add(identity.certificate, "tester")
        for version in PATHS:
            text = _base64(data, "canonical")
            envelope = etree.fromstring(_envelope(version, SHAPES["typed"].format(c=text)))
            body = etree.tostring(sign(envelope, identity), xml_declaration=True, encoding="utf-8")
            status, _, reply = _call(app, version, body)
            assert status == 200, reply[:600]
            answers.append(etree.fromstring(reply).findtext(f".//{{{ns.TNS}}}size_bytes"))
    assert answers == [str(len(data))] * 4


def _respelled(version: str, how: str) -> bytes:
    text = _base64(IMAGES["png"], "canonical")
    body = _envelope(version, SHAPES["typed"].format(c=text))
    if how == "utf16":
        return body.replace(b'encoding="utf-8"', b'encoding="utf-16"').decode().encode("utf-16")
    if how == "latin1":
        return body.replace(b'encoding="utf-8"', b'encoding="ISO-8859-1"')
    if how == "utf7":
        return body.replace(b'encoding="utf-8"', b'encoding="UTF-7"')
    if how == "doctype":
        return body.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY a "b">]>', 1)
    if how == "no_declaration":
        return body[body.index(b"?>") + 2 :]
    if how == "bom":
        return b"\xef\xbb\xbf" + body
    if how == "not_xml":
        return body[:-10]
    if how == "two_bodies":
        return body.replace(b"</soap:Body>", b"</soap:Body><soap:Body/>")
    if how == "in_header":
        env = ns.SOAP11_ENV if version == "1.1" else ns.SOAP12_ENV
        return body.replace(
            b"<soap:Body>",
            f'<soap:Header><h:x xmlns:h="urn:h" soap:mustUnderstand="1" xmlns:soap="{env}">'
            f"{text}</h:x></soap:Header><soap:Body>".encode(),
        )
    if how == "in_password":  # read (and judged by length) before the operation's fields
        wsse = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
        return body.replace(
            b"<soap:Body>",
            f'<soap:Header><w:Security xmlns:w="{wsse}"><w:UsernameToken>'
            f"<w:Username>tester</w:Username><w:Password>{text}</w:Password>"
            "</w:UsernameToken></w:Security></soap:Header><soap:Body>".encode(),
        )
    return body


@pytest.mark.parametrize(
    "how",
    [
        "utf16",
        "latin1",
        "utf7",
        "doctype",
        "no_declaration",
        "bom",
        "not_xml",
        "two_bodies",
        "in_header",
        "in_password",
        "plain",
    ],
)
@pytest.mark.parametrize("version", sorted(PATHS))
def test_other_spellings_of_the_document_give_the_same_answer(
    apps: tuple[SoapApplication, SoapApplication], how: str, version: str
) -> None:
    streaming, whole = apps
    body = _respelled(version, how)
    assert _call(streaming, version, body) == _call(whole, version, body)
