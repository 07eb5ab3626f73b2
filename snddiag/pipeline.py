"""The one path from evidence to a report document, shared by live runs and offline analysis."""

from __future__ import annotations

from typing import Any

from snddiag.engine import Diagnosis, run_rules
from snddiag.engine.model import Rule
from snddiag.evidence import Evidence
from snddiag.facts import Facts, build_facts
from snddiag.records import dataclass
from snddiag.report.json_doc import build_document


@dataclass(frozen=True)
class Outcome:
    facts: Facts
    diagnosis: Diagnosis
    document: dict[str, Any]


def diagnose(evidence: Evidence, rules: list[Rule]) -> Outcome:
    facts = build_facts(evidence)
    diagnosis = run_rules(rules, facts)
    return Outcome(facts, diagnosis, build_document(evidence, facts, diagnosis))
