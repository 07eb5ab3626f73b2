"""The data-path test's record (`probe/data-path`, written by `snddiag --play`).

Layout, one JSON object (collect/data_path.py):
    {"playback": {"status": "ok", "device": "hw:0,0", "rate_hz": 48000, "format": "S16_LE",
                  "channels": 2, "frames_written": 48000, "frames_consumed": 48000,
                  "measured_rate_hz": 47990.0, "xruns": 0, "reason": null, ...},
     "capture": {... "frames_read", "frames_delivered", "peak_dbfs", "rms_dbfs", "silent",
                 "dc_offset", "clipped_samples", "tone_hz" ...},
     "lifecycle": {"status": "ok", "cycles": 9, "failures": [{"cycle": 4, "call": "drain",
                   "errno": "ETIMEDOUT", "config": "48000 Hz S16_LE", "detail": "..."}],
                   "rates_tried": [48000, 44100], "start_latency_ms": 31.0, ...},
     "seconds": 2.61}
A record without "lifecycle" (an older snddiag, or --no-stress before it was recorded) parses
with lifecycle None.
A bundle may come from anywhere: every value is checked for its type, a wrong one reads as None.
"""

from __future__ import annotations

import json
from typing import Any

from snddiag.parse import Parsed
from snddiag.records import dataclass

STATUSES = frozenset({"ok", "failed", "not_run"})


@dataclass(frozen=True)
class StreamRecord:
    """One direction as recorded; `frames_done` is what snddiag wrote or read, `frames_moved`
    what the device consumed or delivered (its hardware pointer)."""

    status: str
    device: str | None = None
    rate_hz: int | None = None
    format: str | None = None
    channels: int | None = None
    frames_done: int | None = None
    frames_moved: int | None = None
    measured_rate_hz: float | None = None
    xruns: int | None = None
    reason: str | None = None
    state: str | None = None
    elapsed_s: float | None = None
    peak_dbfs: float | None = None
    rms_dbfs: float | None = None
    silent: bool | None = None
    dc_offset: float | None = None
    clipped_samples: int | None = None
    tone_hz: float | None = None


@dataclass(frozen=True)
class FailureRecord:
    """One call of the lifecycle stress that failed."""

    cycle: int | None
    call: str | None
    errno: str | None
    config: str | None
    detail: str | None


@dataclass(frozen=True)
class LifecycleRecord:
    """The lifecycle stress (collect/pcm_lifecycle.py) as recorded."""

    status: str
    device: str | None = None
    cycles: int | None = None
    planned: int | None = None
    failures: tuple[FailureRecord, ...] = ()
    rates_tried: tuple[int, ...] = ()
    formats_tried: tuple[str, ...] = ()
    period_frames_tried: tuple[int, ...] = ()
    start_latency_ms: float | None = None
    pointer_step_frames: int | None = None
    period_frames: int | None = None
    batch: bool | None = None
    drain_ms: float | None = None
    drain_expected_ms: float | None = None
    pause: str | None = None
    xruns: int | None = None
    reason: str | None = None
    elapsed_s: float | None = None


@dataclass(frozen=True)
class DataPathRecord:
    playback: StreamRecord
    capture: StreamRecord
    seconds: float | None
    lifecycle: LifecycleRecord | None = None


def _text(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    return value if isinstance(value, str) else None


def _int(raw: dict[str, Any], key: str) -> int | None:
    value = raw.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(raw: dict[str, Any], key: str) -> float | None:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _bool(raw: dict[str, Any], key: str) -> bool | None:
    value = raw.get(key)
    return value if isinstance(value, bool) else None


def _stream(raw: Any, done: str, moved: str) -> StreamRecord | None:
    if not isinstance(raw, dict) or raw.get("status") not in STATUSES:
        return None
    return StreamRecord(
        status=raw["status"],
        device=_text(raw, "device"),
        rate_hz=_int(raw, "rate_hz"),
        format=_text(raw, "format"),
        channels=_int(raw, "channels"),
        frames_done=_int(raw, done),
        frames_moved=_int(raw, moved),
        measured_rate_hz=_number(raw, "measured_rate_hz"),
        xruns=_int(raw, "xruns"),
        reason=_text(raw, "reason"),
        state=_text(raw, "state"),
        elapsed_s=_number(raw, "elapsed_s"),
        peak_dbfs=_number(raw, "peak_dbfs"),
        rms_dbfs=_number(raw, "rms_dbfs"),
        silent=_bool(raw, "silent"),
        dc_offset=_number(raw, "dc_offset"),
        clipped_samples=_int(raw, "clipped_samples"),
        tone_hz=_number(raw, "tone_hz"),
    )


MAX_FAILURES = 100
"""A record from anywhere may list any number of failures; the stress itself makes a few."""


def _list(raw: dict[str, Any], key: str, kind: type) -> tuple[Any, ...]:
    value = raw.get(key)
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value[:MAX_FAILURES] if isinstance(v, kind) and not isinstance(v, bool))


def _failure(raw: dict[str, Any]) -> FailureRecord:
    return FailureRecord(
        cycle=_int(raw, "cycle"),
        call=_text(raw, "call"),
        errno=_text(raw, "errno"),
        config=_text(raw, "config"),
        detail=_text(raw, "detail"),
    )


def _lifecycle(raw: Any) -> LifecycleRecord | None:
    if not isinstance(raw, dict) or raw.get("status") not in STATUSES:
        return None
    return LifecycleRecord(
        status=raw["status"],
        device=_text(raw, "device"),
        cycles=_int(raw, "cycles"),
        planned=_int(raw, "planned"),
        failures=tuple(_failure(f) for f in _list(raw, "failures", dict)),
        rates_tried=_list(raw, "rates_tried", int),
        formats_tried=_list(raw, "formats_tried", str),
        period_frames_tried=_list(raw, "period_frames_tried", int),
        start_latency_ms=_number(raw, "start_latency_ms"),
        pointer_step_frames=_int(raw, "pointer_step_frames"),
        period_frames=_int(raw, "period_frames"),
        batch=_bool(raw, "batch"),
        drain_ms=_number(raw, "drain_ms"),
        drain_expected_ms=_number(raw, "drain_expected_ms"),
        pause=_text(raw, "pause"),
        xruns=_int(raw, "xruns"),
        reason=_text(raw, "reason"),
        elapsed_s=_number(raw, "elapsed_s"),
    )


def parse_data_path(text: str) -> Parsed[DataPathRecord | None]:
    """The record of both directions; None when it is not one (garbage, a truncated copy)."""
    try:
        value = json.loads(text)
    except ValueError:
        return Parsed(None, (text[:200],))
    if not isinstance(value, dict):
        return Parsed(None, (text[:200],))
    playback = _stream(value.get("playback"), "frames_written", "frames_consumed")
    capture = _stream(value.get("capture"), "frames_read", "frames_delivered")
    if playback is None or capture is None:
        return Parsed(None, (text[:200],))
    return Parsed(
        DataPathRecord(
            playback, capture, _number(value, "seconds"), _lifecycle(value.get("lifecycle"))
        )
    )
