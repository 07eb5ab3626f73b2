"""The fact paths rules may name (`virtio.snd.transport`), and resolving them on Facts."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from snddiag import records
from snddiag.records import dataclass

if TYPE_CHECKING:
    from snddiag.facts import Facts
    from snddiag.facts.docs import FactDoc

    # Built on first use (module __getattr__ below), not when the engine is imported.
    FACTS_BY_PATH: dict[str, FactInfo]
    MAPPING_PATHS: frozenset[str]
    KNOWN_PATHS: frozenset[str]

_MISSING = object()


@dataclass(frozen=True)
class FactInfo:
    """A fact path as `snddiag rules facts` shows it."""

    path: str
    type_name: str  # the field's annotation, as written (`bool | None`)
    doc: FactDoc | None  # None only for an undocumented field, which a test forbids


def _walk(value: Any, prefix: str, found: dict[str, FactInfo], open_maps: set[str]) -> None:
    if records.is_dataclass(value) and not isinstance(value, type):
        for spec in records.fields(value):
            path = f"{prefix}.{spec.name}" if prefix else spec.name
            child = getattr(value, spec.name)
            if not records.is_dataclass(child):  # groups (`virtio.snd`) are not facts
                found[path] = FactInfo(path, str(spec.type), spec.metadata.get("doc"))
            _walk(child, path, found, open_maps)
    elif isinstance(value, Mapping):
        open_maps.add(prefix)


@cache
def _known() -> tuple[dict[str, FactInfo], frozenset[str], frozenset[str]]:
    """Every fact path, found by walking the facts of empty evidence: (by path, maps, paths)."""
    from snddiag.evidence import Evidence
    from snddiag.facts import build_facts

    found: dict[str, FactInfo] = {}
    open_maps: set[str] = set()
    _walk(build_facts(Evidence()), "", found, open_maps)
    return dict(sorted(found.items())), frozenset(open_maps), frozenset(found)


def __getattr__(name: str) -> Any:
    tables = {"FACTS_BY_PATH": 0, "MAPPING_PATHS": 1, "KNOWN_PATHS": 2}
    if name in tables:
        return _known()[tables[name]]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_known_path(path: str) -> bool:
    by_path, mapping_paths, _paths = _known()
    if path in by_path:
        return True
    head, _sep, key = path.rpartition(".")
    return head in mapping_paths and bool(key)


_MAPPING_TYPES: dict[type, bool] = {}


def _is_mapping(cls: type) -> bool:
    # isinstance(value, Mapping) asks the ABC machinery each time: a few per rule condition.
    known = _MAPPING_TYPES.get(cls)
    if known is None:
        known = _MAPPING_TYPES[cls] = issubclass(cls, Mapping)
    return known


def resolve(facts: Facts, path: str) -> Any:
    """The value at a dotted path; None when unread (a mapping's missing key reads as None)."""
    value: Any = facts
    for part in path.split("."):
        if _is_mapping(type(value)):
            value = value.get(part)
        else:
            value = getattr(value, part, _MISSING)
            if value is _MISSING:
                raise KeyError(path)
        if value is None:
            return None
    return value
