"""engine: run the rules over the facts; each rule fires, stays quiet, or cannot be checked.

Findings come in the order of the way a sound travels (engine.model.LAYERS): the earliest
error is the root cause, and a finding whose rule names a fired rule in `moot_if` follows the
one it waits for, since it only matters once that one is fixed."""

from __future__ import annotations

from snddiag.engine.model import Rule, Severity, Step
from snddiag.engine.render import applicable_steps, applies, fill, quote
from snddiag.engine.when import evaluate
from snddiag.facts import Facts, does_not_apply, sources_for
from snddiag.records import dataclass, replace


@dataclass(frozen=True)
class Finding:
    rule: Rule
    title: str
    explain: str
    evidence: tuple[str, ...]
    remediation: tuple[Step, ...]
    references: tuple[str, ...] = ()  # those for this system (a reference may name its VMM)
    # The fired rule that must be fixed before this finding matters (None: it matters now).
    moot_because: str | None = None


@dataclass(frozen=True)
class NotChecked:
    rule: Rule
    title: str
    unknown_facts: tuple[str, ...]
    missing_sources: tuple[str, ...]


@dataclass(frozen=True)
class DoesNotApply:
    """A rule whose facts cannot exist on this system (ALSA on a kernel without sound)."""

    rule: Rule
    title: str
    reason: str


@dataclass(frozen=True)
class Diagnosis:
    findings: tuple[Finding, ...]
    not_checked: tuple[NotChecked, ...]
    rules_evaluated: int
    root_cause: str | None = None
    does_not_apply: tuple[DoesNotApply, ...] = ()


def run_rules(rules: list[Rule], facts: Facts) -> Diagnosis:
    """Every rule's outcome, with its title (and a finding's text) filled in from the facts."""
    findings: list[Finding] = []
    not_checked: list[NotChecked] = []
    not_here: list[DoesNotApply] = []
    for rule in rules:
        unknown: set[str] = set()
        result = evaluate(rule.when, facts, unknown)
        reasons = {does_not_apply(fact, facts) for fact in unknown}
        if result is None and None not in reasons:
            reason = "; ".join(sorted(r for r in reasons if r is not None))
            not_here.append(DoesNotApply(rule, fill(rule.title, facts), reason))
        elif result is None:
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
                    references=tuple(r.url for r in rule.references if applies(r.filters, facts)),
                )
            )
    ordered, root_cause = chain_order(findings)
    return Diagnosis(tuple(ordered), tuple(not_checked), len(rules), root_cause, tuple(not_here))


def _chain_key(finding: Finding) -> tuple[bool, int, int, str]:
    # What asks for no action (info) comes after what does, each in the layers' order.
    rule = finding.rule
    return (rule.severity is Severity.INFO, rule.layer_rank, rule.severity.rank, rule.rule_id)


def chain_order(findings: list[Finding]) -> tuple[list[Finding], str | None]:
    """The findings as the report reads them, and the root cause's rule id (None when no
    error fired). A finding waits for the earliest fired rule of its `moot_if` and follows
    it; the root cause is the earliest finding that waits for nothing and is an error or has
    one waiting for it. It comes first with the findings that wait for it, then the other
    findings in the layers' order."""
    by_id = {f.rule.rule_id: f for f in findings}
    waiting: dict[str, list[Finding]] = {}
    leads: list[Finding] = []
    for finding in sorted(findings, key=_chain_key):
        blockers = [by_id[m] for m in finding.rule.moot_if if m in by_id]
        if blockers:
            blocker = min(blockers, key=_chain_key).rule.rule_id
            waiting.setdefault(blocker, []).append(replace(finding, moot_because=blocker))
        else:
            leads.append(finding)

    def blocks(finding: Finding) -> bool:
        # An error, or what an error waits for: a warning may be the cause of an error.
        return finding.rule.severity is Severity.ERROR or any(
            blocks(f) for f in waiting.get(finding.rule.rule_id, ())
        )

    root = next((f for f in leads if blocks(f)), None)
    if root is not None:
        leads.remove(root)
        leads.insert(0, root)
    ordered: list[Finding] = []

    def place(finding: Finding) -> None:
        # moot_if has no cycles (checked at load), so this ends.
        ordered.append(finding)
        for follower in waiting.get(finding.rule.rule_id, ()):
            place(follower)

    for lead in leads:
        place(lead)
    return ordered, root.rule.rule_id if root is not None else None


def worst_severity(diagnosis: Diagnosis) -> Severity | None:
    ranked = [f.rule.severity for f in diagnosis.findings if f.rule.severity is not Severity.INFO]
    return min(ranked, key=lambda s: s.rank) if ranked else None
