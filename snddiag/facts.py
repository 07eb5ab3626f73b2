"""Facts: what the evidence says, as frozen dataclasses that rules address by dotted path.

`None` means "could not be read"; an empty tuple means "read, and there was nothing". Groups
(`system`, `virtio.snd`, ...) always exist, so every rule path resolves to a value or None.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from snddiag.collect.libraries import PROCESSES_KEY, UDEV_KEY
from snddiag.collect.plan import kernel_release, uname_fields
from snddiag.evidence import Evidence, Kind, Status
from snddiag.parse.alsa import Card, parse_asound_conf_default, parse_cards, parse_pcm
from snddiag.parse.cmdline import blacklisted_on_cmdline, parse_cmdline
from snddiag.parse.json_text import parse_json_list
from snddiag.parse.kconfig import parse_kconfig
from snddiag.parse.kmsg import KernelLine, parse_dmesg, parse_journal, parse_kmsg, parse_syslog
from snddiag.parse.lsmod import parse_lsmod, parse_proc_modules
from snddiag.parse.modinfo import parse_modinfo
from snddiag.parse.modprobe_conf import parse_modprobe_conf, parse_modules_list
from snddiag.parse.module_index import parse_modules_builtin, parse_modules_dep
from snddiag.parse.os_release import parse_os_release
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

MODULE = "virtio_snd"
VIRTIO_SOUND_ID = 25
VIRTIO_STATUS_FAILED = 0x80
VIRTIO_STATUS_DRIVER_OK = 0x04
RED_HAT_VIRTIO_VENDOR = 0x1AF4
VIRTIO_SOUND_PCI_ID = 0x1059

# Emulated sound functions QEMU offers (hw/audio/*): vendor:device -> QEMU device name.
EMULATED_SOUND_PCI: dict[tuple[int, int], str] = {
    (0x8086, 0x2668): "intel-hda",
    (0x8086, 0x293E): "ich9-intel-hda",
    (0x8086, 0x2415): "AC97",
    (0x1274, 0x5000): "ES1370",
    (0x1013, 0x6003): "cs4231a",
}


@dataclass(frozen=True)
class System:
    kernel_release: str | None
    arch: str | None
    distro_id: str | None
    distro_version: str | None
    distro_name: str | None
    distro_like: tuple[str, ...] | None
    kernel_flavour: str | None
    is_root: bool | None
    user: str | None
    groups: tuple[str, ...] | None


@dataclass(frozen=True)
class Host:
    vmm: str | None  # qemu | apple-vz | parallels | vmware | hyperv | virtualbox | other
    sys_vendor: str | None
    product_name: str | None
    machine_type: str | None
    qemu_machine_version: str | None
    dt_compatible: str | None


@dataclass(frozen=True)
class Kernel:
    log: str | None
    log_source: str | None
    log_restricted: bool | None
    cmdline: str | None
    config_source: str | None
    modules_disabled: bool | None


@dataclass(frozen=True)
class Driver:
    config: str | None  # CONFIG_SND_VIRTIO: y | m | n
    in_kernel: bool | None
    builtin: bool | None
    installed: bool | None
    module_path: str | None
    module_tree_present: bool | None
    loaded: bool | None
    blacklisted: bool | None
    blacklist_sources: tuple[str, ...]
    autoload_listed: bool | None
    params: Mapping[str, str]


@dataclass(frozen=True)
class Probe:
    failed: bool | None
    error_code: int | None
    error_name: str | None
    messages: tuple[str, ...] | None
    text: str | None


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
    present: bool | None
    count: int | None
    name: str | None
    transport: str | None
    pci_address: str | None
    driver: str | None
    bound: bool | None
    status: int | None
    status_names: tuple[str, ...] | None
    failed: bool | None
    version_1: bool | None
    features: tuple[str, ...] | None


@dataclass(frozen=True)
class Virtio:
    devices: tuple[VirtioDevice, ...] | None
    snd: SoundDevice


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
    functions: tuple[PciFunction, ...] | None
    virtio_sound: bool | None
    emulated_sound: tuple[str, ...] | None
    emulated_sound_present: bool | None


@dataclass(frozen=True)
class Alsa:
    cards: tuple[Card, ...] | None
    card_count: int | None
    virtio_card: bool | None
    virtio_card_index: int | None
    default_card: str | None
    default_card_is_virtio: bool | None
    virtio_playback_streams: int | None
    virtio_capture_streams: int | None
    dev_nodes: tuple[str, ...] | None
    dev_accessible: bool | None
    dev_group: str | None


@dataclass(frozen=True)
class Userspace:
    sound_servers: tuple[str, ...] | None
    udev_available: bool | None
    udev_sound_initialized: bool | None


@dataclass(frozen=True)
class InventoryItem:
    device_class: str
    paravirtual: tuple[str, ...]
    emulated: tuple[str, ...]


@dataclass(frozen=True)
class Facts:
    system: System
    host: Host
    kernel: Kernel
    driver: Driver
    probe: Probe
    virtio: Virtio
    pci: Pci
    alsa: Alsa
    userspace: Userspace
    inventory: tuple[InventoryItem, ...] = field(default=())


# Where each fact group comes from: a rule that cannot be evaluated names these as missing.
FACT_SOURCES: dict[str, tuple[str, ...]] = {
    "kernel.log": ("cmd/dmesg", "dev/kmsg", "var/log/kern.log", "cmd/journalctl-k"),
    "probe": ("cmd/dmesg", "dev/kmsg", "var/log/kern.log", "cmd/journalctl-k"),
    "driver.config": ("proc/config.gz", "boot/config-<release>"),
    "driver.loaded": ("proc/modules", "cmd/lsmod"),
    "driver": ("lib/modules/<release>/modules.dep", "proc/config.gz", "proc/modules"),
    "virtio": ("sys/bus/virtio/devices/*",),
    "pci": ("sys/bus/pci/devices/*",),
    "alsa": ("proc/asound/cards", "dev/snd/*"),
    "host": ("sys/class/dmi/id/*",),
    "system": ("proc/sys/kernel/osrelease", "etc/os-release"),
    "userspace": (UDEV_KEY, PROCESSES_KEY),
}


def sources_for(path: str) -> tuple[str, ...]:
    best = ""
    for prefix in FACT_SOURCES:
        if (path == prefix or path.startswith(prefix + ".")) and len(prefix) > len(best):
            best = prefix
    return FACT_SOURCES.get(best, ())


def _strip(evidence: Evidence, key: str) -> str | None:
    text = evidence.text(key)
    return text.strip() if text is not None else None


def _system(evidence: Evidence) -> System:
    release = kernel_release(evidence)
    os_text = evidence.text("etc/os-release") or evidence.text("usr/lib/os-release")
    os_fields = parse_os_release(os_text).value if os_text is not None else None
    distro_id = os_fields.get("ID") if os_fields is not None else None
    like = tuple(os_fields.get("ID_LIKE", "").split()) if os_fields is not None else None
    uid = evidence.meta.get("uid")
    groups = evidence.meta.get("groups")
    return System(
        kernel_release=release,
        arch=_strip(evidence, "proc/sys/kernel/arch") or uname_fields(evidence)[1],
        distro_id=distro_id,
        distro_version=os_fields.get("VERSION_ID") if os_fields is not None else None,
        distro_name=os_fields.get("PRETTY_NAME") if os_fields is not None else None,
        distro_like=like,
        kernel_flavour=_kernel_flavour(release),
        is_root=(uid == "0") if uid is not None else None,
        user=evidence.meta.get("user"),
        groups=tuple(groups.split(",")) if groups else (() if groups is not None else None),
    )


def _kernel_flavour(release: str | None) -> str | None:
    """`6.6.31-0-virt` -> `virt`, `6.1.0-56-cloud-amd64` -> `cloud-amd64`, `6.12.95+deb12-amd64`
    -> `amd64`; the part after the last numeric component of the release."""
    if not release:
        return None
    # The flavour and the dash before it use only these characters: searching just that tail
    # keeps the search linear (on the whole release it was quadratic on a long osrelease).
    tail = release[len(release.rstrip(_FLAVOUR_CHARS)) :]
    match = _FLAVOUR.search(tail)
    return match.group(1) if match else None


_FLAVOUR_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-"
_FLAVOUR = re.compile(r"-(?:\d+-)?([a-z][a-z0-9-]*)\Z")


_VMM_BY_VENDOR = (
    ("QEMU", "qemu"),
    ("Bochs", "qemu"),  # microvm's qboot firmware, and QEMU with a Bochs BIOS
    ("Apple Inc.", "apple-vz"),
    ("Parallels", "parallels"),
    ("VMware", "vmware"),
    ("Microsoft Corporation", "hyperv"),
    ("innotek GmbH", "virtualbox"),
    ("Oracle Corporation", "virtualbox"),
)


def _host(evidence: Evidence, virtio: Virtio) -> Host:
    vendor = _strip(evidence, "sys/class/dmi/id/sys_vendor")
    product = _strip(evidence, "sys/class/dmi/id/product_name")
    version = _strip(evidence, "sys/class/dmi/id/product_version")
    compatible_raw = evidence.text("proc/device-tree/compatible")
    compatible = compatible_raw.replace("\x00", " ").strip() if compatible_raw else None
    vmm: str | None = None
    if vendor is not None:
        vmm = "other"
        for prefix, name in _VMM_BY_VENDOR:
            if vendor.startswith(prefix):
                vmm = name
        if vmm == "apple-vz" and product and "Virtualization" not in product:
            vmm = "other"  # a real Mac running Linux
    elif compatible and "linux,dummy-virt" in compatible:
        vmm = "qemu"  # arm virt with a direct kernel boot: no firmware, no DMI
    elif virtio.devices and all(d.transport == "mmio" for d in virtio.devices):
        vmm = "qemu"  # microvm: no SMBIOS tables, only virtio-mmio devices
    machine_type = version if vmm == "qemu" and version else None
    qemu_version = None
    if machine_type:
        found = re.search(r"-(\d+\.\d+)$", machine_type)
        qemu_version = found.group(1) if found else None
    return Host(vmm, vendor, product, machine_type, qemu_version, compatible)


def _kernel_log(evidence: Evidence) -> tuple[tuple[KernelLine, ...] | None, str | None]:
    readers = (
        ("cmd/dmesg", "dmesg", parse_dmesg),
        ("dev/kmsg", "/dev/kmsg", parse_kmsg),
        ("cmd/journalctl-k", "journalctl -k", parse_journal),
        ("var/log/kern.log", "/var/log/kern.log", parse_syslog),
        ("var/log/messages", "/var/log/messages", parse_syslog),
    )
    for key, label, parse in readers:
        text = evidence.text(key)
        if text is None or not text.strip():
            continue
        lines = parse(text).value
        if lines:
            return lines, label
    return None, None


def _kernel_config(evidence: Evidence) -> tuple[dict[str, str] | None, str | None]:
    entry = evidence.get("proc/config.gz")
    if entry is not None and entry.ok and entry.data:
        try:
            decompressed = gzip.decompress(entry.data).decode("utf-8", errors="replace")
            return parse_kconfig(decompressed).value, "/proc/config.gz"
        except (OSError, EOFError, zlib.error):
            pass  # a corrupt or truncated copy: fall back to /boot
    for key in evidence.keys_under("boot"):
        if key.startswith("boot/config-"):
            config_text = evidence.text(key)
            if config_text is not None:
                return parse_kconfig(config_text).value, "/" + key
    return None, None


def _kernel(
    evidence: Evidence, log: tuple[KernelLine, ...] | None, log_source: str | None
) -> tuple[Kernel, dict[str, str] | None]:
    config, config_source = _kernel_config(evidence)
    restrict = _strip(evidence, "proc/sys/kernel/dmesg_restrict")
    disabled = _strip(evidence, "proc/sys/kernel/modules_disabled")
    is_root = evidence.meta.get("uid") == "0"
    dmesg = evidence.get("cmd/dmesg")
    log_restricted: bool | None = None
    if dmesg is not None and dmesg.status is Status.DENIED:
        log_restricted = True
    elif restrict is not None and "uid" in evidence.meta:
        log_restricted = restrict == "1" and not is_root
    kernel = Kernel(
        log="\n".join(line.text for line in log) if log is not None else None,
        log_source=log_source,
        log_restricted=log_restricted,
        cmdline=_strip(evidence, "proc/cmdline"),
        config_source=config_source,
        modules_disabled=(disabled == "1") if disabled is not None else None,
    )
    return kernel, config


def _modprobe_files(evidence: Evidence) -> list[str]:
    dirs = ("etc/modprobe.d", "lib/modprobe.d", "usr/lib/modprobe.d", "run/modprobe.d")
    return [k for d in dirs for k in evidence.keys_under(d) if k.endswith(".conf")]


def _driver(evidence: Evidence, config: dict[str, str] | None, cmdline: str | None) -> Driver:
    release = kernel_release(evidence)
    tree = f"lib/modules/{release}" if release else None
    dep_text = evidence.text(f"{tree}/modules.dep") if tree else None
    builtin_text = evidence.text(f"{tree}/modules.builtin") if tree else None
    in_tree = parse_modules_dep(dep_text).value if dep_text is not None else None
    builtin_names = parse_modules_builtin(builtin_text).value if builtin_text is not None else None

    tree_present: bool | None = None
    if tree:
        link = evidence.get(tree)
        tree_present = dep_text is not None or (link is not None and link.ok)
        if link is not None and link.status is Status.MISSING and dep_text is None:
            tree_present = False

    option = config.get("CONFIG_SND_VIRTIO", "n") if config is not None else None
    builtin: bool | None = None
    if builtin_names is not None:
        builtin = MODULE in builtin_names
    elif option is not None:
        builtin = option == "y"
    installed: bool | None = None
    if builtin or (in_tree is not None and MODULE in in_tree):
        installed = True
    elif in_tree is not None and builtin_names is not None:
        installed = False

    in_kernel: bool | None
    if option is not None:
        in_kernel = option in ("y", "m")
    elif installed is not None:
        in_kernel = installed
    else:
        in_kernel = None

    loaded = _loaded(evidence, builtin)
    if loaded and in_kernel is None:
        in_kernel = True

    blacklist: list[str] = []
    params: dict[str, str] = {}
    for key in _modprobe_files(evidence):
        for directive in parse_modprobe_conf(evidence.text(key) or "").value:
            if directive.module != MODULE:
                continue
            where = f"/{key}:{directive.line_no}"
            if directive.verb == "blacklist":
                blacklist.append(f"{where}: blacklist {MODULE}")
            elif directive.blocks_loading:
                blacklist.append(f"{where}: install {MODULE} {directive.args}")
            elif directive.verb == "options":
                for word in directive.args.split():
                    name, _sep, value = word.partition("=")
                    params[name] = value
    pairs = parse_cmdline(cmdline).value if cmdline is not None else ()
    blocked = blacklisted_on_cmdline(pairs)
    if MODULE in blocked:
        blacklist.append(f"kernel command line: {blocked[MODULE]}")
    for name, value in pairs:
        if name.startswith(f"{MODULE}."):
            params[name.split(".", 1)[1]] = value
    for key in evidence.keys_under(f"sys/module/{MODULE}/parameters"):
        live_value = _strip(evidence, key)
        if live_value is not None:
            params[key.rsplit("/", 1)[1]] = live_value

    autoload = ("etc/modules", *evidence.keys_under("etc/modules-load.d"))
    listed = [
        MODULE in parse_modules_list(evidence.text(k) or "").value
        for k in autoload
        if evidence.text(k) is not None
    ]
    modinfo = evidence.text("cmd/modinfo-virtio_snd")
    module_path = None
    if modinfo is not None:
        names = parse_modinfo(modinfo).value.get("filename", ())
        module_path = names[0] if names else None
    elif in_tree is not None and MODULE in in_tree:
        module_path = f"/{tree}/{in_tree[MODULE]}"

    return Driver(
        config=option,
        in_kernel=in_kernel,
        builtin=builtin,
        installed=installed,
        module_path=module_path,
        module_tree_present=tree_present,
        loaded=loaded,
        blacklisted=bool(blacklist) if cmdline is not None else (True if blacklist else None),
        blacklist_sources=tuple(blacklist),
        autoload_listed=any(listed) if listed else False,
        params=params,
    )


def _loaded(evidence: Evidence, builtin: bool | None) -> bool | None:
    if builtin:
        return True
    text = evidence.text("proc/modules")
    if text is not None:
        return MODULE in parse_proc_modules(text).value
    text = evidence.text("cmd/lsmod")
    if text is not None:
        return MODULE in parse_lsmod(text).value
    initstate = _strip(evidence, f"sys/module/{MODULE}/initstate")
    return initstate == "live" if initstate is not None else None


# The errors virtio_snd's probe can return (sound/virtio/*.c), by errno value.
ERRNO_NAMES = {
    2: "ENOENT", 5: "EIO", 12: "ENOMEM", 19: "ENODEV", 22: "EINVAL", 95: "EOPNOTSUPP",
    110: "ETIMEDOUT",
}  # fmt: skip

_PROBE_FAILED = re.compile(
    # <= 6.8: "virtio_snd: probe of virtio0 failed with error -22";
    # >= 6.9: "virtio_snd virtio0: probe with driver virtio_snd failed with error -22".
    r"virtio_snd(?::| virtio\d+:) probe (?:of virtio\d+ |with driver virtio_snd )?"
    r"failed with error (-\d+)"
)


def _probe(log: tuple[KernelLine, ...] | None) -> Probe:
    if log is None:
        return Probe(None, None, None, None, None)
    lines = tuple(line.text for line in log if MODULE in line.text or "virtio-snd" in line.text)
    codes = [int(m.group(1)) for line in lines if (m := _PROBE_FAILED.search(line))]
    return Probe(
        failed=bool(codes),
        error_code=codes[-1] if codes else None,
        error_name=ERRNO_NAMES.get(-codes[-1], "unknown") if codes else None,
        messages=lines,
        text="\n".join(lines),
    )


def _bus_devices(evidence: Evidence, bus: str) -> tuple[str, ...] | None:
    """Device names on a bus; () when the bus itself does not exist (no PCI on microvm)."""
    names = evidence.listing(f"sys/bus/{bus}/devices")
    if names is not None:
        return names
    buses = evidence.listing("sys/bus")
    if buses is not None and bus not in buses:
        return ()
    return None


def _virtio(evidence: Evidence) -> Virtio:
    base = "sys/bus/virtio/devices"
    names = _bus_devices(evidence, "virtio")
    devices: list[VirtioDevice] = []
    for name in names or ():
        path = f"{base}/{name}"
        link = evidence.get(path)
        target = link.target if link is not None and link.ok else ""
        device_id = parse_hex(evidence.text(f"{path}/device") or "").value
        status = parse_hex(evidence.text(f"{path}/status") or "").value
        driver_link = evidence.get(f"{path}/driver")
        driver = driver_link.target.rsplit("/", 1)[-1] if driver_link and driver_link.ok else ""
        devices.append(
            VirtioDevice(
                name=name,
                device_id=device_id,
                type_name=DEVICE_TYPES.get(device_id or -1, f"id {device_id}"),
                transport=transport_of(target) if target else "unknown",
                driver=driver,
                status=status,
                pci_address=pci_address_of(target) if target else None,
            )
        )
    listed = names is not None
    sound = [d for d in devices if d.device_id == VIRTIO_SOUND_ID]
    return Virtio(tuple(devices) if listed else None, _sound_device(evidence, sound, listed))


def _sound_device(evidence: Evidence, sound: list[VirtioDevice], listed: bool) -> SoundDevice:
    if not sound:
        present = False if listed else None
        return SoundDevice(present, 0 if listed else None, *([None] * 10))
    first = sound[0]
    bits = parse_features(evidence.text(f"sys/bus/virtio/devices/{first.name}/features") or "")
    features = bits.value
    return SoundDevice(
        present=True,
        count=len(sound),
        name=first.name,
        transport=first.transport,
        pci_address=first.pci_address,
        driver=first.driver,
        bound=first.driver == MODULE,
        status=first.status,
        status_names=status_names(first.status) if first.status is not None else None,
        failed=bool(first.status & VIRTIO_STATUS_FAILED) if first.status is not None else None,
        version_1=(VIRTIO_F_VERSION_1 in features) if features is not None else None,
        features=feature_names(features, SOUND_FEATURES) if features is not None else None,
    )


def _pci(evidence: Evidence) -> Pci:
    base = "sys/bus/pci/devices"
    addresses = _bus_devices(evidence, "pci")
    if addresses is None:
        return Pci(None, None, None, None)
    functions: list[PciFunction] = []
    for address in addresses:
        vendor = parse_hex(evidence.text(f"{base}/{address}/vendor") or "").value
        device = parse_hex(evidence.text(f"{base}/{address}/device") or "").value
        pci_class = parse_hex(evidence.text(f"{base}/{address}/class") or "").value
        if vendor is None or device is None or pci_class is None:
            continue
        link = evidence.get(f"{base}/{address}/driver")
        driver = link.target.rsplit("/", 1)[-1] if link is not None and link.ok else ""
        name = EMULATED_SOUND_PCI.get((vendor, device), f"{vendor:04x}:{device:04x}")
        if vendor == RED_HAT_VIRTIO_VENDOR and device == VIRTIO_SOUND_PCI_ID:
            name = "virtio-sound-pci"
        functions.append(PciFunction(address, vendor, device, pci_class, driver, name))
    is_audio = [f for f in functions if f.pci_class >> 8 in (0x0401, 0x0403)]
    emulated = tuple(f.name for f in is_audio if f.vendor != RED_HAT_VIRTIO_VENDOR)
    return Pci(
        functions=tuple(functions),
        virtio_sound=any(
            f.vendor == RED_HAT_VIRTIO_VENDOR and f.device == VIRTIO_SOUND_PCI_ID for f in functions
        ),
        emulated_sound=emulated,
        emulated_sound_present=bool(emulated),
    )


def _alsa(evidence: Evidence) -> Alsa:
    cards_entry = evidence.get("proc/asound/cards")
    cards: tuple[Card, ...] | None = None
    if cards_entry is not None and cards_entry.ok:
        cards = parse_cards(cards_entry.text).value
    elif cards_entry is not None and cards_entry.status is Status.MISSING:
        cards = ()  # no /proc/asound: ALSA's core is not loaded, so there is no card
    virtio = [c for c in cards or () if c.driver == "virtio-snd"]
    conf = evidence.text("etc/asound.conf")
    configured = parse_asound_conf_default(conf).value if conf is not None else None
    default: Card | None = None
    if cards:
        by_key = {str(c.index): c for c in cards} | {c.card_id: c for c in cards}
        default = (
            by_key.get(configured or "", None) if configured else min(cards, key=lambda c: c.index)
        )
    pcms = parse_pcm(evidence.text("proc/asound/pcm") or "").value
    virtio_index = virtio[0].index if virtio else None
    nodes = [e for e in evidence if e.key.startswith("dev/snd/") and e.kind is Kind.NODE]
    usable = [
        e
        for e in nodes
        if e.ok and e.node is not None and e.key.rsplit("/", 1)[1].startswith(("controlC", "pcmC"))
    ]
    groups = {e.node.gid for e in usable if e.node is not None}
    group_name = None
    if len(groups) == 1:
        group_name = str(next(iter(groups)))
    return Alsa(
        cards=cards,
        card_count=len(cards) if cards is not None else None,
        virtio_card=bool(virtio) if cards is not None else None,
        virtio_card_index=virtio_index,
        default_card=(f"{default.index} {default.card_id} ({default.driver})" if default else None),
        default_card_is_virtio=(default.driver == "virtio-snd") if default else None,
        virtio_playback_streams=(
            sum(p.playback for p in pcms if p.card == virtio_index) if virtio else None
        ),
        virtio_capture_streams=(
            sum(p.capture for p in pcms if p.card == virtio_index) if virtio else None
        ),
        dev_nodes=tuple(e.key.rsplit("/", 1)[1] for e in nodes if e.ok),
        dev_accessible=(
            all(e.node.readable and e.node.writable for e in usable if e.node is not None)
            if usable
            else None
        ),
        dev_group=group_name,
    )


def _userspace(evidence: Evidence) -> Userspace:
    servers_text = evidence.text(PROCESSES_KEY)
    servers = parse_json_list(servers_text).value if servers_text is not None else None
    udev_text = evidence.text(UDEV_KEY)
    udev = parse_json_list(udev_text).value if udev_text is not None else None
    initialized: bool | None = None
    if udev:
        cards = [
            d
            for d in udev
            if "/card" in str(d.get("sys_path", "")).rsplit("/", 1)[-1]
            or str(d.get("sys_path", "")).rsplit("/", 1)[-1].startswith("card")
        ]
        props = [d.get("properties", {}) for d in cards]
        initialized = any(isinstance(p, dict) and p.get("SOUND_INITIALIZED") == "1" for p in props)
    return Userspace(
        sound_servers=tuple(sorted({str(s.get("name")) for s in servers}))
        if servers is not None
        else None,
        udev_available=udev is not None if UDEV_KEY in evidence.entries else None,
        udev_sound_initialized=initialized,
    )


_PCI_CLASS_NAMES = {0x01: "block", 0x02: "net", 0x03: "gpu", 0x04: "sound"}
_VIRTIO_CLASS_OF_TYPE = {"scsi": "block", "9p": "fs"}


def _inventory(virtio: Virtio, pci: Pci) -> tuple[InventoryItem, ...]:
    para: dict[str, list[str]] = {}
    emulated: dict[str, list[str]] = {}
    for device in virtio.devices or ():
        device_class = _VIRTIO_CLASS_OF_TYPE.get(device.type_name, device.type_name)
        para.setdefault(device_class, []).append(f"virtio-{device.type_name} ({device.transport})")
    for function in pci.functions or ():
        pci_class_name = _PCI_CLASS_NAMES.get(function.pci_class >> 16)
        if pci_class_name is None or function.vendor == RED_HAT_VIRTIO_VENDOR:
            continue
        label = (
            function.name
            if function.name != f"{function.vendor:04x}:{function.device:04x}"
            else f"pci {function.name}"
        )
        emulated.setdefault(pci_class_name, []).append(
            f"{label} ({function.driver})" if function.driver else label
        )
    classes = sorted(set(para) | set(emulated))
    return tuple(
        InventoryItem(c, tuple(para.get(c, ())), tuple(emulated.get(c, ()))) for c in classes
    )


def build_facts(evidence: Evidence) -> Facts:
    log, log_source = _kernel_log(evidence)
    kernel, config = _kernel(evidence, log, log_source)
    virtio = _virtio(evidence)
    pci = _pci(evidence)
    return Facts(
        system=_system(evidence),
        host=_host(evidence, virtio),
        kernel=kernel,
        driver=_driver(evidence, config, kernel.cmdline),
        probe=_probe(log),
        virtio=virtio,
        pci=pci,
        alsa=_alsa(evidence),
        userspace=_userspace(evidence),
        inventory=_inventory(virtio, pci),
    )
