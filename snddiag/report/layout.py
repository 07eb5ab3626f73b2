"""Text laid out for a terminal: lines broken at spaces under a hanging indent, and a word too
long for a line of its own (a URL, a path) kept whole: it overflows the line, it is never split.

rich folds such a word at the margin (`..._diskless_syste` / `m`), which breaks clicking and
pasting it, and pads every line it wraps with styled spaces. Here lines are broken first and
then printed as they are, with no padding and no cropping.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

_WORD = re.compile(r"\S+\s*")
# A style sequence ending a line (rich's are short: `\x1b[1;38;5;196m`).
_LAST_SGR = re.compile(r"\x1b\[[0-9;]{0,24}m\Z")

SEVERITY_STYLE = {"error": "bold red", "warning": "bold yellow", "info": "bold blue"}
# The narrowest column text is broken to, however deep the indent or narrow the terminal.
MIN_WIDTH = 20
DEFAULT_WIDTH = 80
MAX_WIDTH = 1000


def sane_width(width: int) -> int:
    """The width to lay a report out at, from what the terminal or COLUMNS says: one out of
    range (0, absurdly wide) is the default; a narrow one is widened to MIN_WIDTH, so that text
    overflows a tiny terminal rather than being cut inside words."""
    if not 1 <= width <= MAX_WIDTH:
        return DEFAULT_WIDTH
    return max(width, MIN_WIDTH)


@contextlib.contextmanager
def page(stream: IO[str], *, color: bool | None) -> Iterator[Console]:
    """A console for the report or `explain`: it renders at the stream's width into a buffer,
    which goes to `stream` at the end without rich's trailing padding (reports get pasted into
    tickets and diffed). Unstyled (color False, NO_COLOR, or not a terminal) means no escape
    sequence at all, bold included."""
    from rich.console import Console

    target = Console(file=stream, highlight=False, emoji=False)
    styled = color is True or (
        color is None and "NO_COLOR" not in os.environ and target.is_terminal
    )
    buffer = io.StringIO()
    yield Console(
        file=buffer,
        width=sane_width(target.width),
        color_system=("auto" if target.is_terminal else "standard") if styled else None,
        force_terminal=styled,
        highlight=False,
        emoji=False,
    )
    stream.write(without_trailing_spaces(buffer.getvalue()))


def break_offsets(line: str, width: int, first_width: int | None = None) -> list[int]:
    """Where to break one line so that each piece fits in `width` cells (the first piece in
    `first_width`), at spaces only; a word wider than that starts a piece of its own and
    overflows it."""
    from rich.cells import cell_len

    offsets: list[int] = []
    used = 0
    room = width if first_width is None else first_width
    for number, match in enumerate(_WORD.finditer(line)):
        word = match.group()
        if number == 0:
            used = cell_len(line[: match.start()])  # the line's own leading spaces
        elif used + cell_len(word.rstrip()) > room:
            offsets.append(match.start())
            used = 0
            room = width
        used += cell_len(word)
    return offsets


def wrap(text: Text, width: int, first_width: int | None = None) -> list[Text]:
    """`text` as lines of at most `width` cells (the first of `first_width`) but for words that
    are wider, styles kept, its own line breaks kept, no trailing spaces."""
    lines: list[Text] = []
    for paragraph in text.split("\n", allow_blank=True):
        paragraph.expand_tabs(8)
        offsets = break_offsets(paragraph.plain, width, None if lines else first_width)
        for piece in paragraph.divide(offsets):
            piece.rstrip()
            lines.append(piece)
    return lines


def print_hanging(
    console: Console, body: Text, *, indent: int = 0, label: Text | None = None, hang_by: int = 0
) -> None:
    """`label` then `body`, from column `indent`, wrapped to the console's width: the body's
    further lines start under its first character, not under the label (or, when that leaves
    less than MIN_WIDTH columns, 4 columns in from `indent`), and `hang_by` columns further in
    (so that no wrapped line of a header starts where the verdict line does)."""
    from rich.text import Text

    label = label or Text()
    hang = indent + label.cell_len + hang_by
    if console.width - hang < MIN_WIDTH:
        hang = indent + min(4, label.cell_len) + min(2, hang_by)
    first = max(console.width - indent - label.cell_len, 1)
    for number, line in enumerate(wrap(body, max(console.width - hang, MIN_WIDTH), first)):
        out = Text(" " * indent)
        out.append_text(label if number == 0 else Text(" " * (hang - indent)))
        out.append_text(line)
        # soft_wrap: rich neither wraps, folds, crops nor pads the line; it is laid out already.
        console.print(out, soft_wrap=True)


def without_trailing_spaces(rendered: str) -> str:
    """Rendered lines with no space at their end, styled or not (what rich wraps itself ends in
    a space inside its style): reports get pasted into tickets and diffed. Each line ends in
    a newline."""
    return "".join(_trimmed(line) + "\n" for line in rendered.splitlines())


def _trimmed(line: str) -> str:
    """`line` without its trailing spaces, the style sequences among them kept."""
    styles: list[str] = []
    while True:
        line = line.rstrip(" ")
        match = _LAST_SGR.search(line, max(0, len(line) - 32))
        if match is None:
            return line + "".join(reversed(styles))
        styles.append(match.group())
        line = line[: match.start()]
