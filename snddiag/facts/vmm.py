"""Which VMM runs this guest, from every place a guest can read it, strongest first.

DMI names the product; without DMI (Firecracker, Cloud Hypervisor, crosvm, QEMU's microvm, arm
direct kernel boots) the ACPI tables' OEM ID names the VMM that wrote them, the device tree and
a virtio-mmio-only bus name QEMU's firmware-less machines, and the kernel's own hypervisor
detection names at least the hypervisor (KVM, Hyper-V, Xen) or, with the CPU's hypervisor flag
alone, that there is one.
"""

from __future__ import annotations

from snddiag.evidence import Evidence, Status
from snddiag.facts.devices import Virtio
from snddiag.parse.host_ids import (
    first_oem_id,
    parse_acpi_oem_ids,
    parse_acpi_table_header,
    parse_cpu_hypervisor_flag,
    parse_hypervisor_line,
)
from snddiag.records import dataclass

DMI_DIR = "sys/class/dmi/id"
ACPI_TABLE = "sys/firmware/acpi/tables/FACP"

VMM_BY_VENDOR = (
    ("QEMU", "qemu"),
    ("Bochs", "qemu"),  # microvm's qboot firmware, and QEMU with a Bochs BIOS
    ("Apple Inc.", "apple-vz"),
    ("Parallels", "parallels"),
    ("VMware", "vmware"),
    ("Microsoft Corporation", "hyperv"),
    ("innotek GmbH", "virtualbox"),
    ("Oracle Corporation", "virtualbox"),
)

# ACPI OEM IDs each VMM writes into its tables, as the kernel prints them:
# BOCHS: QEMU (hw/acpi, every lab guest); FIRECK: Firecracker (its src/vmm/src/acpi, and this
# project's development machines); CLOUDH: Cloud Hypervisor (vmm/src/acpi.rs); CROSVM: crosvm
# (x86_64/src/acpi.rs); VBOX: VirtualBox; VRTUAL (RSDP, XSDT, FACP) and MSFTVM (DSDT): Hyper-V
# (guest logs in public bug reports); Xen: Xen HVM (hvmloader).
VMM_BY_ACPI_OEM = {
    "BOCHS": "qemu",
    "FIRECK": "firecracker",
    "CLOUDH": "cloud-hypervisor",
    "CROSVM": "crosvm",
    "VBOX": "virtualbox",
    "VRTUAL": "hyperv",
    "MSFTVM": "hyperv",
    "Xen": "xen",
}

# arch/x86/kernel/cpu/hypervisor.c prints the picked hypervisor_x86's name.
VMM_BY_HYPERVISOR = {
    "KVM": "kvm",
    "Microsoft Hyper-V": "hyperv",
    "VMware": "vmware",
    "Xen HVM": "xen",
    "Xen PV": "xen",
    "ACRN": "acrn",
}

# Every value of host.vmm: kvm is a VMM on KVM that names itself nowhere.
VMMS = (
    "qemu", "apple-vz", "parallels", "vmware", "hyperv", "virtualbox", "firecracker",
    "cloud-hypervisor", "crosvm", "xen", "acrn", "kvm", "rust-vmm", "other",
)  # fmt: skip
VMM_SOURCES = (
    "dmi", "acpi", "device-tree", "virtio-mmio", "pci-host-bridge", "sys-hypervisor",
    "kernel-log", "cpu-flag",
)  # fmt: skip
# The PCI host bridge of the rust-vmm PCI crate (vendor Intel, "virt PCIe host"), which
# Firecracker, Cloud Hypervisor and Dragonball share. Any user can read it, where the ACPI
# tables that name the VMM are root's.
HOST_BRIDGE = "sys/bus/pci/devices/0000:00:00.0"
RUST_VMM_HOST_BRIDGE = ("0x8086", "0x0d57")

# Which VMMs can give a guest a virtio sound device at all (in a current version), with the
# sources in the rules that use this (no-virtio-sound-device, vmm-without-virtio-sound).
OFFERS_VIRTIO_SOUND = {
    "qemu": "yes",
    "crosvm": "yes",
    "apple-vz": "yes",
    "firecracker": "no",
    "cloud-hypervisor": "no",
    "virtualbox": "no",
    "vmware": "no",
    "hyperv": "no",
    "rust-vmm": "no",
}


