"""Kernel configuration (`/proc/config.gz` decompressed, `/boot/config-<release>`)."""

from __future__ import annotations

import re

from snddiag.parse import Parsed, lines_of

_SET = re.compile(r"^(CONFIG_\w+)=(.*)$")
_UNSET = re.compile(r"^# (CONFIG_\w+) is not set$")


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
