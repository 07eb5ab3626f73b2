from __future__ import annotations

import errno
import io
import json
import os
import stat
import tarfile
import threading
from pathlib import Path
from typing import IO

import pytest

from snddiag import __version__
from snddiag.bundle import write as bundle_write
from snddiag.bundle.read import read_bundle
from snddiag.bundle.write import Built, build_bundle, write_bundle
from snddiag.cli import main
from snddiag.engine.load import Rule
from snddiag.evidence import Evidence, load_directory, save_directory
from snddiag.pipeline import diagnose
from tests.bundle.seeded import HOSTNAME, seeded_evidence
from tests.bundle.tars import CREATED
from tests.hostile.nodes import FULL, NULL, Shape, char_device, fifo, unix_socket


def _document(evidence: Evidence, rules: list[Rule]) -> dict[str, object]:
    return diagnose(evidence, rules).document


def _names(path: Path) -> list[str]:
    with tarfile.open(path) as tar:
        return tar.getnames()


def test_bundle_has_one_top_directory_with_the_snapshot_layout(
    evidence: Evidence, rules: list[Rule], tmp_path: Path
) -> None:
    out = tmp_path / "guest.tar.gz"
    assert write_bundle(evidence, _document(evidence, rules), str(out), created=CREATED) == 0
    names = _names(out)
    top = "snddiag-redacted-host-1-20251125T120000Z"
    assert names[:2] == [f"{top}/manifest.json", f"{top}/diagnosis.json"]
    assert all(n.startswith(f"{top}/data/") for n in names[2:])
    assert f"{top}/data/proc/modules" in names
    with tarfile.open(out) as tar:
        assert all(m.isreg() and m.uid == 0 and m.mode == 0o600 for m in tar.getmembers())


def test_manifest_carries_the_bundle_section(
    evidence: Evidence, rules: list[Rule], tmp_path: Path
) -> None:
    out = tmp_path / "guest.tar.gz"
    write_bundle(evidence, _document(evidence, rules), str(out), created=CREATED)
    with tarfile.open(out) as tar:
        handle = tar.extractfile(tar.getnames()[0])
        assert handle is not None
        manifest = json.load(handle)
    section = manifest["bundle"]
    assert section["format"] == 1
    assert section["snddiag_version"] == __version__
    assert section["created"] == "2025-11-25T12:00:00Z"
    assert section["redaction"]["enabled"] is True
    assert set(section["redaction"]["classes"]) == {
        "hostname",
        "user",
        "mac",
        "ip",
        "serial",
        "uuid",
        "machine_id",
        "email",
        "parameter",
    }
    assert all("sha256" in r for r in manifest["entries"].values() if "size" in r)


def test_unredacted_bundle_says_so_and_keeps_the_host_name(
    evidence: Evidence, rules: list[Rule], tmp_path: Path
) -> None:
    out = tmp_path / "guest.tar.gz"
    write_bundle(evidence, _document(evidence, rules), str(out), redact=False, created=CREATED)
    assert _names(out)[0] == f"snddiag-{HOSTNAME}-20251125T120000Z/manifest.json"
    assert read_bundle(out).info["redaction"] == {"enabled": False}


def test_same_input_gives_the_same_bytes(evidence: Evidence, rules: list[Rule]) -> None:
    def image() -> bytes:
        buffer = io.BytesIO()
        bundle_write.write_tar(build_bundle(evidence, {}, redact=True, created=CREATED), buffer, 0)
        return buffer.getvalue()

    assert image() == image()


