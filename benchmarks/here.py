"""A lab guest's command list run on this host instead: the guest benchmarks' smoke mode.

The commands see what they see in a guest ($PYTHON, $REPO on PYTHONPATH, $OUT, HOME, a scratch
working directory); the result has the shape of a guest run, so the benchmark reads and prints
it as it would a guest's. The figures are this host's and mean nothing; what the smoke mode
checks is that every command still runs and every figure is still produced.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from tests.guest.lab import CommandResult, GuestRun
from tests.guest.scenarios import Scenario

REPO = Path(__file__).resolve().parent.parent


def run_here(scenario: Scenario, commands: Mapping[str, str]) -> GuestRun:
    results: dict[str, CommandResult] = {}
    with tempfile.TemporaryDirectory(prefix="snddiag-bench-here-") as scratch:
        out = Path(scratch, "out")
        out.mkdir()
        env = {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "HOME": scratch,
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPATH": str(REPO),
            "REPO": str(REPO),
            "PYTHON": sys.executable,
            "OUT": str(out),
        }
        for name, command in commands.items():
            done = subprocess.run(
                ["/bin/sh", "-c", command],
                cwd=scratch, env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            results[name] = CommandResult(name, command, done.returncode, done.stdout, done.stderr)
    return GuestRun(
        scenario=scenario,
        kernel_release=os.uname().release + " (this host: --smoke)",
        commands=results,
        serial_log="",
        dmesg="",
        proc_modules="",
        seconds=0.0,
    )
