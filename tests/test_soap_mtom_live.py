"""MTOM/XOP requests against the live server: uploads, answers in kind, malformed MIME.

The messages are written byte for byte (``tests/mtom_messages.py``); replies are
read with the standard library's MIME parser, not the service's own.
"""

from __future__ import annotations

import base64
import hashlib
import os

import pytest
import requests
from lxml import etree

from service import ns
from tests.conftest import TESTER, LiveServer
from tests.images import make_image, make_noise_png
from tests.live_server import peak_growth_mib, worker_peaks
from tests.mtom_messages import (
    BOUNDARY,
    ROOT_ID,
    SOAP_MEDIA,
    Message,
    envelope,
    message,
    read_reply,
    upload_envelope,
)
from tests.soap_faults import fault_code_of

PATHS = {"1.1": "/soap", "1.2": "/soap12"}
T = f"{{{ns.TNS}}}"


def post(server: LiveServer, version: str, sent: Message, **headers: str) -> requests.Response:
    return requests.post(
        server.url + PATHS[version],
        data=sent.body,
        headers={"Content-Type": sent.content_type, **headers},
        auth=TESTER,
        timeout=120,
    )


def fault_text(root: etree._Element) -> str:
    return " ".join(t for t in root.itertext() if t.strip())


def answer(response: requests.Response) -> etree._Element:
    """The envelope of a reply, plain or MTOM (an MTOM request is answered in kind)."""
    kind = response.headers["Content-Type"]
    if kind.startswith("multipart/related"):
        return read_reply(kind, response.content).root
    return etree.fromstring(response.content)


@pytest.fixture(scope="module")
def big_png() -> bytes:
    data = make_noise_png(10 * 1024 * 1024)
    assert 9 * 1024 * 1024 < len(data) <= 10 * 1024 * 1024
    return data


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_a_10_mib_upload_and_download_over_mtom(
    live_server: LiveServer, big_png: bytes, version: str
) -> None:
    action = f"{ns.TNS}/UploadImage"
    sent = message(
        version,
        upload_envelope(version),
        [("image-1@tests", big_png)],
        action=action if version == "1.2" else None,
    )
    headers = {"SOAPAction": f'"{action}"'} if version == "1.1" else {}
    response = post(live_server, version, sent, **headers)
    assert response.status_code == 200, response.content[:2000]
    reply = read_reply(response.headers["Content-Type"], response.content)
    assert reply.root_type == "application/xop+xml"
    receipt = reply.root.find(f".//{T}UploadImageResult")
    assert receipt is not None
    assert receipt.findtext(f"{T}sha256") == hashlib.sha256(big_png).hexdigest()
    assert int(receipt.findtext(f"{T}size_bytes") or 0) == len(big_png)
    image_id = receipt.findtext(f"{T}image_id")

    get = message(
        version, envelope(version, "GetImage", f"<t:image_id>{image_id}</t:image_id>"), []
    )
    response = post(live_server, version, get)
    assert response.status_code == 200
    reply = read_reply(response.headers["Content-Type"], response.content)
    content = reply.root.find(f".//{T}GetImageResult/{T}content")
    assert content is not None
    assert content.find("{http://www.w3.org/2004/08/xop/include}Include") is not None
    assert hashlib.sha256(reply.content(content)).hexdigest() == hashlib.sha256(big_png).hexdigest()
    log = live_server.log_text()
    assert "operation=UploadImage outcome=ok fault=- status=200 encoding=mtom reply=mtom" in log


def test_mtom_and_inline_give_the_same_record(live_server: LiveServer) -> None:
    png = make_image("PNG", (31, 17))
    inline = envelope(
        "1.1",
        "UploadImage",
        f"<t:filename>s.png</t:filename><t:content>{base64.b64encode(png).decode()}</t:content>",
    )
    plain = requests.post(
        live_server.url + "/soap",
        data=inline,
        headers={"Content-Type": "text/xml; charset=utf-8"},
        auth=TESTER,
        timeout=30,
    )
    assert plain.status_code == 200, plain.text
    first = etree.fromstring(plain.content).find(f".//{T}UploadImageResult")
    response = post(
        live_server, "1.1", message("1.1", upload_envelope("1.1"), [("image-1@tests", png)])
    )
    again = answer(response).find(f".//{T}UploadImageResult")
    assert first is not None and again is not None
    for field in ("image_id", "sha256", "size_bytes", "width", "height", "format"):
        assert again.findtext(f"{T}{field}") == first.findtext(f"{T}{field}"), field


