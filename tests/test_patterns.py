"""snddiag.patterns.compiled_later: re.compile, done at the first use."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import snddiag
from snddiag import patterns
from snddiag.patterns import compiled_later


def test_nothing_is_compiled_until_first_use_and_then_once(monkeypatch: pytest.MonkeyPatch) -> None:
    compiles: list[str] = []
    real = re.compile

    def counting(pattern: str, flags: int = 0) -> re.Pattern[str]:
        compiles.append(pattern)
        return real(pattern, flags)

    monkeypatch.setattr(patterns.re, "compile", counting)
    later = compiled_later(r"(\w+)=(\d+)", re.ASCII)
    assert compiles == []
    match = later.match("rate=48000")
    assert match is not None and match.groups() == ("rate", "48000")
    assert later.search("x rate=1") is not None
    assert compiles == [r"(\w+)=(\d+)"]


def test_a_stand_in_answers_as_the_compiled_pattern() -> None:
    source, flags = r"^(?P<key>[a-z]+): (.*)$", re.MULTILINE
    later, now = compiled_later(source, flags), re.compile(source, flags)
    text = "card: virtio\nrate: 48000\n"
    assert [m.groups() for m in later.finditer(text)] == [m.groups() for m in now.finditer(text)]
    assert later.findall(text) == now.findall(text)
    assert later.sub(r"\g<key>", text) == now.sub(r"\g<key>", text)
    assert later.split(text) == now.split(text)
    assert later.fullmatch("card: x") is not None
    assert (later.pattern, later.flags, later.groups, dict(later.groupindex)) == (
        now.pattern,
        now.flags,
        now.groups,
        dict(now.groupindex),
    )
    assert "compiled_later" in repr(compiled_later("a"))


def test_a_bad_pattern_fails_at_its_first_use() -> None:
    later = compiled_later("(unclosed")
    with pytest.raises(re.error):
        later.match("x")


def _stand_ins() -> list[tuple[str, str, object]]:
    found = []
    for info in pkgutil.walk_packages(snddiag.__path__, "snddiag."):
        if info.name.endswith("__main__"):  # running it is running snddiag
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if type(value).__name__ == "_Later":
                found.append((info.name, name, value))
    return found


def test_every_pattern_compiled_later_in_snddiag_compiles() -> None:
    found = _stand_ins()
    assert len(found) >= 20  # the parsers' and fact groups' patterns
    for module, name, value in found:
        pattern, flags = vars(value)["_source"]
        assert value.pattern == re.compile(pattern, flags).pattern, f"{module}.{name}"
