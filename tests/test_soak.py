"""A short soak in CI (SOAK_SECONDS, default 15): 64 connections, no wrong answer, flat RSS."""

from __future__ import annotations

import os

from bench.soak import run


def test_short_soak() -> None:
    result = run(float(os.environ.get("SOAK_SECONDS", "15")), connections=64, max_growth=0.25)
    assert result["wrong"] == {} and result["errors"] == {}, result
    assert result["rss_flat"], result["workers_rss_mib"]
    assert result["passed"]
