"""Devices: the virtio bus (and the sound device on it), PCI functions, and the inventory."""

from __future__ import annotations

from snddiag.collect.plan import declared
from snddiag.evidence import Evidence
from snddiag.facts.docs import fact
from snddiag.parse.virtio_sysfs import (
    DEVICE_TYPES,
    SOUND_FEATURES,
    VIRTIO_F_VERSION_1,
    feature_names,
    parse_features,
    parse_hex,
    pci_address_of,
    status_names,
    transport_of,
)
from snddiag.records import dataclass

MODULE = "virtio_snd"
VIRTIO_SOUND_ID = 25
VIRTIO_STATUS_FAILED = 0x80
RED_HAT_VIRTIO_VENDOR = 0x1AF4
VIRTIO_SOUND_PCI_ID = 0x1059
VIRTIO_BASE = "sys/bus/virtio/devices"
PCI_BASE = "sys/bus/pci/devices"

# Emulated sound functions QEMU offers (hw/audio/*): vendor:device -> QEMU device name.
EMULATED_SOUND_PCI: dict[tuple[int, int], str] = {
    (0x8086, 0x2668): "intel-hda",
    (0x8086, 0x293E): "ich9-intel-hda",
    (0x8086, 0x2415): "AC97",
    (0x1274, 0x5000): "ES1370",
    (0x1013, 0x6003): "cs4231a",
}

SOURCES: dict[str, tuple[str, ...]] = {
    "virtio": declared(
        "sys/bus",
        VIRTIO_BASE,
        f"{VIRTIO_BASE}/*",
        f"{VIRTIO_BASE}/*/device",
        f"{VIRTIO_BASE}/*/features",
        f"{VIRTIO_BASE}/*/status",
        f"{VIRTIO_BASE}/*/driver",
    ),
    "pci": declared(
        "sys/bus",
        PCI_BASE,
        f"{PCI_BASE}/*/vendor",
        f"{PCI_BASE}/*/device",
        f"{PCI_BASE}/*/class",
        f"{PCI_BASE}/*/driver",
    ),
}
NO_VIRTIO = "the virtio bus could not be listed"
NO_SOUND = "no virtio sound device, or the bus could not be listed"
NO_PCI = "the PCI bus could not be listed"


@dataclass(frozen=True)
class VirtioDevice:
    name: str
    device_id: int | None
    type_name: str
    transport: str
    driver: str
    status: int | None
    pci_address: str | None


@dataclass(frozen=True)
class SoundDevice:
    present: bool | None = fact("the VM has a virtio sound device (virtio ID 25)", NO_VIRTIO)
    count: int | None = fact("how many virtio sound devices", NO_VIRTIO)
    name: str | None = fact("the first one's name on the virtio bus (virtio2)", NO_SOUND)
    transport: str | None = fact(
        "its transport: pci, mmio, ccw or unknown",
        NO_SOUND,
        values=("pci", "mmio", "ccw", "unknown"),
    )
    pci_address: str | None = fact("its PCI address (0000:00:04.0)", "not on PCI, or no device")
    driver: str | None = fact("the driver bound to it ('' when none)", NO_SOUND)
    bound: bool | None = fact("virtio_snd is bound to it", NO_SOUND)
    status: int | None = fact("its virtio status byte (0x0f healthy, 0x80 FAILED)", NO_SOUND)
    status_names: tuple[str, ...] | None = fact(
        "the status bits by name (ACKNOWLEDGE, DRIVER_OK, FAILED, ...)", NO_SOUND
    )
    failed: bool | None = fact("the status has FAILED set", NO_SOUND)
    version_1: bool | None = fact(
        "VIRTIO_F_VERSION_1 was negotiated (a modern transport)", "no device, or no features file"
    )
    features: tuple[str, ...] | None = fact(
        "the negotiated feature bits by name", "no device, or no features file"
    )


@dataclass(frozen=True)
class Virtio:
    snd: SoundDevice
    devices: tuple[VirtioDevice, ...] | None = fact(
        "every device on the virtio bus: name, type, transport, driver, status", NO_VIRTIO
    )


@dataclass(frozen=True)
class PciFunction:
    address: str
    vendor: int
    device: int
    pci_class: int
    driver: str
    name: str


@dataclass(frozen=True)
class Pci:
    functions: tuple[PciFunction, ...] | None = fact(
        "every PCI function: address, vendor, device, class, driver, name", NO_PCI
    )
    virtio_sound: bool | None = fact("a virtio-sound-pci function (1af4:1059) exists", NO_PCI)
    emulated_sound: tuple[str, ...] | None = fact(
        "emulated sound functions by QEMU device name (intel-hda, AC97, ...)", NO_PCI
    )
    emulated_sound_present: bool | None = fact("there is at least one of those", NO_PCI)


@dataclass(frozen=True)
class InventoryItem:
    device_class: str
    paravirtual: tuple[str, ...]
    emulated: tuple[str, ...]


def _bus_devices(evidence: Evidence, bus: str) -> tuple[str, ...] | None:
    """Device names on a bus; () when the bus itself does not exist (no PCI on microvm)."""
    names = evidence.listing(f"sys/bus/{bus}/devices")
    if names is not None:
        return names
    buses = evidence.listing("sys/bus")
    if buses is not None and bus not in buses:
        return ()
    return None


def _link_name(evidence: Evidence, key: str) -> str:
    link = evidence.get(key)
    return link.target.rsplit("/", 1)[-1] if link is not None and link.ok else ""