@dataclass(frozen=True)
class Seen:
    """What the guest showed of its host, source by source (None: not read or not there)."""

    dmi_present: bool | None
    acpi_oem_id: str | None
    hypervisor: str | None
    hypervisor_source: str | None
    cpu_flag: bool | None
    mmio_only: bool
    dt_nodes: tuple[str, ...]
    host_bridge: tuple[str | None, str | None] = (None, None)  # its PCI vendor and device IDs


def _dmi_present(evidence: Evidence, log: str | None) -> bool | None:
    listing = evidence.get(DMI_DIR)
    if listing is not None and listing.ok:
        return bool(listing.names)
    if any((e := evidence.get(k)) is not None and e.ok for k in evidence.keys_under(DMI_DIR)):
        return True
    if log is not None and "DMI not present or invalid" in log:
        return False
    if listing is not None and listing.status is Status.MISSING:
        return False
    return None


def _acpi_oem_id(evidence: Evidence, log: str | None) -> str | None:
    entry = evidence.get(ACPI_TABLE)
    if entry is not None and entry.ok:
        oem = parse_acpi_table_header(entry.data).value
        if oem:
            return oem
    return first_oem_id(parse_acpi_oem_ids(log).value) if log is not None else None


def _hypervisor(evidence: Evidence, log: str | None) -> tuple[str | None, str | None]:
    named = parse_hypervisor_line(log).value if log is not None else None
    if named:
        return named, "kernel-log"
    xen = (evidence.text("sys/hypervisor/type") or "").strip()
    return (xen, "sys-hypervisor") if xen else (None, None)


def identify(evidence: Evidence, virtio: Virtio, log: str | None) -> Seen:
    cpuinfo = evidence.text("proc/cpuinfo")
    devices = virtio.devices or ()
    hypervisor, hypervisor_source = _hypervisor(evidence, log)
    return Seen(
        dmi_present=_dmi_present(evidence, log),
        acpi_oem_id=_acpi_oem_id(evidence, log),
        hypervisor=hypervisor,
        hypervisor_source=hypervisor_source,
        cpu_flag=parse_cpu_hypervisor_flag(cpuinfo).value if cpuinfo is not None else None,
        mmio_only=bool(devices) and all(d.transport == "mmio" for d in devices),
        dt_nodes=evidence.listing("proc/device-tree") or (),
        host_bridge=(
            (evidence.text(f"{HOST_BRIDGE}/vendor") or "").strip() or None,
            (evidence.text(f"{HOST_BRIDGE}/device") or "").strip() or None,
        ),
    )


def _vmm_of_vendor(vendor: str, product: str | None) -> str:
    vmm = "other"
    for prefix, name in VMM_BY_VENDOR:
        if vendor.startswith(prefix):
            vmm = name
    if vmm == "apple-vz" and product and "Virtualization" not in product:
        return "other"  # a real Mac running Linux
    return vmm


def recognise_vmm(
    seen: Seen, vendor: str | None, product: str | None, compatible: str | None
) -> tuple[str | None, str | None]:
    """(vmm, where it was recognised), the most specific source first."""
    by_vendor = _vmm_of_vendor(vendor, product) if vendor is not None else None
    if by_vendor is not None and by_vendor != "other":
        return by_vendor, "dmi"
    if seen.acpi_oem_id in VMM_BY_ACPI_OEM:
        return VMM_BY_ACPI_OEM[seen.acpi_oem_id or ""], "acpi"
    if by_vendor is not None:
        return by_vendor, "dmi"
    if compatible and "linux,dummy-virt" in compatible:
        # QEMU's arm virt with a direct kernel boot (no firmware, no DMI); crosvm writes the
        # same root compatible but names its serial ports U6_16550A@ADDR (aarch64/src/fdt.rs).
        if any(node.startswith("U6_16550A@") for node in seen.dt_nodes):
            return "crosvm", "device-tree"
        return "qemu", "device-tree"
    if seen.mmio_only:
        return "qemu", "virtio-mmio"  # microvm: no SMBIOS tables, only virtio-mmio devices
    if seen.host_bridge == RUST_VMM_HOST_BRIDGE:
        return "rust-vmm", "pci-host-bridge"
    if seen.hypervisor:
        if seen.hypervisor.lower() == "xen":  # /sys/hypervisor/type
            return "xen", seen.hypervisor_source
        return VMM_BY_HYPERVISOR.get(seen.hypervisor, "other"), seen.hypervisor_source
    if seen.cpu_flag:
        return "other", "cpu-flag"
    return None, None


def offers_virtio_sound(vmm: str | None) -> str:
    return OFFERS_VIRTIO_SOUND.get(vmm or "", "unknown")
