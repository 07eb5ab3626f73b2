"""The terminal report: verdict first, colour only when asked, no padding, no markup from data."""

from __future__ import annotations

import io

import pytest

from snddiag.engine.load import default_rule_dirs, load_rules
from snddiag.pipeline import diagnose
from snddiag.report.terminal import render_terminal
from tests.guests import guest_evidence

RULES = load_rules(default_rule_dirs())


def _render(guest: str, color: bool | None) -> str:
    stream = io.StringIO()
    render_terminal(diagnose(guest_evidence(guest), RULES).document, stream, color=color)
    return stream.getvalue()


@pytest.mark.parametrize("guest", ["healthy-pci", "legacy-mmio", "non-root-dmesg-restrict"])
def test_plain_report_has_no_escapes_and_no_trailing_spaces(guest: str) -> None:
    text = _render(guest, color=False)
    assert text.startswith("snddiag: ")
    assert "\x1b[" not in text
    assert all(line == line.rstrip() for line in text.splitlines())


def test_colour_when_forced() -> None:
    assert "\x1b[" in _render("legacy-mmio", color=True)


def test_no_color_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\x1b[" not in _render("legacy-mmio", color=None)


def test_findings_come_in_severity_order() -> None:
    text = _render("non-root-dmesg-restrict", color=False)
    assert text.index("WARNING") < text.index("INFO")
