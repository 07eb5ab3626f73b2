"""alsa.* and userspace.*, on captured guests and on what no lab guest shows."""

from __future__ import annotations

import json

from snddiag.collect.libraries import PROCESSES_KEY, UDEV_KEY
from snddiag.evidence import NodeInfo, Status
from snddiag.facts.alsa import build_alsa, build_userspace
from tests.facts.kit import evidence_of
from tests.guests import guest_evidence

CARDS = (
    " 0 [Intel          ]: HDA-Intel - HDA Intel\n"
    "                      HDA Intel at 0xfebf0000 irq 16\n"
    " 1 [SoundCard      ]: virtio-snd - VirtIO SoundCard\n"
    "                      VirtIO SoundCard at pci/0000:00:04.0/virtio2\n"
)


def test_healthy_guest_has_a_default_virtio_card() -> None:
    alsa = build_alsa(guest_evidence("healthy-pci"))
    assert (alsa.card_count, alsa.virtio_card, alsa.virtio_card_index) == (1, True, 0)
    assert (alsa.default_card, alsa.default_card_is_virtio) == ("0 SoundCard (virtio-snd)", True)
    assert (alsa.virtio_playback_streams, alsa.virtio_capture_streams) == (1, 1)
    assert (alsa.dev_accessible, alsa.dev_group) == (True, "0")


def test_hda_first_makes_the_virtio_card_not_default() -> None:
    alsa = build_alsa(guest_evidence("intel-hda-and-virtio"))
    assert (alsa.default_card_is_virtio, alsa.virtio_card_index) == (False, 1)


def test_nodes_closed_to_an_unprivileged_user() -> None:
    assert build_alsa(guest_evidence("non-root-dmesg-restrict")).dev_accessible is False


def test_no_proc_asound_means_no_cards() -> None:
    alsa = build_alsa(evidence_of(statuses={"proc/asound/cards": Status.MISSING}))
    assert (alsa.cards, alsa.card_count, alsa.virtio_card, alsa.default_card) == (
        (),
        0,
        False,
        None,
    )


def test_unreadable_cards_are_unknown() -> None:
    alsa = build_alsa(evidence_of(statuses={"proc/asound/cards": Status.DENIED}))
    assert (alsa.cards, alsa.card_count, alsa.virtio_card) == (None, None, None)


def test_asound_conf_chooses_the_default_by_id_or_index() -> None:
    by_id = evidence_of(
        {"proc/asound/cards": CARDS, "etc/asound.conf": "defaults.pcm.card SoundCard\n"}
    )
    assert build_alsa(by_id).default_card_is_virtio is True
    by_index = evidence_of({"proc/asound/cards": CARDS, "etc/asound.conf": "defaults.pcm.card 0\n"})
    assert build_alsa(by_index).default_card == "0 Intel (HDA-Intel)"
    gone = evidence_of({"proc/asound/cards": CARDS, "etc/asound.conf": "defaults.pcm.card 7\n"})
    assert (build_alsa(gone).default_card, build_alsa(gone).default_card_is_virtio) == (None, None)


def test_nodes_owned_by_two_groups_have_no_group() -> None:
    def node(gid: int) -> NodeInfo:
        return NodeInfo(0o20660, 0, gid, is_char_device=True, readable=True, writable=True)

    evidence = evidence_of(nodes={"dev/snd/controlC0": node(29), "dev/snd/pcmC0D0p": node(63)})
    alsa = build_alsa(evidence)
    assert (alsa.dev_nodes, alsa.dev_accessible, alsa.dev_group) == (
        ("controlC0", "pcmC0D0p"),
        True,
        None,
    )


def test_userspace_from_udev_and_the_process_list() -> None:
    udev = [
        {"sys_path": "/sys/devices/x/sound/card0", "properties": {"SOUND_INITIALIZED": "1"}},
        {"sys_path": "/sys/devices/x/sound/card0/pcmC0D0p", "properties": {}},
    ]
    servers = [{"name": "pipewire", "pid": 5}, {"name": "wireplumber", "pid": 6}]
    evidence = evidence_of({UDEV_KEY: json.dumps(udev), PROCESSES_KEY: json.dumps(servers)})
    userspace = build_userspace(evidence)
    assert userspace.sound_servers == ("pipewire", "wireplumber")
    assert (userspace.udev_available, userspace.udev_sound_initialized) == (True, True)


def test_userspace_unread_and_udev_unavailable() -> None:
    assert set(vars(build_userspace(evidence_of())).values()) == {None}
    missing = build_userspace(evidence_of(statuses={UDEV_KEY: Status.NOT_FOUND}))
    assert (missing.udev_available, missing.udev_sound_initialized) == (False, None)
