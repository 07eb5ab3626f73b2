"""udev's view of the sound devices and the sound servers, read from files (sysfs, /run/udev/data,
/proc) and compared with what pyudev and psutil say on this machine."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from snddiag.collect.libraries import (
    PROCESSES_KEY,
    UDEV_KEY,
    read_sound_servers,
    read_udev_sound,
    sound_servers_in_proc,
    udev_devices,
)
from snddiag.evidence import Status
from tests.guests import REPO

CARD = "devices/pci0000:00/0000:00:03.0/virtio2/sound/card0"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _link(link: Path, target: str) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)


def _sound_tree(root: Path, *, udev_db: bool) -> None:
    """A card and its control device as the kernel shows them in sysfs; with `udev_db`, the
    records systemd-udevd writes for them once its rules have run."""
    card, control = root / "sys" / CARD, root / "sys" / CARD / "controlC0"
    _write(card / "uevent", "")
    _write(control / "uevent", "MAJOR=116\nMINOR=4\nDEVNAME=snd/controlC0\n")
    for device in (card, control):
        depth = len(device.relative_to(root / "sys").parts)
        _link(device / "subsystem", "../" * depth + "class/sound")
    _link(root / "sys/class/sound/card0", f"../../{CARD}")
    _link(root / "sys/class/sound/controlC0", f"../../{CARD}/controlC0")
    if udev_db:
        data = root / "run/udev/data"
        path_id = "E:ID_PATH=pci-0000:00:03.0"
        _write(
            data / "+sound:card0",
            f"I:4211327\nE:SOUND_INITIALIZED=1\n{path_id}\nG:seat\nQ:seat\nV:1\n",
        )
        _write(
            data / "c116:4",
            f"S:snd/by-path/pci-0000:00:03.0\nI:4180226\n{path_id}\nG:uaccess\nG:seat\nQ:seat\n",
        )


def test_udev_records_of_sound_devices_read_from_sysfs_and_the_database(tmp_path: Path) -> None:
    _sound_tree(tmp_path, udev_db=True)
    card, control = udev_devices(tmp_path, "sound")
    assert card == {
        "sys_path": f"/sys/{CARD}",
        "driver": "",
        "properties": {
            "DEVPATH": f"/{CARD}",
            "SUBSYSTEM": "sound",
            "USEC_INITIALIZED": "4211327",
            "SOUND_INITIALIZED": "1",
            "ID_PATH": "pci-0000:00:03.0",
            "TAGS": ":seat:",
            "CURRENT_TAGS": ":seat:",
        },
        "tags": ["seat"],
        "initialized": True,
    }
    assert control["properties"]["DEVNAME"] == "/dev/snd/controlC0"
    assert control["properties"]["DEVLINKS"] == "/dev/snd/by-path/pci-0000:00:03.0"
    assert control["properties"]["TAGS"] == ":seat:uaccess:"
    assert control["tags"] == ["seat", "uaccess"]


def test_udev_records_without_udevd_are_uninitialized(tmp_path: Path) -> None:
    _sound_tree(tmp_path, udev_db=False)
    devices = udev_devices(tmp_path, "sound")
    assert [d["initialized"] for d in devices] == [False, False]
    assert devices[1]["properties"] == {
        "DEVPATH": f"/{CARD}/controlC0",
        "SUBSYSTEM": "sound",
        "MAJOR": "116",
        "MINOR": "4",
        "DEVNAME": "/dev/snd/controlC0",
    }


def test_udev_records_have_the_shape_of_the_captured_guests(tmp_path: Path) -> None:
    _sound_tree(tmp_path, udev_db=False)
    captured = json.loads((REPO / "tests/fixtures/guests/healthy-pci/data" / UDEV_KEY).read_text())
    # The lab guest's card and control device, read by pyudev there, as read here from files.
    assert [d for d in udev_devices(tmp_path, "sound") if d not in captured] == []


def test_no_sound_class_means_no_sound_devices(tmp_path: Path) -> None:
    (tmp_path / "sys/class/net").mkdir(parents=True)
    entry = read_udev_sound(tmp_path)
    assert entry.status is Status.OK
    assert json.loads(entry.data) == []


def test_links_leading_out_of_sysfs_are_not_followed(tmp_path: Path) -> None:
    _link(tmp_path / "sys/class/sound/card9", "../../../../../etc")
    assert udev_devices(tmp_path, "sound") == []


def _pyudev_devices(subsystem: str) -> list[dict[str, Any]]:
    import pyudev

    devices = [
        {
            "sys_path": d.sys_path,
            "driver": d.driver or "",
            "properties": {k: d.properties[k] for k in d.properties},
            "tags": sorted(d.tags),
            "initialized": bool(d.is_initialized),
        }
        for d in pyudev.Context().list_devices(subsystem=subsystem)
    ]
    return sorted(devices, key=lambda d: d["sys_path"])


def test_udev_records_agree_with_pyudev_on_this_machine() -> None:
    classes = sorted(p.name for p in Path("/sys/class").iterdir())
    compared = 0
    for subsystem in classes:
        ours = udev_devices(Path("/"), subsystem)
        assert ours == _pyudev_devices(subsystem), subsystem
        compared += len(ours)
    assert compared >= 10, f"only {compared} devices in {classes}"


def _proc_tree(root: Path) -> Path:
    proc = root / "proc"
    for pid, comm, uid in ((1, "init", 0), (812, "pipewire", 0), (640, "wireplumber", 65534)):
        _write(proc / str(pid) / "comm", comm + "\n")
        _write(proc / str(pid) / "status", f"Name:\t{comm}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n")
    _write(proc / "977/comm", "pulseaudio\n")  # its status is gone: the process ended
    _write(proc / "978/comm", "jackd\n")
    _write(proc / "978/status", "Name:\tjackd\nUid:\t4000123\t0\t0\t0\n")  # a uid without a name
    _write(proc / "meminfo", "MemTotal: 1 kB\n")
    return proc


def test_sound_servers_read_from_proc(tmp_path: Path) -> None:
    _proc_tree(tmp_path)
    assert sound_servers_in_proc(tmp_path / "proc") == [
        {"name": "jackd", "pid": 978, "user": "4000123"},
        {"name": "pipewire", "pid": 812, "user": "root"},
        {"name": "wireplumber", "pid": 640, "user": "nobody"},
    ]
    assert json.loads(read_sound_servers(tmp_path).data)[1]["name"] == "pipewire"


def test_sound_servers_agree_with_psutil_on_this_machine(tmp_path: Path) -> None:
    import psutil

    name = "snddiag-sleepr"  # 14 characters: comm keeps it whole
    program = tmp_path / name
    shutil.copy(shutil.which("sleep") or "/bin/sleep", program)
    program.chmod(0o755)
    proc = subprocess.Popen([str(program), "30"])
    try:
        time.sleep(0.3)
        ours = sound_servers_in_proc(Path("/proc"), frozenset({name}))
        theirs = [
            {"name": p.info["name"], "pid": p.info["pid"], "user": p.info["username"]}
            for p in psutil.process_iter(["name", "pid", "username"])
            if p.info["name"] == name
        ]
    finally:
        proc.kill()
        proc.wait()
    assert ours == theirs
    assert [p["pid"] for p in ours] == [proc.pid]


@pytest.mark.parametrize("key", [UDEV_KEY, PROCESSES_KEY])
def test_unlistable_files_fall_back_to_the_library(tmp_path: Path, key: str) -> None:
    entry = read_udev_sound(tmp_path) if key == UDEV_KEY else read_sound_servers(tmp_path)
    assert entry.status is Status.OK, entry.stderr
    assert isinstance(json.loads(entry.data), list)
