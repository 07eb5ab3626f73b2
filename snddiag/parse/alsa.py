"""ALSA's procfs: `/proc/asound/cards`, `/proc/asound/pcm`, and `asound.conf` defaults."""

from __future__ import annotations

import re
from dataclasses import dataclass

from snddiag.parse import Parsed


@dataclass(frozen=True)
class Card:
    index: int
    card_id: str
    driver: str
    name: str
    long_name: str


@dataclass(frozen=True)
class PcmDevice:
    card: int
    device: int
    name: str
    playback: int
    capture: int


_CARD = re.compile(r"^\s*(\d+)\s+\[(.*?)\s*\]:\s+(\S+)\s+-\s+(.*)$")


def parse_cards(text: str) -> Parsed[tuple[Card, ...]]:
    """` 0 [SoundCard      ]: virtio-snd - VirtIO SoundCard` + an indented long name line."""
    cards: list[Card] = []
    odd: list[str] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        match = _CARD.match(line)
        if match:
            long_name = lines[i + 1].strip() if i + 1 < len(lines) else ""
            cards.append(
                Card(
                    int(match.group(1)),
                    match.group(2),
                    match.group(3),
                    match.group(4).strip(),
                    long_name,
                )
            )
        elif line.strip() and not line.startswith(" " * 8) and "no soundcards" not in line:
            odd.append(line)
    return Parsed(tuple(cards), tuple(odd))


_PCM = re.compile(r"^(\d+)-(\d+):\s(.*?)\s:\s.*?((?:\s:\s(?:playback|capture)\s\d+)*)\s*$")


def parse_pcm(text: str) -> Parsed[tuple[PcmDevice, ...]]:
    """`00-00: VirtIO PCM 0 : VirtIO PCM 0 : playback 1 : capture 1`."""
    devices: list[PcmDevice] = []
    odd: list[str] = []
    for line in text.splitlines():
        match = _PCM.match(line)
        if not match:
            if line.strip():
                odd.append(line)
            continue
        counts = dict(re.findall(r"(playback|capture) (\d+)", match.group(4)))
        devices.append(
            PcmDevice(
                int(match.group(1)),
                int(match.group(2)),
                match.group(3),
                int(counts.get("playback", 0)),
                int(counts.get("capture", 0)),
            )
        )
    return Parsed(tuple(devices), tuple(odd))


_DEFAULT_CARD = re.compile(r"defaults\.(?:pcm|ctl)\.card\s+(\S+)")


def parse_asound_conf_default(text: str) -> Parsed[str | None]:
    """The card named by `defaults.pcm.card N` in asound.conf, if any (the last one wins)."""
    found = _DEFAULT_CARD.findall(text)
    return Parsed(found[-1] if found else None)
