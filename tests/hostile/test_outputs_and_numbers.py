"""Broken outputs and bad numbers, through the real program.

- stdout closed (`>&-`) or full: the result cannot be written, so 74 with one line, in every
  mode; a usage error stays 64 whatever stdout is.
- COLUMNS out of range falls back to the default width, a narrow one overflows: the report is
  never empty and never cuts a word.
- Manifests (of a bundle or a snapshot directory) with NaN, Infinity or numbers beyond a double
  where numbers are expected: bad input (65, one line) in every mode; lone surrogates never
  reach stdout, which is always strict UTF-8 (and its JSON readable by strict parsers).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from snddiag.bundle import analyze
from snddiag.cli import main
from snddiag.evidence import MANIFEST_NAME, save_directory
from tests.bundle.tars import as_tar, bundle_members, write_tar_gz
from tests.guests import REPO, guest_evidence
from tests.hostile.kit import run

GUEST = REPO / "tests" / "fixtures" / "guests" / "legacy-mmio"


def _closed_stdout(argv: list[str], *, full: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    if full:
        with open("/dev/full", "w") as sink:
            return subprocess.run(
                [sys.executable, "-m", "snddiag", *argv], env=env, stdout=sink,
                stderr=subprocess.PIPE, text=True, timeout=60, check=False,
            )  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "snddiag", *argv], env=env, stderr=subprocess.PIPE,
        text=True, timeout=60, check=False, preexec_fn=lambda: os.close(1),
    )  # fmt: skip


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("b") / "b.tar.gz"
    return write_tar_gz(path, as_tar(bundle_members(guest_evidence("legacy-mmio"))))


@pytest.mark.parametrize("full", [False, True], ids=["closed", "full"])
@pytest.mark.parametrize(
    "argv",
    [
        ["analyze", "--root", str(GUEST)],
        ["analyze", "--root", str(GUEST), "--json"],
        ["analyze", "BUNDLE"],
        ["analyze", "BUNDLE", "BUNDLE", "--json"],
        ["analyze", "BUNDLE", "--jsonl"],
        ["rules", "list"],
        ["rules", "facts", "--json"],
        ["explain", "legacy-mmio-transport"],
        ["--root", str(GUEST / "data"), "collect", "-o", "-"],
    ],
)
def test_a_result_that_cannot_be_written_is_74(bundle: Path, argv: list[str], full: bool) -> None:
    argv = [str(bundle) if a == "BUNDLE" else a for a in argv]
    done = _closed_stdout(argv, full=full)
    assert done.returncode == 74, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr


@pytest.mark.parametrize(
    "argv", [["--bogus"], ["--json", "--bogus"], ["analyze", "--jsonl", "--json", "x"]]
)
def test_a_usage_error_is_64_whatever_stdout_is(argv: list[str]) -> None:
    for full in (False, True):
        done = _closed_stdout(argv, full=full)
        assert done.returncode == 64, done.stderr
        assert "Traceback" not in done.stderr


def _words(text: str) -> list[str]:
    return text.split()


@pytest.mark.parametrize("columns", ["0", "-1", "abc", "", "99999999", "1", "2", "19", "33"])
def test_columns_never_empty_the_report_nor_cut_a_word(columns: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}

    def report(width: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "snddiag", "analyze", "--root", str(GUEST)],
            env={**env, "COLUMNS": width}, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip

    wide, narrow = report("80"), report(columns)
    assert narrow.returncode == wide.returncode == 2
    assert _words(narrow.stdout) == _words(wide.stdout)  # the same words, none split
    if columns in ("0", "-1", "abc", "", "99999999"):
        assert narrow.stdout == wide.stdout  # the default width


BAD_NUMBERS = ["NaN", "-Infinity", "1e400"]


def _manifest_with(text: str, where: str, number: str) -> str:
    """The manifest's JSON with `number` written raw at `where`."""
    document = json.loads(text)
    entries = document["entries"]
    key = next(k for k, v in entries.items() if "sha256" in v)
    marker = "__NUMBER__"
    if where == "exit_code":
        entries[key]["exit_code"] = marker
    elif where == "duration_s":
        entries[key]["duration_s"] = marker
    elif where == "snapshot_format":
        document["snapshot_format"] = marker
    elif where == "size":
        entries[key]["size"] = marker
    else:
        entries[key]["node"] = {"mode": "20660", "uid": marker, "gid": 0, "char_device": True,
                                "readable": True, "writable": True}  # fmt: skip
    return json.dumps(document).replace(f'"{marker}"', number)


