"""Hostile and broken bundles: one clear reason, nothing written anywhere."""

from __future__ import annotations

import gzip
import os
import tarfile
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from snddiag.bundle import MIB, BundleError, Limits
from snddiag.bundle.read import read_bundle
from snddiag.cli import main
from snddiag.evidence import Evidence
from tests.bundle.tars import (
    as_tar,
    bundle_members,
    regular,
    special,
    tar_bytes,
    with_manifest,
    write_tar_gz,
)

ESCAPE = f"snddiag-escape-{uuid.uuid4().hex}"


@pytest.fixture
def watched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Where the test puts its bundles. Reading them may write nothing: not in the working
    directory, not beside it, not in the temporary directory, not at the paths they name."""
    inputs, cwd, private_tmp = tmp_path / "in", tmp_path / "cwd", tmp_path / "tmp"
    for directory in (inputs, cwd, private_tmp):
        directory.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("TMPDIR", str(private_tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    yield inputs
    assert list(cwd.iterdir()) == []
    assert list(private_tmp.iterdir()) == []
    assert {p.name for p in tmp_path.iterdir()} <= {"cwd", "in", "root", "tmp"}
    assert not (Path("/tmp") / ESCAPE).exists()


@pytest.fixture
def members(evidence: Evidence) -> list[tuple[str, bytes]]:
    return bundle_members(evidence)


def _top(members: list[tuple[str, bytes]]) -> str:
    return members[0][0].split("/")[0]


def _error(path: Path, limits: Limits | None = None) -> str:
    with pytest.raises(BundleError) as caught:
        read_bundle(path, limits)
    message = str(caught.value)
    assert "\n" not in message
    return message


def _good(watched: Path, members: list[tuple[str, bytes]]) -> Path:
    path = watched / "good.tar.gz"
    write_tar_gz(path, as_tar(members))
    return path


def _add(
    watched: Path, members: list[tuple[str, bytes]], extra: tuple[tarfile.TarInfo, bytes | None]
) -> Path:
    bundle = watched / "bad.tar.gz"
    write_tar_gz(bundle, [*as_tar(members), extra])
    return bundle


def test_well_formed_bundle_reads_back(
    watched: Path, members: list[tuple[str, bytes]], evidence: Evidence
) -> None:
    bundle = read_bundle(_good(watched, members))

    def fields(e: Evidence) -> dict[str, tuple[object, ...]]:
        return {k: (v.kind, v.status, v.data, v.target, v.stderr) for k, v in e.entries.items()}

    assert fields(bundle.evidence) == fields(evidence)
    assert bundle.evidence.meta == evidence.meta
    assert bundle.info["format"] == 1
    assert bundle.diagnosis is not None


def test_truncated_gzip(watched: Path, members: list[tuple[str, bytes]]) -> None:
    good = _good(watched, members).read_bytes()
    cut = watched / "cut.tar.gz"
    cut.write_bytes(good[: len(good) // 2])
    assert "truncated" in _error(cut)


def test_corrupt_gzip(watched: Path, members: list[tuple[str, bytes]]) -> None:
    good = bytearray(_good(watched, members).read_bytes())
    middle = len(good) // 2
    good[middle : middle + 64] = bytes(64)
    bad = watched / "bad.tar.gz"
    bad.write_bytes(bytes(good))
    message = _error(bad)
    assert "corrupt gzip" in message or "not a tar archive" in message or "truncated" in message


def test_corrupt_gzip_checksum(watched: Path, members: list[tuple[str, bytes]]) -> None:
    good = bytearray(_good(watched, members).read_bytes())
    good[-8] ^= 0xFF
    bad = watched / "crc.tar.gz"
    bad.write_bytes(bytes(good))
    assert "corrupt gzip" in _error(bad)


def test_not_gzip(watched: Path) -> None:
    bad = watched / "notes.tar.gz"
    bad.write_text("hello\n")
    assert "not a gzip file" in _error(bad)


def test_gzip_of_something_else(watched: Path) -> None:
    bad = watched / "notes.tar.gz"
    bad.write_bytes(gzip.compress(b"just some text, not a tar archive\n" * 40))
    assert "not a tar archive" in _error(bad)


def test_truncated_tar_inside_complete_gzip(
    watched: Path, members: list[tuple[str, bytes]]
) -> None:
    raw = tar_bytes(as_tar(members))
    bad = watched / "short.tar.gz"
    bad.write_bytes(gzip.compress(raw[: 512 * 3 + 100]))
    assert "truncated" in _error(bad)


def test_empty_archive(watched: Path) -> None:
    assert "empty archive" in _error(write_tar_gz(watched / "empty.tar.gz", []))


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        (f"/tmp/{ESCAPE}", "absolute path"),
        (f"TOP/../../{ESCAPE}", "'..'"),
        (f"../{ESCAPE}", "'..'"),
        ("TOP/./data/x", "'.' path component"),
        ("TOP//data/x", "empty or '.'"),
        ("TOP/data/a\\b", "backslashes"),
        ("TOP/data/\x1b[31mred", "control characters"),
        ("TOP/data/\x9b31mred", "control characters"),
        (ESCAPE, "outside the top directory"),
        (f"other/{ESCAPE}", "outside the top directory"),
    ],
)
def test_unsafe_member_names(
    watched: Path, members: list[tuple[str, bytes]], name: str, reason: str
) -> None:
    bundle = _add(watched, members, regular(name.replace("TOP", _top(members)), b"x"))
    assert reason in _error(bundle)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        (tarfile.SYMTYPE, "symbolic link"),
        (tarfile.LNKTYPE, "hard link"),
        (tarfile.CHRTYPE, "device node"),
        (tarfile.BLKTYPE, "device node"),
        (tarfile.FIFOTYPE, "FIFO"),
    ],
)
def test_links_devices_and_fifos(
    watched: Path, members: list[tuple[str, bytes]], kind: bytes, reason: str
) -> None:
    top = _top(members)
    bundle = _add(watched, members, special(f"{top}/data/etc/passwd", kind, "/etc/passwd"))
    assert reason in _error(bundle)


def test_symlinked_top_directory(watched: Path, members: list[tuple[str, bytes]]) -> None:
    bundle = watched / "bad.tar.gz"
    write_tar_gz(bundle, [special(_top(members), tarfile.SYMTYPE, "/etc"), *as_tar(members)])
    assert "symbolic link" in _error(bundle)


def test_duplicate_member(watched: Path, members: list[tuple[str, bytes]]) -> None:
    name, data = members[-1]
    assert "appears twice" in _error(_add(watched, members, regular(name, data)))


def test_oversized_member(watched: Path, members: list[tuple[str, bytes]]) -> None:
    big = regular(f"{_top(members)}/data/big", os.urandom(2 * MIB))
    message = _error(_add(watched, members, big), Limits(max_member_bytes=1 * MIB))
    assert "--max-member-mb" in message


def test_oversized_total(watched: Path, members: list[tuple[str, bytes]]) -> None:
    top = _top(members)
    parts = [regular(f"{top}/data/part{n}", os.urandom(MIB // 2)) for n in range(5)]
    bundle = watched / "bad.tar.gz"
    write_tar_gz(bundle, [*as_tar(members), *parts])
    assert "--max-total-mb" in _error(bundle, Limits(max_total_bytes=2 * MIB))


def test_header_bomb_is_refused_before_it_is_read(
    watched: Path, members: list[tuple[str, bytes]]
) -> None:
    info, data = regular(f"{_top(members)}/data/x", b"x")
    info.pax_headers = {"comment": "A" * (40 * MIB)}
    bundle = watched / "bomb.tar.gz"
    write_tar_gz(bundle, [*as_tar(members), (info, data)])
    assert "pax header of 41943058 bytes, more than 64 KiB" in _error(bundle)


def test_too_many_members(watched: Path, members: list[tuple[str, bytes]]) -> None:
    bundle = _good(watched, members)
    assert "more than 3 members" in _error(bundle, Limits(max_members=3))


def test_checksum_mismatch(watched: Path, members: list[tuple[str, bytes]]) -> None:
    tampered = [(n, b"0x0000\n" if n.endswith("virtio0/device") else d) for n, d in members]
    assert any(n.endswith("virtio0/device") for n, _ in tampered)
    assert "sha256 does not match" in _error(_good(watched, tampered))


def test_tampered_diagnosis(watched: Path, members: list[tuple[str, bytes]]) -> None:
    tampered = [(n, b"{}" if n.endswith("/diagnosis.json") else d) for n, d in members]
    assert "diagnosis.json: sha256 does not match" in _error(_good(watched, tampered))


def test_data_member_missing(watched: Path, members: list[tuple[str, bytes]]) -> None:
    short = [(n, d) for n, d in members if not n.endswith("/data/proc/modules")]
    assert "'proc/modules' has no data member" in _error(_good(watched, short))


def test_data_member_not_in_manifest(watched: Path, members: list[tuple[str, bytes]]) -> None:
    extra = regular(f"{_top(members)}/data/etc/shadow", b"root:x:")
    assert "not in the manifest" in _error(_add(watched, members, extra))


def test_newer_bundle_format(watched: Path, members: list[tuple[str, bytes]]) -> None:
    newer = with_manifest(members, {"bundle": {"format": 99, "snddiag_version": "9.0"}})
    message = _error(_good(watched, newer))
    assert "bundle format 99" in message
    assert "newer than this snddiag reads" in message


def test_newer_snapshot_format(watched: Path, members: list[tuple[str, bytes]]) -> None:
    newer = with_manifest(members, {"snapshot_format": 7})
    assert "snapshot format 7 is newer" in _error(_good(watched, newer))


def test_missing_manifest(watched: Path, members: list[tuple[str, bytes]]) -> None:
    without = [(n, d) for n, d in members if not n.endswith("/manifest.json")]
    assert "manifest.json" in _error(_good(watched, without))


def test_manifest_that_is_not_json(watched: Path, members: list[tuple[str, bytes]]) -> None:
    broken = [(n, b"[" * 100_000 if n.endswith("/manifest.json") else d) for n, d in members]
    assert "manifest.json is not JSON" in _error(_good(watched, broken))


def test_unsafe_key_in_manifest(watched: Path, members: list[tuple[str, bytes]]) -> None:
    evil = with_manifest(members, {"entries": {"../../etc/passwd": {"kind": "link"}}})
    assert "unsafe evidence key" in _error(_good(watched, evil))


def test_fifo_given_as_the_bundle(watched: Path) -> None:
    fifo = watched / "pipe.tar.gz"
    os.mkfifo(fifo)
    try:
        assert "not a regular file" in _error(fifo)
    finally:
        fifo.unlink()


def test_missing_file(watched: Path) -> None:
    assert "No such file" in _error(watched / "nope.tar.gz")


def test_cli_gives_one_line_and_exit_65(
    watched: Path, members: list[tuple[str, bytes]], capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = _add(watched, members, regular(f"/tmp/{ESCAPE}", b"x"))
    assert main(["analyze", str(bundle)]) == 65
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"snddiag: {bundle}: member ")
    assert "absolute path" in captured.err
