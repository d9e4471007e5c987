"""The operations over plain HTTP and JSON (``/http/<Operation>``), called with
``http.client`` exactly as the seed clients called their services."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import shutil
import subprocess
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree

from service.ns import TNS
from tests.conftest import TESTER, LiveServer
from tests.images import make_image


@pytest.fixture
def connection(live_server: LiveServer) -> Iterator[http.client.HTTPConnection]:
    host, port = urllib.parse.urlsplit(live_server.url).netloc.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    yield conn
    conn.close()


def _read(conn: http.client.HTTPConnection) -> tuple[int, str, bytes]:
    response = conn.getresponse()
    return response.status, response.getheader("Content-Type", ""), response.read()


def _basic() -> dict[str, str]:
    pair = f"{TESTER[0]}:{TESTER[1]}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def test_seed_style_get_with_url_parameters(connection: http.client.HTTPConnection) -> None:
    params = urllib.parse.urlencode(
        {"last_name": "de la Huche", "first_name": "Jean-Paul", "age": 42}
    )
    connection.request("GET", "/http/EchoPerson?" + params)
    status, media, body = _read(connection)
    assert status == 200, body
    assert media == "application/json"
    assert json.loads(body) == {
        "EchoPersonResult": {"first_name": "Jean-Paul", "last_name": "de la Huche", "age": 42}
    }


def test_seed_style_post_of_url_encoded_parameters(connection: http.client.HTTPConnection) -> None:
    params = urllib.parse.urlencode({"last_name": "Lovelace", "first_name": "Ada", "age": 36})
    headers = {"Content-type": "application/x-www-form-urlencoded", "Accept": "text/plain"}
    connection.request("POST", "/http/EchoPerson", params, headers)
    status, _, body = _read(connection)
    assert status == 200, body
    assert json.loads(body)["EchoPersonResult"]["age"] == 36


def test_post_json_nested_or_flat(connection: http.client.HTTPConnection) -> None:
    for document in (
        {"person": {"first_name": "Ada", "last_name": "Lovelace", "age": 36}},
        {"first_name": "Ada", "last_name": "Lovelace", "age": 36},
        {"person.first_name": "Ada", "person.last_name": "Lovelace", "person.age": "36"},
    ):
        connection.request(
            "POST", "/http/EchoPerson", json.dumps(document), {"Content-Type": "application/json"}
        )
        status, _, body = _read(connection)
        assert status == 200, (document, body)
        assert json.loads(body)["EchoPersonResult"]["last_name"] == "Lovelace"


def test_xml_out_on_request(connection: http.client.HTTPConnection) -> None:
    connection.request("GET", "/http/Greet?name=Ada&format=xml")
    status, media, body = _read(connection)
    assert status == 200 and media.startswith("application/xml")
    root = etree.fromstring(body)
    assert root.tag == f"{{{TNS}}}GreetResponse"
    assert root.findtext(f"{{{TNS}}}GreetResult") == "Hello, Ada!"
    connection.request("GET", "/http/Greet?name=Ada", headers={"Accept": "application/xml"})
    assert etree.fromstring(_read(connection)[2]).tag == f"{{{TNS}}}GreetResponse"


def test_get_time_without_parameters(connection: http.client.HTTPConnection) -> None:
    connection.request("GET", "/http/GetTime")
    status, _, body = _read(connection)
    assert status == 200
    result = json.loads(body)["GetTimeResult"]
    assert result["timezone"] == "UTC" and result["utc"].endswith("Z")


def _fault(conn: http.client.HTTPConnection, method: str, url: str, **kw: Any) -> tuple[int, dict]:
    conn.request(method, url, **kw)
    status, media, body = _read(conn)
    assert media == "application/json", body
    return status, json.loads(body)["fault"]


@pytest.mark.parametrize(
    ("url", "status", "code", "field"),
    [
        (
            "/http/EchoPerson?first_name=Ada&last_name=Lovelace&age=200",
            400,
            "Client.Validation",
            "person/age",
        ),
        ("/http/EchoPerson?first_name=Ada&age=3", 400, "Client.Validation", "person/last_name"),
        (
            "/http/EchoPerson?first_name=Ada&last_name=L&age=x",
            400,
            "Client.Validation",
            "person/age",
        ),
        ("/http/Greet?name=%20", 400, "Client.Validation", "name"),
        ("/http/Greet?nmae=Ada", 400, "Client.Validation", "nmae"),
        ("/http/Greet?name=a&name=b", 400, "Client.Validation", "name"),
        ("/http/GetTime?timezone=Mars/Olympus", 400, "Client.Validation", "timezone"),
        ("/http/NoSuchThing", 404, "Client.UnknownOperation", None),
        ("/http/UploadImage?filename=a.png&content=AAAA", 401, "wsse:FailedAuthentication", None),
    ],
)
def test_faults_map_to_http_status_and_json(
    connection: http.client.HTTPConnection, url: str, status: int, code: str, field: str | None
) -> None:
    got_status, fault = _fault(connection, "GET", url)
    assert (got_status, fault["code"]) == (status, code), fault
    assert fault["message"]
    if field is not None:
        assert fault["detail"]["field"] == field


def test_unknown_parameter_names_the_right_ones(connection: http.client.HTTPConnection) -> None:
    _, fault = _fault(connection, "GET", "/http/EchoPerson?frist_name=Ada")
    assert "first_name" in fault["detail"]["reason"] and "frist_name" == fault["detail"]["field"]


def test_bad_bodies(connection: http.client.HTTPConnection) -> None:
    status, fault = _fault(
        connection,
        "POST",
        "/http/Greet",
        body=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert (status, fault["code"]) == (400, "Client.MalformedRequest")
    status, fault = _fault(
        connection, "POST", "/http/Greet", body=b"[1]", headers={"Content-Type": "application/json"}
    )
    assert (status, fault["code"]) == (400, "Client.MalformedRequest")
    status, fault = _fault(
        connection, "POST", "/http/Greet", body=b"<x/>", headers={"Content-Type": "text/xml"}
    )
    assert (status, fault["code"]) == (415, "Client.UnsupportedMedia")
    status, fault = _fault(connection, "PUT", "/http/Greet?name=Ada")
    assert (status, fault["code"]) == (405, "Client.MethodNotAllowed")
    status, fault = _fault(
        connection,
        "POST",
        "/http/Greet",
        body=json.dumps({"name": {"deep": [1]}}),
        headers={"Content-Type": "application/json"},
    )
    assert (status, fault["code"]) == (400, "Client.Validation")


@pytest.mark.parametrize("depth", [50, 1000, 100_000])
def test_deeply_nested_json_is_a_typed_fault(
    live_server: LiveServer, connection: http.client.HTTPConnection, depth: int
) -> None:
    """Issue 16, finding 7: JSON nested 1,000 deep was a bare 500, a traceback in the
    log and no access line."""
    request_id = f"nested-json-{depth}"
    status, fault = _fault(
        connection,
        "POST",
        "/http/Greet",
        body='{"name": ' + "[" * depth + "]" * depth + "}",
        headers={"Content-Type": "application/json", "X-Request-ID": request_id},
    )
    assert status == 400 and fault["code"] in ("Client.MalformedRequest", "Client.Validation")
    line = live_server.access_line(request_id)
    assert f"request_id={request_id} method=POST path=/http operation=Greet outcome=fault" in line
    assert "Traceback" not in live_server.log_text()


def test_upload_list_get_delete_with_basic_auth(connection: http.client.HTTPConnection) -> None:
    png = make_image("PNG")
    document = {"filename": "photo.png", "content": base64.b64encode(png).decode()}
    headers = {"Content-Type": "application/json", **_basic()}
    connection.request("POST", "/http/UploadImage", json.dumps(document), headers)
    status, _, body = _read(connection)
    assert status == 200, body
    receipt = json.loads(body)["UploadImageResult"]
    assert receipt["format"] == "png" and receipt["size_bytes"] == len(png)
    assert isinstance(receipt["width"], int)

    connection.request("GET", f"/http/GetImage?image_id={receipt['image_id']}", headers=_basic())
    image = json.loads(_read(connection)[2])["GetImageResult"]
    assert base64.b64decode(image["content"]) == png

    connection.request("GET", "/http/ListImages?page_size=50", headers=_basic())
    page = json.loads(_read(connection)[2])["ListImagesResult"]
    assert isinstance(page["images"]["ImageReceipt"], list)
    assert receipt["image_id"] in {r["image_id"] for r in page["images"]["ImageReceipt"]}

    connection.request(
        "POST", f"/http/DeleteImage?image_id={receipt['image_id']}", headers=_basic()
    )
    assert _read(connection)[0] == 200
    status, fault = _fault(
        connection, "GET", f"/http/GetImage?image_id={receipt['image_id']}", headers=_basic()
    )
    assert (status, fault["code"]) == (404, "Client.NotFound")


def test_rejected_image_is_422_with_its_reason(connection: http.client.HTTPConnection) -> None:
    document = {"filename": "notes.png", "content": base64.b64encode(b"plain text").decode()}
    status, fault = _fault(
        connection,
        "POST",
        "/http/UploadImage",
        body=json.dumps(document),
        headers={"Content-Type": "application/json", **_basic()},
    )
    assert (status, fault["code"]) == (422, "Client.ImageRejected")
    assert fault["detail"]["reason"] == "not_an_image"


def test_the_access_log_names_the_http_binding(
    live_server: LiveServer, connection: http.client.HTTPConnection
) -> None:
    connection.request("GET", "/http/Greet?name=Ada", headers={"X-Request-ID": "http-binding-log"})
    assert _read(connection)[0] == 200
    line = live_server.access_line("http-binding-log")
    assert "request_id=http-binding-log method=GET path=/http operation=Greet outcome=ok" in line


@pytest.mark.parametrize(
    ("url", "body", "content_type"),
    [
        ("/http/Greet?" + "name=a&" * 1001, None, None),
        ("/http/Greet", "x=1&" * 1001, "application/x-www-form-urlencoded"),
        ("/http/Greet", json.dumps({f"k{i}": i for i in range(1001)}), "application/json"),
    ],
    ids=["query", "form", "json"],
)
def test_more_than_a_thousand_parameters_is_refused_before_they_are_made(
    connection: http.client.HTTPConnection, url: str, body: str | None, content_type: str | None
) -> None:
    """Issue 16, finding 1's property: 600,000 form fields made a worker 120 MiB bigger."""
    headers = {"Content-Type": content_type} if content_type else {}
    status, fault = _fault(connection, "POST" if body else "GET", url, body=body, headers=headers)
    assert status == 400 and fault["code"] == "Client.MalformedRequest", fault
    assert "1000" in fault["message"]


