"""The one path from evidence to a report document, shared by live runs and offline analysis."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snddiag.engine import Diagnosis, run_rules
from snddiag.engine.load import Rule, default_rule_dirs, load_rules
from snddiag.evidence import Evidence
from snddiag.facts import Facts, build_facts
from snddiag.report.json_doc import build_document


@dataclass(frozen=True)
class Outcome:
    facts: Facts
    diagnosis: Diagnosis
    document: dict[str, Any]


def rule_dirs(extra: Sequence[Path] = ()) -> list[Path]:
    return [*default_rule_dirs(), *extra]


def diagnose(evidence: Evidence, rules: list[Rule]) -> Outcome:
    facts = build_facts(evidence)
    diagnosis = run_rules(rules, facts)
    return Outcome(facts, diagnosis, build_document(evidence, facts, diagnosis))


def load_default_rules(extra: Sequence[Path] = ()) -> list[Rule]:
    return load_rules(rule_dirs(extra))
