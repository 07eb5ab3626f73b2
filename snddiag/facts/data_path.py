"""Does sound move? The data-path test (`snddiag --play`): what the virtio card's playback and
capture PCMs did with a second of audio. Every fact is None when the test did not run."""

from __future__ import annotations

import re
from enum import Enum

from snddiag import records
from snddiag.collect.plan import DATA_PATH_KEY
from snddiag.evidence import Evidence
from snddiag.facts.docs import fact
from snddiag.parse.data_path import (
    DataPathRecord,
    FailureRecord,
    LifecycleRecord,
    StreamRecord,
    parse_data_path,
)
from snddiag.patterns import compiled_later
from snddiag.records import dataclass

# Written by a run with --play only (collect/data_path.py), not by the collection plan.
SOURCES: dict[str, tuple[str, ...]] = {"data_path": (DATA_PATH_KEY,)}
NOT_RUN = "the test did not run (no --play)"
NO_RECORDING = "playback, or the test recorded nothing (it did not run or read no frame)"
NOT_HEARD = "playback, the test recorded nothing, or the recording was digital silence"
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
    (DataPathCause.STALLED, compiled_later(r"the device never (?:consumed|delivered) a frame")),
    (DataPathCause.SHORT, compiled_later(r"the device (?:consumed|delivered) only \d")),
    (DataPathCause.BUSY, compiled_later(r"\S+ is busy: held by ")),
    (DataPathCause.PERMISSION, compiled_later(r"permission denied on ")),
    (
        DataPathCause.NO_DEVICE,
        compiled_later(
            r"no such PCM node |\S+ (?:has no device behind it|is not a character device)"
        ),
    ),
    (
        DataPathCause.SETUP,
        compiled_later(
            r"the device refused every configuration|the device offers no interleaved"
            r"|unsupported format|hw_params "
        ),
    ),
)
_GROUP = compiled_later(r"members of group '([^']{1,64})' may open it")


@dataclass(frozen=True)
class Stream:
    status: str | None = fact("ok, failed or not_run", NOT_RUN, values=("ok", "failed", "not_run"))
    cause: DataPathCause | None = fact(
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
    peak_dbfs: float | None = fact(
        "capture: the largest recorded sample, dB relative to full scale", NOT_HEARD
    )
    rms_dbfs: float | None = fact(
        "capture: the recording's RMS level, dB relative to a full-scale square wave", NOT_HEARD
    )
    silent: bool | None = fact(
        "capture: every recorded sample was zero (digital silence: the host gave no input)",
        NO_RECORDING,
    )
    dc_offset: float | None = fact(
        "capture: the recording's mean, a fraction of full scale (a constant offset)",
        NO_RECORDING,
    )
    clipped_samples: int | None = fact("capture: samples at full scale (clipping)", NO_RECORDING)
    tone_hz: float | None = fact(
        "capture: the frequency of the tone that dominates the recording",
        "nothing was recorded, or no single tone dominates it (silence, noise, speech)",
    )


NO_STRESS = "the lifecycle stress did not run (no --play, --no-stress, or nothing played)"
NO_MEASURE = "the stress did not run, or no cycle got that far"


@dataclass(frozen=True)
class Lifecycle:
    status: str | None = fact(
        "the lifecycle stress: ok (every call worked), failed (a call failed) or not_run",
        "no --play, or a record from a snddiag without the stress",
    )
    reason: str | None = fact(
        "why it did not run, or how many cycles failed", "it did not run, or every cycle worked"
    )
    device: str | None = fact("the playback PCM stressed (hw:0,0)", NO_STRESS)
    cycles: int | None = fact("open..close cycles run", NO_STRESS)
    planned: int | None = fact("cycles planned (fewer ran when the time budget ran out)", NO_STRESS)
    failures: tuple[FailureRecord, ...] | None = fact(
        "each failed call: cycle (from 1), call (open, hw_params, write, start, pause, resume, "
        "drain, drop, close, status), errno (EBUSY, ETIMEDOUT for a wait that never ended), "
        "config, detail",
        NO_STRESS,
    )
    failed_calls: tuple[str, ...] | None = fact(
        "the calls that failed, each once, in order of first failure", NO_STRESS
    )
    failed_errnos: tuple[str, ...] | None = fact(
        "the errno names of the failed calls, each once, in order of first failure (EBUSY, "
        "EINVAL, ETIMEDOUT)",
        NO_STRESS,
    )
    first_failure: str | None = fact(
        "the first failure in one line: cycle, call, errno, configuration and what was seen",
        "the stress did not run, or nothing failed",
    )
    rates_tried: tuple[str, ...] | None = fact(
        "rates the cycles used, in Hz, as text (48000, 44100)", NO_STRESS
    )
    formats_tried: tuple[str, ...] | None = fact(
        "formats the cycles used (S16_LE and the widest offered)", NO_STRESS
    )
    period_frames_tried: tuple[str, ...] | None = fact(
        "period sizes the cycles set, in frames, as text", NO_STRESS
    )
    start_latency_ms: float | None = fact(
        "the longest time from the first write (the start) to the first pointer movement, in "
        "the cycles with the usual 20 ms period (a batch device moves after a whole period)",
        NO_MEASURE,
    )
    pointer_step_frames: int | None = fact(
        "the smallest step of the pointer in the first configuration, in frames", NO_MEASURE
    )
    period_frames: int | None = fact("the first configuration's period, in frames", NO_MEASURE)
    batch: bool | None = fact(
        "every pointer step was a whole number of periods (a batch device, as virtio-snd is)",
        NO_MEASURE,
    )
    drain_ms: float | None = fact(
        "the drain that overran its queued audio most: how long it took", NO_MEASURE
    )
    drain_expected_ms: float | None = fact(
        "the audio queued when that drain began (what it should take)", NO_MEASURE
    )
    drain_overrun_ms: float | None = fact(
        "how much longer than its queued audio that drain took", NO_MEASURE
    )
    pause: str | None = fact(
        "pause and resume: ok, unsupported (the device offers no pause) or None",
        "the stress did not run, or the pause cycle failed or did not run",
    )
    xruns: int | None = fact(
        "cycles in which snddiag itself came too late and the buffer ran dry", NO_STRESS
    )


@dataclass(frozen=True)
class DataPath:
    playback: Stream
    capture: Stream
    lifecycle: Lifecycle
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
        return Stream(*[None] * len(records.fields(Stream)))
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
        peak_dbfs=record.peak_dbfs,
        rms_dbfs=record.rms_dbfs,
        silent=record.silent,
        dc_offset=record.dc_offset,
        clipped_samples=record.clipped_samples,
        tone_hz=record.tone_hz,
    )


