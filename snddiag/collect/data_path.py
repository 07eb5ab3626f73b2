"""The data-path test of the virtio sound card: play a second, record a second (see pcm.py).

Makes a short, quiet sound. Only `snddiag --play` calls it (never `collect` or `analyze`); its
measurement enters the evidence as one JSON entry, DATA_PATH_KEY, that facts read like any other.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

from snddiag.collect.pcm import CaptureResult, Outcome, PlaybackResult, play, record
from snddiag.collect.pcm_lifecycle import LifecycleResult, stress
from snddiag.collect.plan import DATA_PATH_KEY
from snddiag.evidence import Entry, Kind, Status
from snddiag.records import asdict, dataclass

VIRTIO_DRIVER = "virtio_snd"
DIRECTIONS = {"playback": "p", "capture": "c"}


@dataclass(frozen=True)
class DataPath:
    playback: PlaybackResult
    capture: CaptureResult
    lifecycle: LifecycleResult


NO_SOUND_KERNEL = (
    "this kernel has no sound support (no /sys/class/sound): there is no card to play on"
)


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


def choose_pcm(
    direction: str, sys_dir: Path = Path("/sys"), modules_dir: Path = Path("/lib/modules")
) -> tuple[int, int] | str:
    """(card, device) of the first virtio card's first PCM in `direction`, or why there is none."""
    cards = virtio_cards(sys_dir)
    if not cards and not (sys_dir / "class" / "sound").is_dir():
        # The sound core makes /sys/class/sound: without it no sound driver runs. It may still
        # be a module that nothing loaded (no sound device): then the kernel has sound.
        sound_modules = modules_dir / os.uname().release / "kernel" / "sound"
        if not sound_modules.is_dir():
            return NO_SOUND_KERNEL
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
    lifecycle: bool = True,
    sys_dir: Path = Path("/sys"),
    dev_dir: Path = Path("/dev/snd"),
) -> DataPath:
    """Playback then capture on the given PCM, or on the virtio card's first ones; then, with
    `lifecycle` and a playback that worked, the playback PCM's lifecycle stress."""

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
    return DataPath(playback, capture, _lifecycle(playback, lifecycle, dev_dir))


def _lifecycle(playback: PlaybackResult, wanted: bool, dev_dir: Path) -> LifecycleResult:
    if not wanted:
        return LifecycleResult(Outcome.NOT_RUN, reason="skipped (--no-stress)")
    # A device that played slowly is worth stressing (its starts show it); one that played
    # nothing, or could not be opened, is not.
    if not playback.frames_consumed or playback.device is None:
        return LifecycleResult(Outcome.NOT_RUN, reason="the playback test did not work")
    card, device = playback.device.removeprefix("hw:").split(",")
    return stress(dev_dir / f"pcmC{card}D{device}p", playback.device)


def _side(result: PlaybackResult | CaptureResult | LifecycleResult) -> dict[str, Any]:
    return {**asdict(result), "status": result.status.value}


def read_data_path(
    *,
    sys_dir: Path = Path("/sys"),
    dev_dir: Path = Path("/dev/snd"),
    seconds: float = 1.0,
    lifecycle: bool = True,
) -> Entry:
    """Run the data-path test and record it as evidence: {"playback", "capture", "lifecycle",
    "seconds"}."""
    started = time.monotonic()
    result = run_data_path(seconds=seconds, lifecycle=lifecycle, sys_dir=sys_dir, dev_dir=dev_dir)
    elapsed = time.monotonic() - started
    doc = {
        "playback": _side(result.playback),
        "capture": _side(result.capture),
        "lifecycle": _side(result.lifecycle),
        "seconds": round(elapsed, 3),
    }
    data = json.dumps(doc, indent=1, sort_keys=True).encode()
    return Entry(DATA_PATH_KEY, Kind.FILE, Status.OK, data=data, duration_s=elapsed)
