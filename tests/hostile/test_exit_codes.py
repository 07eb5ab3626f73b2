"""Exit codes tell "the guest is incomplete" (3) from "snddiag failed" (64 and up), and every way
a run can end gives one line at most: a bug, Ctrl-C at any moment, a closed pipe, a full disk,
an output encoding that cannot write the report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from snddiag import offline
from snddiag.cli import main
from snddiag.report import ExitCode
from tests.guests import GUESTS, REPO

ERROR_SCHEMA = json.loads((REPO / "snddiag" / "report" / "error.schema.json").read_text())


def _snddiag(
    argv: list[str], env: dict[str, str] | None = None, **kwargs: object
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "snddiag", *argv],
        capture_output="stdout" not in kwargs,
        env={**os.environ, **(env or {})},
        cwd=REPO,
        timeout=120,
        check=False,
        **kwargs,
    )


def test_exit_codes_are_the_documented_ones() -> None:
    assert {c.name: int(c) for c in ExitCode} == {
        "OK": 0,
        "WARNING": 1,
        "ERROR": 2,
        "INCOMPLETE": 3,
        "USAGE": 64,
        "DATA_ERR": 65,
        "MISSING_LIBRARY": 69,
        "SOFTWARE": 70,
        "CANNOT_CREATE": 73,
        "IO_ERROR": 74,
        "INTERRUPTED": 130,
    }
    readme = (REPO / "README.md").read_text()
    manual = (REPO / "man" / "snddiag.1").read_text()
    for code in ExitCode:
        assert f"| {int(code)} " in readme, code
        assert f".B {int(code)}\n" in manual, code


def test_a_bug_exits_70_not_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(_args: object) -> int:
        raise ValueError("a bug")

    monkeypatch.setattr(offline, "analyze_command", broken)
    assert main(["analyze", "--root", str(GUESTS / "healthy-pci")]) == 70
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("snddiag: internal error: ValueError('a bug')")
    assert len(err.splitlines()) == 1
    assert main(["analyze", "--root", str(GUESTS / "healthy-pci"), "--json"]) == 70
    document = json.loads(capsys.readouterr().out)
    jsonschema.validate(document, ERROR_SCHEMA)
    assert (document["status"], document["exit_code"]) == ("failed", 70)


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["--frobnicate", "--json"], 64),
        (["analyze", "--json"], 64),
        (["analyze", "--root", "/nonexistent-snddiag-test", "--json"], 64),
        (["analyze", "--root", "/", "--json"], 65),  # a directory, but no snapshot
        (["explain", "no-such-rule", "--json"], 64),
    ],
)
def test_failures_with_json_print_an_error_document(
    argv: list[str], code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == code
    out, err = capsys.readouterr()
    document = json.loads(out)
    jsonschema.validate(document, ERROR_SCHEMA)
    assert document["exit_code"] == code
    assert document["error"] in err


def test_unreadable_bundle_and_broken_rules_are_65(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = tmp_path / "b.tar.gz"
    bundle.write_bytes(b"\x1f\x8bnot really")
    assert main(["analyze", str(bundle)]) == 65
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "bad.yaml").write_text("id: bad\nseverity: [\n")
    root = str(GUESTS / "healthy-pci")
    assert main(["analyze", "--root", root, "--rules", str(tmp_path / "rules")]) == 65
    assert main(["rules", "check", "--rules", str(tmp_path / "rules")]) == 65
    capsys.readouterr()


def test_ascii_output_encoding_prints_the_report() -> None:
    done = _snddiag(
        ["analyze", "--root", str(GUESTS / "legacy-mmio")],
        env={"PYTHONIOENCODING": "ascii", "NO_COLOR": "1"},
    )
    assert done.returncode == 2
    assert done.stdout.startswith(b"snddiag: virtio sound does not work")
    assert b"[host - utm]" in done.stdout  # the ASCII glyph for the middle dot
    assert done.stdout.isascii()
    assert done.stderr == b""


def test_ascii_output_encoding_explain_and_errors() -> None:
    done = _snddiag(["explain", "legacy-mmio-transport"], env={"PYTHONIOENCODING": "ascii"})
    assert done.returncode == 0
    assert b"[host - utm]" in done.stdout
    done = _snddiag(
        ["analyze", "--root", "/nonexistent-\u00e9t\u00e9"], env={"PYTHONIOENCODING": "ascii"}
    )
    assert done.returncode == 64
    assert done.stderr.isascii()
    assert b"Traceback" not in done.stderr


def test_closed_pipe_ends_quietly() -> None:
    # `snddiag rules facts | head -1`: the reader is gone when snddiag writes (closed at once:
    # a reader leaving after one line may leave after all of it fit in the pipe's buffer).
    process = subprocess.Popen(
        [sys.executable, "-m", "snddiag", "rules", "facts"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read()
    assert process.wait(timeout=60) == 74
    assert err == b""


def test_full_disk_is_an_io_error_in_one_line() -> None:
    with open("/dev/full", "w") as full:
        done = _snddiag(["rules", "facts"], stdout=full, stderr=subprocess.PIPE)
    assert done.returncode == 74
    lines = done.stderr.decode().splitlines()
    assert lines == ["snddiag: I/O error on the output: No space left on device"]


@pytest.mark.parametrize("delay_s", [0.02, 0.05, 0.1, 0.2, 0.4, 0.8])
def test_ctrl_c_at_any_time_exits_130_in_one_line(delay_s: float) -> None:
    # Python's own start-up (site, .pth files) and finding the package run before any snddiag
    # code can (a Ctrl-C there ends Python as for any program): the child says when its start-up
    # is done, and the delays count from there, through snddiag's imports and the diagnosis.
    code = (
        "import sys; sys.stderr.write('ready\\n'); sys.stderr.flush()\n"
        "import snddiag.cli\n"
        "snddiag.cli.main_entry()"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, "analyze", "--root", str(GUESTS / "healthy-pci")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    assert process.stderr is not None
    assert process.stderr.readline() == b"ready\n"
    time.sleep(delay_s)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    if process.returncode in (0, -signal.SIGINT):
        # The diagnosis was faster than the delay; or the signal came while Python's last step
        # had already put the default handler back: the report is whole, and nothing is said.
        assert out.startswith(b"snddiag: virtio sound looks healthy")
        assert err == b""
        return
    assert (process.returncode, err) == (130, b"snddiag: interrupted\n")


def test_ctrl_c_during_many_bundles_is_one_line_from_the_parent(tmp_path: Path) -> None:
    # A terminal's Ctrl-C reaches the whole process group, workers included.
    from tests.hostile.kit import hostile_bundle

    first = hostile_bundle("legacy-mmio", tmp_path / "b0.tar.gz")
    paths = [str(first)]
    for number in range(1, 120):
        copy = tmp_path / f"b{number}.tar.gz"
        copy.write_bytes(first.read_bytes())
        paths.append(str(copy))
    process = subprocess.Popen(
        [sys.executable, "-m", "snddiag", "analyze", *paths, "--jobs", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
        start_new_session=True,
    )
    time.sleep(1.5)
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=60)
    if process.returncode == 2:  # all 120 were done within the delay
        assert out.startswith(b"snddiag: 120 bundles")
        return
    assert (process.returncode, err, out) == (130, b"snddiag: interrupted\n", b"")


def _without(tmp_path: Path, module: str) -> dict[str, str]:
    """An environment whose Python finds `module` missing, as on a system without it."""
    shadow = tmp_path / "shadow" / module
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        f"raise ModuleNotFoundError({f'No module named {module!r}'!r}, name={module!r})\n"
    )
    return {**os.environ, "PYTHONPATH": f"{shadow.parent}{os.pathsep}{REPO}"}


@pytest.mark.parametrize("as_json", [False, True])
def test_missing_pyyaml_names_the_package_and_exits_69(tmp_path: Path, as_json: bool) -> None:
    args = ["analyze", "--root", str(GUESTS / "healthy-pci")] + (["--json"] if as_json else [])
    done = _snddiag(args, env=_without(tmp_path, "yaml"), text=True)
    assert done.returncode == 69, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("snddiag: the Python library PyYAML (module yaml) is not")
    for command in ("apt install python3-yaml", "dnf install python3-pyyaml", "apk add py3-yaml"):
        assert command in done.stderr
    if as_json:
        document = json.loads(done.stdout)
        jsonschema.validate(document, ERROR_SCHEMA)
        assert (document["status"], document["exit_code"]) == ("failed", 69)
    else:
        assert done.stdout == ""


def test_without_rich_the_json_report_still_runs(tmp_path: Path) -> None:
    env = _without(tmp_path, "rich")
    plain = _snddiag(["analyze", "--root", str(GUESTS / "healthy-pci")], env=env, text=True)
    assert plain.returncode == 69
    assert "snddiag --json works without it" in plain.stderr
    assert "apt install python3-rich" in plain.stderr
    as_json = _snddiag(
        ["analyze", "--root", str(GUESTS / "healthy-pci"), "--json"], env=env, text=True
    )
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["status"] == "ok"
