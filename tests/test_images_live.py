"""Images read back, listed, deleted and downloaded, through the live server (both backends)."""

from __future__ import annotations

import base64
import hashlib
import os
import struct
import zlib

import pytest
import requests

from client import AuthenticationError, NotFound, SoapServiceClient, ValidationError
from tests.conftest import TESTER, USERS, LiveServer
from tests.images import make_image, make_noise_png


def client(server: LiveServer, user: str = "tester", **kwargs: object) -> SoapServiceClient:
    return SoapServiceClient(server.url, username=user, password=USERS[user][0], **kwargs)  # type: ignore[arg-type]


def unique_png() -> bytes:
    """A PNG no other upload in the session has: one row of 1024 random pixels.

    (It used to be a solid image of one of 500 widths; with the session's store
    shared by every test, a repeat was likely, and an upload that repeats an
    earlier one returns the earlier record, which broke the listing test's order.)
    """
    return make_noise_png(4 * 1024)


def test_get_image_returns_what_was_uploaded(live_server: LiveServer, soap_version: str) -> None:
    api = client(live_server, soap_version=soap_version)
    data = unique_png()
    receipt = api.upload_image("pic.png", data, "image/png")
    got = api.get_image(receipt.image_id)
    assert got.receipt == receipt
    assert got.content == data and got.filename == "pic.png" and got.content_type == "image/png"
    assert hashlib.sha256(got.content).hexdigest() == receipt.sha256


def test_same_bytes_twice_is_one_image(live_server: LiveServer) -> None:
    api, admin = client(live_server), client(live_server, "admin")
    data = unique_png()
    first = api.upload_image("a.png", data)
    assert api.upload_image("renamed.png", data) == first
    theirs = admin.upload_image("a.png", data)
    assert theirs.image_id != first.image_id and theirs.sha256 == first.sha256


def test_listing_pages_newest_first(live_server: LiveServer) -> None:
    api = client(live_server)
    made = [api.upload_image(f"{i}.png", unique_png()) for i in range(5)]
    seen, token, pages = [], None, 0
    while True:
        page = api.list_images(page_size=2, page_token=token)
        assert len(page.images) <= 2
        seen += [r.image_id for r in page.images]
        pages += 1
        token = page.next_page_token
        if token is None:
            break
    assert seen[:5] == [r.image_id for r in reversed(made)]
    assert len(seen) == len(set(seen)) and pages >= 3
    everyone = client(live_server, "admin").list_images(page_size=100)
    assert {r.image_id for r in made} <= {r.image_id for r in everyone.images}


