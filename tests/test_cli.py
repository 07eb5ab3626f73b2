"""main(argv): usage errors, rule commands, and offline analysis of captured guests."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from snddiag.cli import main
from tests.guests import GUESTS, REPO

SCHEMA = json.loads((REPO / "snddiag" / "report" / "schema.json").read_text())


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--frobnicate"]) == 64
    err = capsys.readouterr().err
    assert "unknown option '--frobnicate'" in err
    assert "Traceback" not in err


def test_analyze_without_input_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze"]) == 64
    assert "BUNDLE" in capsys.readouterr().err


def test_rules_list_names_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "list"]) == 0
    out = capsys.readouterr().out
    assert "legacy-mmio-transport" in out
    assert "driver-not-in-kernel" in out


def test_rules_check_reports_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.yaml").write_text(
        "id: bad\nseverity: info\ntitle: x\nwhen: {fact: nope, eq: 1}\nlayer: host\n"
    )
    assert main(["rules", "check", "--rules", str(tmp_path)]) == 65
    err = capsys.readouterr().err
    assert f"{tmp_path / 'bad.yaml'}:4: unknown fact 'nope'" in err


def test_broken_extra_rules_stop_a_diagnosis_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.yaml").write_text("id: bad\nseverity: [\n")
    assert main(["analyze", "--root", str(GUESTS / "healthy-pci"), "--rules", str(tmp_path)]) == 65
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert str(tmp_path / "bad.yaml") in err[0]


def test_explain_shows_every_step(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "legacy-mmio-transport"]) == 0
    out = capsys.readouterr().out
    assert "force-legacy=false" in out
    assert "virtio-sound-pci" in out


def test_explain_unknown_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "no-such-rule"]) == 64
    assert "no rule 'no-such-rule'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("guest", "code", "status"),
    [("healthy-pci", 0, "ok"), ("legacy-mmio", 2, "error"), ("no-config-snd-virtio", 2, "error")],
)
def test_analyze_snapshot_json_is_valid_and_has_the_verdict(
    guest: str, code: int, status: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", "--root", str(GUESTS / guest), "--json"]) == code
    document = json.loads(capsys.readouterr().out)
    jsonschema.validate(document, SCHEMA)
    assert document["status"] == status
    assert document["exit_code"] == code


def test_terminal_report_leads_with_the_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--root", str(GUESTS / "legacy-mmio"), "--no-color"]) == 2
    out = capsys.readouterr().out
    assert out.startswith("snddiag: virtio sound does not work")
    assert "legacy-mmio-transport" in out
    assert "\x1b[" not in out


def test_system_text_is_not_read_as_markup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "markup-probe.yaml").write_text(
        "id: markup-probe\nseverity: info\nlayer: host\n"
        "title: 'release [bold]${system.kernel_release}[/bold]'\n"
        "when: {fact: system.kernel_release, exists: true}\nexplain: x\n"
    )
    assert main(["analyze", "--root", str(GUESTS / "healthy-pci"), "--rules", str(rules)]) in (0, 3)
    assert "[bold]" in capsys.readouterr().out


def test_snapshot_directory_that_is_not_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", "--root", str(tmp_path)]) == 65
    assert "manifest.json" in capsys.readouterr().err


def test_collect_dir_refuses_a_non_empty_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["collect", "--dir", str(tmp_path)]) == 73
    assert "not empty" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_collect_dir_writes_a_snapshot_analyze_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "snap"
    assert main(["collect", "--dir", str(target)]) == 0
    assert (target / "manifest.json").is_file()
    assert main(["analyze", "--root", str(target), "--json"]) in (0, 1, 2, 3)
    jsonschema.validate(json.loads(capsys.readouterr().out), SCHEMA)


def test_rules_facts_lists_the_paths_rules_use(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "facts"]) == 0
    paths = capsys.readouterr().out.split()
    assert "virtio.snd.transport" in paths
    assert "driver.params.<name>" in paths
