"""service.observability.metrics: counts from every worker's file, in the Prometheus text format."""

from __future__ import annotations

import bisect
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from service.observability import metrics

OPS = ["Greet", "EchoPerson"]


def _values(text: bytes) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text.decode())
        for s in family.samples
    }


def test_workers_files_are_summed(tmp_path: Path) -> None:
    first, second = metrics.Metrics(OPS, tmp_path, pid=1), metrics.Metrics(OPS, tmp_path, pid=2)
    first.observe("/soap", "Greet", None, 0.002)
    second.observe("/soap", "Greet", None, 0.2)
    second.observe("/soap", "Greet", "Client.Validation", 0.004)
    for reader in (first, second):
        got = _values(reader.render())
        labels = frozenset({("port", "/soap"), ("operation", "Greet")})
        assert got[("soap_service_requests_total", labels)] == 3
        assert got[("soap_service_request_duration_seconds_count", labels)] == 3
        assert abs(got[("soap_service_request_duration_seconds_sum", labels)] - 0.206) < 1e-9
        assert (
            got[("soap_service_request_duration_seconds_bucket", labels | {("le", "0.0025")})] == 1
        )
        assert (
            got[("soap_service_request_duration_seconds_bucket", labels | {("le", "0.005")})] == 2
        )
        assert got[("soap_service_request_duration_seconds_bucket", labels | {("le", "+Inf")})] == 3
        fault = labels | {("code", "Client.Validation")}
        assert got[("soap_service_faults_total", fault)] == 1
    first.close()
    second.close()


def test_unknown_names_are_counted_under_a_dash() -> None:
    counter = metrics.Metrics(OPS)
    counter.observe("/nowhere", "NoSuchOp", "Made.Up", 0.001)
    got = _values(counter.render())
    labels = frozenset({("port", "-"), ("operation", "-")})
    assert got[("soap_service_requests_total", labels)] == 1
    assert got[("soap_service_faults_total", labels | {("code", "-")})] == 1


def test_every_fault_code_of_the_tree_has_a_slot() -> None:
    codes = metrics.fault_codes()
    for code in ("Client.Validation", "wsse:FailedAuthentication", "Server.Internal", "HTTP.404"):
        assert code in codes


def test_another_layout_and_old_runs_are_not_mixed_in(tmp_path: Path) -> None:
    stale = metrics.Metrics(["Other"], tmp_path, pid=7)
    stale.observe("/soap", "Other", None, 0.1)
    current = metrics.Metrics(OPS, tmp_path, pid=8)
    assert b"soap_service_requests_total{" not in current.render()
    metrics.clear(tmp_path)
    assert list(tmp_path.iterdir()) == []
    stale.close()
    current.close()


def _observed_the_plain_way(
    counter: metrics.Metrics, port: str, operation: str | None, code: str | None, seconds: float
) -> None:
    """observe() as first written: every name normalised, every slot looked up, each time."""
    layout = counter.layout
    op = operation if operation in layout.known_operations else metrics.OTHER
    port = port if port in metrics.PORTS else metrics.OTHER
    base = layout.series[(port, op)]
    slots = counter._slots
    slots[base] += 1
    slots[base + 1] += seconds
    slots[base + 2 + bisect.bisect_left(metrics.BUCKETS, seconds)] += 1
    if code is not None:
        index = layout.faults.get((port, op, code))
        slots[layout.faults[(port, op, metrics.OTHER)] if index is None else index] += 1


@settings(max_examples=200, deadline=None)
@given(
    calls=st.lists(
        st.tuples(
            st.sampled_from([*metrics.PORTS, "/", "/healthz", "/nowhere"]),
            st.sampled_from([*OPS, None, "NoSuchOp", "-"]),
            st.sampled_from([None, *metrics.fault_codes(), "Made.Up", "-"]),
            st.floats(0, 20, allow_nan=False),
        ),
        max_size=30,
    )
)
def test_the_counts_are_those_of_the_plain_way(
    calls: list[tuple[str, str | None, str | None, float]],
) -> None:
    fast, plain = metrics.Metrics(OPS), metrics.Metrics(OPS)
    for call in calls:
        fast.observe(*call)
        _observed_the_plain_way(plain, *call)
    assert fast.totals() == plain.totals()
    assert fast.render() == plain.render()
    fast.close()
    plain.close()
