"""The fact paths rules may name (`virtio.snd.transport`), and resolving them on Facts."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from snddiag.evidence import Evidence
from snddiag.facts import Facts, build_facts

_MISSING = object()


def _walk(value: Any, prefix: str, paths: set[str], open_maps: set[str]) -> None:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for spec in dataclasses.fields(value):
            path = f"{prefix}.{spec.name}" if prefix else spec.name
            child = getattr(value, spec.name)
            if not dataclasses.is_dataclass(child):
                paths.add(path)  # groups (`virtio.snd`) are not facts themselves
            _walk(child, path, paths, open_maps)
    elif isinstance(value, Mapping):
        open_maps.add(prefix)


def _known() -> tuple[frozenset[str], frozenset[str]]:
    paths: set[str] = set()
    open_maps: set[str] = set()
    _walk(build_facts(Evidence()), "", paths, open_maps)
    return frozenset(paths), frozenset(open_maps)


KNOWN_PATHS, MAPPING_PATHS = _known()


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
