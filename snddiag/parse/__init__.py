"""parse: pure functions from captured text to typed values; they never raise, never open files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Parsed(Generic[T]):
    """A parser's result: what it understood, and the lines it did not."""

    value: T
    unparsed: tuple[str, ...] = ()
