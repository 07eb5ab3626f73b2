"""load_json skips the Unicode walk when no lone surrogate can be in the text: it must give what
the walk gives on every text, surrogate escapes or not."""

from __future__ import annotations

import json
import re

import pytest

from snddiag.evidence import load_json, well_formed

TEXTS = [
    '{"a": "plain", "b": [1, 2.5, null, true]}',
    '{"a": "\\ud800 lone high", "\\udc80": "lone low key"}',
    '["\\uD83D\\uDE00 a pair", "\\uDBFF"]',
    '["\\\\ud800 an escaped backslash, then text"]',
    '["caf\\u00e9 non-ASCII escape", "\\u20ac"]',
    '{"nested": {"deep": ["\\udfff"]}}',
]


@pytest.mark.parametrize("text", TEXTS)
def test_load_json_equals_the_full_walk(text: str) -> None:
    walked = well_formed(json.loads(text))
    assert load_json(text) == walked
    assert not re.search("[\ud800-\udfff]", json.dumps(load_json(text), ensure_ascii=False))


def test_lone_surrogate_escape_becomes_replacement_character() -> None:
    assert load_json('["a\\ud800b"]') == ["a\ufffdb"]
    assert load_json('{"\\udc80": 1}') == {"\ufffd": 1}


def test_raw_surrogate_in_text_becomes_replacement_character() -> None:
    assert load_json('["a\udc80b"]') == ["a\ufffdb"]
