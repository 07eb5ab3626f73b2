"""The JSON documents snddiag itself stores for library evidence (`lib/udev/*`, `lib/psutil/*`)."""

from __future__ import annotations

import json
from typing import Any

from snddiag.parse import Parsed


def parse_json_list(text: str) -> Parsed[list[dict[str, Any]] | None]:
    """A JSON list of objects; anything else (garbage, a truncated copy) -> None."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
        return Parsed(None, (text[:200],))
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        return Parsed(None, (text[:200],))
    return Parsed(value)
