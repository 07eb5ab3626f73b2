"""CAP_SYSLOG from the effective capability mask recorded at collect time."""

from __future__ import annotations

import pytest

from snddiag.collect import _capabilities
from snddiag.facts import build_facts
from snddiag.facts.system import CAP_SYSLOG, build_system, has_capability
from tests.facts.kit import evidence_of
from tests.guests import guest_evidence


@pytest.mark.parametrize(
    ("mask", "has"),
    [
        ("000001fffeffffff", True),  # this machine's root: all but CAP_SYS_RESOURCE
        ("000001fbfeffffff", False),  # the same without CAP_SYSLOG (bit 34)
        ("0000000000000000", False),  # an unprivileged user
        ("", None),
        ("not hex", None),
    ],
)
def test_cap_syslog_from_the_mask(mask: str, has: bool | None) -> None:
    assert has_capability(mask, CAP_SYSLOG) is has
    assert build_system(evidence_of(meta={"cap_eff": mask})).cap_syslog is has


def test_captured_guests_record_it() -> None:
    assert build_facts(guest_evidence("firecracker-no-modules")).system.cap_syslog is True
    assert build_facts(guest_evidence("empty-module-tree")).system.cap_syslog is True
    assert build_facts(guest_evidence("healthy-pci")).system.cap_syslog is None  # older capture


def test_collect_records_the_mask_of_this_process() -> None:
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(line for line in status if line.startswith("CapEff:"))
    assert _capabilities() == {"cap_eff": line.split(":", 1)[1].strip()}
