"""Parsers on text captured from the lab's real guests (tests/fixtures/guests)."""

from __future__ import annotations

from snddiag.parse.alsa import parse_cards, parse_pcm
from snddiag.parse.cmdline import blacklisted_on_cmdline, parse_cmdline
from snddiag.parse.kconfig import parse_kconfig
from snddiag.parse.kmsg import parse_dmesg
from snddiag.parse.lsmod import parse_lsmod, parse_proc_modules
from snddiag.parse.modinfo import parse_modinfo
from snddiag.parse.modprobe_conf import parse_modprobe_conf
from snddiag.parse.module_index import parse_modules_dep
from snddiag.parse.os_release import parse_os_release
from snddiag.parse.virtio_sysfs import VIRTIO_F_VERSION_1, parse_features, parse_hex
from tests.guests import guest_evidence, guest_text

RELEASE_612 = "6.12.95+deb12-amd64"


def _release(guest: str) -> str:
    return guest_text(guest, "proc/sys/kernel/osrelease").strip()


def test_lsmod_and_proc_modules_agree_on_healthy_guest() -> None:
    lsmod = parse_lsmod(guest_text("healthy-pci", "cmd/lsmod"))
    proc = parse_proc_modules(guest_text("healthy-pci", "proc/modules"))
    assert "virtio_snd" in lsmod.value
    assert set(lsmod.value) == set(proc.value)
    assert proc.value["virtio_snd"].state == "Live"
    assert lsmod.unparsed == ()


def test_busybox_lsmod_and_modinfo() -> None:
    lsmod = parse_lsmod(guest_text("busybox-tools", "cmd/lsmod"))
    assert "virtio_snd" in lsmod.value
    assert lsmod.unparsed == ()
    fields = parse_modinfo(guest_text("busybox-tools", "cmd/modinfo-virtio_snd")).value
    assert fields["filename"][0].endswith("/sound/virtio/virtio_snd.ko.xz")


def test_lsmod_without_coldplug_has_no_virtio_snd() -> None:
    assert "virtio_snd" not in parse_lsmod(guest_text("module-not-loaded", "cmd/lsmod")).value


def test_modinfo_names_the_module_file_and_parameters() -> None:
    fields = parse_modinfo(guest_text("healthy-pci", "cmd/modinfo-virtio_snd")).value
    assert fields["filename"][0].endswith("virtio_snd.ko.xz")
    assert any(p.startswith("msg_timeout_ms:") for p in fields["parm"])


def test_dmesg_holds_the_legacy_mmio_refusal() -> None:
    lines = parse_dmesg(guest_text("legacy-mmio", "cmd/dmesg")).value
    texts = [line.text for line in lines]
    assert any("device does not comply with spec version 1.x" in t for t in texts)
    # Only a message's continuation lines (printed without a prefix) lack a timestamp.
    assert all(line.time_s is not None or line.text.startswith(" ") for line in lines)


def test_kconfig_of_the_61_kernel_lacks_snd_virtio() -> None:
    guest = "no-config-snd-virtio"
    options = parse_kconfig(guest_text(guest, f"boot/config-{_release(guest)}")).value
    assert options["CONFIG_SND_VIRTIO"] == "n"
    assert options["CONFIG_VIRTIO_PCI"] in ("y", "m")


def test_kconfig_of_the_612_kernel_has_it_as_module() -> None:
    options = parse_kconfig(guest_text("healthy-pci", f"boot/config-{RELEASE_612}")).value
    assert options["CONFIG_SND_VIRTIO"] == "m"


def test_modprobe_d_blacklist_and_install_false() -> None:
    key = "etc/modprobe.d/snddiag-lab-blacklist.conf"
    directives = parse_modprobe_conf(guest_text("blacklisted-modprobe", key)).value
    verbs = {(d.verb, d.module) for d in directives}
    assert ("blacklist", "virtio_snd") in verbs
    assert any(d.blocks_loading for d in directives if d.verb == "install")


def test_cmdline_module_blacklist() -> None:
    pairs = parse_cmdline(guest_text("blacklisted-cmdline", "proc/cmdline")).value
    assert blacklisted_on_cmdline(pairs) == {"virtio_snd": "module_blacklist=virtio_snd"}
    assert blacklisted_on_cmdline(parse_cmdline("modprobe.blacklist=a,virtio-snd").value) == {
        "a": "modprobe.blacklist=a,virtio-snd",
        "virtio_snd": "modprobe.blacklist=a,virtio-snd",
    }


def _sound_device(guest: str) -> str:
    evidence = guest_evidence(guest)
    names = evidence.listing("sys/bus/virtio/devices") or ()
    for name in names:
        if parse_hex(evidence.text(f"sys/bus/virtio/devices/{name}/device") or "").value == 25:
            return f"sys/bus/virtio/devices/{name}"
    raise AssertionError(f"{guest}: no virtio sound device")


def test_features_carry_version_1_on_modern_transports_only() -> None:
    for guest, modern in (("healthy-pci", True), ("modern-mmio", True), ("legacy-mmio", False)):
        bits = parse_features(guest_text(guest, _sound_device(guest) + "/features")).value
        assert bits is not None
        assert (VIRTIO_F_VERSION_1 in bits) is modern, guest


def test_status_byte_of_a_failed_probe() -> None:
    status = parse_hex(
        guest_text("jacks-probe-failure", _sound_device("jacks-probe-failure") + "/status")
    )
    assert status.value is not None and status.value & 0x80


def test_cards_and_pcm_with_two_cards() -> None:
    cards = parse_cards(guest_text("intel-hda-and-virtio", "proc/asound/cards")).value
    assert [(c.index, c.driver) for c in cards] == [(0, "HDA-Intel"), (1, "virtio-snd")]
    assert cards[1].long_name.startswith("VirtIO SoundCard at pci/")
    pcms = parse_pcm(guest_text("healthy-pci", "proc/asound/pcm")).value
    assert [(p.card, p.playback, p.capture) for p in pcms] == [(0, 1, 1)]


def test_module_indexes() -> None:
    tree = f"lib/modules/{RELEASE_612}"
    dep = parse_modules_dep(guest_text("healthy-pci", f"{tree}/modules.dep")).value
    assert dep["virtio_snd"] == "kernel/sound/virtio/virtio_snd.ko.xz"


def test_os_release() -> None:
    fields = parse_os_release(guest_text("healthy-pci", "etc/os-release")).value
    assert fields["ID"] == "debian"
    assert fields["VERSION_ID"] == "12"
