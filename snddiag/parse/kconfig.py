"""Kernel configuration (`/proc/config.gz` decompressed, `/boot/config-<release>`)."""

from __future__ import annotations

import re

from snddiag.parse import Parsed, lines_of
from snddiag.parse.text_index import TextIndex
from snddiag.patterns import compiled_later

_SET = compiled_later(r"^(CONFIG_\w+)=(.*)$")
_UNSET = re.compile(r"^# (CONFIG_\w+) is not set$")
_NAME = re.compile(r"CONFIG_\w+")


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


class KernelConfig(TextIndex):
    """parse_kconfig's options, each read from the text when it is looked up: a config has
    ten thousand lines and the facts ask for a handful, once per bundle in `analyze`. The last
    line that sets an option wins, as in parse_kconfig; iterating parses it all."""

    def _searchable(self, name: str) -> bool:
        return bool(_NAME.fullmatch(name))

    def _last(
        self, needle: str, pattern: re.Pattern[str], name: str, start: int = 0
    ) -> tuple[int, str]:
        """(where, value) of the last line at or after `start` starting with `needle` that
        `pattern` matches for `name`; (-1, "") when none does."""
        end = len(self._text)
        while (at := self._text.rfind("\n" + needle, start, end)) >= 0:
            match = pattern.match(self._line_at(at + 1)[1])
            if match and match.group(1) == name:
                return at, match.group(2) if pattern is _SET else "n"
            end = at
        return -1, ""

    def _look_up(self, name: str) -> str | None:
        set_at, value = self._last(name + "=", _SET, name)
        # Only a "not set" line after the last setting overrides it: search that far back only.
        unset_at, _ = self._last(f"# {name} is not set", _UNSET, name, max(set_at, 0))
        if set_at < 0 and unset_at < 0:
            return None
        return value.strip('"') if set_at > unset_at else "n"

    def _parse_all(self, text: str) -> dict[str, str]:
        return parse_kconfig(text).value