# --- an HTML form's upload (issue 18): multipart/form-data ---


def _receipt(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()["UploadImageResult"]  # type: ignore[no-any-return]


def test_curl_form_upload(live_server: LiveServer, tmp_path: Path) -> None:
    """The seed's usage: ``curl -u user:pw -F content=@photo.png URL/http/UploadImage``."""
    assert shutil.which("curl"), "curl is missing"
    png = make_image("PNG", (21, 13))
    photo = tmp_path / "holiday.png"
    photo.write_bytes(png)
    out = subprocess.run(
        [
            "curl",
            "-sS",
            "-u",
            ":".join(TESTER),
            "-F",
            f"content=@{photo}",
            live_server.url + "/http/UploadImage",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    receipt = json.loads(out)["UploadImageResult"]
    assert receipt["sha256"] == hashlib.sha256(png).hexdigest()
    assert (receipt["format"], receipt["width"], receipt["height"]) == ("png", 21, 13)
    image = requests.get(
        f"{live_server.url}/http/GetImage",
        params={"image_id": receipt["image_id"]},
        auth=TESTER,
        timeout=30,
    ).json()["GetImageResult"]
    assert image["filename"] == "holiday.png" and image["content_type"] == "image/png"


def test_requests_files_upload_and_its_fields(live_server: LiveServer) -> None:
    gif = make_image("GIF", (5, 6))
    url = live_server.url + "/http/UploadImage"
    receipt = _receipt(
        requests.post(url, files={"content": ("a.gif", gif, "image/gif")}, auth=TESTER, timeout=30)
    )
    assert receipt["sha256"] == hashlib.sha256(gif).hexdigest()
    # a form field of the same name wins over what the file part says
    other = make_image("GIF", (7, 8))
    named = requests.post(
        url,
        files={"content": ("ignored.gif", other, "image/gif")},
        data={"filename": "chosen.gif"},
        auth=TESTER,
        timeout=30,
    )
    image = requests.get(
        f"{live_server.url}/http/GetImage",
        params={"image_id": _receipt(named)["image_id"]},
        auth=TESTER,
        timeout=30,
    ).json()["GetImageResult"]
    assert image["filename"] == "chosen.gif"


@pytest.mark.parametrize(
    ("content_type", "body", "code", "status"),
    [
        ("multipart/form-data", b"x", "Client.MalformedRequest", 400),
        ("multipart/form-data; boundary=zz", b"--zz\r\nno headers", "Client.MalformedRequest", 400),
        (
            "multipart/form-data; boundary=zz",
            b'--zz\r\nContent-Disposition: form-data; name="content"; filename="a.png"\r\n\r\n'
            b"unfinished",
            "Client.MalformedRequest",
            400,
        ),
        (
            "multipart/form-data; boundary=zz",
            b'--zz\r\nContent-Disposition: form-data; name="filename"\r\n\r\n\xff\xfe\r\n--zz--\r\n',
            "Client.MalformedRequest",
            400,
        ),
        (
            "multipart/form-data; boundary=zz",
            b"".join(
                b'--zz\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nx\r\n' % i
                for i in range(1001)
            )
            + b"--zz--\r\n",
            "Client.MalformedRequest",
            400,
        ),
        (
            "multipart/form-data; boundary=zz",
            b'--zz\r\nContent-Disposition: form-data; name="content"; filename="n.txt"\r\n\r\n'
            b'not an image\r\n--zz\r\nContent-Disposition: form-data; name="content"; '
            b'filename="m.txt"\r\n\r\nnor this\r\n--zz--\r\n',
            "Client.Validation",
            400,
        ),
        (
            "multipart/form-data; boundary=zz",
            b'--zz\r\nContent-Disposition: form-data; name="content"; filename="n.txt"\r\n\r\n'
            b"not an image\r\n--zz--\r\n",
            "Client.ImageRejected",
            422,
        ),
    ],
    ids=["no-boundary", "no-headers", "unfinished", "not-utf8", "too-many-parts", "twice", "text"],
)
def test_a_bad_form_is_a_typed_answer(
    live_server: LiveServer, content_type: str, body: bytes, code: str, status: int
) -> None:
    response = requests.post(
        live_server.url + "/http/UploadImage",
        data=body,
        headers={"Content-Type": content_type},
        auth=TESTER,
        timeout=30,
    )
    assert response.status_code == status, response.text
    assert response.json()["fault"]["code"] == code
