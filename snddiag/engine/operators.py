"""The rule operators, each once: the operand it takes, the facts it applies to, how it tests a
value, and what it means (the README's operator table is generated from OPERATORS).

A leaf `{fact: PATH, OP: OPERAND}` over a fact that could not be read (None) is *unknown* for
every operator except `exists`: the rule goes to "not checked", never to healthy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from snddiag.engine.values import Kind, texts
from snddiag.records import dataclass

SCALAR_KINDS = frozenset({Kind.TEXT, Kind.NUMBER, Kind.FLAG})
ALL_KINDS = frozenset(Kind)


class OperandError(ValueError):
    """The operand does not suit the operator or the fact (the loader adds file and line)."""


@dataclass(frozen=True)
class Operator:
    name: str
    operand: str  # what the YAML value must be, in words
    applies_to: frozenset[Kind]
    semantics: str  # one line, for the README
    prepare: Callable[[Any, Kind], Any]  # YAML operand -> the value tests compare with
    test: Callable[[Any, Any], bool]  # (fact value, never None unless reads_unread) -> truth
    reads_unread: bool = False  # tested on None too (only `exists`: never unknown)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _suits(value: Any, kind: Kind) -> bool:
    """A YAML scalar that can equal a fact of this kind (ANY: whatever the model cannot say)."""
    if kind is Kind.TEXT:
        return isinstance(value, str)
    if kind is Kind.NUMBER:
        return _is_number(value)
    if kind is Kind.FLAG:
        return isinstance(value, bool)
    if kind is Kind.TEXTS:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return kind is Kind.ANY and isinstance(value, (str, int, float, bool, list))


def _equal_operand(operand: Any, kind: Kind) -> Any:
    if not _suits(operand, kind):
        raise OperandError(f"needs {_WORDS[kind]}")
    return tuple(operand) if isinstance(operand, list) else operand  # facts hold tuples


def _list_operand(operand: Any, kind: Kind) -> tuple[Any, ...]:
    if not isinstance(operand, list) or not all(_suits(v, kind) for v in operand):
        raise OperandError(f"needs a list of {_ITEMS.get(kind, 'values')}")
    return tuple(operand)


def _text_operand(operand: Any, _kind: Kind) -> str:
    if not isinstance(operand, str):
        raise OperandError("needs a string")
    return operand


def _regex_operand(operand: Any, _kind: Kind) -> re.Pattern[str]:
    if not isinstance(operand, str):
        raise OperandError("needs a regular expression string")
    try:
        return re.compile(operand, re.MULTILINE)
    except re.error as err:
        raise OperandError(f"bad regular expression: {err}") from err


def _number_operand(operand: Any, _kind: Kind) -> Any:
    if not _is_number(operand):
        raise OperandError("needs a number")
    return operand


def _version_operand(operand: Any, _kind: Kind) -> str:
    # A float is refused: YAML reads 8.10 as the number 8.1.
    if isinstance(operand, bool) or not isinstance(operand, (str, int)):
        raise OperandError("needs a version such as '8.2' (quoted)")
    if not version_key(str(operand)):
        raise OperandError(f"'{operand}' does not start with a number")
    return str(operand)


def _flag_operand(operand: Any, _kind: Kind) -> bool:
    if not isinstance(operand, bool):
        raise OperandError("needs true or false")
    return operand


_WORDS = {
    Kind.TEXT: "a string",
    Kind.NUMBER: "a number",
    Kind.FLAG: "true or false",
    Kind.TEXTS: "a list of strings",
    Kind.RECORDS: "a list",
    Kind.MAPPING: "a mapping",
    Kind.ANY: "a string, number, true/false or list",
}


_ITEMS = {
    Kind.TEXT: "strings",
    Kind.NUMBER: "numbers",
    Kind.FLAG: "true or false values",
    Kind.ANY: "strings, numbers or true/false values",
}


def version_key(text: str) -> tuple[tuple[int, str], ...]:
    """'8.2.7' -> 8, 2, 7: each dot-separated piece by its leading digits ('10.0rc1' -> 10, 0;
    '6.1.0-18-amd64' -> 6, 1, 0); the first piece without one ends the version.

    Each number is kept as (length, digits) without leading zeros: numeric order without
    converting a guest's 5000-digit string to int.
    """
    parts = []
    for piece in text.split("."):
        digits = re.match(r"[0-9]+", piece)
        if digits is None:
            break
        number = digits.group().lstrip("0") or "0"
        parts.append((len(number), number))
    return tuple(parts)


def _contains(value: Any, want: str) -> bool:
    return want in value if isinstance(value, (str, tuple, list, frozenset)) else False


def _matches(value: Any, pattern: re.Pattern[str]) -> bool:
    return any(pattern.search(text) for text in texts(value))


def _compare(check: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    return lambda value, want: _is_number(value) and check(value, want)


def _version_lt(value: Any, want: str) -> bool:
    have = version_key(str(value))
    return bool(have) and have < version_key(want)


def _version_ge(value: Any, want: str) -> bool:
    have = version_key(str(value))
    return bool(have) and have >= version_key(want)


_NUMBERS = frozenset({Kind.NUMBER, Kind.ANY})
_VERSIONS = frozenset({Kind.TEXT, Kind.NUMBER, Kind.ANY})
OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in (
        Operator(
            "eq",
            "a value of the fact's kind (a list for a list fact)",
            ALL_KINDS - {Kind.RECORDS, Kind.MAPPING},
            "the fact equals the operand; a list fact equals a list with the same items in order",
            _equal_operand,
            lambda value, want: bool(value == want),
        ),
        Operator(
            "ne",
            "as for eq",
            ALL_KINDS - {Kind.RECORDS, Kind.MAPPING},
            "the fact differs from the operand",
            _equal_operand,
            lambda value, want: bool(value != want),
        ),
        Operator(
            "in",
            "a list of values of the fact's kind",
            SCALAR_KINDS | {Kind.ANY},
            "the fact equals one of the listed values",
            _list_operand,
            lambda value, want: value in want,
        ),
        Operator(
            "contains",
            "a string",
            frozenset({Kind.TEXT, Kind.TEXTS, Kind.ANY}),
            "text: holds the string as a substring; list of text: one item equals the string",
            _text_operand,
            _contains,
        ),
        Operator(
            "matches",
            "a regular expression (Python `re`, multiline)",
            ALL_KINDS - {Kind.FLAG},
            "the regex is found in the text, in any item of a list, in any record written as "
            '`key=value` pairs (`index=0 card_id=Intel name="HDA Intel"`), or in any `name=value` '
            "of a mapping",
            _regex_operand,
            _matches,
        ),
        Operator(
            "lt",
            "a number",
            _NUMBERS,
            "the fact is less than the operand",
            _number_operand,
            _compare(lambda a, b: bool(a < b)),
        ),
        Operator(
            "le",
            "a number",
            _NUMBERS,
            "the fact is at most the operand",
            _number_operand,
            _compare(lambda a, b: bool(a <= b)),
        ),
        Operator(
            "gt",
            "a number",
            _NUMBERS,
            "the fact is greater than the operand",
            _number_operand,
            _compare(lambda a, b: bool(a > b)),
        ),
        Operator(
            "ge",
            "a number",
            _NUMBERS,
            "the fact is at least the operand",
            _number_operand,
            _compare(lambda a, b: bool(a >= b)),
        ),
        Operator(
            "version_lt",
            "a version string such as '8.2' (quoted)",
            _VERSIONS,
            "the fact is an older version, comparing leading dot-separated numbers "
            "('6.1.0-18-amd64' is 6.1.0, '10.0rc1' is 10.0); false when the fact does not start "
            "with a number",
            _version_operand,
            _version_lt,
        ),
        Operator(
            "version_ge",
            "a version string such as '8.2' (quoted)",
            _VERSIONS,
            "the fact is the same version or newer, compared as for version_lt; false when the "
            "fact does not start with a number",
            _version_operand,
            _version_ge,
        ),
        Operator(
            "exists",
            "true or false",
            ALL_KINDS,
            "`true`: the fact could be read (an empty list was read); `false`: it could not",
            _flag_operand,
            lambda value, want: (value is not None) is want,
            reads_unread=True,
        ),
    )
}


def prepare(name: str, operand: Any, kind: Kind) -> Any:
    """The operand ready for `test`; OperandError says what is wrong with it."""
    operator = OPERATORS[name]
    if kind not in operator.applies_to:
        operator.prepare(operand, Kind.ANY)  # a broken operand (a bad regex) is said first
        kinds = ", ".join(k.value for k in Kind if k in operator.applies_to and k is not Kind.ANY)
        raise OperandError(f"applies only to facts that are {kinds}")
    return operator.prepare(operand, kind)


def markdown_table() -> str:
    """The README's operator table, generated from OPERATORS."""
    rows = [
        "| operator | operand | applies to facts that are | true when |",
        "| --- | --- | --- | --- |",
    ]
    for op in OPERATORS.values():
        kinds = ", ".join(k.value for k in Kind if k in op.applies_to and k is not Kind.ANY)
        rows.append(f"| `{op.name}` | {op.operand} | {kinds} | {op.semantics} |")
    return "\n".join(rows) + "\n"
