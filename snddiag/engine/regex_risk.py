"""Rule regexes that could backtrack for hours on a guest's text, refused when a rule is loaded.

Python's `re` backtracks. A rule's regex is searched (unanchored) in every line of a kernel log
a stranger may have written, so a pattern that can match the same text in exponentially many
ways (`^(a+)+$` on 30 a's and a `!` takes seconds, on 40 takes hours) hangs the run. The check
is static, on the parsed pattern, and refuses exactly three shapes (README, "Rules"):

1. a repeat inside an unbounded repeat where the inner one can itself repeat:
   `(a+)+`, `(a*)*`, `(.*)*`, `(\\w+\\s?)*`, `(a{1,5})+`;
2. alternatives that can start with the same character (or match nothing) inside an unbounded
   repeat: `(a|a)*`, `(a|ab)+`, `(x|)*`, `(\\d+x|\\w)*` (alternatives of one character each,
   like `(a|b|a)*` or `(\\w|\\d)+`, are one character class to `re`, which is linear);
3. two unbounded repeats of overlapping characters with nothing required between them:
   `.*.*`, `\\s*\\s+`, `a+\\w*`, `.*(foo)?.*`.

Possessive repeats and atomic groups (Python 3.11) never backtrack and are not refused. A bounded
repeat of fixed width (`(ab){3}`, `(a|b){2}`) is not a repeat here. Characters are compared on a
sample alphabet (ASCII and Latin-1 and a few others); that is enough for these shapes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

try:  # Python 3.11 moved the parser; 3.9 and 3.10 have it as sre_parse
    _parser: Any = importlib.import_module("re._parser")
    _constants: Any = importlib.import_module("re._constants")
except ImportError:  # pragma: no cover - Python < 3.11
    _parser = importlib.import_module("sre_parse")
    _constants = importlib.import_module("sre_constants")

_C = _constants
_MAXREPEAT = _C.MAXREPEAT
_REPEATS = {_C.MAX_REPEAT, _C.MIN_REPEAT}
_SAMPLE = [chr(c) for c in (*range(0x00, 0x250), 0x3B1, 0x430, 0x4E00, 0x1F600)]


class RegexRisk(Exception):
    """A regex of one of the refused shapes; the message names the shape."""


def _unbounded(max_count: int) -> bool:
    return bool(max_count == _MAXREPEAT)


def _variable(min_count: int, max_count: int) -> bool:
    return bool(min_count != max_count)


def _chars(op: Any, av: Any) -> frozenset[str] | None:
    """The sample characters one single-character item can match; None if not one character."""
    if op is _C.LITERAL:
        return frozenset({chr(av)})
    if op is _C.NOT_LITERAL:
        return frozenset(c for c in _SAMPLE if ord(c) != av)
    if op is _C.ANY:
        return frozenset(_SAMPLE)
    if op is _C.IN:
        return frozenset(c for c in _SAMPLE if _in_set(av, c))
    return None


def _in_set(items: Any, char: str) -> bool:
    negate = False
    found = False
    for op, av in items:
        if op is _C.NEGATE:
            negate = True
        elif op is _C.LITERAL:
            found = found or ord(char) == av
        elif op is _C.RANGE:
            found = found or av[0] <= ord(char) <= av[1]
        elif op is _C.CATEGORY:
            found = found or _in_category(av, char)
        else:  # a form this check does not know: assume it may match
            found = True
    return found != negate


def _in_category(category: Any, char: str) -> bool:
    name = str(category).upper()
    tests: dict[str, Callable[[str], bool]] = {
        "DIGIT": str.isdigit,
        "SPACE": str.isspace,
        "WORD": lambda c: c.isalnum() or c == "_",
        "LINEBREAK": lambda c: c == "\n",
    }
    for key, test in tests.items():
        if key in name:
            return test(char) != ("NOT_" in name)
    return True


def _first(items: Any) -> tuple[frozenset[str], bool]:
    """(characters a sequence can start with, whether it can match the empty string)."""
    first: set[str] = set()
    for op, av in items:
        chars = _chars(op, av)
        if chars is not None:
            return frozenset(first | chars), False
        if op in _REPEATS:
            sub_first, sub_empty = _first(av[2])
            first |= sub_first
            if av[0] > 0 and not sub_empty:
                return frozenset(first), False
        elif op is _C.SUBPATTERN:
            sub_first, sub_empty = _first(av[-1])
            first |= sub_first
            if not sub_empty:
                return frozenset(first), False
        elif op is _C.BRANCH:
            can_be_empty = False
            for branch in av[1]:
                sub_first, sub_empty = _first(branch)
                first |= sub_first
                can_be_empty = can_be_empty or sub_empty
            if not can_be_empty:
                return frozenset(first), False
        elif op in (_C.AT, _C.ASSERT, _C.ASSERT_NOT):
            continue
        else:  # back references, conditionals, atomic groups: may start with anything
            return frozenset(_SAMPLE), False
    return frozenset(first), True


def _nullable(items: Any) -> bool:
    return _first(items)[1]


def _has_repeat(items: Any) -> bool:
    """Whether the sequence holds a repeat that matches a varying number of times."""
    for op, av in items:
        if op in _REPEATS and _variable(av[0], av[1]) and av[1] > 1:
            return True
        if op in _REPEATS and _has_repeat(av[2]):
            return True
        if op is _C.SUBPATTERN and _has_repeat(av[-1]):
            return True
        if op is _C.BRANCH and any(_has_repeat(b) for b in av[1]):
            return True
    return False


def _check_alternatives(items: Any) -> None:
    for op, av in items:
        if op is _C.SUBPATTERN:
            _check_alternatives(av[-1])
        elif op is _C.BRANCH:
            seen: set[str] = set()
            for branch in av[1]:
                first, empty = _first(branch)
                if empty or seen & first:
                    raise RegexRisk(
                        "alternatives that can match the same text inside an unbounded repeat"
                    )
                seen |= first


def _walk(items: Any) -> None:
    previous: frozenset[str] | None = None  # the last unbounded single-character repeat
    for op, av in items:
        if op in _REPEATS:
            _min_count, max_count, body = av
            if _unbounded(max_count):
                if _has_repeat(body):
                    raise RegexRisk("a repeat inside an unbounded repeat, like (a+)+")
                _check_alternatives(body)
                single = _chars(*body[0]) if len(body) == 1 else None
                if single is not None and previous is not None and previous & single:
                    raise RegexRisk("two unbounded repeats of the same characters in a row")
                if single is not None:
                    previous = single
                    continue
            _walk(body)
        elif op is _C.SUBPATTERN:
            _walk(av[-1])
        elif op is _C.BRANCH:
            for branch in av[1]:
                _walk(branch)
        if not (op in (_C.AT, _C.ASSERT, _C.ASSERT_NOT) or _nullable([(op, av)])):
            previous = None


def check_regex(pattern: str) -> None:
    """Raise RegexRisk when `pattern` has one of the refused shapes (re.error when invalid)."""
    _walk(_parser.parse(pattern))
