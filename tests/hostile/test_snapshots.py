"""Snapshot directories from a stranger, through `snddiag analyze --root DIR`: links in any
component, FIFOs and devices where files are expected, sparse files far larger than the manifest
says, a manifest that is not a file.

Each case is built here from scratch and checked for: the process ends in a few seconds within
MAX_RSS_MB (kit.run), exit 65 with one line naming the problem, no host file read (the host's
own bytes never reach the output), the snapshot left as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from snddiag.evidence import Entry, Evidence, Kind, Status, save_directory
from tests.hostile.kit import run
from tests.hostile.nodes import Shape, char_device, fifo

HOST_FILE = Path("/etc/hostname") if Path("/etc/hostname").is_file() else Path("/etc/passwd")


def _snapshot(base: Path, files: dict[str, bytes]) -> Path:
    """A genuine snapshot directory of `files` (keys as collect writes them)."""
    entries = {
        key: Entry(key, Kind.FILE, Status.OK, data=data) for key, data in sorted(files.items())
    }
    entries["proc/sys/kernel/osrelease"] = Entry(
        "proc/sys/kernel/osrelease", Kind.FILE, Status.OK, data=b"6.1.0-13-amd64\n"
    )
    target = base / "snap"
    save_directory(Evidence(entries, {"user": "root"}), target)
    return target


def _claim(snapshot: Path, key: str, data: bytes) -> None:
    """Make the manifest claim `key` holds `data` (size and sha256)."""
    manifest = json.loads((snapshot / "manifest.json").read_text())
    manifest["entries"][key] = {
        "kind": "file",
        "status": "ok",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    (snapshot / "manifest.json").write_text(json.dumps(manifest))


def _link_folder(snapshot: Path, folder: str, target: str, key: str) -> None:
    """data/FOLDER is a link to TARGET on this host, and the manifest lists FOLDER/KEY with the
    host file's real size and sha256: were the link followed, everything would match."""
    os.symlink(target, snapshot / "data" / folder)
    _claim(snapshot, f"{folder}/{key}", (Path(target) / key).read_bytes())


def _proc_link(snapshot: Path) -> None:
    os.symlink("/proc", snapshot / "data" / "p")
    _claim(snapshot, "p/kmsg", b"")  # reading /proc/kmsg blocks forever


def _deep_link(snapshot: Path) -> None:
    (snapshot / "data" / "etc").mkdir()
    os.symlink(HOST_FILE.parent, snapshot / "data" / "etc" / "host")
    _claim(snapshot, f"etc/host/{HOST_FILE.name}", HOST_FILE.read_bytes())


def _last_link(snapshot: Path) -> None:
    os.symlink(HOST_FILE, snapshot / "data" / "hostfile")
    _claim(snapshot, "hostfile", HOST_FILE.read_bytes())


def _data_dir_link(snapshot: Path) -> None:
    os.rename(snapshot / "data", snapshot / "real-data")
    os.symlink("real-data", snapshot / "data")


def _fifo_entry(snapshot: Path) -> None:
    fifo(snapshot / "data" / "proc" / "fifo")
    _claim(snapshot, "proc/fifo", b"")


def _device_entry(snapshot: Path) -> None:
    made = char_device(snapshot / "data" / "proc" / "dev", os.makedev(1, 11))
    if made != snapshot / "data" / "proc" / "dev":  # no CAP_MKNOD: a link to the host's node
        os.symlink(made, snapshot / "data" / "proc" / "dev")
    _claim(snapshot, "proc/dev", b"")


def _manifest_fifo(snapshot: Path) -> None:
    (snapshot / "manifest.json").unlink()
    fifo(snapshot / "manifest.json")


def _manifest_kmsg(snapshot: Path) -> None:
    (snapshot / "manifest.json").unlink()
    os.symlink("/proc/kmsg", snapshot / "manifest.json")


CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "link-to-proc-then-kmsg": (_proc_link, "symbolic link"),
    "link-to-the-host-etc": (
        lambda s: _link_folder(s, "e", str(HOST_FILE.parent), HOST_FILE.name),
        "symbolic link",
    ),
    "link-deeper-down": (_deep_link, "symbolic link"),
    "link-as-the-file": (_last_link, "symbolic link"),
    "data-folder-a-link": (_data_dir_link, "symbolic link"),
    "fifo-as-an-entry": (_fifo_entry, "not a regular file"),
    "device-as-an-entry": (_device_entry, "only regular files"),
    "manifest-a-fifo": (_manifest_fifo, "manifest.json"),
    "manifest-a-link-to-kmsg": (_manifest_kmsg, "manifest.json"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_snapshot_directory_is_refused_quickly(tmp_path: Path, case: str) -> None:
    build, said = CASES[case]
    snapshot = _snapshot(tmp_path, {"proc/cmdline": b"console=ttyS0\n"})
    build(snapshot)
    shapes = {p: Shape.of(p) for p in [snapshot, *snapshot.rglob("*")]}
    for extra in ([], ["--json"]):
        ran = run("analyze", "--root", str(snapshot), *extra, tmp=tmp_path, seconds=15)
        assert ran.code == 65, ran
        assert said in ran.err and ran.err.count("\n") == 1, ran.err
        assert HOST_FILE.read_text().strip() not in ran.out
    assert {p: Shape.of(p) for p in [snapshot, *snapshot.rglob("*")]} == shapes


@pytest.mark.parametrize(
    ("claimed", "said"),
    [
        (16, "bytes, the manifest says 16"),  # a sparse 16 GiB file where 16 bytes are claimed
        (16 << 30, "more than the --max-member-mb limit"),  # claimed as it is: still too big
    ],
)
def test_a_huge_sparse_entry_is_refused_before_it_is_hashed(
    tmp_path: Path, claimed: int, said: str
) -> None:
    snapshot = _snapshot(tmp_path, {"proc/cmdline": b"console=ttyS0\n"})
    with open(snapshot / "data" / "proc" / "cmdline", "r+b") as handle:
        handle.truncate(16 << 30)
    manifest = json.loads((snapshot / "manifest.json").read_text())
    manifest["entries"]["proc/cmdline"]["size"] = claimed
    (snapshot / "manifest.json").write_text(json.dumps(manifest))
    ran = run("analyze", "--root", str(snapshot), tmp=tmp_path, seconds=15)
    assert ran.code == 65 and said in ran.err and ran.err.count("\n") == 1, ran


def test_many_entries_beyond_the_total_cap_are_refused(tmp_path: Path) -> None:
    files = {f"proc/f{n}": os.urandom(1 << 20) for n in range(3)}
    snapshot = _snapshot(tmp_path, files)
    ran = run("analyze", "--root", str(snapshot), "--max-total-mb", "2", tmp=tmp_path)
    assert ran.code == 65 and "--max-total-mb limit (2 MB)" in ran.err, ran
    ran = run("analyze", "--root", str(snapshot), "--max-member-mb", "2", tmp=tmp_path)
    assert ran.code in (0, 1, 2, 3), ran  # within both caps: read and diagnosed


def test_a_snapshot_beyond_the_time_limit_is_stopped(tmp_path: Path) -> None:
    files = {f"proc/f{n}": os.urandom(4 << 20) for n in range(8)}
    snapshot = _snapshot(tmp_path, files)
    ran = run("analyze", "--root", str(snapshot), "--timeout-s", "0.05", tmp=tmp_path)
    assert ran.code == 65 and "took longer than 0.05 s (--timeout-s)" in ran.err, ran
