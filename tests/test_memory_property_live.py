"""What one request can make a worker allocate (issue 16, finding 1's property).

For every request, whatever its shape and whoever sends it: the growth of a worker's
peak RSS is at most a small multiple of the request's body plus a constant,
``GROWTH_FACTOR`` x body + ``GROWTH_CONSTANT_MIB``. Each case resets both workers'
peak (``/proc/<pid>/clear_refs``), sends one request of about ``BODY_MIB`` MiB and
reads the peaks back. The cases are the shapes that make a parser or a decoder
allocate more than they read: a large text node, many elements, attributes or
namespace declarations, a deep document,
base64 that decodes, MTOM parts included once, many times and as text, a JSON body
deep or wide, a form, each signed and anonymous; and the legitimate large uploads,
which must stay inside the same bound.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from urllib.parse import quote

import pytest
import requests

from tests.conftest import TESTER, LiveServer
from tests.images import make_noise_png
from tests.live_server import peak_growth_mib, worker_peaks
from tests.mtom_messages import envelope, message

BODY_MIB = 4
GROWTH_FACTOR = 4
GROWTH_CONSTANT_MIB = 64
XOP = 'xmlns:xop="http://www.w3.org/2004/08/xop/include"'


Request = tuple[str, bytes, str]  # path, body, content type
SOAP = "text/xml; charset=utf-8"


def _soap(operation: str, inner: str) -> Request:
    return "/soap", envelope("1.1", operation, inner), SOAP


def _text_node() -> Request:
    return _soap("Greet", "<t:name>" + "a" * (BODY_MIB << 20) + "</t:name>")


def _many_elements() -> Request:
    return _soap("Greet", "<t:name>Ada</t:name>" + "<x/>" * ((BODY_MIB << 20) // 4))


def _deep() -> Request:
    depth = (BODY_MIB << 20) // 7
    return _soap("Greet", "<d>" * depth + "</d>" * depth)


def _attributes() -> Request:
    attributes = " ".join(f'a{i}="{i}"' for i in range((BODY_MIB << 20) // 12))
    return _soap("Greet", f"<t:name {attributes}>Ada</t:name>")


def _namespaces() -> Request:
    declarations = " ".join(f'xmlns:p{i}="urn:{i}"' for i in range((BODY_MIB << 20) // 20))
    return _soap("Greet", f"<t:name {declarations}>Ada</t:name>")


def _upload(png: bytes) -> Request:
    content = base64.b64encode(png).decode()
    return _soap(
        "UploadImage",
        f"<t:filename>p.png</t:filename><t:content>{content}</t:content>",
    )


def _mtom(parts: int, includes_each: int, field: str = "content") -> Request:
    size = (BODY_MIB << 20) // parts
    includes = "".join(
        f'<t:{field} {XOP}><xop:Include href="cid:p{p}@tests"/></t:{field}>'
        for p in range(parts)
        for _ in range(includes_each)
    )
    root = envelope("1.1", "UploadImage", f"<t:filename>p.png</t:filename>{includes}")
    sent = message("1.1", root, [(f"p{p}@tests", os.urandom(size)) for p in range(parts)])
    return "/soap", sent.body, sent.content_type


def _json_deep() -> Request:
    depth = (BODY_MIB << 20) // 2
    return (
        "/http/Greet",
        ('{"name": ' + "[" * depth + "]" * depth + "}").encode(),
        "application/json",
    )


def _json_wide() -> Request:
    wide = json.dumps({"name": ["a"] * ((BODY_MIB << 20) // 5)})
    return "/http/Greet", wide.encode(), "application/json"


def _json_keys() -> Request:
    keys = json.dumps({f"k{i}": i for i in range((BODY_MIB << 20) // 14)})
    return "/http/Greet", keys.encode(), "application/json"


def _json_upload(png: bytes) -> Request:
    document = {"filename": "p.png", "content": base64.b64encode(png).decode()}
    return "/http/UploadImage", json.dumps(document).encode(), "application/json"


def _form_upload(png: bytes) -> Request:
    form = f"filename=p.png&content={quote(base64.b64encode(png).decode())}"
    return "/http/UploadImage", form.encode(), "application/x-www-form-urlencoded"


def _form_many_fields() -> Request:
    return (
        "/http/Greet",
        ("name=a&" * ((BODY_MIB << 20) // 7)).encode(),
        ("application/x-www-form-urlencoded"),
    )


PNG_BYTES = (BODY_MIB << 20) * 3 // 4 - 4096  # its base64 is about BODY_MIB
CASES: dict[str, Callable[[bytes], Request]] = {
    "text node": lambda png: _text_node(),
    "many elements": lambda png: _many_elements(),
    "deep": lambda png: _deep(),
    "attributes": lambda png: _attributes(),
    "namespace declarations": lambda png: _namespaces(),
    "base64 upload": _upload,
    "mtom part once": lambda png: _mtom(1, 1),
    "mtom part 150 times": lambda png: _mtom(1, 150),
    "mtom 16 parts as text": lambda png: _mtom(16, 1, field="filename"),
    "json deep": lambda png: _json_deep(),
    "json wide": lambda png: _json_wide(),
    "json many keys": lambda png: _json_keys(),
    "json upload": _json_upload,
    "form upload": _form_upload,
    "form many fields": lambda png: _form_many_fields(),
}


@pytest.fixture(scope="module")
def png() -> bytes:
    return make_noise_png(PNG_BYTES)


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "anonymous"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_request_costs_a_worker_a_bounded_multiple_of_its_body(
    live_server: LiveServer, png: bytes, case: str, signed: bool
) -> None:
    path, body, content_type = CASES[case](png)
    before = worker_peaks(live_server)
    response = requests.post(
        live_server.url + path,
        data=body,
        headers={"Content-Type": content_type},
        auth=TESTER if signed else None,
        timeout=120,
    )
    assert response.status_code < 500 or path.startswith("/soap"), response.text[:300]
    assert "Server.Internal" not in response.text
    growth_mib = peak_growth_mib(before)
    bound = GROWTH_FACTOR * len(body) / 2**20 + GROWTH_CONSTANT_MIB
    print(
        f"{case} ({'signed' if signed else 'anonymous'}): body {len(body) / 2**20:.1f} MiB, "
        f"status {response.status_code}, worker peak +{growth_mib:.1f} MiB"
    )
    assert growth_mib <= bound, f"{case}: a worker grew {growth_mib:.0f} MiB (bound {bound:.0f})"
