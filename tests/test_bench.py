"""``make bench`` keeps working: a one-round, one-second run of two scenarios.

Not a timing test (no bound on any number): it proves the four servers build,
start and answer every request correctly under wrk, and that the report is
written. The real measurement is ``make bench``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.interop.conftest import require
from tests.live_server import ROOT


def test_the_benchmark_runs_and_every_answer_is_right(tmp_path: Path) -> None:
    require("wrk", "wsdl2h", "soapcpp2", "g++", "node", str(ROOT / "bench/refs/node/node_modules"))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--quick",
            "--rounds",
            "1",
            "--seconds",
            "1",
            "--output",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    servers = {row["server"] for row in results["summary"]}
    assert servers == {"soap-service", "fixed", "node-soap", "gsoap"}
    assert all(row["errors"] == 0 for row in results["summary"])
    assert all(run["requests"] > 0 for run in results["runs"])
    ours = [row for row in results["summary"] if row["server"] == "soap-service"]
    assert all(row["vs_node"] and row["vs_gsoap"] for row in ours)
    assert "| scenario | server |" in (tmp_path / "results.md").read_text()
