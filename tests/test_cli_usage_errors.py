"""Usage errors say what is wrong in one line, exit 64, and with --json print the error document,
through the real entry point."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from snddiag.cli import main
from tests.guests import GUESTS, REPO

ERROR_SCHEMA = json.loads((REPO / "snddiag" / "report" / "error.schema.json").read_text())
COMMANDS = "(commands: collect, analyze, rules, explain)"
NO_REDACT = "--no-redact is an option of collect: snddiag collect -o FILE --no-redact"


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1, err
    return err.rstrip("\n").removeprefix("snddiag: ")


@pytest.mark.parametrize("command", [[], ["collect", "--dir", "snap"]])
def test_a_missing_root_is_no_such_directory(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nonexistent"
    assert main(["--root", str(missing), *command]) == 64
    assert _one_line(capsys) == f"--root {missing}: no such directory"


@pytest.mark.parametrize("command", [[], ["collect", "--dir", "snap"]])
def test_a_root_that_is_a_file_is_not_a_directory(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("")
    assert main(["--root", str(afile), *command]) == 64
    assert _one_line(capsys) == f"--root {afile}: not a directory"


def test_analyze_root_says_what_is_wrong_with_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing, afile = tmp_path / "nonexistent", tmp_path / "afile"
    afile.write_text("")
    assert main(["analyze", "--root", str(missing)]) == 64
    assert _one_line(capsys) == f"--root {missing}: no such directory"
    assert main(["analyze", "--root", str(afile)]) == 64
    assert _one_line(capsys) == f"--root {afile}: not a directory"


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["rules", "check"],
        ["rules", "list"],
        ["explain", "x"],
        ["analyze", "b"],
        ["collect", "-o", "b.tar.gz"],
    ],
)
def test_a_missing_rules_dir_is_no_such_directory_without_a_line_number(
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # collect's -o b.tar.gz, were it written
    missing = tmp_path / "nonexistent"
    assert main(["--rules", str(missing), *command]) == 64
    assert _one_line(capsys) == f"--rules {missing}: no such directory"


def test_a_rules_dir_that_is_a_file_is_not_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "site.yaml"
    afile.write_text("")
    assert main(["rules", "check", "--rules", str(afile)]) == 64
    assert _one_line(capsys) == f"--rules {afile}: not a directory"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--output", "r.txt"], "--output is an option of collect: snddiag collect --output r.txt"),
        (["--output=r.txt"], "--output is an option of collect: snddiag collect --output r.txt"),
        (["-o", "r.txt"], "-o is an option of collect: snddiag collect -o r.txt"),
        (["-o", "r.txt", "collect"], "-o is an option of collect: snddiag collect -o r.txt"),
        (["--json", "--dir", "snap"], "--dir is an option of collect: snddiag collect --dir snap"),
        (
            ["--no-redact"],
            "--no-redact is an option of collect: snddiag collect -o FILE --no-redact",
        ),
        (["analyze", "-o", "r.txt"], "-o is an option of collect: snddiag collect -o r.txt"),
        (["-o"], "-o is an option of collect: snddiag collect -o FILE"),
        (["r.txt"], f"unknown command 'r.txt' {COMMANDS}"),
        (["--rules", "d", "r.txt"], f"unknown command 'r.txt' {COMMANDS}"),
        (["rules", "show"], "unknown rules action 'show' (actions: list, check, facts)"),
        # Misspellings a newcomer makes, with the closest that exists.
        (["analyse"], "unknown command 'analyse' (did you mean 'analyze'?)"),
        (["colect", "-o", "X"], "unknown command 'colect' (did you mean 'collect'?)"),
        (["help"], "there is no 'help' command: snddiag --help, or snddiag COMMAND --help"),
        (["rules", "lst"], "unknown rules action 'lst' (did you mean 'list'?)"),
        (["--josn"], "unknown option '--josn' (did you mean '--json'?)"),
        (["analyze", "--josn"], "unknown option '--josn' (did you mean '--json'?)"),
        (["rules", "list", "--jsno"], "unknown option '--jsno' (did you mean '--json'?)"),
        (
            ["collect", "-o", "x", "--no-redcat"],
            "unknown option '--no-redcat' (did you mean '--no-redact'?)",
        ),
        (["explain"], "explain needs a rule id: snddiag rules list shows them"),
        (["explain", "--json"], "explain needs a rule id: snddiag rules list shows them"),
        (
            ["analyze", "b.tar.gz", "--play"],
            "--play tests this machine's card (snddiag --play); "
            "analyze reads saved evidence and never plays",
        ),
    ],
)
def test_misplaced_options_and_unknown_commands_say_what_to_type(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 64
    out, err = capsys.readouterr()
    assert err == f"snddiag: {message}\n"
    if "--json" in argv:
        document = json.loads(out)
        jsonschema.validate(document, ERROR_SCHEMA)
        assert document["error"] == message
    else:
        assert out == ""


def test_other_usage_errors_keep_argparse_wording_and_the_help_hint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["collect"]) == 64
    assert capsys.readouterr().err == (
        "snddiag: collect: one of the arguments -o/--output --dir is required\n"
        "snddiag: try 'snddiag --help'\n"
    )


def test_a_misplaced_output_in_a_real_process_is_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "snddiag", "--output", "r.txt"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 64
    assert done.stdout == ""
    assert done.stderr == (
        "snddiag: --output is an option of collect: snddiag collect --output r.txt\n"
    )
    assert not (tmp_path / "r.txt").exists()


def test_analyze_root_one_level_off_says_where_the_snapshot_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = tmp_path / "healthy-pci"
    shutil.copytree(GUESTS / "healthy-pci", snapshot)
    assert main(["analyze", "--root", str(tmp_path)]) == 65
    assert _one_line(capsys).endswith(f"; it holds a snapshot: snddiag analyze --root {snapshot}")
    assert main(["analyze", "--root", str(snapshot / "data")]) == 65
    assert _one_line(capsys).endswith(
        f"; the snapshot is its parent: snddiag analyze --root {snapshot}"
    )
