"""Evidence from Python libraries (pyudev, psutil), stored as JSON text under `lib/...` keys.

Each is imported only here and only when used; when the library or what it wraps (libudev) is
missing, the entry says so and the diagnosis goes on from sysfs.
"""

from __future__ import annotations

import json
import time

from snddiag.evidence import Entry, Kind, Status

UDEV_KEY = "lib/udev/sound"
PROCESSES_KEY = "lib/psutil/sound-servers"

SOUND_SERVER_NAMES = frozenset(
    {"pipewire", "wireplumber", "pipewire-pulse", "pulseaudio", "jackd", "jackdbus", "sndiod"}
)


def _json_entry(key: str, value: object, started: float) -> Entry:
    data = json.dumps(value, indent=1, sort_keys=True).encode()
    return Entry(key, Kind.FILE, Status.OK, data=data, duration_s=time.monotonic() - started)


def read_udev_sound() -> Entry:
    """The udev database's view of the sound subsystem: driver, tags, SOUND_INITIALIZED."""
    started = time.monotonic()
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


def read_sound_servers() -> Entry:
    """Running sound server processes (names, pids, owners) and nothing else of the process list."""
    started = time.monotonic()
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
