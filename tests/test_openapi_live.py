"""``GET /openapi.json`` on the real server, and a client generated from it calling every
operation of ``/http`` over HTTP.

The client is what a seed-004 REST user would make: ``openapi-python-client generate``
with its default options, from the committed description (the served one is the same,
``test_served_description_is_the_committed_one``), then imported as it is. Every answer's
JSON is also validated against the description's own schema, so the description says
what the binding really sends.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import requests
from openapi_schema_validator import OAS30Validator

from service import ns
from service.contract.openapi import drift
from tests.conftest import ROOT, TESTER, LiveServer
from tests.images import make_image

COMMITTED = ROOT / "wsdl" / "openapi.json"
DOCUMENT: dict[str, Any] = json.loads(COMMITTED.read_bytes())
PACKAGE = "soap_service_client"
OPERATIONS = [
    "Greet",
    "GetTime",
    "EchoPerson",
    "UploadImage",
    "GetImage",
    "ListImages",
    "DeleteImage",
    "DescribeRequest",
]


def test_served_description_is_the_committed_one(live_server: LiveServer) -> None:
    response = requests.get(live_server.url + "/openapi.json", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    # the same bytes, but for the address the server was configured with
    expected = COMMITTED.read_bytes().replace(
        f'"url": "{ns.PLACEHOLDER_BASE_URL}"'.encode(), f'"url": "{live_server.url}"'.encode()
    )
    assert response.content == expected
    assert response.json()["servers"] == [{"url": live_server.url}]
    assert drift(COMMITTED.read_bytes(), response.content) == []


def test_the_description_takes_get_only(live_server: LiveServer) -> None:
    response = requests.post(live_server.url + "/openapi.json", timeout=30)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"


def test_wsdl_check_against_the_served_description(live_server: LiveServer) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "service",
            "wsdl",
            "check",
            "--url",
            live_server.url + "/openapi.json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "matches" in done.stderr


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client openapi-python-client generates (default options), imported."""
    out = tmp_path_factory.mktemp("openapi-client") / "client"
    tools = Path(sys.executable).parent  # openapi-python-client runs ruff on what it writes
    done = subprocess.run(
        [str(tools / "openapi-python-client"), "generate", "--path", str(COMMITTED)]
        + ["--output-path", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "warning" not in (done.stdout + done.stderr).lower(), done.stdout + done.stderr
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _module(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


def _api(operation_id: str) -> Any:
    """The generated module of an operation id (``EchoPerson`` -> ``echo_person``)."""
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in operation_id).lstrip("_")
    return _module(f"api.default.{snake}")


def _models() -> Any:
    return _module("models")


def _valid(body: bytes, schema_name: str) -> Any:
    """The JSON body, checked against the description's schema of that name."""
    document = json.loads(body)
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": DOCUMENT["components"]}
    OAS30Validator(schema).validate(document)
    return document


@pytest.fixture
def clients(generated: ModuleType, live_server: LiveServer) -> Iterator[tuple[Any, Any]]:
    """An anonymous client, and one with the test user's HTTP Basic credentials."""
    token = base64.b64encode(f"{TESTER[0]}:{TESTER[1]}".encode()).decode()
    anonymous = generated.Client(base_url=live_server.url, raise_on_unexpected_status=True)
    user = generated.AuthenticatedClient(
        base_url=live_server.url, token=token, prefix="Basic", raise_on_unexpected_status=True
    )
    with anonymous, user:
        yield anonymous, user


def test_the_generated_client_calls_every_operation(clients: tuple[Any, Any]) -> None:
    anonymous, user = clients
    models = _models()
    called: set[str] = set()

    def call(operation_id: str, client: Any, **arguments: Any) -> Any:
        response = _api(operation_id).sync_detailed(client=client, **arguments)
        assert response.status_code == 200, response.content
        name = operation_id.removesuffix("Query")
        called.add(name)
        _valid(response.content, f"{name}Response")
        return response.parsed

    # GET, parameters in the query
    greeting = call("GreetQuery", anonymous, name="Ada")
    assert greeting.greet_result == "Hello, Ada!"

    # POST of JSON, the request nested as the WSDL's element
    time = call("GetTime", anonymous, body=models.GetTimeRequest(timezone="Europe/Paris"))
    assert time.get_time_result.timezone == "Europe/Paris"
    assert time.get_time_result.utc == time.get_time_result.local

    person = models.Person(first_name="Ada", last_name="Lovelace", age=36)
    echoed = call("EchoPerson", anonymous, body=models.EchoPersonRequest(person=person))
    assert echoed.echo_person_result.to_dict() == person.to_dict()

    # the same operations as an HTML form and flat in a query
    form = call(
        "EchoPerson",
        anonymous,
        body=models.EchoPersonDataBody(first_name="Ada", last_name="Lovelace", age=36),
    )
    assert form.echo_person_result.age == 36
    query = call("EchoPersonQuery", anonymous, first_name="Ada", last_name="Lovelace", age=36)
    assert query.echo_person_result.last_name == "Lovelace"

    # uploads: JSON with base64 content, and multipart/form-data with a file part
    # new bytes each run: the store keeps one image per user and content, and an earlier test
    # may have stored the usual test image under another name
    png = make_image("PNG", (random.randint(1, 4000), 5))
    receipt = call(
        "UploadImage",
        user,
        body=models.UploadImageRequest(
            filename="a.png", content=base64.b64encode(png).decode(), content_type="image/png"
        ),
    ).upload_image_result
    assert receipt.sha256 == hashlib.sha256(png).hexdigest()
    assert (receipt.format_, receipt.size_bytes) == ("png", len(png))
    gif = make_image("GIF", (random.randint(1, 4000), 5))
    file = _module("types").File(payload=BytesIO(gif), file_name="b.gif", mime_type="image/gif")
    multipart = call(
        "UploadImage",
        user,
        body=models.UploadImageFilesBody(filename="b.gif", content=file),
    ).upload_image_result
    assert multipart.sha256 == hashlib.sha256(gif).hexdigest()

    image = call("GetImageQuery", user, image_id=receipt.image_id).get_image_result
    assert base64.b64decode(image.content) == png
    assert (image.filename, image.content_type) == ("a.png", "image/png")

    page = call("ListImages", user, body=models.ListImagesRequest(page_size=100))
    listed = [r.image_id for r in page.list_images_result.images.image_receipt]
    assert receipt.image_id in listed and multipart.image_id in listed

    for image_id in (receipt.image_id, multipart.image_id):
        deleted = call("DeleteImage", user, body=models.DeleteImageRequest(image_id=image_id))
        assert deleted.delete_image_result.image_id == image_id

    described = call("DescribeRequestQuery", user).describe_request_result
    assert (described.soap_version, described.user) == ("HTTP", TESTER[0])
    assert described.path == "/http/DescribeRequest"
    assert called == set(OPERATIONS)


def _fault(response: Any, status: int, answer: str) -> Any:
    """The fault a generated call got, as the description says it comes."""
    assert response.status_code == status, response.content
    _valid(response.content, answer)
    assert type(response.parsed).__name__ == answer
    return response.parsed.fault


def test_faults_come_as_the_documented_shape(clients: tuple[Any, Any]) -> None:
    anonymous, user = clients
    models = _models()

    blank = _api("GreetQuery").sync_detailed(client=anonymous, name=" ")
    fault = _fault(blank, 400, "ValidationFaultAnswer")
    assert (fault.code, fault.detail.field, fault.detail.reason) == (
        "Client.Validation",
        "name",
        "must not be blank",
    )

    body = models.UploadImageRequest(filename="x.png", content=base64.b64encode(b"x").decode())
    unauthenticated = _api("UploadImage").sync_detailed(client=anonymous, body=body)
    fault = _fault(unauthenticated, 401, "FaultAnswer")
    assert fault.code == "wsse:FailedAuthentication"
    assert unauthenticated.headers["WWW-Authenticate"].startswith("Basic")

    rejected = _fault(
        _api("UploadImage").sync_detailed(client=user, body=body), 422, "ImageRejectedFaultAnswer"
    )
    assert (rejected.code, rejected.detail.reason.value) == ("Client.ImageRejected", "not_an_image")

    missing = _api("GetImageQuery").sync_detailed(client=user, image_id="no-such-image")
    fault = _fault(missing, 404, "NotFoundFaultAnswer")
    assert (fault.code, fault.detail.image_id) == ("Client.NotFound", "no-such-image")
