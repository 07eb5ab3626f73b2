"""`/etc/os-release`: shell-style `KEY=value` lines."""

from __future__ import annotations

from snddiag.parse import Parsed, lines_of
from snddiag.parse.shell_words import split_words


def parse_os_release(text: str) -> Parsed[dict[str, str]]:
    fields: dict[str, str] = {}
    odd: list[str] = []
    for line in lines_of(text):
        key, sep, value = line.partition("=")
        if not sep or not key.strip().isidentifier():
            if line.strip() and not line.startswith("#"):
                odd.append(line)
            continue
        words = split_words(value)
        if words is None:
            odd.append(line)
            continue
        fields[key.strip()] = " ".join(words)
    return Parsed(fields, tuple(odd))
