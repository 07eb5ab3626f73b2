"""Every benchmark runs, in its smoke mode: a refactor that breaks one fails here, not months
later in front of a reader. Smoke figures are not checked for speed (benchmarks are not timed
tests), only for being produced. bench_diagnosis builds a wheel: its test is with the packaging
tests (tests/packaging/test_bench_diagnosis.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from tests.guests import REPO

BENCHMARKS = REPO / "benchmarks"


def run_benchmark(*argv: str, timeout_s: float = 900) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, *argv], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=timeout_s, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    return done.stdout


def test_measure_reports_time_and_peak_rss() -> None:
    out = run_benchmark(str(BENCHMARKS / "measure.py"), "2", sys.executable, "-c", "pass")
    found = json.loads(out)
    assert found["runs"] == 2
    assert 0 < found["best_s"] <= found["median_s"]
    assert found["peak_rss_mib"] > 0


def test_phases_times_every_phase_of_a_live_diagnosis() -> None:
    found = json.loads(run_benchmark(str(BENCHMARKS / "phases.py")))
    phases = ("entry", "rules_load", "collect", "facts", "rules_run", "report")
    assert list(found["phases"]) == list(phases)
    assert all(found["phases"][name] >= 0 for name in phases)
    assert found["sources"]


def test_bench_analyze_smoke() -> None:
    out = run_benchmark(str(BENCHMARKS / "bench_analyze.py"), "--smoke")
    assert re.search(r"read\+verify \d+\.\d+ ms, diagnose \d+\.\d+ ms per bundle", out)
    assert re.search(r"^\s+\d+ \(1x\)\s+6\s+1\s", out, re.M)  # the one-core row
    assert "2x rules take" in out
    assert re.search(r"end to end, .* over 6 bundles .*exit \d.*ms a bundle", out)


def test_bench_play_smoke() -> None:
    out = run_benchmark(str(BENCHMARKS / "bench_play.py"), "--smoke")
    assert re.search(r"^snddiag --play +median \d", out, re.M)
    assert re.search(r"^--play adds: median -?\d", out, re.M)
