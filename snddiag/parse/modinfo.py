"""`modinfo virtio_snd` (kmod or busybox): `key: value` lines, keys repeat (parm, alias)."""

from __future__ import annotations

from snddiag.parse import Parsed, lines_of
from snddiag.patterns import compiled_later

_LINE = compiled_later(r"^([A-Za-z_][\w.-]*):\s*(.*)$")


def parse_modinfo(text: str) -> Parsed[dict[str, tuple[str, ...]]]:
    # Each value is kept as its pieces and joined once at the end: appending continuation lines
    # to a string one by one copied the whole value each time (quadratic on many lines).
    fields: dict[str, list[list[str]]] = {}
    odd: list[str] = []
    last: list[str] | None = None
    for line in lines_of(text):
        match = _LINE.match(line)
        if match:
            last = [match.group(2).strip()]
            fields.setdefault(match.group(1), []).append(last)
        elif line.startswith(("\t", " ")) and last is not None:
            # kmod wraps long signature values onto indented continuation lines.
            last.append(line.strip())
        elif line.strip():
            odd.append(line)
    return Parsed(
        {key: tuple("".join(pieces) for pieces in values) for key, values in fields.items()},
        tuple(odd),
    )
