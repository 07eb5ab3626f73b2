"""`/sys/bus/virtio/devices/virtioN/*` files and the device's resolved sysfs path."""

from __future__ import annotations

import re

from snddiag.parse import Parsed, clip

VIRTIO_F_VERSION_1 = 32

# Device IDs from the virtio specification, section 5 ("Device Types").
DEVICE_TYPES: dict[int, str] = {
    1: "net",
    2: "block",
    3: "console",
    4: "rng",
    5: "balloon",
    8: "scsi",
    9: "9p",
    16: "gpu",
    18: "input",
    19: "vsock",
    20: "crypto",
    25: "sound",
    26: "fs",
    27: "pmem",
    29: "mem",
    33: "i2c",
}

# Feature bits the transport defines for every device (virtio spec 6, "Reserved Feature Bits").
TRANSPORT_FEATURES: dict[int, str] = {
    24: "VIRTIO_F_NOTIFY_ON_EMPTY",
    27: "VIRTIO_F_ANY_LAYOUT",
    28: "VIRTIO_RING_F_INDIRECT_DESC",
    29: "VIRTIO_RING_F_EVENT_IDX",
    32: "VIRTIO_F_VERSION_1",
    33: "VIRTIO_F_ACCESS_PLATFORM",
    34: "VIRTIO_F_RING_PACKED",
    35: "VIRTIO_F_IN_ORDER",
    36: "VIRTIO_F_ORDER_PLATFORM",
    37: "VIRTIO_F_SR_IOV",
    38: "VIRTIO_F_NOTIFICATION_DATA",
    39: "VIRTIO_F_NOTIF_CONFIG_DATA",
    40: "VIRTIO_F_RING_RESET",
}

SOUND_FEATURES: dict[int, str] = {0: "VIRTIO_SND_F_CTLS"}

STATUS_BITS: dict[int, str] = {
    0x01: "ACKNOWLEDGE",
    0x02: "DRIVER",
    0x04: "DRIVER_OK",
    0x08: "FEATURES_OK",
    0x40: "DEVICE_NEEDS_RESET",
    0x80: "FAILED",
}


# Sysfs prints these as `0x` and up to 16 hex digits (a u64 at most); a longer run is not a value
# (it would not even print: Python refuses to write an int of more than 4300 decimal digits).
_HEX = re.compile(r"(?:0[xX])?([0-9a-fA-F]{1,16})")
# The kernel prints one character per feature bit it knows: 64, or 128 since extended features.
MAX_FEATURE_BITS = 1024


def parse_hex(text: str) -> Parsed[int | None]:
    """`0x0019\\n` -> 25; anything else (a sign, a longer number, junk) -> None."""
    match = _HEX.fullmatch(text.strip())
    if match is None:
        return Parsed(None, (clip(text),) if text.strip() else ())
    return Parsed(int(match.group(1), 16))


def parse_features(text: str) -> Parsed[frozenset[int] | None]:
    """`features`: one '0'/'1' character per bit, bit 0 first -> the set bits.

    A string longer than `MAX_FEATURE_BITS` is not read (None): no kernel prints one, and a
    32 MiB one used to become millions of ints and names.
    """
    bits = text.strip()
    if not bits or len(bits) > MAX_FEATURE_BITS or bits.strip("01"):
        return Parsed(None, (clip(text),) if bits else ())
    return Parsed(frozenset(i for i, c in enumerate(bits) if c == "1"))


def feature_names(bits: frozenset[int], device_features: dict[int, str]) -> tuple[str, ...]:
    names = []
    for bit in sorted(bits):
        name = TRANSPORT_FEATURES.get(bit) or device_features.get(bit) or f"bit {bit}"
        names.append(name)
    return tuple(names)


def status_names(status: int) -> tuple[str, ...]:
    return tuple(name for bit, name in STATUS_BITS.items() if status & bit)


def transport_of(device_path: str) -> str:
    """The transport a virtio device sits on, from its resolved sysfs path."""
    if "/virtio-pci" in device_path or "/pci" in device_path:
        return "pci"
    if "virtio-mmio" in device_path or "virtio_mmio" in device_path or "LNRO0005" in device_path:
        return "mmio"
    if "/css" in device_path or "ccw" in device_path:
        return "ccw"
    return "unknown"


def pci_address_of(device_path: str) -> str | None:
    """`/sys/devices/pci0000:00/0000:00:04.0/virtio1` -> `0000:00:04.0`."""
    parts = device_path.rstrip("/").split("/")
    candidates = [p for p in parts if p.count(":") == 2 and "." in p]
    return candidates[-1] if candidates else None
