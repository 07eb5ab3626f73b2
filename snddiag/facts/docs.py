"""Each fact documented where it is declared: a dataclass field made with `fact(...)`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FactDoc:
    """What `snddiag rules facts` and the README say of a fact."""

    meaning: str
    unread: str  # what None means for this fact


def fact(meaning: str, unread: str = "could not be read", **options: Any) -> Any:
    """A dataclass field carrying its documentation: one line of meaning, and what None means."""
    return field(metadata={"doc": FactDoc(meaning, unread)}, **options)


NEVER_NONE = "never None"
