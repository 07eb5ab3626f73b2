"""`modinfo virtio_snd` (kmod or busybox): `key: value` lines, keys repeat (parm, alias)."""

from __future__ import annotations

import re

from snddiag.parse import Parsed

_LINE = re.compile(r"^([A-Za-z_][\w.-]*):\s*(.*)$")


def parse_modinfo(text: str) -> Parsed[dict[str, tuple[str, ...]]]:
    fields: dict[str, list[str]] = {}
    odd: list[str] = []
    last = ""
    for line in text.splitlines():
        match = _LINE.match(line)
        if match:
            last = match.group(1)
            fields.setdefault(last, []).append(match.group(2).strip())
        elif line.startswith(("\t", " ")) and last:
            # kmod wraps long signature values onto indented continuation lines.
            fields[last][-1] += line.strip()
        elif line.strip():
            odd.append(line)
    return Parsed({k: tuple(v) for k, v in fields.items()}, tuple(odd))