def test_small_operations_work_over_mtom_too(live_server: LiveServer) -> None:
    sent = message("1.2", envelope("1.2", "Greet", "<t:name>Ada</t:name>"), [])
    response = post(live_server, "1.2", sent)
    assert response.status_code == 200
    assert answer(response).findtext(f".//{T}GreetResult") == "Hello, Ada!"


def test_a_validation_fault_over_mtom_is_answered_in_kind(live_server: LiveServer) -> None:
    sent = message("1.1", envelope("1.1", "Greet", "<t:name> </t:name>"), [])
    response = post(live_server, "1.1", sent)
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("multipart/related")
    assert fault_code_of(answer(response)) == "Client.Validation"


@pytest.mark.parametrize(("version", "path"), [("1.1", "/soap12"), ("1.2", "/soap")])
@pytest.mark.parametrize("name", ["Ada", " "], ids=["greet", "blank-name-fault"])
def test_mtom_on_the_other_port_is_answered_in_its_own_version(
    live_server: LiveServer, version: str, path: str, name: str
) -> None:
    """Issue 15: the root part's type and start-info decide the version, on either port."""
    sent = message(version, envelope(version, "Greet", f"<t:name>{name}</t:name>"), [])
    response = requests.post(
        live_server.url + path,
        data=sent.body,
        headers={"Content-Type": sent.content_type},
        timeout=30,
    )
    assert response.status_code == (200 if name.strip() else 500)
    kind = response.headers["Content-Type"]
    assert kind.startswith("multipart/related")
    assert f'start-info="{SOAP_MEDIA[version]}"' in kind
    reply = read_reply(kind, response.content)
    assert etree.QName(reply.root).namespace == (
        ns.SOAP11_ENV if version == "1.1" else ns.SOAP12_ENV
    )
    if name.strip():
        assert reply.root.findtext(f".//{T}GreetResult") == "Hello, Ada!"
    else:
        assert fault_code_of(reply.root) == "Client.Validation"


def _raw(body: bytes, content_type: str | None = None) -> Message:
    return Message(
        body,
        content_type
        or f'multipart/related; type="application/xop+xml"; boundary="{BOUNDARY}";'
        f' start="<{ROOT_ID}>"; start-info="text/xml"',
    )


def _root_part(root: bytes, extra_headers: str = "") -> bytes:
    return (
        f"--{BOUNDARY}\r\nContent-Type: application/xop+xml; charset=UTF-8;"
        f' type="text/xml"\r\nContent-ID: <{ROOT_ID}>\r\n{extra_headers}\r\n'
    ).encode() + root


def _part(cid: str, data: bytes, extra_headers: str = "") -> bytes:
    return (
        f"\r\n--{BOUNDARY}\r\nContent-Type: image/png\r\nContent-ID: <{cid}>\r\n{extra_headers}\r\n"
    ).encode() + data


PNG = make_image("PNG", (8, 8))
UPLOAD = upload_envelope("1.1")
END = f"\r\n--{BOUNDARY}--\r\n".encode()
GOOD = _root_part(UPLOAD) + _part("image-1@tests", PNG) + END

