"""The wheel builds as pip builds it for `pip install .` in a fresh virtual environment: in
pip's isolated build environment, which pip puts on the path through PYTHONPATH. hatch_build.py
compiles the rules from YAML in a subprocess there: when it replaced PYTHONPATH instead of
adding to it, that subprocess lost the environment's PyYAML and the README's virtual
environment path failed ("No module named 'yaml'", found walking it on Ubuntu 24.04)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent


def test_pip_of_a_fresh_venv_builds_the_wheel(tmp_path: Path) -> None:
    """As the README's virtual environment path does: a venv without PyYAML, its own pip."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    out = tmp_path / "wheels"
    done = subprocess.run(
        [str(venv / "bin" / "pip"), "wheel", "--no-deps", "--wheel-dir", str(out), str(REPO)],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (wheel,) = out.glob("snddiag-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert "snddiag/rules/compiled-rules.pickle" in archive.namelist()
