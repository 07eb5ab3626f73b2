"""snddiag.records behaves as `dataclasses` does for what snddiag uses of it: the same classes
declared both ways are compared, then every record class snddiag defines is checked."""

from __future__ import annotations

import dataclasses
import importlib
import pickle
import pkgutil
from collections.abc import Mapping
from typing import Any

import pytest

import snddiag
from snddiag import records

SOURCE = '''
from __future__ import annotations
from typing import Optional

@dataclass(frozen=True)
class Inner:
    name: str
    size: int = 0

@dataclass(frozen=True)
class Outer:
    """Documented."""
    first: int
    inner: Inner
    label: Optional[str] = None
    items: tuple[Inner, ...] = ()
    notes: dict[str, list[int]] = field(default_factory=dict)
    tagged: str = field(default="x", metadata={"doc": "a tag"})

@dataclass
class Mutable:
    count: int
    seen: list[str] = field(default_factory=list)

@dataclass(frozen=True)
class Empty:
    pass
'''


def _define(decorator: Any, make_field: Any) -> dict[str, Any]:
    namespace: dict[str, Any] = {"dataclass": decorator, "field": make_field}
    exec(compile(SOURCE, "<records test>", "exec"), namespace)  # noqa: S102
    return namespace


STDLIB = _define(dataclasses.dataclass, dataclasses.field)
OURS = _define(records.dataclass, records.field)


def _outer(kind: dict[str, Any], **changes: Any) -> Any:
    inner = kind["Inner"]
    values: dict[str, Any] = {
        "first": 1,
        "inner": inner("a", 2),
        "items": (inner("b"), inner("c", 3)),
        "notes": {"k": [1, 2]},
    }
    return kind["Outer"](**{**values, **changes})


@pytest.mark.parametrize("name", ["Inner", "Outer", "Mutable", "Empty"])
def test_fields_are_those_of_dataclasses(name: str) -> None:
    theirs, ours = dataclasses.fields(STDLIB[name]), records.fields(OURS[name])
    assert [f.name for f in ours] == [f.name for f in theirs]
    assert [f.type for f in ours] == [f.type for f in theirs]
    assert [f.default for f in ours] == [
        records.MISSING if f.default is dataclasses.MISSING else f.default for f in theirs
    ]
    assert [dict(f.metadata) for f in ours] == [dict(f.metadata) for f in theirs]


def test_instances_behave_as_dataclasses() -> None:
    theirs, ours = _outer(STDLIB), _outer(OURS)
    assert repr(ours) == repr(theirs)
    assert records.asdict(ours) == dataclasses.asdict(theirs)
    assert ours == _outer(OURS)
    assert hash(OURS["Inner"]("a", 2)) == hash(OURS["Inner"]("a", 2))
    for unhashable in (ours, theirs):  # as a dataclass: a frozen record holding a dict
        with pytest.raises(TypeError, match="unhashable"):
            hash(unhashable)
    assert ours != _outer(OURS, first=2)
    assert ours != theirs  # another class, as two dataclasses of the same shape
    assert (ours == 1) is False
    assert OURS["Empty"]() == OURS["Empty"]()
    assert repr(OURS["Empty"]()) == "Empty()"


def test_defaults_and_factories() -> None:
    first, second = OURS["Mutable"](1), OURS["Mutable"](2)
    first.seen.append("x")
    assert second.seen == []  # one list per instance
    assert OURS["Outer"](1, OURS["Inner"]("a")).tagged == "x"
    assert OURS["Outer"].tagged == "x"  # a default stays readable on the class, as dataclasses
    assert OURS["Outer"].label is None


def test_frozen_and_mutable() -> None:
    ours = _outer(OURS)
    with pytest.raises(AttributeError):
        ours.first = 5
    with pytest.raises(records.FrozenInstanceError):
        del ours.first
    mutable = OURS["Mutable"](1)
    mutable.count = 4
    assert mutable.count == 4
    with pytest.raises(TypeError):
        hash(mutable)  # a mutable dataclass with eq is unhashable


def test_replace_is_a_new_instance_with_changes() -> None:
    ours = _outer(OURS)
    changed = records.replace(ours, first=9)
    assert changed.first == 9
    assert changed.inner is ours.inner
    assert ours.first == 1
    with pytest.raises(TypeError):
        records.replace(ours, nonexistent=1)


