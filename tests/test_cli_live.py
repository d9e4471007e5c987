"""The soap-client command line against the live server: output and exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from service.config import Settings
from tests.conftest import ROOT, TESTER, LiveServer
from tests.images import make_image


def as_tester(*args: str) -> tuple[str, ...]:
    return ("--user", TESTER[0], "--password-stdin", *args)


def soap_client(
    server_url: str, *args: str, password: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "client.cli", "--url", server_url, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        input=password,
    )


@pytest.mark.parametrize("port", [[], ["--soap12"]], ids=["soap11", "soap12"])
def test_all_four_operations(live_server: LiveServer, tmp_path: Path, port: list[str]) -> None:
    greet = soap_client(live_server.url, *port, "greet", "Ada")
    assert (greet.returncode, greet.stdout) == (0, "Hello, Ada!\n")
    time = soap_client(live_server.url, *port, "time", "--timezone", "Europe/Paris")
    assert time.returncode == 0 and "timezone  Europe/Paris" in time.stdout
    # as on the wire: the UTC time with a Z, the local one with its zone's offset
    assert re.search(r"^utc +\S+\.\d{6}Z$", time.stdout, re.M), time.stdout
    assert re.search(r"^local +\S+\.\d{6}\+0[12]:00$", time.stdout, re.M), time.stdout
    echo = soap_client(
        live_server.url,
        *port,
        "echo-person",
        "--first-name",
        "Ada",
        "--last-name",
        "Lovelace",
        "--age",
        "36",
    )
    assert echo.returncode == 0
    assert echo.stdout.splitlines() == [
        "first_name  Ada",
        "last_name   Lovelace",
        "age         36",
    ]
    image = tmp_path / "photo.png"
    image.write_bytes(make_image("PNG", (10, 7)))
    upload = soap_client(
        live_server.url, *port, *as_tester("upload", str(image)), password=TESTER[1]
    )
    assert upload.returncode == 0
    assert "format       png" in upload.stdout and "width        10" in upload.stdout


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["greet", " "], "field 'name'"),
        (["time", "--timezone", "Nowhere/Land"], "field 'timezone'"),
        (
            ["echo-person", "--first-name", "A", "--last-name", "B", "--age", "200"],
            "field 'person/age'",
        ),
    ],
)
def test_faults_exit_1_and_say_what_to_fix(
    live_server: LiveServer, args: list[str], shown: str
) -> None:
    result = soap_client(live_server.url, *args)
    assert result.returncode == 1
    assert "Client.Validation" in result.stderr and shown in result.stderr


def test_text_file_uploaded_as_image(live_server: LiveServer, tmp_path: Path) -> None:
    text = tmp_path / "notes.png"
    text.write_text("hello, I am text\n")
    result = soap_client(live_server.url, *as_tester("upload", str(text)), password=TESTER[1])
    assert result.returncode == 1
    assert "Client.ImageRejected (not_an_image)" in result.stderr


def test_trace_prints_both_envelopes(live_server: LiveServer) -> None:
    result = soap_client(live_server.url, "--trace", "greet", "Ada")
    assert result.returncode == 0
    assert "request envelope" in result.stderr and "response envelope" in result.stderr
    assert "GreetResponse" in result.stderr


def test_transport_error_exits_3() -> None:
    result = soap_client("http://127.0.0.1:9", "greet", "Ada")
    assert result.returncode == 3
    assert "cannot reach" in result.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert soap_client("http://127.0.0.1:9", "frobnicate").returncode == 2
    assert (
        soap_client("http://127.0.0.1:9", "upload", str(tmp_path / "missing.png")).returncode == 2
    )


@pytest.mark.parametrize("auth", ["wsse-text", "wsse-digest", "basic"])
def test_upload_needs_a_user_and_accepts_each_way_of_signing(
    live_server: LiveServer, tmp_path: Path, auth: str
) -> None:
    image = tmp_path / "photo.gif"
    image.write_bytes(make_image("GIF", (3, 2)))
    anonymous = soap_client(live_server.url, "upload", str(image))
    assert anonymous.returncode == 1 and "wsse:FailedAuthentication" in anonymous.stderr
    signed = soap_client(
        live_server.url, "--auth", auth, *as_tester("upload", str(image)), password=TESTER[1]
    )
    assert signed.returncode == 0, signed.stderr
    wrong = soap_client(
        live_server.url,
        "--auth",
        auth,
        *as_tester("upload", str(image)),
        password="not-the-password",
    )
    assert wrong.returncode == 1 and "wsse:FailedAuthentication" in wrong.stderr


def test_json_table_progress_and_download(live_server: LiveServer, tmp_path: Path) -> None:
    from tests.images import make_noise_png

    image = tmp_path / "big.png"
    image.write_bytes(make_noise_png(300_000))
    upload = soap_client(
        live_server.url,
        "--json",
        "--progress",
        *as_tester("upload", str(image)),
        password=TESTER[1],
    )
    assert upload.returncode == 0, upload.stderr
    receipt = json.loads(upload.stdout)
    assert receipt["size_bytes"] == image.stat().st_size and receipt["format"] == "png"
    assert "upload [" in upload.stderr and "100%" in upload.stderr

    listed = soap_client(
        live_server.url, *as_tester("list", "--page-size", "100"), password=TESTER[1]
    )
    assert listed.returncode == 0
    header = listed.stdout.splitlines()[0].split()
    assert header[:2] == ["image_id", "sha256"]
    assert receipt["image_id"] in listed.stdout

    copy = tmp_path / "copy.png"
    download = soap_client(
        live_server.url,
        "--progress",
        *as_tester("download", receipt["image_id"], "-o", str(copy)),
        password=TESTER[1],
    )
    assert download.returncode == 0, download.stderr
    assert copy.read_bytes() == image.read_bytes()
    assert "download [" in download.stderr and "100%" in download.stderr

    missing = tmp_path / "missing.png"
    gone = soap_client(
        live_server.url,
        *as_tester("download", "no-such-image", "-o", str(missing)),
        password=TESTER[1],
    )
    assert gone.returncode == 1 and not missing.exists()

    described = soap_client(live_server.url, "--json", "describe")
    assert described.returncode == 0
    assert json.loads(described.stdout)["client_address"] == "127.0.0.1"


def test_password_from_the_environment_and_exit_codes(live_server: LiveServer) -> None:
    import os

    env = {**os.environ, "SOAP_CLIENT_PASSWORD": TESTER[1]}
    done = subprocess.run(
        [sys.executable, "-m", "client.cli", "--url", live_server.url, "--user", TESTER[0], "list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    wrong = soap_client(live_server.url, *as_tester("list"), password="not-the-password")
    assert wrong.returncode == 1 and "FailedAuthentication" in wrong.stderr
    assert soap_client(live_server.url, "no-such-command").returncode == 2
    assert soap_client("http://127.0.0.1:9", "greet", "Ada").returncode == 3


def soap_service(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
    )


def test_options_after_the_subcommand_or_before_it(tmp_path: Path) -> None:
    after, before = tmp_path / "after", tmp_path / "before"
    added = soap_service("users", "add", "ada", "--data-dir", str(after), stdin="Pa55word-ada\n")
    assert added.returncode == 0, added.stderr
    added = soap_service("users", "--data-dir", str(before), "add", "bob", stdin="Pa55word-bob\n")
    assert added.returncode == 0, added.stderr
    assert soap_service("users", "list", "--data-dir", str(after)).stdout.split()[0] == "ada"
    assert soap_service("users", "--data-dir", str(before), "list").stdout.split()[0] == "bob"
    # given in both places, the subcommand's wins
    both = soap_service("users", "--data-dir", str(before), "list", "--data-dir", str(after))
    assert both.stdout.split()[0] == "ada"
    assert soap_service("users", "remove", "ada", "--data-dir", str(after)).returncode == 0
    assert soap_service("users", "list", "--data-dir", str(after)).stdout == ""

    upgraded = soap_service("db", "upgrade", "--data-dir", str(after), "--database-url", "")
    assert upgraded.returncode == 0 and f"SQLite in {after}" in upgraded.stdout, upgraded.stderr
    version = soap_service("db", "--data-dir", str(after), "--database-url", "", "version")
    assert version.returncode == 0 and f"SQLite in {after}" in version.stdout
    unreachable = "postgresql://127.0.0.1:9/none"
    refused = soap_service("db", "version", "--data-dir", str(after), "--database-url", unreachable)
    assert refused.returncode == 1 and "cannot be reached" in refused.stderr

    committed = str(ROOT / "wsdl" / "service.wsdl")
    assert soap_service("wsdl", "check", "--wsdl", committed).returncode == 0
    exported = soap_service("wsdl", "export", "--output", "-")
    assert exported.returncode == 0 and exported.stdout.encode() == Path(committed).read_bytes()


@pytest.mark.parametrize("command", [("db", "version"), ("serve", "--port", "0")])
def test_a_malformed_database_url_is_said_plainly(command: tuple[str, ...]) -> None:
    """No traceback, and nothing of the URL repeated (it may hold a password)."""
    done = soap_service(*command, "--database-url", "s3cret-not-a-dsn")
    assert done.returncode == 1
    assert "not a PostgreSQL connection string" in done.stderr
    assert "Traceback" not in done.stderr and "s3cret" not in done.stderr


def test_client_options_after_the_command(live_server: LiveServer, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "client.cli", "greet", "Ada", "--url", live_server.url, "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, json.loads(done.stdout)) == (0, "Hello, Ada!"), done.stderr
    image = tmp_path / "photo.png"
    image.write_bytes(make_image("PNG", (4, 3)))
    upload = soap_client(
        live_server.url,
        "--json",
        "upload",
        str(image),
        "--user",
        TESTER[0],
        "--password-stdin",
        "--soap12",
        password=TESTER[1],
    )
    assert upload.returncode == 0, upload.stderr
    assert json.loads(upload.stdout)["received_at"].endswith("Z")
    utc = json.loads(soap_client(live_server.url, "time", "--json").stdout)
    assert utc["utc"].endswith("Z") and utc["local"].endswith("+00:00")


def test_serve_help_shows_the_settings_defaults() -> None:
    text = " ".join(soap_service("serve", "--help").stdout.split())
    defaults = Settings()
    assert f"threads per worker (default {defaults.threads};" in text
    assert f"default {defaults.port};" in text and f"(default {defaults.host};" in text
    assert f"(default {defaults.workers}, one per core;" in text
    assert f"(default {defaults.max_image_bytes // 1024 // 1024} MiB;" in text


def test_granian_does_not_log_about_websockets(live_server: LiveServer) -> None:
    log = live_server.log_text()
    assert "listening on" in log  # this is the server's whole output
    assert "Websockets are not supported" not in log
