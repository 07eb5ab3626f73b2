"""System and host facts: captured guests, and every host the lab cannot boot."""

from __future__ import annotations

import pytest

from snddiag.evidence import Status
from snddiag.facts import build_facts
from snddiag.facts.devices import build_virtio
from snddiag.facts.system import Host, build_host, build_system
from tests.facts.kit import evidence_of, virtio_device
from tests.guests import guest_evidence

DMI = "sys/class/dmi/id"
MMIO = "/sys/devices/platform/LNRO0005:00/virtio0"
PCI = "/sys/devices/pci0000:00/0000:00:03.0/virtio1"


def test_system_of_the_healthy_guest() -> None:
    system = build_system(guest_evidence("healthy-pci"))
    assert system.kernel_release == "6.12.95+deb12-amd64"
    assert system.kernel_flavour == "amd64"
    assert (system.arch, system.distro_id, system.distro_version) == ("x86_64", "debian", "12")
    assert system.distro_like == ()
    assert (system.is_root, system.user, system.groups) == (True, "root", ("root",))


def test_system_of_an_unprivileged_run() -> None:
    system = build_system(guest_evidence("non-root-dmesg-restrict"))
    assert (system.is_root, system.user, system.groups) == (False, "nobody", ("nogroup",))


def test_release_and_arch_fall_back_to_uname() -> None:
    system = build_system(evidence_of({"cmd/uname": "6.6.31-0-virt aarch64\n"}))
    assert (system.kernel_release, system.arch, system.kernel_flavour) == (
        "6.6.31-0-virt",
        "aarch64",
        "virt",
    )


def test_usr_lib_os_release_is_read_when_etc_has_none() -> None:
    text = 'ID=alpine\nID_LIKE="a b"\nVERSION_ID=3.20.0\nPRETTY_NAME="Alpine Linux v3.20"\n'
    system = build_system(evidence_of({"usr/lib/os-release": text}))
    assert (system.distro_id, system.distro_version) == ("alpine", "3.20.0")
    assert system.distro_like == ("a", "b")


def test_nothing_read_gives_none_everywhere() -> None:
    system = build_system(evidence_of())
    assert set(vars(system).values()) == {None}


def test_groups_recorded_empty_are_an_empty_tuple() -> None:
    assert build_system(evidence_of(meta={"uid": "5", "groups": ""})).groups == ()


def _host(vendor: str | None = None, product: str = "", version: str = "", **files: str) -> Host:
    dmi = {f"{DMI}/sys_vendor": vendor, f"{DMI}/product_name": product}
    dmi[f"{DMI}/product_version"] = version
    present = {k: v + "\n" for k, v in dmi.items() if v and vendor is not None}
    evidence = evidence_of({**present, **files})
    return build_host(evidence, build_virtio(evidence))


@pytest.mark.parametrize(
    ("vendor", "product", "vmm"),
    [
        ("VMware, Inc.", "VMware7,1", "vmware"),
        ("Parallels Software International Inc.", "Parallels Virtual Platform", "parallels"),
        ("Microsoft Corporation", "Virtual Machine", "hyperv"),
        ("Apple Inc.", "Apple Virtualization Generic Platform", "apple-vz"),
        ("Apple Inc.", "MacBookPro14,1", "other"),  # a real Mac running Linux
        ("innotek GmbH", "VirtualBox", "virtualbox"),
        ("Oracle Corporation", "VirtualBox", "virtualbox"),
        ("Bochs", "Bochs", "qemu"),
        ("Dell Inc.", "PowerEdge R640", "other"),
    ],
)
def test_vmm_from_the_dmi_vendor(vendor: str, product: str, vmm: str) -> None:
    host = _host(vendor, product)
    assert host.vmm == vmm
    assert host.machine_type is None


def test_qemu_machine_type_and_its_version() -> None:
    host = build_host(guest_evidence("old-machine-type"), build_virtio(evidence_of()))
    assert (host.vmm, host.machine_type, host.qemu_machine_version) == ("qemu", "pc-q35-7.2", "7.2")


def test_qemu_machine_type_without_a_version() -> None:
    host = _host("QEMU", "Standard PC (Q35 + ICH9, 2009)", "pc-q35")
    assert (host.machine_type, host.qemu_machine_version) == ("pc-q35", None)


def test_only_qemu_has_a_machine_type() -> None:
    assert _host("VMware, Inc.", "VMware7,1", "None").machine_type is None


def test_arm_virt_without_firmware_is_qemu_by_its_device_tree() -> None:
    host = _host(None, **{"proc/device-tree/compatible": "linux,dummy-virt\x00"})
    assert (host.vmm, host.dt_compatible) == ("qemu", "linux,dummy-virt")


def test_other_device_trees_name_no_vmm() -> None:
    host = _host(
        None, **{"proc/device-tree/compatible": "raspberrypi,4-model-b\x00brcm,bcm2711\x00"}
    )
    assert (host.vmm, host.dt_compatible) == (None, "raspberrypi,4-model-b brcm,bcm2711")


def test_microvm_without_dmi_is_qemu_when_every_virtio_device_is_mmio() -> None:
    evidence = guest_evidence("modern-mmio").without(["sys/class/dmi/id/"])
    assert build_facts(evidence).host.vmm == "qemu"


def _virtio_only(*targets: str) -> Host:
    files: dict[str, str] = {}
    links: dict[str, str] = {}
    for number, target in enumerate(targets):
        more_files, more_links = virtio_device(f"virtio{number}", 9, target)
        files.update(more_files)
        links.update(more_links)
    names = tuple(f"virtio{n}" for n in range(len(targets)))
    evidence = evidence_of(files, links=links, listings={"sys/bus/virtio/devices": names})
    return build_host(evidence, build_virtio(evidence))


def test_constructed_microvm_is_qemu() -> None:
    assert _virtio_only(MMIO, MMIO.replace("virtio0", "virtio1")).vmm == "qemu"


def test_pci_virtio_without_dmi_names_no_vmm() -> None:
    assert _virtio_only(MMIO, PCI).vmm is None


def test_no_dmi_no_device_tree_no_virtio_names_no_vmm() -> None:
    evidence = evidence_of(statuses={f"{DMI}/sys_vendor": Status.MISSING})
    host = build_host(evidence, build_virtio(evidence))
    assert host.offers_virtio_sound == "unknown"
    assert {v for k, v in vars(host).items() if k != "offers_virtio_sound"} == {None}
