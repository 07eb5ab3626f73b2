"""`snddiag analyze --jsonl`: a line per bundle, each a `bundles` item of the summary schema,
written as each bundle finishes; the exit code is the summary's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from snddiag.bundle.write import write_bundle
from snddiag.cli import main
from snddiag.engine.load import Rule
from snddiag.evidence import Evidence
from snddiag.pipeline import diagnose
from tests.bundle.seeded import REPO, without_sound_device
from tests.bundle.tars import CREATED

SUMMARY_SCHEMA = json.loads((REPO / "snddiag" / "report" / "summary.schema.json").read_text())
# One line of --jsonl: the summary schema's bundles item.
LINE_SCHEMA = {"$defs": SUMMARY_SCHEMA["$defs"], "$ref": "#/$defs/bundle"}

# Runs the real command line with one bundle held back: its worker (forked, so it inherits the
# patch) waits until the test creates the release file. Lines that arrive before then were
# written while that bundle was still being analyzed: no timing is assumed.
HOLDING = """
import sys, time
from pathlib import Path
import snddiag.bundle.analyze as analyze
held, release = sys.argv[1], Path(sys.argv[2])
read_bundle = analyze.read_bundle
def held_back(path, limits=None):
    if str(path) == held:
        deadline = time.monotonic() + 60
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    return read_bundle(path, limits)
analyze.read_bundle = held_back
from snddiag.cli import main
sys.exit(main(sys.argv[3:]))
"""


@pytest.fixture
def bundles(
    evidence: Evidence, rules: list[Rule], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> dict[str, Path]:
    made = {}
    for name, guest in (("healthy", evidence), ("no-device", without_sound_device(evidence))):
        path = tmp_path / f"{name}.tar.gz"
        document = diagnose(guest, rules).document
        assert write_bundle(guest, document, str(path), created=CREATED, rules=rules) == 0
        made[name] = path
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(made["healthy"].read_bytes()[:300])
    made["broken"] = broken
    capsys.readouterr()
    return made


def _lines(out: str) -> list[dict[str, Any]]:
    lines = out.splitlines()
    assert all(line.startswith("{") and "\n" not in line for line in lines)
    parsed = [json.loads(line) for line in lines]
    for item in parsed:
        jsonschema.validate(item, LINE_SCHEMA)
    return parsed


def test_lines_are_the_summarys_bundle_items(
    bundles: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [str(p) for p in bundles.values()]
    assert main(["analyze", "--json", "--jobs", "2", *paths]) == 65
    summary = json.loads(capsys.readouterr().out)
    assert main(["analyze", "--jsonl", "--jobs", "2", *paths]) == 65
    lines = _lines(capsys.readouterr().out)
    assert sorted(lines, key=lambda item: paths.index(item["path"])) == summary["bundles"]
    statuses = {item["path"]: item["status"] for item in lines}
    assert statuses == {paths[0]: "ok", paths[1]: "error", paths[2]: "unreadable"}


def test_one_bundle_gives_one_line_and_its_exit_code(
    bundles: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", "--jsonl", str(bundles["no-device"])]) == 2
    (line,) = _lines(capsys.readouterr().out)
    assert (line["status"], line["rules"]) == ("error", ["no-virtio-sound-device"])
    assert main(["analyze", str(bundles["broken"]), "--jsonl"]) == 65
    (line,) = _lines(capsys.readouterr().out)
    assert line["error"] == "truncated: the gzip stream ends early"


def test_lines_stream_while_a_later_bundle_is_still_running(
    bundles: dict[str, Path], tmp_path: Path
) -> None:
    held = str(bundles["healthy"])
    release = tmp_path / "release"
    paths = [held, str(bundles["no-device"]), str(bundles["broken"])]
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    argv = [sys.executable, "-c", HOLDING, held, str(release)]
    with subprocess.Popen(
        [*argv, "analyze", "--jsonl", "--jobs", "2", *paths],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        try:
            early = [proc.stdout.readline(), proc.stdout.readline()]
            assert proc.poll() is None  # the held bundle cannot have finished: not released
            release.touch()
            rest, err = proc.communicate(timeout=60)
        finally:
            release.touch()
            if proc.poll() is None:
                proc.kill()
    assert err == ""
    lines = _lines("".join(early) + rest)
    assert [item["path"] for item in lines] == [paths[1], paths[2], held]
    assert lines[2]["status"] == "ok"
    assert proc.returncode == 65


@pytest.mark.parametrize(
    "argv",
    [
        ["analyze", "--jsonl", "--json", "B"],
        ["--json", "analyze", "--jsonl", "B"],
        ["analyze", "--jsonl", "--root", "DIR"],
        ["--jsonl", "analyze", "B"],
        ["rules", "list", "--jsonl"],
        ["--jsonl"],
    ],
)
def test_jsonl_outside_analyze_of_bundles_is_a_usage_error(
    argv: list[str], bundles: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    given = {"B": str(bundles["healthy"]), "DIR": str(bundles["healthy"].parent)}
    argv = [given.get(a, a) for a in argv]
    assert main(argv) == 64
    assert "jsonl" in capsys.readouterr().err
