"""module-signature-rejected's advice follows the kernel's lockdown state, read from real guests:
locked down (lockdown=integrity), only a signed module helps; not locked down (module
.sig_enforce=1), the boot option is what refuses the module."""

from __future__ import annotations

import pytest

from snddiag.engine.load import load_rules
from snddiag.pipeline import diagnose
from tests.guests import REPO, guest_evidence

LOCKED = "This kernel is locked down (integrity)"
NOT_LOCKED = "This kernel is not locked down"


@pytest.mark.parametrize(
    ("guest", "shown", "hidden"),
    [("unsigned-lockdown", LOCKED, NOT_LOCKED), ("unsigned-sig-enforce", NOT_LOCKED, LOCKED)],
)
def test_signature_advice_follows_the_lockdown_state(guest: str, shown: str, hidden: str) -> None:
    document = diagnose(guest_evidence(guest), load_rules([REPO / "rules"])).document
    finding = next(f for f in document["findings"] if f["rule"] == "module-signature-rejected")
    steps = " ".join(step["step"] for step in finding["remediation"])
    assert shown in steps
    assert hidden not in steps
    assert "sign-file" in steps