def test_wrong_arguments_fail_as_dataclasses_do() -> None:
    for kind in (STDLIB, OURS):
        with pytest.raises(TypeError):
            kind["Inner"]()
        with pytest.raises(TypeError):
            kind["Inner"]("a", 1, 2)
        with pytest.raises(TypeError):
            kind["Inner"]("a", nonsense=2)


def test_declaration_errors_fail_as_dataclasses_do() -> None:
    with pytest.raises(TypeError, match="non-default argument"):

        @records.dataclass(frozen=True)
        class Wrong:
            with_default: int = 0
            without: int  # type: ignore[misc]

    with pytest.raises(ValueError, match="mutable default"):

        @records.dataclass
        class Shared:
            items: list[int] = []  # type: ignore[misc]  # noqa: RUF012


def test_real_records_pickle_round_trip() -> None:
    """The compiled rules are pickled records: rules, conditions, steps, references."""
    from snddiag.engine.load import load_rules
    from snddiag.engine.rule_dirs import shipped_rules

    rules = load_rules([shipped_rules()])
    copied = pickle.loads(pickle.dumps(rules))  # noqa: S301 - our own bytes
    assert copied == rules
    assert [repr(rule) for rule in copied] == [repr(rule) for rule in rules]
    with pytest.raises(AttributeError):
        copied[0].id = "changed"  # still frozen


def test_init_is_compiled_once_after_the_first_instances() -> None:
    @records.dataclass(frozen=True)
    class Late:
        value: int
        more: tuple[int, ...] = ()

    binding = Late.__dict__["__init__"]
    first = [Late(n) for n in range(records._COMPILE_AFTER)]
    assert Late.__dict__["__init__"] is binding  # not compiled yet
    compiled_first = Late(99, more=(1,))
    compiled = Late.__dict__["__init__"]
    assert compiled is not binding
    assert [Late(n) for n in range(records._COMPILE_AFTER)] == first
    assert compiled_first == Late(99, (1,))
    assert Late.__dict__["__init__"] is compiled


@pytest.mark.parametrize("made_before", [0, records._COMPILE_AFTER + 1])
def test_bound_and_compiled_init_take_and_refuse_the_same_calls(made_before: int) -> None:
    @records.dataclass
    class Calls:
        a: int
        b: str = "b"
        c: list[int] = records.field(default_factory=list)

    for _ in range(made_before):
        Calls(0)
    assert vars(Calls(1)) == {"a": 1, "b": "b", "c": []}
    assert vars(Calls(1, "x", [2])) == {"a": 1, "b": "x", "c": [2]}
    assert vars(Calls(c=[3], a=2)) == {"a": 2, "b": "b", "c": [3]}
    assert list(vars(Calls(c=[3], b="y", a=2))) == ["a", "b", "c"]  # in field order
    for wrong_args, wrong_kwargs in [
        ((), {}),  # a missing
        ((1, "x", [], 4), {}),  # too many
        ((1,), {"a": 2}),  # twice
        ((1,), {"d": 2}),  # unknown
    ]:
        with pytest.raises(TypeError):
            Calls(*wrong_args, **wrong_kwargs)


def _snddiag_classes() -> list[type]:
    """Every class a module of snddiag defines."""
    found: dict[str, type] = {}
    for module_info in pkgutil.walk_packages(snddiag.__path__, "snddiag."):
        if module_info.name.endswith("__main__"):  # it runs snddiag
            continue
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == module.__name__:
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[name] for name in sorted(found)]


SNDDIAG_CLASSES = _snddiag_classes()
RECORD_CLASSES = [cls for cls in SNDDIAG_CLASSES if records.is_dataclass(cls)]


def test_snddiag_defines_its_records_with_snddiag_records() -> None:
    assert len(RECORD_CLASSES) > 60
    made_by_dataclasses = [cls for cls in SNDDIAG_CLASSES if "__dataclass_fields__" in vars(cls)]
    assert made_by_dataclasses == []


@pytest.mark.parametrize("cls", RECORD_CLASSES, ids=lambda cls: cls.__qualname__)
def test_each_record_class_declares_fields_as_written(cls: type) -> None:
    annotations: Mapping[str, Any] = {}
    for klass in reversed(cls.__mro__):
        annotations = {**annotations, **vars(klass).get("__annotations__", {})}
    assert [f.name for f in records.fields(cls)] == list(annotations)
    assert all(isinstance(f.type, str) for f in records.fields(cls))
