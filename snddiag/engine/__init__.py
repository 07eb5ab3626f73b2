"""engine: run the rules over the facts; each rule fires, stays quiet, or cannot be checked."""

from __future__ import annotations

from dataclasses import dataclass

from snddiag.engine.model import Rule, Severity, Step
from snddiag.engine.render import applicable_steps, fill, quote
from snddiag.engine.when import evaluate
from snddiag.facts import Facts, sources_for


@dataclass(frozen=True)
class Finding:
    rule: Rule
    title: str
    explain: str
    evidence: tuple[str, ...]
    remediation: tuple[Step, ...]


@dataclass(frozen=True)
class NotChecked:
    rule: Rule
    title: str
    unknown_facts: tuple[str, ...]
    missing_sources: tuple[str, ...]


@dataclass(frozen=True)
class Diagnosis:
    findings: tuple[Finding, ...]
    not_checked: tuple[NotChecked, ...]
    rules_evaluated: int


def run_rules(rules: list[Rule], facts: Facts) -> Diagnosis:
    """Every rule's outcome, with its title (and a finding's text) filled in from the facts."""
    findings: list[Finding] = []
    not_checked: list[NotChecked] = []
    for rule in rules:
        unknown: set[str] = set()
        result = evaluate(rule.when, facts, unknown)
        if result is None:
            sources = sorted({s for fact in unknown for s in sources_for(fact)})
            not_checked.append(
                NotChecked(rule, fill(rule.title, facts), tuple(sorted(unknown)), tuple(sources))
            )
        elif result:
            steps = tuple(
                Step(s.side, fill(s.text, facts), s.tool, s.filters)
                for s in applicable_steps(rule.remediation, facts)
            )
            findings.append(
                Finding(
                    rule=rule,
                    title=fill(rule.title, facts),
                    explain=fill(rule.explain, facts),
                    evidence=tuple(line for q in rule.evidence for line in quote(q, facts)),
                    remediation=steps,
                )
            )
    findings.sort(key=lambda f: (f.rule.severity.rank, f.rule.rule_id))
    return Diagnosis(tuple(findings), tuple(not_checked), len(rules))


def worst_severity(diagnosis: Diagnosis) -> Severity | None:
    ranked = [f.rule.severity for f in diagnosis.findings if f.rule.severity is not Severity.INFO]
    return min(ranked, key=lambda s: s.rank) if ranked else None
