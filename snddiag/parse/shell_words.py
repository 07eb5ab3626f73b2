"""Shell-style words, split exactly as `shlex.split(text)` splits them, in linear time.

`shlex` reads one character at a time and grows each word with `token += char` on an attribute,
so one long quoted word costs quadratic time (a 4 MiB unclosed quote ran for minutes) and even
plain text costs about a microsecond a character. This module gives the same words (POSIX rules:
`'...'` literal, `"..."` where a backslash escapes only `"` and `\\`, a backslash outside quotes
escapes any character, words separated by space, tab, CR or LF) with regular expressions whose
repeats never overlap.
"""

from __future__ import annotations

import re

# One word: plain characters, then any number of (a quoted string or an escaped character, then
# plain characters). Each repeat starts with a quote or a backslash, so no two repeats can match
# the same text. A word stops early only at a quote never closed or at a backslash ending the
# text; matched again from there, it matches nothing, which is how an error shows.
_WORD = re.compile(
    r"""(?=[^ \t\r\n])[^ \t\r\n'"\\]*"""
    r"""(?:(?:'[^']*'|"[^"\\]*(?:\\.[^"\\]*)*"|\\.)[^ \t\r\n'"\\]*)*""",
    re.DOTALL,
)
_QUOTING = re.compile(r"""['"\\]""")
_PIECE = re.compile(
    r"""'(?P<single>[^']*)'|"(?P<double>[^"\\]*(?:\\.[^"\\]*)*)"|\\(?P<escaped>.)"""
    r"""|(?P<plain>[^'"\\]+)""",
    re.DOTALL,
)
_DOUBLE_ESCAPE = re.compile(r'\\(["\\])')


def _unquote(word: str) -> str:
    if '"' not in word and "\\" not in word:
        return word.replace("'", "")  # single quotes only: each one opens or closes a literal
    parts: list[str] = []
    for piece in _PIECE.finditer(word):
        kind = piece.lastgroup or "plain"
        part = piece.group(kind)
        parts.append(_DOUBLE_ESCAPE.sub(r"\1", part) if kind == "double" else part)
    return "".join(parts)


def split_words(text: str) -> list[str] | None:
    """`a "b c"` -> `['a', 'b c']`; None where `shlex.split` raises (unclosed quote, lone `\\`)."""
    words: list[str] = _WORD.findall(text)
    if not _QUOTING.search(text):
        return words
    if "" in words:
        return None
    return [_unquote(word) if _QUOTING.search(word) else word for word in words]