def test_page_size_0_means_the_default_page_size(
    live_server: LiveServer, soap_version: str
) -> None:
    """Issue 15: WCF proxies send <page_size>0</page_size> for "not given"; 0 is the
    server's default (20), as in Google's AIP-158, the same page as no page_size."""
    api = client(live_server, soap_version=soap_version)
    for i in range(21):  # more than a default page of this user's own images
        api.upload_image(f"default-{i}.png", unique_png())
    zero = api.list_images(page_size=0)
    assert len(zero.images) == 20 and zero.next_page_token is not None
    absent = api.list_images()
    assert [r.image_id for r in zero.images] == [r.image_id for r in absent.images]
    assert zero.next_page_token == absent.next_page_token
    follow = api.list_images(page_size=0, page_token=zero.next_page_token)
    assert follow.images and not {r.image_id for r in follow.images} & {
        r.image_id for r in zero.images
    }


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"page_size": -1}, "page_size"),
        ({"page_size": 101}, "page_size"),
        ({"page_token": "not-a-token"}, "page_token"),
    ],
)
def test_listing_arguments_are_checked(live_server: LiveServer, kwargs: dict, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        client(live_server).list_images(**kwargs)
    assert caught.value.field == field


def test_page_tokens_are_opaque_and_bound_to_their_user(live_server: LiveServer) -> None:
    """Issue 16, finding 12: tokens were v2|<global sequence>, telling how many images
    everyone uploaded, and any user could present any other's."""
    api = client(live_server)
    for i in range(3):
        api.upload_image(f"token-{i}.png", unique_png())
    token = api.list_images(page_size=1).next_page_token
    assert token is not None and len(token) == 32
    assert not base64.urlsafe_b64decode(token + "==").startswith(b"v2|")  # the old form
    assert api.list_images(page_size=1, page_token=token).images  # both workers open it
    for other in ("soapui", "admin"):
        with pytest.raises(ValidationError) as caught:
            client(live_server, other).list_images(page_size=1, page_token=token)
        assert caught.value.field == "page_token"


def test_users_see_only_their_images_and_admins_see_all(live_server: LiveServer) -> None:
    owner, other, admin = (
        client(live_server),
        client(live_server, "soapui"),
        client(live_server, "admin"),
    )
    receipt = owner.upload_image("mine.png", unique_png())
    with pytest.raises(NotFound) as caught:
        other.get_image(receipt.image_id)
    assert caught.value.image_id == receipt.image_id and caught.value.code == "Client.NotFound"
    assert receipt.image_id not in {r.image_id for r in other.list_images(100).images}
    assert admin.get_image(receipt.image_id).receipt == receipt
    with pytest.raises(AuthenticationError):
        SoapServiceClient(live_server.url).get_image(receipt.image_id)


def test_delete(live_server: LiveServer, soap_version: str) -> None:
    owner = client(live_server, soap_version=soap_version)
    other = client(live_server, "soapui", soap_version=soap_version)
    admin = client(live_server, "admin", soap_version=soap_version)
    receipt = owner.upload_image("bye.png", unique_png())
    with pytest.raises(NotFound):
        other.delete_image(receipt.image_id)
    assert owner.delete_image(receipt.image_id) == receipt
    for call in (owner.get_image, owner.delete_image):
        with pytest.raises(NotFound):
            call(receipt.image_id)
    second = owner.upload_image("again.png", unique_png())
    assert admin.delete_image(second.image_id) == second


@pytest.fixture(scope="module")
def stored(live_server: LiveServer) -> tuple[str, bytes, str]:
    data = make_image("GIF", (120, 90)) + b""
    receipt = client(live_server).upload_image("dl.gif", data)
    return receipt.image_id, data, receipt.sha256


def get(server: LiveServer, image_id: str, **headers: str) -> requests.Response:
    return requests.get(f"{server.url}/images/{image_id}", headers=headers, auth=TESTER, timeout=30)


def test_download(live_server: LiveServer, stored: tuple[str, bytes, str]) -> None:
    image_id, data, sha = stored
    response = get(live_server, image_id)
    assert response.status_code == 200 and response.content == data
    assert response.headers["Content-Type"] == "image/gif"
    assert response.headers["Content-Length"] == str(len(data))
    assert response.headers["ETag"] == f'"{sha}"'
    assert response.headers["Accept-Ranges"] == "bytes"
    head = requests.head(f"{live_server.url}/images/{image_id}", auth=TESTER, timeout=30)
    assert head.status_code == 200 and head.content == b""


def test_if_none_match(live_server: LiveServer, stored: tuple[str, bytes, str]) -> None:
    image_id, _, sha = stored
    assert get(live_server, image_id, **{"If-None-Match": f'"{sha}"'}).status_code == 304
    assert get(live_server, image_id, **{"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.parametrize(
    ("spec", "piece"),
    [
        ("bytes=10-19", slice(10, 20)),
        ("bytes=100-", slice(100, None)),
        ("bytes=-5", slice(-5, None)),
        ("bytes=0-0", slice(0, 1)),
        ("bytes=5-999999", slice(5, None)),
    ],
)
def test_ranges(
    live_server: LiveServer, stored: tuple[str, bytes, str], spec: str, piece: slice
) -> None:
    image_id, data, _ = stored
    response = get(live_server, image_id, Range=spec)
    assert response.status_code == 206
    assert response.content == data[piece]
    start = piece.start if piece.start is None or piece.start >= 0 else len(data) + piece.start
    start = start or 0
    assert response.headers["Content-Range"] == (
        f"bytes {start}-{start + len(data[piece]) - 1}/{len(data)}"
    )


def test_unsatisfiable_and_ignored_ranges(
    live_server: LiveServer, stored: tuple[str, bytes, str]
) -> None:
    image_id, data, _ = stored
    bad = get(live_server, image_id, Range=f"bytes={len(data)}-")
    assert bad.status_code == 416 and bad.headers["Content-Range"] == f"bytes */{len(data)}"
    several = get(live_server, image_id, Range="bytes=0-1,5-6")
    assert several.status_code == 200 and several.content == data
    # positions of thousands of digits (issue 16, finding 7: a 500 and a traceback)
    huge = "9" * 5000
    assert get(live_server, image_id, Range=f"bytes={huge}-").status_code == 416
    tail = get(live_server, image_id, Range=f"bytes=-{huge}")
    assert tail.status_code == 206 and tail.content == data
    head = get(live_server, image_id, Range=f"bytes=0-{huge}")
    assert head.status_code == 206 and head.content == data
    padded = get(live_server, image_id, Range=f"bytes={'0' * 5000}1-{'0' * 5000}2")
    assert padded.status_code == 206 and padded.content == data[1:3]
    assert "Traceback" not in live_server.log_text()


def test_download_needs_the_right_user(
    live_server: LiveServer, stored: tuple[str, bytes, str]
) -> None:
    image_id, _, _ = stored
    url = f"{live_server.url}/images/{image_id}"
    anonymous = requests.get(url, timeout=30)
    assert anonymous.status_code == 401 and "Basic" in anonymous.headers["WWW-Authenticate"]
    other = requests.get(url, auth=("soapui", USERS["soapui"][0]), timeout=30)
    assert other.status_code == 404
    assert requests.get(url, auth=("admin", USERS["admin"][0]), timeout=30).status_code == 200
    assert get(live_server, "no-such-image").status_code == 404
    assert get(live_server, "../../etc/passwd").status_code in (404,)


def test_ten_mib_round_trip(live_server: LiveServer) -> None:
    api = client(live_server)
    data = make_noise_png(10 * 1024 * 1024)
    receipt = api.upload_image("big.png", data)
    assert b"".join(api.download(receipt.image_id)) == data
    assert api.get_image(receipt.image_id).content == data


def _png_html_polyglot() -> bytes:
    """A valid PNG that is also an HTML page: a tEXt chunk holding a script."""
    png = make_image("PNG")
    text = (
        b"comment\x00<html><script>alert(document.cookie)</script></html>"
        + os.urandom(8).hex().encode()
    )
    chunk = struct.pack(">I", len(text)) + b"tEXt" + text
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + text))
    return png[:33] + chunk + png[33:]  # after the signature and IHDR


def test_content_is_served_as_what_it_is(live_server: LiveServer) -> None:
    """Issue 16, finding 9: a PNG/HTML polyglot labelled text/html, x.html."""
    api = client(live_server)
    receipt = api.upload_image("x.html", _png_html_polyglot(), "text/html")
    assert receipt.format == "png"
    assert api.get_image(receipt.image_id).content_type == "image/png"
    for response in (
        get(live_server, receipt.image_id),
        get(live_server, receipt.image_id, Range="bytes=0-9"),
        get(live_server, receipt.image_id, **{"If-None-Match": f'"{receipt.sha256}"'}),
    ):
        assert response.status_code in (200, 206, 304)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="{receipt.image_id}.png"'
        )
        if response.status_code != 304:
            assert response.headers["Content-Type"] == "image/png"
    refused = requests.post(f"{live_server.url}/images/{receipt.image_id}", timeout=30)
    assert refused.status_code == 405 and refused.headers["Allow"] == "GET, HEAD"
    for response in (
        get(live_server, "nosuchimage"),
        get(live_server, receipt.image_id, Range="bytes=999999-"),
        refused,  # found by the route fuzzer: the 405 had neither header
    ):
        assert response.status_code in (404, 405, 416)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
