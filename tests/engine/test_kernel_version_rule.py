"""driver-known-bugs across kernel releases: the old-driver-6-1 guest's evidence as another
release would show it (only the release differs), so the version range is tested at its edges."""

from __future__ import annotations

import pytest

from snddiag.engine import run_rules
from snddiag.engine.load import load_rules
from snddiag.evidence import RELEASE_KEY, UNAME_KEY, Evidence
from snddiag.facts import build_facts
from snddiag.records import replace
from tests.guests import REPO, guest_evidence

RULE = next(r for r in load_rules([REPO / "rules"]) if r.rule_id == "driver-known-bugs")


def _as_release(release: str) -> Evidence:
    evidence = guest_evidence("old-driver-6-1").without([UNAME_KEY])
    entry = evidence.get(RELEASE_KEY)
    assert entry is not None
    evidence.add(replace(entry, data=f"{release}\n".encode()))
    return evidence


@pytest.mark.parametrize(
    ("release", "fires"),
    [
        ("6.1.0-57-amd64", True),
        ("6.1.158", True),
        ("5.10.0-35-amd64", True),
        ("6.5.13", True),
        # Long-term trees whose later releases were not checked for a backport: quiet.
        ("6.6.58-0-lts", False),
        ("5.15.0-91-generic", False),
        ("6.7.0", False),
        ("6.12.95+deb12-amd64", False),
        ("not-a-version", False),
    ],
)
def test_the_releases_it_names(release: str, fires: bool) -> None:
    diagnosis = run_rules([RULE], build_facts(_as_release(release)))
    assert not diagnosis.not_checked
    assert bool(diagnosis.findings) is fires
