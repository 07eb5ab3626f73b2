"""The lifecycle stress without a sound card: what a run adds up to, every failure kept with its
call, errno and cycle, and the record read back from JSON of any shape."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from snddiag.collect import pcm_lifecycle as life
from snddiag.collect.pcm import Outcome
from snddiag.parse.data_path import parse_data_path
from snddiag.records import asdict

S16, S32 = life.FORMAT_S16, 10


def _cycle(
    period: int = 960, latency: float = 31.0, steps: tuple[int, ...] = (960, 960)
) -> life._Cycle:
    return life._Cycle(
        period_frames=period,
        buffer_frames=period * 8,
        start_latency_ms=latency,
        steps=list(steps),
        drain_ms=150.0,
        drain_expected_ms=140.0,
    )


def test_a_clean_run_reports_its_measurements() -> None:
    plans = [life.Plan(48000, S16), life.Plan(44100, S32), life.Plan(48000, S16, 30720)]
    seen = [
        (plans[0], _cycle()),
        (plans[1], _cycle(882, 40.0, (882,))),
        (plans[2], _cycle(30720, 650.0, (30720,))),
    ]
    result = life._summary("hw:0,0", plans, seen, [], 4.2)
    assert (result.status, result.cycles, result.planned, result.failures) == (Outcome.OK, 3, 3, ())
    assert result.rates_tried == (48000, 44100)
    assert result.formats_tried == ("S16_LE", "S32_LE")
    assert result.period_frames_tried == (882, 960, 30720)
    # The large-period cycle first moves after its 640 ms period: not a slow start.
    assert result.start_latency_ms == 40.0
    assert (result.pointer_step_frames, result.period_frames, result.batch) == (960, 960, True)
    assert (result.drain_ms, result.drain_expected_ms) == (150.0, 140.0)


def test_a_step_smaller_than_a_period_is_not_batch() -> None:
    plan = life.Plan(48000, S16)
    result = life._summary("hw:0,0", [plan], [(plan, _cycle(steps=(480, 480)))], [], 1.0)
    assert (result.pointer_step_frames, result.batch) == (480, False)


def test_failures_keep_call_errno_and_cycle() -> None:
    plan = life.Plan(48000, S16)
    failure = life.Failure(2, "drain", "ETIMEDOUT", plan.label(), "the drain of 140 ms did not end")
    seen = [(plan, _cycle()), (plan, life._Cycle())]
    result = life._summary("hw:0,0", [plan, plan], seen, [failure], 5.0)
    assert result.status is Outcome.FAILED
    assert result.reason == "1 of 2 cycles failed"
    assert result.failures == (failure,)


def test_an_open_that_fails_is_a_failure_of_its_cycle(tmp_path: Path) -> None:
    seen, failure = life._cycle(tmp_path / "pcmC0D0p", 3, life.Plan(44100, S16), 0)
    assert failure is not None
    assert (failure.cycle, failure.call, failure.errno) == (3, "open", "ENOENT")
    assert failure.config == "44100 Hz S16_LE"
    assert seen.start_latency_ms is None


def test_a_busy_reopen_names_the_holder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    node = tmp_path / "pcmC0D0p"
    node.write_bytes(b"")

    def busy(path: object, flags: int) -> int:
        raise OSError(errno.EBUSY, "Device or resource busy")

    monkeypatch.setattr(life.os, "open", busy)
    monkeypatch.setattr(life, "holders", lambda seen: [(412, "aplay")] if seen == node else [])
    _, failure = life._cycle(node, 2, life.Plan(48000, S16), 0)
    assert failure is not None
    assert (failure.cycle, failure.call, failure.errno) == (2, "open", "EBUSY")
    assert "held by aplay (pid 412)" in failure.detail
    # Taken before the first cycle: the open that reads the device's parameters is cycle 1's.
    result = life.stress(node, "hw:0,0")
    assert (result.status, result.cycles) == (Outcome.FAILED, 1)
    assert [(f.cycle, f.call, f.errno) for f in result.failures] == [(1, "open", "EBUSY")]
    assert result.reason is not None and "held by aplay (pid 412)" in result.reason


def test_without_a_node_the_stress_fails_with_the_reason(tmp_path: Path) -> None:
    result = life.stress(tmp_path / "pcmC0D0p", "hw:0,0")
    assert result.status is Outcome.FAILED
    assert result.reason is not None and result.reason.startswith("cannot open ")
    assert [(f.cycle, f.call, f.errno) for f in result.failures] == [(1, "open", "ENOENT")]


def test_plan_labels_name_rate_format_period_and_pause() -> None:
    assert life.Plan(48000, S16).label() == "48000 Hz S16_LE"
    assert life.Plan(48000, S32, 240).label() == "48000 Hz S32_LE, period 240"
    assert life.Plan(44100, S16, pause=True).label() == "44100 Hz S16_LE, pause"
    assert life._errno_name(errno.EBUSY) == "EBUSY"
    assert life._errno_name(None) is None


def _record(lifecycle: object) -> str:
    stream = {"status": "ok"}
    return json.dumps({"playback": stream, "capture": stream, "lifecycle": lifecycle})


def test_the_record_reads_back_as_written() -> None:
    plan = life.Plan(48000, S16)
    failure = life.Failure(4, "start", "ETIMEDOUT", plan.label(), "the pointer never moved in 2 s")
    result = life._summary("hw:0,0", [plan], [(plan, _cycle())], [failure], 2.0)
    raw = {**asdict(result), "status": result.status.value}
    record = parse_data_path(_record(raw)).value
    assert record is not None and record.lifecycle is not None
    assert record.lifecycle.status == "failed"
    assert [(f.cycle, f.call, f.errno) for f in record.lifecycle.failures] == [
        (4, "start", "ETIMEDOUT")
    ]
    assert record.lifecycle.rates_tried == (48000,)


def test_a_foreign_lifecycle_record_loses_only_what_is_wrong() -> None:
    odd = {
        "status": "failed",
        "cycles": "nine",
        "failures": [{"cycle": True, "call": 7}, "not a failure", *[{"call": "drain"}] * 500],
        "rates_tried": [48000, "44100", True],
        "batch": 1,
    }
    record = parse_data_path(_record(odd)).value
    assert record is not None and record.lifecycle is not None
    assert record.lifecycle.cycles is None and record.lifecycle.batch is None
    assert record.lifecycle.rates_tried == (48000,)
    failures = record.lifecycle.failures
    assert len(failures) <= 100
    assert (failures[0].cycle, failures[0].call) == (None, None)
    for junk in ({"status": "maybe"}, None):
        parsed = parse_data_path(_record(junk)).value
        assert parsed is not None and parsed.lifecycle is None
