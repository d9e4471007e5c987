"""Health, readiness, Prometheus metrics summed over workers, JSON logs, and a
graceful shutdown that answers requests in flight."""

from __future__ import annotations

import json
import signal
import socket
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from client import Person, SoapClientError, SoapServiceClient
from service.ns import TNS
from tests.conftest import LiveServer, start_server, stop_server
from tests.pg import fresh_database, maintenance_dsn


def _samples(server: LiveServer) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = requests.get(server.url + "/metrics", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def _get(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of this module's own, so that its counts start at zero (two workers)."""
    server = start_server(Path(tmp_path_factory.mktemp("metrics")))
    yield server
    stop_server(server)


def test_health_and_readiness(fresh: LiveServer) -> None:
    assert requests.get(fresh.url + "/healthz", timeout=30).text == "ok\n"
    ready = requests.get(fresh.url + "/readyz", timeout=30)
    assert (ready.status_code, ready.text) == (200, "ready\n")


def test_metrics_count_every_request_across_both_workers(fresh: LiveServer) -> None:
    api11 = SoapServiceClient(fresh.url)
    api12 = SoapServiceClient(fresh.url, soap_version="1.2")
    before = _samples(fresh)
    for _ in range(30):
        api11.greet("Ada")
    for _ in range(7):
        api12.greet("Ada")
    for _ in range(5):
        with pytest.raises(SoapClientError):
            api11.echo_person(Person("Ada", "Lovelace", 200))
    for _ in range(3):
        requests.get(fresh.url + "/http/Greet?name=%20", timeout=30)
    # several scrapes: each may reach either worker, and each shows the sum of both
    for _ in range(6):
        after = _samples(fresh)
        delta = {k: v - before.get(k, 0.0) for k, v in after.items()}
        labels11 = {"port": "/soap", "operation": "Greet"}
        assert _get(delta, "soap_service_requests_total", **labels11) == 30
        assert _get(delta, "soap_service_requests_total", port="/soap12", operation="Greet") == 7
        assert _get(delta, "soap_service_request_duration_seconds_count", **labels11) == 30
        assert (
            _get(delta, "soap_service_request_duration_seconds_bucket", **labels11, le="+Inf") == 30
        )
        assert _get(delta, "soap_service_request_duration_seconds_sum", **labels11) > 0
        assert (
            _get(
                delta,
                "soap_service_faults_total",
                port="/soap",
                operation="EchoPerson",
                code="Client.Validation",
            )
            == 5
        )
        assert (
            _get(
                delta,
                "soap_service_faults_total",
                port="/http",
                operation="Greet",
                code="Client.Validation",
            )
            == 3
        )
        assert (
            _get(
                delta,
                "soap_service_faults_total",
                port="/soap",
                operation="Greet",
                code="Client.Validation",
            )
            == 0
        )


def test_histogram_buckets_are_cumulative(fresh: LiveServer) -> None:
    SoapServiceClient(fresh.url).greet("Ada")
    samples = _samples(fresh)
    buckets = sorted(
        (float(dict(labels)["le"]), value)
        for (name, labels), value in samples.items()
        if name == "soap_service_request_duration_seconds_bucket"
        and dict(labels)["operation"] == "Greet"
        and dict(labels)["port"] == "/soap"
    )
    counts = [value for _, value in buckets]
    assert counts == sorted(counts) and buckets[-1][0] == float("inf")


def test_readiness_fails_when_the_database_goes(tmp_path: Path) -> None:
    maintenance_dsn()
    with fresh_database() as dsn:
        server = start_server(tmp_path, env={"SOAP_SERVICE_DATABASE_URL": dsn})
        try:
            assert requests.get(server.url + "/readyz", timeout=30).status_code == 200
            # a worker still starting when the database goes cannot start at all (it opens
            # the store first), and granian then stops the server: not what this tests
            server.wait_for_workers()
            name = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
            with psycopg.connect(maintenance_dsn(), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')  # type: ignore[arg-type]
            for _ in range(4):  # every worker
                response = requests.get(server.url + "/readyz", timeout=30)
                assert response.status_code == 503
                assert "store is unreachable" in response.text and dsn not in response.text
            assert requests.get(server.url + "/healthz", timeout=30).status_code == 200
        finally:
            stop_server(server)


def test_json_logs_carry_the_request_id(tmp_path: Path) -> None:
    server = start_server(tmp_path, env={"SOAP_SERVICE_LOG_FORMAT": "json"})
    try:
        requests.post(
            server.url + "/soap",
            data=b"<not-soap/>",
            headers={"Content-Type": "text/xml", "X-Request-ID": "json-log-1"},
            timeout=30,
        )
        SoapServiceClient(server.url).greet("Ada")
    finally:
        stop_server(server)
    records = [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]
    access = [r for r in records if r["logger"] == "soap_service.access"]
    first = next(r for r in access if r["request_id"] == "json-log-1")
    assert first["status"] == 500 and first["fault"] == "Client.MalformedRequest"
    assert isinstance(first["ms"], float) and first["time"].endswith("+00:00")
    assert any(r.get("operation") == "Greet" and r["outcome"] == "ok" for r in access)


def test_serve_prints_the_urls_it_serves(fresh: LiveServer) -> None:
    log = fresh.log_text()
    for what in ("/soap", "/soap12", "/soap?wsdl", "/metrics", "/healthz", "/http/<Operation>"):
        assert f"{fresh.url}{what}" in log, what


def _both_workers_serve(server: LiveServer) -> None:
    """Until each worker has answered (a worker's request ids share a prefix): a worker
    still starting when the stop comes has nothing to drain and ends without a word."""
    prefixes = set()
    for _ in range(500):
        with requests.Session() as fresh:  # a new connection: either worker may take it
            answer = fresh.get(server.url + "/healthz", timeout=30)
        prefixes.add(answer.headers["X-Request-ID"][:-8])
        if len(prefixes) == 2:
            return
    raise AssertionError("one worker never answered")


def test_graceful_shutdown_answers_the_request_in_flight(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    _both_workers_serve(server)
    body = (
        f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="{TNS}">'
        "<s:Body><t:Greet><t:name>Ada</t:name></t:Greet></s:Body></s:Envelope>"
    ).encode()
    head = (
        f"POST /soap HTTP/1.1\r\nHost: test\r\nContent-Type: text/xml\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    netloc = urllib.parse.urlsplit(server.url)
    with socket.create_connection((netloc.hostname, netloc.port), timeout=30) as conn:
        reader = conn.makefile("rb")
        conn.sendall(head + body)  # a first call: a worker now holds this connection
        assert reader.readline().startswith(b"HTTP/1.1 200")
        _skip_response(reader)
        conn.sendall(head + body[:40])  # the second call is in flight...
        server.process.send_signal(signal.SIGTERM)
        # ... when the workers are told to stop: both, as either may hold the connection
        _wait_for(server, "stopping: answering", times=2)
        conn.sendall(body[40:])
        status = reader.readline()
        headers = _skip_response(reader)
    assert status.startswith(b"HTTP/1.1 200"), status
    assert headers.get(b"connection") == b"close"
    assert server.process.wait(timeout=60) == 0
    stop_server(server)
    assert "Greet outcome=ok" in server.log_text()


def _skip_response(reader) -> dict[bytes, bytes]:  # type: ignore[no-untyped-def]
    headers = {}
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    reader.read(int(headers[b"content-length"]))
    return headers


def _wait_for(server: LiveServer, text: str, times: int = 1) -> None:
    """Until the server's log shows ``text`` ``times`` times (granian logs each step of
    its shutdown; each worker logs its own)."""
    seen = 0
    with server.log_path.open() as log:
        for _ in range(600_000):
            line = log.readline()
            if text in line:
                seen += 1
                if seen == times:
                    return
                continue
            if not line and server.process.poll() is not None:
                break
            if not line:
                select_wait(log)
    raise AssertionError(f"the server never logged {text!r}:\n{server.log_text()}")


def select_wait(log) -> None:  # type: ignore[no-untyped-def]
    """A file at its end is always readable; give the server a moment of CPU."""
    import os

    os.sched_yield()
