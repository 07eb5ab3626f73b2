"""docs/examples/dask_analyze.py, run as a reader would: analyze_one fanned out on a local
Dask cluster gives exactly what `snddiag analyze --json` gives for the same bundles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from snddiag.bundle.write import write_bundle
from snddiag.cli import main
from snddiag.engine.load import Rule, load_rules
from snddiag.evidence import Evidence
from snddiag.pipeline import diagnose
from tests.bundle.seeded import REPO, seeded_evidence, without_sound_device
from tests.guests import guest_evidence

EXAMPLE = REPO / "docs" / "examples" / "dask_analyze.py"


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    return load_rules([REPO / "rules"])


def _bundle(evidence: Evidence, rules: list[Rule], path: Path) -> None:
    document = diagnose(evidence, rules).document
    assert write_bundle(evidence, document, str(path), rules=rules) == 0


def test_dask_example_matches_the_command_line(
    rules: list[Rule], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    seeded = seeded_evidence(tmp_path / "root")
    _bundle(seeded, rules, fleet / "a-healthy.tar.gz")
    _bundle(without_sound_device(seeded), rules, fleet / "b-no-device.tar.gz")
    _bundle(guest_evidence("legacy-mmio"), rules, fleet / "c-legacy-mmio.tar.gz")
    (fleet / "d-broken.tar.gz").write_bytes((fleet / "a-healthy.tar.gz").read_bytes()[:300])
    capsys.readouterr()
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), str(fleet)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 65, done.stderr[-2000:]
    paths = sorted(str(p) for p in fleet.iterdir())
    assert main(["analyze", "--json", *paths]) == 65
    expected = json.loads(capsys.readouterr().out)
    assert json.loads(done.stdout) == expected
    assert expected["statuses"] == {
        "ok": 1,
        "warning": 0,
        "error": 2,
        "incomplete": 0,
        "unreadable": 1,
    }
    assert done.stderr.splitlines()[-1] == ("4 bundles on 2 workers: 1 ok, 2 error, 1 unreadable")
