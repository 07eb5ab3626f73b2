"""The checks made faster for `analyze` say what their plain definitions say, on any input."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from snddiag.bundle.read import _octal
from snddiag.collect import _stands_in
from snddiag.collect.plan import STAND_INS
from snddiag.collect.sources import keep_lines
from snddiag.evidence import Entry, Evidence, EvidenceError, Kind, Status, check_key
from snddiag.parse.module_index import module_name

# Keys built from the pieces that matter: slashes, dots, names.
_keys = st.lists(st.sampled_from(["", ".", "..", "a", "b.c", "...", "/", "x/y", ".a"])).map(
    "/".join
) | st.text(alphabet="/.a", max_size=12)


def _plain_key_check(key: str) -> bool:
    """check_key's first definition: no empty, '.' or '..' part, no leading slash."""
    return not (not key or key.startswith("/") or any(p in ("", ".", "..") for p in key.split("/")))


@given(_keys)
def test_check_key_refuses_what_the_plain_definition_refuses(key: str) -> None:
    try:
        check_key(key)
        accepted = True
    except EvidenceError:
        accepted = False
    assert accepted == _plain_key_check(key)


_OCTAL = re.compile(rb"[0-7]*[ \x00]*")


@given(st.binary(max_size=12) | st.text(alphabet="0178 \x00x", max_size=12).map(str.encode))
def test_octal_field_is_the_pattern(field: bytes) -> None:
    assert _octal(field) == bool(_OCTAL.fullmatch(field))


def _plain_module_name(path: str) -> str:
    return path.rsplit("/", 1)[-1].split(".ko", 1)[0].replace("-", "_")


@given(st.text(alphabet="ab-_/.kox", max_size=30))
def test_module_name_is_the_plain_definition(path: str) -> None:
    assert module_name(path) == _plain_module_name(path)


def _each_line(data: bytes, pattern: str) -> bytes:
    """keep_lines' first definition: each line, with its end, searched on its own."""
    wanted = re.compile(pattern.encode())
    return b"".join(line for line in data.splitlines(keepends=True) if wanted.search(line))


_PATTERNS = st.sampled_from(
    ["virtio|sound/", r"^flags\s", r"a\sb", "x*", "^$", r"b$", r"\n", r"^a", "(?<=\n)a", r"\ba",
     r"\n$", r"a\nb", "ab|b", "a|a", "b", "sound/|virtio|x", "a\nb", "a|", "|a", "xs|sx"]
)  # fmt: skip


@example(b"a\nb\n", r"a\sb")  # a match across two lines keeps neither
@example(b"a\n\nb", r"\n$")  # $ after a line's end: only at the end of the text
@example(b"x\na\n", "(?<=\n)a")  # a line searched alone has nothing before it
@example(b"a\nb\n", "a\nb")  # a literal line end: no line holds it
@example(b"xab\nb", "ab|b")  # literals found on one line, or overlapping: the line once
@given(st.text(alphabet="ab\n\r xflgs/virtoudn", max_size=60).map(str.encode), _PATTERNS)
def test_keep_lines_keeps_what_a_search_of_each_line_keeps(data: bytes, pattern: str) -> None:
    entry = Entry("lib/modules/x/modules.dep", Kind.FILE, Status.OK, data=data)
    assert keep_lines(entry, pattern).data == _each_line(data, pattern)


def test_keep_lines_of_a_module_index() -> None:
    index = next(Path(__file__).parent.glob("fixtures/guests/healthy-pci/data/lib/modules/*"))
    data = (index / "modules.dep").read_bytes()
    kept = keep_lines(Entry("k", Kind.FILE, Status.OK, data=data), "virtio|sound/").data
    assert kept == _each_line(data, "virtio|sound/")
    assert b"virtio_snd" in kept


_MODINFO_STAND_IN = next(s for s in STAND_INS if s.command == "cmd/modinfo-virtio_snd")


@example("kernel/x.ko: kernel/sound/virtio/virtio_snd.ko\n")  # only another module's need
@example("a b/virtio_snd.ko:\n")  # a space before: not the line's module path
@given(st.text(alphabet="ab /.:\n-_virtosndkxz", max_size=80).map(lambda t: t + "virtio_snd.ko:"))
def test_the_modinfo_stand_in_reads_as_a_search_of_the_whole_file(text: str) -> None:
    """The stand-in tries its pattern only on the lines holding the module's file name; the
    first definition searched the whole file from each line's start."""
    data = text.encode()
    whole = re.search(b"(?m)^" + _MODINFO_STAND_IN.shows.encode(), data) is not None
    evidence = Evidence()
    release = "6.12.0"
    evidence.add(Entry(f"lib/modules/{release}/modules.dep", Kind.FILE, Status.OK, data=data))
    assert _stands_in(evidence, _MODINFO_STAND_IN, release) == whole
