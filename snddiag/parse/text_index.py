"""A parser's name -> value mapping, each name looked up in the text when it is asked for.

The kernel config and the module indexes have thousands of lines, and the facts ask them for a
handful of names, once per bundle in `analyze`. A `TextIndex` searches the text for the lines
that could name what is asked, and reads those lines exactly as the full parser reads every
line; iterating it, or asking for a name it cannot search for, parses the whole text.
`tests/parse/test_lazy_indexes.py` holds each index to its full parser.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from snddiag.parse import clip, lines_of

# Where str.splitlines() ends a line besides "\n" (lines_of splits there too).
_OTHER_LINE_ENDS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def single_line_ends(text: str) -> str:
    """`text` with "\\n" ending every line where str.splitlines() ends one (and each line cut
    as lines_of cuts it): a search for "\\n" + something then finds what lines_of would."""
    # One fast search a kind: a regular expression's class would step through every character.
    if any(end in text for end in _OTHER_LINE_ENDS):
        return "\n".join(lines_of(text))
    return text


class TextIndex(Mapping[str, str]):
    """The full parser's mapping, each name searched for in the text when it is asked for (and
    remembered); the last line for a name wins, as in the full parsers."""

    def __init__(self, text: str) -> None:
        self._text = "\n" + single_line_ends(text)
        self._all: dict[str, str] | None = None
        self._looked_up: dict[str, str | None] = {}  # None: no line names it

    def _searchable(self, name: str) -> bool:
        """Whether a search of the text answers for `name` (else the text is parsed whole)."""
        raise NotImplementedError

    def _look_up(self, name: str) -> str | None:
        """The value of the last line that names `name`; None when no line does."""
        raise NotImplementedError

    def _parse_all(self, text: str) -> dict[str, str]:
        raise NotImplementedError

    def _line_at(self, at: int) -> tuple[int, str]:
        """(where it starts, the line) of the line holding position `at`, cut as lines_of cuts
        it."""
        start = self._text.rfind("\n", 0, at) + 1
        end = self._text.find("\n", at)
        return start, clip(self._text[start : end if end >= 0 else len(self._text)])

    def __getitem__(self, name: str) -> str:
        if self._all is not None or not self._searchable(name):
            return self._options()[name]
        if name not in self._looked_up:
            self._looked_up[name] = self._look_up(name)
        value = self._looked_up[name]
        if value is None:
            raise KeyError(name)
        return value

    def _options(self) -> dict[str, str]:
        if self._all is None:
            self._all = self._parse_all(self._text[1:])
        return self._all

    def __iter__(self) -> Iterator[str]:
        return iter(self._options())

    def __len__(self) -> int:
        return len(self._options())