def test_failed_write_leaves_neither_bundle_nor_temp_file(
    evidence: Evidence,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def full_disk(built: Built, out: IO[bytes], mtime: int) -> None:
        out.write(b"\x1f\x8b partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(bundle_write, "write_tar", full_disk)
    out = tmp_path / "guest.tar.gz"
    assert write_bundle(evidence, {}, str(out)) == 74
    assert list(tmp_path.iterdir()) == [tmp_path / "root"]
    assert capsys.readouterr().err == f"snddiag: cannot write {out}: No space left on device\n"


def test_interrupted_write_keeps_the_old_bundle(
    evidence: Evidence, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "guest.tar.gz"
    out.write_bytes(b"previous bundle")

    def interrupted(built: Built, out: IO[bytes], mtime: int) -> None:
        out.write(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(bundle_write, "write_tar", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_bundle(evidence, {}, str(out))
    assert out.read_bytes() == b"previous bundle"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["guest.tar.gz", "root"]


def test_missing_directory_is_one_line(
    evidence: Evidence, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "no" / "such" / "guest.tar.gz"
    assert write_bundle(evidence, {}, str(out)) == 73
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No such file or directory" in err


def test_directory_as_output(
    evidence: Evidence, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert write_bundle(evidence, {}, str(tmp_path)) == 73
    assert capsys.readouterr().err == f"snddiag: cannot write {tmp_path}: it is a directory\n"


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_bundle_is_private_whatever_the_umask(
    evidence: Evidence, tmp_path: Path, umask: int
) -> None:
    out = tmp_path / "guest.tar.gz"
    out.write_bytes(b"an older bundle, readable by all")
    out.chmod(0o644)
    previous = os.umask(umask)
    try:
        assert write_bundle(evidence, {}, str(out)) == 0
        assert write_bundle(evidence, {}, str(tmp_path / "new.tar.gz")) == 0
    finally:
        os.umask(previous)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "new.tar.gz").stat().st_mode) == 0o600


class _Stdout(io.TextIOWrapper):
    def __init__(self, tty: bool) -> None:
        super().__init__(io.BytesIO(), encoding="utf-8")
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_dash_streams_the_bundle_to_stdout(
    evidence: Evidence,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stdout = _Stdout(tty=False)
    monkeypatch.setattr("sys.stdout", stdout)
    assert write_bundle(evidence, {"status": "ok"}, "-") == 0
    data = stdout.buffer.getvalue()  # type: ignore[attr-defined]
    out = tmp_path / "from-stdout.tar.gz"
    out.write_bytes(data)
    assert len(read_bundle(out).evidence) == len(evidence)
    assert "bundle written to stdout" in capsys.readouterr().err


def test_dash_refuses_a_terminal(
    evidence: Evidence, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdout = _Stdout(tty=True)
    monkeypatch.setattr("sys.stdout", stdout)
    assert write_bundle(evidence, {}, "-") == 64
    assert stdout.buffer.getvalue() == b""  # type: ignore[attr-defined]
    assert "terminal" in capsys.readouterr().err


def test_cli_collect_writes_a_bundle_and_reports_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seeded = seeded_evidence(tmp_path / "root")
    monkeypatch.setattr("snddiag.collect.collect", lambda *a, **k: seeded)
    out = tmp_path / "guest.tar.gz"
    assert main(["collect", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"bundle written to {out}" in captured.err
    assert "redacted: 3 host names, 1 user name, 2 MAC addresses" in captured.err
    assert HOSTNAME.encode() not in out.read_bytes()
    assert main(["analyze", str(out), "--json"]) in (0, 1, 2, 3)
    assert json.loads(capsys.readouterr().out)["system"]["user"] == "redacted-user-1"


def test_cli_collect_no_redact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seeded = seeded_evidence(tmp_path / "root")
    monkeypatch.setattr("snddiag.collect.collect", lambda *a, **k: seeded)
    out = tmp_path / "guest.tar.gz"
    assert main(["collect", "--no-redact", "-o", str(out)]) == 0
    assert "not redacted" in capsys.readouterr().err
    assert read_bundle(out).evidence.meta["user"] == "kowalski"


def test_unpacked_bundle_is_a_snapshot_directory(
    evidence: Evidence, rules: list[Rule], tmp_path: Path
) -> None:
    out = tmp_path / "guest.tar.gz"
    document = _document(evidence, rules)
    write_bundle(evidence, document, str(out), created=CREATED)
    unpacked = tmp_path / "unpacked"
    with tarfile.open(out) as tar:
        for member in tar.getmembers():
            handle = tar.extractfile(member)
            assert handle is not None and member.isreg()
            target = unpacked / member.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(handle.read())
    (top,) = unpacked.iterdir()
    snapshot = load_directory(top)
    assert len(snapshot) == len(evidence)
    assert diagnose(snapshot, rules).document["status"] == document["status"]


def _bundle_from(data: bytes, tmp_path: Path) -> int:
    copy = tmp_path / "received.tar.gz"
    copy.write_bytes(data)
    return len(read_bundle(copy).evidence)


def test_null_device_is_written_through_and_stays_a_device(
    evidence: Evidence, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    null = char_device(tmp_path / "null", NULL)
    before = Shape.of(null)
    assert write_bundle(evidence, {}, str(null)) == 0
    assert Shape.of(null) == before
    assert f"bundle written to {null}" in capsys.readouterr().err


def test_full_device_is_an_io_error_in_one_line_and_stays_a_device(
    evidence: Evidence, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    full = char_device(tmp_path / "full", FULL)
    before = Shape.of(full)
    assert write_bundle(evidence, {}, str(full)) == 74
    assert Shape.of(full) == before
    assert capsys.readouterr().err == f"snddiag: cannot write {full}: No space left on device\n"


def _drain(fd: int, into: list[bytes]) -> None:
    with os.fdopen(fd, "rb") as source:
        into.append(source.read())


def test_fifo_reader_receives_a_whole_bundle(evidence: Evidence, tmp_path: Path) -> None:
    path = fifo(tmp_path / "pipe")
    received: list[bytes] = []

    def reader() -> None:
        _drain(os.open(path, os.O_RDONLY), received)

    thread = threading.Thread(target=reader)
    thread.start()
    assert write_bundle(evidence, {}, str(path)) == 0
    thread.join(10)
    assert _bundle_from(received[0], tmp_path) == len(evidence)
    assert stat.S_ISFIFO(os.lstat(path).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe", "received.tar.gz", "root"]


def test_dev_fd_pipe_as_from_process_substitution(evidence: Evidence, tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    received: list[bytes] = []
    thread = threading.Thread(target=_drain, args=(read_end, received))
    thread.start()
    try:
        assert write_bundle(evidence, {}, f"/dev/fd/{write_end}") == 0
    finally:
        os.close(write_end)
    thread.join(10)
    assert _bundle_from(received[0], tmp_path) == len(evidence)


def test_reader_that_goes_away_is_an_io_error(
    evidence: Evidence, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        assert write_bundle(evidence, {}, f"/dev/fd/{write_end}") == 74
    finally:
        os.close(write_end)
    assert capsys.readouterr().err.endswith(": Broken pipe\n")


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            "file",
            "it is a symbolic link to a file; not followed "
            "(name the file itself, or use -o - for stdout)",
        ),
        ("missing", "it is a symbolic link to nothing; not followed"),
        ("dir", "it is a symbolic link to a directory"),
    ],
)
def test_symlink_is_refused_and_left_alone(
    evidence: Evidence,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    target: str,
    message: str,
) -> None:
    (tmp_path / "file").write_bytes(b"not yours")
    (tmp_path / "dir").mkdir()
    link = tmp_path / "guest.tar.gz"
    os.symlink(target, link)
    before = Shape.of(link)
    assert write_bundle(evidence, {}, str(link)) == 73
    assert Shape.of(link) == before
    assert (tmp_path / "file").read_bytes() == b"not yours"
    assert not (tmp_path / "missing").exists()
    assert capsys.readouterr().err == f"snddiag: cannot write {link}: {message}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir", "file", "guest.tar.gz", "root"]


def test_symlink_to_a_device_is_written_through(evidence: Evidence, tmp_path: Path) -> None:
    null = char_device(tmp_path / "null", NULL)
    link = tmp_path / "out"
    os.symlink(null, link)
    before = (Shape.of(link), Shape.of(null))
    assert write_bundle(evidence, {}, str(link)) == 0
    assert (Shape.of(link), Shape.of(null)) == before


def test_socket_is_refused(
    evidence: Evidence, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with unix_socket(tmp_path / "sock") as path:
        assert write_bundle(evidence, {}, str(path)) == 73
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
    assert capsys.readouterr().err == f"snddiag: cannot write {path}: it is a socket\n"


def test_collect_dir_never_writes_into_a_device_fifo_link_or_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("mine")
    (tmp_path / "empty").mkdir()
    os.symlink("empty", tmp_path / "link")
    targets = {
        "file": "it is a regular file",
        "link": "it is a symbolic link",
        "pipe": "it is a FIFO",
        "null": "it is a character device",
    }
    fifo(tmp_path / "pipe")
    null = char_device(tmp_path / "null", NULL)
    for name, what in targets.items():
        path = null if name == "null" else tmp_path / name
        before = Shape.of(path)
        assert main(["collect", "--dir", str(path)]) == 73
        assert Shape.of(path) == before
        err = capsys.readouterr().err
        assert err == f"snddiag: cannot write {path}: {what}; give a new directory\n"
    assert list((tmp_path / "empty").iterdir()) == []
    assert (tmp_path / "file").read_text() == "mine"


@pytest.mark.parametrize("umask", [0o000, 0o077])
def test_snapshot_directory_is_private_whatever_the_umask(
    evidence: Evidence, tmp_path: Path, umask: int
) -> None:
    target = tmp_path / "new" / "snap"
    previous = os.umask(umask)
    try:
        save_directory(evidence, target)
    finally:
        os.umask(previous)
    modes = {stat.S_IMODE(p.lstat().st_mode) for p in target.rglob("*") if p.is_dir()}
    modes |= {stat.S_IMODE(target.stat().st_mode)}
    assert modes == {0o700}
    files = [p for p in target.rglob("*") if not p.is_dir()]
    assert len(files) > 10
    assert {stat.S_IMODE(p.lstat().st_mode) for p in files} == {0o600}
    assert len(load_directory(target)) == len(evidence)
