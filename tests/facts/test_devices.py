"""virtio.*, pci.* and the inventory, on captured guests and on buses no lab guest has."""

from __future__ import annotations

from snddiag.facts import build_facts
from snddiag.facts.devices import build_inventory, build_pci, build_virtio
from tests.facts.kit import evidence_of, virtio_device
from tests.guests import guest_evidence

PCI_TARGET = "/sys/devices/pci0000:00/0000:00:03.0/virtio2"
MMIO_TARGET = "/sys/devices/platform/LNRO0005:00/virtio0"


def test_healthy_sound_device_on_pci() -> None:
    snd = build_virtio(guest_evidence("healthy-pci")).snd
    assert (snd.present, snd.count, snd.transport, snd.pci_address) == (
        True,
        1,
        "pci",
        "0000:00:03.0",
    )
    assert (snd.bound, snd.status, snd.failed, snd.version_1) == (True, 0x0F, False, True)
    assert snd.status_names == ("ACKNOWLEDGE", "DRIVER", "DRIVER_OK", "FEATURES_OK")


def test_legacy_mmio_lacks_version_1() -> None:
    snd = build_virtio(guest_evidence("legacy-mmio")).snd
    assert (snd.transport, snd.version_1, snd.failed, snd.pci_address) == (
        "mmio",
        False,
        True,
        None,
    )
    assert "VIRTIO_F_VERSION_1" not in (snd.features or ())


def test_no_sound_device_on_a_listed_bus() -> None:
    virtio = build_virtio(guest_evidence("no-sound-device"))
    assert (virtio.snd.present, virtio.snd.count, virtio.snd.bound) == (False, 0, None)
    assert virtio.devices is not None and {d.type_name for d in virtio.devices} == {"9p"}


def test_unlisted_virtio_bus_is_unknown() -> None:
    virtio = build_virtio(evidence_of())
    assert (virtio.devices, virtio.snd.present, virtio.snd.count) == (None, None, None)


def test_a_device_without_link_status_or_features() -> None:
    files, _links = virtio_device("virtio0", 25, PCI_TARGET)
    del files["sys/bus/virtio/devices/virtio0/status"]
    evidence = evidence_of(files, listings={"sys/bus/virtio/devices": ("virtio0",)})
    snd = build_virtio(evidence).snd
    assert (snd.transport, snd.driver, snd.status, snd.status_names, snd.failed) == (
        "unknown",
        "",
        None,
        None,
        None,
    )
    assert (snd.version_1, snd.features) == (None, None)


def test_unknown_device_ids_are_named_by_number() -> None:
    files, links = virtio_device("virtio0", 99, MMIO_TARGET, driver="x")
    evidence = evidence_of(files, links=links, listings={"sys/bus/virtio/devices": ("virtio0",)})
    (device,) = build_virtio(evidence).devices or ()
    assert (device.type_name, device.transport, device.driver) == ("id 99", "mmio", "x")


def test_emulated_and_virtio_sound_on_pci() -> None:
    pci = build_pci(guest_evidence("intel-hda-and-virtio"))
    assert (pci.virtio_sound, pci.emulated_sound, pci.emulated_sound_present) == (
        True,
        ("intel-hda",),
        True,
    )


def test_a_machine_without_pci_has_no_functions() -> None:
    evidence = evidence_of(listings={"sys/bus": ("virtio", "platform")})
    pci = build_pci(evidence)
    assert (pci.functions, pci.virtio_sound, pci.emulated_sound_present) == ((), False, False)


def test_unlisted_pci_bus_is_unknown() -> None:
    assert set(vars(build_pci(evidence_of())).values()) == {None}


def test_pci_functions_with_unreadable_ids_are_left_out() -> None:
    base = "sys/bus/pci/devices/0000:00:01.0"
    evidence = evidence_of(
        {f"{base}/vendor": "0x1274\n", f"{base}/device": "0x5000\n", f"{base}/class": "0x040100\n"},
        listings={"sys/bus/pci/devices": ("0000:00:01.0", "0000:00:02.0")},
    )
    pci = build_pci(evidence)
    assert [f.name for f in pci.functions or ()] == ["ES1370"]
    assert pci.emulated_sound == ("ES1370",)


def test_inventory_of_captured_guests() -> None:
    facts = build_facts(guest_evidence("intel-hda-and-virtio"))
    by_class = {i.device_class: (i.paravirtual, i.emulated) for i in facts.inventory}
    assert by_class["sound"] == (("virtio-sound (pci)",), ("intel-hda (snd_hda_intel)",))
    assert by_class["block"] == ((), ("pci 8086:2922 (ahci)",))
    unbound = build_facts(guest_evidence("module-not-loaded")).inventory
    assert ("pci 8086:2922",) in [i.emulated for i in unbound]


def test_inventory_of_nothing_is_empty() -> None:
    assert build_inventory(build_virtio(evidence_of()), build_pci(evidence_of())) == ()
