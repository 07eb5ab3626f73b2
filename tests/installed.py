"""A copy of snddiag laid out as a wheel installs it (the rules inside the package), for tests
that must run the tool as users get it rather than from this checkout."""

from __future__ import annotations

import shutil
from pathlib import Path

from snddiag.engine.compiled import COMPILED_NAME, write_compiled

REPO = Path(__file__).resolve().parent.parent


def install_copy(target: Path, *, compiled: bool = True) -> Path:
    """snddiag under `target` (put it on PYTHONPATH), its rules in snddiag/rules, compiled into
    their pickle as the wheel's build does unless `compiled` is False. Returns the rules dir."""
    package = target / "snddiag"
    shutil.copytree(REPO / "snddiag", package, ignore=shutil.ignore_patterns("__pycache__"))
    rules = package / "rules"
    shutil.copytree(
        REPO / "rules", rules, ignore=shutil.ignore_patterns("*.test.yaml", COMPILED_NAME)
    )
    if compiled:
        write_compiled(rules, rules / COMPILED_NAME)
    return rules
