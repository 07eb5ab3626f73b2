"""The guest's system (kernel release, distribution, user) and what it can tell of its host."""

from __future__ import annotations

import re

from snddiag.collect.plan import KERNEL_LOG_KEYS, declared
from snddiag.evidence import Evidence, kernel_release, uname_fields
from snddiag.facts.devices import Virtio
from snddiag.facts.docs import NEVER_NONE, fact
from snddiag.facts.vmm import VMM_SOURCES, VMMS, identify, offers_virtio_sound, recognise_vmm
from snddiag.parse.os_release import parse_os_release
from snddiag.patterns import compiled_later
from snddiag.records import dataclass

NO_OS_RELEASE = "neither /etc/os-release nor /usr/lib/os-release could be read"
# os-release IDs are each distribution's own word, an open set (docs/facts.md); these are the
# ones snddiag's shipped advice names.
KNOWN_DISTRO_IDS = ("alpine", "arch", "archarm", "debian", "fedora", "ubuntu")
NO_IDENTITY = "snddiag did not record who it ran as (an offline --root run)"

SOURCES: dict[str, tuple[str, ...]] = {
    "system": declared(
        "proc/sys/kernel/osrelease",
        "proc/sys/kernel/arch",
        "cmd/uname",
        "etc/os-release",
        "usr/lib/os-release",
    ),
    "host": declared(
        "sys/class/dmi/id/*",
        "sys/class/dmi/id",
        "proc/device-tree/compatible",
        "proc/device-tree",
        "sys/firmware/acpi/tables/FACP",
        "proc/cpuinfo",
        "sys/hypervisor/type",
        *KERNEL_LOG_KEYS,
    ),
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
    cap_syslog: bool | None = fact(
        "snddiag ran with CAP_SYSLOG in its effective set (reading a restricted kernel log "
        "needs it; root in a container may lack it)",
        "the capabilities were not recorded (an offline --root run, or an older snapshot)",
    )


NO_HOST = "nothing tells: no DMI, ACPI OEM ID, device tree, virtio-mmio-only bus or hypervisor"


@dataclass(frozen=True)
class Host:
    vmm: str | None = fact(
        "qemu, apple-vz, parallels, vmware, hyperv, virtualbox, firecracker, cloud-hypervisor, "
        "crosvm, xen, acrn, kvm (a VMM on KVM that names itself nowhere), rust-vmm (Firecracker, "
        "Cloud Hypervisor or Dragonball, told apart only by root-only sources) or other",
        NO_HOST,
        values=VMMS,
    )
    vmm_source: str | None = fact(
        "where the VMM was recognised: dmi, acpi, device-tree, virtio-mmio, pci-host-bridge, "
        "sys-hypervisor, kernel-log (Hypervisor detected) or cpu-flag",
        NO_HOST,
        values=VMM_SOURCES,
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
    dmi_present: bool | None = fact(
        "the firmware gave DMI (SMBIOS) tables: /sys/class/dmi/id exists",
        "/sys/class/dmi/id could not be listed and the kernel log does not tell",
    )
    acpi_oem_id: str | None = fact(
        "the ACPI tables' OEM ID (BOCHS, FIRECK, CLOUDH, VBOX, VRTUAL ...), from the kernel log "
        "or /sys/firmware/acpi/tables",
        "no ACPI table line in the log and the tables were not readable (root only), or no ACPI",
    )
    hypervisor: str | None = fact(
        "the hypervisor the kernel found: its 'Hypervisor detected:' name (KVM, Microsoft "
        "Hyper-V, VMware, Xen HVM) or /sys/hypervisor/type (xen)",
        "the kernel named none, or the log could not be read",
    )
    cpu_hypervisor_flag: bool | None = fact(
        "the CPU's hypervisor flag is set (/proc/cpuinfo): running under some hypervisor",
        "/proc/cpuinfo has no flags line (arm) or could not be read",
    )
    offers_virtio_sound: str = fact(
        "whether this VMM can give a guest a virtio sound device at all: yes (QEMU, crosvm, Apple "
        "Virtualization), no (Firecracker, Cloud Hypervisor, VirtualBox, VMware, Hyper-V) or "
        "unknown",
        NEVER_NONE,
        values=("yes", "no", "unknown"),
        default="unknown",
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
        cap_syslog=has_capability(evidence.meta.get("cap_eff"), CAP_SYSLOG),
    )


CAP_SYSLOG = 34  # include/uapi/linux/capability.h


def has_capability(mask: str | None, bit: int) -> bool | None:
    """Is `bit` set in a /proc/PID/status capability mask (hex)? None when unknown."""
    try:
        return bool(int(mask, 16) >> bit & 1) if mask else None
    except ValueError:
        return None


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


_MACHINE_VERSION = compiled_later(r"-(\d+\.\d+)$")


def build_host(evidence: Evidence, virtio: Virtio, log: str | None = None) -> Host:
    vendor = _strip(evidence, "sys/class/dmi/id/sys_vendor")
    product = _strip(evidence, "sys/class/dmi/id/product_name")
    version = _strip(evidence, "sys/class/dmi/id/product_version")
    compatible_raw = evidence.text("proc/device-tree/compatible")
    compatible = compatible_raw.replace("\x00", " ").strip() if compatible_raw else None
    seen = identify(evidence, virtio, log)
    vmm, source = recognise_vmm(seen, vendor, product, compatible)
    machine_type = version if vmm == "qemu" and version else None
    found = _MACHINE_VERSION.search(machine_type) if machine_type else None
    return Host(
        vmm=vmm,
        vmm_source=source,
        offers_virtio_sound=offers_virtio_sound(vmm),
        sys_vendor=vendor,
        product_name=product,
        machine_type=machine_type,
        qemu_machine_version=found.group(1) if found else None,
        dt_compatible=compatible,
        dmi_present=seen.dmi_present,
        acpi_oem_id=seen.acpi_oem_id,
        hypervisor=seen.hypervisor,
        cpu_hypervisor_flag=seen.cpu_flag,
    )
