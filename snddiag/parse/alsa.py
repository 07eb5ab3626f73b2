"""ALSA's procfs: `/proc/asound/cards`, `/proc/asound/pcm`, and `asound.conf` defaults."""

from __future__ import annotations

from snddiag.parse import Parsed, lines_of
from snddiag.patterns import compiled_later
from snddiag.records import dataclass


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


# ` 0 [SoundCard      ]: virtio-snd - VirtIO SoundCard`. The id stops at the first `]` (ALSA ids
# are letters, digits and `_`): a lazy `(.*?)\s*\]` here was quadratic on a line of blanks.
_CARD = compiled_later(r"^\s*([0-9]{1,9})\s+\[([^\]]*)\]:\s+(\S+)\s+-\s+(.*)$")


def parse_cards(text: str) -> Parsed[tuple[Card, ...]]:
    """` 0 [SoundCard      ]: virtio-snd - VirtIO SoundCard` + an indented long name line."""
    cards: list[Card] = []
    odd: list[str] = []
    lines = lines_of(text)
    for i, line in enumerate(lines):
        match = _CARD.match(line)
        if match:
            long_name = lines[i + 1].strip() if i + 1 < len(lines) else ""
            cards.append(
                Card(
                    int(match.group(1)),
                    match.group(2).rstrip(),
                    match.group(3),
                    match.group(4).strip(),
                    long_name,
                )
            )
        elif line.strip() and not line.startswith(" " * 8) and "no soundcards" not in line:
            odd.append(line)
    return Parsed(tuple(cards), tuple(odd))


# `00-00: id : name : playback 1 : capture 1` (the kernel prints `%02i-%02i: %s : %s`, then
# ` : playback %i` and ` : capture %i` for the directions the device has). One regex with two lazy
# `.*?` and a repeated group took hours on a 400 KB line; now each step is a plain scan.
_PCM_HEAD = compiled_later(r"([0-9]{1,9})-([0-9]{1,9}):\s")
_PCM_SEP = compiled_later(r"\s:\s")
# The stream counts ending a line, matched on the reversed line: anchored at the line's end, the
# match cannot be retried from every position of the name.
_PCM_STREAMS_REVERSED = compiled_later(r"\s*((?:[0-9]{1,9}\s(?:kcabyalp|erutpac)\s:\s)*)")
_PCM_STREAM = compiled_later(r"(playback|capture)\s([0-9]{1,9})")


def parse_pcm(text: str) -> Parsed[tuple[PcmDevice, ...]]:
    """`00-00: VirtIO PCM 0 : VirtIO PCM 0 : playback 1 : capture 1`."""
    devices: list[PcmDevice] = []
    odd: list[str] = []
    for line in lines_of(text):
        head = _PCM_HEAD.match(line)
        sep = _PCM_SEP.search(line, head.end()) if head else None
        if head is None or sep is None:
            if line.strip():
                odd.append(line)
            continue
        tail = line[sep.end() :][::-1]
        streams = _PCM_STREAMS_REVERSED.match(tail)
        counts = dict(_PCM_STREAM.findall(streams.group(1)[::-1])) if streams else {}
        devices.append(
            PcmDevice(
                int(head.group(1)),
                int(head.group(2)),
                line[head.end() : sep.start()],
                int(counts.get("playback", 0)),
                int(counts.get("capture", 0)),
            )
        )
    return Parsed(tuple(devices), tuple(odd))


# Anywhere in the file, not per line (asound.conf may break a setting over lines). `\s+` and
# `\S+` cannot match the same character, so a search costs time linear in the file.
_DEFAULT_CARD = compiled_later(r"defaults\.(?:pcm|ctl)\.card\s+(\S+)")


def parse_asound_conf_default(text: str) -> Parsed[str | None]:
    """The card named by `defaults.pcm.card N` in asound.conf, if any (the last one wins)."""
    found = _DEFAULT_CARD.findall(text)
    return Parsed(found[-1] if found else None)
