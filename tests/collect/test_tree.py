"""A --root tree is read as a chroot would: no link leads out, nothing but regular files is
opened, and a loop ends with ELOOP."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from snddiag.collect import tree
from snddiag.collect.sources import (
    File,
    Glob,
    Kmsg,
    Link,
    Listing,
    read_file,
    read_kmsg,
    read_link,
    read_listing,
    read_node,
    run_sources,
)
from snddiag.evidence import Evidence, Status
from tests.hostile.nodes import device_in_tree, fifo, unix_socket

SECRET = b"host-secret-that-must-stay-outside"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file of 'this machine', beside the tree: what an escaping link would reach."""
    secret = tmp_path / "host" / "shadow"
    secret.parent.mkdir()
    secret.write_bytes(SECRET)
    return secret


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "tree"
    (path / "proc").mkdir(parents=True)
    (path / "etc").mkdir()
    return path


def test_absolute_link_is_read_inside_the_root(root: Path, outside: Path) -> None:
    os.symlink(str(outside), root / "proc" / "cmdline")
    entry = read_file(root, "proc/cmdline")
    assert entry.status is Status.MISSING and SECRET not in entry.data
    inside = root / str(outside).lstrip("/")
    inside.parent.mkdir(parents=True)
    inside.write_bytes(b"the tree's own file")
    assert read_file(root, "proc/cmdline").data == b"the tree's own file"


def test_absolute_link_to_a_system_file_names_the_trees_copy(root: Path) -> None:
    (root / "usr" / "lib").mkdir(parents=True)
    (root / "usr" / "lib" / "os-release").write_text("ID=tree\n")
    os.symlink("/usr/lib/os-release", root / "etc" / "os-release")
    assert read_file(root, "etc/os-release").data == b"ID=tree\n"


@pytest.mark.parametrize("depth", [1, 2, 3, 12])
def test_relative_link_climbing_out_stops_at_the_root(
    root: Path, outside: Path, depth: int
) -> None:
    os.symlink("../" * depth + "host/shadow", root / "proc" / "cmdline")
    entry = read_file(root, "proc/cmdline")
    assert entry.status is Status.MISSING and SECRET not in entry.data


def test_directory_link_out_of_the_root_is_rerooted(root: Path, outside: Path) -> None:
    os.symlink(str(outside.parent), root / "etc" / "modprobe.d")
    os.symlink("../../host", root / "proc" / "asound")
    evidence = Evidence()
    run_sources(
        (
            Glob("etc/modprobe.d/*"),
            Listing("etc/modprobe.d"),
            Listing("proc/asound"),
            File("proc/asound/shadow"),
        ),
        root,
        evidence,
    )
    assert not evidence.keys_under("etc/modprobe.d")
    assert all(SECRET not in e.data and "shadow" not in e.names for e in evidence)
    assert read_listing(root, "proc/asound").status is Status.MISSING
    os.symlink("../../../..", root / "proc" / "up")
    assert read_listing(root, "proc/up").names == ("etc", "proc")  # the root itself


@pytest.mark.parametrize(
    "links",
    [
        {"proc/cmdline": "cmdline"},
        {"proc/cmdline": "/proc/version", "proc/version": "../proc/cmdline"},
        {"proc/cmdline": "/etc/a", "etc/a": "/etc/b", "etc/b": "/proc/cmdline"},
    ],
)
def test_link_loop_ends_with_eloop(root: Path, links: dict[str, str]) -> None:
    for name, target in links.items():
        os.symlink(target, root / name)
    started = time.monotonic()
    for entry in (read_file(root, "proc/cmdline"), read_link(root, "proc/cmdline")):
        assert entry.status is Status.FAILED
        assert entry.stderr == "Too many levels of symbolic links"
    assert time.monotonic() - started < 1


def test_directory_loop_ends_with_eloop(root: Path) -> None:
    os.symlink("/sys/class", root / "proc" / "class")
    (root / "sys").mkdir()
    os.symlink("/proc/class", root / "sys" / "class")
    entry = read_file(root, "sys/class/dmi/id/product_name")
    assert entry.status is Status.FAILED
    assert tree.expand(root, "sys/class/dmi/id/*") == []


def test_forty_links_resolve_and_forty_one_do_not(root: Path) -> None:
    (root / "etc" / "l0").write_text("end\n")
    for n in range(1, 42):
        os.symlink(f"l{n - 1}", root / "etc" / f"l{n}")
    assert read_file(root, "etc/l40").data == b"end\n"
    assert read_file(root, "etc/l41").stderr == "Too many levels of symbolic links"


