"""Each captured guest, diagnosed offline, still gives the verdict its lab scenario expects.

The fixtures are what real guests produced (tests/guest/capture-fixtures). When the collection
or the rules change, a live guest test notices at once; this notices a fixture that was not
captured again, so the rule tests built on it do not test an older snddiag's evidence.
"""

from __future__ import annotations

import pytest

from snddiag.engine import run_rules
from snddiag.engine.load import load_rules
from snddiag.facts import build_facts
from tests.guest.scenarios import LOADED_HOST, PLAY_CAPTURE, PLAY_SCENARIOS, SCENARIOS, Scenario
from tests.guests import REPO, captured_guests, guest_evidence

RULES = load_rules([REPO / "rules"])
CAPTURED = set(captured_guests())
LIVE = [s for s in SCENARIOS if s.name in CAPTURED]
PLAYED = [s for s in PLAY_SCENARIOS if s.name in PLAY_CAPTURE]


def _fired(scenario: Scenario) -> set[str]:
    diagnosis = run_rules(RULES, build_facts(guest_evidence(scenario.name)))
    return {finding.rule.rule_id for finding in diagnosis.findings}


@pytest.mark.parametrize("scenario", LIVE, ids=[s.name for s in LIVE])
def test_a_captured_guest_gives_its_scenarios_findings(scenario: Scenario) -> None:
    assert _fired(scenario) == set(scenario.expect_rules)


@pytest.mark.parametrize("scenario", PLAYED, ids=[s.name for s in PLAYED])
def test_a_captured_play_gives_its_scenarios_findings(scenario: Scenario) -> None:
    fired = _fired(scenario)
    assert set(scenario.expect_rules) <= fired
    assert fired - set(scenario.expect_rules) <= LOADED_HOST | scenario.host_timing_rules


# Captured outside the lab's scenarios: the Firecracker microVM the lab itself runs on.
NOT_A_SCENARIO = {"firecracker-no-modules"}


def test_every_capture_is_checked() -> None:
    checked = {s.name for s in LIVE} | {s.name for s in PLAYED}
    assert CAPTURED - checked == NOT_A_SCENARIO
    assert set(PLAY_CAPTURE) <= CAPTURED
