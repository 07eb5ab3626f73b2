"""The module tree's indexes: `modules.dep`, `modules.builtin`."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping

from snddiag.parse import MAX_LINE_CHARS, Parsed, lines_of
from snddiag.parse.kconfig import single_line_ends


def module_name(path: str) -> str:
    """`kernel/sound/virtio/virtio_snd.ko.xz` -> `virtio_snd` (kmod treats - and _ alike)."""
    stem = path[path.rfind("/") + 1 :].partition(".ko")[0]
    return stem.replace("-", "_") if "-" in stem else stem


def _module_path(line: str) -> str | None:
    """The module file a modules.dep line is about; None for a line that names none."""
    path, sep, _deps = line.partition(":")
    return path.strip() if sep and ".ko" in path else None


def parse_modules_dep(text: str) -> Parsed[dict[str, str]]:
    """`kernel/sound/virtio/virtio_snd.ko.xz: kernel/sound/core/snd-pcm.ko.xz ...` -> name: path."""
    found: dict[str, str] = {}
    odd: list[str] = []
    for line in lines_of(text):
        path = _module_path(line)
        if path is None:
            if line.strip():
                odd.append(line)
            continue
        found[module_name(path)] = path
    return Parsed(found, tuple(odd))


def _parse_dep_paths(text: str) -> dict[str, str]:
    return parse_modules_dep(text).value


_MAX_SEPARATORS = 4  # - or _ at each: 16 spellings; a name with more is looked up in full


def _builtin_path(line: str) -> str | None:
    return line.strip() if ".ko" in line else None


def _parse_builtin_paths(text: str) -> dict[str, str]:
    paths = (_builtin_path(line) for line in lines_of(text))
    return {module_name(path): path for path in paths if path is not None}


class ModuleIndex(Mapping[str, str]):
    """parse_modules_dep's name -> path (or with `builtin`, modules.builtin's names, as
    parse_modules_builtin reads them), each name looked up in the text when asked: the index
    has thousands of lines and the facts ask for one module, once per bundle in `analyze`. The
    last line for a module wins, as in parse_modules_dep; iterating parses it all."""

    def __init__(self, text: str, *, builtin: bool = False) -> None:
        self._path_of = _builtin_path if builtin else _module_path
        self._parse_all = _parse_builtin_paths if builtin else _parse_dep_paths
        self._text = "\n" + single_line_ends(text)
        self._all: dict[str, str] | None = None
        self._looked_up: dict[str, str | None] = {}  # None: no line names it

    def _spellings(self, name: str) -> list[str] | None:
        """The file name stems that kmod reads as `name` (- and _ alike); None: too many."""
        parts = name.split("_")
        if len(parts) > _MAX_SEPARATORS + 1:
            return None
        return [
            "".join(itertools.chain.from_iterable(zip(parts, (*seps, ""))))
            for seps in itertools.product("_-", repeat=len(parts) - 1)
        ]

    def _last_line_naming(self, stem: str, name: str) -> tuple[int, str | None]:
        """(where, path) of the last line whose module is `name`, found by its `stem`.ko."""
        needle = stem + ".ko"
        end = len(self._text)
        while (at := self._text.rfind(needle, 0, end)) >= 0:
            start = self._text.rfind("\n", 0, at) + 1
            stop = self._text.find("\n", at)
            path = self._path_of(self._text[start : stop if stop >= 0 else None][:MAX_LINE_CHARS])
            if path is not None and module_name(path) == name:
                return start, path
            end = at
        return -1, None

    def __getitem__(self, name: str) -> str:
        spellings = self._spellings(name) if self._all is None and "-" not in name else None
        if spellings is None:
            return self._options()[name]
        if name not in self._looked_up:
            self._looked_up[name] = max(self._last_line_naming(s, name) for s in spellings)[1]
        path = self._looked_up[name]
        if path is None:
            raise KeyError(name)
        return path

    def _options(self) -> dict[str, str]:
        if self._all is None:
            self._all = self._parse_all(self._text[1:])
        return self._all

    def __iter__(self) -> Iterator[str]:
        return iter(self._options())

    def __len__(self) -> int:
        return len(self._options())


def parse_modules_builtin(text: str) -> Parsed[frozenset[str]]:
    names = {module_name(line.strip()) for line in lines_of(text) if ".ko" in line}
    return Parsed(frozenset(names))
