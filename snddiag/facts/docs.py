"""Each fact documented where it is declared: a dataclass field made with `fact(...)`."""

from __future__ import annotations

from typing import Any

from snddiag.records import dataclass, field


@dataclass(frozen=True)
class FactDoc:
    """What `snddiag rules facts` and the README say of a fact."""

    meaning: str
    unread: str  # what None means for this fact
    # The closed set of values a text fact can have (a rule comparing it with another is wrong).
    values: tuple[str, ...] = ()


def fact(
    meaning: str, unread: str = "could not be read", *, values: tuple[str, ...] = (), **options: Any
) -> Any:
    """A dataclass field carrying its documentation: one line of meaning, what None means, and
    for a fact with a closed set of values, that set."""
    return field(metadata={"doc": FactDoc(meaning, unread, values)}, **options)


NEVER_NONE = "never None"
