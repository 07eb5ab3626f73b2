"""snddiag only reads: a live diagnosis leaves no file behind, in its working directory, its
home, or the temporary directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.guests import REPO


def _tree(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*")}


def test_live_diagnosis_writes_nothing(tmp_path: Path) -> None:
    home, work, temp = tmp_path / "home", tmp_path / "work", tmp_path / "tmp"
    for directory in (home, work, temp):
        directory.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "TMPDIR": str(temp),
        "PYTHONPATH": str(REPO),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for argv in (["--json"], ["--no-color"]):
        done = subprocess.run(
            [sys.executable, "-m", "snddiag", *argv],
            cwd=work, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode in (0, 1, 2, 3), done.stderr
        assert "Traceback" not in done.stderr
    assert _tree(home) == _tree(work) == _tree(temp) == set()
