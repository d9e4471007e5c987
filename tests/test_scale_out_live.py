"""Two service instances on one PostgreSQL database, as behind a load balancer."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
import requests

from client import NotFound, SoapServiceClient
from tests.conftest import ROOT, TESTER, LiveServer
from tests.images import make_image
from tests.live_server import start_server, stop_server
from tests.pg import fresh_database
from tests.test_security_live import UPLOAD, digest_header, post


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of every instance: one database, one digest-secret key file."""
    key = tmp_path_factory.mktemp("secrets") / "secret.key"
    with fresh_database() as dsn:
        yield {"SOAP_SERVICE_DATABASE_URL": dsn, "SOAP_SERVICE_SECRET_KEY_FILE": str(key)}


@pytest.fixture(scope="module")
def pair(
    tmp_path_factory: pytest.TempPathFactory, database: dict[str, str]
) -> Iterator[tuple[LiveServer, LiveServer]]:
    first = start_server(tmp_path_factory.mktemp("a"), env=database)
    second = start_server(tmp_path_factory.mktemp("b"), env=database)
    yield first, second
    stop_server(first)
    stop_server(second)


def users_cli(
    env: dict[str, str], data_dir: Path, *args: str, password: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", "users", *args, "--data-dir", str(data_dir)],
        cwd=ROOT,
        input=password + "\n",
        text=True,
        capture_output=True,
        env={**os.environ, **env},
        timeout=60,
    )


def listing(server: LiveServer, auth: tuple[str, str]) -> requests.Response:
    return requests.get(server.url + "/http/ListImages", auth=auth, timeout=30)


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
    replayed = post(b, header, UPLOAD)
    assert replayed.status_code == 500 and "could not be authenticated" in replayed.text
    # a fresh token is welcome there: the user and its digest secret are the database's
    assert post(b, digest_header(*TESTER, os.urandom(16)), UPLOAD).status_code == 200


def test_both_instances_run_the_same_schema(pair: tuple[LiveServer, LiveServer]) -> None:
    for server in pair:
        assert requests.get(server.url + "/healthz", timeout=30).status_code == 200


def test_a_user_added_to_the_database_logs_in_everywhere(
    pair: tuple[LiveServer, LiveServer], database: dict[str, str], tmp_path: Path
) -> None:
    """Issue 16, finding 13: users are the database's, not each instance's file."""
    name, password = f"u-{uuid.uuid4().hex[:8]}", "Scale-0ut-Pa55"
    added = users_cli(database, tmp_path / "cli", "add", name, password=password)
    assert added.returncode == 0, added.stderr
    assert not (tmp_path / "cli" / "users.sqlite3").exists()
    listed = users_cli(database, tmp_path / "cli", "list")
    assert f"{name}\tuser\ttext" in listed.stdout
    for server in pair:
        assert listing(server, (name, password)).status_code == 200, server.url
    assert users_cli(database, tmp_path / "cli", "remove", name).returncode == 0
    for server in pair:
        assert listing(server, (name, password)).status_code == 401, server.url


def test_failures_on_one_instance_hold_back_the_other(
    pair: tuple[LiveServer, LiveServer], database: dict[str, str], tmp_path: Path
) -> None:
    """Issue 16, findings 4 and 13: one failure count per user name for all instances."""
    a, b = pair
    name, password = f"t-{uuid.uuid4().hex[:8]}", "Thr0ttled-Pa55"
    assert users_cli(database, tmp_path, "add", name, password=password).returncode == 0
    limit = 5  # AUTH_MAX_FAILURES; each guess new (a repeated one is answered from the cache)
    for guess in range(limit):
        assert listing(a, (name, f"wrong-password-{guess}")).status_code == 401
    held = listing(b, (name, password))
    assert held.status_code == 429, held.text
    assert int(held.headers["Retry-After"]) >= 1
    assert "Client.TooManyAttempts" in held.text


def test_an_instance_brings_its_users_file_into_the_database(
    pair: tuple[LiveServer, LiveServer], database: dict[str, str], tmp_path: Path
) -> None:
    """An instance that ran on SQLite keeps its users when it moves to PostgreSQL."""
    old = tmp_path / "old" / "data"
    name, password = f"o-{uuid.uuid4().hex[:8]}", "Old-Inst4nce-Pa55"
    assert users_cli({}, old, "add", name, password=password).returncode == 0
    moved = start_server(tmp_path / "old", env=database, data_dir=old)
    try:
        assert listing(moved, (name, password)).status_code == 200
        assert listing(pair[0], (name, password)).status_code == 200
        assert not (old / "users.sqlite3").exists()
        with closing(sqlite3.connect(old / "users.sqlite3.imported")) as kept:
            assert kept.execute("SELECT count(*) FROM users WHERE name = ?", (name,)).fetchone()
    finally:
        stop_server(moved)
    assert "copied 1 user(s)" in moved.log_text()


def test_a_page_token_from_one_instance_pages_on_the_other(
    pair: tuple[LiveServer, LiveServer],
) -> None:
    """Page tokens are sealed under the shared SECRET_KEY_FILE (issue 16, finding 12)."""
    a, b = pair
    for i in range(3):
        api(a).upload_image(f"page-{i}.png", make_image("PNG", (60 + i, 20)))
    first = api(a).list_images(page_size=1)
    assert first.next_page_token is not None
    second = api(b).list_images(page_size=1, page_token=first.next_page_token)
    assert second.images and second.images[0].image_id != first.images[0].image_id
