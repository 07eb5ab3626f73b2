"""Hostile rule files through the real entry point: `rules check` and a diagnosis refuse each one
with the same file:line line, quickly, and never hang on YAML aliases or a backtracking regex."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from snddiag.cli import main
from tests.guests import GUESTS

RULE = "id: {id}\nseverity: info\ntitle: t\nexplain: e\nwhen: {when}\nlayer: host\n"


def _check_and_run(directory: Path, capsys: pytest.CaptureFixture[str]) -> tuple[list[str], str]:
    """(the problems `rules check` lists, the one line a diagnosis stops with); both exit 65."""
    assert main(["rules", "check", "--rules", str(directory)]) == 65
    checked = capsys.readouterr().err.splitlines()[:-1]
    assert main(["analyze", "--root", str(GUESTS / "healthy-pci"), "--rules", str(directory)]) == 65
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1
    return checked, err.strip().removeprefix("snddiag: ")


def test_alias_bomb_is_refused_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Nine levels of ten aliases each: 10^9 nodes once expanded, 1 KB on disk.
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for level in range(1, 9):
        name, below = chr(ord("a") + level), chr(ord("a") + level - 1)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{below}"] * 10) + "]")
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\n")
    assert (tmp_path / "bomb.yaml").stat().st_size < 1100
    started = time.monotonic()
    checked, stopped = _check_and_run(tmp_path, capsys)
    assert time.monotonic() - started < 10
    expected = (
        f"{tmp_path / 'bomb.yaml'}:1: YAML anchors and aliases (&name, *name) are not allowed"
    )
    assert checked[0].startswith(expected)
    assert stopped == checked[0]


def test_an_alias_is_refused_on_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "merge.yaml").write_text(
        RULE.format(id="merge", when="{fact: system.arch, eq: x}")
        + "references: [a]\nevidence:\n  - {fact: system.arch}\n  - *x\n"
    )
    checked, stopped = _check_and_run(tmp_path, capsys)
    assert checked == [stopped]
    assert stopped.startswith(f"{tmp_path / 'merge.yaml'}:10: YAML anchors and aliases")


@pytest.mark.parametrize(
    "pattern",
    ["^(a+)+$", "(a|a)*", "(.*)*x", ".*.*=", "(a|ab)+c", "\\s*\\s+x", "(\\w+\\s?)*$", "(x|)*y"],
)
def test_backtracking_regex_is_refused_in_conditions_and_evidence(
    pattern: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quoted = pattern.replace("'", "''")
    (tmp_path / "cond.yaml").write_text(
        RULE.format(id="cond", when=f"{{fact: kernel.log, matches: '{quoted}'}}")
    )
    checked, stopped = _check_and_run(tmp_path, capsys)
    assert checked == [stopped]
    assert stopped.startswith(f"{tmp_path / 'cond.yaml'}:5: regular expression ")
    assert "could backtrack for hours" in stopped
    (tmp_path / "cond.yaml").unlink()
    (tmp_path / "quote.yaml").write_text(
        RULE.format(id="quote", when="{fact: system.arch, eq: x}")
        + f"evidence:\n  - {{fact: kernel.log, matches: '{quoted}'}}\n"
    )
    checked, stopped = _check_and_run(tmp_path, capsys)
    assert checked == [stopped]
    assert stopped.startswith(f"{tmp_path / 'quote.yaml'}:8: regular expression ")


def test_duplicate_ids_are_reported_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "twice.yaml").write_text(
            RULE.format(id="twice", when="{fact: system.arch, eq: x}")
        )
    checked, stopped = _check_and_run(tmp_path, capsys)
    assert checked == [stopped]
    assert stopped == (
        f"{tmp_path / 'b' / 'twice.yaml'}:1: duplicate rule id 'twice' "
        f"(also {tmp_path / 'a' / 'twice.yaml'})"
    )


@pytest.mark.parametrize("name", ["site.yml", "site.YAML", "site.test.yml"])
def test_misnamed_rule_files_are_reported_alike(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / name).write_text(RULE.format(id="site", when="{fact: system.arch, eq: x}"))
    (tmp_path / "README.md").write_text("notes, not a rule\n")
    checked, stopped = _check_and_run(tmp_path, capsys)
    assert checked == [stopped]
    assert stopped == f"{tmp_path / name}: not read: rule files end in '.yaml'"


def test_every_problem_listed_by_check_the_first_stops_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-bad-op.yaml").write_text(
        RULE.format(id="a-bad-op", when="{fact: system.kernel_release, contains: 5}")
    )
    (tmp_path / "b-regex.yaml").write_text(
        RULE.format(id="b-regex", when="{fact: kernel.log, matches: '(a+)+'}")
    )
    (tmp_path / "c.yml").write_text("id: c\n")
    checked, stopped = _check_and_run(tmp_path, capsys)
    assert len(checked) == 3
    assert stopped == checked[0]


def test_shipped_rules_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "check"]) == 0
    assert "0 problem(s)" in capsys.readouterr().err
