"""``make bench`` keeps working: a one-round, one-second run of four scenarios.

Not a timing test (no bound on any number): it proves the six servers (our three
architectures and the three references) build, start and answer every request
correctly under wrk, that the attack scenario holds its slow connections while
``soap-service`` answers every call, that uploads run beside small requests, that server CPU is measured, and that the
report is written. The real measurement is ``make bench``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.interop.conftest import require, run
from tests.live_server import ROOT

OURS = {"soap-service", "soap-service-wsgi", "soap-service-asgi"}


def bench_run(output: Path, *args: str, timeout: float) -> dict[str, Any]:
    """``python -m bench.run ARGS`` for one round of one second; its results.json."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", *args, "--rounds", "1", "--seconds", "1"]
        + ["--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results: dict[str, Any] = json.loads((output / "results.json").read_text())
    return results


def test_the_benchmark_runs_and_every_answer_is_right(tmp_path: Path) -> None:
    require("wrk", "wsdl2h", "soapcpp2", "g++", "node", str(ROOT / "bench/refs/node/node_modules"))
    if not all(importlib.util.find_spec(m) for m in ("uvicorn", "uvloop", "httptools")):
        # the bench extra, in this interpreter's venv (make test-pythons' venvs too)
        run(
            [ROOT / "bench/install-deps.sh"],
            cwd=ROOT,
            env={**os.environ, "BENCH_PYTHON": sys.executable},
        )
    results = bench_run(tmp_path, "--quick", timeout=600)
    summary, runs = results["summary"], results["runs"]
    assert {row["server"] for row in summary} == OURS | {"fixed", "node-soap", "gsoap"}
    attacked = "greet-under-attack"
    beside = "Greet c=16 beside uploads"
    assert {row["scenario"] for row in summary} == {
        "Greet c=16",
        attacked,
        "UploadImage 10 MiB",
        beside,
    }

    # every answer right; under attack, the other servers' failures are their result
    must_answer = [r for r in summary if r["scenario"] != attacked or r["server"] == "soap-service"]
    assert all(row["errors"] == 0 for row in must_answer)
    assert all(
        run["requests"] > 0 and run["cpu_us_per_req"] > 0
        for run in runs
        if run["scenario"] != attacked or run["server"] == "soap-service"
    )
    for row in summary:
        if row["server"] in OURS and row["scenario"] != attacked:
            assert row["vs_node"] and row["vs_gsoap"]
        if row["scenario"] == attacked:
            assert row["baseline"] == "Greet c=16"
            assert row["vs_unattacked"] is not None
    # the attack held its few slow connections against every server
    assert all(
        run["attack"]["attack_connects_total"] >= 8 and run["attack"]["attack_open_mean"] >= 1
        for run in runs
        if run["scenario"] == attacked
    )
    # the uploads ran beside the small requests, and were answered right too
    assert all(
        run["attack"]["beside_requests"] > 0 and run["detail"]["beside_bad_body"] == 0
        for run in runs
        if run["scenario"] == beside
    )
    assert all(row["baseline"] == "Greet c=16" for row in summary if row["scenario"] == beside)
    table = (tmp_path / "results.md").read_text()
    assert "| scenario | server |" in table and "server CPU µs/req" in table
    assert "| greet-under-attack | **soap-service** |" in table
    assert "| scenario | soap-service | soap-service-wsgi | soap-service-asgi |" in table
    assert f"- {beside}, soap-service: p50" in table


def test_one_scenario_against_one_reference(tmp_path: Path) -> None:
    """``--scenario`` and ``--server`` measure a part: here the upload target's."""
    require("wrk", "node", str(ROOT / "bench/refs/node/node_modules"))
    summary = bench_run(
        tmp_path,
        *("--scenario", "UploadImage 10 MiB"),
        *("--server", "soap-service", "--server", "node-soap"),
        timeout=300,
    )["summary"]
    assert {(row["scenario"], row["server"]) for row in summary} == {
        ("UploadImage 10 MiB", "soap-service"),
        ("UploadImage 10 MiB", "node-soap"),
    }
    ours = next(row for row in summary if row["server"] == "soap-service")
    assert ours["errors"] == 0 and ours["vs_node"] and ours["mib_per_s"] > 0
    assert "UploadImage 10 MiB: " in (tmp_path / "results.md").read_text()


def test_a_partial_run_never_replaces_the_readme_table() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--readme", "--server", "gsoap"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--readme takes the whole benchmark" in done.stderr
