"""A run imports only what it uses: each module is a file to find, read and run, and on a small
guest under emulation that is most of a run's time. A real process, its sys.modules checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.installed import install_copy

# Modules a plain `snddiag --json` has no use for: the --play driver, bundles, the YAML loader
# (the installed rules are compiled), hashing, the terminal report.
NOT_ON_A_PLAIN_RUN = (
    "snddiag.collect.data_path",
    "snddiag.collect.pcm",
    "snddiag.collect.pcm_abi",
    "snddiag.collect.pcm_open",
    "snddiag.collect.pcm_pointer",
    "snddiag.collect.tone",
    "snddiag.bundle",
    "snddiag.offline",
    "snddiag.engine.load",
    "snddiag.engine.regex_risk",
    "snddiag.report.terminal",
    "yaml",
    "hashlib",
    "rich",
    "statistics",
    "dataclasses",  # snddiag.records makes its classes
    "inspect",
    "shutil",  # with bz2 and lzma: argparse's help width and the PATH search do without
    "argparse",  # a plain diagnosis's options are read without it (cli._plain_diagnosis)
    "gettext",
    "snddiag.options",
)

RUN_AND_LIST = """
import json, sys
from snddiag import cli
code = cli.main(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    json.dump({"exit": code, "modules": sorted(sys.modules)}, out)
"""


def _modules(
    installed: Path, argv: list[str], tmp_path: Path, python: str = sys.executable
) -> tuple[int, set[str]]:
    listing = tmp_path / "modules.json"
    env = {**os.environ, "PYTHONPATH": str(installed), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [python, "-c", RUN_AND_LIST, str(listing), *argv],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    found = json.loads(listing.read_text())
    return found["exit"], set(found["modules"])


def _interpreter_start_up(python: str) -> set[str]:
    """What `python` imports before any code runs: a site-packages .pth file may import
    modules of the list (this lab's imports certifi, and with it shutil)."""
    done = subprocess.run(
        [python, "-c", "import sys; print('\\n'.join(sys.modules))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return set(done.stdout.split())


def _offending(modules: set[str], python: str = sys.executable) -> list[str]:
    """Which of NOT_ON_A_PLAIN_RUN were imported (a package counts with its submodules), of
    those the interpreter does not import by itself."""
    imported = modules - _interpreter_start_up(python)
    return [
        name
        for name in NOT_ON_A_PLAIN_RUN
        if any(m == name or m.startswith(name + ".") for m in imported)
    ]


# The distro's interpreter (.ci/run installs it) imports far less at start-up than this one.
INTERPRETERS = [
    sys.executable,
    *(["/usr/bin/python3"] if Path("/usr/bin/python3").exists() else []),
]


@pytest.mark.parametrize("python", INTERPRETERS)
def test_plain_json_run_imports_only_what_it_uses(tmp_path: Path, python: str) -> None:
    installed = tmp_path / "site"
    install_copy(installed)
    code, modules = _modules(installed, ["--json"], tmp_path, python)
    assert code in (0, 1, 2, 3)
    assert "snddiag.engine.compiled" in modules  # the run did load rules
    assert "snddiag.facts" in modules
    assert _offending(modules, python) == []


def test_plain_run_without_compiled_rules_reads_yaml(tmp_path: Path) -> None:
    installed = tmp_path / "site"
    install_copy(installed, compiled=False)
    code, modules = _modules(installed, ["--json"], tmp_path)
    assert code in (0, 1, 2, 3)
    assert {"yaml", "snddiag.engine.load"} <= modules
    assert _offending(modules) == ["snddiag.engine.load", "snddiag.engine.regex_risk", "yaml"]
