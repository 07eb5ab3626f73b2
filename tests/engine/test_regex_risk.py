"""The static check of rule regexes: the three refused shapes, and the patterns rules do use."""

from __future__ import annotations

import re
import time

import pytest

from snddiag.engine.regex_risk import RegexRisk, check_regex

REFUSED = {
    "nested": ["^(a+)+$", "(a*)*", "(.*)*x", "(a{1,5})+", "(\\w+\\s?)*$", "((a+))+"],
    "alternatives": ["(a|a)*", "(a|ab)+", "(x|)*", "(\\d+x|\\w)*"],
    "in a row": [".*.*=x", "\\s*\\s+", "a+\\w*", ".*(foo)?.*", "invalid range \\[.*.*\\]"],
}
ALLOWED = [
    "virtio_snd",
    "invalid range \\[.*\\] of the",
    "virtio_snd .*spec version 1\\.x",
    "^\\d+\\.\\d+",
    "\\w+\\s+\\w+",
    "(ab){3}",
    "(a|b){2}",
    "(a|b)*",
    "(?:foo|bar)+",
    "[0-9]+[a-z]*",
    "a.*b.*c",
    "snd_\\w+: probe of \\S+ failed with error -\\d+",
    "x{2,}y",
    "^\\s*$",
]


@pytest.mark.parametrize(
    "pattern", [p for patterns in REFUSED.values() for p in patterns], ids=lambda p: repr(p)
)
def test_backtracking_shapes_are_refused(pattern: str) -> None:
    with pytest.raises(RegexRisk):
        check_regex(pattern)


@pytest.mark.parametrize("pattern", ALLOWED, ids=lambda p: repr(p))
def test_linear_patterns_are_allowed(pattern: str) -> None:
    check_regex(pattern)


@pytest.mark.parametrize("pattern", ["^(a+)+$", "^(a|a)*$", "^(a*)*$"])
def test_refused_shapes_do_backtrack(pattern: str) -> None:
    # Why they are refused: each more "a" before the "!" doubles the time (8 more: 256 times).
    started = time.perf_counter()
    re.search(pattern, "a" * 22 + "!")
    slow = time.perf_counter() - started
    started = time.perf_counter()
    re.search(pattern, "a" * 14 + "!")
    fast = time.perf_counter() - started
    assert slow > 10 * fast


def test_invalid_regex_is_left_to_re() -> None:
    with pytest.raises(re.error):
        check_regex("(unclosed")
