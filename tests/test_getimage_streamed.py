"""GetImage answered as a stream (issue 17) gives the whole-document path's very bytes.

Two applications in process on one store: one streams GetImage's content from the
store while the answer is sent (``service.soap.streamed``), the other reads it whole
into the tree first, as every answer was made before (``stream=False``). For each
SOAP version, inline and MTOM (asked for by Accept, or by an MTOM request), small
images (read in one statement) and images of many pieces (read from a snapshot),
and GetImage's faults, status, headers and body are the same, byte for byte (an
MTOM boundary is random by design: it is compared as a placeholder). On SQLite and
on PostgreSQL. Then what a streamed answer does when the image is deleted while it
is sent (it is sent whole: the snapshot), or between the lookup and the snapshot
(NotFoundFault), and that an answer never sent releases its snapshot.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from service.app import SoapApplication
from service.config import Settings
from service.imaging import inspect_image
from service.soap.streamed import PIECE, StreamedBody, base64_length, base64_pieces
from service.storage import NewImage
from tests.images import make_image, make_noise_png
from tests.mtom_messages import SOAP_PORTS, envelope, message
from tests.pg import fresh_database
from tests.soap_faults import fault_code_of

PASSWORD = "a long password for tests"
_BOUNDARY = re.compile(rb"uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def apps(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SoapApplication, SoapApplication]]:
    """(streaming, whole-document) applications on one store."""
    data_dir = tmp_path_factory.mktemp(f"streamed-{request.param}")
    if request.param == "sqlite":
        yield from _pair(Settings(data_dir=data_dir))
        return
    with fresh_database() as dsn:
        yield from _pair(Settings(data_dir=data_dir, database_url=dsn))


def _pair(settings: Settings) -> Iterator[tuple[SoapApplication, SoapApplication]]:
    with SoapApplication(settings) as streaming, SoapApplication(settings, stream=False) as whole:
        streaming.users.add("tester", PASSWORD)
        streaming.users.add("other", PASSWORD)
        yield streaming, whole


@pytest.fixture(scope="module")
def images(apps: tuple[SoapApplication, SoapApplication]) -> dict[str, str]:
    """Image ids by name: a small one, and large ones whose sizes leave each remainder
    modulo 3 (so the last base64 piece is padded each way), of several pieces each."""
    streaming, _ = apps
    ids = {"small": _store(streaming, make_image("PNG", (3, 2)), "tester")}
    remainders: set[int] = set()
    target = 3 * PIECE + 1000
    while len(remainders) < 3:
        data = make_noise_png(target)
        target += 1111
        if len(data) % 3 in remainders:
            continue
        remainders.add(len(data) % 3)
        ids[f"large{len(data) % 3}"] = _store(streaming, data, "tester")
    ids["others"] = _store(streaming, make_image("PNG", (4, 4)), "other")
    return ids


def _store(app: SoapApplication, data: bytes, owner: str) -> str:
    info = inspect_image(data)
    sha = hashlib.sha256(data).hexdigest()
    image = NewImage("a<&>.png", data, "x/y", sha, info.format, info.width, info.height)
    return app.store.add(image, owner=owner)[0].image_id


def _basic(user: str = "tester") -> str:
    return "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()


def _call(
    app: SoapApplication, path: str, body: bytes, content_type: str, **headers: str
) -> tuple[int, list[tuple[str, str]], Any]:
    environ = {
        "REQUEST_METHOD": "POST" if body else "GET",
        "PATH_INFO": path.partition("?")[0],
        "QUERY_STRING": path.partition("?")[2],
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "HTTP_AUTHORIZATION": _basic(),
        "HTTP_X_REQUEST_ID": "same-id",
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
    }
    answer, response_headers = app.handle(environ)
    return answer.status, response_headers, answer.body


def _exchange(
    app: SoapApplication, path: str, body: bytes, content_type: str, **headers: str
) -> tuple[int, list[tuple[str, str]], bytes]:
    status, response_headers, chunks = _call(app, path, body, content_type, **headers)
    data = b"".join(chunks)
    length = dict(response_headers)["Content-Length"]
    assert int(length) == len(data), "Content-Length is the body's length"
    normal = [
        (name, _BOUNDARY.sub(b"B", value.encode()).decode()) for name, value in response_headers
    ]
    return status, normal, _BOUNDARY.sub(b"B", data)


def _get_image(version: str, image_id: str) -> bytes:
    return envelope(version, "GetImage", f"<t:image_id>{image_id}</t:image_id>")


def _both(
    apps: tuple[SoapApplication, SoapApplication],
    path: str,
    body: bytes,
    content_type: str,
    **headers: str,
) -> tuple[int, list[tuple[str, str]], bytes]:
    streaming, whole = apps
    streamed = _exchange(streaming, path, body, content_type, **headers)
    assert streamed == _exchange(whole, path, body, content_type, **headers)
    return streamed


@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize("kind", ["inline", "accept-mtom", "mtom-request"])
@pytest.mark.parametrize("name", ["small", "large0", "large1", "large2"])
def test_a_streamed_getimage_is_the_whole_documents_bytes(
    apps: tuple[SoapApplication, SoapApplication],
    images: dict[str, str],
    version: str,
    kind: str,
    name: str,
) -> None:
    path, media = SOAP_PORTS[version]
    request = _get_image(version, images[name])
    headers: dict[str, str] = {}
    content_type = f"{media}; charset=utf-8"
    if kind == "accept-mtom":
        headers["ACCEPT"] = "multipart/related,application/xop+xml,*/*;q=0.8"
    if kind == "mtom-request":
        sent = message(version, request, [])
        request, content_type = sent.body, sent.content_type
    status, headers_out, body = _both(apps, path, request, content_type, **headers)
    assert status == 200
    mtom = dict(headers_out)["Content-Type"].startswith("multipart/related")
    assert mtom is (kind != "inline")
    stored = apps[0].store.content(images[name])
    assert stored is not None
    assert (stored if mtom else base64.b64encode(stored)) in body


@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize("accept", ["", "multipart/related,application/xop+xml"])
@pytest.mark.parametrize("which", ["unknown", "others"])
def test_getimage_faults_are_unchanged(
    apps: tuple[SoapApplication, SoapApplication],
    images: dict[str, str],
    version: str,
    accept: str,
    which: str,
) -> None:
    path, media = SOAP_PORTS[version]
    image_id = images["others"] if which == "others" else "0" * 32
    request = _get_image(version, image_id)
    status, _, body = _both(apps, path, request, f"{media}; charset=utf-8", ACCEPT=accept)
    assert status == 500
    assert b"NotFound" in body


@pytest.mark.parametrize("name", ["small", "large1"])
@pytest.mark.parametrize("query", ["", "&format=xml"])
def test_the_http_route_is_unchanged(
    apps: tuple[SoapApplication, SoapApplication],
    images: dict[str, str],
    name: str,
    query: str,
) -> None:
    """/http/GetImage stays a whole document (JSON, or the response element as XML)."""
    path = f"/http/GetImage?image_id={images[name]}{query}"
    status, _, body = _both(apps, path, b"", "")
    assert status == 200
    stored = apps[0].store.content(images[name])
    assert stored is not None
    if query:
        assert base64.b64encode(stored) in body
    else:
        assert base64.b64decode(json.loads(body)["GetImageResult"]["content"]) == stored


def _fresh_large(app: SoapApplication, seed: int) -> tuple[str, bytes]:
    data = make_noise_png(3 * PIECE + 5000 + seed)
    return _store(app, data, "tester"), data


@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize("accept", ["", "multipart/related,application/xop+xml"])
def test_an_image_deleted_while_it_is_sent_is_sent_whole(
    apps: tuple[SoapApplication, SoapApplication], version: str, accept: str
) -> None:
    """The decision: GetImage answers with the image as it was when the call was
    answered. The bytes come from the snapshot taken then, so a DeleteImage that
    commits while they are sent cuts nothing short (never a half-written 200); the
    next GetImage is a NotFoundFault."""
    streaming, whole = apps
    image_id, data = _fresh_large(streaming, 1 if accept else 2)
    path, media = SOAP_PORTS[version]
    request = _get_image(version, image_id)
    expected = _exchange(whole, path, request, f"{media}; charset=utf-8", ACCEPT=accept)
    status, headers, body = _call(
        streaming, path, request, f"{media}; charset=utf-8", ACCEPT=accept
    )
    assert isinstance(body, StreamedBody)
    sent = [next(body), next(body)]  # the head, and the first piece of the image
    assert streaming.store.delete(image_id) is not None
    assert streaming.store.get(image_id) is None
    sent += list(body)
    got = b"".join(sent)
    assert (status, len(got)) == (200, int(dict(headers)["Content-Length"]))
    assert _BOUNDARY.sub(b"B", got) == expected[2]
    status, _, again = _exchange(whole, path, request, f"{media}; charset=utf-8")
    assert status == 500 and b"NotFound" in again


def test_an_image_deleted_before_its_snapshot_is_not_found(
    apps: tuple[SoapApplication, SoapApplication], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deleted between the lookup and the snapshot: NotFoundFault, as if a moment
    earlier (the whole-document path answered 200 with an empty content)."""
    streaming, _ = apps
    image_id, _ = _fresh_large(streaming, 3)
    store = streaming.store
    opened = store.open_content

    def deleted_first(wanted: str) -> object:
        store.delete(wanted)
        return opened(wanted)

    monkeypatch.setattr(store, "open_content", deleted_first)
    status, _, body = _exchange(streaming, "/soap", _get_image("1.1", image_id), "text/xml")
    assert status == 500
    assert fault_code_of(etree.fromstring(body)) == "Client.NotFound"


def test_an_answer_never_sent_releases_its_snapshot(
    apps: tuple[SoapApplication, SoapApplication],
) -> None:
    streaming, _ = apps
    image_id, _ = _fresh_large(streaming, 4)
    content = streaming.store.open_content(image_id)
    assert content is not None and content.size > PIECE
    released: list[bool] = []
    original = content.close

    def close() -> None:
        released.append(True)
        original()

    content.close = close  # type: ignore[method-assign]
    body = StreamedBody([b"head", content, b"tail"], True, 0)
    body.close()  # never iterated: what the serving core does for a HEAD or a lost client
    assert released
    assert list(body) == []
    streaming.store.delete(image_id)


@given(
    data=st.binary(max_size=2000),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=8),
)
def test_base64_pieces_concatenate_to_the_whole(data: bytes, cuts: list[int]) -> None:
    bounds = sorted({0, len(data), *(min(cut, len(data)) for cut in cuts)})
    pieces = [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    encoded = b"".join(base64_pieces(pieces))
    assert encoded == base64.b64encode(data)
    assert len(encoded) == base64_length(len(data))


def test_pieces_are_a_multiple_of_three() -> None:
    assert PIECE % 3 == 0
