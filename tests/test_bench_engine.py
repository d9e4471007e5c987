"""``make bench-engine`` keeps working: a handful of calls on the current tree.

Not a timing test (no bound on any number): it proves the harness calls the three
operations through the WSGI application, reports a figure for each, and refuses a
wrong answer. The real measurement, against a git revision, is ``make bench-engine``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench import engine
from tests.live_server import ROOT

NAMES = ["Greet", "EchoPerson", "GetTime"]


def test_every_operation_answers_and_is_timed() -> None:
    with engine.engine(configure_logging=False) as bench:
        bench.warm_up(2)
        seconds = bench.round(3)
    assert list(seconds) == NAMES
    assert all(math.isfinite(s) and s > 0 for s in seconds.values()), seconds


def test_the_report_has_a_number_for_each_operation(tmp_path: Path) -> None:
    report = tmp_path / "engine.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.engine", "--calls", "3", "--rounds", "2", "--warmup", "1"]
        + ["--json", str(report)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads(report.read_text())
    assert summary["operations"] == NAMES
    assert summary["calibration_seconds"] > 0
    current = summary["revisions"]["current"]
    assert Path(current["service"]).resolve().is_relative_to(ROOT)
    for name in NAMES:
        assert current["us_per_call"][name] > 0
        assert current["calibration_iterations"][name] > 0
        assert re.search(rf"^\| {name} \| [0-9.]+ \| [0-9]+ \|$", done.stdout, re.M), done.stdout


@pytest.mark.parametrize(
    "envelope",
    [
        b"<soap-env:Envelope xmlns:soap-env='http://schemas.xmlsoap.org/soap/envelope/'>"
        b"<soap-env:Body><ns0:Greet xmlns:ns0='urn:soap-service:v1'><ns0:name>Ada",  # cut short
        engine.zeep_envelope(  # a fine request whose answer is not the expected one
            f'<ns0:Greet xmlns:ns0="{engine.TNS}"><ns0:name>Bob</ns0:name></ns0:Greet>'
        ),
    ],
)
def test_a_wrong_answer_fails_the_run(envelope: bytes) -> None:
    broken = dataclasses.replace(engine.OPERATIONS[0], envelope=envelope)
    with engine.engine([broken], configure_logging=False) as bench:
        with pytest.raises(engine.WrongAnswer, match="Greet"):
            bench.call("Greet")
        with pytest.raises(engine.WrongAnswer):
            bench.round(1)
