"""The benchmark scripts still run, on tiny sizes.

The benchmarks are scripts that print figures (README, "Performance"), not timed tests.
They walk the real flows, so a change to the intake or the case core can break them
without any test noticing; this runs each once, small, and checks that it finished and
printed its figures. The figures themselves are not checked: a slow machine is no failure.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(*args: str, timeout: float = 240) -> str:
    result = subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_the_report_flow_benchmark_files_every_report_and_compares_with_the_echo_bots():
    out = run("tests.benchmarks.report_flow", "--reporters", "3", "--baseline-users", "3", "--idle-seconds", "0.2")
    assert "RATIO meldbot / echo + AIORateLimiter" in out
    assert "reports confirmed to reporters: 3/3; received by the counsellor: 3/3" in out
    assert "presses never answered: 0" in out


def test_the_followups_benchmark_starts_with_a_backlog_and_delivers_each_once():
    out = run("tests.benchmarks.followups", "--pending", "500", "--reporters", "5")
    assert "delivered: 5/5; duplicates: 0; refused for going too fast: 0" in out


def test_the_scaling_benchmark_times_every_request_on_a_real_database():
    out = run("tests.benchmarks.scaling", "--sizes", "1000", "--repeat", "1")
    for line in ("/inbox page 50", "/mycases (40 cases)", "a whole report", "timekeeper wake-up"):
        assert line in out


def test_the_statistics_benchmark_counts_charts_and_exports():
    out = run("tests.benchmarks.stats", "--size", "300", "--repeat", "1")
    for line in ("/stats, first look", "the three charts", "/export in the chat", "meldbot export"):
        assert line in out
