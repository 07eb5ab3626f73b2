"""parse: pure functions from captured text to typed values; they never raise, never open files.

Every parser is total and linear: any `str` (evidence decodes once, `errors="replace"`) gives a
`Parsed` in time proportional to its length. Three limits make that hold on hostile input:

- `MAX_LINE_CHARS`: a line longer than 16 KiB is read as its first 16 KiB (the rest of that line
  is ignored). Real lines are far shorter: printk records are at most 2 KiB, a sysfs value one
  4 KiB page, the kernel command line 2-4 KiB, the longest line captured from the lab's guests
  (`modules.dep`) 1.4 KiB. A line so cut is read like any other.
- `ascii_int`: numbers are ASCII digits only (`str.isdigit()` accepts `'²'`, which `int()`
  refuses) and at most `MAX_INT_DIGITS` long (Python refuses to convert more than 4300 digits);
  a longer or odd number is not a number, and the line goes to `unparsed`.
- No regular expression in this package can backtrack more than linearly: quantifiers that could
  match the same characters are never adjacent, and numbers have bounded repeats.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from snddiag.records import dataclass

T = TypeVar("T")

MAX_LINE_CHARS = 16 * 1024
MAX_INT_DIGITS = 20  # a u64 in decimal


@dataclass(frozen=True)
class Parsed(Generic[T]):
    """A parser's result: what it understood, and the lines it did not."""

    value: T
    unparsed: tuple[str, ...] = ()


def clip(line: str) -> str:
    """`line` cut to its first `MAX_LINE_CHARS` characters."""
    return line[:MAX_LINE_CHARS]


def lines_of(text: str) -> list[str]:
    """`text.splitlines()`, each line cut to its first `MAX_LINE_CHARS` characters."""
    return [line[:MAX_LINE_CHARS] for line in text.splitlines()]


def ascii_int(digits: str, max_digits: int = MAX_INT_DIGITS) -> int | None:
    """`'45056'` -> 45056; anything but 1 to `max_digits` ASCII digits -> None."""
    if not 0 < len(digits) <= max_digits or not digits.isascii() or not digits.isdigit():
        return None
    return int(digits)
