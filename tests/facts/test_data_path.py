"""data_path.*: the data-path test's record (snddiag --play), on guests the lab captured with it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from snddiag.collect.data_path import DATA_PATH_KEY
from snddiag.collect.pcm import STALL_S
from snddiag.collect.pcm_open import busy_reason, permission_reason
from snddiag.collect.pcm_pointer import stall_reason
from snddiag.facts.data_path import DataPathCause, build_data_path, data_path_cause
from snddiag.parse.data_path import StreamRecord, parse_data_path
from tests.facts.kit import evidence_of
from tests.guests import guest_evidence


def test_without_play_every_fact_is_none() -> None:
    facts = build_data_path(guest_evidence("healthy-pci"))
    assert facts.seconds is None
    assert facts.playback.status is facts.playback.cause is facts.capture.xruns is None


def test_none_backend_works_both_ways_at_48k() -> None:
    facts = build_data_path(guest_evidence("play-none"))
    for stream in (facts.playback, facts.capture):
        assert (stream.status, stream.cause, stream.reason) == ("ok", DataPathCause.NONE, None)
        assert (stream.device, stream.rate_hz, stream.format, stream.channels) == (
            "hw:0,0",
            48000,
            "S16_LE",
            2,
        )
        assert stream.frames_transferred == 48000
        assert stream.xruns == 0
    assert facts.playback.rate_error_percent is not None
    assert facts.playback.rate_error_percent < 5
    # Digital silence: the capture's record has no peak at all.
    record = parse_data_path(guest_evidence("play-none").text(DATA_PATH_KEY) or "").value
    assert record is not None
    assert record.capture.peak_dbfs is None


def test_wav_backend_plays_and_never_records() -> None:
    facts = build_data_path(guest_evidence("play-wav"))
    assert facts.playback.cause is DataPathCause.NONE
    assert facts.capture.cause is DataPathCause.STALLED
    assert facts.capture.frames_moved == 0
    assert facts.capture.measured_rate_hz is facts.capture.rate_error_percent is None
    record = parse_data_path(guest_evidence("play-wav").text(DATA_PATH_KEY) or "").value
    assert record is not None
    assert record.capture.state == "running"  # started, and the pointer stayed put


def test_broken_backend_stalls_both_ways_within_seconds() -> None:
    evidence = guest_evidence("play-backend-broken")
    facts = build_data_path(evidence)
    assert facts.playback.cause is facts.capture.cause is DataPathCause.STALLED
    record = parse_data_path(evidence.text(DATA_PATH_KEY) or "").value
    assert record is not None
    for stream in (record.playback, record.capture):
        assert stream.elapsed_s is not None
        assert stream.elapsed_s < STALL_S + 3.0  # plus closing a stream nobody served


def test_no_card_is_not_run() -> None:
    facts = build_data_path(guest_evidence("play-no-card"))
    assert facts.playback.cause is facts.capture.cause is DataPathCause.NOT_RUN
    assert facts.playback.reason == "no ALSA card is bound to virtio_snd"


def test_permission_names_the_group() -> None:
    facts = build_data_path(guest_evidence("play-not-permitted"))
    assert facts.playback.cause is facts.capture.cause is DataPathCause.PERMISSION
    assert facts.playback.group == facts.capture.group == "audio"


def test_busy_names_the_holder() -> None:
    facts = build_data_path(guest_evidence("play-busy"))
    assert facts.playback.cause is DataPathCause.BUSY
    assert facts.capture.cause is DataPathCause.NONE
    assert "held by python3" in (facts.playback.reason or "")


def test_stopped_player_counts_an_xrun() -> None:
    facts = build_data_path(guest_evidence("play-xrun"))
    assert facts.playback.xruns is not None
    assert facts.playback.xruns >= 1


def test_slow_guest_clock_measures_a_fast_rate() -> None:
    facts = build_data_path(guest_evidence("play-slow-clock"))
    assert facts.playback.measured_rate_hz is not None
    assert facts.playback.measured_rate_hz > 48000 * 1.1


def _failed(reason: str) -> StreamRecord:
    return StreamRecord(status="failed", reason=reason)


def test_causes_read_the_reasons_as_the_collector_words_them(tmp_path: Path) -> None:
    # Built with the functions that word them, so a rewording there fails here.
    node = tmp_path / "pcmC0D0p"
    node.write_text("")
    st = os.stat(node)
    cases = {
        stall_reason(0, 48000, 2.1, "consumed"): DataPathCause.STALLED,
        stall_reason(0, 48000, 2.1, "delivered"): DataPathCause.STALLED,
        stall_reason(960, 48000, 3.0, "consumed"): DataPathCause.SHORT,
        busy_reason(node, [(42, "pipewire")]): DataPathCause.BUSY,
        busy_reason(node, []): DataPathCause.BUSY,
        permission_reason(node, st): DataPathCause.PERMISSION,
        f"no such PCM node {node}": DataPathCause.NO_DEVICE,
        "unsupported format: the device offers only S8": DataPathCause.SETUP,
        "the stream failed: Input/output error": DataPathCause.OTHER,
    }
    for reason, cause in cases.items():
        assert data_path_cause(_failed(reason)) is cause, reason


def test_a_foreign_record_reads_as_not_run_facts() -> None:
    garbage = {DATA_PATH_KEY: json.dumps({"playback": {"status": "maybe"}, "capture": {}})}
    assert build_data_path(evidence_of(garbage)).playback.status is None
    odd = {"status": "failed", "rate_hz": "48000", "xruns": True, "measured_rate_hz": "fast"}
    doc = {"playback": odd, "capture": {"status": "not_run"}}
    facts = build_data_path(evidence_of({DATA_PATH_KEY: json.dumps(doc)}))
    assert facts.playback.cause is DataPathCause.OTHER
    assert facts.playback.rate_hz is facts.playback.xruns is None
    assert facts.playback.rate_error_percent is None


def test_a_host_microphone_is_heard_with_its_tone() -> None:
    # The lab's host PulseAudio: a null sink's monitor with a 440 Hz sine at -6 dBFS.
    capture = build_data_path(guest_evidence("play-host-tone")).capture
    assert (capture.status, capture.silent) == ("ok", False)
    assert capture.peak_dbfs == pytest.approx(-6.0, abs=0.5)
    assert capture.rms_dbfs == pytest.approx(-9.0, abs=0.5)
    assert capture.tone_hz == pytest.approx(440.0, abs=2.0)
    assert capture.clipped_samples == 0


def test_the_none_backend_records_digital_silence() -> None:
    capture = build_data_path(guest_evidence("play-none")).capture
    assert (capture.status, capture.silent, capture.frames_moved) == ("ok", True, 48000)
    assert capture.peak_dbfs is capture.rms_dbfs is capture.tone_hz is None
    assert build_data_path(guest_evidence("play-none")).playback.silent is None


def test_a_card_without_capture_has_nothing_to_record() -> None:
    capture = build_data_path(guest_evidence("play-no-capture-stream")).capture
    assert (capture.status, capture.cause) == ("not_run", DataPathCause.NOT_RUN)
    assert capture.reason == "card 0 (virtio_snd) has no capture PCM"
    assert capture.silent is None
