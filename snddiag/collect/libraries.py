"""Evidence of the udev database and the sound servers, stored as JSON text under `lib/...` keys.

Both are read from files first: udev's database is sysfs plus `/run/udev/data`, which is what
libudev reads, and a process is `/proc/PID`. On a guest that takes about a millisecond where
importing psutil and walking its process list takes 80-160 ms, and it works where psutil or
pyudev is not installed (snddiag.pyz ships neither psutil nor libudev). pyudev and psutil stay as
the fallbacks where the files cannot be listed; when neither works, the entry says so and the
diagnosis goes on from sysfs.
"""

from __future__ import annotations

import json
import os
import pwd
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from snddiag.evidence import Entry, Kind, Status

UDEV_KEY = "lib/udev/sound"
PROCESSES_KEY = "lib/psutil/sound-servers"

SOUND_SERVER_NAMES = frozenset(
    {"pipewire", "wireplumber", "pipewire-pulse", "pulseaudio", "jackd", "jackdbus", "sndiod"}
)


def _json_entry(key: str, value: object, started: float) -> Entry:
    data = json.dumps(value, indent=1, sort_keys=True).encode()
    return Entry(key, Kind.FILE, Status.OK, data=data, duration_s=time.monotonic() - started)


def _from_files(
    key: str, what: str, read: Callable[[], object], fallback: Callable[[float], Entry]
) -> Entry:
    """`read()`'s value as the entry; where the files cannot be read, the library's instead,
    and when that fails too, an entry that names both failures."""
    started = time.monotonic()
    try:
        return _json_entry(key, read(), started)
    except OSError as err:
        library = fallback(started)
        if library.ok:
            return library
        return Entry(key, library.kind, library.status, stderr=f"{what}: {err}; {library.stderr}")


def read_udev_sound(root: Path = Path("/")) -> Entry:
    """The udev database's view of the sound subsystem: driver, tags, SOUND_INITIALIZED."""
    return _from_files(UDEV_KEY, "sysfs", lambda: udev_devices(root, "sound"), _udev_from_pyudev)


def udev_devices(root: Path, subsystem: str) -> list[dict[str, Any]]:
    """Every device of a sysfs class as pyudev describes it, read from the files libudev reads.

    Raises OSError when sysfs cannot be listed; a class that does not exist has no devices."""
    class_dir = root / "sys" / "class" / subsystem
    if not class_dir.is_dir():
        if not (root / "sys" / "class").is_dir():
            raise FileNotFoundError(f"{root / 'sys' / 'class'}: no sysfs")
        return []
    devices = [Path(os.path.realpath(link)) for link in class_dir.iterdir()]
    # As for libudev, a device is a directory with a uevent file (a class may hold plain files).
    found = sorted(
        p for p in devices if p.is_relative_to(root / "sys") and (p / "uevent").is_file()
    )
    return [_udev_device(root, path, subsystem) for path in found]


def _udev_device(root: Path, path: Path, subsystem: str) -> dict[str, Any]:
    """One device: its uevent's properties, then its record in udev's database if it has one.

    Record lines, as systemd's sd-device writes them: `E:KEY=value` a property, `G:` a tag,
    `Q:` a tag still current, `S:` a /dev link, `I:` when udev initialized it (microseconds)."""
    sys_root = root / "sys"
    properties = {"DEVPATH": "/" + path.relative_to(sys_root).as_posix()}
    properties["SUBSYSTEM"] = _link_name(path / "subsystem") or subsystem
    for line in _read_lines(path / "uevent"):
        key, sep, value = line.partition("=")
        if sep:
            properties[key] = "/dev/" + value if key == "DEVNAME" else value
    driver = _link_name(path / "driver")
    if driver:
        properties["DRIVER"] = driver
    tags: set[str] = set()
    current: set[str] = set()
    links: list[str] = []
    record = root / "run" / "udev" / "data" / _database_id(path.name, properties)
    initialized = record.is_file()
    for line in _read_lines(record):
        kind, value = line[:2], line[2:]
        if kind == "E:" and "=" in value:
            key, _, prop = value.partition("=")
            properties[key] = prop
        elif kind == "G:":
            tags.add(value)
        elif kind == "Q:":
            current.add(value)
        elif kind == "S:":
            links.append("/dev/" + value)
        elif kind == "I:":
            properties["USEC_INITIALIZED"] = value
    if links:
        properties["DEVLINKS"] = " ".join(sorted(links))
    for name, found in (("TAGS", tags), ("CURRENT_TAGS", current)):
        if found:
            properties[name] = ":" + ":".join(sorted(found)) + ":"
    return {
        "sys_path": "/" + path.relative_to(root).as_posix(),
        "driver": driver,
        "properties": properties,
        "tags": sorted(tags),
        "initialized": initialized,
    }


