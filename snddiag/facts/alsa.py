"""ALSA (cards, the default card, PCM streams, /dev/snd) and the sound userspace above it."""

from __future__ import annotations

from typing import Any

from snddiag.collect.libraries import PROCESSES_KEY, UDEV_KEY
from snddiag.collect.plan import declared
from snddiag.evidence import Entry, Evidence, Kind, Status
from snddiag.facts.docs import fact
from snddiag.parse.alsa import Card, PcmDevice, parse_asound_conf_default, parse_cards, parse_pcm
from snddiag.parse.json_text import parse_json_list
from snddiag.records import dataclass

VIRTIO_CARD_DRIVER = "virtio-snd"
SOURCES: dict[str, tuple[str, ...]] = {
    "alsa": declared("proc/asound/cards", "proc/asound/pcm", "etc/asound.conf", "dev/snd/*"),
    # Read through Python libraries (collect/libraries.py), not the plan.
    "userspace": (UDEV_KEY, PROCESSES_KEY),
}
NO_CARDS = "/proc/asound/cards could not be read"
NO_VIRTIO_CARD = "no virtio card, or the cards could not be read"


@dataclass(frozen=True)
class Alsa:
    cards: tuple[Card, ...] | None = fact(
        "ALSA's cards (index, id, driver, names); () when ALSA's core is not loaded", NO_CARDS
    )
    card_count: int | None = fact("how many cards", NO_CARDS)
    virtio_card: bool | None = fact("a card of the virtio-snd driver exists", NO_CARDS)
    virtio_card_index: int | None = fact("that card's index", NO_VIRTIO_CARD)
    default_card: str | None = fact(
        "ALSA's default card: 'INDEX ID (DRIVER)' (asound.conf's defaults.pcm.card, else the "
        "lowest index)",
        "no card, or asound.conf names a card that does not exist",
    )
    default_card_is_virtio: bool | None = fact("the default card is the virtio one", "no default")
    virtio_playback_streams: int | None = fact(
        "playback substreams of the virtio card (/proc/asound/pcm)", NO_VIRTIO_CARD
    )
    virtio_capture_streams: int | None = fact(
        "capture substreams of the virtio card", NO_VIRTIO_CARD
    )
    dev_nodes: tuple[str, ...] = fact(
        "the device nodes found in /dev/snd (controlC0, pcmC0D0p, ...)",
        "never None: () when there are none or /dev/snd could not be read",
    )
    dev_accessible: bool | None = fact(
        "the user can open every control and PCM node", "no control or PCM node in /dev/snd"
    )
    dev_group: str | None = fact(
        "the group id owning those nodes", "no node, or nodes owned by more than one group"
    )


@dataclass(frozen=True)
class Userspace:
    sound_servers: tuple[str, ...] | None = fact(
        "running sound servers (pipewire, pulseaudio, ...)", "psutil could not list processes"
    )
    udev_available: bool | None = fact(
        "the udev database could be read (pyudev)", "udev was not asked (an offline snapshot)"
    )
    udev_sound_initialized: bool | None = fact(
        "udev set SOUND_INITIALIZED=1 on a sound card", "udev unreadable, or no sound device"
    )


def _cards(evidence: Evidence) -> tuple[Card, ...] | None:
    entry = evidence.get("proc/asound/cards")
    if entry is not None and entry.ok:
        return parse_cards(entry.text).value
    if entry is not None and entry.status is Status.MISSING:
        return ()  # no /proc/asound: ALSA's core is not loaded, so there is no card
    return None


def _default_card(evidence: Evidence, cards: tuple[Card, ...] | None) -> Card | None:
    if not cards:
        return None
    conf = evidence.text("etc/asound.conf")
    configured = parse_asound_conf_default(conf).value if conf is not None else None
    if not configured:
        return min(cards, key=lambda c: c.index)
    by_key = {str(c.index): c for c in cards} | {c.card_id: c for c in cards}
    return by_key.get(configured)


def _streams(pcms: tuple[PcmDevice, ...], index: int | None) -> tuple[int | None, int | None]:
    if index is None:
        return None, None
    mine = [p for p in pcms if p.card == index]
    return sum(p.playback for p in mine), sum(p.capture for p in mine)


def _usable(entry: Entry) -> bool:
    name = entry.key.rsplit("/", 1)[1]
    return entry.ok and entry.node is not None and name.startswith(("controlC", "pcmC"))


def build_alsa(evidence: Evidence) -> Alsa:
    cards = _cards(evidence)
    virtio = [c for c in cards or () if c.driver == VIRTIO_CARD_DRIVER]
    virtio_index = virtio[0].index if virtio else None
    default = _default_card(evidence, cards)
    playback, capture = _streams(
        parse_pcm(evidence.text("proc/asound/pcm") or "").value, virtio_index
    )
    nodes = [e for e in evidence if e.key.startswith("dev/snd/") and e.kind is Kind.NODE]
    usable = [e.node for e in nodes if _usable(e) and e.node is not None]
    groups = {node.gid for node in usable}
    return Alsa(
        cards=cards,
        card_count=len(cards) if cards is not None else None,
        virtio_card=bool(virtio) if cards is not None else None,
        virtio_card_index=virtio_index,
        default_card=f"{default.index} {default.card_id} ({default.driver})" if default else None,
        default_card_is_virtio=(default.driver == VIRTIO_CARD_DRIVER) if default else None,
        virtio_playback_streams=playback,
        virtio_capture_streams=capture,
        dev_nodes=tuple(e.key.rsplit("/", 1)[1] for e in nodes if e.ok),
        dev_accessible=all(n.readable and n.writable for n in usable) if usable else None,
        dev_group=str(next(iter(groups))) if len(groups) == 1 else None,
    )


def _is_card(device: dict[str, Any]) -> bool:
    name = str(device.get("sys_path", "")).rsplit("/", 1)[-1]
    return name.startswith("card")


def build_userspace(evidence: Evidence) -> Userspace:
    servers_text = evidence.text(PROCESSES_KEY)
    servers = parse_json_list(servers_text).value if servers_text is not None else None
    udev_text = evidence.text(UDEV_KEY)
    udev = parse_json_list(udev_text).value if udev_text is not None else None
    initialized: bool | None = None
    if udev:
        props = [d.get("properties", {}) for d in udev if _is_card(d)]
        initialized = any(isinstance(p, dict) and p.get("SOUND_INITIALIZED") == "1" for p in props)
    return Userspace(
        sound_servers=tuple(sorted({str(s.get("name")) for s in servers}))
        if servers is not None
        else None,
        udev_available=udev is not None if UDEV_KEY in evidence.entries else None,
        udev_sound_initialized=initialized,
    )
