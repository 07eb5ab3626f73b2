"""benchmarks/bench_diagnosis.py in its smoke mode (it builds a wheel and snddiag.pyz, so it
runs with the packaging tests, where the build tools are): every figure is still printed."""

from __future__ import annotations

import re

from tests.test_benchmarks import BENCHMARKS, run_benchmark


def test_bench_diagnosis_smoke() -> None:
    out = run_benchmark(str(BENCHMARKS / "bench_diagnosis.py"), "--smoke", "--then-without-server")
    for label in ("python3 -c pass", "import entry", "snddiag --json", "snddiag.pyz --json"):
        assert re.search(rf"^  {re.escape(label)} +median \d", out, re.M), label
    ratios = r"^  snddiag --json +\d+\.\d+x python3 -c pass, \d+\.\d+x alsa-info"
    assert re.search(ratios, out, re.M)
    assert re.search(r"^  entry \d.*rules_load \d.*report \d", out, re.M)
    assert re.search(r"^a run imports \d+ modules \(\d+ of snddiag\)", out, re.M)
    assert re.search(r"^`python3 -c pass` imports \d+ modules, \d", out, re.M)
    second = out[out.index("after the session's servers were stopped (1 rounds complete)") :]
    assert re.search(r"^  snddiag --json +median \d", second, re.M)
