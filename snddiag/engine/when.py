"""Three-valued evaluation of rule conditions: True, False, or None (a fact it needs is unread)."""

from __future__ import annotations

from snddiag.engine.model import AnyOf, Condition, Leaf, NotOf
from snddiag.engine.operators import OPERATORS
from snddiag.engine.paths import resolve
from snddiag.facts import Facts


def evaluate(condition: Condition, facts: Facts, unknown: set[str]) -> bool | None:
    """The condition's truth; facts it needed but could not read are added to `unknown`."""
    if isinstance(condition, Leaf):
        value = resolve(facts, condition.fact)
        operator = OPERATORS[condition.op]
        if value is None and not operator.reads_unread:
            unknown.add(condition.fact)
            return None
        return operator.test(value, condition.value)
    if isinstance(condition, NotOf):
        inner = evaluate(condition.item, facts, unknown)
        return None if inner is None else not inner
    results = [evaluate(item, facts, unknown) for item in condition.items]
    if isinstance(condition, AnyOf):
        if any(r is True for r in results):
            return True
        return None if any(r is None for r in results) else False
    if any(r is False for r in results):
        return False
    return None if any(r is None for r in results) else True