WHERE = ["exit_code", "duration_s", "snapshot_format", "size", "node_uid"]


@pytest.mark.parametrize("number", BAD_NUMBERS)
@pytest.mark.parametrize("where", WHERE)
def test_bad_numbers_in_a_snapshot_manifest_are_bad_data(
    tmp_path: Path, where: str, number: str
) -> None:
    snapshot = tmp_path / "snap"
    save_directory(guest_evidence("legacy-mmio"), snapshot)
    manifest = snapshot / MANIFEST_NAME
    manifest.write_text(_manifest_with(manifest.read_text(), where, number))
    for extra in ([], ["--json"]):
        ran = run("analyze", "--root", str(snapshot), *extra, tmp=tmp_path)
        assert ran.code == 65, ran
        assert ran.err.count("\n") == 1, ran.err


def _bad_bundle(tmp_path: Path, where: str, number: str) -> Path:
    members = bundle_members(guest_evidence("legacy-mmio"))
    changed = [
        (name, _manifest_with(data.decode(), where, number).encode())
        if name.endswith("/manifest.json")
        else (name, data)
        for name, data in members
    ]
    return write_tar_gz(tmp_path / f"{where}.tar.gz", as_tar(changed))


@pytest.mark.parametrize("number", ["NaN", "Infinity", "1e400"])
@pytest.mark.parametrize("where", ["exit_code", "duration_s", "node_uid"])
def test_bad_numbers_in_a_bundle_manifest_are_bad_data_in_every_mode(
    tmp_path: Path, bundle: Path, where: str, number: str
) -> None:
    bad = _bad_bundle(tmp_path, where, number)
    for argv in (
        [str(bad)],
        [str(bad), "--json"],
        [str(bad), str(bundle)],
        [str(bad), str(bundle), "--json"],
        [str(bad), str(bundle), "--jsonl"],
    ):
        ran = run("analyze", *argv, tmp=tmp_path)
        assert ran.code == 65, ran
        if "--json" in argv and len(argv) > 2:
            items = json.loads(ran.out)["bundles"]
            assert [i["exit_code"] for i in items] == [65, 2]


SURROGATES = "lone\udc80\ud800surrogates"


def _strict_utf8_json(raw: bytes) -> object:
    text = raw.decode("utf-8")  # strict
    assert not re.search(r"\\ud[89a-f][0-9a-f]{2}", text, re.IGNORECASE), "a surrogate escape"
    return json.loads(text)


def test_lone_surrogates_never_reach_stdout(tmp_path: Path, bundle: Path) -> None:
    snapshot = tmp_path / "snap"
    save_directory(guest_evidence("legacy-mmio"), snapshot)
    manifest = snapshot / MANIFEST_NAME
    document = json.loads(manifest.read_text())
    document["meta"]["user"] = SURROGATES
    document["meta"]["collected_at"] = SURROGATES
    manifest.write_text(json.dumps(document))  # ensure_ascii: written as \\udc80 escapes
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for argv in (["--json"], ["--no-color"]):
        done = subprocess.run(
            [sys.executable, "-m", "snddiag", "analyze", "--root", str(snapshot), *argv],
            env=env, capture_output=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 2, done.stderr
        if argv == ["--json"]:
            parsed = _strict_utf8_json(done.stdout)
            assert parsed["system"]["user"] == "lone\ufffd\ufffdsurrogates"  # type: ignore[index]
        else:
            done.stdout.decode("utf-8")


def test_a_bug_on_a_single_bundle_is_70(
    bundle: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*_args: object) -> None:
        raise OverflowError("cannot convert float infinity to integer")

    monkeypatch.setattr(analyze, "read_bundle", broken)
    monkeypatch.setattr(analyze, "load_directory", broken)
    for argv in ([str(bundle)], [str(bundle), "--json"], ["--root", str(GUEST)]):
        assert main(["analyze", *argv]) == 70
        err = capsys.readouterr().err
        assert "internal error" in err and err.count("\n") == 1, err
