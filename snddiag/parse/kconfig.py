"""Kernel configuration (`/proc/config.gz` decompressed, `/boot/config-<release>`)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from snddiag.parse import MAX_LINE_CHARS, Parsed, lines_of

_SET = re.compile(r"^(CONFIG_\w+)=(.*)$")
_UNSET = re.compile(r"^# (CONFIG_\w+) is not set$")
_NAME = re.compile(r"CONFIG_\w+")
# Where str.splitlines() ends a line besides "\n" (lines_of splits there too).
_OTHER_LINE_ENDS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def parse_kconfig(text: str) -> Parsed[dict[str, str]]:
    """Option -> value (`y`, `m`, a string or number); `# ... is not set` gives `n`."""
    options: dict[str, str] = {}
    odd: list[str] = []
    for line in lines_of(text):
        match = _SET.match(line)
        if match:
            options[match.group(1)] = match.group(2).strip('"')
            continue
        match = _UNSET.match(line)
        if match:
            options[match.group(1)] = "n"
        elif line.strip() and not line.startswith("#"):
            odd.append(line)
    return Parsed(options, tuple(odd))


def single_line_ends(text: str) -> str:
    """`text` with "\\n" ending every line where str.splitlines() ends one (and each line cut
    as lines_of cuts it): a search for "\\n" + something then finds what lines_of would."""
    # One fast search a kind: a regular expression's class would step through every character.
    if any(end in text for end in _OTHER_LINE_ENDS):
        return "\n".join(lines_of(text))
    return text


class KernelConfig(Mapping[str, str]):
    """parse_kconfig's options, each read from the text when it is looked up: a config has
    ten thousand lines and the facts ask for a handful, once per bundle in `analyze`. The last
    line that sets an option wins, as in parse_kconfig; iterating parses it all."""

    def __init__(self, text: str) -> None:
        self._text = "\n" + single_line_ends(text)
        self._all: dict[str, str] | None = None
        self._looked_up: dict[str, str | None] = {}  # None: the config does not name it

    def _line(self, start: int) -> str:
        """The line that begins at `start` (just after a "\\n"), cut as lines_of cuts it."""
        end = self._text.find("\n", start)
        return self._text[start : end if end >= 0 else len(self._text)][:MAX_LINE_CHARS]

    def _last(
        self, needle: str, pattern: re.Pattern[str], name: str, start: int = 0
    ) -> tuple[int, str]:
        """(where, value) of the last line at or after `start` starting with `needle` that
        `pattern` matches for `name`; (-1, "") when none does."""
        end = len(self._text)
        while (at := self._text.rfind("\n" + needle, start, end)) >= 0:
            match = pattern.match(self._line(at + 1))
            if match and match.group(1) == name:
                return at, match.group(2) if pattern is _SET else "n"
            end = at
        return -1, ""

    def __getitem__(self, name: str) -> str:
        if self._all is not None or not _NAME.fullmatch(name):
            return self._options()[name]
        if name not in self._looked_up:
            self._looked_up[name] = self._look_up(name)
        value = self._looked_up[name]
        if value is None:
            raise KeyError(name)
        return value

    def _look_up(self, name: str) -> str | None:
        set_at, value = self._last(name + "=", _SET, name)
        # Only a "not set" line after the last setting overrides it: search that far back only.
        unset_at, _ = self._last(f"# {name} is not set", _UNSET, name, max(set_at, 0))
        if set_at < 0 and unset_at < 0:
            return None
        return value.strip('"') if set_at > unset_at else "n"

    def _options(self) -> dict[str, str]:
        if self._all is None:
            self._all = parse_kconfig(self._text[1:]).value
        return self._all

    def __iter__(self) -> Iterator[str]:
        return iter(self._options())

    def __len__(self) -> int:
        return len(self._options())
