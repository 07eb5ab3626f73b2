"""Lines broken at spaces only: a URL or a path longer than the line is kept whole."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.text import Text

from snddiag.report.layout import break_offsets, print_hanging, without_trailing_spaces, wrap

URL = "https://wiki.alpinelinux.org/wiki/Upgrading_Alpine#Upgrading_a_diskless_system"
PROSE = f"On a diskless system see {URL} and mount the modloop for the running kernel again."


@pytest.mark.parametrize("width", [20, 30, 40, 79, 80, 120])
def test_wrapped_prose_keeps_the_url_whole_and_every_other_line_fits(width: int) -> None:
    lines = [line.plain for line in wrap(Text(PROSE), width)]
    assert " ".join(lines) == PROSE
    assert sum(URL in line for line in lines) == 1
    assert all(len(line) <= width for line in lines if URL not in line)


def test_a_word_too_long_for_the_line_starts_a_line_of_its_own() -> None:
    lines = [line.plain for line in wrap(Text(PROSE), 40)]
    assert URL in lines


def test_line_breaks_of_prose_are_kept() -> None:
    assert [line.plain for line in wrap(Text("one\n\ntwo three"), 40)] == ["one", "", "two three"]


def test_offsets_break_at_spaces_only() -> None:
    assert break_offsets("aaa bbb ccc", 7) == [8]
    assert break_offsets("aaa bbb ccc", 6) == [4, 8]
    assert break_offsets("x" * 50, 10) == []


def test_hanging_lines_start_under_the_text_not_the_label() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=40, color_system=None)
    print_hanging(console, Text(PROSE), indent=3, label=Text("See: "))
    lines = buffer.getvalue().splitlines()
    assert lines[0].startswith("   See: On a diskless")
    assert all(line.startswith(" " * 8) and line[8] != " " for line in lines[1:])
    assert any(line == " " * 8 + URL for line in lines)


def test_trailing_spaces_go_also_inside_styles() -> None:
    assert without_trailing_spaces("a \x1b[2m   \x1b[0m\nb  \n") == "a\x1b[2m\x1b[0m\nb\n"
    assert without_trailing_spaces("\x1b[2mkeep\x1b[0m") == "\x1b[2mkeep\x1b[0m\n"
