"""Options given before the command act exactly as after it (argparse's sub-parsers would
otherwise overwrite them with their defaults), through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from snddiag import cli, options
from snddiag.cli import main, parse_args
from tests.guests import GUESTS
from tests.site_rules import SITE_RULE

SNAPSHOT = str(GUESTS / "legacy-mmio")


@pytest.mark.parametrize(
    "argv",
    [
        ["--json", "analyze", "--root", SNAPSHOT],
        ["analyze", "--json", "--root", SNAPSHOT],
        ["analyze", "--root", SNAPSHOT, "--json"],
    ],
)
def test_json_before_or_after_the_command_prints_json(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert json.loads(capsys.readouterr().out)["status"] == "error"


def _site_rules(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    (site / "site-always.yaml").write_text(SITE_RULE)
    return site


@pytest.mark.parametrize("before", [True, False])
def test_rules_dir_before_or_after_the_command_is_loaded(
    before: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = str(_site_rules(tmp_path))
    command = ["analyze", "--root", SNAPSHOT, "--json"]
    argv = ["--rules", site, *command] if before else [*command, "--rules", site]
    main(argv)
    fired = {f["rule"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert "site-always" in fired


def test_rules_dirs_on_both_sides_are_all_kept(tmp_path: Path) -> None:
    args = parse_args(["--rules", "A", "rules", "check", "--rules", "B"])
    assert args.rules == [Path("A"), Path("B")]


def test_rules_check_checks_a_dir_given_before_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "bad.yaml").write_text("id: bad\nseverity: info\n")
    assert main(["--rules", str(broken), "rules", "check"]) == 65
    assert "bad.yaml" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--no-color", "--debug", "--json"])
def test_flags_before_the_command_survive_it(flag: str) -> None:
    args = parse_args([flag, "analyze", "--root", SNAPSHOT])
    assert getattr(args, flag.lstrip("-").replace("-", "_")) is True


def test_flags_default_off_before_and_after() -> None:
    args = parse_args(["analyze", "--root", SNAPSHOT])
    assert (args.json, args.no_color, args.debug, args.rules) == (False, False, False, [])


def test_argparse_is_asked_only_beyond_a_plain_diagnosis(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []
    real = options.build_parser

    def recording() -> Any:
        built.append("argparse")
        return real()

    monkeypatch.setattr(options, "build_parser", recording)
    cli.parse_args(["--json"])
    cli.parse_args(["--root", "/mnt", "--json", "--rules=/etc/x"])
    assert built == []  # read without argparse
    cli.parse_args(["--jso"])  # an abbreviation: argparse's
    cli.parse_args(["analyze", "--json", "b.tar.gz"])
    for helping in (["--help"], ["--he"], ["-h"]):
        with pytest.raises(SystemExit):
            cli.parse_args(helping)
    assert built == ["argparse"] * 5


_WORDS = st.sampled_from(
    ["--json", "--no-color", "--debug", "--play", "--no-stress", "--rules", "--root", "/mnt",
     "-x", "--", "", "--root=", "--rules=/r", "--root=/a=b", "--json=1", "--jso", "--ro",
     "analyze", "-", "--rules=", "=", "--version"]
)  # fmt: skip


def _argparse_reads(argv: list[str]) -> object:
    try:
        args = options.build_parser().parse_args(argv)
    except (cli.UsageError, SystemExit) as err:
        return ("refused", str(err))
    args.rules = [*args.rules, *getattr(args, "rules_after_command", [])]
    vars(args).pop("rules_after_command", None)
    return vars(args)


@given(st.lists(_WORDS, max_size=6))
def test_a_plain_diagnosis_reads_as_argparse_reads_it(argv: list[str]) -> None:
    plain = cli._plain_diagnosis(argv)
    if plain is not None:
        assert vars(plain) == _argparse_reads(argv)


def test_the_plain_reader_takes_the_lines_a_diagnosis_is_run_with() -> None:
    for argv in (["--json"], [], ["--play", "--no-stress"], ["--root", "/mnt", "--rules=/r"]):
        assert cli._plain_diagnosis(argv) is not None, argv
    for argv in (["--jso"], ["--root"], ["--root", "-x"], ["analyze"], ["--json=1"], ["--"]):
        assert cli._plain_diagnosis(argv) is None, argv
