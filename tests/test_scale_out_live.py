"""Two service instances on one PostgreSQL database, as behind a load balancer."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import requests

from client import NotFound, SoapServiceClient
from tests.conftest import TESTER, LiveServer
from tests.images import make_image
from tests.live_server import start_server, stop_server
from tests.pg import fresh_database
from tests.test_security_live import UPLOAD, digest_header, post


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    with fresh_database() as dsn:
        env = {"SOAP_SERVICE_DATABASE_URL": dsn}
        first = start_server(tmp_path_factory.mktemp("a"), env=env)
        second = start_server(tmp_path_factory.mktemp("b"), env=env)
        yield first, second
        stop_server(first)
        stop_server(second)


def api(server: LiveServer) -> SoapServiceClient:
    return SoapServiceClient(server.url, username=TESTER[0], password=TESTER[1])


def test_upload_on_one_read_list_delete_on_the_other(pair: tuple[LiveServer, LiveServer]) -> None:
    a, b = pair
    data = make_image("PNG", (77, 33))
    receipt = api(a).upload_image("shared.png", data)
    assert api(b).get_image(receipt.image_id).content == data
    assert receipt.image_id in {r.image_id for r in api(b).list_images(page_size=100).images}
    downloaded = requests.get(f"{b.url}/images/{receipt.image_id}", auth=TESTER, timeout=30)
    assert downloaded.content == data
    assert api(b).upload_image("again.png", data) == receipt  # stored once, whoever answers
    assert api(b).delete_image(receipt.image_id) == receipt
    with pytest.raises(NotFound):
        api(a).get_image(receipt.image_id)


def test_a_token_replayed_to_the_other_instance_is_refused(
    pair: tuple[LiveServer, LiveServer],
) -> None:
    a, b = pair
    header = digest_header(*TESTER, os.urandom(16))
    assert post(a, header, UPLOAD).status_code == 200
    assert post(b, header, UPLOAD).status_code == 500


def test_both_instances_run_the_same_schema(pair: tuple[LiveServer, LiveServer]) -> None:
    for server in pair:
        assert requests.get(server.url + "/healthz", timeout=30).status_code == 200
