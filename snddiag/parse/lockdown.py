"""/sys/kernel/security/lockdown (securityfs; the lockdown LSM, 5.4+): the modes this kernel
offers, the one in force in brackets: `[none] integrity confidentiality`."""

from __future__ import annotations

from snddiag.parse import Parsed, clip

LOCKDOWN_MODES = ("none", "integrity", "confidentiality")


def parse_lockdown(text: str) -> Parsed[str | None]:
    """The mode in force, or None with the line unparsed when no known mode is bracketed."""
    lines = text.splitlines()
    first = clip(lines[0]) if lines else ""
    chosen = [word[1:-1] for word in first.split() if word.startswith("[") and word.endswith("]")]
    if len(chosen) == 1 and chosen[0] in LOCKDOWN_MODES:
        return Parsed(chosen[0])
    return Parsed(None, (first,) if first else ())
