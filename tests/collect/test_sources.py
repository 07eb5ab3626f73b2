"""The runner records every system condition as data and never raises for one."""

from __future__ import annotations

import os
from pathlib import Path

from snddiag.collect import collect
from snddiag.collect.sources import (
    Command,
    File,
    Glob,
    Kmsg,
    Link,
    read_file,
    read_kmsg,
    read_node,
    run_command,
    run_sources,
)
from snddiag.evidence import Evidence, Kind, Status


def test_missing_file_is_recorded_not_raised(tmp_path: Path) -> None:
    entry = read_file(tmp_path, "proc/modules")
    assert entry.status is Status.MISSING
    assert entry.data == b""


def test_large_file_is_read_in_chunks_and_truncated(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(b"x" * 200_000)
    entry = read_file(tmp_path, "big", max_bytes=150_000)
    assert entry.ok
    assert len(entry.data) == 150_000
    assert entry.truncated


def test_garbage_bytes_survive_reading(tmp_path: Path) -> None:
    (tmp_path / "junk").write_bytes(b"\x00\xff\xfe virtio_snd \x80")
    entry = read_file(tmp_path, "junk")
    assert entry.data == b"\x00\xff\xfe virtio_snd \x80"
    assert "virtio_snd" in entry.text


def test_directory_read_as_file_fails_cleanly(tmp_path: Path) -> None:
    (tmp_path / "adir").mkdir()
    assert read_file(tmp_path, "adir").status is Status.FAILED


def test_missing_command_is_not_found() -> None:
    entry = run_command("nope", ("snddiag-no-such-command",), 1.0)
    assert entry.status is Status.NOT_FOUND
    assert entry.key == "cmd/nope"


def test_command_timeout_is_recorded() -> None:
    entry = run_command("sleep", ("sleep", "5"), 0.2)
    assert entry.status is Status.TIMEOUT
    assert entry.duration_s < 2


def test_failing_command_keeps_exit_code_and_stderr() -> None:
    entry = run_command("ls", ("ls", "/snddiag-no-such-path"), 5)
    assert entry.status is Status.FAILED
    assert entry.exit_code not in (None, 0)
    assert "snddiag-no-such-path" in entry.stderr


def test_commands_run_in_the_c_locale() -> None:
    entry = run_command("env", ("env",), 5)
    assert b"LC_ALL=C" in entry.data.splitlines()


def test_kmsg_reader_ends_on_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "kmsg").write_bytes(b"6,1,100,-;virtio_snd virtio0: hello\n")
    entry = read_kmsg(tmp_path, "kmsg")
    assert entry.ok
    assert b"hello" in entry.data


def test_glob_link_and_node_sources(tmp_path: Path) -> None:
    devices = tmp_path / "sys" / "bus" / "virtio" / "devices"
    target = tmp_path / "sys" / "devices" / "pci0000:00" / "0000:00:04.0" / "virtio3"
    target.mkdir(parents=True)
    (target / "device").write_text("0x0019\n")
    devices.mkdir(parents=True)
    os.symlink("../../../devices/pci0000:00/0000:00:04.0/virtio3", devices / "virtio3")
    evidence = Evidence()
    run_sources(
        (
            Glob("sys/bus/virtio/devices/*/device"),
            Link("sys/bus/virtio/devices/*"),
            Link("sys/bus/virtio/devices/virtio3/driver"),
            Command("true", ("true",)),
            Kmsg("dev/kmsg-missing"),
            File("proc/cmdline"),
        ),
        tmp_path,
        evidence,
    )
    assert evidence.text("sys/bus/virtio/devices/virtio3/device") == "0x0019\n"
    link = evidence.get("sys/bus/virtio/devices/virtio3")
    assert link is not None and link.target == "/sys/devices/pci0000:00/0000:00:04.0/virtio3"
    driver = evidence.get("sys/bus/virtio/devices/virtio3/driver")
    assert driver is not None and driver.status is Status.MISSING
    assert evidence.get("cmd/true") is not None
    missing = evidence.get("dev/kmsg-missing")
    assert missing is not None and missing.status is Status.MISSING


def test_node_of_this_machine_is_a_char_device() -> None:
    node = read_node(Path("/"), "dev/null")
    assert node.kind is Kind.NODE
    assert node.node is not None and node.node.is_char_device and node.node.readable


def test_collect_of_an_empty_root_reads_nothing_and_runs_nothing(tmp_path: Path) -> None:
    evidence = collect(tmp_path, live=False)
    # The one command: journalctl on the tree's own journal, which has none.
    commands = [e for e in evidence if e.kind is Kind.COMMAND]
    assert [(e.key, e.argv[1:3], e.ok) for e in commands] == [
        ("cmd/journalctl-k", ("--root", str(tmp_path)), False)
    ]
    assert all(e.status is Status.MISSING for e in evidence if e.kind is not Kind.COMMAND)
