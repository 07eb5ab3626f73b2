"""`--root DIR` of a mounted system reads the kernel log that system keeps: /var/log/kern.log,
messages, syslog, and its journal (this machine's journalctl with `--root DIR`), within the
caps, and says which logs were read (`kernel_log` in JSON, the summary line in text). Traps
among them (a FIFO, a link out of DIR, a sparse file of a gigabyte, a journal folder linked to
this machine's) end quickly and read nothing of this machine's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from snddiag.evidence import MAX_FILE_BYTES, load_directory
from snddiag.facts import build_facts
from tests.hostile.kit import run
from tests.hostile.nodes import fifo
from tests.trees import write_files

BANNER = "Linux version 6.1.0-13-amd64 (debian-kernel@lists.debian.org) (gcc-12) #1 SMP"
LINES = (
    f"Dec  6 10:00:00 guest kernel: [    0.000000] {BANNER}\n"
    "Dec  6 10:00:01 guest kernel: [    1.000000] virtio_snd virtio0: "
    "probe of virtio0 failed with error -22\n"
)


def _tree(base: Path, logs: dict[str, str]) -> Path:
    return write_files(base / "disk", {"proc/sys/kernel/osrelease": "6.1.0-13-amd64\n", **logs})


def _report(tree: Path, tmp: Path) -> dict[str, object]:
    ran = run("--root", str(tree), "--json", tmp=tmp, seconds=20)
    assert ran.code in (0, 1, 2, 3), ran
    document: dict[str, object] = json.loads(ran.out)
    return document


@pytest.mark.parametrize("name", ["kern.log", "messages", "syslog"])
def test_each_log_file_of_the_mounted_system_is_read(tmp_path: Path, name: str) -> None:
    tree = _tree(tmp_path, {f"var/log/{name}": LINES})
    document = _report(tree, tmp_path)
    assert document["kernel_log"] == {"source": f"/var/log/{name}", "read": [f"/var/log/{name}"]}
    ran = run("--root", str(tree), "--no-color", tmp=tmp_path)
    assert f"kernel log: /var/log/{name}" in " ".join(ran.out.split())


def test_the_first_log_in_the_plans_order_wins(tmp_path: Path) -> None:
    tree = _tree(tmp_path, {"var/log/syslog": LINES, "var/log/messages": LINES})
    assert _report(tree, tmp_path)["kernel_log"] == {
        "source": "/var/log/messages",
        "read": ["/var/log/messages"],
    }


def test_the_journal_is_read_below_the_root_only(tmp_path: Path) -> None:
    """No journal in DIR, one linked to this machine's: journalctl --root reads neither this
    machine's journal nor anything outside DIR; the report says no log was read and why
    (without journalctl here: that it is not installed)."""
    tree = _tree(tmp_path, {})
    (tree / "var" / "log").mkdir(parents=True)
    os.symlink("/var/log/journal", tree / "var" / "log" / "journal")
    ran = run(
        "--root", str(tree), "collect", "--no-redact", "--dir", str(tmp_path / "s"), tmp=tmp_path
    )
    assert ran.code == 0, ran
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    journal = manifest["entries"]["cmd/journalctl-k"]
    assert journal["argv"][:3] == ["journalctl", "--root", str(tree)]
    if shutil.which("journalctl") is None:
        assert journal["status"] == "not_found"
    assert (
        journal["status"] != "ok"
        or "-- No entries --" in (tmp_path / "s" / "data" / "cmd" / "journalctl-k").read_text()
    )
    document = _report(tree, tmp_path)
    assert document["kernel_log"] == {"source": None, "read": []}


def test_traps_among_the_logs_end_quickly_and_read_nothing_outside(tmp_path: Path) -> None:
    secret = tmp_path / "host-secret.log"
    secret.write_text("seed-host-kernel-log-4711\n")
    tree = _tree(tmp_path, {})
    fifo(tree / "var" / "log" / "kern.log")
    os.symlink(str(secret), tree / "var" / "log" / "messages")  # resolves inside DIR: missing
    with open(tree / "var" / "log" / "syslog", "wb") as handle:
        handle.write(LINES.encode())
        handle.truncate(1 << 30)  # a gigabyte, sparse after the lines
    ran = run("--root", str(tree), "--json", tmp=tmp_path, seconds=20)
    assert "seed-host-kernel-log-4711" not in ran.out
    document = json.loads(ran.out)
    # Its end, where a log keeps the newest boot, is 4 MiB of NUL bytes without a line.
    assert document["kernel_log"]["source"] is None
    snapshot = tmp_path / "snap"
    argv = ("--root", str(tree), "collect", "--no-redact", "--dir", str(snapshot))
    assert run(*argv, tmp=tmp_path, seconds=20).code == 0
    assert (snapshot / "data" / "var" / "log" / "syslog").stat().st_size == 0
    manifest = json.loads((snapshot / "manifest.json").read_text())
    assert manifest["entries"]["var/log/syslog"]["truncated"] is True
    assert manifest["entries"]["var/log/kern.log"]["status"] != "ok"


def test_a_log_over_the_cap_is_read_from_its_end_in_whole_lines(tmp_path: Path) -> None:
    """A long kern.log holds many boots, the running one last: over the cap, its end is kept
    (from a line's start), so the facts come from the newest boot, not the oldest."""
    filler = "Dec  6 10:00:02 guest kernel: [    2.000000] an older boot's line\n"
    newest = f"Dec  6 11:00:00 guest kernel: [    0.000000] {BANNER}\n"
    log = LINES + filler * (MAX_FILE_BYTES // len(filler) + 10) + newest
    tree = _tree(tmp_path, {"var/log/kern.log": log})
    ran = run(
        "--root", str(tree), "collect", "--no-redact", "--dir", str(tmp_path / "s"), tmp=tmp_path
    )
    assert ran.code == 0, ran
    kept = (tmp_path / "s" / "data" / "var" / "log" / "kern.log").read_bytes()
    assert kept.endswith(newest.encode())
    assert kept.startswith(filler.encode())
    assert len(kept) <= MAX_FILE_BYTES
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["entries"]["var/log/kern.log"]["truncated"] is True
    # The oldest boot's probe failure was cut off; a short log keeps it.
    assert build_facts(load_directory(tmp_path / "s")).probe.failed is False
    short = _tree(tmp_path / "short", {"var/log/kern.log": LINES})
    ran = run(
        "--root", str(short), "collect", "--no-redact", "--dir", str(tmp_path / "t"), tmp=tmp_path
    )
    assert ran.code == 0, ran
    assert build_facts(load_directory(tmp_path / "t")).probe.failed is True


JOURNAL_REMOTE = Path("/lib/systemd/systemd-journal-remote")


def _export_entry(boot_id: str, monotonic_us: int, message: str) -> str:
    """One kernel record in the journal's export format (what systemd-journal-remote reads)."""
    return (
        f"__REALTIME_TIMESTAMP={1733479200000000 + monotonic_us}\n"
        f"__MONOTONIC_TIMESTAMP={monotonic_us}\n_BOOT_ID={boot_id}\n_TRANSPORT=kernel\n"
        "PRIORITY=3\nSYSLOG_IDENTIFIER=kernel\n_HOSTNAME=guest\n"
        f"MESSAGE={message}\n\n"
    )


def test_a_real_journal_of_the_mounted_system_is_read_last_boot_only(tmp_path: Path) -> None:
    """A journal file as systemd writes it (made by systemd-journal-remote, installed by the
    lab's set-up), with two boots: journalctl --root reads the mounted system's last boot."""
    assert JOURNAL_REMOTE.exists(), "tests/guest/setup-lab installs systemd-journal-remote"
    assert shutil.which("journalctl") is not None
    tree = _tree(tmp_path, {})
    machine = tree / "var" / "log" / "journal" / ("0123456789abcdef" * 2)
    machine.mkdir(parents=True)
    older, newest = "1" * 32, "2" * 32
    failure = "virtio_snd virtio0: probe with driver virtio_snd failed with error -22"
    export = tmp_path / "export.txt"
    export.write_text(
        _export_entry(older, 1_000_000, f"{BANNER} (older boot)")
        + _export_entry(older, 2_000_000, "an older boot's line")
        + _export_entry(newest, 1_000_000, BANNER)
        + _export_entry(newest, 2_000_000, failure)
    )
    made = subprocess.run(
        [str(JOURNAL_REMOTE), f"--output={machine / 'remote.journal'}", str(export)],
        capture_output=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    assert _report(tree, tmp_path)["kernel_log"] == {
        "source": "journalctl -k",
        "read": ["journalctl -k"],
    }
    snapshot = tmp_path / "s"
    ran = run("--root", str(tree), "collect", "--no-redact", "--dir", str(snapshot), tmp=tmp_path)
    assert ran.code == 0, ran
    kept = (snapshot / "data" / "cmd" / "journalctl-k").read_text()
    assert failure in kept and "older boot" not in kept
    assert build_facts(load_directory(snapshot)).probe.error_code == -22
