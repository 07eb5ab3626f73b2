"""The guest's system (kernel release, distribution, user) and what it can tell of its host."""

from __future__ import annotations

import re
from dataclasses import dataclass

from snddiag.collect.plan import declared
from snddiag.evidence import Evidence, kernel_release, uname_fields
from snddiag.facts.devices import Virtio
from snddiag.facts.docs import fact
from snddiag.parse.os_release import parse_os_release

NO_OS_RELEASE = "neither /etc/os-release nor /usr/lib/os-release could be read"
NO_IDENTITY = "snddiag did not record who it ran as (an offline --root run)"
NO_DMI = "no DMI vendor, so no VMM recognised"

SOURCES: dict[str, tuple[str, ...]] = {
    "system": declared(
        "proc/sys/kernel/osrelease",
        "proc/sys/kernel/arch",
        "cmd/uname",
        "etc/os-release",
        "usr/lib/os-release",
    ),
    "host": declared("sys/class/dmi/id/*", "proc/device-tree/compatible"),
}


@dataclass(frozen=True)
class System:
    kernel_release: str | None = fact(
        "the running kernel's release (uname -r)", "neither osrelease nor uname could be read"
    )
    arch: str | None = fact(
        "the machine architecture (uname -m)", "neither /proc/sys/kernel/arch nor uname"
    )
    distro_id: str | None = fact("os-release ID (alpine, debian, ...)", NO_OS_RELEASE)
    distro_version: str | None = fact("os-release VERSION_ID", NO_OS_RELEASE)
    distro_name: str | None = fact("os-release PRETTY_NAME", NO_OS_RELEASE)
    distro_like: tuple[str, ...] | None = fact("os-release ID_LIKE, as words", NO_OS_RELEASE)
    kernel_flavour: str | None = fact(
        "the release's suffix after its last number (virt, cloud-amd64, generic)",
        "no release, or a release without a flavour",
    )
    is_root: bool | None = fact("snddiag ran as root (uid 0)", NO_IDENTITY)
    user: str | None = fact("the user snddiag ran as", NO_IDENTITY)
    groups: tuple[str, ...] | None = fact("the groups of that user", NO_IDENTITY)


@dataclass(frozen=True)
class Host:
    vmm: str | None = fact(
        "qemu, apple-vz, parallels, vmware, hyperv, virtualbox or other",
        "no DMI, no device tree and no virtio-mmio-only bus: nothing to tell",
    )
    sys_vendor: str | None = fact("DMI sys_vendor", "no DMI (microvm, arm direct kernel boot)")
    product_name: str | None = fact("DMI product_name", "no DMI")
    machine_type: str | None = fact(
        "QEMU machine type from DMI product_version (pc-q35-10.0, virt-9.1)",
        "not QEMU, or no DMI product_version",
    )
    qemu_machine_version: str | None = fact(
        "the version in the machine type (10.0)", "no machine type, or one without a version"
    )
    dt_compatible: str | None = fact(
        "the device tree's compatible strings (linux,dummy-virt)", "no device tree"
    )


def _strip(evidence: Evidence, key: str) -> str | None:
    text = evidence.text(key)
    return text.strip() if text is not None else None


def build_system(evidence: Evidence) -> System:
    release = kernel_release(evidence)
    os_text = evidence.text("etc/os-release") or evidence.text("usr/lib/os-release")
    os_fields = parse_os_release(os_text).value if os_text is not None else None
    uid = evidence.meta.get("uid")
    groups = evidence.meta.get("groups")
    return System(
        kernel_release=release,
        arch=_strip(evidence, "proc/sys/kernel/arch") or uname_fields(evidence)[1],
        distro_id=os_fields.get("ID") if os_fields is not None else None,
        distro_version=os_fields.get("VERSION_ID") if os_fields is not None else None,
        distro_name=os_fields.get("PRETTY_NAME") if os_fields is not None else None,
        distro_like=tuple(os_fields.get("ID_LIKE", "").split()) if os_fields is not None else None,
        kernel_flavour=kernel_flavour(release),
        is_root=(uid == "0") if uid is not None else None,
        user=evidence.meta.get("user"),
        groups=tuple(groups.split(",")) if groups else (() if groups is not None else None),
    )


_FLAVOUR_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-"
_FLAVOUR = re.compile(r"-(?:\d+-)?([a-z][a-z0-9-]*)\Z")


def kernel_flavour(release: str | None) -> str | None:
    """`6.6.31-0-virt` -> `virt`, `6.1.0-56-cloud-amd64` -> `cloud-amd64`, `6.12.95+deb12-amd64`
    -> `amd64`; the part after the last numeric component of the release."""
    if not release:
        return None
    # The flavour and the dash before it use only these characters: searching just that tail
    # keeps the search linear (on the whole release it was quadratic on a long osrelease).
    tail = release[len(release.rstrip(_FLAVOUR_CHARS)) :]
    match = _FLAVOUR.search(tail)
    return match.group(1) if match else None


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
_MACHINE_VERSION = re.compile(r"-(\d+\.\d+)$")


def _vmm_of_vendor(vendor: str, product: str | None) -> str:
    vmm = "other"
    for prefix, name in _VMM_BY_VENDOR:
        if vendor.startswith(prefix):
            vmm = name
    if vmm == "apple-vz" and product and "Virtualization" not in product:
        return "other"  # a real Mac running Linux
    return vmm


def _vmm(
    vendor: str | None, product: str | None, compatible: str | None, virtio: Virtio
) -> str | None:
    if vendor is not None:
        return _vmm_of_vendor(vendor, product)
    if compatible and "linux,dummy-virt" in compatible:
        return "qemu"  # arm virt with a direct kernel boot: no firmware, no DMI
    if virtio.devices and all(d.transport == "mmio" for d in virtio.devices):
        return "qemu"  # microvm: no SMBIOS tables, only virtio-mmio devices
    return None


def build_host(evidence: Evidence, virtio: Virtio) -> Host:
    vendor = _strip(evidence, "sys/class/dmi/id/sys_vendor")
    product = _strip(evidence, "sys/class/dmi/id/product_name")
    version = _strip(evidence, "sys/class/dmi/id/product_version")
    compatible_raw = evidence.text("proc/device-tree/compatible")
    compatible = compatible_raw.replace("\x00", " ").strip() if compatible_raw else None
    vmm = _vmm(vendor, product, compatible, virtio)
    machine_type = version if vmm == "qemu" and version else None
    found = _MACHINE_VERSION.search(machine_type) if machine_type else None
    return Host(
        vmm=vmm,
        sys_vendor=vendor,
        product_name=product,
        machine_type=machine_type,
        qemu_machine_version=found.group(1) if found else None,
        dt_compatible=compatible,
    )
