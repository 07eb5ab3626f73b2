"""The data-path test's record (`probe/data-path`, written by `snddiag --play`).

Layout, one JSON object (collect/data_path.py):
    {"playback": {"status": "ok", "device": "hw:0,0", "rate_hz": 48000, "format": "S16_LE",
                  "channels": 2, "frames_written": 48000, "frames_consumed": 48000,
                  "measured_rate_hz": 47990.0, "xruns": 0, "reason": null, ...},
     "capture": {... "frames_read", "frames_delivered", "peak_dbfs" ...}, "seconds": 2.61}
A bundle may come from anywhere: every value is checked for its type, a wrong one reads as None.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from snddiag.parse import Parsed

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


@dataclass(frozen=True)
class DataPathRecord:
    playback: StreamRecord
    capture: StreamRecord
    seconds: float | None


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
    return Parsed(DataPathRecord(playback, capture, _number(value, "seconds")))
