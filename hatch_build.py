"""The wheel's build step: the shipped rules compiled (snddiag.engine.compiled) into the package,
so that an installed snddiag loads them without parsing YAML. A fresh interpreter runs the
compiler on this tree's rules; the wheel gets its output as snddiag/rules/compiled-rules.pickle.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

COMPILED = "compiled-rules.pickle"  # snddiag.engine.compiled.COMPILED_NAME


class CompiledRulesHook(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        self._scratch = tempfile.mkdtemp(prefix="snddiag-build-")
        output = Path(self._scratch, COMPILED)
        done = subprocess.run(  # noqa: S603 - fixed argv
            [
                sys.executable,
                "-m",
                "snddiag.engine.compiled",
                str(Path(self.root, "rules")),
                output,
            ],
            # Added to, not replaced: pip puts its isolated build environment (PyYAML, from
            # the hook's dependencies) on the path through PYTHONPATH.
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join(
                    filter(None, [self.root, os.environ.get("PYTHONPATH")])
                ),
            },
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"cannot compile the shipped rules:\n{done.stderr}")
        build_data["force_include"][str(output)] = f"snddiag/rules/{COMPILED}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if self.target_name == "wheel":
            shutil.rmtree(self._scratch, ignore_errors=True)
