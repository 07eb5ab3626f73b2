"""Regular expressions compiled when first used, not when their module is imported.

A live run imports every parser and fact group, but most of their patterns match text that a
given guest does not have (a dmesg log, an asound.conf, a PipeWire metadata dump); compiling
them all at import was a twentieth of a run's start-up. `compiled_later(...)` stands for
`re.compile(...)`: the first use of a method compiles the pattern and keeps its bound
methods on the stand-in, so later calls cost what the pattern's own do.
"""

from __future__ import annotations

import re
from typing import Any, cast


class _Later:
    def __init__(self, pattern: str, flags: int) -> None:
        self._source = (pattern, flags)

    def __getattr__(self, name: str) -> Any:
        compiled = re.compile(*self._source)
        for attribute in dir(compiled):
            if not attribute.startswith("_"):
                setattr(self, attribute, getattr(compiled, attribute))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"compiled_later({self._source[0]!r}, {self._source[1]})"


def compiled_later(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """re.compile(pattern, flags), done at the first use."""
    return cast("re.Pattern[str]", _Later(pattern, flags))
