"""The floor interpreter for tests that run snddiag on Python 3.9."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def python39() -> str:
    """A real 3.9 interpreter: pyenv's shims refuse versions that are not selected."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted(pyenv_root.glob("versions/3.9*/bin/python3.9"), reverse=True)
    found = shutil.which("python3.9")
    if found and "/shims/" not in found:
        candidates.insert(0, Path(found))
    assert candidates, "these tests need Python 3.9 (pyenv install 3.9, or a python3.9)"
    return str(candidates[0])
