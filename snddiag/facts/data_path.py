"""Does sound move? The data-path test (`snddiag --play`): what the virtio card's playback and
capture PCMs did with a second of audio. Every fact is None when the test did not run."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from enum import Enum

from snddiag.collect.plan import DATA_PATH_KEY
from snddiag.evidence import Evidence
from snddiag.facts.docs import fact
from snddiag.parse.data_path import DataPathRecord, StreamRecord, parse_data_path

# Written by a run with --play only (collect/data_path.py), not by the collection plan.
SOURCES: dict[str, tuple[str, ...]] = {"data_path": (DATA_PATH_KEY,)}
NOT_RUN = "the test did not run (no --play)"
NO_RATE = "the test did not run, or the pointer moved too briefly to time it"


class DataPathCause(str, Enum):
    """What one direction of the test came to, from its status and its reason."""

    NONE = "none"  # it worked
    NOT_RUN = "not-run"  # nothing to test: no virtio card, or no PCM in this direction
    STALLED = "stalled"  # the stream started and the device never moved its pointer
    SHORT = "short"  # the pointer moved, but not through the whole second in time
    BUSY = "busy"  # another process holds the PCM (a sound server)
    PERMISSION = "permission"  # this user may not open the PCM node
    NO_DEVICE = "no-device"  # no node, or no device behind it
    SETUP = "setup"  # the device refused the format or hw_params
    OTHER = "other"  # a failure without one of the reasons above

    def __str__(self) -> str:
        return self.value


# The reasons as snddiag.collect.pcm and pcm_open word them (tests/facts/test_data_path.py
# builds them with those functions, so a rewording fails there). Anchored literals: linear.
_CAUSES: tuple[tuple[DataPathCause, re.Pattern[str]], ...] = (
    (DataPathCause.STALLED, re.compile(r"the device never (?:consumed|delivered) a frame")),
    (DataPathCause.SHORT, re.compile(r"the device (?:consumed|delivered) only \d")),
    (DataPathCause.BUSY, re.compile(r"\S+ is busy: held by ")),
    (DataPathCause.PERMISSION, re.compile(r"permission denied on ")),
    (
        DataPathCause.NO_DEVICE,
        re.compile(r"no such PCM node |\S+ (?:has no device behind it|is not a character device)"),
    ),
    (
        DataPathCause.SETUP,
        re.compile(
            r"the device refused every configuration|the device offers no interleaved"
            r"|unsupported format|hw_params "
        ),
    ),
)
_GROUP = re.compile(r"members of group '([^']{1,64})' may open it")


@dataclass(frozen=True)
class Stream:
    status: str | None = fact("ok, failed or not_run", NOT_RUN)
    cause: DataPathCause | None = fact(  # noqa: RUF009 - a documented field, not a default
        "what it came to: none, not-run, stalled, short, busy, permission, no-device, setup or "
        "other",
        NOT_RUN,
    )
    reason: str | None = fact(
        "why it failed or did not run, in one line (who holds the PCM, which group may open it)",
        "the test did not run, or it worked",
    )
    device: str | None = fact("the PCM tested (hw:0,0)", "the test did not run, or found no PCM")
    rate_hz: int | None = fact(
        "the rate the device accepted (48000 preferred)", "the test did not run or set no rate"
    )
    format: str | None = fact("the sample format (S16_LE preferred)", "no format was set")
    channels: int | None = fact("the channel count (2 preferred)", "no channel count was set")
    frames_transferred: int | None = fact(
        "frames snddiag wrote (playback) or read (capture)", NOT_RUN
    )
    frames_moved: int | None = fact(
        "frames the device consumed (playback) or delivered (capture): its hardware pointer",
        NOT_RUN,
    )
    measured_rate_hz: float | None = fact(
        "the pointer's speed against the guest's monotonic clock, frames per second", NO_RATE
    )
    rate_error_percent: float | None = fact(
        "how far the measured rate is from the set rate, in percent (always >= 0)", NO_RATE
    )
    xruns: int | None = fact("underruns (playback) or overruns (capture) during the test", NOT_RUN)
    group: str | None = fact(
        "the group whose members may open the PCM, when permission was denied",
        "the test did not run, or no group grants access",
    )


@dataclass(frozen=True)
class DataPath:
    playback: Stream
    capture: Stream
    seconds: float | None = fact("how long the test took, both directions", NOT_RUN)


def data_path_cause(record: StreamRecord) -> DataPathCause:
    if record.status == "ok":
        return DataPathCause.NONE
    if record.status == "not_run":
        return DataPathCause.NOT_RUN
    reason = record.reason or ""
    return next((cause for cause, rx in _CAUSES if rx.match(reason)), DataPathCause.OTHER)


def _stream(record: StreamRecord | None) -> Stream:
    if record is None:
        return Stream(*[None] * len(dataclasses.fields(Stream)))
    rate, measured = record.rate_hz, record.measured_rate_hz
    group = _GROUP.search(record.reason or "")
    return Stream(
        status=record.status,
        cause=data_path_cause(record),
        reason=record.reason,
        device=record.device,
        rate_hz=rate,
        format=record.format,
        channels=record.channels,
        frames_transferred=record.frames_done,
        frames_moved=record.frames_moved,
        measured_rate_hz=measured,
        rate_error_percent=round(abs(measured - rate) / rate * 100, 1)
        if measured is not None and rate
        else None,
        xruns=record.xruns,
        group=group.group(1) if group else None,
    )


def read_data_path_record(evidence: Evidence) -> DataPathRecord | None:
    text = evidence.text(DATA_PATH_KEY)
    return parse_data_path(text).value if text is not None else None


def build_data_path(evidence: Evidence) -> DataPath:
    record = read_data_path_record(evidence)
    return DataPath(
        playback=_stream(record.playback if record else None),
        capture=_stream(record.capture if record else None),
        seconds=record.seconds if record else None,
    )
