from __future__ import annotations

import pytest

from snddiag.parse.lockdown import parse_lockdown
from tests.guests import guest_text


@pytest.mark.parametrize(
    ("guest", "mode"), [("unsigned-lockdown", "integrity"), ("unsigned-sig-enforce", "none")]
)
def test_lockdown_of_captured_guests(guest: str, mode: str) -> None:
    assert parse_lockdown(guest_text(guest, "sys/kernel/security/lockdown")).value == mode


@pytest.mark.parametrize(
    "junk", ["", "none integrity confidentiality", "[none] [integrity]", "[bogus]", "\x00["]
)
def test_lockdown_without_one_known_mode_in_brackets_is_none(junk: str) -> None:
    parsed = parse_lockdown(junk)
    assert parsed.value is None
    assert parsed.unparsed == ((junk.splitlines() or [""])[0],) if junk else parsed.unparsed == ()
