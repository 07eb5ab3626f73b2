"""`/etc/os-release`: shell-style `KEY=value` lines."""

from __future__ import annotations

import shlex

from snddiag.parse import Parsed


def parse_os_release(text: str) -> Parsed[dict[str, str]]:
    fields: dict[str, str] = {}
    odd: list[str] = []
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep or not key.strip().isidentifier():
            if line.strip() and not line.startswith("#"):
                odd.append(line)
            continue
        try:
            words = shlex.split(value)
        except ValueError:
            odd.append(line)
            continue
        fields[key.strip()] = " ".join(words)
    return Parsed(fields, tuple(odd))
