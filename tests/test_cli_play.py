"""`snddiag --play`: only with a live diagnosis; collect and analyze never play."""

from __future__ import annotations

import json

import pytest

from snddiag.cli import main
from tests.guests import GUESTS


@pytest.mark.parametrize(
    "argv",
    [
        ["--play", "collect", "--dir", "/nonexistent/snapshot"],
        ["--play", "analyze", "--root", str(GUESTS / "play-none")],
        ["--play", "rules", "list"],
    ],
)
def test_play_goes_with_the_diagnosis_only(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 64
    assert "never plays" in capsys.readouterr().err


def test_collect_has_no_play_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["collect", "--play", "--dir", "/nonexistent/snapshot"]) == 64
    assert "--play tests this machine's card (snddiag --play); collect never plays" in (
        capsys.readouterr().err
    )


def test_play_with_root_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--play", "--root", str(GUESTS / "play-none")]) == 64
    assert "cannot run with --root" in capsys.readouterr().err


def test_analyze_reads_a_played_snapshot_without_playing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["analyze", "--root", str(GUESTS / "play-wav"), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["data_path"]["capture"]["reason"] == "the device never delivered a frame"
    assert "data-path-capture-stalled" in {f["rule"] for f in doc["findings"]}