MALFORMED = [
    # name, message, expected code, words the fault says
    (
        "no_boundary_param",
        _raw(GOOD, 'multipart/related; type="application/xop+xml"'),
        "Client.MalformedMime",
        "boundary",
    ),
    (
        "boundary_too_long",
        _raw(GOOD, f'multipart/related; type="application/xop+xml"; boundary="{"b" * 71}"'),
        "Client.MalformedMime",
        "boundary",
    ),
    (
        "boundary_absent_from_body",
        _raw(GOOD.replace(BOUNDARY.encode(), b"other-boundary")),
        "Client.MalformedMime",
        "delimiter",
    ),
    ("no_closing_delimiter", _raw(GOOD[: -len(END)]), "Client.MalformedMime", "closing delimiter"),
    (
        "truncated_inside_a_part",
        _raw(GOOD[: len(GOOD) // 2]),
        "Client.MalformedMime",
        "closing delimiter",
    ),
    (
        "text_after_boundary",
        _raw(
            GOOD.replace(
                f"--{BOUNDARY}\r\nContent-Type: image".encode(),
                f"--{BOUNDARY}tricks\r\nContent-Type: image".encode(),
            )
        ),
        "Client.MalformedMime",
        "after the boundary",
    ),
    (
        "start_names_no_part",
        _raw(
            GOOD,
            'multipart/related; type="application/xop+xml";'
            f' boundary="{BOUNDARY}"; start="<nobody@tests>"',
        ),
        "Client.MalformedMime",
        "nobody@tests",
    ),
    (
        "duplicate_content_id",
        _raw(_root_part(UPLOAD) + _part("image-1@tests", PNG) + _part("image-1@tests", PNG) + END),
        "Client.MalformedMime",
        "Two parts",
    ),
    (
        "unknown_content_id",
        _raw(_root_part(UPLOAD) + _part("other@tests", PNG) + END),
        "Client.MalformedMime",
        "image-1@tests",
    ),
    (
        "include_not_alone",
        _raw(
            _root_part(UPLOAD.replace(b"<t:content>", b"<t:content>x"))
            + _part("image-1@tests", PNG)
            + END
        ),
        "Client.MalformedMime",
        "only content",
    ),
    (
        "href_not_cid",
        _raw(
            _root_part(UPLOAD.replace(b"cid:image-1@tests", b"http://evil/x"))
            + _part("image-1@tests", PNG)
            + END
        ),
        "Client.MalformedMime",
        "not a cid",
    ),
    (
        "base64_transfer_encoding",
        _raw(
            _root_part(UPLOAD)
            + _part("image-1@tests", base64.b64encode(PNG), "Content-Transfer-Encoding: base64\r\n")
            + END
        ),
        "Client.MalformedMime",
        "Content-Transfer-Encoding",
    ),
    (
        "root_not_xop",
        _raw(GOOD.replace(b"application/xop+xml; charset=UTF-8;", b"text/plain;", 1)),
        "Client.MalformedMime",
        "root part",
    ),
    (
        "header_block_without_end",
        _raw(_root_part(UPLOAD) + f"\r\n--{BOUNDARY}\r\nX: ".encode() + b"y" * 9000),
        "Client.MalformedMime",
        "header block",
    ),
    (
        "header_line_garbage",
        _raw(_root_part(UPLOAD) + _part("image-1@tests", PNG, "this is not a header\r\n") + END),
        "Client.MalformedMime",
        "Name: value",
    ),
    ("empty_multipart", _raw(f"--{BOUNDARY}--\r\n".encode()), "Client.MalformedMime", "no parts"),
    (
        "too_many_parts",
        _raw(_root_part(UPLOAD) + b"".join(_part(f"p{i}@t", b"x") for i in range(20)) + END),
        "Client.LimitExceeded",
        "MIME parts",
    ),
    (
        "soap12_root_on_soap11_port",
        _raw(GOOD.replace(b'type="text/xml"', b'type="application/soap+xml"', 1)),
        "Client.UnsupportedMedia",
        "application/soap+xml",
    ),
    (
        "swa_not_mtom",
        _raw(GOOD, f'multipart/related; type="text/xml"; boundary="{BOUNDARY}"'),
        "Client.UnsupportedMedia",
        "MTOM",
    ),
    (
        "xxe_in_root_part",
        _raw(
            _root_part(
                b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM'
                b' "file:///etc/passwd">]>' + UPLOAD
            )
            + _part("image-1@tests", PNG)
            + END
        ),
        "Client.ForbiddenXml",
        "DTD",
    ),
    (
        "root_not_xml",
        _raw(_root_part(b"\x00\x01 not xml") + END),
        "Client.MalformedRequest",
        "well-formed",
    ),
    (
        "attachment_not_an_image",
        _raw(_root_part(UPLOAD) + _part("image-1@tests", b"plain text") + END),
        "Client.ImageRejected",
        "not",
    ),
    (
        "include_in_a_string_field",
        _raw(
            _root_part(
                upload_envelope("1.1").replace(
                    b"<t:filename>big.png</t:filename>",
                    b'<t:filename><xop:Include href="cid:name@tests"/></t:filename>',
                )
            )
            + _part("image-1@tests", PNG)
            + _part("name@tests", b"\xff" * 300)
            + END
        ),
        "Client.Validation",
        "filename",
    ),
]


@pytest.mark.parametrize(
    ("name", "sent", "code", "words"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
def test_malformed_mime_gets_a_typed_fault(
    live_server: LiveServer, name: str, sent: Message, code: str, words: str
) -> None:
    response = post(live_server, "1.1", sent)
    assert response.status_code in (415, 500), response.content[:500]
    root = answer(response)
    assert fault_code_of(root) == code, fault_text(root)
    assert words.lower() in fault_text(root).lower(), fault_text(root)
    assert b"Traceback" not in response.content


def test_an_oversize_part_is_refused_before_it_is_decoded(live_server: LiveServer) -> None:
    huge = b"\x89PNG" + b"\x00" * (13 * 1024 * 1024)  # under the body limit, over the text limit
    response = post(live_server, "1.1", message("1.1", UPLOAD, [("image-1@tests", huge)]))
    assert fault_code_of(answer(response)) == "Client.LimitExceeded"
    assert "larger than this service accepts" in fault_text(answer(response))


def test_mono_style_mime_headers_in_the_body(live_server: LiveServer) -> None:
    # Mono's WCF sends 'multipart/related; type=application/xop+xml' as the HTTP
    # Content-Type and the multipart's own headers (with the boundary) in the body.
    png = make_image("PNG", (12, 9))
    inner = message("1.1", upload_envelope("1.1"), [("image-1@tests", png)])
    body = f"MIME-Version: 1.0\r\nContent-Type: {inner.content_type}\r\n\r\n".encode() + inner.body
    sent = Message(body, "multipart/related; type=application/xop+xml")
    response = post(live_server, "1.1", sent)
    assert response.status_code == 200, response.content[:1000]
    receipt = answer(response).find(f".//{T}UploadImageResult")
    assert receipt is not None
    assert receipt.findtext(f"{T}sha256") == hashlib.sha256(png).hexdigest()
    not_mtom = b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n" + inner.body
    response = post(live_server, "1.1", Message(not_mtom, sent.content_type))
    assert fault_code_of(answer(response)) == "Client.MalformedMime"


def test_accept_multipart_related_gets_an_mtom_reply(live_server: LiveServer) -> None:
    # gSOAP with SOAP_ENC_MTOM sends a request without binaries as plain XML and
    # asks for MTOM with 'Accept: multipart/related,application/xop+xml,*/*;q=0.8'.
    png = make_image("PNG", (5, 5))
    sent = message("1.1", upload_envelope("1.1"), [("image-1@tests", png)])
    image_id = answer(post(live_server, "1.1", sent)).findtext(f".//{T}image_id")
    get = envelope("1.1", "GetImage", f"<t:image_id>{image_id}</t:image_id>")
    for accept, mtom in [
        ("multipart/related,application/xop+xml,*/*;q=0.8", True),
        ("multipart/related;q=0, */*", False),
        ("*/*", False),
    ]:
        response = requests.post(
            live_server.url + "/soap",
            data=get,
            headers={"Content-Type": "text/xml; charset=utf-8", "Accept": accept},
            auth=TESTER,
            timeout=30,
        )
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("multipart/related") is mtom, accept
        if mtom:
            reply = read_reply(response.headers["Content-Type"], response.content)
            content = reply.root.find(f".//{T}content")
            assert content is not None and reply.content(content) == png


AXIS_ACCEPT = "application/soap+xml, application/dime, multipart/related, text/*"


@pytest.mark.parametrize(
    ("accept", "mtom"),
    [
        (AXIS_ACCEPT, False),  # Apache Axis 1.4, on every call; it cannot read XOP
        ("text/xml, multipart/related", False),
        ("text/xml;q=0.5, multipart/related", True),
        ("application/xop+xml", True),
    ],
)
def test_only_a_clear_ask_for_xop_gets_an_mtom_reply(
    live_server: LiveServer, accept: str, mtom: bool
) -> None:
    """Issue 15: naming multipart/related among equals is not asking for MTOM; GetImage's
    content then comes back inline, as base64."""
    png = make_image("PNG", (6, 7))
    sent = message("1.1", upload_envelope("1.1"), [("image-1@tests", png)])
    image_id = answer(post(live_server, "1.1", sent)).findtext(f".//{T}image_id")
    get = envelope("1.1", "GetImage", f"<t:image_id>{image_id}</t:image_id>")
    response = requests.post(
        live_server.url + "/soap",
        data=get,
        headers={
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f'"{ns.TNS}/GetImage"',
            "Accept": accept,
        },
        auth=TESTER,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    kind = response.headers["Content-Type"]
    if mtom:
        assert kind.startswith("multipart/related"), kind
        reply = read_reply(kind, response.content)
        content = reply.root.find(f".//{T}content")
        assert content is not None and content.find(f"{{{ns.XOP}}}Include") is not None
        assert reply.content(content) == png
    else:
        assert kind == "text/xml; charset=utf-8", kind
        content = etree.fromstring(response.content).find(f".//{T}content")
        assert content is not None and len(content) == 0
        assert base64.b64decode(content.text or "") == png


def _included(times: int, cid: str = "blob@tests") -> bytes:
    """Greet (anonymous) with ``times`` elements that each include the same part: as
    text, each would be the part's whole base64 form (the schema would refuse the
    elements, but only once they were made)."""
    includes = "".join(f'<t:x{i}><xop:Include href="cid:{cid}"/></t:x{i}>' for i in range(times))
    return envelope("1.1", "Greet", f"<t:name>Ada</t:name>{includes}")


def test_a_part_included_many_times_costs_nothing(live_server: LiveServer) -> None:
    """Issue 16, finding 1: one 4 MiB part included 150 times, anonymously. Refused
    before any of it is expanded; the worker's peak RSS grows by less than a few
    times the body, not by 150 copies of it."""
    blob = os.urandom(4 * 1024 * 1024)
    sent = message("1.1", _included(150), [("blob@tests", blob)])
    before = worker_peaks(live_server)
    response = post(live_server, "1.1", sent)
    root = answer(response)
    assert fault_code_of(root) == "Client.MalformedMime", fault_text(root)
    assert "included more than once" in fault_text(root)
    growth_mib = peak_growth_mib(before)
    assert growth_mib < 4 * len(sent.body) / 2**20 + 64, f"a worker grew {growth_mib:.0f} MiB"


def test_parts_included_as_text_are_bounded_together(live_server: LiveServer) -> None:
    """Each part once, but every one in a text field: their base64 forms together must
    fit the text limit, like one inline text would (counted before any is made)."""
    part = b"\x00" * (7 * 1024 * 1024)  # 9.3 MiB as base64 each; two are over 16 MiB
    fields = (
        '<t:person><t:first_name><xop:Include href="cid:a@tests"/></t:first_name>'
        '<t:last_name><xop:Include href="cid:b@tests"/></t:last_name><t:age>1</t:age>'
        "</t:person>"
    )
    sent = message(
        "1.1", envelope("1.1", "EchoPerson", fields), [("a@tests", part), ("b@tests", part)]
    )
    root = answer(post(live_server, "1.1", sent))
    assert fault_code_of(root) == "Client.LimitExceeded", fault_text(root)
    assert "together" in fault_text(root)


def test_credentials_are_checked_before_the_parts_are_put_in_place(
    live_server: LiveServer,
) -> None:
    """An anonymous MTOM upload is refused for its credentials, before its Includes
    (here one names no part) are looked at."""
    root_xml = upload_envelope("1.1").replace(
        b"<t:filename>big.png</t:filename>",
        b'<t:filename><xop:Include href="cid:missing@tests"/></t:filename>',
    )
    sent = message("1.1", root_xml, [("image-1@tests", make_image("PNG", (4, 4)))])
    response = requests.post(
        f"{live_server.url}/soap",
        data=sent.body,
        headers={"Content-Type": sent.content_type, "SOAPAction": f'"{ns.TNS}/UploadImage"'},
        timeout=60,
    )
    root = answer(response)
    assert fault_code_of(root) == "FailedAuthentication", fault_text(root)
