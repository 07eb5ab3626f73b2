"""Text laid out for a terminal: lines broken at spaces under a hanging indent, and a word too
long for a line of its own (a URL, a path) kept whole: it overflows the line, it is never split.

rich folds such a word at the margin (`..._diskless_syste` / `m`), which breaks clicking and
pasting it, and pads every line it wraps with styled spaces. Here lines are broken first and
then printed as they are, with no padding and no cropping.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

_WORD = re.compile(r"\S+\s*")
# The narrowest column text is broken to, however deep the indent or narrow the terminal.
MIN_WIDTH = 20


def break_offsets(line: str, width: int) -> list[int]:
    """Where to break one line so that each piece fits in `width` cells, at spaces only; a word
    wider than `width` starts a piece of its own and overflows it."""
    from rich.cells import cell_len

    offsets: list[int] = []
    used = 0
    for number, match in enumerate(_WORD.finditer(line)):
        word = match.group()
        if number == 0:
            used = cell_len(line[: match.start()])  # the line's own leading spaces
        elif used + cell_len(word.rstrip()) > width:
            offsets.append(match.start())
            used = 0
        used += cell_len(word)
    return offsets


def wrap(text: Text, width: int) -> list[Text]:
    """`text` as lines of at most `width` cells (but for words that are wider), styles kept,
    its own line breaks kept, no trailing spaces."""
    lines: list[Text] = []
    for paragraph in text.split("\n", allow_blank=True):
        paragraph.expand_tabs(8)
        for piece in paragraph.divide(break_offsets(paragraph.plain, width)):
            piece.rstrip()
            lines.append(piece)
    return lines


def print_hanging(
    console: Console, body: Text, *, indent: int = 0, label: Text | None = None
) -> None:
    """`label` then `body`, from column `indent`, wrapped to the console's width: the body's
    further lines start under its first character, not under the label."""
    from rich.text import Text

    label = label or Text()
    hang = indent + label.cell_len
    for number, line in enumerate(wrap(body, max(console.width - hang, MIN_WIDTH))):
        out = Text(" " * indent)
        out.append_text(label if number == 0 else Text(" " * label.cell_len))
        out.append_text(line)
        # soft_wrap: rich neither wraps, folds, crops nor pads the line; it is laid out already.
        console.print(out, soft_wrap=True)
