"""Records: the dataclasses of snddiag, made for a fraction of what `dataclasses` costs.

A run defines some seventy record classes (fact groups, parsed lines, rule model) and uses a
few of them. `dataclasses` compiles six methods from source for each class when it is defined
and imports `inspect`; in a small guest under emulation that was more than half of a run's
start-up. Here a class gets shared `__eq__`, `__hash__`, `__repr__` and frozen `__setattr__`,
and its `__init__` is compiled from source the first time an instance is made, so a class a run
never instantiates costs reading its annotations only.

The type checker sees `dataclasses` itself (below), so every use is checked as a dataclass;
`tests/test_records.py` holds the runtime to the same behaviour: the same fields, defaults,
default factories, order, equality, hashing, repr, immutability, `replace`, `asdict` and pickling.
Supported: `@dataclass` and `@dataclass(frozen=True)` with `field(default=, default_factory=,
metadata=)`; nothing else of `dataclasses` is used in snddiag.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from operator import attrgetter
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

T = TypeVar("T")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
_NO_METADATA: Mapping[str, Any] = MappingProxyType({})


class _Field:
    """One field of a record: its name, its annotation as written, its default."""

    __slots__ = ("default", "default_factory", "metadata", "name", "type")

    def __init__(
        self,
        default: Any = MISSING,
        default_factory: Any = MISSING,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name = ""
        self.type: Any = None
        self.default = default
        self.default_factory = default_factory
        self.metadata = MappingProxyType(dict(metadata)) if metadata else _NO_METADATA

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, type={self.type!r}, default={self.default!r})"


class FrozenInstanceError(AttributeError):
    """Raised when a field of a frozen record is assigned or deleted."""


def _field(
    *,
    default: Any = MISSING,
    default_factory: Any = MISSING,
    metadata: Mapping[str, Any] | None = None,
) -> Any:
    return _Field(default, default_factory, metadata)


_FIELDS = "__record_fields__"
_VALUES = "__record_values__"  # a class's attrgetter of its fields, for __eq__ and __hash__


def _fields(class_or_instance: Any) -> tuple[_Field, ...]:
    try:
        specs: tuple[_Field, ...] = getattr(class_or_instance, _FIELDS)
    except AttributeError:
        raise TypeError("must be called with a record type or instance") from None
    return specs


def _is_record(obj: Any) -> bool:
    cls = obj if isinstance(obj, type) else type(obj)
    return hasattr(cls, _FIELDS)


def _replace(obj: T, **changes: Any) -> T:
    for spec in _fields(obj):
        if spec.name not in changes:
            changes[spec.name] = getattr(obj, spec.name)
    return type(obj)(**changes)


def _asdict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, type) or not _is_record(obj):
        raise TypeError("asdict() should be called on record instances")
    converted: dict[str, Any] = _as_plain(obj)
    return converted


def _as_plain(value: Any) -> Any:
    if not isinstance(value, type) and _is_record(value):
        return {spec.name: _as_plain(getattr(value, spec.name)) for spec in _fields(value)}
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a namedtuple
        return type(value)(*[_as_plain(item) for item in value])
    if isinstance(value, (list, tuple)):
        return type(value)(_as_plain(item) for item in value)
    if isinstance(value, dict):
        return type(value)((_as_plain(k), _as_plain(v)) for k, v in value.items())
    import copy  # here: it imports weakref, and most runs never call asdict()

    return copy.deepcopy(value)


def _frozen_setattr(self: object, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: object, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _repr(self: object) -> str:
    cls = type(self)
    shown = ", ".join(f"{spec.name}={getattr(self, spec.name)!r}" for spec in _fields(cls))
    return f"{cls.__qualname__}({shown})"


def _eq(self: object, other: object) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    values: Callable[[object], Any] = getattr(self.__class__, _VALUES)
    return values(self) == values(other)


def _hash(self: object) -> int:
    values: Callable[[object], Any] = getattr(self.__class__, _VALUES)
    return hash(values(self))


def _no_values(_: object) -> tuple[()]:
    return ()


def _init_source(specs: Iterable[_Field], frozen: bool) -> tuple[str, dict[str, Any]]:
    """The source of a record's `__init__`, and the names it refers to."""
    names: dict[str, Any] = {"MISSING": MISSING}
    parameters, body = [], []
    for spec in specs:
        if spec.default is not MISSING:
            names[f"_default_{spec.name}"] = spec.default
            parameters.append(f"{spec.name}=_default_{spec.name}")
            value = spec.name
        elif spec.default_factory is not MISSING:
            names[f"_factory_{spec.name}"] = spec.default_factory
            parameters.append(f"{spec.name}=MISSING")
            value = f"_factory_{spec.name}() if {spec.name} is MISSING else {spec.name}"
        else:
            parameters.append(spec.name)
            value = spec.name
        body.append(
            f"    _d[{spec.name!r}] = {value}" if frozen else f"    self.{spec.name} = {value}"
        )
    prelude = ["    _d = self.__dict__"] if frozen else []
    lines = [f"def __init__(self, {', '.join(parameters)}):", *prelude, *body, "    return None"]
    return "\n".join(lines) + "\n", names


