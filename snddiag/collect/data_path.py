"""The data-path test of the virtio sound card: play a second, record a second (see pcm.py).

Makes a short, quiet sound. Nothing in snddiag calls it unless the user asked (`--play`).

    python3 -m snddiag.collect.data_path [--card N] [--device N] [--seconds S]
                                         [--only playback|capture]
prints {"playback": {...}, "capture": {...}, "seconds": S} as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from snddiag.collect.pcm import CaptureResult, Outcome, PlaybackResult, play, record

VIRTIO_DRIVER = "virtio_snd"
DIRECTIONS = {"playback": "p", "capture": "c"}


@dataclass(frozen=True)
class DataPath:
    playback: PlaybackResult
    capture: CaptureResult


def virtio_cards(sys_dir: Path = Path("/sys")) -> list[int]:
    """ALSA card numbers whose device is bound to virtio_snd, in order."""
    cards: list[int] = []
    for card in (sys_dir / "class" / "sound").glob("card*"):
        m = re.fullmatch(r"card(\d+)", card.name)
        try:
            driver = os.path.basename(os.readlink(card / "device" / "driver"))
        except OSError:
            continue
        if m and driver == VIRTIO_DRIVER:
            cards.append(int(m.group(1)))
    return sorted(cards)


def pcm_devices(card: int, direction: str, sys_dir: Path = Path("/sys")) -> list[int]:
    """The card's PCM device numbers that have a stream in `direction`, from sysfs."""
    suffix = DIRECTIONS[direction]
    found = []
    for node in (sys_dir / "class" / "sound").glob(f"pcmC{card}D*{suffix}"):
        m = re.fullmatch(rf"pcmC{card}D(\d+){suffix}", node.name)
        if m:
            found.append(int(m.group(1)))
    return sorted(found)


def choose_pcm(direction: str, sys_dir: Path = Path("/sys")) -> tuple[int, int] | str:
    """(card, device) of the first virtio card's first PCM in `direction`, or why there is none."""
    cards = virtio_cards(sys_dir)
    if not cards:
        return "no ALSA card is bound to virtio_snd"
    devices = pcm_devices(cards[0], direction, sys_dir)
    if not devices:
        return f"card {cards[0]} (virtio_snd) has no {direction} PCM"
    return cards[0], devices[0]


def run_data_path(
    *,
    card: int | None = None,
    device: int = 0,
    seconds: float = 1.0,
    only: str | None = None,
    sys_dir: Path = Path("/sys"),
    dev_dir: Path = Path("/dev/snd"),
) -> DataPath:
    """Playback then capture on the given PCM, or on the virtio card's first ones."""

    def target(direction: str) -> tuple[int, int] | str:
        if only is not None and only != direction:
            return "not asked for"
        return choose_pcm(direction, sys_dir) if card is None else (card, device)

    where = target("playback")
    playback = (
        PlaybackResult(Outcome.NOT_RUN, reason=where)
        if isinstance(where, str)
        else play(*where, seconds=seconds, dev_dir=dev_dir)
    )
    where = target("capture")
    capture = (
        CaptureResult(Outcome.NOT_RUN, reason=where)
        if isinstance(where, str)
        else record(*where, seconds=seconds, dev_dir=dev_dir)
    )
    return DataPath(playback, capture)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m snddiag.collect.data_path",
        description="Play and record about a second on the virtio sound card (makes a sound).",
    )
    parser.add_argument("--card", type=int, help="ALSA card number (default: the virtio card)")
    parser.add_argument("--device", type=int, default=0, help="PCM device number with --card")
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--only", choices=sorted(DIRECTIONS))
    args = parser.parse_args(argv)
    started = time.monotonic()
    result = run_data_path(card=args.card, device=args.device, seconds=args.seconds, only=args.only)
    doc = {**asdict(result), "seconds": round(time.monotonic() - started, 3)}
    json.dump(doc, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
    failed = Outcome.FAILED in (result.playback.status, result.capture.status)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