def _failure_line(f: FailureRecord) -> str:
    return f"cycle {f.cycle}: {f.call} {f.errno or 'failed'} ({f.config}): {f.detail}"


def _lifecycle(record: LifecycleRecord | None) -> Lifecycle:
    if record is None:
        return Lifecycle(*[None] * len(records.fields(Lifecycle)))
    overrun = (
        round(record.drain_ms - record.drain_expected_ms, 1)
        if record.drain_ms is not None and record.drain_expected_ms is not None
        else None
    )
    return Lifecycle(
        status=record.status,
        reason=record.reason,
        device=record.device,
        cycles=record.cycles,
        planned=record.planned,
        failures=record.failures,
        failed_calls=tuple(dict.fromkeys(f.call for f in record.failures if f.call)),
        failed_errnos=tuple(dict.fromkeys(f.errno for f in record.failures if f.errno)),
        first_failure=_failure_line(record.failures[0]) if record.failures else None,
        rates_tried=tuple(str(r) for r in record.rates_tried),
        formats_tried=record.formats_tried,
        period_frames_tried=tuple(str(p) for p in record.period_frames_tried),
        start_latency_ms=record.start_latency_ms,
        pointer_step_frames=record.pointer_step_frames,
        period_frames=record.period_frames,
        batch=record.batch,
        drain_ms=record.drain_ms,
        drain_expected_ms=record.drain_expected_ms,
        drain_overrun_ms=overrun,
        pause=record.pause,
        xruns=record.xruns,
    )


def read_data_path_record(evidence: Evidence) -> DataPathRecord | None:
    text = evidence.text(DATA_PATH_KEY)
    return parse_data_path(text).value if text is not None else None


def build_data_path(evidence: Evidence) -> DataPath:
    record = read_data_path_record(evidence)
    return DataPath(
        playback=_stream(record.playback if record else None),
        capture=_stream(record.capture if record else None),
        lifecycle=_lifecycle(record.lifecycle if record else None),
        seconds=record.seconds if record else None,
    )
