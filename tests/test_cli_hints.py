"""Directories given to the wrong option: the message names the right command."""

from __future__ import annotations

from pathlib import Path

import pytest

from snddiag.cli import main
from tests.guests import GUESTS


def test_root_on_a_snapshot_points_to_analyze(capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = GUESTS / "healthy-pci"
    assert main(["--root", str(snapshot)]) == 64
    assert f"use `snddiag analyze --root {snapshot}`" in capsys.readouterr().err


def test_analyze_on_a_snapshot_directory_points_to_its_root_option(
    capsys: pytest.CaptureFixture[str],
) -> None:
    snapshot = GUESTS / "healthy-pci"
    assert main(["analyze", str(snapshot)]) == 64
    assert f"use `snddiag analyze --root {snapshot}`" in capsys.readouterr().err


def test_analyze_on_a_plain_directory_points_to_root(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", str(tmp_path)]) == 64
    assert f"use `snddiag --root {tmp_path}`" in capsys.readouterr().err
