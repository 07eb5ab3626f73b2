"""Nothing from a guest or a bundle controls the terminal: every text output path, through the
real entry point, with strings that clear the screen, set the title, plant links and redraw
lines. JSON stays exact."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from snddiag.cli import main
from snddiag.engine.load import load_rules
from snddiag.pipeline import diagnose
from snddiag.report.escape import escape
from snddiag.report.terminal import render_terminal
from tests.guests import REPO
from tests.hostile.kit import (
    NAME,
    PAYLOAD,
    SHOWN,
    assert_inert,
    hostile_bundle,
    hostile_evidence,
    hostile_snapshot,
)

ERROR_SCHEMA = json.loads((REPO / "snddiag" / "report" / "error.schema.json").read_text())
# legacy-mmio quotes kernel-log lines; old-machine-type fills its explanation and evidence with
# the DMI machine type; non-root-dmesg-restrict fills its title with the user name.
GUESTS = ("legacy-mmio", "old-machine-type", "non-root-dmesg-restrict")


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("guest", GUESTS)
@pytest.mark.parametrize("mode", [["--no-color"], []])
def test_hostile_snapshot_report_shows_controls_escaped(
    guest: str,
    mode: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    snapshot = hostile_snapshot(guest, tmp_path / "snap")
    code, out, err = _run(["analyze", "--root", str(snapshot), *mode], capsys)
    assert code in (0, 1, 2, 3)
    assert_inert(out)
    assert_inert(err)
    assert out.startswith("snddiag: ")
    assert SHOWN in out  # the payload did reach the report, visibly


def test_title_filled_with_a_guest_value_is_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = hostile_snapshot("non-root-dmesg-restrict", tmp_path / "snap")
    code, out, _err = _run(["analyze", "--root", str(snapshot), "--no-color"], capsys)
    assert code == 1
    assert "WARNING User nobody\\x1b[2J\\x1b[H\\x1b]0;pwned" in " ".join(out.split())
    assert_inert(out)


def test_kernel_log_evidence_is_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = hostile_snapshot("legacy-mmio", tmp_path / "snap")
    _code, out, _err = _run(["analyze", "--root", str(snapshot), "--no-color"], capsys)
    evidence = " ".join(out.split()).split("Evidence:")[1].split("What to do:")[0]
    assert "virtio_snd" in evidence
    assert SHOWN in evidence


def test_colored_report_has_only_color_sequences() -> None:
    evidence = hostile_evidence("legacy-mmio")
    rules = load_rules([REPO / "rules"])
    stream = io.StringIO()
    render_terminal(diagnose(evidence, rules).document, stream, color=True)
    text = stream.getvalue()
    assert "\x1b[" in text  # colored indeed
    assert_inert(re.sub(r"\x1b\[[0-9;]*m", "", text))
    assert SHOWN in text


def test_json_keeps_the_exact_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = hostile_snapshot("non-root-dmesg-restrict", tmp_path / "snap")
    _code, out, _err = _run(["analyze", "--root", str(snapshot), "--json"], capsys)
    assert out.isascii()  # controls as \u001b, never raw
    assert_inert(out)
    document = json.loads(out)
    assert document["system"]["user"] == "nobody" + PAYLOAD


def test_bundle_made_by_hostile_version_gives_one_escaped_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = hostile_bundle(
        "legacy-mmio", tmp_path / "b.tar.gz", bundle_info={"format": 99, "snddiag_version": PAYLOAD}
    )
    code, out, err = _run(["analyze", str(bundle)], capsys)
    assert code == 65
    assert out == ""
    assert_inert(err)
    assert len(err.splitlines()) == 1
    assert "made by snddiag \\x1b[2J" in err


def test_bundle_error_as_json_is_exact_and_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = hostile_bundle(
        "legacy-mmio", tmp_path / "b.tar.gz", bundle_info={"format": 99, "snddiag_version": PAYLOAD}
    )
    code, out, err = _run(["analyze", str(bundle), "--json"], capsys)
    assert code == 65
    assert_inert(out)
    assert_inert(err)
    document = json.loads(out)
    jsonschema.validate(document, ERROR_SCHEMA)
    assert PAYLOAD in document["error"]
    assert document["exit_code"] == 65


def test_bundle_provenance_header_and_note_are_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = hostile_bundle(
        "legacy-mmio",
        tmp_path / f"b{NAME}.tar.gz",
        bundle_info={"snddiag_version": PAYLOAD},
        recorded_status=PAYLOAD,
    )
    code, out, err = _run(["analyze", str(bundle), "--no-color"], capsys)
    assert code == 2
    assert_inert(out)
    assert_inert(err)
    # The header under the verdict: the path, the user, the collector's version, its verdict.
    header = " ".join(out.split("\nkernel ")[0].split("\n", 1)[1].split())
    assert header.startswith("from bundle ")
    assert ", verdict then: " in header
    assert header.count(SHOWN) == 4
    code, out, err = _run(["analyze", str(bundle), "--json"], capsys)
    assert code == 2
    assert_inert(err)
    note = next(line for line in err.splitlines() if "when collected" in line)
    assert note.count(SHOWN) == 2


def test_many_bundle_summary_is_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = hostile_bundle("legacy-mmio", tmp_path / f"good{NAME}.tar.gz")
    newer = hostile_bundle(
        "legacy-mmio",
        tmp_path / "newer.tar.gz",
        bundle_info={"format": 99, "snddiag_version": PAYLOAD},
    )
    missing = tmp_path / f"missing{NAME}.tar.gz"
    code, out, err = _run(["analyze", str(good), str(newer), str(missing), "--jobs", "1"], capsys)
    assert code == 65
    assert_inert(out)
    assert_inert(err)
    assert out.count(SHOWN) >= 3  # both names and the error
    code, out, _err = _run(["analyze", str(good), str(newer), "--json", "--jobs", "1"], capsys)
    summary = json.loads(out)
    assert summary["bundles"][0]["path"] == str(good)
    assert PAYLOAD in summary["bundles"][1]["error"]


def test_paths_in_error_lines_are_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    weird = tmp_path / f"snap{NAME}"
    weird.mkdir()
    code, out, err = _run(["analyze", "--root", str(weird)], capsys)
    assert code == 65
    assert_inert(err)
    assert SHOWN in err
    code, out, err = _run([f"--{PAYLOAD}"], capsys)
    assert code == 64
    assert_inert(err)
    assert out == ""


def test_rule_text_is_escaped_in_list_explain_and_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "loud.yaml").write_text(
        'id: loud\nseverity: info\nlayer: host\ntitle: "Loud \\e]0;pwned\\a rule \\u202e"\n'
        'explain: "Line one\\e[2J\\nline two"\nwhen: {fact: system.arch, eq: x}\n'
        "references: ['https://x.example/\\e]8;;']\n"
    )
    (tmp_path / f"bad{NAME}.yml").write_text("id: x\n")
    code, out, err = _run(["rules", "list", "--rules", str(tmp_path)], capsys)
    assert code == 65  # the .yml file stops a run, as `rules check` says
    assert_inert(err)
    (tmp_path / f"bad{NAME}.yml").unlink()
    code, out, err = _run(["rules", "list", "--rules", str(tmp_path)], capsys)
    assert code == 0
    assert_inert(out)
    assert "Loud \\x1b]0;pwned\\x07 rule \\u202e" in out
    code, out, err = _run(["explain", "loud", "--rules", str(tmp_path)], capsys)
    assert code == 0
    assert_inert(out)
    assert "Line one\\x1b[2J line two" in out  # rule prose is one paragraph
    (tmp_path / f"broken{NAME}.yaml").write_text("id: [\n")
    code, out, err = _run(["rules", "check", "--rules", str(tmp_path)], capsys)
    assert code == 65
    assert_inert(err)
    assert SHOWN in err


def test_real_process_streams_carry_no_raw_control_byte(tmp_path: Path) -> None:
    snapshot = hostile_snapshot("non-root-dmesg-restrict", tmp_path / "snap")
    bundle = hostile_bundle(
        "legacy-mmio", tmp_path / "b.tar.gz", bundle_info={"format": 99, "snddiag_version": PAYLOAD}
    )
    env = {**os.environ, "NO_COLOR": "1"}
    for argv in (["analyze", "--root", str(snapshot)], ["analyze", str(bundle)]):
        done = subprocess.run(
            [sys.executable, "-m", "snddiag", *argv],
            capture_output=True,
            env=env,
            cwd=REPO,
            timeout=60,
            check=False,
        )
        for stream in (done.stdout, done.stderr):
            assert not re.search(
                rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]", stream
            )
        assert b"\\x1b" in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[2J", "\\x1b[2J"),
        ("bell\x07", "bell\\x07"),
        ("csi\x9b1m", "csi\\x9b1m"),
        ("a\u202eb\u2069", "a\\u202eb\\u2069"),
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        ("two\nlines\r", "two\\x0alines\\x0d"),
        ("tab\tkept", "tab\tkept"),
        ("sep\u2028", "sep\\u2028"),
        ("bytes\udcff", "bytes\\udcff"),
        ("plain caf\u00e9 \u00b7 \u4e2d", "plain caf\u00e9 \u00b7 \u4e2d"),
    ],
)
def test_escape_shows_each_control_visibly(text: str, shown: str) -> None:
    assert escape(text) == shown
