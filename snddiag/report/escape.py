"""Strings from a guest or a bundle, made safe to print: nothing in them can drive a terminal.

A bundle is written by a stranger; a guest's kernel log, DMI strings and file names are whatever
the guest says. Printed raw, an ESC or C1 byte could clear the screen, set the window title,
plant an OSC 8 hyperlink or redraw a line to read "snddiag: everything is fine". `escape` shows
each such character visibly instead, as Python writes it: ESC is the four characters `\\x1b`.

Shown escaped:
- C0 controls U+0000-U+001F except TAB (a tab only moves the cursor forward), LF included (rule
  prose is one paragraph, so a line break in a report's field can only come from a value filled
  in from a guest or a bundle), and DEL U+007F;
- C1 controls U+0080-U+009F (U+009B is a CSI on its own, like ESC [);
- invisible format characters that reorder or hide text: bidi embeddings, overrides and
  isolates (U+202A-U+202E, U+2066-U+2069), marks (U+200E, U+200F, U+061C), zero-width
  characters (U+200B-U+200D, U+2060, U+FEFF), line and paragraph separators (U+2028, U+2029,
  which also split lines for `str.splitlines`), interlinear annotations (U+FFF9-U+FFFB);
- lone surrogates (a file name that was not UTF-8, decoded with surrogateescape).

A backslash is left as it is: an escaped character and the same text typed by a guest look
alike, but neither controls anything. JSON output is never escaped here: `json.dumps` writes
every control character as `\\u00XX` already, and scripts need the exact values.
"""

from __future__ import annotations

import re
from typing import IO, Any

from snddiag.patterns import compiled_later

_UNSAFE = (
    "\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069"
    "\ufeff\ufff9-\ufffb\ud800-\udfff"
)
_UNSAFE_LINE = compiled_later(f"[{_UNSAFE}]")


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: str) -> str:
    """`text` with every character that could control a terminal written visibly (`\\x1b`)."""
    if _UNSAFE_LINE.search(text) is None:
        return text
    return _UNSAFE_LINE.sub(_shown, text)


def escape_document(value: Any) -> Any:
    """A copy of a JSON-like document with every string (keys too) escaped, for text output:
    whatever field a value lands in (a rule's title, explanation or step included)."""
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, dict):
        return {escape(str(k)): escape_document(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [escape_document(v) for v in value]
    return value


def encodes(stream: IO[str], text: str) -> bool:
    """Whether `stream` can write `text` as it is (a stream opened as ASCII cannot write `·`)."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True
