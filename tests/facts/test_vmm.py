"""The VMM from every source a guest has: captured guests, and built evidence for the others."""

from __future__ import annotations

import pytest

from snddiag.evidence import Status
from snddiag.facts import build_facts
from snddiag.facts.devices import build_virtio
from snddiag.facts.system import Host, build_host
from tests.facts.kit import evidence_of
from tests.guests import guest_evidence

FIRECRACKER = "firecracker-no-modules"


def _host(log: str | None = None, **files: str) -> Host:
    evidence = evidence_of(files, statuses={"sys/class/dmi/id": Status.MISSING})
    return build_host(evidence, build_virtio(evidence), log)


def test_this_machine_is_firecracker_by_its_acpi_tables() -> None:
    host = build_facts(guest_evidence(FIRECRACKER)).host
    assert (host.vmm, host.vmm_source, host.acpi_oem_id) == ("firecracker", "acpi", "FIRECK")
    assert (host.hypervisor, host.cpu_hypervisor_flag, host.dmi_present) == ("KVM", True, False)
    assert host.offers_virtio_sound == "no"


def test_without_the_log_the_fadt_header_still_names_firecracker() -> None:
    host = build_facts(guest_evidence(FIRECRACKER).without(["cmd/dmesg"])).host
    assert (host.vmm, host.acpi_oem_id, host.hypervisor) == ("firecracker", "FIRECK", None)


def test_without_log_and_tables_the_pci_host_bridge_tells_a_vmm_without_sound() -> None:
    evidence = guest_evidence(FIRECRACKER).without(["cmd/dmesg", "sys/firmware/"])
    host = build_facts(evidence).host
    assert (host.vmm, host.vmm_source, host.offers_virtio_sound) == (
        "rust-vmm",
        "pci-host-bridge",
        "no",
    )


def test_without_log_tables_and_host_bridge_only_the_cpu_flag_is_left() -> None:
    evidence = guest_evidence(FIRECRACKER).without(
        ["cmd/dmesg", "sys/firmware/", "sys/bus/pci/devices/0000:00:00.0/"]
    )
    host = build_facts(evidence).host
    assert (host.vmm, host.vmm_source, host.offers_virtio_sound) == ("other", "cpu-flag", "unknown")


def test_dmi_wins_over_acpi_on_a_qemu_guest() -> None:
    host = build_facts(guest_evidence("healthy-pci")).host
    assert (host.vmm, host.vmm_source, host.acpi_oem_id) == ("qemu", "dmi", "BOCHS")
    assert (host.dmi_present, host.offers_virtio_sound) == (True, "yes")


def test_a_qemu_guest_without_dmi_is_qemu_by_its_acpi_tables() -> None:
    host = build_facts(guest_evidence("old-machine-type").without(["sys/class/dmi/"])).host
    assert (host.vmm, host.vmm_source, host.machine_type) == ("qemu", "acpi", None)


@pytest.mark.parametrize(
    ("oem", "vmm", "offers"),
    [
        ("CLOUDH", "cloud-hypervisor", "no"),
        ("CROSVM", "crosvm", "yes"),
        ("VBOX  ", "virtualbox", "no"),
        ("VRTUAL", "hyperv", "no"),
        ("BOCHS ", "qemu", "yes"),
        ("ALASKA", None, "unknown"),  # a real board's firmware names no VMM
    ],
)
def test_vmm_by_acpi_oem_id(oem: str, vmm: str | None, offers: str) -> None:
    host = _host(f"ACPI: RSDP 0x00000000000E0000 000024 (v02 {oem})\n")
    assert (host.vmm, host.offers_virtio_sound) == (vmm, offers)


@pytest.mark.parametrize(
    ("name", "vmm"),
    [("KVM", "kvm"), ("Microsoft Hyper-V", "hyperv"), ("VMware", "vmware"), ("Xen HVM", "xen"),
     ("ACRN", "acrn"), ("Jailhouse", "other")],
)  # fmt: skip
def test_vmm_by_the_kernels_hypervisor_line(name: str, vmm: str) -> None:
    host = _host(f"Hypervisor detected: {name}\n")
    assert (host.vmm, host.vmm_source, host.hypervisor) == (vmm, "kernel-log", name)


def test_xen_by_sys_hypervisor() -> None:
    host = _host(None, **{"sys/hypervisor/type": "xen\n"})
    assert (host.vmm, host.vmm_source) == ("xen", "sys-hypervisor")


def test_a_dmi_vendor_nobody_knows_gives_way_to_acpi() -> None:
    evidence = evidence_of({"sys/class/dmi/id/sys_vendor": "Example Corp\n"})
    host = build_host(evidence, build_virtio(evidence), "ACPI: RSDP 0x0 000024 (v02 FIRECK)\n")
    assert (host.vmm, host.vmm_source, host.dmi_present) == ("firecracker", "acpi", True)


def test_nothing_read_tells_nothing() -> None:
    evidence = evidence_of()
    host = build_host(evidence, build_virtio(evidence), None)
    assert (host.vmm, host.vmm_source, host.dmi_present, host.hypervisor) == (None,) * 4


def test_crosvm_by_its_device_tree_nodes() -> None:
    evidence = evidence_of(
        {"proc/device-tree/compatible": "linux,dummy-virt\x00"},
        listings={"proc/device-tree": ("U6_16550A@3f8", "chosen", "cpus", "pci", "psci")},
    )
    host = build_host(evidence, build_virtio(evidence), None)
    assert (host.vmm, host.vmm_source, host.offers_virtio_sound) == ("crosvm", "device-tree", "yes")