def _virtio_device(evidence: Evidence, name: str) -> VirtioDevice:
    path = f"{VIRTIO_BASE}/{name}"
    link = evidence.get(path)
    target = link.target if link is not None and link.ok else ""
    device_id = parse_hex(evidence.text(f"{path}/device") or "").value
    return VirtioDevice(
        name=name,
        device_id=device_id,
        type_name=DEVICE_TYPES.get(device_id or -1, f"id {device_id}"),
        transport=transport_of(target) if target else "unknown",
        driver=_link_name(evidence, f"{path}/driver"),
        status=parse_hex(evidence.text(f"{path}/status") or "").value,
        pci_address=pci_address_of(target) if target else None,
    )


def build_virtio(evidence: Evidence) -> Virtio:
    names = _bus_devices(evidence, "virtio")
    devices = tuple(_virtio_device(evidence, name) for name in names or ())
    sound = [d for d in devices if d.device_id == VIRTIO_SOUND_ID]
    listed = names is not None
    return Virtio(
        devices=devices if listed else None, snd=_sound_device(evidence, sound, listed=listed)
    )


def _no_sound_device(listed: bool) -> SoundDevice:
    return SoundDevice(
        present=False if listed else None,
        count=0 if listed else None,
        name=None,
        transport=None,
        pci_address=None,
        driver=None,
        bound=None,
        status=None,
        status_names=None,
        failed=None,
        version_1=None,
        features=None,
    )


def _sound_device(evidence: Evidence, sound: list[VirtioDevice], *, listed: bool) -> SoundDevice:
    if not sound:
        return _no_sound_device(listed)
    first = sound[0]
    features = parse_features(evidence.text(f"{VIRTIO_BASE}/{first.name}/features") or "").value
    status = first.status
    return SoundDevice(
        present=True,
        count=len(sound),
        name=first.name,
        transport=first.transport,
        pci_address=first.pci_address,
        driver=first.driver,
        bound=first.driver == MODULE,
        status=status,
        status_names=status_names(status) if status is not None else None,
        failed=bool(status & VIRTIO_STATUS_FAILED) if status is not None else None,
        version_1=(VIRTIO_F_VERSION_1 in features) if features is not None else None,
        features=feature_names(features, SOUND_FEATURES) if features is not None else None,
    )


def _pci_function(evidence: Evidence, address: str) -> PciFunction | None:
    path = f"{PCI_BASE}/{address}"
    vendor = parse_hex(evidence.text(f"{path}/vendor") or "").value
    device = parse_hex(evidence.text(f"{path}/device") or "").value
    pci_class = parse_hex(evidence.text(f"{path}/class") or "").value
    if vendor is None or device is None or pci_class is None:
        return None
    name = EMULATED_SOUND_PCI.get((vendor, device), f"{vendor:04x}:{device:04x}")
    if vendor == RED_HAT_VIRTIO_VENDOR and device == VIRTIO_SOUND_PCI_ID:
        name = "virtio-sound-pci"
    return PciFunction(
        address=address,
        vendor=vendor,
        device=device,
        pci_class=pci_class,
        driver=_link_name(evidence, f"{path}/driver"),
        name=name,
    )


def build_pci(evidence: Evidence) -> Pci:
    addresses = _bus_devices(evidence, "pci")
    if addresses is None:
        return Pci(
            functions=None, virtio_sound=None, emulated_sound=None, emulated_sound_present=None
        )
    functions = tuple(
        f for address in addresses if (f := _pci_function(evidence, address)) is not None
    )
    is_audio = [f for f in functions if f.pci_class >> 8 in (0x0401, 0x0403)]
    emulated = tuple(f.name for f in is_audio if f.vendor != RED_HAT_VIRTIO_VENDOR)
    return Pci(
        functions=functions,
        virtio_sound=any(
            f.vendor == RED_HAT_VIRTIO_VENDOR and f.device == VIRTIO_SOUND_PCI_ID for f in functions
        ),
        emulated_sound=emulated,
        emulated_sound_present=bool(emulated),
    )


_PCI_CLASS_NAMES = {0x01: "block", 0x02: "net", 0x03: "gpu", 0x04: "sound"}
_VIRTIO_CLASS_OF_TYPE = {"scsi": "block", "9p": "fs"}


def _emulated_label(function: PciFunction) -> str:
    known = function.name != f"{function.vendor:04x}:{function.device:04x}"
    label = function.name if known else f"pci {function.name}"
    return f"{label} ({function.driver})" if function.driver else label


def build_inventory(virtio: Virtio, pci: Pci) -> tuple[InventoryItem, ...]:
    para: dict[str, list[str]] = {}
    emulated: dict[str, list[str]] = {}
    for device in virtio.devices or ():
        device_class = _VIRTIO_CLASS_OF_TYPE.get(device.type_name, device.type_name)
        para.setdefault(device_class, []).append(f"virtio-{device.type_name} ({device.transport})")
    for function in pci.functions or ():
        pci_class_name = _PCI_CLASS_NAMES.get(function.pci_class >> 16)
        if pci_class_name is None or function.vendor == RED_HAT_VIRTIO_VENDOR:
            continue
        emulated.setdefault(pci_class_name, []).append(_emulated_label(function))
    return tuple(
        InventoryItem(
            device_class=c, paravirtual=tuple(para.get(c, ())), emulated=tuple(emulated.get(c, ()))
        )
        for c in sorted(set(para) | set(emulated))
    )