def test_link_source_reports_targets_inside_the_root(root: Path) -> None:
    device = root / "sys" / "devices" / "pci0000:00" / "virtio3"
    device.mkdir(parents=True)
    bus = root / "sys" / "bus" / "virtio" / "devices"
    bus.mkdir(parents=True)
    os.symlink("../../../devices/pci0000:00/virtio3", bus / "virtio3")
    os.symlink("/sys/devices/pci0000:00/virtio3", bus / "virtio4")
    os.symlink("../../../../../../../../drivers/gone", bus / "virtio5")
    evidence = Evidence()
    run_sources((Link("sys/bus/virtio/devices/*"),), root, evidence)
    targets = {e.key.rsplit("/", 1)[1]: e.target for e in evidence}
    assert targets == {
        "virtio3": "/sys/devices/pci0000:00/virtio3",
        "virtio4": "/sys/devices/pci0000:00/virtio3",
        "virtio5": "/drivers/gone",
    }


def test_node_source_does_not_follow_a_link_out(root: Path) -> None:
    (root / "dev" / "snd").mkdir(parents=True)
    os.symlink("/dev/null", root / "dev" / "snd" / "controlC0")
    assert read_node(root, "dev/snd/controlC0").status is Status.MISSING
    device_root, rel = device_in_tree(root, "dev/snd/pcmC0D0p")
    node = read_node(device_root, rel)
    assert node.ok and node.node is not None and node.node.is_char_device


def test_fifo_is_refused_without_blocking(root: Path) -> None:
    fifo(root / "proc" / "cmdline")
    started = time.monotonic()
    entry = read_file(root, "proc/cmdline")
    assert entry.status is Status.FAILED
    assert entry.stderr == "not a regular file: a FIFO"
    assert read_kmsg(root, "proc/cmdline").stderr == "not a regular file: a FIFO"
    assert time.monotonic() - started < 1


def test_fifo_with_a_silent_writer_is_refused_without_blocking(root: Path) -> None:
    path = fifo(root / "proc" / "modules")
    opened = threading.Event()

    def silent_writer() -> None:
        fd = os.open(path, os.O_RDWR)  # holds the FIFO open, never writes
        opened.set()
        time.sleep(1.5)
        os.close(fd)

    thread = threading.Thread(target=silent_writer)
    thread.start()
    opened.wait(5)
    started = time.monotonic()
    assert read_file(root, "proc/modules").status is Status.FAILED
    assert time.monotonic() - started < 1
    thread.join()


def test_character_device_is_not_opened(root: Path) -> None:
    device_root, rel = device_in_tree(root, "proc/cmdline")
    entry = read_file(device_root, rel)
    assert entry.status is Status.FAILED
    assert entry.stderr == "not a regular file: a character device"


def test_kmsg_device_in_a_tree_is_the_hosts_and_refused(root: Path) -> None:
    device_root, rel = device_in_tree(root, "dev/kmsg")
    entry = read_kmsg(device_root, rel)
    assert (entry.status is Status.FAILED) is (device_root != Path("/"))


def test_socket_is_refused(root: Path) -> None:
    with unix_socket(root / "proc" / "cmdline"):
        entry = read_file(root, "proc/cmdline")
    assert entry.stderr == "not a regular file: a socket"


def test_directory_where_a_file_is_expected(root: Path) -> None:
    (root / "proc" / "cmdline").mkdir()
    entry = read_file(root, "proc/cmdline")
    assert entry.status is Status.FAILED
    assert entry.stderr == "not a regular file: a directory"


def test_glob_records_a_fifo_and_skips_directories(root: Path) -> None:
    conf = root / "etc" / "modprobe.d"
    conf.mkdir()
    (conf / "good.conf").write_text("options virtio_snd x=1\n")
    (conf / "sub").mkdir()
    fifo(conf / "trap.conf")
    evidence = Evidence()
    run_sources((Glob("etc/modprobe.d/*"), Kmsg("dev/kmsg")), root, evidence)
    assert evidence.text("etc/modprobe.d/good.conf") == "options virtio_snd x=1\n"
    trap = evidence.get("etc/modprobe.d/trap.conf")
    assert trap is not None and trap.status is Status.FAILED
    assert evidence.get("etc/modprobe.d/sub") is None


def test_live_files_read_as_before() -> None:
    entry = read_file(Path("/"), "proc/cmdline")
    assert entry.ok
    assert entry.data == Path("/proc/cmdline").read_bytes()
    assert read_link(Path("/"), "proc/self").target == f"/proc/{os.getpid()}"