def _compile_init(cls: type, specs: tuple[_Field, ...], frozen: bool) -> Callable[..., None]:
    source, names = _init_source(specs, frozen)
    exec(source, names)  # noqa: S102 - our own source, from the class's own field names
    init: Callable[..., None] = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


# A class's first instances are made by binding their arguments in Python; the one that comes
# after these compiles the class's own `__init__`, which then makes every later one faster. A
# run makes most classes a handful of times, and compiling all forty it uses cost 0.06 s in a
# small guest; a class made thousands of times (a kernel log line) pays it once.
_COMPILE_AFTER = 8


def _bound(
    specs: tuple[_Field, ...], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """The field values of one call, as the compiled `__init__` would take them, and its
    TypeErrors for a wrong call."""
    if len(args) > len(specs):
        raise TypeError(
            f"__init__() takes {len(specs) + 1} positional arguments but {len(args) + 1} were given"
        )
    given = dict(zip((spec.name for spec in specs), args))
    for name, value in kwargs.items():
        if name in given:
            raise TypeError(f"__init__() got multiple values for argument {name!r}")
        given[name] = value
    values: dict[str, Any] = {}
    for spec in specs:
        if spec.name in given:
            values[spec.name] = given.pop(spec.name)
        elif spec.default is not MISSING:
            values[spec.name] = spec.default
        elif spec.default_factory is not MISSING:
            values[spec.name] = spec.default_factory()
        else:
            raise TypeError(f"__init__() missing 1 required positional argument: {spec.name!r}")
    if given:
        raise TypeError(f"__init__() got an unexpected keyword argument {next(iter(given))!r}")
    return values


def _lazy_init(cls: type, specs: tuple[_Field, ...], frozen: bool) -> Callable[..., None]:
    made = 0

    def __init__(self: object, *args: Any, **kwargs: Any) -> None:
        nonlocal made
        made += 1
        if made > _COMPILE_AFTER:  # this one and every later one: the compiled __init__
            compiled = _compile_init(cls, specs, frozen)
            type.__setattr__(cls, "__init__", compiled)
            compiled(self, *args, **kwargs)
            return
        values = _bound(specs, args, kwargs)
        if frozen:
            self.__dict__.update(values)
        else:
            for name, value in values.items():
                setattr(self, name, value)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _own_annotations(cls: type) -> dict[str, Any]:
    if sys.version_info >= (3, 10):  # a class's own only, and evaluated if lazy (3.14)
        return dict(cls.__annotations__)
    return dict(cls.__dict__.get("__annotations__", {}))  # noqa: RUF063 - 3.9 inherits otherwise


def _make_record(cls: type, frozen: bool) -> type:
    inherited: dict[str, _Field] = {}
    for base in reversed(cls.__mro__[1:]):
        for spec in base.__dict__.get(_FIELDS, ()):
            inherited[spec.name] = spec
    for name, annotation in _own_annotations(cls).items():
        declared = cls.__dict__.get(name, MISSING)
        if isinstance(declared, _Field):
            spec = declared
            if spec.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, spec.default)
        else:
            if isinstance(declared, (list, dict, set)):
                raise ValueError(
                    f"mutable default {type(declared)} for field {name} is not allowed"
                )
            spec = _Field(default=declared)
        spec.name, spec.type = name, annotation
        inherited[name] = spec
    specs = tuple(inherited.values())
    seen_default = None
    for spec in specs:
        if spec.default is not MISSING or spec.default_factory is not MISSING:
            seen_default = spec.name
        elif seen_default is not None:
            raise TypeError(f"non-default argument {spec.name!r} follows default argument")

    setattr(cls, _FIELDS, specs)
    names = [spec.name for spec in specs]
    setattr(cls, _VALUES, attrgetter(*names) if names else _no_values)
    cls.__init__ = _lazy_init(cls, specs, frozen)  # type: ignore[misc]
    if "__repr__" not in cls.__dict__:
        cls.__repr__ = _repr  # type: ignore[assignment]
    if "__eq__" not in cls.__dict__:
        cls.__eq__ = _eq  # type: ignore[assignment]
        # As `dataclasses`: a frozen record hashes its fields, a mutable one is unhashable.
        cls.__hash__ = _hash if frozen else None  # type: ignore[assignment]
    if frozen:
        cls.__setattr__ = _frozen_setattr  # type: ignore[assignment]
        cls.__delattr__ = _frozen_delattr  # type: ignore[assignment]
    return cls


def _record(cls: type | None = None, /, *, frozen: bool = False) -> Any:
    if cls is None:
        return lambda inner: _make_record(inner, frozen)
    return _make_record(cls, frozen)


if TYPE_CHECKING:
    from dataclasses import Field, asdict, dataclass, field, fields, is_dataclass, replace
else:
    Field, asdict, dataclass, field, fields, is_dataclass, replace = (
        _Field,
        _asdict,
        _record,
        _field,
        _fields,
        _is_record,
        _replace,
    )

__all__ = [
    "MISSING",
    "Field",
    "FrozenInstanceError",
    "asdict",
    "dataclass",
    "field",
    "fields",
    "is_dataclass",
    "replace",
]
