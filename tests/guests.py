from __future__ import annotations

from pathlib import Path

import pytest

from snddiag.evidence import Evidence, load_directory

REPO = Path(__file__).resolve().parent.parent
GUESTS = REPO / "tests" / "fixtures" / "guests"

_cache: dict[str, Evidence] = {}


def guest_evidence(name: str) -> Evidence:
    """The evidence snapshot a lab guest captured (tests/guest/capture-fixtures)."""
    if name not in _cache:
        directory = GUESTS / name
        if not (directory / "manifest.json").is_file():
            pytest.fail(f"no captured guest '{name}': run tests/guest/capture-fixtures {name}")
        _cache[name] = load_directory(directory)
    return _cache[name]


def guest_text(name: str, key: str) -> str:
    text = guest_evidence(name).text(key)
    assert text is not None, f"guest {name} has no readable {key}"
    return text


def captured_guests() -> list[str]:
    return sorted(p.name for p in GUESTS.iterdir() if (p / "manifest.json").is_file())
