"""`/proc/cmdline`: the kernel command line, split as the kernel splits it (quotes kept whole)."""

from __future__ import annotations

from snddiag.parse import Parsed, clip
from snddiag.parse.shell_words import split_words


def parse_cmdline(text: str) -> Parsed[tuple[tuple[str, str], ...]]:
    """-> (name, value) pairs in order; a bare word has the value ``""``.

    The command line is one line: only its first `MAX_LINE_CHARS` characters are read (the kernel
    keeps 2 KiB on x86 and arm64, 4 KiB on most others).
    """
    text = clip(text)
    words = split_words(text.strip())
    if words is None:
        words = text.split()
    pairs = []
    for word in words:
        name, _sep, value = word.partition("=")
        pairs.append((name, value))
    return Parsed(tuple(pairs))


def blacklisted_on_cmdline(pairs: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Module -> the parameter that blocks it (`module_blacklist=` or `modprobe.blacklist=`)."""
    blocked: dict[str, str] = {}
    for name, value in pairs:
        if name in ("module_blacklist", "modprobe.blacklist"):
            for module in value.split(","):
                if module:
                    blocked[module.replace("-", "_")] = f"{name}={value}"
    return blocked
