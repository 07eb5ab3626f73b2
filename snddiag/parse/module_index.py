"""The module tree's indexes: `modules.dep`, `modules.builtin`."""

from __future__ import annotations

import itertools

from snddiag.parse import Parsed, lines_of
from snddiag.parse.text_index import TextIndex


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


_MAX_SEPARATORS = 4  # - or _ at each: 16 spellings; for a name with more, the text is parsed whole


def _builtin_path(line: str) -> str | None:
    return line.strip() if ".ko" in line else None


def _parse_builtin_paths(text: str) -> dict[str, str]:
    paths = (_builtin_path(line) for line in lines_of(text))
    return {module_name(path): path for path in paths if path is not None}


class ModuleIndex(TextIndex):
    """parse_modules_dep's name -> path (or with `builtin`, modules.builtin's names, as
    parse_modules_builtin reads them), each name looked up in the text when asked: the index
    has thousands of lines and the facts ask for one module, once per bundle in `analyze`. The
    last line for a module wins, as in parse_modules_dep; iterating parses it all."""

    def __init__(self, text: str, *, builtin: bool = False) -> None:
        super().__init__(text)
        self._path_of = _builtin_path if builtin else _module_path
        self._parse_paths = _parse_builtin_paths if builtin else _parse_dep_paths

    def _searchable(self, name: str) -> bool:
        return "-" not in name and name.count("_") <= _MAX_SEPARATORS

    def _spellings(self, name: str) -> list[str]:
        """The file name stems that kmod reads as `name` (- and _ alike)."""
        parts = name.split("_")
        return [
            "".join(itertools.chain.from_iterable(zip(parts, (*seps, ""))))
            for seps in itertools.product("_-", repeat=len(parts) - 1)
        ]

    def _last_line_naming(self, stem: str, name: str) -> tuple[int, str | None]:
        """(where, path) of the last line whose module is `name`, found by its `stem`.ko."""
        needle = stem + ".ko"
        end = len(self._text)
        while (at := self._text.rfind(needle, 0, end)) >= 0:
            start, line = self._line_at(at)
            path = self._path_of(line)
            if path is not None and module_name(path) == name:
                return start, path
            # The rest of this line says the same: each line is read once, however many times
            # it holds the needle (a hostile line of 4 MiB can hold it 300,000 times).
            end = start
        return -1, None

    def _look_up(self, name: str) -> str | None:
        return max(self._last_line_naming(stem, name) for stem in self._spellings(name))[1]

    def _parse_all(self, text: str) -> dict[str, str]:
        return self._parse_paths(text)


def parse_modules_builtin(text: str) -> Parsed[frozenset[str]]:
    return Parsed(frozenset(_parse_builtin_paths(text)))