def _database_id(sysname: str, properties: dict[str, str]) -> str:
    """The name of a device's file in /run/udev/data (sd-device's device_get_device_id)."""
    if "MAJOR" in properties and "MINOR" in properties:
        kind = "b" if properties["SUBSYSTEM"] == "block" else "c"
        return f"{kind}{properties['MAJOR']}:{properties['MINOR']}"
    if properties["SUBSYSTEM"] == "net" and "IFINDEX" in properties:
        return f"n{properties['IFINDEX']}"
    return f"+{properties['SUBSYSTEM']}:{sysname}"


def _link_name(path: Path) -> str:
    try:
        return os.path.basename(os.readlink(path))
    except OSError:
        return ""


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def _udev_from_pyudev(started: float) -> Entry:
    try:
        import pyudev
    except ImportError as err:
        return Entry(UDEV_KEY, Kind.FILE, Status.NOT_FOUND, stderr=f"pyudev: {err}")
    try:
        context = pyudev.Context()
        devices = [
            {
                "sys_path": device.sys_path,
                "driver": device.driver or "",
                "properties": {k: device.properties[k] for k in device.properties},
                "tags": sorted(device.tags),
                "initialized": bool(device.is_initialized),
            }
            for device in context.list_devices(subsystem="sound")
        ]
    except ImportError as err:  # pyudev imports fine but cannot load libudev.so
        return Entry(UDEV_KEY, Kind.FILE, Status.NOT_FOUND, stderr=f"libudev: {err}")
    except OSError as err:
        return Entry(UDEV_KEY, Kind.FILE, Status.FAILED, stderr=f"libudev: {err}")
    return _json_entry(UDEV_KEY, devices, started)


def read_sound_servers(root: Path = Path("/")) -> Entry:
    """Running sound server processes (names, pids, owners) and nothing else of the process list."""
    return _from_files(
        PROCESSES_KEY,
        "/proc",
        lambda: sound_servers_in_proc(root / "proc"),
        _sound_servers_from_psutil,
    )


def sound_servers_in_proc(
    proc: Path, names: frozenset[str] = SOUND_SERVER_NAMES
) -> list[dict[str, Any]]:
    """Processes called one of `names`, as psutil gives them: name (`comm`, what psutil's name()
    reads on Linux), pid, and the owner of the real uid. Raises OSError if `proc` is unlistable."""
    found = []
    with os.scandir(proc) as entries:
        pids = [int(e.name) for e in entries if e.name.isdigit()]
    for pid in pids:
        try:  # strings, not Paths: a guest may run hundreds of processes
            name = _small_file(f"{proc}/{pid}/comm").decode(errors="replace").rstrip("\n")
            if name not in names:
                continue
            status = _small_file(f"{proc}/{pid}/status").decode(errors="replace")
        except OSError:  # the process ended meanwhile, or hidepid hides it
            continue
        found.append({"name": name, "pid": pid, "user": _owner(status)})
    return sorted(found, key=lambda p: (p["name"], p["pid"]))


def _small_file(path: str) -> bytes:
    """A /proc file's text: they are read in one go, under a page."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.read(fd, 65536)
    finally:
        os.close(fd)


def _owner(status: str) -> str | None:
    """The user name of the real uid on the status file's `Uid:` line (its uid if unnamed)."""
    for line in status.splitlines():
        if line.startswith("Uid:"):
            fields = line.split()
            if len(fields) > 1 and fields[1].isdigit():
                uid = int(fields[1])
                try:
                    return pwd.getpwuid(uid).pw_name
                except KeyError:
                    return str(uid)
    return None


def _sound_servers_from_psutil(started: float) -> Entry:
    try:
        import psutil
    except ImportError as err:
        return Entry(PROCESSES_KEY, Kind.FILE, Status.NOT_FOUND, stderr=f"psutil: {err}")
    found = []
    for proc in psutil.process_iter(["name", "pid", "username"]):
        name = proc.info.get("name") or ""
        if name in SOUND_SERVER_NAMES:
            found.append({"name": name, "pid": proc.info["pid"], "user": proc.info["username"]})
    return _json_entry(PROCESSES_KEY, sorted(found, key=lambda p: (p["name"], p["pid"])), started)
