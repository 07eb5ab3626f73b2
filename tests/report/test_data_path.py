"""The data-path test in the reports: JSON `data_path` as issue 11's contract has it, validated
against the schema, and the terminal's short "Data path" section; on guests captured with --play."""

from __future__ import annotations

import io
import json
from typing import Any

import jsonschema
import pytest

from snddiag.engine.load import default_rule_dirs, load_rules
from snddiag.pipeline import diagnose
from snddiag.report.terminal import render_terminal
from tests.guests import REPO, guest_evidence

RULES = load_rules(default_rule_dirs())
SCHEMA = json.loads((REPO / "snddiag" / "report" / "schema.json").read_text())
PLAYED = [
    "play-wav",
    "play-backend-broken",
    "play-none",
    "play-no-card",
    "play-not-permitted",
    "play-busy",
    "play-xrun",
    "play-slow-clock",
    "play-host-tone",
    "play-no-capture-stream",
    "play-slow-timer",
]
COMMON = ["status", "device", "rate_hz", "format", "channels", "measured_rate_hz", "xruns"]
CONTENT = ["peak_dbfs", "rms_dbfs", "silent", "dc_offset", "clipped_samples", "tone_hz"]


def _document(guest: str) -> dict[str, Any]:
    return diagnose(guest_evidence(guest), RULES).document


@pytest.mark.parametrize("guest", PLAYED)
def test_data_path_has_the_contract_shape(guest: str) -> None:
    doc = _document(guest)
    jsonschema.validate(doc, SCHEMA)
    data_path = doc["data_path"]
    assert list(data_path) == ["playback", "capture", "lifecycle"]
    playback, capture = data_path["playback"], data_path["capture"]
    assert list(playback) == [
        *COMMON[:5],
        "frames_written",
        "frames_consumed",
        *COMMON[5:],
        "reason",
    ]
    assert list(capture) == [
        *COMMON[:5],
        "frames_read",
        "frames_delivered",
        *COMMON[5:],
        "reason",
        *CONTENT,
    ]
    for side in (playback, capture):
        assert (side["reason"] is None) == (side["status"] == "ok"), side


def test_without_play_data_path_is_null_and_no_section() -> None:
    doc = _document("healthy-pci")
    assert doc["data_path"] is None
    jsonschema.validate(doc, SCHEMA)
    stream = io.StringIO()
    render_terminal(doc, stream, color=False)
    assert "Data path" not in stream.getvalue()


def test_a_failed_direction_needs_its_reason_in_the_schema() -> None:
    doc = _document("play-wav")
    doc["data_path"]["capture"]["reason"] = None
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)


def test_terminal_shows_what_each_direction_did() -> None:
    stream = io.StringIO()
    render_terminal(_document("play-wav"), stream, color=False)
    lines = stream.getvalue().splitlines()
    section = lines[lines.index("Data path (--play):") + 1 :]
    assert section[0].startswith("  playback ok on hw:0,0: 48000 frames consumed at 48000 Hz")
    assert "  capture  failed on hw:0,0: the device never delivered a frame" in section


def test_terminal_says_why_nothing_ran() -> None:
    stream = io.StringIO()
    render_terminal(_document("play-no-card"), stream, color=False)
    assert "  playback not run: no ALSA card is bound to virtio_snd" in stream.getvalue()


def test_terminal_shows_what_was_recorded_and_the_stress() -> None:
    stream = io.StringIO()
    render_terminal(_document("play-host-tone"), stream, color=False)
    text = " ".join(stream.getvalue().split())
    assert "recorded peak -6.0 dBFS, RMS -9.0 dBFS, a 440 Hz tone" in text
    assert "stress 9 cycles at 48000/44100 Hz, S16_LE/S32_LE" in text
    assert "1 failed call, first: cycle 7 start ETIMEDOUT (the pointer never moved in 2 s)" in text


def test_terminal_says_digital_silence() -> None:
    stream = io.StringIO()
    render_terminal(_document("play-none"), stream, color=False)
    text = " ".join(stream.getvalue().split())
    assert "recorded digital silence (every sample zero)" in text
    assert "; no call failed" in text


def test_the_lifecycle_in_json_has_its_contract_shape() -> None:
    life = _document("play-slow-timer")["data_path"]["lifecycle"]
    assert life["status"] == "failed"
    assert life["rates_tried"] == [48000, 44100]
    assert {f["call"] for f in life["failures"]} <= {"start", "drain"}
    assert all(f["errno"] == "ETIMEDOUT" for f in life["failures"])
    assert life["start_latency_ms"] > 250
