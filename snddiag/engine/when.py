"""Three-valued evaluation of rule conditions: True, False, or None (a fact it needs is unread)."""

from __future__ import annotations

import re
from typing import Any

from snddiag.engine.load import AnyOf, Condition, Leaf, NotOf
from snddiag.engine.paths import resolve
from snddiag.facts import Facts


def version_key(text: str) -> tuple[int, ...]:
    """'8.2.7' -> (8, 2, 7); non-numeric tails are ignored ('10.0rc1' -> (10, 0))."""
    parts = []
    for piece in str(text).split("."):
        digits = re.match(r"\d+", piece)
        if digits is None:
            break
        parts.append(int(digits.group()))
    return tuple(parts)


def _texts(value: Any) -> list[str]:
    if isinstance(value, (tuple, list, frozenset, set)):
        return [str(v) for v in value]
    return [str(value)]


def _leaf(leaf: Leaf, value: Any) -> bool:
    op, want = leaf.op, leaf.value
    if op == "eq":
        return bool(value == want)
    if op == "ne":
        return bool(value != want)
    if op == "in":
        return bool(value in want)
    if op == "contains":
        return want in value if isinstance(value, (str, tuple, list, frozenset)) else False
    if op == "matches":
        pattern = leaf.pattern
        return pattern is not None and any(pattern.search(text) for text in _texts(value))
    if op in ("lt", "le", "gt", "ge"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return False
        compared: bool = {
            "lt": value < want,
            "le": value <= want,
            "gt": value > want,
            "ge": value >= want,
        }[op]
        return compared
    if op == "version_lt":
        have = version_key(str(value))
        return bool(have) and have < version_key(want)
    if op == "version_ge":
        have = version_key(str(value))
        return bool(have) and have >= version_key(want)
    raise ValueError(f"unknown operator {op}")


def evaluate(condition: Condition, facts: Facts, unknown: set[str]) -> bool | None:
    """The condition's truth; facts it needed but could not read are added to `unknown`."""
    if isinstance(condition, Leaf):
        value = resolve(facts, condition.fact)
        if condition.op == "exists":
            return (value is not None) is bool(condition.value)
        if value is None:
            unknown.add(condition.fact)
            return None
        return _leaf(condition, value)
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
