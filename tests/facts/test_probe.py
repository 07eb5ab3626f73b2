"""probe.*: the failure, its error, and its cause, from the driver's own messages."""

from __future__ import annotations

import re
import time

import pytest

from snddiag.facts import build_facts
from snddiag.facts.probe import (
    _BAD_PARAMETER,
    _LEGACY,
    _PROBE_FAILED,
    _TIMEOUT,
    Probe,
    ProbeCause,
    build_probe,
)
from snddiag.parse.kmsg import KernelLine
from tests.guests import guest_evidence

FAILED_NEW = "virtio_snd virtio2: probe with driver virtio_snd failed with error {}"
FAILED_OLD = "virtio_snd: probe of virtio0 failed with error {}"


@pytest.mark.parametrize(
    ("guest", "cause", "code"),
    [
        ("healthy-pci", ProbeCause.NONE, None),
        ("legacy-mmio", ProbeCause.LEGACY_TRANSPORT, -22),
        ("bad-module-param", ProbeCause.BAD_PARAMETER, -22),
        ("jacks-probe-failure", ProbeCause.NOT_SUPPORTED, -95),
        ("non-root-dmesg-restrict", None, None),
    ],
)
def test_cause_on_captured_guests(guest: str, cause: ProbeCause | None, code: int | None) -> None:
    probe = build_facts(guest_evidence(guest)).probe
    assert (probe.cause, probe.error_code) == (cause, code)


def _probe(*texts: str) -> Probe:
    return build_probe(tuple(KernelLine(None, text) for text in texts))


@pytest.mark.parametrize(
    ("lines", "cause"),
    [
        (["virtio_snd virtio0: device does not comply with spec version 1.x"], "legacy-transport"),
        (["virtio_snd virtio0: msg_timeout_ms value cannot be zero"], "bad-parameter"),
        (
            ["virtio_snd virtio0: invalid range [1 16] of the number of PCM periods"],
            "bad-parameter",
        ),
        (
            ["virtio_snd virtio0: invalid range [0 80] of the size of the PCM period"],
            "bad-parameter",
        ),
        (["virtio_snd virtio0: pcm_buffer_ms(=10) value cannot be < 20 ms"], "bad-parameter"),
        (["virtio_snd virtio0: pcm_period_ms_max(=80) value cannot be > 5 ms"], "bad-parameter"),
        (
            ["virtio_snd virtio0: control message (0x00000100) timeout", FAILED_NEW.format(-110)],
            "timeout",
        ),
        ([FAILED_OLD.format(-110)], "timeout"),
        ([FAILED_NEW.format(-95)], "not-supported"),
        ([FAILED_OLD.format(-5)], "other"),
        (["virtio_snd virtio0: configuration access disabled", FAILED_NEW.format(-22)], "other"),
        (["virtio_snd virtio0: control message (0x00000100) timeout"], "none"),  # not at probe
        (["virtio_snd: loaded"], "none"),
    ],
)
def test_cause_from_the_drivers_messages(lines: list[str], cause: str) -> None:
    probe = _probe(*lines)
    assert probe.cause == cause
    assert str(probe.cause) == cause


def test_error_name_and_the_last_failure_wins() -> None:
    probe = build_probe(
        (KernelLine(1.0, FAILED_OLD.format(-22)), KernelLine(2.0, FAILED_NEW.format(-12)))
    )
    assert (probe.failed, probe.error_code, probe.error_name) == (True, -12, "ENOMEM")
    assert build_probe((KernelLine(None, FAILED_NEW.format(-7)),)).error_name == "unknown"


def test_only_the_drivers_lines_are_kept() -> None:
    probe = build_probe(
        (
            KernelLine(None, "virtio-snd: x"),
            KernelLine(None, "e1000: up"),
            KernelLine(None, "virtio_snd y"),
        )
    )
    assert probe.messages == ("virtio-snd: x", "virtio_snd y")
    assert probe.text == "virtio-snd: x\nvirtio_snd y"
    assert (probe.failed, probe.cause) == (False, ProbeCause.NONE)


def test_an_unread_log_leaves_every_probe_fact_none() -> None:
    assert set(vars(build_probe(None)).values()) == {None}


# Near-misses repeated over a 400 KB line: a backtracking search that rescans from every start
# is quadratic here and would take minutes.
NEAR_MISSES = [
    "invalid range [1 2",
    "invalid range [1 2] of the",
    "invalid range [",
    "value cannot b",
    "control message (0x0000",
    "virtio_snd virtio1: probe with driver virtio_snd failed with error ",
    "virtio_snd: probe of virtio1 ",
    "does not comply with spec version 1",
]


@pytest.mark.parametrize("pattern", [_BAD_PARAMETER, _LEGACY, _PROBE_FAILED, _TIMEOUT])
@pytest.mark.parametrize("miss", NEAR_MISSES)
def test_probe_expressions_are_linear_on_a_400_kb_line(pattern: re.Pattern[str], miss: str) -> None:
    line = (miss * (400_000 // len(miss) + 1))[:400_000]
    started = time.perf_counter()
    pattern.search(line)
    assert time.perf_counter() - started < 0.5


def test_a_400_kb_log_line_gives_its_cause_quickly() -> None:
    line = "virtio_snd virtio0: " + "invalid range [1 " * 25_000
    started = time.perf_counter()
    assert _probe(line, FAILED_NEW.format(-22)).cause == "other"
    assert time.perf_counter() - started < 1.0
