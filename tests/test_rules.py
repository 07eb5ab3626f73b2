"""Every rule's tests (rules/**/<id>.test.yaml) on evidence captured from the lab's guests."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from snddiag.engine import Diagnosis, run_rules
from snddiag.engine.load import Rule, Severity, load_rules
from snddiag.evidence import Evidence
from snddiag.facts import build_facts
from tests.guests import REPO, captured_guests, guest_evidence

RULES_DIR = REPO / "rules"
RULES = load_rules([RULES_DIR])
BY_ID = {r.rule_id: r for r in RULES}
CASE_KEYS = {"guest", "fires", "checked", "drop", "title", "after"}


def _cases() -> list[tuple[str, int, dict[str, Any]]]:
    cases = []
    for path in sorted(RULES_DIR.rglob("*.test.yaml")):
        rule_id = path.name.removesuffix(".test.yaml")
        for number, case in enumerate(yaml.safe_load(path.read_text()) or [], start=1):
            cases.append((rule_id, number, case))
    return cases


CASES = _cases()


def _evidence(case: dict[str, Any]) -> Evidence:
    return guest_evidence(case["guest"]).without(case.get("drop", ()))


def _diagnosis(rule: Rule, case: dict[str, Any]) -> Diagnosis:
    return run_rules([rule], build_facts(_evidence(case)))


def _outcome(diagnosis: Diagnosis) -> bool | None:
    if diagnosis.not_checked:
        return None
    return bool(diagnosis.findings)


@pytest.mark.parametrize(
    ("rule_id", "number", "case"), CASES, ids=[f"{r}#{n}-{c['guest']}" for r, n, c in CASES]
)
def test_rule_case(rule_id: str, number: int, case: dict[str, Any]) -> None:
    assert set(case) <= CASE_KEYS, f"unknown keys in case {number}: {set(case) - CASE_KEYS}"
    rule = BY_ID[rule_id]
    diagnosis = _diagnosis(rule, case)
    outcome = _outcome(diagnosis)
    if case.get("checked") is False:
        assert outcome is None, f"{rule_id} should not be checkable on {case}"
    else:
        assert outcome is not None, f"{rule_id} could not be checked on {case}"
        assert outcome is case["fires"], f"{rule_id} on {case}: fired={outcome}"
    if "after" in case:
        # The rule fires, and with the rule that makes it moot beside it, follows that one.
        assert case.get("fires") is True, f"{rule_id} case {number}: 'after' needs fires: true"
        both = run_rules([rule, BY_ID[case["after"]]], build_facts(_evidence(case)))
        order = [(f.rule.rule_id, f.moot_because) for f in both.findings]
        assert order == [(case["after"], None), (rule_id, case["after"])], order
    if "title" in case:
        # The title as the report prints it: filled in by the engine, for a finding or a rule
        # that could not be checked.
        shown = [f.title for f in diagnosis.findings] + [n.title for n in diagnosis.not_checked]
        assert shown, f"{rule_id} case {number}: a quiet case has no title to assert"
        assert shown == [case["title"]], f"{rule_id} case {number}: title {shown[0]!r}"


def test_every_rule_has_a_firing_and_a_quiet_case() -> None:
    for rule in RULES:
        mine = [c for r, _n, c in CASES if r == rule.rule_id]
        assert any(c.get("fires") is True for c in mine), f"{rule.rule_id}: no firing case"
        assert any(c.get("fires") is False for c in mine), f"{rule.rule_id}: no quiet case"


def test_every_test_file_names_a_rule() -> None:
    for path in RULES_DIR.rglob("*.test.yaml"):
        assert path.name.removesuffix(".test.yaml") in BY_ID, path


def test_rule_ids_equal_file_stems_and_are_unique() -> None:
    stems = [p.stem for p in RULES_DIR.rglob("*.yaml") if not p.name.endswith(".test.yaml")]
    assert len(stems) == len(set(stems))
    assert sorted(stems) == sorted(BY_ID)


def test_cases_name_captured_guests() -> None:
    known = set(captured_guests())
    for rule_id, number, case in CASES:
        assert case["guest"] in known, f"{rule_id} case {number}: unknown guest {case['guest']}"


HEALTHY_GUESTS = (
    "healthy-pci",
    "modern-mmio",
    "busybox-tools",
    "arm-healthy-pci",
    "arm-healthy-pci-uefi",
    "arm-modern-mmio",
    "arm-modern-mmio-uefi",
    "session-healthy",
    "session-bookworm",
)


@pytest.mark.parametrize("guest", HEALTHY_GUESTS)
def test_healthy_guests_have_no_error_or_warning(guest: str) -> None:
    diagnosis = run_rules(RULES, build_facts(guest_evidence(guest)))
    loud = [f.rule.rule_id for f in diagnosis.findings if f.rule.severity is not Severity.INFO]
    assert loud == []
    assert diagnosis.not_checked == ()
