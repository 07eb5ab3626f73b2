"""What a rule is once loaded: its conditions, evidence quotes, remediation steps and errors."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Any, Union

from snddiag.records import dataclass

PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
"""`${fact.path}` in rule prose: checked by the loader, filled in by the engine."""


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


# Where a rule's judgement sits on the way a sound travels, in that order: a finding at an earlier
# layer blocks everything after it, so the report reads from the first layer to the last.
LAYERS = ("host", "device", "transport", "kernel", "driver", "card", "session", "data-path")


class RuleFileError(Exception):
    """`file:line: message`, or `file: message` for a whole file or directory (line None)."""

    def __init__(self, path: Path, line: int | None, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}" if line is not None else f"{path}: {message}")
        self.path = path
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Leaf:
    fact: str
    op: str  # a key of operators.OPERATORS
    value: Any  # the operand as the operator prepared it (a compiled regex for `matches`)


@dataclass(frozen=True)
class AllOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class NotOf:
    item: Condition


Condition = Union["Leaf", "AllOf", "AnyOf", "NotOf"]


@dataclass(frozen=True)
class Quote:
    """Evidence to show with a finding: a fact's value, or only its lines matching a regex."""

    fact: str
    pattern: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Step:
    side: str
    text: str
    tool: str = ""  # utm | qemu | libvirt | proxmox | apple-vz | alpine ...: a label, not a filter
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class Reference:
    """A source to read, shown where its filters (vmm, distro, ...) match, as a step is."""

    url: str
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class Rule:
    rule_id: str
    severity: Severity
    layer: str  # one of LAYERS
    title: str
    when: Condition
    explain: str
    evidence: tuple[Quote, ...]
    remediation: tuple[Step, ...]
    references: tuple[Reference, ...]
    path: Path
    line: int
    # Rules whose finding makes this one moot until it is fixed (checked to exist at load).
    moot_if: tuple[str, ...] = ()
    moot_if_line: int = 0

    @property
    def layer_rank(self) -> int:
        return LAYERS.index(self.layer)
