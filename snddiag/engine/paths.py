"""The fact paths rules may name (`virtio.snd.transport`), and resolving them on Facts."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from snddiag.evidence import Evidence
from snddiag.facts import Facts, build_facts
from snddiag.facts.docs import FactDoc

_MISSING = object()


@dataclass(frozen=True)
class FactInfo:
    """A fact path as `snddiag rules facts` shows it."""

    path: str
    type_name: str  # the field's annotation, as written (`bool | None`)
    doc: FactDoc | None  # None only for an undocumented field, which a test forbids


def _walk(value: Any, prefix: str, found: dict[str, FactInfo], open_maps: set[str]) -> None:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for spec in dataclasses.fields(value):
            path = f"{prefix}.{spec.name}" if prefix else spec.name
            child = getattr(value, spec.name)
            if not dataclasses.is_dataclass(child):  # groups (`virtio.snd`) are not facts
                found[path] = FactInfo(path, str(spec.type), spec.metadata.get("doc"))
            _walk(child, path, found, open_maps)
    elif isinstance(value, Mapping):
        open_maps.add(prefix)


def _known() -> tuple[dict[str, FactInfo], frozenset[str]]:
    found: dict[str, FactInfo] = {}
    open_maps: set[str] = set()
    _walk(build_facts(Evidence()), "", found, open_maps)
    return dict(sorted(found.items())), frozenset(open_maps)


FACTS_BY_PATH, MAPPING_PATHS = _known()
KNOWN_PATHS = frozenset(FACTS_BY_PATH)


def is_known_path(path: str) -> bool:
    if path in KNOWN_PATHS:
        return True
    head, _sep, key = path.rpartition(".")
    return head in MAPPING_PATHS and bool(key)


def resolve(facts: Facts, path: str) -> Any:
    """The value at a dotted path; None when unread (a mapping's missing key reads as None)."""
    value: Any = facts
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        else:
            value = getattr(value, part, _MISSING)
            if value is _MISSING:
                raise KeyError(path)
        if value is None:
            return None
    return value
