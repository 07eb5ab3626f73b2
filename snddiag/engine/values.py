"""What a fact holds (its kind, read from the Facts annotations) and how its value reads as text.

Structured facts (a tuple of records such as `alsa.cards`) read as `key=value` pairs of the
record's fields, one record a line, in quotes, `matches` and placeholders alike; never as a
Python repr. Both work on any dataclass, so they do not depend on how the fact groups are built.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Mapping
from enum import Enum
from typing import Any

from snddiag import records
from snddiag.facts import Facts


class Kind(str, Enum):
    TEXT = "text"
    NUMBER = "number"
    FLAG = "yes/no"
    TEXTS = "list of text"
    RECORDS = "list of records"
    MAPPING = "mapping"
    ANY = "any"  # an annotation this module cannot classify: only the operand is checked


_SCALARS = {"str": Kind.TEXT, "int": Kind.NUMBER, "float": Kind.NUMBER, "bool": Kind.FLAG}
_OPTIONAL = re.compile(r"^Optional\[(.*)\]$")
_GENERIC = re.compile(r"^(?:typing\.)?(\w+)\[(.*)\]$")


def _annotation(field_type: Any) -> str:
    if isinstance(field_type, str):  # `from __future__ import annotations`
        return field_type
    return field_type.__name__ if isinstance(field_type, type) else str(field_type)


def _resolve(name: str, owner: type) -> Any:
    """A class named in an annotation, looked up where the dataclass that names it is defined."""
    return vars(sys.modules[owner.__module__]).get(name.strip())


def _scalar_kind(name: str, owner: type) -> Kind:
    if name in _SCALARS:
        return _SCALARS[name]
    found = _resolve(name, owner)
    if isinstance(found, type):  # a str/int enum counts as its base
        for base, kind in ((bool, Kind.FLAG), (str, Kind.TEXT), (int, Kind.NUMBER)):
            if issubclass(found, base):
                return kind
    return Kind.ANY


def _union(text: str) -> list[str]:
    """`tuple[str,...]|None` -> ['tuple[str,...]', 'None']: split on `|` outside brackets."""
    parts, depth, start = [], 0, 0
    for at, char in enumerate(text):
        depth += (char == "[") - (char == "]")
        if char == "|" and depth == 0:
            parts.append(text[start:at])
            start = at + 1
    return [*parts, text[start:]]


def kind_of(annotation: str, owner: type) -> Kind:
    """`tuple[str, ...] | None` -> TEXTS; `Mapping[str, str]` -> MAPPING; `int | None` -> NUMBER."""
    text = _OPTIONAL.sub(r"\1", annotation.replace(" ", ""))
    parts = [p for p in _union(text) if p != "None"]
    if len(parts) != 1:
        return Kind.ANY
    generic = _GENERIC.match(parts[0])
    if generic is None:
        return _scalar_kind(parts[0], owner)
    outer, inner = generic.groups()
    if outer in ("tuple", "Tuple", "list", "List", "frozenset"):
        item = inner.split(",")[0]
        if _scalar_kind(item, owner) is Kind.TEXT:
            return Kind.TEXTS
        found = _resolve(item, owner)
        return Kind.RECORDS if records.is_dataclass(found) else Kind.ANY
    if outer in ("Mapping", "dict", "Dict"):
        return Kind.MAPPING
    return Kind.ANY


def _closed_set(spec: records.Field[Any], annotation: str, owner: type) -> tuple[str, ...]:
    """The values a text fact can have: those its documentation declares, or its str enum's."""
    doc = spec.metadata.get("doc")
    if doc is not None and doc.values:
        return tuple(doc.values)
    parts = [p for p in _union(annotation.replace(" ", "")) if p != "None"]
    found = _resolve(parts[0], owner) if len(parts) == 1 else None
    if isinstance(found, type) and issubclass(found, Enum) and issubclass(found, str):
        return tuple(str(member.value) for member in found)
    return ()


def _walk(
    cls: type,
    prefix: str,
    kinds: dict[str, Kind],
    items: dict[str, Kind],
    closed: dict[str, tuple[str, ...]],
) -> None:
    for spec in records.fields(cls):
        path = f"{prefix}.{spec.name}" if prefix else spec.name
        annotation = _annotation(spec.type)
        group = _resolve(annotation, cls) if annotation.isidentifier() else None
        if isinstance(group, type) and records.is_dataclass(group):
            _walk(group, path, kinds, items, closed)
            continue
        kinds[path] = kind_of(annotation, cls)
        values = _closed_set(spec, annotation, cls)
        if values:
            closed[path] = values
        if kinds[path] is Kind.MAPPING:  # `driver.params.<name>`: the mapping's value type
            value = annotation.replace(" ", "").rsplit(",", 1)[-1].split("]")[0]
            items[path] = _scalar_kind(value, cls)


@functools.cache
def _kinds() -> tuple[dict[str, Kind], dict[str, Kind], dict[str, tuple[str, ...]]]:
    kinds: dict[str, Kind] = {}
    items: dict[str, Kind] = {}
    closed: dict[str, tuple[str, ...]] = {}
    _walk(Facts, "", kinds, items, closed)
    return kinds, items, closed


def fact_values(path: str) -> tuple[str, ...]:
    """The closed set of values a text fact can have (host.vmm), or () when it is open."""
    return _kinds()[2].get(path, ())


def fact_kind(path: str) -> Kind:
    """The kind of a fact path (`alsa.cards` -> RECORDS); ANY when the model does not say."""
    kinds, items, _closed = _kinds()
    if path in kinds:
        return kinds[path]
    head, _sep, _key = path.rpartition(".")
    return items.get(head, Kind.ANY)


def _scalar(value: Any) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _field(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        text = ",".join(_scalar(v) for v in value)
    else:
        text = _scalar(value)
    # Quoted when it would not read as one word: `name="HDA Intel PCH"`, `driver=""`.
    if not text or any(c.isspace() or c in '"=' for c in text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def record_text(record: Any) -> str:
    """A dataclass as `key=value` pairs of its fields: `index=0 card_id=Intel name="HDA Intel"`."""
    return " ".join(
        f"{spec.name}={_field(getattr(record, spec.name))}" for spec in records.fields(record)
    )


def texts(value: Any) -> list[str]:
    """The texts a value reads as, one per item: what `matches` searches and quotes show."""
    if isinstance(value, Mapping):
        return [f"{key}={_field(item)}" for key, item in sorted(value.items())]
    if isinstance(value, (tuple, list, frozenset, set)):
        return [t for item in value for t in texts(item)]
    if records.is_dataclass(value) and not isinstance(value, type):
        return [record_text(value)]
    return [_scalar(value)]


def shown(value: Any) -> str:
    """A value on one line, for placeholders and quotes: items by `, `, records by `; `."""
    if value is None:
        return "unknown"
    if isinstance(value, (tuple, list, frozenset, set, Mapping)):
        of_records = not isinstance(value, Mapping) and any(records.is_dataclass(v) for v in value)
        return ("; " if of_records else ", ").join(texts(value)) or "none"
    return texts(value)[0]
