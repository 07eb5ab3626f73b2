"""The unit suite on the oldest libraries snddiag supports: what Debian 12 and Alpine 3.20 ship.

Python 3.9 with PyYAML 6.0, psutil 5.9.4, pyudev 0.24.0 and rich 13.3.1 (Debian 12's versions,
the older of the two distributions for each library).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.guests import REPO
from tests.python39 import python39

FLOOR = ("PyYAML==6.0", "psutil==5.9.4", "pyudev==0.24.0", "rich==13.3.1")
# hypothesis: pyproject's floor; dask: docs/examples/dask_analyze.py's test (2024.8 on 3.9)
TEST_TOOLS = ("pytest", "jsonschema", "hypothesis==6.36.0", "dask[distributed]")
VENV = REPO / ".lab" / "floor-venv-py39"


def _venv_python() -> Path:
    python = VENV / "bin" / "python"
    stamp = VENV / "floor.txt"
    wanted = "\n".join(FLOOR + TEST_TOOLS)
    if not python.exists() or not stamp.exists() or stamp.read_text() != wanted:
        shutil.rmtree(VENV, ignore_errors=True)
        subprocess.run([python39(), "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *FLOOR, *TEST_TOOLS],
            check=True,
        )
        stamp.write_text(wanted)
    return python


def test_unit_suite_passes_on_distro_floor_libraries() -> None:
    python = _venv_python()
    versions = subprocess.run(
        [
            str(python),
            "-c",
            "import sys, yaml, psutil, rich, importlib.metadata as m;"
            "print(sys.version_info[:2], yaml.__version__, psutil.__version__,"
            " m.version('rich'), m.version('pyudev'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "(3, 9)" in versions and "6.0" in versions and "13.3.1" in versions, versions
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [
            str(python),
            "-m",
            "pytest",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            "-m",
            "not guest",
            "--ignore=tests/test_distro_floor.py",
            "--ignore=tests/packaging",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout
